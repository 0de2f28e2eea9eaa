package crm_test

import (
	"errors"
	"fmt"
	"log"

	"github.com/dossiercrm/dossier/crm"
)

func ExampleInteractionService_Record() {
	c, ctx, done := setup()
	defer done()

	// Staff typed this guest in by hand.
	anna, err := c.Customers.Create(ctx, crm.CustomerFields{FirstName: "Anna", LastName: "de Vries", Email: "anna@example.nl"})
	if err != nil {
		log.Fatal(err)
	}
	// A booking platform reports a reservation: same address in capitals,
	// another spelling of the name, and a phone number staff did not have.
	tool := crm.WithActor(ctx, crm.Actor{Kind: crm.ActorIntegration, ID: "resengo"})
	res, err := c.Interactions.Record(tool, crm.NewInteraction{
		Kind: crm.InteractionReservation, Source: "resengo", SourceID: "guest-4711",
		InteractionContent: crm.InteractionContent{
			FirstName: "Ann", LastName: "de Vries", Emails: []string{"ANNA@example.nl"}, Phones: []string{"06 1234 5678"},
			Data: map[string]any{"partySize": 4},
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.Customer.ID == anna.ID, res.MatchedBy, res.Customer.FirstName, res.Customer.Phones[0].Number, res.UpdatedFields)

	// Next time the platform's own id finds her first.
	res, err = c.Interactions.Record(tool, crm.NewInteraction{Kind: crm.InteractionReview, Source: "resengo", SourceID: "guest-4711",
		Review: &crm.Review{Score: 5, Text: "Wonderful"}})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.MatchedBy, res.Customer.LatestReview.Score, "of", res.Customer.LatestReview.Max)

	// A new person makes a new customer.
	res, err = c.Interactions.Record(tool, crm.NewInteraction{Kind: crm.InteractionNewsletter, Source: "website",
		InteractionContent: crm.InteractionContent{Emails: []string{"bram@example.nl"}}})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.Created, res.Customer.Number, res.Customer.Status)

	// A form says what it requires; what is missing is named.
	if _, err := c.Forms.Define(ctx, crm.NewForm{Key: "contact", Name: "Contact form", Fields: []crm.FormField{
		{Field: "lastName", Required: true}, {Field: "emails", Required: true}}}); err != nil {
		log.Fatal(err)
	}
	_, err = c.Interactions.Record(tool, crm.NewInteraction{Kind: crm.InteractionContactForm, Source: "website", Form: "contact",
		InteractionContent: crm.InteractionContent{LastName: "Jansen"}})
	var invalid *crm.ValidationError
	if errors.As(err, &invalid) {
		for _, f := range invalid.Fields {
			fmt.Println(f.Field, f.Code)
		}
	}
	// Output:
	// true email Anna +31612345678 [phones]
	// sourceId 5 of 5
	// true 2 lead
	// emails required
}
