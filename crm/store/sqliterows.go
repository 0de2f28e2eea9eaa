package store

import (
	"context"
	"database/sql/driver"
	"fmt"
	"strings"
)

// An INSERT of several rows inside a transaction costs SQLite far more
// than the same rows inserted one statement each. A statement that writes
// more than one row and may stop at a failed constraint (a unique key, a
// foreign key, NOT NULL) must be undone alone when it stops, so SQLite
// copies every page it changes to the statement journal first, and frees
// the copies when it ends: in the import of 200,000 customers that copying
// and freeing (with the memory allocator's system calls and page faults
// behind it) was half of SQLite's work, three quarters of the name keys'
// insert. A statement of one row writes nothing before its constraints
// pass, so it needs no journal. Inside a transaction the connection
// therefore runs a multi-row INSERT ... VALUES one row at a time, on one
// kept statement of one row (sqlitestmts.go): 12 µs a row against 28 for
// a table with a primary key only, 53 against 181 for one with a foreign
// key and three indexes (BenchmarkSQLiteInsertRows, 5,000 rows a
// transaction). Outside a transaction the statement is its own
// transaction and needs no journal; it runs as written.
//
// Not for a table with triggers (the contains-search rows, whose trigger
// feeds the FTS5 index): a statement that fires a trigger keeps a
// statement journal whatever its rows, and opens a savepoint on every
// virtual table of the transaction, at which FTS5 writes its pending terms
// to a new segment. Row by row, each search row became a segment of its
// own, merged again later: 6% of the process's CPU under 16 creating
// clients. As one statement, FTS5 writes the transaction's terms once, at
// the commit. The connection asks the schema once per table whether it
// has triggers (sqliteConn.triggered).
//
// What changes is a failure part-way: the rows before the failed one stay
// written. No caller goes on with a transaction after a failed write
// except to roll back, to the whole or to a savepoint it took before (a
// group-commit batch's call); the connection holds every caller to that.
// Until then it refuses any other statement of the transaction, and a
// commit rolls back and fails.

// insertRows splits an INSERT ... VALUES of several rows into the
// statement of one row, with a placeholder for each value, and each row's
// arguments: the values of literal tuples (as valuesArgs takes them) or
// the arguments of placeholder tuples, in order. ok is false for anything
// else (one row, an expression or a numbered placeholder in a tuple,
// placeholders or a second statement after the tuples), which then runs
// as written.
func insertRows(query string, args []driver.NamedValue) (single string, rows [][]driver.NamedValue, ok bool) {
	v := valuesAt(query)
	if v < 0 {
		return "", nil, false
	}
	values, width, end, ok := valuesTuples(query, v, args)
	if !ok || len(values) < 2*width || !plainTail(query[end:]) {
		return "", nil, false
	}
	rows = make([][]driver.NamedValue, 0, len(values)/width)
	for i := 0; i < len(values); i += width {
		rows = append(rows, values[i:i+width:i+width])
	}
	var b strings.Builder
	b.Grow(v + 3*width + len(query) - end + 2)
	b.WriteString(query[:v])
	writeTuple(&b, width)
	b.WriteString(query[end:])
	return b.String(), rows, true
}

// insertTable returns the table an INSERT writes (its last name if
// qualified, unquoted), or "" when query does not say it plainly.
func insertTable(query string) string {
	i := skipSpaceAndComments(query, 0)
	word := func() string {
		i = skipSpace(query, i)
		j := i
		for j < len(query) && isIdentByte(query[j]) {
			j++
		}
		w := query[i:j]
		i = j
		return w
	}
	if !strings.EqualFold(word(), "INSERT") {
		return ""
	}
	w := word()
	if strings.EqualFold(w, "OR") {
		word() // ROLLBACK, ABORT, REPLACE, FAIL, IGNORE
		w = word()
	}
	if !strings.EqualFold(w, "INTO") {
		return ""
	}
	var name string
	for {
		i = skipSpace(query, i)
		if i < len(query) && (query[i] == '"' || query[i] == '`') {
			end := skipQuoted(query, i)
			if end < 0 {
				return ""
			}
			name = strings.ReplaceAll(query[i+1:end-1], query[i:i+1]+query[i:i+1], query[i:i+1])
			i = end
		} else if name = word(); name == "" {
			return ""
		}
		if i < len(query) && query[i] == '.' {
			i++
			continue
		}
		return name
	}
}

// triggered reports whether table has triggers, asking the schema the
// first time per connection. A trigger added later by a migration is seen
// only by new connections; until then its table's inserts run row by row,
// which is slower for it but stores the same.
func (c *sqliteConn) triggered(ctx context.Context, table string) (bool, error) {
	if has, ok := c.triggers[table]; ok {
		return has, nil
	}
	rows, err := c.in().QueryContext(ctx, "SELECT count(*) FROM sqlite_schema WHERE type = 'trigger' AND tbl_name = ? COLLATE NOCASE",
		[]driver.NamedValue{{Ordinal: 1, Value: table}})
	if err != nil {
		return false, err
	}
	defer rows.Close()
	dest := make([]driver.Value, 1)
	if err := rows.Next(dest); err != nil {
		return false, err
	}
	n, _ := dest[0].(int64)
	if c.triggers == nil {
		c.triggers = map[string]bool{}
	}
	c.triggers[table] = n > 0
	return n > 0, nil
}

// valuesTuples reads the tuples of an INSERT from query[v:] (v as valuesAt
// gives it), whose elements are literals or ? placeholders, which take
// args in order: their values one tuple after the other, each numbered
// from 1 within its tuple, the tuples' width, and where the last one
// ends. ok is false for an element of another kind (an expression, a
// numbered placeholder), tuples of different widths, more than
// sqliteMaxArgs values, or args that are named or not all taken.
func valuesTuples(query string, v int, args []driver.NamedValue) (values []driver.NamedValue, width, end int, ok bool) {
	for _, a := range args {
		if a.Name != "" {
			return nil, 0, 0, false
		}
	}
	// At most one value per comma, and one more: sized once, as a
	// customer's rows have dozens.
	values = make([]driver.NamedValue, 0, min(strings.Count(query[v:], ",")+1, sqliteMaxArgs))
	next := 0 // the next argument a placeholder takes
	j := v
	for {
		j = skipSpace(query, j)
		if j >= len(query) || query[j] != '(' {
			return nil, 0, 0, false
		}
		j++
		start := len(values)
		for {
			j = skipSpace(query, j)
			var val any
			if j < len(query) && query[j] == '?' {
				if j+1 < len(query) && query[j+1] >= '0' && query[j+1] <= '9' || next >= len(args) {
					return nil, 0, 0, false
				}
				val, j = args[next].Value, j+1
				next++
			} else {
				lit, end, ok := literalAt(query, j)
				if !ok {
					return nil, 0, 0, false
				}
				val, j = lit, end
			}
			if len(values) == sqliteMaxArgs {
				return nil, 0, 0, false
			}
			values = append(values, driver.NamedValue{Ordinal: len(values) - start + 1, Value: val})
			j = skipSpace(query, j)
			if j < len(query) && query[j] == ',' {
				j++
				continue
			}
			if j < len(query) && query[j] == ')' {
				j++
				break
			}
			return nil, 0, 0, false
		}
		if n := len(values) - start; width == 0 {
			width = n
		} else if n != width {
			return nil, 0, 0, false
		}
		k := skipSpace(query, j)
		if k < len(query) && query[k] == ',' {
			j = k + 1
			continue
		}
		break
	}
	if next != len(args) {
		return nil, 0, 0, false
	}
	return values, width, j, true
}

// writeTuple writes a tuple of width placeholders, after a space.
func writeTuple(b *strings.Builder, width int) {
	b.WriteString(" (")
	for i := range width {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('?')
	}
	b.WriteByte(')')
}

// valuesAt returns where the VALUES keyword of an INSERT ends, found at
// the top level outside quotes before any placeholder, or -1 when query
// is no such INSERT.
func valuesAt(query string) int {
	i := skipSpaceAndComments(query, 0)
	if len(query)-i < 6 || !strings.EqualFold(query[i:i+6], "INSERT") {
		return -1
	}
	for j := i; j < len(query); {
		switch c := query[j]; {
		case c == '\'' || c == '"' || c == '`':
			end := skipQuoted(query, j)
			if end < 0 {
				return -1
			}
			j = end
		case c == '?' || c == '$' || c == ';' || c == '-' && strings.HasPrefix(query[j:], "--"):
			return -1
		case (c == 'V' || c == 'v') && j+6 <= len(query) && strings.EqualFold(query[j:j+6], "VALUES") &&
			!isIdentByte(query[j-1]) && (j+6 == len(query) || !isIdentByte(query[j+6])):
			return j + 6
		default:
			j++
		}
	}
	return -1
}

// execRows runs the one-row INSERT single for each row of rows, and
// answers as the statement of all of them would: the rows changed added
// up, the last row's id. A failure after the first row leaves the
// transaction broken (see above).
func (c *sqliteConn) execRows(ctx context.Context, single string, rows [][]driver.NamedValue) (driver.Result, error) {
	var res rowsResult
	for i, args := range rows {
		r, ok, err := c.stmts.exec(ctx, c.in(), single, args)
		if !ok {
			r, err = c.in().ExecContext(ctx, single, args)
		}
		if err != nil {
			if i > 0 {
				c.broken = fmt.Errorf("store: an insert of %d rows failed at row %d after writing the rows before it, "+
					"so this transaction can only be rolled back: %w", len(rows), i+1, err)
			}
			return nil, err
		}
		n, err := r.RowsAffected()
		if err != nil {
			return nil, err
		}
		res.changed += n
		if res.lastID, err = r.LastInsertId(); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// rowsResult is the result of execRows.
type rowsResult struct{ changed, lastID int64 }

// LastInsertId implements driver.Result.
func (r rowsResult) LastInsertId() (int64, error) { return r.lastID, nil }

// RowsAffected implements driver.Result.
func (r rowsResult) RowsAffected() (int64, error) { return r.changed, nil }

// refuseBroken returns the error of a broken transaction for any statement
// but a rollback; nil when the transaction is not broken or query rolls
// back.
func (c *sqliteConn) refuseBroken(query string) error {
	if c.broken == nil {
		return nil
	}
	q := query[skipSpaceAndComments(query, 0):]
	if len(q) >= 8 && strings.EqualFold(q[:8], "ROLLBACK") {
		return nil
	}
	return c.broken
}

// rolledBack clears the broken state after a rollback to a savepoint, which
// the caller took before the failed insert (no statement runs in between).
func (c *sqliteConn) rolledBack(query string) {
	if c.broken == nil {
		return
	}
	q := query[skipSpaceAndComments(query, 0):]
	if len(q) >= 8 && strings.EqualFold(q[:8], "ROLLBACK") {
		c.broken = nil
	}
}
