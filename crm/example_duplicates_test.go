package crm_test

import (
	"errors"
	"fmt"
	"log"

	"github.com/dossiercrm/dossier/crm"
)

// Finding duplicates and merging them: a customer registered twice, once
// with a typo in the name. The check (which the background work runs
// after each create or change) stores the pair; staff look at the list,
// preview the merge, and merge; the old id then answers with the survivor.
func ExampleMergeService_Candidates() {
	c, ctx, done := setup()
	defer done()

	home := crm.Address{Street: "Prinsengracht", HouseNumber: "263", PostalCode: "1016 GV", City: "Amsterdam", Country: "NL"}
	anna, err := c.Customers.Create(ctx, crm.CustomerFields{FirstName: "Anna", LastName: "de Vries", Address: home, Email: "anna@example.nl"})
	if err != nil {
		log.Fatal(err)
	}
	again, err := c.Customers.Create(ctx, crm.CustomerFields{FirstName: "Anna", LastName: "de Vriez", Address: home, Phones: []crm.Phone{{Number: "06 1234 5678"}}})
	if err != nil {
		log.Fatal(err)
	}
	// What the background job does after each create (package crm/background).
	if err := c.Merges.CheckDuplicates(ctx, anna.ID, again.ID); err != nil {
		log.Fatal(err)
	}
	page, err := c.Merges.Candidates(ctx, crm.PageRequest{})
	if err != nil {
		log.Fatal(err)
	}
	for _, p := range page.Items {
		fmt.Println(p.Score, p.Reasons)
	}

	// Preview: the survivor's values stay unless taken from the duplicate.
	p, err := c.Merges.Preview(ctx, anna.ID, again.ID, "phones")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("blocked:", p.Blocked != nil)
	merged, err := c.Merges.Merge(ctx, crm.MergeRequest{SurvivorID: anna.ID, DuplicateID: again.ID,
		SurvivorVersion: p.Survivor.Version, DuplicateVersion: p.Duplicate.Version, TakeFromDuplicate: []string{"phones"}})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(merged.LastName, merged.Phones[0].Number)

	// The duplicate's id is a tombstone that names the survivor.
	_, err = c.Customers.Get(ctx, again.ID)
	var gone *crm.MergedError
	fmt.Println(errors.As(err, &gone) && gone.SurvivorID == anna.ID, errors.Is(err, crm.ErrNotFound))
	page, _ = c.Merges.Candidates(ctx, crm.PageRequest{})
	fmt.Println(len(page.Items), "candidates left")
	// Output:
	// 25 [similar_name_same_place]
	// blocked: false
	// de Vries +31612345678
	// true true
	// 0 candidates left
}
