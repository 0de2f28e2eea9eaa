package storetest

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"github.com/dossiercrm/dossier/crm"
)

func testCustomFields(t *testing.T, open func(t *testing.T) crm.Store) {
	e := newEnv(t, open)
	defs := []crm.NewCustomField{
		{Key: "diet", Label: "Diet", Type: crm.FieldText, Position: 1},
		{Key: "shoe_size", Label: "Shoe size", Type: crm.FieldNumber, Position: 2},
		{Key: "member_since", Label: "Member since", Type: crm.FieldDate, Position: 3},
		{Key: "invoice_email", Label: "Invoice e-mail", Type: crm.FieldEmail, Position: 4},
		{Key: "emergency", Label: "Emergency number", Type: crm.FieldPhone, Position: 5},
		{Key: "seat", Label: "Seat", Type: crm.FieldChoice, Choices: []string{"window", "aisle"}, Position: 6},
		{Key: "vegetarian", Label: "Vegetarian", Type: crm.FieldBool, Position: 7},
	}
	for _, d := range defs {
		if _, err := e.crm.CustomFields.Define(e.a, d); err != nil {
			t.Fatalf("define %s: %v", d.Key, err)
		}
	}
	listed, err := e.crm.CustomFields.List(e.a, false)
	if err != nil || len(listed) != len(defs) || listed[5].Key != "seat" || !reflect.DeepEqual(listed[5].Choices, []string{"window", "aisle"}) {
		t.Fatalf("list: %+v, %v", listed, err)
	}

	c := e.create(e.a, crm.CustomerFields{LastName: "Custom", CustomFields: map[string]any{
		"diet": " none ", "shoe_size": 43, "member_since": "2020-02-29", "invoice_email": "inv@example.nl",
		"emergency": "06 1234 5678", "seat": "aisle", "vegetarian": true,
	}})
	want := map[string]any{
		"diet": "none", "shoe_size": 43.0, "member_since": "2020-02-29", "invoice_email": "inv@example.nl",
		"emergency": "+31612345678", "seat": "aisle", "vegetarian": true,
	}
	if !reflect.DeepEqual(c.CustomFields, want) {
		t.Fatalf("normalised values %v, want %v", c.CustomFields, want)
	}
	got, _ := e.crm.Customers.Get(e.a, c.ID)
	if !reflect.DeepEqual(got.CustomFields, want) {
		t.Fatalf("stored values %v, want %v", got.CustomFields, want)
	}

	bad := map[string]struct {
		value any
		code  string
	}{
		"shoe_size":     {"43", "type"},
		"member_since":  {"2020-02-30", "date"},
		"invoice_email": {"nope", "email"},
		"emergency":     {"123", "phone"},
		"seat":          {"middle", "choice"},
		"vegetarian":    {"yes", "type"},
		"diet":          {42, "type"},
	}
	for key, b := range bad {
		_, err := e.crm.Customers.Update(e.a, c.ID, 1, crm.CustomerPatch{CustomFields: map[string]any{key: b.value}})
		wantInvalid(t, err, "customFields."+key, b.code)
	}

	// Definition rules.
	_, err = e.crm.CustomFields.Define(e.a, crm.NewCustomField{Key: "diet", Label: "Again", Type: crm.FieldText})
	var ce *crm.ConflictError
	if !errors.As(err, &ce) || ce.Field != "key" {
		t.Fatalf("duplicate key: %v", err)
	}
	_, err = e.crm.CustomFields.Define(e.a, crm.NewCustomField{Key: "Bad Key", Label: "X", Type: "colour"})
	ve := wantInvalid(t, err, "key", "key")
	if !ve.Has("type", "oneof") {
		t.Fatalf("fields %+v", ve.Fields)
	}
	_, err = e.crm.CustomFields.Define(e.a, crm.NewCustomField{Key: "menu", Label: "Menu", Type: crm.FieldChoice})
	wantInvalid(t, err, "choices", "required")
	up, err := e.crm.CustomFields.Update(e.a, "seat", crm.CustomFieldPatch{Label: ptr("Seat preference"), Choices: &[]string{"window", "aisle", "front"}})
	if err != nil || up.Label != "Seat preference" || len(up.Choices) != 3 {
		t.Fatalf("update definition: %+v, %v", up, err)
	}
	_, err = e.crm.CustomFields.Update(e.a, "nope", crm.CustomFieldPatch{Label: ptr("x")})
	wantErr(t, err, crm.ErrNotFound)

	// Making a field required binds new customers, not edits of others.
	if _, err := e.crm.CustomFields.Update(e.a, "diet", crm.CustomFieldPatch{Required: ptr(true)}); err != nil {
		t.Fatal(err)
	}
	_, err = e.crm.Customers.Create(e.a, crm.CustomerFields{LastName: "New"})
	wantInvalid(t, err, "customFields.diet", "required")
	older := e.create(e.a, crm.CustomerFields{LastName: "Older", CustomFields: map[string]any{"diet": "fish"}})
	_, err = e.crm.Customers.Update(e.a, older.ID, 1, crm.CustomerPatch{CustomFields: map[string]any{"diet": nil}})
	wantInvalid(t, err, "customFields.diet", "required")
}

func testCustomFieldArchive(t *testing.T, open func(t *testing.T) crm.Store) {
	e := newEnv(t, open)
	if _, err := e.crm.CustomFields.Define(e.a, crm.NewCustomField{Key: "club", Label: "Club", Type: crm.FieldText}); err != nil {
		t.Fatal(err)
	}
	c := e.create(e.a, crm.CustomerFields{LastName: "Member", CustomFields: map[string]any{"club": "Ajax"}})
	def, err := e.crm.CustomFields.Archive(e.a, "club")
	if err != nil || def.ArchivedAt == nil {
		t.Fatalf("archive: %+v, %v", def, err)
	}
	if active, _ := e.crm.CustomFields.List(e.a, false); len(active) != 0 {
		t.Fatalf("archived field still listed as active: %+v", active)
	}
	if all, _ := e.crm.CustomFields.List(e.a, true); len(all) != 1 || !all[0].Archived() {
		t.Fatalf("archived field missing from the full list: %+v", all)
	}
	// The stored value stays, survives unrelated updates, and cannot be changed.
	u, err := e.crm.Customers.Update(e.a, c.ID, 1, crm.CustomerPatch{Remarks: ptr("still a member")})
	if err != nil || u.CustomFields["club"] != "Ajax" {
		t.Fatalf("value after an unrelated update: %v, %v", u, err)
	}
	_, err = e.crm.Customers.Update(e.a, c.ID, 2, crm.CustomerPatch{CustomFields: map[string]any{"club": "PSV"}})
	wantInvalid(t, err, "customFields.club", "archived")
	_, err = e.crm.Customers.Create(e.a, crm.CustomerFields{LastName: "New", CustomFields: map[string]any{"club": "AZ"}})
	wantInvalid(t, err, "customFields.club", "archived")
	// Removing the value on purpose is allowed and recorded.
	cleared, err := e.crm.Customers.Update(e.a, c.ID, 2, crm.CustomerPatch{CustomFields: map[string]any{"club": nil}})
	if err != nil || cleared.CustomFields != nil {
		t.Fatalf("clear archived value: %+v, %v", cleared, err)
	}
	// Restore brings the field back for writing.
	if _, err := e.crm.CustomFields.Restore(e.a, "club"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.crm.Customers.Update(e.a, c.ID, 3, crm.CustomerPatch{CustomFields: map[string]any{"club": "PSV"}}); err != nil {
		t.Fatalf("write restored field: %v", err)
	}
}

// testOrganisationRules: the one read every customer write starts with
// gives what OrganisationGet and CustomFieldList give, archived
// definitions included, in their order; only the organisation's own; an
// organisation without definitions has none, and an unknown one is
// ErrNotFound.
func testOrganisationRules(t *testing.T, open func(t *testing.T) crm.Store) {
	e := newEnv(t, open)
	ctx := context.Background()
	org, defs, err := e.store.OrganisationRules(ctx, orgA)
	if err != nil || org.ID != orgA || len(defs) != 0 {
		t.Fatalf("no definitions: %+v, %+v, %v", org, defs, err)
	}
	for _, d := range []crm.NewCustomField{
		{Key: "seat", Label: "Seat", Type: crm.FieldChoice, Choices: []string{"window", "aisle"}, Position: 2, Required: true},
		{Key: "diet", Label: "Diet", Type: crm.FieldText, Position: 1},
		{Key: "club", Label: "Club", Type: crm.FieldText, Position: 2},
	} {
		if _, err := e.crm.CustomFields.Define(e.a, d); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.crm.CustomFields.Archive(e.a, "club"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.crm.CustomFields.Define(e.b, crm.NewCustomField{Key: "only_b", Label: "B", Type: crm.FieldBool}); err != nil {
		t.Fatal(err)
	}
	org, defs, err = e.store.OrganisationRules(ctx, orgA)
	if err != nil {
		t.Fatal(err)
	}
	wantOrg, err := e.store.OrganisationGet(ctx, orgA)
	if err != nil {
		t.Fatal(err)
	}
	wantDefs, err := e.store.CustomFieldList(ctx, orgA)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(org, wantOrg) {
		t.Errorf("organisation %+v, want %+v", org, wantOrg)
	}
	if !reflect.DeepEqual(defs, wantDefs) || len(defs) != 3 || defs[0].Key != "diet" || defs[1].Key != "club" || !defs[1].Archived() {
		t.Errorf("definitions %+v, want %+v (diet, club archived, seat)", defs, wantDefs)
	}
	if _, _, err := e.store.OrganisationRules(ctx, "no-such-org"); !errors.Is(err, crm.ErrNotFound) {
		t.Errorf("unknown organisation: %v, want ErrNotFound", err)
	}
}

// testOrganisationRulesChanges: a change of an organisation's rules is
// seen by the next customer write at once, also when a read outside the
// change's transaction happened while it was open; a rolled-back change
// is never seen; and one organisation's change leaves the other's rules
// as they were.
func testOrganisationRulesChanges(t *testing.T, open func(t *testing.T) crm.Store) {
	e := newEnv(t, open)
	ctx := context.Background()
	// createdLanguage creates a customer and returns the language it got:
	// its organisation's default language, a rule read at every write.
	createdLanguage := func(actx context.Context, name string) string {
		t.Helper()
		c, err := e.crm.Customers.Create(actx, crm.CustomerFields{LastName: name})
		if err != nil {
			t.Fatalf("create %s: %v", name, err)
		}
		return c.Language
	}
	// setLanguage changes orgA's default language in tx.
	setLanguage := func(tx crm.Store, lang string) error {
		org, err := tx.OrganisationGet(ctx, orgA)
		if err != nil {
			return err
		}
		org.DefaultLanguage = lang
		return tx.OrganisationUpdate(ctx, org)
	}
	// Writes read the rules first: these fill whatever the store keeps.
	createdLanguage(e.a, "Before")
	createdLanguage(e.b, "Before")

	// A change in a transaction, with a read beside it before it commits.
	err := e.store.InTx(ctx, func(tx crm.Store) error {
		if err := setLanguage(tx, "fr"); err != nil {
			return err
		}
		inside, _, err := tx.OrganisationRules(ctx, orgA)
		if err != nil || inside.DefaultLanguage != "fr" {
			t.Errorf("rules inside the changing transaction: %+v, %v; want its own change", inside, err)
		}
		beside, _, err := e.store.OrganisationRules(ctx, orgA)
		if err != nil || beside.DefaultLanguage != "nl" {
			t.Errorf("rules beside the open change: %+v, %v; want the committed ones", beside, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if lang := createdLanguage(e.a, "After"); lang != "fr" {
		t.Fatalf("create after the change: language %q, want fr", lang)
	}

	// A rolled-back change, with a read beside it.
	errUndo := errors.New("undo")
	err = e.store.InTx(ctx, func(tx crm.Store) error {
		if err := setLanguage(tx, "en"); err != nil {
			return err
		}
		if _, _, err := e.store.OrganisationRules(ctx, orgA); err != nil {
			return err
		}
		return errUndo
	})
	if !errors.Is(err, errUndo) {
		t.Fatalf("rolled-back change: %v", err)
	}
	if lang := createdLanguage(e.a, "Undone"); lang != "fr" {
		t.Fatalf("create after a rolled-back change: language %q, want fr", lang)
	}

	// A new required field through the service: the next create needs it.
	if _, err := e.crm.CustomFields.Define(e.a, crm.NewCustomField{Key: "seat", Label: "Seat", Type: crm.FieldText, Required: true}); err != nil {
		t.Fatal(err)
	}
	var ve *crm.ValidationError
	if _, err := e.crm.Customers.Create(e.a, crm.CustomerFields{LastName: "No seat"}); !errors.As(err, &ve) || !ve.Has("customFields.seat", "required") {
		t.Fatalf("create without the new required field: %v; want a ValidationError naming customFields.seat", err)
	}
	// The other organisation's rules did not change.
	if lang := createdLanguage(e.b, "Other"); lang != "de" {
		t.Fatalf("other organisation's create: language %q, want de", lang)
	}
}
