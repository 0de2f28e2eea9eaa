package mailtest

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"net/smtp"
	"net/textproto"
	"strings"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	raw := strings.ReplaceAll(`From: "Anna" <anna@example.nl>
To: bob@example.com
Subject: =?utf-8?q?Ihre_Unterlagen_f=C3=BCr_M=C3=A4rz?=
Message-ID: <abc@example.nl>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary=outer

--outer
Content-Type: multipart/alternative; boundary=inner

--inner
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: quoted-printable

f=C3=BCr M=C3=A4rz, eine lange Zeile die umbrochen =
wird.
--inner
Content-Type: text/html; charset=utf-8

<p>f&uuml;r</p>
--inner--
--outer
Content-Type: application/pdf
Content-Disposition: attachment; filename*=utf-8''Rechnung%20M%C3%A4rz.pdf
Content-Transfer-Encoding: base64

JVBERi0xLjcK
AAEC/w==
--outer
Content-Type: image/png; name="=?utf-8?q?Bild_=C3=BC.png?="
Content-Transfer-Encoding: base64

iVBORw==
--outer--
`, "\n", "\r\n")
	m := parse([]byte(raw))
	if m.ParseErr != nil {
		t.Fatal(m.ParseErr)
	}
	if m.Subject != "Ihre Unterlagen für März" || m.MessageID != "<abc@example.nl>" {
		t.Errorf("subject %q, id %q", m.Subject, m.MessageID)
	}
	// In a multipart, the line break before a boundary belongs to the boundary.
	if m.Text != "für März, eine lange Zeile die umbrochen wird." || m.HTML != "<p>f&uuml;r</p>" {
		t.Errorf("text %q, html %q", m.Text, m.HTML)
	}
	if len(m.Attachments) != 2 {
		t.Fatalf("%d attachments", len(m.Attachments))
	}
	pdf, png := m.Attachments[0], m.Attachments[1]
	if pdf.Filename != "Rechnung März.pdf" || pdf.ContentType != "application/pdf" || !bytes.Equal(pdf.Data, []byte("%PDF-1.7\n\x00\x01\x02\xff")) {
		t.Errorf("pdf %q %q %q", pdf.Filename, pdf.ContentType, pdf.Data)
	}
	if png.Filename != "Bild ü.png" || png.ContentType != "image/png" || !bytes.Equal(png.Data, []byte("\x89PNG")) {
		t.Errorf("png %q %q %q", png.Filename, png.ContentType, png.Data)
	}

	if m := parse([]byte("no header at all")); m.ParseErr == nil {
		t.Error("garbage parsed without error")
	}
}

// isReply reports whether err is the SMTP reply code with the enhanced code enhanced.
func isReply(err error, code int, enhanced string) bool {
	var te *textproto.Error
	return errors.As(err, &te) && te.Code == code && strings.HasPrefix(te.Msg, enhanced+" ")
}

// The server works with another client too: the standard library's.
func TestServerWithStandardClient(t *testing.T) {
	srv := NewServer(t, WithSTARTTLS(), WithAuth("u", "p"))
	srv.RejectRecipient("Nobody@Example.com")
	dial := func() *smtp.Client {
		c, err := smtp.Dial(srv.Addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Close() })
		if ok, _ := c.Extension("AUTH"); ok {
			t.Error("AUTH offered before STARTTLS")
		}
		if err := c.StartTLS(&tls.Config{RootCAs: srv.CertPool(), ServerName: "127.0.0.1"}); err != nil {
			t.Fatal(err)
		}
		return c
	}

	c := dial()
	if err := c.Mail("anna@example.nl"); !isReply(err, 530, "5.7.0") {
		t.Fatalf("MAIL before AUTH: %v", err)
	}
	if err := c.Auth(smtp.PlainAuth("", "u", "wrong", "127.0.0.1")); !isReply(err, 535, "5.7.8") {
		t.Fatalf("wrong password: %v", err)
	}
	if srv.AuthFailures() != 1 {
		t.Errorf("AuthFailures %d", srv.AuthFailures())
	}

	c = dial() // net/smtp quits after a failed AUTH
	if err := c.Auth(smtp.PlainAuth("", "u", "p", "127.0.0.1")); err != nil {
		t.Fatal(err)
	}
	if err := c.Mail("anna@example.nl"); err != nil {
		t.Fatal(err)
	}
	if err := c.Rcpt("nobody@example.com"); !isReply(err, 550, "5.1.1") {
		t.Fatalf("rejected recipient: %v", err)
	}
	if err := c.Rcpt("bob@example.com"); err != nil {
		t.Fatal(err)
	}
	srv.FailNext(1)
	send := func() error {
		w, err := c.Data()
		if err != nil {
			return err
		}
		if _, err := w.Write([]byte("Subject: hi\r\n\r\nhello\r\n")); err != nil {
			return err
		}
		return w.Close()
	}
	if err := send(); !isReply(err, 451, "4.3.0") {
		t.Fatalf("FailNext: %v", err)
	}
	if err := c.Mail("anna@example.nl"); err != nil {
		t.Fatal(err)
	}
	if err := c.Rcpt("bob@example.com"); err != nil {
		t.Fatal(err)
	}
	if err := send(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	msgs, err := srv.Wait(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	got := msgs[0]
	if got.From != "anna@example.nl" || len(got.To) != 1 || got.To[0] != "bob@example.com" ||
		!got.TLS || got.AuthUser != "u" || got.Subject != "hi" || got.Text != "hello\n" {
		t.Errorf("got %+v", got)
	}
	if srv.Received() != 1 || srv.Connections() != 2 {
		t.Errorf("Received %d, Connections %d", srv.Received(), srv.Connections())
	}
	srv.Reset()
	if len(srv.Messages()) != 0 {
		t.Error("Reset kept messages")
	}
}
