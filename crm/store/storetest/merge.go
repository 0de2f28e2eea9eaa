package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/dossiercrm/dossier/crm"
)

func (e *env) mergePair() (*crm.Customer, *crm.Customer) {
	e.t.Helper()
	return e.mergePairNamed("")
}

// mergePairNamed makes a pair like mergePair whose e-mail addresses carry
// tag, so that one test can make several.
func (e *env) mergePairNamed(tag string) (*crm.Customer, *crm.Customer) {
	e.t.Helper()
	surv, err := e.crm.Customers.Create(e.a, crm.CustomerFields{FirstName: "Anna", LastName: "Muller", Email: "anna" + tag + "@example.org"})
	if err != nil {
		e.t.Fatal(err)
	}
	dup, err := e.crm.Customers.Create(e.a, crm.CustomerFields{FirstName: "Anna", LastName: "Müller", Email: "anna.m" + tag + "@example.org",
		Company: "Müller GmbH", LoginEmail: "anna.login" + tag + "@example.org"})
	if err != nil {
		e.t.Fatal(err)
	}
	return surv, dup
}

func testMerge(t *testing.T, open func(t *testing.T) crm.Store) {
	e := newEnv(t, open)
	surv, dup := e.mergePair()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.crm.Organisations.Update(e.a, orgA, crm.OrganisationPatch{PointsEnabled: ptr(true)}); err != nil {
		t.Fatal(err)
	}
	// Both have tags (one in common), points, bookings, consents.
	var tags []string
	for i := range 3 {
		q, err := e.crm.Tags.Define(e.a, crm.NewQualifier{Name: fmt.Sprintf("Merge tag %d", i)})
		must(err)
		tags = append(tags, q.ID)
	}
	_, err := e.crm.Tags.Add(e.a, surv.ID, tags[0], tags[1])
	must(err)
	_, err = e.crm.Tags.Add(e.a, dup.ID, tags[1], tags[2])
	must(err)
	_, err = e.crm.Points.Award(e.a, surv.ID, crm.PointInput{Points: 100, Reference: "s"})
	must(err)
	_, err = e.crm.Points.Award(e.a, dup.ID, crm.PointInput{Points: 50, Reference: "d"})
	must(err)
	e.upsert(e.a, trip("M-1", dup, "2027-05-01", 1000))
	e.upsert(e.a, trip("M-2", dup, "2027-06-01", 1000))
	_, err = e.crm.Consents.Give(e.a, dup.ID, crm.ConsentInput{Purpose: crm.PurposeSMS, Source: crm.SourceStaff})
	must(err)
	dup, err = e.crm.Customers.Get(e.a, dup.ID)
	must(err)
	surv, err = e.crm.Customers.Get(e.a, surv.ID)
	must(err)

	p, err := e.crm.Merges.Preview(e.a, surv.ID, dup.ID, "company", "loginEmail")
	must(err)
	if p.Blocked != nil || len(p.Conflicts) != 0 {
		t.Fatalf("preview blocked: %+v %+v", p.Blocked, p.Conflicts)
	}
	if p.Survivor.Version != surv.Version || p.Duplicate.Version != dup.Version || p.Duplicate.Number != dup.Number {
		t.Fatalf("preview sides %+v %+v", p.Survivor, p.Duplicate)
	}
	fields := map[string]crm.MergeField{}
	for _, f := range p.Fields {
		fields[f.Field] = f
	}
	if f := fields["lastName"]; f.Kept != "survivor" || !f.Conflict || string(f.Duplicate) != `"Müller"` {
		t.Fatalf("lastName %+v", f)
	}
	if f := fields["company"]; f.Kept != "duplicate" || f.Conflict {
		t.Fatalf("company %+v", f)
	}
	moves := map[string]int64{}
	for _, m := range p.Moves {
		moves[m.Table] = m.Rows
	}
	if moves["bookings.customer_id"] != 2 || moves["point_transactions.customer_id"] != 1 || moves["customer_qualifiers.customer_id"] != 2 {
		t.Fatalf("moves %+v", p.Moves)
	}

	// A change in between is a conflict.
	_, err = e.crm.Merges.Merge(e.a, crm.MergeRequest{SurvivorID: surv.ID, DuplicateID: dup.ID,
		SurvivorVersion: surv.Version + 1, DuplicateVersion: dup.Version})
	if !errors.Is(err, crm.ErrConflict) {
		t.Fatalf("merge with an old version: %v", err)
	}
	// Another organisation sees neither.
	if _, err := e.crm.Merges.Preview(e.b, surv.ID, dup.ID); !errors.Is(err, crm.ErrNotFound) {
		t.Fatalf("preview from another organisation: %v", err)
	}

	got, err := e.crm.Merges.Merge(e.a, crm.MergeRequest{SurvivorID: surv.ID, DuplicateID: dup.ID,
		SurvivorVersion: p.Survivor.Version, DuplicateVersion: p.Duplicate.Version, TakeFromDuplicate: []string{"company", "loginEmail"}})
	must(err)
	if got.LastName != "Muller" || got.Company != "Müller GmbH" || got.LoginEmail != "anna.login@example.org" || got.Version != surv.Version+1 {
		t.Fatalf("survivor after merge: %+v", got)
	}
	// The survivor is found by the duplicate's login e-mail now.
	if c, err := e.crm.Customers.GetByLoginEmail(e.a, "anna.login@example.org"); err != nil || c.ID != surv.ID {
		t.Fatalf("login e-mail: %v %v", c, err)
	}
	// Tombstone: by id and by number, a MergedError that is also not found.
	for _, get := range []func() (*crm.Customer, error){
		func() (*crm.Customer, error) { return e.crm.Customers.Get(e.a, dup.ID) },
		func() (*crm.Customer, error) { return e.crm.Customers.GetByNumber(e.a, dup.Number) },
	} {
		_, err := get()
		var merged *crm.MergedError
		if !errors.As(err, &merged) || merged.SurvivorID != surv.ID || !errors.Is(err, crm.ErrNotFound) {
			t.Fatalf("the duplicate after the merge: %v", err)
		}
	}
	if _, err := e.crm.Customers.Get(e.b, dup.ID); err == nil || errors.As(err, new(*crm.MergedError)) {
		t.Fatalf("another organisation sees the tombstone: %v", err)
	}
	// Points: balance equals the ledger of both.
	bal, err := e.crm.Points.Balance(e.a, surv.ID)
	must(err)
	if bal.Available+bal.Pending != 150 {
		t.Fatalf("balance %+v", bal)
	}
	ledger, err := e.crm.Points.Ledger(e.a, surv.ID, crm.PageRequest{})
	must(err)
	if len(ledger.Items) != 2 {
		t.Fatalf("ledger %+v", ledger.Items)
	}
	// Tags: the union, in distinct slots.
	qs, err := e.crm.Tags.Of(e.a, surv.ID)
	must(err)
	if len(qs) != 3 {
		t.Fatalf("tags %+v", qs)
	}
	// Bookings moved.
	b, err := e.crm.Bookings.Get(e.a, "M-1")
	must(err)
	if b.CustomerID != surv.ID || b.CustomerNumber != surv.Number {
		t.Fatalf("booking %+v", b)
	}
	// Consents: the duplicate's SMS consent is the survivor's now.
	states, err := e.crm.Consents.States(e.a, surv.ID)
	must(err)
	sms := false
	for _, s := range states {
		sms = sms || (s.Purpose == crm.PurposeSMS && s.State == crm.ConsentGranted)
	}
	if !sms {
		t.Fatalf("consent states %+v", states)
	}
	// The timelines are joined, with a merged event on top.
	h, err := e.crm.History.List(e.a, surv.ID, crm.PageRequest{Limit: 100})
	must(err)
	created, mergedEv := 0, false
	for _, ev := range h.Items {
		if ev.Kind == crm.EventCustomerCreated {
			created++
		}
		if ev.Kind == crm.EventCustomerMerged && ev.Actor == crm.Staff("staff-a") {
			mergedEv = true
		}
	}
	if created != 2 || !mergedEv {
		t.Fatalf("timeline %+v", h.Items)
	}
	// A second merge of the gone customer is a conflict, not a surprise.
	_, err = e.crm.Merges.Merge(e.a, crm.MergeRequest{SurvivorID: surv.ID, DuplicateID: dup.ID,
		SurvivorVersion: got.Version, DuplicateVersion: dup.Version})
	if !errors.Is(err, crm.ErrConflict) {
		t.Fatalf("merging a merged customer again: %v", err)
	}
	// A chain: the survivor merged into a third customer re-points the tombstone.
	third, err := e.crm.Customers.Create(e.a, crm.CustomerFields{LastName: "Third"})
	must(err)
	_, err = e.crm.Merges.Merge(e.a, crm.MergeRequest{SurvivorID: third.ID, DuplicateID: surv.ID,
		SurvivorVersion: third.Version, DuplicateVersion: got.Version})
	must(err)
	var merged *crm.MergedError
	if _, err := e.crm.Customers.Get(e.a, dup.ID); !errors.As(err, &merged) || merged.SurvivorID != third.ID {
		t.Fatalf("the first duplicate after a second merge: %v", err)
	}
}

func testMergeRefused(t *testing.T, open func(t *testing.T) crm.Store) {
	e := newEnv(t, open)
	surv, dup := e.mergePair()
	// The same customer.
	if _, err := e.crm.Merges.Preview(e.a, surv.ID, surv.ID); !errors.Is(err, crm.ErrMergeBlocked) {
		t.Fatalf("merging a customer into itself: %v", err)
	}
	// A field that is not one.
	if _, err := e.crm.Merges.Preview(e.a, surv.ID, dup.ID, "nonsense"); !errors.Is(err, crm.ErrInvalid) {
		t.Fatalf("an unknown field: %v", err)
	}
	// Missing versions.
	var verr *crm.ValidationError
	if _, err := e.crm.Merges.Merge(e.a, crm.MergeRequest{SurvivorID: surv.ID, DuplicateID: dup.ID}); !errors.As(err, &verr) ||
		!verr.Has("survivorVersion", "") || !verr.Has("duplicateVersion", "") {
		t.Fatalf("merge without versions: %v", err)
	}
	// More than nine tags together.
	for i := range 10 {
		q, err := e.crm.Tags.Define(e.a, crm.NewQualifier{Name: fmt.Sprintf("Refuse tag %d", i)})
		if err != nil {
			t.Fatal(err)
		}
		who := surv.ID
		if i >= 5 {
			who = dup.ID
		}
		if _, err := e.crm.Tags.Add(e.a, who, q.ID); err != nil {
			t.Fatal(err)
		}
	}
	p, err := e.crm.Merges.Preview(e.a, surv.ID, dup.ID)
	if err != nil || p.Blocked == nil || p.Blocked.Code != "too_many_tags" {
		t.Fatalf("preview with ten tags: %+v %v", p, err)
	}
	surv, _ = e.crm.Customers.Get(e.a, surv.ID)
	dup, _ = e.crm.Customers.Get(e.a, dup.ID)
	_, err = e.crm.Merges.Merge(e.a, crm.MergeRequest{SurvivorID: surv.ID, DuplicateID: dup.ID, SurvivorVersion: surv.Version, DuplicateVersion: dup.Version})
	var blocked *crm.MergeBlockedError
	if !errors.As(err, &blocked) || blocked.Code != "too_many_tags" {
		t.Fatalf("merge with ten tags: %v", err)
	}
	// An invoiced booking on the duplicate.
	other, _ := e.crm.Customers.Create(e.a, crm.CustomerFields{LastName: "Invoiced"})
	in := trip("INV-1", other, "2027-05-01", 500)
	in.Invoiced, in.InvoiceNumber = true, "F-2026-1"
	e.upsert(e.a, in)
	other, _ = e.crm.Customers.Get(e.a, other.ID)
	p, err = e.crm.Merges.Preview(e.a, surv.ID, other.ID)
	if err != nil || p.Blocked == nil || p.Blocked.Code != "invoiced_booking" {
		t.Fatalf("preview with an invoiced booking: %+v %v", p, err)
	}
	_, err = e.crm.Merges.Merge(e.a, crm.MergeRequest{SurvivorID: surv.ID, DuplicateID: other.ID, SurvivorVersion: surv.Version, DuplicateVersion: other.Version})
	if !errors.Is(err, crm.ErrMergeBlocked) {
		t.Fatalf("merge of a customer with an invoiced booking: %v", err)
	}
	// Nothing moved.
	if c, err := e.crm.Customers.Get(e.a, other.ID); err != nil || c.Version != other.Version {
		t.Fatalf("the refused duplicate: %v %v", c, err)
	}
}

func testMergeConcurrent(t *testing.T, open func(t *testing.T) crm.Store) {
	e := newEnv(t, open)
	for round := range 3 {
		a, b := e.mergePairNamed(fmt.Sprint(round))
		c, err := e.crm.Customers.Create(e.a, crm.CustomerFields{LastName: fmt.Sprintf("C%d", round)})
		if err != nil {
			t.Fatal(err)
		}
		// Two merges of b at once (into a and into c), and an update of
		// each of a and b.
		var wg sync.WaitGroup
		errs := make([]error, 4)
		wg.Add(4)
		go func() {
			defer wg.Done()
			_, errs[3] = e.crm.Customers.Update(e.a, b.ID, b.Version, crm.CustomerPatch{Remarks: ptr("b updated meanwhile")})
		}()
		go func() {
			defer wg.Done()
			_, errs[0] = e.crm.Merges.Merge(e.a, crm.MergeRequest{SurvivorID: a.ID, DuplicateID: b.ID, SurvivorVersion: a.Version, DuplicateVersion: b.Version})
		}()
		go func() {
			defer wg.Done()
			_, errs[1] = e.crm.Merges.Merge(e.a, crm.MergeRequest{SurvivorID: c.ID, DuplicateID: b.ID, SurvivorVersion: c.Version, DuplicateVersion: b.Version})
		}()
		go func() {
			defer wg.Done()
			_, errs[2] = e.crm.Customers.Update(e.a, a.ID, a.Version, crm.CustomerPatch{Remarks: ptr("updated meanwhile")})
		}()
		wg.Wait()
		won := 0
		for i, err := range errs[:2] {
			switch {
			case err == nil:
				won++
			case errors.Is(err, crm.ErrConflict):
			default:
				t.Fatalf("merge %d: %v", i, err)
			}
		}
		if won > 1 {
			t.Fatalf("both merges of one customer won")
		}
		if errs[2] != nil && !errors.Is(errs[2], crm.ErrConflict) {
			t.Fatalf("update: %v", errs[2])
		}
		// Whatever won, nothing is lost: the update stays when it succeeded.
		got, err := e.crm.Customers.Get(e.a, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		if errs[2] == nil && got.Remarks != "updated meanwhile" {
			t.Fatalf("the update was lost: %+v", got)
		}
		// The duplicate's update either happened, and then no merge did
		// (both had its older version), or found it merged away.
		switch {
		case errs[3] == nil:
			gotB, err := e.crm.Customers.Get(e.a, b.ID)
			if won != 0 || err != nil || gotB.Remarks != "b updated meanwhile" {
				t.Fatalf("the duplicate's update and %d merges: %+v %v", won, gotB, err)
			}
		case !errors.Is(errs[3], crm.ErrConflict) && !errors.Is(errs[3], crm.ErrNotFound):
			t.Fatalf("update of the duplicate: %v", errs[3])
		}
		var merged *crm.MergedError
		if _, err := e.crm.Customers.Get(e.a, b.ID); won == 1 && !errors.As(err, &merged) {
			t.Fatalf("the merged customer: %v", err)
		}
	}
}

func testPossibleDuplicates(t *testing.T, open func(t *testing.T) crm.Store) {
	e := newEnv(t, open)
	bd := crm.MustDate("1980-02-03")
	me, err := e.crm.Customers.Create(e.a, crm.CustomerFields{FirstName: "Jan", LastName: "Jansen", BirthDate: &bd,
		Email: "jan@example.org", Phones: []crm.Phone{{Number: "+31612345678"}}})
	if err != nil {
		t.Fatal(err)
	}
	both, _ := e.crm.Customers.Create(e.a, crm.CustomerFields{FirstName: "jan", LastName: "JANSEN", BirthDate: &bd, AltEmails: []string{"JAN@example.org"}})
	phone, _ := e.crm.Customers.Create(e.a, crm.CustomerFields{LastName: "Other", Phones: []crm.Phone{{Number: "+31 6 12345678"}}})
	_, _ = e.crm.Customers.Create(e.a, crm.CustomerFields{FirstName: "Jan", LastName: "Jansen"}) // no birth date: no hit
	// Another organisation's twin is never a candidate.
	if _, err := e.crm.Customers.Create(e.b, crm.CustomerFields{FirstName: "Jan", LastName: "Jansen", BirthDate: &bd, Email: "jan@example.org"}); err != nil {
		t.Fatal(err)
	}
	got, err := e.crm.Merges.PossibleDuplicates(e.a, me.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].CustomerID != both.ID || got[0].Score != 90 || got[1].CustomerID != phone.ID || got[1].Score != 30 {
		t.Fatalf("possible duplicates: %+v", got)
	}
	if _, err := e.crm.Merges.PossibleDuplicates(e.b, me.ID); !errors.Is(err, crm.ErrNotFound) {
		t.Fatalf("from another organisation: %v", err)
	}
}
