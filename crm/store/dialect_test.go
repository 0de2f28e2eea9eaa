package store

import (
	"context"
	"path/filepath"
	"slices"
	"testing"

	"github.com/dossiercrm/dossier/crm"
)

// TestContainsSearchPlansAgree: on SQLite, contains-search takes one of two
// plans depending on how frequent the text is; both must find the same
// customers in the same order.
func TestContainsSearchPlansAgree(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "plans.db"), WithMigrate())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	c, err := crm.New(db, crm.Config{})
	if err != nil {
		t.Fatal(err)
	}
	for _, org := range []string{"one", "two"} {
		if _, err := c.Organisations.Create(ctx, crm.NewOrganisation{ID: org, Name: org}); err != nil {
			t.Fatal(err)
		}
	}
	one := crm.WithActor(crm.WithOrg(ctx, "one"), crm.System())
	two := crm.WithActor(crm.WithOrg(ctx, "two"), crm.System())
	for _, name := range []string{"Müller", "Keller", "Jansen", "Möller", "Schmöller", "Weber", "Zöllner", "Heller"} {
		for _, org := range []context.Context{one, two} {
			if _, err := c.Customers.Create(org, crm.CustomerFields{LastName: name}); err != nil {
				t.Fatal(err)
			}
		}
	}
	// Renamed customers keep their place in number order.
	page, _ := c.Customers.List(one, crm.CustomerFilter{Name: "jansen"}, crm.PageRequest{})
	if _, err := c.Customers.Update(one, page.Items[0].ID, 1, crm.CustomerPatch{LastName: ptr("Janseller")}); err != nil {
		t.Fatal(err)
	}
	list := func(limit int) []int64 {
		var numbers []int64
		page := crm.PageRequest{Limit: limit}
		for {
			p, err := c.Customers.List(one, crm.CustomerFilter{NameContains: "ller"}, page)
			if err != nil {
				t.Fatal(err)
			}
			for _, cust := range p.Items {
				numbers = append(numbers, cust.Number)
			}
			if p.Next == "" {
				return numbers
			}
			page.Cursor = p.Next
		}
	}
	count := func() int64 {
		n, err := c.Customers.Count(one, crm.CustomerFilter{NameContains: "ller"})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	rare, rareCount := list(2), count()
	db.dialect.frequentMatches = 1 // this store only: every text is frequent
	frequent, frequentCount := list(2), count()
	if rareCount != 6 || frequentCount != 6 {
		t.Fatalf("counts %d and %d, want 6", rareCount, frequentCount)
	}
	if want := []int64{1, 2, 3, 4, 5, 8}; !slices.Equal(rare, want) || !slices.Equal(frequent, want) {
		t.Fatalf("rare plan %v, frequent plan %v, want %v", rare, frequent, want)
	}
}

func ptr[T any](v T) *T { return &v }
