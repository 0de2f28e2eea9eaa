package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

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

		// B qualifies its customer in every way A's probes will aim at.
		idOf := func(res response) string {
			var v struct{ ID string }
			res.json(t, &v)
			return v.ID
		}
		var bTags struct{ Items []crm.Qualifier }
		ts.do("GET", "/v1/tags", b, nil).want(t, http.StatusOK).json(t, &bTags)
		bTag := bTags.Items[0].ID
		ts.do("POST", "/v1/customers/"+secret.ID+"/tags", b, map[string]any{"ids": []string{bTag}}).want(t, http.StatusOK)
		bAttr := idOf(ts.do("POST", "/v1/attributes", b, map[string]any{"name": "Tauchen"}).want(t, http.StatusCreated))
		ts.do("POST", "/v1/customers/"+secret.ID+"/attributes", b, map[string]any{"ids": []string{bAttr}}).want(t, http.StatusOK)
		bLabel := idOf(ts.do("POST", "/v1/labels", b, map[string]any{"name": "Stammgast", "benefits": "Kaffee"}).want(t, http.StatusCreated))
		ts.do("POST", "/v1/customers/"+secret.ID+"/labels", b, map[string]any{"labelId": bLabel}).want(t, http.StatusNoContent)
		bClub := idOf(ts.do("POST", "/v1/labels", b, map[string]any{"name": "Club", "membership": true}).want(t, http.StatusCreated))
		bMembership := idOf(ts.do("POST", "/v1/memberships", b, map[string]any{"labelId": bClub, "holderId": secret.ID,
			"endsOn": "2099-12-31"}).want(t, http.StatusCreated))
		var bFirst crm.Customer
		ts.do("GET", "/v1/customer-numbers/1", b, nil).want(t, http.StatusOK).json(t, &bFirst)
		ts.do("POST", "/v1/memberships/"+bMembership+"/shares", b, map[string]any{"customerId": bFirst.ID}).want(t, http.StatusOK)
		bSegment := idOf(ts.do("POST", "/v1/segments", b, map[string]any{"name": "Geheime", "filter": map[string]any{"name": "geheim"}}).
			want(t, http.StatusCreated))

		// B's consents: two purposes of its own (A defines the first one
		// too, never the second), a wording, a grant with evidence, a
		// pending double opt-in, a retention policy and a customer it selects.
		ts.do("POST", "/v1/consent-purposes", b, map[string]any{"key": "geheim_zweck", "name": "Geheim", "channel": "email"}).want(t, http.StatusCreated)
		bZwei := idOf(ts.do("POST", "/v1/consent-purposes", b, map[string]any{"key": "geheim_zwei", "name": "Geheim 2", "channel": "post"}).
			want(t, http.StatusCreated))
		var bPurposes struct{ Items []crm.ConsentPurpose }
		ts.do("GET", "/v1/consent-purposes", b, nil).want(t, http.StatusOK).json(t, &bPurposes)
		var bPurposeIDs []string
		bNewsletter := ""
		for _, p := range bPurposes.Items {
			bPurposeIDs = append(bPurposeIDs, p.ID)
			if p.Key == crm.PurposeNewsletter {
				bNewsletter = p.ID
			}
		}
		bWording := idOf(ts.do("POST", "/v1/consent-purposes/newsletter/wordings", b, map[string]any{"language": "de",
			"text": "Ja, schickt mir den geheimen Newsletter."}).want(t, http.StatusCreated))
		bRecord := idOf(ts.do("POST", "/v1/customers/"+secret.ID+"/consents", b, map[string]any{"purpose": "newsletter", "state": "granted",
			"source": "staff", "ip": "192.0.2.66", "userAgent": "Geheim-Browser"}).want(t, http.StatusCreated))
		var bPending crm.PendingConsent
		ts.do("POST", "/v1/customers/"+secret.ID+"/consents/double-opt-in", b, map[string]any{"purpose": "commercial_email", "source": "web_form"}).
			want(t, http.StatusCreated).json(t, &bPending)
		ts.do("PUT", "/v1/retention", b, map[string]any{"enabled": true, "inactiveDays": 45, "excludePurposes": []string{"geheim_zwei"}}).
			want(t, http.StatusOK)
		past := time.Now().AddDate(0, 0, -100)
		then, err := crm.New(ts.db, crm.Config{Clock: func() time.Time { return past }})
		if err != nil {
			t.Fatal(err)
		}
		bIdle, err := then.Customers.Create(crm.WithActor(crm.WithOrg(t.Context(), "org-b"), crm.Staff("staff-org-b")),
			crm.CustomerFields{LastName: "Geheim", FirstName: "Ruhend"})
		if err != nil {
			t.Fatal(err)
		}
		var bReport crm.RetentionReport
		ts.do("POST", "/v1/retention/dry-run", b, nil).want(t, http.StatusOK).json(t, &bReport)
		if len(bReport.Customers) != 1 || bReport.Customers[0].ID != bIdle.ID {
			t.Fatalf("B's dry run %+v, want its idle customer", bReport)
		}
		if sel := ts.do("GET", "/v1/segments/"+bSegment+"/mailing-selection?purpose=newsletter", b, nil).want(t, http.StatusOK); !strings.Contains(string(sel.body), secret.ID) {
			t.Fatalf("B's mailing selection %s", sel.body)
		}

		// B's points: switched on, an award, a redemption and a correction,
		// each with an idempotency key, and a reversal. A has points on too,
		// so that A's 404s below come from isolation, not from a switch.
		ts.do("PATCH", "/v1/organisation", b, map[string]any{"pointsEnabled": true}).want(t, http.StatusOK)
		ts.do("PATCH", "/v1/organisation", a, map[string]any{"pointsEnabled": true}).want(t, http.StatusOK)
		bPoints := "/v1/customers/" + secret.ID + "/points"
		bAwardBody := map[string]any{"points": 500, "reason": "Geheim", "reference": "B-500"}
		bAward := idOf(ts.do("POST", bPoints+"/awards", b, bAwardBody, "Idempotency-Key", "geheim-award").want(t, http.StatusCreated))
		bRedeem := idOf(ts.do("POST", bPoints+"/redemptions", b, map[string]any{"points": 100}, "Idempotency-Key", "geheim-redeem").
			want(t, http.StatusCreated))
		bCorrect := idOf(ts.do("POST", bPoints+"/corrections", b, map[string]any{"points": 7, "reason": "Geheim"}, "Idempotency-Key", "geheim-correct").
			want(t, http.StatusCreated))
		ts.do("POST", bPoints+"/transactions/"+bRedeem+"/reversal", b, nil, "Idempotency-Key", "geheim-reverse").want(t, http.StatusCreated)
		bTransactions := []string{bAward, bRedeem, bCorrect}

		// B's documents: an attribute, a portal PDF with it (sent) and an
		// internal note with it (unsent), B's own mail texts, and the mail in
		// its outbox. A has a document of its own.
		bDocAttr := idOf(ts.do("POST", "/v1/document-attributes", b, map[string]any{"name": "Geheime Gutscheine"}).want(t, http.StatusCreated))
		bDocs := "/v1/customers/" + secret.ID + "/documents"
		bPDF := idOf(ts.upload(bDocs, b, field("title", "Geheimer Gutschein"), field("visibility", "portal"), field("attributeId", bDocAttr),
			file("gutschein.pdf", pdfBytes)).want(t, http.StatusCreated))
		bNote := idOf(ts.upload(bDocs, b, field("attributeId", bDocAttr), file("notiz.txt", []byte("geheime Notiz"))).want(t, http.StatusCreated))
		ts.do("PUT", "/v1/mail-templates/document_delivery/de", b, map[string]any{"subject": "Geheime Unterlagen für {{.Customer.FirstName}}",
			"text": "Geheim"}).want(t, http.StatusOK)
		for _, k := range []string{"geheim_brief", "geheim_notiz"} {
			ts.do("POST", "/v1/mail-templates", b, map[string]any{"key": k, "language": "de", "subject": "Geheimer Brief", "text": "Geheim"}).
				want(t, http.StatusCreated)
		}
		bMail := idOf(ts.do("POST", bDocs+"/send", b, map[string]any{"documentIds": []string{bPDF}}).want(t, http.StatusAccepted))
		ownDocs := "/v1/customers/" + own.ID + "/documents"
		ownDoc := idOf(ts.upload(ownDocs, a, file("eigen.txt", []byte("eigen"))).want(t, http.StatusCreated))

		// B's interactions: a form, a reservation with the platform's id that
		// makes a customer, and one whose phone is another customer's (a conflict).
		for _, k := range []string{"geheim_form", "geheim_form2"} {
			ts.do("POST", "/v1/forms", b, map[string]any{"key": k, "name": "Geheim", "fields": []map[string]any{{"field": "lastName", "required": true}}}).
				want(t, http.StatusCreated)
		}
		var bRes crm.InteractionResult
		ts.do("POST", "/v1/interactions", b, map[string]any{"kind": "reservation", "source": "geheim-tool", "sourceId": "geheim-77",
			"firstName": "Gast", "lastName": "Geheim", "emails": []string{"gast@b.example"}, "phones": []string{"+49 30 12345670"}}).
			want(t, http.StatusCreated).json(t, &bRes)
		bInteraction := bRes.Interaction.ID

		// B's files: an export on record, and an import that ran.
		ts.do("POST", "/v1/exports", b, map[string]any{"format": "jsonl"}).want(t, http.StatusOK)
		var bExports crm.Page[crm.ExportRecord]
		ts.do("GET", "/v1/exports", b, nil).want(t, http.StatusOK).json(t, &bExports)
		bExport := bExports.Items[0].ID
		bImport := idOf(ts.upload("/v1/imports", b, field("mode", "upsert"),
			file("gaeste.csv", []byte("Vorname;Nachname;E-Mail\nImport;Geheim;import@b.example\n"))).want(t, http.StatusCreated))
		if im, err := ts.crm.Imports.Run(crm.WithOrg(t.Context(), "org-b"), bImport, 0, nil); err != nil || im.Created != 1 {
			t.Fatalf("B's import %+v, %v", im, err)
		}
		// B's side of the customer's own account and marketing.
		portalProbes, portalReads := portalIsolation(t, ts, secret, own)

		// without drops the members of a JSON object that differ on every
		// read (the time of an export or of a retention run).
		without := func(body []byte, members ...string) string {
			var doc map[string]any
			if err := json.Unmarshal(body, &doc); err != nil {
				t.Fatalf("%v: %s", err, body)
			}
			for _, m := range members {
				if _, ok := doc[m]; !ok {
					t.Fatalf("no %s in %s", m, body)
				}
				delete(doc, m)
			}
			out, err := json.Marshal(doc)
			if err != nil {
				t.Fatal(err)
			}
			return string(out)
		}
		// snapshot reads everything of B's that A's probes aim at.
		snapshot := func() []string {
			var bodies []string
			for _, path := range []string{"/v1/customers/" + secret.ID, "/v1/customers/" + secret.ID + "/history?limit=500",
				"/v1/custom-fields?includeArchived=true", "/v1/customers?limit=500", "/v1/tags", "/v1/attributes", "/v1/labels",
				"/v1/segments", "/v1/customers/" + secret.ID + "/tags", "/v1/customers/" + secret.ID + "/attributes",
				"/v1/customers/" + secret.ID + "/labels", "/v1/customers/" + secret.ID + "/memberships",
				"/v1/memberships/" + bMembership, "/v1/segments/" + bSegment + "/count",
				"/v1/consent-purposes", "/v1/consent-purposes/geheim_zwei", "/v1/consent-purposes/newsletter/wordings",
				"/v1/customers/" + secret.ID + "/consents", "/v1/customers/" + secret.ID + "/consent-log", "/v1/retention",
				"/v1/segments/" + bSegment + "/mailing-selection?purpose=newsletter", "/v1/customers/" + bIdle.ID,
				"/v1/organisation", bPoints, bPoints + "/transactions?limit=500",
				bDocs, bDocs + "?view=portal", "/v1/documents/" + bPDF, "/v1/documents/" + bNote,
				"/v1/documents/" + bPDF + "/content", "/v1/documents/" + bNote + "/content", "/v1/document-attributes",
				"/v1/mail-templates", "/v1/outbox?limit=500", "/v1/outbox?customerId=" + secret.ID, "/v1/outbox/" + bMail,
				"/v1/forms", "/v1/forms/geheim_form2", "/v1/interactions/" + bInteraction,
				"/v1/customers/" + bRes.Customer.ID + "/interactions", "/v1/customers/" + bRes.Customer.ID + "/field-origins",
				"/v1/customers/" + bRes.Customer.ID + "/match-conflicts", "/v1/imports/" + bImport, "/v1/imports/" + bImport + "/report",
				"/v1/imports/" + bImport + "/report?errors=true", "/v1/exports"} {
				bodies = append(bodies, string(ts.do("GET", path, b, nil).want(t, http.StatusOK).body))
			}
			for _, path := range portalReads {
				bodies = append(bodies, string(ts.do("GET", path, b, nil).want(t, http.StatusOK).body))
			}
			for _, audience := range []string{"staff", "customer"} {
				res := ts.do("GET", "/v1/customers/"+secret.ID+"/export?audience="+audience, b, nil).want(t, http.StatusOK)
				bodies = append(bodies, without(res.body, "exportedAt"))
			}
			dryRun := ts.do("POST", "/v1/retention/dry-run", b, nil).want(t, http.StatusOK)
			return append(bodies, without(dryRun.body, "inactiveBefore"))
		}
		snapshot() // every one of B's reads answers 200 before A probes

		notFound := func(method, path string, body any, headers ...string) func(t *testing.T) {
			return func(t *testing.T) { ts.do(method, path, a, body, headers...).wantProblem(t, http.StatusNotFound) }
		}
		// noneOf lists with A's key and fails when the list names any of ids.
		noneOf := func(path string, ids ...string) func(t *testing.T) {
			return func(t *testing.T) {
				body := string(ts.do("GET", path, a, nil).want(t, http.StatusOK).body)
				for _, id := range ids {
					if strings.Contains(body, id) {
						t.Fatalf("A's %s shows B's %s", path, id)
					}
				}
			}
		}
		// created makes a thing in A with the name B's has: names are per organisation.
		created := func(path string, body any) func(t *testing.T) {
			return func(t *testing.T) { ts.do("POST", path, a, body).want(t, http.StatusCreated) }
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
		guest := bRes.Customer.ID
		probes := map[string]func(t *testing.T){
			"POST /v1/interactions": func(t *testing.T) {
				// B's platform id, address and phone match nothing in A: a new customer of A's.
				var res crm.InteractionResult
				ts.do("POST", "/v1/interactions", a, map[string]any{"kind": "reservation", "source": "geheim-tool", "sourceId": "geheim-77",
					"lastName": "A's guest", "emails": []string{"gast@b.example", "bertha@b.example"}, "phones": []string{"+49 30 12345670"}}).
					want(t, http.StatusCreated).json(t, &res)
				if !res.Created || res.Customer.ID == guest || res.Customer.ID == id || len(res.Conflicts) != 0 {
					t.Fatalf("A's interaction found B's customer: %+v", res)
				}
				p := ts.do("POST", "/v1/interactions", a, map[string]any{"kind": "reservation", "source": "web", "form": "geheim_form2",
					"lastName": "X"}).wantProblem(t, http.StatusUnprocessableEntity)
				if !p.hasError("body.form", "unknown") {
					t.Fatalf("B's form in A: %+v", p)
				}
			},
			"GET /v1/interactions/{id}":              notFound("GET", "/v1/interactions/"+bInteraction, nil),
			"GET /v1/customers/{id}/interactions":    notFound("GET", "/v1/customers/"+guest+"/interactions", nil),
			"GET /v1/customers/{id}/field-origins":   notFound("GET", "/v1/customers/"+guest+"/field-origins", nil),
			"GET /v1/customers/{id}/match-conflicts": notFound("GET", "/v1/customers/"+guest+"/match-conflicts", nil),
			"GET /v1/forms":                          noneOf("/v1/forms", "geheim_form2"),
			"POST /v1/forms":                         created("/v1/forms", map[string]any{"key": "geheim_form", "name": "A's own"}),
			"GET /v1/forms/{key}":                    notFound("GET", "/v1/forms/geheim_form2", nil),
			"PATCH /v1/forms/{key}":                  notFound("PATCH", "/v1/forms/geheim_form2", map[string]any{"name": "Stolen"}),
			"DELETE /v1/forms/{key}":                 notFound("DELETE", "/v1/forms/geheim_form2", nil),
			"GET /v1/customers": func(t *testing.T) {
				onlyOwn("", "consent=newsletter:granted", "consent=newsletter:never", "name=bertha", "name=geheim", "email=bertha%40b.example",
					"email=bertha.alt%40b.example", "phone="+url.QueryEscape("+49 30 12345672"), "birthDate=1970-01-03",
					"number=3", "origin=b-origin", "language=de")(t)
				// B's ids are unknown in A: the filter is refused, naming them.
				for q, member := range map[string]string{"tag=" + bTag: "tags.any[0]", "attribute=" + bAttr: "attributes.any[0]",
					"membership=" + bClub: "membership", "tagNone=" + bTag: "tags.none[0]"} {
					if p := ts.do("GET", "/v1/customers?"+q, a, nil).wantProblem(t, http.StatusUnprocessableEntity); !p.hasError("query."+member, "unknown") {
						t.Fatalf("?%s: %+v", q, p)
					}
				}
			},
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
			"GET /v1/customers/count": func(t *testing.T) {
				for _, q := range []string{"?tag=" + bTag, "?attribute=" + bAttr, "?membership=" + bClub} {
					ts.do("GET", "/v1/customers/count"+q, a, nil).wantProblem(t, http.StatusUnprocessableEntity)
				}
				for _, q := range []string{"", "?name=geheim", "?consent=newsletter:granted"} {
					var n struct{ Count int64 }
					ts.do("GET", "/v1/customers/count"+q, a, nil).want(t, http.StatusOK).json(t, &n)
					if want := map[bool]int64{true: 1, false: 0}[q == ""]; n.Count != want {
						t.Fatalf("A's count%s = %d, want %d", q, n.Count, want)
					}
				}
			},
			"GET /v1/exports": noneOf("/v1/exports", bExport),
			"POST /v1/exports": func(t *testing.T) {
				p := ts.do("POST", "/v1/exports", a, map[string]any{"segmentId": bSegment}).wantProblem(t, http.StatusUnprocessableEntity)
				if !p.hasError("body.segmentId", "unknown") {
					t.Fatalf("B's segment in A's export: %+v", p)
				}
				body := string(ts.do("POST", "/v1/exports", a, map[string]any{"format": "jsonl"}).want(t, http.StatusOK).body)
				if strings.Contains(body, secret.ID) || strings.Contains(body, "Geheim") || !strings.Contains(body, own.ID) {
					t.Fatalf("A's export: %s", body)
				}
			},
			"GET /v1/imports": noneOf("/v1/imports", bImport),
			"POST /v1/imports": func(t *testing.T) {
				// B's customer's id and address in A's file match nothing of B's.
				im := idOf(ts.upload("/v1/imports", a, file("x.csv", []byte("Id,E-mail,Last name\n"+secret.ID+",Erste@b.example,Stolen\n"))).
					want(t, http.StatusCreated))
				if done, err := ts.crm.Imports.Run(crm.WithOrg(t.Context(), "org-a"), im, 0, nil); err != nil || done.Updated != 0 {
					t.Fatalf("A's import %+v, %v", done, err)
				}
			},
			"POST /v1/imports/preview": func(t *testing.T) {
				ts.upload("/v1/imports/preview", a, file("x.csv", []byte("E-mail\nErste@b.example\n"))).want(t, http.StatusOK)
			},
			"GET /v1/imports/{id}":             notFound("GET", "/v1/imports/"+bImport, nil),
			"GET /v1/imports/{id}/report":      notFound("GET", "/v1/imports/"+bImport+"/report?errors=true", nil),
			"POST /v1/imports/{id}/cancel":     notFound("POST", "/v1/imports/"+bImport+"/cancel", nil),
			"POST /v1/imports/{id}/revert":     notFound("POST", "/v1/imports/"+bImport+"/revert", nil),
			"GET /v1/tags":                     noneOf("/v1/tags", bTag),
			"GET /v1/attributes":               noneOf("/v1/attributes", bAttr),
			"GET /v1/labels":                   noneOf("/v1/labels", bLabel, bClub),
			"GET /v1/segments":                 noneOf("/v1/segments", bSegment),
			"POST /v1/tags":                    created("/v1/tags", map[string]any{"name": bTags.Items[0].Name + " A"}),
			"POST /v1/attributes":              created("/v1/attributes", map[string]any{"name": "Tauchen"}),
			"POST /v1/labels":                  created("/v1/labels", map[string]any{"name": "Stammgast"}),
			"POST /v1/segments":                created("/v1/segments", map[string]any{"name": "Geheime", "filter": map[string]any{"name": "geheim"}}),
			"GET /v1/tags/{id}":                notFound("GET", "/v1/tags/"+bTag, nil),
			"GET /v1/attributes/{id}":          notFound("GET", "/v1/attributes/"+bAttr, nil),
			"GET /v1/labels/{id}":              notFound("GET", "/v1/labels/"+bLabel, nil),
			"GET /v1/custom-fields/{key}":      notFound("GET", "/v1/custom-fields/geheim2", nil),
			"GET /v1/document-attributes/{id}": notFound("GET", "/v1/document-attributes/"+bDocAttr, nil),
			"GET /v1/consent-purposes/{purpose}/wordings/{wordingId}": notFound("GET", "/v1/consent-purposes/newsletter/wordings/"+bWording, nil),
			"GET /v1/customers/{id}/consent-log/{recordId}": func(t *testing.T) {
				for _, customer := range []string{id, own.ID} {
					ts.do("GET", "/v1/customers/"+customer+"/consent-log/"+bRecord, a, nil).wantProblem(t, http.StatusNotFound)
				}
			},
			"GET /v1/customers/{id}/points/transactions/{transactionId}": func(t *testing.T) {
				for _, customer := range []string{id, own.ID} {
					ts.do("GET", "/v1/customers/"+customer+"/points/transactions/"+bAward, a, nil).wantProblem(t, http.StatusNotFound)
				}
			},
			"PATCH /v1/tags/{id}":                                   notFound("PATCH", "/v1/tags/"+bTag, map[string]any{"name": "Stolen"}),
			"DELETE /v1/tags/{id}":                                  notFound("DELETE", "/v1/tags/"+bTag, nil),
			"PATCH /v1/attributes/{id}":                             notFound("PATCH", "/v1/attributes/"+bAttr, map[string]any{"name": "Stolen"}),
			"DELETE /v1/attributes/{id}":                            notFound("DELETE", "/v1/attributes/"+bAttr, nil),
			"PATCH /v1/labels/{id}":                                 notFound("PATCH", "/v1/labels/"+bLabel, map[string]any{"name": "Stolen"}),
			"DELETE /v1/labels/{id}":                                notFound("DELETE", "/v1/labels/"+bLabel, nil),
			"GET /v1/customers/{id}/tags":                           notFound("GET", "/v1/customers/"+id+"/tags", nil),
			"GET /v1/customers/{id}/attributes":                     notFound("GET", "/v1/customers/"+id+"/attributes", nil),
			"GET /v1/customers/{id}/labels":                         notFound("GET", "/v1/customers/"+id+"/labels", nil),
			"GET /v1/customers/{id}/memberships":                    notFound("GET", "/v1/customers/"+id+"/memberships", nil),
			"DELETE /v1/customers/{id}/tags/{qualifierId}":          notFound("DELETE", "/v1/customers/"+id+"/tags/"+bTag, nil),
			"DELETE /v1/customers/{id}/attributes/{qualifierId}":    notFound("DELETE", "/v1/customers/"+id+"/attributes/"+bAttr, nil),
			"DELETE /v1/customers/{id}/labels/{labelId}":            notFound("DELETE", "/v1/customers/"+id+"/labels/"+bLabel, nil),
			"POST /v1/customers/{id}/labels/{labelId}/benefit-uses": notFound("POST", "/v1/customers/"+id+"/labels/"+bLabel+"/benefit-uses", map[string]any{}),
			"POST /v1/customers/{id}/tags": func(t *testing.T) {
				ts.do("POST", "/v1/customers/"+id+"/tags", a, map[string]any{"ids": []string{bTag}}).wantProblem(t, http.StatusNotFound)
				p := ts.do("POST", "/v1/customers/"+own.ID+"/tags", a, map[string]any{"ids": []string{bTag}}).wantProblem(t, http.StatusUnprocessableEntity)
				if !p.hasError("body.ids[0]", "unknown") {
					t.Fatalf("B's tag on A's customer: %+v", p)
				}
			},
			"POST /v1/customers/{id}/attributes": func(t *testing.T) {
				ts.do("POST", "/v1/customers/"+id+"/attributes", a, map[string]any{"ids": []string{bAttr}}).wantProblem(t, http.StatusNotFound)
				ts.do("POST", "/v1/customers/"+own.ID+"/attributes", a, map[string]any{"ids": []string{bAttr}}).wantProblem(t, http.StatusUnprocessableEntity)
			},
			"POST /v1/customers/{id}/labels": func(t *testing.T) {
				ts.do("POST", "/v1/customers/"+id+"/labels", a, map[string]any{"labelId": bLabel}).wantProblem(t, http.StatusNotFound)
				ts.do("POST", "/v1/customers/"+own.ID+"/labels", a, map[string]any{"labelId": bLabel}).wantProblem(t, http.StatusNotFound)
			},
			"POST /v1/memberships": func(t *testing.T) {
				ts.do("POST", "/v1/memberships", a, map[string]any{"labelId": bClub, "holderId": id, "endsOn": "2099-01-01"}).wantProblem(t, http.StatusNotFound)
				p := ts.do("POST", "/v1/memberships", a, map[string]any{"labelId": bClub, "holderId": own.ID, "endsOn": "2099-01-01"}).
					wantProblem(t, http.StatusUnprocessableEntity)
				if !p.hasError("body.labelId", "unknown") {
					t.Fatalf("B's membership type for A's customer: %+v", p)
				}
			},
			"GET /v1/memberships/{id}":                        notFound("GET", "/v1/memberships/"+bMembership, nil),
			"POST /v1/memberships/{id}/cancel":                notFound("POST", "/v1/memberships/"+bMembership+"/cancel", nil),
			"POST /v1/memberships/{id}/renew":                 notFound("POST", "/v1/memberships/"+bMembership+"/renew", map[string]any{"endsOn": "2100-01-01"}),
			"POST /v1/memberships/{id}/shares":                notFound("POST", "/v1/memberships/"+bMembership+"/shares", map[string]any{"customerId": own.ID}),
			"DELETE /v1/memberships/{id}/shares/{customerId}": notFound("DELETE", "/v1/memberships/"+bMembership+"/shares/"+bFirst.ID, nil),
			"POST /v1/memberships/{id}/give-away":             notFound("POST", "/v1/memberships/"+bMembership+"/give-away", map[string]any{"customerId": own.ID}),
			"GET /v1/segments/{id}":                           notFound("GET", "/v1/segments/"+bSegment, nil),
			"PATCH /v1/segments/{id}":                         notFound("PATCH", "/v1/segments/"+bSegment, map[string]any{"name": "Stolen"}),
			"DELETE /v1/segments/{id}":                        notFound("DELETE", "/v1/segments/"+bSegment, nil),
			"GET /v1/segments/{id}/count":                     notFound("GET", "/v1/segments/"+bSegment+"/count", nil),
			"GET /v1/segments/{id}/customers":                 notFound("GET", "/v1/segments/"+bSegment+"/customers", nil),
			"PATCH /v1/custom-fields/{key}":                   notFound("PATCH", "/v1/custom-fields/geheim2", map[string]any{"label": "Stolen"}),
			"POST /v1/custom-fields/{key}/archive":            notFound("POST", "/v1/custom-fields/geheim2/archive", nil),
			"POST /v1/custom-fields/{key}/restore":            notFound("POST", "/v1/custom-fields/geheim2/restore", nil),

			"GET /v1/consent-purposes":  noneOf("/v1/consent-purposes", append(bPurposeIDs, "geheim_zwei")...),
			"POST /v1/consent-purposes": created("/v1/consent-purposes", map[string]any{"key": "geheim_zweck", "name": "A's own", "channel": "sms"}),
			"GET /v1/consent-purposes/{purpose}": func(t *testing.T) {
				for _, purpose := range []string{"geheim_zwei", bZwei, bNewsletter} {
					ts.do("GET", "/v1/consent-purposes/"+purpose, a, nil).wantProblem(t, http.StatusNotFound)
				}
				var own crm.ConsentPurpose
				ts.do("GET", "/v1/consent-purposes/newsletter", a, nil).want(t, http.StatusOK).json(t, &own)
				if own.ID == bNewsletter || slices.Contains(bPurposeIDs, own.ID) {
					t.Fatalf("A's newsletter is B's: %+v", own)
				}
			},
			"PATCH /v1/consent-purposes/{purpose}": func(t *testing.T) {
				for _, purpose := range []string{"geheim_zwei", bZwei, bNewsletter} {
					ts.do("PATCH", "/v1/consent-purposes/"+purpose, a, map[string]any{"name": "Stolen"}).wantProblem(t, http.StatusNotFound)
				}
				// A's own newsletter: B's keeps its name.
				ts.do("PATCH", "/v1/consent-purposes/newsletter", a, map[string]any{"name": "A's letter", "doubleOptIn": false}).want(t, http.StatusOK)
			},
			"GET /v1/consent-purposes/{purpose}/wordings": func(t *testing.T) {
				ts.do("GET", "/v1/consent-purposes/"+bNewsletter+"/wordings", a, nil).wantProblem(t, http.StatusNotFound)
				ts.do("GET", "/v1/consent-purposes/geheim_zwei/wordings", a, nil).wantProblem(t, http.StatusNotFound)
				noneOf("/v1/consent-purposes/newsletter/wordings", bWording, "geheimen")(t)
			},
			"POST /v1/consent-purposes/{purpose}/wordings": func(t *testing.T) {
				for _, purpose := range []string{"geheim_zwei", bNewsletter} {
					ts.do("POST", "/v1/consent-purposes/"+purpose+"/wordings", a, map[string]any{"language": "de", "text": "Stolen"}).
						wantProblem(t, http.StatusNotFound)
				}
				// The same text in A's own newsletter is A's next version (after
				// the built-in one), not B's wording.
				var w crm.ConsentWording
				ts.do("POST", "/v1/consent-purposes/newsletter/wordings", a, map[string]any{"language": "de",
					"text": "Ja, schickt mir den geheimen Newsletter."}).want(t, http.StatusCreated).json(t, &w)
				if w.ID == bWording || w.Version != 2 {
					t.Fatalf("A's wording %+v", w)
				}
			},
			"GET /v1/customers/{id}/consents":    notFound("GET", "/v1/customers/"+id+"/consents", nil),
			"GET /v1/customers/{id}/consent-log": notFound("GET", "/v1/customers/"+id+"/consent-log", nil),
			"POST /v1/customers/{id}/consents": func(t *testing.T) {
				for _, state := range []string{"granted", "withdrawn"} {
					ts.do("POST", "/v1/customers/"+id+"/consents", a, map[string]any{"purpose": "newsletter", "state": state, "source": "staff"}).
						wantProblem(t, http.StatusNotFound)
				}
				p := ts.do("POST", "/v1/customers/"+own.ID+"/consents", a, map[string]any{"purpose": "newsletter", "state": "granted",
					"source": "staff", "wordingId": bWording}).wantProblem(t, http.StatusUnprocessableEntity)
				if !p.hasError("body.wordingId", "unknown") {
					t.Fatalf("B's wording for A's customer: %+v", p)
				}
				p = ts.do("POST", "/v1/customers/"+own.ID+"/consents", a, map[string]any{"purpose": "geheim_zwei", "state": "granted",
					"source": "staff"}).wantProblem(t, http.StatusUnprocessableEntity)
				if !p.hasError("body.purpose", "unknown") {
					t.Fatalf("B's purpose for A's customer: %+v", p)
				}
			},
			"POST /v1/customers/{id}/consents/double-opt-in": func(t *testing.T) {
				ts.do("POST", "/v1/customers/"+id+"/consents/double-opt-in", a, map[string]any{"purpose": "newsletter", "source": "web_form"}).
					wantProblem(t, http.StatusNotFound)
				p := ts.do("POST", "/v1/customers/"+own.ID+"/consents/double-opt-in", a, map[string]any{"purpose": "geheim_zwei", "source": "web_form"}).
					wantProblem(t, http.StatusUnprocessableEntity)
				if !p.hasError("body.purpose", "unknown") {
					t.Fatalf("B's purpose for A's customer: %+v", p)
				}
			},
			// B confirms its token after the probes: A's attempt did not use it up.
			"POST /v1/consent-confirmations": notFound("POST", "/v1/consent-confirmations", map[string]any{"token": bPending.Token}),
			"GET /v1/customers/{id}/export": func(t *testing.T) {
				for _, q := range []string{"", "?format=zip", "?audience=customer&format=json"} {
					ts.do("GET", "/v1/customers/"+id+"/export"+q, a, nil).wantProblem(t, http.StatusNotFound)
				}
			},
			"POST /v1/customers/{id}/anonymise": notFound("POST", "/v1/customers/"+id+"/anonymise", nil),
			"GET /v1/retention": func(t *testing.T) {
				var p crm.RetentionPolicy
				res := ts.do("GET", "/v1/retention", a, nil).want(t, http.StatusOK)
				res.json(t, &p)
				if p.InactiveDays == 45 || strings.Contains(string(res.body), "geheim") {
					t.Fatalf("A reads B's retention policy: %s", res.body)
				}
			},
			"PUT /v1/retention": func(t *testing.T) {
				p := ts.do("PUT", "/v1/retention", a, map[string]any{"enabled": true, "inactiveDays": 45, "excludePurposes": []string{"geheim_zwei"}}).
					wantProblem(t, http.StatusUnprocessableEntity)
				if !p.hasError("body.excludePurposes[0]", "unknown") {
					t.Fatalf("B's purpose in A's policy: %+v", p)
				}
				ts.do("PUT", "/v1/retention", a, map[string]any{"enabled": true, "inactiveDays": 31}).want(t, http.StatusOK)
			},
			"POST /v1/retention/dry-run": func(t *testing.T) {
				ts.do("PUT", "/v1/retention", a, map[string]any{"enabled": true, "inactiveDays": 30}).want(t, http.StatusOK)
				var r crm.RetentionReport
				res := ts.do("POST", "/v1/retention/dry-run", a, nil).want(t, http.StatusOK)
				res.json(t, &r)
				if r.Organisation != "org-a" || !r.Enabled || len(r.Customers) != 0 || strings.Contains(string(res.body), bIdle.ID) {
					t.Fatalf("A's dry run: %s", res.body)
				}
			},
			"GET /v1/segments/{id}/mailing-selection": notFound("GET", "/v1/segments/"+bSegment+"/mailing-selection?purpose=newsletter", nil),

			"GET /v1/organisation": func(t *testing.T) {
				var org crm.Organisation
				res := ts.do("GET", "/v1/organisation", a, nil).want(t, http.StatusOK)
				res.json(t, &org)
				if org.ID != "org-a" || strings.Contains(string(res.body), "org-b") || strings.Contains(string(res.body), "Restaurant B") {
					t.Fatalf("A reads %s", res.body)
				}
				ts.do("GET", "/v1/organisation?id=org-b", a, nil).wantProblem(t, http.StatusUnprocessableEntity)
			},
			"PATCH /v1/organisation": func(t *testing.T) {
				// The organisation is the key's: naming B's is refused, and
				// A's changes are A's.
				p := ts.do("PATCH", "/v1/organisation", a, map[string]any{"id": "org-b", "pointsEnabled": false}).
					wantProblem(t, http.StatusUnprocessableEntity)
				if !p.hasError("body.id", "") {
					t.Fatalf("an organisation id in the body: %+v", p)
				}
				ts.do("PATCH", "/v1/organisation?id=org-b", a, map[string]any{"pointsEnabled": false}).wantProblem(t, http.StatusUnprocessableEntity)
				var org crm.Organisation
				ts.do("PATCH", "/v1/organisation", a, map[string]any{"name": "Reisbureau A2", "defaultCountry": "BE", "pointsEnabled": true}).
					want(t, http.StatusOK).json(t, &org)
				if org.ID != "org-a" || org.Name != "Reisbureau A2" || !org.PointsEnabled {
					t.Fatalf("A's settings %+v", org)
				}
			},
			"GET /v1/customers/{id}/points": notFound("GET", "/v1/customers/"+id+"/points", nil),
			"GET /v1/customers/{id}/points/transactions": func(t *testing.T) {
				ts.do("GET", "/v1/customers/"+id+"/points/transactions", a, nil).wantProblem(t, http.StatusNotFound)
				noneOf("/v1/customers/"+own.ID+"/points/transactions?limit=500", bTransactions...)(t)
			},
			"POST /v1/customers/{id}/points/awards": func(t *testing.T) {
				ts.do("POST", "/v1/customers/"+id+"/points/awards", a, bAwardBody).wantProblem(t, http.StatusNotFound)
				ts.do("POST", "/v1/customers/"+id+"/points/awards", a, bAwardBody, "Idempotency-Key", "geheim-award").wantProblem(t, http.StatusNotFound)
				// B's key and body on A's customer: a new award of A's, not B's replayed.
				var tx crm.PointTransaction
				ts.do("POST", "/v1/customers/"+own.ID+"/points/awards", a, bAwardBody, "Idempotency-Key", "geheim-award").
					want(t, http.StatusCreated).json(t, &tx)
				if tx.ID == bAward || tx.CustomerID != own.ID || tx.Actor != crm.Staff("staff-org-a") {
					t.Fatalf("A's award with B's key %+v", tx)
				}
			},
			"POST /v1/customers/{id}/points/redemptions": func(t *testing.T) {
				ts.do("POST", "/v1/customers/"+id+"/points/redemptions", a, map[string]any{"points": 1}).wantProblem(t, http.StatusNotFound)
				ts.do("POST", "/v1/customers/"+id+"/points/redemptions", a, map[string]any{"points": 100}, "Idempotency-Key", "geheim-redeem").
					wantProblem(t, http.StatusNotFound)
				// B's key on A's customer spends A's points, never answers with B's redemption.
				var tx crm.PointTransaction
				ts.do("POST", "/v1/customers/"+own.ID+"/points/redemptions", a, map[string]any{"points": 100}, "Idempotency-Key", "geheim-redeem").
					want(t, http.StatusCreated).json(t, &tx)
				if tx.ID == bRedeem || tx.CustomerID != own.ID {
					t.Fatalf("A's redemption with B's key %+v", tx)
				}
				// A's balance is A's: B's points cannot be spent through A's customer.
				var bal crm.PointBalance
				ts.do("GET", "/v1/customers/"+own.ID+"/points", a, nil).want(t, http.StatusOK).json(t, &bal)
				ts.do("POST", "/v1/customers/"+own.ID+"/points/redemptions", a, map[string]any{"points": bal.Available + 1}).
					wantProblem(t, http.StatusConflict)
			},
			"POST /v1/customers/{id}/points/corrections": func(t *testing.T) {
				for _, pts := range []int{7, -7} {
					ts.do("POST", "/v1/customers/"+id+"/points/corrections", a, map[string]any{"points": pts, "reason": "Stolen"}).
						wantProblem(t, http.StatusNotFound)
				}
				ts.do("POST", "/v1/customers/"+id+"/points/corrections", a, map[string]any{"points": 7, "reason": "Geheim"}, "Idempotency-Key", "geheim-correct").
					wantProblem(t, http.StatusNotFound)
			},

			"POST /v1/customers/{id}/documents": func(t *testing.T) {
				ts.upload(bDocs, a, file("x.pdf", pdfBytes)).wantProblem(t, http.StatusNotFound)
				p := ts.upload(ownDocs, a, field("attributeId", bDocAttr), file("x.pdf", pdfBytes)).wantProblem(t, http.StatusUnprocessableEntity)
				if !p.hasError("body.attributeId", "unknown") {
					t.Fatalf("B's attribute on A's document: %+v", p)
				}
			},
			"GET /v1/customers/{id}/documents": func(t *testing.T) {
				for _, view := range []string{"", "?view=staff", "?view=portal"} {
					ts.do("GET", bDocs+view, a, nil).wantProblem(t, http.StatusNotFound)
				}
				noneOf(ownDocs, bPDF, bNote, "Geheim")(t)
			},
			"GET /v1/documents/{id}": func(t *testing.T) {
				for _, d := range []string{bPDF, bNote} {
					ts.do("GET", "/v1/documents/"+d, a, nil).wantProblem(t, http.StatusNotFound)
				}
			},
			"GET /v1/documents/{id}/content": func(t *testing.T) {
				for _, d := range []string{bPDF, bNote} {
					ts.do("GET", "/v1/documents/"+d+"/content", a, nil).wantProblem(t, http.StatusNotFound)
					ts.do("GET", "/v1/documents/"+d+"/content", a, nil, "If-None-Match", "*").wantProblem(t, http.StatusNotFound)
				}
			},
			"PATCH /v1/documents/{id}": func(t *testing.T) {
				for _, d := range []string{bPDF, bNote} {
					ts.do("PATCH", "/v1/documents/"+d, a, map[string]any{"title": "Stolen", "visibility": "internal", "attributeId": ""}).
						wantProblem(t, http.StatusNotFound)
				}
				p := ts.do("PATCH", "/v1/documents/"+ownDoc, a, map[string]any{"attributeId": bDocAttr}).wantProblem(t, http.StatusUnprocessableEntity)
				if !p.hasError("body.attributeId", "unknown") {
					t.Fatalf("B's attribute on A's document: %+v", p)
				}
			},
			"DELETE /v1/documents/{id}": func(t *testing.T) {
				for _, d := range []string{bPDF, bNote} {
					ts.do("DELETE", "/v1/documents/"+d, a, nil).wantProblem(t, http.StatusNotFound)
				}
				// A's copy of B's contents is A's: deleting it leaves B's (the snapshot reads them).
				copied := idOf(ts.upload(ownDocs, a, file("gutschein.pdf", pdfBytes)).want(t, http.StatusCreated))
				if copied == bPDF {
					t.Fatal("A's upload is B's document")
				}
				ts.do("DELETE", "/v1/documents/"+copied, a, nil).want(t, http.StatusNoContent)
			},
			"POST /v1/customers/{id}/documents/send": func(t *testing.T) {
				ts.do("POST", bDocs+"/send", a, map[string]any{"documentIds": []string{bPDF, bNote}}).wantProblem(t, http.StatusNotFound)
				p := ts.do("POST", ownDocs+"/send", a, map[string]any{"documentIds": []string{ownDoc, bNote}}).wantProblem(t, http.StatusUnprocessableEntity)
				if !p.hasError("body.documentIds[1]", "unknown") || p.hasError("body.documentIds[0]", "") {
					t.Fatalf("B's document in A's mail: %+v", p)
				}
			},
			"POST /v1/customers/{id}/reports":        notFound("POST", "/v1/customers/"+id+"/reports", nil),
			"GET /v1/document-attributes":            noneOf("/v1/document-attributes", bDocAttr, "Geheime Gutscheine"),
			"POST /v1/document-attributes":           created("/v1/document-attributes", map[string]any{"name": "Geheime Gutscheine"}),
			"POST /v1/document-attributes/{id}/send": notFound("POST", "/v1/document-attributes/"+bDocAttr+"/send", nil),
			"GET /v1/mail-templates":                 noneOf("/v1/mail-templates", "Geheime Unterlagen", "geheim_brief", "Geheimer Brief"),
			"DELETE /v1/mail-templates/{key}/{language}": func(t *testing.T) {
				ts.do("DELETE", "/v1/mail-templates/geheim_brief/de", a, nil).wantProblem(t, http.StatusNotFound)
				ts.do("DELETE", "/v1/mail-templates/document_delivery/de", a, nil).wantProblem(t, http.StatusNotFound)
			},
			"POST /v1/mail-templates": func(t *testing.T) {
				// B's key is no key of A's: A declares it for itself.
				ts.do("POST", "/v1/mail-templates", a, map[string]any{"key": "geheim_notiz", "language": "de", "subject": "A's own", "text": "A"}).
					want(t, http.StatusCreated)
			},
			"PUT /v1/mail-templates/{key}/{language}": func(t *testing.T) {
				// A built-in key is every organisation's; A's text is A's.
				var tpl crm.MailTemplate
				ts.do("PUT", "/v1/mail-templates/document_delivery/de", a, map[string]any{"subject": "A's own", "text": "A"}).
					want(t, http.StatusOK).json(t, &tpl)
				if tpl.Subject != "A's own" {
					t.Fatalf("A's template %+v", tpl)
				}
				// A key B declared is not declared for A.
				p := ts.do("PUT", "/v1/mail-templates/geheim_brief/de", a, map[string]any{"subject": "A's own", "text": "A"}).
					wantProblem(t, http.StatusUnprocessableEntity)
				if !p.hasError("path.key", "unknown") {
					t.Fatalf("A's text under B's key: %+v", p)
				}
			},
			"POST /v1/mail-templates/{key}/preview": func(t *testing.T) {
				ts.do("POST", "/v1/mail-templates/geheim_brief/preview", a, map[string]any{"language": "de"}).wantProblem(t, http.StatusNotFound)
				p := ts.do("POST", "/v1/mail-templates/document_delivery/preview", a, map[string]any{"customerId": id}).
					wantProblem(t, http.StatusUnprocessableEntity)
				if !p.hasError("body.customerId", "unknown") {
					t.Fatalf("preview for B's customer: %+v", p)
				}
				res := ts.do("POST", "/v1/mail-templates/document_delivery/preview", a, map[string]any{"language": "de"}).want(t, http.StatusOK)
				if strings.Contains(string(res.body), "Geheim") {
					t.Fatalf("A's preview shows B's text: %s", res.body)
				}
			},
			"GET /v1/outbox": func(t *testing.T) {
				noneOf("/v1/outbox?limit=500", bMail, secret.ID)(t)
				ts.do("GET", "/v1/outbox?customerId="+id, a, nil).wantProblem(t, http.StatusNotFound)
			},
			"GET /v1/outbox/{id}": notFound("GET", "/v1/outbox/"+bMail, nil),
			"POST /v1/customers/{id}/points/transactions/{transactionId}/reversal": func(t *testing.T) {
				for _, tx := range bTransactions {
					for _, customer := range []string{id, own.ID} {
						ts.do("POST", "/v1/customers/"+customer+"/points/transactions/"+tx+"/reversal", a, nil).wantProblem(t, http.StatusNotFound)
						ts.do("POST", "/v1/customers/"+customer+"/points/transactions/"+tx+"/reversal", a, map[string]any{"reason": "Stolen"},
							"Idempotency-Key", "geheim-reverse").wantProblem(t, http.StatusNotFound)
					}
				}
			},
		}
		probes["GET /v1/customers/{id}/possible-duplicates"] = func(t *testing.T) {
			ts.do("GET", "/v1/customers/"+id+"/possible-duplicates", a, nil).wantProblem(t, http.StatusNotFound)
			if strings.Contains(string(ts.do("GET", "/v1/customers/"+own.ID+"/possible-duplicates", a, nil).want(t, http.StatusOK).body), id) {
				t.Fatal("A's possible duplicates name B's customer")
			}
		}
		// B's candidate pair, stored as B's duplicate check would.
		lo, hi := min(secret.ID, bFirst.ID), max(secret.ID, bFirst.ID)
		if err := ts.db.DuplicatePairsSet(context.Background(), "org-b", secret.ID, []crm.DuplicatePair{{CustomerID: lo, OtherCustomerID: hi,
			Score: 40, Reasons: []crm.DuplicateReason{crm.ReasonSameEmail}, FoundAt: time.Now()}}); err != nil {
			t.Fatal(err)
		}
		probes["GET /v1/duplicates"] = func(t *testing.T) {
			if body := string(ts.do("GET", "/v1/duplicates", a, nil).want(t, http.StatusOK).body); strings.Contains(body, lo) || strings.Contains(body, hi) {
				t.Fatal("A's candidates name B's customers")
			}
			if body := string(ts.do("GET", "/v1/duplicates", b, nil).want(t, http.StatusOK).body); !strings.Contains(body, lo) {
				t.Fatal("B's candidates lack B's pair")
			}
		}
		probes["POST /v1/customers/{id}/duplicate-dismissals"] = func(t *testing.T) {
			ts.do("POST", "/v1/customers/"+id+"/duplicate-dismissals", a, map[string]any{"otherCustomerId": own.ID}).wantProblem(t, http.StatusNotFound)
			ts.do("POST", "/v1/customers/"+own.ID+"/duplicate-dismissals", a, map[string]any{"otherCustomerId": id}).wantProblem(t, http.StatusNotFound)
			ts.do("POST", "/v1/customers/"+secret.ID+"/duplicate-dismissals", a, map[string]any{"otherCustomerId": bFirst.ID}).wantProblem(t, http.StatusNotFound)
		}
		probes["GET /v1/customers/{id}/merge-preview"] = func(t *testing.T) {
			ts.do("GET", "/v1/customers/"+own.ID+"/merge-preview?duplicate="+id, a, nil).wantProblem(t, http.StatusNotFound)
			ts.do("GET", "/v1/customers/"+id+"/merge-preview?duplicate="+own.ID, a, nil).wantProblem(t, http.StatusNotFound)
		}
		probes["POST /v1/customers/{id}/merge"] = func(t *testing.T) {
			for _, pair := range [][2]string{{own.ID, id}, {id, own.ID}} {
				ts.do("POST", "/v1/customers/"+pair[0]+"/merge", a, map[string]any{"duplicateId": pair[1], "survivorVersion": 1, "duplicateVersion": 1}).
					wantProblem(t, http.StatusNotFound)
			}
		}
		for route, probe := range bookingProbes(t, ts, a, b, secret.ID, own.ID, "GEHEIM-1") {
			probes[route] = probe
		}
		for route, probe := range portalProbes {
			probes[route] = probe
		}
		for route, probe := range reportProbes(ts, bTag, bSegment, secret.ID, bAttr) {
			probes[route] = probe
		}
		bInquiry := idOf(ts.do("POST", "/v1/customers/"+secret.ID+"/inquiries", b, map[string]any{"title": "Geheim", "destination": "Geheiminsel"}).
			want(t, http.StatusCreated))
		for route, probe := range inquiryProbes(ts, secret.ID, bInquiry) {
			probes[route] = probe
		}
		// B's second field, which A never defines.
		ts.do("POST", "/v1/custom-fields", b, map[string]any{"key": "geheim2", "label": "Geheim 2", "type": "text"}).want(t, http.StatusCreated)
		// The staff probes compare B's staff side and timeline before and
		// after each probe: taken last, when B's data is all written.
		for route, probe := range staffIsolationProbes(t, ts, secret.ID, own.ID) {
			probes[route] = probe
		}
		before := snapshot()

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
				path = strings.NewReplacer("{id}", id, "{number}", "1", "{key}", "geheim", "{email}", "x@b.example", "{purpose}", "geheim_zwei",
					"{language}", "de", "{qualifierId}", bTag, "{labelId}", bLabel, "{customerId}", bFirst.ID, "{transactionId}", bAward,
					"{reference}", "GEHEIM-1-only-b", "{group}", "all", "{kind}", "tags").Replace(path)
				ts.do(method, path, "", `{}`).wantProblem(t, http.StatusUnauthorized)
			})
		}
		for route := range probes {
			if _, ok := routes[route]; !ok {
				t.Errorf("probe for %s, which the OpenAPI document does not list", route)
			}
		}

		after := snapshot()
		for i := range before {
			if before[i] != after[i] {
				t.Fatalf("B's data changed under A's probes:\nbefore %s\nafter  %s", before[i], after[i])
			}
		}

		// B's idempotency keys are still B's: a repeat replays B's transaction.
		var replay crm.PointTransaction
		ts.do("POST", bPoints+"/awards", b, bAwardBody, "Idempotency-Key", "geheim-award").want(t, http.StatusCreated).json(t, &replay)
		if replay.ID != bAward || replay.CustomerID != secret.ID {
			t.Fatalf("B's repeat %+v", replay)
		}
		if again := snapshot(); !slices.Equal(again, after) {
			t.Fatal("B's repeated award wrote")
		}

		// What B's snapshot cannot show without changing it: B's token still
		// works (A did not use it up), and B's own records are B's.
		var confirmed crm.ConsentRecord
		ts.do("POST", "/v1/consent-confirmations", b, map[string]any{"token": bPending.Token}).want(t, http.StatusCreated).json(t, &confirmed)
		if confirmed.Confirms != bPending.Record.ID || confirmed.CustomerID != secret.ID || confirmed.Actor != crm.Staff("staff-org-b") {
			t.Fatalf("B's confirmation %+v", confirmed)
		}
		var log struct{ Items []crm.ConsentRecord }
		ts.do("GET", "/v1/customers/"+secret.ID+"/consent-log", b, nil).want(t, http.StatusOK).json(t, &log)
		if len(log.Items) != 3 || log.Items[0].ID != bRecord || log.Items[0].IP != "192.0.2.66" {
			t.Fatalf("B's consent log %+v", log.Items)
		}
	})
}
