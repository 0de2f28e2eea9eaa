package store

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestPGMarkedArgs(t *testing.T) {
	m := preparedMarker
	checkRewrites(t, "pgMarkedArgs", pgMarkedArgs, []rewriteCase{
		{"SELECT 1", "", nil}, // not marked
		// Assignments and comparisons: the column gives the type. NULL,
		// TRUE and FALSE stay; so does a negative number (after an
		// operator that is not a comparison).
		{m + `UPDATE "customers" SET "name" = 'O''Brien', "n" = 12, x = -3.5, b = '\x00ff', d = NULL, e = TRUE WHERE ("org_id" = 'o1') AND (id = 'c1') AND (v >= 3) AND w <> 'a\b' AND g IS NULL`,
			m + `UPDATE "customers" SET "name" = $1, "n" = $2, x = -3.5, b = $3, d = NULL, e = TRUE WHERE ("org_id" = $4) AND (id = $5) AND (v >= $6) AND w <> $7 AND g IS NULL`,
			[]any{"O'Brien", "12", `\x00ff`, "o1", "c1", "3", `a\b`}},
		// Constants of a select list, a function's arguments, LIKE
		// patterns, LIMIT and operators other than comparisons keep
		// their values; the elements of IN and ANY lists do not, nor a
		// literal with a cast. A column's IN list becomes one array,
		// whatever its length; NOT IN keeps an argument per element.
		{m + `SELECT 'email' AS k, coalesce(a, 'x'), data->>'key' FROM t WHERE b LIKE 'x%' AND "d" IN ('p', 'q"\', 3) AND e = ANY('{a,b}'::text[]) AND f || 'z' = 'yz' AND t.g NOT IN ('r') LIMIT 50`,
			m + `SELECT 'email' AS k, coalesce(a, 'x'), data->>'key' FROM t WHERE b LIKE 'x%' AND "d" = ANY($1) AND e = ANY($2::text[]) AND f || 'z' = $3 AND t.g NOT IN ($4) LIMIT 50`,
			[]any{`{"p","q\"\\","3"}`, "{a,b}", "yz", "r"}},
		{m + `SELECT a FROM t WHERE t.id IN ('x') AND n IN (1, 2)`,
			m + `SELECT a FROM t WHERE t.id = ANY($1) AND n = ANY($2)`, []any{`{"x"}`, `{"1","2"}`}},
		// An operand of another operator stays with it (the server types
		// the two together); a cast is not such an operator.
		{m + `UPDATE t SET a = 'x' || b, n = 5 + 1, c = 'v'::text || d, e = 'w' /* c */ WHERE f = 'y' -- z
`,
			m + `UPDATE t SET a = 'x' || b, n = 5 + 1, c = $1::text || d, e = $2 /* c */ WHERE f = $3 -- z
`, []any{"v", "w", "y"}},
		// A subquery in IN is not a list: its select list keeps its constants.
		{m + `SELECT a FROM t WHERE id IN (SELECT id FROM u WHERE k = 'v' UNION ALL SELECT 'w')`,
			m + `SELECT a FROM t WHERE id IN (SELECT id FROM u WHERE k = $1 UNION ALL SELECT 'w')`,
			[]any{"v"}},
		// VALUES tuples, one after another; identifiers and comments are
		// not values.
		{m + `INSERT INTO "t1" ("a2", "it's") VALUES ('v', 7), ('w', 8) /* 'c' */ ON CONFLICT (a2) DO UPDATE SET "it's" = EXCLUDED."it's" -- 'd'
 RETURNING "a2"`,
			m + `INSERT INTO "t1" ("a2", "it's") VALUES ($1, $2), ($3, $4) /* 'c' */ ON CONFLICT (a2) DO UPDATE SET "it's" = EXCLUDED."it's" -- 'd'
 RETURNING "a2"`,
			[]any{"v", "7", "w", "8"}},
		// A function's parentheses after a VALUES tuple are not a tuple.
		{m + `SELECT f(a, 'x') FROM t WHERE (a, b) IN (('p', 1)) AND lower(c) = 'q'`,
			m + `SELECT f(a, 'x') FROM t WHERE (a, b) IN (($1, $2)) AND lower(c) = $3`, []any{"p", "1", "q"}},
		// Nothing to take out.
		{m + `SELECT a FROM t WHERE b IS NULL`, "", nil},
		// What the scan does not read fully runs as written: its own
		// placeholders, a dollar quote, a prefixed string, a second
		// statement.
		{m + `SELECT a FROM t WHERE b = ? AND c = 'x'`, "", nil},
		{m + `SELECT a FROM t WHERE b = $1 AND c = 'x'`, "", nil},
		{m + `SELECT a FROM t WHERE b = E'\n' AND c = 'x'`, "", nil},
		{m + `SELECT a FROM t WHERE b = 'x'; DELETE FROM t`, "", nil},
	})
}

// TestPGMarkedKept: on PostgreSQL a marked statement runs kept prepared
// with its values as parameters, and reads and writes what its text did,
// whatever the values hold (quotes, backslashes, bytes, times, arrays).
func TestPGMarkedKept(t *testing.T) {
	ctx := context.Background()
	cn := pgTestConn(ctx, t, "pgmarked")
	exec := func(q string) {
		t.Helper()
		if _, err := cn.ExecContext(ctx, q, nil); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	exec("CREATE TABLE marked (org_id text, id uuid, name text, n bigint, b bytea, at timestamptz, tags text[], j jsonb, PRIMARY KEY (org_id, id))")
	m := preparedMarker
	exec(m + `INSERT INTO marked VALUES ('o', '01930000-0000-7000-8000-000000000001', 'it''s a\b', 7, '\x00ff', '2026-11-29 10:51:50.017226+00:00', '{"a,b",c}', '{"k": "v"}')`)
	exec(m + `UPDATE marked SET n = 8, name = 'Zoë ''x''' WHERE org_id = 'o' AND id = '01930000-0000-7000-8000-000000000001' AND n = 7`)
	read := m + `SELECT name, n, b, at, tags, j->>'k' FROM marked WHERE org_id = 'o' AND at >= '2026-11-29 10:51:50.017226+00:00' AND 'c' = ANY(tags) AND id IN ('01930000-0000-7000-8000-000000000001') AND name IN ('Zoë ''x''', 'a\b "q"') AND n IN (8, 9)`
	check := func(q string) {
		t.Helper()
		row := connQueryRow(ctx, t, cn, q)
		at, _ := row[3].(time.Time)
		if fmt.Sprintf("%s", row[0]) != "Zoë 'x'" || fmt.Sprint(row[1]) != "8" || fmt.Sprintf("%x", row[2]) != "00ff" ||
			!at.Equal(time.Date(2026, 11, 29, 10, 51, 50, 17226000, time.UTC)) || fmt.Sprintf("%s", row[4]) != `{"a,b",c}` || fmt.Sprintf("%s", row[5]) != "v" {
			t.Fatalf("row %q", row)
		}
	}
	check(read)
	kept := 0
	for q := range cn.stmts {
		if strings.HasPrefix(q, m) {
			kept++
		}
	}
	if kept != 3 {
		t.Fatalf("%d marked statements kept, want 3: %v", kept, cn.stmts)
	}

	// With the connection's kept statements at their limit, a new one
	// runs with its parameters written back into its text by the driver,
	// and finds the same.
	for i := len(cn.stmts); i < pgStmtCacheSize; i++ {
		cn.stmts[fmt.Sprintf("placeholder %d", i)] = nil
	}
	again := read + " AND n > 0"
	check(again)
	if len(cn.stmts) != pgStmtCacheSize {
		t.Fatalf("%d kept statements, want the limit, %d", len(cn.stmts), pgStmtCacheSize)
	}
	for q := range cn.stmts {
		if !strings.HasPrefix(q, m) {
			delete(cn.stmts, q)
		}
	}
}

// BenchmarkPGMarkedArgs times the scan of a read of a customer with its
// latest review and note, the statement of every GET of a customer on
// PostgreSQL (some fifty columns).
func BenchmarkPGMarkedArgs(b *testing.B) {
	q := preparedMarker + "SELECT " + pgCustomerLatestColumns + " FROM customers AS c" +
		" LEFT JOIN LATERAL customer_latest(c.org_id, c.id) AS x ON true" +
		" WHERE (c.org_id = 'org-a') AND (c.id = '6f1c1d2e-4d0b-4c55-9b8e-0c3f5a1e2b7d')"
	if _, args, ok := pgMarkedArgs(q); !ok || len(args) != 2 {
		b.Fatalf("scan: %v, %d arguments", ok, len(args))
	}
	b.ReportAllocs()
	for b.Loop() {
		pgMarkedArgs(q)
	}
}

// TestScanWords: scanWord knows every word of scanWords in any case, and
// no word of them is longer than scanWordMax (a longer one would never be
// recognised).
func TestScanWords(t *testing.T) {
	for w := range scanWords {
		if len(w) > scanWordMax {
			t.Fatalf("%q is longer than scanWordMax", w)
		}
		if got := scanWord(strings.ToLower(w)); got != w {
			t.Fatalf("scanWord(%q) = %q", strings.ToLower(w), got)
		}
	}
	for _, w := range []string{"org_id", "customers", "FROM", "in_"} {
		if got := scanWord(w); got != "" {
			t.Fatalf("scanWord(%q) = %q, want none", w, got)
		}
	}
}
