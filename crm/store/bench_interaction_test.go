package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dossiercrm/dossier/crm"
	"github.com/google/uuid"
)

// BenchmarkInteractionRecord times Interactions.Record (match + update +
// history in one transaction) at a million customers (issue 18):
//
//	DOSSIER_BENCH_MILLION=1 DOSSIER_TEST_POSTGRES=postgres://... \
//	  go test ./crm/store -run '^$' -bench InteractionRecord -benchtime 2000x -timeout 1h
//
// It seeds its own databases (SQLite dossier-bench-interactions-N.db in the
// temp directory, PostgreSQL schema bench_interactions_N), once, with SQL
// that generates the customers in the database (a minute or two instead of
// the filter world's forty): names, an e-mail address and a mobile number
// each, with their search indexes. The other benchmarks' seeded databases
// are left alone. DOSSIER_BENCH_SCHEMA names another PostgreSQL schema.
func BenchmarkInteractionRecord(b *testing.B) {
	n := filterBenchCount(b)
	ctx := context.Background()
	stores := map[string]string{"sqlite": "sqlite:" + filepath.Join(os.TempDir(), fmt.Sprintf("dossier-bench-interactions-%d.db", n))}
	if dsn := os.Getenv("DOSSIER_TEST_POSTGRES"); dsn != "" {
		schema := fmt.Sprintf("bench_interactions_%d", n)
		if s := os.Getenv("DOSSIER_BENCH_SCHEMA"); s != "" {
			schema = s // a helper's own seeded copy
		}
		stores["postgres"] = benchSchema(ctx, b, dsn, schema)
	}
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
			if err := seedInteractionBench(ctx, b, st, n); err != nil {
				b.Fatalf("seed: %v", err)
			}
			runInteractionBenchmarks(ctx, b, st, n)
		})
	}
}

func runInteractionBenchmarks(ctx context.Context, b *testing.B, st *DB, n int) {
	c, err := crm.New(st, crm.Config{})
	if err != nil {
		b.Fatal(err)
	}
	ctx = crm.WithActor(crm.WithOrg(ctx, filterBenchOrg), crm.Actor{Kind: crm.ActorIntegration, ID: "bench"})
	// Phones of seeded customers, spread over the base, to match by phone.
	var phones []string
	if err := st.bun.NewSelect().TableExpr("customer_phones").Column("number").Where("org_id = ?", filterBenchOrg).
		OrderExpr("customer_number").Limit(int64(200)).Offset(int64(n/2+int(time.Now().UnixNano()%int64(n/4)))).Scan(ctx, &phones); err != nil {
		b.Fatal(err)
	}
	run := fmt.Sprintf("%d", time.Now().UnixNano()%1_000_000_000)
	// Each matched interaction brings a number the customer does not have
	// yet and free data: the customer is updated and its timeline grows.
	newPhone := func(i int) string { return fmt.Sprintf("+3162%07d", (time.Now().UnixNano()/1000+int64(i))%10_000_000) }
	stride := n / 997
	// Each run matches customers that no earlier run changed: a matched
	// interaction adds a phone number, and a customer that gathered one per
	// run would make every later run slower than the one before.
	fresh := int(time.Now().UnixNano() % int64(stride))
	timed(b, "matchByEmail", func(i int) error {
		number := 1 + (i*stride+fresh)%n
		_, err := c.Interactions.Record(ctx, crm.NewInteraction{Kind: crm.InteractionReservation, Source: "bench",
			InteractionContent: crm.InteractionContent{FirstName: "Bench", Emails: []string{fmt.Sprintf("C%d@example.org", number)},
				Phones: []string{newPhone(i)}, Data: map[string]any{"partySize": 2 + i%6}}})
		return err
	})
	// The same interaction written by hand, the floor of what the
	// database allows on this machine: in one transaction, the customer
	// found by e-mail and locked, its name, phones and activity updated,
	// the new phone, the history event and the interaction inserted; no
	// validation, no field origins, no duplicate check.
	timed(b, "matchByEmail/sql", func(i int) error {
		number := 1 + (i*stride+fresh+3)%n
		return plainInteraction(ctx, st, fmt.Sprintf("c%d@example.org", number), newPhone(i+500_000))
	})
	timed(b, "matchByPhone", func(i int) error {
		_, err := c.Interactions.Record(ctx, crm.NewInteraction{Kind: crm.InteractionTool, Source: "bench",
			InteractionContent: crm.InteractionContent{Phones: []string{phones[i%len(phones)]}, Address: &crm.Address{City: "Utrecht"},
				Data: map[string]any{"visit": i}}})
		return err
	})
	timed(b, "matchBySourceID", func(i int) error {
		number := 1 + (i*stride+fresh+7)%n
		_, err := c.Interactions.Record(ctx, crm.NewInteraction{Kind: crm.InteractionReview, Source: "bench-reviews",
			SourceID: fmt.Sprintf("guest-%d", number), Review: &crm.Review{Score: 1 + i%5, Text: "Fine"},
			InteractionContent: crm.InteractionContent{Emails: []string{fmt.Sprintf("c%d@example.org", number)}}})
		return err
	})
	// The baseline, measured in the same run on the same machine: a staff
	// update of one field of a customer (one transaction: read, update,
	// search indexes, history).
	staff := vouched(context.Background(), filterBenchOrg, "bench")
	timed(b, "baselineCustomerUpdate", func(i int) error {
		cust, err := c.Customers.GetByNumber(staff, int64(1+(i*stride+fresh+13)%n))
		if err != nil {
			return err
		}
		_, err = c.Customers.Update(staff, cust.ID, cust.Version, crm.CustomerPatch{Remarks: ptrTo(fmt.Sprintf("bench %d", i))})
		return err
	})
	timed(b, "newCustomer", func(i int) error {
		res, err := c.Interactions.Record(ctx, crm.NewInteraction{Kind: crm.InteractionNewsletter, Source: "bench",
			InteractionContent: crm.InteractionContent{FirstName: "Nieuw", LastName: "Bench",
				Emails: []string{fmt.Sprintf("new-%s-%d@example.org", run, i)}}})
		if err == nil && !res.Created {
			err = fmt.Errorf("a new person matched %s", res.Customer.ID)
		}
		return err
	})
}

// seedInteractionBench generates n customers of organisation
// filterBenchOrg in the database unless they are there: customer i is
// "First<i%997> Last<i%9973>", c<i>@example.org, +3161<i, 7 digits>.
func seedInteractionBench(ctx context.Context, b *testing.B, st *DB, n int) error {
	have, err := st.bun.NewSelect().Model((*customerRow)(nil)).Where("org_id = ?", filterBenchOrg).Count(ctx)
	if err != nil || have >= int64(n) {
		return err
	}
	if have > 0 {
		return fmt.Errorf("organisation %q holds %d of %d customers (an interrupted seed?): delete the file or drop the schema", filterBenchOrg, have, n)
	}
	start := time.Now()
	c, err := crm.New(st, crm.Config{})
	if err != nil {
		return err
	}
	if _, err := c.Organisations.Create(ctx, crm.NewOrganisation{ID: filterBenchOrg, Name: "Million", DefaultLanguage: "nl", DefaultCountry: "NL"}); err != nil {
		return err
	}
	pg := st.dialect.name == postgresDialect.name
	series, id, pad7, blob, json := "WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n+1 FROM seq WHERE n < ?) SELECT n FROM seq",
		"printf('%08x-0000-7000-8000-%012x', n, n)", "printf('%07d', (n))", "CAST(lower(last_name) AS BLOB)", ""
	if pg {
		series, id, pad7, blob, json = "SELECT n FROM generate_series(1, ?) AS n",
			"(lpad(to_hex(n), 8, '0') || '-0000-7000-8000-' || lpad(to_hex(n), 12, '0'))::uuid", "lpad((n)::text, 7, '0')",
			"convert_to(lower(last_name), 'UTF8')", "::jsonb"
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	steps := []struct {
		what string
		sql  string
		args []any
	}{
		{"customers", `INSERT INTO customers (id, org_id, number, first_name, last_name, phones, status, email, email_key, language,
			created_at, updated_at, last_activity_at, version)
			SELECT ` + id + `, 'million', n, 'First' || (n % 997), 'Last' || (n % 9973),
			('[{"kind":"mobile","number":"+3161' || ` + pad7 + ` || '"}]')` + json + `, 'customer',
			'c' || n || '@example.org', 'c' || n || '@example.org', 'nl', ?, ?, ?, 1 FROM (` + series + `) AS s`, []any{now, now, now, n}},
		{"sort keys", "UPDATE customers SET sort_key = " + blob + " WHERE org_id = 'million'", nil},
		{"phones", `INSERT INTO customer_phones (org_id, number, customer_number)
			SELECT org_id, '+3161' || ` + strings.Replace(pad7, "(n", "(number", 1) + `, number FROM customers WHERE org_id = 'million'`, nil},
		{"name keys", `INSERT INTO customer_name_keys (org_id, key, number)
			SELECT org_id, lower(first_name || ' ' || last_name), number FROM customers WHERE org_id = 'million'
			UNION ALL SELECT org_id, lower(last_name), number FROM customers WHERE org_id = 'million'
			UNION ALL SELECT org_id, lower(last_name || ' ' || first_name), number FROM customers WHERE org_id = 'million'`, nil},
		{"search", `INSERT INTO customer_search (org_id, number, text)
			SELECT org_id, number, lower(first_name || ' ' || last_name) FROM customers WHERE org_id = 'million'`, nil},
		{"numbers", "UPDATE organisations SET next_customer_number = ? WHERE id = 'million'", []any{n}},
	}
	for _, step := range steps {
		t := time.Now()
		if _, err := st.bun.ExecContext(ctx, step.sql, step.args...); err != nil {
			return fmt.Errorf("%s: %w", step.what, err)
		}
		b.Logf("seeded %s in %v", step.what, time.Since(t).Round(time.Second))
	}
	if err := analyzeSeeded(ctx, st, true); err != nil {
		return err
	}
	b.Logf("seeded %d customers in %v", n, time.Since(start).Round(time.Second))
	return nil
}

func ptrTo[T any](v T) *T { return &v }

// plainInteraction records an interaction of the customer with the
// e-mail address by hand, as the matchByEmail/sql benchmark describes.
func plainInteraction(ctx context.Context, st *DB, email, phone string) error {
	ph := &benchPlaceholders{pg: st.dialect.name == postgresDialect.name}
	lock := " FOR UPDATE"
	if !ph.pg {
		lock = ""
	}
	now := time.Now().UTC()
	tx, err := st.bun.DB.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	var id string
	var number int64
	var phones sql.NullString
	if err := tx.QueryRowContext(ctx, "SELECT id, number, phones FROM customers WHERE org_id = "+ph.next()+" AND email_key = "+ph.next()+" LIMIT 1"+lock,
		filterBenchOrg, email).Scan(&id, &number, &phones); err != nil {
		return err
	}
	var phoneList []map[string]string
	if phones.Valid {
		if err := json.Unmarshal([]byte(phones.String), &phoneList); err != nil {
			return err
		}
	}
	phoneList = append(phoneList, map[string]string{"kind": "mobile", "number": phone})
	js, err := json.Marshal(phoneList)
	if err != nil {
		return err
	}
	ph.restart()
	if _, err := tx.ExecContext(ctx, "UPDATE customers SET first_name = "+ph.next()+", phones = "+ph.next()+", updated_at = "+ph.next()+", last_activity_at = "+ph.next()+
		", version = version + 1 WHERE org_id = "+ph.next()+" AND id = "+ph.next(), "Bench", string(js), now, now, filterBenchOrg, id); err != nil {
		return err
	}
	ph.restart()
	if _, err := tx.ExecContext(ctx, "INSERT INTO customer_phones (org_id, number, customer_number) VALUES "+ph.tuple(3), filterBenchOrg, phone, number); err != nil {
		return err
	}
	ph.restart()
	if _, err := tx.ExecContext(ctx, "INSERT INTO history_events (id, org_id, customer_id, kind, actor_kind, actor_id, at, changes) VALUES "+ph.tuple(8),
		uuid.Must(uuid.NewV7()).String(), filterBenchOrg, id, "customer.updated", "integration", "bench", now,
		`[{"field":"phones","new":"`+phone+`"}]`); err != nil {
		return err
	}
	ph.restart()
	if _, err := tx.ExecContext(ctx, "INSERT INTO interactions (org_id, id, customer_id, kind, source, at, created, matched_by, data, actor_kind, actor_id, recorded_at) VALUES "+ph.tuple(12),
		filterBenchOrg, uuid.Must(uuid.NewV7()).String(), id, "reservation", "bench", now, false, "email", `{"partySize": 2}`, "integration", "bench", now); err != nil {
		return err
	}
	return tx.Commit()
}
