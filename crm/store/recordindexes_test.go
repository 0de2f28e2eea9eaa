package store

import (
	"context"
	"slices"
	"strconv"
	"testing"

	"github.com/dossiercrm/dossier/crm"
)

// TestRecordIndexesGoWithTheCustomer: the rows that index a customer's
// record by number (its name keys, phone rows and search row) have no
// foreign key to it. A delete and a merge remove the customer's, an
// update replaces the phone rows of the numbers it changes, an
// anonymisation removes its name keys and phone rows and empties its
// search text, and the other customers' stay, on both databases.
func TestRecordIndexesGoWithTheCustomer(t *testing.T) {
	eachDatabase(t, func(t *testing.T, db *DB) {
		c, ctx := newTestCRM(t, db)
		phone := 0
		create := func(first, last string) *crm.Customer {
			t.Helper()
			phone++
			cust, err := c.Customers.Create(ctx, crm.CustomerFields{FirstName: first, LastName: last,
				Phones: []crm.Phone{{Number: "+3161234500" + strconv.Itoa(phone)}, {Kind: crm.PhoneHome, Number: "+3130123450" + strconv.Itoa(phone)}}})
			if err != nil {
				t.Fatal(err)
			}
			return cust
		}
		anna, bea, dirk, eva := create("Anna", "Berg"), create("Bea", "Berg"), create("Dirk", "Dekker"), create("Eva", "Dekker")
		// phones returns the numbers of the customer's phone rows.
		phones := func(cust *crm.Customer) []string {
			t.Helper()
			var numbers []string
			if err := db.bun.NewSelect().Table("customer_phones").Column("number").Where("org_id = ?", cust.OrgID).
				Where("customer_number = ?", cust.Number).OrderExpr("number").Scan(context.Background(), &numbers); err != nil {
				t.Fatal(err)
			}
			return numbers
		}
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
			if got, want := phones(cust), []string{cust.Phones[1].Number, cust.Phones[0].Number}; !slices.Equal(got, want) {
				t.Errorf("customer %d: phone rows %q, want %q", cust.Number, got, want)
			}
		}
		gone := func(cust *crm.Customer, what string) {
			t.Helper()
			if texts, keys := rows(cust); len(texts) != 0 || keys != 0 || len(phones(cust)) != 0 {
				t.Errorf("after the %s customer %d keeps search texts %q, %d name keys and phone rows %q", what, cust.Number, texts, keys, phones(cust))
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

		// An update that changes one number of two: its row goes, the
		// new one comes, the other stays.
		changed := bea.Phones
		changed[0].Number = "+31612345099"
		bea, err := c.Customers.Update(ctx, bea.ID, bea.Version, crm.CustomerPatch{Phones: &changed})
		if err != nil {
			t.Fatal(err)
		}
		kept(bea)
		for number, want := range map[string]int64{"+31612345099": 1, "+31612345002": 0, "+31301234502": 1} {
			if n, err := c.Customers.Count(ctx, crm.CustomerFilter{Phone: number}); err != nil || n != want {
				t.Errorf("phone %s counts %d, %v; want %d", number, n, err, want)
			}
		}

		if _, err := c.Privacy.Anonymise(ctx, bea.ID); err != nil {
			t.Fatal(err)
		}
		if texts, keys := rows(bea); len(texts) != 1 || texts[0] != "" || keys != 0 || len(phones(bea)) != 0 {
			t.Errorf("after the anonymisation: search texts %q, %d name keys and phone rows %q, want one empty text and none",
				texts, keys, phones(bea))
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
