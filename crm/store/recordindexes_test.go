package store

import (
	"context"
	"testing"

	"github.com/dossiercrm/dossier/crm"
)

// TestRecordIndexesGoWithTheCustomer: the rows that index a customer's
// record by number (its name keys and its search row) have no foreign key
// to it. A delete and a merge remove the customer's, an anonymisation
// removes its name keys and empties its search text, and the other
// customers' stay, on both databases.
func TestRecordIndexesGoWithTheCustomer(t *testing.T) {
	eachDatabase(t, func(t *testing.T, db *DB) {
		c, ctx := newTestCRM(t, db)
		create := func(first, last string) *crm.Customer {
			t.Helper()
			cust, err := c.Customers.Create(ctx, crm.CustomerFields{FirstName: first, LastName: last})
			if err != nil {
				t.Fatal(err)
			}
			return cust
		}
		anna, bea, dirk, eva := create("Anna", "Berg"), create("Bea", "Berg"), create("Dirk", "Dekker"), create("Eva", "Dekker")
		// rows returns the customer's search texts and its number of name keys.
		rows := func(cust *crm.Customer) ([]string, int) {
			t.Helper()
			var texts []string
			if err := db.bun.NewSelect().Table("customer_search").Column("text").Where("org_id = ?", cust.OrgID).
				Where("number = ?", cust.Number).Scan(context.Background(), &texts); err != nil {
				t.Fatal(err)
			}
			keys, err := db.bun.NewSelect().Table("customer_name_keys").Where("org_id = ?", cust.OrgID).
				Where("number = ?", cust.Number).Count(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			return texts, int(keys)
		}
		kept := func(cust *crm.Customer) {
			t.Helper()
			if texts, keys := rows(cust); len(texts) != 1 || texts[0] != crm.SearchText(&cust.CustomerFields) ||
				keys != len(crm.NameKeys(&cust.CustomerFields)) {
				t.Errorf("customer %d: search texts %q and %d name keys, want its own", cust.Number, texts, keys)
			}
		}
		gone := func(cust *crm.Customer, what string) {
			t.Helper()
			if texts, keys := rows(cust); len(texts) != 0 || keys != 0 {
				t.Errorf("after the %s customer %d keeps search texts %q and %d name keys", what, cust.Number, texts, keys)
			}
		}
		for _, cust := range []*crm.Customer{anna, bea, dirk, eva} {
			kept(cust)
		}

		if err := c.Customers.Delete(ctx, anna.ID); err != nil {
			t.Fatal(err)
		}
		gone(anna, "delete")
		kept(bea)

		if _, err := c.Merges.Merge(ctx, crm.MergeRequest{SurvivorID: dirk.ID, DuplicateID: eva.ID,
			SurvivorVersion: dirk.Version, DuplicateVersion: eva.Version}); err != nil {
			t.Fatal(err)
		}
		gone(eva, "merge")
		kept(dirk)

		if _, err := c.Privacy.Anonymise(ctx, bea.ID); err != nil {
			t.Fatal(err)
		}
		if texts, keys := rows(bea); len(texts) != 1 || texts[0] != "" || keys != 0 {
			t.Errorf("after the anonymisation: search texts %q and %d name keys, want one empty text and none", texts, keys)
		}
		for name, want := range map[string]int64{"berg": 0, "dekker": 1} {
			if n, err := c.Customers.Count(ctx, crm.CustomerFilter{NameContains: name}); err != nil || n != want {
				t.Errorf("contains %q counts %d, %v; want %d", name, n, err, want)
			}
			if n, err := c.Customers.Count(ctx, crm.CustomerFilter{Name: name}); err != nil || n != want {
				t.Errorf("name %q counts %d, %v; want %d", name, n, err, want)
			}
		}
	})
}
