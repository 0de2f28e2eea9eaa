package store

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dossiercrm/dossier/crm"
	"github.com/google/uuid"
)

// Benchmarks of bookings (issue 17) on the million-customer generator with
// about three bookings per customer, on SQLite and (with
// DOSSIER_TEST_POSTGRES) PostgreSQL:
//
//	TMPDIR=/work/bench DOSSIER_BENCH_MILLION=1 go test ./crm/store -run '^$' -bench Bookings -benchtime 200x -timeout 3h
//
// DOSSIER_BENCH_CUSTOMERS changes the count. The seeded databases are their
// own copies (dossier-bench-bookings-N.db in the temp directory, schema
// bench_bookings_N), never those of the filter benchmarks, and are kept, so
// only the first run pays for seeding.

// bookingBenchDSNs names the seeded databases of n customers.
func bookingBenchDSNs(ctx context.Context, b *testing.B, n int) map[string]string {
	stores := map[string]string{"sqlite": "sqlite:" + filepath.Join(os.TempDir(), fmt.Sprintf("dossier-bench-bookings-%d.db", n))}
	if dsn := os.Getenv("DOSSIER_TEST_POSTGRES"); dsn != "" {
		prefix := "bench_bookings"
		if p := os.Getenv("DOSSIER_BENCH_SCHEMA"); p != "" {
			prefix = p // several runs side by side on one server
		}
		schema := fmt.Sprintf("%s_%d", prefix, n)
		stores["postgres"] = benchSchema(ctx, b, dsn, schema)
	}
	if only := os.Getenv("DOSSIER_BENCH_ONLY"); only != "" {
		for name := range stores {
			if name != only {
				delete(stores, name)
			}
		}
	}
	return stores
}

// benchDestinations are the places the seeded trips go to, by country,
// the more popular ones listed more often.
var benchDestinations = []struct{ country, place string }{
	{"ES", "Málaga"}, {"ES", "Mallorca"}, {"ES", "Tenerife"}, {"ES", "Barcelona"}, {"ES", "Gran Canaria"}, {"ES", "Málaga"},
	{"GR", "Kreta"}, {"GR", "Rhodos"}, {"GR", "Korfu"}, {"GR", "Kos"}, {"TR", "Antalya"}, {"TR", "Bodrum"}, {"TR", "Antalya"},
	{"EG", "Hurghada"}, {"EG", "Sharm el-Sheikh"}, {"IT", "Roma"}, {"IT", "Sicilia"}, {"IT", "Lago di Garda"},
	{"PT", "Algarve"}, {"PT", "Madeira"}, {"HR", "Split"}, {"HR", "Dubrovnik"}, {"FR", "Paris"}, {"FR", "Côte d'Azur"},
	{"AT", "Tirol"}, {"CY", "Pafos"}, {"BG", "Złote Piaski"}, {"TN", "Djerba"}, {"MA", "Marrakesz"}, {"TH", "Phuket"},
	{"AE", "Dubai"}, {"DO", "Punta Cana"}, {"MX", "Cancún"}, {"MT", "Malta"}, {"ME", "Budva"}, {"AL", "Sarandë"},
}

// seedBookings gives the seeded customers about three bookings each (one
// to five), unless they have them: departures from 2021 to 2028,
// registered one to three hundred days before, three to 21 days long, 300
// to 6,000 EUR, with a deposit (30%, due a week after registration) and a
// final payment (due six weeks before departure), paid when due in 49 of
// 50 cases; 1 in 6 cancelled or deleted. The rows are made by the database
// (INSERT ... SELECT over the customers, 50,000 customers a statement) from
// a hash of the customer number, so the same n gives the same bookings;
// an interrupted seed resumes. DOSSIER_BENCH_NO_SEED=1 measures the
// bookings there are, seeded or not.
func seedBookings(ctx context.Context, b *testing.B, s *DB, n int) error {
	have, err := s.bun.NewSelect().Model((*bookingRow)(nil)).Where("org_id = ?", filterBenchOrg).Count(ctx)
	if err != nil {
		return err
	}
	if have >= int64(2*n) {
		return nil
	}
	if os.Getenv("DOSSIER_BENCH_NO_SEED") == "1" {
		b.Logf("DOSSIER_BENCH_NO_SEED: measuring %d bookings as they are", have)
		return nil
	}
	// Every statement commits the bookings of a whole range of customers:
	// an interrupted seed resumes after the last customer it reached.
	first := 1
	if have > 0 {
		var last int64
		if err := s.bun.NewSelect().Model((*bookingRow)(nil)).ColumnExpr("max(customer_number)").Where("org_id = ?", filterBenchOrg).Scan(ctx, &last); err != nil {
			return err
		}
		first = int(last) + 1
		b.Logf("resuming an interrupted seed of %d bookings at customer %d", have, first)
	}
	start := time.Now()
	conn, err := s.bun.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	pg := s.dialect.name == postgresDialect.name
	if !pg {
		// One connection, a large page cache and no fsync while seeding:
		// the file is a benchmark's scratch copy.
		for _, p := range []string{"PRAGMA cache_size = -1000000", "PRAGMA synchronous = OFF"} {
			if _, err := conn.ExecContext(ctx, p); err != nil {
				return err
			}
		}
		defer conn.ExecContext(context.WithoutCancel(ctx), "PRAGMA synchronous = NORMAL") //nolint:errcheck // the connection is closed next
	}
	query := bookingSeedSQL(pg)
	origin := time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC)
	now := time.Now().UTC().Truncate(time.Microsecond)
	today := int(crm.DateOf(now).Time().Sub(origin).Hours() / 24)
	const batch = 50_000
	for lo := first; lo <= n; lo += batch {
		if _, err := conn.ExecContext(ctx, query, filterBenchOrg, lo, lo+batch, today, today, filterBenchOrg, now, now); err != nil {
			return fmt.Errorf("bookings of customers %d to %d: %w", lo, lo+batch-1, err)
		}
		if (lo-first)%(10*batch) == 0 {
			b.Logf("seeded bookings of customers %d/%d after %v", lo-1+batch, n, time.Since(start).Round(time.Second))
		}
	}
	finish := "ANALYZE"
	if pg {
		// Only the schema's own tables: a database-wide VACUUM also walks
		// (and races with) every other schema of the server.
		finish = "VACUUM ANALYZE bookings, customers, customer_name_keys, customer_search, customer_phones, customer_qualifiers"
	}
	if _, err := conn.ExecContext(ctx, finish); err != nil {
		return err
	}
	have, err = s.bun.NewSelect().Model((*bookingRow)(nil)).Where("org_id = ?", filterBenchOrg).Count(ctx)
	b.Logf("seeded %d bookings for %d customers in %v", have, n, time.Since(start).Round(time.Second))
	return err
}

// bookingSeedSQL is the INSERT ... SELECT of seedBookings. Its arguments:
// the organisation, the first customer number and the one past the last,
// today as days after 2021-01-01 (twice), the organisation again, and
// created_at and updated_at.
func bookingSeedSQL(pg bool) string {
	// rnd is a pseudo-random number in [0, mod) for the booking (number, k)
	// and salt: a multiplicative hash in 63-bit integers on both databases.
	rnd := func(salt, mod int) string {
		return fmt.Sprintf("((((g.h + %d) %% 4294967291) * %d) %% 2147483647 %% %d)", salt*1000003, 48271+salt*2, mod)
	}
	day := func(offset string) string { // 2021-01-01 + offset days
		if pg {
			return "(DATE '2021-01-01' + (" + offset + ")::int)"
		}
		return "date('2021-01-01', (" + offset + ") || ' days')"
	}
	var dests, statuses, channels []string
	for i, d := range benchDestinations {
		dests = append(dests, fmt.Sprintf("(%d, '%s', '%s', '%s')", i, d.country, strings.ReplaceAll(d.place, "'", "''"), strings.ReplaceAll(crm.PlaceKey(d.place), "'", "''")))
	}
	for i, st := range []crm.BookingStatus{crm.StatusConfirmed, crm.StatusConfirmed, crm.StatusConfirmed, crm.StatusConfirmed, crm.StatusSold,
		crm.StatusSold, crm.StatusSold, crm.StatusReserved, crm.StatusOption, crm.StatusCancelled, crm.StatusCancelled, crm.StatusDeleted} {
		statuses = append(statuses, fmt.Sprintf("(%d, '%s')", i, st))
	}
	for i, ch := range []crm.BookingChannel{crm.ChannelOnline, crm.ChannelOnline, crm.ChannelOnline, crm.ChannelPhone, crm.ChannelAgent, crm.ChannelBoxOffice} {
		channels = append(channels, fmt.Sprintf("(%d, '%s')", i, ch))
	}
	id := "printf('%08x-%04x-7000-8000-000000000000', x.number, x.k)"
	ref := "printf('R%07d-%d', x.number, x.k)"
	lines := "json_array(json_object('kind', 'flight', 'quantity', 2, 'amount', x.total / 3), json_object('kind', 'hotel', 'quantity', 1, 'amount', x.total - x.total / 3))"
	if pg {
		id = "(lpad(to_hex(x.number), 8, '0') || '-' || lpad(to_hex(x.k), 4, '0') || '-7000-8000-000000000000')::uuid"
		ref = "'R' || lpad(x.number::text, 7, '0') || '-' || x.k"
		lines = "jsonb_build_array(jsonb_build_object('kind', 'flight', 'quantity', 2, 'amount', x.total / 3), jsonb_build_object('kind', 'hotel', 'quantity', 1, 'amount', x.total - x.total / 3))"
	}
	return `WITH ks(k) AS (VALUES (1), (2), (3), (4), (5)),
dest(i, country, place, place_key) AS (VALUES ` + strings.Join(dests, ", ") + `),
st(i, status) AS (VALUES ` + strings.Join(statuses, ", ") + `),
ch(i, channel) AS (VALUES ` + strings.Join(channels, ", ") + `),
g AS (
	SELECT c.id AS customer_id, c.number, ks.k, c.number * 2654435761 + ks.k * 40503 AS h
	FROM customers c CROSS JOIN ks
	WHERE c.org_id = ? AND c.number >= ? AND c.number < ?
	  AND ks.k <= 1 + (c.number * 2654435761 % 4294967291) % 5
),
o AS (
	SELECT g.customer_id, g.number, g.k, ` + rnd(1, len(benchDestinations)) + ` AS dest, ` + rnd(2, len(statuses)) + ` AS st, ` + rnd(3, len(channels)) + ` AS ch,
		` + rnd(4, 8*365) + ` AS s_off, 3 + ` + rnd(5, 19) + ` AS length, 1 + ` + rnd(6, 300) + ` AS ahead,
		30000 + ` + rnd(7, 570000) + ` AS total, ` + rnd(8, 2) + ` AS dep_coin, ` + rnd(9, 50) + ` AS dep_luck, ` + rnd(10, 50) + ` AS fin_luck
	FROM g
),
x AS (
	SELECT o.*, o.s_off - o.ahead + 7 AS dep_off, o.s_off - 42 AS fin_off, o.total * 3 / 10 AS deposit FROM o
),
y AS (
	SELECT x.*,
		CASE WHEN (x.dep_off < ? OR x.dep_coin = 0) AND x.dep_luck > 0 THEN x.deposit ELSE 0 END AS dep_paid,
		CASE WHEN x.fin_off < ` + "?" + ` AND x.fin_luck > 0 THEN x.total - x.deposit ELSE 0 END AS fin_paid
	FROM x
)
INSERT INTO bookings (org_id, id, reference, customer_id, customer_number, kind, status, channel,
	registered_on, starts_on, ends_on, list_day, destination_country, destination_place, place_key, description,
	booking_lines, total, currency, deposit_due, deposit_amount, deposit_paid, final_due, final_amount, final_paid,
	next_due_on, source_version, created_at, updated_at, row_version)
SELECT ?, ` + id + `, ` + ref + `, x.customer_id, x.number, 'booking', st.status, ch.channel,
	` + day("x.s_off - x.ahead") + `, ` + day("x.s_off") + `, ` + day("x.s_off + x.length") + `, ` + day("x.s_off") + `,
	dest.country, dest.place, dest.place_key, 'Hotel, ' || dest.place,
	` + lines + `, x.total, 'EUR', ` + day("x.dep_off") + `, x.deposit, x.dep_paid, ` + day("x.fin_off") + `, x.total - x.deposit, x.fin_paid,
	CASE WHEN st.status IN ('cancelled', 'deleted') THEN NULL
		WHEN x.dep_paid < x.deposit THEN ` + day("x.dep_off") + `
		WHEN x.fin_paid < x.total - x.deposit THEN ` + day("x.fin_off") + ` END,
	1, ?, ?, 1
FROM y x JOIN dest ON dest.i = x.dest JOIN st ON st.i = x.st JOIN ch ON ch.i = x.ch`
}

func BenchmarkBookings(b *testing.B) {
	n := filterBenchCount(b)
	ctx := context.Background()
	stores := bookingBenchDSNs(ctx, b, n)
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
			if err := seedBookings(ctx, b, st, n); err != nil {
				b.Fatalf("seed bookings: %v", err)
			}
			runBookingBenchmarks(b, st, n)
		})
	}
}

func runBookingBenchmarks(b *testing.B, st *DB, n int) {
	c, err := crm.New(st, crm.Config{})
	if err != nil {
		b.Fatal(err)
	}
	ctx := vouched(context.Background(), filterBenchOrg, "bench")
	countries := []string{"ES", "GR", "TR", "IT", "HR", "EG"}
	minValue := int64(200000) // 2,000 EUR
	filter := func(i int) crm.CustomerFilter {
		month := time.Date(2022+i%6, time.Month(1+i%12), 1, 0, 0, 0, 0, time.UTC)
		from, to := crm.DateOf(month), crm.DateOf(month.AddDate(0, 1, -1))
		return crm.CustomerFilter{Bookings: crm.BookingFilter{DestinationCountry: countries[i%len(countries)],
			DepartureFrom: &from, DepartureTo: &to, ValueMin: &minValue, Currency: "EUR"}}
	}
	timed(b, "DestinationDepartureValue/firstPage", func(i int) error {
		_, err := c.Customers.List(ctx, filter(i), crm.PageRequest{})
		return err
	})
	timed(b, "DestinationDepartureValue/withTag", func(i int) error {
		f := filter(i)
		f.Language = []string{"nl", "de", "pl"}[i%3]
		_, err := c.Customers.List(ctx, f, crm.PageRequest{})
		return err
	})
	timed(b, "Worklist/departures", func(i int) error {
		_, err := c.Bookings.Departures(ctx, crm.WorklistRequest{Days: 2})
		return err
	})
	timed(b, "Worklist/paymentsDue", func(i int) error {
		_, err := c.Bookings.PaymentsDue(ctx, crm.WorklistRequest{Days: 2})
		return err
	})
	timed(b, "CustomerView", func(i int) error {
		cust, err := c.Customers.GetByNumber(ctx, int64(1+(i*7919)%n))
		if err != nil {
			return err
		}
		_, err = c.Bookings.OfCustomer(ctx, cust.ID, 10)
		return err
	})
	// Batches of 100 new bookings for customers spread over the database.
	// Each run draws its own 1,000 customers: the bookings of a run stay
	// with the customers it booked for, and a run that reused an earlier
	// run's customers would time customers with 30 more bookings each per
	// run before it, not the seeded base.
	first := int(time.Now().UnixNano() % int64(n))
	ids := make([]string, 0, 1000)
	for k := range 1000 {
		cust, err := c.Customers.GetByNumber(ctx, int64(1+(first+k*104729)%n))
		if err != nil {
			b.Fatal(err)
		}
		ids = append(ids, cust.ID)
	}
	b.Run("BatchUpsert100", func(b *testing.B) {
		// New references in every run: with -count, a run that reused an
		// earlier run's references would time re-deliveries, which change
		// nothing, instead of new bookings.
		run := time.Now().UnixNano()
		i := 0
		start, cpu := time.Now(), processCPU()
		// Bookings as a platform registers them: today, for departures
		// over the next year, to the seeded destinations, of varied
		// value; the deposit due in a week. (Bookings of one destination
		// and day would all go to one corner of the destination and
		// departure indexes, fewer pages than real bookings touch.)
		today := crm.DateOf(time.Now())
		for b.Loop() {
			ins := make([]crm.BookingInput, 100)
			for k := range ins {
				h := i*100 + k
				s := crm.DateOf(today.Time().AddDate(0, 0, 14+(h*7919)%365))
				d := benchDestinations[(h*31)%len(benchDestinations)]
				ins[k] = crm.BookingInput{Reference: fmt.Sprintf("BATCH-%d-%d-%d", run, i, k), CustomerID: ids[h%len(ids)],
					Status: "confirmed", RegisteredOn: today, StartsOn: &s, DestinationCountry: d.country,
					DestinationPlace: d.place, Total: 30000 + int64(h*104729%570000), Currency: "EUR",
					Deposit: &crm.Payment{DueOn: crm.DateOf(today.Time().AddDate(0, 0, 7)), Amount: 10000}}
			}
			res, err := c.Bookings.UpsertMany(ctx, ins)
			if err != nil {
				b.Fatal(err)
			}
			for _, r := range res {
				if r.Err != nil {
					b.Fatal(r.Err)
				}
			}
			i++
		}
		b.ReportMetric(float64(100*i)/time.Since(start).Seconds(), "bookings/s")
		// The database's own work runs in the process on SQLite: bookings
		// per CPU-second is what an unloaded core would reach.
		if used := processCPU() - cpu; used > 0 {
			b.ReportMetric(float64(100*i)/used.Seconds(), "bookings/cpu-s")
		}
	})
	// The same batches written by hand, the floor of what the database
	// allows on this machine: in one transaction, the leads' activity
	// touched (numbers returned), the 100 bookings inserted in one
	// statement and their 100 creation events in another; no reading of
	// stored bookings, no validation.
	b.Run("BatchUpsert100/sql", func(b *testing.B) {
		run := time.Now().UnixNano()
		i := 0
		start, cpu := time.Now(), processCPU()
		today := time.Now().UTC().Format(time.DateOnly)
		due := time.Now().UTC().AddDate(0, 0, 7).Format(time.DateOnly)
		for b.Loop() {
			if err := plainBookingBatch(context.Background(), st, run, i, ids, today, due); err != nil {
				b.Fatal(err)
			}
			i++
		}
		b.ReportMetric(float64(100*i)/time.Since(start).Seconds(), "bookings/s")
		if used := processCPU() - cpu; used > 0 {
			b.ReportMetric(float64(100*i)/used.Seconds(), "bookings/cpu-s")
		}
	})
}

// plainBookingBatch writes batch i of BatchUpsert100's bookings (run's
// references) by hand, as the BatchUpsert100/sql benchmark describes.
func plainBookingBatch(ctx context.Context, st *DB, run int64, i int, ids []string, today, due string) error {
	ph := &benchPlaceholders{pg: st.dialect.name == postgresDialect.name}
	now := time.Now().UTC()
	leads := make([]string, 0, 100)
	for k := range 100 {
		leads = append(leads, ids[(i*100+k)%len(ids)])
	}
	tx, err := st.bun.DB.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	update := "UPDATE customers SET last_activity_at = " + ph.next() + " WHERE org_id = " + ph.next() + " AND id IN ("
	args := []any{now, filterBenchOrg}
	for k, id := range leads {
		if k > 0 {
			update += ", "
		}
		update += ph.next()
		args = append(args, id)
	}
	rows, err := tx.QueryContext(ctx, update+") RETURNING id, number", args...)
	if err != nil {
		return err
	}
	numbers := map[string]int64{}
	for rows.Next() {
		var id string
		var number int64
		if err := rows.Scan(&id, &number); err != nil {
			rows.Close()
			return err
		}
		numbers[id] = number
	}
	if err := rows.Close(); err != nil {
		return err
	}
	ph.restart()
	args = args[:0]
	var bookings, events []string
	var eventArgs []any
	for k, id := range leads {
		h := i*100 + k
		d := benchDestinations[(h*31)%len(benchDestinations)]
		starts := now.AddDate(0, 0, 14+(h*7919)%365).Format(time.DateOnly)
		bookingID, eventID := uuid.Must(uuid.NewV7()).String(), uuid.Must(uuid.NewV7()).String()
		ref := fmt.Sprintf("PLAIN-%d-%d-%d", run, i, k)
		bookings = append(bookings, ph.tuple(20))
		args = append(args, filterBenchOrg, bookingID, ref, id, numbers[id], "booking", "confirmed", today, starts, starts,
			d.country, d.place, strings.ToLower(d.place), 30000+int64(h*104729%570000), "EUR", due, 10000, due, now, now)
		eventArgs = append(eventArgs, eventID, filterBenchOrg, id, "booking.created", "integration", "bench", now,
			`[{"field":"booking.reference","new":"`+ref+`"},{"field":"booking.status","new":"confirmed"}]`)
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO bookings (org_id, id, reference, customer_id, customer_number, kind, status, registered_on,"+
		" starts_on, list_day, destination_country, destination_place, place_key, total, currency, deposit_due, deposit_amount,"+
		" next_due_on, created_at, updated_at) VALUES "+strings.Join(bookings, ", "), args...); err != nil {
		return err
	}
	ph.restart()
	for range leads {
		events = append(events, ph.tuple(8))
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO history_events (id, org_id, customer_id, kind, actor_kind, actor_id, at, changes) VALUES "+
		strings.Join(events, ", "), eventArgs...); err != nil {
		return err
	}
	return tx.Commit()
}
