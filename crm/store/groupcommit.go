package store

import (
	"context"
	"errors"
	"slices"
	"sync"

	"github.com/uptrace/bun"

	"github.com/dossiercrm/dossier/crm"
)

// Group commit: the concurrent InGroupTx calls of one group run in one
// database transaction, each in a savepoint of its own.
//
// Why: customer numbers are gapless (a create that rolls back takes no
// number), so the creates of one organisation take turns at the
// organisation's counter row from the moment one takes a number until its
// transaction ends. On PostgreSQL that turn includes the commit, which
// waits for the write-ahead log to reach the disk (pg_test_fsync on the
// reference machine: 1 to 2.5 ms per flush), so one organisation's creates
// were bound to a few hundred per second however many clients sent them.
// In one transaction, N creates wait for one flush. On SQLite, where one
// writer writes at a time anyway (the write gate, sqlitegate.go), the
// creates of a batch share the pages they all touch (the counter's row,
// the last leaves of the number and time indexes, the inner pages of every
// index): each is written to the log once per batch instead of once per
// create, and the batch pays one BEGIN, one commit and one pass through
// the gate.
//
// How: no goroutine of its own. The first caller of an idle group becomes
// the leader: it takes the calls queued (itself first, at most
// groupMaxBatch), runs them in one transaction and commits. Calls that
// arrive meanwhile queue behind it; when the batch has ended the leader
// hands the group to the first of them, which leads the next batch, and
// returns. So a lone caller runs at once, as with InTx, and under load
// batches grow with the queue.
//
// Each call runs in a savepoint: its error rolls back to the savepoint,
// undoing its writes (its number too) and nothing of the others', and is
// what the call returns. A batch of one needs no savepoint. What the
// calls of a batch share besides the transaction (one merged job, the
// number counter, the round trips on PostgreSQL) is in groupbatch.go. If the
// transaction itself fails (a rollback to a savepoint fails, the commit
// fails, the connection breaks), every call of the batch that had not
// failed on its own gets that error: nothing of the batch was written.
//
// Cancellation: the transaction and every call in it run with their
// caller's context without its cancellation (context.WithoutCancel), so
// that one caller going away (a client hanging up) cannot abort the
// statements and the commit the others wait for. A caller whose context is
// done while it still waits in the queue leaves it with the context's
// error; one whose context is done when its turn in a batch comes is
// skipped with that error. A caller whose call has started waits for the
// batch's end and gets the true outcome, so it never reports a failure for
// a create that committed.
//
// Nested calls: InGroupTx on a DB bound to a transaction (InTx, an
// idempotent create, which carries its transaction in the context, or a
// customer created together with an inquiry) runs fn in that transaction,
// as InTx does. It cannot join a group: its transaction is already open,
// holds locks of its own and commits when its owner decides.
//
// Limits: a batch holds at most groupMaxBatch calls. Each savepoint is a
// subtransaction on PostgreSQL, which keeps the ids of at most 64 of them
// per transaction in shared memory before every other session's
// snapshots become slower (subtransaction overflow); 32 stays below that
// with room for savepoints of the calls themselves.

// groupMaxBatch is the most calls one transaction of a group runs.
const groupMaxBatch = 32

// groupCommit queues the InGroupTx calls of one store by group.
type groupCommit struct {
	mu     sync.Mutex
	groups map[string]*groupQueue
}

// groupQueue is one group: its waiting calls and whether a leader runs.
type groupQueue struct {
	waiting []*groupCall // not yet taken into a batch, in order of arrival
	leading bool         // a leader runs a batch (or has handed over)
}

// groupCall is one InGroupTx call.
type groupCall struct {
	ctx context.Context
	fn  func(ctx context.Context, tx crm.Store) error
	// done receives true when the call has its outcome in err, false when
	// it is to lead the next batch. At most one send.
	done   chan bool
	err    error
	panic  any  // what fn panicked with, re-raised in the caller
	taken  bool // in a batch (under groupCommit.mu)
	leader bool // handed the group (under groupCommit.mu)
}

// InGroupTx implements crm.GroupTxStore with group commit (see above). On
// SQLite all groups share one queue: the file has one writer at a time.
func (s *DB) InGroupTx(ctx context.Context, group string, fn func(ctx context.Context, tx crm.Store) error) error {
	if _, inTx := s.db.(bun.Tx); inTx {
		return fn(ctx, s)
	}
	group = s.groupKey(group)
	g := s.shared.groups
	c := &groupCall{ctx: ctx, fn: fn, done: make(chan bool, 1)}
	g.mu.Lock()
	if g.groups == nil {
		g.groups = make(map[string]*groupQueue)
	}
	q := g.groups[group]
	if q == nil {
		q = &groupQueue{}
		g.groups[group] = q
	}
	q.waiting = append(q.waiting, c)
	lead := !q.leading
	q.leading = true
	g.mu.Unlock()

	if !lead {
		var finished bool
		select {
		case finished = <-c.done:
		case <-ctx.Done():
			g.mu.Lock()
			if !c.taken && !c.leader {
				q.waiting = slices.DeleteFunc(q.waiting, func(w *groupCall) bool { return w == c })
				g.mu.Unlock()
				return ctx.Err()
			}
			g.mu.Unlock()
			finished = <-c.done
		}
		if finished {
			return c.outcome()
		}
	}
	s.leadBatch(group, q, c)
	return c.outcome()
}

// groupKey is the queue of group: on SQLite one for all.
func (s *DB) groupKey(group string) string {
	if s.dialect.oneWriter {
		return ""
	}
	return group
}

// outcome returns the call's error, or re-raises fn's panic in the
// caller's goroutine.
func (c *groupCall) outcome() error {
	if c.panic != nil {
		panic(c.panic)
	}
	return c.err
}

// leadBatch runs one batch of q (self first), hands the group to the next
// waiting call or marks it idle, and gives every other call of the batch
// its outcome.
func (s *DB) leadBatch(group string, q *groupQueue, self *groupCall) {
	g := s.shared.groups
	g.mu.Lock()
	n := min(len(q.waiting), groupMaxBatch)
	batch := slices.Clone(q.waiting[:n])
	q.waiting = slices.Delete(q.waiting, 0, n)
	for _, c := range batch {
		c.taken = true
	}
	g.mu.Unlock()

	s.runBatch(batch)

	g.mu.Lock()
	if len(q.waiting) > 0 {
		next := q.waiting[0]
		next.leader = true
		next.done <- false
	} else {
		q.leading = false
		if g.groups[group] == q {
			delete(g.groups, group)
		}
	}
	g.mu.Unlock()
	for _, c := range batch {
		if c != self {
			c.done <- true
		}
	}
}

// runBatch runs the calls of batch in one transaction, each in a savepoint
// (unless it is alone), and sets each call's outcome.
func (s *DB) runBatch(batch []*groupCall) {
	var live []*groupCall
	for _, c := range batch {
		if err := c.ctx.Err(); err != nil {
			c.err = err
		} else {
			live = append(live, c)
		}
	}
	if len(live) == 0 {
		return
	}
	savepoints := len(live) > 1
	ran := false // some call's writes are to be committed
	rt := &rulesTx{}
	defer s.endRulesTx(rt)
	err := s.runWriteTx(context.WithoutCancel(live[0].ctx), func(txCtx context.Context, tx bun.Tx) error {
		batch := &groupBatch{tx: tx, pipelined: s.dialect.batchWrites}
		st := &DB{bun: s.bun, db: tx, dialect: s.dialect, shared: s.shared, wal: s.wal, batch: batch, rulesTx: rt}
		for i, c := range live {
			if i > 0 { // the first call's context was live when the transaction began
				if err := c.ctx.Err(); err != nil {
					c.err = err
					continue
				}
			}
			ctx := context.WithValue(context.WithoutCancel(c.ctx), batchKey{}, batch)
			if savepoints {
				if err := batch.beginCall(ctx, i); err != nil {
					return s.failBatch(live, i, err)
				}
			}
			saved := batch.save()
			c.panic, c.err = callFn(ctx, st, c.fn)
			if c.err == nil && c.panic == nil {
				c.err = batch.endCall(ctx)
			}
			if batch.flushErr != nil && c.panic == nil {
				c.err = batch.flushErr // what failed, not the aborted transaction's later statements
			}
			c.err = unavailableOr(c.err)
			if c.err == nil && c.panic == nil {
				ran = true
				continue
			}
			if !savepoints {
				return errCallFailed // the transaction was the call's alone
			}
			if err := batch.failCall(ctx, saved); err != nil {
				return s.failBatch(live, i+1, err)
			}
		}
		if !ran {
			return errCallFailed // nothing to commit
		}
		return batch.finish(txCtx, st.withoutBatch())
	})
	if err == nil || errors.Is(err, errCallFailed) {
		return
	}
	// The transaction failed as a whole: nothing of the batch was written.
	err = unavailableOr(err)
	for _, c := range live {
		if c.err == nil && c.panic == nil {
			c.err = err
		}
	}
}

// errCallFailed rolls back a batch's transaction whose calls all failed on
// their own; they have their errors.
var errCallFailed = errors.New("store: every call of the batch failed")

// failBatch gives err to the calls of live from i on, which did not run,
// and returns it to roll the transaction back; the calls before i that
// succeeded get it in runBatch.
func (s *DB) failBatch(live []*groupCall, i int, err error) error {
	err = unavailableOr(interpretError(err))
	for _, c := range live[i:] {
		c.err = err
	}
	return err
}

// callFn runs fn, turning a panic into a value for the caller to re-raise.
func callFn(ctx context.Context, st crm.Store, fn func(ctx context.Context, tx crm.Store) error) (panicked any, err error) {
	defer func() {
		if p := recover(); p != nil {
			panicked = p
		}
	}()
	return nil, fn(ctx, st)
}
