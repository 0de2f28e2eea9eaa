package storetest

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/dossiercrm/dossier/crm"
)

// record records an interaction or fails the test.
func (e *env) record(ctx context.Context, in crm.NewInteraction) *crm.InteractionResult {
	e.t.Helper()
	res, err := e.crm.Interactions.Record(ctx, in)
	if err != nil {
		e.t.Fatalf("record %+v: %v", in, err)
	}
	return res
}

// integration is the context of a connected tool acting for organisation A.
func integration(ctx context.Context) context.Context {
	return crm.WithActor(ctx, crm.Actor{Kind: crm.ActorIntegration, ID: "resengo"})
}

func testInteractionMatching(t *testing.T, open func(t *testing.T) crm.Store) {
	e := newEnv(t, open)
	ctx := integration(e.a)
	staff := e.create(e.a, crm.CustomerFields{FirstName: "Anna", LastName: "Staff", LoginEmail: "anna.login@example.nl",
		Email: "anna@example.nl", AltEmails: []string{"anna.alt@example.nl"}, Phones: []crm.Phone{{Number: "06 12345678"}}})
	other := e.create(e.a, crm.CustomerFields{LastName: "Other", Phones: []crm.Phone{{Number: "+31 6 87654321"}}})

	// A new person: a customer is made, from the interaction.
	res := e.record(ctx, crm.NewInteraction{Kind: crm.InteractionReservation, Source: "resengo", SourceID: "guest-1",
		InteractionContent: crm.InteractionContent{FirstName: "Bram", LastName: "Nieuw", Emails: []string{"Bram@Example.nl"},
			Phones: []string{"020 1234567"}, Data: map[string]any{"partySize": 4}}})
	if !res.Created || res.MatchedBy != "" || res.Customer.Email != "Bram@Example.nl" || res.Customer.Status != crm.StatusCustomer ||
		res.Customer.Origin != "resengo" || res.Customer.FirstContact == nil || *res.Customer.FirstContact != crm.DateOf(testNow) {
		t.Fatalf("new person: %+v customer %+v", res, res.Customer)
	}
	bram := res.Customer.ID

	for _, tc := range []struct {
		name string
		in   crm.NewInteraction
		want string
		by   crm.MatchBy
	}{
		{"source id", crm.NewInteraction{Kind: crm.InteractionTool, Source: "resengo", SourceID: "guest-1",
			InteractionContent: crm.InteractionContent{LastName: "Whoever"}}, bram, crm.MatchSourceID},
		{"login e-mail, any case", crm.NewInteraction{Kind: crm.InteractionContactForm, Source: "website",
			InteractionContent: crm.InteractionContent{Emails: []string{" ANNA.LOGIN@example.nl "}}}, staff.ID, crm.MatchLoginEmail},
		{"correspondence e-mail", crm.NewInteraction{Kind: crm.InteractionNewsletter, Source: "website",
			InteractionContent: crm.InteractionContent{Emails: []string{"anna@EXAMPLE.nl"}}}, staff.ID, crm.MatchEmail},
		{"alternative e-mail", crm.NewInteraction{Kind: crm.InteractionNewsletter, Source: "website",
			InteractionContent: crm.InteractionContent{Emails: []string{"anna.alt@example.nl"}}}, staff.ID, crm.MatchEmail},
		{"phone in another format", crm.NewInteraction{Kind: crm.InteractionReservation, Source: "phone",
			InteractionContent: crm.InteractionContent{Phones: []string{"+31 (0)6-1234 5678"}}}, staff.ID, crm.MatchPhone},
		{"the same source id again", crm.NewInteraction{Kind: crm.InteractionReservation, Source: "resengo", SourceID: "guest-1"}, bram, crm.MatchSourceID},
	} {
		res := e.record(ctx, tc.in)
		if res.Created || res.Customer.ID != tc.want || res.MatchedBy != tc.by {
			t.Fatalf("%s: created %v, customer %s by %s; want %s by %s", tc.name, res.Created, res.Customer.ID, res.MatchedBy, tc.want, tc.by)
		}
	}
	// The same source id from another source is another person.
	res = e.record(ctx, crm.NewInteraction{Kind: crm.InteractionTool, Source: "opentable", SourceID: "guest-1",
		InteractionContent: crm.InteractionContent{LastName: "Elsewhere"}})
	if !res.Created {
		t.Fatalf("a source id of another source matched %s", res.Customer.ID)
	}

	// The e-mail points to one customer, the phone to another: the e-mail
	// wins, the conflict is recorded for the duplicates work.
	res = e.record(ctx, crm.NewInteraction{Kind: crm.InteractionReservation, Source: "resengo",
		InteractionContent: crm.InteractionContent{Emails: []string{"anna@example.nl"}, Phones: []string{"+31687654321"}}})
	if res.Customer.ID != staff.ID || res.MatchedBy != crm.MatchEmail || len(res.Conflicts) != 1 ||
		res.Conflicts[0].OtherCustomerID != other.ID || res.Conflicts[0].By != crm.MatchPhone {
		t.Fatalf("ambiguous: %+v", res)
	}
	for _, id := range []string{staff.ID, other.ID} {
		conflicts, err := e.crm.Interactions.Conflicts(e.a, id)
		if err != nil || len(conflicts) != 1 || conflicts[0].CustomerID != staff.ID || conflicts[0].InteractionID != res.Interaction.ID {
			t.Fatalf("conflicts of %s: %+v %v", id, conflicts, err)
		}
	}
	// The phone was not added to the e-mail's customer... it was: the
	// interaction carried it, and lists only grow. The other customer keeps its own.
	if !slices.ContainsFunc(res.Customer.Phones, func(p crm.Phone) bool { return p.Number == "+31687654321" }) {
		t.Fatalf("phones of the matched customer: %+v", res.Customer.Phones)
	}
	// The same conflict again is not recorded twice.
	e.record(ctx, crm.NewInteraction{Kind: crm.InteractionReservation, Source: "resengo",
		InteractionContent: crm.InteractionContent{Emails: []string{"anna@example.nl"}, Phones: []string{"+31687654321"}}})
	if conflicts, _ := e.crm.Interactions.Conflicts(e.a, other.ID); len(conflicts) != 1 {
		t.Fatalf("conflict recorded %d times", len(conflicts))
	}

	// Organisation B never matches A's customers.
	res = e.record(integration(e.b), crm.NewInteraction{Kind: crm.InteractionReservation, Source: "resengo", SourceID: "guest-1",
		InteractionContent: crm.InteractionContent{LastName: "Bee", Emails: []string{"anna@example.nl"}}})
	if !res.Created {
		t.Fatalf("organisation B matched %s", res.Customer.ID)
	}

	// Nothing to match and nothing to make a customer of.
	_, err := e.crm.Interactions.Record(ctx, crm.NewInteraction{Kind: crm.InteractionTool, Source: "resengo",
		InteractionContent: crm.InteractionContent{Phones: []string{"+31 20 7654321"}}})
	var ve *crm.ValidationError
	if !errors.As(err, &ve) || !ve.Has("lastName", "required") {
		t.Fatalf("a phone alone made a customer: %v", err)
	}
	// Bad input names the interaction's fields.
	_, err = e.crm.Interactions.Record(ctx, crm.NewInteraction{Kind: "visit", Source: "bad source",
		InteractionContent: crm.InteractionContent{Emails: []string{"ok@example.nl", "nope"}, Phones: []string{"12"}}})
	if !errors.As(err, &ve) || !ve.Has("kind", "") || !ve.Has("source", "") {
		t.Fatalf("bad input: %v", err)
	}
	_, err = e.crm.Interactions.Record(ctx, crm.NewInteraction{Kind: crm.InteractionTool, Source: "web",
		InteractionContent: crm.InteractionContent{LastName: "X", Emails: []string{"ok@example.nl", "nope"}, Phones: []string{"12"}}})
	if !errors.As(err, &ve) || !ve.Has("emails[1]", "email") || !ve.Has("phones[0]", "phone") {
		t.Fatalf("bad e-mail and phone: %v", err)
	}
}

func testFieldOrigins(t *testing.T, open func(t *testing.T) crm.Store) {
	e := newEnv(t, open)
	ctx := integration(e.a)
	staff := e.create(e.a, crm.CustomerFields{FirstName: "Anna", LastName: "Handmatig", Email: "anna@example.nl"})
	e.now = testNow.Add(time.Hour)
	res := e.record(ctx, crm.NewInteraction{Kind: crm.InteractionReservation, Source: "resengo",
		InteractionContent: crm.InteractionContent{FirstName: "Annie", LastName: "Web", Company: "Web BV",
			Emails: []string{"anna@example.nl"}, Address: &crm.Address{City: "Utrecht"}}})
	c := res.Customer
	if c.FirstName != "Anna" || c.LastName != "Handmatig" || c.Company != "Web BV" || c.Address.City != "Utrecht" {
		t.Fatalf("staff's values lost or empty fields not filled: %+v", c.CustomerFields)
	}
	if !slices.Equal(res.UpdatedFields, []string{"address.city", "company"}) {
		t.Fatalf("updated fields %q", res.UpdatedFields)
	}
	// A later interaction refreshes what interactions set.
	e.now = testNow.Add(2 * time.Hour)
	res = e.record(ctx, crm.NewInteraction{Kind: crm.InteractionReservation, Source: "thefork",
		InteractionContent: crm.InteractionContent{Company: "Web BV 2", Emails: []string{"anna@example.nl"}, Address: &crm.Address{City: "Zeist"}}})
	if res.Customer.Company != "Web BV 2" || res.Customer.Address.City != "Zeist" {
		t.Fatalf("not refreshed: %+v", res.Customer.CustomerFields)
	}
	byField := e.originsByField(staff.ID)
	if o := byField["company"]; o.Kind != crm.OriginInteraction || o.Source != "thefork" || !o.At.Equal(testNow.Add(2*time.Hour)) {
		t.Fatalf("company origin %+v", o)
	}
	if o := byField["firstName"]; o.Kind != crm.OriginStaff || !o.At.Equal(staff.CreatedAt) {
		t.Fatalf("firstName origin %+v", o)
	}
	// Staff change a value an interaction set: from then on it is staff's.
	cur, _ := e.crm.Customers.Get(e.a, staff.ID)
	if _, err := e.crm.Customers.Update(e.a, staff.ID, cur.Version, crm.CustomerPatch{Company: ptr("Staff BV")}); err != nil {
		t.Fatal(err)
	}
	res = e.record(ctx, crm.NewInteraction{Kind: crm.InteractionReservation, Source: "resengo",
		InteractionContent: crm.InteractionContent{Company: "Web BV 3", Emails: []string{"anna@example.nl"}}})
	if res.Customer.Company != "Staff BV" {
		t.Fatalf("an interaction overwrote staff's company: %q", res.Customer.Company)
	}
	if o := e.originsByField(staff.ID)["company"]; o.Kind != crm.OriginStaff || o.Source != "staff:staff-a" {
		t.Fatalf("company origin after the staff change: %+v", o)
	}
	// A different e-mail does not replace staff's address: it is kept as
	// an alternative, and matches next time.
	res = e.record(ctx, crm.NewInteraction{Kind: crm.InteractionReservation, Source: "resengo", SourceID: "g9",
		InteractionContent: crm.InteractionContent{FirstName: "Anna", Emails: []string{"anna@example.nl", "anna.new@example.nl"}}})
	if res.Customer.Email != "anna@example.nl" || !slices.Contains(res.Customer.AltEmails, "anna.new@example.nl") {
		t.Fatalf("e-mails: %q %q", res.Customer.Email, res.Customer.AltEmails)
	}
	// Nothing new: nothing written but the activity and the interaction.
	before := res.Customer.Version
	res = e.record(ctx, crm.NewInteraction{Kind: crm.InteractionTool, Source: "resengo", SourceID: "g9"})
	if res.Customer.Version != before || len(res.UpdatedFields) != 0 {
		t.Fatalf("an empty interaction changed the customer: %d → %d %q", before, res.Customer.Version, res.UpdatedFields)
	}
	// The first-contact date moves to an earlier interaction.
	past := testNow.AddDate(0, -2, 0)
	res = e.record(ctx, crm.NewInteraction{Kind: crm.InteractionReservation, Source: "resengo", SourceID: "g9", At: &past})
	if *res.Customer.FirstContact != crm.DateOf(past) {
		t.Fatalf("first contact %v", res.Customer.FirstContact)
	}
}

func testInteractionTimeline(t *testing.T, open func(t *testing.T) crm.Store) {
	e := newEnv(t, open)
	ctx := integration(e.a)
	res := e.record(ctx, crm.NewInteraction{Kind: crm.InteractionContactForm, Source: "website",
		InteractionContent: crm.InteractionContent{LastName: "Vraag", Emails: []string{"vraag@example.nl"},
			Data: map[string]any{"message": "Do you have a table\nfor six?"}}})
	if res.Customer.Status != crm.StatusLead {
		t.Fatalf("a contact form's new customer is %s, want lead", res.Customer.Status)
	}
	e.now = testNow.Add(24 * time.Hour)
	res2 := e.record(ctx, crm.NewInteraction{Kind: crm.InteractionReview, Source: "google",
		InteractionContent: crm.InteractionContent{Emails: []string{"vraag@example.nl"}},
		Review:             &crm.Review{Score: 4, Text: "Lovely evening"}})
	if res2.Customer.LatestReview == nil || res2.Customer.LatestReview.Score != 4 || res2.Customer.LatestReview.Max != 5 ||
		res2.Customer.LatestReview.Source != "google" || !res2.Customer.LastActivityAt.Equal(e.now) {
		t.Fatalf("review on the customer: %+v, last activity %v", res2.Customer.LatestReview, res2.Customer.LastActivityAt)
	}
	// An older review does not replace the latest score.
	old := testNow
	res3 := e.record(ctx, crm.NewInteraction{Kind: crm.InteractionReview, Source: "tripadvisor", At: &old,
		InteractionContent: crm.InteractionContent{Emails: []string{"vraag@example.nl"}}, Review: &crm.Review{Score: 2, Max: 10}})
	if got, _ := e.crm.Customers.Get(e.a, res.Customer.ID); got.LatestReview.Score != 4 || res3.Customer.LatestReview.Score != 4 {
		t.Fatalf("latest review %+v", got.LatestReview)
	}
	page, err := e.crm.Interactions.List(e.a, res.Customer.ID, crm.PageRequest{Limit: 2})
	if err != nil || len(page.Items) != 2 || page.Next == "" || page.Items[0].Kind != crm.InteractionReview ||
		page.Items[0].Review.Text != "Lovely evening" {
		t.Fatalf("interactions page 1: %+v %v", page, err)
	}
	page, err = e.crm.Interactions.List(e.a, res.Customer.ID, crm.PageRequest{Limit: 2, Cursor: page.Next})
	if err != nil || len(page.Items) != 1 || page.Items[0].Content.Data["message"] != "Do you have a table\nfor six?" || !page.Items[0].Created {
		t.Fatalf("interactions page 2: %+v %v", page, err)
	}
	got, err := e.crm.Interactions.Get(e.a, res.Interaction.ID)
	if err != nil || got.CustomerID != res.Customer.ID || got.Actor.Kind != crm.ActorIntegration {
		t.Fatalf("get: %+v %v", got, err)
	}
	var recorded int
	for _, ev := range e.history(e.a, res.Customer.ID) {
		if ev.Kind == crm.EventInteractionRecorded {
			recorded++
		}
	}
	if recorded != 3 {
		t.Fatalf("%d interaction events on the timeline, want 3", recorded)
	}
	// Another organisation sees none of it.
	if _, err := e.crm.Interactions.Get(e.b, res.Interaction.ID); !errors.Is(err, crm.ErrNotFound) {
		t.Fatalf("B reads A's interaction: %v", err)
	}
	if _, err := e.crm.Interactions.List(e.b, res.Customer.ID, crm.PageRequest{}); !errors.Is(err, crm.ErrNotFound) {
		t.Fatalf("B lists A's interactions: %v", err)
	}
	if _, err := e.crm.Interactions.Origins(e.b, res.Customer.ID); !errors.Is(err, crm.ErrNotFound) {
		t.Fatalf("B reads A's origins: %v", err)
	}
	// Consents given in an interaction are in the consent log.
	res4 := e.record(ctx, crm.NewInteraction{Kind: crm.InteractionReservation, Source: "resengo",
		InteractionContent: crm.InteractionContent{Emails: []string{"vraag@example.nl"},
			Consents: []crm.ConsentInput{{Purpose: crm.PurposeSMS, NoWording: true}}}})
	if st := e.consentState(e.a, res4.Customer.ID, crm.PurposeSMS); st.State != crm.ConsentGranted {
		t.Fatalf("consent from the interaction: %+v", st)
	}
	_, err = e.crm.Interactions.Record(ctx, crm.NewInteraction{Kind: crm.InteractionReservation, Source: "resengo",
		InteractionContent: crm.InteractionContent{Emails: []string{"vraag@example.nl"}, Consents: []crm.ConsentInput{{Purpose: "nope", NoWording: true}}}})
	var ve *crm.ValidationError
	if !errors.As(err, &ve) || !ve.Has("consents[0].purpose", "unknown") {
		t.Fatalf("unknown purpose: %v", err)
	}
}

func testInteractionsConcurrent(t *testing.T, open func(t *testing.T) crm.Store) {
	e := newEnv(t, open)
	ctx := integration(e.a)
	const n = 8
	var wg sync.WaitGroup
	start := make(chan struct{})
	ids := make(chan string, 2*n)
	for i := range 2 * n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			// Half come by e-mail, half by phone and e-mail: one person.
			in := crm.NewInteraction{Kind: crm.InteractionReservation, Source: "resengo",
				InteractionContent: crm.InteractionContent{LastName: "Tegelijk", Emails: []string{"same@example.nl"}}}
			if i%2 == 1 {
				in.Phones = []string{"+31 6 11112222"}
			}
			res, err := e.crm.Interactions.Record(ctx, in)
			if err != nil {
				t.Errorf("concurrent record: %v", err)
				return
			}
			ids <- res.Customer.ID
		}()
	}
	close(start)
	wg.Wait()
	close(ids)
	seen := map[string]bool{}
	for id := range ids {
		seen[id] = true
	}
	if len(seen) != 1 {
		t.Fatalf("%d customers for one person", len(seen))
	}
	if got := e.list(e.a, crm.CustomerFilter{Email: "same@example.nl"}); len(got) != 1 {
		t.Fatalf("%d customers hold the address", len(got))
	}
}

func testForms(t *testing.T, open func(t *testing.T) crm.Store) {
	e := newEnv(t, open)
	ctx := integration(e.a)
	if _, err := e.crm.CustomFields.Define(e.a, crm.NewCustomField{Key: "allergies", Label: "Allergies", Type: crm.FieldText}); err != nil {
		t.Fatal(err)
	}
	form, err := e.crm.Forms.Define(e.a, crm.NewForm{Key: "booking", Name: "Booking form", Kind: crm.InteractionReservation,
		Fields: []crm.FormField{{Field: "lastName", Required: true}, {Field: "firstName"}, {Field: "emails", Required: true},
			{Field: "phones"}, {Field: "customFields.allergies", Required: true}, {Field: "consents.newsletter"}}})
	if err != nil || len(form.Fields) != 6 {
		t.Fatalf("define: %+v %v", form, err)
	}
	var ve *crm.ValidationError
	_, err = e.crm.Forms.Define(e.a, crm.NewForm{Key: "Bad Key", Name: "", Fields: []crm.FormField{{Field: "shoeSize"},
		{Field: "customFields.nope"}, {Field: "consents.nope"}, {Field: "lastName"}, {Field: "lastName"}}})
	if !errors.As(err, &ve) || !ve.Has("key", "") || !ve.Has("name", "required") || !ve.Has("fields[0].field", "unknown") ||
		!ve.Has("fields[1].field", "unknown_field") || !ve.Has("fields[2].field", "unknown") || !ve.Has("fields[4].field", "duplicate") {
		t.Fatalf("bad form: %v", err)
	}
	if _, err := e.crm.Forms.Define(e.a, crm.NewForm{Key: "booking", Name: "Again"}); !errors.Is(err, crm.ErrConflict) {
		t.Fatalf("a second form with the key: %v", err)
	}
	// Missing required fields are named; a field the form does not collect is refused.
	_, err = e.crm.Interactions.Record(ctx, crm.NewInteraction{Kind: crm.InteractionReservation, Source: "website", Form: "booking",
		InteractionContent: crm.InteractionContent{FirstName: "Nina", Company: "Not asked BV"}})
	if !errors.As(err, &ve) || !ve.Has("lastName", "required") || !ve.Has("emails", "required") ||
		!ve.Has("customFields.allergies", "required") || !ve.Has("company", "notInForm") || len(ve.Fields) != 4 {
		t.Fatalf("missing fields: %v", err)
	}
	_, err = e.crm.Interactions.Record(ctx, crm.NewInteraction{Kind: crm.InteractionContactForm, Source: "website", Form: "booking",
		InteractionContent: crm.InteractionContent{LastName: "N", Emails: []string{"n@example.nl"}, CustomFields: map[string]any{"allergies": "none"}}})
	if !errors.As(err, &ve) || !ve.Has("kind", "oneof") {
		t.Fatalf("wrong kind for the form: %v", err)
	}
	if _, err = e.crm.Interactions.Record(ctx, crm.NewInteraction{Kind: crm.InteractionReservation, Source: "website", Form: "nope"}); !errors.As(err, &ve) || !ve.Has("form", "unknown") {
		t.Fatalf("unknown form: %v", err)
	}
	res := e.record(ctx, crm.NewInteraction{Kind: crm.InteractionReservation, Source: "website", Form: "booking",
		InteractionContent: crm.InteractionContent{LastName: "Nina", Emails: []string{"nina@example.nl"},
			CustomFields: map[string]any{"allergies": "nuts"}, Data: map[string]any{"party": 2}}})
	if !res.Created || res.Customer.CustomFields["allergies"] != "nuts" || res.Interaction.Form != "booking" {
		t.Fatalf("form interaction: %+v", res)
	}
	// Update, list, delete; another organisation sees none of it.
	upd, err := e.crm.Forms.Update(e.a, "booking", crm.FormPatch{Fields: &[]crm.FormField{{Field: "lastName", Required: true}}})
	if err != nil || len(upd.Fields) != 1 {
		t.Fatalf("update: %+v %v", upd, err)
	}
	if forms, err := e.crm.Forms.List(e.b); err != nil || len(forms) != 0 {
		t.Fatalf("B lists A's forms: %+v %v", forms, err)
	}
	if _, err := e.crm.Forms.Get(e.b, "booking"); !errors.Is(err, crm.ErrNotFound) {
		t.Fatalf("B reads A's form: %v", err)
	}
	if _, err := e.crm.Forms.Update(e.b, "booking", crm.FormPatch{Name: ptr("B's")}); !errors.Is(err, crm.ErrNotFound) {
		t.Fatalf("B changes A's form: %v", err)
	}
	if err := e.crm.Forms.Delete(e.b, "booking"); !errors.Is(err, crm.ErrNotFound) {
		t.Fatalf("B deletes A's form: %v", err)
	}
	if _, err = e.crm.Interactions.Record(integration(e.b), crm.NewInteraction{Kind: crm.InteractionReservation, Source: "website", Form: "booking",
		InteractionContent: crm.InteractionContent{LastName: "B"}}); !errors.As(err, &ve) || !ve.Has("form", "unknown") {
		t.Fatalf("B uses A's form: %v", err)
	}
	if forms, err := e.crm.Forms.List(e.a); err != nil || len(forms) != 1 {
		t.Fatalf("list: %+v %v", forms, err)
	}
	if err := e.crm.Forms.Delete(e.a, "booking"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.crm.Forms.Get(e.a, "booking"); !errors.Is(err, crm.ErrNotFound) {
		t.Fatalf("deleted form: %v", err)
	}
}
