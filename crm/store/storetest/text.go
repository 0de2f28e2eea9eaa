package storetest

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/dossiercrm/dossier/crm"
)

// testTextRules: every text the library accepts is valid UTF-8 without
// control characters (tab and line feed aside in free text), whatever the
// database would have done with it, and it is stored in NFC.
func testTextRules(t *testing.T, open func(t *testing.T) crm.Store) {
	e := newEnv(t, open)
	if _, err := e.crm.CustomFields.Define(e.a, crm.NewCustomField{Key: "note", Label: "Note", Type: crm.FieldText}); err != nil {
		t.Fatal(err)
	}
	existing := e.create(e.a, crm.CustomerFields{LastName: "Bestaand"})

	for _, tc := range []struct {
		name        string
		edit        func(*crm.CustomerFields)
		field, code string
	}{
		{"NUL in a name", func(f *crm.CustomerFields) { f.FirstName = "a\x00b" }, "firstName", "control"},
		{"NUL in remarks", func(f *crm.CustomerFields) { f.Remarks = "x\x00y" }, "remarks", "control"},
		{"escape in a street", func(f *crm.CustomerFields) { f.Address.Street = "Dorpsstraat\x1b[31m" }, "address.street", "control"},
		{"line feed in a name", func(f *crm.CustomerFields) { f.LastName = "Jan\nsen" }, "lastName", "control"},
		{"tab in a city", func(f *crm.CustomerFields) { f.Address.City = "Ams\tterdam" }, "address.city", "control"},
		{"DEL in origin", func(f *crm.CustomerFields) { f.Origin = "fair\x7f" }, "origin", "control"},
		{"C1 control in remarks", func(f *crm.CustomerFields) { f.Remarks = "a\u0085b" }, "remarks", "control"},
		{"invalid bytes", func(f *crm.CustomerFields) { f.LastName = "M\xff\xfeller" }, "lastName", "utf8"},
		{"overlong slash", func(f *crm.CustomerFields) { f.Company = "a\xc0\xafb" }, "company", "utf8"},
		{"encoded surrogate", func(f *crm.CustomerFields) { f.MiddleName = "\xed\xa0\x80" }, "middleName", "utf8"},
		{"truncated sequence", func(f *crm.CustomerFields) { f.InternalDescription = "caf\xc3" }, "internalDescription", "utf8"},
		{"NUL in an alternative e-mail", func(f *crm.CustomerFields) { f.AltEmails = []string{"a@example.nl", "b\x00@example.nl"} }, "altEmails[1]", "control"},
		{"NUL in a phone", func(f *crm.CustomerFields) { f.Phones = []crm.Phone{{Number: "06\x0012345678"}} }, "phones[0].number", "control"},
		{"NUL in a custom field", func(f *crm.CustomerFields) { f.CustomFields = map[string]any{"note": "a\x00"} }, "customFields.note", "control"},
		{"NUL in a custom field key", func(f *crm.CustomerFields) { f.CustomFields = map[string]any{"no\x00te": "a"} }, "customFields", "control"},
		{"NUL in a login e-mail", func(f *crm.CustomerFields) { f.LoginEmail = "anna\x00@example.nl" }, "loginEmail", "control"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := crm.CustomerFields{LastName: "Jansen"}
			tc.edit(&in)
			_, err := e.crm.Customers.Create(e.a, in)
			wantInvalid(t, err, tc.field, tc.code)

			patch := crm.CustomerPatch{
				FirstName: &in.FirstName, MiddleName: &in.MiddleName, LastName: &in.LastName, Company: &in.Company,
				Address: &in.Address, Origin: &in.Origin, Remarks: &in.Remarks, InternalDescription: &in.InternalDescription,
				AltEmails: &in.AltEmails, Phones: &in.Phones, LoginEmail: &in.LoginEmail, CustomFields: in.CustomFields,
			}
			_, err = e.crm.Customers.Update(e.a, existing.ID, existing.Version, patch)
			wantInvalid(t, err, tc.field, tc.code)
		})
	}
	if got, err := e.crm.Customers.Get(e.a, existing.ID); err != nil || got.Version != existing.Version {
		t.Fatalf("a refused update wrote: %+v, %v", got, err)
	}

	// Free text keeps tabs and line breaks; a carriage return is a line break.
	c := e.create(e.a, crm.CustomerFields{LastName: "Vrij", Remarks: "regel 1\r\nregel 2\rregel\t3",
		CustomFields: map[string]any{"note": "a\nb"}})
	if got, _ := e.crm.Customers.Get(e.a, c.ID); got.Remarks != "regel 1\nregel 2\nregel\t3" || got.CustomFields["note"] != "a\nb" {
		t.Fatalf("free text stored as %q, %q", got.Remarks, got.CustomFields["note"])
	}

	// Everything is stored in NFC: "é" as e + U+0301 comes back as U+00E9,
	// in nested values too, and the caller's own values are left alone.
	decomposed := "Rene\u0301e"
	alt := []string{"rene\u0301e@example.nl"}
	custom := map[string]any{"note": "cafe\u0301"}
	c = e.create(e.a, crm.CustomerFields{FirstName: decomposed, LastName: "Dupont", AltEmails: alt, CustomFields: custom,
		Address: crm.Address{City: "Orle\u0301ans"}})
	got, err := e.crm.Customers.Get(e.a, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.FirstName != "Renée" || got.AltEmails[0] != "renée@example.nl" || got.CustomFields["note"] != "café" || got.Address.City != "Orléans" {
		t.Fatalf("stored %q %q %q %q, want NFC", got.FirstName, got.AltEmails[0], got.CustomFields["note"], got.Address.City)
	}
	if alt[0] != "rene\u0301e@example.nl" || custom["note"] != "cafe\u0301" {
		t.Fatalf("the caller's values were changed: %q %q", alt[0], custom["note"])
	}
	// Search finds it in either form.
	for _, f := range []crm.CustomerFilter{{Name: "Rene\u0301e"}, {Name: "Renée"}, {Email: "renée@example.nl"}, {Email: "rene\u0301e@example.nl"}} {
		if n, err := e.crm.Customers.Count(e.a, f); err != nil || n != 1 {
			t.Errorf("count %+v = %d, %v; want 1", f, n, err)
		}
	}

	// Login e-mail addresses that look the same are the same, like case variants.
	e.create(e.a, crm.CustomerFields{LastName: "Één", LoginEmail: "andré@example.nl"})
	_, err = e.crm.Customers.Create(e.a, crm.CustomerFields{LastName: "Twee", LoginEmail: "andre\u0301@example.nl"})
	wantErr(t, err, crm.ErrConflict)
	_, err = e.crm.Customers.Create(e.a, crm.CustomerFields{LastName: "Drie", LoginEmail: "ANDRE\u0301@example.nl"})
	wantErr(t, err, crm.ErrConflict)
	if _, err := e.crm.Customers.GetByLoginEmail(e.a, "andre\u0301@example.nl"); err != nil {
		t.Fatalf("get by decomposed login e-mail: %v", err)
	}
	_, err = e.crm.Customers.GetByLoginEmail(e.a, "andré\x00@example.nl")
	wantInvalid(t, err, "email", "control")
	_, err = e.crm.Customers.AddAltEmail(e.a, c.ID, "x\x00@example.nl")
	wantInvalid(t, err, "email", "control")
	_, err = e.crm.Customers.AddAltEmail(e.a, c.ID, "RENÉE@example.nl")
	wantErr(t, err, crm.ErrConflict)

	// Filters: every text value that reaches a query is checked.
	for _, tc := range []struct {
		f     crm.CustomerFilter
		field string
		code  string
	}{
		{crm.CustomerFilter{Email: "\x00"}, "email", "control"},
		{crm.CustomerFilter{Name: "a\x00"}, "name", "control"},
		{crm.CustomerFilter{NameContains: "abc\xff"}, "nameContains", "utf8"},
		{crm.CustomerFilter{Phone: "06\x00"}, "phone", "control"},
		{crm.CustomerFilter{Origin: "web\x00"}, "origin", "control"},
		{crm.CustomerFilter{AssignedTo: "\xc0\xaf"}, "assignedTo", "utf8"},
		{crm.CustomerFilter{Language: "nl\x00"}, "language", "control"},
		{crm.CustomerFilter{Consents: []crm.ConsentCondition{{Purpose: "news\x00letter", State: crm.ConsentGranted}}}, "consents[0].purpose", "control"},
	} {
		_, err := e.crm.Customers.Count(e.a, tc.f)
		wantInvalid(t, err, tc.field, tc.code)
		_, err = e.crm.Customers.List(e.a, tc.f, crm.PageRequest{})
		wantInvalid(t, err, tc.field, tc.code)
		_, err = e.crm.Segments.Create(e.a, crm.NewSegment{Name: "S", Filter: tc.f})
		wantInvalid(t, err, "filter."+tc.field, tc.code)
	}

	// Every other service checks its texts the same way.
	_, err = e.crm.Tags.Define(e.a, crm.NewQualifier{Name: "t\x00"})
	wantInvalid(t, err, "name", "control")
	tag, err := e.crm.Tags.Define(e.a, crm.NewQualifier{Name: "Cafe\u0301"})
	if err != nil || tag.Name != "Café" {
		t.Fatalf("tag %+v, %v; want its name in NFC", tag, err)
	}
	_, err = e.crm.Tags.Define(e.a, crm.NewQualifier{Name: "café"})
	wantErr(t, err, crm.ErrConflict)
	_, err = e.crm.Tags.Update(e.a, tag.ID, crm.QualifierPatch{Name: ptr("\xff")})
	wantInvalid(t, err, "name", "utf8")
	_, err = e.crm.Attributes.Define(e.a, crm.NewQualifier{Name: "Duiken\x07"})
	wantInvalid(t, err, "name", "control")
	_, err = e.crm.Labels.Define(e.a, crm.NewLabel{Name: "Club\x00"})
	wantInvalid(t, err, "name", "control")
	if l, err := e.crm.Labels.Define(e.a, crm.NewLabel{Name: "Club", Benefits: "10% korting\nop alles"}); err != nil || l.Benefits != "10% korting\nop alles" {
		t.Fatalf("label with two lines of benefits: %+v, %v", l, err)
	}
	_, err = e.crm.Segments.Create(e.a, crm.NewSegment{Name: "S\x00"})
	wantInvalid(t, err, "name", "control")
	_, err = e.crm.CustomFields.Define(e.a, crm.NewCustomField{Key: "x", Label: "X\x00", Type: crm.FieldText})
	wantInvalid(t, err, "label", "control")
	_, err = e.crm.CustomFields.Define(e.a, crm.NewCustomField{Key: "y", Label: "Y", Type: crm.FieldChoice, Choices: []string{"a", "b\x00"}})
	wantInvalid(t, err, "choices[1]", "control")
	_, err = e.crm.Documents.DefineAttribute(e.a, "Vouchers\x00")
	wantInvalid(t, err, "name", "control")
	_, err = e.crm.Documents.Add(e.a, c.ID, crm.NewDocument{FileName: "ticket\x00.pdf"}, strings.NewReader("x"))
	wantInvalid(t, err, "fileName", "control")
	_, err = e.crm.Documents.Add(e.a, c.ID, crm.NewDocument{FileName: "ticket.pdf", Title: "Ticket\xff"}, strings.NewReader("x"))
	wantInvalid(t, err, "title", "utf8")
	doc, err := e.crm.Documents.Add(e.a, c.ID, crm.NewDocument{FileName: "cafe\u0301.txt"}, strings.NewReader("x"))
	if err != nil || doc.FileName != "café.txt" || doc.Title != "café.txt" {
		t.Fatalf("document %+v, %v; want its names in NFC", doc, err)
	}
	_, err = e.crm.Documents.Update(e.a, doc.ID, crm.DocumentPatch{Title: ptr("a\x00")})
	wantInvalid(t, err, "title", "control")
	_, err = e.crm.Mail.SetTemplate(e.a, crm.TemplateDocumentDelivery, "nl", crm.MailTemplateInput{Subject: "Hallo\nBcc: x@example.nl", Text: "x"})
	wantInvalid(t, err, "subject", "control")
	_, err = e.crm.Mail.SetTemplate(e.a, crm.TemplateDocumentDelivery, "nl", crm.MailTemplateInput{Subject: "Hallo", Text: "x\x00"})
	wantInvalid(t, err, "text", "control")
	_, _, err = e.crm.APIKeys.Create(e.a, crm.NewAPIKey{Name: "key\x00", StaffUser: "staff-a"})
	wantInvalid(t, err, "name", "control")
	_, err = e.crm.Organisations.Update(e.a, orgA, crm.OrganisationPatch{Name: ptr("A\x00")})
	wantInvalid(t, err, "name", "control")
	_, err = e.crm.Consents.DefinePurpose(e.a, crm.NewConsentPurpose{Key: "events", Name: "Events\x00", Channel: crm.ChannelEmail})
	wantInvalid(t, err, "name", "control")
	_, err = e.crm.Consents.SetWording(e.a, crm.PurposeNewsletter, "nl", "Ja\x00")
	wantInvalid(t, err, "text", "control")
	_, err = e.crm.Consents.Give(e.a, c.ID, crm.ConsentInput{Purpose: crm.PurposeNewsletter, Source: crm.SourceStaff,
		Evidence: crm.Evidence{UserAgent: "Mozilla\x00"}})
	wantInvalid(t, err, "userAgent", "control")
	if _, err := e.crm.Organisations.Update(e.a, orgA, crm.OrganisationPatch{PointsEnabled: ptr(true)}); err != nil {
		t.Fatal(err)
	}
	_, err = e.crm.Points.Award(e.a, c.ID, crm.PointInput{Points: 10, Reason: "bonus\x00"})
	wantInvalid(t, err, "reason", "control")
	_, err = e.crm.Labels.UseBenefit(e.a, c.ID, tag.ID, "note\x00")
	wantInvalid(t, err, "note", "control")
}

// testDateRange: dates outside 0001-01-01..9999-12-31 are refused alike on
// every database, in every input that carries one.
func testDateRange(t *testing.T, open func(t *testing.T) crm.Store) {
	e := newEnv(t, open)
	c := e.create(e.a, crm.CustomerFields{LastName: "Datum"})
	for _, tc := range []struct {
		name string
		d    crm.Date
		code string
	}{
		{"year 0", crm.Date{Year: 0, Month: time.January, Day: 1}, "dateRange"},
		{"year 10000", crm.Date{Year: 10000, Month: time.January, Day: 1}, "dateRange"},
		{"negative year", crm.Date{Year: -44, Month: time.March, Day: 15}, "dateRange"},
		{"February 30", crm.Date{Year: 2025, Month: time.February, Day: 30}, "date"},
		{"month 13", crm.Date{Year: 2025, Month: 13, Day: 1}, "date"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := tc.d
			_, err := e.crm.Customers.Create(e.a, crm.CustomerFields{LastName: "X", BirthDate: &d})
			wantInvalid(t, err, "birthDate", tc.code)
			_, err = e.crm.Customers.Update(e.a, c.ID, c.Version, crm.CustomerPatch{PassportExpiry: &d})
			wantInvalid(t, err, "passportExpiry", tc.code)
			_, err = e.crm.Customers.Count(e.a, crm.CustomerFilter{FirstContactFrom: &d})
			wantInvalid(t, err, "firstContactFrom", tc.code)
		})
	}
	for _, s := range []string{"0000-01-01", "10000-01-01", "2025-02-30"} {
		if _, err := crm.ParseDate(s); err == nil {
			t.Errorf("ParseDate(%q) accepted it", s)
		}
	}
	for _, s := range []string{"0001-01-01", "9999-12-31"} {
		d, err := crm.ParseDate(s)
		if err != nil {
			t.Fatalf("ParseDate(%q): %v", s, err)
		}
		// The bounds themselves are stored and read back on every database.
		got, err := e.crm.Customers.Create(e.a, crm.CustomerFields{LastName: "Grens", PassportExpiry: &d})
		if err != nil {
			t.Fatalf("create with %s: %v", s, err)
		}
		if read, err := e.crm.Customers.Get(e.a, got.ID); err != nil || *read.PassportExpiry != d {
			t.Fatalf("read back %v, %v; want %s", read.PassportExpiry, err, s)
		}
	}
	_, err := e.crm.Customers.Count(e.a, crm.CustomerFilter{CreatedFrom: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)})
	wantInvalid(t, err, "createdFrom", "dateRange")
}

// testEmailRule: addresses a mail server would refuse are refused (the
// rule is crm's validEmail: RFC 5321 Mailbox with an RFC 1035/1123 domain).
func testEmailRule(t *testing.T, open func(t *testing.T) crm.Store) {
	e := newEnv(t, open)
	for _, bad := range []string{
		"anna@-example.nl", "anna@example-.nl", "anna@exa_mple.nl", "anna@example", "anna@example..nl", "anna@.example.nl",
		"anna..b@example.nl", ".anna@example.nl", "anna.@example.nl", `"anna b"@example.nl`, "anna@[192.0.2.1]",
		"anna@example.123", "an na@example.nl",
		"a@" + strings.Repeat("x", 64) + ".nl", strings.Repeat("a", 65) + "@example.nl", "Anna <anna@example.nl>", "anna@exam ple.nl",
	} {
		_, err := e.crm.Customers.Create(e.a, crm.CustomerFields{LastName: "X", Email: bad})
		var ve *crm.ValidationError
		if !errors.As(err, &ve) || !ve.Has("email", "") {
			t.Errorf("e-mail %q: %v, want refused", bad, err)
		}
	}
	for _, good := range []string{
		"anna@example.nl", "o'brien+news@mail.example.co.uk", "a-b@x-y.example", "müller@bücher.de", "anna@xn--bcher-kva.de",
		"a@" + strings.Repeat("x", 63) + ".nl", "user_1!#$%&*/=?^`{|}~@example.com",
	} {
		if _, err := e.crm.Customers.Create(e.a, crm.CustomerFields{LastName: "X", Email: good}); err != nil {
			t.Errorf("e-mail %q refused: %v", good, err)
		}
	}
}

// testFilterIDs: a filter naming tags, attributes or a membership label
// that the organisation does not have is refused, naming the member, in
// lists and counts as in segments; another organisation's ids are unknown.
func testFilterIDs(t *testing.T, open func(t *testing.T) crm.Store) {
	e := newEnv(t, open)
	aTags, err := e.crm.Tags.List(e.a)
	if err != nil {
		t.Fatal(err)
	}
	bTags, err := e.crm.Tags.List(e.b)
	if err != nil {
		t.Fatal(err)
	}
	aAttr, err := e.crm.Attributes.Define(e.a, crm.NewQualifier{Name: "Duiken"})
	if err != nil {
		t.Fatal(err)
	}
	bAttr, err := e.crm.Attributes.Define(e.b, crm.NewQualifier{Name: "Tauchen"})
	if err != nil {
		t.Fatal(err)
	}
	aClub, err := e.crm.Labels.Define(e.a, crm.NewLabel{Name: "Club", Membership: true})
	if err != nil {
		t.Fatal(err)
	}
	aPlain, err := e.crm.Labels.Define(e.a, crm.NewLabel{Name: "Plain"})
	if err != nil {
		t.Fatal(err)
	}
	bClub, err := e.crm.Labels.Define(e.b, crm.NewLabel{Name: "Klub", Membership: true})
	if err != nil {
		t.Fatal(err)
	}
	const random = "01936d3c-0000-7000-8000-000000000000"
	for _, tc := range []struct {
		name  string
		f     crm.CustomerFilter
		field string
	}{
		{"other organisation's tag", crm.CustomerFilter{Tags: crm.QualifierFilter{Any: []string{aTags[0].ID, bTags[0].ID}}}, "tags.any[1]"},
		{"random tag id", crm.CustomerFilter{Tags: crm.QualifierFilter{All: []string{random}}}, "tags.all[0]"},
		{"not an id", crm.CustomerFilter{Tags: crm.QualifierFilter{None: []string{aTags[0].ID, "VIP"}}}, "tags.none[1]"},
		{"attribute id as tag", crm.CustomerFilter{Tags: crm.QualifierFilter{Any: []string{aAttr.ID}}}, "tags.any[0]"},
		{"other organisation's attribute", crm.CustomerFilter{Attributes: crm.QualifierFilter{None: []string{bAttr.ID}}}, "attributes.none[0]"},
		{"tag id as attribute", crm.CustomerFilter{Attributes: crm.QualifierFilter{Any: []string{aTags[0].ID}}}, "attributes.any[0]"},
		{"other organisation's membership", crm.CustomerFilter{Membership: bClub.ID}, "membership"},
		{"random membership", crm.CustomerFilter{Membership: random}, "membership"},
		{"label without memberships", crm.CustomerFilter{Membership: aPlain.ID}, "membership"},
		{"unknown purpose", crm.CustomerFilter{Consents: []crm.ConsentCondition{{Purpose: "nope", State: crm.ConsentGranted}}}, "consents[0].purpose"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.crm.Customers.Count(e.a, tc.f)
			wantInvalid(t, err, tc.field, "unknown")
			_, err = e.crm.Customers.List(e.a, tc.f, crm.PageRequest{})
			wantInvalid(t, err, tc.field, "unknown")
			_, err = e.crm.Segments.Create(e.a, crm.NewSegment{Name: "S", Filter: tc.f})
			wantInvalid(t, err, "filter."+tc.field, "unknown")
		})
	}
	// The organisation's own ids pass.
	ok := crm.CustomerFilter{Tags: crm.QualifierFilter{Any: []string{aTags[0].ID}}, Attributes: crm.QualifierFilter{None: []string{aAttr.ID}},
		Membership: aClub.ID}
	if _, err := e.crm.Customers.Count(e.a, ok); err != nil {
		t.Fatalf("count with known ids: %v", err)
	}
	seg, err := e.crm.Segments.Create(e.a, crm.NewSegment{Name: "Stamgasten", Filter: crm.CustomerFilter{Tags: crm.QualifierFilter{Any: []string{aTags[0].ID}}}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.crm.Segments.Update(e.a, seg.ID, crm.SegmentPatch{Filter: &crm.CustomerFilter{Tags: crm.QualifierFilter{Any: []string{bTags[0].ID}}}})
	wantInvalid(t, err, "filter.tags.any[0]", "unknown")

	// A saved segment whose tag was deleted since still runs: the tag is
	// one no customer carries. It can still be renamed.
	c := e.create(e.a, crm.CustomerFields{LastName: "Vast"})
	if _, err := e.crm.Tags.Add(e.a, c.ID, aTags[0].ID); err != nil {
		t.Fatal(err)
	}
	if n, err := e.crm.Segments.Count(e.a, seg.ID); err != nil || n != 1 {
		t.Fatalf("segment count %d, %v; want 1", n, err)
	}
	if err := e.crm.Tags.Delete(e.a, aTags[0].ID); err != nil {
		t.Fatal(err)
	}
	if n, err := e.crm.Segments.Count(e.a, seg.ID); err != nil || n != 0 {
		t.Fatalf("segment count after the tag was deleted: %d, %v; want 0", n, err)
	}
	if _, err := e.crm.Segments.Update(e.a, seg.ID, crm.SegmentPatch{Name: ptr("Oud")}); err != nil {
		t.Fatalf("rename a segment with a deleted tag: %v", err)
	}
}

// testTemplateKeys: a mail template key is built in or declared by the
// organisation; another organisation's declaration does not count.
func testTemplateKeys(t *testing.T, open func(t *testing.T) crm.Store) {
	e := newEnv(t, open)
	in := crm.MailTemplateInput{Subject: "Welkom", Text: "Welkom {{.Customer.FirstName}}"}
	_, err := e.crm.Mail.SetTemplate(e.a, "nope", "en", in)
	wantInvalid(t, err, "key", "unknown")

	if _, err := e.crm.Mail.AddTemplate(e.a, "welcome", "nl", in); err != nil {
		t.Fatalf("declare: %v", err)
	}
	if _, err := e.crm.Mail.SetTemplate(e.a, "welcome", "en", crm.MailTemplateInput{Subject: "Welcome", Text: "Welcome"}); err != nil {
		t.Fatalf("a declared key in another language: %v", err)
	}
	_, err = e.crm.Mail.AddTemplate(e.a, "welcome", "de", in)
	wantErr(t, err, crm.ErrConflict)
	_, err = e.crm.Mail.AddTemplate(e.a, crm.TemplateSetPassword, "nl", in)
	wantErr(t, err, crm.ErrConflict)
	_, err = e.crm.Mail.AddTemplate(e.a, "Welkom Mail", "nl", in)
	wantInvalid(t, err, "key", "key")
	_, err = e.crm.Mail.AddTemplate(e.a, "welkom\x00", "nl", in)
	wantInvalid(t, err, "key", "control")
	wantInvalid(t, e.crm.Mail.DeleteTemplate(e.a, "welcome\x00", "nl"), "key", "control")
	wantInvalid(t, e.crm.Mail.DeleteTemplate(e.a, "welcome", "nl\xff"), "language", "utf8")

	// Organisation B has not declared A's key.
	_, err = e.crm.Mail.SetTemplate(e.b, "welcome", "de", in)
	wantInvalid(t, err, "key", "unknown")
	if _, err := e.crm.Mail.AddTemplate(e.b, "welcome", "de", in); err != nil {
		t.Fatalf("B declares the same key for itself: %v", err)
	}

	// Without a text in any language the key is no longer declared.
	for _, lang := range []string{"nl", "en"} {
		if err := e.crm.Mail.DeleteTemplate(e.a, "welcome", lang); err != nil {
			t.Fatal(err)
		}
	}
	_, err = e.crm.Mail.SetTemplate(e.a, "welcome", "nl", in)
	wantInvalid(t, err, "key", "unknown")
	if _, err := e.crm.Mail.SetTemplate(e.b, "welcome", "en", in); err != nil {
		t.Fatalf("B's key is still declared: %v", err)
	}
}
