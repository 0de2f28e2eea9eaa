package store

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/dossiercrm/dossier/crm"
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
		schema := fmt.Sprintf("bench_bookings_%d", n)
		admin, err := Open(ctx, dsn)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := admin.bun.ExecContext(ctx, "CREATE SCHEMA IF NOT EXISTS "+schema); err != nil {
			b.Fatal(err)
		}
		admin.Close()
		u, _ := url.Parse(dsn)
		q := u.Query()
		q.Set("search_path", schema)
		if !q.Has("read_timeout") {
			q.Set("read_timeout", "10m")
		}
		u.RawQuery = q.Encode()
		stores["postgres"] = u.String()
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

// seedBookings gives the seeded customers about three bookings each,
// unless they have them: departures from 2021 to 2028, registered one to
// three hundred days before, one to three weeks long, 300 to 6,000 EUR,
// with a deposit and a final payment, most of them paid.
func seedBookings(ctx context.Context, b *testing.B, s *DB, n int) error {
	have, err := s.bun.NewSelect().Model((*bookingRow)(nil)).Where("org_id = ?", filterBenchOrg).Count(ctx)
	if err != nil {
		return err
	}
	if have >= int64(2*n) {
		return nil
	}
	if have > 0 {
		return fmt.Errorf("organisation %q holds %d bookings (an interrupted seed?): delete the SQLite file or drop the schema", filterBenchOrg, have)
	}
	start := time.Now()
	r := rand.New(rand.NewPCG(17, 3))
	now := time.Now().UTC().Truncate(time.Microsecond)
	today := crm.DateOf(now)
	first := time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC)
	statuses := []crm.BookingStatus{crm.StatusConfirmed, crm.StatusConfirmed, crm.StatusConfirmed, crm.StatusConfirmed, crm.StatusSold,
		crm.StatusSold, crm.StatusSold, crm.StatusReserved, crm.StatusOption, crm.StatusCancelled, crm.StatusCancelled, crm.StatusDeleted}
	channels := []crm.BookingChannel{crm.ChannelOnline, crm.ChannelOnline, crm.ChannelOnline, crm.ChannelPhone, crm.ChannelAgent, crm.ChannelBoxOffice}
	const batch = 2000
	seq := 0
	for lo := 1; lo <= n; lo += batch {
		if (lo-1)%(50*batch) == 0 {
			b.Logf("seeding bookings of customers %d/%d after %v", lo-1, n, time.Since(start).Round(time.Second))
			if _, err := s.bun.ExecContext(ctx, "ANALYZE"); err != nil {
				return err
			}
		}
		err := s.InTx(ctx, func(tx crm.Store) error {
			db := tx.(*DB).db
			var custs []struct {
				ID     string `bun:"id"`
				Number int64  `bun:"number"`
			}
			if err := db.NewSelect().Model((*customerRow)(nil)).Column("id", "number").Where("org_id = ?", filterBenchOrg).
				Where("number >= ?", lo).Where("number < ?", lo+batch).Scan(ctx, &custs); err != nil {
				return err
			}
			var rows []bookingRow
			for _, c := range custs {
				for range 1 + r.IntN(5) {
					seq++
					dest := benchDestinations[r.IntN(len(benchDestinations))]
					startsOn := crm.DateOf(first.AddDate(0, 0, r.IntN(8*365)))
					endsOn := crm.DateOf(startsOn.Time().AddDate(0, 0, 3+r.IntN(19)))
					registered := crm.DateOf(startsOn.Time().AddDate(0, 0, -1-r.IntN(300)))
					total := int64(30000 + r.IntN(570000))
					deposit := total * 3 / 10
					bk := &crm.Booking{
						ID: uuid.Must(uuid.NewV7()).String(), Reference: fmt.Sprintf("R%08d", seq), CustomerID: c.ID, CustomerNumber: c.Number,
						Kind: crm.KindBooking, Status: statuses[r.IntN(len(statuses))], Channel: channels[r.IntN(len(channels))],
						RegisteredOn: registered, StartsOn: &startsOn, EndsOn: &endsOn,
						DestinationCountry: dest.country, DestinationPlace: dest.place,
						Description: "Hotel, " + dest.place, Total: total, Currency: "EUR",
						Lines:     []crm.BookingLine{{Kind: "flight", Quantity: 2, Amount: total / 3}, {Kind: "hotel", Quantity: 1, Amount: total - total/3}},
						Deposit:   &crm.Payment{DueOn: crm.DateOf(registered.Time().AddDate(0, 0, 7)), Amount: deposit},
						Final:     &crm.Payment{DueOn: crm.DateOf(startsOn.Time().AddDate(0, 0, -42)), Amount: total - deposit},
						CreatedAt: now, UpdatedAt: now, RowVersion: 1, SourceVersion: 1,
					}
					// Payments due before today are mostly paid; those ahead partly.
					if bk.Deposit.DueOn.Before(today) || r.IntN(2) == 0 {
						if r.IntN(50) > 0 {
							bk.Deposit.Paid = deposit
						}
					}
					if bk.Final.DueOn.Before(today) && r.IntN(50) > 0 {
						bk.Final.Paid = bk.Final.Amount
					}
					rows = append(rows, *bookingToRow(filterBenchOrg, bk))
				}
			}
			return insertAll(ctx, db, rows)
		})
		if err != nil {
			return err
		}
	}
	finish := "ANALYZE"
	if s.dialect.name == postgresDialect.name {
		finish = "VACUUM ANALYZE"
	}
	if _, err := s.bun.ExecContext(ctx, finish); err != nil {
		return err
	}
	b.Logf("seeded %d bookings for %d customers in %v", seq, n, time.Since(start).Round(time.Second))
	return nil
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
	ctx := crm.WithActor(crm.WithOrg(context.Background(), filterBenchOrg), crm.Staff("bench"))
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
	ids := make([]string, 0, 1000)
	for k := range 1000 {
		cust, err := c.Customers.GetByNumber(ctx, int64(1+(k*104729)%n))
		if err != nil {
			b.Fatal(err)
		}
		ids = append(ids, cust.ID)
	}
	run := time.Now().UnixNano()
	b.Run("BatchUpsert100", func(b *testing.B) {
		i := 0
		start, cpu := time.Now(), processCPU()
		for b.Loop() {
			ins := make([]crm.BookingInput, 100)
			for k := range ins {
				s := crm.MustDate("2027-06-01")
				ins[k] = crm.BookingInput{Reference: fmt.Sprintf("BATCH-%d-%d-%d", run, i, k), CustomerID: ids[(i*100+k)%len(ids)],
					Status: "confirmed", RegisteredOn: crm.MustDate("2026-11-01"), StartsOn: &s, DestinationCountry: "ES",
					DestinationPlace: "Málaga", Total: 123400, Currency: "EUR",
					Deposit: &crm.Payment{DueOn: crm.MustDate("2026-12-01"), Amount: 30000}}
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
}
