package storetest

import (
	"strings"
	"testing"

	"github.com/dossiercrm/dossier/crm"
)

func testValidation(t *testing.T, open func(t *testing.T) crm.Store) {
	e := newEnv(t, open)
	if _, err := e.crm.CustomFields.Define(e.a, crm.NewCustomField{Key: "shoe_size", Label: "Shoe size", Type: crm.FieldNumber, Required: true}); err != nil {
		t.Fatalf("define: %v", err)
	}
	valid := func() crm.CustomerFields {
		return crm.CustomerFields{LastName: "Valid", CustomFields: map[string]any{"shoe_size": 42.0}}
	}
	existing := e.create(e.a, valid())

	cases := []struct {
		name        string
		edit        func(*crm.CustomerFields)
		field, code string
	}{
		{"bad login e-mail", func(f *crm.CustomerFields) { f.LoginEmail = "not-an-address" }, "loginEmail", "email"},
		{"e-mail with display name", func(f *crm.CustomerFields) { f.Email = "Anna <anna@example.nl>" }, "email", "email"},
		{"bad alternative e-mail", func(f *crm.CustomerFields) { f.AltEmails = []string{"ok@example.nl", "nope"} }, "altEmails[1]", "email"},
		{"repeated alternative e-mail", func(f *crm.CustomerFields) { f.AltEmails = []string{"a@example.nl", "A@example.nl"} }, "altEmails[1]", "duplicate"},
		{"unparsable phone", func(f *crm.CustomerFields) { f.Phones = []crm.Phone{{Number: "12"}} }, "phones[0].number", "phone"},
		{"phone of letters", func(f *crm.CustomerFields) { f.Phones = []crm.Phone{{Number: "call me"}} }, "phones[0].number", "phone"},
		{"bad phone kind", func(f *crm.CustomerFields) { f.Phones = []crm.Phone{{Kind: "fax", Number: "0612345678"}} }, "phones[0].kind", "oneof"},
		{"unknown language tag", func(f *crm.CustomerFields) { f.Language = "xx-QQ" }, "language", "language"},
		{"ill-formed language tag", func(f *crm.CustomerFields) { f.Language = "english please" }, "language", "language"},
		{"unknown country", func(f *crm.CustomerFields) { f.Address.Country = "QQ" }, "address.country", "country"},
		{"unknown custom field", func(f *crm.CustomerFields) { f.CustomFields["hat_size"] = 7.0 }, "customFields.hat_size", "unknown_field"},
		{"custom field of the wrong type", func(f *crm.CustomerFields) { f.CustomFields["shoe_size"] = "big" }, "customFields.shoe_size", "type"},
		{"missing required custom field", func(f *crm.CustomerFields) { f.CustomFields = nil }, "customFields.shoe_size", "required"},
		{"birth date in the future", func(f *crm.CustomerFields) { f.BirthDate = ptr(crm.MustDate("2026-11-23")) }, "birthDate", "future"},
		{"first contact in the future", func(f *crm.CustomerFields) { f.FirstContact = ptr(crm.MustDate("2027-01-01")) }, "firstContact", "future"},
		{"no name, company or e-mail", func(f *crm.CustomerFields) { f.LastName = "" }, "lastName", "required"},
		{"name too long", func(f *crm.CustomerFields) { f.FirstName = strings.Repeat("a", 101) }, "firstName", "max"},
		{"unknown status", func(f *crm.CustomerFields) { f.Status = "vip" }, "status", "oneof"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := valid()
			tc.edit(&in)
			_, err := e.crm.Customers.Create(e.a, in)
			wantInvalid(t, err, tc.field, tc.code)

			// The same rule holds on update, and a refused update writes nothing.
			patch := crm.CustomerPatch{
				LastName: &in.LastName, FirstName: &in.FirstName, Email: &in.Email, LoginEmail: &in.LoginEmail,
				AltEmails: &in.AltEmails, Phones: &in.Phones, Language: &in.Language, Address: &in.Address,
				BirthDate: in.BirthDate, FirstContact: in.FirstContact, Status: &in.Status,
				CustomFields: in.CustomFields,
			}
			if in.Language == "" {
				patch.Language = nil
			}
			if in.Status == "" {
				patch.Status = nil
			}
			if in.CustomFields == nil {
				patch.CustomFields = map[string]any{"shoe_size": nil}
			}
			_, err = e.crm.Customers.Update(e.a, existing.ID, existing.Version, patch)
			wantInvalid(t, err, tc.field, tc.code)
		})
	}

	// Nothing of the refused inputs was stored.
	if got := e.list(e.a, crm.CustomerFilter{}); len(got) != 1 {
		t.Fatalf("%d customers stored, want only the valid one", len(got))
	}
	stored, err := e.crm.Customers.Get(e.a, existing.ID)
	if err != nil || stored.Version != 1 {
		t.Fatalf("refused updates changed the customer: version %v, err %v", stored, err)
	}
	if n := len(e.history(e.a, existing.ID)); n != 1 {
		t.Fatalf("%d history events, want only the creation", n)
	}

	// Every failing field is listed at once, in the caller's language.
	nl := crm.WithLanguage(e.a, "nl")
	_, err = e.crm.Customers.Create(nl, crm.CustomerFields{LastName: "X", LoginEmail: "bad", Language: "xx",
		BirthDate: ptr(crm.MustDate("2030-01-01")), CustomFields: map[string]any{"shoe_size": 40.0}})
	ve := wantInvalid(t, err, "loginEmail", "email")
	if len(ve.Fields) != 3 || !ve.Has("language", "language") || !ve.Has("birthDate", "future") {
		t.Fatalf("fields %+v, want loginEmail, language and birthDate", ve.Fields)
	}
	for _, f := range ve.Fields {
		if !strings.HasPrefix(f.Message, f.Field+" ") || f.Message == f.Field+" "+f.Code {
			t.Fatalf("message %q does not read as a sentence about %s", f.Message, f.Field)
		}
	}
	if msg := ve.Fields[0].Message; !strings.Contains(msg, "e-mailadres") {
		t.Fatalf("Dutch caller got %q", msg)
	}

	// Bad paging input is invalid too.
	_, err = e.crm.Customers.List(e.a, crm.CustomerFilter{}, crm.PageRequest{Cursor: "%%%"})
	wantInvalid(t, err, "cursor", "cursor")
	_, err = e.crm.Customers.List(e.a, crm.CustomerFilter{}, crm.PageRequest{Limit: crm.MaxPageLimit + 1})
	wantInvalid(t, err, "limit", "limit")
	_, err = e.crm.Customers.List(e.a, crm.CustomerFilter{Phone: "not a phone"}, crm.PageRequest{})
	wantInvalid(t, err, "phone", "phone")
	_, err = e.crm.Customers.Update(e.a, existing.ID, 0, crm.CustomerPatch{})
	wantInvalid(t, err, "version", "version")
}
