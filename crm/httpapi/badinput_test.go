package httpapi_test

import (
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/dossiercrm/dossier/crm"
	"github.com/dossiercrm/dossier/crm/store/testdb"
)

// TestBadInput sends every kind of bad request a client can make and checks
// the problem response: its status, the location of each failing field, and
// that the database is exactly as it was.
func TestBadInput(t *testing.T) {
	testdb.Each(t, func(t *testing.T, open testdb.Opener) {
		t.Parallel()
		ts := newTestServer(t, open)
		key := ts.keyA
		ts.do("POST", "/v1/custom-fields", key, map[string]any{"key": "shoe_size", "label": "Shoe size", "type": "number"}).want(t, http.StatusCreated)
		var c crm.Customer
		ts.do("POST", "/v1/customers", key, map[string]any{"lastName": "Jansen", "loginEmail": "jansen@example.nl",
			"altEmails": []string{"j@example.nl"}}).want(t, http.StatusCreated).json(t, &c)
		other := ts.do("POST", "/v1/customers", key, map[string]any{"lastName": "Other", "loginEmail": "other@example.nl"}).want(t, http.StatusCreated)
		_ = other

		var tags struct{ Items []crm.Qualifier }
		ts.do("GET", "/v1/tags", key, nil).want(t, http.StatusOK).json(t, &tags)
		var tagIDs []string
		for i := range 9 {
			if i < len(tags.Items) {
				tagIDs = append(tagIDs, tags.Items[i].ID)
			} else {
				var q crm.Qualifier
				ts.do("POST", "/v1/tags", key, map[string]any{"name": "Extra"}).want(t, http.StatusCreated).json(t, &q)
				tagIDs = append(tagIDs, q.ID)
			}
		}
		ts.do("POST", "/v1/customers/"+c.ID+"/tags", key, map[string]any{"ids": tagIDs}).want(t, http.StatusOK)
		var tenth, plain, club crm.Qualifier
		ts.do("POST", "/v1/tags", key, map[string]any{"name": "Tenth"}).want(t, http.StatusCreated).json(t, &tenth)
		ts.do("POST", "/v1/labels", key, map[string]any{"name": "Plain"}).want(t, http.StatusCreated).json(t, &plain)
		ts.do("POST", "/v1/labels", key, map[string]any{"name": "Club", "membership": true}).want(t, http.StatusCreated).json(t, &club)
		var m crm.Membership
		ts.do("POST", "/v1/memberships", key, map[string]any{"labelId": club.ID, "holderId": c.ID, "endsOn": "2099-01-01"}).
			want(t, http.StatusCreated).json(t, &m)

		state := func() (crm.Page[crm.Customer], []crm.HistoryEvent, []crm.CustomFieldDefinition) {
			var page crm.Page[crm.Customer]
			ts.do("GET", "/v1/customers?limit=500", key, nil).want(t, http.StatusOK).json(t, &page)
			var h crm.Page[crm.HistoryEvent]
			ts.do("GET", "/v1/customers/"+c.ID+"/history", key, nil).want(t, http.StatusOK).json(t, &h)
			var defs struct{ Items []crm.CustomFieldDefinition }
			ts.do("GET", "/v1/custom-fields?includeArchived=true", key, nil).want(t, http.StatusOK).json(t, &defs)
			return page, h.Items, defs.Items
		}
		beforeCustomers, beforeHistory, beforeDefs := state()

		huge := `{"lastName": "` + strings.Repeat("x", 70<<10) + `"}` // over the test server's 64 KiB
		customer := "/v1/customers/" + c.ID
		cases := []struct {
			name, method, path string
			body               any
			headers            []string
			status             int
			locations          []string // each must be named by the problem
		}{
			{"malformed JSON", "POST", "/v1/customers", `{"lastName": `, nil, 400, nil},
			{"not an object", "POST", "/v1/customers", `[1, 2]`, nil, 422, nil},
			{"unknown member", "POST", "/v1/customers", `{"lastName": "X", "lastname": "Y"}`, nil, 422, []string{"body.lastname"}},
			{"wrong types", "POST", "/v1/customers", `{"lastName": 7, "noPost": "yes", "phones": "0612345678"}`, nil, 422,
				[]string{"body.lastName", "body.noPost", "body.phones"}},
			{"bad date", "POST", "/v1/customers", `{"lastName": "X", "birthDate": "12-04-1985"}`, nil, 422, []string{"body.birthDate"}},
			{"oversized body", "POST", "/v1/customers", huge, nil, 413, nil},
			{"invalid values", "POST", "/v1/customers", map[string]any{"lastName": "X", "loginEmail": "x@", "language": "xx",
				"phones": []map[string]any{{"number": "123"}}, "birthDate": "2999-01-01", "status": "vip",
				"address": map[string]any{"country": "XX"}, "customFields": map[string]any{"shoe_size": "big", "nope": 1}}, nil, 422,
				[]string{"body.loginEmail", "body.language", "body.phones[0].number", "body.birthDate", "body.status",
					"body.address.country", "body.customFields.shoe_size", "body.customFields.nope"}},
			{"nothing to name the customer by", "POST", "/v1/customers", `{}`, nil, 422, []string{"body.lastName"}},
			{"login e-mail taken", "POST", "/v1/customers", map[string]any{"lastName": "X", "loginEmail": "JANSEN@example.nl"}, nil, 409,
				[]string{"body.loginEmail"}},
			{"bad cursor", "GET", "/v1/customers?cursor=not-a-cursor", nil, nil, 422, []string{"query.cursor"}},
			{"limit too large", "GET", "/v1/customers?limit=501", nil, nil, 422, []string{"query.limit"}},
			{"limit zero", "GET", "/v1/customers?limit=0", nil, nil, 422, []string{"query.limit"}},
			{"unknown query parameter", "GET", "/v1/customers?nmae=jansen", nil, nil, 422, []string{"query.nmae"}},
			{"bad status filter", "GET", "/v1/customers?status=vip", nil, nil, 422, []string{"query.status"}},
			{"bad birth date filter", "GET", "/v1/customers?birthDate=1985-13-01", nil, nil, 422, []string{"query.birthDate"}},
			{"bad time filter", "GET", "/v1/customers?createdFrom=yesterday", nil, nil, 422, []string{"query.createdFrom"}},
			{"bad phone filter", "GET", "/v1/customers?phone=12", nil, nil, 422, []string{"query.phone"}},
			{"bad language filter", "GET", "/v1/customers?language=klingon!", nil, nil, 422, []string{"query.language"}},
			{"bad history cursor", "GET", customer + "/history?cursor=eyJ4Ijox", nil, nil, 422, []string{"query.cursor"}},
			{"bad number", "GET", "/v1/customer-numbers/abc", nil, nil, 422, []string{"path.number"}},
			{"not an id", "GET", "/v1/customers/123", nil, nil, 404, nil},
			{"missing If-Match", "PATCH", customer, `{"lastName": "Y"}`, nil, 428, []string{"header.If-Match"}},
			{"bad If-Match", "PATCH", customer, `{"lastName": "Y"}`, []string{"If-Match", `"one"`}, 400, []string{"header.If-Match"}},
			{"If-Match zero", "PATCH", customer, `{"lastName": "Y"}`, []string{"If-Match", `"0"`}, 400, []string{"header.If-Match"}},
			{"If-Match any", "PATCH", customer, `{"lastName": "Y"}`, []string{"If-Match", `*`}, 400, []string{"header.If-Match"}},
			{"stale If-Match", "PATCH", customer, `{"lastName": "Y"}`, []string{"If-Match", `"7"`}, 412, nil},
			{"patch malformed", "PATCH", customer, `{"lastName": }`, []string{"If-Match", `"1"`}, 400, nil},
			{"patch unknown member", "PATCH", customer, `{"nmae": "Y"}`, []string{"If-Match", `"1"`}, 422, []string{"body.nmae"}},
			{"patch clears every name", "PATCH", customer, `{"lastName": null, "loginEmail": null}`, []string{"If-Match", `"1"`}, 422, []string{"body.lastName"}},
			{"patch null status", "PATCH", customer, `{"status": null}`, []string{"If-Match", `"1"`}, 422, []string{"body.status"}},
			{"patch login e-mail taken", "PATCH", customer, `{"loginEmail": "other@example.nl"}`, []string{"If-Match", `"1"`}, 409,
				[]string{"body.loginEmail"}},
			{"alt e-mail invalid", "POST", customer + "/alt-emails", `{"email": "nope"}`, nil, 422, []string{"body.email"}},
			{"alt e-mail missing", "POST", customer + "/alt-emails", `{}`, nil, 422, []string{"body"}},
			{"alt e-mail taken", "POST", customer + "/alt-emails", `{"email": "J@example.nl"}`, nil, 409, []string{"body.email"}},
			{"alt e-mail unknown", "DELETE", customer + "/alt-emails/nobody@example.nl", nil, nil, 404, nil},
			{"custom field bad key", "POST", "/v1/custom-fields", `{"key": "Shoe Size", "label": "X", "type": "text"}`, nil, 422, []string{"body.key"}},
			{"custom field bad type", "POST", "/v1/custom-fields", `{"key": "x", "label": "X", "type": "colour"}`, nil, 422, []string{"body.type"}},
			{"custom field choice without choices", "POST", "/v1/custom-fields", `{"key": "x", "label": "X", "type": "choice"}`, nil, 422,
				[]string{"body.choices"}},
			{"custom field key taken", "POST", "/v1/custom-fields", `{"key": "shoe_size", "label": "X", "type": "text"}`, nil, 409, []string{"body.key"}},
			{"custom field type change", "PATCH", "/v1/custom-fields/shoe_size", `{"type": "text"}`, nil, 422, []string{"body.type"}},
			{"custom field unknown", "POST", "/v1/custom-fields/nope/archive", nil, nil, 404, nil},
			{"no such route", "GET", "/v1/customerz", nil, nil, 404, nil},
			{"a tenth tag", "POST", customer + "/tags", map[string]any{"ids": []string{tenth.ID}}, nil, 409, []string{"body.tags"}},
			{"unknown tag", "POST", customer + "/tags", `{"ids": ["01936d3c-0000-7000-8000-000000000000"]}`, nil, 422, []string{"body.ids[0]"}},
			{"no tag ids", "POST", customer + "/tags", `{"ids": []}`, nil, 422, nil},
			{"tag name taken", "POST", "/v1/tags", `{"name": "vip"}`, nil, 409, []string{"body.name"}},
			{"tag colour", "POST", "/v1/tags", `{"name": "Gold", "colour": "gold"}`, nil, 422, []string{"body.colour"}},
			{"tag without name", "POST", "/v1/tags", `{"colour": "#ffffff"}`, nil, 422, []string{"body.name"}},
			{"unknown tag definition", "PATCH", "/v1/tags/01936d3c-0000-7000-8000-000000000000", `{"name": "X"}`, nil, 404, nil},
			{"contains too short", "GET", "/v1/customers?nameContains=ab", nil, nil, 422, []string{"query.nameContains"}},
			{"tag filter not an id", "GET", "/v1/customers?tag=VIP", nil, nil, 422, []string{"query.tags.any"}},
			{"bad sort", "GET", "/v1/customers?sort=age", nil, nil, 422, []string{"query.sort"}},
			{"first contact range reversed", "GET", "/v1/customers?firstContactFrom=2025-02-01&firstContactTo=2025-01-01", nil, nil, 422,
				[]string{"query.firstContactTo"}},
			{"bad first contact date", "GET", "/v1/customers/count?firstContactFrom=2025-02-30", nil, nil, 422, []string{"query.firstContactFrom"}},
			{"assign a membership type", "POST", customer + "/labels", map[string]any{"labelId": club.ID}, nil, 422, []string{"body.labelId"}},
			{"benefit without the label", "POST", customer + "/labels/" + plain.ID + "/benefit-uses", `{}`, nil, 409, []string{"body.labelId"}},
			{"membership of a plain label", "POST", "/v1/memberships", map[string]any{"labelId": plain.ID, "holderId": c.ID, "endsOn": "2099-01-01"},
				nil, 422, []string{"body.labelId"}},
			{"membership ends before it starts", "POST", "/v1/memberships", map[string]any{"labelId": club.ID, "holderId": c.ID,
				"startsOn": "2030-01-02", "endsOn": "2030-01-01"}, nil, 422, []string{"body.endsOn"}},
			{"membership without end", "POST", "/v1/memberships", map[string]any{"labelId": club.ID, "holderId": c.ID}, nil, 422, []string{"body.endsOn"}},
			{"renew to an earlier day", "POST", "/v1/memberships/" + m.ID + "/renew", `{"endsOn": "2098-01-01"}`, nil, 422, []string{"body.endsOn"}},
			{"share with the holder", "POST", "/v1/memberships/" + m.ID + "/shares", map[string]any{"customerId": c.ID}, nil, 422, []string{"body.customerId"}},
			{"share with nobody", "POST", "/v1/memberships/" + m.ID + "/shares", `{"customerId": "01936d3c-0000-7000-8000-000000000000"}`, nil, 422,
				[]string{"body.customerId"}},
			{"segment with a bad filter", "POST", "/v1/segments", `{"name": "Bad", "filter": {"language": "xx", "nameContains": "ab"}}`, nil, 422,
				[]string{"body.filter.language", "body.filter.nameContains"}},
			{"segment filter unknown member", "POST", "/v1/segments", `{"name": "Bad", "filter": {"langauge": "nl"}}`, nil, 422,
				[]string{"body.filter.langauge"}},
			{"segment not found", "GET", "/v1/segments/01936d3c-0000-7000-8000-000000000000/count", nil, nil, 404, nil},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				p := ts.do(tc.method, tc.path, key, tc.body, tc.headers...).wantProblem(t, tc.status)
				for _, loc := range tc.locations {
					if !p.hasError(loc, "") {
						t.Errorf("problem does not name %s: %+v", loc, p.Errors)
					}
				}
				for _, e := range p.Errors {
					if e.Message == "" {
						t.Errorf("field error without a message: %+v", e)
					}
				}
			})
		}

		// Messages follow Accept-Language.
		p := ts.do("POST", "/v1/customers", key, `{"loginEmail": "x@"}`, "Accept-Language", "nl-BE,nl;q=0.9").
			wantProblem(t, http.StatusUnprocessableEntity)
		if len(p.Errors) != 1 || !p.hasError("body.loginEmail", "email") || !strings.Contains(p.Errors[0].Message, "geen geldig") {
			t.Errorf("Dutch messages expected: %+v", p.Errors)
		}

		afterCustomers, afterHistory, afterDefs := state()
		if !reflect.DeepEqual(beforeCustomers, afterCustomers) || !reflect.DeepEqual(beforeHistory, afterHistory) ||
			!reflect.DeepEqual(beforeDefs, afterDefs) {
			t.Fatalf("bad requests changed the database:\ncustomers %+v\n       now %+v", beforeCustomers, afterCustomers)
		}
	})
}
