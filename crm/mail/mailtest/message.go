package mailtest

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"strings"
)

// Message is one message the server received: its envelope, its raw data, and the data
// parsed with net/mail and mime/multipart.
type Message struct {
	// From and To are the envelope: MAIL FROM and the accepted RCPT TO addresses.
	From string
	To   []string
	// Data is the message as received, headers and body, CRLF line ends.
	Data []byte
	// TLS tells whether the session was encrypted (STARTTLS or implicit TLS).
	TLS bool
	// AuthUser is the user the session authenticated as, or "".
	AuthUser string
	// Helo is the name the client gave in EHLO.
	Helo string

	// Header is the parsed header; values are as sent (RFC 2047 words not decoded).
	Header mail.Header
	// Subject is the Subject header, RFC 2047 decoded.
	Subject string
	// MessageID is the Message-ID header, angle brackets included.
	MessageID string
	// Text and HTML are the decoded text/plain and text/html bodies (the first of each that is
	// not an attachment), line ends turned from CRLF into LF.
	Text string
	HTML string
	// Attachments are the parts with Content-Disposition attachment or a file name, decoded.
	Attachments []Attachment
	// ParseErr is the first error met while parsing Data; the fields after it may be partial.
	ParseErr error
}

// Attachment is a received attachment.
type Attachment struct {
	// Filename is the file name from Content-Disposition (or the Content-Type's name),
	// RFC 2047 and RFC 2231 decoded.
	Filename string
	// ContentType is the media type, without parameters ("application/pdf").
	ContentType string
	// Data is the decoded content.
	Data []byte
}

// HeaderDecoded returns the header key with RFC 2047 words decoded.
func (m *Message) HeaderDecoded(key string) string {
	v := m.Header.Get(key)
	if d, err := new(mime.WordDecoder).DecodeHeader(v); err == nil {
		return d
	}
	return v
}

// Addresses parses the address header key (To, From, Reply-To, Cc), names decoded.
func (m *Message) Addresses(key string) ([]*mail.Address, error) {
	return m.Header.AddressList(key)
}

// parse parses raw message data; it never fails, it records the error in ParseErr.
func parse(data []byte) *Message {
	m := &Message{Data: data}
	msg, err := mail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		m.ParseErr = err
		return m
	}
	m.Header = msg.Header
	m.Subject = m.HeaderDecoded("Subject")
	m.MessageID = msg.Header.Get("Message-Id")
	if err := m.walk(partHeader(msg.Header), msg.Body); err != nil {
		m.ParseErr = err
	}
	return m
}

// partHeader is what walk needs of a header: Get.
type partHeader interface{ Get(string) string }

// walk reads one MIME entity, descending into multiparts.
func (m *Message) walk(h partHeader, body io.Reader) error {
	ct := h.Get("Content-Type")
	if ct == "" {
		ct = "text/plain; charset=us-ascii"
	}
	mediaType, params, err := mime.ParseMediaType(ct)
	if err != nil {
		return fmt.Errorf("content type %q: %w", ct, err)
	}
	if strings.HasPrefix(mediaType, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextRawPart()
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return fmt.Errorf("%s: %w", mediaType, err)
			}
			if err := m.walk(p.Header, p); err != nil {
				return err
			}
		}
	}

	content, err := decode(h.Get("Content-Transfer-Encoding"), body)
	if err != nil {
		return fmt.Errorf("%s body: %w", mediaType, err)
	}
	disposition, dparams, _ := mime.ParseMediaType(h.Get("Content-Disposition"))
	filename := dparams["filename"]
	if filename == "" {
		filename = params["name"]
	}
	if disposition == "attachment" || filename != "" {
		if d, err := new(mime.WordDecoder).DecodeHeader(filename); err == nil {
			filename = d
		}
		m.Attachments = append(m.Attachments, Attachment{Filename: filename, ContentType: mediaType, Data: content})
		return nil
	}
	switch {
	case mediaType == "text/plain" && m.Text == "":
		m.Text = strings.ReplaceAll(string(content), "\r\n", "\n")
	case mediaType == "text/html" && m.HTML == "":
		m.HTML = strings.ReplaceAll(string(content), "\r\n", "\n")
	}
	return nil
}

// decode undoes a Content-Transfer-Encoding.
func decode(cte string, r io.Reader) ([]byte, error) {
	switch strings.ToLower(strings.TrimSpace(cte)) {
	case "base64":
		return io.ReadAll(base64.NewDecoder(base64.StdEncoding, r))
	case "quoted-printable":
		return io.ReadAll(quotedprintable.NewReader(r))
	default: // 7bit, 8bit, binary
		return io.ReadAll(r)
	}
}
