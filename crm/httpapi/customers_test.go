package httpapi_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/dossiercrm/dossier/crm"
	"github.com/dossiercrm/dossier/crm/store/testdb"
)

// TestCustomerLifecycle drives everything the API offers for one customer,
// over a real listening server, on both databases.
func TestCustomerLifecycle(t *testing.T) {
	testdb.Each(t, func(t *testing.T, open testdb.Opener) {
		t.Parallel()
		ts := newTestServer(t, open)
		key := ts.keyA

		// A custom field, then a customer using it.
		ts.do("POST", "/v1/custom-fields", key, map[string]any{"key": "diet", "label": "Diet", "type": "choice",
			"choices": []string{"vegan", "halal"}}).want(t, http.StatusCreated)

		res := ts.do("POST", "/v1/customers", key, map[string]any{
			"firstName": "Zoë", "middleName": "van der", "lastName": "Berg",
			"loginEmail": "Zoe@Example.nl", "phones": []map[string]any{{"number": "06 1234 5678"}},
			"birthDate": "1985-04-12", "customFields": map[string]any{"diet": "vegan"},
		}).want(t, http.StatusCreated)
		var c crm.Customer
		res.json(t, &c)
		if res.header.Get("ETag") != `"1"` || res.header.Get("Location") != "/v1/customers/"+c.ID {
			t.Fatalf("ETag %q Location %q", res.header.Get("ETag"), res.header.Get("Location"))
		}
		if c.Phones[0].Number != "+31612345678" || c.Language != "nl" || c.Number != 1 || c.CustomFields["diet"] != "vegan" {
			t.Fatalf("created %+v", c)
		}

		// Read by id and number; find by name, e-mail, phone, birth date.
		ts.do("GET", "/v1/customers/"+c.ID, key, nil).want(t, http.StatusOK)
		var byNumber crm.Customer
		ts.do("GET", "/v1/customer-numbers/1", key, nil).want(t, http.StatusOK).json(t, &byNumber)
		if byNumber.ID != c.ID {
			t.Fatalf("by number: %s", byNumber.ID)
		}
		for _, q := range []string{"name=zoe", "name=van+der+b", "name=BERG", "email=zoe%40example.NL",
			"phone=" + url.QueryEscape("+31 6 12345678"), "phone=0612345678", "birthDate=1985-04-12", "number=1",
			"language=nl", "status=customer"} {
			var page crm.Page[crm.Customer]
			ts.do("GET", "/v1/customers?"+q, key, nil).want(t, http.StatusOK).json(t, &page)
			if len(page.Items) != 1 || page.Items[0].ID != c.ID {
				t.Fatalf("find %s: %d items", q, len(page.Items))
			}
		}
		var none crm.Page[crm.Customer]
		ts.do("GET", "/v1/customers?name=muller", key, nil).want(t, http.StatusOK).json(t, &none)
		if len(none.Items) != 0 || none.Items == nil {
			t.Fatalf("no match must be an empty list, not %s", ts.do("GET", "/v1/customers?name=muller", key, nil).body)
		}

		// Merge patch with If-Match; null clears.
		res = ts.do("PATCH", "/v1/customers/"+c.ID, key, `{"remarks": "Window seat", "birthDate": null, "customFields": {"diet": null}}`,
			"If-Match", `"1"`).want(t, http.StatusOK)
		var patched crm.Customer
		res.json(t, &patched)
		if res.header.Get("ETag") != `"2"` || patched.Remarks != "Window seat" || patched.BirthDate != nil || patched.CustomFields != nil {
			t.Fatalf("patched (ETag %s): %+v", res.header.Get("ETag"), patched)
		}
		// A weak tag or a bare number names the version too.
		ts.do("PATCH", "/v1/customers/"+c.ID, key, `{"origin": "fair"}`, "If-Match", `W/"2"`).want(t, http.StatusOK)
		ts.do("PATCH", "/v1/customers/"+c.ID, key, `{"origin": "web"}`, "If-Match", `3`).want(t, http.StatusOK)
		ts.do("PATCH", "/v1/customers/"+c.ID, key, `{"origin": "stale"}`, "If-Match", `"2"`).wantProblem(t, http.StatusPreconditionFailed)

		// Alternative addresses one at a time.
		ts.do("POST", "/v1/customers/"+c.ID+"/alt-emails", key, map[string]string{"email": "zoe.work@example.com"}).want(t, http.StatusOK)
		p := ts.do("POST", "/v1/customers/"+c.ID+"/alt-emails", key, map[string]string{"email": "ZOE.WORK@example.com"}).wantProblem(t, http.StatusConflict)
		if !p.hasError("body.email", "conflict") {
			t.Fatalf("duplicate address problem %+v", p)
		}
		var page crm.Page[crm.Customer]
		ts.do("GET", "/v1/customers?email=zoe.work%40example.com", key, nil).want(t, http.StatusOK).json(t, &page)
		if len(page.Items) != 1 {
			t.Fatal("not found by the added alternative address")
		}
		var afterRemove crm.Customer
		ts.do("DELETE", "/v1/customers/"+c.ID+"/alt-emails/"+url.PathEscape("zoe.work@example.com"), key, nil).
			want(t, http.StatusOK).json(t, &afterRemove)
		if len(afterRemove.AltEmails) != 0 || afterRemove.Version != 6 {
			t.Fatalf("after removing the address: %+v version %d", afterRemove.AltEmails, afterRemove.Version)
		}

		// The timeline: newest first, every change by the key's staff user, paged.
		var history crm.Page[crm.HistoryEvent]
		ts.do("GET", "/v1/customers/"+c.ID+"/history?limit=4", key, nil).want(t, http.StatusOK).json(t, &history)
		if len(history.Items) != 4 || history.Next == "" || history.Items[0].Actor != crm.Staff("staff-org-a") {
			t.Fatalf("history page %+v", history)
		}
		var rest crm.Page[crm.HistoryEvent]
		ts.do("GET", "/v1/customers/"+c.ID+"/history?limit=4&cursor="+history.Next, key, nil).want(t, http.StatusOK).json(t, &rest)
		if len(rest.Items) != 2 || rest.Next != "" || rest.Items[1].Kind != crm.EventCustomerCreated {
			t.Fatalf("second history page %+v", rest)
		}

		// Custom field administration.
		ts.do("PATCH", "/v1/custom-fields/diet", key, map[string]any{"label": "Dietary needs"}).want(t, http.StatusOK)
		ts.do("POST", "/v1/custom-fields/diet/archive", key, nil).want(t, http.StatusOK)
		var defs struct{ Items []crm.CustomFieldDefinition }
		ts.do("GET", "/v1/custom-fields", key, nil).want(t, http.StatusOK).json(t, &defs)
		if len(defs.Items) != 0 {
			t.Fatalf("archived field listed: %+v", defs)
		}
		ts.do("GET", "/v1/custom-fields?includeArchived=true", key, nil).want(t, http.StatusOK).json(t, &defs)
		if len(defs.Items) != 1 || defs.Items[0].Label != "Dietary needs" || !defs.Items[0].Archived() {
			t.Fatalf("archived list %+v", defs)
		}
		ts.do("POST", "/v1/custom-fields/diet/restore", key, nil).want(t, http.StatusOK)

		// Delete: gone, and its timeline keeps only the deletion.
		ts.do("DELETE", "/v1/customers/"+c.ID, key, nil).want(t, http.StatusNoContent)
		ts.do("GET", "/v1/customers/"+c.ID, key, nil).wantProblem(t, http.StatusNotFound)
		ts.do("DELETE", "/v1/customers/"+c.ID, key, nil).wantProblem(t, http.StatusNotFound)
		ts.do("GET", "/v1/customers/"+c.ID+"/history", key, nil).want(t, http.StatusOK).json(t, &history)
		if len(history.Items) != 1 || history.Items[0].Kind != crm.EventCustomerDeleted {
			t.Fatalf("timeline after delete %+v", history.Items)
		}
	})
}

// TestAuthentication: every route but the probes and the document needs a
// valid key, and a refusal never says whether the key exists.
func TestAuthentication(t *testing.T) {
	testdb.Each(t, func(t *testing.T, open testdb.Opener) {
		t.Parallel()
		ts := newTestServer(t, open)
		ts.do("GET", "/healthz", "", nil).want(t, http.StatusOK)
		ts.do("GET", "/readyz", "", nil).want(t, http.StatusOK)
		ts.do("GET", "/openapi.json", "", nil).want(t, http.StatusOK)

		revokedCtx := crm.WithActor(crm.WithOrg(t.Context(), "org-a"), crm.System())
		revoked, revokedSecret, err := ts.crm.APIKeys.Create(revokedCtx, crm.NewAPIKey{Name: "old", StaffUser: crm.AdministratorID})
		if err != nil {
			t.Fatal(err)
		}
		if err := ts.crm.APIKeys.Revoke(revokedCtx, revoked.ID); err != nil {
			t.Fatal(err)
		}
		var bodies []string
		for _, auth := range []string{"", "Bearer", "Bearer ", "Basic " + ts.keyA, "Bearer " + ts.keyA + "x",
			"Bearer dsk_unknown", "Bearer " + strings.ToUpper(ts.keyA), "Bearer " + revokedSecret, ts.keyA} {
			res := ts.do("GET", "/v1/customers", "", nil, "Authorization", auth)
			p := res.wantProblem(t, http.StatusUnauthorized)
			if res.header.Get("WWW-Authenticate") == "" {
				t.Fatalf("401 for %q without WWW-Authenticate", auth)
			}
			bodies = append(bodies, p.Detail)
		}
		for _, b := range bodies {
			if b != bodies[0] {
				t.Fatalf("401 answers differ (%q vs %q): they must not tell keys apart", b, bodies[0])
			}
		}
		ts.do("GET", "/v1/customers", ts.keyA, nil).want(t, http.StatusOK)
	})
}
