package httpapi

import (
	"context"
	"errors"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/dossiercrm/dossier/crm"
	"github.com/dossiercrm/dossier/crm/i18n"
)

type mailTemplateListOutput struct {
	Body struct {
		Items []crm.MailTemplate `json:"items"`
	}
}

type mailTemplatePath struct {
	Key      string `path:"key" doc:"The mail: set_password, document_delivery, double_opt_in, consent_confirmation, or a key of the organisation's own (lower case letters, digits and _)."`
	Language string `path:"language" doc:"BCP 47 language tag: en, nl, de-AT, ..."`
}

type setMailTemplateInput struct {
	Key      string `path:"key" doc:"The mail: set_password, document_delivery, double_opt_in, consent_confirmation, or a key of the organisation's own (lower case letters, digits and _)."`
	Language string `path:"language" doc:"BCP 47 language tag: en, nl, de-AT, ..."`
	Body     crm.MailTemplateInput
}

type mailTemplateOutput = bodyOutput[*crm.MailTemplate]

type addMailTemplateInput struct {
	Body struct {
		Key      string `json:"key" required:"true" doc:"The new mail's key: a lower-case letter, then lower-case letters, digits and _."`
		Language string `json:"language" required:"true" doc:"BCP 47 language tag of this first text: en, nl, de-AT, ..."`
		crm.MailTemplateInput
	}
}

type previewMailInput struct {
	Key  string `path:"key" doc:"The mail to render."`
	Body *struct {
		Language   string `json:"language,omitempty" doc:"BCP 47 tag; default the customer's language, else the organisation's. The fallback is the one mails use: the exact tag, its base language, the organisation's language, English."`
		CustomerID string `json:"customerId,omitempty" doc:"Render with this customer's names and number; without it, with sample data."`
	}
}

// RenderedMail is a mail template applied to a customer's data, as a
// preview shows it.
type RenderedMail struct {
	// Key and Language name the template that was used, after the language fallback.
	Key      string `json:"key"`
	Language string `json:"language"`
	Subject  string `json:"subject"`
	Text     string `json:"text"`
	// HTML is the HTML body, with every value escaped; empty when the template has none.
	HTML string `json:"html,omitempty"`
}

type renderedMailOutput = bodyOutput[*RenderedMail]

type outboxListInput struct {
	CustomerID string `query:"customerId" doc:"Only this customer's mails."`
	Cursor     string `query:"cursor" doc:"The next value of the previous page."`
	Limit      int    `query:"limit" minimum:"1" maximum:"500" doc:"Page size, default 50."`
}

type outboxPageOutput = bodyOutput[crm.Page[crm.OutboxMail]]

type outboxMailPath struct {
	ID string `path:"id" doc:"The mail's id (a UUID)."`
}

type outboxMailOutput = bodyOutput[*crm.OutboxMail]

func (s *server) registerMail() {
	tags := []string{"Mail templates"}
	mail := s.crm.Mail
	register(s, huma.Operation{
		OperationID: "listMailTemplates", Method: http.MethodGet, Path: "/v1/mail-templates", Tags: tags,
		Summary: "List the mail templates: the organisation's own and the built-in ones it has not replaced",
		Description: "By key and language. builtIn marks Dossier's own texts (in English, Dutch, German, French and Polish); " +
			"PUT a key and language to replace one, DELETE it to have the built-in text back.",
	}, func(ctx context.Context, _ *struct{}) (*mailTemplateListOutput, error) {
		items, err := mail.Templates(ctx)
		if err != nil {
			return nil, err
		}
		out := &mailTemplateListOutput{}
		out.Body.Items = items
		return out, nil
	})
	create(s, huma.Operation{
		OperationID: "addMailTemplate", Method: http.MethodPost, Path: "/v1/mail-templates", Tags: tags,
		Summary: "Declare a mail of the organisation's own, with its text in one language",
		Description: "A key is either built in or declared here; PUT /v1/mail-templates/{key}/{language} then adds or replaces " +
			"its text in other languages. The key stays declared while the organisation has a text for it in some language. " +
			"A built-in or already declared key is 409. The templates are checked as PUT checks them.",
	}, func(o *mailTemplateOutput) string { return "/v1/mail-templates/" + o.Body.Key + "/" + o.Body.Language },
		func(ctx context.Context, in *addMailTemplateInput) (*mailTemplateOutput, error) {
			return reply(mail.AddTemplate(ctx, in.Body.Key, in.Body.Language, in.Body.MailTemplateInput))
		})
	register(s, huma.Operation{
		OperationID: "setMailTemplate", Method: http.MethodPut, Path: "/v1/mail-templates/{key}/{language}", Tags: tags,
		Summary: "Save the organisation's text of a mail in a language",
		Description: "The key is a built-in one or one the organisation declared (POST /v1/mail-templates); any other is 422 on path.key. " +
			"subject and text are Go text templates, html a Go HTML template (values are escaped), with the data " +
			"{{.Organisation.Name}}, {{.Customer.FirstName}}, {{.Customer.LastName}}, {{.Customer.DisplayName}}, {{.Customer.Number}}, " +
			"{{range .Documents}}{{.Title}} {{.FileName}}{{end}}, {{.Link}}, {{.Purpose}} and {{.ExpiresAt}}. " +
			"A template that does not parse or names data that does not exist is refused now, not when a mail is sent: " +
			"422 naming body.subject, body.text or body.html with code template.",
	}, func(ctx context.Context, in *setMailTemplateInput) (*mailTemplateOutput, error) {
		return reply(mail.SetTemplate(ctx, in.Key, in.Language, in.Body))
	})
	register(s, huma.Operation{
		OperationID: "deleteMailTemplate", Method: http.MethodDelete, Path: "/v1/mail-templates/{key}/{language}", Tags: tags,
		Summary:     "Delete the organisation's text of a mail in a language",
		Description: "The built-in text, where there is one, is used again. A key and language the organisation has no text for is 404.",
	}, func(ctx context.Context, in *mailTemplatePath) (*struct{}, error) {
		// Saved languages are canonical (nl-BE); the library compares as given.
		lang := in.Language
		if canonical, err := i18n.Canonical(lang); err == nil {
			lang = canonical
		}
		return nil, mail.DeleteTemplate(ctx, in.Key, lang)
	})
	register(s, huma.Operation{
		OperationID: "previewMail", Method: http.MethodPost, Path: "/v1/mail-templates/{key}/preview", Tags: tags,
		Summary: "Render a mail as a customer would get it",
		Description: "Picks the template as sending does (the language's, its base language's, the organisation's, English; " +
			"the organisation's own text before the built-in one) and renders it with the customer's data, or sample data. " +
			"Nothing is sent or stored. The body is optional.",
	}, func(ctx context.Context, in *previewMailInput) (*renderedMailOutput, error) {
		var lang, customerID string
		if in.Body != nil {
			lang, customerID = in.Body.Language, in.Body.CustomerID
		}
		if lang != "" {
			canonical, err := i18n.Canonical(lang)
			if err != nil {
				return nil, formProblem("language", "language", "language is not a known language tag")
			}
			lang = canonical
		}
		data := sampleMailData()
		if customerID != "" {
			c, err := s.crm.Customers.Get(ctx, customerID)
			if errors.Is(err, crm.ErrNotFound) {
				return nil, formProblem("customerId", "unknown", "customerId does not exist")
			}
			if err != nil {
				return nil, err
			}
			data.Customer.FirstName, data.Customer.LastName = c.FirstName, c.LastName
			data.Customer.DisplayName, data.Customer.Number = c.DisplayName(), c.Number
			if lang == "" {
				lang = c.Language
			}
		}
		r, err := mail.Render(ctx, in.Key, lang, data)
		if err != nil {
			return nil, err
		}
		return &renderedMailOutput{Body: &RenderedMail{Key: r.Key, Language: r.Language, Subject: r.Subject, Text: r.Text, HTML: r.HTML}}, nil
	})

	outboxTags := []string{"Outbox"}
	register(s, huma.Operation{
		OperationID: "listOutbox", Method: http.MethodGet, Path: "/v1/outbox", Tags: outboxTags,
		Summary: "List queued and delivered mails, newest first",
		Description: "Every mail Dossier sends goes through the outbox, written with the change that causes it; a worker delivers it " +
			"and retries failures. status is pending, sent or failed; attempts and lastError tell how delivery went. " +
			"The bodies are not listed. Pages with a cursor: pass the previous page's next. An unknown customerId is 404.",
	}, func(ctx context.Context, in *outboxListInput) (*outboxPageOutput, error) {
		return reply(s.crm.Outbox.List(ctx, in.CustomerID, crm.PageRequest{Cursor: in.Cursor, Limit: in.Limit}))
	})
	register(s, huma.Operation{
		OperationID: "getOutboxMail", Method: http.MethodGet, Path: "/v1/outbox/{id}", Tags: outboxTags,
		Summary: "Get a mail's delivery status",
	}, func(ctx context.Context, in *outboxMailPath) (*outboxMailOutput, error) {
		return reply(s.crm.Outbox.Get(ctx, in.ID))
	})
}

// sampleMailData is what a preview without a customer renders with.
func sampleMailData() crm.MailData {
	var d crm.MailData
	d.Customer.FirstName, d.Customer.LastName, d.Customer.DisplayName, d.Customer.Number = "Anna", "Müller", "Anna Müller", 1
	d.Documents = []struct{ Title, FileName string }{{"Voucher", "voucher.pdf"}}
	d.Link, d.Purpose, d.ExpiresAt = "https://example.com/confirm?token=sample", "Newsletter", "2026-12-01"
	return d
}
