package store

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/dossiercrm/dossier/crm"
)

// TestForeignKeyChecksStayLookups: the store's write transactions on
// PostgreSQL keep generic plans of their foreign key checks
// (keyedWriteSettings). Plans a connection made while customers was empty
// and analysed must still look a customer up by its key once the table
// holds thousands: a check that scanned the table would make every write
// cost as much as the table is large.
func TestForeignKeyChecksStayLookups(t *testing.T) {
	ctx := context.Background()
	dsn := scratchSchema(ctx, t, testPostgresDSN(t), "plancache")
	st, err := Open(ctx, dsn, WithMigrate(), WithMaxConns(2))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	c, err := crm.New(st, crm.Config{})
	if err != nil {
		t.Fatal(err)
	}
	const org = "plans"
	if _, err := c.Organisations.Create(ctx, crm.NewOrganisation{ID: org, Name: "Plans", DefaultLanguage: "nl", DefaultCountry: "NL"}); err != nil {
		t.Fatal(err)
	}

	var mode string
	if err := st.bun.QueryRowContext(ctx, "SHOW plan_cache_mode").Scan(&mode); err != nil || mode != "force_custom_plan" {
		t.Fatalf("outside a write transaction plan_cache_mode = %q, %v; want force_custom_plan", mode, err)
	}
	if err := st.InTx(ctx, func(tx crm.Store) error {
		return tx.(*DB).db.QueryRowContext(ctx, "SHOW plan_cache_mode").Scan(&mode)
	}); err != nil || mode != "auto" {
		t.Fatalf("in a write transaction plan_cache_mode = %q, %v; want auto", mode, err)
	}

	// The statistics of an empty table (an ANALYZE right after the
	// migrations, autovacuum off), then creates one after the other: the
	// pool hands out the connection returned last, so one backend makes
	// the generic plans of the checks against customers while it holds a
	// few rows.
	if _, err := st.bun.ExecContext(ctx, "ANALYZE customers"); err != nil {
		t.Fatal(err)
	}
	octx := vouched(ctx, org, "u-1")
	for i := range 20 {
		if _, err := c.Customers.Create(octx, crm.CustomerFields{FirstName: "Anna", LastName: "Jansen" + strconv.Itoa(i),
			Phones: []crm.Phone{{Kind: crm.PhoneMobile, Number: fmt.Sprintf("+3161%07d", i)}}}); err != nil {
			t.Fatal(err)
		}
	}

	// The table grows to thousands of customers, with no ANALYZE.
	now := time.Now().UTC().Truncate(time.Microsecond)
	for first := 1000; first < 6000; first += 1000 {
		cs := make([]*crm.Customer, 0, 1000)
		for i := first; i < first+1000; i++ {
			f := crm.CustomerFields{FirstName: "Bram", LastName: "de Vries" + strconv.Itoa(i), Status: crm.StatusCustomer, Language: "nl"}
			cs = append(cs, &crm.Customer{ID: uuid.Must(uuid.NewV7()).String(), OrgID: org, Number: int64(i), CustomerFields: f,
				CreatedAt: now, UpdatedAt: now, LastActivityAt: now, Version: 1, SortKey: crm.SortKey("nl", &f)})
		}
		if err := st.InTx(ctx, func(tx crm.Store) error { return tx.CustomerInsertMany(ctx, cs) }); err != nil {
			t.Fatal(err)
		}
	}

	var ids []string
	if err := st.bun.NewSelect().TableExpr("customers").Column("id").Where("org_id = ?", org).
		Where("number >= 1000").OrderExpr("number").Limit(50).Scan(ctx, &ids); err != nil {
		t.Fatal(err)
	}
	// Rows that refer to those customers, in a write transaction: each
	// checks its customer, and none of the checks may scan customers.
	err = st.InTx(ctx, func(tx crm.Store) error {
		db := tx.(*DB).db
		for i, id := range ids {
			if _, err := db.ExecContext(ctx, "INSERT INTO customer_emails (org_id, customer_id, email_key) VALUES (?, ?, ?)",
				org, id, fmt.Sprintf("other%d@example.org", i)); err != nil {
				return err
			}
		}
		var seq, idx int64
		if err := db.QueryRowContext(ctx, `SELECT coalesce(seq_scan, 0), coalesce(idx_scan, 0)
			FROM pg_stat_xact_user_tables WHERE relid = 'customers'::regclass`).Scan(&seq, &idx); err != nil {
			return err
		}
		if seq != 0 || idx < int64(len(ids)) {
			t.Errorf("checking %d e-mail rows against 6,000 customers: %d scans and %d index lookups of customers; want 0 scans",
				len(ids), seq, idx)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
