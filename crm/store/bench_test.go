package store

import (
	"context"
	"database/sql"
	"fmt"
	"hash/fnv"
	"io/fs"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
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
//	go test ./crm/store -run '^$' -bench Customers -benchtime 3s -count 6 | tee bench.txt
//	go run golang.org/x/perf/cmd/benchstat@latest bench.txt
//
// The seeded databases are kept between runs (SQLite in the temp directory,
// PostgreSQL in a schema of the same name, see benchName) so that only the
// first run pays for seeding. Stale ones are left behind: delete
// dossier-bench_core_*.db in the temp directory and DROP SCHEMA bench_core_*
// CASCADE to reclaim the space.

const benchCustomers = 100_000

// benchSeedVersion changes whenever seed writes different rows.
const benchSeedVersion = 4

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

// benchName names the seeded databases after the seed and the migrations
// (which are edited in place until a release), so that a run never measures
// a stale schema.
func benchName(b *testing.B) string {
	h := fnv.New64a()
	fmt.Fprintf(h, "%d %d", benchSeedVersion, benchCustomers)
	err := fs.WalkDir(migrationFiles, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := migrationFiles.ReadFile(path)
		fmt.Fprintf(h, "%s %d\n", path, len(data))
		h.Write(data)
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	return fmt.Sprintf("bench_core_%08x", h.Sum64()>>32)
}

// benchStores opens the seeded benchmark databases that are available.
func benchStores(b *testing.B) map[string]*DB {
	ctx := context.Background()
	stores := map[string]*DB{}
	name := benchName(b)
	sqlitePath := filepath.Join(os.TempDir(), "dossier-"+name+".db")
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
		if _, err := admin.bun.ExecContext(ctx, "CREATE SCHEMA IF NOT EXISTS "+name); err != nil {
			b.Fatal(err)
		}
		admin.Close()
		u, _ := url.Parse(dsn)
		q := u.Query()
		q.Set("search_path", name)
		u.RawQuery = q.Encode()
		pg, err := Open(ctx, u.String(), WithMigrate())
		if err != nil {
			b.Fatal(err)
		}
		stores["postgres"] = pg
	}
	for db, st := range stores {
		if err := seed(ctx, st, benchCustomers); err != nil {
			b.Fatalf("seed %s (%s): %v", db, name, err)
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
		return fmt.Errorf("benchmark organisation %q holds %d customers, want %d (an interrupted seed?): delete the SQLite file or DROP the schema", org.ID, have, n)
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	for _, id := range []string{benchOrg, benchOrg + "-create"} {
		if err := s.OrganisationInsert(ctx, &crm.Organisation{ID: id, Name: id, DefaultLanguage: "nl", DefaultCountry: "NL", CreatedAt: now, UpdatedAt: now}); err != nil {
			return err
		}
	}
	// On PostgreSQL a bare ANALYZE or VACUUM covers every schema of the
	// database: name the seeded tables.
	analyze := "ANALYZE"
	if s.dialect.name == postgresDialect.name {
		analyze = "ANALYZE organisations, customers, customer_name_keys, customer_search, customer_phones"
	}
	r := rand.New(rand.NewPCG(1, 2))
	const batch = 500
	for start := 0; start < n; start += batch {
		if start%(20*batch) == 0 {
			// Fresh statistics as the tables grow: on PostgreSQL, plans made
			// while the tables were empty (foreign key checks among them) turn
			// every batch into a scan, and loading becomes quadratic.
			if _, err := s.bun.ExecContext(ctx, analyze); err != nil {
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
					keys = append(keys, nameKeyRow{OrgID: benchOrg, Key: k, Number: c.Number})
				}
				search = append(search, searchRow{OrgID: benchOrg, Number: c.Number, Text: crm.SearchText(&f)})
				phones = append(phones, phoneRow{OrgID: benchOrg, Number: c.Phones[0].Number, CustomerNumber: c.Number})
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
		if s.dialect.name == postgresDialect.name {
			analyze = "VACUUM " + analyze
		}
		_, err = s.bun.ExecContext(ctx, analyze)
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
		createCtx := vouched(ctx, benchOrg+"-create", "bench")
		r := rand.New(rand.NewPCG(3, 4))
		for b.Loop() {
			if _, err := c.Customers.Create(createCtx, benchFields(r)); err != nil {
				b.Fatal(err)
			}
		}
	})

	// The lookups, each with the i-th id or prefix of the sample.
	getCRM := func(i int) error {
		_, err := c.Customers.Get(orgCtx, ids[i%len(ids)])
		return err
	}
	getQuery := selectCustomers + " WHERE org_id = " + ph(1) + " AND id = " + ph(2)
	getSQL := func(i int) error {
		rows, err := sqlDB.QueryContext(ctx, getQuery, benchOrg, ids[i%len(ids)])
		if err != nil {
			return err
		}
		if n, err := scanAll(rows); err != nil || n != 1 {
			return fmt.Errorf("%d rows, %v", n, err)
		}
		return nil
	}
	findCRM := func(i int) error {
		_, err := c.Customers.List(orgCtx, crm.CustomerFilter{Name: prefixes[i%len(prefixes)]}, crm.PageRequest{})
		return err
	}
	findQuery := selectCustomers + " WHERE org_id = " + ph(1) +
		" AND number IN (SELECT number FROM customer_name_keys WHERE org_id = " + ph(2) +
		" AND key >= " + ph(3) + " AND key < " + ph(4) + ") ORDER BY number LIMIT 51"
	findSQL := func(i int) error {
		p := prefixes[i%len(prefixes)]
		rows, err := sqlDB.QueryContext(ctx, findQuery, benchOrg, benchOrg, p, p+maxKey)
		if err != nil {
			return err
		}
		if n, err := scanAll(rows); err != nil || n == 0 {
			return fmt.Errorf("prefix %q: %d rows, %v", p, n, err)
		}
		return nil
	}

	b.Run("GetByID", func(b *testing.B) { benchPair(b, getCRM, getSQL) })
	b.Run("FindByNamePrefix", func(b *testing.B) { benchPair(b, findCRM, findSQL) })
}

// benchPair measures a library call and the same lookup in plain SQL in
// one benchmark, taking turns of pairTurn, and reports for each side the
// time and allocations per call (crm-ns/op, sql-ns/op, crm-allocs/op, ...)
// and crm/sql, the ratio of the times. The machine is shared: load that
// comes and goes between two separate benchmarks lands on one side of their
// ratio, while in turns it lands on both. A turn is long enough for the
// garbage collection a side causes to stay mostly within it. The standard
// ns/op, a mean over both sides, means nothing here.
func benchPair(b *testing.B, lib, plain func(i int) error) {
	sides := [2]func(int) error{lib, plain}
	var (
		spent          [2]time.Duration
		calls          [2]int
		allocs, bytes  [2]uint64
		mem            runtime.MemStats
		side           int
		turnStart      time.Time
		mallocs, total uint64
	)
	startTurn := func() {
		runtime.ReadMemStats(&mem)
		mallocs, total, turnStart = mem.Mallocs, mem.TotalAlloc, time.Now()
	}
	endTurn := func() {
		runtime.ReadMemStats(&mem)
		allocs[side] += mem.Mallocs - mallocs
		bytes[side] += mem.TotalAlloc - total
	}
	startTurn()
	for b.Loop() {
		t0 := time.Now()
		if err := sides[side](calls[side]); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		spent[side] += t1.Sub(t0)
		calls[side]++
		if t1.Sub(turnStart) >= pairTurn {
			endTurn()
			side = 1 - side
			startTurn()
		}
	}
	endTurn()
	if calls[0] == 0 || calls[1] == 0 {
		return // too short a run for both sides (-benchtime 1x)
	}
	for i, name := range []string{"crm", "sql"} {
		n := float64(calls[i])
		b.ReportMetric(float64(spent[i].Nanoseconds())/n, name+"-ns/op")
		b.ReportMetric(float64(allocs[i])/n, name+"-allocs/op")
		b.ReportMetric(float64(bytes[i])/n, name+"-B/op")
	}
	b.ReportMetric(float64(spent[0])/float64(calls[0])/(float64(spent[1])/float64(calls[1])), "crm/sql")
}

const pairTurn = 20 * time.Millisecond

// scanAll reads every column of every row, as a plain database/sql program
// reading whole records would, and returns the row count.
func scanAll(rows *sql.Rows) (int, error) {
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return 0, err
	}
	values := make([]any, len(cols))
	dest := make([]any, len(cols))
	for i := range values {
		dest[i] = &values[i]
	}
	n := 0
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return n, err
		}
		n++
	}
	return n, rows.Err()
}

// analyzeSeeded refreshes the planner's statistics of the store's tables
// after a seed (with vacuum, on PostgreSQL, also their visibility maps).
// On PostgreSQL a bare ANALYZE or VACUUM covers every schema of the
// database, and fails when another schema's table is dropped meanwhile
// (tests drop theirs all the time): it names the tables of the store's
// own schema instead.
func analyzeSeeded(ctx context.Context, s *DB, vacuum bool) error {
	if s.dialect.name != postgresDialect.name {
		_, err := s.bun.ExecContext(ctx, "ANALYZE")
		return err
	}
	var tables []string
	if err := s.bun.NewRaw("SELECT quote_ident(tablename) FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename").Scan(ctx, &tables); err != nil {
		return err
	}
	if len(tables) == 0 {
		return nil
	}
	stmt := "ANALYZE "
	if vacuum {
		stmt = "VACUUM ANALYZE "
	}
	_, err := s.bun.ExecContext(ctx, stmt+strings.Join(tables, ", "))
	return err
}

// benchSchema makes the PostgreSQL schema a benchmark keeps its seeded
// data in, if it is not there, and returns dsn pointed at it (schemaDSN:
// with a long read timeout, since seeds end with VACUUM ANALYZE of
// million-row tables).
func benchSchema(ctx context.Context, b *testing.B, dsn, schema string) string {
	b.Helper()
	admin, err := Open(ctx, dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer admin.Close()
	if _, err := admin.bun.ExecContext(ctx, "CREATE SCHEMA IF NOT EXISTS "+schema); err != nil {
		b.Fatal(err)
	}
	return schemaDSN(dsn, schema)
}

// samplePeakMemory samples the process's memory (what it holds from the
// system and has not given back) every 100 ms until the returned stop is
// called; stop returns the largest sample, in bytes. Exports and imports
// report it to show their memory stays flat whatever the row count.
func samplePeakMemory() (stop func() uint64) {
	var peak atomic.Uint64
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		var m runtime.MemStats
		for {
			runtime.ReadMemStats(&m)
			if held := m.Sys - m.HeapReleased; held > peak.Load() {
				peak.Store(held)
			}
			select {
			case <-quit:
				return
			case <-time.After(100 * time.Millisecond):
			}
		}
	}()
	return func() uint64 {
		close(quit)
		<-done
		return peak.Load()
	}
}

// scratchSchema makes a PostgreSQL schema of its own for one run of a test
// or benchmark, named prefix and the time, dropped with its tables when the
// run ends, and returns dsn pointed at it.
func scratchSchema(ctx context.Context, tb testing.TB, dsn, prefix string) string {
	tb.Helper()
	schema := fmt.Sprintf("%s_%d", prefix, time.Now().UnixNano())
	admin, err := Open(ctx, dsn)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		_, _ = admin.bun.ExecContext(context.Background(), "DROP SCHEMA IF EXISTS "+schema+" CASCADE")
		_ = admin.Close()
	})
	if _, err := admin.bun.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		tb.Fatal(err)
	}
	return schemaDSN(dsn, schema)
}

// benchPlaceholders writes the placeholders of the benchmarks'
// hand-written statements in the dialect's form.
type benchPlaceholders struct {
	pg bool
	n  int // placeholders of the current statement so far
}

// next returns the statement's next placeholder: $1, $2, ... on
// PostgreSQL, ? on SQLite.
func (p *benchPlaceholders) next() string {
	p.n++
	if p.pg {
		return "$" + strconv.Itoa(p.n)
	}
	return "?"
}

// tuple returns a parenthesised list of k placeholders.
func (p *benchPlaceholders) tuple(k int) string {
	list := make([]string, k)
	for i := range list {
		list[i] = p.next()
	}
	return "(" + strings.Join(list, ", ") + ")"
}

// restart numbers the next statement's placeholders from 1 again.
func (p *benchPlaceholders) restart() { p.n = 0 }
