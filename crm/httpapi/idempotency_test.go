package httpapi_test

import (
	"bytes"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/dossiercrm/dossier/crm"
	"github.com/dossiercrm/dossier/crm/store/testdb"
)

// TestIdempotentCreateCustomer: a repeated POST /v1/customers with the
// same Idempotency-Key is answered with the first answer and creates
// nothing; another request with the key is 409; keys are per organisation.
func TestIdempotentCreateCustomer(t *testing.T) {
	testdb.Each(t, func(t *testing.T, open testdb.Opener) {
		t.Parallel()
		ts := newTestServer(t, open)
		a, b := ts.keyA, ts.keyB
		var before crm.Customer
		ts.do("POST", "/v1/customers", a, map[string]any{"lastName": "Before"}).want(t, http.StatusCreated).json(t, &before)

		body := map[string]any{"firstName": "Anna", "lastName": "Once", "email": "anna@a.example"}
		first := ts.do("POST", "/v1/customers", a, body, "Idempotency-Key", "order-4711").want(t, http.StatusCreated)
		if first.header.Get("Idempotent-Replayed") != "" {
			t.Fatal("the first answer says it is replayed")
		}
		var created crm.Customer
		first.json(t, &created)
		// The same request in other JSON (order, spacing) is the same request.
		again := ts.do("POST", "/v1/customers", a, `{"email":"anna@a.example",  "lastName":"Once","firstName":"Anna"}`,
			"Idempotency-Key", "order-4711").want(t, http.StatusCreated)
		if !bytes.Equal(again.body, first.body) || again.header.Get("Location") != first.header.Get("Location") ||
			again.header.Get("Idempotent-Replayed") != "true" {
			t.Fatalf("repeat: %s %v\nfirst: %s %v", again.body, again.header, first.body, first.header)
		}
		// A change after the create does not change the repeat's answer.
		ts.do("PATCH", "/v1/customers/"+created.ID, a, map[string]any{"firstName": "Anne"}, "If-Match", "*").want(t, http.StatusOK)
		if again := ts.do("POST", "/v1/customers", a, body, "Idempotency-Key", "order-4711").want(t, http.StatusCreated); !bytes.Equal(again.body, first.body) {
			t.Fatalf("repeat after a change: %s", again.body)
		}

		// The key with another request is 409, naming the header.
		p := ts.do("POST", "/v1/customers", a, map[string]any{"lastName": "Other"}, "Idempotency-Key", "order-4711").wantProblem(t, http.StatusConflict)
		if !p.hasError("header.Idempotency-Key", "") {
			t.Fatalf("conflict %+v", p)
		}
		// Keys that are not 1-255 printable ASCII characters are 422.
		for _, key := range []string{"", "tab\there", strings.Repeat("k", 256)} {
			p := ts.do("POST", "/v1/customers", a, body, "Idempotency-Key", key).wantProblem(t, http.StatusUnprocessableEntity)
			if !p.hasError("header.Idempotency-Key", "") {
				t.Fatalf("key %q: %+v", key, p)
			}
		}
		// B's request with A's key is B's own.
		var inB crm.Customer
		ts.do("POST", "/v1/customers", b, body, "Idempotency-Key", "order-4711").want(t, http.StatusCreated).json(t, &inB)
		if inB.ID == created.ID || inB.Language != "de" {
			t.Fatalf("B's create with A's key: %+v", inB)
		}

		// Concurrent repeats: one customer; each answer is the first or 409.
		var wg sync.WaitGroup
		answers := make([]response, 8)
		for i := range answers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				answers[i] = ts.do("POST", "/v1/customers", a, map[string]any{"lastName": "Raced"}, "Idempotency-Key", "raced")
			}()
		}
		wg.Wait()
		var winner []byte
		for _, r := range answers {
			switch {
			case r.status == http.StatusConflict:
			case r.status != http.StatusCreated:
				t.Fatalf("concurrent repeat: %d %s", r.status, r.body)
			case winner == nil:
				winner = r.body
			case !bytes.Equal(r.body, winner):
				t.Fatalf("two answers: %s and %s", winner, r.body)
			}
		}
		// Customers before: Before, Anna; this probe must be the third.
		var probe crm.Customer
		ts.do("POST", "/v1/customers", a, map[string]any{"lastName": "Probe"}).want(t, http.StatusCreated).json(t, &probe)
		if probe.Number != before.Number+3 {
			t.Fatalf("probe has number %d after %d: a key created more than once", probe.Number, before.Number)
		}
	})
}

// TestIdempotentCreateRoutes repeats a POST of every create (201) route
// with one Idempotency-Key: the repeat is the first answer, replayed, and
// the route's OpenAPI operation documents the header. A create route added
// without a case here fails the test.
func TestIdempotentCreateRoutes(t *testing.T) {
	testdb.Each(t, func(t *testing.T, open testdb.Opener) {
		t.Parallel()
		ts := newTestServer(t, open)
		a := ts.keyA
		idOf := func(res response) string {
			var v struct{ ID string }
			res.json(t, &v)
			return v.ID
		}
		customer := idOf(ts.do("POST", "/v1/customers", a, map[string]any{"lastName": "Holder", "email": "holder@a.example"}).want(t, http.StatusCreated))
		club := idOf(ts.do("POST", "/v1/labels", a, map[string]any{"name": "Club", "membership": true}).want(t, http.StatusCreated))
		ts.do("PATCH", "/v1/organisation", a, map[string]any{"pointsEnabled": true}).want(t, http.StatusOK)
		points := "/v1/customers/" + customer + "/points"
		award := idOf(ts.do("POST", points+"/awards", a, map[string]any{"points": 100}).want(t, http.StatusCreated))
		var pending crm.PendingConsent
		ts.do("POST", "/v1/customers/"+customer+"/consents/double-opt-in", a, map[string]any{"purpose": "commercial_email", "source": "web_form"}).
			want(t, http.StatusCreated).json(t, &pending)

		ts.do("PUT", "/v1/bookings/ONCE-1", a, tripBody(customer, "2027-01-01", 100)).want(t, http.StatusCreated)
		ts.do("PATCH", "/v1/portal/settings", a, map[string]any{"contestsEnabled": true}).want(t, http.StatusOK)
		contest := idOf(ts.do("POST", "/v1/contests", a, map[string]any{"name": "C", "question": "?", "startsOn": "2000-01-01", "endsOn": "2999-12-31"}).
			want(t, http.StatusCreated))
		inquiry := idOf(ts.do("POST", "/v1/customers/"+customer+"/inquiries", a, map[string]any{"title": "Commented"}).want(t, http.StatusCreated))
		cases := []struct {
			op, path string
			body     any
		}{
			{"createCustomer", "/v1/customers", map[string]any{"lastName": "Once"}},
			{"defineCustomField", "/v1/custom-fields", map[string]any{"key": "room", "label": "Room", "type": "text"}},
			{"definetag", "/v1/tags", map[string]any{"name": "Once"}},
			{"defineattribute", "/v1/attributes", map[string]any{"name": "Once"}},
			{"defineLabel", "/v1/labels", map[string]any{"name": "Once"}},
			{"startMembership", "/v1/memberships", map[string]any{"labelId": club, "holderId": customer, "endsOn": "2099-12-31"}},
			{"createSegment", "/v1/segments", map[string]any{"name": "Once", "filter": map[string]any{"name": "once"}}},
			{"defineConsentPurpose", "/v1/consent-purposes", map[string]any{"key": "once", "name": "Once", "channel": "email"}},
			{"setConsentWording", "/v1/consent-purposes/newsletter/wordings", map[string]any{"language": "nl", "text": "Ja, één keer."}},
			{"recordCustomerConsent", "/v1/customers/" + customer + "/consents", map[string]any{"purpose": "newsletter", "state": "granted", "source": "staff"}},
			{"requestCustomerConsentConfirmation", "/v1/customers/" + customer + "/consents/double-opt-in", map[string]any{"purpose": "commercial_email", "source": "web_form"}},
			{"confirmConsent", "/v1/consent-confirmations", map[string]any{"token": pending.Token}},
			{"fileCustomerReport", "/v1/customers/" + customer + "/reports", nil},
			{"defineDocumentAttribute", "/v1/document-attributes", map[string]any{"name": "Once"}},
			{"addMailTemplate", "/v1/mail-templates", map[string]any{"key": "once", "language": "nl", "subject": "Eén", "text": "Eén keer"}},
			{"awardCustomerPoints", points + "/awards", map[string]any{"points": 5}},
			{"redeemCustomerPoints", points + "/redemptions", map[string]any{"points": 5}},
			{"correctCustomerPoints", points + "/corrections", map[string]any{"points": 5, "reason": "Once"}},
			{"reverseCustomerPointTransaction", points + "/transactions/" + award + "/reversal", nil},
			{"recordBookingReminder", "/v1/bookings/ONCE-1/reminders", map[string]any{"channel": "phone"}},
			{"recordInteraction", "/v1/interactions", map[string]any{"kind": "newsletter", "source": "website", "emails": []string{"once@a.example"}}},
			{"defineForm", "/v1/forms", map[string]any{"key": "once", "name": "Once", "fields": []map[string]any{{"field": "emails", "required": true}}}},
			{"createStaff", "/v1/staff", map[string]any{"name": "Once", "role": "staff"}},
			{"createDepartment", "/v1/departments", map[string]any{"name": "Once"}},
			{"createCustomerPortalAccount", "/v1/customers/" + customer + "/portal-account", nil},
			{"createContest", "/v1/contests", map[string]any{"name": "Once", "question": "?", "startsOn": "2000-01-01", "endsOn": "2999-12-31"}},
			{"enterContest", "/v1/contests/" + contest + "/entries", map[string]any{"customerId": customer, "answer": "Once"}},
			{"requestBrochures", "/v1/customers/" + customer + "/brochure-requests", map[string]any{"brochures": []string{"Once"}, "source": "site"}},
			{"startMailing", "/v1/mailings", map[string]any{"template": "set_password"}},
			{"defineNoteType", "/v1/note-types", map[string]any{"names": map[string]string{"en": "Once"}}},
			{"defineInquiryStatus", "/v1/inquiry-statuses", map[string]any{"id": "once", "names": map[string]string{"en": "Once"}, "kind": "open"}},
			{"addCustomerNote", "/v1/customers/" + customer + "/notes", map[string]any{"typeId": "visit", "text": "Once"}},
			{"createTask", "/v1/tasks", map[string]any{"title": "Once", "dueOn": "2030-01-01", "customerId": customer}},
			{"createInquiry", "/v1/customers/" + customer + "/inquiries", map[string]any{"title": "Once"}},
			{"createCustomerInquiry", "/v1/customer-inquiries", map[string]any{"customer": map[string]any{"lastName": "Once"},
				"inquiry": map[string]any{"title": "Once"}}},
			{"commentInquiry", "/v1/inquiries/" + inquiry + "/comments", map[string]any{"comment": "Once"}},
		}
		// The uploads stream their bodies: they are not idempotent (docs/http-api.md).
		tested := map[string]bool{"uploadCustomerDocument": true, "startImport": true}
		for _, c := range cases {
			tested[c.op] = true
			key := "once-" + c.op
			first := ts.do("POST", c.path, a, c.body, "Idempotency-Key", key).want(t, http.StatusCreated)
			again := ts.do("POST", c.path, a, c.body, "Idempotency-Key", key)
			if again.status != http.StatusCreated || !bytes.Equal(again.body, first.body) || again.header.Get("Idempotent-Replayed") != "true" ||
				again.header.Get("Location") != first.header.Get("Location") {
				t.Errorf("%s: repeat %d %s %v\nfirst %s %v", c.op, again.status, again.body, again.header, first.body, first.header)
			}
		}

		var doc struct {
			Paths map[string]map[string]struct {
				OperationID string `json:"operationId"`
				Parameters  []struct{ Name, In string }
				Responses   map[string]any
			} `json:"paths"`
		}
		ts.do("GET", "/openapi.json", "", nil).want(t, http.StatusOK).json(t, &doc)
		for _, ops := range doc.Paths {
			for _, op := range ops {
				if op.Responses["201"] == nil {
					continue
				}
				if !tested[op.OperationID] {
					t.Errorf("create route %s has no idempotency case", op.OperationID)
				}
				documented := false
				for _, p := range op.Parameters {
					documented = documented || p.In == "header" && p.Name == "Idempotency-Key"
				}
				if !documented && op.OperationID != "uploadCustomerDocument" && op.OperationID != "startImport" {
					t.Errorf("%s does not document Idempotency-Key", op.OperationID)
				}
			}
		}
	})
}
