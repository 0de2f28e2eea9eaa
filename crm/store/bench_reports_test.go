package store

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/dossiercrm/dossier/crm"
)

// Benchmarks of the reports over the customer base (issue 19) at a
// million customers, on copies of the filter benchmarks' seeded databases
// (the copies get origins, statuses, creation dates over two years,
// consents and points; the seeded originals are never changed):
//
//	DOSSIER_BENCH_MILLION=1 go test ./crm/store -run '^$' -bench Reports -benchtime 20x -timeout 2h
//
// The SQLite original is DOSSIER_BENCH_SOURCE_SQLITE (default: the filter
// benchmarks' file in the temp directory), copied to
// dossier-bench-reports-N.db in the temp directory; the PostgreSQL
// original is the schema DOSSIER_BENCH_SOURCE_SCHEMA (default
// bench_filters_v2_N), copied into bench_reports_N. Without an original,
// the copy is seeded from nothing. DOSSIER_BENCH_REPORT_CONSENTS=1 also
// seeds consents for every customer (the mailing benchmarks' seed). The
// overdue tasks report (tasks-overdue/...) counts tasks that
// seedReportTasks adds to a copy that has none, an earlier run's included.
// DOSSIER_BENCH_REPORTS_SCHEMA names the copy's schema instead. Without an
// original, the copy is seeded by SQL (seedReportsBySQL), in minutes:
//
//	TMPDIR=/path/to/bench DOSSIER_BENCH_MILLION=1 DOSSIER_BENCH_SOURCE_SQLITE=none \
//	DOSSIER_BENCH_SOURCE_SCHEMA=none DOSSIER_BENCH_REPORTS_SCHEMA=bench_mine_1000000 \
//	go test ./crm/store -run '^$' -bench 'Reports|Inquiries' -benchtime 5x -timeout 2h

func BenchmarkReports(b *testing.B) {
	n := filterBenchCount(b)
	ctx := context.Background()
	for _, name := range []string{"sqlite", "postgres"} {
		dsn, ok := reportBenchDSNs(ctx, b, n)[name]
		if !ok {
			continue
		}
		b.Run(name, func(b *testing.B) {
			st, err := Open(ctx, dsn, WithMigrate())
			if err != nil {
				b.Fatal(err)
			}
			defer st.Close()
			if err := seedReportsBySQL(ctx, b, st, n); err != nil {
				b.Fatalf("seed by SQL: %v", err)
			}
			w, err := seedMillion(ctx, b, st, n)
			if err != nil {
				b.Fatalf("seed: %v", err)
			}
			// Consents for every customer take long to seed: only when asked.
			if os.Getenv("DOSSIER_BENCH_REPORT_CONSENTS") == "1" {
				if _, err := seedMailingConsents(ctx, b, st, n); err != nil {
					b.Fatalf("seed consents: %v", err)
				}
			}
			if err := seedReportData(ctx, b, st, n); err != nil {
				b.Fatalf("seed report data: %v", err)
			}
			if err := seedReportTasks(ctx, b, st, n); err != nil {
				b.Fatalf("seed tasks: %v", err)
			}
			runReportBenchmarks(b, st, w)
		})
	}
}

func runReportBenchmarks(b *testing.B, st *DB, w filterBenchWorld) {
	c, err := crm.New(st, crm.Config{})
	if err != nil {
		b.Fatal(err)
	}
	// The organisation's administrator: the inquiries report counts what
	// a real staff user may see.
	ctx := crm.WithActor(crm.WithOrg(context.Background(), filterBenchOrg), crm.Staff(crm.AdministratorID))
	seg, err := c.Segments.Create(ctx, crm.NewSegment{Name: fmt.Sprintf("reports %d", time.Now().UnixNano()),
		Filter: crm.CustomerFilter{Tags: crm.QualifierFilter{Any: []string{w.vip}}}})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Segments.Delete(ctx, seg.ID)
	from, to := crm.DateOf(time.Now().AddDate(-1, 0, 0)), crm.DateOf(time.Now())
	cases := []struct {
		name string
		p    crm.ReportParams
	}{
		{"all", crm.ReportParams{}},
		{"languageAndTag", crm.ReportParams{Filter: crm.CustomerFilter{Language: "nl", Tags: crm.QualifierFilter{Any: []string{w.regular}}}}},
		{"segment", crm.ReportParams{Segment: seg.ID}},
		{"lastYear", crm.ReportParams{From: &from, To: &to}},
	}
	for _, kind := range crm.ReportKinds() {
		for _, tc := range cases {
			timedCPU(b, string(kind)+"/"+tc.name, func(int) error {
				r, err := c.Reports.Run(ctx, kind, tc.p)
				if err == nil && len(r.Rows) == 0 && kind != crm.ReportPoints {
					err = fmt.Errorf("%s %s: no rows", kind, tc.name)
				}
				return err
			})
		}
	}
}

// timedCPU is timed, also reporting the process's CPU time per call: on
// SQLite, which runs in the process, the cost of a report apart from
// waiting for a core on a loaded machine.
func timedCPU(b *testing.B, name string, op func(i int) error) {
	b.Run(name, func(b *testing.B) {
		var took []time.Duration
		var cpu time.Duration
		i := 0
		for b.Loop() {
			start, used := time.Now(), processCPU()
			if err := op(i); err != nil {
				b.Fatal(err)
			}
			took = append(took, time.Since(start))
			cpu += processCPU() - used
			i++
		}
		slices.Sort(took)
		pct := func(p float64) float64 {
			return float64(took[min(len(took)-1, int(float64(len(took))*p))]) / 1e6
		}
		b.ReportMetric(pct(0.50), "p50-ms")
		b.ReportMetric(pct(0.95), "p95-ms")
		b.ReportMetric(float64(cpu)/float64(len(took))/1e6, "cpu-ms/op")
	})
}

// reportBenchDSNs returns the copies the report benchmarks run on, making
// them from the seeded originals when they do not exist yet.
func reportBenchDSNs(ctx context.Context, b *testing.B, n int) map[string]string {
	out := map[string]string{}
	var originals map[string]string
	if os.Getenv("DOSSIER_BENCH_SOURCE_SQLITE") == "" || os.Getenv("DOSSIER_BENCH_SOURCE_SCHEMA") == "" {
		originals = millionDSNs(ctx, b, n)
	}
	target := filepath.Join(os.TempDir(), fmt.Sprintf("dossier-bench-reports-%d.db", n))
	if _, err := os.Stat(target); err != nil {
		source := os.Getenv("DOSSIER_BENCH_SOURCE_SQLITE")
		if source == "" {
			source = strings.TrimPrefix(originals["sqlite"], "sqlite:")
		}
		if _, err := os.Stat(source); err == nil {
			b.Logf("copying %s to %s", source, target)
			if err := copySQLite(ctx, source, target); err != nil {
				b.Fatal(err)
			}
		}
	}
	out["sqlite"] = "sqlite:" + target
	if dsn := os.Getenv("DOSSIER_TEST_POSTGRES"); dsn != "" {
		source := os.Getenv("DOSSIER_BENCH_SOURCE_SCHEMA")
		if source == "" {
			source = fmt.Sprintf("bench_filters_v2_%d", n)
		}
		schema := fmt.Sprintf("bench_reports_%d", n)
		if s := os.Getenv("DOSSIER_BENCH_REPORTS_SCHEMA"); s != "" {
			schema = s
		}
		if err := copySchema(ctx, b, dsn, source, schema); err != nil {
			b.Fatal(err)
		}
		out["postgres"] = schemaDSN(dsn, schema)
	}
	return out
}

// copySQLite copies a database file consistently (VACUUM INTO), even
// while another process has it open.
func copySQLite(ctx context.Context, source, target string) error {
	src, err := Open(ctx, "sqlite:"+source)
	if err != nil {
		return err
	}
	defer src.Close()
	_, err = src.bun.ExecContext(ctx, "VACUUM INTO ?", target)
	return err
}

// schemaDSN returns dsn with the search path set to schema.
func schemaDSN(dsn, schema string) string {
	u, _ := url.Parse(dsn)
	q := u.Query()
	q.Set("search_path", schema)
	if !q.Has("read_timeout") {
		q.Set("read_timeout", "30m")
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// copySchema makes schema to a migrated copy of the rows of schema from,
// unless to holds customers already. Tables are copied in an order their
// foreign keys accept (a table whose copy fails is tried again after the
// others), by the columns both have.
func copySchema(ctx context.Context, b *testing.B, dsn, from, to string) error {
	admin, err := Open(ctx, schemaDSN(dsn, "public"))
	if err != nil {
		return err
	}
	defer admin.Close()
	var have int
	if err := admin.bun.NewRaw("SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = 'customers'", from).
		Scan(ctx, &have); err != nil || have == 0 {
		if err == nil { // no original: the copy is seeded from nothing
			_, err = admin.bun.ExecContext(ctx, "CREATE SCHEMA IF NOT EXISTS "+to)
		}
		return err
	}
	var done bool
	if err := admin.bun.NewRaw("SELECT EXISTS (SELECT 1 FROM information_schema.tables WHERE table_schema = ? AND table_name = 'customers')", to).
		Scan(ctx, &done); err != nil {
		return err
	}
	if done {
		var rows int
		if err := admin.bun.NewRaw("SELECT count(*) FROM (SELECT 1 FROM "+to+".customers LIMIT 1) AS x").Scan(ctx, &rows); err != nil || rows > 0 {
			return err
		}
	}
	b.Logf("copying schema %s to %s", from, to)
	start := time.Now()
	if _, err := admin.bun.ExecContext(ctx, "CREATE SCHEMA IF NOT EXISTS "+to); err != nil {
		return err
	}
	target, err := Open(ctx, schemaDSN(dsn, to), WithMigrate())
	if err != nil {
		return err
	}
	target.Close()
	var tables []string
	if err := admin.bun.NewRaw("SELECT table_name FROM information_schema.tables WHERE table_schema = ? AND table_type = 'BASE TABLE' ORDER BY table_name", from).
		Scan(ctx, &tables); err != nil {
		return err
	}
	tables = slices.DeleteFunc(tables, func(t string) bool { return strings.HasPrefix(t, "bun_") || strings.HasPrefix(t, "river") })
	columns := func(schema, table string) ([]string, error) {
		var cols []string
		err := admin.bun.NewRaw("SELECT column_name FROM information_schema.columns WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position",
			schema, table).Scan(ctx, &cols)
		return cols, err
	}
	for len(tables) > 0 {
		var failed []string
		var last error
		for _, t := range tables {
			src, err := columns(from, t)
			if err != nil {
				return err
			}
			dst, err := columns(to, t)
			if err != nil {
				return err
			}
			cols := slices.DeleteFunc(src, func(c string) bool { return !slices.Contains(dst, c) })
			list := `"` + strings.Join(cols, `", "`) + `"`
			if _, err := admin.bun.ExecContext(ctx, "INSERT INTO "+to+"."+t+" ("+list+") SELECT "+list+" FROM "+from+"."+t); err != nil {
				failed, last = append(failed, t), err
			}
		}
		if len(failed) == len(tables) {
			return fmt.Errorf("copying %v: %w", failed, last)
		}
		tables = failed
	}
	if _, err := admin.bun.ExecContext(ctx, "VACUUM ANALYZE"); err != nil {
		return err
	}
	b.Logf("copied in %v", time.Since(start).Round(time.Second))
	return nil
}

// seedReportData gives the copy what reports count and the filter seed
// leaves alike: origins, statuses and creation times over two years, and
// points for three customers in ten, most of them expiring. It runs once:
// a copy with points has it.
func seedReportData(ctx context.Context, b *testing.B, st *DB, n int) error {
	if has, err := st.bun.NewSelect().Model((*pointLotRow)(nil)).Where("org_id = ?", filterBenchOrg).Exists(ctx); err != nil || has {
		return err
	}
	start := time.Now()
	created := "created_at - ((number % 730) * interval '1 day')"
	if st.dialect.name == sqliteDialect.name {
		created = "strftime('%Y-%m-%d %H:%M:%f', substr(created_at, 1, 26), '-' || (number % 730) || ' days') || '000+00:00'"
	}
	if _, err := st.bun.ExecContext(ctx, "UPDATE customers SET "+
		"origin = CASE number % 5 WHEN 0 THEN 'website' WHEN 1 THEN 'fair' WHEN 2 THEN 'friend' WHEN 3 THEN 'newspaper' ELSE '' END, "+
		"status = CASE number % 7 WHEN 0 THEN 'lead' WHEN 1 THEN 'prospect' WHEN 2 THEN 'inactive' ELSE 'customer' END, "+
		"created_at = "+created+" WHERE org_id = ?", filterBenchOrg); err != nil {
		return err
	}
	b.Logf("origins, statuses and creation times after %v", time.Since(start).Round(time.Second))
	now := time.Now().UTC().Truncate(time.Microsecond)
	const batch = 5000
	for lo := int64(1); lo <= int64(n); lo += batch {
		err := st.InTx(ctx, func(tx crm.Store) error {
			db := tx.(*DB).db
			var customers []struct {
				ID     string `bun:"id"`
				Number int64  `bun:"number"`
			}
			if err := db.NewSelect().Model((*customerRow)(nil)).Column("id", "number").Where("org_id = ?", filterBenchOrg).
				Where("number BETWEEN ? AND ?", lo, lo+batch-1).Where("number % 10 < 3").Scan(ctx, &customers); err != nil {
				return err
			}
			var txs []pointTransactionRow
			var lots []pointLotRow
			for _, c := range customers {
				id := uuid.Must(uuid.NewV7()).String()
				var expires *date
				if c.Number%4 != 0 {
					expires = toDate(ptrTo(crm.DateOf(now.AddDate(0, int(c.Number%24), 0))))
				}
				points := 10 + c.Number%490
				txs = append(txs, pointTransactionRow{ID: id, OrgID: filterBenchOrg, CustomerID: c.ID, Kind: string(crm.PointsAward), Points: points,
					ExpiresOn: expires, ActorKind: "system", At: now})
				lots = append(lots, pointLotRow{OrgID: filterBenchOrg, CreditID: id, CustomerID: c.ID, Remaining: points, ExpiresOn: expires})
			}
			if err := insertAll(ctx, db, txs); err != nil {
				return err
			}
			return insertAll(ctx, db, lots)
		})
		if err != nil {
			return err
		}
	}
	if err := analyzeSeeded(ctx, st, true); err != nil {
		return err
	}
	b.Logf("report data seeded in %v", time.Since(start).Round(time.Second))
	return nil
}
