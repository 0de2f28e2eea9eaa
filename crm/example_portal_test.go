package crm_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"regexp"
	"strings"

	"github.com/dossiercrm/dossier/crm"
)

// The customer's portal: staff send a set-password link (never a
// password); the customer sets a password with the link's secret, signs in
// and acts on their own dossier with the session.
func ExamplePortalService_SignIn() {
	c, ctx, done := setup()
	defer done()

	cust, err := c.Customers.Create(ctx, crm.CustomerFields{FirstName: "Anna", LoginEmail: "anna@example.nl"})
	if err != nil {
		log.Fatal(err)
	}
	if _, err := c.Portal.SendSetPasswordLink(ctx, cust.ID); err != nil {
		log.Fatal(err)
	}
	// The link waits in the outbox; a mail worker delivers it. Here it is
	// read from there, as the customer would read it in the mail.
	mails, err := c.Outbox.List(ctx, cust.ID, crm.PageRequest{})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(mails.Items[0].Template, mails.Items[0].Subject)
	secret := regexp.MustCompile(`dpt_[^\s]+`).FindString(mails.Items[0].Text)

	if err := c.Portal.SetPassword(context.Background(), secret, "password1234"); err != nil {
		fmt.Println("refused:", err)
	}
	if err := c.Portal.SetPassword(context.Background(), secret, "correct horse battery staple"); err != nil {
		log.Fatal(err)
	}
	site := crm.WithOrg(context.Background(), "acme")
	_, _, err = c.Portal.SignIn(site, "anna@example.nl", "wrong password", crm.PortalClient{IP: "192.0.2.1"})
	fmt.Println(errors.Is(err, crm.ErrUnauthenticated))
	sess, token, err := c.Portal.SignIn(site, "ANNA@example.nl", "correct horse battery staple", crm.PortalClient{IP: "192.0.2.1"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(sess.CustomerID == cust.ID, strings.HasPrefix(token, "dps_acme."))

	// Every request: the token gives the session; the customer acts on themselves.
	sess, err = c.Portal.Authenticate(context.Background(), token)
	if err != nil {
		log.Fatal(err)
	}
	self := crm.WithActor(crm.WithOrg(context.Background(), sess.OrgID), crm.CustomerActor(sess.CustomerID))
	me, err := c.Portal.Self(self)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(me.FirstName)
	// Output:
	// set_password Stel uw wachtwoord in voor Acme Travel
	// refused: invalid input: password is too common: choose a password that is not on lists of often used passwords
	// true
	// true true
	// Anna
}
