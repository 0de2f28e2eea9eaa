package storetest

import (
	"context"
	"errors"
	"testing"

	"github.com/dossiercrm/dossier/crm"
)

// testActingStaffIsReal: the staff actor of every change is a real staff
// user of the organisation, also for a library caller that only names an
// id (crm.WithActor with crm.Staff, no StaffService.Act). An unknown id, an
// inactive user, a user of another organisation and a read-only user are
// refused with ErrForbidden on every kind of change, and nothing is
// written: no customer, no history event, no tag, consent, note, task or
// booking. An active user named by id only acts, and its history event
// names it; so do the actors that are not staff.
func testActingStaffIsReal(t *testing.T, open func(t *testing.T) crm.Store) {
	e := newEnv(t, open)
	c := e.crm
	cust := e.create(e.a, crm.CustomerFields{LastName: "Kowalska", Email: "kowalska@example.pl"})
	tag, err := c.Tags.Define(e.a, crm.NewQualifier{Name: "Vaste klant"})
	if err != nil {
		t.Fatal(err)
	}
	sys := crm.WithActor(e.a, crm.System())
	inactive := false
	if _, err := c.Staff.Create(sys, crm.NewStaffUser{ID: "gone", Name: "Gone", Role: crm.RoleStaff, Active: &inactive}); err != nil {
		t.Fatal(err)
	}
	left, err := c.Staff.Create(sys, crm.NewStaffUser{ID: "left", Name: "Left", Role: crm.RoleAdministrator})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Staff.Update(sys, left.ID, left.Version, crm.StaffUserPatch{Active: &inactive}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Staff.Create(sys, crm.NewStaffUser{ID: "reader", Name: "Reader", Role: crm.RoleReadOnly}); err != nil {
		t.Fatal(err)
	}
	// B's own staff user, checked in B by Act, then taken to A.
	asB, err := c.Staff.Act(e.b, "staff-b")
	if err != nil {
		t.Fatal(err)
	}

	writes := map[string]func(ctx context.Context) error{
		"Customers.Create": func(ctx context.Context) error {
			_, err := c.Customers.Create(ctx, crm.CustomerFields{LastName: "Nowak"})
			return err
		},
		"Customers.Update": func(ctx context.Context) error {
			_, err := c.Customers.Update(ctx, cust.ID, cust.Version, crm.CustomerPatch{LastName: ptr("Nowicka")})
			return err
		},
		"Tags.Add": func(ctx context.Context) error {
			_, err := c.Tags.Add(ctx, cust.ID, tag.ID)
			return err
		},
		"Consents.Give": func(ctx context.Context) error {
			_, err := c.Consents.Give(ctx, cust.ID, crm.ConsentInput{Purpose: crm.PurposeCommercialEmail, Source: crm.SourceStaff})
			return err
		},
		"Notes.Add": func(ctx context.Context) error {
			_, err := c.Notes.Add(ctx, cust.ID, crm.NewNote{TypeID: crm.NotePhoneCall, Text: "Called back"})
			return err
		},
		"Tasks.Create": func(ctx context.Context) error {
			_, err := c.Tasks.Create(ctx, crm.NewTask{Title: "Call back", DueOn: crm.DateOf(e.now), OwnerID: "staff-a", CustomerID: cust.ID})
			return err
		},
		"Bookings.Upsert": func(ctx context.Context) error {
			_, err := c.Bookings.Upsert(ctx, trip("R-1", cust, "2027-03-01", 50000))
			return err
		},
		"Idempotent": func(ctx context.Context) error {
			_, _, err := crm.Idempotent(ctx, c, crm.IdempotentCall{Key: "k-1", Operation: "createCustomer", Request: "Nowak"},
				func(ctx context.Context) (*crm.Customer, error) {
					return c.Customers.Create(ctx, crm.CustomerFields{LastName: "Nowak"})
				})
			return err
		},
	}
	refused := map[string]context.Context{
		"an unknown id":                crm.WithActor(e.a, crm.Staff("ghost")),
		"an inactive user":             crm.WithActor(e.a, crm.Staff("gone")),
		"a user made inactive":         crm.WithActor(e.a, crm.Staff("left")),
		"a user of another org":        crm.WithActor(e.a, crm.Staff("staff-b")),
		"another org's checked user":   crm.WithOrg(asB, orgA),
		"a read-only user named by id": crm.WithActor(e.a, crm.Staff("reader")),
	}
	before := e.list(e.a, crm.CustomerFilter{})
	for who, ctx := range refused {
		for name, write := range writes {
			if err := write(ctx); !errors.Is(err, crm.ErrForbidden) {
				t.Errorf("%s by %s: %v, want crm.ErrForbidden", name, who, err)
			}
		}
	}
	// Nothing was written.
	if after := e.list(e.a, crm.CustomerFilter{}); len(after) != len(before) {
		t.Fatalf("refused changes left customers: %d before, %d after", len(before), len(after))
	}
	got, err := c.Customers.Get(e.a, cust.ID)
	if err != nil || got.Version != cust.Version || got.LastName != "Kowalska" {
		t.Fatalf("a refused change changed the customer: %+v, %v", got, err)
	}
	if h := e.history(e.a, cust.ID); len(h) != 1 || h[0].Kind != crm.EventCustomerCreated {
		t.Fatalf("refused changes left history: %+v", h)
	}
	if tags, err := c.Tags.Of(e.a, cust.ID); err != nil || len(tags) != 0 {
		t.Fatalf("a refused change tagged the customer: %+v, %v", tags, err)
	}
	if notes, err := c.Notes.List(e.a, cust.ID, false, crm.PageRequest{}); err != nil || len(notes.Items) != 0 {
		t.Fatalf("a refused change noted: %+v, %v", notes, err)
	}
	if _, err := c.Bookings.Get(e.a, "R-1"); !errors.Is(err, crm.ErrNotFound) {
		t.Fatalf("a refused change stored a booking: %v", err)
	}
	// The refused idempotency key was never claimed: it still works.
	clerk, err := c.Staff.Create(sys, crm.NewStaffUser{ID: "clerk", Name: "Clerk", Role: crm.RoleStaff})
	if err != nil {
		t.Fatal(err)
	}
	asClerk := crm.WithActor(e.a, crm.Staff(clerk.ID)) // by id only: read and checked on each change
	if err := writes["Idempotent"](asClerk); err != nil {
		t.Fatalf("the refused key: %v", err)
	}

	// A real, active staff user named by id acts, and is on record.
	for _, name := range []string{"Customers.Update", "Tags.Add", "Consents.Give", "Notes.Add", "Tasks.Create", "Bookings.Upsert"} {
		if err := writes[name](asClerk); err != nil {
			t.Fatalf("%s by an active staff user: %v", name, err)
		}
	}
	h := e.history(e.a, cust.ID)
	if len(h) < 2 {
		t.Fatalf("history after the clerk's changes: %+v", h)
	}
	for _, ev := range h[:len(h)-1] {
		if ev.Actor != crm.Staff(clerk.ID) {
			t.Errorf("%s by %s, want the clerk", ev.Kind, ev.Actor)
		}
	}
	made := e.create(asClerk, crm.CustomerFields{LastName: "Zielińska"})
	if h := e.history(e.a, made.ID); len(h) != 1 || h[0].Actor != crm.Staff(clerk.ID) {
		t.Fatalf("the clerk's new customer: %+v", h)
	}

	// A deactivated user's next change is refused, even by a context that
	// named it before.
	if _, err := c.Staff.Update(sys, clerk.ID, 0, crm.StaffUserPatch{Active: &inactive}); err != nil {
		t.Fatal(err)
	}
	_, err = c.Customers.Create(asClerk, crm.CustomerFields{LastName: "Later"})
	wantErr(t, err, crm.ErrForbidden)

	// Actors that are not staff are not staff users and keep acting.
	for _, a := range []crm.Actor{crm.System(), crm.Import("list.csv"), crm.Integration("booking-site")} {
		if _, err := c.Customers.Create(crm.WithActor(e.a, a), crm.CustomerFields{LastName: "By " + a.String()}); err != nil {
			t.Errorf("a customer made by %s: %v", a, err)
		}
	}
}
