package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/dossiercrm/dossier/crm"
	"github.com/dossiercrm/dossier/crm/httpapi"
	"github.com/dossiercrm/dossier/crm/store/testdb"
)

// FuzzCustomerQuery sends arbitrary query strings to the customer count,
// through the whole path: huma's binding of CustomerQuery, its Filter, the
// library's filter validation and the SQLite query. Whatever the query,
// the answer is a count or a 400/422 problem naming what is wrong, never
// a 500. Its seed corpus (below and testdata/fuzz/FuzzCustomerQuery) runs
// as an ordinary test.
func FuzzCustomerQuery(f *testing.F) {
	for _, seed := range []string{
		"", "name=muller", "name=%00", "email=%00", "name=%ff%fe", "nameContains=ab", "nameContains=Rene%CC%81e",
		"phone=06+1234+5678", "phone=%2B31612345678", "birthDate=0000-01-01", "birthDate=1985-04-12", "birthDate=10000-01-01",
		"firstContactFrom=2025-02-30", "createdFrom=2026-01-01T00:00:00Z", "createdTo=10000-01-01T00:00:00Z",
		"tag=01936d3c-0000-7000-8000-000000000000", "tag=VIP", "tag=a,b,,c", "tagAll=%00", "attributeNone=x",
		"membership=%ff", "consent=newsletter:granted", "consent=nope:granted", "consent=newsletter", "consent=%00:granted",
		"status=vip", "status=lead", "number=-1", "number=99999999999999999999", "language=nl", "language=%00",
		"origin=web%0Ashop", "assignedTo=%C0%AF", "sort=name", "sort=%ED%A0%80", "limit=abc", "x=1", "name=a&name=b", "%zz", "&&&=",
	} {
		f.Add(seed)
	}
	db := testdb.SQLite(f)
	c, err := crm.New(db, crm.Config{})
	if err != nil {
		f.Fatal(err)
	}
	ctx := context.Background()
	if _, err := c.Organisations.Create(ctx, crm.NewOrganisation{ID: "org-a", Name: "A", DefaultLanguage: "nl", DefaultCountry: "NL"}); err != nil {
		f.Fatal(err)
	}
	actx := crm.WithActor(crm.WithOrg(ctx, "org-a"), crm.System())
	_, secret, err := c.APIKeys.Create(actx, crm.NewAPIKey{Name: "fuzz", StaffUser: crm.AdministratorID})
	if err != nil {
		f.Fatal(err)
	}
	if _, err := c.Customers.Create(actx, crm.CustomerFields{FirstName: "Anna", LastName: "Müller", Email: "anna@example.nl",
		Phones: []crm.Phone{{Number: "0612345678"}}}); err != nil {
		f.Fatal(err)
	}
	h := httpapi.New(c, httpapi.Options{})
	f.Fuzz(func(t *testing.T, query string) {
		req := &http.Request{Method: http.MethodGet, URL: &url.URL{Path: "/v1/customers/count", RawQuery: query},
			Header: http.Header{"Authorization": {"Bearer " + secret}}, Body: http.NoBody, Host: "example.com"}
		req = req.WithContext(t.Context())
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		switch rec.Code {
		case http.StatusOK:
			var n struct{ Count *int64 }
			if err := json.Unmarshal(rec.Body.Bytes(), &n); err != nil || n.Count == nil || *n.Count < 0 {
				t.Fatalf("?%s: 200 with %s", query, rec.Body)
			}
		case http.StatusBadRequest, http.StatusUnprocessableEntity:
			var p httpapi.Problem
			if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil || p.Status != rec.Code {
				t.Fatalf("?%s: %d with %s", query, rec.Code, rec.Body)
			}
		default:
			t.Fatalf("?%s: status %d: %s", query, rec.Code, rec.Body)
		}
	})
}

// FuzzCustomerBody posts arbitrary bodies to POST /v1/customers, through
// the raw-body text check, huma's decoding and validation, the library and
// SQLite. The answer is 201 with a clean customer, or a 400, 409 or 422
// problem: never a 500.
func FuzzCustomerBody(f *testing.F) {
	for _, seed := range []string{
		`{"lastName": "Jansen"}`, `{"firstName": "a\u0000b", "lastName": "X"}`, "{\"lastName\": \"M\xff\xfeller\"}",
		`{"lastName": "\ud800"}`, `{"lastName": "\ud83d\ude00", "remarks": "a\r\nb"}`, `{"lastName": "X", "birthDate": "0000-01-01"}`,
		`{"lastName": "X", "email": "anna@-example.nl"}`, `{"lastName": "Rene\u0301e", "loginEmail": "andre\u0301@example.nl"}`,
		`{"lastName": "X", "phones": [{"number": "+4920100000000000"}]}`, `{"lastName": "X", "customFields": {"a\u0000": 1}}`,
		`{"lastName": "X", "address": {"country": "nl", "city": "\u0085"}}`, `[]`, `{"lastName": `, `{"lastName": null}`,
	} {
		f.Add([]byte(seed))
	}
	db := testdb.SQLite(f)
	c, err := crm.New(db, crm.Config{})
	if err != nil {
		f.Fatal(err)
	}
	ctx := context.Background()
	if _, err := c.Organisations.Create(ctx, crm.NewOrganisation{ID: "org-a", Name: "A", DefaultLanguage: "nl", DefaultCountry: "NL"}); err != nil {
		f.Fatal(err)
	}
	_, secret, err := c.APIKeys.Create(crm.WithActor(crm.WithOrg(ctx, "org-a"), crm.System()), crm.NewAPIKey{Name: "fuzz", StaffUser: crm.AdministratorID})
	if err != nil {
		f.Fatal(err)
	}
	h := httpapi.New(c, httpapi.Options{})
	f.Fuzz(func(t *testing.T, body []byte) {
		req := &http.Request{Method: http.MethodPost, URL: &url.URL{Path: "/v1/customers"}, Host: "example.com",
			Header: http.Header{"Authorization": {"Bearer " + secret}, "Content-Type": {"application/json"}},
			Body:   io.NopCloser(bytes.NewReader(body)), ContentLength: int64(len(body))}
		req = req.WithContext(t.Context())
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		switch rec.Code {
		case http.StatusCreated:
			var out map[string]any
			if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
				t.Fatalf("201 with %s", rec.Body)
			}
			var walk func(v any)
			walk = func(v any) {
				switch x := v.(type) {
				case string:
					if !utf8.ValidString(x) || !norm.NFC.IsNormalString(x) || bytes.ContainsRune([]byte(x), 0) {
						t.Fatalf("stored %q from %q", x, body)
					}
				case []any:
					for _, e := range x {
						walk(e)
					}
				case map[string]any:
					for k, e := range x {
						walk(k)
						walk(e)
					}
				}
			}
			walk(out)
		case http.StatusBadRequest, http.StatusConflict, http.StatusUnprocessableEntity:
			var p httpapi.Problem
			if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil || p.Status != rec.Code {
				t.Fatalf("%q: %d with %s", body, rec.Code, rec.Body)
			}
		default:
			t.Fatalf("%q: status %d: %s", body, rec.Code, rec.Body)
		}
	})
}
