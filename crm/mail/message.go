package mail

import (
	"errors"
	"fmt"
	"mime"
	"net/mail"
	"net/textproto"
	"strings"
)

// Address is a mailbox: "Anna Müller <anna@example.nl>". Name may be empty and
// may hold any Unicode; Email is a bare address ("anna@example.nl").
type Address struct{ Name, Email string }

// IsZero reports whether a is the zero Address (no name, no e-mail).
func (a Address) IsZero() bool { return a.Name == "" && a.Email == "" }

// String formats a as a mail header would show it, the name encoded as
// RFC 2047 where needed: "=?utf-8?q?Anna_M=C3=BCller?= <anna@example.nl>".
func (a Address) String() string {
	return (&mail.Address{Name: a.Name, Address: a.Email}).String()
}

// Domain is the part of Email after its last "@", or "" when there is none.
func (a Address) Domain() string {
	i := strings.LastIndexByte(a.Email, '@')
	if i < 0 {
		return ""
	}
	return a.Email[i+1:]
}

// Attachment is a file sent with a message, its bytes as they are.
type Attachment struct {
	Name        string // file name shown to the recipient
	ContentType string // e.g. application/pdf; empty: guessed from Name, else application/octet-stream
	Data        []byte
}

// Message is one mail, already rendered.
type Message struct {
	// ID becomes the Message-ID header (<ID@domain-of-From>): the outbox passes its row id, so a
	// message delivered twice after a crash can be recognised as one by the receiving side.
	// Empty: a random one. It may hold letters, digits, "." and the other characters of an
	// RFC 5322 atom (a UUID is fine), at most 200 of them.
	ID          string
	From        Address // zero: the sender's default From
	To          []Address
	ReplyTo     *Address
	Subject     string // any Unicode; encoded as RFC 2047 where needed
	Text        string // text/plain body
	HTML        string // text/html alternative; empty: text only
	Attachments []Attachment
	Headers     map[string]string // extra headers, e.g. "X-Dossier-Customer"
}

// ErrInvalidMessage is matched (errors.Is) by the error every sender returns for a message
// that breaks a rule of Validate. Such an error is Permanent: sending the same message again
// cannot succeed.
var ErrInvalidMessage = errors.New("mail: invalid message")

// maxIDLen bounds Message.ID; a Message-ID line must stay well under 998 characters.
const maxIDLen = 200

// reservedHeaders are the headers a sender writes itself; Message.Headers may not set them.
var reservedHeaders = map[string]bool{
	"From": true, "Sender": true, "To": true, "Cc": true, "Bcc": true, "Reply-To": true,
	"Subject": true, "Date": true, "Message-Id": true, "Mime-Version": true,
	"Content-Type": true, "Content-Transfer-Encoding": true, "Content-Disposition": true,
	"Content-Id": true, "Return-Path": true, "Received": true,
}

// Validate checks m before anything is sent: at least one recipient, every address a valid
// bare e-mail address, a body, no line breaks in headers, a well-formed ID, attachments with a
// name and a parseable content type, and no extra header that the sender writes itself
// (From, To, Subject, Message-ID, Content-Type, ...). The error lists every problem and
// matches ErrInvalidMessage. A zero From is valid: the sender fills in its default.
func (m *Message) Validate() error {
	if m == nil {
		return fmt.Errorf("%w: nil message", ErrInvalidMessage)
	}
	var problems []string
	add := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }

	if !m.From.IsZero() {
		if p := checkAddress(m.From); p != "" {
			add("from: %s", p)
		}
	}
	if len(m.To) == 0 {
		add("to: no recipient")
	}
	for i, a := range m.To {
		if p := checkAddress(a); p != "" {
			add("to[%d]: %s", i, p)
		}
	}
	if m.ReplyTo != nil {
		if p := checkAddress(*m.ReplyTo); p != "" {
			add("replyTo: %s", p)
		}
	}
	if hasLineBreak(m.Subject) {
		add("subject: contains a line break")
	}
	if m.Text == "" && m.HTML == "" {
		add("body: neither text nor HTML")
	}
	if m.ID != "" {
		if len(m.ID) > maxIDLen {
			add("id: longer than %d characters", maxIDLen)
		} else if !isDotAtom(m.ID) {
			add("id: %q is not usable in a Message-ID (letters, digits and .!#$%%&'*+-/=?^_`{|}~ only)", m.ID)
		}
	}
	for i, a := range m.Attachments {
		if strings.TrimSpace(a.Name) == "" {
			add("attachments[%d]: no name", i)
		} else if hasControl(a.Name) {
			add("attachments[%d]: name contains a control character", i)
		}
		if a.ContentType != "" {
			mt, _, err := mime.ParseMediaType(a.ContentType)
			typ, sub, ok := strings.Cut(mt, "/")
			if err != nil || !ok || typ == "" || sub == "" || hasLineBreak(a.ContentType) {
				add("attachments[%d]: content type %q is not a media type", i, a.ContentType)
			}
		}
	}
	for k, v := range m.Headers {
		switch {
		case !isFieldName(k):
			add("headers: %q is not a header name", k)
		case reservedHeaders[textproto.CanonicalMIMEHeaderKey(k)]:
			add("headers: %s is written by the sender and cannot be set", textproto.CanonicalMIMEHeaderKey(k))
		case hasLineBreak(v):
			add("headers: %s contains a line break", k)
		}
	}
	if len(problems) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %s", ErrInvalidMessage, strings.Join(problems, "; "))
}

// checkAddress returns what is wrong with a, or "".
func checkAddress(a Address) string {
	if a.Email == "" {
		return "no e-mail address"
	}
	if hasLineBreak(a.Name) {
		return "name contains a line break"
	}
	p, err := mail.ParseAddress(a.Email)
	if err != nil || p.Name != "" || p.Address != a.Email {
		return fmt.Sprintf("%q is not a valid e-mail address", a.Email)
	}
	return ""
}

func hasLineBreak(s string) bool { return strings.ContainsAny(s, "\r\n") }

func hasControl(s string) bool {
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return true
		}
	}
	return false
}

// isDotAtom reports whether s is an RFC 5322 dot-atom-text: atoms of atext joined by single dots.
func isDotAtom(s string) bool {
	if s == "" || s[0] == '.' || s[len(s)-1] == '.' || strings.Contains(s, "..") {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte(".!#$%&'*+-/=?^_`{|}~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// isFieldName reports whether s is an RFC 5322 field name: printable ASCII except ":".
func isFieldName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' || s[i] == ':' {
			return false
		}
	}
	return true
}
