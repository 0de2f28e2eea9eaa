package store

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// BenchmarkSearchKeysRebuild measures the Go step of migration
// 20261127000002 (rebuildSearchKeys), which recomputes every customer's
// name keys, search text and sort key, on 20,000 seeded customers per
// database whose keys all differ (an upper bound: the migration rewrites
// only the keys that changed), and reports what the keys take per
// customer:
//
//	DOSSIER_TEST_POSTGRES=... go test ./crm/store -run '^$' -bench SearchKeysRebuild -benchtime 3x
func BenchmarkSearchKeysRebuild(b *testing.B) {
	const n = 20_000
	ctx := context.Background()
	stores := map[string]*DB{}
	sqlite, err := Open(ctx, "sqlite:"+filepath.Join(b.TempDir(), "rebuild.db"), WithMigrate())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { sqlite.Close() })
	stores["sqlite"] = sqlite
	if dsn := os.Getenv("DOSSIER_TEST_POSTGRES"); dsn != "" {
		admin, err := Open(ctx, dsn)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { admin.Close() })
		schema := fmt.Sprintf("bench_rebuild_%d", time.Now().UnixNano())
		if _, err := admin.bun.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { admin.bun.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE") })
		u, _ := url.Parse(dsn)
		q := u.Query()
		q.Set("search_path", schema)
		u.RawQuery = q.Encode()
		pg, err := Open(ctx, u.String(), WithMigrate())
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { pg.Close() })
		stores["postgres"] = pg
	}
	for _, name := range []string{"sqlite", "postgres"} {
		st, ok := stores[name]
		if !ok {
			continue
		}
		b.Run(name, func(b *testing.B) {
			// Seeded here, so that -bench SearchKeysRebuild/postgres seeds
			// only PostgreSQL; b.Loop runs this function once.
			if err := seed(ctx, st, n); err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				// The worst case: every key differs from the stored one.
				b.StopTimer()
				for _, stmt := range []string{"UPDATE customers SET sort_key = ? WHERE org_id = ?",
					"UPDATE customer_search SET text = '' WHERE org_id = ?", "DELETE FROM customer_name_keys WHERE org_id = ?"} {
					args := []any{benchOrg}
					if strings.Contains(stmt, "sort_key") {
						args = []any{[]byte{}, benchOrg}
					}
					if _, err := st.bun.NewRaw(stmt, args...).Exec(ctx); err != nil {
						b.Fatal(err)
					}
				}
				b.StartTimer()
				if err := rebuildSearchKeys(ctx, st.bun, st.dialect.name, rebuildBatch); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*n), "µs/customer")
			var keys, textBytes, sortKeyBytes int64
			if err := st.bun.NewRaw("SELECT (SELECT count(*) FROM customer_name_keys WHERE org_id = ?), "+
				"(SELECT sum(length(text)) FROM customer_search WHERE org_id = ?), "+
				"(SELECT sum(length(sort_key)) FROM customers WHERE org_id = ?)", benchOrg, benchOrg, benchOrg).
				Scan(ctx, &keys, &textBytes, &sortKeyBytes); err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(keys)/n, "keys/customer")
			b.ReportMetric(float64(textBytes)/n, "text-bytes/customer")
			b.ReportMetric(float64(sortKeyBytes)/n, "sortkey-bytes/customer")
		})
	}
}
