package store

import (
	"context"
	"database/sql/driver"
	"reflect"
	"sync"
)

// SQLite compiles every statement it is given: it tokenises and parses
// the text and plans it, and for a long statement that costs more than
// running it. River's job insert (one per created or changed customer, for
// the duplicate check) is such a statement: parsing it took 0.29 ms of
// each recorded interaction at a million customers, about a tenth of the
// call. Statements that come with arguments for their placeholders
// (River's, and any the store sends with arguments) have the same text
// every time, so each connection keeps the last stmtCacheSize of them
// compiled and runs them again with new arguments. bun writes the values
// into its statements' text, which differs every time; those are not
// kept (len(args) == 0).
//
// A compiled statement is one cursor: while the rows of one run are open,
// a second run would reset them, so a statement whose rows are open is
// not reused (the call compiles a statement of its own, as before). SQLite
// compiles a kept statement again by itself when the schema changed
// (a migration).

// stmtCacheSize is how many compiled statements a connection keeps.
const stmtCacheSize = 64

// preparedStmt is a compiled statement of modernc's driver.
type preparedStmt interface {
	driver.Stmt
	driver.StmtExecContext
	driver.StmtQueryContext
}

// cachedStmt is a kept statement.
type cachedStmt struct {
	stmt preparedStmt
	busy bool   // rows of a run are open
	used uint64 // the connection's tick at its last use, for eviction
}

// stmtCache is one connection's kept statements. A driver connection is
// used by one goroutine at a time, but rows may be closed from another
// (database/sql closes them when their context ends), hence the lock.
type stmtCache struct {
	mu    sync.Mutex
	stmts map[string]*cachedStmt
	tick  uint64
}

// take returns the kept statement of query, compiling and keeping it if
// there is none, marked busy; nil when the kept one is busy or the
// statement cannot be compiled (the caller then runs the query as before,
// and meets the error there).
func (c *stmtCache) take(ctx context.Context, conn sqliteInner, query string) *cachedStmt {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.tick++
	if cs, ok := c.stmts[query]; ok {
		if cs.busy {
			return nil
		}
		cs.busy, cs.used = true, c.tick
		return cs
	}
	st, err := conn.PrepareContext(ctx, query)
	if err != nil {
		return nil
	}
	ps, ok := st.(preparedStmt)
	if !ok {
		_ = st.Close()
		return nil
	}
	if c.stmts == nil {
		c.stmts = map[string]*cachedStmt{}
	}
	if len(c.stmts) >= stmtCacheSize {
		c.evictLocked()
	}
	cs := &cachedStmt{stmt: ps, busy: true, used: c.tick}
	c.stmts[query] = cs
	return cs
}

// evictLocked closes the least recently used statement that is not busy.
func (c *stmtCache) evictLocked() {
	var oldest string
	var found *cachedStmt
	for q, cs := range c.stmts {
		if !cs.busy && (found == nil || cs.used < found.used) {
			oldest, found = q, cs
		}
	}
	if found != nil {
		_ = found.stmt.Close()
		delete(c.stmts, oldest)
	}
}

// give marks cs free again.
func (c *stmtCache) give(cs *cachedStmt) {
	c.mu.Lock()
	cs.busy = false
	c.mu.Unlock()
}

// close closes every kept statement (the connection closes).
func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for q, cs := range c.stmts {
		_ = cs.stmt.Close()
		delete(c.stmts, q)
	}
}

// exec runs query with args on a kept statement; ok is false when none
// could be used.
func (c *stmtCache) exec(ctx context.Context, conn sqliteInner, query string, args []driver.NamedValue) (driver.Result, bool, error) {
	if len(args) == 0 {
		return nil, false, nil
	}
	cs := c.take(ctx, conn, query)
	if cs == nil {
		return nil, false, nil
	}
	defer c.give(cs)
	res, err := cs.stmt.ExecContext(ctx, args)
	return res, true, err
}

// query runs query with args on a kept statement, which stays busy until
// the rows are closed; ok is false when none could be used.
func (c *stmtCache) query(ctx context.Context, conn sqliteInner, query string, args []driver.NamedValue) (driver.Rows, bool, error) {
	if len(args) == 0 {
		return nil, false, nil
	}
	cs := c.take(ctx, conn, query)
	if cs == nil {
		return nil, false, nil
	}
	rows, err := cs.stmt.QueryContext(ctx, args)
	if err != nil {
		c.give(cs)
		return nil, true, err
	}
	return &cachedRows{Rows: rows, release: func() { c.give(cs) }}, true, nil
}

// cachedRows frees its kept statement when closed, and passes on what
// modernc's rows tell of their columns.
type cachedRows struct {
	driver.Rows
	release func()
	once    sync.Once
}

// Close implements driver.Rows.
func (r *cachedRows) Close() error {
	err := r.Rows.Close()
	r.once.Do(r.release)
	return err
}

// ColumnTypeDatabaseTypeName implements driver.RowsColumnTypeDatabaseTypeName.
func (r *cachedRows) ColumnTypeDatabaseTypeName(i int) string {
	if t, ok := r.Rows.(driver.RowsColumnTypeDatabaseTypeName); ok {
		return t.ColumnTypeDatabaseTypeName(i)
	}
	return ""
}

// ColumnTypeLength implements driver.RowsColumnTypeLength.
func (r *cachedRows) ColumnTypeLength(i int) (int64, bool) {
	if t, ok := r.Rows.(driver.RowsColumnTypeLength); ok {
		return t.ColumnTypeLength(i)
	}
	return 0, false
}

// ColumnTypeNullable implements driver.RowsColumnTypeNullable.
func (r *cachedRows) ColumnTypeNullable(i int) (bool, bool) {
	if t, ok := r.Rows.(driver.RowsColumnTypeNullable); ok {
		return t.ColumnTypeNullable(i)
	}
	return false, false
}

// ColumnTypePrecisionScale implements driver.RowsColumnTypePrecisionScale.
func (r *cachedRows) ColumnTypePrecisionScale(i int) (int64, int64, bool) {
	if t, ok := r.Rows.(driver.RowsColumnTypePrecisionScale); ok {
		return t.ColumnTypePrecisionScale(i)
	}
	return 0, 0, false
}

// ColumnTypeScanType implements driver.RowsColumnTypeScanType.
func (r *cachedRows) ColumnTypeScanType(i int) reflect.Type {
	if t, ok := r.Rows.(driver.RowsColumnTypeScanType); ok {
		return t.ColumnTypeScanType(i)
	}
	return reflect.TypeFor[any]()
}
