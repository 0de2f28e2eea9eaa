package store

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/uptrace/bun"

	"github.com/dossiercrm/dossier/crm"
)

// groupBatch is what the calls of one group-commit batch share besides
// the transaction: work that a batch does once instead of once per call.
//
//   - The number counters. The first call of the batch that takes a number
//     of an organisation takes it with the counter's UPDATE, which locks
//     the counter's row until the commit (on SQLite the write gate excludes
//     every other writer anyway); the batch's later calls count on from it
//     in memory, and one UPDATE before the commit stores the last number
//     taken. A call that rolls back to its savepoint gives its number back
//     (the counters are restored with it), so numbers stay gapless.
//   - Mergeable jobs (crm.MergeableJob: the duplicate check of a new
//     customer). The calls' jobs are held and, before the commit, merged and
//     enqueued in the transaction: one job per batch, with only the work of
//     the calls that did not roll back.
//   - The portal settings, read once per batch and organisation: no create
//     writes them (PortalSettingsPut forgets the read).
//   - On SQLite, the customers' search rows, inserted together before the
//     commit, after the last savepoint. Their insert trigger adds each to
//     the FTS5 index, and FTS5 writes its pending terms to a new segment
//     at every SAVEPOINT: inserted in each call's savepoint, a batch made a
//     segment per create, and merging those small segments cost more than
//     writing them (9% of all CPU under 16 creating clients, inside the
//     one-at-a-time write path). Nothing a create runs reads the search
//     rows, and only creates run in batches.
//   - On PostgreSQL (dialect.batchWrites), a call's savepoint and its
//     history rows are not sent on their own but with the customer's rows
//     (execAll): a create in a batch costs one round trip to the server.
//     Any other statement through bun sends the savepoint first (batchHook);
//     the history rows wait for the customer's rows or the call's end, as
//     nothing a create runs reads the history (a raw River insert of a job
//     that is not merged sends everything first).
type groupBatch struct {
	tx        bun.Tx
	pipelined bool

	counters map[string]*batchCounter // by organisation
	jobs     []crm.MergeableJob
	portal   map[string]crm.PortalSettings
	search   []searchRow // SQLite: the calls' search rows, inserted by finish

	// The current call's savepoint: its statement (with the release of the
	// one before) not yet sent, its name, and whether it was sent (then a
	// failure rolls back to it).
	spPending string
	sp        string
	spSent    bool
	open      string // the savepoint last sent, released by the next
	// writes are statements of the current call not yet sent (history rows).
	writes []byte
	// flushErr is why sending the pending statements failed, for the call.
	flushErr error
}

// batchCounter is an organisation's number counter held by a batch: the
// value stored in the row, and the last number a call of the batch took.
type batchCounter struct{ stored, last int64 }

// batchKey carries the batch in the context of its calls, for batchHook.
type batchKey struct{}

// batchState is what a call may change in a batch, restored when the call
// rolls back.
type batchState struct {
	counters map[string]batchCounter
	jobs     int
	search   int
}

func (b *groupBatch) save() batchState {
	st := batchState{counters: make(map[string]batchCounter, len(b.counters)), jobs: len(b.jobs), search: len(b.search)}
	for k, v := range b.counters {
		st.counters[k] = *v
	}
	return st
}

func (b *groupBatch) restore(st batchState) {
	b.counters = make(map[string]*batchCounter, len(st.counters))
	for k, v := range st.counters {
		b.counters[k] = &v
	}
	b.jobs = b.jobs[:st.jobs]
	b.search = b.search[:st.search]
	b.portal = nil
	b.writes = b.writes[:0]
}

// beginCall opens a savepoint for call i of the batch: at once, or (when
// pipelined) in front of the call's first statement.
func (b *groupBatch) beginCall(ctx context.Context, i int) error {
	b.sp = fmt.Sprintf("group_call_%d", i)
	b.spPending = "SAVEPOINT " + b.sp
	if b.open != "" {
		b.spPending = "RELEASE SAVEPOINT " + b.open + ";\n" + b.spPending
	}
	b.spSent = false
	b.flushErr = nil
	if b.pipelined {
		return nil
	}
	return b.flush(ctx, "")
}

// flush sends the pending statements with rest (statements of the caller,
// without arguments) in one round trip.
func (b *groupBatch) flush(ctx context.Context, rest string) error {
	q := rest
	if len(b.writes) > 0 {
		q = string(b.writes) + q
		b.writes = b.writes[:0]
	}
	if b.spPending != "" {
		q = b.spPending + ";\n" + q
		b.spPending = ""
		b.spSent = true
		b.open = b.sp
	}
	if q == "" {
		return nil
	}
	_, err := b.tx.Tx.ExecContext(ctx, q)
	if err != nil {
		err = interpretError(err)
		b.flushErr = err
	}
	return err
}

// endCall finishes a call that succeeded: its writes still pending are
// sent (a call that sent nothing needs no savepoint).
func (b *groupBatch) endCall(ctx context.Context) error {
	if len(b.writes) == 0 {
		b.spPending = ""
		return nil
	}
	return b.flush(ctx, "")
}

// failCall undoes the writes of a call that failed: the rollback to its
// savepoint when something of it was sent, nothing when nothing was.
func (b *groupBatch) failCall(ctx context.Context, st batchState) error {
	b.restore(st)
	b.spPending = ""
	if !b.spSent {
		return nil
	}
	_, err := b.tx.Tx.ExecContext(ctx, "ROLLBACK TO SAVEPOINT "+b.sp)
	return err
}

// finish stores the counters the batch counted on and enqueues its merged
// jobs, before the commit.
func (b *groupBatch) finish(ctx context.Context, st *DB) error {
	if err := b.flush(ctx, ""); err != nil {
		return err
	}
	if len(b.search) > 0 {
		if _, err := st.db.NewInsert().Model(&b.search).Exec(ctx); err != nil {
			return interpretError(err)
		}
	}
	for _, org := range sortedKeys(b.counters) {
		c := b.counters[org]
		if c.last == c.stored {
			continue
		}
		if _, err := st.db.NewUpdate().Comment(preparedComment).Model((*organisationRow)(nil)).Set("next_customer_number = ?", c.last).
			Where("id = ?", org).Exec(ctx); err != nil {
			return interpretError(err)
		}
	}
	var merged []crm.Job
	for _, j := range b.jobs {
		done := false
		for i, m := range merged {
			if into, ok := m.(crm.MergeableJob).Merge(j); ok {
				merged[i], done = into, true
				break
			}
		}
		if !done {
			merged = append(merged, j)
		}
	}
	jobs := merged[:0]
	for _, j := range merged {
		joined, err := st.joinWaitingJob(ctx, st.db, j.(crm.MergeableJob))
		if err != nil {
			return err
		}
		if !joined {
			jobs = append(jobs, j)
		}
	}
	return st.JobEnqueueMany(ctx, jobs)
}

// sortedKeys returns the keys of m in order (the counters' UPDATEs lock
// rows: always in one order).
func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }

// nextNumber takes an organisation's next customer number from the
// batch's counter; ok is false when the batch does not hold the counter
// yet.
func (b *groupBatch) nextNumber(org string) (int64, bool) {
	c := b.counters[org]
	if c == nil {
		return 0, false
	}
	c.last++
	return c.last, true
}

// batchHook sends a call's savepoint before any statement bun runs in the
// call's context, so that nothing of the call runs before it. The call's
// pending history rows stay pending: they go with the customer's rows
// (execAll) or at the call's end, and nothing a create runs in between
// reads the history. A failure is kept for the call (flushErr); the
// statement then fails on the aborted transaction.
type batchHook struct{}

// BeforeQuery implements bun.QueryHook.
func (batchHook) BeforeQuery(ctx context.Context, _ *bun.QueryEvent) context.Context {
	if b, _ := ctx.Value(batchKey{}).(*groupBatch); b != nil && b.spPending != "" {
		writes := b.writes
		b.writes = nil
		_ = b.flush(ctx, "")
		b.writes = writes
	}
	return ctx
}

// AfterQuery implements bun.QueryHook.
func (batchHook) AfterQuery(context.Context, *bun.QueryEvent) {}

// withoutBatch is s outside the batch's calls: what it runs is sent and
// enqueued at once.
func (s *DB) withoutBatch() *DB {
	c := *s
	c.batch = nil
	return &c
}
