package crm

import (
	"bytes"
	htmltemplate "html/template"
	"slices"
	"strings"
	texttemplate "text/template"
)

// parsedTemplates keeps the templates a mailing's batch has parsed, by the
// customer's language: a batch parses its template once per language
// instead of once per mail. It renders exactly as renderTemplate does.
type parsedTemplates map[string]*parsedTemplate

// parsedTemplate is one template's parts, parsed; err and field are a
// parse failure, which every mail of the language then gets.
type parsedTemplate struct {
	key, lang     string
	subject, text *texttemplate.Template
	html          *htmltemplate.Template
	err           error
	field         string
}

// render renders template key in the customer's language lang (with
// renderTemplate's fallbacks) for data.
func (p parsedTemplates) render(org *Organisation, own []MailTemplate, key, lang string, data MailData) (*RenderedMail, error) {
	pt, ok := p[lang]
	if !ok {
		pt = parseTemplate(org, own, key, lang)
		p[lang] = pt
	}
	if pt == nil {
		return nil, &notFoundError{what: "mail template " + key}
	}
	fail := func(field string, err error) error {
		return &ConflictError{Field: field, Reason: "the template " + key + " (" + pt.lang + ") failed: " + firstLine(err.Error())}
	}
	if pt.err != nil {
		return nil, fail(pt.field, pt.err)
	}
	data.Organisation.Name = org.Name
	out := &RenderedMail{Key: pt.key, Language: pt.lang}
	var buf bytes.Buffer
	if pt.subject != nil {
		if err := pt.subject.Execute(&buf, data); err != nil {
			return nil, fail("subject", err)
		}
		out.Subject = buf.String()
	}
	if pt.text != nil {
		buf.Reset()
		if err := pt.text.Execute(&buf, data); err != nil {
			return nil, fail("text", err)
		}
		out.Text = buf.String()
	}
	if pt.html != nil {
		buf.Reset()
		if err := pt.html.Execute(&buf, data); err != nil {
			return nil, fail("html", err)
		}
		out.HTML = buf.String()
	}
	out.Subject = strings.Join(strings.Fields(out.Subject), " ") // a subject is one line
	return out, nil
}

// parseTemplate finds template key for lang as renderTemplate does and
// parses its parts; nil when there is none.
func parseTemplate(org *Organisation, own []MailTemplate, key, lang string) *parsedTemplate {
	for _, l := range languageChain(lang, org.DefaultLanguage) {
		for _, set := range [][]MailTemplate{own, builtinTemplates} {
			i := slices.IndexFunc(set, func(t MailTemplate) bool { return t.Key == key && t.Language == l })
			if i < 0 {
				continue
			}
			t := &set[i]
			pt := &parsedTemplate{key: t.Key, lang: t.Language}
			var err error
			if t.Subject != "" {
				if pt.subject, err = texttemplate.New("subject").Option("missingkey=error").Parse(t.Subject); err != nil {
					pt.err, pt.field = err, "subject"
					return pt
				}
			}
			if t.Text != "" {
				if pt.text, err = texttemplate.New("text").Option("missingkey=error").Parse(t.Text); err != nil {
					pt.err, pt.field = err, "text"
					return pt
				}
			}
			if t.HTML != "" {
				if pt.html, err = htmltemplate.New("html").Option("missingkey=error").Parse(t.HTML); err != nil {
					pt.err, pt.field = err, "html"
					return pt
				}
			}
			return pt
		}
	}
	return nil
}
