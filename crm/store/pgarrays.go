package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/uptrace/bun"
)

// pgArray builds the text form of a PostgreSQL array, for statements that
// insert many rows as one parameter per column:
//
//	INSERT INTO t (a, b) SELECT * FROM unnest($1::uuid[], $2::text[])
//
// The server then parses one prepared statement and reads each column's
// values with the type's input function, where an INSERT ... VALUES of the
// same rows, with the values in its text, costs a parse and an analysis of
// every literal (for 1,000 history events about twice the time of the
// insert itself). Every element is quoted, so any text is safe in it.
type pgArray struct{ b []byte }

// add appends the element s.
func (a *pgArray) add(s string) {
	a.sep()
	a.b = append(a.b, '"')
	for {
		// The text up to the next quote or backslash at once: most
		// values have none.
		i := strings.IndexAny(s, `"\`)
		if i < 0 {
			break
		}
		a.b = append(a.b, s[:i]...)
		a.b = append(a.b, '\\', s[i])
		s = s[i+1:]
	}
	a.b = append(a.b, s...)
	a.b = append(a.b, '"')
}

// addNull appends a NULL element.
func (a *pgArray) addNull() {
	a.sep()
	a.b = append(a.b, "NULL"...)
}

func (a *pgArray) sep() {
	if len(a.b) == 0 {
		a.b = append(a.b, '{')
	} else {
		a.b = append(a.b, ',')
	}
}

// String returns the array's literal.
func (a *pgArray) String() string {
	if len(a.b) == 0 {
		return "{}"
	}
	return string(a.b) + "}"
}

// pgArraysMin is the fewest rows a bulk insert sends as arrays
// (pgInsertArrays) on PostgreSQL. Fewer go as a deferred INSERT ... VALUES,
// which waits for the transaction's next statement instead of taking round
// trips of its own (the held statements, then the prepared one), and whose
// parse is cheap for a few rows.
const pgArraysMin = 64

// bulkArraysTx returns the transaction in which n rows are inserted as
// arrays (pgInsertArrays), and whether they should be: on PostgreSQL, in a
// transaction that is not a group-commit batch's (whose statements travel
// together as text, groupbatch.go), from pgArraysMin rows.
func (s *DB) bulkArraysTx(n int) (bun.Tx, bool) {
	tx, inTx := s.db.(bun.Tx)
	pipelined := s.batch != nil && s.batch.pipelined
	return tx, inTx && !pipelined && s.dialect.name == postgresDialect.name && n >= pgArraysMin
}

// pgColumn is a column of pgInsertArrays: its name and PostgreSQL type.
type pgColumn struct{ name, typ string }

// pgInsertArrays inserts n rows into table in one statement with one
// array argument per column; row returns row i's values in the order of
// columns, each a string or nil (NULL). The statement is kept prepared on
// the connection (pgstmts.go), so each insert into a table is parsed once
// per connection.
func pgInsertArrays(ctx context.Context, tx bun.Tx, table string, columns []pgColumn, n int, row func(i int) ([]any, error)) error {
	cols := make([]pgArray, len(columns))
	for i := range n {
		values, err := row(i)
		if err != nil {
			return err
		}
		if len(values) != len(cols) {
			return fmt.Errorf("store: %d values for the %d columns of %s", len(values), len(cols), table)
		}
		for k, v := range values {
			switch v := v.(type) {
			case nil:
				cols[k].addNull()
			case string:
				cols[k].add(v)
			default:
				return fmt.Errorf("store: column %s of %s: a %T, want a string or nil", columns[k].name, table, v)
			}
		}
		if i == 0 && n > 1 {
			// Room for the rest as large as the first row, plus a
			// quarter: growing a column's text by doubling copied it
			// about twice over.
			for k := range cols {
				cols[k].b = slices.Grow(cols[k].b, len(cols[k].b)*(n-1)*5/4)
			}
		}
	}
	var names, types strings.Builder
	args := make([]any, len(columns))
	for i, c := range columns {
		if i > 0 {
			names.WriteString(", ")
			types.WriteString(", ")
		}
		names.WriteString(c.name)
		fmt.Fprintf(&types, "$%d::%s[]", i+1, c.typ)
		args[i] = cols[i].String()
	}
	query := "INSERT INTO " + table + " (" + names.String() + ") SELECT * FROM unnest(" + types.String() + ")"
	_, err := tx.Tx.ExecContext(ctx, query, args...)
	return interpretError(err)
}

// nullIfEmpty is s, or nil (NULL) for "": a nullzero column, as bun
// writes it.
func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// pgTime is t as bun writes a time for PostgreSQL: to the microsecond,
// not rounded.
func pgTime(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05.999999-07:00") }
