package storetest

import (
	"context"
	"regexp"
	"testing"

	"github.com/dossiercrm/dossier/crm"
)

// setPasswordToken is the secret in a set-password link.
var setPasswordToken = regexp.MustCompile(`dpt_[a-z0-9_-]+\.[A-Za-z0-9_-]{43}`)

// unsubscribeToken is the secret in an unsubscribe link.
var unsubscribeToken = regexp.MustCompile(`dpu_[a-z0-9_-]+\.[A-Za-z0-9_-]{43}`)

// LinkToken returns the secret of the newest mail of the customer whose
// text holds one matching kind ("set_password" or "unsubscribe"), read
// from the outbox, where it waits until delivery. It fails the test when
// there is none.
func LinkToken(t testing.TB, c *crm.CRM, ctx context.Context, customerID, kind string) string {
	t.Helper()
	re := setPasswordToken
	if kind == "unsubscribe" {
		re = unsubscribeToken
	}
	page, err := c.Outbox.List(ctx, customerID, crm.PageRequest{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range page.Items {
		if tok := re.FindString(m.Text); tok != "" {
			return tok
		}
	}
	t.Fatalf("no %s link in the outbox of customer %s", kind, customerID)
	return ""
}

// makeDistinctivePortal gives the distinctive customer a row in every
// table of the customer's own side.
func makeDistinctivePortal(t *testing.T, c *crm.CRM, ctx context.Context, customerID string) {
	t.Helper()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	_, err := c.Portal.UpdateSettings(ctx, crm.PortalSettingsPatch{ItinerariesEnabled: ptr(true), ContestsEnabled: ptr(true)})
	must(err)
	_, err = c.Portal.SendSetPasswordLink(ctx, customerID)
	must(err)
	must(c.Portal.SetPassword(ctx, LinkToken(t, c, ctx, customerID, "set_password"), "correct horse battery staple"))
	org, err := crm.OrgFrom(ctx)
	must(err)
	acct, err := c.Portal.Account(ctx, customerID)
	must(err)
	_, _, err = c.Portal.SignIn(crm.WithOrg(context.Background(), org), acct.Email, "correct horse battery staple",
		crm.PortalClient{IP: "198.51.100.79", UserAgent: "Xqportal/1.0"})
	must(err)
	self := crm.WithActor(crm.WithOrg(context.Background(), org), crm.CustomerActor(customerID))
	_, err = c.Itineraries.Save(self, "", crm.NewItinerary{Title: "Xqtrip to Crete", Lines: []crm.ItineraryLine{
		{Kind: "hotel", Description: "Hotel Xqtrip", Quantity: 2, PriceMinor: 120000, Currency: "EUR"}}})
	must(err)
	from, to := crm.MustDate("2000-01-01"), crm.MustDate("2999-12-31")
	contest, err := c.Contests.Create(ctx, crm.NewContest{Name: "Summer", Question: "Where to?", StartsOn: &from, EndsOn: &to})
	must(err)
	_, err = c.Contests.Enter(self, contest.ID, "", "Xqanswer Crete")
	must(err)
	_, err = c.Brochures.Request(ctx, customerID, crm.NewBrochureRequest{Brochures: []string{"Greece"}, Source: crm.BrochureFromSite})
	must(err)
	// A purpose on legitimate interest: the mailing reaches the customer
	// without a consent record (the consent log stays as the tests know it).
	_, err = c.Consents.DefinePurpose(ctx, crm.NewConsentPurpose{Key: "offers", Name: "Offers", Channel: crm.ChannelEmail,
		LegalBasis: crm.LegalBasisLegitimateInterest})
	must(err)
	m, err := c.Mailings.Start(ctx, crm.NewMailing{Template: crm.TemplateConsentConfirmation, Purpose: "offers"})
	must(err)
	for done := false; !done; {
		done, err = c.Mailings.Continue(ctx, m.ID)
		must(err)
	}
}
