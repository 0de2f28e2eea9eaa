package storetest

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/dossiercrm/dossier/crm"
)

// The conformance tests of the customer's own side: portal accounts,
// itineraries, contests, brochure requests and mailings.

const testPassword = "correct horse battery staple"

// portalReady gives a customer of ctx's organisation an account with
// testPassword and returns the customer.
func (e *env) portalReady(ctx context.Context, email string) *crm.Customer {
	e.t.Helper()
	c := e.create(ctx, crm.CustomerFields{FirstName: "Anna", LastName: "Portal", LoginEmail: email, Language: "de"})
	if _, err := e.crm.Portal.SendSetPasswordLink(ctx, c.ID); err != nil {
		e.t.Fatal(err)
	}
	if err := e.crm.Portal.SetPassword(ctx, LinkToken(e.t, e.crm, ctx, c.ID, "set_password"), testPassword); err != nil {
		e.t.Fatal(err)
	}
	return c
}

func testPortalAccounts(t *testing.T, open func(t *testing.T) crm.Store) {
	e := newEnv(t, open)
	c := e.create(e.a, crm.CustomerFields{LastName: "Portal", LoginEmail: "Anna@Example.org", Language: "de"})
	acct, err := e.crm.Portal.SendSetPasswordLink(e.a, c.ID)
	if err != nil || acct.CustomerID != c.ID || acct.Email != "Anna@Example.org" || acct.PasswordSet {
		t.Fatalf("account %+v, %v", acct, err)
	}
	// The mail: built-in template, the customer's language, a link with the secret.
	page, err := e.crm.Outbox.List(e.a, c.ID, crm.PageRequest{})
	if err != nil || len(page.Items) != 1 || page.Items[0].Template != crm.TemplateSetPassword || page.Items[0].Language != "de" {
		t.Fatalf("outbox %+v, %v", page.Items, err)
	}
	first := LinkToken(t, e.crm, e.a, c.ID, "set_password")
	// A second link makes the first one stop working.
	if _, err := e.crm.Portal.SendSetPasswordLink(e.a, c.ID); err != nil {
		t.Fatal(err)
	}
	second := LinkToken(t, e.crm, e.a, c.ID, "set_password")
	if first == second {
		t.Fatal("the new link has the old secret")
	}
	if err := e.crm.Portal.SetPassword(context.Background(), first, testPassword); !errors.Is(err, crm.ErrUnauthenticated) {
		t.Fatalf("the replaced link: %v", err)
	}
	// Password rules, then a link works once.
	for _, pw := range []string{"short", "password1234", "anna@example.org", "xxxxxxxxxxxxxxxx"} {
		var v *crm.ValidationError
		if err := e.crm.Portal.SetPassword(context.Background(), second, pw); !errors.As(err, &v) || !v.Has("password", "") {
			t.Fatalf("password %q: %v", pw, err)
		}
	}
	if err := e.crm.Portal.SetPassword(context.Background(), second, testPassword); err != nil {
		t.Fatal(err)
	}
	if err := e.crm.Portal.SetPassword(context.Background(), second, testPassword); !errors.Is(err, crm.ErrUnauthenticated) {
		t.Fatalf("a used link: %v", err)
	}
	// An expired link.
	if _, err := e.crm.Portal.SendSetPasswordLink(e.a, c.ID); err != nil {
		t.Fatal(err)
	}
	third := LinkToken(t, e.crm, e.a, c.ID, "set_password")
	e.now = e.now.Add(crm.DefaultSetPasswordTTL + time.Second)
	if err := e.crm.Portal.SetPassword(context.Background(), third, testPassword); !errors.Is(err, crm.ErrUnauthenticated) {
		t.Fatalf("an expired link: %v", err)
	}
	// A set-password link of A's names A: B cannot use it, nor see the account.
	if _, err := e.crm.Portal.Account(e.b, c.ID); !errors.Is(err, crm.ErrNotFound) {
		t.Fatalf("B reads A's account: %v", err)
	}
	if _, err := e.crm.Portal.AccountByEmail(e.b, "anna@example.org"); !errors.Is(err, crm.ErrNotFound) {
		t.Fatalf("B finds A's account: %v", err)
	}
	if _, err := e.crm.Portal.SendSetPasswordLink(e.b, c.ID); !errors.Is(err, crm.ErrNotFound) {
		t.Fatalf("B mails A's customer: %v", err)
	}
	if _, err := e.crm.Portal.Connect(e.b, acct.ID, c.ID); !errors.Is(err, crm.ErrNotFound) {
		t.Fatalf("B connects A's account: %v", err)
	}
	// One account per customer and per login.
	if _, err := e.crm.Portal.CreateAccount(e.a, c.ID, "other@example.org"); !errors.Is(err, crm.ErrConflict) {
		t.Fatalf("a second account: %v", err)
	}
	d := e.create(e.a, crm.CustomerFields{LastName: "Zwei"})
	if _, err := e.crm.Portal.CreateAccount(e.a, d.ID, "ANNA@example.org"); !errors.Is(err, crm.ErrConflict) {
		t.Fatalf("a taken login: %v", err)
	}
	var v *crm.ValidationError
	if _, err := e.crm.Portal.SendSetPasswordLink(e.a, d.ID); !errors.As(err, &v) || !v.Has("email", "noAddress") {
		t.Fatalf("a customer without address: %v", err)
	}
	// Opened on registration when the organisation wants it.
	if _, err := e.crm.Portal.UpdateSettings(e.a, crm.PortalSettingsPatch{AccountsOnRegistration: ptr(true)}); err != nil {
		t.Fatal(err)
	}
	r := e.create(e.a, crm.CustomerFields{LastName: "Neu", Email: "neu@example.org", Language: "pl"})
	if a, err := e.crm.Portal.Account(e.a, r.ID); err != nil || a.Email != "neu@example.org" {
		t.Fatalf("account on registration %+v, %v", a, err)
	}
	if page, err := e.crm.Outbox.List(e.a, r.ID, crm.PageRequest{}); err != nil || len(page.Items) != 1 || page.Items[0].Language != "pl" {
		t.Fatalf("registration mail %+v, %v", page.Items, err)
	}
	if _, err := e.crm.Portal.Account(e.b, r.ID); !errors.Is(err, crm.ErrNotFound) {
		t.Fatal("B sees A's new account")
	}
}

func testPortalSessions(t *testing.T, open func(t *testing.T) crm.Store) {
	e := newEnv(t, open)
	c := e.portalReady(e.a, "s@example.org")
	orgCtx := crm.WithOrg(context.Background(), orgA)
	sess, token, err := e.crm.Portal.SignIn(orgCtx, "S@EXAMPLE.ORG", testPassword, crm.PortalClient{IP: "192.0.2.1", UserAgent: "Test/1"})
	if err != nil || sess.CustomerID != c.ID || !strings.HasPrefix(token, "dps_org-a.") {
		t.Fatalf("sign-in %+v %q %v", sess, token, err)
	}
	if got, err := e.crm.Portal.Authenticate(context.Background(), token); err != nil || got.ID != sess.ID || got.CustomerID != c.ID {
		t.Fatalf("authenticate %+v, %v", got, err)
	}
	// Not in B, not with another password, not as another address.
	for _, try := range []struct {
		ctx             context.Context
		email, password string
	}{{crm.WithOrg(context.Background(), orgB), "s@example.org", testPassword}, {orgCtx, "s@example.org", "wrong password!"},
		{orgCtx, "nobody@example.org", testPassword}} {
		if _, _, err := e.crm.Portal.SignIn(try.ctx, try.email, try.password, crm.PortalClient{}); !errors.Is(err, crm.ErrUnauthenticated) {
			t.Fatalf("sign-in %+v: %v", try, err)
		}
	}
	// The session ends when idle too long, and at its absolute end.
	e.now = e.now.Add(crm.DefaultPortalSessionIdle - time.Minute)
	if _, err := e.crm.Portal.Authenticate(context.Background(), token); err != nil {
		t.Fatalf("an active session: %v", err)
	}
	e.now = e.now.Add(crm.DefaultPortalSessionIdle)
	if _, err := e.crm.Portal.Authenticate(context.Background(), token); !errors.Is(err, crm.ErrUnauthenticated) {
		t.Fatalf("an idle session: %v", err)
	}
	_, token, err = e.crm.Portal.SignIn(orgCtx, "s@example.org", testPassword, crm.PortalClient{})
	if err != nil {
		t.Fatal(err)
	}
	for range int(crm.DefaultPortalSessionMax / (crm.DefaultPortalSessionIdle / 2)) {
		e.now = e.now.Add(crm.DefaultPortalSessionIdle / 2)
		_, err = e.crm.Portal.Authenticate(context.Background(), token)
	}
	if !errors.Is(err, crm.ErrUnauthenticated) {
		t.Fatalf("past the absolute end: %v", err)
	}
	// Throttling: five failures, then even the right password is refused
	// until the wait is over; then it works and the count starts again.
	for range crm.PortalThrottleAfter {
		if _, _, err := e.crm.Portal.SignIn(orgCtx, "s@example.org", "wrong password!", crm.PortalClient{}); !errors.Is(err, crm.ErrUnauthenticated) {
			t.Fatal(err)
		}
	}
	if _, _, err := e.crm.Portal.SignIn(orgCtx, "s@example.org", testPassword, crm.PortalClient{}); !errors.Is(err, crm.ErrUnauthenticated) {
		t.Fatalf("a throttled account: %v", err)
	}
	e.now = e.now.Add(2 * time.Second)
	_, token, err = e.crm.Portal.SignIn(orgCtx, "s@example.org", testPassword, crm.PortalClient{})
	if err != nil {
		t.Fatalf("after the wait: %v", err)
	}
	// A password change ends every session.
	if _, err := e.crm.Portal.SendSetPasswordLink(e.a, c.ID); err != nil {
		t.Fatal(err)
	}
	if err := e.crm.Portal.SetPassword(context.Background(), LinkToken(t, e.crm, e.a, c.ID, "set_password"), "a new long passphrase"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.crm.Portal.Authenticate(context.Background(), token); !errors.Is(err, crm.ErrUnauthenticated) {
		t.Fatalf("after a password change: %v", err)
	}
	// Anonymisation ends them too, and the account goes.
	_, token, err = e.crm.Portal.SignIn(orgCtx, "s@example.org", "a new long passphrase", crm.PortalClient{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.crm.Privacy.Anonymise(e.a, c.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.crm.Portal.Authenticate(context.Background(), token); !errors.Is(err, crm.ErrUnauthenticated) {
		t.Fatalf("after anonymisation: %v", err)
	}
	if _, err := e.crm.Portal.Account(e.a, c.ID); !errors.Is(err, crm.ErrNotFound) {
		t.Fatalf("the account after anonymisation: %v", err)
	}
	// The timeline recorded the sign-ins with their client.
	events := e.history(e.a, c.ID)
	n := 0
	for _, ev := range events {
		if ev.Kind == crm.EventPortalSignedIn {
			n++
			if ev.Actor != crm.CustomerActor(c.ID) {
				t.Fatalf("sign-in event %+v", ev)
			}
		}
	}
	if n != 4 {
		t.Fatalf("%d sign-in events, want 4", n)
	}
}

func testItineraries(t *testing.T, open func(t *testing.T) crm.Store) {
	e := newEnv(t, open)
	c := e.create(e.a, crm.CustomerFields{LastName: "Reiziger"})
	self := crm.WithActor(crm.WithOrg(context.Background(), orgA), crm.CustomerActor(c.ID))
	in := crm.NewItinerary{Title: "Kreta", Lines: []crm.ItineraryLine{{Kind: "flight", Description: "AMS-HER", PriceMinor: 25000, Currency: "EUR"}}}
	if _, err := e.crm.Itineraries.Save(self, "", in); !errors.Is(err, crm.ErrFeatureOff) {
		t.Fatalf("switched off: %v", err)
	}
	if _, err := e.crm.Portal.UpdateSettings(e.a, crm.PortalSettingsPatch{ItinerariesEnabled: ptr(true)}); err != nil {
		t.Fatal(err)
	}
	var v *crm.ValidationError
	if _, err := e.crm.Itineraries.Save(self, "", crm.NewItinerary{Title: "x"}); !errors.As(err, &v) || !v.Has("lines", "") {
		t.Fatalf("no lines: %v", err)
	}
	it, err := e.crm.Itineraries.Save(self, "", in)
	if err != nil || it.CustomerID != c.ID || !it.ExpiresAt.Equal(e.now.Add(crm.ItineraryTTL)) {
		t.Fatalf("saved %+v, %v", it, err)
	}
	if got, err := e.crm.Itineraries.Get(e.a, it.ID); err != nil || got.Lines[0] != in.Lines[0] {
		t.Fatalf("staff read %+v, %v", got, err)
	}
	if _, err := e.crm.Itineraries.Get(e.b, it.ID); !errors.Is(err, crm.ErrFeatureOff) && !errors.Is(err, crm.ErrNotFound) {
		t.Fatalf("B reads A's itinerary: %v", err)
	}
	if _, err := e.crm.Portal.UpdateSettings(e.b, crm.PortalSettingsPatch{ItinerariesEnabled: ptr(true)}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.crm.Itineraries.Get(e.b, it.ID); !errors.Is(err, crm.ErrNotFound) {
		t.Fatalf("B reads A's itinerary: %v", err)
	}
	other := e.create(e.a, crm.CustomerFields{LastName: "Ander"})
	otherSelf := crm.WithActor(crm.WithOrg(context.Background(), orgA), crm.CustomerActor(other.ID))
	if _, err := e.crm.Itineraries.Get(otherSelf, it.ID); !errors.Is(err, crm.ErrNotFound) {
		t.Fatalf("another customer reads it: %v", err)
	}
	// Removed 30 days after saving, by ExpireDue, with an event; not before.
	e.now = e.now.Add(ItineraryAlmost)
	if n, err := e.crm.Itineraries.ExpireDue(crm.WithActor(e.a, crm.System()), e.now); err != nil || n != 0 {
		t.Fatalf("before its time: %d, %v", n, err)
	}
	e.now = e.now.Add(time.Hour)
	if n, err := e.crm.Itineraries.ExpireDue(crm.WithActor(e.a, crm.System()), e.now); err != nil || n != 1 {
		t.Fatalf("after 30 days: %d, %v", n, err)
	}
	if items, err := e.crm.Itineraries.List(e.a, c.ID); err != nil || len(items) != 0 {
		t.Fatalf("left %+v, %v", items, err)
	}
	if events := e.history(e.a, c.ID); events[0].Kind != crm.EventItineraryRemoved || events[0].Actor != crm.System() {
		t.Fatalf("last event %+v", events[0])
	}
}

// ItineraryAlmost is just under crm.ItineraryTTL.
const ItineraryAlmost = crm.ItineraryTTL - time.Minute

func testContests(t *testing.T, open func(t *testing.T) crm.Store) {
	e := newEnv(t, open)
	from, to := crm.DateOf(e.now.AddDate(0, 0, -1)), crm.DateOf(e.now.AddDate(0, 0, 10))
	if _, err := e.crm.Contests.Create(e.a, crm.NewContest{Name: "Zomer", Question: "Waar?", StartsOn: &from, EndsOn: &to}); !errors.Is(err, crm.ErrFeatureOff) {
		t.Fatalf("switched off: %v", err)
	}
	for _, ctx := range []context.Context{e.a, e.b} {
		if _, err := e.crm.Portal.UpdateSettings(ctx, crm.PortalSettingsPatch{ContestsEnabled: ptr(true)}); err != nil {
			t.Fatal(err)
		}
	}
	var v *crm.ValidationError
	if _, err := e.crm.Contests.Create(e.a, crm.NewContest{Name: "x", Question: "y", StartsOn: &to, EndsOn: &from}); !errors.As(err, &v) || !v.Has("endsOn", "invalid") {
		t.Fatalf("a period backwards: %v", err)
	}
	contest, err := e.crm.Contests.Create(e.a, crm.NewContest{Name: "Zomer", Question: "Waar?", StartsOn: &from, EndsOn: &to})
	if err != nil {
		t.Fatal(err)
	}
	c := e.create(e.a, crm.CustomerFields{LastName: "Deelnemer"})
	self := crm.WithActor(crm.WithOrg(context.Background(), orgA), crm.CustomerActor(c.ID))
	entry, err := e.crm.Contests.Enter(self, contest.ID, "", "Kreta")
	if err != nil || entry.CustomerID != c.ID {
		t.Fatalf("entry %+v, %v", entry, err)
	}
	if _, err := e.crm.Contests.Enter(self, contest.ID, "", "Rhodos"); !errors.Is(err, crm.ErrConflict) {
		t.Fatalf("a second entry: %v", err)
	}
	if _, err := e.crm.Contests.PickWinner(self, entry.ID); err == nil {
		t.Fatal("a customer picked a winner")
	}
	won, err := e.crm.Contests.PickWinner(e.a, entry.ID)
	if err != nil || !won.Winner || won.PickedAt == nil {
		t.Fatalf("winner %+v, %v", won, err)
	}
	if es, err := e.crm.Contests.EntriesOf(e.a, c.ID); err != nil || len(es) != 1 || !es[0].Winner {
		t.Fatalf("the customer's entries %+v, %v", es, err)
	}
	if _, err := e.crm.Contests.Get(e.b, contest.ID); !errors.Is(err, crm.ErrNotFound) {
		t.Fatalf("B reads A's contest: %v", err)
	}
	if _, err := e.crm.Contests.PickWinner(e.b, entry.ID); !errors.Is(err, crm.ErrNotFound) {
		t.Fatalf("B picks in A's contest: %v", err)
	}
	e.now = e.now.AddDate(0, 0, 12)
	d := e.create(e.a, crm.CustomerFields{LastName: "Laat"})
	if _, err := e.crm.Contests.Enter(e.a, contest.ID, d.ID, "x"); !errors.As(err, &v) || !v.Has("contestId", "closed") {
		t.Fatalf("after the period: %v", err)
	}
}

func testBrochures(t *testing.T, open func(t *testing.T) crm.Store) {
	e := newEnv(t, open)
	c := e.create(e.a, crm.CustomerFields{LastName: "Lezer"})
	var ids []string
	for i, b := range [][]string{{"Griekenland"}, {"Cruises", "Verre reizen"}, {"Wintersport"}} {
		e.now = e.now.Add(time.Minute)
		src := crm.BrochureFromStaff
		if i == 1 {
			src = crm.BrochureFromSite
		}
		r, err := e.crm.Brochures.Request(e.a, c.ID, crm.NewBrochureRequest{Brochures: b, Source: src})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, r.ID)
	}
	page, err := e.crm.Brochures.ToSend(e.a, crm.PageRequest{Limit: 2})
	if err != nil || len(page.Items) != 2 || page.Items[0].ID != ids[0] || page.Next == "" {
		t.Fatalf("to send %+v, %v", page, err)
	}
	rest, err := e.crm.Brochures.ToSend(e.a, crm.PageRequest{Limit: 2, Cursor: page.Next})
	if err != nil || len(rest.Items) != 1 || rest.Items[0].ID != ids[2] {
		t.Fatalf("second page %+v, %v", rest, err)
	}
	if _, err := e.crm.Brochures.Printed(e.a, []string{ids[0], ids[1]}, crm.DateOf(e.now)); err != nil {
		t.Fatal(err)
	}
	page, err = e.crm.Brochures.ToSend(e.a, crm.PageRequest{})
	if err != nil || len(page.Items) != 1 || page.Items[0].ID != ids[2] {
		t.Fatalf("to send after printing %+v, %v", page, err)
	}
	all, err := e.crm.Brochures.List(e.a, c.ID)
	if err != nil || len(all) != 3 || all[2].PrintedOn == nil || all[0].PrintedOn != nil {
		t.Fatalf("the dossier keeps %+v, %v", all, err)
	}
	if page, err := e.crm.Brochures.ToSend(e.b, crm.PageRequest{}); err != nil || len(page.Items) != 0 {
		t.Fatalf("B's list %+v, %v", page.Items, err)
	}
	var v *crm.ValidationError
	if _, err := e.crm.Brochures.Printed(e.b, []string{ids[2]}, crm.DateOf(e.now)); !errors.As(err, &v) || !v.Has("ids[0]", "unknown") {
		t.Fatalf("B prints A's request: %v", err)
	}
}

func testMailings(t *testing.T, open func(t *testing.T) crm.Store) {
	e := newEnv(t, open)
	// An organisation's own template, sent to one customer.
	if _, err := e.crm.Mail.AddTemplate(e.a, "spring_offer", "nl", crm.MailTemplateInput{Subject: "Lente voor {{.Customer.FirstName}}",
		Text: "Beste {{.Customer.FirstName}}, afmelden: {{.UnsubscribeLink}}"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.crm.Mail.SetTemplate(e.a, "spring_offer", "de", crm.MailTemplateInput{Subject: "Frühling für {{.Customer.FirstName}}", Text: "Hallo"}); err != nil {
		t.Fatal(err)
	}
	one := e.create(e.a, crm.CustomerFields{FirstName: "Eva", Email: "eva@example.org", Language: "de"})
	m, err := e.crm.Mailings.Send(e.a, one.ID, "spring_offer", "")
	if err != nil || m.Subject != "Frühling für Eva" || m.Language != "de" {
		t.Fatalf("one mail %+v, %v", m, err)
	}
	var v *crm.ValidationError
	if _, err := e.crm.Mailings.Send(e.b, one.ID, "spring_offer", ""); !errors.Is(err, crm.ErrNotFound) && !errors.As(err, &v) {
		t.Fatalf("B sends to A's customer: %v", err)
	}
	// A mailing: the granted ones with an address, not the opted out, not B's.
	var granted []*crm.Customer
	for i, name := range []string{"Ana", "Bo", "Cas"} {
		c := e.create(e.a, crm.CustomerFields{FirstName: name, Email: strings.ToLower(name) + "@example.org", Language: []string{"nl", "de", "pl"}[i]})
		if _, err := e.crm.Consents.Give(e.a, c.ID, crm.ConsentInput{Purpose: crm.PurposeCommercialEmail, Source: crm.SourceStaff}); err != nil {
			t.Fatal(err)
		}
		granted = append(granted, c)
	}
	optedOut := e.create(e.a, crm.CustomerFields{FirstName: "Nee", Email: "nee@example.org", NoMailings: true})
	if _, err := e.crm.Consents.Give(e.a, optedOut.ID, crm.ConsentInput{Purpose: crm.PurposeCommercialEmail, Source: crm.SourceStaff}); err != nil {
		t.Fatal(err)
	}
	bc := e.create(e.b, crm.CustomerFields{FirstName: "B", Email: "b@example.org"})
	if _, err := e.crm.Consents.Give(e.b, bc.ID, crm.ConsentInput{Purpose: crm.PurposeCommercialEmail, Source: crm.SourceStaff}); err != nil {
		t.Fatal(err)
	}
	mailing, err := e.crm.Mailings.Start(e.a, crm.NewMailing{Template: "spring_offer", Purpose: crm.PurposeCommercialEmail})
	if err != nil || mailing.Status != crm.MailingRunning {
		t.Fatalf("start %+v, %v", mailing, err)
	}
	if _, err := e.crm.Mailings.Start(e.a, crm.NewMailing{Template: "no_such"}); !errors.As(err, &v) || !v.Has("template", "unknown") {
		t.Fatalf("an unknown template: %v", err)
	}
	if _, err := e.crm.Mailings.Get(e.b, mailing.ID); !errors.Is(err, crm.ErrNotFound) {
		t.Fatalf("B reads A's mailing: %v", err)
	}
	for done := false; !done; {
		if done, err = e.crm.Mailings.Continue(e.a, mailing.ID); err != nil {
			t.Fatal(err)
		}
	}
	got, err := e.crm.Mailings.Get(e.a, mailing.ID)
	if err != nil || got.Status != crm.MailingDone || got.Counts.Queued != 3 || got.Counts.Pending != 3 || got.FinishedAt == nil {
		t.Fatalf("done %+v, %v", got, err)
	}
	// Continuing a done mailing adds nothing.
	if done, err := e.crm.Mailings.Continue(e.a, mailing.ID); err != nil || !done {
		t.Fatalf("again: %v %v", done, err)
	}
	// Each mail in the customer's language, with its own unsubscribe link.
	for i, c := range granted {
		page, err := e.crm.Outbox.List(e.a, c.ID, crm.PageRequest{})
		if err != nil || len(page.Items) != 1 {
			t.Fatalf("%s's mails %+v, %v", c.FirstName, page.Items, err)
		}
		mail := page.Items[0]
		wantLang := []string{"nl", "de", "nl"}[i] // pl falls back to the organisation's nl
		if mail.Language != wantLang || !strings.Contains(mail.Text, "dpu_org-a.") {
			t.Fatalf("%s's mail %+v", c.FirstName, mail)
		}
	}
	if page, _ := e.crm.Outbox.List(e.a, optedOut.ID, crm.PageRequest{}); len(page.Items) != 0 {
		t.Fatal("the opted-out customer got the mailing")
	}
	// Delivered: the secret leaves the outbox, the counts move.
	page, _ := e.crm.Outbox.List(e.a, granted[0].ID, crm.PageRequest{})
	claimed, _, err := e.crm.Outbox.Claim(context.Background(), orgA, page.Items[0].ID)
	if err != nil || claimed == nil {
		t.Fatalf("claim %v", err)
	}
	unsub := LinkToken(t, e.crm, e.a, granted[0].ID, "unsubscribe")
	if err := e.crm.Outbox.Delivered(context.Background(), claimed); err != nil {
		t.Fatal(err)
	}
	after, err := e.crm.Outbox.Get(e.a, claimed.ID)
	if err != nil || strings.Contains(after.Text, unsub) || !strings.Contains(after.Text, "dpu_org-a.(removed after delivery)") {
		t.Fatalf("the delivered text %q, %v", after.Text, err)
	}
	// Unsubscribing withdraws the consent, as the customer, on the timeline; once.
	info, err := e.crm.Mailings.UnsubscribeCheck(context.Background(), unsub)
	if err != nil || info.Purpose != crm.PurposeCommercialEmail || info.Unsubscribed != nil {
		t.Fatalf("check %+v, %v", info, err)
	}
	for range 2 {
		if info, err = e.crm.Mailings.Unsubscribe(context.Background(), unsub, crm.Evidence{IP: "192.0.2.9"}); err != nil || info.Unsubscribed == nil {
			t.Fatalf("unsubscribe %+v, %v", info, err)
		}
	}
	states, err := e.crm.Consents.States(e.a, granted[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range states {
		if s.Purpose == crm.PurposeCommercialEmail && s.State != crm.ConsentWithdrawn {
			t.Fatalf("after unsubscribing %+v", s)
		}
	}
	kinds := map[crm.EventKind]int{}
	for _, ev := range e.history(e.a, granted[0].ID) {
		kinds[ev.Kind]++
	}
	if kinds[crm.EventMailingUnsubscribed] != 1 || kinds[crm.EventMailSent] != 1 {
		t.Fatalf("timeline %+v", kinds)
	}
	got, _ = e.crm.Mailings.Get(e.a, mailing.ID)
	if got.Counts.Sent != 1 || got.Counts.Pending != 2 || got.Counts.Unsubscribed != 1 {
		t.Fatalf("counts %+v", got.Counts)
	}
	if _, err := e.crm.Mailings.Unsubscribe(context.Background(), strings.Replace(unsub, "org-a", "org-b", 1), crm.Evidence{}); !errors.Is(err, crm.ErrUnauthenticated) {
		t.Fatalf("A's secret in B: %v", err)
	}
	// A second mailing leaves out who withdrew.
	second, err := e.crm.Mailings.Start(e.a, crm.NewMailing{Template: "spring_offer", Purpose: crm.PurposeCommercialEmail})
	if err != nil {
		t.Fatal(err)
	}
	for done := false; !done; {
		if done, err = e.crm.Mailings.Continue(e.a, second.ID); err != nil {
			t.Fatal(err)
		}
	}
	if got, _ := e.crm.Mailings.Get(e.a, second.ID); got.Counts.Queued != 2 {
		t.Fatalf("second mailing %+v", got.Counts)
	}
}
