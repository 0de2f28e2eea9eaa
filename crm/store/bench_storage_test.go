package store

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dossiercrm/dossier/crm"
)

// TestStoragePerCustomer measures the bytes a customer takes in each table
// and index: it makes DOSSIER_STORAGE_CUSTOMERS customers through
// Customers.Create (16 callers; a name, an e-mail, a phone, an address and
// the creation event each, like the benchmark data) and prints every
// table's and index's size divided by the number of customers, from
// SQLite's dbstat and PostgreSQL's pg_relation_size (after a VACUUM FULL of
// each table, so that rolled-back rows do not count). It is skipped unless
// the variable is set; the SQLite file goes to $TMPDIR, the PostgreSQL
// schema (with DOSSIER_TEST_POSTGRES) is bench_storage_N, dropped after.
// DOSSIER_STORAGE_KEEP=1 keeps the SQLite file (for the sqlite3 shell).
// See docs/performance.md (issue 16, storage per customer).
//
//	TMPDIR=/work/bench/storage DOSSIER_STORAGE_CUSTOMERS=100000 go test ./crm/store -run StoragePerCustomer -v -timeout 3h
func TestStoragePerCustomer(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("DOSSIER_STORAGE_CUSTOMERS"))
	if n <= 0 {
		t.Skip("set DOSSIER_STORAGE_CUSTOMERS to measure")
	}
	ctx := context.Background()
	dbs := map[string]string{}
	if os.Getenv("DOSSIER_STORAGE_SKIP_SQLITE") == "" {
		path := filepath.Join(os.TempDir(), fmt.Sprintf("storage-%d-%d.db", n, time.Now().Unix()))
		dbs["sqlite"] = "sqlite:" + path
		t.Cleanup(func() {
			if os.Getenv("DOSSIER_STORAGE_KEEP") != "" {
				t.Logf("kept %s", path)
				return
			}
			for _, suffix := range []string{"", "-wal", "-shm"} {
				os.Remove(path + suffix)
			}
		})
	}
	if dsn := os.Getenv("DOSSIER_TEST_POSTGRES"); dsn != "" {
		dbs["postgres"] = scratchSchema(ctx, t, dsn, fmt.Sprintf("bench_storage_%d", n))
	}
	for _, name := range []string{"sqlite", "postgres"} {
		dsn, ok := dbs[name]
		if !ok {
			continue
		}
		t.Run(name, func(t *testing.T) {
			st, err := Open(ctx, dsn, WithMigrate())
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			c, err := crm.New(st, crm.Config{})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := c.Organisations.Create(ctx, crm.NewOrganisation{ID: "storage", Name: "Storage", DefaultLanguage: "nl", DefaultCountry: "NL"}); err != nil {
				t.Fatal(err)
			}
			octx := vouched(ctx, "storage", "u-17")
			start := time.Now()
			var next atomic.Int64
			var wg sync.WaitGroup
			for w := range 16 {
				wg.Go(func() {
					r := rand.New(rand.NewPCG(uint64(w), 7))
					for next.Add(1) <= int64(n) {
						f := benchFields(r)
						if _, err := c.Customers.Create(octx, f); err != nil {
							t.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
			if t.Failed() {
				return
			}
			t.Logf("%s: %d customers created in %s", name, n, time.Since(start).Round(time.Second))
			sizes, err := relationSizes(ctx, st)
			if err != nil {
				t.Fatal(err)
			}
			report(t, name, n, sizes)
		})
	}
}

// relationSize is the size in bytes of one table or index.
type relationSize struct {
	Table string `bun:"tbl"`
	Name  string `bun:"name"`
	Bytes int64  `bun:"bytes"`
}

// relationSizes returns the size of every table and index of the store's
// schema (on SQLite after a checkpoint, so that the file holds every page).
func relationSizes(ctx context.Context, st *DB) ([]relationSize, error) {
	var sizes []relationSize
	if st.dialect.name == postgresDialect.name {
		// Rows of transactions that rolled back (a create retried under
		// contention) stay in the tables until a vacuum, and autovacuum may
		// be off: VACUUM FULL rewrites each table with its live rows only.
		var tables []string
		if err := st.bun.NewRaw("SELECT relname FROM pg_class WHERE relnamespace = current_schema()::regnamespace AND relkind = 'r'").
			Scan(ctx, &tables); err != nil {
			return nil, err
		}
		for _, t := range tables {
			if _, err := st.bun.ExecContext(ctx, "VACUUM FULL "+t); err != nil {
				return nil, err
			}
		}
		err := st.bun.NewRaw(`SELECT coalesce(t.relname, c.relname) AS tbl, c.relname AS name,
				pg_relation_size(c.oid) + coalesce(pg_relation_size(nullif(c.reltoastrelid, 0)), 0) AS bytes
			FROM pg_class c
			LEFT JOIN pg_index i ON i.indexrelid = c.oid
			LEFT JOIN pg_class t ON t.oid = i.indrelid
			WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'i')`).Scan(ctx, &sizes)
		return sizes, err
	}
	if _, err := st.bun.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		return nil, err
	}
	err := st.bun.NewRaw(`SELECT coalesce(m.tbl_name, d.name) AS tbl, d.name AS name, sum(d.pgsize) AS bytes
		FROM dbstat AS d LEFT JOIN sqlite_schema AS m ON m.name = d.name GROUP BY d.name`).Scan(ctx, &sizes)
	return sizes, err
}

// report logs the sizes per customer, largest table first, each table's
// indexes under it, the tables of no customer (River's, the catalogue) left out.
func report(t *testing.T, name string, n int, sizes []relationSize) {
	perTable := map[string]int64{}
	var total int64
	for _, s := range sizes {
		perTable[s.Table] += s.Bytes
		total += s.Bytes
	}
	sort.Slice(sizes, func(i, j int) bool {
		if a, b := perTable[sizes[i].Table], perTable[sizes[j].Table]; a != b {
			return a > b
		}
		if sizes[i].Table != sizes[j].Table {
			return sizes[i].Table < sizes[j].Table
		}
		return sizes[i].Bytes > sizes[j].Bytes
	})
	per := func(b int64) float64 { return float64(b) / float64(n) }
	t.Logf("%s, %d customers: %.0f bytes per customer in all (%d bytes)", name, n, per(total), total)
	last := ""
	for _, s := range sizes {
		if per(perTable[s.Table]) < 2 {
			continue
		}
		if s.Table != last {
			t.Logf("  %-40s %8.0f", s.Table, per(perTable[s.Table]))
			last = s.Table
		}
		t.Logf("      %-36s %8.0f", s.Name, per(s.Bytes))
	}
}
