package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"strconv"
	"sync"
	"time"

	"github.com/uptrace/bun"
)

// The write transactions of a SQLite file (group-commit batches, InTx,
// the atomic steps of a customer's write) run on one connection of the
// pool, the writer, instead of whichever connection database/sql hands
// out.
//
// Why: a SQLite connection keeps the pages it read in its own cache, and
// drops the whole cache when it finds that another connection wrote since
// its last transaction. With writes spread over the pool, nearly every
// write transaction began on a connection that another one had written
// after, so it read every index page it touched again (from the log with
// a read system call per page, or from the memory map after unmapping
// and mapping it anew): a ninth of a create's CPU under 16 concurrent
// clients. On the writer, the pages of the previous write are still
// there, and so are its compiled statements (sqlitestmts.go). Writers
// already go one at a time (the write gate, sqlitegate.go), so funnelling
// them through one connection costs no concurrency; reads never wait for
// it.
//
// The writer leaves the pool for the life of the DB. An in-memory
// database has no writer: its pool is its one connection. Writes that
// do not come through runWriteTx (River's own transactions, migrations,
// maintenance) still use pooled connections and the gate, as before.
//
// A caller that waits gateWait for the writer (the writer is held by a
// transaction that waits for something itself) runs its transaction on a
// pooled connection instead, which then waits in the gate and, after
// that, in SQLite's busy handler: the same bound as without the writer.
type sqliteWriter struct {
	db *bun.DB
	// slot holds the writer while no transaction runs on it; nil until the
	// first write opens it, and again after a broken connection was closed.
	slot chan *bun.Conn
	// closed is closed by close; a conn given back then is closed, not kept.
	closed    chan struct{}
	closeOnce sync.Once
}

// writerCacheKiB is the writer's page cache, in KiB (SQLite's default is
// 2,000 KiB). The writer keeps its cache from one transaction to the next
// (unless another connection wrote meanwhile), so a larger one holds the
// inner pages of every index a write descends through; at a million
// customers the file is several times larger than the 2 GiB SQLite maps,
// and a page beyond that is a read system call when it is not cached.
const writerCacheKiB = 64 << 10

func newSQLiteWriter(db *bun.DB) *sqliteWriter {
	w := &sqliteWriter{db: db, slot: make(chan *bun.Conn, 1), closed: make(chan struct{})}
	w.slot <- nil
	return w
}

// runInTx runs fn in a write transaction on the writer (see the type).
func (w *sqliteWriter) runInTx(ctx context.Context, fn func(context.Context, bun.Tx) error) error {
	var conn *bun.Conn
	select {
	case conn = <-w.slot:
	default:
		t := time.NewTimer(gateWait)
		select {
		case conn = <-w.slot:
			t.Stop()
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
			return w.db.RunInTx(ctx, nil, fn)
		}
	}
	defer func() { w.release(conn) }()
	select {
	case <-w.closed:
		return sql.ErrConnDone
	default:
	}
	if conn == nil {
		c, err := w.db.Conn(ctx)
		if err != nil {
			return err
		}
		if _, err := c.ExecContext(ctx, "PRAGMA cache_size = -"+strconv.Itoa(writerCacheKiB)); err != nil {
			_ = c.Close()
			return err
		}
		conn = &c
	}
	err := conn.RunInTx(ctx, nil, fn)
	if errors.Is(err, driver.ErrBadConn) || errors.Is(err, sql.ErrConnDone) {
		// database/sql does not replace the connection of a Conn: the next
		// write opens another.
		_ = conn.Close()
		conn = nil
	}
	return err
}

// release gives the writer back, or closes it when the DB is closing.
func (w *sqliteWriter) release(conn *bun.Conn) {
	select {
	case <-w.closed:
		if conn != nil {
			_ = conn.Close()
		}
		w.slot <- nil
	default:
		w.slot <- conn
	}
}

// close closes the writer, after the transaction running on it (if any)
// ends; later writes fail with sql.ErrConnDone. Closing again does
// nothing (DB.Close may be called twice).
func (w *sqliteWriter) close() {
	if w == nil {
		return
	}
	w.closeOnce.Do(func() {
		close(w.closed)
		if conn := <-w.slot; conn != nil {
			_ = conn.Close()
		}
		w.slot <- nil
	})
}

// runWriteTx runs fn in a write transaction: on SQLite files on the
// writer connection, elsewhere on a pooled one.
func (s *DB) runWriteTx(ctx context.Context, fn func(context.Context, bun.Tx) error) error {
	if w := s.shared.writer; w != nil {
		return w.runInTx(ctx, fn)
	}
	return s.bun.RunInTx(context.WithValue(ctx, storeWritesKey{}, true), nil, fn)
}
