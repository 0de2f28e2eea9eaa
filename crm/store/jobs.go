package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/riverqueue/river/rivertype"
	"github.com/uptrace/bun"

	"github.com/dossiercrm/dossier/crm"
)

// Background jobs live in River's tables (river_job, river_leader, ...),
// in the same database as everything else and created by River's own
// migrations (Migrate runs them after ours). The store inserts jobs through
// River on the transaction of the change that causes them; package
// crm/background runs the workers on the same database.

// uniqueWhile are the job states in which an equal job (same kind and
// arguments) is not enqueued again.
var uniqueWhile = []rivertype.JobState{
	rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRetryable,
	rivertype.JobStateRunning, rivertype.JobStateScheduled,
}

// MailQueue is River's queue of mail delivery jobs (crm.DeliverMail): a
// program that delivers no mail leaves it to those that do. Other jobs go
// to River's default queue.
const MailQueue = "mail"

// newJobDriver returns River's driver for the dialect over sqldb, the pool
// that bun uses, so that jobs share its connections and transactions.
func newJobDriver(name string, sqldb *sql.DB) riverdriver.Driver[*sql.Tx] {
	if name == sqliteDialect.name {
		return riversqlite.New(sqldb)
	}
	return riverdatabasesql.New(sqldb)
}

// newJobInserter returns an insert-only River client: it enqueues jobs of
// any kind and works none.
func newJobInserter(driver riverdriver.Driver[*sql.Tx]) (*river.Client[*sql.Tx], error) {
	c, err := river.NewClient(driver, &river.Config{SkipUnknownJobCheck: true})
	if err != nil {
		return nil, fmt.Errorf("store: jobs: %w", err)
	}
	return c, nil
}

// JobDriver returns River's driver over the store's connection pool, for
// a River client that works the jobs (package crm/background).
func (s *DB) JobDriver() riverdriver.Driver[*sql.Tx] { return s.shared.jobDriver }

// JobEnqueue implements crm.JobStore: the job is inserted in the current
// transaction (or in one of its own outside InTx).
func (s *DB) JobEnqueue(ctx context.Context, job crm.Job) error {
	if s.batch != nil {
		if mj, ok := job.(crm.MergeableJob); ok {
			s.batch.jobs = append(s.batch.jobs, mj) // enqueued merged before the commit
			return nil
		}
		if err := s.batch.flush(ctx, ""); err != nil { // River writes on the transaction itself
			return err
		}
	}
	opts := jobInsertOpts(job)
	return s.atomic(ctx, func(db bun.IDB) error {
		if mj, ok := job.(crm.MergeableJob); ok {
			if joined, err := s.joinWaitingJob(ctx, db, mj); err != nil || joined {
				return err
			}
		}
		tx, ok := db.(bun.Tx)
		if !ok {
			return fmt.Errorf("store: enqueue %s: not in a transaction", job.Kind())
		}
		if _, err := s.shared.jobs.InsertTx(ctx, tx.Tx, job, opts); err != nil {
			return fmt.Errorf("store: enqueue %s: %w", job.Kind(), interpretError(err))
		}
		return nil
	})
}

// JobEnqueueMany implements crm.JobStore: River's InsertManyTx, one
// statement for the lot, in the current transaction (or in one of its own
// outside InTx). Equal jobs in jobs are inserted once: River refuses a
// unique key twice in one batch.
func (s *DB) JobEnqueueMany(ctx context.Context, jobs []crm.Job) error {
	if s.batch != nil {
		var rest []crm.Job
		for _, job := range jobs {
			if mj, ok := job.(crm.MergeableJob); ok {
				s.batch.jobs = append(s.batch.jobs, mj)
			} else {
				rest = append(rest, job)
			}
		}
		if jobs = rest; len(jobs) > 0 {
			if err := s.batch.flush(ctx, ""); err != nil {
				return err
			}
		}
	}
	if len(jobs) == 0 {
		return nil
	}
	params := make([]river.InsertManyParams, 0, len(jobs))
	seen := make(map[string]bool, len(jobs))
	for _, job := range jobs {
		args, err := json.Marshal(job)
		if err != nil {
			return fmt.Errorf("store: enqueue %s: %w", job.Kind(), err)
		}
		key := job.Kind() + "\x00" + string(args)
		if seen[key] {
			continue
		}
		seen[key] = true
		params = append(params, river.InsertManyParams{Args: job, InsertOpts: jobInsertOpts(job)})
	}
	return s.atomic(ctx, func(db bun.IDB) error {
		tx, ok := db.(bun.Tx)
		if !ok {
			return fmt.Errorf("store: enqueue %d jobs: not in a transaction", len(params))
		}
		if _, err := s.shared.jobs.InsertManyTx(ctx, tx.Tx, params); err != nil {
			return fmt.Errorf("store: enqueue %d jobs: %w", len(params), interpretError(err))
		}
		return nil
	})
}

// jobInsertOpts are the insert options of a job: unique by its arguments
// while waiting or running; mail delivery on MailQueue.
func jobInsertOpts(job crm.Job) *river.InsertOpts {
	opts := &river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: uniqueWhile}}
	if job.Kind() == crm.JobDeliverMail {
		opts.Queue = MailQueue
	}
	return opts
}

// migrateJobs brings River's tables up to date.
func (s *DB) migrateJobs(ctx context.Context) error {
	m, err := rivermigrate.New(s.shared.jobDriver, nil)
	if err != nil {
		return fmt.Errorf("store: migrate jobs: %w", err)
	}
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("store: migrate jobs: %w", err)
	}
	return nil
}

// stripLineComments removes "--" comments from a query outside string
// literals and quoted identifiers. bun's PostgreSQL driver inlines a
// query's arguments itself, and it reads an apostrophe in a comment (as in
// River's "doesn't") as the start of a string, leaving the arguments after
// it unreplaced ("there is no parameter $2"). Only queries with arguments
// pass through here: bun's own queries come with their arguments inlined.
func stripLineComments(q string) string {
	if !strings.Contains(q, "--") {
		return q
	}
	var b strings.Builder
	b.Grow(len(q))
	for i := 0; i < len(q); i++ {
		switch c := q[i]; {
		case c == '\'' || c == '"':
			j := i + 1
			for j < len(q) {
				if q[j] == c {
					if j+1 < len(q) && q[j+1] == c { // doubled: an escaped quote
						j += 2
						continue
					}
					break
				}
				j++
			}
			if j >= len(q) {
				j = len(q) - 1
			}
			b.WriteString(q[i : j+1])
			i = j
		case c == '-' && i+1 < len(q) && q[i+1] == '-':
			for i < len(q) && q[i] != '\n' {
				i++
			}
			if i < len(q) {
				b.WriteByte('\n')
			}
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// Joining a waiting job (SQLite). A create enqueues the duplicate check of
// its customer; alone in its commit, that was a River job of its own: a
// row in river_job and its four indexes, about a fifth of a single
// create's pages. Instead, a mergeable job joins the newest waiting job of
// its kind that it merges with (the same organisation), when there is one
// among the last few jobs and the merged arguments stay small: one row
// rewritten, no index touched. SQLite's one writer makes this safe: the
// producer's fetch, which moves a job from available to running, is a
// write too, so it runs before this transaction or after it, never in
// between; a job fetched already is no longer available and is not
// joined. (On PostgreSQL concurrent transactions would contend for the
// waiting job's row; jobs are inserted there as before.) The job's unique
// key stays that of its first arguments: an equal job enqueued later is
// still covered, by a job that does more.
const (
	// joinWaitingWindow is how many of the newest jobs are looked at: a
	// waiting job further back is not joined (a new one is inserted).
	joinWaitingWindow = 64
	// joinWaitingCandidates is how many of the newest waiting jobs of the
	// kind are read and tried, each a few hundred bytes to 2 KB of
	// arguments: the organisation's own is usually the first.
	joinWaitingCandidates = 4
	// joinWaitingMaxArgs bounds the merged arguments: each join rewrites
	// them whole.
	joinWaitingMaxArgs = 2048
)

// joinWaitingJob merges job into a waiting job of its kind on SQLite, in
// db (the transaction that enqueues it), and reports whether it did; false
// means the job is still to be inserted.
func (s *DB) joinWaitingJob(ctx context.Context, db bun.IDB, job crm.MergeableJob) (bool, error) {
	if s.dialect.name != sqliteDialect.name {
		return false, nil
	}
	// The newest ids by the primary key (the unary + keeps SQLite off the
	// kind and state indexes, which would read every waiting job of the
	// kind, all of them when no worker runs).
	var waiting []struct {
		ID   int64  `bun:"id"`
		Args string `bun:"args"`
	}
	if err := db.NewRaw(preparedMarker+"SELECT id, json(args) AS args FROM river_job"+
		" WHERE id > (SELECT coalesce(max(id), 0) FROM river_job) - ? AND +kind = ? AND +state = 'available'"+
		" ORDER BY id DESC LIMIT ?", joinWaitingWindow, job.Kind(), joinWaitingCandidates).Scan(ctx, &waiting); err != nil {
		return false, fmt.Errorf("store: enqueue %s: %w", job.Kind(), interpretError(err))
	}
	for _, w := range waiting {
		into := reflect.New(reflect.TypeOf(job))
		if err := json.Unmarshal([]byte(w.Args), into.Interface()); err != nil {
			continue // not ours to read: leave it
		}
		merged, ok := into.Elem().Interface().(crm.MergeableJob).Merge(job)
		if !ok {
			continue
		}
		args, err := json.Marshal(merged)
		if err != nil {
			return false, fmt.Errorf("store: enqueue %s: %w", job.Kind(), err)
		}
		if len(args) > joinWaitingMaxArgs {
			return false, nil
		}
		res, err := db.NewRaw(preparedMarker+"UPDATE river_job SET args = jsonb(?) WHERE id = ? AND state = 'available'",
			string(args), w.ID).Exec(ctx)
		if err != nil {
			return false, fmt.Errorf("store: enqueue %s: %w", job.Kind(), interpretError(err))
		}
		n, err := res.RowsAffected()
		return err == nil && n == 1, err
	}
	return false, nil
}
