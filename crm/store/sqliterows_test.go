package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dossiercrm/dossier/crm"
)

// TestSQLiteInsertRows: an INSERT of several rows, of literals or of
// placeholders, splits into the statement of one row and each row's
// values; anything else is left as written.
func TestSQLiteInsertRows(t *testing.T) {
	for _, tc := range []struct {
		query  string
		args   []any
		single string
		rows   string
	}{
		{`INSERT INTO "t" ("a", "b") VALUES ('x', 1), ('y''s', -2.5)`, nil,
			`INSERT INTO "t" ("a", "b") VALUES (?, ?)`, `[[x 1] [y's -2.5]]`},
		{`INSERT INTO t (a, b) VALUES (?, ?), (?, ?), (?, ?) ON CONFLICT (a) DO NOTHING`, []any{"p", 1, "q", 2, "r", nil},
			`INSERT INTO t (a, b) VALUES (?, ?) ON CONFLICT (a) DO NOTHING`, `[[p 1] [q 2] [r <nil>]]`},
		{`/* note */ INSERT INTO t (a, b) VALUES (?, 'lit'), (?, NULL)`, []any{1, 2},
			`/* note */ INSERT INTO t (a, b) VALUES (?, ?)`, `[[1 lit] [2 <nil>]]`},
	} {
		single, rows, ok := insertRows(tc.query, namedValues(tc.args))
		var got []string
		for _, r := range rows {
			var vs []string
			for i, v := range r {
				if v.Ordinal != i+1 {
					t.Errorf("%q: row value %d has ordinal %d", tc.query, i, v.Ordinal)
				}
				vs = append(vs, fmt.Sprint(v.Value))
			}
			got = append(got, "["+strings.Join(vs, " ")+"]")
		}
		if !ok || single != tc.single || "["+strings.Join(got, " ")+"]" != tc.rows {
			t.Errorf("insertRows(%q) = %q, %v, %v; want %q, %s", tc.query, single, got, ok, tc.single, tc.rows)
		}
	}
	for _, tc := range []struct {
		query string
		args  int
	}{
		{`INSERT INTO t (a) VALUES ('x')`, 0},                                    // one row: nothing to split
		{`INSERT INTO t (a) VALUES (?)`, 1},                                      // one row
		{`INSERT INTO t (a) VALUES (?1), (?2)`, 2},                               // numbered placeholders
		{`INSERT INTO t (a) VALUES (?), (?) ON CONFLICT DO UPDATE SET a = ?`, 3}, // arguments after the tuples
		{`INSERT INTO t (a) VALUES (?), (?)`, 3},                                 // an argument left over
		{`INSERT INTO t (a) VALUES (?), (?)`, 1},                                 // an argument short
		{`INSERT INTO t (a, b) VALUES (1, 2), (3)`, 0},                           // rows of different widths
		{`INSERT INTO t (a) VALUES (lower('X')), ('y')`, 0},                      // an expression
		{`INSERT INTO t (a) VALUES ('x'), ('y'); DELETE FROM t`, 0},              // a second statement
		{`INSERT INTO t (a) SELECT 'x' UNION ALL SELECT 'y'`, 0},
		{`UPDATE t SET a = 'x'`, 0},
	} {
		values := make([]any, tc.args)
		for i := range values {
			values[i] = int64(i)
		}
		if single, _, ok := insertRows(tc.query, namedValues(values)); ok {
			t.Errorf("insertRows(%q, %d args) split it into %q", tc.query, tc.args, single)
		}
	}
}

// TestSQLiteInsertRowByRow: inside a transaction, an INSERT of several
// rows stores what it would as one statement and answers with the rows it
// changed; when a row fails part-way the transaction refuses every
// statement but a rollback, and its commit fails and stores nothing; a
// rollback to a savepoint taken before the insert undoes the rows written
// and the transaction goes on.
func TestSQLiteInsertRowByRow(t *testing.T) {
	ctx := context.Background()
	st, err := Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "rows.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	db := st.bun.DB
	if _, err := db.ExecContext(ctx, "CREATE TABLE t (a TEXT PRIMARY KEY, b ANY)"); err != nil {
		t.Fatal(err)
	}
	count := func() (n int) {
		t.Helper()
		if err := db.QueryRowContext(ctx, "SELECT count(*) FROM t").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}

	// Stored alike: the same rows through one transaction (row by row)
	// and outside one (as written).
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO t (a, b) VALUES ('r1', 1), ('r2', 'two'), ('r3', X'ff'), ('r4', NULL), ('r5', 2.5) ON CONFLICT (a) DO NOTHING`)
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := res.RowsAffected(); n != 5 {
		t.Errorf("%d rows affected, want 5", n)
	}
	res, err = tx.ExecContext(ctx, `INSERT INTO t (a, b) VALUES (?, ?), (?, ?), (?, ?) ON CONFLICT (a) DO NOTHING`, "r1", 9, "r6", 6, "r2", 9)
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		t.Errorf("%d rows affected by the upsert of one new row and two present ones, want 1", n)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `INSERT INTO t (a, b) VALUES ('w1', 1), ('w2', 'two'), ('w3', X'ff'), ('w4', NULL), ('w5', 2.5)`); err != nil {
		t.Fatal(err)
	}
	dump := func(prefix string) string {
		rows, err := db.QueryContext(ctx, "SELECT substr(a, 2), typeof(b), quote(b) FROM t WHERE a LIKE ? ORDER BY a", prefix+"%")
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var out []string
		for rows.Next() {
			var a, typ, q string
			if err := rows.Scan(&a, &typ, &q); err != nil {
				t.Fatal(err)
			}
			out = append(out, a+":"+typ+":"+q)
		}
		return strings.Join(out, " ")
	}
	if got, want := dump("r"), dump("w")+" 6:integer:6"; got != want {
		t.Errorf("stored row by row: %s\nas one statement: %s", got, want)
	}

	// A failure at the third row: only a rollback may follow.
	before := count()
	tx, err = db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO t (a, b) VALUES ('x1', 1), ('x2', 2), ('r1', 3), ('x4', 4)`); err == nil ||
		!errors.Is(interpretError(err), crm.ErrConflict) {
		t.Fatalf("insert with a taken key: %v, want a conflict", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO t (a, b) VALUES ('y1', 1)`); err == nil || !strings.Contains(err.Error(), "only be rolled back") {
		t.Errorf("a statement after the failed insert: %v, want it refused", err)
	}
	if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM t").Scan(new(int)); err == nil {
		t.Errorf("a query after the failed insert ran")
	}
	if err := tx.Commit(); err == nil {
		t.Errorf("the transaction of the failed insert committed")
	}
	if n := count(); n != before {
		t.Errorf("%d rows after the failed transaction, want %d", n, before)
	}

	// A savepoint taken before the insert: rolled back to, the rows the
	// insert wrote are gone and the transaction goes on.
	tx, err = db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{`INSERT INTO t (a, b) VALUES ('s0', 0)`, "SAVEPOINT before_insert"} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO t (a, b) VALUES ('s1', 1), ('r1', 3)`); err == nil {
		t.Fatal("insert with a taken key succeeded")
	}
	for _, q := range []string{"ROLLBACK TO SAVEPOINT before_insert", "RELEASE SAVEPOINT before_insert", `INSERT INTO t (a, b) VALUES ('s2', 2), ('s3', 3)`} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if got := dump("s"); got != "0:integer:0 2:integer:2 3:integer:3" {
		t.Errorf("after the rollback to the savepoint: %s, want s0, s2 and s3", got)
	}

	// A table with a trigger (like the contains-search rows, whose trigger
	// feeds FTS5) takes its rows in one statement: a failure part-way
	// undoes the statement alone and the transaction goes on.
	for _, q := range []string{
		"CREATE TABLE fed (a TEXT PRIMARY KEY)",
		"CREATE TABLE fed_log (a TEXT)",
		"CREATE TRIGGER fed_insert AFTER INSERT ON fed BEGIN INSERT INTO fed_log (a) VALUES (new.a); END",
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	tx, err = db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO "fed" (a) VALUES ('f1'), ('f2')`); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO "fed" (a) VALUES ('f3'), ('f1')`); err == nil {
		t.Fatal("insert with a taken key succeeded")
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO fed (a) VALUES (?), (?)`, "f4", "f5"); err != nil {
		t.Fatalf("an insert after the failed one: %v, want the transaction to go on", err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	var fed, logged string
	if err := db.QueryRowContext(ctx, "SELECT (SELECT group_concat(a, ' ') FROM (SELECT a FROM fed ORDER BY a)), (SELECT group_concat(a, ' ') FROM (SELECT a FROM fed_log ORDER BY a))").Scan(&fed, &logged); err != nil {
		t.Fatal(err)
	}
	if fed != "f1 f2 f4 f5" || logged != fed {
		t.Errorf("rows %q, logged by the trigger %q; want f1 f2 f4 f5 in both", fed, logged)
	}
}

func TestInsertTable(t *testing.T) {
	for query, want := range map[string]string{
		`INSERT INTO "customer_search" AS "search_row" ("org_id") VALUES (?)`: "customer_search",
		`/* marked */ insert into t (a) values (1), (2)`:                      "t",
		`INSERT OR IGNORE INTO main."a""b" (a) VALUES (1)`:                    `a"b`,
		"INSERT INTO `x` VALUES (1)":                                          "x",
		`UPDATE t SET a = 1`:                                                  "",
		`INSERT INTO "open (a) VALUES (1)`:                                    "",
	} {
		if got := insertTable(query); got != want {
			t.Errorf("insertTable(%q) = %q, want %q", query, got, want)
		}
	}
}

// namedValues are values as a driver's arguments.
func namedValues(values []any) []driver.NamedValue {
	out := make([]driver.NamedValue, len(values))
	for i, v := range values {
		out[i] = driver.NamedValue{Ordinal: i + 1, Value: v}
	}
	return out
}

// BenchmarkSQLiteInsertRows compares an INSERT of 500 rows run as one
// statement (modernc's driver as it is) with the same rows run one at a
// time (the store's connection), ten such inserts a transaction, into a
// table with a primary key only and into one with a foreign key and three
// indexes (µs/row):
//
//	go test ./crm/store -run '^$' -bench SQLiteInsertRows -benchtime 40x
func BenchmarkSQLiteInsertRows(b *testing.B) {
	ctx := context.Background()
	schema := []string{
		"CREATE TABLE o (id TEXT PRIMARY KEY)",
		"INSERT INTO o VALUES ('a')",
		"CREATE TABLE k (org_id TEXT NOT NULL, key TEXT NOT NULL, number INTEGER NOT NULL, PRIMARY KEY (org_id, key, number)) WITHOUT ROWID",
		"CREATE TABLE c (org_id TEXT NOT NULL REFERENCES o (id), id TEXT NOT NULL, a TEXT, b TEXT, d TEXT, PRIMARY KEY (org_id, id))",
		"CREATE INDEX c_a ON c (org_id, a)", "CREATE INDEX c_b ON c (org_id, b)", "CREATE INDEX c_d ON c (org_id, d)",
	}
	open := map[string]func(path string) (*sql.DB, func()){
		"oneStatement": func(path string) (*sql.DB, func()) {
			db, err := sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)&_pragma=temp_store(MEMORY)")
			if err != nil {
				b.Fatal(err)
			}
			db.SetMaxOpenConns(1)
			return db, func() { db.Close() }
		},
		"rowByRow": func(path string) (*sql.DB, func()) {
			st, err := Open(ctx, "sqlite:"+path)
			if err != nil {
				b.Fatal(err)
			}
			return st.bun.DB, func() { st.Close() }
		},
	}
	for _, table := range []string{"k", "c"} {
		for _, how := range []string{"oneStatement", "rowByRow"} {
			b.Run(table+"/"+how, func(b *testing.B) {
				db, done := open[how](filepath.Join(b.TempDir(), "rows.db"))
				defer done()
				for _, s := range schema {
					if _, err := db.ExecContext(ctx, s); err != nil {
						b.Fatal(err)
					}
				}
				const perStatement = 500
				tuple := "(?, ?, ?)"
				if table == "c" {
					tuple = "(?, ?, ?, ?, ?)"
				}
				query := "INSERT INTO " + table + " VALUES " + strings.TrimSuffix(strings.Repeat(tuple+", ", perStatement), ", ")
				n := 0
				b.ResetTimer()
				for range b.N {
					tx, err := db.BeginTx(ctx, nil)
					if err != nil {
						b.Fatal(err)
					}
					for range 10 {
						var args []any
						for range perStatement {
							n++
							key := fmt.Sprintf("%016x", uint64(n)*0x9E3779B97F4A7C15) // spread over the index
							if table == "k" {
								args = append(args, "a", key, n)
							} else {
								args = append(args, "a", key, key[8:]+key[:8], key[4:]+key[:4], key[12:]+key[:12])
							}
						}
						if _, err := tx.ExecContext(ctx, query, args...); err != nil {
							b.Fatal(err)
						}
					}
					if err := tx.Commit(); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(n), "µs/row")
			})
		}
	}
}
