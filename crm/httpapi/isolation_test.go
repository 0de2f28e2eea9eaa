package httpapi_test

import (
	"net/http"
	"net/url"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/dossiercrm/dossier/crm"
	"github.com/dossiercrm/dossier/crm/store/testdb"
)

// openAPIRoutes lists "METHOD /path" of every operation in the served
// OpenAPI document, with whether it requires a key.
func openAPIRoutes(t *testing.T, ts *testServer) map[string]bool {
	t.Helper()
	var doc struct {
		OpenAPI string                                         `json:"openapi"`
		Paths   map[string]map[string]struct{ Security []any } `json:"paths"`
	}
	ts.do("GET", "/openapi.json", "", nil).want(t, http.StatusOK).json(t, &doc)
	if !strings.HasPrefix(doc.OpenAPI, "3.1") {
		t.Fatalf("OpenAPI version %q, want 3.1", doc.OpenAPI)
	}
	routes := map[string]bool{}
	for path, ops := range doc.Paths {
		for method, op := range ops {
			routes[strings.ToUpper(method)+" "+path] = len(op.Security) > 0
		}
	}
	return routes
}

// TestIsolation probes every route of the OpenAPI document with organisation
// A's key against organisation B's ids, numbers, keys and addresses: each
// answers 404 or shows nothing of B's, and B's data is unchanged afterwards.
// A route added without a probe here fails the test.
func TestIsolation(t *testing.T) {
	testdb.Each(t, func(t *testing.T, open testdb.Opener) {
		t.Parallel()
		ts := newTestServer(t, open)
		a, b := ts.keyA, ts.keyB

		// B: a field and three customers (numbers 1 to 3); A: one customer (number 1).
		ts.do("POST", "/v1/custom-fields", b, map[string]any{"key": "geheim", "label": "Geheim", "type": "text"}).want(t, http.StatusCreated)
		var secret crm.Customer
		for i, name := range []string{"Erste", "Zweite", "Bertha"} {
			res := ts.do("POST", "/v1/customers", b, map[string]any{"firstName": name, "lastName": "Geheim",
				"loginEmail": name + "@b.example", "altEmails": []string{name + ".alt@b.example"},
				"phones":    []map[string]any{{"number": "+49 30 1234567" + string(rune('0'+i))}},
				"birthDate": "1970-01-0" + string(rune('1'+i)), "origin": "b-origin", "customFields": map[string]any{"geheim": "x"}})
			res.want(t, http.StatusCreated).json(t, &secret)
		}
		var own crm.Customer
		ts.do("POST", "/v1/customers", a, map[string]any{"lastName": "Eigen"}).want(t, http.StatusCreated).json(t, &own)

		snapshot := func() (crm.Customer, []crm.CustomFieldDefinition, []crm.HistoryEvent) {
			var c crm.Customer
			ts.do("GET", "/v1/customers/"+secret.ID, b, nil).want(t, http.StatusOK).json(t, &c)
			var defs struct{ Items []crm.CustomFieldDefinition }
			ts.do("GET", "/v1/custom-fields?includeArchived=true", b, nil).want(t, http.StatusOK).json(t, &defs)
			var h crm.Page[crm.HistoryEvent]
			ts.do("GET", "/v1/customers/"+secret.ID+"/history", b, nil).want(t, http.StatusOK).json(t, &h)
			return c, defs.Items, h.Items
		}
		beforeCustomer, beforeDefs, beforeHistory := snapshot()

		notFound := func(method, path string, body any, headers ...string) func(t *testing.T) {
			return func(t *testing.T) { ts.do(method, path, a, body, headers...).wantProblem(t, http.StatusNotFound) }
		}
		// onlyOwn lists with A's key and fails on any customer that is not A's own.
		onlyOwn := func(queries ...string) func(t *testing.T) {
			return func(t *testing.T) {
				for _, q := range queries {
					var page crm.Page[crm.Customer]
					ts.do("GET", "/v1/customers?"+q, a, nil).want(t, http.StatusOK).json(t, &page)
					for _, c := range page.Items {
						if c.ID != own.ID {
							t.Fatalf("A's list ?%s shows %s %s of B", q, c.FirstName, c.LastName)
						}
					}
				}
			}
		}
		id := secret.ID
		probes := map[string]func(t *testing.T){
			"GET /v1/customers": onlyOwn("", "name=bertha", "name=geheim", "email=bertha%40b.example",
				"email=bertha.alt%40b.example", "phone="+url.QueryEscape("+49 30 12345672"), "birthDate=1970-01-03",
				"number=3", "origin=b-origin", "language=de"),
			"POST /v1/customers": func(t *testing.T) {
				// A cannot use B's custom field, and B's login address is free in A.
				p := ts.do("POST", "/v1/customers", a, map[string]any{"lastName": "X", "customFields": map[string]any{"geheim2": "y"}}).
					wantProblem(t, http.StatusUnprocessableEntity)
				if !p.hasError("body.customFields.geheim2", "unknown_field") {
					t.Fatalf("problem %+v", p)
				}
				var c crm.Customer
				ts.do("POST", "/v1/customers", a, map[string]any{"lastName": "X", "loginEmail": "bertha@b.example"}).
					want(t, http.StatusCreated).json(t, &c)
				ts.do("DELETE", "/v1/customers/"+c.ID, a, nil).want(t, http.StatusNoContent)
			},
			"GET /v1/customers/{id}":                       notFound("GET", "/v1/customers/"+id, nil),
			"PATCH /v1/customers/{id}":                     notFound("PATCH", "/v1/customers/"+id, map[string]any{"lastName": "Stolen"}, "If-Match", `"1"`),
			"DELETE /v1/customers/{id}":                    notFound("DELETE", "/v1/customers/"+id, nil),
			"GET /v1/customer-numbers/{number}":            notFound("GET", "/v1/customer-numbers/3", nil),
			"GET /v1/customers/{id}/history":               notFound("GET", "/v1/customers/"+id+"/history", nil),
			"POST /v1/customers/{id}/alt-emails":           notFound("POST", "/v1/customers/"+id+"/alt-emails", map[string]any{"email": "evil@a.example"}),
			"DELETE /v1/customers/{id}/alt-emails/{email}": notFound("DELETE", "/v1/customers/"+id+"/alt-emails/bertha.alt@b.example", nil),
			"GET /v1/custom-fields": func(t *testing.T) {
				var defs struct{ Items []crm.CustomFieldDefinition }
				ts.do("GET", "/v1/custom-fields?includeArchived=true", a, nil).want(t, http.StatusOK).json(t, &defs)
				if len(defs.Items) != 0 {
					t.Fatalf("A sees B's custom fields %+v", defs.Items)
				}
			},
			"POST /v1/custom-fields": func(t *testing.T) {
				// B's key is free in A: defining it there touches nothing of B's.
				ts.do("POST", "/v1/custom-fields", a, map[string]any{"key": "geheim", "label": "A's own", "type": "number"}).want(t, http.StatusCreated)
			},
			"PATCH /v1/custom-fields/{key}":        notFound("PATCH", "/v1/custom-fields/geheim2", map[string]any{"label": "Stolen"}),
			"POST /v1/custom-fields/{key}/archive": notFound("POST", "/v1/custom-fields/geheim2/archive", nil),
			"POST /v1/custom-fields/{key}/restore": notFound("POST", "/v1/custom-fields/geheim2/restore", nil),
		}
		// B's second field, which A never defines.
		ts.do("POST", "/v1/custom-fields", b, map[string]any{"key": "geheim2", "label": "Geheim 2", "type": "text"}).want(t, http.StatusCreated)
		beforeCustomer, beforeDefs, beforeHistory = snapshot()

		routes := openAPIRoutes(t, ts)
		var names []string
		for route := range routes {
			names = append(names, route)
		}
		sort.Strings(names)
		for _, route := range names {
			if !routes[route] {
				if route != "GET /healthz" && route != "GET /readyz" {
					t.Errorf("%s needs no API key: only the probes may be public", route)
				}
				continue
			}
			probe, ok := probes[route]
			if !ok {
				t.Errorf("%s has no isolation probe: add one to TestIsolation", route)
				continue
			}
			t.Run(route, probe)
			t.Run(route+" without key", func(t *testing.T) {
				method, path, _ := strings.Cut(route, " ")
				path = strings.NewReplacer("{id}", id, "{number}", "1", "{key}", "geheim", "{email}", "x@b.example").Replace(path)
				ts.do(method, path, "", `{}`).wantProblem(t, http.StatusUnauthorized)
			})
		}
		for route := range probes {
			if _, ok := routes[route]; !ok {
				t.Errorf("probe for %s, which the OpenAPI document does not list", route)
			}
		}

		afterCustomer, afterDefs, afterHistory := snapshot()
		if !reflect.DeepEqual(beforeCustomer, afterCustomer) || !reflect.DeepEqual(beforeDefs, afterDefs) ||
			len(beforeHistory) != len(afterHistory) {
			t.Fatalf("B's data changed under A's probes:\n%+v\n%+v", beforeCustomer, afterCustomer)
		}
	})
}
