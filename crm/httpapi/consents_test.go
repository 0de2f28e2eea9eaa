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

// TestConsentWordingsAndLegalBasis: purposes carry their legal basis;
// a grant from the customer's side needs a wording, staff may say there
// was none; notWithdrawn filters; and a postal mailing selection takes
// everyone with an address who did not object.
func TestConsentWordingsAndLegalBasis(t *testing.T) {
	testdb.Each(t, func(t *testing.T, open testdb.Opener) {
		t.Parallel()
		ts := newTestServer(t, open)
		key := ts.keyA

		var purposes struct{ Items []crm.ConsentPurpose }
		ts.do("GET", "/v1/consent-purposes", key, nil).want(t, http.StatusOK).json(t, &purposes)
		var bases []string
		for _, p := range purposes.Items {
			bases = append(bases, p.Key+"="+string(p.LegalBasis))
		}
		if got := strings.Join(bases, " "); got != "newsletter=consent commercial_email=consent post=legitimate_interest "+
			"sms=consent profiling=consent mailings=legitimate_interest" {
			t.Fatalf("legal bases %s", got)
		}
		var wordings struct{ Items []crm.ConsentWording }
		ts.do("GET", "/v1/consent-purposes/sms/wordings", key, nil).want(t, http.StatusOK).json(t, &wordings)
		if len(wordings.Items) != 5 {
			t.Fatalf("built-in sms wordings %+v", wordings.Items)
		}
		var flyers, folder crm.ConsentPurpose
		ts.do("POST", "/v1/consent-purposes", key, map[string]any{"key": "flyers", "name": "Flyers", "channel": "post"}).
			want(t, http.StatusCreated).json(t, &flyers)
		ts.do("POST", "/v1/consent-purposes", key, map[string]any{"key": "folder", "name": "Folder", "channel": "post",
			"legalBasis": "legitimate_interest"}).want(t, http.StatusCreated).json(t, &folder)
		if flyers.LegalBasis != crm.LegalBasisConsent || folder.LegalBasis != crm.LegalBasisLegitimateInterest {
			t.Fatalf("own purposes %+v %+v", flyers, folder)
		}
		p := ts.do("POST", "/v1/consent-purposes", key, map[string]any{"key": "leaflet", "name": "Leaflet", "channel": "post",
			"legalBasis": "whim"}).wantProblem(t, http.StatusUnprocessableEntity)
		if !p.hasError("body.legalBasis", "") {
			t.Fatalf("bad legal basis %+v", p)
		}
		var patched crm.ConsentPurpose
		ts.do("PATCH", "/v1/consent-purposes/folder", key, map[string]any{"legalBasis": "consent"}).want(t, http.StatusOK).json(t, &patched)
		if patched.LegalBasis != crm.LegalBasisConsent {
			t.Fatalf("patched %+v", patched)
		}
		ts.do("PATCH", "/v1/consent-purposes/folder", key, map[string]any{"legalBasis": "legitimate_interest"}).want(t, http.StatusOK)

		// Wordings: the customer's side needs one; staff say explicitly there was none.
		var anna, bert, cor crm.Customer
		for _, c := range []struct {
			into *crm.Customer
			body map[string]any
		}{
			{&anna, map[string]any{"lastName": "Anna", "address": map[string]any{"street": "Kerkstraat", "houseNumber": "1", "city": "Utrecht"}}},
			{&bert, map[string]any{"lastName": "Bert", "address": map[string]any{"street": "Markt", "houseNumber": "2", "city": "Gouda"}}},
			{&cor, map[string]any{"lastName": "Cor"}},
		} {
			ts.do("POST", "/v1/customers", key, c.body).want(t, http.StatusCreated).json(t, c.into)
		}
		grant := func(body map[string]any) response {
			body["state"] = "granted"
			return ts.do("POST", "/v1/customers/"+anna.ID+"/consents", key, body)
		}
		var r crm.ConsentRecord
		grant(map[string]any{"purpose": "sms", "source": "web_form"}).want(t, http.StatusCreated).json(t, &r)
		if r.WordingID == "" {
			t.Fatalf("web form grant of a built-in purpose without its wording %+v", r)
		}
		for _, src := range []string{"web_form", "staff"} {
			p = grant(map[string]any{"purpose": "flyers", "source": src}).wantProblem(t, http.StatusUnprocessableEntity)
			if !p.hasError("body.wordingId", "wordingNeeded") {
				t.Fatalf("%s grant without any wording %+v", src, p)
			}
		}
		p = grant(map[string]any{"purpose": "flyers", "source": "web_form", "noWording": true}).wantProblem(t, http.StatusUnprocessableEntity)
		if !p.hasError("body.noWording", "customerSide") {
			t.Fatalf("web form grant with noWording %+v", p)
		}
		var none crm.ConsentRecord
		grant(map[string]any{"purpose": "flyers", "source": "staff", "noWording": true}).want(t, http.StatusCreated).json(t, &none)
		if none.WordingID != "" || none.State != crm.ConsentGranted {
			t.Fatalf("staff grant without a wording %+v", none)
		}

		// Bert objects to post: notWithdrawn leaves him out, in lists, counts and segments.
		ts.do("POST", "/v1/customers/"+bert.ID+"/consents", key, map[string]any{"purpose": "post", "state": "withdrawn", "source": "portal"}).
			want(t, http.StatusCreated)
		var page crm.Page[crm.Customer]
		ts.do("GET", "/v1/customers?consent=post:notWithdrawn", key, nil).want(t, http.StatusOK).json(t, &page)
		if len(page.Items) != 2 || page.Items[0].ID != anna.ID || page.Items[1].ID != cor.ID {
			t.Fatalf("post not withdrawn %+v", page.Items)
		}
		var count struct{ Count int64 }
		ts.do("GET", "/v1/customers/count?consent=post:notWithdrawn,sms:notWithdrawn", key, nil).want(t, http.StatusOK).json(t, &count)
		if count.Count != 2 {
			t.Fatalf("count %d", count.Count)
		}
		var seg crm.Segment
		ts.do("POST", "/v1/segments", key, map[string]any{"name": "Post ok", "filter": map[string]any{
			"consents": []map[string]any{{"purpose": "post", "state": "notWithdrawn"}}}}).want(t, http.StatusCreated).json(t, &seg)
		ts.do("GET", "/v1/segments/"+seg.ID+"/count", key, nil).want(t, http.StatusOK).json(t, &count)
		if count.Count != 2 {
			t.Fatalf("segment count %d", count.Count)
		}
		p = ts.do("GET", "/v1/customers?consent=post:notwithdrawn", key, nil).wantProblem(t, http.StatusUnprocessableEntity)
		if !p.hasError("query.consents[0].state", "oneof") {
			t.Fatalf("misspelt state %+v", p)
		}

		// A postal mailing to everyone with an address who did not object: one call.
		var everyone crm.Segment
		ts.do("POST", "/v1/segments", key, map[string]any{"name": "Everyone"}).want(t, http.StatusCreated).json(t, &everyone)
		res := ts.do("GET", "/v1/segments/"+everyone.ID+"/mailing-selection?purpose=post", key, nil).want(t, http.StatusOK)
		var got []string
		sc := bufio.NewScanner(bytes.NewReader(res.body))
		for sc.Scan() {
			var r crm.MailingRecipient
			if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
				t.Fatal(err)
			}
			if r.Address == nil || r.Address.Street == "" {
				t.Fatalf("recipient without an address %+v", r)
			}
			got = append(got, r.CustomerID)
		}
		if len(got) != 1 || got[0] != anna.ID {
			t.Fatalf("postal selection %v, want only Anna %s", got, anna.ID)
		}
		// Organisation B sees none of A's customers in its own postal selection.
		var bSeg crm.Segment
		ts.do("POST", "/v1/segments", ts.keyB, map[string]any{"name": "Everyone"}).want(t, http.StatusCreated).json(t, &bSeg)
		if body := ts.do("GET", "/v1/segments/"+bSeg.ID+"/mailing-selection?purpose=post", ts.keyB, nil).want(t, http.StatusOK).body; len(body) != 0 {
			t.Fatalf("B's postal selection %s", body)
		}
	})
}
