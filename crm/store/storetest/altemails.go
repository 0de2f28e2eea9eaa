package storetest

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/dossiercrm/dossier/crm"
)

// testAltEmails: alternative addresses are added and removed one at a time,
// without a version, each change on the timeline, and search follows.
func testAltEmails(t *testing.T, open func(t *testing.T) crm.Store) {
	e := newEnv(t, open)
	c := e.create(e.a, crm.CustomerFields{LastName: "Jansen", AltEmails: []string{"one@example.nl"}})
	// Someone else's change in between does not make the add fail.
	if _, err := e.crm.Customers.Update(e.a, c.ID, c.Version, crm.CustomerPatch{Remarks: ptr("called")}); err != nil {
		t.Fatal(err)
	}
	got, err := e.crm.Customers.AddAltEmail(e.a, c.ID, " Two@Example.nl ")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got.AltEmails, []string{"one@example.nl", "Two@Example.nl"}) || got.Remarks != "called" || got.Version != 3 {
		t.Fatalf("after add: %+v version %d", got.AltEmails, got.Version)
	}
	if found := e.list(e.a, crm.CustomerFilter{Email: "two@example.NL"}); len(found) != 1 {
		t.Fatalf("search by the added address finds %d", len(found))
	}
	_, err = e.crm.Customers.AddAltEmail(e.a, c.ID, "ONE@example.nl")
	wantErr(t, err, crm.ErrConflict)
	_, err = e.crm.Customers.AddAltEmail(e.a, c.ID, "not an address")
	wantInvalid(t, err, "email", "email")
	_, err = e.crm.Customers.AddAltEmail(e.b, c.ID, "three@example.nl")
	wantErr(t, err, crm.ErrNotFound)

	got, err = e.crm.Customers.RemoveAltEmail(e.a, c.ID, "one@EXAMPLE.nl")
	if err != nil || !slices.Equal(got.AltEmails, []string{"Two@Example.nl"}) {
		t.Fatalf("after remove: %v, %v", got, err)
	}
	if found := e.list(e.a, crm.CustomerFilter{Email: "one@example.nl"}); len(found) != 0 {
		t.Fatalf("search by the removed address still finds %d", len(found))
	}
	_, err = e.crm.Customers.RemoveAltEmail(e.a, c.ID, "one@example.nl")
	wantErr(t, err, crm.ErrNotFound)
	_, err = e.crm.Customers.RemoveAltEmail(e.b, c.ID, "two@example.nl")
	wantErr(t, err, crm.ErrNotFound)

	events := e.history(e.a, c.ID)
	if len(events) != 4 || events[0].Actor != crm.Staff("staff-a") || events[0].Changes[0].Field != "altEmails" {
		t.Fatalf("timeline %+v; want create, update, add and remove by staff-a", events)
	}
}

// testMergePatch: a patch decoded from JSON clears the members set to null
// and leaves the members left out, and a null status is refused.
func testMergePatch(t *testing.T, open func(t *testing.T) crm.Store) {
	e := newEnv(t, open)
	c := e.create(e.a, fullCustomer())
	var patch crm.CustomerPatch
	if err := json.Unmarshal([]byte(`{"birthDate": null, "remarks": null, "phones": null, "lastName": "Schmidt"}`), &patch); err != nil {
		t.Fatal(err)
	}
	got, err := e.crm.Customers.Update(e.a, c.ID, c.Version, patch)
	if err != nil {
		t.Fatal(err)
	}
	if got.BirthDate != nil || got.Remarks != "" || got.Phones != nil || got.LastName != "Schmidt" {
		t.Fatalf("after merge patch: %+v", got.CustomerFields)
	}
	if got.FirstName != c.FirstName || got.Email != c.Email || got.PassportExpiry == nil {
		t.Fatalf("members left out changed: %+v", got.CustomerFields)
	}
	patch = crm.CustomerPatch{}
	if err := json.Unmarshal([]byte(`{"status": null, "language": null}`), &patch); err != nil {
		t.Fatal(err)
	}
	_, err = e.crm.Customers.Update(e.a, c.ID, got.Version, patch)
	ve := wantInvalid(t, err, "status", "required")
	if !ve.Has("language", "required") {
		t.Fatalf("null language not refused: %v", ve)
	}
}
