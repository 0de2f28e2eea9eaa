package store

import (
	"context"
	"database/sql/driver"
	"reflect"
	"testing"
)

func TestMarkedArgs(t *testing.T) {
	m := preparedMarker
	checkRewrites(t, "markedArgs", markedArgs, []rewriteCase{
		{"SELECT 1", "", nil}, // not marked
		{m + `UPDATE "customers" SET "name" = 'O''Brien', "n" = 12, x = -3.5, b = X'00ff', d = NULL, e = TRUE, f = false WHERE (org_id = 'o1') AND (id = 'c1') AND g IS NULL AND h IS NOT TRUE`,
			m + `UPDATE "customers" SET "name" = +?, "n" = +?, x = -+?, b = +?, d = +?, e = +?, f = +? WHERE (org_id = +?) AND (id = +?) AND g IS NULL AND h IS NOT TRUE`,
			[]any{"O'Brien", int64(12), 3.5, []byte{0, 0xff}, nil, int64(1), int64(0), "o1", "c1"}},
		// Words that only start like a literal are words.
		{m + `SELECT nullif(a, 'x'), xa, "true" FROM t WHERE falsehood = 'y'`,
			m + `SELECT nullif(a, +?), xa, "true" FROM t WHERE falsehood = +?`,
			[]any{"x", "y"}},
		// After a word a value stays in the text: keywords, LIKE
		// patterns, LIMIT.
		{m + `SELECT 'email' AS k, a FROM t WHERE b LIKE 'x%' AND d IN ('p',.5) AND e IS NOT NULL LIMIT 50`,
			m + `SELECT 'email' AS k, a FROM t WHERE b LIKE 'x%' AND d IN (+?,+?) AND e IS NOT NULL LIMIT 50`,
			[]any{"p", 0.5}},
		// Identifiers and comments are not values.
		{m + `INSERT INTO "t1" ("a2", "it's") VALUES ('v', 7) /* 'c' */ -- 'd'
 RETURNING "a2"`,
			m + `INSERT INTO "t1" ("a2", "it's") VALUES (+?, +?) /* 'c' */ -- 'd'
 RETURNING "a2"`,
			[]any{"v", int64(7)}},
		// Nothing to take out.
		{m + `SELECT a FROM t WHERE b IS NULL`, "", nil},
		// What the scan does not read fully runs as written: its own
		// placeholders or named parameters, a second statement.
		{m + `SELECT a FROM t WHERE b = ? AND c = 'x'`, "", nil},
		{m + `SELECT a FROM t WHERE b = :b AND c = 'x'`, "", nil},
		{m + `SELECT a FROM t WHERE b = 'x'; DELETE FROM t`, "", nil},
	})
}

// rewriteCase is a marked statement, what a rewrite (markedArgs,
// pgMarkedArgs) makes of it ("" when it runs as written), and the
// arguments it takes out.
type rewriteCase struct {
	query string
	want  string
	args  []any
}

// checkRewrites checks what rewrite makes of each case's query.
func checkRewrites(t *testing.T, name string, rewrite func(string) (string, []driver.NamedValue, bool), cases []rewriteCase) {
	t.Helper()
	for _, tc := range cases {
		got, named, ok := rewrite(tc.query)
		switch {
		case !ok && tc.want != "":
			t.Errorf("%s(%q) did not rewrite it", name, tc.query)
			continue
		case !ok:
			continue
		case tc.want == "":
			t.Errorf("%s(%q) = %q, want it as written", name, tc.query, got)
			continue
		case got != tc.want:
			t.Errorf("%s(%q)\n got %q\nwant %q", name, tc.query, got, tc.want)
		}
		var vals []any
		for i, a := range named {
			if a.Ordinal != i+1 {
				t.Errorf("argument %d has ordinal %d", i, a.Ordinal)
			}
			vals = append(vals, a.Value)
		}
		if !reflect.DeepEqual(vals, tc.args) {
			t.Errorf("%s(%q) args %#v, want %#v", name, tc.query, vals, tc.args)
		}
	}
}

// TestSQLiteMarkedStatements runs a marked UPDATE and SELECT on a real
// connection: each is kept for calls with different values, and what they
// store and find is what the statements as written would.
func TestSQLiteMarkedStatements(t *testing.T) {
	ctx := context.Background()
	conn := sqliteConnOf(t)
	if _, err := conn.ExecContext(ctx, `CREATE TABLE marked (id INTEGER PRIMARY KEY, name TEXT, score REAL, n INTEGER)`); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(ctx, `INSERT INTO marked (id, name) VALUES (1, 'a'), (2, 'b'), (3, 'c')`); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 3; i++ {
		q := preparedMarker + `UPDATE marked SET name = 'it''s ` + string(rune('0'+i)) + `', score = ` + string(rune('0'+i)) + `.5, n = -` + string(rune('0'+i)) + ` WHERE id = ` + string(rune('0'+i))
		if _, err := conn.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	for i := 1; i <= 3; i++ {
		var name, typ string
		var score float64
		var n int64
		q := preparedMarker + `SELECT name, score, n, typeof(score) FROM marked WHERE id = ` + string(rune('0'+i))
		if err := conn.QueryRowContext(ctx, q).Scan(&name, &score, &n, &typ); err != nil {
			t.Fatal(err)
		}
		if want := "it's " + string(rune('0'+i)); name != want || score != float64(i)+0.5 || n != -int64(i) || typ != "real" {
			t.Errorf("row %d: %q %v %d %s", i, name, score, n, typ)
		}
	}
	// NULL and a blob are arguments too, stored as what they are.
	if _, err := conn.ExecContext(ctx, preparedMarker+`UPDATE marked SET name = NULL, score = X'0102', n = TRUE WHERE id = 1`); err != nil {
		t.Fatal(err)
	}
	var types string
	if err := conn.QueryRowContext(ctx, `SELECT typeof(name) || ' ' || typeof(score) || ' ' || quote(score) || ' ' || n FROM marked WHERE id = 1`).Scan(&types); err != nil {
		t.Fatal(err)
	}
	if types != "null blob X'0102' 1" {
		t.Errorf("stored %q", types)
	}
	kept := keptStatements(t, conn)
	// The UPDATE and the SELECT came three times each; the INSERT and the
	// last UPDATE once, and a text that came once is not kept.
	if kept != 2 {
		t.Errorf("the connection keeps %d statements, want 2 (the UPDATE and the SELECT)", kept)
	}
}
