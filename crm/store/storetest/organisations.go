package storetest

import (
	"context"
	"errors"
	"testing"

	"github.com/dossiercrm/dossier/crm"
)

func testOrganisations(t *testing.T, open func(t *testing.T) crm.Store) {
	e := newEnv(t, open)
	ctx := context.Background()
	org, err := e.crm.Organisations.Create(ctx, crm.NewOrganisation{ID: "hotel-zuid", Name: "Hotel Zuid"})
	if err != nil {
		t.Fatal(err)
	}
	if org.DefaultLanguage != "en" || org.DefaultCountry != "" || !org.CreatedAt.Equal(testNow) {
		t.Fatalf("defaults from config: %+v", org)
	}
	got, err := e.crm.Organisations.Get(ctx, "hotel-zuid")
	if err != nil || *got != *org {
		t.Fatalf("get: %+v, %v; want %+v", got, err, org)
	}
	orgs, err := e.crm.Organisations.List(ctx)
	if err != nil || len(orgs) != 3 || orgs[0].ID != "hotel-zuid" || orgs[1].ID != orgA || orgs[2].ID != orgB {
		t.Fatalf("list = %+v, %v; want hotel-zuid, %s, %s", orgs, err, orgA, orgB)
	}
	_, err = e.crm.Organisations.Create(ctx, crm.NewOrganisation{ID: "hotel-zuid", Name: "Again"})
	var ce *crm.ConflictError
	if !errors.As(err, &ce) || ce.Field != "id" {
		t.Fatalf("duplicate id: %v, want a conflict on id", err)
	}
	_, err = e.crm.Organisations.Create(ctx, crm.NewOrganisation{ID: "Bad Id!", Name: "X", DefaultLanguage: "zz-ZZ", DefaultCountry: "XX"})
	ve := wantInvalid(t, err, "id", "invalid")
	if !ve.Has("defaultLanguage", "language") || !ve.Has("defaultCountry", "country") {
		t.Fatalf("fields %+v", ve.Fields)
	}
	up, err := e.crm.Organisations.Update(ctx, "hotel-zuid", crm.OrganisationPatch{DefaultLanguage: ptr("fr-be"), DefaultCountry: ptr("be")})
	if err != nil || up.DefaultLanguage != "fr-BE" || up.DefaultCountry != "BE" {
		t.Fatalf("update: %+v, %v", up, err)
	}
	_, err = e.crm.Organisations.Update(ctx, "nope", crm.OrganisationPatch{Name: ptr("x")})
	wantErr(t, err, crm.ErrNotFound)

	// New customers take the organisation's new settings.
	zuid := crm.WithActor(crm.WithOrg(ctx, "hotel-zuid"), crm.Staff(crm.AdministratorID))
	c := e.create(zuid, crm.CustomerFields{LastName: "Dupont", Phones: []crm.Phone{{Number: "02 555 12 12"}}})
	if c.Language != "fr-BE" || c.Phones[0].Number != "+3225551212" {
		t.Fatalf("customer of updated org: language %q phone %q", c.Language, c.Phones[0].Number)
	}
}
