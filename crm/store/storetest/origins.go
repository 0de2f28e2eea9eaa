package storetest

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/dossiercrm/dossier/crm"
)

// originsByField returns a customer of organisation A's field origins by
// field, failing the test on an error or a field listed twice.
func (e *env) originsByField(id string) map[string]crm.FieldOrigin {
	e.t.Helper()
	return e.originsIn(e.a, id)
}

// originsIn is originsByField for the organisation of ctx.
func (e *env) originsIn(ctx context.Context, id string) map[string]crm.FieldOrigin {
	e.t.Helper()
	list, err := e.crm.Interactions.Origins(ctx, id)
	if err != nil {
		e.t.Fatal(err)
	}
	out := map[string]crm.FieldOrigin{}
	for _, o := range list {
		if _, twice := out[o.Field]; twice {
			e.t.Fatalf("field %s listed twice: %+v", o.Field, list)
		}
		out[o.Field] = o
	}
	if !slices.IsSortedFunc(list, func(a, b crm.FieldOrigin) int {
		if a.Field < b.Field {
			return -1
		}
		if a.Field > b.Field {
			return 1
		}
		return 0
	}) {
		e.t.Fatalf("origins not sorted by field: %+v", list)
	}
	return out
}

// testFieldOriginsOfCreated: the origins of the fields a customer was
// created with (by an import, by an interaction) are kept in one value by
// the store; the field-origin rule reads them as one origin per field: an
// interaction keeps imported values and fills empty fields, staff's change
// wins over both, a later import refreshes imported and interaction values
// but not staff's, reverting it restores them, and a merge keeps the
// survivor's origins field by field.
func testFieldOriginsOfCreated(t *testing.T, open func(t *testing.T) crm.Store) {
	e := newEnv(t, open)
	t0 := e.now
	im := e.runImport(e.a, "Email,First name,Last name,City,Company\neva@example.nl,Eva,Smit,Delft,Import BV\n", crm.NewImport{FileName: "a.csv", Mode: crm.ImportAdd})
	eva := e.list(e.a, crm.CustomerFilter{Email: "eva@example.nl"})[0]
	o := e.originsByField(eva.ID)
	for _, f := range []string{"address.city", "company", "email", "firstName", "lastName"} {
		if got := o[f]; got.Kind != crm.OriginImport || got.Source != im.ID || !got.At.Equal(t0) {
			t.Fatalf("%s after the import: %+v (all %+v)", f, got, o)
		}
	}
	if _, ok := o["phones"]; ok {
		t.Fatalf("an origin for a field the import left empty: %+v", o)
	}

	// An interaction keeps what the import set and fills what is empty.
	e.now = t0.Add(time.Hour)
	res := e.record(integration(e.a), crm.NewInteraction{Kind: crm.InteractionReservation, Source: "resengo",
		InteractionContent: crm.InteractionContent{FirstName: "Evi", Company: "Web BV", Emails: []string{"eva@example.nl"},
			Address: &crm.Address{City: "Ede", PostalCode: "1234 AB"}}})
	if c := res.Customer; c.ID != eva.ID || c.FirstName != "Eva" || c.Company != "Import BV" || c.Address.City != "Delft" || c.Address.PostalCode != "1234 AB" {
		t.Fatalf("after the interaction: %+v", c.CustomerFields)
	}
	o = e.originsByField(eva.ID)
	if got := o["address.postalCode"]; got.Kind != crm.OriginInteraction || got.Source != "resengo" || !got.At.Equal(t0.Add(time.Hour)) {
		t.Fatalf("postal code origin %+v", got)
	}
	if got := o["firstName"]; got.Kind != crm.OriginImport || got.Source != im.ID {
		t.Fatalf("first name origin after the interaction %+v", got)
	}

	// Staff change the company: from then on it is staff's.
	e.now = t0.Add(2 * time.Hour)
	cur, _ := e.crm.Customers.Get(e.a, eva.ID)
	if _, err := e.crm.Customers.Update(e.a, eva.ID, cur.Version, crm.CustomerPatch{Company: ptr("Staff BV")}); err != nil {
		t.Fatal(err)
	}
	if got := e.originsByField(eva.ID)["company"]; got.Kind != crm.OriginStaff {
		t.Fatalf("company origin after staff's change %+v", got)
	}

	// A later import refreshes the imported first name and the
	// interaction's postal code, and keeps staff's company.
	e.now = t0.Add(3 * time.Hour)
	im2 := e.runImport(e.a, "Email,First name,Company,Postal code\neva@example.nl,Eve,Import2 BV,9999 ZZ\n", crm.NewImport{FileName: "b.csv", Mode: crm.ImportUpdate})
	c, _ := e.crm.Customers.Get(e.a, eva.ID)
	if c.FirstName != "Eve" || c.Company != "Staff BV" || c.Address.PostalCode != "9999 ZZ" || c.LastName != "Smit" {
		t.Fatalf("after the second import: %+v", c.CustomerFields)
	}
	o = e.originsByField(eva.ID)
	if got := o["firstName"]; got.Kind != crm.OriginImport || got.Source != im2.ID || !got.At.Equal(t0.Add(3*time.Hour)) {
		t.Fatalf("first name origin after the second import %+v", got)
	}
	if got := o["lastName"]; got.Kind != crm.OriginImport || got.Source != im.ID || !got.At.Equal(t0) {
		t.Fatalf("last name origin after the second import %+v", got)
	}
	// Reverting the second import restores its values: nobody changed
	// them since.
	if _, err := e.crm.Imports.Revert(e.a, im2.ID); err != nil {
		t.Fatal(err)
	}
	c, _ = e.crm.Customers.Get(e.a, eva.ID)
	if c.FirstName != "Eva" || c.Company != "Staff BV" || c.Address.PostalCode != "1234 AB" {
		t.Fatalf("after reverting the second import: %+v", c.CustomerFields)
	}
	// Reverting the first keeps the customer it created: changed since.
	if res, err := e.crm.Imports.Revert(e.a, im.ID); err != nil || res.Removed != 0 || len(res.Kept) != 1 {
		t.Fatalf("revert of the first import: %+v %v", res, err)
	}

	// A customer made by an interaction: a later interaction refreshes
	// what interactions set.
	e.now = t0.Add(4 * time.Hour)
	nina := e.record(integration(e.a), crm.NewInteraction{Kind: crm.InteractionReservation, Source: "resengo",
		InteractionContent: crm.InteractionContent{FirstName: "Nina", LastName: "Berg", Company: "Berg BV", Emails: []string{"nina@example.nl"}}}).Customer
	e.now = t0.Add(5 * time.Hour)
	res = e.record(integration(e.a), crm.NewInteraction{Kind: crm.InteractionTool, Source: "thefork",
		InteractionContent: crm.InteractionContent{Company: "Berg & Co", Emails: []string{"nina@example.nl"}}})
	if res.Customer.ID != nina.ID || res.Customer.Company != "Berg & Co" {
		t.Fatalf("not refreshed: %+v", res.Customer.CustomerFields)
	}
	o = e.originsByField(nina.ID)
	if got := o["company"]; got.Kind != crm.OriginInteraction || got.Source != "thefork" || !got.At.Equal(t0.Add(5*time.Hour)) {
		t.Fatalf("company origin %+v", got)
	}
	if got := o["firstName"]; got.Kind != crm.OriginInteraction || got.Source != "resengo" || !got.At.Equal(t0.Add(4*time.Hour)) {
		t.Fatalf("first name origin %+v", got)
	}

	// Merge the interaction's customer into the imported one: the
	// survivor's origins win field by field.
	surv, _ := e.crm.Customers.Get(e.a, eva.ID)
	dup, _ := e.crm.Customers.Get(e.a, nina.ID)
	if _, err := e.crm.Merges.Merge(e.a, crm.MergeRequest{SurvivorID: surv.ID, DuplicateID: dup.ID,
		SurvivorVersion: surv.Version, DuplicateVersion: dup.Version}); err != nil {
		t.Fatal(err)
	}
	o = e.originsByField(eva.ID)
	if got := o["lastName"]; got.Kind != crm.OriginImport || got.Source != im.ID {
		t.Fatalf("last name origin after the merge %+v", got)
	}
	if got := o["company"]; got.Kind != crm.OriginStaff {
		t.Fatalf("company origin after the merge %+v", got)
	}
}
