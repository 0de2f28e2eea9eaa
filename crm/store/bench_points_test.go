package store

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/dossiercrm/dossier/crm"
)

// BenchmarkRedemptions measures point redemptions per second with many
// concurrent callers (16 goroutines), on SQLite and (with
// DOSSIER_TEST_POSTGRES) PostgreSQL: all on one hot customer, whose
// redemptions must queue on its row lock, and spread over 1000 customers.
// See docs/performance.md.
//
//	go test ./crm/store -run '^$' -bench Redemptions -benchtime 5s -count 3
func BenchmarkRedemptions(b *testing.B) {
	ctx := context.Background()
	dbs := map[string]string{"sqlite": "sqlite:" + filepath.Join(b.TempDir(), "points.db")}
	if dsn := os.Getenv("DOSSIER_TEST_POSTGRES"); dsn != "" {
		dbs["postgres"] = scratchSchema(ctx, b, dsn, "bench_points")
	}
	for _, name := range []string{"sqlite", "postgres"} {
		dsn, ok := dbs[name]
		if !ok {
			continue
		}
		b.Run(name, func(b *testing.B) {
			st, err := Open(ctx, dsn, WithMigrate())
			if err != nil {
				b.Fatal(err)
			}
			defer st.Close()
			c, err := crm.New(st, crm.Config{})
			if err != nil {
				b.Fatal(err)
			}
			if _, err := c.Organisations.Create(ctx, crm.NewOrganisation{ID: "points", Name: "Points", PointsEnabled: true}); err != nil {
				b.Fatal(err)
			}
			octx := vouched(ctx, "points", "bench")
			customers := make([]string, 1001)
			for i := range customers {
				cust, err := c.Customers.Create(octx, crm.CustomerFields{FirstName: "Points", LastName: fmt.Sprint(i)})
				if err != nil {
					b.Fatal(err)
				}
				customers[i] = cust.ID
				if _, err := c.Points.Award(octx, cust.ID, crm.PointInput{Points: 1_000_000_000}); err != nil {
					b.Fatal(err)
				}
			}
			hot, spread := customers[0], customers[1:]
			for _, tc := range []struct {
				name     string
				customer func(r *rand.Rand) string
			}{
				{"hot", func(*rand.Rand) string { return hot }},
				{"spread", func(r *rand.Rand) string { return spread[r.IntN(len(spread))] }},
			} {
				b.Run(tc.name, func(b *testing.B) {
					b.SetParallelism(8)
					start := time.Now()
					b.RunParallel(func(pb *testing.PB) {
						r := rand.New(rand.NewPCG(rand.Uint64(), 1))
						for pb.Next() {
							if _, err := c.Points.Redeem(octx, tc.customer(r), crm.PointInput{Points: 1}); err != nil {
								b.Error(err)
								return
							}
						}
					})
					b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "redemptions/s")
				})
			}
		})
	}
}
