package httpapi_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/dossiercrm/dossier/crm"
	"github.com/dossiercrm/dossier/crm/store/testdb"
)

// renderedMail is the body of a preview.
type renderedMail struct {
	Key, Language, Subject, Text, HTML string
}

// TestMailTemplates replaces a built-in template, refuses broken ones when
// they are saved, previews with escaping in HTML, and mails with the
// organisation's text.
func TestMailTemplates(t *testing.T) {
	testdb.Each(t, func(t *testing.T, open testdb.Opener) {
		t.Parallel()
		ts := newTestServer(t, open)
		key := ts.keyA

		templates := func() []crm.MailTemplate {
			t.Helper()
			var l struct{ Items []crm.MailTemplate }
			ts.do("GET", "/v1/mail-templates", key, nil).want(t, http.StatusOK).json(t, &l)
			return l.Items
		}
		find := func(items []crm.MailTemplate, k, lang string) *crm.MailTemplate {
			for i := range items {
				if items[i].Key == k && items[i].Language == lang {
					return &items[i]
				}
			}
			return nil
		}
		builtIn := templates()
		for _, lang := range []string{"en", "nl", "de", "fr", "pl"} {
			if tpl := find(builtIn, crm.TemplateDocumentDelivery, lang); tpl == nil || !tpl.BuiltIn || tpl.Subject == "" {
				t.Fatalf("built-in document_delivery %s: %+v", lang, tpl)
			}
		}

		// The organisation's own Dutch text replaces the built-in one.
		own := map[string]any{"subject": "Documenten voor {{.Customer.FirstName}}",
			"text": "Hallo {{.Customer.FirstName}},\n{{range .Documents}}- {{.Title}}\n{{end}}",
			"html": "<p>Hallo {{.Customer.FirstName}}</p><ul>{{range .Documents}}<li>{{.Title}}</li>{{end}}</ul>"}
		var saved crm.MailTemplate
		ts.do("PUT", "/v1/mail-templates/document_delivery/nl", key, own).want(t, http.StatusOK).json(t, &saved)
		if saved.Key != crm.TemplateDocumentDelivery || saved.Language != "nl" || saved.BuiltIn || saved.UpdatedAt.IsZero() {
			t.Fatalf("saved %+v", saved)
		}
		if tpl := find(templates(), crm.TemplateDocumentDelivery, "nl"); tpl == nil || tpl.BuiltIn || tpl.Subject != own["subject"] {
			t.Fatalf("listed %+v", tpl)
		}
		// An organisation's own mail, under its own key, declared with its
		// first text; the language is made canonical.
		ts.do("PUT", "/v1/mail-templates/welcome/nl", key, map[string]any{"subject": "Welkom", "text": "Welkom"}).want(t, http.StatusUnprocessableEntity)
		created := ts.do("POST", "/v1/mail-templates", key, map[string]any{"key": "welcome", "language": "nl", "subject": "Welkom", "text": "Welkom"}).
			want(t, http.StatusCreated)
		if loc := created.header.Get("Location"); loc != "/v1/mail-templates/welcome/nl" {
			t.Fatalf("Location %q", loc)
		}
		ts.do("POST", "/v1/mail-templates", key, map[string]any{"key": "welcome", "language": "de", "subject": "W", "text": "W"}).
			want(t, http.StatusConflict)
		ts.do("PUT", "/v1/mail-templates/welcome/NL-be", key, map[string]any{"subject": "Welkom", "text": "Welkom {{.Customer.DisplayName}}"}).
			want(t, http.StatusOK).json(t, &saved)
		if saved.Language != "nl-BE" {
			t.Fatalf("language %q", saved.Language)
		}
		ts.do("DELETE", "/v1/mail-templates/welcome/nl", key, nil).want(t, http.StatusNoContent)

		// A broken template is refused when it is saved, naming its part.
		for _, tc := range []struct {
			body  map[string]any
			field string
		}{
			{map[string]any{"subject": "Hi", "text": "{{if}}"}, "body.text"},
			{map[string]any{"subject": "Hi {{.Customer.Nickname}}", "text": "x"}, "body.subject"},
			{map[string]any{"subject": "Hi", "text": "x", "html": "<p>{{range .Documents}}</p>"}, "body.html"},
		} {
			p := ts.do("PUT", "/v1/mail-templates/document_delivery/nl", key, tc.body).wantProblem(t, http.StatusUnprocessableEntity)
			if !p.hasError(tc.field, "template") {
				t.Fatalf("%v: %+v", tc.body, p)
			}
		}
		if tpl := find(templates(), crm.TemplateDocumentDelivery, "nl"); tpl.Subject != own["subject"] {
			t.Fatalf("a refused template was stored: %+v", tpl)
		}

		// A preview escapes values in HTML and not in the text.
		var c crm.Customer
		ts.do("POST", "/v1/customers", key, map[string]any{"firstName": "<script>alert(1)</script>", "lastName": "Jansen",
			"loginEmail": "jansen@example.nl", "language": "nl"}).want(t, http.StatusCreated).json(t, &c)
		var r renderedMail
		ts.do("POST", "/v1/mail-templates/document_delivery/preview", key, map[string]any{"customerId": c.ID}).
			want(t, http.StatusOK).json(t, &r)
		if r.Language != "nl" || !strings.Contains(r.HTML, "&lt;script&gt;alert(1)&lt;/script&gt;") || strings.Contains(r.HTML, "<script>") ||
			!strings.Contains(r.Text, "Hallo <script>alert(1)</script>,") || r.Subject != "Documenten voor <script>alert(1)</script>" {
			t.Fatalf("preview %+v", r)
		}
		// Without a customer: sample data; nl-BE falls back to nl; an unknown language to the organisation's (nl).
		for _, lang := range []string{"nl-BE", "nl", "sw"} {
			ts.do("POST", "/v1/mail-templates/document_delivery/preview", key, map[string]any{"language": lang}).
				want(t, http.StatusOK).json(t, &r)
			if r.Language != "nl" || r.Subject != "Documenten voor Anna" || !strings.Contains(r.HTML, "<li>Voucher</li>") {
				t.Fatalf("preview in %s: %+v", lang, r)
			}
		}
		ts.do("POST", "/v1/mail-templates/document_delivery/preview", key, map[string]any{"language": "de"}).want(t, http.StatusOK).json(t, &r)
		if r.Language != "de" || strings.Contains(r.Subject, "Documenten") {
			t.Fatalf("German preview %+v", r)
		}
		ts.do("POST", "/v1/mail-templates/welcome/preview", key, map[string]any{"language": "nl-be"}).want(t, http.StatusOK).json(t, &r)
		if r.Language != "nl-BE" || r.Text != "Welkom Anna Müller" {
			t.Fatalf("own key preview %+v", r)
		}

		// Mailing documents uses the organisation's text.
		var d crm.Document
		ts.upload("/v1/customers/"+c.ID+"/documents", key, field("title", "Ticket"), file("ticket.pdf", pdfBytes)).
			want(t, http.StatusCreated).json(t, &d)
		var m crm.OutboxMail
		ts.do("POST", "/v1/customers/"+c.ID+"/documents/send", key, map[string]any{"documentIds": []string{d.ID}}).
			want(t, http.StatusAccepted).json(t, &m)
		if m.Subject != "Documenten voor <script>alert(1)</script>" || m.Language != "nl" {
			t.Fatalf("mail %+v", m)
		}

		// The language of a path is compared in its canonical form.
		ts.do("DELETE", "/v1/mail-templates/welcome/NL-BE", key, nil).want(t, http.StatusNoContent)
		ts.do("POST", "/v1/mail-templates/welcome/preview", key, map[string]any{"language": "nl-BE"}).wantProblem(t, http.StatusNotFound)

		// Deleting the organisation's text brings the built-in one back.
		ts.do("DELETE", "/v1/mail-templates/document_delivery/nl", key, nil).want(t, http.StatusNoContent)
		ts.do("DELETE", "/v1/mail-templates/document_delivery/nl", key, nil).wantProblem(t, http.StatusNotFound)
		if tpl := find(templates(), crm.TemplateDocumentDelivery, "nl"); tpl == nil || !tpl.BuiltIn {
			t.Fatalf("after delete %+v", tpl)
		}
		ts.do("POST", "/v1/mail-templates/document_delivery/preview", key, nil).want(t, http.StatusOK).json(t, &r)
		if r.Subject == "Documenten voor Anna" {
			t.Fatalf("preview after delete %+v", r)
		}
	})
}
