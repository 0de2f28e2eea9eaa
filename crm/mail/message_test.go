package mail_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/dossiercrm/dossier/crm/mail"
)

func TestMessageValidate(t *testing.T) {
	valid := func() *mail.Message {
		return &mail.Message{To: []mail.Address{{Name: "Anna", Email: "anna@example.nl"}}, Subject: "Hallo", Text: "x"}
	}
	if err := valid().Validate(); err != nil {
		t.Fatalf("valid message: %v", err)
	}
	if err := richMessage().Validate(); err != nil {
		t.Fatalf("rich message: %v", err)
	}
	for _, tc := range []struct {
		name   string
		change func(m *mail.Message)
		want   string
	}{
		{"no recipient", func(m *mail.Message) { m.To = nil }, "no recipient"},
		{"bad recipient", func(m *mail.Message) { m.To[0].Email = "anna at example" }, "to[0]"},
		{"recipient with name in Email", func(m *mail.Message) { m.To[0].Email = "Anna <anna@example.nl>" }, "to[0]"},
		{"empty recipient", func(m *mail.Message) { m.To = append(m.To, mail.Address{Name: "Nobody"}) }, "to[1]: no e-mail"},
		{"line break in name", func(m *mail.Message) { m.To[0].Name = "Anna\r\nBcc: x@y.z" }, "line break"},
		{"bad from", func(m *mail.Message) { m.From = mail.Address{Email: "x"} }, "from:"},
		{"bad reply-to", func(m *mail.Message) { m.ReplyTo = &mail.Address{Email: "@"} }, "replyTo"},
		{"line break in subject", func(m *mail.Message) { m.Subject = "a\nb" }, "subject"},
		{"no body", func(m *mail.Message) { m.Text = "" }, "neither text nor HTML"},
		{"id with space", func(m *mail.Message) { m.ID = "a b" }, "id:"},
		{"id with angle", func(m *mail.Message) { m.ID = "a>b" }, "id:"},
		{"id with at", func(m *mail.Message) { m.ID = "a@b" }, "id:"},
		{"id with double dot", func(m *mail.Message) { m.ID = "a..b" }, "id:"},
		{"id too long", func(m *mail.Message) { m.ID = strings.Repeat("a", 201) }, "longer than"},
		{"attachment without name", func(m *mail.Message) { m.Attachments = []mail.Attachment{{Data: []byte("x")}} }, "no name"},
		{"attachment name with newline", func(m *mail.Message) { m.Attachments = []mail.Attachment{{Name: "a\nb"}} }, "control character"},
		{"bad content type", func(m *mail.Message) { m.Attachments = []mail.Attachment{{Name: "a", ContentType: "pdf"}} }, "not a media type"},
		{"reserved header", func(m *mail.Message) { m.Headers = map[string]string{"message-id": "<x@y>"} }, "Message-Id is written by the sender"},
		{"bad header name", func(m *mail.Message) { m.Headers = map[string]string{"X Bad": "v"} }, "not a header name"},
		{"header line break", func(m *mail.Message) { m.Headers = map[string]string{"X-A": "v\r\nBcc: x@y.z"} }, "line break"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := valid()
			tc.change(m)
			err := m.Validate()
			if !errors.Is(err, mail.ErrInvalidMessage) || !mail.Permanent(err) {
				t.Fatalf("err = %v; want ErrInvalidMessage", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err %q does not say %q", err, tc.want)
			}
		})
	}

	// Every problem is listed, not only the first.
	err := (&mail.Message{ID: "a b"}).Validate()
	for _, w := range []string{"no recipient", "neither text nor HTML", "id:"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("err %q does not say %q", err, w)
		}
	}
	var nilMsg *mail.Message
	if err := nilMsg.Validate(); !errors.Is(err, mail.ErrInvalidMessage) {
		t.Errorf("nil message: %v", err)
	}
}

func TestAddress(t *testing.T) {
	a := mail.Address{Name: "Anna Müller", Email: "anna@example.nl"}
	if got := a.String(); got != "=?utf-8?q?Anna_M=C3=BCller?= <anna@example.nl>" {
		t.Errorf("String() = %q", got)
	}
	if a.Domain() != "example.nl" || (mail.Address{Email: "x"}).Domain() != "" {
		t.Errorf("Domain() = %q", a.Domain())
	}
	if a.IsZero() || !(mail.Address{}).IsZero() {
		t.Error("IsZero")
	}
}

func TestPermanent(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"plain error", errors.New("boom"), false},
		{"invalid message", mail.ErrInvalidMessage, true},
		{"5xx", &mail.SendError{Op: "rcpt", Code: 550, Permanent: true}, true},
		{"4xx", &mail.SendError{Op: "rcpt", Code: 451}, false},
		{"wrapped 5xx", errors.Join(errors.New("outbox"), &mail.SendError{Code: 552, Permanent: true}), true},
	} {
		if got := mail.Permanent(tc.err); got != tc.want {
			t.Errorf("%s: Permanent = %v, want %v", tc.name, got, tc.want)
		}
	}
}
