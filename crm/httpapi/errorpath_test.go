package httpapi_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/dossiercrm/dossier/crm"
	"github.com/dossiercrm/dossier/crm/httpapi"
	"github.com/dossiercrm/dossier/crm/store/testdb"
)

// TestSchemaErrorsInOurShape checks that errors huma's schema check finds
// before a handler runs have the API's one shape: every failing field with
// location, code and a message in the Accept-Language language.
func TestSchemaErrorsInOurShape(t *testing.T) {
	ts := newTestServer(t, testdb.SQLite)

	p := ts.do("GET", "/v1/customers?limit=abc", ts.keyA, nil, "Accept-Language", "de;q=0.9,en;q=0.1").wantProblem(t, 422)
	if p.Type != "about:blank" || len(p.Errors) != 1 || !p.hasError("query.limit", "type") ||
		p.Errors[0].Field != "limit" || !strings.Contains(p.Errors[0].Message, "muss") {
		t.Errorf("?limit=abc in German: %+v", p)
	}
	if p.Detail != "die Anfrage enthält ungültige Felder" {
		t.Errorf("detail %q", p.Detail)
	}
	// Problems without fields speak the caller's language too.
	if p := ts.do("GET", "/v1/nowhere", ts.keyA, nil, "Accept-Language", "nl-BE").wantProblem(t, 404); !strings.Contains(p.Detail, "bestaat niet") {
		t.Errorf("404 detail %q", p.Detail)
	}
	if p := ts.do("GET", "/v1/customers", "", nil, "Accept-Language", "de").wantProblem(t, 401); !strings.Contains(p.Detail, "API-Schlüssel") {
		t.Errorf("401 detail %q", p.Detail)
	}
	// q-values decide, not the order: English is preferred here.
	p = ts.do("GET", "/v1/customers?limit=abc", ts.keyA, nil, "Accept-Language", "de;q=0.1, en").wantProblem(t, 422)
	if !strings.Contains(p.Errors[0].Message, "must be") {
		t.Errorf("English expected: %+v", p.Errors)
	}
	// A language the catalogue lacks falls to the next preference.
	p = ts.do("GET", "/v1/customers?limit=abc", ts.keyA, nil, "Accept-Language", "ja, nl;q=0.5").wantProblem(t, 422)
	if !strings.Contains(p.Errors[0].Message, "moet") {
		t.Errorf("Dutch expected: %+v", p.Errors)
	}

	cases := []struct {
		name, method, path string
		body               any
		want               map[string]string // location: code
	}{
		{"three bad body fields", "POST", "/v1/customers", `{"lastName": 7, "Company": "X", "nope": 1}`,
			map[string]string{"body.lastName": "type", "body.Company": "unknownMember", "body.nope": "unknownMember"}},
		{"a bad type and a member in the wrong case", "POST", "/v1/customers", `{"lastName": "X", "lastname": "Y", "noPost": "yes"}`,
			map[string]string{"body.lastname": "unknownMember", "body.noPost": "type"}},
		{"an unknown parameter and a bad value", "GET", "/v1/customers?nmae=x&limit=abc", nil,
			map[string]string{"query.nmae": "unknownParameter", "query.limit": "type"}},
		{"range and required", "POST", "/v1/customers/x/points/awards", `{"reason": "x", "note": 1}`,
			map[string]string{"body.points": "required", "body.note": "unknownMember"}},
		{"limit out of range", "GET", "/v1/customers?limit=501", nil, map[string]string{"query.limit": "maxValue"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := ts.do(tc.method, tc.path, ts.keyA, tc.body).wantProblem(t, 422)
			if len(p.Errors) != len(tc.want) {
				t.Errorf("errors %+v, want %v", p.Errors, tc.want)
			}
			for loc, code := range tc.want {
				if !p.hasError(loc, code) {
					t.Errorf("no %s (%s) in %+v", loc, code, p.Errors)
				}
			}
		})
	}
}

// TestUnsupportedMediaTypeDoesNotEchoTheBody sends a large body that is
// not JSON: the answer names Content-Type and is small.
func TestUnsupportedMediaTypeDoesNotEchoTheBody(t *testing.T) {
	ts := newTestServerWith(t, testdb.SQLite, func(o *httpapi.Options) { o.MaxBodyBytes = 2 << 20 })
	body := `{"lastName": "` + strings.Repeat("secret", 1<<20/6) + `"}`
	res := ts.do("POST", "/v1/customers", ts.keyA, body, "Content-Type", "text/plain")
	p := res.wantProblem(t, http.StatusUnsupportedMediaType)
	if len(res.body) > 2000 || strings.Contains(string(res.body), "secret") {
		t.Fatalf("415 of %d bytes echoes the body: %.300s", len(res.body), res.body)
	}
	if !p.hasError("header.Content-Type", "contentType") {
		t.Errorf("415 does not name Content-Type: %+v", p.Errors)
	}
	// A malformed body is not echoed either.
	res = ts.do("POST", "/v1/customers", ts.keyA, `{"lastName": "secret`)
	if p := res.wantProblem(t, http.StatusBadRequest); strings.Contains(string(res.body), "secret") || !p.hasError("body", "json") {
		t.Fatalf("400 echoes the body or names no code: %s", res.body)
	}
}

// TestMethodNotAllowed checks 405 with Allow for a path that exists.
func TestMethodNotAllowed(t *testing.T) {
	ts := newTestServer(t, testdb.SQLite)
	res := ts.do("PUT", "/healthz", ts.keyA, `{}`)
	res.wantProblem(t, http.StatusMethodNotAllowed)
	if allow := res.header.Get("Allow"); allow != "GET, HEAD" {
		t.Errorf("Allow %q", allow)
	}
	res = ts.do("PUT", "/v1/customers", ts.keyA, `{}`)
	res.wantProblem(t, http.StatusMethodNotAllowed)
	if allow := res.header.Get("Allow"); allow != "GET, HEAD, POST" {
		t.Errorf("Allow %q", allow)
	}
	ts.do("GET", "/v1/nothing-here", ts.keyA, nil).wantProblem(t, http.StatusNotFound)
}

// TestEveryCreateHasLocation checks the OpenAPI document (every operation
// answering 201 documents Location, which create sets) and the creates the
// issue found without one.
func TestEveryCreateHasLocation(t *testing.T) {
	ts := newTestServer(t, testdb.SQLite)
	var doc struct {
		Paths map[string]map[string]struct {
			OperationID string `json:"operationId"`
			Responses   map[string]struct {
				Headers map[string]any `json:"headers"`
			} `json:"responses"`
		} `json:"paths"`
	}
	ts.do("GET", "/openapi.json", "", nil).want(t, 200).json(t, &doc)
	creates := 0
	for path, ops := range doc.Paths {
		for method, op := range ops {
			created, ok := op.Responses["201"]
			if !ok {
				continue
			}
			creates++
			if _, ok := created.Headers["Location"]; !ok {
				t.Errorf("%s %s (%s) answers 201 without Location", method, path, op.OperationID)
			}
		}
	}
	if creates < 15 {
		t.Fatalf("only %d operations answer 201", creates)
	}

	key := ts.keyA
	var c crm.Customer
	ts.do("POST", "/v1/customers", key, `{"lastName": "Jansen"}`).want(t, 201).json(t, &c)
	ts.do("PATCH", "/v1/organisation", key, `{"pointsEnabled": true}`).want(t, 200)
	var club crm.Label
	ts.do("POST", "/v1/labels", key, `{"name": "Members", "membership": true}`).want(t, 201).json(t, &club)
	customer := "/v1/customers/" + c.ID
	for _, tc := range []struct{ path, body, prefix string }{
		{"/v1/customers", `{"lastName": "Visser"}`, "/v1/customers/"},
		{customer + "/points/awards", `{"points": 5}`, customer + "/points/transactions/"},
		{"/v1/consent-purposes/newsletter/wordings", `{"language": "nl", "text": "Ja"}`, ""},
		{customer + "/consents", `{"purpose": "post", "state": "granted", "source": "staff"}`, customer + "/consent-log/"},
		{"/v1/memberships", `{"labelId": "` + club.ID + `", "holderId": "` + c.ID + `", "endsOn": "2099-01-01"}`, "/v1/memberships/"},
		{customer + "/reports", ``, "/v1/documents/"},
		{"/v1/tags", `{"name": "Gold"}`, "/v1/tags/"},
		{"/v1/attributes", `{"name": "Diving"}`, "/v1/attributes/"},
		{"/v1/labels", `{"name": "Club"}`, "/v1/labels/"},
		{"/v1/segments", `{"name": "All"}`, "/v1/segments/"},
		{"/v1/custom-fields", `{"key": "shoe_size", "label": "Shoe size", "type": "number"}`, "/v1/custom-fields/shoe_size"},
		{"/v1/document-attributes", `{"name": "Vouchers"}`, "/v1/document-attributes/"},
		{"/v1/consent-purposes", `{"key": "fax", "name": "Fax", "channel": "none"}`, "/v1/consent-purposes/fax"},
	} {
		var body any
		if tc.body != "" {
			body = tc.body
		}
		res := ts.do("POST", tc.path, key, body).want(t, http.StatusCreated)
		var created struct {
			ID string `json:"id"`
		}
		res.json(t, &created)
		loc := res.header.Get("Location")
		if !strings.HasPrefix(loc, tc.prefix) || (strings.HasSuffix(tc.prefix, "/") && loc != tc.prefix+created.ID) {
			t.Errorf("POST %s: Location %q", tc.path, loc)
		}
		// The Location names the resource: a GET of it answers it.
		var got struct {
			ID string `json:"id"`
		}
		ts.do("GET", loc, key, nil).want(t, http.StatusOK).json(t, &got)
		if got.ID != created.ID {
			t.Errorf("GET %s: %q, created %q", loc, got.ID, created.ID)
		}
	}
}

// TestConditionalRequests checks If-Match with * and lists, and
// If-None-Match on a GET.
func TestConditionalRequests(t *testing.T) {
	ts := newTestServer(t, testdb.SQLite)
	key := ts.keyA
	var c crm.Customer
	ts.do("POST", "/v1/customers", key, `{"lastName": "Jansen"}`).want(t, 201).json(t, &c)
	path := "/v1/customers/" + c.ID

	ts.do("PATCH", path, key, `{"firstName": "A"}`, "If-Match", "*").want(t, 200)                    // now 2
	ts.do("PATCH", path, key, `{"firstName": "B"}`, "If-Match", `"1", "2"`).want(t, 200)             // now 3
	ts.do("PATCH", path, key, `{"firstName": "C"}`, "If-Match", `W/"2", "3"`).want(t, 200)           // now 4
	p := ts.do("PATCH", path, key, `{"firstName": "D"}`, "If-Match", `"1", "2"`).wantProblem(t, 412) // stale
	if !p.hasError("header.If-Match", "precondition") {
		t.Errorf("412 does not name If-Match: %+v", p.Errors)
	}
	res := ts.do("GET", path, key, nil).want(t, 200)
	if res.header.Get("ETag") != `"4"` {
		t.Fatalf("ETag %q after three changes", res.header.Get("ETag"))
	}

	res = ts.do("GET", path, key, nil, "If-None-Match", `"4"`)
	if res.status != http.StatusNotModified || len(res.body) != 0 || res.header.Get("ETag") != `"4"` {
		t.Fatalf("If-None-Match of the current version: %d %v %s", res.status, res.header, res.body)
	}
	ts.do("GET", path, key, nil, "If-None-Match", `"3", "2"`).want(t, 200)
	if res := ts.do("GET", path, key, nil, "If-None-Match", `"1", W/"4"`); res.status != http.StatusNotModified {
		t.Fatalf("a list naming the current version: %d", res.status)
	}
	if res := ts.do("GET", path, key, nil, "If-None-Match", `*`); res.status != http.StatusNotModified {
		t.Fatalf("If-None-Match *: %d", res.status)
	}
}

// TestRequestID checks that every response carries X-Request-Id, the
// client's own when well formed, and that a problem names it.
func TestRequestID(t *testing.T) {
	ts := newTestServer(t, testdb.SQLite)
	res := ts.do("GET", "/healthz", "", nil, "X-Request-Id", "client-42:a.b_c")
	if res.header.Get("X-Request-Id") != "client-42:a.b_c" {
		t.Errorf("kept id %q", res.header.Get("X-Request-Id"))
	}
	for _, bad := range []string{"two words", strings.Repeat("x", 129), "a\u00e9", "x;y"} {
		res := ts.do("GET", "/healthz", "", nil, "X-Request-Id", bad)
		if id := res.header.Get("X-Request-Id"); id == "" || id == bad {
			t.Errorf("id %q for the malformed %q", id, bad)
		}
	}
	ids := map[string]bool{}
	for range 3 {
		res := ts.do("GET", "/v1/customers?limit=0", ts.keyA, nil)
		var p struct{ Instance string }
		res.json(t, &p)
		id := res.header.Get("X-Request-Id")
		if id == "" || p.Instance != "urn:request:"+id || ids[id] {
			t.Fatalf("id %q, instance %q", id, p.Instance)
		}
		ids[id] = true
	}
	res = ts.do("GET", "/v1/customers", "", nil, "X-Request-Id", "mine")
	var p struct{ Instance string }
	res.json(t, &p)
	if res.status != 401 || p.Instance != "urn:request:mine" {
		t.Errorf("401 instance %q", p.Instance)
	}
	res = ts.do("GET", "/v1/nowhere", "", nil, "X-Request-Id", "mine")
	res.json(t, &p)
	if res.status != 404 || p.Instance != "urn:request:mine" {
		t.Errorf("404 instance %q", p.Instance)
	}
}

// syncBuffer is a log destination safe for the server's goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestLogsHoldNoPersonalData captures the request log: it names route
// patterns and ids, never an address from the path or query.
func TestLogsHoldNoPersonalData(t *testing.T) {
	var logs syncBuffer
	logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	ts := newTestServerWith(t, testdb.SQLite, func(o *httpapi.Options) { o.Logger = logger })
	var c crm.Customer
	ts.do("POST", "/v1/customers", ts.keyA, `{"lastName": "Jansen", "altEmails": ["someone@example.nl"]}`).want(t, 201).json(t, &c)
	ts.do("DELETE", "/v1/customers/"+c.ID+"/alt-emails/someone@example.nl", ts.keyA, nil, "X-Request-Id", "req-1").want(t, 200)
	ts.do("GET", "/v1/customers?email=someone@example.nl", ts.keyA, nil).want(t, 200)
	ts.do("DELETE", "/v1/customers/"+c.ID+"/alt-emails/other@example.nl", ts.keyA, nil).want(t, 404)
	ts.do("GET", "/healthz", "", nil).want(t, 200)
	ts.do("GET", "/readyz", "", nil).want(t, 200)

	out := logs.String()
	for _, leak := range []string{"someone", "other@example", "example.nl", "Jansen"} {
		if strings.Contains(out, leak) {
			t.Errorf("the log holds %q:\n%s", leak, out)
		}
	}
	var found bool
	for line := range strings.SplitSeq(strings.TrimSpace(out), "\n") {
		var entry map[string]any
		if err := json.Unmarshal([]byte(line), &entry); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if entry["request_id"] == "req-1" {
			found = entry["route"] == "DELETE /v1/customers/{id}/alt-emails/{email}" && entry["org"] == "org-a" && entry["status"] == 200.0
		}
		if r, _ := entry["route"].(string); strings.Contains(r, "healthz") || strings.Contains(r, "readyz") {
			t.Errorf("a health probe is logged at info: %s", line)
		}
	}
	if !found {
		t.Errorf("no line for the delete with its route pattern:\n%s", out)
	}
}

// TestAuthThrottle checks that repeated failed authentication from one
// address is slowed down and that other addresses are not.
func TestAuthThrottle(t *testing.T) {
	ts := newTestServerWith(t, testdb.SQLite, func(o *httpapi.Options) {
		o.AuthFailureBurst, o.AuthFailureInterval = 3, time.Hour
	})
	call := func(addr, key string) *httptest.ResponseRecorder {
		req := httptest.NewRequest("GET", "/v1/organisation", nil)
		req.RemoteAddr = addr
		if key != "" {
			req.Header.Set("Authorization", "Bearer "+key)
		}
		rec := httptest.NewRecorder()
		ts.handler.ServeHTTP(rec, req)
		return rec
	}
	for i := range 3 {
		if rec := call("192.0.2.1:1000", "wrong"); rec.Code != 401 {
			t.Fatalf("failure %d: %d", i+1, rec.Code)
		}
	}
	rec := call("192.0.2.1:1001", "wrong")
	if rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") == "" || rec.Header().Get("Retry-After") == "0" {
		t.Fatalf("fourth failure: %d, Retry-After %q", rec.Code, rec.Header().Get("Retry-After"))
	}
	if rec := call("192.0.2.1:1002", ""); rec.Code != http.StatusTooManyRequests {
		t.Fatalf("the throttled address without a key: %d", rec.Code)
	}
	if rec := call("198.51.100.7:1000", ts.keyA); rec.Code != 200 {
		t.Fatalf("another address with a key: %d", rec.Code)
	}
	if rec := call("198.51.100.7:1000", "wrong"); rec.Code != 401 {
		t.Fatalf("another address with a wrong key: %d", rec.Code)
	}

	// Behind a trusted proxy the header names the client.
	proxied := newTestServerWith(t, testdb.SQLite, func(o *httpapi.Options) {
		o.AuthFailureBurst, o.AuthFailureInterval, o.ClientAddressHeader = 1, time.Hour, "X-Forwarded-For"
	})
	proxied.do("GET", "/v1/organisation", "wrong", nil, "X-Forwarded-For", "203.0.113.5, 10.0.0.1").want(t, 401)
	proxied.do("GET", "/v1/organisation", "wrong", nil, "X-Forwarded-For", "203.0.113.5").wantProblem(t, 429)
	proxied.do("GET", "/v1/organisation", proxied.keyA, nil, "X-Forwarded-For", "203.0.113.6").want(t, 200)
}

// TestCORS checks that CORS is off by default and answers preflights for
// the configured origins.
func TestCORS(t *testing.T) {
	preflight := func(ts *testServer, origin string) response {
		return ts.do("OPTIONS", "/v1/customers", "", nil, "Origin", origin,
			"Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", "authorization, content-type")
	}
	off := newTestServer(t, testdb.SQLite)
	if res := preflight(off, "https://app.example"); res.header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("CORS answered without origins configured: %v", res.header)
	}
	if res := off.do("GET", "/v1/customers", off.keyA, nil, "Origin", "https://app.example"); res.header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("CORS header without origins configured: %v", res.header)
	}

	on := newTestServerWith(t, testdb.SQLite, func(o *httpapi.Options) { o.CORSOrigins = []string{"https://app.example"} })
	res := preflight(on, "https://app.example")
	if res.status/100 != 2 || res.header.Get("Access-Control-Allow-Origin") != "https://app.example" ||
		!strings.Contains(res.header.Get("Access-Control-Allow-Methods"), "POST") ||
		!strings.Contains(strings.ToLower(res.header.Get("Access-Control-Allow-Headers")), "authorization") {
		t.Fatalf("preflight: %d %v", res.status, res.header)
	}
	res = on.do("GET", "/v1/customers", on.keyA, nil, "Origin", "https://app.example").want(t, 200)
	if res.header.Get("Access-Control-Allow-Origin") != "https://app.example" ||
		!strings.Contains(res.header.Get("Access-Control-Expose-Headers"), "X-Request-Id") {
		t.Fatalf("CORS headers of a request: %v", res.header)
	}
	if res := preflight(on, "https://evil.example"); res.header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("another origin allowed: %v", res.header)
	}
}

// TestNewChangesNoGlobalState checks that New leaves huma's process-wide
// switches alone while this API still refuses members in the wrong case.
func TestNewChangesNoGlobalState(t *testing.T) {
	ts := newTestServer(t, testdb.SQLite)
	if huma.ValidateStrictCasing {
		t.Fatal("New set huma.ValidateStrictCasing")
	}
	p := ts.do("POST", "/v1/customers", ts.keyA, `{"lastName": "X", "address": {"City": "Utrecht"}}`).wantProblem(t, 422)
	if !p.hasError("body.address.City", "unknownMember") {
		t.Fatalf("a nested member in the wrong case: %+v", p.Errors)
	}
}
