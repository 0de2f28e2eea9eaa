package store

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/dossiercrm/dossier/crm"
)

// BenchmarkDuplicateCheck measures the check of one new customer against
// an organisation of a million (crm.MergeService.CheckDuplicates, what the
// background job does after a create): its place keys written, the indexed
// look-ups of every reason, the similar names of its places compared, its
// candidate pairs stored. Creating the customer is not timed. See
// docs/performance.md.
//
//	DOSSIER_TEST_POSTGRES=postgres://... DOSSIER_BENCH_DUPES_DIR=/work/bench/dupes21 \
//	  go test ./crm/store -run '^$' -bench BenchmarkDuplicateCheck -benchtime 200x -timeout 2h
//
// The seeded databases are kept (SQLite in DOSSIER_BENCH_DUPES_DIR or the
// temp directory, PostgreSQL in schema bench_dupes21_<n>): drop them by hand.
func BenchmarkDuplicateCheck(b *testing.B) {
	ctx := context.Background()
	n := dupesBenchCustomers
	if v, err := strconv.Atoi(os.Getenv("DOSSIER_BENCH_DUPES_N")); err == nil && v > 0 {
		n = v // a smaller base, to try the benchmark out
	}
	dir := os.Getenv("DOSSIER_BENCH_DUPES_DIR")
	if dir == "" {
		dir = os.TempDir()
	}
	name := fmt.Sprintf("bench_dupes21_%d_v%d", n, dupesSeedVersion)
	dsns := map[string]string{"sqlite": "sqlite:" + filepath.Join(dir, name+".db")}
	if dsn := os.Getenv("DOSSIER_TEST_POSTGRES"); dsn != "" {
		dsns["postgres"] = benchSchema(ctx, b, dsn, name)
	}
	for _, db := range []string{"sqlite", "postgres"} {
		dsn, ok := dsns[db]
		if !ok {
			continue
		}
		b.Run(db, func(b *testing.B) {
			st, err := Open(ctx, dsn, WithMigrate())
			if err != nil {
				b.Fatal(err)
			}
			defer st.Close()
			start := time.Now()
			if err := seedDupes(ctx, st, n); err != nil {
				b.Fatal(err)
			}
			if d := time.Since(start); d > time.Second {
				b.Logf("seeded %d customers in %s", n, d.Round(time.Second))
			}
			c, err := crm.New(st, crm.Config{})
			if err != nil {
				b.Fatal(err)
			}
			octx := vouched(ctx, dupesOrg, "bench")
			r := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 9))
			found := 0
			b.ResetTimer()
			for range b.N {
				b.StopTimer()
				f := dupesFields(r)
				cust, err := c.Customers.Create(octx, f)
				if err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				if err := c.Merges.CheckDuplicates(octx, cust.ID); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				pairs, err := st.DuplicatePairsOf(ctx, dupesOrg, cust.ID)
				if err != nil {
					b.Fatal(err)
				}
				found += len(pairs)
				b.StartTimer()
			}
			b.ReportMetric(float64(found)/float64(b.N), "pairs/op")
		})
	}
}

const (
	dupesBenchCustomers = 1_000_000
	dupesSeedVersion    = 1
	dupesOrg            = "bench-dupes"
)

// dupesFields makes a customer of a varied base: 4,000 last names of
// syllables, 400 cities with 40 postal codes each, a phone and an e-mail
// address drawn from pools that repeat now and then, a birth date.
func dupesFields(r *rand.Rand) crm.CustomerFields {
	syl := []string{"ber", "van", "de", "ma", "ko", "li", "sen", "ter", "hof", "man", "dijk", "stra", "wal", "en", "ra",
		"mo", "ju", "gen", "sch", "mid", "del", "broek", "veld", "ho", "ne", "ka", "ri", "vos", "bo", "lan"}
	last := func(i int) string {
		s := syl[i%len(syl)] + syl[(i/len(syl))%len(syl)]
		if i%3 == 0 {
			s += syl[(i/7)%len(syl)]
		}
		return string(s[0]-32) + s[1:]
	}
	firsts := []string{"Anna", "Jan", "Zoë", "Émile", "Søren", "Maria", "Jürgen", "Chloé", "Björn", "Pieter", "Renée",
		"José", "Sjoerd", "Fatima", "Noël", "Ingrid", "Joost", "Lotte", "Mehmet", "Ève", "Kees", "Els", "Tom", "Sara"}
	city := r.IntN(400)
	f := crm.CustomerFields{
		FirstName: firsts[r.IntN(len(firsts))], LastName: last(int(r.ExpFloat64()*800) % 4000),
		Address: crm.Address{Street: "Dorpsstraat", HouseNumber: fmt.Sprint(1 + r.IntN(300)),
			PostalCode: fmt.Sprintf("%04d %c%c", 1000+city*20+r.IntN(20), 'A'+rune(r.IntN(2)), 'A'+rune(r.IntN(26))),
			City:       fmt.Sprintf("Stad %d", city), Country: "NL"},
		Phones: []crm.Phone{{Kind: crm.PhoneMobile, Number: fmt.Sprintf("+3161%07d", r.IntN(10_000_000))}},
		Status: crm.StatusCustomer, Language: "nl",
		Email: fmt.Sprintf("c%d@example.org", r.IntN(5_000_000)),
	}
	bd := crm.Date{Year: 1940 + r.IntN(65), Month: time.Month(1 + r.IntN(12)), Day: 1 + r.IntN(28)}
	f.BirthDate = &bd
	return f
}

// seedDupes loads n customers into dupesOrg in bulk, unless there: the
// record with its e-mail key, the phone index and the duplicate check's
// place keys (not the name search rows, which the check does not read).
func seedDupes(ctx context.Context, s *DB, n int) error {
	if _, err := s.OrganisationGet(ctx, dupesOrg); err == nil {
		have, err := s.bun.NewSelect().Model((*customerRow)(nil)).Where("org_id = ?", dupesOrg).Count(ctx)
		if err != nil {
			return err
		}
		if have >= int64(n) {
			return nil
		}
		return fmt.Errorf("benchmark organisation %q holds %d customers, want %d (an interrupted seed?): drop it", dupesOrg, have, n)
	} else if !errors.Is(err, crm.ErrNotFound) {
		return err
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	if err := s.OrganisationInsert(ctx, &crm.Organisation{ID: dupesOrg, Name: dupesOrg, DefaultLanguage: "nl", DefaultCountry: "NL",
		CreatedAt: now, UpdatedAt: now}); err != nil {
		return err
	}
	analyze := "ANALYZE"
	if s.dialect.name == postgresDialect.name {
		analyze = "ANALYZE customers, customer_phones, duplicate_keys"
	}
	r := rand.New(rand.NewPCG(21, 21))
	const batch = 1000
	for start := 0; start < n; start += batch {
		if start%(50*batch) == 0 {
			if _, err := s.bun.ExecContext(ctx, analyze); err != nil {
				return err
			}
		}
		err := s.InTx(ctx, func(tx crm.Store) error {
			db := tx.(*DB).db
			var rows []customerRow
			var phones []phoneRow
			var keys []duplicateKeyRow
			for i := start; i < min(start+batch, n); i++ {
				f := dupesFields(r)
				c := &crm.Customer{ID: uuid.Must(uuid.NewV7()).String(), OrgID: dupesOrg, Number: int64(i + 1), CustomerFields: f,
					CreatedAt: now, UpdatedAt: now, LastActivityAt: now, Version: 1, SortKey: crm.SortKey("nl", &f)}
				rows = append(rows, *customerToRow(c))
				phones = append(phones, phoneRow{OrgID: dupesOrg, Number: f.Phones[0].Number, CustomerNumber: c.Number})
				name, ks := crm.DuplicatePlaceKeys(&f)
				for _, k := range ks {
					keys = append(keys, duplicateKeyRow{OrgID: dupesOrg, Key: k, CustomerID: c.ID, Name: name})
				}
			}
			if err := insertAll(ctx, db, rows); err != nil {
				return err
			}
			if err := insertAll(ctx, db, phones); err != nil {
				return err
			}
			return insertAll(ctx, db, keys)
		})
		if err != nil {
			return err
		}
	}
	if _, err := s.bun.NewUpdate().Model((*organisationRow)(nil)).Set("next_customer_number = ?", n).Where("id = ?", dupesOrg).Exec(ctx); err != nil {
		return err
	}
	if s.dialect.name == postgresDialect.name {
		analyze = "VACUUM " + analyze
	}
	_, err := s.bun.ExecContext(ctx, analyze)
	return err
}
