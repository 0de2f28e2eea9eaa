package store

import (
	"context"
	"database/sql/driver"
	"encoding/hex"
	"hash/maphash"
	"reflect"
	"strconv"
	"strings"
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
//
// A statement is kept the second time its text comes: a text that never
// comes again (a value the rewriting left in it, such as a time in an
// upsert's condition) is compiled once, as it would be without the cache,
// and never pushes a kept statement out.
type stmtCache struct {
	mu    sync.Mutex
	stmts map[string]*cachedStmt
	tick  uint64
	seen  map[uint64]struct{} // hashes of texts that came once
}

// seenLimit bounds the texts a connection remembers having seen once; the
// memory is forgotten when it is full.
const seenLimit = 1024

// seenSeed hashes the texts of seen.
var seenSeed = maphash.MakeSeed()

// take returns the kept statement of query, compiling and keeping it if
// there is none and the text came before, marked busy; nil when the text
// is new, the kept one is busy or the statement cannot be compiled (the
// caller then runs the query as before, and meets the error there).
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
	h := maphash.String(seenSeed, query)
	if _, ok := c.seen[h]; !ok {
		if c.seen == nil || len(c.seen) >= seenLimit {
			c.seen = make(map[uint64]struct{})
		}
		c.seen[h] = struct{}{}
		return nil
	}
	delete(c.seen, h)
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

// kept returns the kept statement to run query with: the statement as
// given when it comes with arguments, an INSERT of literals rewritten
// (valuesArgs) or a marked statement with its values taken out
// (markedArgs, prepared.go) when it does not; nil when there is none to
// use.
func (c *stmtCache) kept(ctx context.Context, conn sqliteInner, query string, args []driver.NamedValue) (*cachedStmt, []driver.NamedValue) {
	if len(args) == 0 {
		q, a, ok := markedArgs(query)
		if !ok {
			q, a, ok = valuesArgs(query)
		}
		if !ok {
			return nil, nil
		}
		query, args = q, a
	}
	return c.take(ctx, conn, query), args
}

// exec runs query on a kept statement; ok is false when none could be
// used.
func (c *stmtCache) exec(ctx context.Context, conn sqliteInner, query string, args []driver.NamedValue) (driver.Result, bool, error) {
	cs, args := c.kept(ctx, conn, query, args)
	if cs == nil {
		return nil, false, nil
	}
	defer c.give(cs)
	res, err := cs.stmt.ExecContext(ctx, args)
	return res, true, err
}

// query runs query on a kept statement, which stays busy until the rows
// are closed; ok is false when none could be used.
func (c *stmtCache) query(ctx context.Context, conn sqliteInner, query string, args []driver.NamedValue) (driver.Rows, bool, error) {
	cs, args := c.kept(ctx, conn, query, args)
	if cs == nil {
		return nil, false, nil
	}
	rows, err := cs.stmt.QueryContext(ctx, args)
	if err != nil {
		c.give(cs)
		return nil, true, err
	}
	return &releasingRows{Rows: rows, release: func() { c.give(cs) }}, true, nil
}

// releasingRows runs release once when its rows are closed (a kept
// statement becomes free, a write statement gives the write gate back),
// and passes on what modernc's rows tell of their columns.
type releasingRows struct {
	driver.Rows
	release func()
	once    sync.Once
}

// Close implements driver.Rows.
func (r *releasingRows) Close() error {
	err := r.Rows.Close()
	r.once.Do(r.release)
	return err
}

// ColumnTypeDatabaseTypeName implements driver.RowsColumnTypeDatabaseTypeName.
func (r *releasingRows) ColumnTypeDatabaseTypeName(i int) string {
	if t, ok := r.Rows.(driver.RowsColumnTypeDatabaseTypeName); ok {
		return t.ColumnTypeDatabaseTypeName(i)
	}
	return ""
}

// ColumnTypeLength implements driver.RowsColumnTypeLength.
func (r *releasingRows) ColumnTypeLength(i int) (int64, bool) {
	if t, ok := r.Rows.(driver.RowsColumnTypeLength); ok {
		return t.ColumnTypeLength(i)
	}
	return 0, false
}

// ColumnTypeNullable implements driver.RowsColumnTypeNullable.
func (r *releasingRows) ColumnTypeNullable(i int) (bool, bool) {
	if t, ok := r.Rows.(driver.RowsColumnTypeNullable); ok {
		return t.ColumnTypeNullable(i)
	}
	return false, false
}

// ColumnTypePrecisionScale implements driver.RowsColumnTypePrecisionScale.
func (r *releasingRows) ColumnTypePrecisionScale(i int) (int64, int64, bool) {
	if t, ok := r.Rows.(driver.RowsColumnTypePrecisionScale); ok {
		return t.ColumnTypePrecisionScale(i)
	}
	return 0, 0, false
}

// ColumnTypeScanType implements driver.RowsColumnTypeScanType.
func (r *releasingRows) ColumnTypeScanType(i int) reflect.Type {
	if t, ok := r.Rows.(driver.RowsColumnTypeScanType); ok {
		return t.ColumnTypeScanType(i)
	}
	return reflect.TypeFor[any]()
}

// bun writes the values of its statements into their text, so the text of
// an INSERT differs with every row and no compiled statement could be used
// again: a customer's create spent about a third of its time with SQLite
// parsing its INSERTs. valuesArgs takes the literals out of an INSERT's
// VALUES list again: the statement with a placeholder for each literal,
// whose text is the same for every insert of the same columns and number
// of rows, and the literals as its arguments, bound with the types SQLite
// gives the literals (text, integer, real, blob, NULL; TRUE and FALSE are
// the integers 1 and 0), so what is stored is what the literal would store.
// Only the VALUES tuples are touched, and only when every element of them
// is a plain literal: anything else (an expression, a placeholder, a
// second statement) leaves the statement as it is (ok false).
func valuesArgs(query string) (string, []driver.NamedValue, bool) {
	v := valuesAt(query)
	if v < 0 {
		return "", nil, false
	}
	args, width, end, ok := valuesTuples(query, v, nil)
	if !ok || len(args) == 0 || !plainTail(query[end:]) {
		return "", nil, false
	}
	var b strings.Builder
	b.Grow(len(query))
	b.WriteString(query[:v])
	for i := range args {
		args[i].Ordinal = i + 1
		if i%width == 0 {
			if i > 0 {
				b.WriteByte(',')
			}
			writeTuple(&b, width)
		}
	}
	b.WriteString(query[end:])
	return b.String(), args, true
}

// plainTail reports whether what follows an INSERT's tuples (ON CONFLICT
// ..., RETURNING ...), which stays as written, ends this one statement
// and takes no argument.
func plainTail(rest string) bool {
	for r := 0; r < len(rest); {
		switch rest[r] {
		case '\'', '"', '`':
			end := skipQuoted(rest, r)
			if end < 0 {
				return false
			}
			r = end
		case ';', '?', '$':
			return false
		default:
			r++
		}
	}
	return true
}

// sqliteMaxArgs is the most placeholders a statement may have
// (SQLITE_MAX_VARIABLE_NUMBER); a larger INSERT is run as written.
const sqliteMaxArgs = 32766

// literalAt reads the literal that starts at query[i]: its value, and
// where it ends.
func literalAt(query string, i int) (any, int, bool) {
	if i >= len(query) {
		return nil, 0, false
	}
	switch c := query[i]; {
	case c == '\'':
		end := skipQuoted(query, i)
		if end < 0 {
			return nil, 0, false
		}
		return strings.ReplaceAll(query[i+1:end-1], "''", "'"), end, true
	case (c == 'X' || c == 'x') && i+1 < len(query) && query[i+1] == '\'':
		end := skipQuoted(query, i+1)
		if end < 0 {
			return nil, 0, false
		}
		blob, err := hex.DecodeString(query[i+2 : end-1])
		if err != nil {
			return nil, 0, false
		}
		return blob, end, true
	case c == '-' || c == '+' || c == '.' || c >= '0' && c <= '9':
		end := i
		if c == '-' || c == '+' {
			end++
		}
		isFloat := false
		for end < len(query) {
			d := query[end]
			switch {
			case d >= '0' && d <= '9':
			case d == '.':
				isFloat = true
			case (d == 'e' || d == 'E') && end > i:
				isFloat = true
				if end+1 < len(query) && (query[end+1] == '-' || query[end+1] == '+') {
					end++
				}
			default:
				goto done
			}
			end++
		}
	done:
		text := query[i:end]
		if end < len(query) && isIdentByte(query[end]) {
			return nil, 0, false // 0x1F and such
		}
		if !isFloat {
			n, err := strconv.ParseInt(text, 10, 64)
			if err != nil {
				return nil, 0, false // too large: SQLite would make it a real
			}
			return n, end, true
		}
		f, err := strconv.ParseFloat(text, 64)
		if err != nil {
			return nil, 0, false
		}
		return f, end, true
	}
	for _, kw := range []struct {
		word string
		val  any
	}{{"NULL", nil}, {"TRUE", int64(1)}, {"FALSE", int64(0)}} {
		n := len(kw.word)
		if i+n <= len(query) && strings.EqualFold(query[i:i+n], kw.word) && (i+n == len(query) || !isIdentByte(query[i+n])) {
			return kw.val, i + n, true
		}
	}
	return nil, 0, false
}

// skipQuoted returns the index after the quoted text that starts at
// query[i] (its quote doubled inside it), or -1 when it does not end.
func skipQuoted(query string, i int) int {
	q := query[i]
	for j := i + 1; j < len(query); j++ {
		if query[j] == q {
			if j+1 < len(query) && query[j+1] == q {
				j++
				continue
			}
			return j + 1
		}
	}
	return -1
}

func skipSpace(query string, i int) int {
	for i < len(query) && (query[i] == ' ' || query[i] == '\t' || query[i] == '\n' || query[i] == '\r') {
		i++
	}
	return i
}

// skipSpaceAndComments skips spaces, line comments (River and bun put
// them first) and block comments (a marked statement's, prepared.go).
func skipSpaceAndComments(query string, i int) int {
	for {
		i = skipSpace(query, i)
		switch {
		case strings.HasPrefix(query[i:], "--"):
			nl := strings.IndexByte(query[i:], '\n')
			if nl < 0 {
				return len(query)
			}
			i += nl + 1
		case strings.HasPrefix(query[i:], "/*"):
			end := strings.Index(query[i+2:], "*/")
			if end < 0 {
				return len(query)
			}
			i += 2 + end + 2
		default:
			return i
		}
	}
}

func isIdentByte(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c >= 0x80
}
