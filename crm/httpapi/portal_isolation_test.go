package httpapi_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/dossiercrm/dossier/crm"
)

// portalIsolation gives organisation B's customer secret a portal account,
// an itinerary, a contest entry, a brochure request and a mailing, and
// returns TestIsolation's probes of the staff routes of the customer's
// own side with A's key, and the paths of B's reads its snapshot compares.
func portalIsolation(t *testing.T, ts *testServer, secret, own crm.Customer) (map[string]func(t *testing.T), []string) {
	t.Helper()
	a, b := ts.keyA, ts.keyB
	idOf := func(res response) string {
		var v struct{ ID string }
		res.json(t, &v)
		return v.ID
	}
	for _, key := range []string{a, b} {
		ts.do("PATCH", "/v1/portal/settings", key, map[string]any{"itinerariesEnabled": true, "contestsEnabled": true}).want(t, http.StatusOK)
	}
	ts.do("PATCH", "/v1/portal/settings", b, map[string]any{"editableFields": []string{"firstName"}}).want(t, http.StatusOK)
	bAccount := idOf(ts.do("POST", "/v1/customers/"+secret.ID+"/portal-account", b, nil).want(t, http.StatusCreated))
	ts.do("POST", "/v1/customers/"+secret.ID+"/portal-account/set-password-link", b, nil).want(t, http.StatusAccepted)
	aAccount := idOf(ts.do("POST", "/v1/customers/"+own.ID+"/portal-account", a, map[string]any{"email": "eigen@a.example"}).want(t, http.StatusCreated))
	bCtx := crm.WithActor(crm.WithOrg(t.Context(), "org-b"), crm.CustomerActor(secret.ID))
	it, err := ts.crm.Itineraries.Save(bCtx, "", crm.NewItinerary{Title: "Geheime Reise", Lines: []crm.ItineraryLine{{Kind: "hotel", Description: "Geheim"}}})
	if err != nil {
		t.Fatal(err)
	}
	bContest := idOf(ts.do("POST", "/v1/contests", b, map[string]any{"name": "Geheim", "question": "Wohin?",
		"startsOn": "2000-01-01", "endsOn": "2999-12-31"}).want(t, http.StatusCreated))
	aContest := idOf(ts.do("POST", "/v1/contests", a, map[string]any{"name": "Eigen", "question": "Waar?",
		"startsOn": "2000-01-01", "endsOn": "2999-12-31"}).want(t, http.StatusCreated))
	bEntry := idOf(ts.do("POST", "/v1/contests/"+bContest+"/entries", b, map[string]any{"customerId": secret.ID, "answer": "Geheim"}).
		want(t, http.StatusCreated))
	bBrochure := idOf(ts.do("POST", "/v1/customers/"+secret.ID+"/brochure-requests", b, map[string]any{"brochures": []string{"Geheim"},
		"source": "site"}).want(t, http.StatusCreated))
	bMailing := idOf(ts.do("POST", "/v1/mailings", b, map[string]any{"template": "geheim_brief"}).want(t, http.StatusCreated))
	for done := false; !done; {
		if done, err = ts.crm.Mailings.Continue(crm.WithOrg(t.Context(), "org-b"), bMailing); err != nil {
			t.Fatal(err)
		}
	}
	var bSegments struct{ Items []crm.Segment }
	ts.do("GET", "/v1/segments", b, nil).want(t, http.StatusOK).json(t, &bSegments)

	notFound := func(method, path string, body any) func(t *testing.T) {
		return func(t *testing.T) { ts.do(method, path, a, body).wantProblem(t, http.StatusNotFound) }
	}
	invalid := func(method, path string, body any, member, code string) func(t *testing.T) {
		return func(t *testing.T) {
			if p := ts.do(method, path, a, body).wantProblem(t, http.StatusUnprocessableEntity); !p.hasError(member, code) {
				t.Fatalf("%s %s: %+v", method, path, p)
			}
		}
	}
	noneOf := func(path string, ids ...string) func(t *testing.T) {
		return func(t *testing.T) {
			body := string(ts.do("GET", path, a, nil).want(t, http.StatusOK).body)
			for _, id := range ids {
				if strings.Contains(body, id) {
					t.Fatalf("A's %s shows B's %s", path, id)
				}
			}
		}
	}
	id := secret.ID
	probes := map[string]func(t *testing.T){
		"GET /v1/portal/settings": func(t *testing.T) {
			var s crm.PortalSettings
			ts.do("GET", "/v1/portal/settings", a, nil).want(t, http.StatusOK).json(t, &s)
			if len(s.EditableFields) != 0 {
				t.Fatalf("A sees B's settings %+v", s)
			}
		},
		"PATCH /v1/portal/settings": func(t *testing.T) {
			ts.do("PATCH", "/v1/portal/settings", a, map[string]any{"accountsOnRegistration": true}).want(t, http.StatusOK)
		},
		"GET /v1/customers/{id}/portal-account":                    notFound("GET", "/v1/customers/"+id+"/portal-account", nil),
		"POST /v1/customers/{id}/portal-account/set-password-link": notFound("POST", "/v1/customers/"+id+"/portal-account/set-password-link", nil),
		"POST /v1/customers/{id}/portal-account": func(t *testing.T) {
			ts.do("POST", "/v1/customers/"+id+"/portal-account", a, nil).wantProblem(t, http.StatusNotFound)
			// B's login is free in A.
			var c crm.Customer
			ts.do("POST", "/v1/customers", a, map[string]any{"lastName": "Zweit"}).want(t, http.StatusCreated).json(t, &c)
			ts.do("POST", "/v1/customers/"+c.ID+"/portal-account", a, map[string]any{"email": "bertha@b.example"}).want(t, http.StatusCreated)
		},
		"GET /v1/portal-accounts/{accountId}": notFound("GET", "/v1/portal-accounts/"+bAccount, nil),
		"PUT /v1/portal-accounts/{accountId}/customer": func(t *testing.T) {
			ts.do("PUT", "/v1/portal-accounts/"+bAccount+"/customer", a, map[string]any{"customerId": own.ID}).wantProblem(t, http.StatusNotFound)
			invalid("PUT", "/v1/portal-accounts/"+aAccount+"/customer", map[string]any{"customerId": id}, "body.customerId", "unknown")(t)
		},
		"DELETE /v1/portal-accounts/{accountId}/customer": notFound("DELETE", "/v1/portal-accounts/"+bAccount+"/customer", nil),
		"GET /v1/customers/{id}/itineraries":              notFound("GET", "/v1/customers/"+id+"/itineraries", nil),
		"GET /v1/itineraries/{itineraryId}":               notFound("GET", "/v1/itineraries/"+it.ID, nil),
		"GET /v1/contests":                                noneOf("/v1/contests", bContest),
		"POST /v1/contests": func(t *testing.T) {
			ts.do("POST", "/v1/contests", a, map[string]any{"name": "Geheim", "question": "Wohin?", "startsOn": "2000-01-01", "endsOn": "2999-12-31"}).
				want(t, http.StatusCreated)
		},
		"GET /v1/contests/{contestId}":         notFound("GET", "/v1/contests/"+bContest, nil),
		"GET /v1/contests/{contestId}/entries": notFound("GET", "/v1/contests/"+bContest+"/entries", nil),
		"POST /v1/contests/{contestId}/entries": func(t *testing.T) {
			ts.do("POST", "/v1/contests/"+bContest+"/entries", a, map[string]any{"customerId": own.ID, "answer": "x"}).wantProblem(t, http.StatusNotFound)
			ts.do("POST", "/v1/contests/"+aContest+"/entries", a, map[string]any{"customerId": id, "answer": "x"}).wantProblem(t, http.StatusNotFound)
		},
		"GET /v1/contest-entries/{entryId}":         notFound("GET", "/v1/contest-entries/"+bEntry, nil),
		"POST /v1/contest-entries/{entryId}/winner": notFound("POST", "/v1/contest-entries/"+bEntry+"/winner", nil),
		"GET /v1/customers/{id}/contest-entries":    notFound("GET", "/v1/customers/"+id+"/contest-entries", nil),
		"POST /v1/customers/{id}/brochure-requests": notFound("POST", "/v1/customers/"+id+"/brochure-requests", map[string]any{"brochures": []string{"x"}, "source": "staff"}),
		"GET /v1/customers/{id}/brochure-requests":  notFound("GET", "/v1/customers/"+id+"/brochure-requests", nil),
		"GET /v1/brochure-requests/{requestId}":     notFound("GET", "/v1/brochure-requests/"+bBrochure, nil),
		"GET /v1/brochure-requests/to-send":         noneOf("/v1/brochure-requests/to-send", bBrochure, id),
		"POST /v1/brochure-requests/printed":        invalid("POST", "/v1/brochure-requests/printed", map[string]any{"ids": []string{bBrochure}, "printedOn": "2026-01-01"}, "body.ids[0]", "unknown"),
		"GET /v1/mailings":                          noneOf("/v1/mailings", bMailing),
		"GET /v1/mailings/{mailingId}":              notFound("GET", "/v1/mailings/"+bMailing, nil),
		"POST /v1/customers/{id}/mails": func(t *testing.T) {
			ts.do("POST", "/v1/customers/"+id+"/mails", a, map[string]any{"template": "set_password"}).wantProblem(t, http.StatusNotFound)
			invalid("POST", "/v1/customers/"+own.ID+"/mails", map[string]any{"template": "geheim_brief"}, "body.template", "unknown")(t)
		},
		"POST /v1/mailings": func(t *testing.T) {
			invalid("POST", "/v1/mailings", map[string]any{"template": "geheim_brief"}, "body.template", "unknown")(t)
			invalid("POST", "/v1/mailings", map[string]any{"template": "set_password", "segmentId": bSegments.Items[0].ID}, "body.segmentId", "unknown")(t)
			invalid("POST", "/v1/mailings", map[string]any{"template": "set_password", "purpose": "geheim_zwei"}, "body.purpose", "unknown")(t)
		},
	}
	reads := []string{"/v1/portal/settings", "/v1/customers/" + id + "/portal-account", "/v1/portal-accounts/" + bAccount,
		"/v1/customers/" + id + "/itineraries", "/v1/itineraries/" + it.ID, "/v1/contests", "/v1/contests/" + bContest + "/entries",
		"/v1/customers/" + id + "/contest-entries", "/v1/contest-entries/" + bEntry, "/v1/customers/" + id + "/brochure-requests",
		"/v1/brochure-requests/to-send", "/v1/mailings", "/v1/mailings/" + bMailing}
	return probes, reads
}
