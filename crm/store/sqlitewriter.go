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
	slot chan *writerConn
	// closed is closed by close; a conn given back then is closed, not kept.
	closed    chan struct{}
	closeOnce sync.Once
}

// writerConn is the writer's connection and the page cache it was given.
type writerConn struct {
	bun.Conn
	cacheKiB int // the cache_size set, in KiB
	txs      int // transactions since the cache was last sized
}

// The writer's page cache, in KiB, by the size of the file (SQLite's
// default is 2,000 KiB). The writer keeps its cache from one transaction
// to the next (unless another connection wrote meanwhile).
//
// In a file of a gigabyte or more, a larger cache holds the inner pages
// of every index a write descends through; at a million customers the
// file is several times larger than the 2 GiB SQLite maps, and a page
// beyond that is a read system call when it is not cached.
//
// In a smaller file the large cache costs more than it saves. SQLite's
// B-tree moves a page it rebalances through the number of the page at
// 1 GiB (the lock byte's page, which never holds data), and at the commit
// of a transaction that did, a file smaller than that has a cached page
// past its end: the cache then looks through its whole hash table, whose
// size follows the most pages the cache ever held. With 64 MB that was
// 15% of the CPU of an interaction at 300,000 customers (a 364 MB file)
// and a third of its median time; reads of such a file come from the
// memory map anyway.
const (
	writerCacheKiB       = 64 << 10
	writerSmallCacheKiB  = 8 << 10
	writerLargeFileBytes = 1 << 30 // SQLite's lock byte offset
	// writerCacheCheckEvery is how many transactions the writer runs
	// between two looks at the file's size.
	writerCacheCheckEvery = 1024
)

// writerCacheFor is the writer's page cache, in KiB, for a file of size
// bytes.
func writerCacheFor(size int64) int {
	if size >= writerLargeFileBytes {
		return writerCacheKiB
	}
	return writerSmallCacheKiB
}

// sizeCache gives the writer the page cache its file's size calls for
// (writerCacheFor), when that is not the one it has.
func (c *writerConn) sizeCache(ctx context.Context) error {
	var size int64
	if err := c.QueryRowContext(ctx, "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()").Scan(&size); err != nil {
		return err
	}
	c.txs = 0
	if kib := writerCacheFor(size); kib != c.cacheKiB {
		if _, err := c.ExecContext(ctx, "PRAGMA cache_size = -"+strconv.Itoa(kib)); err != nil {
			return err
		}
		c.cacheKiB = kib
	}
	return nil
}

func newSQLiteWriter(db *bun.DB) *sqliteWriter {
	w := &sqliteWriter{db: db, slot: make(chan *writerConn, 1), closed: make(chan struct{})}
	w.slot <- nil
	return w
}

// runInTx runs fn in a write transaction on the writer (see the type).
func (w *sqliteWriter) runInTx(ctx context.Context, fn func(context.Context, bun.Tx) error) error {
	var conn *writerConn
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
		conn = &writerConn{Conn: c}
		if err := conn.sizeCache(ctx); err != nil {
			_ = c.Close()
			conn = nil
			return err
		}
	} else if conn.txs++; conn.txs >= writerCacheCheckEvery {
		// Only the cache's size rides on it: a failed look is tried
		// again after as many transactions, and the write goes on.
		conn.txs = 0
		_ = conn.sizeCache(ctx)
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
func (w *sqliteWriter) release(conn *writerConn) {
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
