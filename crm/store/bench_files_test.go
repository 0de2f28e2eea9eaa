package store

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/google/uuid"
	"gocloud.dev/blob/fileblob"

	"github.com/dossiercrm/dossier/crm"
	"github.com/dossiercrm/dossier/crm/store/cloudblob"
	"github.com/dossiercrm/dossier/crm/tabular"
)

// BenchmarkFiles measures, on SQLite and (with DOSSIER_TEST_POSTGRES)
// PostgreSQL in the same run: the raw insert rate of customers (the
// store's bulk insert, no checks, no history), an export of all of them
// to CSV, and the import of that file into an empty organisation (the
// whole path: reading, matching, checks, history, origins), with the
// process's peak memory. It runs when asked (DOSSIER_BENCH_ONLY=sqlite or
// postgres runs one of the two):
//
//	DOSSIER_BENCH_FILES=1000000 go test ./crm/store -run '^$' -bench Files -benchtime 1x -timeout 2h
func BenchmarkFiles(b *testing.B) {
	n, _ := strconv.Atoi(os.Getenv("DOSSIER_BENCH_FILES"))
	if n <= 0 {
		b.Skip("set DOSSIER_BENCH_FILES=N to benchmark exports and imports of N customers")
	}
	ctx := context.Background()
	dsns := map[string]string{"sqlite": "sqlite:" + filepath.Join(b.TempDir(), "files.db")}
	if dsn := os.Getenv("DOSSIER_TEST_POSTGRES"); dsn != "" {
		schema := fmt.Sprintf("bench_files_%d", time.Now().UnixNano())
		admin, err := Open(ctx, dsn)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := admin.bun.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
			b.Fatal(err)
		}
		defer func() {
			admin.bun.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
			admin.Close()
		}()
		u, _ := url.Parse(dsn)
		q := u.Query()
		q.Set("search_path", schema)
		q.Set("read_timeout", "10m")
		u.RawQuery = q.Encode()
		dsns["postgres"] = u.String()
	}
	for _, name := range []string{"sqlite", "postgres"} {
		dsn, ok := dsns[name]
		if only := os.Getenv("DOSSIER_BENCH_ONLY"); !ok || only != "" && only != name {
			continue
		}
		b.Run(name, func(b *testing.B) {
			st, err := Open(ctx, dsn, WithMigrate())
			if err != nil {
				b.Fatal(err)
			}
			defer st.Close()
			bucket, err := fileblob.OpenBucket(b.TempDir(), nil)
			if err != nil {
				b.Fatal(err)
			}
			c, err := crm.New(st, crm.Config{Tables: tabular.New(), Blobs: cloudblob.New(bucket)})
			if err != nil {
				b.Fatal(err)
			}
			for _, org := range []string{"src", "dst"} {
				if _, err := c.Organisations.Create(ctx, crm.NewOrganisation{ID: org, Name: org, DefaultLanguage: "nl", DefaultCountry: "NL"}); err != nil {
					b.Fatal(err)
				}
			}
			stopSampling := samplePeakMemory()

			// Raw insert: the store's bulk insert of ready customers.
			start, cpu := time.Now(), processCPU()
			now := time.Now().UTC().Truncate(time.Microsecond)
			for first := 1; first <= n; first += crm.ImportBatchSize {
				cs := make([]*crm.Customer, 0, crm.ImportBatchSize)
				for i := first; i < first+crm.ImportBatchSize && i <= n; i++ {
					f := crm.CustomerFields{FirstName: "Anna" + strconv.Itoa(i%500), LastName: "Jansen" + strconv.Itoa(i%977),
						Email: fmt.Sprintf("c%d@example.org", i), Phones: []crm.Phone{{Kind: crm.PhoneMobile, Number: fmt.Sprintf("+3161%07d", i)}},
						Address: crm.Address{City: "Utrecht", PostalCode: "3512 AB", Country: "NL"}, Status: crm.StatusCustomer, Language: "nl"}
					today := crm.DateOf(now)
					f.FirstContact = &today
					cs = append(cs, &crm.Customer{ID: uuid.Must(uuid.NewV7()).String(), OrgID: "src", Number: int64(i), CustomerFields: f, CreatedAt: now, UpdatedAt: now,
						LastActivityAt: now, Version: 1, SortKey: crm.SortKey("nl", &f)})
				}
				if err := st.InTx(ctx, func(tx crm.Store) error { return tx.CustomerInsertMany(ctx, cs) }); err != nil {
					b.Fatal(err)
				}
			}
			if _, err := st.bun.NewUpdate().Model((*organisationRow)(nil)).Set("next_customer_number = ?", n).Where("id = 'src'").Exec(ctx); err != nil {
				b.Fatal(err)
			}
			raw := float64(n) / time.Since(start).Seconds()
			rawCPU := float64(n) / (processCPU() - cpu).Seconds()
			seedFilesExtras(ctx, b, st, c) // custom fields, tags, attributes (untimed)
			// A running server's background component (crm/background,
			// AnalyzeTables) analyses the tables within a minute of a bulk
			// insert; this benchmark runs none, and without this the export
			// and the import would plan against the statistics of empty
			// tables (untimed).
			if err := st.Analyze(ctx); err != nil {
				b.Fatal(err)
			}

			// Export to a CSV file.
			path := filepath.Join(b.TempDir(), "export.csv")
			f, err := os.Create(path)
			if err != nil {
				b.Fatal(err)
			}
			src := vouched(ctx, "src", "bench")
			cols := []string{"firstName", "lastName", "email", "phones", "street", "postalCode", "city", "country", "status", "language", "firstContact", "tags", "attributes"}
			cols = append(cols, filesRoundTripColumns...)
			start, cpu = time.Now(), processCPU()
			rec, err := c.Exports.Export(src, crm.ExportParams{Columns: cols}, f)
			if err != nil || rec.Rows != int64(n) {
				b.Fatalf("export %+v, %v", rec, err)
			}
			export := float64(n) / time.Since(start).Seconds()
			exportCPU := float64(n) / (processCPU() - cpu).Seconds()
			f.Close()

			// Import it into the empty organisation.
			f, err = os.Open(path)
			if err != nil {
				b.Fatal(err)
			}
			dst := vouched(ctx, "dst", "bench")
			start, cpu = time.Now(), processCPU()
			im, err := c.Imports.Start(dst, f, crm.NewImport{Mode: crm.ImportAdd})
			f.Close()
			if err != nil {
				b.Fatal(err)
			}
			im, err = c.Imports.Run(dst, im.ID, 0, nil)
			if err != nil || im.Created != int64(n) {
				b.Fatalf("import %+v, %v", im, err)
			}
			imp := float64(n) / time.Since(start).Seconds()
			impCPU := float64(n) / (processCPU() - cpu).Seconds()
			verifyFilesRoundTrip(ctx, b, st, n) // counts, custom fields, tags and attributes equal
			// Rows per second of this process's CPU: what the code costs
			// here whatever the machine's load (on PostgreSQL the server's
			// work is not in it).
			b.ReportMetric(rawCPU, "raw-inserts/cpu-s")
			b.ReportMetric(exportCPU, "export-rows/cpu-s")
			b.ReportMetric(impCPU, "import-rows/cpu-s")
			b.ReportMetric(raw, "raw-inserts/s")
			b.ReportMetric(export, "export-rows/s")
			b.ReportMetric(imp, "import-rows/s")
			b.ReportMetric(imp/raw, "import/raw")
			b.ReportMetric(float64(stopSampling())/(1<<20), "peak-MB")
		})
	}
}
