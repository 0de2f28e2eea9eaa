package storetest

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dossiercrm/dossier/crm"
)

// Distinctive is a customer with a distinctive value in every field and in
// every table that can hold its data. The store's scan test looks for
// these values anywhere in the database after anonymisation.
type Distinctive struct {
	Customer *crm.Customer
	// Values are the strings that must not survive anonymisation.
	Values []string
}

// MakeDistinctive writes the customer of Distinctive into organisation A's
// context ctx: record, alternative e-mails, custom fields, tags,
// attributes, labels, a membership, a benefit use with a note, consent
// records with evidence, a pending double opt-in and several updates.
func MakeDistinctive(t *testing.T, c *crm.CRM, ctx context.Context) Distinctive {
	t.Helper()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	_, err := c.CustomFields.Define(ctx, crm.NewCustomField{Key: "nickname", Label: "Nickname", Type: crm.FieldText})
	must(err)
	_, err = c.CustomFields.Define(ctx, crm.NewCustomField{Key: "second_phone", Label: "Second phone", Type: crm.FieldPhone})
	must(err)
	birth, passport := crm.MustDate("1961-02-03"), crm.MustDate("2031-04-05")
	cust, err := c.Customers.Create(ctx, crm.CustomerFields{
		FirstName: "Quirinusxq", MiddleName: "Vanderxq", LastName: "Zwartkopxq", Company: "Xqcompany BV",
		Address: crm.Address{Street: "Xqstraat", HouseNumber: "77xq", PostalCode: "9999 XQ", City: "Xqdorp", Country: "NL"},
		Phones:  []crm.Phone{{Kind: crm.PhoneMobile, Number: "+31 6 21436587"}}, BirthDate: &birth, PassportExpiry: &passport,
		Origin: "Xqfair", LoginEmail: "login.xq@example.org", Email: "mail.xq@example.org",
		AltEmails: []string{"alt.xq@example.org"}, InternalDescription: "Xqinternal note", Remarks: "Xqremark",
		CustomFields: map[string]any{"nickname": "Xqnick", "second_phone": "+31 6 11223344"},
	})
	must(err)
	tags, err := c.Tags.List(ctx)
	must(err)
	_, err = c.Tags.Add(ctx, cust.ID, tags[0].ID)
	must(err)
	interest, err := c.Attributes.Define(ctx, crm.NewQualifier{Name: "Diving"})
	must(err)
	_, err = c.Attributes.Add(ctx, cust.ID, interest.ID)
	must(err)
	label, err := c.Labels.Define(ctx, crm.NewLabel{Name: "Gold", Benefits: "Free upgrade"})
	must(err)
	must(c.Labels.Assign(ctx, cust.ID, label.ID))
	_, err = c.Labels.UseBenefit(ctx, cust.ID, label.ID, "Xqbenefit note")
	must(err)
	club, err := c.Labels.Define(ctx, crm.NewLabel{Name: "Club", Membership: true})
	must(err)
	_, err = c.Labels.StartMembership(ctx, crm.NewMembership{LabelID: club.ID, HolderID: cust.ID, EndsOn: crm.MustDate("2030-01-01")})
	must(err)
	// A family membership of someone else, shared with the customer.
	partner, err := c.Customers.Create(ctx, crm.CustomerFields{FirstName: "Partner", LastName: "Other"})
	must(err)
	family, err := c.Labels.StartMembership(ctx, crm.NewMembership{LabelID: club.ID, HolderID: partner.ID, EndsOn: crm.MustDate("2030-01-01")})
	must(err)
	_, err = c.Labels.ShareMembership(ctx, family.ID, cust.ID)
	must(err)
	_, err = c.Consents.Give(ctx, cust.ID, crm.ConsentInput{Purpose: crm.PurposeSMS, Source: crm.SourceWebForm,
		Evidence: crm.Evidence{IP: "198.51.100.77", UserAgent: "Xqbrowser/1.0"}})
	must(err)
	_, err = c.Consents.RequestConfirmation(ctx, cust.ID, crm.ConsentInput{Purpose: crm.PurposeNewsletter, Source: crm.SourceWebForm,
		Evidence: crm.Evidence{IP: "198.51.100.78", UserAgent: "Xqbrowser/2.0"}})
	must(err)
	// A document whose title and file name name the customer.
	doc, err := c.Documents.Add(ctx, cust.ID, crm.NewDocument{Title: "Passport Quirinusxq", FileName: "zwartkopxq-passport.pdf"},
		strings.NewReader("%PDF-1.4 passport scan of Quirinusxq"))
	must(err)
	// A mail with the document, waiting in the outbox.
	_, err = c.Documents.Send(ctx, cust.ID, []string{doc.ID}, crm.SendOptions{})
	must(err)
	// Points, with a correction whose reason names the customer.
	org, err := crm.OrgFrom(ctx)
	must(err)
	_, err = c.Organisations.Update(ctx, org, crm.OrganisationPatch{PointsEnabled: ptr(true)})
	must(err)
	_, err = c.Points.Award(ctx, cust.ID, crm.PointInput{Points: 100, Reference: "booking 1"})
	must(err)
	_, err = c.Points.Correct(ctx, cust.ID, crm.PointInput{Points: -10, Reason: "Xqreason goodwill"})
	must(err)
	// A booking whose free text names the customer, with a payment reminder.
	start := crm.MustDate("2027-06-01")
	_, err = c.Bookings.Upsert(ctx, crm.BookingInput{Reference: "DIST-1", CustomerID: cust.ID, Status: "confirmed",
		RegisteredOn: crm.MustDate("2026-10-01"), StartsOn: &start, DestinationCountry: "ES", DestinationPlace: "Málaga",
		Description: "Xqtrip for the Zwartkop family", Lines: []crm.BookingLine{{Kind: "ticket", Description: "Xqline seat", Amount: 100}},
		Total: 100, Currency: "EUR", Link: "https://platform.example/xqlink", Participants: []string{partner.ID},
		Deposit: &crm.Payment{DueOn: crm.MustDate("2026-12-01"), Amount: 50}})
	must(err)
	_, err = c.Bookings.RecordReminder(ctx, "DIST-1", crm.ReminderInput{Channel: "phone", Note: "Xqreminder call"})
	must(err)
	// An inquiry company-wide, by a staff user of the organisation, with a
	// change and a comment in its history.
	orgID, _ := crm.OrgFrom(ctx)
	sys := crm.WithActor(crm.WithOrg(context.Background(), orgID), crm.System())
	seller, err := c.Staff.Create(sys, crm.NewStaffUser{Name: "Xq seller", Role: crm.RoleStaff})
	must(err)
	asSeller := crm.WithActor(crm.WithOrg(context.Background(), orgID), crm.Staff(seller.ID))
	inq, err := c.Inquiries.Create(asSeller, cust.ID, crm.InquiryFields{Title: "Xqtrip", Destination: "Xqisland", Period: "Xqsummer",
		Board: "Xqboard", Notes: "Xqwishes", Fields: map[string]string{"airport": "Xqport"}})
	must(err)
	_, err = c.Inquiries.Update(asSeller, inq.ID, inq.Version, crm.InquiryPatch{Destination: ptr("Xqcoast")})
	must(err)
	_, err = c.Inquiries.Comment(asSeller, inq.ID, "Xqcomment")
	must(err)
	// The customer's own side: a portal account with a password and a
	// sign-in, an itinerary, a contest entry, a brochure request, a mailing.
	makeDistinctivePortal(t, c, ctx, cust.ID)
	// A note, edited (the earlier text stays in the timeline), and a task.
	note, err := c.Notes.Add(ctx, cust.ID, crm.NewNote{TypeID: crm.NotePhoneCall, Text: "Xqnote called about Quirinusxq", BookingID: "xqbooking-1"})
	must(err)
	_, err = c.Notes.Update(ctx, note.ID, note.Version, crm.NotePatch{Text: ptr("Xqnote two")})
	must(err)
	_, err = c.Tasks.Create(ctx, crm.NewTask{Title: "Call Xqtask back", Description: "Xqtask details", DueOn: crm.MustDate("2030-01-02"),
		CustomerID: cust.ID})
	must(err)
	cust, err = c.Customers.Get(ctx, cust.ID)
	must(err)
	cust, err = c.Customers.Update(ctx, cust.ID, cust.Version, crm.CustomerPatch{LastName: ptr("Zwartkopxqq"), Remarks: ptr("Xqremark two")})
	must(err)
	// A file import that changed the customer keeps the values before it.
	im, err := c.Imports.Start(ctx, strings.NewReader("E-mail,Tags\nmail.xq@example.org,Imported\n"), crm.NewImport{Mode: crm.ImportUpdate})
	must(err)
	im, err = c.Imports.Run(ctx, im.ID, 0, nil)
	must(err)
	if im.Updated != 1 {
		t.Fatalf("the distinctive import: %+v", im)
	}
	// Interactions: a review from a connected tool with the platform's own
	// id, whose phone belongs to another customer (a match conflict), and
	// what it carried.
	_, err = c.Customers.Create(ctx, crm.CustomerFields{LastName: "Conflicting", Phones: []crm.Phone{{Number: "+31 6 55667788"}}})
	must(err)
	_, err = c.Interactions.Record(ctx, crm.NewInteraction{Kind: crm.InteractionReview, Source: "reviews", SourceID: "xq-guest-77",
		InteractionContent: crm.InteractionContent{Emails: []string{"mail.xq@example.org"}, Phones: []string{"+31 6 55667788"},
			Address: &crm.Address{Street: "Xqstraat"}, Data: map[string]any{"note": "Xqinteraction"}},
		Review: &crm.Review{Score: 5, Text: "Xqreview text"}})
	must(err)
	// Duplicates: the check stores its place keys and a candidate pair
	// (the match conflict above); a pair dismissed as not the same person.
	other, err := c.Customers.Create(ctx, crm.CustomerFields{LastName: "Not the same"})
	must(err)
	must(c.Merges.Dismiss(ctx, cust.ID, other.ID))
	must(c.Merges.CheckDuplicates(ctx, cust.ID))
	cust, err = c.Customers.Get(ctx, cust.ID)
	must(err)
	return Distinctive{Customer: cust, Values: []string{
		"xqtrip", "xqanswer", "198.51.100.79", "xqportal",
		"quirinusxq", "vanderxq", "zwartkopxq", "xqcompany", "xqstraat", "77xq", "9999 xq", "xqdorp",
		"21436587", "1961-02-03", "2031-04-05", "xqfair", "login.xq", "mail.xq", "alt.xq", "xqinternal",
		"xqremark", "xqnick", "11223344", "xqbenefit", "xqreason", "198.51.100.77", "198.51.100.78", "xqbrowser",
		"xqtrip", "xqline", "xqlink", "xqreminder",
		"xq-guest-77", "xqinteraction", "xqreview",
		"xqtrip", "xqisland", "xqsummer", "xqboard", "xqwishes", "xqport", "xqcoast", "xqcomment",
		"xqnote", "xqtask", "xqbooking",
	}}
}

func testExport(t *testing.T, open func(t *testing.T) crm.Store) {
	e := newEnv(t, open)
	d := MakeDistinctive(t, e.crm, e.a)
	id := d.Customer.ID
	staff, err := e.crm.Privacy.Export(e.a, id, crm.ExportStaff)
	if err != nil {
		t.Fatal(err)
	}
	if staff.Customer.ID != id || staff.Customer.InternalDescription != "Xqinternal note" || staff.Organisation.ID != orgA ||
		len(staff.Customer.AltEmails) != 1 || len(staff.CustomFields) != 2 || staff.CustomFields[0].Label != "Nickname" {
		t.Fatalf("staff export record: %+v", staff)
	}
	for name, n := range map[string]int{
		"tags": len(staff.Tags), "attributes": len(staff.Attributes), "labels": len(staff.Labels),
		"memberships": len(staff.Memberships), "benefitUses": len(staff.BenefitUses),
		"consentLog": len(staff.ConsentLog), "history": len(staff.History),
	} {
		if n == 0 {
			t.Fatalf("staff export section %s is empty", name)
		}
	}
	if len(staff.Documents) != 1 || staff.Documents[0].FileName != "zwartkopxq-passport.pdf" {
		t.Fatalf("staff export documents: %+v", staff.Documents)
	}
	if staff.History[0].Kind != crm.EventCustomerCreated || len(staff.ConsentLog) != 2 || staff.BenefitUses[0].Note != "Xqbenefit note" {
		t.Fatalf("export order or content: history[0]=%s log=%d", staff.History[0].Kind, len(staff.ConsentLog))
	}
	if i := slices.IndexFunc(staff.Consents, func(c crm.CustomerConsent) bool { return c.Purpose == crm.PurposeNewsletter }); i < 0 || !staff.Consents[i].Pending {
		t.Fatalf("consents: %+v", staff.Consents)
	}

	// The customer's own export leaves out what only staff see.
	own, err := e.crm.Privacy.Export(e.a, id, crm.ExportCustomer)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(own)
	for _, hidden := range []string{"Xqinternal", "staff-a"} {
		if strings.Contains(string(b), hidden) {
			t.Fatalf("customer export contains %q", hidden)
		}
	}
	if len(own.Documents) != 0 {
		t.Fatalf("the customer's export shows an internal document: %+v", own.Documents)
	}
	if own.Customer.Remarks != "Xqremark two" || len(own.History) == 0 {
		t.Fatalf("customer export lost data: %+v", own.Customer)
	}

	// The zip holds one CSV per section and the JSON document.
	var buf bytes.Buffer
	if err := e.crm.Privacy.WriteZip(e.a, staff, &buf); err != nil {
		t.Fatal(err)
	}
	z, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][][]string{}
	for _, f := range z.File {
		r, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(f.Name, ".csv") {
			rows, err := csv.NewReader(r).ReadAll()
			if err != nil {
				t.Fatalf("%s: %v", f.Name, err)
			}
			files[f.Name] = rows
		} else {
			files[f.Name] = nil
		}
		r.Close()
	}
	for name, minRows := range map[string]int{
		"customer.csv": 20, "phones.csv": 2, "alt_emails.csv": 2, "custom_fields.csv": 3, "tags.csv": 2, "attributes.csv": 2,
		"labels.csv": 2, "memberships.csv": 2, "benefit_uses.csv": 2, "consents.csv": 7, "consent_log.csv": 3, "history.csv": 5,
	} {
		if len(files[name]) < minRows {
			t.Fatalf("%s has %d rows, want at least %d", name, len(files[name]), minRows)
		}
	}
	if _, ok := files["documents/"+staff.Documents[0].ID+"-zwartkopxq-passport.pdf"]; !ok {
		t.Fatalf("zip lacks the document's contents: %v", keys(files))
	}
	if _, ok := files["export.json"]; !ok {
		t.Fatal("zip lacks export.json")
	}
	if !slices.ContainsFunc(files["customer.csv"], func(r []string) bool { return r[0] == "internalDescription" }) {
		t.Fatal("staff zip lacks the internal description")
	}

	_, err = e.crm.Privacy.Export(e.b, id, crm.ExportStaff)
	wantErr(t, err, crm.ErrNotFound)
	_, err = e.crm.Privacy.Export(e.a, id, "everyone")
	wantInvalid(t, err, "audience", "oneof")
}

// testCustomerExportHidesStaffValues writes staff-only values everywhere
// they can reach a customer's data (the internal description, the assigned
// staff member, the ids of the staff users who acted, internal documents
// added, renamed, deleted or made internal) and scans the whole
// customer-audience export, the JSON document and every file of its zip,
// for them.
func testCustomerExportHidesStaffValues(t *testing.T, open func(t *testing.T) crm.Store) {
	e := newEnv(t, open)
	d := MakeDistinctive(t, e.crm, e.a)
	id := d.Customer.ID
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	other := e.staffActor(e.a, "staff-xqother")
	_, err := e.crm.Customers.Update(other, id, d.Customer.Version, crm.CustomerPatch{
		AssignedTo: ptr("staff-xqassignee"), InternalDescription: ptr("Xqinternal second note")})
	must(err)
	add := func(ctx context.Context, title, file string, vis crm.DocumentVisibility) *crm.Document {
		t.Helper()
		doc, err := e.crm.Documents.Add(ctx, id, crm.NewDocument{Title: title, FileName: file, Visibility: vis},
			strings.NewReader("contents of "+title))
		must(err)
		return doc
	}
	secret := add(other, "Xqsecret assessment", "xqsecret-risk.txt", crm.VisibilityInternal)
	_, err = e.crm.Documents.Update(other, secret.ID, crm.DocumentPatch{Title: ptr("Xqsecret renamed")})
	must(err)
	gone := add(e.a, "Xqgone memo", "xqgone-memo.txt", crm.VisibilityInternal)
	must(e.crm.Documents.Delete(e.a, gone.ID))
	demoted := add(e.a, "Xqdemoted plan", "xqdemoted-plan.txt", crm.VisibilityPortal)
	_, err = e.crm.Documents.Update(e.a, demoted.ID, crm.DocumentPatch{Visibility: ptr(crm.VisibilityInternal)})
	must(err)
	// What the customer sees stays in: a portal document, also one deleted later.
	shown := add(e.a, "Your itinerary", "itinerary.txt", crm.VisibilityPortal)
	shared := add(e.a, "Your old voucher", "voucher.txt", crm.VisibilityPortal)
	must(e.crm.Documents.Delete(e.a, shared.ID))
	// The customer acts too: its own id is no staff id.
	self := crm.WithActor(e.a, crm.CustomerActor(id))
	cust, err := e.crm.Customers.Get(e.a, id)
	must(err)
	_, err = e.crm.Customers.Update(self, id, cust.Version, crm.CustomerPatch{Remarks: ptr("Xqremark by myself")})
	must(err)

	staffOnly := []string{
		"Xqinternal", "staff-a", "staff-xqother", "staff-xqassignee",
		"Xqsecret", "xqsecret-risk", "Xqgone", "xqgone-memo", "Xqdemoted", "xqdemoted-plan",
		"zwartkopxq-passport.pdf", // the internal document mailed in MakeDistinctive
	}
	// Each value is in the staff export: the scan below would find it.
	staff, err := e.crm.Privacy.Export(e.a, id, crm.ExportStaff)
	must(err)
	staffText := strings.ToLower(exportText(t, e, staff))
	for _, v := range staffOnly {
		if !strings.Contains(staffText, strings.ToLower(v)) {
			t.Fatalf("the staff export lacks %q: the scan could not find it either", v)
		}
	}

	own, err := e.crm.Privacy.Export(e.a, id, crm.ExportCustomer)
	must(err)
	ownText := strings.ToLower(exportText(t, e, own))
	for _, v := range staffOnly {
		if i := strings.Index(ownText, strings.ToLower(v)); i >= 0 {
			t.Fatalf("the customer's export holds the staff-only %q: ...%s...", v, ownText[max(0, i-200):min(len(ownText), i+100)])
		}
	}
	// And keeps what is the customer's: the portal documents and their events.
	for _, v := range []string{"your itinerary", "itinerary.txt", "your old voucher", "xqremark by myself", shown.ID} {
		if !strings.Contains(ownText, v) {
			t.Fatalf("the customer's export lacks %q", v)
		}
	}
	if len(own.Documents) != 1 || own.Documents[0].ID != shown.ID {
		t.Fatalf("customer export documents: %+v", own.Documents)
	}
	var docEvents int
	for _, h := range own.History {
		if strings.HasPrefix(string(h.Kind), "document.") {
			docEvents++
		}
		if h.Actor.Kind == crm.ActorStaff && h.Actor.ID != "" {
			t.Fatalf("customer export names a staff user: %+v", h)
		}
	}
	if docEvents != 3 { // itinerary added; voucher added and deleted
		t.Fatalf("customer export has %d document events, want 3", docEvents)
	}
}

// exportText is everything an export gives away: its JSON and the names
// and contents of every file of its zip (CSV sections, export.json,
// documents).
func exportText(t *testing.T, e *env, x *crm.CustomerExport) string {
	t.Helper()
	var out strings.Builder
	b, err := json.Marshal(x)
	if err != nil {
		t.Fatal(err)
	}
	out.Write(b)
	var buf bytes.Buffer
	if err := e.crm.Privacy.WriteZip(e.a, x, &buf); err != nil {
		t.Fatal(err)
	}
	z, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range z.File {
		out.WriteString("\n" + f.Name + "\n")
		r, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(&out, r); err != nil {
			t.Fatal(err)
		}
		r.Close()
	}
	return out.String()
}

func testAnonymise(t *testing.T, open func(t *testing.T) crm.Store) {
	e := newEnv(t, open)
	d := MakeDistinctive(t, e.crm, e.a)
	id := d.Customer.ID
	// Organisation B cannot anonymise A's customer.
	_, err := e.crm.Privacy.Anonymise(e.b, id)
	wantErr(t, err, crm.ErrNotFound)

	e.now = testNow.Add(time.Hour)
	anon, err := e.crm.Privacy.Anonymise(e.a, id)
	if err != nil {
		t.Fatal(err)
	}
	if anon.AnonymisedAt == nil || !anon.AnonymisedAt.Equal(e.now) || anon.Number != d.Customer.Number || anon.Version != d.Customer.Version+1 {
		t.Fatalf("anonymised record: %+v", anon)
	}
	b, _ := json.Marshal(anon)
	for _, v := range d.Values {
		if strings.Contains(strings.ToLower(string(b)), v) {
			t.Fatalf("anonymised record still holds %q: %s", v, b)
		}
	}
	// No old name, e-mail or phone finds it.
	for _, f := range []crm.CustomerFilter{
		{Name: "Quirinusxq"}, {Name: "Zwartkop"}, {NameContains: "artkop"}, {NameContains: "company"},
		{Email: "login.xq@example.org"}, {Email: "mail.xq@example.org"}, {Email: "alt.xq@example.org"},
		{Phone: "+31 6 21436587"}, {BirthDate: ptr(crm.MustDate("1961-02-03"))}, {Origin: "Xqfair"},
	} {
		if got := e.list(e.a, f); len(got) != 0 {
			t.Fatalf("filter %+v still finds the anonymised customer", f)
		}
	}
	if _, err := e.crm.Customers.GetByLoginEmail(e.a, "login.xq@example.org"); err == nil {
		t.Fatal("login e-mail still finds the anonymised customer")
	}
	// The timeline stays, without values, with an anonymised event.
	events := e.history(e.a, id)
	if events[0].Kind != crm.EventCustomerAnonymised || events[0].Actor != crm.Staff("staff-a") {
		t.Fatalf("newest event: %+v", events[0])
	}
	for _, ev := range events[1:] {
		for _, ch := range ev.Changes {
			if ch.Old != nil || ch.New != nil {
				t.Fatalf("event %s keeps a value: %+v", ev.Kind, ch)
			}
		}
	}
	// The consent log stays, without evidence.
	log, err := e.crm.Consents.Log(e.a, id)
	if err != nil || len(log) != 2 {
		t.Fatalf("consent log after anonymisation: %d, %v", len(log), err)
	}
	for _, r := range log {
		if r.IP != "" || r.UserAgent != "" {
			t.Fatalf("consent evidence kept: %+v", r)
		}
	}
	// The customer's documents are gone, contents included.
	if docs, err := e.crm.Documents.List(e.a, id, false); err != nil || len(docs) != 0 {
		t.Fatalf("documents after anonymisation: %+v, %v", docs, err)
	}
	// Idempotent: again changes nothing and writes no event.
	again, err := e.crm.Privacy.Anonymise(e.a, id)
	if err != nil || again.Version != anon.Version || len(e.history(e.a, id)) != len(events) {
		t.Fatalf("second anonymisation: %+v, %v", again, err)
	}
	// The shell cannot be changed, nor given consents.
	_, err = e.crm.Customers.Update(e.a, id, anon.Version, crm.CustomerPatch{FirstName: ptr("Back")})
	wantErr(t, err, crm.ErrAnonymised)
	_, err = e.crm.Consents.Give(e.a, id, crm.ConsentInput{Purpose: crm.PurposeSMS, Source: crm.SourceStaff})
	wantErr(t, err, crm.ErrAnonymised)
	// Nothing new is linked to it: a note could carry personal data back in.
	tags, _ := e.crm.Tags.List(e.a)
	_, err = e.crm.Tags.Add(e.a, id, tags[1].ID)
	wantErr(t, err, crm.ErrAnonymised)
	labels, _ := e.crm.Labels.List(e.a)
	_, err = e.crm.Labels.UseBenefit(e.a, id, labels[0].ID, "Quirinusxq again")
	wantErr(t, err, crm.ErrAnonymised)
	_, err = e.crm.Points.Award(e.a, id, crm.PointInput{Points: 5, Reason: "Quirinusxq"})
	wantErr(t, err, crm.ErrAnonymised)
}

func testRetention(t *testing.T, open func(t *testing.T) crm.Store) {
	e := newEnv(t, open)
	// Validation.
	_, err := e.crm.Privacy.SetRetention(e.a, crm.RetentionPolicy{Enabled: true, InactiveDays: 7})
	wantInvalid(t, err, "inactiveDays", "minValue")
	_, err = e.crm.Privacy.SetRetention(e.a, crm.RetentionPolicy{Enabled: true, InactiveDays: 365, ExcludePurposes: []string{"nope"}})
	wantInvalid(t, err, "excludePurposes[0]", "unknown")
	if p, err := e.crm.Privacy.Retention(e.a); err != nil || p.Enabled {
		t.Fatalf("policy before any is set: %+v, %v", p, err)
	}

	// Three years ago: three customers; one keeps its newsletter consent.
	e.now = testNow.AddDate(-3, 0, 0)
	inactive := e.create(e.a, crm.CustomerFields{FirstName: "Old", LastName: "Inactive", Email: "old@example.nl"})
	subscriber := e.create(e.a, crm.CustomerFields{FirstName: "Old", LastName: "Subscriber"})
	e.give(e.a, subscriber.ID, crm.PurposeCommercialEmail)
	withdrawnSub := e.create(e.a, crm.CustomerFields{FirstName: "Old", LastName: "Unsubscribed"})
	e.give(e.a, withdrawnSub.ID, crm.PurposeCommercialEmail)
	e.withdraw(e.a, withdrawnSub.ID, crm.PurposeCommercialEmail)
	revived := e.create(e.a, crm.CustomerFields{FirstName: "Old", LastName: "Revived"})
	otherOrg := e.create(e.b, crm.CustomerFields{FirstName: "Old", LastName: "InB"})
	// Recently: one new customer, and the revived one changed.
	e.now = testNow.AddDate(0, -1, 0)
	recent := e.create(e.a, crm.CustomerFields{FirstName: "New", LastName: "Recent"})
	if _, err := e.crm.Customers.Update(e.a, revived.ID, revived.Version, crm.CustomerPatch{Remarks: ptr("came back")}); err != nil {
		t.Fatal(err)
	}
	e.now = testNow

	// Without a policy nothing happens.
	report, err := e.crm.Privacy.ApplyRetention(e.a, testNow, false)
	if err != nil || report.Enabled || len(report.Customers) != 0 {
		t.Fatalf("without a policy: %+v, %v", report, err)
	}
	policy, err := e.crm.Privacy.SetRetention(e.a, crm.RetentionPolicy{Enabled: true, InactiveDays: 730, ExcludePurposes: []string{crm.PurposeCommercialEmail}})
	if err != nil || !policy.UpdatedAt.Equal(testNow) {
		t.Fatalf("set policy: %+v, %v", policy, err)
	}
	if got, _ := e.crm.Privacy.Retention(e.a); got.InactiveDays != 730 || !slices.Equal(got.ExcludePurposes, []string{crm.PurposeCommercialEmail}) {
		t.Fatalf("stored policy: %+v", got)
	}
	if got, _ := e.crm.Privacy.Retention(e.b); got.Enabled {
		t.Fatalf("organisation B got A's policy: %+v", got)
	}
	wantNumbers := []int64{inactive.Number, withdrawnSub.Number}

	dry, err := e.crm.Privacy.ApplyRetention(e.a, testNow, true)
	if err != nil || !dry.Enabled || !dry.DryRun || dry.Anonymised != 0 || !dry.InactiveBefore.Equal(testNow.AddDate(0, 0, -730)) {
		t.Fatalf("dry run: %+v, %v", dry, err)
	}
	var got []int64
	for _, c := range dry.Customers {
		got = append(got, c.Number)
	}
	if !slices.Equal(got, wantNumbers) {
		t.Fatalf("dry run selects %v, want %v", got, wantNumbers)
	}
	if c, _ := e.crm.Customers.Get(e.a, inactive.ID); c.AnonymisedAt != nil || c.LastName != "Inactive" {
		t.Fatal("the dry run changed a customer")
	}

	run, err := e.crm.Privacy.ApplyRetention(crm.WithActor(e.a, crm.System()), testNow, false)
	if err != nil || run.Anonymised != 2 || len(run.Customers) != 2 {
		t.Fatalf("retention run: %+v, %v", run, err)
	}
	for _, c := range []*crm.Customer{inactive, withdrawnSub} {
		got, _ := e.crm.Customers.Get(e.a, c.ID)
		if got.AnonymisedAt == nil || got.LastName != "" {
			t.Fatalf("customer %d not anonymised: %+v", c.Number, got)
		}
		if ev := e.history(e.a, c.ID)[0]; ev.Kind != crm.EventCustomerAnonymised || ev.Actor != crm.System() ||
			len(ev.Changes) != 1 || ev.Changes[0].New != "retention" {
			t.Fatalf("retention event: %+v", ev)
		}
	}
	for _, c := range []*crm.Customer{subscriber, revived, recent} {
		if got, _ := e.crm.Customers.Get(e.a, c.ID); got.AnonymisedAt != nil {
			t.Fatalf("customer %s %s was anonymised", c.FirstName, c.LastName)
		}
	}
	if got, _ := e.crm.Customers.Get(e.b, otherOrg.ID); got.AnonymisedAt != nil {
		t.Fatal("organisation A's retention anonymised B's customer")
	}
	// A second run finds nothing left to do.
	again, err := e.crm.Privacy.ApplyRetention(crm.WithActor(e.a, crm.System()), testNow, false)
	if err != nil || again.Anonymised != 0 {
		t.Fatalf("second run: %+v, %v", again, err)
	}
	// A real run needs an actor.
	_, err = e.crm.Privacy.ApplyRetention(crm.WithOrg(t.Context(), orgA), testNow, false)
	wantErr(t, err, crm.ErrNoActor)
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
