package store

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/dossiercrm/dossier/crm"
	"github.com/dossiercrm/dossier/crm/i18n"
)

// Benchmarks of the core lookups at benchCustomers customers, on SQLite and
// (with DOSSIER_TEST_POSTGRES) PostgreSQL, each next to the same lookup done
// with plain database/sql on the same tables. See docs/performance.md.
//
//	go test ./crm/store -run '^$' -bench . -benchtime 3s
//
// The seeded databases are kept between runs (SQLite in the temp directory,
// PostgreSQL in schema benchSchema) so that only the first run pays for seeding.
// Change the version in their names whenever seed writes different rows.

const benchCustomers = 100_000

const benchSchema = "bench_core_v3"

const benchOrg = "bench"

var (
	benchFirstNames = []string{"Anna", "Jan", "Zoë", "Émile", "Søren", "Łukasz", "María", "Jürgen", "Chloé", "Björn",
		"Agnieszka", "Pieter", "Renée", "José", "Małgorzata", "Sjoerd", "Fatima", "Noël", "Ingrid", "Dário",
		"Ólafur", "Kateřina", "Joost", "Françoise", "Håkon", "Grzegorz", "Inês", "Lotte", "Mehmet", "Ève"}
	benchMiddleNames = []string{"", "", "", "", "van", "van der", "de", "von", "", "", "van den", "ter", "", "du", ""}
	benchLastNames   = []string{"Müller", "Jansen", "de Vries", "Dupont", "Kowalski", "Sørensen", "García", "Schäfer",
		"Łukaszewicz", "Bakker", "Lefèvre", "Nowak", "Öztürk", "Janssens", "Fernández", "Berg", "Wiśniewski",
		"Smit", "Martín", "Groß", "Dvořák", "Visser", "Lindqvist", "Peeters", "Zieliński", "Mertens", "Brandão",
		"Hoffmann", "Mulder", "Noël", "Kovács", "Andersson", "Bos", "Rousseau", "Wójcik", "Meijer", "Gonçalves"}
	benchCities = []string{"Amsterdam", "Utrecht", "Köln", "Kraków", "Lyon", "Göteborg", "Sevilla", "Gent", "Porto"}
)

// benchStores opens the seeded benchmark databases that are available.
func benchStores(b *testing.B) map[string]*DB {
	ctx := context.Background()
	stores := map[string]*DB{}
	sqlitePath := filepath.Join(os.TempDir(), fmt.Sprintf("dossier-bench-core-v3-%d.db", benchCustomers))
	db, err := Open(ctx, "sqlite:"+sqlitePath, WithMigrate())
	if err != nil {
		b.Fatal(err)
	}
	stores["sqlite"] = db
	if dsn := os.Getenv("DOSSIER_TEST_POSTGRES"); dsn != "" {
		admin, err := Open(ctx, dsn)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := admin.bun.ExecContext(ctx, "CREATE SCHEMA IF NOT EXISTS "+benchSchema); err != nil {
			b.Fatal(err)
		}
		admin.Close()
		u, _ := url.Parse(dsn)
		q := u.Query()
		q.Set("search_path", benchSchema)
		u.RawQuery = q.Encode()
		pg, err := Open(ctx, u.String(), WithMigrate())
		if err != nil {
			b.Fatal(err)
		}
		stores["postgres"] = pg
	}
	for name, st := range stores {
		if err := seed(ctx, st, benchCustomers); err != nil {
			b.Fatalf("seed %s: %v", name, err)
		}
	}
	b.Cleanup(func() {
		for _, st := range stores {
			st.Close()
		}
	})
	return stores
}

// benchFields makes a realistic customer from r.
func benchFields(r *rand.Rand) crm.CustomerFields {
	pick := func(s []string) string { return s[r.IntN(len(s))] }
	f := crm.CustomerFields{
		FirstName: pick(benchFirstNames), MiddleName: pick(benchMiddleNames), LastName: pick(benchLastNames),
		Address: crm.Address{Street: "Dorpsstraat", HouseNumber: fmt.Sprint(1 + r.IntN(300)), City: pick(benchCities), Country: "NL"},
		Phones:  []crm.Phone{{Kind: crm.PhoneMobile, Number: fmt.Sprintf("+3161%07d", r.IntN(10_000_000))}},
		Status:  crm.StatusCustomer, Language: pick([]string{"nl", "de", "fr", "pl", "en", "nl-BE"}),
		Email: fmt.Sprintf("c%d@example.org", r.Uint64()),
	}
	bd := crm.Date{Year: 1940 + r.IntN(65), Month: time.Month(1 + r.IntN(12)), Day: 1 + r.IntN(28)}
	f.BirthDate = &bd
	return f
}

// seed loads n customers into the benchmark organisation in bulk, unless
// they are there already. It writes the rows that CustomerInsert writes
// (sort key and search rows included), without the per-customer statements.
func seed(ctx context.Context, s *DB, n int) error {
	org, err := s.OrganisationGet(ctx, benchOrg)
	if err == nil {
		var have int64
		if err := s.bun.NewSelect().Model((*customerRow)(nil)).ColumnExpr("count(*)").Where("org_id = ?", benchOrg).Scan(ctx, &have); err != nil {
			return err
		}
		if have >= int64(n) {
			return nil
		}
		return fmt.Errorf("benchmark organisation %q holds %d customers, want %d (an interrupted seed?): delete the SQLite file or DROP SCHEMA %s CASCADE", org.ID, have, n, benchSchema)
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	for _, id := range []string{benchOrg, benchOrg + "-create"} {
		if err := s.OrganisationInsert(ctx, &crm.Organisation{ID: id, Name: id, DefaultLanguage: "nl", DefaultCountry: "NL", CreatedAt: now, UpdatedAt: now}); err != nil {
			return err
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	const batch = 500
	for start := 0; start < n; start += batch {
		if start%(20*batch) == 0 {
			// Fresh statistics as the tables grow: on PostgreSQL, plans made
			// while the tables were empty (foreign key checks among them) turn
			// every batch into a scan, and loading becomes quadratic.
			if _, err := s.bun.ExecContext(ctx, "ANALYZE"); err != nil {
				return err
			}
		}
		err := s.InTx(ctx, func(tx crm.Store) error {
			db := tx.(*DB).db
			var rows []customerRow
			var keys []nameKeyRow
			var search []searchRow
			var phones []phoneRow
			for i := start; i < min(start+batch, n); i++ {
				f := benchFields(r)
				c := &crm.Customer{ID: uuid.Must(uuid.NewV7()).String(), OrgID: benchOrg, Number: int64(i + 1), CustomerFields: f,
					CreatedAt: now, UpdatedAt: now, LastActivityAt: now, Version: 1, SortKey: crm.SortKey("nl", &f)}
				rows = append(rows, *customerToRow(c))
				for _, k := range crm.NameKeys(&f) {
					keys = append(keys, nameKeyRow{OrgID: benchOrg, CustomerID: c.ID, Key: k, Number: c.Number})
				}
				search = append(search, searchRow{OrgID: benchOrg, CustomerID: c.ID, Number: c.Number, Text: crm.SearchText(&f)})
				phones = append(phones, phoneRow{OrgID: benchOrg, CustomerID: c.ID, Number: c.Phones[0].Number})
			}
			if err := insertAll(ctx, db, rows); err != nil {
				return err
			}
			if err := insertAll(ctx, db, keys); err != nil {
				return err
			}
			if err := insertAll(ctx, db, search); err != nil {
				return err
			}
			return insertAll(ctx, db, phones)
		})
		if err != nil {
			return err
		}
	}
	_, err = s.bun.NewUpdate().Model((*organisationRow)(nil)).Set("next_customer_number = ?", n).Where("id = ?", benchOrg).Exec(ctx)
	if err == nil {
		// Statistics for the planner; on PostgreSQL also the visibility map,
		// without which index-only scans fetch every heap row (6x slower name
		// search right after a bulk load; autovacuum does this in production).
		finish := "ANALYZE"
		if s.dialect.name == postgresDialect.name {
			finish = "VACUUM ANALYZE"
		}
		_, err = s.bun.ExecContext(ctx, finish)
	}
	return err
}

func BenchmarkCustomers(b *testing.B) {
	stores := benchStores(b)
	for _, name := range []string{"sqlite", "postgres"} {
		st, ok := stores[name]
		if !ok {
			continue
		}
		b.Run(name, func(b *testing.B) { runCustomerBenchmarks(b, st) })
	}
}

func runCustomerBenchmarks(b *testing.B, st *DB) {
	ctx := context.Background()
	c, err := crm.New(st, crm.Config{})
	if err != nil {
		b.Fatal(err)
	}
	orgCtx := crm.WithActor(crm.WithOrg(ctx, benchOrg), crm.Staff("bench"))

	// A sample of ids and name prefixes to look up, spread over the table.
	var ids []string
	if err := st.bun.NewSelect().Model((*customerRow)(nil)).Column("id").Where("org_id = ?", benchOrg).
		Where("number % 97 = 0").Scan(ctx, &ids); err != nil {
		b.Fatal(err)
	}
	var prefixes []string
	for _, n := range benchLastNames {
		key := i18n.SearchKey(n)
		prefixes = append(prefixes, key[:min(4, len(key))])
	}
	ph := func(i int) string { // placeholder
		if st.dialect.name == "postgres" {
			return fmt.Sprintf("$%d", i)
		}
		return "?"
	}
	sqlDB := st.bun.DB
	// The plain-SQL side names its columns, as a careful hand-written query
	// does (and as bun does), rather than SELECT *.
	var cols []string
	for _, f := range st.bun.Table(reflect.TypeFor[customerRow]()).Fields {
		cols = append(cols, f.Name)
	}
	selectCustomers := "SELECT " + strings.Join(cols, ", ") + " FROM customers"

	b.Run("Create", func(b *testing.B) {
		b.ReportAllocs()
		createCtx := crm.WithOrg(orgCtx, benchOrg+"-create")
		r := rand.New(rand.NewPCG(3, 4))
		for b.Loop() {
			if _, err := c.Customers.Create(createCtx, benchFields(r)); err != nil {
				b.Fatal(err)
			}
		}
	})

	b.Run("GetByID/crm", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if _, err := c.Customers.Get(orgCtx, ids[i%len(ids)]); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	b.Run("GetByID/sql", func(b *testing.B) {
		b.ReportAllocs()
		query := selectCustomers + " WHERE org_id = " + ph(1) + " AND id = " + ph(2)
		i := 0
		for b.Loop() {
			rows, err := sqlDB.QueryContext(ctx, query, benchOrg, ids[i%len(ids)])
			if err != nil {
				b.Fatal(err)
			}
			if n := scanAll(b, rows); n != 1 {
				b.Fatalf("%d rows", n)
			}
			i++
		}
	})

	b.Run("FindByNamePrefix/crm", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if _, err := c.Customers.List(orgCtx, crm.CustomerFilter{Name: prefixes[i%len(prefixes)]}, crm.PageRequest{}); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	b.Run("FindByNamePrefix/sql", func(b *testing.B) {
		b.ReportAllocs()
		query := selectCustomers + " WHERE org_id = " + ph(1) +
			" AND number IN (SELECT number FROM customer_name_keys WHERE org_id = " + ph(2) +
			" AND key >= " + ph(3) + " AND key < " + ph(4) + ") ORDER BY number LIMIT 51"
		i := 0
		for b.Loop() {
			p := prefixes[i%len(prefixes)]
			rows, err := sqlDB.QueryContext(ctx, query, benchOrg, benchOrg, p, p+maxKey)
			if err != nil {
				b.Fatal(err)
			}
			if n := scanAll(b, rows); n == 0 {
				b.Fatalf("prefix %q found nothing", p)
			}
			i++
		}
	})
}

// scanAll reads every column of every row, as a plain database/sql program
// reading whole records would, and returns the row count.
func scanAll(b *testing.B, rows *sql.Rows) int {
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		b.Fatal(err)
	}
	values := make([]any, len(cols))
	dest := make([]any, len(cols))
	for i := range values {
		dest[i] = &values[i]
	}
	n := 0
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			b.Fatal(err)
		}
		n++
	}
	if err := rows.Err(); err != nil {
		b.Fatal(err)
	}
	return n
}
