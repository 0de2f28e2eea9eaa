package store

import (
	"context"
	"database/sql/driver"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// SQLite has one write lock per database file. Before the write gate, every
// pooled connection began its transactions with BEGIN IMMEDIATE and, when
// another held the lock, waited in SQLite's busy handler: a sleep that
// grows (1, 2, 5, 10, 15, 20, 25, 50, 100 ms) and is not woken when the
// lock comes free. Under 16 concurrent creates most of a create's time was
// that sleep, after the lock had long been released (p95 610 ms against a
// 1.9 ms create), and the order in which waiters got the lock was luck.
//
// The write gate gives the writers of one database file in this process a
// queue of their own: a connection takes the gate before BEGIN IMMEDIATE
// and gives it back when the transaction ends, and the next writer in line
// starts at once. The gate is a channel of one slot, whose waiters Go
// serves in order of arrival, and waiting honours the caller's context.
//
// Why a gate before BEGIN, not a single writer connection: every
// transaction (bun's, River's, the migrations') already comes through
// database/sql, so gating in the driver puts all of them on the one path
// without changing any caller, and a transaction that reads before it
// writes needs no second connection. The database runs in WAL mode with
// synchronous=NORMAL, so a commit appends its pages to the log without
// waiting for the disk (the log is synced at checkpoints): there is no
// per-commit fsync to share. What a commit does cost is writing every page
// the transaction changed to the log, and concurrent customer creates
// change many of the same pages; they go through group commit
// (groupcommit.go), which runs them in one transaction of the gate, each
// in a savepoint, so that one create's failed constraint undoes only its
// own work.
//
// Durability stays what synchronous=NORMAL gives: a commit that returned is
// in the log file (the operating system's page cache), so it survives the
// process being killed (kill -9, a crash); only a power loss or an
// operating system crash can lose the last commits before a checkpoint.
// The fault suite (internal/faults) kills servers in the middle of
// writes and finds every acknowledged change.
//
// What the gate does not hold: reads outside transactions and read-only
// transactions (sql.TxOptions{ReadOnly: true} begins a DEFERRED
// transaction) never wait for it; in WAL mode they read their snapshot
// while a writer writes. Writes that come as single statements outside a
// transaction (INSERT, UPDATE, DELETE, REPLACE) take it for the
// statement. Another process writing the same file still meets this one in
// SQLite's busy handler, as before; so does a writer that waited
// gateWait in the gate (it then goes to BEGIN IMMEDIATE without the gate,
// which is where it was before the gate existed, so a writer that waits for
// itself fails after the busy timeout as it always did instead of hanging).

// gateWait is how long a writer waits for the gate before it goes on to
// SQLite's own lock: the busy timeout of the connections.
const gateWait = 10 * time.Second

// writeGate admits one writer at a time.
type writeGate struct{ slot chan struct{} }

// gates are the write gates of the SQLite files this process opened, by
// absolute path: two DBs on one file share one.
var gates sync.Map // string → *writeGate

// gateFor returns the write gate of the database file path ("" or an
// in-memory database: a gate of its own).
func gateFor(path string) *writeGate {
	g := &writeGate{slot: make(chan struct{}, 1)}
	if path == "" || strings.Contains(path, ":memory:") || strings.Contains(path, "mode=memory") {
		return g
	}
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	v, _ := gates.LoadOrStore(path, g)
	return v.(*writeGate)
}

// enter waits for the gate and returns its release (called once). After
// gateWait it returns a release that does nothing: the caller then waits
// in SQLite's busy handler.
func (g *writeGate) enter(ctx context.Context) (release func(), err error) {
	select {
	case g.slot <- struct{}{}:
		return g.leave, nil
	default:
	}
	t := time.NewTimer(gateWait)
	defer t.Stop()
	select {
	case g.slot <- struct{}{}:
		return g.leave, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-t.C:
		return func() {}, nil
	}
}

func (g *writeGate) leave() { <-g.slot }

// sqliteConnector opens connections to one SQLite database whose write
// transactions pass the database's write gate.
type sqliteConnector struct {
	drv       driver.Driver
	dsn       string
	gate      *writeGate
	committed chan struct{} // told after each write commits (the background checkpoint); nil: nobody listens
}

// Connect implements driver.Connector.
func (c *sqliteConnector) Connect(context.Context) (driver.Conn, error) {
	cn, err := c.drv.Open(c.dsn)
	if err != nil {
		return nil, err
	}
	return &sqliteConn{inner: cn, gate: c.gate, committed: c.committed}, nil
}

// Driver implements driver.Connector.
func (c *sqliteConnector) Driver() driver.Driver { return c.drv }

// sqliteConn is a driver connection (modernc's) that passes the write gate
// for write transactions and for single write statements outside one. It
// passes every other call on.
type sqliteConn struct {
	inner     driver.Conn
	gate      *writeGate
	inTx      bool            // a transaction of this connection is open
	stmts     stmtCache       // compiled statements with placeholders (sqlitestmts.go)
	broken    error           // an insert of several rows failed part-way: only a rollback may follow (sqliterows.go)
	triggers  map[string]bool // whether a table has triggers, by name, as asked (sqliterows.go)
	committed chan struct{}   // see sqliteConnector
}

// wrote tells the connector's listener that a write committed; a signal
// still unread stands for this one too.
func (c *sqliteConn) wrote() {
	select {
	case c.committed <- struct{}{}:
	default:
	}
}

// The interfaces of modernc's connection that database/sql uses.
type sqliteInner interface {
	driver.Conn
	driver.ConnBeginTx
	driver.ConnPrepareContext
	driver.ExecerContext
	driver.QueryerContext
	driver.SessionResetter
	driver.Validator
	driver.Pinger
}

func (c *sqliteConn) in() sqliteInner { return c.inner.(sqliteInner) }

// Prepare implements driver.Conn.
func (c *sqliteConn) Prepare(query string) (driver.Stmt, error) { return c.inner.Prepare(query) }

// Close implements driver.Conn.
func (c *sqliteConn) Close() error {
	c.stmts.close()
	return c.inner.Close()
}

// Begin implements driver.Conn.
func (c *sqliteConn) Begin() (driver.Tx, error) {
	return c.BeginTx(context.Background(), driver.TxOptions{})
}

// BeginTx implements driver.ConnBeginTx: a write transaction waits for the
// gate, then begins IMMEDIATE (which then finds the lock free unless
// another process holds it).
func (c *sqliteConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	if opts.ReadOnly {
		tx, err := c.in().BeginTx(ctx, opts)
		if err != nil {
			return nil, err
		}
		c.inTx = true
		return &gatedTx{inner: tx, conn: c, release: func() {}}, nil
	}
	release, err := c.gate.enter(ctx)
	if err != nil {
		return nil, err
	}
	tx, err := c.in().BeginTx(ctx, opts)
	if err != nil {
		release()
		return nil, err
	}
	c.inTx = true
	return &gatedTx{inner: tx, conn: c, release: release, write: true}, nil
}

// PrepareContext implements driver.ConnPrepareContext.
func (c *sqliteConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	if err := c.refuseBroken(query); err != nil {
		return nil, err
	}
	return c.in().PrepareContext(ctx, query)
}

// ExecContext implements driver.ExecerContext.
func (c *sqliteConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	if !c.inTx && isWrite(query) {
		release, err := c.gate.enter(ctx)
		if err != nil {
			return nil, err
		}
		defer release()
		defer c.wrote()
	}
	if c.inTx {
		if err := c.refuseBroken(query); err != nil {
			return nil, err
		}
		if single, rows, ok := insertRows(query, args); ok {
			triggered, err := c.triggered(ctx, insertTable(query))
			if err != nil {
				return nil, err
			}
			if !triggered {
				return c.execRows(ctx, single, rows)
			}
		}
	}
	res, ok, err := c.stmts.exec(ctx, c.in(), query, args)
	if !ok {
		res, err = c.in().ExecContext(ctx, query, args)
	}
	if err == nil {
		c.rolledBack(query)
	}
	return res, err
}

// QueryContext implements driver.QueryerContext. A write statement with
// RETURNING holds the gate until its rows are closed.
func (c *sqliteConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	if err := c.refuseBroken(query); err != nil {
		return nil, err
	}
	if c.inTx || !isWrite(query) {
		return c.query(ctx, query, args)
	}
	release, err := c.gate.enter(ctx)
	if err != nil {
		return nil, err
	}
	rows, err := c.query(ctx, query, args)
	if err != nil {
		release()
		return nil, err
	}
	return &releasingRows{Rows: rows, release: func() { release(); c.wrote() }}, nil
}

// query runs a query on a kept statement where it can, else as given.
func (c *sqliteConn) query(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	if rows, ok, err := c.stmts.query(ctx, c.in(), query, args); ok {
		return rows, err
	}
	return c.in().QueryContext(ctx, query, args)
}

// ResetSession implements driver.SessionResetter.
func (c *sqliteConn) ResetSession(ctx context.Context) error { return c.in().ResetSession(ctx) }

// IsValid implements driver.Validator.
func (c *sqliteConn) IsValid() bool { return c.in().IsValid() }

// Ping implements driver.Pinger.
func (c *sqliteConn) Ping(ctx context.Context) error { return c.in().Ping(ctx) }

// gatedTx gives the gate back when its transaction ends.
type gatedTx struct {
	inner   driver.Tx
	conn    *sqliteConn
	release func()
	write   bool // not a read-only transaction
	once    sync.Once
}

func (t *gatedTx) end(err error) error {
	t.once.Do(func() {
		t.conn.inTx, t.conn.broken = false, nil
		t.release()
	})
	return err
}

// Commit implements driver.Tx.
func (t *gatedTx) Commit() error {
	if broken := t.conn.broken; broken != nil {
		return t.end(errors.Join(broken, t.inner.Rollback()))
	}
	err := t.end(t.inner.Commit())
	if err == nil && t.write {
		t.conn.wrote()
	}
	return err
}

// Rollback implements driver.Tx.
func (t *gatedTx) Rollback() error { return t.end(t.inner.Rollback()) }

// isWrite reports whether a statement run outside a transaction writes:
// it begins with INSERT, UPDATE, DELETE or REPLACE (after spaces and
// comments, which bun and River put first).
func isWrite(query string) bool {
	query = query[skipSpaceAndComments(query, 0):]
	if len(query) < 6 {
		return false
	}
	switch strings.ToUpper(query[:6]) {
	case "INSERT", "UPDATE", "DELETE":
		return true
	}
	return len(query) >= 7 && strings.EqualFold(query[:7], "REPLACE")
}
