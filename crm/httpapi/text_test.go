package httpapi_test

import (
	"net/http"
	"testing"

	"github.com/dossiercrm/dossier/crm"
	"github.com/dossiercrm/dossier/crm/store/testdb"
)

// TestBadText sends text the library refuses (control characters, invalid
// UTF-8 in any spelling, dates out of range, addresses no mail server
// takes, another organisation's ids, undeclared template keys) and checks
// for a 422 naming the field and the rule, never a 500, on both databases.
func TestBadText(t *testing.T) {
	testdb.Each(t, func(t *testing.T, open testdb.Opener) {
		t.Parallel()
		ts := newTestServer(t, open)
		key := ts.keyA
		var c crm.Customer
		ts.do("POST", "/v1/customers", key, map[string]any{"lastName": "Jansen", "loginEmail": "andré@example.nl"}).
			want(t, http.StatusCreated).json(t, &c)
		var bTag crm.Qualifier
		ts.do("POST", "/v1/tags", ts.keyB, map[string]any{"name": "Geheim"}).want(t, http.StatusCreated).json(t, &bTag)
		customer := "/v1/customers/" + c.ID

		for _, tc := range []struct {
			name, method, path string
			body               any
			headers            []string
			status             int
			location, code     string
		}{
			{"NUL in a name", "POST", "/v1/customers", `{"firstName": "a\u0000b", "lastName": "X"}`, nil, 422, "body.firstName", "control"},
			{"NUL in remarks", "PATCH", customer, `{"remarks": "x\u0000y"}`, []string{"If-Match", `"1"`}, 422, "body.remarks", "control"},
			{"escape in a street", "POST", "/v1/customers", `{"lastName": "X", "address": {"street": "a\u001bb"}}`, nil, 422, "body.address.street", "control"},
			{"NUL in a tag", "POST", "/v1/tags", `{"name": "t\u0000"}`, nil, 422, "body.name", "control"},
			{"NUL in a query", "GET", "/v1/customers/count?email=%00", nil, nil, 422, "query.email", "control"},
			{"invalid UTF-8 in a query", "GET", "/v1/customers?name=%ff%fe", nil, nil, 422, "query.name", "utf8"},
			{"raw invalid bytes", "POST", "/v1/customers", "{\"lastName\": \"M\xff\xfeller\"}", nil, 422, "body.lastName", "utf8"},
			{"overlong slash", "POST", "/v1/customers", "{\"lastName\": \"a\xc0\xafb\"}", nil, 422, "body.lastName", "utf8"},
			{"encoded surrogate", "POST", "/v1/customers", "{\"lastName\": \"\xed\xa0\x80\"}", nil, 422, "body.lastName", "utf8"},
			{"lone surrogate escape", "POST", "/v1/customers", `{"lastName": "\ud800"}`, nil, 422, "body.lastName", "utf8"},
			{"lone low surrogate escape", "POST", "/v1/customers", `{"lastName": "X", "address": {"city": "a\uDC00"}}`, nil, 422, "body.address.city", "utf8"},
			{"surrogate in a list", "POST", "/v1/customers", `{"lastName": "X", "phones": [{"number": "0612345678"}, {"number": "\ud800\u0041"}]}`, nil, 422,
				"body.phones[1].number", "utf8"},
			{"invalid bytes in a patch", "PATCH", customer, "{\"remarks\": \"\xff\"}", []string{"If-Match", `"1"`}, 422, "body.remarks", "utf8"},
			{"invalid bytes in a member name", "POST", "/v1/customers", "{\"last\xffName\": \"X\"}", nil, 422, "body", "utf8"},
			{"same login e-mail in another normal form", "POST", "/v1/customers", `{"lastName": "Y", "loginEmail": "andre\u0301@example.nl"}`, nil, 409,
				"body.loginEmail", "conflict"},
			{"year 0", "POST", "/v1/customers", `{"lastName": "X", "birthDate": "0000-01-01"}`, nil, 422, "body.birthDate", "dateRange"},
			{"year 10000", "POST", "/v1/customers", `{"lastName": "X", "birthDate": "10000-01-01"}`, nil, 422, "body.birthDate", ""},
			{"year 0 in a filter", "GET", "/v1/customers?birthDate=0000-01-01", nil, nil, 422, "query.birthDate", ""},
			{"year 0 in a patch", "PATCH", customer, `{"passportExpiry": "0000-12-31"}`, []string{"If-Match", `"1"`}, 422, "body.passportExpiry", "dateRange"},
			{"domain with a leading hyphen", "POST", "/v1/customers", `{"lastName": "X", "email": "anna@-example.nl"}`, nil, 422, "body.email", "email"},
			{"domain without a dot", "POST", "/v1/customers", `{"lastName": "X", "loginEmail": "anna@localhost"}`, nil, 422, "body.loginEmail", "email"},
			{"another organisation's tag in a segment", "POST", "/v1/segments", map[string]any{"name": "S", "filter": map[string]any{
				"tags": map[string]any{"any": []string{bTag.ID}}}}, nil, 422, "body.filter.tags.any[0]", "unknown"},
			{"another organisation's tag in a list", "GET", "/v1/customers?tag=" + bTag.ID, nil, nil, 422, "query.tags.any[0]", "unknown"},
			{"undeclared template key", "PUT", "/v1/mail-templates/nope/en", `{"subject": "Hi", "text": "x"}`, nil, 422, "path.key", "unknown"},
			{"NUL in a template key", "PUT", "/v1/mail-templates/no%00pe/en", `{"subject": "Hi", "text": "x"}`, nil, 422, "path.key", "control"},
			{"NUL in a template key to delete", "DELETE", "/v1/mail-templates/no%00pe/en", nil, nil, 422, "path.key", "control"},
			{"two-line subject", "PUT", "/v1/mail-templates/document_delivery/nl", `{"subject": "Hi\nBcc: x@example.nl", "text": "x"}`, nil, 422,
				"body.subject", "control"},
			{"declare a built-in key", "POST", "/v1/mail-templates", `{"key": "set_password", "language": "nl", "subject": "Hi", "text": "x"}`, nil, 409,
				"body.key", "conflict"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				p := ts.do(tc.method, tc.path, key, tc.body, tc.headers...).wantProblem(t, tc.status)
				if !p.hasError(tc.location, tc.code) {
					t.Fatalf("problem does not name %s (%s): %+v", tc.location, tc.code, p.Errors)
				}
			})
		}

		// Valid text passes: a surrogate pair, tabs and line breaks in
		// free text; names come back in NFC.
		var ok crm.Customer
		ts.do("POST", "/v1/customers", key, `{"firstName": "Rene\u0301e", "lastName": "\ud83d\ude00", "remarks": "a\tb\r\nc"}`).
			want(t, http.StatusCreated).json(t, &ok)
		if ok.FirstName != "Renée" || ok.LastName != "😀" || ok.Remarks != "a\tb\nc" {
			t.Fatalf("stored %q %q %q", ok.FirstName, ok.LastName, ok.Remarks)
		}
		if got := ts.do("GET", customer, key, nil).want(t, http.StatusOK); got.header.Get("ETag") != `"1"` {
			t.Fatalf("a refused patch changed the customer: ETag %s", got.header.Get("ETag"))
		}
	})
}
