package store

import (
	"context"
	"database/sql"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/uptrace/bun"
)

// DefaultWALLimit is the size of SQLite's write-ahead log past which the
// store checkpoints it and truncates it to nothing, unless WithWALLimit
// says otherwise. It is also the journal_size_limit: the size the log is
// cut back to after SQLite's own checkpoints.
const DefaultWALLimit = 64 << 20

// WithWALLimit sets the SQLite write-ahead log size past which the store
// runs a truncating checkpoint (see walKeeper). 0 keeps DefaultWALLimit.
// PostgreSQL ignores it.
func WithWALLimit(bytes int64) Option { return func(o *options) { o.conn.walLimit = bytes } }

// walKeeper bounds SQLite's write-ahead log. SQLite's own checkpoints
// after commits are passive: they copy what no reader still needs, and the
// log starts over from its beginning only when no reader uses it. Under
// reads that never pause the log then grew without end (1.2 GB for a 45 MB
// database after 8 minutes). The keeper looks at the log's size after
// commits and, past the limit, runs a TRUNCATE checkpoint on a connection
// of its own: it waits (at most walBusy) for the readers of older
// snapshots to finish while new readers read the database file, copies
// everything, and cuts the log to nothing. One checkpoint runs at a time;
// Close waits for it.
//
// It also copies the log into the database file in the background
// (passiveCheckpoints), so that commits do not do it themselves.
type walKeeper struct {
	db      *bun.DB
	walPath string
	dbFile  *os.File // the database file, for syncing after background copies; nil if it could not be opened
	limit   int64
	gate    *writeGate // the file's write gate: the checkpoint queues with the writers
	running atomic.Bool
	wg      sync.WaitGroup
	closed  atomic.Bool

	// restartMisses counts the background checkpoint's restarts in a row
	// that gave up waiting for readers (only its goroutine uses it).
	restartMisses int

	kick <-chan struct{} // a write committed (the connections tell it): the background checkpoint has work
	stop chan struct{}   // closed by close
	done chan struct{}   // closed when the background checkpoint has stopped
}

// walAutoCheckpoint is SQLite's wal_autocheckpoint of the store's
// connections, in pages: the log's length at which a committing connection
// copies the log into the database file itself. The store's background
// checkpoint normally does it long before; this is the backstop for when
// it cannot keep up.
const walAutoCheckpoint = 8192

// walWrapFrames is the log's length, in frames (pages), from which the
// background checkpoint finishes its copy in the write gate so that the
// log starts over (passiveCheckpoint): a quarter of walAutoCheckpoint, so
// that a committing writer never reaches its own.
const walWrapFrames = walAutoCheckpoint / 4

// walCatchUpRounds is the most copies of one catch-up of the background
// checkpoint (catchUp), and walGateFrames the frames left uncopied that
// end it early: about one batch of 100 bookings at a million customers
// (some 700 pages), which the gate's step copies in about 10 ms.
const (
	walCatchUpRounds = 4
	walGateFrames    = 1024
)

// walRestartBusy bounds how long the background checkpoint's restart of
// the log waits, in the write gate, for readers of the log; one that gives
// up leaves the log as it is until the next round. Each restart in a row
// that gave up waits twice as long as the one before, up to walBusy:
// readers that each take longer than the wait (long reports on a loaded
// machine) would otherwise keep the log from ever starting over, and it
// grew past wal_autocheckpoint without bound.
const walRestartBusy = 100 * time.Millisecond

// walPassiveEvery is the shortest time between two background
// checkpoints: commits that come faster are copied together, and a page
// that several of them changed is written to the database file once.
const walPassiveEvery = 50 * time.Millisecond

// walBusy bounds how long a checkpoint waits for readers and writers;
// writers wait for the checkpoint meanwhile, so it is short. A checkpoint
// that gives up is tried again after the next writes.
const walBusy = 2 * time.Second

// newWALKeeper returns a walKeeper of db, an SQLite database in the file
// path (a DSN path, perhaps with "file:" and parameters). Queries must run
// on db.WithQueryHook(keeper) for it to see the commits; the connections
// of db tell committed writes on committed, which the keeper's background
// checkpoint waits on.
func newWALKeeper(db *bun.DB, path string, limit int64, gate *writeGate, committed <-chan struct{}) *walKeeper {
	path = strings.TrimPrefix(path, "file:")
	if i := strings.IndexByte(path, '?'); i >= 0 {
		path = path[:i]
	}
	if limit <= 0 {
		limit = DefaultWALLimit
	}
	k := &walKeeper{db: db, walPath: path + "-wal", limit: limit, gate: gate,
		kick: committed, stop: make(chan struct{}), done: make(chan struct{})}
	if f, err := os.Open(path); err == nil {
		k.dbFile = f
	}
	go k.passiveCheckpoints()
	return k
}

// passiveCheckpoints copies committed pages from the log into the database
// file after commits, on a connection of its own, until close.
//
// Why not leave it to SQLite: its automatic checkpoint runs inside the
// COMMIT of whichever transaction takes the log past wal_autocheckpoint
// pages, so that transaction (and every writer queued behind it in the
// write gate) waits while the checkpoint copies the pages to their places
// in the file and syncs it. A batch of 100 bookings at a million customers
// spent a fifth of its time so. A PASSIVE checkpoint takes no write lock
// and waits for no one: it runs beside the next writer, copies what no
// reader still needs, and the next writer starts the log over once all of
// it is copied. What a crash can lose does not change: committed pages
// are in the log either way, and the checkpoint syncs the log before it
// copies. The store's own goroutine, not a job of crm/background: it is
// part of keeping the file, started by Open and stopped by Close, like the
// connection pool's.
func (k *walKeeper) passiveCheckpoints() {
	defer close(k.done)
	for {
		select {
		case <-k.stop:
			return
		case <-k.kick:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 4*walBusy)
		k.passiveCheckpoint(ctx)
		cancel()
		select {
		case <-k.stop:
			return
		case <-time.After(walPassiveEvery):
		}
	}
}

// passiveCheckpoint copies the committed pages into the database file
// without taking the write lock; once the log is longer than
// walWrapFrames it then has the log start over, briefly in the write gate.
//
// Why: under steady writes and reads the log never started over by
// itself. A writer restarts the log only when a checkpoint has copied all
// of it and no reader still reads from it, and with 16 clients some
// reader always did; so the log grew until a committing writer reached
// wal_autocheckpoint and checkpointed it inside its COMMIT, syncing the
// tens of megabytes the background checkpoints had written to the
// database file since its last sync: a commit of 25 to 40 ms every
// quarter of a second, with every writer queued behind it (creates under
// 16 clients had a p95 three times their median). Now, once the log is
// long enough, the keeper copies, syncs the database file (off the
// writers' path, so that little is left for the next sync) and restarts
// the log by a RESTART checkpoint in the gate, which waits the few
// milliseconds for the readers of the log and copies and syncs only what
// was committed since the last copy: the writers wait for that, not for a
// whole checkpoint.
func (k *walKeeper) passiveCheckpoint(ctx context.Context) {
	conn, err := k.db.DB.Conn(ctx)
	if err != nil {
		return
	}
	defer conn.Close()
	// Failing is harmless: the pages stay in the log for the next
	// checkpoint, or for a committing connection's own.
	logFrames, err := k.copy(ctx, conn)
	if err != nil || logFrames < walWrapFrames || k.gate == nil {
		return
	}
	// Catch up outside the gate, sync the file, and catch up again: what
	// the gate's step copies and syncs is then only what was committed
	// during the last copy. Each copy takes what was committed during the
	// one before (or during the sync), so a few rounds leave the gate
	// little to do. With one synced copy, the gate's
	// step found 3,000 pages to copy under back-to-back batches of 100
	// bookings (some 700 pages a batch): 20 to 40 ms with every writer
	// waiting, where it now finds about one batch.
	if k.catchUp(ctx, conn) != nil {
		return
	}
	if k.dbFile != nil {
		// Any descriptor of the file syncs what every connection wrote
		// to it. An error here is one SQLite's own sync meets again.
		_ = k.dbFile.Sync()
	}
	if k.catchUp(ctx, conn) != nil {
		return
	}
	release, err := k.gate.enter(ctx)
	if err != nil {
		return
	}
	defer release()
	wait := min(walRestartBusy<<min(k.restartMisses, 8), walBusy)
	if waitingCheckpoint(ctx, conn, "RESTART", wait) {
		k.restartMisses = 0
	} else {
		k.restartMisses++
	}
}

// waitingCheckpoint runs a checkpoint of a mode that waits for readers
// (RESTART, TRUNCATE) on conn, waiting at most wait for them, and gives
// the connection its busy timeout back; it reports whether the checkpoint
// finished (the log starts over). Failing is harmless: the log stays as it
// is and a later round tries again.
func waitingCheckpoint(ctx context.Context, conn *sql.Conn, mode string, wait time.Duration) bool {
	if _, err := conn.ExecContext(ctx, "PRAGMA busy_timeout = "+strconv.FormatInt(wait.Milliseconds(), 10)); err != nil {
		return false
	}
	var busy, logFrames, copied int
	err := conn.QueryRowContext(ctx, "PRAGMA wal_checkpoint("+mode+")").Scan(&busy, &logFrames, &copied)
	_, _ = conn.ExecContext(ctx, "PRAGMA busy_timeout = "+strconv.FormatInt(gateWait.Milliseconds(), 10))
	return err == nil && busy == 0
}

// catchUp copies the log until a copy finds at most walGateFrames frames
// committed since the one before, or walCatchUpRounds times: what the
// next copy will find is then about as little.
func (k *walKeeper) catchUp(ctx context.Context, conn *sql.Conn) error {
	last := -1
	for range walCatchUpRounds {
		logFrames, err := k.copy(ctx, conn)
		if err != nil {
			return err
		}
		if last >= 0 && logFrames-last <= walGateFrames || logFrames >= walAutoCheckpoint/2 {
			return nil
		}
		last = logFrames
	}
	return nil
}

// copy runs a passive checkpoint; it returns the log's length in frames
// when the copy began. It does not sync the database file: a sync writes
// the copied pages to the disk at once, where the operating system would
// have written a page that the next copies change again only once, later;
// it is needed only before the log starts over.
func (k *walKeeper) copy(ctx context.Context, conn *sql.Conn) (int, error) {
	var busy, logFrames, copied int
	if err := conn.QueryRowContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &logFrames, &copied); err != nil {
		return 0, err
	}
	return logFrames, nil
}

// BeforeQuery implements bun.QueryHook.
func (k *walKeeper) BeforeQuery(ctx context.Context, _ *bun.QueryEvent) context.Context { return ctx }

// AfterQuery implements bun.QueryHook: after a commit, a look at the
// log's size (one stat call), and past the limit a checkpoint, on the
// committing caller's path: a checkpoint in the background lost the write
// lock to back-to-back writers again and again, and the log grew
// meanwhile. Only commits, because the caller then holds no lock the
// checkpoint would wait for.
func (k *walKeeper) AfterQuery(_ context.Context, ev *bun.QueryEvent) {
	if ev.Err != nil || k.closed.Load() {
		return
	}
	if !strings.EqualFold(ev.Operation(), "COMMIT") {
		return
	}
	if fi, err := os.Stat(k.walPath); err != nil || fi.Size() <= k.limit {
		return
	}
	if !k.running.CompareAndSwap(false, true) {
		return // another caller checkpoints
	}
	k.wg.Add(1)
	defer k.wg.Done()
	defer k.running.Store(false)
	k.checkpoint()
}

// checkpoint runs one truncating checkpoint. Failing is harmless: the log
// stays as it is and the next writes try again.
func (k *walKeeper) checkpoint() {
	ctx, cancel := context.WithTimeout(context.Background(), 4*walBusy)
	defer cancel()
	if k.gate != nil {
		// In the gate, no writer of this process starts while the
		// checkpoint waits for readers, and none waits behind it longer
		// than its turn.
		release, err := k.gate.enter(ctx)
		if err != nil {
			return
		}
		defer release()
	}
	conn, err := k.db.DB.Conn(ctx)
	if err != nil {
		return
	}
	defer conn.Close()
	waitingCheckpoint(ctx, conn, "TRUNCATE", walBusy)
}

// close waits for a running checkpoint and stops new ones.
func (k *walKeeper) close() {
	if k == nil {
		return
	}
	if k.closed.CompareAndSwap(false, true) {
		close(k.stop)
	}
	<-k.done
	k.wg.Wait()
}

// closeFile closes the keeper's descriptor of the database file, after
// every connection to it has closed: closing a descriptor of a file drops
// the POSIX locks the process holds on it, SQLite's included.
func (k *walKeeper) closeFile() {
	if k != nil && k.dbFile != nil {
		_ = k.dbFile.Close()
	}
}

// walPragma is the DSN parameter that cuts the log back to the limit
// after SQLite's own checkpoints, too.
func walPragma(o connOptions) string {
	limit := o.walLimit
	if limit <= 0 {
		limit = DefaultWALLimit
	}
	return "&_pragma=journal_size_limit(" + strconv.FormatInt(limit, 10) + ")" +
		"&_pragma=wal_autocheckpoint(" + strconv.Itoa(walAutoCheckpoint) + ")"
}
