package crm_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"strings"
	"time"

	"github.com/dossiercrm/dossier/crm"
	"github.com/dossiercrm/dossier/crm/mail"
	"github.com/dossiercrm/dossier/crm/store"
	"github.com/dossiercrm/dossier/crm/store/cloudblob"
)

// setup opens an in-memory store with one organisation and returns a context
// scoped to it, with a staff user acting.
func setup() (*crm.CRM, context.Context, func()) {
	ctx := context.Background()
	st, err := store.Open(ctx, "sqlite::memory:", store.WithMigrate())
	if err != nil {
		log.Fatal(err)
	}
	c, err := crm.New(st, crm.Config{Clock: func() time.Time { return time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC) }})
	if err != nil {
		log.Fatal(err)
	}
	if _, err := c.Organisations.Create(ctx, crm.NewOrganisation{
		ID: "acme", Name: "Acme Travel", DefaultLanguage: "nl", DefaultCountry: "NL",
	}); err != nil {
		log.Fatal(err)
	}
	return c, actAs(c, crm.WithOrg(ctx, "acme"), "u-17"), func() { st.Close() }
}

// actAs makes the staff user id in ctx's organisation and returns ctx with
// it acting: every change names a real staff user, and Act reads and checks
// it once for all the calls made with the returned context.
func actAs(c *crm.CRM, ctx context.Context, id string) context.Context {
	sys := crm.WithActor(ctx, crm.System())
	if _, err := c.Staff.Create(sys, crm.NewStaffUser{ID: id, Name: "Mia Jansen", Role: crm.RoleStaff}); err != nil {
		log.Fatal(err)
	}
	ctx, err := c.Staff.Act(ctx, id)
	if err != nil {
		log.Fatal(err)
	}
	return ctx
}

func ExampleCustomerService_Create() {
	c, ctx, done := setup()
	defer done()

	cust, err := c.Customers.Create(ctx, crm.CustomerFields{
		FirstName: "Anna",
		LastName:  "Müller",
		Email:     "anna@example.nl",
		Phones:    []crm.Phone{{Number: "06 1234 5678"}},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(cust.Number, cust.DisplayName(), cust.Phones[0].Number, cust.Language, cust.Status)

	// Bad input is refused with every failing field named.
	_, err = c.Customers.Create(ctx, crm.CustomerFields{LastName: "Jansen", Email: "jansen@", Language: "xx"})
	var invalid *crm.ValidationError
	if errors.As(err, &invalid) {
		for _, f := range invalid.Fields {
			fmt.Println(f.Field, f.Code)
		}
	}
	// Output:
	// 1 Anna Müller +31612345678 nl customer
	// email email
	// language language
}

func ExampleCustomerService_List() {
	c, ctx, done := setup()
	defer done()

	for _, f := range []crm.CustomerFields{
		{FirstName: "Anna", LastName: "Müller", Phones: []crm.Phone{{Number: "0612345678"}}},
		{FirstName: "Zoë", MiddleName: "van der", LastName: "Berg", AltEmails: []string{"zoe@work.example"}},
		{FirstName: "Jan", LastName: "Mulder"},
	} {
		if _, err := c.Customers.Create(ctx, f); err != nil {
			log.Fatal(err)
		}
	}
	find := func(f crm.CustomerFilter) {
		page, err := c.Customers.List(ctx, f, crm.PageRequest{})
		if err != nil {
			log.Fatal(err)
		}
		for _, cust := range page.Items {
			fmt.Printf("  %d %s\n", cust.Number, cust.DisplayName())
		}
	}
	fmt.Println("name \"mul\":")
	find(crm.CustomerFilter{Name: "mul"})
	fmt.Println("name \"zoe berg\" (no), \"berg\" (yes):")
	find(crm.CustomerFilter{Name: "zoe berg"})
	find(crm.CustomerFilter{Name: "berg"})
	fmt.Println("phone \"+31 6 12 34 56 78\":")
	find(crm.CustomerFilter{Phone: "+31 6 12 34 56 78"})
	fmt.Println("e-mail \"ZOE@work.example\":")
	find(crm.CustomerFilter{Email: "ZOE@work.example"})
	// Output:
	// name "mul":
	//   1 Anna Müller
	//   3 Jan Mulder
	// name "zoe berg" (no), "berg" (yes):
	//   2 Zoë van der Berg
	// phone "+31 6 12 34 56 78":
	//   1 Anna Müller
	// e-mail "ZOE@work.example":
	//   2 Zoë van der Berg
}

func ExampleHistoryService_List() {
	c, ctx, done := setup()
	defer done()

	cust, err := c.Customers.Create(ctx, crm.CustomerFields{FirstName: "Jan", LastName: "Smit"})
	if err != nil {
		log.Fatal(err)
	}
	portal := crm.WithActor(ctx, crm.CustomerActor(cust.ID))
	if _, err := c.Customers.Update(portal, cust.ID, cust.Version, crm.CustomerPatch{LastName: ptr("Smid")}); err != nil {
		log.Fatal(err)
	}
	timeline, err := c.History.List(ctx, cust.ID, crm.PageRequest{})
	if err != nil {
		log.Fatal(err)
	}
	for _, ev := range timeline.Items {
		fmt.Println(ev.At.Format(time.DateTime), ev.Kind, ev.Actor.Kind)
		if ev.Kind == crm.EventCustomerUpdated {
			for _, ch := range ev.Changes {
				fmt.Printf("  %s: %v -> %v\n", ch.Field, ch.Old, ch.New)
			}
		}
	}
	// Output:
	// 2026-11-22 09:00:00 customer.updated customer
	//   lastName: Smit -> Smid
	// 2026-11-22 09:00:00 customer.created staff
}

func ptr[T any](v T) *T { return &v }

func ExampleConsentService_RequestConfirmation() {
	c, ctx, done := setup()
	defer done()

	cust, _ := c.Customers.Create(ctx, crm.CustomerFields{FirstName: "Eva", LastName: "de Vries", Email: "eva@example.nl"})
	// The text the customer sees is kept once, versioned, and referenced by every record.
	if _, err := c.Consents.SetWording(ctx, crm.PurposeNewsletter, "nl", "Ja, stuur mij de nieuwsbrief."); err != nil {
		log.Fatal(err)
	}
	// A newsletter sign-up from a web form waits for the customer's confirmation.
	pending, err := c.Consents.RequestConfirmation(ctx, cust.ID, crm.ConsentInput{
		Purpose: crm.PurposeNewsletter, Source: crm.SourceWebForm, Evidence: crm.Evidence{IP: "192.0.2.10"},
	})
	if err != nil {
		log.Fatal(err)
	}
	// pending.Token goes into the confirmation link; the link's handler confirms.
	if _, err := c.Consents.Confirm(ctx, pending.Token, crm.Evidence{IP: "192.0.2.11"}); err != nil {
		log.Fatal(err)
	}
	_, err = c.Consents.Confirm(ctx, pending.Token, crm.Evidence{})
	fmt.Println("second use refused:", errors.Is(err, crm.ErrConflict))

	log, _ := c.Consents.Log(ctx, cust.ID)
	for _, r := range log {
		fmt.Println(r.Purpose, r.State, r.Source)
	}
	// Output:
	// second use refused: true
	// newsletter pending web_form
	// newsletter granted web_form
}

func ExampleConsentService_MailingSelection() {
	c, ctx, done := setup()
	defer done()

	for _, f := range []crm.CustomerFields{
		{FirstName: "Anna", Email: "anna@example.nl"},
		{FirstName: "Bram", Email: "bram@example.nl", NoMailings: true}, // opted out of all mailings
		{FirstName: "Cees"}, // no address
	} {
		cust, _ := c.Customers.Create(ctx, f)
		if _, err := c.Consents.Give(ctx, cust.ID, crm.ConsentInput{Purpose: crm.PurposeCommercialEmail, Source: crm.SourceStaff}); err != nil {
			log.Fatal(err)
		}
	}
	err := c.Consents.MailingSelection(ctx, crm.MailingSelectionParams{Purpose: crm.PurposeCommercialEmail},
		func(r crm.MailingRecipient) error {
			fmt.Println(r.Name, r.Email)
			return nil
		})
	if err != nil {
		log.Fatal(err)
	}
	// Output:
	// Anna anna@example.nl
}

// A postal mailing to every customer with an address who did not object:
// post is legitimate interest (opt-out), so no grant is needed.
func ExampleConsentService_MailingSelection_optOut() {
	c, ctx, done := setup()
	defer done()

	home := crm.Address{Street: "Kerkstraat", HouseNumber: "1", PostalCode: "1017 GA", City: "Amsterdam"}
	for _, f := range []crm.CustomerFields{
		{FirstName: "Anna", Address: home},               // never asked
		{FirstName: "Bram", Address: home, NoPost: true}, // objected to post
		{FirstName: "Cees"},                              // no address
	} {
		if _, err := c.Customers.Create(ctx, f); err != nil {
			log.Fatal(err)
		}
	}
	err := c.Consents.MailingSelection(ctx, crm.MailingSelectionParams{Purpose: crm.PurposePost},
		func(r crm.MailingRecipient) error {
			fmt.Println(r.Name, r.Address.City)
			return nil
		})
	if err != nil {
		log.Fatal(err)
	}
	// Output:
	// Anna Amsterdam
}

func ExamplePrivacyService_Anonymise() {
	c, ctx, done := setup()
	defer done()

	cust, _ := c.Customers.Create(ctx, crm.CustomerFields{FirstName: "Anna", LastName: "Müller", Email: "anna@example.nl"})
	// Everything known about the customer, as staff see it (ExportCustomer
	// leaves out staff-only fields); WriteZip gives the same as CSV files.
	export, _ := c.Privacy.Export(ctx, cust.ID, crm.ExportStaff)
	fmt.Println(export.Customer.DisplayName(), len(export.History), "event")

	anon, err := c.Privacy.Anonymise(ctx, cust.ID)
	if err != nil {
		log.Fatal(err)
	}
	found, _ := c.Customers.Count(ctx, crm.CustomerFilter{Name: "Müller"})
	fmt.Printf("number %d kept, name %q, found by old name: %d\n", anon.Number, anon.DisplayName(), found)
	// Output:
	// Anna Müller 1 event
	// number 1 kept, name "", found by old name: 0
}

func ExampleDocumentService_Send() {
	ctx := context.Background()
	st, err := store.Open(ctx, "sqlite::memory:", store.WithMigrate())
	if err != nil {
		log.Fatal(err)
	}
	defer st.Close()
	dir, _ := os.MkdirTemp("", "dossier-example")
	defer os.RemoveAll(dir)
	// Document contents in a folder; cloudblob.Open(ctx, "s3://bucket?region=eu-west-1")
	// keeps them in object storage instead.
	blobs, _ := cloudblob.OpenDir(dir)
	defer blobs.Close()
	c, _ := crm.New(st, crm.Config{Blobs: blobs})
	c.Organisations.Create(ctx, crm.NewOrganisation{ID: "acme", Name: "Acme Reizen", DefaultLanguage: "nl"})
	ctx = actAs(c, crm.WithOrg(ctx, "acme"), "u-17")

	anna, _ := c.Customers.Create(ctx, crm.CustomerFields{FirstName: "Anna", Email: "anna@example.nl", Language: "de-AT"})
	doc, err := c.Documents.Add(ctx, anna.ID, crm.NewDocument{Title: "Reiseplan", FileName: "plan.pdf"},
		strings.NewReader("%PDF-1.4 ..."))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(doc.ContentType) // sniffed from the contents
	// Queued in the outbox in the same transaction that marks the document sent.
	// With it goes a delivery job, which package crm/background runs.
	queued, err := c.Documents.Send(ctx, anna.ID, []string{doc.ID}, crm.SendOptions{})
	if err != nil {
		log.Fatal(err)
	}
	// Its worker delivers it; here to a recorder instead of an SMTP server.
	sent := &mail.Recorder{}
	worker := &mail.Worker{Outbox: c.Outbox, Sender: sent, From: mail.Address{Email: "noreply@acme.example"}}
	if _, err := worker.Deliver(ctx, "acme", queued.ID); err != nil {
		log.Fatal(err)
	}
	m := sent.Messages()[0]
	fmt.Println(m.To[0].Email, "|", m.Subject, "|", m.Attachments[0].Name)
	// Output:
	// application/pdf
	// anna@example.nl | Ihre Unterlagen von Acme Reizen | plan.pdf
}
