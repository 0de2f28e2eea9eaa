package store

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"time"

	"github.com/uptrace/bun"
)

// The inserts of the busiest write paths (a batch of bookings, history
// events) are built for SQLite with placeholders and their values as
// arguments instead of through bun, which writes every value into the
// statement's text for the connection to take out again (valuesArgs) so
// that the compiled statement can be used again. The values are the ones
// bun would have written (the same text for dates and times, 'null' for
// an empty JSON list, 0 and 1 for flags), so what is stored does not
// change; each such insert has a test holding it to bun's statement and
// arguments.

// sqliteInsertKey names a cached INSERT text: its table and row count.
type sqliteInsertKey struct {
	table string
	rows  int
}

// sqliteInsertTexts keeps the statement texts of sqliteInsertText: the
// text for a number of rows is the same every time, and building it is
// not free.
var sqliteInsertTexts sync.Map // sqliteInsertKey -> string

// sqliteInsertText is the INSERT of n rows of width columns into table,
// with placeholders, in the form valuesArgs gives bun's INSERTs.
func sqliteInsertText(table, columns string, width, n int) string {
	key := sqliteInsertKey{table, n}
	if q, ok := sqliteInsertTexts.Load(key); ok {
		return q.(string)
	}
	row := "(" + strings.Repeat("?, ", width-1) + "?)"
	var b strings.Builder
	b.WriteString(`INSERT INTO "` + table + `" (` + columns + `) VALUES `)
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(row)
	}
	q := b.String()
	if n <= 1000 {
		sqliteInsertTexts.Store(key, q)
	}
	return q
}

// sqliteInsertRows inserts the rows whose values args holds (width a row)
// into table, as few statements as SQLite's limit on arguments allows,
// through database/sql in the transaction s runs in when there is one:
// bun's own Exec would write the arguments into the text again.
func (s *DB) sqliteInsertRows(ctx context.Context, table, columns string, width int, args []any) error {
	perStatement := (sqliteMaxArgs / width) * width
	for len(args) > 0 {
		chunk := args[:min(len(args), perStatement)]
		args = args[len(chunk):]
		query := sqliteInsertText(table, columns, width, len(chunk)/width)
		var err error
		if tx, ok := s.db.(bun.Tx); ok {
			_, err = tx.Tx.ExecContext(ctx, query, chunk...)
		} else {
			_, err = s.bun.DB.ExecContext(ctx, query, chunk...)
		}
		if err != nil {
			return interpretError(err)
		}
	}
	return nil
}

// sqliteTimeLayout is how bun writes a time for SQLite (in UTC).
const sqliteTimeLayout = "2006-01-02 15:04:05.999999-07:00"

// sqliteTime is t as bun writes it for SQLite.
func sqliteTime(t time.Time) string { return t.UTC().Format(sqliteTimeLayout) }

// The arguments of optional columns: NULL, or the value as bun writes it.

func sqliteTimeArg(t *time.Time) any {
	if t == nil {
		return nil
	}
	return sqliteTime(*t)
}

func sqliteDateArg(d *date) any {
	if d == nil {
		return nil
	}
	return d.String()
}

func sqliteIntArg(v *int64) any {
	if v == nil {
		return nil
	}
	return *v
}

func sqliteStringArg(v *string) any {
	if v == nil {
		return nil
	}
	return *v
}

// sqliteBool is a flag as bun writes it for SQLite (TRUE and FALSE, which
// SQLite stores as 1 and 0).
func sqliteBool(v bool) int64 {
	if v {
		return 1
	}
	return 0
}

// sqliteJSON is a JSON column's value as bun writes it: the JSON text
// ("null" for a nil list).
func sqliteJSON(v any) (string, error) {
	b, err := json.Marshal(v)
	return string(b), err
}
