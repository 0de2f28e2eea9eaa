package httpapi_test

import (
	"net/http"
	"testing"

	"github.com/dossiercrm/dossier/crm"
	"github.com/dossiercrm/dossier/crm/store/testdb"
)

// TestInquiryStatuses: an administrator adds a final status of the
// organisation's own over HTTP, an inquiry takes it and is closed by it,
// it is renamed and archived; bad input is 422 naming the field.
func TestInquiryStatuses(t *testing.T) {
	testdb.Each(t, func(t *testing.T, open testdb.Opener) {
		t.Parallel()
		ts := newTestServer(t, open)
		a := ts.keyA
		var st crm.PipelineStatus
		res := ts.do("POST", "/v1/inquiry-statuses", a, map[string]any{"id": "deposit_paid", "names": map[string]string{"pl": "Zaliczka"}, "kind": "won"}).
			want(t, http.StatusCreated)
		res.json(t, &st)
		if st.ID != "deposit_paid" || st.Kind != crm.PipelineWon || res.header.Get("Location") != "/v1/inquiry-statuses/deposit_paid" {
			t.Fatalf("defined %+v, %v", st, res.header)
		}
		var list struct{ Items []crm.PipelineStatus }
		ts.do("GET", "/v1/inquiry-statuses", a, nil).want(t, http.StatusOK).json(t, &list)
		if len(list.Items) != 6 || list.Items[5].ID != "deposit_paid" {
			t.Fatalf("pipeline %+v", list.Items)
		}
		var cust crm.Customer
		ts.do("POST", "/v1/customers", a, map[string]any{"lastName": "Nowak"}).want(t, http.StatusCreated).json(t, &cust)
		var q crm.Inquiry
		ts.do("POST", "/v1/customers/"+cust.ID+"/inquiries", a, map[string]any{"title": "Malta", "status": "deposit_paid", "plannedOn": "2001-01-01"}).
			want(t, http.StatusCreated).json(t, &q)
		if q.ClosedAt == nil || q.Overdue {
			t.Fatalf("inquiry in a final status of its own %+v", q)
		}
		ts.do("PATCH", "/v1/inquiry-statuses/deposit_paid", a, map[string]any{"archived": true}).want(t, http.StatusOK).json(t, &st)
		if !st.Archived {
			t.Fatalf("archived %+v", st)
		}
		for _, tc := range []struct {
			method, path string
			body         any
			status       int
			location     string
		}{
			{"POST", "/v1/inquiry-statuses", map[string]any{"id": "x", "names": map[string]string{"en": "X"}, "kind": "maybe"}, 422, "body.kind"},
			{"POST", "/v1/inquiry-statuses", map[string]any{"id": "Not A Key", "names": map[string]string{"en": "X"}, "kind": "open"}, 422, "body.id"},
			{"POST", "/v1/inquiry-statuses", map[string]any{"id": "won", "names": map[string]string{"en": "X"}, "kind": "won"}, 409, ""},
			{"PATCH", "/v1/inquiry-statuses/won", map[string]any{"archived": true}, 403, ""},
			{"GET", "/v1/inquiry-statuses/nothing", nil, 404, ""},
			{"POST", "/v1/customers/" + cust.ID + "/inquiries", map[string]any{"title": "x", "status": "deposit_paid"}, 422, "body.status"},
		} {
			p := ts.do(tc.method, tc.path, a, tc.body).wantProblem(t, tc.status)
			if tc.location != "" && !p.hasError(tc.location, "") {
				t.Errorf("%s %s: %+v, want an error at %s", tc.method, tc.path, p, tc.location)
			}
		}
	})
}
