package store

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dossiercrm/dossier/crm"
)

// BenchmarkIdempotentCreate measures what an Idempotency-Key costs a
// customer create (one claim insert and one update in the create's
// transaction), with 8 concurrent callers, on SQLite and (with
// DOSSIER_TEST_POSTGRES) PostgreSQL. See docs/performance.md.
//
//	go test ./crm/store -run '^$' -bench IdempotentCreate -benchtime 2000x -count 3
func BenchmarkIdempotentCreate(b *testing.B) {
	ctx := context.Background()
	dbs := map[string]string{"sqlite": "sqlite:" + filepath.Join(b.TempDir(), "idem.db")}
	if dsn := os.Getenv("DOSSIER_TEST_POSTGRES"); dsn != "" {
		schema := fmt.Sprintf("bench_idem_%d", time.Now().UnixNano())
		admin, err := Open(ctx, dsn)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := admin.bun.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
			b.Fatal(err)
		}
		defer func() {
			admin.bun.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
			admin.Close()
		}()
		u, _ := url.Parse(dsn)
		q := u.Query()
		q.Set("search_path", schema)
		u.RawQuery = q.Encode()
		dbs["postgres"] = u.String()
	}
	for _, name := range []string{"sqlite", "postgres"} {
		dsn, ok := dbs[name]
		if !ok {
			continue
		}
		st, err := Open(ctx, dsn, WithMigrate())
		if err != nil {
			b.Fatal(err)
		}
		defer st.Close()
		c, err := crm.New(st, crm.Config{})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := c.Organisations.Create(ctx, crm.NewOrganisation{ID: "idem", Name: "Idem"}); err != nil {
			b.Fatal(err)
		}
		octx := crm.WithActor(crm.WithOrg(ctx, "idem"), crm.System())
		var n atomic.Int64
		for _, keyed := range []bool{false, true} {
			b.Run(fmt.Sprintf("%s/key=%v", name, keyed), func(b *testing.B) {
				b.SetParallelism(4) // 8 callers on 2 cores
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						i := n.Add(1)
						in := crm.CustomerFields{FirstName: "Bench", LastName: fmt.Sprint(i)}
						var err error
						if keyed {
							_, _, err = crm.Idempotent(octx, c, crm.IdempotentCall{Key: fmt.Sprint("k", i), Operation: "createCustomer", Request: in},
								func(ctx context.Context) (*crm.Customer, error) { return c.Customers.Create(ctx, in) })
						} else {
							_, err = c.Customers.Create(octx, in)
						}
						if err != nil {
							b.Error(err)
							return
						}
					}
				})
			})
		}
	}
}
