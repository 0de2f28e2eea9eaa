package httpapi_test

import (
	"bytes"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"

	"github.com/dossiercrm/dossier/crm"
	"github.com/dossiercrm/dossier/crm/store/storetest"
	"github.com/dossiercrm/dossier/crm/store/testdb"
)

// TestMailingsHTTP: a template to one customer, a mailing started and
// read over HTTP, and its unsubscribe link used three ways: the page's
// check (changes nothing), the page's POST, and a mail program's one-click
// POST to the List-Unsubscribe link (RFC 8058), form-encoded or
// multipart; each withdraws the consent once and shows on the timeline.
func TestMailingsHTTP(t *testing.T) {
	testdb.Each(t, func(t *testing.T, open testdb.Opener) {
		t.Parallel()
		ts := newTestServer(t, open)
		a := ts.keyA
		actx := crm.WithActor(crm.WithOrg(t.Context(), "org-a"), crm.Staff("staff-org-a"))
		var custs []crm.Customer
		for _, name := range []string{"Ana", "Bo", "Cas", "Dee"} {
			var c crm.Customer
			ts.do("POST", "/v1/customers", a, map[string]any{"firstName": name, "lastName": "Mail", "email": strings.ToLower(name) + "@a.example"}).
				want(t, http.StatusCreated).json(t, &c)
			if _, err := ts.crm.Consents.Give(actx, c.ID, crm.ConsentInput{Purpose: crm.PurposeCommercialEmail, Source: crm.SourceStaff}); err != nil {
				t.Fatal(err)
			}
			custs = append(custs, c)
		}
		var one crm.OutboxMail
		ts.do("POST", "/v1/customers/"+custs[0].ID+"/mails", a, map[string]any{"template": crm.TemplateConsentConfirmation}).
			want(t, http.StatusAccepted).json(t, &one)
		if one.CustomerID != custs[0].ID || one.Template != crm.TemplateConsentConfirmation {
			t.Fatalf("one mail %+v", one)
		}

		var m crm.Mailing
		res := ts.do("POST", "/v1/mailings", a, map[string]any{"template": crm.TemplateConsentConfirmation, "purpose": crm.PurposeCommercialEmail}).
			want(t, http.StatusCreated)
		res.json(t, &m)
		if res.header.Get("Location") != "/v1/mailings/"+m.ID || m.Status != crm.MailingRunning {
			t.Fatalf("started %s %+v", res.header, m)
		}
		for done := false; !done; { // what the background job does
			var err error
			if done, err = ts.crm.Mailings.Continue(crm.WithOrg(t.Context(), "org-a"), m.ID); err != nil {
				t.Fatal(err)
			}
		}
		ts.do("GET", "/v1/mailings/"+m.ID, a, nil).want(t, http.StatusOK).json(t, &m)
		if m.Status != crm.MailingDone || m.Counts.Queued != 4 || m.Counts.Pending != 4 {
			t.Fatalf("done %+v", m)
		}
		var list struct{ Items []crm.Mailing }
		ts.do("GET", "/v1/mailings", a, nil).want(t, http.StatusOK).json(t, &list)
		if len(list.Items) != 1 || list.Items[0].ID != m.ID {
			t.Fatalf("list %+v", list.Items)
		}
		ts.do("GET", "/v1/mailings/"+m.ID, ts.keyB, nil).wantProblem(t, http.StatusNotFound)

		tokens := make([]string, len(custs))
		for i, c := range custs {
			tokens[i] = storetest.LinkToken(t, ts.crm, actx, c.ID, "unsubscribe")
		}
		// The page's check changes nothing; the page's POST unsubscribes.
		var info crm.UnsubscribeInfo
		ts.do("GET", "/portal/v1/unsubscribe?token="+tokens[0], "", nil).want(t, http.StatusOK).json(t, &info)
		if info.Purpose != crm.PurposeCommercialEmail || info.Unsubscribed != nil || info.Organisation == "" {
			t.Fatalf("check %+v", info)
		}
		ts.do("POST", "/portal/v1/unsubscribe", "", map[string]any{"token": tokens[0]}).want(t, http.StatusOK).json(t, &info)
		if info.Unsubscribed == nil {
			t.Fatalf("unsubscribe %+v", info)
		}

		// One-click, form-encoded as RFC 8058 shows it; twice.
		oneClick := "/portal/v1/unsubscribe/one-click?token="
		form := []string{"Content-Type", "application/x-www-form-urlencoded"}
		for range 2 {
			ts.do("POST", oneClick+tokens[1], "", "List-Unsubscribe=One-Click", form...).want(t, http.StatusOK).json(t, &info)
			if info.Unsubscribed == nil || info.Purpose != crm.PurposeCommercialEmail {
				t.Fatalf("one-click %+v", info)
			}
		}
		// Multipart, as some mail programs send it.
		var body bytes.Buffer
		mw := multipart.NewWriter(&body)
		if err := mw.WriteField("List-Unsubscribe", "One-Click"); err != nil {
			t.Fatal(err)
		}
		mw.Close()
		ts.do("POST", oneClick+tokens[2], "", body.Bytes(), "Content-Type", mw.FormDataContentType()).want(t, http.StatusOK)
		// Not the one-click form: 422, nothing withdrawn; an unknown secret: 401.
		for _, bad := range []string{"", "List-Unsubscribe=Yes", "unsubscribe=One-Click"} {
			if p := ts.do("POST", oneClick+tokens[3], "", bad, form...).wantProblem(t, http.StatusUnprocessableEntity); !p.hasError("body.List-Unsubscribe", "oneClick") {
				t.Fatalf("body %q: %+v", bad, p)
			}
		}
		ts.do("POST", oneClick+strings.Replace(tokens[3], "org-a", "org-b", 1), "", "List-Unsubscribe=One-Click", form...).
			wantProblem(t, http.StatusUnauthorized)
		ts.do("POST", "/portal/v1/unsubscribe/one-click", "", "List-Unsubscribe=One-Click", form...).wantProblem(t, http.StatusUnprocessableEntity)

		for i, c := range custs {
			var cs struct{ Items []crm.CustomerConsent }
			ts.do("GET", "/v1/customers/"+c.ID+"/consents", a, nil).want(t, http.StatusOK).json(t, &cs)
			state := crm.ConsentState("")
			for _, s := range cs.Items {
				if s.Purpose == crm.PurposeCommercialEmail {
					state = s.State
				}
			}
			if want := map[bool]crm.ConsentState{true: crm.ConsentWithdrawn, false: crm.ConsentGranted}[i < 3]; state != want {
				t.Errorf("%s: consent %s, want %s", c.FirstName, state, want)
			}
			var h crm.Page[crm.HistoryEvent]
			ts.do("GET", "/v1/customers/"+c.ID+"/history?limit=100", a, nil).want(t, http.StatusOK).json(t, &h)
			vias := []string{}
			for _, e := range h.Items {
				if e.Kind != crm.EventMailingUnsubscribed {
					continue
				}
				if e.Actor != crm.CustomerActor(c.ID) {
					t.Errorf("%s: unsubscribed by %+v", c.FirstName, e.Actor)
				}
				for _, ch := range e.Changes {
					if ch.Field == "via" {
						vias = append(vias, ch.New.(string))
					}
				}
			}
			want := map[int][]string{0: {crm.UnsubscribeViaLink}, 1: {crm.UnsubscribeViaOneClick}, 2: {crm.UnsubscribeViaOneClick}, 3: {}}[i]
			if strings.Join(vias, ",") != strings.Join(want, ",") {
				t.Errorf("%s: unsubscribed via %q, want %q", c.FirstName, vias, want)
			}
		}
		ts.do("GET", "/v1/mailings/"+m.ID, a, nil).want(t, http.StatusOK).json(t, &m)
		if m.Counts.Unsubscribed != 3 {
			t.Fatalf("counts %+v", m.Counts)
		}
	})
}

// TestBrochuresHTTP: requests registered by staff and from the site go on
// the "to send" list, oldest first and paged; a print date takes them off
// it and the dossier keeps them; B sees none of A's.
func TestBrochuresHTTP(t *testing.T) {
	testdb.Each(t, func(t *testing.T, open testdb.Opener) {
		t.Parallel()
		ts := newTestServer(t, open)
		a := ts.keyA
		var c crm.Customer
		ts.do("POST", "/v1/customers", a, map[string]any{"lastName": "Lezer"}).want(t, http.StatusCreated).json(t, &c)
		var ids []string
		for i, b := range []string{"Griekenland", "Cruises", "Wintersport"} {
			var r crm.BrochureRequest
			res := ts.do("POST", "/v1/customers/"+c.ID+"/brochure-requests", a, map[string]any{"brochures": []string{b},
				"source": []string{"staff", "site", "site"}[i]}).want(t, http.StatusCreated)
			res.json(t, &r)
			if res.header.Get("Location") != "/v1/brochure-requests/"+r.ID || r.CustomerID != c.ID {
				t.Fatalf("request %s %+v", res.header, r)
			}
			ids = append(ids, r.ID)
		}
		var page crm.Page[crm.BrochureRequest]
		ts.do("GET", "/v1/brochure-requests/to-send?limit=2", a, nil).want(t, http.StatusOK).json(t, &page)
		if len(page.Items) != 2 || page.Items[0].ID != ids[0] || page.Next == "" {
			t.Fatalf("to send %+v", page)
		}
		ts.do("GET", "/v1/brochure-requests/to-send?limit=2&cursor="+page.Next, a, nil).want(t, http.StatusOK).json(t, &page)
		if len(page.Items) != 1 || page.Items[0].ID != ids[2] {
			t.Fatalf("second page %+v", page)
		}
		ts.do("POST", "/v1/brochure-requests/printed", ts.keyB, map[string]any{"ids": ids[:1], "printedOn": "2026-11-27"}).
			wantProblem(t, http.StatusUnprocessableEntity)
		ts.do("POST", "/v1/brochure-requests/printed", a, map[string]any{"ids": ids[:2], "printedOn": "2026-11-27"}).want(t, http.StatusOK)
		ts.do("GET", "/v1/brochure-requests/to-send", a, nil).want(t, http.StatusOK).json(t, &page)
		if len(page.Items) != 1 || page.Items[0].ID != ids[2] {
			t.Fatalf("to send after printing %+v", page)
		}
		var kept struct{ Items []crm.BrochureRequest }
		ts.do("GET", "/v1/customers/"+c.ID+"/brochure-requests", a, nil).want(t, http.StatusOK).json(t, &kept)
		if len(kept.Items) != 3 {
			t.Fatalf("the dossier keeps %+v", kept.Items)
		}
		var one crm.BrochureRequest
		ts.do("GET", "/v1/brochure-requests/"+ids[0], a, nil).want(t, http.StatusOK).json(t, &one)
		if one.PrintedOn == nil || one.PrintedOn.String() != "2026-11-27" {
			t.Fatalf("printed %+v", one)
		}
		ts.do("GET", "/v1/brochure-requests/"+ids[0], ts.keyB, nil).wantProblem(t, http.StatusNotFound)
		ts.do("GET", "/v1/brochure-requests/to-send", ts.keyB, nil).want(t, http.StatusOK).json(t, &page)
		if len(page.Items) != 0 {
			t.Fatalf("B's list %+v", page.Items)
		}
	})
}
