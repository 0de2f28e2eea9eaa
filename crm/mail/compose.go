package mail

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"net/mail"
	"sort"

	gomail "github.com/wneessen/go-mail"
)

// compose builds the go-mail message for m, sent as from. m has passed Validate.
//
// The structure is go-mail's: text/plain alone, or multipart/alternative with text and HTML,
// inside multipart/mixed when there are attachments (base64, Content-Disposition: attachment).
// Headers are quoted-printable RFC 2047 words where they need encoding.
func compose(m *Message, from Address) *gomail.Msg {
	msg := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	msg.FromMailAddress(&mail.Address{Name: from.Name, Address: from.Email})
	to := make([]*mail.Address, len(m.To))
	for i, a := range m.To {
		to[i] = &mail.Address{Name: a.Name, Address: a.Email}
	}
	msg.ToMailAddress(to...)
	if m.ReplyTo != nil {
		msg.ReplyToMailAddress(&mail.Address{Name: m.ReplyTo.Name, Address: m.ReplyTo.Email})
	}
	msg.Subject(m.Subject)
	id := m.ID
	if id == "" {
		id = randomID()
	}
	domain := from.Domain()
	if domain == "" {
		domain = "localhost"
	}
	msg.SetMessageIDWithValue(id + "@" + domain)
	msg.SetDate()

	keys := make([]string, 0, len(m.Headers))
	for k := range m.Headers {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		msg.SetGenHeader(gomail.Header(k), m.Headers[k])
	}

	switch {
	case m.Text != "" && m.HTML != "":
		msg.SetBodyString(gomail.TypeTextPlain, m.Text)
		msg.AddAlternativeString(gomail.TypeTextHTML, m.HTML)
	case m.Text != "":
		msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	default:
		msg.SetBodyString(gomail.TypeTextHTML, m.HTML)
	}
	for _, a := range m.Attachments {
		var opts []gomail.FileOption
		if a.ContentType != "" {
			opts = append(opts, gomail.WithFileContentType(gomail.ContentType(a.ContentType)))
		}
		msg.AttachReadSeeker(a.Name, bytes.NewReader(a.Data), opts...)
	}
	return msg
}

// randomID is a Message-ID left part for a message without an ID: 128 random bits in hex.
func randomID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
