package store

import (
	"context"
	"database/sql/driver"
	"fmt"
	"io"
	"testing"
)

// TestKeptStatements: a statement with arguments on PostgreSQL (River's
// kind) runs as a statement prepared once per connection, gives the same
// answers as before, and when a migration of another process changes what
// it reads, fails that one call and is prepared anew for the next.
func TestKeptStatements(t *testing.T) {
	ctx := context.Background()
	cn := pgTestConn(ctx, t, "keptstmts")
	exec := func(q string, args ...any) error {
		t.Helper()
		named := make([]driver.NamedValue, len(args))
		for i, a := range args {
			named[i] = driver.NamedValue{Ordinal: i + 1, Value: a}
		}
		_, err := cn.ExecContext(ctx, q, named)
		return err
	}
	query := func(q string, args ...any) []driver.Value {
		t.Helper()
		return connQueryRow(ctx, t, cn, q, args...)
	}
	if err := exec("CREATE TABLE kept (id bigint PRIMARY KEY, name text, tags text[])"); err != nil {
		t.Fatal(err)
	}
	const insert = "INSERT INTO kept (id, name, tags) SELECT unnest($1::bigint[]), $2, $3::text[]"
	for i, name := range []string{"Anna", "it's", "Zoë"} {
		if err := exec(insert, "{"+string(rune('1'+i))+"}", name, `{"a,b","c"}`); err != nil {
			t.Fatal(err)
		}
	}
	if _, kept := cn.stmts[insert]; !kept || len(cn.stmts) != 1 {
		t.Fatalf("kept statements %v, want the insert", cn.stmts)
	}
	const read = "SELECT * FROM kept WHERE id = $1"
	row := query(read, int64(2))
	if fmt.Sprintf("%s", row[1]) != "it's" {
		t.Fatalf("row 2 = %v", row)
	}

	// Another process adds a column: the kept SELECT * now reads another
	// row type. That call fails; the next is prepared again.
	if err := exec("ALTER TABLE kept ADD COLUMN note text DEFAULT 'x'"); err != nil {
		t.Fatal(err)
	}
	named := []driver.NamedValue{{Ordinal: 1, Value: int64(3)}}
	if rows, err := cn.QueryContext(ctx, read, named); err == nil {
		rows.Close()
		t.Log("the server re-planned the kept statement without an error")
	}
	if row := query(read, int64(3)); len(row) != 4 {
		t.Fatalf("after the change: %v, want 4 columns", row)
	}
}

// connQueryRow runs q with args on the connection and returns its first
// row (nil values when there is none).
func connQueryRow(ctx context.Context, t *testing.T, cn *pgConn, q string, args ...any) []driver.Value {
	t.Helper()
	named := make([]driver.NamedValue, len(args))
	for i, a := range args {
		named[i] = driver.NamedValue{Ordinal: i + 1, Value: a}
	}
	rows, err := cn.QueryContext(ctx, q, named)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	row := make([]driver.Value, len(rows.Columns()))
	if err := rows.Next(row); err != nil && err != io.EOF {
		t.Fatal(err)
	}
	return row
}

// pgTestConn opens a connection of the store's PostgreSQL connector to a
// scratch schema of that name, closed when the test ends.
func pgTestConn(ctx context.Context, t *testing.T, schema string) *pgConn {
	t.Helper()
	dc, err := newPGConnector(scratchSchema(ctx, t, testPostgresDSN(t), schema)).Connect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cn := dc.(*pgConn)
	t.Cleanup(func() { cn.Close() })
	return cn
}
