package httpapi_test

import (
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

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
		var other crm.Customer
		ts.do("POST", "/v1/customers", key, map[string]any{"lastName": "Other", "loginEmail": "other@example.nl"}).
			want(t, http.StatusCreated).json(t, &other)

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

		// Consents: a wording, a segment, an anonymised customer, a used
		// and an expired double opt-in token, a retention policy.
		ts.do("POST", "/v1/consent-purposes/newsletter/wordings", key, map[string]any{"language": "nl", "text": "Ja, graag."}).
			want(t, http.StatusCreated)
		var seg crm.Segment
		ts.do("POST", "/v1/segments", key, map[string]any{"name": "All"}).want(t, http.StatusCreated).json(t, &seg)
		var gone crm.Customer
		ts.do("POST", "/v1/customers", key, map[string]any{"lastName": "Vergeten"}).want(t, http.StatusCreated).json(t, &gone)
		anonymised := ts.do("POST", "/v1/customers/"+gone.ID+"/anonymise", key, nil).want(t, http.StatusOK)
		var used crm.PendingConsent
		ts.do("POST", "/v1/customers/"+c.ID+"/consents/double-opt-in", key, map[string]any{"purpose": "newsletter", "source": "web_form"}).
			want(t, http.StatusCreated).json(t, &used)
		ts.do("POST", "/v1/consent-confirmations", key, map[string]any{"token": used.Token}).want(t, http.StatusCreated)
		then, err := crm.New(ts.db, crm.Config{Clock: func() time.Time { return time.Now().Add(-crm.DefaultConfirmationTTL - time.Hour) }})
		if err != nil {
			t.Fatal(err)
		}
		expired, err := then.Consents.RequestConfirmation(crm.WithActor(crm.WithOrg(t.Context(), "org-a"), crm.Staff("staff-org-a")), c.ID,
			crm.ConsentInput{Purpose: crm.PurposeCommercialEmail, Source: crm.SourceWebForm})
		if err != nil {
			t.Fatal(err)
		}
		ts.do("PUT", "/v1/retention", key, map[string]any{"enabled": true, "inactiveDays": 365, "excludePurposes": []string{"newsletter"}}).
			want(t, http.StatusOK)

		// Points: switched on, an award, a redemption and its reversal, and a
		// redemption that leaves too little to take the award back.
		ts.do("PATCH", "/v1/organisation", key, map[string]any{"pointsEnabled": true}).want(t, http.StatusOK)
		pts := "/v1/customers/" + c.ID + "/points"
		var award, redemption, reversal crm.PointTransaction
		ts.do("POST", pts+"/awards", key, map[string]any{"points": 10}, "Idempotency-Key", "award-1").want(t, http.StatusCreated).json(t, &award)
		ts.do("POST", pts+"/redemptions", key, map[string]any{"points": 3}).want(t, http.StatusCreated).json(t, &redemption)
		ts.do("POST", pts+"/transactions/"+redemption.ID+"/reversal", key, nil).want(t, http.StatusCreated).json(t, &reversal)
		ts.do("POST", pts+"/redemptions", key, map[string]any{"points": 4}).want(t, http.StatusCreated)

		// Documents: an attribute, a document of c's and of other's, a
		// customer without an e-mail address with a document, and A's own
		// Dutch text of the document mail.
		var docAttr crm.DocumentAttribute
		var doc, otherDoc, noMailDoc crm.Document
		ts.do("POST", "/v1/document-attributes", key, map[string]any{"name": "Vouchers"}).want(t, http.StatusCreated).json(t, &docAttr)
		docs := "/v1/customers/" + c.ID + "/documents"
		ts.upload(docs, key, file("voucher.pdf", pdfBytes)).want(t, http.StatusCreated).json(t, &doc)
		ts.upload("/v1/customers/"+other.ID+"/documents", key, file("other.txt", []byte("other"))).want(t, http.StatusCreated).json(t, &otherDoc)
		var noMail crm.Customer
		ts.do("POST", "/v1/customers", key, map[string]any{"lastName": "Zonderpost"}).want(t, http.StatusCreated).json(t, &noMail)
		ts.upload("/v1/customers/"+noMail.ID+"/documents", key, file("n.txt", []byte("n"))).want(t, http.StatusCreated).json(t, &noMailDoc)
		ts.do("PUT", "/v1/mail-templates/document_delivery/nl", key, map[string]any{"subject": "Documenten", "text": "Hallo"}).want(t, http.StatusOK)
		ts.do("POST", docs+"/send", key, map[string]any{"documentIds": []string{doc.ID}}).want(t, http.StatusAccepted)

		// Interactions: a form that requires a last name and an e-mail address.
		ts.do("POST", "/v1/forms", key, map[string]any{"key": "booking", "name": "Booking", "kind": "reservation",
			"fields": []map[string]any{{"field": "lastName", "required": true}, {"field": "emails", "required": true}, {"field": "customFields.shoe_size"}}}).
			want(t, http.StatusCreated)

		type snapshot struct {
			Forms      struct{ Items []crm.Form }
			Customers  crm.Page[crm.Customer]
			History    []crm.HistoryEvent
			Defs       []crm.CustomFieldDefinition
			ConsentLog []crm.ConsentRecord
			Consents   []crm.CustomerConsent
			Purposes   []crm.ConsentPurpose
			Wordings   []crm.ConsentWording
			Retention  crm.RetentionPolicy
			Org        crm.Organisation
			Points     crm.PointBalance
			Ledger     crm.Page[crm.PointTransaction]
			Documents  [][]crm.Document
			Contents   [][]byte
			DocAttrs   []crm.DocumentAttribute
			Templates  []crm.MailTemplate
			Outbox     crm.Page[crm.OutboxMail]
		}
		state := func() snapshot {
			var st snapshot
			ts.do("GET", "/v1/customers?limit=500", key, nil).want(t, http.StatusOK).json(t, &st.Customers)
			ts.do("GET", "/v1/forms", key, nil).want(t, http.StatusOK).json(t, &st.Forms)
			var h crm.Page[crm.HistoryEvent]
			ts.do("GET", "/v1/customers/"+c.ID+"/history", key, nil).want(t, http.StatusOK).json(t, &h)
			st.History = h.Items
			var defs struct{ Items []crm.CustomFieldDefinition }
			ts.do("GET", "/v1/custom-fields?includeArchived=true", key, nil).want(t, http.StatusOK).json(t, &defs)
			st.Defs = defs.Items
			var log struct{ Items []crm.ConsentRecord }
			ts.do("GET", "/v1/customers/"+c.ID+"/consent-log", key, nil).want(t, http.StatusOK).json(t, &log)
			st.ConsentLog = log.Items
			var consents struct{ Items []crm.CustomerConsent }
			ts.do("GET", "/v1/customers/"+c.ID+"/consents", key, nil).want(t, http.StatusOK).json(t, &consents)
			st.Consents = consents.Items
			var purposes struct{ Items []crm.ConsentPurpose }
			ts.do("GET", "/v1/consent-purposes", key, nil).want(t, http.StatusOK).json(t, &purposes)
			st.Purposes = purposes.Items
			var wordings struct{ Items []crm.ConsentWording }
			ts.do("GET", "/v1/consent-purposes/newsletter/wordings", key, nil).want(t, http.StatusOK).json(t, &wordings)
			st.Wordings = wordings.Items
			ts.do("GET", "/v1/retention", key, nil).want(t, http.StatusOK).json(t, &st.Retention)
			ts.do("GET", "/v1/organisation", key, nil).want(t, http.StatusOK).json(t, &st.Org)
			ts.do("GET", pts, key, nil).want(t, http.StatusOK).json(t, &st.Points)
			ts.do("GET", pts+"/transactions?limit=500", key, nil).want(t, http.StatusOK).json(t, &st.Ledger)
			for _, cust := range []string{c.ID, other.ID, noMail.ID} {
				var l struct{ Items []crm.Document }
				ts.do("GET", "/v1/customers/"+cust+"/documents", key, nil).want(t, http.StatusOK).json(t, &l)
				st.Documents = append(st.Documents, l.Items)
				for _, d := range l.Items {
					st.Contents = append(st.Contents, ts.do("GET", "/v1/documents/"+d.ID+"/content", key, nil).want(t, http.StatusOK).body)
				}
			}
			var attrs struct{ Items []crm.DocumentAttribute }
			ts.do("GET", "/v1/document-attributes", key, nil).want(t, http.StatusOK).json(t, &attrs)
			st.DocAttrs = attrs.Items
			var templates struct{ Items []crm.MailTemplate }
			ts.do("GET", "/v1/mail-templates", key, nil).want(t, http.StatusOK).json(t, &templates)
			st.Templates = templates.Items
			ts.do("GET", "/v1/outbox?limit=500", key, nil).want(t, http.StatusOK).json(t, &st.Outbox)
			return st
		}
		before := state()

		huge := `{"lastName": "` + strings.Repeat("x", 70<<10) + `"}` // over the test server's 64 KiB
		customer := "/v1/customers/" + c.ID
		consents := customer + "/consents"
		const unknownID = "01936d3c-0000-7000-8000-000000000000"
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
			{"If-Match any of an unknown customer", "PATCH", "/v1/customers/" + unknownID, `{"lastName": "Y"}`, []string{"If-Match", `*`}, 404, nil},
			{"If-Match list with a bad entry", "PATCH", customer, `{"lastName": "Y"}`, []string{"If-Match", `"1", "one"`}, 400, []string{"header.If-Match"}},
			{"If-Match list without the version", "PATCH", customer, `{"lastName": "Y"}`, []string{"If-Match", `"5", W/"6"`}, 412, []string{"header.If-Match"}},
			{"stale If-Match", "PATCH", customer, `{"lastName": "Y"}`, []string{"If-Match", `"7"`}, 412, nil},
			{"patch malformed", "PATCH", customer, `{"lastName": }`, []string{"If-Match", `"1"`}, 400, nil},
			{"patch unknown member", "PATCH", customer, `{"nmae": "Y"}`, []string{"If-Match", `"1"`}, 422, []string{"body.nmae"}},
			{"patch clears every name", "PATCH", customer, `{"lastName": null, "loginEmail": null}`, []string{"If-Match", `"1"`}, 422, []string{"body.lastName"}},
			{"patch null status", "PATCH", customer, `{"status": null}`, []string{"If-Match", `"1"`}, 422, []string{"body.status"}},
			{"patch login e-mail taken", "PATCH", customer, `{"loginEmail": "other@example.nl"}`, []string{"If-Match", `"1"`}, 409,
				[]string{"body.loginEmail"}},
			{"alt e-mail invalid", "POST", customer + "/alt-emails", `{"email": "nope"}`, nil, 422, []string{"body.email"}},
			{"alt e-mail missing", "POST", customer + "/alt-emails", `{}`, nil, 422, []string{"body.email"}},
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
			{"tag filter not an id", "GET", "/v1/customers?tag=VIP", nil, nil, 422, []string{"query.tags.any[0]"}},
			{"bad sort", "GET", "/v1/customers?sort=age", nil, nil, 422, []string{"query.sort"}},
			{"first contact range reversed", "GET", "/v1/customers?firstContactFrom=2025-02-01&firstContactTo=2025-01-01", nil, nil, 422,
				[]string{"query.firstContactTo"}},
			{"bad first contact date", "GET", "/v1/customers/count?firstContactFrom=2025-02-30", nil, nil, 422, []string{"query.firstContactFrom"}},
			{"assign a membership type", "POST", customer + "/labels", map[string]any{"labelId": club.ID}, nil, 422, []string{"body.labelId"}},
			{"benefit without the label", "POST", customer + "/labels/" + plain.ID + "/benefit-uses", `{}`, nil, 409, []string{"path.labelId"}},
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

			{"consent unknown purpose", "POST", consents, `{"purpose": "nope", "state": "granted", "source": "staff"}`, nil, 422, []string{"body.purpose"}},
			{"consent state pending", "POST", consents, `{"purpose": "post", "state": "pending", "source": "staff"}`, nil, 422, []string{"body.state"}},
			{"consent without state", "POST", consents, `{"purpose": "post", "source": "staff"}`, nil, 422, []string{"body.state"}},
			{"consent bad source", "POST", consents, `{"purpose": "post", "state": "granted", "source": "email"}`, nil, 422, []string{"body.source"}},
			{"consent bad ip", "POST", consents, `{"purpose": "post", "state": "granted", "source": "staff", "ip": "300.1.2.3"}`, nil, 422,
				[]string{"body.ip"}},
			{"consent user agent too long", "POST", consents, map[string]any{"purpose": "post", "state": "granted", "source": "staff",
				"userAgent": strings.Repeat("M", 501)}, nil, 422, []string{"body.userAgent"}},
			{"consent purpose too long", "POST", consents, map[string]any{"purpose": strings.Repeat("p", 41), "state": "granted", "source": "staff"},
				nil, 422, []string{"body.purpose"}},
			{"consent wording not an id", "POST", consents, `{"purpose": "newsletter", "state": "granted", "source": "staff", "wordingId": "w1"}`,
				nil, 422, []string{"body.wordingId"}},
			{"consent unknown wording", "POST", consents, map[string]any{"purpose": "newsletter", "state": "granted", "source": "staff",
				"wordingId": unknownID}, nil, 422, []string{"body.wordingId"}},
			{"consent unknown member", "POST", consents, `{"purpose": "post", "state": "granted", "source": "staff", "ipAddress": "192.0.2.1"}`,
				nil, 422, []string{"body.ipAddress"}},
			{"web form grant of a double opt-in purpose", "POST", consents, `{"purpose": "newsletter", "state": "granted", "source": "web_form"}`,
				nil, 422, []string{"body.source"}},
			{"consent of an unknown customer", "POST", "/v1/customers/" + unknownID + "/consents", `{"purpose": "post", "state": "granted", "source": "staff"}`,
				nil, 404, nil},
			{"consent of an anonymised customer", "POST", "/v1/customers/" + gone.ID + "/consents", `{"purpose": "post", "state": "withdrawn", "source": "staff"}`,
				nil, 409, nil},
			{"consents of an unknown customer", "GET", "/v1/customers/" + unknownID + "/consents", nil, nil, 404, nil},
			{"consent log of an unknown customer", "GET", "/v1/customers/" + unknownID + "/consent-log", nil, nil, 404, nil},
			{"double opt-in unknown purpose", "POST", consents + "/double-opt-in", `{"purpose": "nope", "source": "web_form"}`, nil, 422, []string{"body.purpose"}},
			{"double opt-in bad source", "POST", consents + "/double-opt-in", `{"purpose": "newsletter", "source": "fax"}`, nil, 422, []string{"body.source"}},
			{"double opt-in bad ip", "POST", consents + "/double-opt-in", `{"purpose": "newsletter", "source": "web_form", "ip": "::g"}`, nil, 422,
				[]string{"body.ip"}},
			{"double opt-in state", "POST", consents + "/double-opt-in", `{"purpose": "newsletter", "source": "web_form", "state": "granted"}`, nil, 422,
				[]string{"body.state"}},
			{"double opt-in of an anonymised customer", "POST", "/v1/customers/" + gone.ID + "/consents/double-opt-in",
				`{"purpose": "newsletter", "source": "web_form"}`, nil, 409, nil},
			{"empty token", "POST", "/v1/consent-confirmations", `{"token": ""}`, nil, 422, []string{"body.token"}},
			{"no token", "POST", "/v1/consent-confirmations", `{}`, nil, 422, []string{"body.token"}},
			{"oversized token", "POST", "/v1/consent-confirmations", map[string]any{"token": strings.Repeat("t", 101)}, nil, 422, []string{"body.token"}},
			{"unknown token", "POST", "/v1/consent-confirmations", `{"token": "no-such-token"}`, nil, 404, nil},
			{"used token", "POST", "/v1/consent-confirmations", map[string]any{"token": used.Token}, nil, 409, []string{"body.token"}},
			{"expired token", "POST", "/v1/consent-confirmations", map[string]any{"token": expired.Token}, nil, 422, []string{"body.token"}},
			{"confirmation bad ip", "POST", "/v1/consent-confirmations", map[string]any{"token": expired.Token, "ip": "localhost"}, nil, 422,
				[]string{"body.ip"}},
			{"purpose bad key", "POST", "/v1/consent-purposes", `{"key": "News Letter", "name": "X", "channel": "email"}`, nil, 422, []string{"body.key"}},
			{"purpose bad channel", "POST", "/v1/consent-purposes", `{"key": "fax", "name": "Fax", "channel": "fax"}`, nil, 422, []string{"body.channel"}},
			{"purpose without name", "POST", "/v1/consent-purposes", `{"key": "fax", "channel": "none"}`, nil, 422, []string{"body.name"}},
			{"purpose name too long", "POST", "/v1/consent-purposes", map[string]any{"key": "fax", "name": strings.Repeat("n", 101), "channel": "none"},
				nil, 422, []string{"body.name"}},
			{"purpose key taken", "POST", "/v1/consent-purposes", `{"key": "newsletter", "name": "Again", "channel": "email"}`, nil, 409, []string{"body.key"}},
			{"unknown purpose", "GET", "/v1/consent-purposes/nope", nil, nil, 404, nil},
			{"patch unknown purpose", "PATCH", "/v1/consent-purposes/nope", `{"name": "X"}`, nil, 404, nil},
			{"patch purpose empty name", "PATCH", "/v1/consent-purposes/newsletter", `{"name": ""}`, nil, 422, []string{"body.name"}},
			{"patch purpose channel", "PATCH", "/v1/consent-purposes/newsletter", `{"channel": "sms"}`, nil, 422, []string{"body.channel"}},
			{"wording oversized", "POST", "/v1/consent-purposes/newsletter/wordings", map[string]any{"language": "nl", "text": strings.Repeat("w", 20001)},
				nil, 422, []string{"body.text"}},
			{"wording blank", "POST", "/v1/consent-purposes/newsletter/wordings", `{"language": "nl", "text": "  "}`, nil, 422, []string{"body.text"}},
			{"wording bad language", "POST", "/v1/consent-purposes/newsletter/wordings", `{"language": "xx!", "text": "Ja"}`, nil, 422,
				[]string{"body.language"}},
			{"wording of an unknown purpose", "POST", "/v1/consent-purposes/nope/wordings", `{"language": "nl", "text": "Ja"}`, nil, 404, nil},
			{"wordings of an unknown purpose", "GET", "/v1/consent-purposes/nope/wordings", nil, nil, 404, nil},
			{"export bad audience", "GET", customer + "/export?audience=everyone", nil, nil, 422, []string{"query.audience"}},
			{"export bad format", "GET", customer + "/export?format=pdf", nil, nil, 422, []string{"query.format"}},
			{"export unknown customer", "GET", "/v1/customers/" + unknownID + "/export?format=zip", nil, nil, 404, nil},
			{"export not an id", "GET", "/v1/customers/42/export", nil, nil, 404, nil},
			{"anonymise unknown customer", "POST", "/v1/customers/" + unknownID + "/anonymise", nil, nil, 404, nil},
			{"anonymised customer update", "PATCH", "/v1/customers/" + gone.ID, `{"lastName": "Back"}`, []string{"If-Match", anonymised.header.Get("ETag")},
				409, nil},
			{"anonymised customer alt e-mail", "POST", "/v1/customers/" + gone.ID + "/alt-emails", `{"email": "back@example.nl"}`, nil, 409, nil},
			{"retention too short", "PUT", "/v1/retention", `{"enabled": true, "inactiveDays": 10}`, nil, 422, []string{"body.inactiveDays"}},
			{"retention negative", "PUT", "/v1/retention", `{"enabled": false, "inactiveDays": -1}`, nil, 422, []string{"body.inactiveDays"}},
			{"retention too long", "PUT", "/v1/retention", `{"enabled": true, "inactiveDays": 40000}`, nil, 422, []string{"body.inactiveDays"}},
			{"retention unknown purpose", "PUT", "/v1/retention", `{"enabled": true, "inactiveDays": 400, "excludePurposes": ["nope"]}`, nil, 422,
				[]string{"body.excludePurposes[0]"}},
			{"retention too many purposes", "PUT", "/v1/retention", map[string]any{"enabled": true, "inactiveDays": 400,
				"excludePurposes": strings.Split(strings.Repeat("post,", 51)[:5*51-1], ",")}, nil, 422, []string{"body.excludePurposes"}},
			{"retention without enabled", "PUT", "/v1/retention", `{"inactiveDays": 400}`, nil, 422, []string{"body.enabled"}},
			{"retention enabled not a boolean", "PUT", "/v1/retention", `{"enabled": "yes", "inactiveDays": 400}`, nil, 422, []string{"body.enabled"}},
			{"retention unknown member", "PUT", "/v1/retention", `{"enabled": false, "updatedAt": "2025-01-01T00:00:00Z"}`, nil, 422,
				[]string{"body.updatedAt"}},
			{"consent filter unknown purpose", "GET", "/v1/customers?consent=nope:granted", nil, nil, 422, []string{"query.consents[0].purpose"}},
			{"consent filter bad state", "GET", "/v1/customers?consent=newsletter:maybe", nil, nil, 422, []string{"query.consents[0].state"}},
			{"consent filter pending", "GET", "/v1/customers?consent=post:granted&consent=newsletter:pending", nil, nil, 422,
				[]string{"query.consents[1].state"}},
			{"consent filter without state", "GET", "/v1/customers/count?consent=post:granted,newsletter", nil, nil, 422,
				[]string{"query.consents[1].state"}},
			{"consent filter too many", "GET", "/v1/customers?consent=" + strings.Repeat("post:granted,", 20) + "post:granted", nil, nil, 422,
				[]string{"query.consents"}},
			{"segment consent filter", "POST", "/v1/segments", `{"name": "Bad", "filter": {"consents": [{"purpose": "nope", "state": "granted"}]}}`,
				nil, 422, []string{"body.filter.consents[0].purpose"}},
			{"mailing selection without purpose", "GET", "/v1/segments/" + seg.ID + "/mailing-selection", nil, nil, 422, []string{"query.purpose"}},
			{"mailing selection unknown purpose", "GET", "/v1/segments/" + seg.ID + "/mailing-selection?purpose=nope", nil, nil, 422,
				[]string{"query.purpose"}},
			{"mailing selection unknown segment", "GET", "/v1/segments/" + unknownID + "/mailing-selection?purpose=newsletter", nil, nil, 404, nil},

			{"award zero points", "POST", pts + "/awards", `{"points": 0}`, nil, 422, []string{"body.points"}},
			{"award negative points", "POST", pts + "/awards", `{"points": -5}`, nil, 422, []string{"body.points"}},
			{"award without points", "POST", pts + "/awards", `{"reason": "Stay"}`, nil, 422, []string{"body.points"}},
			{"award points not a number", "POST", pts + "/awards", `{"points": "10"}`, nil, 422, []string{"body.points"}},
			{"award points fraction", "POST", pts + "/awards", `{"points": 1.5}`, nil, 422, []string{"body.points"}},
			{"award too many points", "POST", pts + "/awards", `{"points": 1000000001}`, nil, 422, []string{"body.points"}},
			{"award expires before available", "POST", pts + "/awards", `{"points": 5, "availableFrom": "2030-02-01", "expiresOn": "2030-01-31"}`,
				nil, 422, []string{"body.expiresOn"}},
			{"award bad date", "POST", pts + "/awards", `{"points": 5, "expiresOn": "2030-02-30"}`, nil, 422, []string{"body.expiresOn"}},
			{"award reason too long", "POST", pts + "/awards", map[string]any{"points": 5, "reason": strings.Repeat("r", 501)}, nil, 422,
				[]string{"body.reason"}},
			{"award reference too long", "POST", pts + "/awards", map[string]any{"points": 5, "reference": strings.Repeat("r", 201)}, nil, 422,
				[]string{"body.reference"}},
			{"award unknown member", "POST", pts + "/awards", `{"points": 5, "note": "x"}`, nil, 422, []string{"body.note"}},
			{"idempotency key in the body", "POST", pts + "/awards", `{"points": 5, "idempotencyKey": "k"}`, nil, 422, []string{"body.idempotencyKey"}},
			{"oversized idempotency key", "POST", pts + "/awards", `{"points": 5}`, []string{"Idempotency-Key", strings.Repeat("k", 201)}, 422,
				[]string{"header.Idempotency-Key"}},
			{"idempotency key reused", "POST", pts + "/awards", `{"points": 11}`, []string{"Idempotency-Key", "award-1"}, 409,
				[]string{"header.Idempotency-Key"}},
			{"award malformed", "POST", pts + "/awards", `{"points": `, nil, 400, nil},
			{"award to an unknown customer", "POST", "/v1/customers/" + unknownID + "/points/awards", `{"points": 5}`, nil, 404, nil},
			{"award to a customer that is not an id", "POST", "/v1/customers/42/points/awards", `{"points": 5}`, nil, 404, nil},
			{"redeem zero points", "POST", pts + "/redemptions", `{"points": 0}`, nil, 422, []string{"body.points"}},
			{"redeem negative points", "POST", pts + "/redemptions", `{"points": -1}`, nil, 422, []string{"body.points"}},
			{"redeem with an expiry", "POST", pts + "/redemptions", `{"points": 1, "expiresOn": "2030-01-01"}`, nil, 422, []string{"body.expiresOn"}},
			{"redeem with availableFrom", "POST", pts + "/redemptions", `{"points": 1, "availableFrom": "2030-01-01"}`, nil, 422,
				[]string{"body.availableFrom"}},
			{"redeem more than available", "POST", pts + "/redemptions", `{"points": 7}`, nil, 409, []string{"body.points"}},
			{"points of an anonymised customer", "POST", "/v1/customers/" + gone.ID + "/points/awards", `{"points": 5}`, nil, 409, nil},
			{"correct zero points", "POST", pts + "/corrections", `{"points": 0, "reason": "Nothing"}`, nil, 422, []string{"body.points"}},
			{"correct without reason", "POST", pts + "/corrections", `{"points": 5}`, nil, 422, []string{"body.reason"}},
			{"correct empty reason", "POST", pts + "/corrections", `{"points": 5, "reason": ""}`, nil, 422, []string{"body.reason"}},
			{"correct blank reason", "POST", pts + "/corrections", `{"points": 5, "reason": "   "}`, nil, 422, []string{"body.reason"}},
			{"correct with an expiry", "POST", pts + "/corrections", `{"points": 5, "reason": "X", "expiresOn": "2030-01-01"}`, nil, 422,
				[]string{"body.expiresOn"}},
			{"correct too many points", "POST", pts + "/corrections", `{"points": -1000000001, "reason": "X"}`, nil, 422, []string{"body.points"}},
			{"correct below zero", "POST", pts + "/corrections", `{"points": -7, "reason": "X"}`, nil, 409, []string{"body.points"}},
			{"reverse a transaction that is not an id", "POST", pts + "/transactions/abc/reversal", nil, nil, 404, nil},
			{"reverse an unknown transaction", "POST", pts + "/transactions/" + unknownID + "/reversal", nil, nil, 404, nil},
			{"reverse another customer's transaction", "POST", "/v1/customers/" + other.ID + "/points/transactions/" + award.ID + "/reversal", nil, nil,
				404, nil},
			{"reverse for an unknown customer", "POST", "/v1/customers/" + unknownID + "/points/transactions/" + award.ID + "/reversal", nil, nil,
				404, nil},
			{"reverse a reversal", "POST", pts + "/transactions/" + reversal.ID + "/reversal", nil, nil, 422, []string{"path.transactionId"}},
			{"reverse twice", "POST", pts + "/transactions/" + redemption.ID + "/reversal", nil, nil, 409, []string{"path.transactionId"}},
			{"reverse a spent award", "POST", pts + "/transactions/" + award.ID + "/reversal", `{"reason": "X"}`, nil, 409, []string{"path.transactionId"}},
			{"reverse with points", "POST", pts + "/transactions/" + award.ID + "/reversal", `{"points": 3}`, nil, 422, []string{"body.points"}},
			{"reverse with a bad id and a long reason", "POST", pts + "/transactions/abc/reversal", map[string]any{"reason": strings.Repeat("r", 501)},
				nil, 422, []string{"body.reason"}},
			{"ledger limit zero", "GET", pts + "/transactions?limit=0", nil, nil, 422, []string{"query.limit"}},
			{"ledger limit too large", "GET", pts + "/transactions?limit=501", nil, nil, 422, []string{"query.limit"}},
			{"ledger limit not a number", "GET", pts + "/transactions?limit=ten", nil, nil, 422, []string{"query.limit"}},
			{"ledger bad cursor", "GET", pts + "/transactions?cursor=not-a-cursor", nil, nil, 422, []string{"query.cursor"}},
			{"ledger cursor of another list", "GET", pts + "/transactions?cursor=eyJ4Ijox", nil, nil, 422, []string{"query.cursor"}},
			{"ledger unknown parameter", "GET", pts + "/transactions?kind=award", nil, nil, 422, []string{"query.kind"}},
			{"ledger of an unknown customer", "GET", "/v1/customers/" + unknownID + "/points/transactions", nil, nil, 404, nil},
			{"balance of an unknown customer", "GET", "/v1/customers/" + unknownID + "/points", nil, nil, 404, nil},
			{"balance of a customer that is not an id", "GET", "/v1/customers/x/points", nil, nil, 404, nil},
			{"organisation empty name", "PATCH", "/v1/organisation", `{"name": ""}`, nil, 422, []string{"body.name"}},
			{"organisation blank name", "PATCH", "/v1/organisation", `{"name": "  "}`, nil, 422, []string{"body.name"}},
			{"organisation name too long", "PATCH", "/v1/organisation", map[string]any{"name": strings.Repeat("n", 201)}, nil, 422, []string{"body.name"}},
			{"organisation bad language", "PATCH", "/v1/organisation", `{"defaultLanguage": "xx!"}`, nil, 422, []string{"body.defaultLanguage"}},
			{"organisation empty language", "PATCH", "/v1/organisation", `{"defaultLanguage": ""}`, nil, 422, []string{"body.defaultLanguage"}},
			{"organisation bad country", "PATCH", "/v1/organisation", `{"defaultCountry": "XX"}`, nil, 422, []string{"body.defaultCountry"}},
			{"organisation points not a boolean", "PATCH", "/v1/organisation", `{"pointsEnabled": "yes"}`, nil, 422, []string{"body.pointsEnabled"}},
			{"organisation id", "PATCH", "/v1/organisation", `{"id": "org-b"}`, nil, 422, []string{"body.id"}},
			{"organisation unknown member", "PATCH", "/v1/organisation", `{"pointsenabled": false}`, nil, 422, []string{"body.pointsenabled"}},
			{"organisation malformed", "PATCH", "/v1/organisation", `{"name": `, nil, 400, nil},

			{"upload not multipart", "POST", docs, `{"file": "aGVsbG8="}`, nil, 415, []string{"header.Content-Type"}},
			{"upload without a boundary", "POST", docs, "x", []string{"Content-Type", "multipart/form-data"}, 415, []string{"header.Content-Type"}},
			{"upload as urlencoded form", "POST", docs, "title=x", []string{"Content-Type", "application/x-www-form-urlencoded"}, 415,
				[]string{"header.Content-Type"}},
			{"upload cut short", "POST", docs, "--xyz\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\n\r\nhello",
				[]string{"Content-Type", "multipart/form-data; boundary=xyz"}, 400, nil},
			{"upload field cut short", "POST", docs, "--xyz\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nhello",
				[]string{"Content-Type", "multipart/form-data; boundary=xyz"}, 400, nil},
			{"documents bad view", "GET", docs + "?view=customer", nil, nil, 422, []string{"query.view"}},
			{"documents unknown parameter", "GET", docs + "?visibility=portal", nil, nil, 422, []string{"query.visibility"}},
			{"documents of an unknown customer", "GET", "/v1/customers/" + unknownID + "/documents", nil, nil, 404, nil},
			{"unknown document", "GET", "/v1/documents/" + unknownID, nil, nil, 404, nil},
			{"document not an id", "GET", "/v1/documents/voucher.pdf", nil, nil, 404, nil},
			{"content of an unknown document", "GET", "/v1/documents/" + unknownID + "/content", nil, nil, 404, nil},
			{"document bad visibility", "PATCH", "/v1/documents/" + doc.ID, `{"visibility": "public"}`, nil, 422, []string{"body.visibility"}},
			{"document empty title", "PATCH", "/v1/documents/" + doc.ID, `{"title": ""}`, nil, 422, []string{"body.title"}},
			{"document title too long", "PATCH", "/v1/documents/" + doc.ID, map[string]any{"title": strings.Repeat("t", 201)}, nil, 422,
				[]string{"body.title"}},
			{"document unknown attribute", "PATCH", "/v1/documents/" + doc.ID, map[string]any{"attributeId": unknownID}, nil, 422,
				[]string{"body.attributeId"}},
			{"document unknown member", "PATCH", "/v1/documents/" + doc.ID, `{"fileName": "x.exe"}`, nil, 422, []string{"body.fileName"}},
			{"document contents are not patched", "PATCH", "/v1/documents/" + doc.ID, `{"sha256": "00"}`, nil, 422, []string{"body.sha256"}},
			{"patch an unknown document", "PATCH", "/v1/documents/" + unknownID, `{"title": "X"}`, nil, 404, nil},
			{"delete an unknown document", "DELETE", "/v1/documents/" + unknownID, nil, nil, 404, nil},
			{"attribute without name", "POST", "/v1/document-attributes", `{}`, nil, 422, []string{"body.name"}},
			{"attribute blank name", "POST", "/v1/document-attributes", `{"name": "  "}`, nil, 422, []string{"body.name"}},
			{"attribute name too long", "POST", "/v1/document-attributes", map[string]any{"name": strings.Repeat("n", 61)}, nil, 422,
				[]string{"body.name"}},
			{"attribute name taken", "POST", "/v1/document-attributes", `{"name": "VOUCHERS"}`, nil, 409, nil},
			{"attribute unknown member", "POST", "/v1/document-attributes", `{"name": "X", "id": "y"}`, nil, 422, []string{"body.id"}},
			{"batch send unknown attribute", "POST", "/v1/document-attributes/" + unknownID + "/send", nil, nil, 404, nil},
			{"batch send attribute not an id", "POST", "/v1/document-attributes/vouchers/send", nil, nil, 404, nil},
			{"send no document ids", "POST", docs + "/send", `{"documentIds": []}`, nil, 422, []string{"body.documentIds"}},
			{"send without document ids", "POST", docs + "/send", `{}`, nil, 422, []string{"body.documentIds"}},
			{"send too many document ids", "POST", docs + "/send", map[string]any{"documentIds": slices.Repeat([]string{doc.ID}, 21)}, nil, 422,
				[]string{"body.documentIds"}},
			{"send unknown document", "POST", docs + "/send", map[string]any{"documentIds": []string{doc.ID, unknownID}}, nil, 422,
				[]string{"body.documentIds[1]"}},
			{"send document not an id", "POST", docs + "/send", `{"documentIds": ["voucher.pdf"]}`, nil, 422, []string{"body.documentIds[0]"}},
			{"send another customer's document", "POST", docs + "/send", map[string]any{"documentIds": []string{otherDoc.ID}}, nil, 422,
				[]string{"body.documentIds[0]"}},
			{"send bad language", "POST", docs + "/send", map[string]any{"documentIds": []string{doc.ID}, "language": "xx!"}, nil, 422,
				[]string{"body.language"}},
			{"send unknown member", "POST", docs + "/send", map[string]any{"documentIds": []string{doc.ID}, "subject": "Hi"}, nil, 422,
				[]string{"body.subject"}},
			{"send to a customer without address", "POST", "/v1/customers/" + noMail.ID + "/documents/send", map[string]any{"documentIds": []string{noMailDoc.ID}},
				nil, 422, []string{"path.id"}},
			{"send for an unknown customer", "POST", "/v1/customers/" + unknownID + "/documents/send", map[string]any{"documentIds": []string{doc.ID}},
				nil, 404, nil},
			{"send for an anonymised customer", "POST", "/v1/customers/" + gone.ID + "/documents/send", map[string]any{"documentIds": []string{doc.ID}},
				nil, 409, nil},
			{"report of an unknown customer", "POST", "/v1/customers/" + unknownID + "/reports", nil, nil, 404, nil},
			{"template syntax error", "PUT", "/v1/mail-templates/document_delivery/nl", `{"subject": "Hi", "text": "{{if}}"}`, nil, 422,
				[]string{"body.text"}},
			{"template unknown data", "PUT", "/v1/mail-templates/document_delivery/nl", `{"subject": "{{.Customer.Email}}", "text": "x"}`, nil, 422,
				[]string{"body.subject"}},
			{"template html syntax error", "PUT", "/v1/mail-templates/document_delivery/nl", `{"subject": "Hi", "text": "x", "html": "<p>{{end}}"}`,
				nil, 422, []string{"body.html"}},
			{"template bad key", "PUT", "/v1/mail-templates/Document-Delivery/nl", `{"subject": "Hi", "text": "x"}`, nil, 422, []string{"path.key"}},
			{"template key too long", "PUT", "/v1/mail-templates/" + strings.Repeat("k", 41) + "/nl", `{"subject": "Hi", "text": "x"}`, nil, 422,
				[]string{"path.key"}},
			{"template bad language", "PUT", "/v1/mail-templates/document_delivery/xx!", `{"subject": "Hi", "text": "x"}`, nil, 422,
				[]string{"path.language"}},
			{"template without text", "PUT", "/v1/mail-templates/document_delivery/nl", `{"subject": "Hi"}`, nil, 422, []string{"body.text"}},
			{"template empty subject", "PUT", "/v1/mail-templates/document_delivery/nl", `{"subject": "", "text": "x"}`, nil, 422,
				[]string{"body.subject"}},
			{"template unknown member", "PUT", "/v1/mail-templates/document_delivery/nl", `{"subject": "Hi", "text": "x", "builtIn": true}`, nil, 422,
				[]string{"body.builtIn"}},
			{"template malformed", "PUT", "/v1/mail-templates/document_delivery/nl", `{"subject": `, nil, 400, nil},
			{"delete a template the organisation has not", "DELETE", "/v1/mail-templates/document_delivery/de", nil, nil, 404, nil},
			{"preview bad language", "POST", "/v1/mail-templates/document_delivery/preview", `{"language": "xx!"}`, nil, 422, []string{"body.language"}},
			{"preview unknown customer", "POST", "/v1/mail-templates/document_delivery/preview", map[string]any{"customerId": unknownID}, nil, 422,
				[]string{"body.customerId"}},
			{"preview unknown template", "POST", "/v1/mail-templates/nope/preview", nil, nil, 404, nil},
			{"preview unknown member", "POST", "/v1/mail-templates/document_delivery/preview", `{"lang": "nl"}`, nil, 422, []string{"body.lang"}},
			{"outbox bad cursor", "GET", "/v1/outbox?cursor=not-a-cursor", nil, nil, 422, []string{"query.cursor"}},
			{"outbox limit zero", "GET", "/v1/outbox?limit=0", nil, nil, 422, []string{"query.limit"}},
			{"outbox limit too large", "GET", "/v1/outbox?limit=501", nil, nil, 422, []string{"query.limit"}},
			{"outbox unknown parameter", "GET", "/v1/outbox?status=pending", nil, nil, 422, []string{"query.status"}},
			{"outbox of an unknown customer", "GET", "/v1/outbox?customerId=" + unknownID, nil, nil, 404, nil},
			{"outbox of a customer that is not an id", "GET", "/v1/outbox?customerId=7", nil, nil, 404, nil},
			{"unknown outbox mail", "GET", "/v1/outbox/" + unknownID, nil, nil, 404, nil},
			{"outbox mail not an id", "GET", "/v1/outbox/7", nil, nil, 404, nil},

			{"interaction malformed", "POST", "/v1/interactions", `{"kind": `, nil, 400, nil},
			{"interaction unknown member", "POST", "/v1/interactions", `{"kind": "reservation", "source": "web", "lastName": "X", "email": "x@example.nl"}`,
				nil, 422, []string{"body.email"}},
			{"interaction wrong types", "POST", "/v1/interactions", `{"kind": "reservation", "source": "web", "emails": "x@example.nl", "at": "today"}`,
				nil, 422, []string{"body.emails", "body.at"}},
			{"interaction invalid values", "POST", "/v1/interactions", map[string]any{"kind": "visit", "source": "no spaces please",
				"lastName": "X", "emails": []string{"x@example.nl", "x@"}, "phones": []string{"123"}, "language": "xx",
				"address": map[string]any{"country": "XX"}, "customFields": map[string]any{"shoe_size": "big", "nope": 1},
				"at": "2999-01-01T00:00:00Z"}, nil, 422,
				[]string{"body.kind", "body.source", "body.emails[1]", "body.phones[0]", "body.language", "body.address.country",
					"body.customFields.shoe_size", "body.customFields.nope", "body.at"}},
			{"interaction bad text", "POST", "/v1/interactions", map[string]any{"kind": "tool", "source": "web", "lastName": "X\u0000",
				"data": map[string]any{"note": "a\u0007b"}}, nil, 422, []string{"body.lastName", "body.data.note"}},
			{"interaction without a source", "POST", "/v1/interactions", map[string]any{"kind": "tool", "lastName": "X"}, nil, 422, []string{"body.source"}},
			{"interaction nothing to make a customer of", "POST", "/v1/interactions", map[string]any{"kind": "tool", "source": "web",
				"phones": []string{"+31 20 7654321"}}, nil, 422, []string{"body.lastName"}},
			{"review without a review", "POST", "/v1/interactions", map[string]any{"kind": "review", "source": "google", "lastName": "X"}, nil, 422,
				[]string{"body.review"}},
			{"review score above its maximum", "POST", "/v1/interactions", map[string]any{"kind": "review", "source": "google", "lastName": "X",
				"review": map[string]any{"score": 6}}, nil, 422, []string{"body.review.score"}},
			{"review on another kind", "POST", "/v1/interactions", map[string]any{"kind": "reservation", "source": "google", "lastName": "X",
				"review": map[string]any{"score": 3}}, nil, 422, []string{"body.kind"}},
			{"interaction from an unknown form", "POST", "/v1/interactions", map[string]any{"kind": "reservation", "source": "web", "form": "nope",
				"lastName": "X"}, nil, 422, []string{"body.form"}},
			{"interaction missing the form's fields", "POST", "/v1/interactions", map[string]any{"kind": "reservation", "source": "web", "form": "booking",
				"firstName": "X"}, nil, 422, []string{"body.lastName", "body.emails", "body.firstName"}},
			{"interaction with an unknown consent purpose", "POST", "/v1/interactions", map[string]any{"kind": "reservation", "source": "web",
				"lastName": "X", "consents": []map[string]any{{"purpose": "nope", "noWording": true}}}, nil, 422, []string{"body.consents[0].purpose"}},
			{"unknown interaction", "GET", "/v1/interactions/" + unknownID, nil, nil, 404, nil},
			{"interaction not an id", "GET", "/v1/interactions/7", nil, nil, 404, nil},
			{"interactions of an unknown customer", "GET", "/v1/customers/" + unknownID + "/interactions", nil, nil, 404, nil},
			{"interactions bad cursor", "GET", customer + "/interactions?cursor=not-a-cursor", nil, nil, 422, []string{"query.cursor"}},
			{"interactions limit too large", "GET", customer + "/interactions?limit=501", nil, nil, 422, []string{"query.limit"}},
			{"field origins of an unknown customer", "GET", "/v1/customers/" + unknownID + "/field-origins", nil, nil, 404, nil},
			{"match conflicts of a customer that is not an id", "GET", "/v1/customers/7/match-conflicts", nil, nil, 404, nil},
			{"form malformed", "POST", "/v1/forms", `{"key": `, nil, 400, nil},
			{"form invalid", "POST", "/v1/forms", map[string]any{"key": "Bad Key", "name": "", "kind": "visit",
				"fields": []map[string]any{{"field": "shoeSize"}, {"field": "customFields.nope"}, {"field": ""}}}, nil, 422,
				[]string{"body.key", "body.name", "body.kind", "body.fields[0].field", "body.fields[1].field", "body.fields[2].field"}},
			{"form key taken", "POST", "/v1/forms", map[string]any{"key": "booking", "name": "Again"}, nil, 409, []string{"body.key"}},
			{"form unknown member", "POST", "/v1/forms", `{"key": "x", "name": "X", "required": ["lastName"]}`, nil, 422, []string{"body.required"}},
			{"unknown form", "GET", "/v1/forms/nope", nil, nil, 404, nil},

			{"export malformed", "POST", "/v1/exports", `{"format": `, nil, 400, nil},
			{"export unknown format", "POST", "/v1/exports", map[string]any{"format": "pdf"}, nil, 422, []string{"body.format"}},
			{"export unknown and repeated columns", "POST", "/v1/exports", map[string]any{"columns": []string{"number", "shoeSize", "number", "custom.nope"}},
				nil, 422, []string{"body.columns[1]", "body.columns[2]", "body.columns[3]"}},
			{"export unknown segment", "POST", "/v1/exports", map[string]any{"segmentId": unknownID}, nil, 422, []string{"body.segmentId"}},
			{"export NUL in a filter", "POST", "/v1/exports", map[string]any{"filter": map[string]any{"name": "a\u0000b"}}, nil, 422,
				[]string{"body.filter.name"}},
			{"export bad language", "POST", "/v1/exports", map[string]any{"language": "xx!"}, nil, 422, []string{"body.language"}},
			{"export unknown member", "POST", "/v1/exports", `{"colums": ["number"]}`, nil, 422, []string{"body.colums"}},
			{"exports bad cursor", "GET", "/v1/exports?cursor=not-a-cursor", nil, nil, 422, []string{"query.cursor"}},
			{"exports limit too large", "GET", "/v1/exports?limit=501", nil, nil, 422, []string{"query.limit"}},
			{"imports bad cursor", "GET", "/v1/imports?cursor=not-a-cursor", nil, nil, 422, []string{"query.cursor"}},
			{"unknown import", "GET", "/v1/imports/" + unknownID, nil, nil, 404, nil},
			{"import not an id", "GET", "/v1/imports/7", nil, nil, 404, nil},
			{"report of an unknown import", "GET", "/v1/imports/" + unknownID + "/report", nil, nil, 404, nil},
			{"report in an unknown format", "GET", "/v1/imports/" + unknownID + "/report?format=pdf", nil, nil, 422, []string{"query.format"}},
			{"cancel an unknown import", "POST", "/v1/imports/" + unknownID + "/cancel", nil, nil, 404, nil},
			{"revert an import that is not an id", "POST", "/v1/imports/x/revert", nil, nil, 404, nil},
			{"import upload not multipart", "POST", "/v1/imports", `{"file": "x"}`, nil, 415, []string{"header.Content-Type"}},
			{"change an unknown form", "PATCH", "/v1/forms/nope", map[string]any{"name": "X"}, nil, 404, nil},
			{"change a form badly", "PATCH", "/v1/forms/booking", map[string]any{"name": "", "fields": []map[string]any{{"field": "nope"}}}, nil, 422,
				[]string{"body.name", "body.fields[0].field"}},
			{"delete an unknown form", "DELETE", "/v1/forms/nope", nil, nil, 404, nil},
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

		// Bad uploads, as multipart forms.
		csvFile := []byte("E-mail;Achternaam\nx@example.nl;X\n")
		uploads := []struct {
			name      string
			path      string
			parts     []formPart
			status    int
			locations []string
			code      string // of the first location, when given
		}{
			{"oversized upload", docs, []formPart{file("big.bin", make([]byte, testMaxDocument+1))}, 413, []string{"body.file"}, "maxBytes"},
			{"far oversized upload", docs, []formPart{field("title", "Big"), file("big.bin", make([]byte, 8*testMaxDocument))}, 413,
				[]string{"body.file"}, "maxBytes"},
			{"oversized form fields", docs, []formPart{field("title", strings.Repeat("t", 70<<10)), file("a.txt", []byte("a"))}, 413,
				[]string{"body"}, "maxBytes"},
			{"empty file", docs, []formPart{file("empty.txt", nil)}, 422, []string{"body.file"}, "empty"},
			{"unknown attribute", docs, []formPart{field("attributeId", unknownID), file("a.txt", []byte("a"))}, 422,
				[]string{"body.attributeId"}, "unknown"},
			{"attribute not an id", docs, []formPart{field("attributeId", "vouchers"), file("a.txt", []byte("a"))}, 422,
				[]string{"body.attributeId"}, "unknown"},
			{"missing file part", docs, []formPart{field("title", "No file")}, 422, []string{"body.file"}, "required"},
			{"no parts", docs, nil, 422, []string{"body.file"}, "required"},
			{"file without a file name", docs, []formPart{field("file", "plain text")}, 422, []string{"body.file"}, "required"},
			{"bad visibility", docs, []formPart{field("visibility", "public"), file("a.txt", []byte("a"))}, 422, []string{"body.visibility"}, "oneof"},
			{"title too long", docs, []formPart{field("title", strings.Repeat("t", 201)), file("a.txt", []byte("a"))}, 422, []string{"body.title"}, ""},
			{"unknown form field", docs, []formPart{field("colour", "red"), file("a.txt", []byte("a"))}, 422, []string{"body.colour"}, "unknown"},
			{"content type field", docs, []formPart{field("contentType", "text/html"), file("a.txt", []byte("a"))}, 422,
				[]string{"body.contentType"}, "unknown"},
			{"field twice", docs, []formPart{field("title", "A"), field("title", "B"), file("a.txt", []byte("a"))}, 422, []string{"body.title"}, "duplicate"},
			{"field after the file", docs, []formPart{file("a.txt", []byte("a")), field("title", "Late")}, 422, []string{"body.title"}, "order"},
			{"two files", docs, []formPart{file("a.txt", []byte("a")), file("b.txt", []byte("b"))}, 422, []string{"body.file"}, "duplicate"},
			{"upload for an unknown customer", "/v1/customers/" + unknownID + "/documents", []formPart{file("a.txt", []byte("a"))}, 404, nil, ""},
			{"upload for a customer that is not an id", "/v1/customers/7/documents", []formPart{file("a.txt", []byte("a"))}, 404, nil, ""},
			{"upload for an anonymised customer", "/v1/customers/" + gone.ID + "/documents", []formPart{file("a.txt", []byte("a"))}, 409, nil, ""},

			{"import unknown mode", "/v1/imports", []formPart{field("mode", "merge"), file("a.csv", csvFile)}, 422, []string{"body.mode"}, "oneof"},
			{"import unknown encoding", "/v1/imports", []formPart{field("encoding", "ebcdic"), file("a.csv", csvFile)}, 422, []string{"body.encoding"}, "oneof"},
			{"import unknown delimiter", "/v1/imports", []formPart{field("delimiter", "|"), file("a.csv", csvFile)}, 422, []string{"body.delimiter"}, "oneof"},
			{"import mapping to an unknown column", "/v1/imports", []formPart{field("mapping", `{"E-mail": "shoeSize"}`), file("a.csv", csvFile)}, 422,
				[]string{"body.mapping.E-mail"}, "unknown"},
			{"import mapping of an unknown header", "/v1/imports", []formPart{field("mapping", `{"Nope": "email"}`), file("a.csv", csvFile)}, 422,
				[]string{"body.mapping.Nope"}, "unknown"},
			{"import mapping not JSON", "/v1/imports", []formPart{field("mapping", `E-mail=email`), file("a.csv", csvFile)}, 422, []string{"body.mapping"}, "json"},
			{"import dry run not a boolean", "/v1/imports", []formPart{field("dryRun", "maybe"), file("a.csv", csvFile)}, 422, []string{"body.dryRun"}, "type"},
			{"import NUL in the file name", "/v1/imports", []formPart{file("a\x00.csv", csvFile)}, 400, nil, ""},
			{"import empty file", "/v1/imports", []formPart{file("a.csv", nil)}, 422, []string{"body.file"}, "invalid"},
			{"import file of no column we know", "/v1/imports", []formPart{file("a.csv", []byte("Shoe,Hat\n1,2\n"))}, 422, []string{"body.mapping"}, "required"},
			{"import without a file", "/v1/imports", []formPart{field("mode", "add")}, 422, []string{"body.file"}, "required"},
			{"import unknown form field", "/v1/imports", []formPart{field("colour", "red"), file("a.csv", csvFile)}, 422, []string{"body.colour"}, "unknown"},
			{"import field after the file", "/v1/imports", []formPart{file("a.csv", csvFile), field("mode", "add")}, 422, []string{"body.mode"}, "order"},
			{"preview unknown encoding", "/v1/imports/preview", []formPart{field("encoding", "ebcdic"), file("a.csv", csvFile)}, 422, []string{"body.encoding"}, "oneof"},
		}
		for _, tc := range uploads {
			t.Run(tc.name, func(t *testing.T) {
				p := ts.upload(tc.path, key, tc.parts...).wantProblem(t, tc.status)
				for i, loc := range tc.locations {
					code := ""
					if i == 0 {
						code = tc.code
					}
					if !p.hasError(loc, code) {
						t.Errorf("problem does not name %s (%s): %+v", loc, code, p.Errors)
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

		if after := state(); !reflect.DeepEqual(before, after) {
			t.Fatalf("bad requests changed the database:\nbefore %+v\n   now %+v", before, after)
		}
	})
}
