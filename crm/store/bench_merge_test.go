package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/dossiercrm/dossier/crm"
)

// BenchmarkMerge merges two customers with 10,000 timeline events and
// 1,000 bookings each, on SQLite and (with DOSSIER_TEST_POSTGRES)
// PostgreSQL. Seeding a pair is not timed. See docs/performance.md.
//
//	DOSSIER_TEST_POSTGRES=postgres://... go test ./crm/store -run '^$' -bench BenchmarkMerge -benchtime 3x
func BenchmarkMerge(b *testing.B) {
	ctx := context.Background()
	dbs := map[string]string{"sqlite": "sqlite:" + filepath.Join(b.TempDir(), "merge.db")}
	if dsn := os.Getenv("DOSSIER_TEST_POSTGRES"); dsn != "" {
		dbs["postgres"] = scratchSchema(ctx, b, dsn, "bench_dupes21_merge")
	}
	for _, name := range []string{"sqlite", "postgres"} {
		dsn, ok := dbs[name]
		if !ok {
			continue
		}
		b.Run(name, func(b *testing.B) {
			db, err := Open(ctx, dsn, WithMigrate())
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			c, err := crm.New(db, crm.Config{})
			if err != nil {
				b.Fatal(err)
			}
			if _, err := c.Organisations.Create(ctx, crm.NewOrganisation{ID: "bench", Name: "Bench", DefaultLanguage: "nl", DefaultCountry: "NL"}); err != nil && !errors.Is(err, crm.ErrConflict) {
				b.Fatal(err)
			}
			octx := vouched(ctx, "bench", "bench")
			seed := func(round int, who string) *crm.Customer {
				cust, err := c.Customers.Create(octx, crm.CustomerFields{FirstName: "Anna", LastName: who})
				if err != nil {
					b.Fatal(err)
				}
				events := make([]crm.HistoryEvent, 10000)
				at := time.Now().UTC()
				for i := range events {
					events[i] = crm.HistoryEvent{ID: uuid.Must(uuid.NewV7()).String(), OrgID: "bench", CustomerID: cust.ID,
						Kind: crm.EventCustomerUpdated, Actor: crm.Staff("bench"), At: at.Add(-time.Duration(i) * time.Second),
						Changes: []crm.FieldChange{{Field: "remarks", Old: "a", New: "b"}}}
				}
				if err := db.HistoryAppend(ctx, events...); err != nil {
					b.Fatal(err)
				}
				start := crm.MustDate("2027-06-01")
				for chunk := 0; chunk < 1000; chunk += crm.MaxBookingBatch {
					var ins []crm.BookingInput
					for i := chunk; i < chunk+crm.MaxBookingBatch && i < 1000; i++ {
						ins = append(ins, crm.BookingInput{Reference: fmt.Sprintf("%s-%d-%d-%d", who, round, i, time.Now().UnixNano()), CustomerID: cust.ID, Status: "confirmed",
							RegisteredOn: crm.MustDate("2026-10-01"), StartsOn: &start, Total: 1000, Currency: "EUR"})
					}
					res, err := c.Bookings.UpsertMany(octx, ins)
					if err != nil {
						b.Fatal(err)
					}
					for _, r := range res {
						if r.Err != nil {
							b.Fatal(r.Err)
						}
					}
				}
				cust, err = c.Customers.Get(octx, cust.ID)
				if err != nil {
					b.Fatal(err)
				}
				return cust
			}
			b.ResetTimer()
			for i := range b.N {
				b.StopTimer()
				surv, dup := seed(i, "S"), seed(i, "D")
				b.StartTimer()
				if _, err := c.Merges.Merge(octx, crm.MergeRequest{SurvivorID: surv.ID, DuplicateID: dup.ID,
					SurvivorVersion: surv.Version, DuplicateVersion: dup.Version}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
