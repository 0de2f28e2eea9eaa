package store

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"
)

// TestSQLiteKeptStatements: a statement with placeholders is compiled once
// per connection and run again with new arguments; two runs of it whose
// rows are open at once each see their own rows; the connection keeps at
// most stmtCacheSize statements.
func TestSQLiteKeptStatements(t *testing.T) {
	ctx := context.Background()
	st, err := Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "stmts.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	conn, err := st.bun.DB.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	kept := func() (n int) {
		if err := conn.Raw(func(dc any) error {
			c := dc.(*sqliteConn)
			c.stmts.mu.Lock()
			defer c.stmts.mu.Unlock()
			n = len(c.stmts.stmts)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		return n
	}
	const q = "SELECT value + ? FROM json_each('[1,2,3]') ORDER BY value"
	read := func(rows *sql.Rows) []int {
		var out []int
		for rows.Next() {
			var v int
			if err := rows.Scan(&v); err != nil {
				t.Fatal(err)
			}
			out = append(out, v)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		return out
	}
	outer, err := conn.QueryContext(ctx, q, 10)
	if err != nil {
		t.Fatal(err)
	}
	if !outer.Next() {
		t.Fatal("no first row")
	}
	// The same statement while the first run's rows are open.
	inner, err := conn.QueryContext(ctx, q, 100)
	if err != nil {
		t.Fatal(err)
	}
	if got := read(inner); fmt.Sprint(got) != "[101 102 103]" {
		t.Errorf("inner run: %v", got)
	}
	inner.Close()
	if got := append([]int{11}, read(outer)...); fmt.Sprint(got) != "[11 12 13]" {
		t.Errorf("outer run: %v", got)
	}
	outer.Close()
	if n := kept(); n != 1 {
		t.Errorf("%d statements kept, want 1", n)
	}
	// Run again: the kept statement, with new arguments.
	rows, err := conn.QueryContext(ctx, q, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if got := read(rows); fmt.Sprint(got) != "[1001 1002 1003]" {
		t.Errorf("rerun: %v", got)
	}
	rows.Close()
	// Writes with placeholders, and a failing one, leave the statement usable.
	if _, err := conn.ExecContext(ctx, "CREATE TABLE kept (k INTEGER PRIMARY KEY)"); err != nil {
		t.Fatal(err)
	}
	for i, k := range []int{1, 2, 1, 3} {
		_, err := conn.ExecContext(ctx, "INSERT INTO kept (k) VALUES (?)", k)
		if wantErr := i == 2; (err != nil) != wantErr {
			t.Fatalf("insert %d: %v, want an error: %v", k, err, wantErr)
		}
	}
	var count int
	if err := conn.QueryRowContext(ctx, "SELECT count(*) FROM kept WHERE k > ?", 0).Scan(&count); err != nil || count != 3 {
		t.Errorf("count %d, %v; want 3", count, err)
	}
	for i := range 2 * stmtCacheSize {
		if _, err := conn.ExecContext(ctx, fmt.Sprintf("SELECT %d + ?", i), i); err != nil {
			t.Fatal(err)
		}
	}
	if n := kept(); n > stmtCacheSize {
		t.Errorf("%d statements kept, want at most %d", n, stmtCacheSize)
	}
}
