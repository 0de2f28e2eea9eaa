package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/dossiercrm/dossier/crm"
)

// Benchmark of a mailing selection (ConsentService.MailingSelection) over
// the million customers of BenchmarkFilters, on SQLite and (with
// DOSSIER_TEST_POSTGRES) PostgreSQL. It runs only when asked:
//
//	DOSSIER_BENCH_MILLION=1 go test ./crm/store -run '^$' -bench MailingSelection -benchtime 3x -timeout 2h
//
// Five selections: every newsletter recipient; the same walk stopped at
// customer number n/10 (the first 100,000), whose peak heap against the
// whole walk's shows whether memory stays constant; the recipients of a
// saved segment (language "sv", a tenth of the customers); and a postal
// mailing (legitimate interest, opt-out: everyone with an address who did
// not object), whole and stopped at n/10. With DOSSIER_BENCH_EXPLAIN=1 it also logs the plan of a
// page query (run with -v to see it).
//
// It uses the databases BenchmarkFilters seeds (seeding them first when
// they are missing) and adds, once, the consent log of every customer
// (seedMailingConsents). Each iteration is one complete selection; it
// reports the time, the recipients per second and the peak heap during the
// walk, and fails when the recipients are not exactly those a direct SQL
// query of the same conditions finds.

// mailingSampleEvery is how many recipients pass between heap samples.
const mailingSampleEvery = 1000

// mailingPlan is what the consent seed gives one customer. It is a pure
// function of the customer's number, so the expected selection can be
// computed without the database and a resumed seed continues the same way.
type mailingPlan struct {
	newsletter int  // planNever, planImported, planWebForm, planWithdrawn or planPending
	mailings   int  // planNever, planWithdrawn, or planRegranted (withdrawn, later granted)
	commercial bool // commercial e-mail granted
	noEmail    bool // no e-mail address at all
	loginOnly  bool // only a login address (no correspondence address)
	anonymised bool
}

const (
	planNever = iota
	planImported
	planWebForm
	planWithdrawn
	planPending
	planRegranted
)

// mix is splitmix64's finaliser: a well-spread hash of a number.
func mix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// permille returns an independent value in [0, 1000) for each salt.
func permille(number int64, salt uint64) int {
	return int(mix(uint64(number)*16+salt) % 1000)
}

// planMailing: about 60% newsletter granted (half imported, half by double
// opt-in from a web form), 10% withdrawn after a grant, 2% with only a
// pending sign-up; 5% opted out of all mailings and 2% who did and came
// back; 25% with commercial e-mail granted; 3% without any e-mail address
// and 1% with only a login address; 1% anonymised (never one of the rare
// surnames, every 100th customer, that BenchmarkFilters searches for).
func planMailing(number int64) mailingPlan {
	var p mailingPlan
	switch u := permille(number, 1); {
	case u < 300:
		p.newsletter = planImported
	case u < 600:
		p.newsletter = planWebForm
	case u < 700:
		p.newsletter = planWithdrawn
	case u < 720:
		p.newsletter = planPending
	}
	switch u := permille(number, 2); {
	case u < 50:
		p.mailings = planWithdrawn
	case u < 70:
		p.mailings = planRegranted
	}
	p.commercial = permille(number, 3) < 250
	switch u := permille(number, 4); {
	case u < 30:
		p.noEmail = true
	case u < 40:
		p.loginOnly = true
	}
	p.anonymised = permille(number, 5) < 10 && number%100 != 0
	return p
}

// recipient says whether the plan makes the customer a newsletter recipient.
func (p mailingPlan) recipient() bool {
	return (p.newsletter == planImported || p.newsletter == planWebForm) && p.mailings != planWithdrawn &&
		!p.noEmail && !p.anonymised
}

// millionDSNs returns the data source names of BenchmarkFilters' databases.
func millionDSNs(ctx context.Context, b *testing.B, n int) map[string]string {
	stores := map[string]string{"sqlite": "sqlite:" + filepath.Join(os.TempDir(), fmt.Sprintf("dossier-bench-filters-v2-%d.db", n))}
	if dsn := os.Getenv("DOSSIER_TEST_POSTGRES"); dsn != "" {
		schema := fmt.Sprintf("bench_filters_v2_%d", n)
		stores["postgres"] = benchSchema(ctx, b, dsn, schema)
	}
	return stores
}

func BenchmarkMailingSelection(b *testing.B) {
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
			if _, err := seedMillion(ctx, b, st, n); err != nil {
				b.Fatalf("seed: %v", err)
			}
			purposes, err := seedMailingConsents(ctx, b, st, n)
			if err != nil {
				b.Fatalf("seed consents: %v", err)
			}
			if err := checkConsentSeed(ctx, st, purposes, n); err != nil {
				b.Fatal(err)
			}
			if os.Getenv("DOSSIER_BENCH_EXPLAIN") == "1" {
				explainMailingPage(ctx, b, st, purposes, "", int64(n)/2)
				explainMailingPage(ctx, b, st, purposes, "sv", int64(n)/2)
			}
			runMailingBenchmarks(b, st, purposes, int64(n)/10)
		})
	}
}

// mailingCase is one selection the benchmark measures, with the extra SQL
// condition (on customers c) of its expected set.
type mailingCase struct {
	name   string
	params crm.MailingSelectionParams
	stopAt int64  // stop the walk at the first recipient beyond this number; 0 walks all
	where  string // extra condition of the expected set
}

func runMailingBenchmarks(b *testing.B, st *DB, purposes map[string]string, prefix int64) {
	c, err := crm.New(st, crm.Config{})
	if err != nil {
		b.Fatal(err)
	}
	ctx := vouched(context.Background(), filterBenchOrg, "bench")
	seg, err := c.Segments.Create(ctx, crm.NewSegment{Name: fmt.Sprintf("bench mailing %d", time.Now().UnixNano()),
		Filter: crm.CustomerFilter{Language: "sv"}})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Segments.Delete(ctx, seg.ID)
	cases := []mailingCase{
		{name: "newsletter", params: crm.MailingSelectionParams{Purpose: crm.PurposeNewsletter}},
		{name: fmt.Sprintf("newsletter-first%dk", prefix/1000), params: crm.MailingSelectionParams{Purpose: crm.PurposeNewsletter},
			stopAt: prefix, where: fmt.Sprintf("c.number <= %d", prefix)},
		{name: "newsletter-segment-sv", params: crm.MailingSelectionParams{Purpose: crm.PurposeNewsletter, SegmentID: seg.ID},
			where: "(c.language = 'sv' OR c.language LIKE 'sv-%')"},
		// Post is legitimate interest (opt-out): everyone with an address
		// who did not object, so nearly every customer.
		{name: "post-optout", params: crm.MailingSelectionParams{Purpose: crm.PurposePost}},
		{name: fmt.Sprintf("post-optout-first%dk", prefix/1000), params: crm.MailingSelectionParams{Purpose: crm.PurposePost},
			stopAt: prefix, where: fmt.Sprintf("c.number <= %d", prefix)},
	}
	for _, mc := range cases {
		b.Run(mc.name, func(b *testing.B) {
			want, err := expectedRecipients(context.Background(), st, purposes, mc.params.Purpose, mc.where)
			if err != nil {
				b.Fatal(err)
			}
			var (
				took                  []time.Duration
				peakAlloc, peakInuse  uint64
				baseAlloc, allocBytes uint64
			)
			for b.Loop() {
				b.StopTimer()
				runtime.GC()
				b.StartTimer()
				w, err := walkMailing(ctx, c, mc)
				if err != nil {
					b.Fatal(err)
				}
				if w.count != want.count || w.sum != want.sum {
					b.Fatalf("%d recipients (numbers summing to %d), want %d (summing to %d) as a direct SQL count finds",
						w.count, w.sum, want.count, want.sum)
				}
				took = append(took, w.took)
				peakAlloc, peakInuse = max(peakAlloc, w.peakAlloc), max(peakInuse, w.peakInuse)
				baseAlloc, allocBytes = max(baseAlloc, w.baseAlloc), max(allocBytes, w.allocated)
			}
			slices.Sort(took)
			var total time.Duration
			for _, t := range took {
				total += t
			}
			mean := total.Seconds() / float64(len(took))
			b.Logf("%s: %d recipients; selection took %v to %v; heap before %.1f MiB, peak %.1f MiB (in use %.1f MiB)",
				mc.name, want.count, took[0].Round(time.Millisecond), took[len(took)-1].Round(time.Millisecond),
				mib(baseAlloc), mib(peakAlloc), mib(peakInuse))
			b.ReportMetric(mean, "s/selection")
			b.ReportMetric(float64(want.count), "recipients")
			b.ReportMetric(float64(want.count)/mean, "recipients/s")
			b.ReportMetric(mib(baseAlloc), "base-heap-MiB")
			b.ReportMetric(mib(peakAlloc), "peak-heap-MiB")
			b.ReportMetric(mib(peakInuse), "peak-inuse-MiB")
			if want.count > 0 {
				b.ReportMetric(float64(allocBytes)/float64(want.count), "alloc-B/recipient")
			}
		})
	}
}

func mib(n uint64) float64 { return float64(n) / (1 << 20) }

// walked is what one selection found and used.
type walked struct {
	count, sum           int64
	took                 time.Duration
	baseAlloc            uint64 // heap after the GC before the walk
	peakAlloc, peakInuse uint64 // highest HeapAlloc and HeapInuse seen during the walk
	allocated            uint64 // bytes allocated during the walk
}

var errEnoughRecipients = errors.New("enough recipients")

// walkMailing runs one selection, checking that recipients come in
// increasing number order, each with an address, and sampling the heap.
func walkMailing(ctx context.Context, c *crm.CRM, mc mailingCase) (walked, error) {
	var (
		w    walked
		ms   runtime.MemStats
		last int64
	)
	runtime.ReadMemStats(&ms)
	w.baseAlloc = ms.HeapAlloc
	startTotal := ms.TotalAlloc
	sample := func() {
		runtime.ReadMemStats(&ms)
		w.peakAlloc, w.peakInuse = max(w.peakAlloc, ms.HeapAlloc), max(w.peakInuse, ms.HeapInuse)
	}
	start := time.Now()
	err := c.Consents.MailingSelection(ctx, mc.params, func(r crm.MailingRecipient) error {
		if mc.stopAt > 0 && r.Number > mc.stopAt {
			return errEnoughRecipients
		}
		if r.Number <= last {
			return fmt.Errorf("recipient %d after %d: not in number order", r.Number, last)
		}
		if r.Email == "" && (r.Address == nil || r.Address.Street == "") {
			return fmt.Errorf("recipient %d has no address", r.Number)
		}
		last = r.Number
		w.count++
		w.sum += r.Number
		if w.count%mailingSampleEvery == 0 {
			sample()
		}
		return nil
	})
	w.took = time.Since(start)
	if errors.Is(err, errEnoughRecipients) {
		err = nil
	}
	sample()
	w.allocated = ms.TotalAlloc - startTotal
	return w, err
}

// expectation is the count of expected recipients and the sum of their numbers.
type expectation struct{ count, sum int64 }

// expectedRecipients counts the recipients with a query written
// independently of the store's filter: for the newsletter granted, no
// withdrawn "mailings", not anonymised, with an e-mail address; for post
// (opt-out) not withdrawn, no withdrawn "mailings", not anonymised, with a
// street and a city; plus the extra condition.
func expectedRecipients(ctx context.Context, st *DB, purposes map[string]string, purpose, where string) (expectation, error) {
	if where == "" {
		where = "1 = 1"
	}
	var e expectation
	if purpose == crm.PurposePost {
		err := st.bun.NewRaw(`SELECT count(*), coalesce(sum(c.number), 0) FROM customers AS c
			WHERE c.org_id = ? AND c.anonymised_at IS NULL AND c.street <> '' AND c.city <> ''
			AND NOT EXISTS (SELECT 1 FROM customer_consents AS w WHERE w.org_id = c.org_id AND w.customer_id = c.id
				AND w.purpose_id IN (?, ?) AND w.state = 'withdrawn')
			AND `+where, filterBenchOrg, purposes[crm.PurposePost], purposes[crm.PurposeMailings]).
			Scan(ctx, &e.count, &e.sum)
		return e, err
	}
	err := st.bun.NewRaw(`SELECT count(*), coalesce(sum(c.number), 0) FROM customers AS c
		WHERE c.org_id = ? AND c.anonymised_at IS NULL AND (c.email IS NOT NULL OR c.login_email IS NOT NULL)
		AND EXISTS (SELECT 1 FROM customer_consents AS g WHERE g.org_id = c.org_id AND g.customer_id = c.id
			AND g.purpose_id = ? AND g.state = 'granted')
		AND NOT EXISTS (SELECT 1 FROM customer_consents AS m WHERE m.org_id = c.org_id AND m.customer_id = c.id
			AND m.purpose_id = ? AND m.state = 'withdrawn')
		AND `+where, filterBenchOrg, purposes[crm.PurposeNewsletter], purposes[crm.PurposeMailings]).
		Scan(ctx, &e.count, &e.sum)
	return e, err
}

// mailingSeedBatch is how many customers one transaction of the consent seed covers.
const mailingSeedBatch = 2000

// seedMailingConsents gives the customers of the million organisation the
// consent log planMailing describes, unless they have it: consent records
// and the current state derived from them (as ConsentRecordInsert writes
// both), the "no mailings" flag for those who withdrew the mailings
// purpose (as the service sets it), e-mail addresses removed or moved to
// the login, and anonymisation by CustomerAnonymise. A batch of customers
// is one transaction; an interrupted seed resumes after its last batch. It
// returns the purposes' ids by key. History events are not written.
func seedMailingConsents(ctx context.Context, b *testing.B, st *DB, n int) (map[string]string, error) {
	c, err := crm.New(st, crm.Config{})
	if err != nil {
		return nil, err
	}
	admin := crm.WithActor(crm.WithOrg(ctx, filterBenchOrg), crm.System())
	ps, err := c.Consents.Purposes(admin) // creates the built-in purposes on first use
	if err != nil {
		return nil, err
	}
	purposes := make(map[string]string, len(ps))
	for _, p := range ps {
		purposes[p.Key] = p.ID
	}
	var done int64
	if err := st.bun.NewSelect().Model((*customerConsentRow)(nil)).ColumnExpr("coalesce(max(number), 0)").
		Where("org_id = ?", filterBenchOrg).Scan(ctx, &done); err != nil {
		return nil, err
	}
	// Every batch holds states, so the batch of the highest number with one
	// is the last one written.
	first := int64(1)
	if done > 0 {
		first = ((done-1)/mailingSeedBatch+1)*mailingSeedBatch + 1
	}
	if first > int64(n) {
		return purposes, nil
	}
	start := time.Now()
	b.Logf("seeding consents from customer %d of %d", first, n)
	base := time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC)
	now := time.Now().UTC().Truncate(time.Microsecond)
	for lo := first; lo <= int64(n); lo += mailingSeedBatch {
		hi := min(lo+mailingSeedBatch-1, int64(n))
		if (lo-1)%(100*mailingSeedBatch) == 0 {
			b.Logf("consents: %d/%d after %v", lo-1, n, time.Since(start).Round(time.Second))
		}
		err := st.InTx(ctx, func(tx crm.Store) error {
			db := tx.(*DB).db
			var customers []struct {
				ID     string `bun:"id"`
				Number int64  `bun:"number"`
			}
			if err := db.NewSelect().Model((*customerRow)(nil)).Column("id", "number").
				Where("org_id = ?", filterBenchOrg).Where("number BETWEEN ? AND ?", lo, hi).
				OrderExpr("number").Scan(ctx, &customers); err != nil {
				return err
			}
			var (
				records                    []consentRecordRow
				states                     []customerConsentRow
				noMailings, noEmail, login []int64
				anonymise                  []string
			)
			for _, cu := range customers {
				p := planMailing(cu.Number)
				// Each customer's records follow one another from a moment
				// in the last four years.
				at := base.Add(time.Duration(mix(uint64(cu.Number)) % uint64(4*365*24*time.Hour))).Truncate(time.Microsecond)
				record := func(purpose string, state crm.ConsentState, source crm.ConsentSource, actor crm.ActorKind, confirms string) *consentRecordRow {
					at = at.Add(time.Duration(mix(uint64(cu.Number)+uint64(len(records)))%uint64(90*24*time.Hour)) + time.Second).Truncate(time.Microsecond)
					r := consentRecordRow{ID: uuid.Must(uuid.NewV7()).String(), OrgID: filterBenchOrg, CustomerID: cu.ID,
						PurposeID: purposes[purpose], State: string(state), Source: string(source), ActorKind: string(actor),
						At: at, Confirms: confirms}
					if actor == crm.ActorStaff {
						r.ActorID = "u-1"
					}
					if source == crm.SourceWebForm {
						r.IP = fmt.Sprintf("198.51.100.%d", 1+cu.Number%250)
						r.UserAgent = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"
					}
					records = append(records, r)
					return &records[len(records)-1]
				}
				// state makes the latest record the purpose's current state.
				state := func(r *consentRecordRow) {
					states = append(states, customerConsentRow{OrgID: filterBenchOrg, CustomerID: cu.ID, PurposeID: r.PurposeID,
						Number: cu.Number, State: r.State, RecordID: r.ID, At: r.At})
				}
				switch p.newsletter {
				case planImported:
					state(record(crm.PurposeNewsletter, crm.ConsentGranted, crm.SourceImport, crm.ActorImport, ""))
				case planWebForm:
					pending := record(crm.PurposeNewsletter, crm.ConsentPending, crm.SourceWebForm, crm.ActorCustomer, "").ID
					state(record(crm.PurposeNewsletter, crm.ConsentGranted, crm.SourceWebForm, crm.ActorCustomer, pending))
				case planWithdrawn:
					record(crm.PurposeNewsletter, crm.ConsentGranted, crm.SourceImport, crm.ActorImport, "")
					state(record(crm.PurposeNewsletter, crm.ConsentWithdrawn, crm.SourceStaff, crm.ActorStaff, ""))
				case planPending:
					record(crm.PurposeNewsletter, crm.ConsentPending, crm.SourceWebForm, crm.ActorCustomer, "")
				}
				if p.commercial {
					state(record(crm.PurposeCommercialEmail, crm.ConsentGranted, crm.SourceBooking, crm.ActorIntegration, ""))
				}
				switch p.mailings {
				case planWithdrawn:
					state(record(crm.PurposeMailings, crm.ConsentWithdrawn, crm.SourceStaff, crm.ActorStaff, ""))
					noMailings = append(noMailings, cu.Number)
				case planRegranted:
					record(crm.PurposeMailings, crm.ConsentWithdrawn, crm.SourceStaff, crm.ActorStaff, "")
					state(record(crm.PurposeMailings, crm.ConsentGranted, crm.SourcePortal, crm.ActorCustomer, ""))
				}
				switch {
				case p.noEmail:
					noEmail = append(noEmail, cu.Number)
				case p.loginOnly:
					login = append(login, cu.Number)
				}
				if p.anonymised {
					anonymise = append(anonymise, cu.ID)
				}
			}
			if err := insertAll(ctx, db, records); err != nil {
				return err
			}
			if err := insertAll(ctx, db, states); err != nil {
				return err
			}
			update := func(numbers []int64, set ...string) error {
				if len(numbers) == 0 {
					return nil
				}
				q := db.NewUpdate().Model((*customerRow)(nil)).Set("updated_at = ?", now).Set("version = version + 1").
					Where("org_id = ?", filterBenchOrg).Where("number IN (?)", bun.List(numbers))
				for _, s := range set {
					q = q.Set(s)
				}
				_, err := q.Exec(ctx)
				return err
			}
			if err := update(noMailings, "no_mailings = TRUE", "last_activity_at = updated_at"); err != nil {
				return err
			}
			if err := update(noEmail, "email = NULL", "email_key = NULL"); err != nil {
				return err
			}
			if err := update(login, "login_email = email", "login_email_key = email_key", "email = NULL", "email_key = NULL"); err != nil {
				return err
			}
			for _, id := range anonymise {
				if err := tx.(*DB).CustomerAnonymise(ctx, filterBenchOrg, id, now); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	finish := []string{"ANALYZE customers", "ANALYZE customer_consents", "ANALYZE consent_records", "ANALYZE customer_search", "ANALYZE customer_name_keys"}
	if st.dialect.name == postgresDialect.name {
		finish = []string{"VACUUM ANALYZE customers, customer_consents, consent_records, customer_search, customer_name_keys, customer_phones"}
	}
	for _, stmt := range finish {
		if _, err := st.bun.ExecContext(ctx, stmt); err != nil {
			return nil, err
		}
	}
	b.Logf("seeded consents of %d customers in %v", int64(n)-first+1, time.Since(start).Round(time.Second))
	return purposes, nil
}

// checkConsentSeed checks that the consent log and its current state agree
// (each state is its purpose's latest granted or withdrawn record, and every
// purpose with such a record has a state), that the "no mailings" flags are
// those of the mailings purpose, and that the expected selection is what
// planMailing says.
func checkConsentSeed(ctx context.Context, st *DB, purposes map[string]string, n int) error {
	count := func(query string, args ...any) (int64, error) {
		var k int64
		err := st.bun.NewRaw(query, args...).Scan(ctx, &k)
		return k, err
	}
	states, err := count("SELECT count(*) FROM customer_consents WHERE org_id = ?", filterBenchOrg)
	if err != nil {
		return err
	}
	latest, err := count(`SELECT count(*) FROM customer_consents AS cc
		JOIN consent_records AS r ON r.id = cc.record_id
		WHERE cc.org_id = ? AND r.org_id = cc.org_id AND r.customer_id = cc.customer_id AND r.purpose_id = cc.purpose_id
		AND r.state = cc.state AND r.at = cc.at
		AND NOT EXISTS (SELECT 1 FROM consent_records AS l WHERE l.org_id = cc.org_id AND l.customer_id = cc.customer_id
			AND l.purpose_id = cc.purpose_id AND l.state <> 'pending' AND (l.at > r.at OR (l.at = r.at AND l.id > r.id)))`,
		filterBenchOrg)
	if err != nil {
		return err
	}
	decided, err := count(`SELECT count(*) FROM (SELECT DISTINCT customer_id, purpose_id FROM consent_records
		WHERE org_id = ? AND state <> 'pending') AS d`, filterBenchOrg)
	if err != nil {
		return err
	}
	if latest != states || decided != states {
		return fmt.Errorf("consent log and state disagree: %d states, %d of them the latest record, %d customer purposes decided by the log",
			states, latest, decided)
	}
	flagged, err := count("SELECT count(*) FROM customers WHERE org_id = ? AND no_mailings", filterBenchOrg)
	if err != nil {
		return err
	}
	withdrawn, err := count("SELECT count(*) FROM customer_consents WHERE org_id = ? AND purpose_id = ? AND state = 'withdrawn'",
		filterBenchOrg, purposes[crm.PurposeMailings])
	if err != nil {
		return err
	}
	if flagged != withdrawn {
		return fmt.Errorf("%d customers flagged no mailings, %d withdrew the mailings purpose", flagged, withdrawn)
	}
	var planned expectation
	for number := int64(1); number <= int64(n); number++ {
		if planMailing(number).recipient() {
			planned.count++
			planned.sum += number
		}
	}
	got, err := expectedRecipients(ctx, st, purposes, crm.PurposeNewsletter, "")
	if err != nil {
		return err
	}
	if got != planned {
		return fmt.Errorf("the database holds %d newsletter recipients (sum %d), the seed planned %d (sum %d)",
			got.count, got.sum, planned.count, planned.sum)
	}
	return nil
}

// explainMailingPage logs the plan of the page query a newsletter
// selection runs (the numbers of a page of 501 after number after; language
// is a segment's condition when not empty), as CustomerList runs it.
func explainMailingPage(ctx context.Context, b *testing.B, st *DB, purposes map[string]string, language string, after int64) {
	p := crm.CustomerListParams{OrgID: filterBenchOrg, Language: language, Sort: crm.SortNumber,
		Consents: []crm.ConsentParam{{PurposeID: purposes[crm.PurposeNewsletter], State: crm.ConsentGranted},
			{PurposeID: purposes[crm.PurposeMailings], State: crm.ConsentNotWithdrawn}},
		Reachable: crm.ChannelEmail, ExcludeAnonymised: true,
		AfterNumber: after, Limit: crm.MaxPageLimit + 1}
	q, _, _, err := st.pageNumbers(ctx, p)
	if err != nil {
		b.Fatal(err)
	}
	query := q.String()
	explain := "EXPLAIN QUERY PLAN "
	if st.dialect.name == postgresDialect.name {
		explain = "EXPLAIN (ANALYZE, BUFFERS) "
	}
	var plan []string
	err = st.bun.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		for _, stmt := range st.dialect.pageSettings {
			if _, err := tx.ExecContext(ctx, stmt); err != nil {
				return err
			}
		}
		rows, err := tx.QueryContext(ctx, explain+query)
		if err != nil {
			return err
		}
		defer rows.Close()
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				return err
			}
			plan = append(plan, fmt.Sprint(vals...))
		}
		return rows.Err()
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("%s\n%s", query, strings.Join(plan, "\n"))
}
