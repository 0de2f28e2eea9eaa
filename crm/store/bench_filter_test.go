package store

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/dossiercrm/dossier/crm"
	"github.com/dossiercrm/dossier/crm/i18n"
)

// Benchmarks of customer filters at a million customers (issue 4), on SQLite
// and (with DOSSIER_TEST_POSTGRES) PostgreSQL. Seeding a million customers
// takes minutes, so they run only when asked:
//
//	DOSSIER_BENCH_MILLION=1 go test ./crm/store -run '^$' -bench Filters -benchtime 200x -timeout 2h
//
// DOSSIER_BENCH_CUSTOMERS changes the count (e.g. 100000 for a quick try).
// The seeded databases are kept (SQLite in the temp directory, PostgreSQL in
// schema bench_filters_v2_N), so only the first run pays for seeding. Each
// benchmark reports the median and 95th percentile latency of one call.

const filterBenchOrg = "million"

// filterBenchCount is the number of customers to seed.
func filterBenchCount(b *testing.B) int {
	if os.Getenv("DOSSIER_BENCH_MILLION") != "1" {
		b.Skip("set DOSSIER_BENCH_MILLION=1 to seed and benchmark a million customers")
	}
	if s := os.Getenv("DOSSIER_BENCH_CUSTOMERS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1000 {
			b.Fatalf("DOSSIER_BENCH_CUSTOMERS=%q: want a number of at least 1000", s)
		}
		return n
	}
	return 1_000_000
}

// The seeded world: which ids the benchmarks filter by.
type filterBenchWorld struct {
	vip, regular string   // tag ids
	attributes   []string // attribute ids
	club         string   // membership label id
}

func BenchmarkFilters(b *testing.B) {
	n := filterBenchCount(b)
	ctx := context.Background()
	stores := millionDSNs(ctx, b, n)
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
			world, err := seedMillion(ctx, b, st, n)
			if err != nil {
				b.Fatalf("seed: %v", err)
			}
			runFilterBenchmarks(b, st, world)
		})
	}
}

func runFilterBenchmarks(b *testing.B, st *DB, w filterBenchWorld) {
	c, err := crm.New(st, crm.Config{})
	if err != nil {
		b.Fatal(err)
	}
	ctx := vouched(context.Background(), filterBenchOrg, "bench")
	// Name fragments from frequent to rare, as staff type them.
	fragments := []string{"ller", "jan", "sen", "ski", "berg", "vries", "lukas", "dvor", "oztu", "gonc", "lindq", "brand", "kowal", "anna m", "ingr",
		prefixOf(rareName(1), 10), prefixOf(rareName(77), 10), prefixOf(rareName(5000), 7), prefixOf(rareName(1234), 8), "zzq"}
	lastYear := crm.MustDate("2025-01-01")
	endOfYear := crm.MustDate("2025-12-31")
	languages := []string{"nl", "de", "fr", "pl", "sv", "en"}

	timed(b, "NameContains/firstPage", func(i int) error {
		_, err := c.Customers.List(ctx, crm.CustomerFilter{NameContains: fragments[i%len(fragments)]}, crm.PageRequest{})
		return err
	})
	timed(b, "NameContains/firstPageByName", func(i int) error {
		_, err := c.Customers.List(ctx, crm.CustomerFilter{NameContains: fragments[i%len(fragments)], Sort: crm.SortName}, crm.PageRequest{})
		return err
	})
	threeCriteria := func(i int) crm.CustomerFilter {
		return crm.CustomerFilter{Language: languages[i%len(languages)], Tags: crm.QualifierFilter{Any: []string{w.vip}},
			FirstContactFrom: &lastYear, FirstContactTo: &endOfYear}
	}
	timed(b, "LanguageTagFirstContact/firstPage", func(i int) error {
		_, err := c.Customers.List(ctx, threeCriteria(i), crm.PageRequest{})
		return err
	})
	timed(b, "LanguageTagFirstContact/count", func(i int) error {
		_, err := c.Customers.Count(ctx, threeCriteria(i))
		return err
	})
	segments := make([]string, len(languages))
	for i := range languages {
		seg, err := c.Segments.Create(ctx, crm.NewSegment{Name: fmt.Sprintf("bench %d %d", time.Now().UnixNano(), i), Filter: threeCriteria(i)})
		if err != nil {
			b.Fatal(err)
		}
		segments[i] = seg.ID
		defer c.Segments.Delete(ctx, seg.ID)
	}
	timed(b, "Segment/count", func(i int) error {
		_, err := c.Segments.Count(ctx, segments[i%len(segments)])
		return err
	})
	timed(b, "Segment/countRegulars", func(i int) error {
		_, err := c.Customers.Count(ctx, crm.CustomerFilter{Tags: crm.QualifierFilter{Any: []string{w.regular}}})
		return err
	})
	timed(b, "AttributesAllAndMembership/firstPage", func(i int) error {
		_, err := c.Customers.List(ctx, crm.CustomerFilter{Attributes: crm.QualifierFilter{All: w.attributes[i%5 : i%5+2]},
			Membership: w.club}, crm.PageRequest{})
		return err
	})
	timed(b, "SortByName/page", func(i int) error {
		_, err := c.Customers.List(ctx, crm.CustomerFilter{Sort: crm.SortName, Language: languages[i%len(languages)]}, crm.PageRequest{})
		return err
	})
}

// timed runs op as a sub-benchmark and reports the median and the 95th
// percentile of its latency in milliseconds.
func timed(b *testing.B, name string, op func(i int) error) {
	b.Run(name, func(b *testing.B) {
		var took []time.Duration
		i := 0
		for b.Loop() {
			start := time.Now()
			if err := op(i); err != nil {
				b.Fatal(err)
			}
			took = append(took, time.Since(start))
			i++
		}
		slices.Sort(took)
		pct := func(p float64) float64 {
			return float64(took[min(len(took)-1, int(float64(len(took))*p))]) / 1e6
		}
		b.ReportMetric(pct(0.50), "p50-ms")
		b.ReportMetric(pct(0.95), "p95-ms")
	})
}

// rareName makes the i-th of many distinct surnames ("Brzóskiewicz",
// "Haldörsen"), for searches that match a handful of customers.
func rareName(i int) string {
	syllables := []string{"brz", "ós", "kie", "wicz", "hal", "dör", "sen", "gna", "ul", "tre", "mó", "vik", "zaj", "ęc", "fla", "rup"}
	name := ""
	for i++; i > 0; i /= len(syllables) {
		name += syllables[i%len(syllables)]
	}
	first, size := utf8.DecodeRuneInString(name)
	return string(unicode.ToUpper(first)) + name[size:]
}

// prefixOf returns the first n letters of name's search key.
func prefixOf(name string, n int) string {
	key := []rune(i18n.SearchKey(name))
	return string(key[:min(n, len(key))])
}

// seedMillion loads n customers into organisation filterBenchOrg unless it
// holds them already: names with accents from several languages, phones,
// e-mails, first-contact dates over ten years, tags, attributes and
// memberships. It writes rows in multi-row statements, a thousand
// customers a transaction; the services would take an hour for a million.
func seedMillion(ctx context.Context, b *testing.B, s *DB, n int) (filterBenchWorld, error) {
	c, err := crm.New(s, crm.Config{})
	if err != nil {
		return filterBenchWorld{}, err
	}
	admin := crm.WithActor(crm.WithOrg(ctx, filterBenchOrg), crm.System())
	if _, err := c.Organisations.Get(ctx, filterBenchOrg); err != nil {
		if _, err := c.Organisations.Create(ctx, crm.NewOrganisation{ID: filterBenchOrg, Name: "Million", DefaultLanguage: "nl", DefaultCountry: "NL"}); err != nil {
			return filterBenchWorld{}, err
		}
		for i := range 20 {
			if _, err := c.Attributes.Define(admin, crm.NewQualifier{Name: fmt.Sprintf("Interest %02d", i)}); err != nil {
				return filterBenchWorld{}, err
			}
		}
		if _, err := c.Labels.Define(admin, crm.NewLabel{Name: "Club", Membership: true}); err != nil {
			return filterBenchWorld{}, err
		}
	}
	var w filterBenchWorld
	tags, _ := c.Tags.List(admin)
	for _, t := range tags {
		switch t.Name {
		case "VIP":
			w.vip = t.ID
		case "Regular":
			w.regular = t.ID
		}
	}
	attrs, _ := c.Attributes.List(admin)
	for _, a := range attrs {
		w.attributes = append(w.attributes, a.ID)
	}
	labels, _ := c.Labels.List(admin)
	w.club = labels[0].ID
	tagIDs := make([]string, len(tags))
	for i, t := range tags {
		tagIDs[i] = t.ID
	}

	have, err := s.bun.NewSelect().Model((*customerRow)(nil)).Where("org_id = ?", filterBenchOrg).Count(ctx)
	if err != nil {
		return w, err
	}
	if have >= int64(n) {
		return w, nil
	}
	if have > 0 {
		return w, fmt.Errorf("organisation %q holds %d of %d customers (an interrupted seed?): delete the SQLite file or drop the schema", filterBenchOrg, have, n)
	}
	start := time.Now()
	r := rand.New(rand.NewPCG(7, 11))
	pick := func(s []string) string { return s[r.IntN(len(s))] }
	now := time.Now().UTC().Truncate(time.Microsecond)
	languages := []string{"nl", "nl", "nl-BE", "de", "de", "fr", "pl", "sv", "en", "en"}
	const batch = 1000
	for first := 1; first <= n; first += batch {
		if (first-1)%(50*batch) == 0 {
			b.Logf("seeding %d/%d after %v", first-1, n, time.Since(start).Round(time.Second))
			if err := analyzeSeeded(ctx, s, false); err != nil {
				return w, err
			}
		}
		err := s.InTx(ctx, func(tx crm.Store) error {
			db := tx.(*DB).db
			var (
				customers  []customerRow
				names      []nameKeyRow
				search     []searchRow
				phones     []phoneRow
				qualifiers []customerQualifierRow
				members    []membershipRow
			)
			for number := first; number < first+batch && number <= n; number++ {
				last := pick(benchLastNames)
				if number%100 == 0 {
					last = rareName(number / 100) // the long tail: names few customers share
				}
				f := crm.CustomerFields{
					FirstName: pick(benchFirstNames), MiddleName: pick(benchMiddleNames), LastName: last,
					Address:  crm.Address{Street: "Dorpsstraat", HouseNumber: strconv.Itoa(1 + r.IntN(300)), City: pick(benchCities), Country: "NL"},
					Phones:   []crm.Phone{{Kind: crm.PhoneMobile, Number: fmt.Sprintf("+3161%07d", r.IntN(10_000_000))}},
					Status:   crm.StatusCustomer,
					Language: pick(languages),
					Email:    fmt.Sprintf("c%d@example.org", number),
				}
				contact := crm.DateOf(time.Date(2016, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, r.IntN(3650)))
				f.FirstContact = &contact
				cust := &crm.Customer{ID: uuid.Must(uuid.NewV7()).String(), OrgID: filterBenchOrg, Number: int64(number), CustomerFields: f,
					CreatedAt: now, UpdatedAt: now, LastActivityAt: now, Version: 1, SortKey: crm.SortKey("nl", &f)}
				customers = append(customers, *customerToRow(cust))
				for _, k := range crm.NameKeys(&f) {
					names = append(names, nameKeyRow{OrgID: filterBenchOrg, Key: k, Number: cust.Number})
				}
				search = append(search, searchRow{OrgID: filterBenchOrg, Number: cust.Number, Text: crm.SearchText(&f)})
				phones = append(phones, phoneRow{OrgID: filterBenchOrg, Number: f.Phones[0].Number, CustomerNumber: cust.Number})
				link := func(kind crm.QualifierKind, id string, slot int) {
					qualifiers = append(qualifiers, customerQualifierRow{OrgID: filterBenchOrg, CustomerID: cust.ID, Number: cust.Number, QualifierID: id,
						Kind: string(kind), Slot: slot, AddedAt: now, AddedBy: "system"})
				}
				// About 5% VIP, 20% regular, 10% one other tag; 0 to 3 interests.
				slot := 0
				for _, t := range []struct {
					id     string
					chance int
				}{{w.vip, 5}, {w.regular, 20}, {pick(tagIDs), 10}} {
					if r.IntN(100) < t.chance && !slices.ContainsFunc(qualifiers, func(q customerQualifierRow) bool { return q.CustomerID == cust.ID && q.QualifierID == t.id }) {
						slot++
						link(crm.KindTag, t.id, slot)
					}
				}
				for _, k := range r.Perm(len(w.attributes))[:r.IntN(4)] {
					link(crm.KindAttribute, w.attributes[k], 0)
				}
				if r.IntN(100) < 3 {
					starts := crm.DateOf(now.AddDate(0, -r.IntN(24), 0))
					members = append(members, membershipRow{ID: uuid.Must(uuid.NewV7()).String(), OrgID: filterBenchOrg, LabelID: w.club,
						HolderID: cust.ID, StartsOn: date{starts}, EndsOn: date{crm.DateOf(starts.Time().AddDate(1, 0, 0))}, CreatedAt: now, UpdatedAt: now})
				}
			}
			for _, insert := range []func() error{
				func() error { return insertAll(ctx, db, customers) },
				func() error { return insertAll(ctx, db, names) },
				func() error { return insertAll(ctx, db, search) },
				func() error { return insertAll(ctx, db, phones) },
				func() error { return insertAll(ctx, db, qualifiers) },
				func() error { return insertAll(ctx, db, members) },
			} {
				if err := insert(); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return w, err
		}
	}
	if _, err := s.bun.NewUpdate().Model((*organisationRow)(nil)).Set("next_customer_number = ?", n).Where("id = ?", filterBenchOrg).Exec(ctx); err != nil {
		return w, err
	}
	if err := analyzeSeeded(ctx, s, true); err != nil {
		return w, err
	}
	b.Logf("seeded %d customers in %v", n, time.Since(start).Round(time.Second))
	return w, nil
}
