package background

import (
	"strings"
	"testing"
	"time"

	"github.com/dossiercrm/dossier/crm"
	"github.com/dossiercrm/dossier/crm/mail"
	"github.com/dossiercrm/dossier/crm/store/testdb"
)

// TestItinerariesRemovedAfter30Days: the leader's periodic job removes an
// itinerary saved more than 30 days ago and keeps a younger one.
func TestItinerariesRemovedAfter30Days(t *testing.T) {
	testdb.Each(t, func(t *testing.T, open testdb.Opener) {
		st := open(t)
		old := newWorldOn(t, st, st, crm.Config{Clock: func() time.Time { return time.Now().Add(-crm.ItineraryTTL - time.Hour) }})
		if _, err := old.c.Portal.UpdateSettings(old.ctx, crm.PortalSettingsPatch{ItinerariesEnabled: new(true)}); err != nil {
			t.Fatal(err)
		}
		in := crm.NewItinerary{Title: "Trip", Lines: []crm.ItineraryLine{{Kind: "hotel", Description: "Hotel"}}}
		gone, err := old.c.Itineraries.Save(old.ctx, old.cust.ID, in)
		if err != nil {
			t.Fatal(err)
		}
		c, err := crm.New(st, crm.Config{})
		if err != nil {
			t.Fatal(err)
		}
		kept, err := c.Itineraries.Save(old.ctx, old.cust.ID, in)
		if err != nil {
			t.Fatal(err)
		}
		w := &world{st: st, c: c, ctx: old.ctx, cust: old.cust}
		w.start(t, Config{})
		waitFor(t, "the old itinerary removed", func() bool {
			items, err := c.Itineraries.List(w.ctx, w.cust.ID)
			return err == nil && len(items) == 1
		})
		items, _ := c.Itineraries.List(w.ctx, w.cust.ID)
		if items[0].ID != kept.ID || items[0].ID == gone.ID {
			t.Fatalf("left %+v", items)
		}
	})
}

// TestMailingDeliveredByBackground: a mailing started by staff is queued
// by the background job and delivered, and its counts say so.
func TestMailingDeliveredByBackground(t *testing.T) {
	testdb.Each(t, func(t *testing.T, open testdb.Opener) {
		w := newWorld(t, open, crm.Config{})
		if _, err := w.c.Consents.Give(w.ctx, w.cust.ID, crm.ConsentInput{Purpose: crm.PurposeCommercialEmail, Source: crm.SourceStaff}); err != nil {
			t.Fatal(err)
		}
		m, err := w.c.Mailings.Start(w.ctx, crm.NewMailing{Template: crm.TemplateConsentConfirmation, Purpose: crm.PurposeCommercialEmail})
		if err != nil {
			t.Fatal(err)
		}
		sender := &mail.Recorder{}
		w.start(t, Config{Sender: sender})
		waitFor(t, "the mailing sent", func() bool {
			got, err := w.c.Mailings.Get(w.ctx, m.ID)
			return err == nil && got.Status == crm.MailingDone && got.Counts.Sent == 1
		})
		sent := sender.Messages()
		if len(sent) != 1 || !strings.Contains(sent[0].Text, "dpu_acme.") {
			t.Fatalf("sent %+v", sent)
		}
		// The List-Unsubscribe header reaches the mail server with the
		// mail's own secret (the default link is http: no one-click header).
		token := sent[0].Text[strings.Index(sent[0].Text, "dpu_acme."):][:len("dpu_acme.")+43]
		if h := sent[0].Headers; h[crm.HeaderListUnsubscribe] != "<http://127.0.0.1:8080/portal/v1/unsubscribe/one-click?token="+token+">" ||
			h[crm.HeaderListUnsubscribePost] != "" {
			t.Fatalf("headers %q, token %s", h, token)
		}
	})
}
