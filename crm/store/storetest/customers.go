package storetest

import (
	"errors"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/dossiercrm/dossier/crm"
)

// fullCustomer has a value in every field.
func fullCustomer() crm.CustomerFields {
	return crm.CustomerFields{
		FirstName:  "Anna",
		MiddleName: "van der",
		LastName:   "Müller",
		Company:    "Zoë Reizen B.V.",
		Address: crm.Address{
			Street: "Keizersgracht", HouseNumber: "12a", PostalCode: "1015 CJ", City: "Amsterdam", Country: "nl",
		},
		Phones: []crm.Phone{
			{Kind: crm.PhoneMobile, Number: "06 1234 5678"},
			{Kind: crm.PhoneWork, Number: "+32 2 555 12 12"},
		},
		BirthDate:           ptr(crm.MustDate("1980-02-29")),
		PassportExpiry:      ptr(crm.MustDate("2031-05-01")),
		Status:              crm.StatusProspect,
		Origin:              "beurs 2026",
		FirstContact:        ptr(crm.MustDate("2026-01-15")),
		LoginEmail:          "Anna.Muller@Example.NL",
		Email:               "post@example.nl",
		AltEmails:           []string{"anna@werk.example", "a.muller@privé.example.org"},
		Language:            "nl-be",
		InternalDescription: "Prefers window seats. Staff only.",
		Remarks:             "Travels with a dog.",
		NoPost:              true,
		NoMailings:          true,
		AssignedTo:          "staff-7",
	}
}

func testCustomerRoundTrip(t *testing.T, open func(t *testing.T) crm.Store) {
	e := newEnv(t, open)
	created := e.create(e.a, fullCustomer())

	want := fullCustomer()
	want.Address.Country = "NL"
	want.Language = "nl-BE"
	want.Phones[0].Number = "+31612345678"
	want.Phones[1].Number = "+3225551212"
	if !reflect.DeepEqual(created.CustomerFields, want) {
		t.Fatalf("created fields:\n got %+v\nwant %+v", created.CustomerFields, want)
	}
	if created.Number != 1 || created.Version != 1 || created.OrgID != orgA {
		t.Fatalf("number %d version %d org %q, want 1, 1, %q", created.Number, created.Version, created.OrgID, orgA)
	}
	if !created.CreatedAt.Equal(testNow) || !created.LastActivityAt.Equal(created.CreatedAt) {
		t.Fatalf("times: created %v last activity %v, want %v", created.CreatedAt, created.LastActivityAt, testNow)
	}
	for name, get := range map[string]func() (*crm.Customer, error){
		"by id":          func() (*crm.Customer, error) { return e.crm.Customers.Get(e.a, created.ID) },
		"by number":      func() (*crm.Customer, error) { return e.crm.Customers.GetByNumber(e.a, created.Number) },
		"by login email": func() (*crm.Customer, error) { return e.crm.Customers.GetByLoginEmail(e.a, "anna.muller@example.nl") },
	} {
		got, err := get()
		if err != nil {
			t.Fatalf("get %s: %v", name, err)
		}
		if !reflect.DeepEqual(got, created) {
			t.Fatalf("get %s:\n got %+v\nwant %+v", name, got, created)
		}
	}
}

func testCustomerDefaults(t *testing.T, open func(t *testing.T) crm.Store) {
	e := newEnv(t, open)
	c := e.create(e.a, crm.CustomerFields{LastName: "Jansen"})
	if c.Language != "nl" || c.Status != crm.StatusCustomer || c.FirstContact == nil || *c.FirstContact != crm.DateOf(testNow) {
		t.Fatalf("defaults: language %q status %q first contact %v", c.Language, c.Status, c.FirstContact)
	}
	cb := e.create(e.b, crm.CustomerFields{Email: "kunde@example.de"})
	if cb.Language != "de" {
		t.Fatalf("org B default language: got %q, want de", cb.Language)
	}
}

func testCustomerNumbers(t *testing.T, open func(t *testing.T) crm.Store) {
	e := newEnv(t, open)
	const n = 12
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := e.crm.Customers.Create(e.a, crm.CustomerFields{LastName: "Concurrent"})
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("concurrent create: %v", err)
		}
	}
	got := numbers(e.list(e.a, crm.CustomerFilter{}))
	for i, num := range got {
		if num != int64(i+1) {
			t.Fatalf("numbers %v, want 1..%d without gaps or repeats", got, n)
		}
	}
	if first := e.create(e.b, crm.CustomerFields{LastName: "B"}); first.Number != 1 {
		t.Fatalf("org B's first number is %d, want 1: numbers are per organisation", first.Number)
	}
}

func testLoginEmailUnique(t *testing.T, open func(t *testing.T) crm.Store) {
	e := newEnv(t, open)
	first := e.create(e.a, crm.CustomerFields{LastName: "One", LoginEmail: "Anna@Example.nl", Email: "shared@example.nl"})

	_, err := e.crm.Customers.Create(e.a, crm.CustomerFields{LastName: "Two", LoginEmail: "anna@example.NL"})
	wantErr(t, err, crm.ErrConflict)
	var ce *crm.ConflictError
	if !errors.As(err, &ce) || ce.Field != "loginEmail" {
		t.Fatalf("conflict %v does not name loginEmail", err)
	}
	if want := "this e-mail address is already the login of another customer: use another address, or change that customer"; err.Error() != want {
		t.Errorf("conflict reads %q, want %q", err, want)
	}
	// The correspondence address may repeat; another organisation may use the login.
	e.create(e.a, crm.CustomerFields{LastName: "Three", Email: "SHARED@example.nl"})
	e.create(e.b, crm.CustomerFields{LastName: "Other org", LoginEmail: "anna@example.nl"})

	second := e.create(e.a, crm.CustomerFields{LastName: "Four", LoginEmail: "four@example.nl"})
	_, err = e.crm.Customers.Update(e.a, second.ID, second.Version, crm.CustomerPatch{LoginEmail: ptr(" ANNA@example.nl ")})
	wantErr(t, err, crm.ErrConflict)
	if got := e.history(e.a, second.ID); len(got) != 1 {
		t.Fatalf("refused update left %d events, want only the creation", len(got))
	}
	// Once freed, the login can be taken.
	if _, err := e.crm.Customers.Update(e.a, first.ID, first.Version, crm.CustomerPatch{LoginEmail: ptr("")}); err != nil {
		t.Fatalf("clear login: %v", err)
	}
	if _, err := e.crm.Customers.Update(e.a, second.ID, second.Version, crm.CustomerPatch{LoginEmail: ptr("anna@example.nl")}); err != nil {
		t.Fatalf("take freed login: %v", err)
	}
}

func testLoginEmailUniqueConcurrent(t *testing.T, open func(t *testing.T) crm.Store) {
	e := newEnv(t, open)
	const n = 8
	var wg sync.WaitGroup
	errs := make(chan error, n)
	start := make(chan struct{})
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, err := e.crm.Customers.Create(e.a, crm.CustomerFields{LastName: "Racer", LoginEmail: "race@example.nl"})
			errs <- err
		}()
	}
	close(start)
	wg.Wait()
	close(errs)
	var won, conflicts int
	for err := range errs {
		switch {
		case err == nil:
			won++
		case errors.Is(err, crm.ErrConflict):
			conflicts++
		default:
			t.Fatalf("concurrent create failed with %v, want success or crm.ErrConflict", err)
		}
	}
	if won != 1 || conflicts != n-1 {
		t.Fatalf("%d creates won and %d got ErrConflict, want 1 and %d", won, conflicts, n-1)
	}
	if got := e.list(e.a, crm.CustomerFilter{Email: "race@example.nl"}); len(got) != 1 {
		t.Fatalf("%d customers hold the login, want 1", len(got))
	}
}

func testUpdatePatch(t *testing.T, open func(t *testing.T) crm.Store) {
	e := newEnv(t, open)
	c := e.create(e.a, fullCustomer())
	e.now = testNow.Add(3600e9)
	got, err := e.crm.Customers.Update(e.a, c.ID, 1, crm.CustomerPatch{
		LastName:            ptr("Schmidt"),
		BirthDate:           &crm.Date{}, // clears
		Phones:              &[]crm.Phone{{Number: "020 123 4567"}},
		AltEmails:           &[]string{},
		NoMailings:          ptr(false),
		Address:             &crm.Address{City: "Utrecht"},
		InternalDescription: ptr("  "),
	})
	if err != nil {
		t.Fatalf("update: %v", err)
	}
	if got.LastName != "Schmidt" || got.BirthDate != nil || got.NoMailings || got.AltEmails != nil ||
		got.Address != (crm.Address{City: "Utrecht"}) || got.InternalDescription != "" {
		t.Fatalf("patched record: %+v", got.CustomerFields)
	}
	if len(got.Phones) != 1 || got.Phones[0] != (crm.Phone{Kind: crm.PhoneMobile, Number: "+31201234567"}) {
		t.Fatalf("phones: %+v", got.Phones)
	}
	if got.FirstName != "Anna" || got.Remarks != c.Remarks || !got.NoPost {
		t.Fatalf("fields not in the patch changed: %+v", got.CustomerFields)
	}
	if got.Version != 2 || !got.UpdatedAt.Equal(e.now) || !got.LastActivityAt.Equal(e.now) || !got.CreatedAt.Equal(c.CreatedAt) {
		t.Fatalf("version %d updated %v activity %v created %v", got.Version, got.UpdatedAt, got.LastActivityAt, got.CreatedAt)
	}
	stored, err := e.crm.Customers.Get(e.a, c.ID)
	if err != nil || !reflect.DeepEqual(stored, got) {
		t.Fatalf("stored record differs from returned one: %v\n got %+v\nwant %+v", err, stored, got)
	}
	// A patch that changes nothing writes nothing.
	same, err := e.crm.Customers.Update(e.a, c.ID, 2, crm.CustomerPatch{LastName: ptr("Schmidt")})
	if err != nil || same.Version != 2 {
		t.Fatalf("no-op update: version %v, err %v", same, err)
	}
	n := 0
	for _, ev := range e.history(e.a, c.ID) {
		if strings.HasPrefix(string(ev.Kind), "customer.") {
			n++
		}
	}
	if n != 2 {
		t.Fatalf("%d customer events after create, update and a no-op update, want 2", n)
	}
}

func testDelete(t *testing.T, open func(t *testing.T) crm.Store) {
	e := newEnv(t, open)
	c := e.create(e.a, crm.CustomerFields{FirstName: "Weg", LastName: "Gaan", LoginEmail: "weg@example.nl",
		Phones: []crm.Phone{{Number: "0612345678"}}})
	keep := e.create(e.a, crm.CustomerFields{LastName: "Blijft"})
	if err := e.crm.Customers.Delete(e.a, c.ID); err != nil {
		t.Fatalf("delete: %v", err)
	}
	_, err := e.crm.Customers.Get(e.a, c.ID)
	wantErr(t, err, crm.ErrNotFound)
	wantErr(t, e.crm.Customers.Delete(e.a, c.ID), crm.ErrNotFound)
	for _, f := range []crm.CustomerFilter{{Name: "gaan"}, {Phone: "0612345678"}, {Email: "weg@example.nl"}} {
		if got := e.list(e.a, f); len(got) != 0 {
			t.Fatalf("deleted customer still found by %+v", f)
		}
	}
	if got := e.list(e.a, crm.CustomerFilter{}); len(got) != 1 || got[0].ID != keep.ID {
		t.Fatalf("after delete the list holds %v, want only customer %d", numbers(got), keep.Number)
	}
	events := e.history(e.a, c.ID)
	if len(events) != 1 || events[0].Kind != crm.EventCustomerDeleted || events[0].Actor != crm.Staff("staff-a") {
		t.Fatalf("timeline after delete: %+v, want one deletion event by staff-a", events)
	}
	// The login is free again.
	e.create(e.a, crm.CustomerFields{LastName: "Nieuw", LoginEmail: "weg@example.nl"})
}
