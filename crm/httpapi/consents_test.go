package httpapi_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/dossiercrm/dossier/crm"
	"github.com/dossiercrm/dossier/crm/store/testdb"
)

// TestConsents drives purposes, wordings, the consent log, double opt-in,
// the consent filter and mailing selections over HTTP.
func TestConsents(t *testing.T) {
	testdb.Each(t, func(t *testing.T, open testdb.Opener) {
		t.Parallel()
		ts := newTestServer(t, open)
		key := ts.keyA

		// Purposes: the built-in ones, one of the organisation's own, by key and id.
		var purposes struct{ Items []crm.ConsentPurpose }
		ts.do("GET", "/v1/consent-purposes", key, nil).want(t, http.StatusOK).json(t, &purposes)
		var keys []string
		for _, p := range purposes.Items {
			keys = append(keys, p.Key)
		}
		if got := strings.Join(keys, " "); got != "newsletter commercial_email post sms profiling mailings" {
			t.Fatalf("built-in purposes %q", got)
		}
		var brochures crm.ConsentPurpose
		ts.do("POST", "/v1/consent-purposes", key, map[string]any{"key": "brochures", "name": "Brochures", "channel": "post", "position": 9}).
			want(t, http.StatusCreated).json(t, &brochures)
		var byID crm.ConsentPurpose
		ts.do("GET", "/v1/consent-purposes/"+brochures.ID, key, nil).want(t, http.StatusOK).json(t, &byID)
		if byID.Key != "brochures" || byID.Channel != crm.ChannelPost || byID.BuiltIn {
			t.Fatalf("purpose by id %+v", byID)
		}
		var renamed crm.ConsentPurpose
		ts.do("PATCH", "/v1/consent-purposes/brochures", key, map[string]any{"name": "Catalogues", "doubleOptIn": true}).
			want(t, http.StatusOK).json(t, &renamed)
		if renamed.Name != "Catalogues" || !renamed.DoubleOptIn || renamed.Key != "brochures" || renamed.ID != brochures.ID {
			t.Fatalf("renamed %+v", renamed)
		}

		// Wordings: a new text is a new version after the built-in one; the
		// current text is the current wording.
		setWording := func(lang, text string, status int) crm.ConsentWording {
			t.Helper()
			var w crm.ConsentWording
			ts.do("POST", "/v1/consent-purposes/newsletter/wordings", key, map[string]any{"language": lang, "text": text}).
				want(t, status).json(t, &w)
			return w
		}
		nl1 := setWording("nl", "Ja, stuur mij de nieuwsbrief.", http.StatusCreated)
		if again := setWording("nl", "Ja, stuur mij de nieuwsbrief.", http.StatusOK); again.ID != nl1.ID {
			t.Fatalf("the same text made a new wording %+v", again)
		}
		nl2 := setWording("nl", "Ja, stuur mij de maandelijkse nieuwsbrief.", http.StatusCreated)
		en1 := setWording("en", "Yes, send me the newsletter.", http.StatusCreated)
		if nl1.Version != 2 || nl2.Version != 3 || en1.Version != 2 || nl2.SHA256 == nl1.SHA256 {
			t.Fatalf("versions %d %d %d", nl1.Version, nl2.Version, en1.Version)
		}
		var wordings struct{ Items []crm.ConsentWording }
		ts.do("GET", "/v1/consent-purposes/newsletter/wordings", key, nil).want(t, http.StatusOK).json(t, &wordings)
		if len(wordings.Items) != 8 { // five built in (en, nl, de, fr, pl) and three set here
			t.Fatalf("wordings %+v", wordings.Items)
		}

		// Three customers: c grants and withdraws, d grants, e signs up with double opt-in.
		customer := func(name, email string) crm.Customer {
			var c crm.Customer
			ts.do("POST", "/v1/customers", key, map[string]any{"lastName": name, "loginEmail": email}).want(t, http.StatusCreated).json(t, &c)
			return c
		}
		c, d, e := customer("Claes", "claes@example.nl"), customer("Dekker", "dekker@example.nl"), customer("Evers", "evers@example.nl")
		record := func(id string, body map[string]any) crm.ConsentRecord {
			t.Helper()
			var r crm.ConsentRecord
			ts.do("POST", "/v1/customers/"+id+"/consents", key, body).want(t, http.StatusCreated).json(t, &r)
			return r
		}
		granted := record(c.ID, map[string]any{"purpose": "newsletter", "state": "granted", "source": "staff",
			"ip": "2001:db8::1", "userAgent": "Mozilla/5.0"})
		if granted.State != crm.ConsentGranted || granted.WordingID != nl2.ID || granted.IP != "2001:db8::1" ||
			granted.UserAgent != "Mozilla/5.0" || granted.Actor != crm.Staff("staff-org-a") || granted.Source != crm.SourceStaff {
			t.Fatalf("granted %+v", granted)
		}
		withdrawn := record(c.ID, map[string]any{"purpose": "newsletter", "state": "withdrawn", "source": "web_form"})
		if withdrawn.State != crm.ConsentWithdrawn || withdrawn.WordingID != "" || withdrawn.IP != "" {
			t.Fatalf("withdrawn %+v", withdrawn)
		}
		record(c.ID, map[string]any{"purpose": "post", "state": "withdrawn", "source": "staff"})
		var withFlags crm.Customer
		ts.do("GET", "/v1/customers/"+c.ID, key, nil).want(t, http.StatusOK).json(t, &withFlags)
		if !withFlags.NoPost || withFlags.NoMailings {
			t.Fatalf("withdrawing post must set noPost only: %+v", withFlags.CustomerFields)
		}
		record(d.ID, map[string]any{"purpose": "newsletter", "state": "granted", "source": "import", "wordingId": en1.ID})

		var log struct{ Items []crm.ConsentRecord }
		ts.do("GET", "/v1/customers/"+c.ID+"/consent-log", key, nil).want(t, http.StatusOK).json(t, &log)
		if len(log.Items) != 3 || log.Items[0].ID != granted.ID || log.Items[1].ID != withdrawn.ID || log.Items[2].Purpose != "post" {
			t.Fatalf("log %+v", log.Items)
		}
		states := func(id string) map[string]crm.CustomerConsent {
			t.Helper()
			var cs struct{ Items []crm.CustomerConsent }
			ts.do("GET", "/v1/customers/"+id+"/consents", key, nil).want(t, http.StatusOK).json(t, &cs)
			out := map[string]crm.CustomerConsent{}
			for _, s := range cs.Items {
				out[s.Purpose] = s
			}
			if len(cs.Items) != 7 {
				t.Fatalf("states of %d purposes: %+v", len(cs.Items), cs.Items)
			}
			return out
		}
		cs := states(c.ID)
		if cs["newsletter"].State != crm.ConsentWithdrawn || cs["newsletter"].RecordID != withdrawn.ID ||
			cs["post"].State != crm.ConsentWithdrawn || cs["sms"].State != crm.ConsentNever || cs["brochures"].State != crm.ConsentNever {
			t.Fatalf("states %+v", cs)
		}

		// Double opt-in: a web form cannot grant directly; the token works once.
		p := ts.do("POST", "/v1/customers/"+e.ID+"/consents", key, map[string]any{"purpose": "newsletter", "state": "granted", "source": "web_form"}).
			wantProblem(t, http.StatusUnprocessableEntity)
		if !p.hasError("body.source", "doubleOptIn") {
			t.Fatalf("direct web form grant %+v", p)
		}
		var pending crm.PendingConsent
		ts.do("POST", "/v1/customers/"+e.ID+"/consents/double-opt-in", key, map[string]any{"purpose": "newsletter", "source": "web_form",
			"ip": "192.0.2.10"}).want(t, http.StatusCreated).json(t, &pending)
		if pending.Token == "" || pending.Record.State != crm.ConsentPending || pending.Record.WordingID != nl2.ID ||
			pending.ExpiresAt.Sub(pending.Record.At) != crm.DefaultConfirmationTTL {
			t.Fatalf("pending %+v", pending)
		}
		if es := states(e.ID)["newsletter"]; es.State != crm.ConsentNever || !es.Pending {
			t.Fatalf("state while pending %+v", es)
		}
		if strings.Contains(string(ts.do("GET", "/v1/customers/"+e.ID+"/consent-log", key, nil).body), pending.Token) {
			t.Fatal("the log shows the token")
		}
		var confirmed crm.ConsentRecord
		ts.do("POST", "/v1/consent-confirmations", key, map[string]any{"token": pending.Token, "ip": "192.0.2.11", "userAgent": "Mail client"}).
			want(t, http.StatusCreated).json(t, &confirmed)
		if confirmed.State != crm.ConsentGranted || confirmed.Confirms != pending.Record.ID || confirmed.WordingID != nl2.ID ||
			confirmed.Source != crm.SourceWebForm || confirmed.IP != "192.0.2.11" || confirmed.CustomerID != e.ID {
			t.Fatalf("confirmed %+v", confirmed)
		}
		p = ts.do("POST", "/v1/consent-confirmations", key, map[string]any{"token": pending.Token}).wantProblem(t, http.StatusConflict)
		if !p.hasError("body.token", "conflict") {
			t.Fatalf("second confirmation %+v", p)
		}
		if es := states(e.ID)["newsletter"]; es.State != crm.ConsentGranted || es.Pending || es.RecordID != confirmed.ID {
			t.Fatalf("state after confirmation %+v", es)
		}

		// The consent filter: repeated or comma-separated conditions, all of which hold.
		names := func(q string) string {
			t.Helper()
			var page crm.Page[crm.Customer]
			ts.do("GET", "/v1/customers?"+q, key, nil).want(t, http.StatusOK).json(t, &page)
			var out []string
			for _, c := range page.Items {
				out = append(out, c.LastName)
			}
			return strings.Join(out, " ")
		}
		for q, want := range map[string]string{
			"consent=newsletter:granted":                             "Dekker Evers",
			"consent=newsletter:withdrawn":                           "Claes",
			"consent=newsletter:never":                               "",
			"consent=post:never":                                     "Dekker Evers",
			"consent=newsletter:granted&consent=post:never":          "Dekker Evers",
			"consent=newsletter:withdrawn,post:withdrawn":            "Claes",
			"consent=newsletter:withdrawn&consent=post:never":        "",
			"consent=+newsletter+:+granted+&name=evers":              "Evers",
			"consent=brochures:never&consent=commercial_email:never": "Claes Dekker Evers",
		} {
			if got := names(q); got != want {
				t.Errorf("?%s: %q, want %q", q, got, want)
			}
		}
		var count struct{ Count int64 }
		ts.do("GET", "/v1/customers/count?consent=newsletter:granted", key, nil).want(t, http.StatusOK).json(t, &count)
		if count.Count != 2 {
			t.Fatalf("count %d", count.Count)
		}

		// Mailing selections stream the reachable customers who granted the purpose.
		var seg crm.Segment
		ts.do("POST", "/v1/segments", key, map[string]any{"name": "Everyone"}).want(t, http.StatusCreated).json(t, &seg)
		selection := func(purpose string) []crm.MailingRecipient {
			t.Helper()
			res := ts.do("GET", "/v1/segments/"+seg.ID+"/mailing-selection?purpose="+purpose, key, nil).want(t, http.StatusOK)
			if ct := res.header.Get("Content-Type"); ct != "application/x-ndjson" {
				t.Fatalf("content type %q", ct)
			}
			var out []crm.MailingRecipient
			sc := bufio.NewScanner(bytes.NewReader(res.body))
			for sc.Scan() {
				var r crm.MailingRecipient
				if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
					t.Fatalf("line %q: %v", sc.Text(), err)
				}
				out = append(out, r)
			}
			return out
		}
		if rs := selection("newsletter"); len(rs) != 2 || rs[0].CustomerID != d.ID || rs[0].Email != "dekker@example.nl" || rs[1].CustomerID != e.ID {
			t.Fatalf("newsletter selection %+v", rs)
		}
		record(d.ID, map[string]any{"purpose": "mailings", "state": "withdrawn", "source": "staff"})
		if rs := selection("newsletter"); len(rs) != 1 || rs[0].CustomerID != e.ID {
			t.Fatalf("no mailings for Dekker, yet %+v", rs)
		}
		if rs := selection("sms"); len(rs) != 0 {
			t.Fatalf("sms selection %+v", rs)
		}

		// Every consent change is on the timeline.
		var history crm.Page[crm.HistoryEvent]
		ts.do("GET", "/v1/customers/"+c.ID+"/history", key, nil).want(t, http.StatusOK).json(t, &history)
		var kinds []string
		for _, h := range history.Items {
			kinds = append(kinds, string(h.Kind))
		}
		if got := strings.Join(kinds, " "); !strings.HasPrefix(got, "consent.withdrawn consent.withdrawn consent.granted") {
			t.Fatalf("timeline %s", got)
		}
	})
}

// TestConsentConfirmationExpired: a token past its time is 422 and stays
// unused; the sign-up stays pending.
func TestConsentConfirmationExpired(t *testing.T) {
	testdb.Each(t, func(t *testing.T, open testdb.Opener) {
		t.Parallel()
		ts := newTestServer(t, open)
		var c crm.Customer
		ts.do("POST", "/v1/customers", ts.keyA, map[string]any{"lastName": "Laat", "loginEmail": "laat@example.nl"}).
			want(t, http.StatusCreated).json(t, &c)
		then, err := crm.New(ts.db, crm.Config{ConfirmationTTL: time.Hour, Clock: func() time.Time { return time.Now().Add(-2 * time.Hour) }})
		if err != nil {
			t.Fatal(err)
		}
		pending, err := then.Consents.RequestConfirmation(crm.WithActor(crm.WithOrg(t.Context(), "org-a"), crm.System()), c.ID,
			crm.ConsentInput{Purpose: crm.PurposeNewsletter, Source: crm.SourceWebForm})
		if err != nil {
			t.Fatal(err)
		}
		for range 2 {
			p := ts.do("POST", "/v1/consent-confirmations", ts.keyA, map[string]any{"token": pending.Token}).wantProblem(t, http.StatusUnprocessableEntity)
			if !p.hasError("body.token", "expired") {
				t.Fatalf("expired token %+v", p)
			}
		}
		var cs struct{ Items []crm.CustomerConsent }
		ts.do("GET", "/v1/customers/"+c.ID+"/consents", ts.keyA, nil).want(t, http.StatusOK).json(t, &cs)
		if cs.Items[0].Purpose != "newsletter" || cs.Items[0].State != crm.ConsentNever || !cs.Items[0].Pending {
			t.Fatalf("states %+v", cs.Items)
		}
	})
}
