package storetest

import (
	"context"
	"errors"
	"testing"

	"github.com/dossiercrm/dossier/crm"
)

// testIsolation: with organisation B in the context, nothing of A's can be
// read, found, changed or deleted, whatever A's ids, numbers or addresses.
func testIsolation(t *testing.T, open func(t *testing.T) crm.Store) {
	e := newEnv(t, open)
	if _, err := e.crm.CustomFields.Define(e.a, crm.NewCustomField{Key: "secret", Label: "A only", Type: crm.FieldText}); err != nil {
		t.Fatal(err)
	}
	a := e.create(e.a, crm.CustomerFields{FirstName: "Alleen", LastName: "Van A", LoginEmail: "a@example.nl",
		Email: "post-a@example.nl", AltEmails: []string{"alt-a@example.nl"}, Phones: []crm.Phone{{Number: "0612345678"}},
		BirthDate: ptr(crm.MustDate("1970-01-01")), Origin: "a-origin", AssignedTo: "staff-a",
		CustomFields: map[string]any{"secret": "x"}})
	b := e.create(e.b, crm.CustomerFields{LastName: "Van B"})

	_, err := e.crm.Customers.Get(e.b, a.ID)
	wantErr(t, err, crm.ErrNotFound)
	_, err = e.crm.Customers.GetByNumber(e.b, a.Number+1) // B has only number 1
	wantErr(t, err, crm.ErrNotFound)
	if got, err := e.crm.Customers.GetByNumber(e.b, a.Number); err != nil || got.ID != b.ID {
		t.Fatalf("B's number %d resolves to %v, %v; want B's own customer", a.Number, got, err)
	}
	_, err = e.crm.Customers.GetByLoginEmail(e.b, "a@example.nl")
	wantErr(t, err, crm.ErrNotFound)
	_, err = e.crm.Customers.Update(e.b, a.ID, 1, crm.CustomerPatch{LastName: ptr("Stolen")})
	wantErr(t, err, crm.ErrNotFound)
	wantErr(t, e.crm.Customers.Delete(e.b, a.ID), crm.ErrNotFound)
	_, err = e.crm.History.List(e.b, a.ID, crm.PageRequest{})
	wantErr(t, err, crm.ErrNotFound)

	for _, f := range []crm.CustomerFilter{
		{}, {Name: "alleen"}, {Name: "van a"}, {Email: "a@example.nl"}, {Email: "post-a@example.nl"},
		{Email: "alt-a@example.nl"}, {Phone: "+31612345678"}, {BirthDate: ptr(crm.MustDate("1970-01-01"))},
		{Origin: "a-origin"}, {AssignedTo: "staff-a"}, {Language: "nl"},
	} {
		for _, c := range e.list(e.b, f) {
			if c.ID == a.ID {
				t.Fatalf("org B's list with %+v shows org A's customer", f)
			}
		}
	}
	// Phone rows name a customer by its number, which both organisations
	// have (A's customer and B's are both number 1): A's number finds
	// nothing in B, B's own customer included, neither by filter, nor by
	// an interaction's match, nor as a duplicate.
	if got := e.list(e.b, crm.CustomerFilter{Phone: "+31612345678"}); len(got) != 0 {
		t.Fatalf("org B's phone filter with A's number finds %d customers", len(got))
	}
	res, err := e.crm.Interactions.Record(e.b, crm.NewInteraction{Kind: crm.InteractionContactForm, Source: "website",
		InteractionContent: crm.InteractionContent{LastName: "Nieuw", Phones: []string{"+31612345678"}}})
	if err != nil || !res.Created || res.Customer.ID == b.ID || res.Customer.ID == a.ID {
		t.Fatalf("an interaction in B with A's number: %+v, %v; want a new customer of B", res, err)
	}
	hits, err := e.store.DuplicateHits(e.b, orgB, res.Customer.ID, 50)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range hits {
		if h.CustomerID == a.ID || h.CustomerID == b.ID {
			t.Fatalf("B's new customer with A's number has duplicate %+v", h)
		}
	}

	defs, err := e.crm.CustomFields.List(e.b, true)
	if err != nil || len(defs) != 0 {
		t.Fatalf("org B sees custom fields %v (err %v)", defs, err)
	}
	_, err = e.crm.CustomFields.Archive(e.b, "secret")
	wantErr(t, err, crm.ErrNotFound)
	// B cannot use A's custom field either.
	_, err = e.crm.Customers.Create(e.b, crm.CustomerFields{LastName: "X", CustomFields: map[string]any{"secret": "y"}})
	wantInvalid(t, err, "customFields.secret", "unknown_field")

	// The store refuses too when asked directly with B's organisation.
	_, err = e.store.CustomerGet(e.b, crm.CustomerGetParams{OrgID: orgB, ID: a.ID})
	wantErr(t, err, crm.ErrNotFound)
	wantErr(t, e.store.CustomerDelete(e.b, orgB, a.ID), crm.ErrNotFound)
	stolen := *a
	stolen.OrgID = orgB
	stolen.Version = 2
	wantErr(t, e.store.CustomerUpdate(e.b, &stolen, a), crm.ErrNotFound)

	// A's customer is untouched.
	got, err := e.crm.Customers.Get(e.a, a.ID)
	if err != nil || got.LastName != "Van A" || got.Version != 1 {
		t.Fatalf("A's customer after B's attempts: %+v, %v", got, err)
	}
	if n := len(e.history(e.a, a.ID)); n != 1 {
		t.Fatalf("A's customer has %d events, want 1", n)
	}
}

// testNoOrgNoActor: no call works without an organisation; no change works
// without an actor.
func testNoOrgNoActor(t *testing.T, open func(t *testing.T) crm.Store) {
	e := newEnv(t, open)
	c := e.create(e.a, crm.CustomerFields{LastName: "Scoped"})
	noOrg := crm.WithActor(context.Background(), crm.Staff("x"))
	calls := map[string]func(ctx context.Context) error{
		"Create": func(ctx context.Context) error {
			_, err := e.crm.Customers.Create(ctx, crm.CustomerFields{LastName: "X"})
			return err
		},
		"Get":         func(ctx context.Context) error { _, err := e.crm.Customers.Get(ctx, c.ID); return err },
		"GetByNumber": func(ctx context.Context) error { _, err := e.crm.Customers.GetByNumber(ctx, 1); return err },
		"GetByLoginEmail": func(ctx context.Context) error {
			_, err := e.crm.Customers.GetByLoginEmail(ctx, "x@example.nl")
			return err
		},
		"Update": func(ctx context.Context) error {
			_, err := e.crm.Customers.Update(ctx, c.ID, 1, crm.CustomerPatch{Remarks: ptr("x")})
			return err
		},
		"Delete": func(ctx context.Context) error { return e.crm.Customers.Delete(ctx, c.ID) },
		"List": func(ctx context.Context) error {
			_, err := e.crm.Customers.List(ctx, crm.CustomerFilter{}, crm.PageRequest{})
			return err
		},
		"History": func(ctx context.Context) error {
			_, err := e.crm.History.List(ctx, c.ID, crm.PageRequest{})
			return err
		},
		"DefineCustomField": func(ctx context.Context) error {
			_, err := e.crm.CustomFields.Define(ctx, crm.NewCustomField{Key: "k", Label: "K", Type: crm.FieldText})
			return err
		},
		"ListCustomFields": func(ctx context.Context) error { _, err := e.crm.CustomFields.List(ctx, false); return err },
	}
	writes := map[string]bool{"Create": true, "Update": true, "Delete": true, "DefineCustomField": true}
	noActor := crm.WithOrg(context.Background(), orgA)
	for name, call := range calls {
		wantErr(t, call(noOrg), crm.ErrNoOrg)
		if writes[name] {
			if err := call(noActor); !errors.Is(err, crm.ErrNoActor) {
				t.Fatalf("%s without an actor: %v, want crm.ErrNoActor", name, err)
			}
		}
	}
	bad := crm.WithActor(noActor, crm.Actor{Kind: crm.ActorStaff}) // staff without an id
	wantErr(t, calls["Update"](bad), crm.ErrNoActor)
	// An organisation that does not exist is not found, not created on the
	// fly; a staff actor there is no staff user of it, so it is refused first.
	ghost := crm.WithActor(crm.WithOrg(context.Background(), "ghost"), crm.Integration("x"))
	wantErr(t, calls["Create"](ghost), crm.ErrNotFound)
	wantErr(t, calls["DefineCustomField"](ghost), crm.ErrNotFound)
	wantErr(t, calls["Create"](crm.WithActor(ghost, crm.Staff("x"))), crm.ErrForbidden)

	got, _ := e.crm.Customers.Get(e.a, c.ID)
	if got.Version != 1 {
		t.Fatalf("a refused call changed the customer: %+v", got)
	}
}
