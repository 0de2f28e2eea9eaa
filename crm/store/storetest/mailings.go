package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dossiercrm/dossier/crm"
)

// testMailingBatches: a mailing queues its recipients a batch per
// transaction and continues after a restart where it stopped, each
// recipient once; every mail carries List-Unsubscribe headers with its
// own secret (removed after delivery), and the one-click POST withdraws
// the consent like the link, on the timeline.
func testMailingBatches(t *testing.T, open func(t *testing.T) crm.Store) {
	e := newEnv(t, open)
	cfg := crm.Config{Clock: func() time.Time { return e.now }, MailingBatch: 2,
		UnsubscribeOneClickURL: "https://crm.example/portal/v1/unsubscribe/one-click?token={token}",
		UnsubscribeMailto:      "unsubscribe@example.org"}
	c, err := crm.New(e.store, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Mail.AddTemplate(e.a, "offer", "nl", crm.MailTemplateInput{Subject: "Aanbod voor {{.Customer.FirstName}}",
		Text: "Beste {{.Customer.FirstName}}"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Mail.SetTemplate(e.a, "offer", "de", crm.MailTemplateInput{Subject: "Angebot für {{.Customer.FirstName}}",
		Text: "Hallo {{.Customer.FirstName}}", HTML: "<p>Hallo {{.Customer.FirstName}}</p>"}); err != nil {
		t.Fatal(err)
	}
	var custs []*crm.Customer
	for i, name := range []string{"Ada", "Bert", "Cor", "Dirk", "Eef"} {
		cu := e.create(e.a, crm.CustomerFields{FirstName: name, Email: strings.ToLower(name) + "@example.org", Language: []string{"nl", "de"}[i%2]})
		if _, err := c.Consents.Give(e.a, cu.ID, crm.ConsentInput{Purpose: crm.PurposeCommercialEmail, Source: crm.SourceStaff}); err != nil {
			t.Fatal(err)
		}
		custs = append(custs, cu)
	}
	bc := e.create(e.b, crm.CustomerFields{FirstName: "Bea", Email: "bea@example.org"})
	if _, err := c.Consents.Give(e.b, bc.ID, crm.ConsentInput{Purpose: crm.PurposeCommercialEmail, Source: crm.SourceStaff}); err != nil {
		t.Fatal(err)
	}
	m, err := c.Mailings.Start(e.a, crm.NewMailing{Template: "offer", Purpose: crm.PurposeCommercialEmail})
	if err != nil {
		t.Fatal(err)
	}
	// One batch, then a "restart": a new CRM on the same store continues.
	if done, err := c.Mailings.Continue(e.a, m.ID); err != nil || done {
		t.Fatalf("first batch: done %v, %v", done, err)
	}
	got, err := c.Mailings.Get(e.a, m.ID)
	if err != nil || got.Status != crm.MailingRunning || got.Counts.Queued != 2 || got.Counts.Pending != 2 {
		t.Fatalf("after one batch %+v, %v", got, err)
	}
	restarted, err := crm.New(e.store, cfg)
	if err != nil {
		t.Fatal(err)
	}
	calls := 0
	for done := false; !done; calls++ {
		if done, err = restarted.Mailings.Continue(e.a, m.ID); err != nil {
			t.Fatal(err)
		}
	}
	if calls != 2 {
		t.Fatalf("%d more batches for 3 recipients in batches of 2, want 2", calls)
	}
	got, err = c.Mailings.Get(e.a, m.ID)
	if err != nil || got.Status != crm.MailingDone || got.Counts.Queued != 5 || got.Counts.Pending != 5 || got.Counts.Skipped != 0 {
		t.Fatalf("done %+v, %v", got, err)
	}
	// Each recipient once: one mail, one mail.queued event, one secret,
	// which the headers and the text share.
	tokens := map[string]bool{}
	for _, cu := range custs {
		page, err := c.Outbox.List(e.a, cu.ID, crm.PageRequest{})
		if err != nil || len(page.Items) != 1 {
			t.Fatalf("%s's mails %+v, %v", cu.FirstName, page.Items, err)
		}
		mail, err := c.Outbox.Get(e.a, page.Items[0].ID)
		if err != nil {
			t.Fatal(err)
		}
		token := unsubscribeToken.FindString(mail.Text)
		if token == "" || tokens[token] {
			t.Fatalf("%s's mail has no secret of its own: %q", cu.FirstName, mail.Text)
		}
		tokens[token] = true
		want := "<https://crm.example/portal/v1/unsubscribe/one-click?token=" + token +
			">, <mailto:unsubscribe@example.org?subject=unsubscribe%20" + token + ">"
		if mail.Headers[crm.HeaderListUnsubscribe] != want || mail.Headers[crm.HeaderListUnsubscribePost] != crm.ListUnsubscribeOneClick {
			t.Fatalf("%s's headers %q, want List-Unsubscribe %q", cu.FirstName, mail.Headers, want)
		}
		if cu.Language == "de" && (mail.Subject != "Angebot für "+cu.FirstName || !strings.Contains(mail.HTML, token)) {
			t.Fatalf("%s's mail %q %q", cu.FirstName, mail.Subject, mail.HTML)
		}
		queued := 0
		for _, ev := range e.history(e.a, cu.ID) {
			if ev.Kind == crm.EventMailQueued {
				queued++
			}
		}
		if queued != 1 {
			t.Fatalf("%s has %d mail.queued events", cu.FirstName, queued)
		}
	}
	if page, _ := c.Outbox.List(e.b, bc.ID, crm.PageRequest{}); len(page.Items) != 0 {
		t.Fatal("B's customer got A's mailing")
	}

	// Delivered: the headers lose the secret like the text.
	page, _ := c.Outbox.List(e.a, custs[0].ID, crm.PageRequest{})
	claimed, _, err := c.Outbox.Claim(context.Background(), orgA, page.Items[0].ID)
	if err != nil || claimed == nil || claimed.Headers[crm.HeaderListUnsubscribe] == "" {
		t.Fatalf("claim %+v, %v", claimed, err)
	}
	token := unsubscribeToken.FindString(claimed.Headers[crm.HeaderListUnsubscribe])
	if err := c.Outbox.Delivered(context.Background(), claimed); err != nil {
		t.Fatal(err)
	}
	after, err := c.Outbox.Get(e.a, claimed.ID)
	if err != nil || strings.Contains(after.Headers[crm.HeaderListUnsubscribe], token) ||
		!strings.Contains(after.Headers[crm.HeaderListUnsubscribe], "dpu_org-a.(removed after delivery)") ||
		after.Headers[crm.HeaderListUnsubscribePost] != crm.ListUnsubscribeOneClick {
		t.Fatalf("the delivered headers %q, %v", after.Headers, err)
	}

	// One-click: the consent is withdrawn as the customer, on the
	// timeline with how; a second post changes nothing.
	for range 2 {
		info, err := c.Mailings.UnsubscribeOneClick(context.Background(), token, crm.Evidence{IP: "192.0.2.7"})
		if err != nil || info.Unsubscribed == nil || info.Purpose != crm.PurposeCommercialEmail {
			t.Fatalf("one-click %+v, %v", info, err)
		}
	}
	states, err := c.Consents.States(e.a, custs[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range states {
		if s.Purpose == crm.PurposeCommercialEmail && s.State != crm.ConsentWithdrawn {
			t.Fatalf("after one-click %+v", s)
		}
	}
	events := 0
	for _, ev := range e.history(e.a, custs[0].ID) {
		if ev.Kind != crm.EventMailingUnsubscribed {
			continue
		}
		events++
		via := ""
		for _, ch := range ev.Changes {
			if ch.Field == "via" {
				via, _ = ch.New.(string)
			}
		}
		if ev.Actor != crm.CustomerActor(custs[0].ID) || via != crm.UnsubscribeViaOneClick {
			t.Fatalf("unsubscribe event %+v", ev)
		}
	}
	if events != 1 {
		t.Fatalf("%d unsubscribe events", events)
	}
	if got, _ := c.Mailings.Get(e.a, m.ID); got.Counts.Unsubscribed != 1 || got.Counts.Sent != 1 {
		t.Fatalf("counts %+v", got.Counts)
	}
	// Another organisation's prefix on A's secret is no secret at all.
	if _, err := c.Mailings.UnsubscribeOneClick(context.Background(), strings.Replace(token, "org-a", "org-b", 1), crm.Evidence{}); !errors.Is(err, crm.ErrUnauthenticated) {
		t.Fatalf("A's secret in B: %v", err)
	}

	// The default link is not https: List-Unsubscribe without the
	// one-click announcement, and no mailto when none is configured.
	plain, err := e.crm.Mailings.Start(e.a, crm.NewMailing{Template: "offer", Purpose: crm.PurposeCommercialEmail})
	if err != nil {
		t.Fatal(err)
	}
	for done := false; !done; {
		if done, err = e.crm.Mailings.Continue(e.a, plain.ID); err != nil {
			t.Fatal(err)
		}
	}
	page, _ = c.Outbox.List(e.a, custs[1].ID, crm.PageRequest{})
	mail, err := c.Outbox.Get(e.a, page.Items[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	h := mail.Headers
	if !strings.HasPrefix(h[crm.HeaderListUnsubscribe], "<http://127.0.0.1:8080/portal/v1/unsubscribe/one-click?token=dpu_org-a.") ||
		strings.Contains(h[crm.HeaderListUnsubscribe], "mailto:") || h[crm.HeaderListUnsubscribePost] != "" {
		t.Fatalf("default headers %q", h)
	}
}

// testPortalBookings: the signed-in customer sees the bookings they lead,
// without the other participants' customer ids (nor in their own export),
// and never a booking of another customer they only travel on; staff
// still see the participants.
func testPortalBookings(t *testing.T, open func(t *testing.T) crm.Store) {
	e := newEnv(t, open)
	lead := e.create(e.a, crm.CustomerFields{FirstName: "Lea", LastName: "Lead"})
	partner := e.create(e.a, crm.CustomerFields{FirstName: "Paul", LastName: "Partner"})
	in := trip("PB-1", lead, "2027-06-01", 120000)
	in.Participants = []string{partner.ID}
	e.upsert(e.a, in)
	theirs := trip("PB-2", partner, "2027-08-01", 50000)
	theirs.Participants = []string{lead.ID}
	e.upsert(e.a, theirs)
	if b, err := e.crm.Bookings.Get(e.a, "PB-1"); err != nil || len(b.Participants) != 1 || b.Participants[0] != partner.ID {
		t.Fatalf("staff's view %+v, %v", b, err)
	}
	self := crm.WithActor(crm.WithOrg(context.Background(), orgA), crm.CustomerActor(lead.ID))
	mine, err := e.crm.Portal.Bookings(self, 0)
	if err != nil {
		t.Fatal(err)
	}
	all := slices.Concat(mine.Upcoming, mine.Past, mine.Deleted)
	if len(all) != 1 || all[0].Reference != "PB-1" || all[0].CustomerID != lead.ID || all[0].Participants != nil {
		t.Fatalf("the lead's bookings %+v", all)
	}
	exp, err := e.crm.Portal.Export(self)
	if err != nil {
		t.Fatal(err)
	}
	if len(exp.Bookings) != 1 || exp.Bookings[0].Participants != nil {
		t.Fatalf("the customer's export shows %+v", exp.Bookings)
	}
	body, err := json.Marshal(struct {
		B *crm.CustomerBookings
		E *crm.CustomerExport
	}{mine, exp})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(body), partner.ID) {
		t.Fatal("the lead's bookings or export name the partner's customer id")
	}
	// The partner, signed in, sees their own booking only.
	pself := crm.WithActor(crm.WithOrg(context.Background(), orgA), crm.CustomerActor(partner.ID))
	theirsSeen, err := e.crm.Portal.Bookings(pself, 0)
	if err != nil {
		t.Fatal(err)
	}
	if all := slices.Concat(theirsSeen.Upcoming, theirsSeen.Past, theirsSeen.Deleted); len(all) != 1 || all[0].Reference != "PB-2" ||
		all[0].Participants != nil {
		t.Fatalf("the partner's bookings %+v", all)
	}
	// A customer of B with A's customer id in their context sees nothing of A's.
	bself := crm.WithActor(crm.WithOrg(context.Background(), orgB), crm.CustomerActor(lead.ID))
	if got, err := e.crm.Portal.Bookings(bself, 0); err == nil && len(slices.Concat(got.Upcoming, got.Past, got.Deleted)) != 0 {
		t.Fatalf("A's bookings in B: %+v", got)
	}
}
