package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/dossiercrm/dossier/crm"
)

// BenchmarkCreate compares a customer create through the library
// (validation, phone parsing, search keys, history event, number) with a
// plain-SQL insert of the same customers row and the next number in one
// transaction, one caller and 16 concurrent callers, on SQLite and (with
// DOSSIER_TEST_POSTGRES) PostgreSQL. See docs/performance.md (issue 16).
//
//	go test ./crm/store -run '^$' -bench 'Create$' -benchtime 2000x -count 3
//	go test ./crm/store -run '^$' -bench 'Create$/sqlite/crm/1' -benchtime 3000x -cpuprofile create.pprof
func BenchmarkCreate(b *testing.B) {
	ctx := context.Background()
	dbs := map[string]string{"sqlite": "sqlite:" + filepath.Join(b.TempDir(), "create.db")}
	if dsn := os.Getenv("DOSSIER_TEST_POSTGRES"); dsn != "" {
		dbs["postgres"] = scratchSchema(ctx, b, dsn, "bench_create")
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
		if _, err := c.Organisations.Create(ctx, crm.NewOrganisation{ID: "create", Name: "Create", DefaultLanguage: "nl", DefaultCountry: "NL"}); err != nil {
			b.Fatal(err)
		}
		octx := vouched(ctx, "create", "bench")
		plain := plainInsert(st)
		for _, callers := range []int{1, 16} {
			b.Run(fmt.Sprintf("%s/crm/%d", name, callers), func(b *testing.B) {
				b.SetParallelism(max(callers/2, 1)) // GOMAXPROCS 2 here
				r := rand.New(rand.NewPCG(1, 2))
				fields := make([]crm.CustomerFields, 256)
				for i := range fields {
					fields[i] = benchFields(r)
				}
				b.ReportAllocs()
				b.RunParallel(func(pb *testing.PB) {
					i := 0
					for pb.Next() {
						i++
						if _, err := c.Customers.Create(octx, fields[i%len(fields)]); err != nil {
							b.Error(err)
							return
						}
					}
				})
			})
			b.Run(fmt.Sprintf("%s/sql/%d", name, callers), func(b *testing.B) {
				b.SetParallelism(max(callers/2, 1))
				r := rand.New(rand.NewPCG(1, 2))
				fields := make([]crm.CustomerFields, 256)
				for i := range fields {
					fields[i] = benchFields(r)
				}
				b.ReportAllocs()
				b.RunParallel(func(pb *testing.PB) {
					i := 0
					for pb.Next() {
						i++
						if err := plain(ctx, "create", &fields[i%len(fields)]); err != nil {
							b.Error(err)
							return
						}
					}
				})
			})
		}
	}
}

// plainInsert returns what a hand-written create does: in one
// transaction, the next number from the organisation's counter and an
// INSERT of the customers row, with the phones as JSON and no search keys,
// history or validation.
func plainInsert(st *DB) func(ctx context.Context, org string, f *crm.CustomerFields) error {
	ph := func(i int) string {
		if st.dialect.name == "postgres" {
			return fmt.Sprintf("$%d", i)
		}
		return "?"
	}
	phs := make([]string, 21)
	for i := range phs {
		phs[i] = ph(i + 1)
	}
	number := "UPDATE organisations SET next_customer_number = next_customer_number + 1 WHERE id = " + ph(1) + " RETURNING next_customer_number"
	insert := "INSERT INTO customers (id, org_id, number, first_name, middle_name, last_name, street, house_number, city, country," +
		" phones, birth_date, status, email, email_key, language, first_contact, created_at, updated_at, last_activity_at, version)" +
		" VALUES (" + strings.Join(phs, ", ") + ")"
	return func(ctx context.Context, org string, f *crm.CustomerFields) error {
		phones, err := json.Marshal(f.Phones)
		if err != nil {
			return err
		}
		now := time.Now().UTC()
		bd := f.BirthDate.String()
		tx, err := st.bun.DB.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		defer func() { _ = tx.Rollback() }()
		var n int64
		if err := tx.QueryRowContext(ctx, number, org).Scan(&n); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, insert, uuid.Must(uuid.NewV7()).String(), org, n, f.FirstName, f.MiddleName, f.LastName,
			f.Address.Street, f.Address.HouseNumber, f.Address.City, f.Address.Country, string(phones), bd, string(f.Status),
			sql.NullString{String: f.Email, Valid: true}, strings.ToLower(f.Email), f.Language, now.Format(time.DateOnly), now, now, now, 1); err != nil {
			return err
		}
		return tx.Commit()
	}
}
