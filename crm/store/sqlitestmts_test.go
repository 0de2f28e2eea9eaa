package store

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// sqliteFileStore opens a new SQLite store in a file of the test's
// temporary directory, closed with the test.
func sqliteFileStore(t *testing.T, name string, opts ...Option) *DB {
	t.Helper()
	st, err := Open(context.Background(), "sqlite:"+filepath.Join(t.TempDir(), name), opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// sqliteConnOf is one connection of a new SQLite store, closed with the
// test.
func sqliteConnOf(t *testing.T) *sql.Conn {
	t.Helper()
	ctx := context.Background()
	st := sqliteFileStore(t, "stmts.db")
	conn, err := st.bun.DB.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// keptStatements is how many statements conn keeps.
func keptStatements(t *testing.T, conn *sql.Conn) (n int) {
	t.Helper()
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

// TestSQLiteKeptStatements: a statement with placeholders is compiled once
// per connection (from its second call) and run again with new arguments;
// two runs of it whose rows are open at once each see their own rows; the
// connection keeps at most stmtCacheSize statements, and a text that comes
// only once is not kept.
func TestSQLiteKeptStatements(t *testing.T) {
	ctx := context.Background()
	conn := sqliteConnOf(t)
	kept := func() int { return keptStatements(t, conn) }
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
	// Texts that come twice are kept, up to stmtCacheSize of them.
	for i := range 2 * stmtCacheSize {
		for range 2 {
			if _, err := conn.ExecContext(ctx, fmt.Sprintf("SELECT %d + ?", i), i); err != nil {
				t.Fatal(err)
			}
		}
	}
	if n := kept(); n != stmtCacheSize {
		t.Errorf("%d statements kept, want %d", n, stmtCacheSize)
	}
	// A text that comes once pushes none of them out.
	before := kept()
	if _, err := conn.ExecContext(ctx, "SELECT -1 + ?", 1); err != nil {
		t.Fatal(err)
	}
	var stillKept bool
	if err := conn.Raw(func(dc any) error {
		c := dc.(*sqliteConn)
		c.stmts.mu.Lock()
		defer c.stmts.mu.Unlock()
		_, stillKept = c.stmts.stmts[fmt.Sprintf("SELECT %d + ?", 2*stmtCacheSize-1)]
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if kept() != before || !stillKept {
		t.Errorf("a text that came once changed the kept statements")
	}
}

// TestSQLiteValuesArgs: an INSERT whose VALUES hold bun's literals is run
// as the same statement with placeholders, and stores exactly what the
// literals store (type and value, in columns of every affinity); anything
// else in the tuples leaves the statement as written.
func TestSQLiteValuesArgs(t *testing.T) {
	for _, tc := range []struct {
		query, want string
		args        int
	}{
		{`INSERT INTO "t" ("a", "b") VALUES ('x', 1), ('y''s', -2.5)`, `INSERT INTO "t" ("a", "b") VALUES (?, ?), (?, ?)`, 4},
		{`INSERT INTO t (a) VALUES (NULL) ON CONFLICT (a) DO UPDATE SET a = 'q' RETURNING a`, `INSERT INTO t (a) VALUES (?) ON CONFLICT (a) DO UPDATE SET a = 'q' RETURNING a`, 1},
		{`-- note` + "\n" + `INSERT INTO t (a, b, c) VALUES (TRUE, FALSE, X'00ff')`, `-- note` + "\n" + `INSERT INTO t (a, b, c) VALUES (?, ?, ?)`, 3},
		{`INSERT INTO "values" ("v") VALUES ('a;b?c$d')`, `INSERT INTO "values" ("v") VALUES (?)`, 1},
	} {
		got, args, ok := valuesArgs(tc.query)
		if !ok || got != tc.want || len(args) != tc.args {
			t.Errorf("valuesArgs(%q) = %q, %d args, %v; want %q, %d args", tc.query, got, len(args), ok, tc.want, tc.args)
		}
	}
	for _, q := range []string{
		`INSERT INTO t (a) VALUES (?)`,
		`INSERT INTO t (a) VALUES (lower('X'))`,
		`INSERT INTO t (a) VALUES (DEFAULT)`,
		`INSERT INTO t (a) VALUES ('x'); DELETE FROM t`,
		`INSERT INTO t (a) SELECT 'x'`,
		`INSERT INTO t (a) VALUES (99999999999999999999)`,
		`INSERT INTO t (a) VALUES ('x`,
		`UPDATE t SET a = 'x'`,
		`SELECT 'VALUES (1)'`,
		`INSERT INTO t (a) VALUES ` + strings.Repeat("(1), ", sqliteMaxArgs) + "(1)",
	} {
		if got, _, ok := valuesArgs(q); ok {
			t.Errorf("valuesArgs(%q) rewrote it to %q", q, got)
		}
	}

	// Stored alike: the same literals through the rewritten statement and,
	// as written, through a script (which is never rewritten).
	ctx := context.Background()
	conn := sqliteConnOf(t)
	for _, table := range []string{"viaargs", "aswritten"} {
		if _, err := conn.ExecContext(ctx, "CREATE TABLE "+table+" (n INTEGER, r REAL, s TEXT, b BLOB, a ANY, nu NUMERIC)"); err != nil {
			t.Fatal(err)
		}
	}
	literals := []string{`'text'`, `'it''s'`, `'ünïcødé ✓'`, `'line` + "\n" + `break'`, `''`, `'123'`, `'1.5'`, `0`, `-7`,
		`9223372036854775807`, `-9223372036854775808`, `1.5`, `-0.25`, `0.1`, `123456789.123456789`, `1e3`, `NULL`, `TRUE`, `FALSE`,
		`X'00ff10'`, `X''`, `'2026-11-27 23:37:45.517129+00:00'`, `'{"a":"b''c","n":[1,2]}'`, `'NaN'`}
	for _, lit := range literals {
		row := "(" + strings.Repeat(lit+", ", 5) + lit + ")"
		if _, err := conn.ExecContext(ctx, "INSERT INTO viaargs (n, r, s, b, a, nu) VALUES "+row); err != nil {
			t.Fatalf("%s: %v", lit, err)
		}
		if _, err := conn.ExecContext(ctx, "INSERT INTO aswritten (n, r, s, b, a, nu) VALUES "+row+";"); err != nil {
			t.Fatalf("%s as written: %v", lit, err)
		}
	}
	const cols = "typeof(n), quote(n), typeof(r), quote(r), typeof(s), quote(s), typeof(b), quote(b), typeof(a), quote(a), typeof(nu), quote(nu)"
	dump := func(table string) []string {
		rows, err := conn.QueryContext(ctx, "SELECT "+cols+" FROM "+table+" ORDER BY rowid")
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var out []string
		for rows.Next() {
			v := make([]any, 12)
			p := make([]any, 12)
			for i := range v {
				p[i] = &v[i]
			}
			if err := rows.Scan(p...); err != nil {
				t.Fatal(err)
			}
			out = append(out, fmt.Sprint(v...))
		}
		return out
	}
	got, want := dump("viaargs"), dump("aswritten")
	if len(got) != len(literals) || len(want) != len(literals) {
		t.Fatalf("%d and %d rows, want %d", len(got), len(want), len(literals))
	}
	for i := range literals {
		if got[i] != want[i] {
			t.Errorf("%s stored as %s through arguments, %s as written", literals[i], got[i], want[i])
		}
	}
}
