package storetest

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/dossiercrm/dossier/crm"
)

// pairOf finds the stored pair of a and b in the organisation's list.
func (e *env) pairOf(a, b string) *crm.DuplicatePair {
	e.t.Helper()
	page, err := e.crm.Merges.Candidates(e.a, crm.PageRequest{Limit: crm.MaxPageLimit})
	if err != nil {
		e.t.Fatal(err)
	}
	for _, p := range page.Items {
		if (p.CustomerID == a && p.OtherCustomerID == b) || (p.CustomerID == b && p.OtherCustomerID == a) {
			return &p
		}
	}
	return nil
}

func testDuplicateCandidates(t *testing.T, open func(t *testing.T) crm.Store) {
	e := newEnv(t, open)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	create := func(f crm.CustomerFields) *crm.Customer {
		t.Helper()
		c, err := e.crm.Customers.Create(e.a, f)
		must(err)
		return c
	}
	amsterdam := crm.Address{Street: "Damrak", HouseNumber: "1", PostalCode: "1012 AB", City: "Amsterdam", Country: "NL"}
	me := create(crm.CustomerFields{FirstName: "Jan", LastName: "Jansen", Address: amsterdam, Email: "jan@example.org"})
	// A similar name in the same city (another postal code).
	city := amsterdam
	city.PostalCode, city.Street = "1017 XX", "Leidseplein"
	similar := create(crm.CustomerFields{FirstName: "Jan", LastName: "Janssen", Address: city})
	// A similar name at the same postal code, in another spelling of the city.
	postal := amsterdam
	postal.City = "AMSTERDAM "
	initial := create(crm.CustomerFields{FirstName: "J.", LastName: "Jansen", Address: postal})
	// The same name elsewhere is not a candidate; a different name at the
	// same postal code neither.
	utrecht := crm.Address{PostalCode: "3511 AA", City: "Utrecht", Country: "NL"}
	create(crm.CustomerFields{FirstName: "Jan", LastName: "Jansen", Address: utrecht})
	create(crm.CustomerFields{FirstName: "Piet", LastName: "Bakker", Address: amsterdam})
	// A conflict recorded by an interaction: the e-mail names one customer,
	// the phone another.
	phoneOwner := create(crm.CustomerFields{LastName: "Phone", Phones: []crm.Phone{{Number: "+31687654321"}}})
	res := e.record(e.a, crm.NewInteraction{Kind: crm.InteractionReservation, Source: "resengo",
		InteractionContent: crm.InteractionContent{Emails: []string{"jan@example.org"}, Phones: []string{"+31687654321"}}})
	if res.Customer.ID != me.ID || len(res.Conflicts) != 1 {
		t.Fatalf("the conflicting interaction: %+v", res)
	}
	// The same e-mail address among another's addresses.
	mail := create(crm.CustomerFields{LastName: "Other", AltEmails: []string{"JAN@example.org"}})
	// Another organisation's twin is never a candidate.
	twinB, err := e.crm.Customers.Create(e.b, crm.CustomerFields{FirstName: "Jan", LastName: "Jansen", Address: amsterdam, Email: "jan@example.org"})
	must(err)
	must(e.crm.Merges.CheckDuplicates(e.b, twinB.ID))

	// Nothing is stored before the checks run (the background job).
	page, err := e.crm.Merges.Candidates(e.a, crm.PageRequest{})
	must(err)
	if len(page.Items) != 0 {
		t.Fatalf("candidates before any check: %+v", page.Items)
	}
	// Each customer is checked against the base; the order does not matter.
	for _, c := range []*crm.Customer{similar, initial, mail, phoneOwner} {
		must(e.crm.Merges.CheckDuplicates(e.a, c.ID))
	}
	must(e.crm.Merges.CheckDuplicates(e.a, me.ID))

	want := map[string][]crm.DuplicateReason{
		similar.ID:    {crm.ReasonSimilarName},
		initial.ID:    {crm.ReasonSimilarName},
		mail.ID:       {crm.ReasonSameEmail},
		phoneOwner.ID: {crm.ReasonMatchConflict, crm.ReasonSamePhone},
	}
	for other, reasons := range want {
		p := e.pairOf(me.ID, other)
		if p == nil || !slices.Equal(p.Reasons, reasons) || p.CustomerID > p.OtherCustomerID {
			t.Fatalf("pair with %s: %+v, want %v", other, p, reasons)
		}
	}
	// Paged, best first, every pair once, none of another organisation.
	var all []crm.DuplicatePair
	for cursor := ""; ; {
		page, err := e.crm.Merges.Candidates(e.a, crm.PageRequest{Cursor: cursor, Limit: 2})
		must(err)
		all = append(all, page.Items...)
		if page.Next == "" {
			break
		}
		cursor = page.Next
	}
	// The two similar names are alike too (one city, one name start).
	if len(all) != len(want)+1 || e.pairOf(similar.ID, initial.ID) == nil {
		t.Fatalf("pairs %+v", all)
	}
	for i := 1; i < len(all); i++ {
		if all[i].Score > all[i-1].Score {
			t.Fatalf("not best first: %+v", all)
		}
	}
	if all[0].Score != 60 {
		t.Fatalf("best pair %+v", all[0])
	}
	if page, err := e.crm.Merges.Candidates(e.b, crm.PageRequest{}); err != nil || len(page.Items) != 0 {
		t.Fatalf("organisation B's candidates: %+v %v", page, err)
	}
	var verr *crm.ValidationError
	if _, err := e.crm.Merges.Candidates(e.a, crm.PageRequest{Cursor: "nonsense"}); !errors.As(err, &verr) || !verr.Has("cursor", "") {
		t.Fatalf("a bad cursor: %v", err)
	}
	if _, err := e.crm.Merges.Candidates(e.a, crm.PageRequest{Limit: -1}); !errors.Is(err, crm.ErrInvalid) {
		t.Fatalf("a bad limit: %v", err)
	}
	// "Possible duplicates of this customer" gives the same, live.
	live, err := e.crm.Merges.PossibleDuplicates(e.a, me.ID)
	must(err)
	if len(live) != len(want) || live[0].CustomerID != phoneOwner.ID {
		t.Fatalf("possible duplicates %+v", live)
	}

	// A change is checked again: the e-mail address removed, the pair goes.
	mail, err = e.crm.Customers.Update(e.a, mail.ID, mail.Version, crm.CustomerPatch{AltEmails: &[]string{}})
	must(err)
	must(e.crm.Merges.CheckDuplicates(e.a, mail.ID))
	if p := e.pairOf(me.ID, mail.ID); p != nil {
		t.Fatalf("the pair after the change: %+v", p)
	}

	// Dismissed: the pair goes and never comes back, and both timelines
	// say who dismissed it.
	must(e.crm.Merges.Dismiss(e.a, similar.ID, me.ID))
	must(e.crm.Merges.Dismiss(e.a, me.ID, similar.ID)) // again: nothing more
	must(e.crm.Merges.CheckDuplicates(e.a, me.ID, similar.ID))
	if p := e.pairOf(me.ID, similar.ID); p != nil {
		t.Fatalf("the dismissed pair came back: %+v", p)
	}
	live, err = e.crm.Merges.PossibleDuplicates(e.a, similar.ID)
	must(err)
	if slices.ContainsFunc(live, func(c crm.DuplicateCandidate) bool { return c.CustomerID == me.ID }) {
		t.Fatalf("the dismissed pair among the possible duplicates: %+v", live)
	}
	for _, id := range []string{me.ID, similar.ID} {
		h, err := e.crm.History.List(e.a, id, crm.PageRequest{Limit: 100})
		must(err)
		n := 0
		for _, ev := range h.Items {
			if ev.Kind == crm.EventDuplicateDismissed && ev.Actor == crm.Staff("staff-a") {
				n++
			}
		}
		if n != 1 {
			t.Fatalf("dismissal events of %s: %d", id, n)
		}
	}
	// Refused: the same customer, an unknown one, another organisation's.
	if err := e.crm.Merges.Dismiss(e.a, me.ID, me.ID); !errors.Is(err, crm.ErrInvalid) {
		t.Fatalf("dismissing a customer with itself: %v", err)
	}
	if err := e.crm.Merges.Dismiss(e.a, me.ID, "not-an-id"); !errors.Is(err, crm.ErrNotFound) {
		t.Fatalf("dismissing with a bad id: %v", err)
	}
	if err := e.crm.Merges.Dismiss(e.b, me.ID, similar.ID); !errors.Is(err, crm.ErrNotFound) {
		t.Fatalf("dismissing from another organisation: %v", err)
	}
	if err := e.crm.Merges.Dismiss(e.a, me.ID, twinB.ID); !errors.Is(err, crm.ErrNotFound) {
		t.Fatalf("dismissing with another organisation's customer: %v", err)
	}

	// Anonymised: its pairs go, and a check finds nothing for it.
	_, err = e.crm.Privacy.Anonymise(e.a, initial.ID)
	must(err)
	must(e.crm.Merges.CheckDuplicates(e.a, me.ID, initial.ID))
	if p := e.pairOf(me.ID, initial.ID); p != nil {
		t.Fatalf("an anonymised customer's pair: %+v", p)
	}

	// Merged: the duplicate's pairs go; a pair dismissed with the
	// duplicate stays dismissed for the survivor.
	must(e.crm.Merges.Dismiss(e.a, phoneOwner.ID, similar.ID))
	meNow, err := e.crm.Customers.Get(e.a, me.ID)
	must(err)
	owner, err := e.crm.Customers.Get(e.a, phoneOwner.ID)
	must(err)
	_, err = e.crm.Merges.Merge(e.a, crm.MergeRequest{SurvivorID: me.ID, DuplicateID: owner.ID,
		SurvivorVersion: meNow.Version, DuplicateVersion: owner.Version})
	must(err)
	if p := e.pairOf(me.ID, owner.ID); p != nil {
		t.Fatalf("a merged customer's pair: %+v", p)
	}
	must(e.crm.Merges.CheckDuplicates(e.a, me.ID))
	page, err = e.crm.Merges.Candidates(e.a, crm.PageRequest{Limit: crm.MaxPageLimit})
	must(err)
	for _, p := range page.Items {
		if p.CustomerID == owner.ID || p.OtherCustomerID == owner.ID || p.CustomerID == initial.ID || p.OtherCustomerID == initial.ID {
			t.Fatalf("a pair of a merged or anonymised customer: %+v", p)
		}
	}
	// A dismissal of a merged customer in the path answers with the survivor.
	var merged *crm.MergedError
	if err := e.crm.Merges.Dismiss(e.a, owner.ID, mail.ID); !errors.As(err, &merged) || merged.SurvivorID != me.ID {
		t.Fatalf("dismissing a merged customer: %v", err)
	}
	if err := e.crm.Merges.Dismiss(e.a, mail.ID, owner.ID); !errors.Is(err, crm.ErrConflict) {
		t.Fatalf("dismissing with a merged customer: %v", err)
	}
}

// testMergeContactFlagsAndReview: after a merge the survivor's contact
// flags follow the consents it now has (the newer state of both), and of
// two latest reviews the newer stays.
func testMergeContactFlagsAndReview(t *testing.T, open func(t *testing.T) crm.Store) {
	e := newEnv(t, open)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	surv, dup := e.mergePair()
	// The survivor agreed to mailings; later the duplicate said no.
	_, err := e.crm.Consents.Give(e.a, surv.ID, crm.ConsentInput{Purpose: crm.PurposeMailings, Source: crm.SourceStaff})
	must(err)
	old := e.now.Add(-48 * time.Hour)
	e.record(e.a, crm.NewInteraction{Kind: crm.InteractionReview, Source: "google", At: &old,
		InteractionContent: crm.InteractionContent{Emails: []string{"anna@example.org"}}, Review: &crm.Review{Score: 2}})
	e.now = e.now.Add(time.Hour)
	_, err = e.crm.Consents.Withdraw(e.a, dup.ID, crm.ConsentInput{Purpose: crm.PurposeMailings, Source: crm.SourceStaff})
	must(err)
	e.record(e.a, crm.NewInteraction{Kind: crm.InteractionReview, Source: "google",
		InteractionContent: crm.InteractionContent{Emails: []string{"anna.m@example.org"}}, Review: &crm.Review{Score: 5}})
	surv, err = e.crm.Customers.Get(e.a, surv.ID)
	must(err)
	dup, err = e.crm.Customers.Get(e.a, dup.ID)
	must(err)
	if surv.NoMailings || !dup.NoMailings || surv.LatestReview == nil || surv.LatestReview.Score != 2 || dup.LatestReview == nil {
		t.Fatalf("before: %+v / %+v", surv, dup)
	}
	e.now = e.now.Add(time.Hour)
	got, err := e.crm.Merges.Merge(e.a, crm.MergeRequest{SurvivorID: surv.ID, DuplicateID: dup.ID,
		SurvivorVersion: surv.Version, DuplicateVersion: dup.Version, TakeFromDuplicate: []string{"loginEmail"}})
	must(err)
	got, err = e.crm.Customers.Get(e.a, got.ID)
	must(err)
	if !got.NoMailings {
		t.Fatalf("the survivor's flag does not follow its mailings consent: %+v", got)
	}
	states, err := e.crm.Consents.States(e.a, surv.ID)
	must(err)
	for _, s := range states {
		if s.Purpose == crm.PurposeMailings && s.State != crm.ConsentWithdrawn {
			t.Fatalf("mailings consent %+v", s)
		}
	}
	if got.LatestReview == nil || got.LatestReview.Score != 5 {
		t.Fatalf("latest review after the merge: %+v", got.LatestReview)
	}
	// Taking the flag from a side records a consent for the value chosen.
	a, b := e.mergePairNamed("Flag")
	_, err = e.crm.Consents.Withdraw(e.a, a.ID, crm.ConsentInput{Purpose: crm.PurposePost, Source: crm.SourceStaff})
	must(err)
	a, _ = e.crm.Customers.Get(e.a, a.ID)
	e.now = e.now.Add(time.Hour)
	got, err = e.crm.Merges.Merge(e.a, crm.MergeRequest{SurvivorID: a.ID, DuplicateID: b.ID,
		SurvivorVersion: a.Version, DuplicateVersion: b.Version, TakeFromDuplicate: []string{"noPost", "loginEmail"}})
	must(err)
	if got.NoPost {
		t.Fatalf("noPost taken from the duplicate: %+v", got)
	}
	states, err = e.crm.Consents.States(e.a, a.ID)
	must(err)
	for _, s := range states {
		if s.Purpose == crm.PurposePost && s.State != crm.ConsentGranted {
			t.Fatalf("post consent after taking the duplicate's flag: %+v", s)
		}
	}
}
