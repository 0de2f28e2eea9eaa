package store

import (
	"context"
	"crypto/sha256"
	"fmt"
	"hash"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/dossiercrm/dossier/crm"
	"github.com/dossiercrm/dossier/crm/tabular"
)

// exportBenchOrg is the organisation BenchmarkExport seeds and exports.
const exportBenchOrg = "export"

// BenchmarkExport times Exports.Export alone, on SQLite and (with
// DOSSIER_TEST_POSTGRES) PostgreSQL, at N customers:
//
//	DOSSIER_BENCH_EXPORT=100000 DOSSIER_TEST_POSTGRES=postgres://... \
//	  go test ./crm/store -run '^$' -bench Export -benchtime 1x -timeout 1h
//
// It seeds its own databases once, with SQL that generates the customers
// in the database (SQLite dossier-bench-export-N.db in the temp directory,
// PostgreSQL schema bench_export_N; DOSSIER_BENCH_SCHEMA names another):
// names (some with accents, commas and quotes), an e-mail address, a
// mobile number, an address, a first-contact date, custom fields on every
// third customer, a tag on every fourth, an attribute on every fifth and a
// granted newsletter consent on every sixth. Cases: csv13 (the 13 columns
// of BenchmarkFiles), jsonl13 (the same as JSON Lines) and csvAll (every
// column). Each reports rows per second, rows per second of the process's
// CPU (the PostgreSQL server's is not in it) and the peak memory, and logs
// the SHA-256 of what it wrote: two builds that write the same files log
// the same sums.
func BenchmarkExport(b *testing.B) {
	n, _ := strconv.Atoi(os.Getenv("DOSSIER_BENCH_EXPORT"))
	if n <= 0 {
		b.Skip("set DOSSIER_BENCH_EXPORT=N to benchmark exports of N customers")
	}
	ctx := context.Background()
	stores := map[string]string{"sqlite": "sqlite:" + filepath.Join(os.TempDir(), fmt.Sprintf("dossier-bench-export-%d.db", n))}
	if dsn := os.Getenv("DOSSIER_TEST_POSTGRES"); dsn != "" {
		schema := fmt.Sprintf("bench_export_%d", n)
		if s := os.Getenv("DOSSIER_BENCH_SCHEMA"); s != "" {
			schema = s
		}
		stores["postgres"] = benchSchema(ctx, b, dsn, schema)
	}
	for _, name := range []string{"sqlite", "postgres"} {
		dsn, ok := stores[name]
		if !ok {
			continue
		}
		b.Run(name, func(b *testing.B) {
			st, err := Open(ctx, dsn, WithMigrate())
			if err != nil {
				b.Fatal(err)
			}
			defer st.Close()
			c, err := crm.New(st, crm.Config{Tables: tabular.New()})
			if err != nil {
				b.Fatal(err)
			}
			if err := seedExportBench(ctx, b, st, c, n); err != nil {
				b.Fatalf("seed: %v", err)
			}
			staff := vouched(ctx, exportBenchOrg, "bench")
			cols13 := []string{"firstName", "lastName", "email", "phones", "street", "postalCode", "city", "country", "status", "language", "firstContact", "tags", "attributes"}
			for _, tc := range []struct {
				name string
				p    crm.ExportParams
			}{
				{"csv13", crm.ExportParams{Columns: cols13}},
				{"jsonl13", crm.ExportParams{Columns: cols13, Format: crm.FormatJSONLines}},
				{"csvAll", crm.ExportParams{}},
			} {
				b.Run(tc.name, func(b *testing.B) {
					stopSampling := samplePeakMemory()
					var sum []byte
					var size int64
					b.ResetTimer()
					start, cpu := time.Now(), processCPU()
					for range b.N {
						w := &countingHash{h: sha256.New()}
						rec, err := c.Exports.Export(staff, tc.p, w)
						if err != nil || rec.Rows != int64(n) {
							b.Fatalf("export %+v, %v", rec, err)
						}
						sum, size = w.h.Sum(nil), w.n
					}
					rows := float64(n) * float64(b.N)
					b.ReportMetric(rows/time.Since(start).Seconds(), "rows/s")
					b.ReportMetric(rows/(processCPU()-cpu).Seconds(), "rows/cpu-s")
					b.ReportMetric(float64(stopSampling())/(1<<20), "peak-MB")
					b.Logf("%s: %d bytes, sha256 %x", tc.name, size, sum)
				})
			}
		})
	}
}

// countingHash hashes and counts what is written to it.
type countingHash struct {
	h hash.Hash
	n int64
}

func (w *countingHash) Write(p []byte) (int, error) {
	w.n += int64(len(p))
	return w.h.Write(p)
}

// seedExportBench generates n customers of exportBenchOrg in the database
// unless they are there (see BenchmarkExport for what they hold).
func seedExportBench(ctx context.Context, b *testing.B, st *DB, c *crm.CRM, n int) error {
	have, err := st.bun.NewSelect().Model((*customerRow)(nil)).Where("org_id = ?", exportBenchOrg).Count(ctx)
	if err != nil || have >= int64(n) {
		return err
	}
	if have > 0 {
		return fmt.Errorf("organisation %q holds %d of %d customers (an interrupted seed?): delete the file or drop the schema", exportBenchOrg, have, n)
	}
	start := time.Now()
	if _, err := c.Organisations.Create(ctx, crm.NewOrganisation{ID: exportBenchOrg, Name: "Export", DefaultLanguage: "nl", DefaultCountry: "NL"}); err != nil {
		return err
	}
	staff := vouched(ctx, exportBenchOrg, "bench")
	for _, d := range []crm.NewCustomField{{Key: "diet", Label: "Dieet", Type: crm.FieldText}, {Key: "visits", Label: "Bezoeken", Type: crm.FieldNumber},
		{Key: "member", Label: "Lid", Type: crm.FieldBool}} {
		if _, err := c.CustomFields.Define(staff, d); err != nil {
			return err
		}
	}
	attr, err := c.Attributes.Define(staff, crm.NewQualifier{Name: "Golf"})
	if err != nil {
		return err
	}
	tags, err := c.Tags.List(staff)
	if err != nil || len(tags) == 0 {
		return fmt.Errorf("tags %v, %v", tags, err)
	}
	purposes, err := c.Consents.Purposes(staff)
	if err != nil || len(purposes) == 0 {
		return fmt.Errorf("purposes %v, %v", purposes, err)
	}
	pg := st.dialect.name == postgresDialect.name
	series, id, pad7, json, day := "WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n+1 FROM seq WHERE n < ?) SELECT n FROM seq",
		"printf('%08x-0000-7000-8000-%012x', n, n)", "printf('%07d', (n))", "", "'2026-0' || (1 + n % 9) || '-1' || (n % 10)"
	if pg {
		series, id, pad7, json, day = "SELECT n FROM generate_series(1, ?) AS n",
			"(lpad(to_hex(n), 8, '0') || '-0000-7000-8000-' || lpad(to_hex(n), 12, '0'))::uuid", "lpad((n)::text, 7, '0')", "::jsonb",
			"CAST('2026-0' || (1 + n % 9) || '-1' || (n % 10) AS date)"
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	steps := []struct {
		what string
		sql  string
		args []any
	}{
		{"customers", `INSERT INTO customers (id, org_id, number, first_name, last_name, phones, street, house_number, postal_code, city, country,
			status, first_contact, email, email_key, language, custom_fields, created_at, updated_at, last_activity_at, version)
			SELECT ` + id + `, ?, n, CASE WHEN n % 7 = 0 THEN 'Zoë' ELSE 'Anna' || (n % 500) END,
			CASE WHEN n % 11 = 0 THEN 'Ørsted, "jr"' WHEN n % 13 = 0 THEN 'Łukasiewicz' ELSE 'Jansen' || (n % 977) END,
			('[{"kind":"mobile","number":"+3161' || ` + pad7 + ` || '"}]')` + json + `, 'Oudegracht', '' || (n % 300), '3512 AB', 'Utrecht', 'NL',
			'customer', ` + day + `, 'c' || n || '@example.org', 'c' || n || '@example.org', 'nl',
			CASE WHEN n % 3 = 0 THEN ('{"diet":"vegan, \"strict\"","visits":' || (n % 50) || '.5,"member":true}')` + json + ` END,
			?, ?, ?, 1 FROM (` + series + `) AS s`, []any{exportBenchOrg, now, now, now, n}},
		{"tags", `INSERT INTO customer_qualifiers (org_id, customer_id, number, qualifier_id, kind, slot, added_at, added_by)
			SELECT org_id, id, number, ?, 'tag', 1, ?, 'staff:bench' FROM customers WHERE org_id = ? AND number % 4 = 0`,
			[]any{tags[0].ID, now, exportBenchOrg}},
		{"second tags", `INSERT INTO customer_qualifiers (org_id, customer_id, number, qualifier_id, kind, slot, added_at, added_by)
			SELECT org_id, id, number, ?, 'tag', 2, ?, 'staff:bench' FROM customers WHERE org_id = ? AND number % 8 = 0`,
			[]any{tags[len(tags)-1].ID, now, exportBenchOrg}},
		{"attributes", `INSERT INTO customer_qualifiers (org_id, customer_id, number, qualifier_id, kind, slot, added_at, added_by)
			SELECT org_id, id, number, ?, 'attribute', 0, ?, 'staff:bench' FROM customers WHERE org_id = ? AND number % 5 = 0`,
			[]any{attr.ID, now, exportBenchOrg}},
		{"consents", `INSERT INTO customer_consents (org_id, customer_id, purpose_id, number, state, record_id, at)
			SELECT org_id, id, ?, number, 'granted', id, ? FROM customers WHERE org_id = ? AND number % 6 = 0`,
			[]any{purposes[0].ID, now, exportBenchOrg}},
		{"numbers", "UPDATE organisations SET next_customer_number = ? WHERE id = ?", []any{n, exportBenchOrg}},
	}
	for _, step := range steps {
		t := time.Now()
		if _, err := st.bun.ExecContext(ctx, step.sql, step.args...); err != nil {
			return fmt.Errorf("%s: %w", step.what, err)
		}
		b.Logf("seeded %s in %v", step.what, time.Since(t).Round(time.Millisecond))
	}
	finish := "ANALYZE"
	if pg {
		finish = "VACUUM ANALYZE customers, customer_qualifiers, customer_consents"
	}
	if _, err := st.bun.ExecContext(ctx, finish); err != nil {
		return err
	}
	b.Logf("seeded %d customers in %v", n, time.Since(start).Round(time.Second))
	return nil
}
