package store

import (
	"context"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/dossiercrm/dossier/crm"
)

// TestBackfillDuplicateKeys: customers stored before the duplicates
// migration (their duplicate_keys rows deleted) get by the backfill the
// place keys the duplicates job computes, anonymised ones none, in every
// organisation; a second run changes nothing; and a new customer with a
// similar name in the same place then finds an old one.
func TestBackfillDuplicateKeys(t *testing.T) {
	eachDatabase(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		if err := db.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		c, err := crm.New(db, crm.Config{})
		if err != nil {
			t.Fatal(err)
		}
		people := []crm.CustomerFields{
			{FirstName: "Jan", LastName: "Jansen", Address: crm.Address{PostalCode: "1234 AB", City: "Utrecht", Country: "NL"}},
			{FirstName: "Anna", LastName: "Müller", Address: crm.Address{City: "Köln", Country: "DE"}},
			{FirstName: "Kees", LastName: "de Vries", Address: crm.Address{PostalCode: "9999 ZZ", Country: "NL"}},
			{FirstName: "Els", LastName: "Bos"},
			{FirstName: "Tom"},
			{FirstName: "Sara", LastName: "Visser", Address: crm.Address{PostalCode: "1000 AA", City: "Amsterdam", Country: "NL"}},
		}
		ids := map[string][]string{}
		for _, org := range []string{"org-a", "org-b"} {
			if _, err := c.Organisations.Create(ctx, crm.NewOrganisation{ID: org, Name: org}); err != nil {
				t.Fatal(err)
			}
			octx := vouched(ctx, org, "s")
			for _, f := range people {
				f.Status, f.Language = crm.StatusCustomer, "nl"
				cust, err := c.Customers.Create(octx, f)
				if err != nil {
					t.Fatal(err)
				}
				ids[org] = append(ids[org], cust.ID)
			}
			// What the job computes.
			if err := c.Merges.CheckDuplicates(octx, ids[org]...); err != nil {
				t.Fatal(err)
			}
		}
		want := duplicateKeysOf(t, db)
		if len(want) == 0 {
			t.Fatal("the job stored no place keys")
		}
		// An anonymised customer (name kept, to see that it is skipped)
		// and a database from before the migration: no keys at all.
		anon := ids["org-a"][5]
		if _, err := db.bun.ExecContext(ctx, "UPDATE customers SET anonymised_at = ? WHERE org_id = ? AND id = ?", time.Now().UTC(), "org-a", anon); err != nil {
			t.Fatal(err)
		}
		delete(want, "org-a/"+anon)
		if _, err := db.bun.ExecContext(ctx, "DELETE FROM duplicate_keys"); err != nil {
			t.Fatal(err)
		}
		// One customer keyed already (a check ran after the migration).
		keyed := ids["org-b"][0]
		f := people[0]
		name, keys := crm.DuplicatePlaceKeys(&f)
		if err := db.DuplicateKeysSet(ctx, "org-b", keyed, name, keys); err != nil {
			t.Fatal(err)
		}
		for run := range 2 {
			if err := backfillDuplicateKeys(ctx, db.bun, 2); err != nil {
				t.Fatal(err)
			}
			if got := duplicateKeysOf(t, db); !equalKeys(got, want) {
				t.Fatalf("run %d: keys after the backfill\n%v\nwant what the job computes\n%v", run+1, got, want)
			}
		}
		// A new customer with a similar name in the same place finds the
		// old one (and not the other organisation's).
		octx := vouched(ctx, "org-a", "s")
		cust, err := c.Customers.Create(octx, crm.CustomerFields{FirstName: "Jan", LastName: "Janssen", Status: crm.StatusCustomer, Language: "nl",
			Address: crm.Address{PostalCode: "1234AB", City: "Utrecht", Country: "NL"}})
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Merges.CheckDuplicates(octx, cust.ID); err != nil {
			t.Fatal(err)
		}
		pairs, err := db.DuplicatePairsOf(ctx, "org-a", cust.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(pairs) != 1 || !slices.Contains([]string{pairs[0].CustomerID, pairs[0].OtherCustomerID}, ids["org-a"][0]) ||
			!slices.Contains(pairs[0].Reasons, crm.ReasonSimilarName) {
			t.Errorf("the new customer's pairs are %+v, want one with old customer %s for a similar name", pairs, ids["org-a"][0])
		}
		// No pairs among existing customers.
		var n int
		if err := db.bun.NewSelect().Table("duplicate_candidates").Where("customer_id <> ? AND other_customer_id <> ?", cust.ID, cust.ID).
			ColumnExpr("count(*)").Scan(ctx, &n); err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Errorf("%d candidate pairs among existing customers after the backfill", n)
		}
	})
}

// duplicateKeysOf returns the stored place keys by "org/customer", each
// as "key=name", sorted.
func duplicateKeysOf(t *testing.T, db *DB) map[string][]string {
	t.Helper()
	var rows []duplicateKeyRow
	if err := db.bun.NewSelect().Model(&rows).Scan(context.Background()); err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	for _, r := range rows {
		k := r.OrgID + "/" + r.CustomerID
		out[k] = append(out[k], r.Key+"="+r.Name)
	}
	for _, v := range out {
		slices.Sort(v)
	}
	return out
}

func equalKeys(a, b map[string][]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if !slices.Equal(v, b[k]) {
			return false
		}
	}
	return true
}

// TestBackfillDuplicateKeysLoad times the backfill of
// DOSSIER_BACKFILL_N customers (skipped without it) on SQLite; no timed
// assertion, the figure goes to docs/performance.md:
//
//	DOSSIER_BACKFILL_N=100000 TMPDIR=/work/bench/backfill go test ./crm/store -run TestBackfillDuplicateKeysLoad -v -timeout 30m
func TestBackfillDuplicateKeysLoad(t *testing.T) {
	n, err := strconv.Atoi(os.Getenv("DOSSIER_BACKFILL_N"))
	if err != nil || n <= 0 {
		t.Skip("set DOSSIER_BACKFILL_N to time the backfill")
	}
	ctx := context.Background()
	db, err := Open(ctx, "sqlite:"+t.TempDir()+"/backfill.db", WithMigrate())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	start := time.Now()
	if err := seedDupes(ctx, db, n); err != nil {
		t.Fatal(err)
	}
	t.Logf("seeded %d customers in %s", n, time.Since(start).Round(time.Millisecond))
	if _, err := db.bun.ExecContext(ctx, "DELETE FROM duplicate_keys"); err != nil {
		t.Fatal(err)
	}
	start = time.Now()
	if err := backfillDuplicateKeys(ctx, db.bun, duplicateKeysBatch); err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	var keys int
	if err := db.bun.NewSelect().Table("duplicate_keys").ColumnExpr("count(*)").Scan(ctx, &keys); err != nil {
		t.Fatal(err)
	}
	t.Logf("backfilled %d customers (%d keys) in %s", n, keys, took.Round(time.Millisecond))
	start = time.Now()
	if err := backfillDuplicateKeys(ctx, db.bun, duplicateKeysBatch); err != nil {
		t.Fatal(err)
	}
	t.Logf("second run (nothing to do) in %s", time.Since(start).Round(time.Millisecond))
}
