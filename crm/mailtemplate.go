package crm

import (
	"bytes"
	"context"
	htmltemplate "html/template"
	"regexp"
	"slices"
	"strings"
	texttemplate "text/template"
	"time"

	"golang.org/x/text/language"

	"github.com/dossiercrm/dossier/crm/i18n"
)

// The built-in mail templates: every organisation can send these in
// English, Dutch, German, French and Polish, and can override any of them
// per language with its own text.
const (
	TemplateSetPassword         = "set_password"
	TemplateDocumentDelivery    = "document_delivery"
	TemplateDoubleOptIn         = "double_opt_in"
	TemplateConsentConfirmation = "consent_confirmation"
)

// MailTemplate is an organisation's text of one mail in one language. The
// subject and the text body are text/template, the HTML body html/template
// (so values are escaped in HTML and not in text), all with MailData.
type MailTemplate struct {
	Key       string    `json:"key"`
	Language  string    `json:"language"`
	Subject   string    `json:"subject"`
	Text      string    `json:"text"`
	HTML      string    `json:"html,omitempty"`
	BuiltIn   bool      `json:"builtIn"`
	UpdatedAt time.Time `json:"updatedAt,omitzero"`
}

// MailTemplateInput is the input of MailService.SetTemplate and
// AddTemplate. The subject is one line; the bodies may span lines.
type MailTemplateInput struct {
	Subject string `json:"subject" validate:"required,max=500"`
	Text    string `json:"text" validate:"required,max=100000" text:"multiline"`
	HTML    string `json:"html,omitempty" validate:"max=200000" text:"multiline"`
}

// MailData is what templates can use: {{.Customer.FirstName}},
// {{range .Documents}}{{.Title}}{{end}}, {{.Link}}, ...
type MailData struct {
	Organisation struct{ Name string }
	Customer     struct {
		FirstName, LastName, DisplayName string
		Number                           int64
	}
	// Documents are the documents a mail carries.
	Documents []struct{ Title, FileName string }
	// Link is the link of the mail (set a password, confirm a sign-up).
	Link string
	// Purpose is the name of the consent purpose of a consent mail.
	Purpose string
	// ExpiresAt is when the link stops working, as text in the mail's language.
	ExpiresAt string
	// UnsubscribeLink withdraws the consent a mailing was sent under; set
	// in mailings. A mailing whose template does not show it gets it
	// added at the end.
	UnsubscribeLink string
}

// RenderedMail is a template applied to data.
type RenderedMail struct {
	Key      string
	Language string
	Subject  string
	Text     string
	HTML     string
}

// MailTemplateStore keeps organisations' templates.
type MailTemplateStore interface {
	// MailTemplatePut inserts or replaces the template of (key, language).
	MailTemplatePut(ctx context.Context, orgID string, t *MailTemplate) error
	MailTemplateDelete(ctx context.Context, orgID, key, lang string) error
	// MailTemplateList returns the organisation's templates by key and language.
	MailTemplateList(ctx context.Context, orgID string) ([]MailTemplate, error)
}

var templateKeyPattern = regexp.MustCompile(`^[a-z][a-z0-9_]{0,39}$`)

// sampleMailData fills every field, so that saving a template runs it once
// and refuses one that names a field that does not exist.
func sampleMailData() MailData {
	var d MailData
	d.Organisation.Name = "Example Travel"
	d.Customer.FirstName, d.Customer.LastName, d.Customer.DisplayName, d.Customer.Number = "Anna", "Müller", "Anna Müller", 1
	d.Documents = []struct{ Title, FileName string }{{"Voucher", "voucher.pdf"}}
	d.Link, d.Purpose, d.ExpiresAt = "https://example.com/confirm?t=x", "Newsletter", "2026-12-01"
	d.UnsubscribeLink = "https://example.com/unsubscribe?t=x"
	return d
}

// render applies one template to data; a failure names the part.
func (t *MailTemplate) render(data MailData) (*RenderedMail, string, error) {
	out := &RenderedMail{Key: t.Key, Language: t.Language}
	for _, part := range []struct {
		field string
		src   string
		dst   *string
		html  bool
	}{{"subject", t.Subject, &out.Subject, false}, {"text", t.Text, &out.Text, false}, {"html", t.HTML, &out.HTML, true}} {
		if part.src == "" {
			continue
		}
		var buf bytes.Buffer
		if part.html {
			tpl, err := htmltemplate.New(part.field).Option("missingkey=error").Parse(part.src)
			if err != nil {
				return nil, part.field, err
			}
			if err := tpl.Execute(&buf, data); err != nil {
				return nil, part.field, err
			}
		} else {
			tpl, err := texttemplate.New(part.field).Option("missingkey=error").Parse(part.src)
			if err != nil {
				return nil, part.field, err
			}
			if err := tpl.Execute(&buf, data); err != nil {
				return nil, part.field, err
			}
		}
		*part.dst = buf.String()
	}
	out.Subject = strings.Join(strings.Fields(out.Subject), " ") // a subject is one line
	return out, "", nil
}

// MailService keeps mail templates and renders mails in the customer's
// language (C7).
type MailService struct{ *core }

// SetTemplate saves the organisation's text of a mail in a language. The
// key is a built-in one (TemplateSetPassword, ...) or one the organisation
// declared with AddTemplate; any other key is a *ValidationError on "key"
// (code "unknown"). A template that does not parse, or names data that does
// not exist, is refused now (code "template"), not when a mail is sent.
func (s *MailService) SetTemplate(ctx context.Context, key, lang string, in MailTemplateInput) (*MailTemplate, error) {
	return s.putTemplate(ctx, key, lang, in, false)
}

// AddTemplate declares a mail of the organisation's own under key (a
// lower-case letter, then lower-case letters, digits and underscores) with
// its text in lang. From then on SetTemplate accepts the key for any
// language; the key stays declared while the organisation has a text for
// it in some language. A built-in key, or one already declared, is a
// *ConflictError on "key".
func (s *MailService) AddTemplate(ctx context.Context, key, lang string, in MailTemplateInput) (*MailTemplate, error) {
	return s.putTemplate(ctx, key, lang, in, true)
}

// isBuiltinTemplate reports whether key is one of Dossier's own mails.
func isBuiltinTemplate(key string) bool {
	return slices.ContainsFunc(builtinTemplates, func(t MailTemplate) bool { return t.Key == key })
}

func (s *MailService) putTemplate(ctx context.Context, key, lang string, in MailTemplateInput, declare bool) (*MailTemplate, error) {
	sc, err := s.writeScope(ctx)
	if err != nil {
		return nil, err
	}
	v := newValidation(sc.lang)
	v.checkString("key", &key)
	v.checkString("language", &lang)
	v.checkText("", &in)
	if !v.has("key") && !templateKeyPattern.MatchString(key) {
		v.add("key", "key", "")
	}
	if !v.has("language") {
		lang = checkLanguage(v, "language", lang)
	}
	v.addStruct(s.validate, in)
	if err := v.err(); err != nil {
		return nil, err
	}
	t := &MailTemplate{Key: key, Language: lang, Subject: in.Subject, Text: in.Text, HTML: in.HTML, UpdatedAt: s.now()}
	if _, field, err := t.render(sampleMailData()); err != nil {
		v.add(field, "template", firstLine(err.Error()))
		return nil, v.err()
	}
	err = s.store.InTx(ctx, func(tx Store) error {
		own, err := tx.MailTemplateList(ctx, sc.org)
		if err != nil {
			return err
		}
		declared := isBuiltinTemplate(key) || slices.ContainsFunc(own, func(t MailTemplate) bool { return t.Key == key })
		switch {
		case declare && declared:
			return &ConflictError{Field: "key", Reason: "there is a mail with this key already"}
		case !declare && !declared:
			v.add("key", "unknown", "")
			return v.err()
		}
		return tx.MailTemplatePut(ctx, sc.org, t)
	})
	if err != nil {
		return nil, err
	}
	return t, nil
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}

// DeleteTemplate removes the organisation's text of a mail in a language;
// a built-in text takes its place again.
func (s *MailService) DeleteTemplate(ctx context.Context, key, lang string) error {
	sc, err := s.writeScope(ctx)
	if err != nil {
		return err
	}
	v := newValidation(sc.lang)
	v.checkString("key", &key)
	v.checkString("language", &lang)
	if err := v.err(); err != nil {
		return err
	}
	if canonical, err := i18n.Canonical(strings.TrimSpace(lang)); err == nil {
		lang = canonical // as SetTemplate stored it
	}
	return s.store.MailTemplateDelete(ctx, sc.org, key, lang)
}

// Templates returns the organisation's own templates and the built-in ones
// it has not overridden, by key and language.
func (s *MailService) Templates(ctx context.Context) ([]MailTemplate, error) {
	sc, err := readScope(ctx)
	if err != nil {
		return nil, err
	}
	own, err := s.store.MailTemplateList(ctx, sc.org)
	if err != nil {
		return nil, err
	}
	all := append([]MailTemplate{}, own...)
	for _, b := range builtinTemplates {
		if !slices.ContainsFunc(own, func(t MailTemplate) bool { return t.Key == b.Key && t.Language == b.Language }) {
			all = append(all, b)
		}
	}
	slices.SortFunc(all, func(a, b MailTemplate) int {
		if c := strings.Compare(a.Key, b.Key); c != 0 {
			return c
		}
		return strings.Compare(a.Language, b.Language)
	})
	return all, nil
}

// Render renders the mail key for a customer language: the template of
// the first language along the chain that has one (the exact tag, its
// base language, the organisation's language, English), the
// organisation's own text before the built-in one.
func (s *MailService) Render(ctx context.Context, key, lang string, data MailData) (*RenderedMail, error) {
	sc, err := readScope(ctx)
	if err != nil {
		return nil, err
	}
	return s.render(ctx, s.store, sc, key, lang, data)
}

func (s *MailService) render(ctx context.Context, st Store, sc scope, key, lang string, data MailData) (*RenderedMail, error) {
	org, err := s.organisation(ctx, st, sc)
	if err != nil {
		return nil, err
	}
	own, err := st.MailTemplateList(ctx, sc.org)
	if err != nil {
		return nil, err
	}
	return renderTemplate(org, own, key, lang, data)
}

// renderTemplate renders key for lang from the organisation's own
// templates, else the built-in ones, along the language chain.
func renderTemplate(org *Organisation, own []MailTemplate, key, lang string, data MailData) (*RenderedMail, error) {
	data.Organisation.Name = org.Name
	for _, l := range languageChain(lang, org.DefaultLanguage) {
		for _, set := range [][]MailTemplate{own, builtinTemplates} {
			i := slices.IndexFunc(set, func(t MailTemplate) bool { return t.Key == key && t.Language == l })
			if i < 0 {
				continue
			}
			out, field, err := set[i].render(data)
			if err != nil {
				return nil, &ConflictError{Field: field, Reason: "the template " + key + " (" + l + ") failed: " + firstLine(err.Error())}
			}
			return out, nil
		}
	}
	return nil, &notFoundError{what: "mail template " + key}
}

// languageChain is the fallback order of a mail's language: the exact tag,
// its base language, the organisation's language (and its base), English.
func languageChain(lang, orgLang string) []string {
	var chain []string
	add := func(tag string) {
		if tag != "" && !slices.Contains(chain, tag) {
			chain = append(chain, tag)
		}
	}
	for _, l := range []string{lang, orgLang} {
		add(l)
		if t, err := language.Parse(l); err == nil {
			base, _ := t.Base()
			add(base.String())
		}
	}
	add("en")
	return chain
}
