package httpapi_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/dossiercrm/dossier/crm"
	"github.com/dossiercrm/dossier/crm/store/testdb"
)

// TestInquiries drives inquiries over HTTP: create (also with a new
// customer), read, change with If-Match, comment, history, lists and
// counts; another staff user cannot see a private one; bad input is 422
// naming the field.
func TestInquiries(t *testing.T) {
	testdb.Each(t, func(t *testing.T, open testdb.Opener) {
		t.Parallel()
		ts := newTestServer(t, open)
		a := ts.keyA
		var c crm.Customer
		ts.do("POST", "/v1/customers", a, map[string]any{"lastName": "Nowak"}).want(t, http.StatusCreated).json(t, &c)
		var q crm.Inquiry
		res := ts.do("POST", "/v1/customers/"+c.ID+"/inquiries", a, map[string]any{"title": "Kreta", "destination": "Kreta",
			"travellers": 4, "budget": map[string]any{"amount": 1200000, "currency": "PLN"}, "plannedOn": "2099-01-01", "visibility": "me"}).
			want(t, http.StatusCreated)
		res.json(t, &q)
		if res.header.Get("Location") != "/v1/inquiries/"+q.ID || res.header.Get("ETag") != `"1"` || q.Status != crm.InquiryNew {
			t.Fatalf("created %+v %v", q, res.header)
		}
		ts.do("GET", "/v1/inquiries/"+q.ID, a, nil).want(t, http.StatusOK)
		ts.do("PATCH", "/v1/inquiries/"+q.ID, a, map[string]any{"status": "offer_sent"}).wantProblem(t, http.StatusPreconditionRequired)
		ts.do("PATCH", "/v1/inquiries/"+q.ID, a, map[string]any{"status": "offer_sent"}, "If-Match", `"7"`).wantProblem(t, http.StatusPreconditionFailed)
		ts.do("PATCH", "/v1/inquiries/"+q.ID, a, map[string]any{"status": "offer_sent"}, "If-Match", `"1"`).want(t, http.StatusOK)
		ts.do("POST", "/v1/inquiries/"+q.ID+"/comments", a, map[string]any{"comment": "Zadzwonić w piątek"}).want(t, http.StatusCreated)
		var hist struct{ Items []crm.InquiryEvent }
		ts.do("GET", "/v1/inquiries/"+q.ID+"/history", a, nil).want(t, http.StatusOK).json(t, &hist)
		if len(hist.Items) != 3 {
			t.Fatalf("history %+v", hist.Items)
		}
		var page crm.Page[crm.Inquiry]
		ts.do("GET", "/v1/inquiries?status=offer_sent&customerId="+c.ID, a, nil).want(t, http.StatusOK).json(t, &page)
		if len(page.Items) != 1 {
			t.Fatalf("list %+v", page)
		}
		var n struct{ Count int64 }
		ts.do("GET", "/v1/inquiries/count?open=true", a, nil).want(t, http.StatusOK).json(t, &n)
		if n.Count != 1 {
			t.Fatalf("count %d", n.Count)
		}
		var ci crm.CustomerInquiry
		ts.do("POST", "/v1/customer-inquiries", a, map[string]any{"customer": map[string]any{"lastName": "Kowalski"},
			"inquiry": map[string]any{"title": "Narty"}}).want(t, http.StatusCreated).json(t, &ci)
		if ci.Inquiry == nil || ci.Inquiry.CustomerID != ci.Customer.ID {
			t.Fatalf("customer with inquiry %+v", ci)
		}
		var due struct{ Items []crm.Inquiry }
		ts.do("GET", "/v1/inquiries/due", a, nil).want(t, http.StatusOK).json(t, &due)

		// Another staff user of A with a key of its own cannot see the private inquiry.
		sys := crm.WithActor(crm.WithOrg(context.Background(), "org-a"), crm.System())
		other, err := ts.crm.Staff.Create(sys, crm.NewStaffUser{Name: "Olek", Role: crm.RoleStaff})
		if err != nil {
			t.Fatal(err)
		}
		_, key, err := ts.crm.APIKeys.Create(sys, crm.NewAPIKey{Name: "olek", StaffUser: other.ID})
		if err != nil {
			t.Fatal(err)
		}
		ts.do("GET", "/v1/inquiries/"+q.ID, key, nil).wantProblem(t, http.StatusNotFound)
		ts.do("GET", "/v1/inquiries/"+q.ID+"/history", key, nil).wantProblem(t, http.StatusNotFound)
		ts.do("POST", "/v1/inquiries/"+q.ID+"/comments", key, map[string]any{"comment": "?"}).wantProblem(t, http.StatusNotFound)
		ts.do("PATCH", "/v1/inquiries/"+q.ID, key, map[string]any{"status": "lost"}, "If-Match", "*").wantProblem(t, http.StatusNotFound)
		if body := ts.do("GET", "/v1/inquiries?customerId="+c.ID, key, nil).want(t, http.StatusOK).body; strings.Contains(string(body), q.ID) {
			t.Fatalf("the other staff user lists the private inquiry: %s", body)
		}
		if body := ts.do("GET", "/v1/customers/"+c.ID+"/export", key, nil).want(t, http.StatusOK).body; strings.Contains(string(body), q.ID) {
			t.Fatalf("the other staff user's export holds the private inquiry: %s", body)
		}

		for _, tc := range []struct {
			method, path string
			body         any
			status       int
			location     string
		}{
			{"POST", "/v1/customers/" + c.ID + "/inquiries", map[string]any{"status": "maybe"}, 422, "body.status"},
			{"POST", "/v1/customers/" + c.ID + "/inquiries", map[string]any{"visibility": "person"}, 422, "body.visibleTo"},
			{"POST", "/v1/customers/" + c.ID + "/inquiries", map[string]any{"handlerId": "nobody"}, 422, "body.handlerId"},
			{"POST", "/v1/customers/" + c.ID + "/inquiries", map[string]any{"title": "a\u0000b"}, 422, "body.title"},
			{"POST", "/v1/customers/" + c.ID + "/inquiries", map[string]any{"travellers": "four"}, 422, "body.travellers"},
			{"POST", "/v1/customers/" + c.ID + "/inquiries", map[string]any{"colour": "red"}, 422, ""},
			{"POST", "/v1/customers/not-a-uuid/inquiries", map[string]any{}, 404, ""},
			{"POST", "/v1/customer-inquiries", map[string]any{"customer": map[string]any{"email": "x"}, "inquiry": map[string]any{}}, 422, "body.customer.email"},
			{"POST", "/v1/customer-inquiries", map[string]any{"customer": map[string]any{"lastName": "X"}, "inquiry": map[string]any{"visibility": "x"}}, 422, "body.inquiry.visibility"},
			{"GET", "/v1/inquiries?status=maybe", nil, 422, "query.status[0]"},
			{"GET", "/v1/inquiries?plannedFrom=2026-02-30", nil, 422, "query.plannedFrom"},
			{"GET", "/v1/inquiries?cursor=garbage", nil, 422, "query.cursor"},
			{"GET", "/v1/inquiries?customerId=nope", nil, 422, "query.customerId"},
			{"GET", "/v1/inquiries/count?search=%C3%28", nil, 422, "query.search"},
			{"GET", "/v1/inquiries/not-a-uuid", nil, 404, ""},
			{"POST", "/v1/inquiries/" + q.ID + "/comments", map[string]any{"comment": ""}, 422, "body.comment"},
		} {
			p := ts.do(tc.method, tc.path, a, tc.body).wantProblem(t, tc.status)
			if tc.location != "" && !p.hasError(tc.location, "") {
				t.Errorf("%s %s: %+v, want an error at %s", tc.method, tc.path, p, tc.location)
			}
		}
	})
}

// inquiryProbes are the isolation probes of the inquiry routes: B's
// inquiry, even company-wide, is not found for A, and B's customer cannot
// get one from A.
func inquiryProbes(ts *testServer, bCustomer, bInquiry string) map[string]func(t *testing.T) {
	a := ts.keyA
	notFound := func(method, path string, body any, headers ...string) func(t *testing.T) {
		return func(t *testing.T) { ts.do(method, path, a, body, headers...).wantProblem(t, http.StatusNotFound) }
	}
	none := func(path string) func(t *testing.T) {
		return func(t *testing.T) {
			body := string(ts.do("GET", path, a, nil).want(t, http.StatusOK).body)
			if strings.Contains(body, bInquiry) {
				t.Fatalf("A's %s shows B's inquiry", path)
			}
		}
	}
	// B's own pipeline status is unknown to A.
	bStatus := "geheim_status"
	if _, err := ts.crm.Inquiries.DefineStatus(crm.WithActor(crm.WithOrg(context.Background(), "org-b"), crm.System()),
		crm.NewPipelineStatus{ID: crm.InquiryStatus(bStatus), Names: map[string]string{"de": "Geheim"}, Kind: crm.PipelineOpen}); err != nil {
		panic(err)
	}
	return map[string]func(t *testing.T){
		"GET /v1/inquiry-statuses": func(t *testing.T) {
			if body := string(ts.do("GET", "/v1/inquiry-statuses", a, nil).want(t, http.StatusOK).body); strings.Contains(body, bStatus) {
				t.Fatal("A's pipeline shows B's status")
			}
		},
		"GET /v1/inquiry-statuses/{id}":   notFound("GET", "/v1/inquiry-statuses/"+bStatus, nil),
		"PATCH /v1/inquiry-statuses/{id}": notFound("PATCH", "/v1/inquiry-statuses/"+bStatus, map[string]any{"archived": true}),
		"POST /v1/inquiry-statuses": func(t *testing.T) {
			// A may add a status of the same key: keys are per organisation.
			ts.do("POST", "/v1/inquiry-statuses", a, map[string]any{"id": bStatus, "names": map[string]string{"en": "Mine"}, "kind": "won"}).
				want(t, http.StatusCreated)
		},
		"GET /v1/inquiries": func(t *testing.T) {
			none("/v1/inquiries")(t)
			none("/v1/inquiries?search=geheim")(t)
			none("/v1/inquiries?customerId=" + bCustomer)(t)
		},
		"GET /v1/inquiries/count": func(t *testing.T) {
			var n struct{ Count int64 }
			ts.do("GET", "/v1/inquiries/count?search=geheim", a, nil).want(t, http.StatusOK).json(t, &n)
			if n.Count != 0 {
				t.Fatalf("A counts %d of B's inquiries", n.Count)
			}
		},
		"GET /v1/inquiries/due":             none("/v1/inquiries/due"),
		"GET /v1/inquiries/{id}":            notFound("GET", "/v1/inquiries/"+bInquiry, nil),
		"PATCH /v1/inquiries/{id}":          notFound("PATCH", "/v1/inquiries/"+bInquiry, map[string]any{"status": "lost"}, "If-Match", "*"),
		"POST /v1/inquiries/{id}/comments":  notFound("POST", "/v1/inquiries/"+bInquiry+"/comments", map[string]any{"comment": "x"}),
		"GET /v1/inquiries/{id}/history":    notFound("GET", "/v1/inquiries/"+bInquiry+"/history", nil),
		"POST /v1/customers/{id}/inquiries": notFound("POST", "/v1/customers/"+bCustomer+"/inquiries", map[string]any{"title": "x"}),
		"POST /v1/customer-inquiries": func(t *testing.T) {
			var ci crm.CustomerInquiry
			ts.do("POST", "/v1/customer-inquiries", a, map[string]any{"customer": map[string]any{"lastName": "Geheim"},
				"inquiry": map[string]any{"title": "geheim"}}).want(t, http.StatusCreated).json(t, &ci)
			ts.do("DELETE", "/v1/customers/"+ci.Customer.ID, a, nil).want(t, http.StatusNoContent)
		},
	}
}
