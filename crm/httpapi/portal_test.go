package httpapi_test

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/dossiercrm/dossier/crm"
	"github.com/dossiercrm/dossier/crm/httpapi"
	"github.com/dossiercrm/dossier/crm/store/storetest"
	"github.com/dossiercrm/dossier/crm/store/testdb"
)

const portalPassword = "correct horse battery staple"

// portalCustomer makes a customer of org with a login e-mail and a
// password, signs them in and returns the customer and the session token.
func portalCustomer(t *testing.T, ts *testServer, key, org, email string) (crm.Customer, string) {
	t.Helper()
	var c crm.Customer
	ts.do("POST", "/v1/customers", key, map[string]any{"firstName": "Anna", "lastName": strings.Split(email, "@")[0],
		"loginEmail": email, "language": "de", "internalDescription": "staff only"}).want(t, http.StatusCreated).json(t, &c)
	ts.do("POST", "/v1/customers/"+c.ID+"/portal-account/set-password-link", key, nil).want(t, http.StatusAccepted)
	token := storetest.LinkToken(t, ts.crm, crm.WithOrg(t.Context(), org), c.ID, "set_password")
	ts.do("POST", "/portal/v1/password", "", map[string]any{"token": token, "password": portalPassword}).want(t, http.StatusNoContent)
	var in struct{ Token string }
	ts.do("POST", "/portal/v1/sign-in", "", map[string]any{"organisation": org, "email": email, "password": portalPassword}).
		want(t, http.StatusOK).json(t, &in)
	if !strings.HasPrefix(in.Token, "dps_"+org+".") {
		t.Fatalf("session token %q", in.Token)
	}
	return c, in.Token
}

// TestPortal walks a customer through the portal: set a password from the
// mailed link, sign in, read and change their record within what the
// organisation allows, documents, consents, itineraries, contests, sign out.
func TestPortal(t *testing.T) {
	testdb.Each(t, func(t *testing.T, open testdb.Opener) {
		t.Parallel()
		ts := newTestServer(t, open)
		a := ts.keyA
		ts.do("PATCH", "/v1/portal/settings", a, map[string]any{"editableFields": []string{"firstName", "phones"},
			"itinerariesEnabled": true, "contestsEnabled": true}).want(t, http.StatusOK)

		var c crm.Customer
		ts.do("POST", "/v1/customers", a, map[string]any{"lastName": "Kunde", "loginEmail": "kunde@a.example", "language": "de"}).
			want(t, http.StatusCreated).json(t, &c)
		ts.do("POST", "/v1/customers/"+c.ID+"/portal-account/set-password-link", a, nil).want(t, http.StatusAccepted)
		var mails crm.Page[crm.OutboxMail]
		ts.do("GET", "/v1/outbox?customerId="+c.ID, a, nil).want(t, http.StatusOK).json(t, &mails)
		if len(mails.Items) != 1 || mails.Items[0].Template != crm.TemplateSetPassword || mails.Items[0].Language != "de" ||
			!strings.Contains(mails.Items[0].Subject, "Passwort") {
			t.Fatalf("set-password mail %+v", mails.Items)
		}
		token := storetest.LinkToken(t, ts.crm, crm.WithOrg(t.Context(), "org-a"), c.ID, "set_password")
		for pw, code := range map[string]string{"short": "min", "password1234": "commonPassword", "kunde@a.example": "commonPassword",
			"aaaaaaaaaaaaaaaa": "commonPassword"} {
			if p := ts.do("POST", "/portal/v1/password", "", map[string]any{"token": token, "password": pw}).
				wantProblem(t, http.StatusUnprocessableEntity); !p.hasError("body.password", code) {
				t.Fatalf("password %q: %+v", pw, p)
			}
		}
		ts.do("POST", "/portal/v1/password", "", map[string]any{"token": token, "password": portalPassword}).want(t, http.StatusNoContent)
		ts.do("POST", "/portal/v1/password", "", map[string]any{"token": token, "password": portalPassword + "2"}).wantProblem(t, http.StatusUnauthorized)

		// A refusal never tells whether the e-mail exists.
		var details []string
		for _, body := range []map[string]any{
			{"organisation": "org-a", "email": "kunde@a.example", "password": "wrong password here"},
			{"organisation": "org-a", "email": "nobody@a.example", "password": portalPassword},
			{"organisation": "org-b", "email": "kunde@a.example", "password": portalPassword},
			{"organisation": "no-such-org", "email": "kunde@a.example", "password": portalPassword},
		} {
			details = append(details, ts.do("POST", "/portal/v1/sign-in", "", body).wantProblem(t, http.StatusUnauthorized).Detail)
		}
		for _, d := range details {
			if d != details[0] {
				t.Fatalf("sign-in refusals differ: %q", details)
			}
		}
		var in struct {
			Token   string
			Session crm.PortalSession
		}
		res := ts.do("POST", "/portal/v1/sign-in", "", map[string]any{"organisation": "org-a", "email": "KUNDE@a.example", "password": portalPassword},
			"User-Agent", "Portaltest/1.0").want(t, http.StatusOK)
		res.json(t, &in)
		if res.header.Get("Cache-Control") != "no-store" || in.Session.CustomerID != c.ID {
			t.Fatalf("sign-in %s %+v", res.header, in)
		}
		tok := in.Token

		// The record, as the customer sees it and may change it.
		var me crm.Customer
		res = ts.do("GET", "/portal/v1/me", tok, nil).want(t, http.StatusOK)
		res.json(t, &me)
		if me.ID != c.ID || me.InternalDescription != "" {
			t.Fatalf("me %+v", me)
		}
		ts.do("PATCH", "/portal/v1/me", tok, map[string]any{"firstName": "Karla"}, "If-Match", res.header.Get("ETag")).want(t, http.StatusOK).json(t, &me)
		if me.FirstName != "Karla" {
			t.Fatalf("me after the change %+v", me)
		}
		if p := ts.do("PATCH", "/portal/v1/me", tok, map[string]any{"internalDescription": "x", "firstName": "Y"}, "If-Match", "*").
			wantProblem(t, http.StatusUnprocessableEntity); !p.hasError("body.internalDescription", "notEditable") || p.hasError("body.firstName", "") {
			t.Fatalf("a staff field: %+v", p)
		}

		// Documents: the portal ones only.
		var portalDoc, internalDoc crm.Document
		ts.upload("/v1/customers/"+c.ID+"/documents", a, field("title", "Voucher"), field("visibility", "portal"), file("v.pdf", pdfBytes)).
			want(t, http.StatusCreated).json(t, &portalDoc)
		ts.upload("/v1/customers/"+c.ID+"/documents", a, file("note.txt", []byte("internal"))).want(t, http.StatusCreated).json(t, &internalDoc)
		var docs struct{ Items []crm.Document }
		ts.do("GET", "/portal/v1/documents", tok, nil).want(t, http.StatusOK).json(t, &docs)
		if len(docs.Items) != 1 || docs.Items[0].ID != portalDoc.ID {
			t.Fatalf("portal documents %+v", docs.Items)
		}
		if got := ts.do("GET", "/portal/v1/documents/"+portalDoc.ID+"/content", tok, nil).want(t, http.StatusOK); string(got.body) != string(pdfBytes) {
			t.Fatalf("download %q", got.body)
		}
		ts.do("GET", "/portal/v1/documents/"+internalDoc.ID+"/content", tok, nil).wantProblem(t, http.StatusNotFound)

		// Consents, with the wording shown.
		var consents struct{ Items []crm.PortalConsent }
		ts.do("GET", "/portal/v1/consents", tok, nil).want(t, http.StatusOK).json(t, &consents)
		var commercial *crm.PortalConsent
		for i := range consents.Items {
			if consents.Items[i].Purpose == crm.PurposeCommercialEmail {
				commercial = &consents.Items[i]
			}
		}
		if commercial == nil || commercial.Wording == nil || commercial.Wording.Language != "de" {
			t.Fatalf("consents %+v", consents.Items)
		}
		var rec crm.ConsentRecord
		ts.do("PUT", "/portal/v1/consents/commercial_email", tok, map[string]any{"wordingId": commercial.Wording.ID}).want(t, http.StatusOK).json(t, &rec)
		if rec.State != crm.ConsentGranted || rec.Source != crm.SourcePortal || rec.Actor != crm.CustomerActor(c.ID) || rec.WordingID != commercial.Wording.ID {
			t.Fatalf("grant %+v", rec)
		}
		ts.do("DELETE", "/portal/v1/consents/commercial_email", tok, nil).want(t, http.StatusOK).json(t, &rec)
		if rec.State != crm.ConsentWithdrawn {
			t.Fatalf("withdrawal %+v", rec)
		}

		// Export: the customer's audience; anonymising oneself only where
		// the organisation allows it (by default it does not).
		var exp crm.CustomerExport
		ts.do("GET", "/portal/v1/export", tok, nil).want(t, http.StatusOK).json(t, &exp)
		if exp.Audience != crm.ExportCustomer || exp.Customer.ID != c.ID || exp.PortalAccount == nil || exp.PortalAccount.LastSignInAt == nil {
			t.Fatalf("export %+v", exp)
		}
		ts.do("POST", "/portal/v1/anonymisation", tok, nil).wantProblem(t, http.StatusForbidden)

		// Itineraries: saved by the customer, read by staff, never changed.
		var it crm.Itinerary
		ts.do("POST", "/portal/v1/itineraries", tok, map[string]any{"title": "Kreta", "lines": []map[string]any{
			{"kind": "flight", "description": "AMS-HER", "startDate": "2027-05-01", "priceMinor": 25000, "currency": "EUR"},
			{"kind": "hotel", "description": "Hotel", "startDate": "2027-05-01", "endDate": "2027-05-08", "quantity": 2}}}).
			want(t, http.StatusCreated).json(t, &it)
		var its struct{ Items []crm.Itinerary }
		ts.do("GET", "/v1/customers/"+c.ID+"/itineraries", a, nil).want(t, http.StatusOK).json(t, &its)
		if len(its.Items) != 1 || len(its.Items[0].Lines) != 2 || its.Items[0].ExpiresAt.Sub(its.Items[0].CreatedAt) != crm.ItineraryTTL {
			t.Fatalf("staff see %+v", its.Items)
		}
		ts.do("PATCH", "/v1/itineraries/"+it.ID, a, map[string]any{"title": "x"}).want(t, http.StatusMethodNotAllowed)

		// Contests: entered once, a winner picked by staff.
		var contest crm.Contest
		ts.do("POST", "/v1/contests", a, map[string]any{"name": "Zomer", "question": "Waarheen?", "startsOn": "2000-01-01", "endsOn": "2999-12-31"}).
			want(t, http.StatusCreated).json(t, &contest)
		var entry crm.ContestEntry
		ts.do("POST", "/portal/v1/contests/"+contest.ID+"/entries", tok, map[string]any{"answer": "Kreta"}).want(t, http.StatusCreated).json(t, &entry)
		ts.do("POST", "/portal/v1/contests/"+contest.ID+"/entries", tok, map[string]any{"answer": "Rhodos"}).wantProblem(t, http.StatusConflict)
		ts.do("POST", "/v1/contest-entries/"+entry.ID+"/winner", a, nil).want(t, http.StatusOK).json(t, &entry)
		if !entry.Winner || entry.CustomerID != c.ID {
			t.Fatalf("winner %+v", entry)
		}
		var past crm.Contest
		ts.do("POST", "/v1/contests", a, map[string]any{"name": "Oud", "question": "?", "startsOn": "2000-01-01", "endsOn": "2000-12-31"}).
			want(t, http.StatusCreated).json(t, &past)
		if p := ts.do("POST", "/portal/v1/contests/"+past.ID+"/entries", tok, map[string]any{"answer": "x"}).
			wantProblem(t, http.StatusUnprocessableEntity); !p.hasError("path.contestId", "closed") {
			t.Fatalf("closed contest: %+v", p)
		}

		// Switched off, the features are 404 on both sides.
		ts.do("PATCH", "/v1/portal/settings", a, map[string]any{"itinerariesEnabled": false, "contestsEnabled": false}).want(t, http.StatusOK)
		for _, path := range []string{"/portal/v1/itineraries", "/portal/v1/contests", "/portal/v1/contest-entries"} {
			ts.do("GET", path, tok, nil).wantProblem(t, http.StatusNotFound)
		}
		for _, path := range []string{"/v1/customers/" + c.ID + "/itineraries", "/v1/contests", "/v1/contests/" + contest.ID + "/entries"} {
			ts.do("GET", path, a, nil).wantProblem(t, http.StatusNotFound)
		}

		// The timeline shows the sign-in with its client.
		var history crm.Page[crm.HistoryEvent]
		ts.do("GET", "/v1/customers/"+c.ID+"/history?limit=100", a, nil).want(t, http.StatusOK).json(t, &history)
		kinds := map[crm.EventKind]crm.HistoryEvent{}
		for _, h := range history.Items {
			kinds[h.Kind] = h
		}
		signIn, ok := kinds[crm.EventPortalSignedIn]
		if !ok || signIn.Actor != crm.CustomerActor(c.ID) || !strings.Contains(mustJSON(t, signIn.Changes), "Portaltest/1.0") ||
			!strings.Contains(mustJSON(t, signIn.Changes), "127.0.0.1") {
			t.Fatalf("sign-in event %+v", signIn)
		}
		for _, k := range []crm.EventKind{crm.EventPortalAccountCreated, crm.EventPortalLinkSent, crm.EventPortalPasswordSet,
			crm.EventItinerarySaved, crm.EventContestEntered, crm.EventContestWon} {
			if _, ok := kinds[k]; !ok {
				t.Errorf("no %s on the timeline", k)
			}
		}

		// Bookings: their own, without which staff member informed them.
		tomorrow := time.Now().UTC().AddDate(0, 0, 1).Format("2006-01-02")
		var booked crm.BookingResult
		ts.do("PUT", "/v1/bookings/P-1", a, tripBody(c.ID, tomorrow, 250000)).want(t, http.StatusCreated).json(t, &booked)
		ts.do("PUT", "/v1/bookings/P-2", a, tripBody(c.ID, "2020-05-01", 100000)).want(t, http.StatusCreated)
		ts.do("POST", "/v1/bookings/P-1/informed", a, nil).want(t, http.StatusOK)
		var mine crm.CustomerBookings
		res = ts.do("GET", "/portal/v1/bookings", tok, nil).want(t, http.StatusOK)
		res.json(t, &mine)
		if len(mine.Upcoming) != 1 || mine.Upcoming[0].ID != booked.Booking.ID || mine.Upcoming[0].CustomerID != c.ID ||
			len(mine.Past) != 1 || mine.Past[0].Reference != "P-2" || mine.Counts.Upcoming != 1 || mine.Counts.Past != 1 ||
			len(mine.Counts.LifetimeValue) != 1 || mine.Counts.LifetimeValue[0].Amount != 350000 {
			t.Fatalf("my bookings %+v", mine)
		}
		if by := mine.Upcoming[0].InformedBy; mine.Upcoming[0].InformedAt == nil || by == nil || by.Kind != crm.ActorStaff || by.ID != "" {
			t.Fatalf("informed mark as the customer sees it: %+v", by)
		}
		ts.do("GET", "/portal/v1/bookings?limit=1", tok, nil).want(t, http.StatusOK)
		ts.do("GET", "/portal/v1/bookings?limit=501", tok, nil).wantProblem(t, http.StatusUnprocessableEntity)

		// Signing out ends the session; a new link and password end them all.
		ts.do("DELETE", "/portal/v1/session", tok, nil).want(t, http.StatusNoContent)
		ts.do("GET", "/portal/v1/me", tok, nil).wantProblem(t, http.StatusUnauthorized)
		ts.do("POST", "/portal/v1/sign-in", "", map[string]any{"organisation": "org-a", "email": "kunde@a.example", "password": portalPassword}).
			want(t, http.StatusOK).json(t, &in)
		ts.do("POST", "/v1/customers/"+c.ID+"/portal-account/set-password-link", a, nil).want(t, http.StatusAccepted)
		ts.do("GET", "/portal/v1/me", in.Token, nil).want(t, http.StatusOK)
		ts.do("POST", "/portal/v1/password", "", map[string]any{"token": storetest.LinkToken(t, ts.crm, crm.WithOrg(t.Context(), "org-a"), c.ID, "set_password"),
			"password": "another long passphrase"}).want(t, http.StatusNoContent)
		ts.do("GET", "/portal/v1/me", in.Token, nil).wantProblem(t, http.StatusUnauthorized)

		// Where the organisation allows it, the customer anonymises
		// themselves: the account and its sessions go with the data.
		ts.do("PATCH", "/v1/organisation/permissions", a, map[string]any{"customersMayAnonymise": true}).want(t, http.StatusOK)
		ts.do("POST", "/portal/v1/sign-in", "", map[string]any{"organisation": "org-a", "email": "kunde@a.example", "password": "another long passphrase"}).
			want(t, http.StatusOK).json(t, &in)
		ts.do("POST", "/portal/v1/anonymisation", in.Token, nil).want(t, http.StatusNoContent)
		ts.do("GET", "/portal/v1/me", in.Token, nil).wantProblem(t, http.StatusUnauthorized)
		ts.do("GET", "/v1/customers/"+c.ID+"/portal-account", a, nil).wantProblem(t, http.StatusNotFound)
		var gone crm.Customer
		ts.do("GET", "/v1/customers/"+c.ID, a, nil).want(t, http.StatusOK).json(t, &gone)
		if gone.AnonymisedAt == nil {
			t.Fatalf("not anonymised: %+v", gone)
		}
	})
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestPortalConnect connects, disconnects and re-connects an account; each
// move is on the timelines and ends the account's sessions.
func TestPortalConnect(t *testing.T) {
	testdb.Each(t, func(t *testing.T, open testdb.Opener) {
		t.Parallel()
		ts := newTestServer(t, open)
		a := ts.keyA
		wrong, tok := portalCustomer(t, ts, a, "org-a", "wrong@a.example")
		var right crm.Customer
		ts.do("POST", "/v1/customers", a, map[string]any{"lastName": "Right"}).want(t, http.StatusCreated).json(t, &right)
		var acct crm.PortalAccount
		ts.do("GET", "/v1/customers/"+wrong.ID+"/portal-account", a, nil).want(t, http.StatusOK).json(t, &acct)
		if !acct.PasswordSet || acct.LastSignInAt == nil || acct.Email != "wrong@a.example" {
			t.Fatalf("account %+v", acct)
		}
		if strings.Contains(string(ts.do("GET", "/v1/portal-accounts/"+acct.ID, a, nil).want(t, http.StatusOK).body), "argon2") {
			t.Fatal("the account shows its hash")
		}
		ts.do("PUT", "/v1/portal-accounts/"+acct.ID+"/customer", a, map[string]any{"customerId": right.ID}).want(t, http.StatusOK).json(t, &acct)
		if acct.CustomerID != right.ID {
			t.Fatalf("re-connected %+v", acct)
		}
		ts.do("GET", "/portal/v1/me", tok, nil).wantProblem(t, http.StatusUnauthorized)
		var in struct{ Token string }
		ts.do("POST", "/portal/v1/sign-in", "", map[string]any{"organisation": "org-a", "email": "wrong@a.example", "password": portalPassword}).
			want(t, http.StatusOK).json(t, &in)
		var me crm.Customer
		ts.do("GET", "/portal/v1/me", in.Token, nil).want(t, http.StatusOK).json(t, &me)
		if me.ID != right.ID {
			t.Fatalf("signed in as %s, want %s", me.ID, right.ID)
		}
		ts.do("DELETE", "/v1/portal-accounts/"+acct.ID+"/customer", a, nil).want(t, http.StatusOK)
		ts.do("GET", "/portal/v1/me", in.Token, nil).wantProblem(t, http.StatusUnauthorized)
		ts.do("POST", "/portal/v1/sign-in", "", map[string]any{"organisation": "org-a", "email": "wrong@a.example", "password": portalPassword}).
			wantProblem(t, http.StatusUnauthorized)
		for id, want := range map[string][]crm.EventKind{wrong.ID: {crm.EventPortalDisconnected}, right.ID: {crm.EventPortalConnected, crm.EventPortalDisconnected}} {
			var h crm.Page[crm.HistoryEvent]
			ts.do("GET", "/v1/customers/"+id+"/history", a, nil).want(t, http.StatusOK).json(t, &h)
			for _, k := range want {
				found := false
				for _, e := range h.Items {
					found = found || e.Kind == k
				}
				if !found {
					t.Errorf("customer %s: no %s", id, k)
				}
			}
		}
	})
}

// TestPortalThrottle: failed sign-ins from one address get 429 after the
// burst, with Retry-After.
func TestPortalThrottle(t *testing.T) {
	testdb.Each(t, func(t *testing.T, open testdb.Opener) {
		t.Parallel()
		ts := newTestServerWith(t, open, func(o *httpapi.Options) { o.AuthFailureBurst, o.AuthFailureInterval = 3, time.Hour })
		_, _ = portalCustomer(t, ts, ts.keyA, "org-a", "t@a.example")
		wrong := map[string]any{"organisation": "org-a", "email": "t@a.example", "password": "not the password"}
		for range 3 {
			ts.do("POST", "/portal/v1/sign-in", "", wrong).wantProblem(t, http.StatusUnauthorized)
		}
		res := ts.do("POST", "/portal/v1/sign-in", "", wrong)
		res.wantProblem(t, http.StatusTooManyRequests)
		if res.header.Get("Retry-After") == "" {
			t.Fatal("429 without Retry-After")
		}
		// The same address is refused on every public route meanwhile,
		// the right password and the one-click unsubscribe included.
		ts.do("POST", "/portal/v1/sign-in", "", map[string]any{"organisation": "org-a", "email": "t@a.example", "password": portalPassword}).
			wantProblem(t, http.StatusTooManyRequests)
		ts.do("POST", "/portal/v1/unsubscribe/one-click?token=dpu_org-a.x", "", "List-Unsubscribe=One-Click",
			"Content-Type", "application/x-www-form-urlencoded").wantProblem(t, http.StatusTooManyRequests)
	})

	// Per account (five failures in a row) the library throttles: see
	// storetest's PortalSessions, which runs on a frozen clock.
}

// TestPortalIsolation probes every route of the portal's OpenAPI document
// with customer 1's session against customer 2 of the same organisation
// and against organisation B: each answers 404 or shows only customer 1's
// own data. A route added without a probe fails the test.
func TestPortalIsolation(t *testing.T) {
	testdb.Each(t, func(t *testing.T, open testdb.Opener) {
		t.Parallel()
		ts := newTestServer(t, open)
		a, b := ts.keyA, ts.keyB
		for _, key := range []string{a, b} {
			ts.do("PATCH", "/v1/portal/settings", key, map[string]any{"itinerariesEnabled": true, "contestsEnabled": true,
				"editableFields": []string{"firstName"}}).want(t, http.StatusOK)
		}
		one, tok := portalCustomer(t, ts, a, "org-a", "one@a.example")
		two, tokTwo := portalCustomer(t, ts, a, "org-a", "two@a.example")
		other, tokB := portalCustomer(t, ts, b, "org-b", "one@a.example") // the same login in B

		// Customer two's and B's things the probes aim at.
		var twoDoc, bDoc crm.Document
		ts.upload("/v1/customers/"+two.ID+"/documents", a, field("visibility", "portal"), file("two.pdf", pdfBytes)).want(t, http.StatusCreated).json(t, &twoDoc)
		ts.upload("/v1/customers/"+other.ID+"/documents", b, field("visibility", "portal"), file("b.pdf", pdfBytes)).want(t, http.StatusCreated).json(t, &bDoc)
		var twoIt, bIt crm.Itinerary
		trip := map[string]any{"title": "Zwei", "lines": []map[string]any{{"kind": "hotel", "description": "Zwei"}}}
		ts.do("POST", "/portal/v1/itineraries", tokTwo, trip).want(t, http.StatusCreated).json(t, &twoIt)
		ts.do("POST", "/portal/v1/itineraries", tokB, trip).want(t, http.StatusCreated).json(t, &bIt)
		var contestA, contestB crm.Contest
		body := map[string]any{"name": "C", "question": "Q", "startsOn": "2000-01-01", "endsOn": "2999-12-31"}
		ts.do("POST", "/v1/contests", a, body).want(t, http.StatusCreated).json(t, &contestA)
		ts.do("POST", "/v1/contests", b, body).want(t, http.StatusCreated).json(t, &contestB)
		var twoEntry, bEntry crm.ContestEntry
		ts.do("POST", "/portal/v1/contests/"+contestA.ID+"/entries", tokTwo, map[string]any{"answer": "Zwei"}).want(t, http.StatusCreated).json(t, &twoEntry)
		ts.do("POST", "/portal/v1/contests/"+contestB.ID+"/entries", tokB, map[string]any{"answer": "B"}).want(t, http.StatusCreated).json(t, &bEntry)
		var twoBooking, bBooking crm.BookingResult
		ts.do("PUT", "/v1/bookings/ZWEI-1", a, tripBody(two.ID, "2999-01-01", 1000)).want(t, http.StatusCreated).json(t, &twoBooking)
		ts.do("PUT", "/v1/bookings/ORGB-1", b, tripBody(other.ID, "2999-01-01", 1000)).want(t, http.StatusCreated).json(t, &bBooking)
		var oneBooking crm.BookingResult
		// One leads a booking on which two travels too: two's customer id
		// is not one's to see.
		withTwo := tripBody(one.ID, "2999-01-01", 1000)
		withTwo["participants"] = []string{two.ID}
		ts.do("PUT", "/v1/bookings/EINS-1", a, withTwo).want(t, http.StatusCreated).json(t, &oneBooking)
		if len(oneBooking.Booking.Participants) != 1 {
			t.Fatalf("staff see no participant: %+v", oneBooking.Booking)
		}
		theirs := []string{two.ID, other.ID, twoDoc.ID, bDoc.ID, twoIt.ID, bIt.ID, contestB.ID, twoEntry.ID, bEntry.ID,
			twoBooking.Booking.ID, bBooking.Booking.ID, "ZWEI-1", "ORGB-1"}
		ownOnly := func(path string) func(t *testing.T) {
			return func(t *testing.T) {
				got := string(ts.do("GET", path, tok, nil).want(t, http.StatusOK).body)
				for _, id := range theirs {
					if strings.Contains(got, id) {
						t.Fatalf("%s shows %s of another customer: %s", path, id, got)
					}
				}
			}
		}
		notFound := func(method string, paths ...string) func(t *testing.T) {
			return func(t *testing.T) {
				var body any
				if method == "POST" {
					body = map[string]any{"answer": "x"}
				}
				for _, p := range paths {
					ts.do(method, p, tok, body).wantProblem(t, http.StatusNotFound)
				}
			}
		}
		probes := map[string]func(t *testing.T){
			"GET /portal/v1/me": func(t *testing.T) {
				var me crm.Customer
				ts.do("GET", "/portal/v1/me", tok, nil).want(t, http.StatusOK).json(t, &me)
				if me.ID != one.ID {
					t.Fatalf("me is %s", me.ID)
				}
			},
			"PATCH /portal/v1/me": func(t *testing.T) {
				ts.do("PATCH", "/portal/v1/me", tok, map[string]any{"firstName": "Eins"}, "If-Match", "*").want(t, http.StatusOK)
				var c crm.Customer
				ts.do("GET", "/v1/customers/"+two.ID, a, nil).want(t, http.StatusOK).json(t, &c)
				if c.FirstName == "Eins" {
					t.Fatal("customer two changed")
				}
			},
			"GET /portal/v1/documents":                      ownOnly("/portal/v1/documents"),
			"GET /portal/v1/documents/{documentId}/content": notFound("GET", "/portal/v1/documents/"+twoDoc.ID+"/content", "/portal/v1/documents/"+bDoc.ID+"/content"),
			"GET /portal/v1/consents":                       ownOnly("/portal/v1/consents"),
			"PUT /portal/v1/consents/{purpose}": func(t *testing.T) {
				ts.do("PUT", "/portal/v1/consents/no_such", tok, nil).wantProblem(t, http.StatusUnprocessableEntity)
			},
			"DELETE /portal/v1/consents/{purpose}": func(t *testing.T) {
				ts.do("DELETE", "/portal/v1/consents/no_such", tok, nil).wantProblem(t, http.StatusUnprocessableEntity)
			},
			"GET /portal/v1/export": ownOnly("/portal/v1/export"),
			"GET /portal/v1/bookings": func(t *testing.T) {
				ownOnly("/portal/v1/bookings")(t)
				var mine crm.CustomerBookings
				ts.do("GET", "/portal/v1/bookings", tok, nil).want(t, http.StatusOK).json(t, &mine)
				if len(mine.Upcoming) != 1 || mine.Upcoming[0].ID != oneBooking.Booking.ID || mine.Counts.Upcoming != 1 {
					t.Fatalf("one's bookings %+v", mine)
				}
			},
			"POST /portal/v1/anonymisation": func(t *testing.T) {
				ts.do("POST", "/portal/v1/anonymisation", tok, nil).wantProblem(t, http.StatusForbidden)
			},
			"GET /portal/v1/itineraries":                   ownOnly("/portal/v1/itineraries"),
			"POST /portal/v1/itineraries":                  func(t *testing.T) { ts.do("POST", "/portal/v1/itineraries", tok, trip).want(t, http.StatusCreated) },
			"GET /portal/v1/itineraries/{itineraryId}":     notFound("GET", "/portal/v1/itineraries/"+twoIt.ID, "/portal/v1/itineraries/"+bIt.ID),
			"GET /portal/v1/contests":                      ownOnly("/portal/v1/contests"),
			"POST /portal/v1/contests/{contestId}/entries": notFound("POST", "/portal/v1/contests/"+contestB.ID+"/entries"),
			"GET /portal/v1/contest-entries":               ownOnly("/portal/v1/contest-entries"),
			"GET /portal/v1/contest-entries/{entryId}":     notFound("GET", "/portal/v1/contest-entries/"+twoEntry.ID, "/portal/v1/contest-entries/"+bEntry.ID),
			"DELETE /portal/v1/session":                    func(t *testing.T) {}, // takes no id: it ends the caller's own session (TestPortal)
		}
		public := map[string]bool{"POST /portal/v1/sign-in": true, "POST /portal/v1/password": true,
			"GET /portal/v1/unsubscribe": true, "POST /portal/v1/unsubscribe": true, "POST /portal/v1/unsubscribe/one-click": true}

		var doc struct {
			Paths map[string]map[string]struct{ Security []any } `json:"paths"`
		}
		ts.do("GET", "/portal/v1/openapi.json", "", nil).want(t, http.StatusOK).json(t, &doc)
		var routes []string
		secured := map[string]bool{}
		for path, ops := range doc.Paths {
			for method, op := range ops {
				r := strings.ToUpper(method) + " " + path
				routes = append(routes, r)
				secured[r] = len(op.Security) > 0
			}
		}
		sort.Strings(routes)
		for _, r := range routes {
			if public[r] {
				if secured[r] {
					t.Errorf("%s should be public", r)
				}
				continue
			}
			if !secured[r] {
				t.Errorf("%s needs no session", r)
				continue
			}
			probe, ok := probes[r]
			if !ok {
				t.Errorf("%s has no portal isolation probe: add one to TestPortalIsolation", r)
				continue
			}
			t.Run(r, probe)
			method, path, _ := strings.Cut(r, " ")
			// Without a session, with an API key, or with another
			// organisation's session for the wrong org: 401.
			for _, cred := range []string{"", a, "dps_org-a.xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"} {
				ts.do(method, strings.NewReplacer("{", "", "}", "").Replace(path), cred, `{}`).wantProblem(t, http.StatusUnauthorized)
			}
		}
		for r := range probes {
			if !slicesContains(routes, r) {
				t.Errorf("probe for %s, which the portal's OpenAPI document does not list", r)
			}
		}
		// No API key reaches the portal, and no session reaches the staff API.
		ts.do("GET", "/v1/customers", tok, nil).wantProblem(t, http.StatusUnauthorized)
		_ = tokB
	})
}

func slicesContains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// TestPortalLogsHoldNoSecrets: the request log of the portal's calls (at
// debug level) holds no password, session token, link secret or e-mail.
func TestPortalLogsHoldNoSecrets(t *testing.T) {
	testdb.Each(t, func(t *testing.T, open testdb.Opener) {
		t.Parallel()
		var logs syncBuffer
		logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
		ts := newTestServerWith(t, open, func(o *httpapi.Options) { o.Logger = logger })
		c, tok := portalCustomer(t, ts, ts.keyA, "org-a", "geheim@a.example")
		ts.do("GET", "/portal/v1/me", tok, nil).want(t, http.StatusOK)
		ts.do("POST", "/portal/v1/sign-in", "", map[string]any{"organisation": "org-a", "email": "geheim@a.example", "password": "wrong but long"}).
			wantProblem(t, http.StatusUnauthorized)
		ts.do("POST", "/v1/customers/"+c.ID+"/portal-account/set-password-link", ts.keyA, nil).want(t, http.StatusAccepted)
		actx := crm.WithOrg(t.Context(), "org-a")
		link := storetest.LinkToken(t, ts.crm, actx, c.ID, "set_password")
		ts.do("POST", "/portal/v1/password", "", map[string]any{"token": link, "password": "short"}).wantProblem(t, http.StatusUnprocessableEntity)
		ts.do("GET", "/portal/v1/unsubscribe?token="+link, "", nil).wantProblem(t, http.StatusUnauthorized)
		// A mailing's unsubscribe secret through every route that takes it.
		if _, err := ts.crm.Consents.Give(crm.WithActor(actx, crm.Staff("staff-org-a")), c.ID, crm.ConsentInput{Purpose: crm.PurposeCommercialEmail,
			Source: crm.SourceStaff}); err != nil {
			t.Fatal(err)
		}
		var m crm.Mailing
		ts.do("POST", "/v1/mailings", ts.keyA, map[string]any{"template": crm.TemplateConsentConfirmation, "purpose": crm.PurposeCommercialEmail}).
			want(t, http.StatusCreated).json(t, &m)
		for done := false; !done; {
			var err error
			if done, err = ts.crm.Mailings.Continue(actx, m.ID); err != nil {
				t.Fatal(err)
			}
		}
		unsub := storetest.LinkToken(t, ts.crm, actx, c.ID, "unsubscribe")
		ts.do("GET", "/portal/v1/unsubscribe?token="+unsub, "", nil).want(t, http.StatusOK)
		ts.do("POST", "/portal/v1/unsubscribe/one-click?token="+unsub, "", "List-Unsubscribe=One-Click",
			"Content-Type", "application/x-www-form-urlencoded").want(t, http.StatusOK)
		ts.do("POST", "/portal/v1/unsubscribe", "", map[string]any{"token": unsub}).want(t, http.StatusOK)
		ts.do("DELETE", "/portal/v1/session", tok, nil).want(t, http.StatusNoContent)
		out := logs.String()
		for _, route := range []string{"/portal/v1/me", "/portal/v1/unsubscribe/one-click"} {
			if !strings.Contains(out, route) {
				t.Fatalf("%s is not logged:\n%s", route, out)
			}
		}
		_, random, _ := strings.Cut(tok, ".")
		_, linkRandom, _ := strings.Cut(link, ".")
		_, unsubRandom, _ := strings.Cut(unsub, ".")
		for _, leak := range []string{portalPassword, "wrong but long", random, linkRandom, unsubRandom, "geheim@a.example"} {
			if strings.Contains(out, leak) {
				t.Errorf("the log holds %q", leak)
			}
		}
	})
}

// TestPortalBadInput: bad bytes, unknown fields and impossible values on
// the new routes are 422 naming the member, never 500.
func TestPortalBadInput(t *testing.T) {
	testdb.Each(t, func(t *testing.T, open testdb.Opener) {
		t.Parallel()
		ts := newTestServer(t, open)
		a := ts.keyA
		ts.do("PATCH", "/v1/portal/settings", a, map[string]any{"itinerariesEnabled": true, "contestsEnabled": true}).want(t, http.StatusOK)
		c, tok := portalCustomer(t, ts, a, "org-a", "bad@a.example")
		for _, tc := range []struct {
			method, path, key, body, member, code string
		}{
			{"PATCH", "/v1/portal/settings", a, `{"editableFields": ["internalDescription"]}`, "body.editableFields[0]", "oneof"},
			{"POST", "/v1/contests", a, "{\"name\": \"a\\u0000b\", \"question\": \"q\", \"startsOn\": \"2000-01-01\", \"endsOn\": \"2000-01-02\"}", "body.name", "control"},
			{"POST", "/v1/contests", a, "{\"name\": \"a\xffb\", \"question\": \"q\", \"startsOn\": \"2000-01-01\", \"endsOn\": \"2000-01-02\"}", "body.name", "utf8"},
			{"POST", "/v1/contests", a, `{"name": "a", "question": "q", "startsOn": "2000-01-02", "endsOn": "2000-01-01"}`, "body.endsOn", "invalid"},
			{"POST", "/v1/customers/" + c.ID + "/brochure-requests", a, "{\"brochures\": [\"a\\u0000b\"], \"source\": \"site\"}", "body.brochures[0]", "control"},
			{"POST", "/v1/customers/" + c.ID + "/brochure-requests", a, `{"brochures": ["a"], "source": "fax"}`, "body.source", ""},
			{"POST", "/v1/brochure-requests/printed", a, `{"ids": ["x"], "printedOn": "2026-02-30"}`, "body.printedOn", ""},
			{"POST", "/v1/customers/" + c.ID + "/mails", a, `{"template": "no_such"}`, "body.template", "unknown"},
			{"POST", "/v1/mailings", a, `{"template": "set_password", "purpose": "post"}`, "body.purpose", "unknown"},
			{"POST", "/v1/customers/" + c.ID + "/portal-account", a, `{"email": "not an address"}`, "body.email", ""},
			{"PUT", "/v1/portal-accounts/01936d3c-0000-7000-8000-000000000000/customer", a, `{"customerId": 7}`, "body.customerId", ""},
			{"POST", "/portal/v1/sign-in", "", "{\"organisation\": \"org-a\", \"email\": \"a\\u0000@a.example\", \"password\": \"x\"}", "body.email", "control"},
			{"POST", "/portal/v1/itineraries", tok, "{\"title\": \"a\\u0001\", \"lines\": [{\"kind\": \"hotel\", \"description\": \"d\"}]}", "body.title", "control"},
			{"POST", "/portal/v1/itineraries", tok, `{"title": "t", "lines": [{"kind": "hotel", "description": "d", "currency": "euro"}]}`, "body.lines[0].currency", ""},
			{"POST", "/portal/v1/itineraries", tok, `{"title": "t", "lines": []}`, "body.lines", ""},
			{"PATCH", "/portal/v1/me", tok, `{"assignedTo": "me"}`, "body.assignedTo", "notEditable"},
			{"PATCH", "/portal/v1/me", tok, `{"nickname": "x"}`, "body.nickname", ""},
		} {
			headers := []string{}
			if tc.method == "PATCH" && strings.HasPrefix(tc.path, "/portal/") {
				headers = []string{"If-Match", "*"}
			}
			res := ts.do(tc.method, tc.path, tc.key, []byte(tc.body), headers...)
			if p := res.wantProblem(t, http.StatusUnprocessableEntity); !p.hasError(tc.member, tc.code) {
				t.Errorf("%s %s %s: %+v", tc.method, tc.path, tc.body, p)
			}
		}
		for _, path := range []string{"/v1/mailings/x", "/v1/contests/1", "/v1/itineraries/%00", "/v1/portal-accounts/zz", "/portal/v1/itineraries/x"} {
			key := a
			if strings.HasPrefix(path, "/portal/") {
				key = tok
			}
			code := ts.do("GET", path, key, nil).status
			if code != http.StatusNotFound && code != http.StatusBadRequest {
				t.Errorf("GET %s: %d", path, code)
			}
		}
	})
}
