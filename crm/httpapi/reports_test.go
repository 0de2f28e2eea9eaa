package httpapi_test

import (
	"bytes"
	"image/png"
	"net/http"
	"strings"
	"testing"

	"github.com/dossiercrm/dossier/crm"
	"github.com/dossiercrm/dossier/crm/store/testdb"
)

// TestReports serves every report as JSON, CSV and a chart over a filter,
// a segment and a period, and refuses bad input naming the parameter.
func TestReports(t *testing.T) {
	testdb.Each(t, func(t *testing.T, open testdb.Opener) {
		t.Parallel()
		ts := newTestServer(t, open)
		a := ts.keyA
		for i, origin := range []string{"website", "website", "targi Łódź"} {
			ts.do("POST", "/v1/customers", a, map[string]any{"lastName": "Nowak" + string(rune('a'+i)), "origin": origin,
				"language": []string{"nl", "pl", "pl"}[i]}).want(t, http.StatusCreated)
		}
		var seg crm.Segment
		ts.do("POST", "/v1/segments", a, map[string]any{"name": "Polish", "filter": map[string]any{"language": "pl"}}).
			want(t, http.StatusCreated).json(t, &seg)
		var kinds struct{ Items []string }
		ts.do("GET", "/v1/reports", a, nil).want(t, http.StatusOK).json(t, &kinds)
		if len(kinds.Items) != len(crm.ReportKinds()) {
			t.Fatalf("kinds %v", kinds.Items)
		}
		for _, kind := range kinds.Items {
			for _, q := range []string{"", "?language=pl", "?segment=" + seg.ID, "?from=2000-01-01&to=2099-12-31"} {
				var r crm.Report
				ts.do("GET", "/v1/reports/"+kind+q, a, nil).want(t, http.StatusOK).json(t, &r)
				if string(r.Kind) != kind || r.Dimensions == nil || r.Rows == nil {
					t.Fatalf("%s%s: %+v", kind, q, r)
				}
				csv := ts.do("GET", "/v1/reports/"+kind+"/csv"+q, a, nil).want(t, http.StatusOK)
				if ct := csv.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") {
					t.Fatalf("csv content type %q", ct)
				}
				if lines := strings.Count(string(csv.body), "\n"); lines != len(r.Rows)+1 {
					t.Fatalf("%s%s: %d CSV lines for %d rows: %s", kind, q, lines, len(r.Rows), csv.body)
				}
				svg := ts.do("GET", "/v1/reports/"+kind+"/chart"+q, a, nil).want(t, http.StatusOK)
				if svg.header.Get("Content-Type") != "image/svg+xml" || !bytes.Contains(svg.body, []byte("<svg")) {
					t.Fatalf("%s chart: %s %.80s", kind, svg.header.Get("Content-Type"), svg.body)
				}
			}
		}
		var r crm.Report
		ts.do("GET", "/v1/reports/new-customers?language=pl", a, nil).want(t, http.StatusOK).json(t, &r)
		if r.Total(0) != 2 {
			t.Fatalf("new Polish customers %+v", r)
		}
		csv := ts.do("GET", "/v1/reports/new-customers/csv?segment="+seg.ID, a, nil).want(t, http.StatusOK)
		if !strings.HasPrefix(string(csv.body), "month,origin,customers\n") || !strings.Contains(string(csv.body), ",targi Łódź,1\n") {
			t.Fatalf("csv %s", csv.body)
		}
		// Overdue tasks by owner: one about a Polish customer, one internal.
		var pl crm.Page[crm.Customer]
		ts.do("GET", "/v1/customers?language=pl", a, nil).want(t, http.StatusOK).json(t, &pl)
		ts.do("POST", "/v1/tasks", a, map[string]any{"title": "Call", "dueOn": "2001-01-01", "customerId": pl.Items[0].ID}).
			want(t, http.StatusCreated)
		ts.do("POST", "/v1/tasks", a, map[string]any{"title": "File", "dueOn": "2001-01-02"}).want(t, http.StatusCreated)
		ts.do("GET", "/v1/reports/tasks-overdue", a, nil).want(t, http.StatusOK).json(t, &r)
		if len(r.Rows) != 1 || r.Total(0) != 2 {
			t.Fatalf("overdue tasks %+v", r)
		}
		ts.do("GET", "/v1/reports/tasks-overdue?language=pl", a, nil).want(t, http.StatusOK).json(t, &r)
		if r.Total(0) != 1 {
			t.Fatalf("overdue tasks of Polish customers %+v", r)
		}
		if csv := ts.do("GET", "/v1/reports/tasks-overdue/csv", a, nil).want(t, http.StatusOK); !strings.HasPrefix(string(csv.body), "ownerId,owner,overdue\n") ||
			!strings.HasSuffix(string(csv.body), ",2\n") {
			t.Fatalf("overdue tasks csv %s", csv.body)
		}
		img := ts.do("GET", "/v1/reports/languages/chart?format=png", a, nil).want(t, http.StatusOK)
		if _, err := png.Decode(bytes.NewReader(img.body)); err != nil || img.header.Get("Content-Type") != "image/png" {
			t.Fatalf("png: %v %s", err, img.header.Get("Content-Type"))
		}

		for _, tc := range []struct {
			path, location string
			status         int
		}{
			{"/v1/reports/everything", "path.kind", 422},
			{"/v1/reports/languages?from=2026-13-01", "query.from", 422},
			{"/v1/reports/languages/csv?from=2026-02-01&to=2026-01-31", "query.to", 422},
			{"/v1/reports/languages?segment=" + seg.ID + "&language=pl", "query.segment", 422},
			{"/v1/reports/tags?tag=not-an-id", "query.tags.any[0]", 422},
			{"/v1/reports/languages/chart?format=gif", "query.format", 422},
			{"/v1/reports/languages?origin=%C3%28", "query.origin", 422},
			{"/v1/reports/languages?nameContains=ab", "query.nameContains", 422},
			{"/v1/reports/languages?segment=0190b2a4-0000-7000-8000-000000000000", "", 404},
			{"/v1/reports/languages/chart?segment=nonsense", "", 404},
		} {
			p := ts.do("GET", tc.path, a, nil).wantProblem(t, tc.status)
			if tc.location != "" && !p.hasError(tc.location, "") {
				t.Errorf("%s: %+v, want an error at %s", tc.path, p, tc.location)
			}
		}
	})
}

// reportProbes are the isolation probes of the report routes: A's
// reports count A's customers only, and B's segment and tags are unknown.
func reportProbes(ts *testServer, bTag, bSegment string, secrets ...string) map[string]func(t *testing.T) {
	a := ts.keyA
	leaks := func(t *testing.T, path string, body []byte) {
		t.Helper()
		for _, s := range append([]string{bTag, bSegment, "b-origin", "geheim_zwei"}, secrets...) {
			if strings.Contains(string(body), s) {
				t.Fatalf("A's %s shows B's %s", path, s)
			}
		}
	}
	refused := func(t *testing.T, suffix string) {
		t.Helper()
		for _, kind := range crm.ReportKinds() {
			ts.do("GET", "/v1/reports/"+string(kind)+suffix+"?segment="+bSegment, a, nil).wantProblem(t, http.StatusNotFound)
			p := ts.do("GET", "/v1/reports/"+string(kind)+suffix+"?tag="+bTag, a, nil).wantProblem(t, http.StatusUnprocessableEntity)
			if !p.hasError("query.tags.any[0]", "unknown") {
				t.Fatalf("B's tag in A's report: %+v", p)
			}
		}
	}
	return map[string]func(t *testing.T){
		"GET /v1/reports": func(t *testing.T) { ts.do("GET", "/v1/reports", a, nil).want(t, http.StatusOK) },
		"GET /v1/reports/{kind}": func(t *testing.T) {
			for _, kind := range crm.ReportKinds() {
				var r crm.Report
				res := ts.do("GET", "/v1/reports/"+string(kind), a, nil).want(t, http.StatusOK)
				res.json(t, &r)
				leaks(t, string(kind), res.body)
				switch kind {
				case crm.ReportNewCustomers, crm.ReportLanguages, crm.ReportStatuses:
					if r.Total(0) != 1 {
						t.Fatalf("A's %s counts %d customers, A has 1: %+v", kind, r.Total(0), r.Rows)
					}
				case crm.ReportPoints:
					if len(r.Rows) != 0 {
						t.Fatalf("A's points report shows B's points: %+v", r.Rows)
					}
				}
			}
			refused(t, "")
		},
		"GET /v1/reports/{kind}/csv": func(t *testing.T) {
			for _, kind := range crm.ReportKinds() {
				leaks(t, string(kind)+"/csv", ts.do("GET", "/v1/reports/"+string(kind)+"/csv", a, nil).want(t, http.StatusOK).body)
			}
			refused(t, "/csv")
		},
		"GET /v1/reports/{kind}/chart": func(t *testing.T) {
			for _, kind := range crm.ReportKinds() {
				leaks(t, string(kind)+"/chart", ts.do("GET", "/v1/reports/"+string(kind)+"/chart", a, nil).want(t, http.StatusOK).body)
			}
			refused(t, "/chart")
		},
	}
}
