package mail_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"net/textproto"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dossiercrm/dossier/crm/mail"
	"github.com/dossiercrm/dossier/crm/mail/mailtest"
)

var defaultFrom = mail.Address{Name: "Reisebüro Sonnenschein", Email: "info@sonnenschein.example"}

// newSender makes an SMTPSender for srv, without TLS unless change says otherwise.
func newSender(t *testing.T, srv *mailtest.Server, change func(*mail.SMTPConfig)) *mail.SMTPSender {
	t.Helper()
	cfg := mail.SMTPConfig{
		Host:    srv.Host,
		Port:    srv.Port,
		TLS:     mail.TLSNone,
		From:    defaultFrom,
		Timeout: 10 * time.Second,
		HELO:    "dossier.test",
	}
	if change != nil {
		change(&cfg)
	}
	s, err := mail.NewSMTPSender(cfg)
	if err != nil {
		t.Fatalf("NewSMTPSender: %v", err)
	}
	return s
}

// everyByte is 1 KiB holding every byte value four times.
func everyByte() []byte {
	b := make([]byte, 1024)
	for i := range b {
		b[i] = byte(i)
	}
	return b
}

// pdfLike is what a small PDF looks like: text, binary bytes after the header, CR and LF alone.
func pdfLike() []byte {
	var b bytes.Buffer
	b.WriteString("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\r")
	b.WriteString("stream\r\n\x00\x01\x02\xff\xfe.\r\n.\n..\r\nendstream\n")
	b.WriteString("trailer\n<< /Root 1 0 R >>\n%%EOF\n")
	return b.Bytes()
}

func richMessage() *mail.Message {
	return &mail.Message{
		ID: "0190f3a2-7c1e-7b6a-9d2f-3c4b5a6d7e8f",
		To: []mail.Address{
			{Name: "Anna Müller", Email: "anna@example.nl"},
			{Email: "bob@example.com"},
		},
		ReplyTo: &mail.Address{Name: "Büro Köln", Email: "koeln@sonnenschein.example"},
		Subject: "Ihre Unterlagen für März",
		Text:    "Guten Tag Frau Müller,\n\nanbei Ihre Unterlagen für März.\n.\nEine Zeile mit einem Punkt davor: .x\n" + strings.Repeat("lang ", 40) + "\n",
		HTML:    "<p>Guten Tag Frau Müller,</p>\n<p>anbei Ihre Unterlagen für <b>März</b> – €.</p>\n",
		Attachments: []mail.Attachment{
			{Name: "bytes.bin", ContentType: "application/octet-stream", Data: everyByte()},
			{Name: "Rechnung März.pdf", ContentType: "application/pdf", Data: pdfLike()},
		},
		Headers: map[string]string{
			"X-Dossier-Customer": "c-42",
			"X-Dossier-Note":     "Grüße aus Köln",
		},
	}
}

func TestSMTPSendDeliversEverything(t *testing.T) {
	srv := mailtest.NewServer(t)
	s := newSender(t, srv, nil)
	m := richMessage()
	if err := s.Send(context.Background(), m); err != nil {
		t.Fatalf("Send: %v", err)
	}
	msgs := srv.Messages()
	if len(msgs) != 1 {
		t.Fatalf("server got %d messages, want 1", len(msgs))
	}
	got := msgs[0]
	if got.ParseErr != nil {
		t.Fatalf("parse: %v\n%s", got.ParseErr, got.Data)
	}

	// Envelope.
	if got.From != defaultFrom.Email {
		t.Errorf("MAIL FROM = %q, want %q", got.From, defaultFrom.Email)
	}
	if want := []string{"anna@example.nl", "bob@example.com"}; strings.Join(got.To, ",") != strings.Join(want, ",") {
		t.Errorf("RCPT TO = %v, want %v", got.To, want)
	}
	if got.Helo != "dossier.test" {
		t.Errorf("EHLO %q, want dossier.test", got.Helo)
	}

	// Headers.
	to, err := got.Addresses("To")
	if err != nil {
		t.Fatalf("To header: %v", err)
	}
	if len(to) != 2 || to[0].Name != "Anna Müller" || to[0].Address != "anna@example.nl" || to[1].Address != "bob@example.com" {
		t.Errorf("To header = %v", to)
	}
	from, err := got.Addresses("From")
	if err != nil || len(from) != 1 || from[0].Name != defaultFrom.Name || from[0].Address != defaultFrom.Email {
		t.Errorf("From header = %v, %v; want the sender's default", from, err)
	}
	replyTo, err := got.Addresses("Reply-To")
	if err != nil || len(replyTo) != 1 || replyTo[0].Name != "Büro Köln" || replyTo[0].Address != "koeln@sonnenschein.example" {
		t.Errorf("Reply-To header = %v, %v", replyTo, err)
	}
	if got.Subject != m.Subject {
		t.Errorf("Subject = %q, want %q", got.Subject, m.Subject)
	}
	if raw := got.Header.Get("Subject"); raw == m.Subject {
		t.Errorf("Subject went out unencoded: %q", raw)
	}
	if want := "<" + m.ID + "@sonnenschein.example>"; got.MessageID != want {
		t.Errorf("Message-ID = %q, want %q", got.MessageID, want)
	}
	if got.HeaderDecoded("X-Dossier-Customer") != "c-42" || got.HeaderDecoded("X-Dossier-Note") != "Grüße aus Köln" {
		t.Errorf("extra headers: customer %q, note %q", got.HeaderDecoded("X-Dossier-Customer"), got.HeaderDecoded("X-Dossier-Note"))
	}
	if _, err := got.Header.Date(); err != nil {
		t.Errorf("Date header: %v", err)
	}
	if got.Header.Get("User-Agent") != "" || got.Header.Get("X-Mailer") != "" {
		t.Errorf("mailer advertised: %q %q", got.Header.Get("User-Agent"), got.Header.Get("X-Mailer"))
	}
	for _, line := range strings.Split(string(got.Data), "\r\n") {
		if len(line) > 998 {
			t.Errorf("line of %d characters", len(line))
		}
		for _, c := range []byte(line) {
			if c >= 0x80 {
				t.Fatalf("8-bit byte on the wire in %q", line)
			}
		}
	}

	// Bodies.
	if got.Text != m.Text {
		t.Errorf("text body:\n got %q\nwant %q", got.Text, m.Text)
	}
	if got.HTML != m.HTML {
		t.Errorf("HTML body:\n got %q\nwant %q", got.HTML, m.HTML)
	}

	// Attachments, byte for byte.
	if len(got.Attachments) != len(m.Attachments) {
		t.Fatalf("%d attachments, want %d", len(got.Attachments), len(m.Attachments))
	}
	for i, want := range m.Attachments {
		a := got.Attachments[i]
		if a.Filename != want.Name || a.ContentType != want.ContentType {
			t.Errorf("attachment %d: %q %q, want %q %q", i, a.Filename, a.ContentType, want.Name, want.ContentType)
		}
		if !bytes.Equal(a.Data, want.Data) {
			t.Errorf("attachment %q: %d bytes differ from the %d sent", want.Name, len(a.Data), len(want.Data))
		}
	}
}

func TestSMTPSendTextOnlyAndHTMLOnly(t *testing.T) {
	srv := mailtest.NewServer(t)
	s := newSender(t, srv, nil)
	ctx := context.Background()
	text := &mail.Message{To: []mail.Address{{Email: "anna@example.nl"}}, Subject: "plain", Text: "nur Text\n"}
	html := &mail.Message{To: []mail.Address{{Email: "anna@example.nl"}}, Subject: "html", HTML: "<p>nur HTML</p>"}
	for _, m := range []*mail.Message{text, html} {
		if err := s.Send(ctx, m); err != nil {
			t.Fatalf("Send %s: %v", m.Subject, err)
		}
	}
	msgs := srv.Messages()
	if len(msgs) != 2 {
		t.Fatalf("%d messages", len(msgs))
	}
	if msgs[0].Text != "nur Text\n" || msgs[0].HTML != "" {
		t.Errorf("text-only: text %q html %q", msgs[0].Text, msgs[0].HTML)
	}
	// SMTP data ends with a line break, so a single-part body always does.
	if msgs[1].HTML != "<p>nur HTML</p>\n" || msgs[1].Text != "" {
		t.Errorf("HTML-only: text %q html %q", msgs[1].Text, msgs[1].HTML)
	}
	// Without an ID, a random one on the From domain.
	if id := msgs[0].MessageID; !strings.HasSuffix(id, "@sonnenschein.example>") || len(id) < 20 || id == msgs[1].MessageID {
		t.Errorf("generated Message-IDs %q, %q", id, msgs[1].MessageID)
	}
}

func TestSMTPSendOwnFrom(t *testing.T) {
	srv := mailtest.NewServer(t)
	s := newSender(t, srv, nil)
	m := &mail.Message{
		ID:   "row-17",
		From: mail.Address{Name: "Filiale Zoë", Email: "zoe@filiale.example"},
		To:   []mail.Address{{Email: "anna@example.nl"}},
		Text: "x",
	}
	if err := s.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	got := srv.Messages()[0]
	from, _ := got.Addresses("From")
	if got.From != "zoe@filiale.example" || len(from) != 1 || from[0].Name != "Filiale Zoë" {
		t.Errorf("envelope %q, header %v", got.From, from)
	}
	if got.MessageID != "<row-17@filiale.example>" {
		t.Errorf("Message-ID %q", got.MessageID)
	}
}

func TestSMTPStartTLSAndAuth(t *testing.T) {
	for _, tc := range []struct {
		name    string
		offered []string
		auth    mail.AuthMechanism
	}{
		{"auto picks PLAIN", []string{"PLAIN", "LOGIN"}, mail.AuthAuto},
		{"auto falls back to LOGIN", []string{"LOGIN"}, mail.AuthAuto},
		{"explicit LOGIN", []string{"PLAIN", "LOGIN"}, mail.AuthLogin},
		{"explicit PLAIN", []string{"PLAIN", "LOGIN"}, mail.AuthPlain},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := mailtest.NewServer(t, mailtest.WithSTARTTLS(), mailtest.WithAuth("dossier", "s3cret ü"),
				mailtest.WithAuthMechanisms(tc.offered...))
			s := newSender(t, srv, func(c *mail.SMTPConfig) {
				c.TLS = mail.TLSStartTLS
				c.RootCAs = srv.CertPool()
				c.Username, c.Password, c.Auth = "dossier", "s3cret ü", tc.auth
			})
			if err := s.Send(context.Background(), richMessage()); err != nil {
				t.Fatalf("Send: %v", err)
			}
			got := srv.Messages()
			if len(got) != 1 {
				t.Fatalf("got %d messages, want 1", len(got))
			}
			if !got[0].TLS || got[0].AuthUser != "dossier" {
				t.Fatalf("TLS %v, user %q", got[0].TLS, got[0].AuthUser)
			}
			if got[0].Subject != "Ihre Unterlagen für März" {
				t.Errorf("subject %q", got[0].Subject)
			}
		})
	}
}

func TestSMTPAuthMechanismNotOffered(t *testing.T) {
	srv := mailtest.NewServer(t, mailtest.WithAuth("dossier", "pw"), mailtest.WithAuthMechanisms("LOGIN"))
	s := newSender(t, srv, func(c *mail.SMTPConfig) { c.Username, c.Password, c.Auth = "dossier", "pw", mail.AuthPlain })
	err := s.Send(context.Background(), richMessage())
	var se *mail.SendError
	if !errors.As(err, &se) || se.Op != "auth" || mail.Permanent(err) || !strings.Contains(err.Error(), "does not offer AUTH PLAIN") {
		t.Fatalf("err = %v; want a temporary auth error naming PLAIN", err)
	}
}

func TestSMTPImplicitTLS(t *testing.T) {
	srv := mailtest.NewServer(t, mailtest.WithImplicitTLS(), mailtest.WithAuth("dossier", "pw"))
	s := newSender(t, srv, func(c *mail.SMTPConfig) {
		c.TLS = mail.TLSImplicit
		c.TLSConfig = &tls.Config{RootCAs: srv.CertPool(), MinVersion: tls.VersionTLS13}
		c.Username, c.Password = "dossier", "pw"
	})
	if err := s.Send(context.Background(), richMessage()); err != nil {
		t.Fatalf("Send: %v", err)
	}
	if got := srv.Messages(); len(got) != 1 || !got[0].TLS || got[0].AuthUser != "dossier" {
		t.Fatalf("messages %d, TLS/auth wrong", len(got))
	}
}

func TestSMTPWrongPasswordIsPermanent(t *testing.T) {
	srv := mailtest.NewServer(t, mailtest.WithSTARTTLS(), mailtest.WithAuth("dossier", "right"))
	s := newSender(t, srv, func(c *mail.SMTPConfig) {
		c.TLS = mail.TLSStartTLS
		c.RootCAs = srv.CertPool()
		c.Username, c.Password = "dossier", "wrong"
	})
	err := s.Send(context.Background(), richMessage())
	if err == nil {
		t.Fatal("Send with a wrong password succeeded")
	}
	if !mail.Permanent(err) {
		t.Errorf("Permanent(%v) = false", err)
	}
	var se *mail.SendError
	if !errors.As(err, &se) || se.Op != "auth" || se.Code != 535 || se.EnhancedCode != "5.7.8" {
		t.Errorf("err = %#v", se)
	}
	var te *textproto.Error
	if !errors.As(err, &te) || te.Code != 535 {
		t.Errorf("the server's answer is not reachable with errors.As: %v", err)
	}
	if srv.AuthFailures() != 1 || len(srv.Messages()) != 0 {
		t.Errorf("auth failures %d, messages %d", srv.AuthFailures(), len(srv.Messages()))
	}
}

func TestSMTPUntrustedCertificate(t *testing.T) {
	srv := mailtest.NewServer(t, mailtest.WithSTARTTLS(), mailtest.WithAuth("dossier", "pw"))
	s := newSender(t, srv, func(c *mail.SMTPConfig) {
		c.TLS = mail.TLSStartTLS // no RootCAs: the system's roots do not know the test certificate
		c.Username, c.Password = "dossier", "pw"
	})
	err := s.Send(context.Background(), richMessage())
	var se *mail.SendError
	if !errors.As(err, &se) || se.Op != "starttls" || mail.Permanent(err) {
		t.Fatalf("err = %v; want a temporary starttls error", err)
	}
	var unknown x509.UnknownAuthorityError
	if !errors.As(err, &unknown) {
		t.Errorf("err = %v; want an unknown-authority certificate error", err)
	}
	if srv.AuthFailures() != 0 || len(srv.Messages()) != 0 {
		t.Error("the password or the message went out over an unverified connection")
	}
}

func TestSMTPStartTLSRequiredButNotOffered(t *testing.T) {
	srv := mailtest.NewServer(t, mailtest.WithAuth("dossier", "pw"))
	strict := newSender(t, srv, func(c *mail.SMTPConfig) { c.TLS = mail.TLSStartTLS; c.Username, c.Password = "dossier", "pw" })
	err := strict.Send(context.Background(), richMessage())
	var se *mail.SendError
	if !errors.As(err, &se) || se.Op != "starttls" || mail.Permanent(err) {
		t.Fatalf("starttls policy: err = %v; want a temporary starttls error", err)
	}
	if srv.AuthFailures() != 0 || len(srv.Messages()) != 0 {
		t.Fatal("sent without the TLS the policy requires")
	}

	// Opportunistic goes on in plain text (credentials only because the server is on localhost).
	lax := newSender(t, srv, func(c *mail.SMTPConfig) { c.TLS = mail.TLSOpportunistic; c.Username, c.Password = "dossier", "pw" })
	if err := lax.Send(context.Background(), richMessage()); err != nil {
		t.Fatalf("opportunistic: %v", err)
	}
	if got := srv.Messages(); len(got) != 1 || got[0].TLS {
		t.Fatalf("opportunistic: %d messages", len(got))
	}
}

func TestSMTPOpportunisticUsesSTARTTLSWhenOffered(t *testing.T) {
	srv := mailtest.NewServer(t, mailtest.WithSTARTTLS())
	s := newSender(t, srv, func(c *mail.SMTPConfig) { c.TLS = mail.TLSOpportunistic; c.RootCAs = srv.CertPool() })
	if err := s.Send(context.Background(), richMessage()); err != nil {
		t.Fatal(err)
	}
	if got := srv.Messages(); len(got) != 1 || !got[0].TLS {
		t.Fatal("opportunistic did not use the offered STARTTLS")
	}
}

func TestSMTPRejectedRecipientIsPermanent(t *testing.T) {
	srv := mailtest.NewServer(t)
	srv.RejectRecipient("bob@example.com")
	s := newSender(t, srv, nil)
	err := s.Send(context.Background(), richMessage()) // to anna (accepted) and bob (refused)
	if !mail.Permanent(err) {
		t.Fatalf("Permanent(%v) = false", err)
	}
	var se *mail.SendError
	if !errors.As(err, &se) || se.Op != "rcpt" || se.Code != 550 || se.EnhancedCode != "5.1.1" ||
		len(se.Recipients) != 1 || se.Recipients[0] != "bob@example.com" {
		t.Fatalf("err = %#v", se)
	}
	if !strings.Contains(err.Error(), "bob@example.com") {
		t.Errorf("error text %q does not name the recipient", err)
	}
	if n := len(srv.Messages()); n != 0 {
		t.Fatalf("%d messages delivered; a mail goes to all its recipients or none", n)
	}
}

func TestSMTPTemporaryAnswerIsNotPermanent(t *testing.T) {
	srv := mailtest.NewServer(t)
	srv.FailNext(1)
	s := newSender(t, srv, nil)
	err := s.Send(context.Background(), richMessage())
	if err == nil || mail.Permanent(err) {
		t.Fatalf("err = %v; want a temporary error", err)
	}
	var se *mail.SendError
	if !errors.As(err, &se) || se.Op != "data" || se.Code != 451 || se.EnhancedCode != "4.3.0" {
		t.Fatalf("err = %#v", se)
	}
	// The retry goes through.
	if err := s.Send(context.Background(), richMessage()); err != nil {
		t.Fatalf("retry: %v", err)
	}
	if n := len(srv.Messages()); n != 1 {
		t.Fatalf("%d messages after the retry", n)
	}
}

func TestSMTPConnectionRefusedIsNotPermanent(t *testing.T) {
	s, err := mail.NewSMTPSender(mail.SMTPConfig{Host: "127.0.0.1", Port: mailtest.UnusedPort(t), TLS: mail.TLSNone, From: defaultFrom})
	if err != nil {
		t.Fatal(err)
	}
	err = s.Send(context.Background(), richMessage())
	if err == nil || mail.Permanent(err) {
		t.Fatalf("err = %v; want a temporary error", err)
	}
	var se *mail.SendError
	var oe *net.OpError
	if !errors.As(err, &se) || se.Op != "connect" || se.Code != 0 || !errors.As(err, &oe) {
		t.Fatalf("err = %v", err)
	}
}

func TestSMTPMessageTooLargeIsPermanent(t *testing.T) {
	srv := mailtest.NewServer(t, mailtest.WithMaxMessageBytes(64*1024))
	s := newSender(t, srv, nil)
	m := richMessage()
	m.Attachments = append(m.Attachments, mail.Attachment{Name: "big.bin", Data: make([]byte, 100*1024)})
	err := s.Send(context.Background(), m)
	var se *mail.SendError
	if !mail.Permanent(err) || !errors.As(err, &se) || se.Op != "size" {
		t.Fatalf("err = %v; want a permanent size error", err)
	}
	if srv.Received() != 0 {
		t.Fatal("the server received the message")
	}
}

func TestSMTPInvalidMessageNeverConnects(t *testing.T) {
	srv := mailtest.NewServer(t)
	s := newSender(t, srv, nil)
	err := s.Send(context.Background(), &mail.Message{To: []mail.Address{{Email: "not an address"}}, Text: "x"})
	if !errors.Is(err, mail.ErrInvalidMessage) || !mail.Permanent(err) {
		t.Fatalf("err = %v; want ErrInvalidMessage", err)
	}
	if srv.Connections() != 0 {
		t.Fatal("connected for an invalid message")
	}
}

func TestSMTPContextDeadlineWhileServerStalls(t *testing.T) {
	srv := mailtest.NewServer(t)
	srv.SetDataDelay(10 * time.Second)
	s := newSender(t, srv, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := s.Send(ctx, richMessage())
	took := time.Since(start)
	if !errors.Is(err, context.DeadlineExceeded) || mail.Permanent(err) {
		t.Fatalf("err = %v; want a temporary error matching context.DeadlineExceeded", err)
	}
	if took > 5*time.Second {
		t.Fatalf("Send returned after %v; the 300ms deadline was not honoured", took)
	}
}

// silentServer accepts connections and never says a word, like a hung mail server.
func silentServer(t *testing.T) (host string, port int) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		_ = ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			_ = c.Close()
		}
	})
	return "127.0.0.1", ln.Addr().(*net.TCPAddr).Port
}

func TestSMTPContextDeadlineDuringGreeting(t *testing.T) {
	host, port := silentServer(t)
	for _, policy := range []mail.TLSPolicy{mail.TLSNone, mail.TLSImplicit} {
		t.Run(string(policy), func(t *testing.T) {
			s, err := mail.NewSMTPSender(mail.SMTPConfig{Host: host, Port: port, TLS: policy, From: defaultFrom})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
			defer cancel()
			start := time.Now()
			err = s.Send(ctx, richMessage())
			if !errors.Is(err, context.DeadlineExceeded) || mail.Permanent(err) {
				t.Fatalf("err = %v; want a temporary error matching context.DeadlineExceeded", err)
			}
			if took := time.Since(start); took > 5*time.Second {
				t.Fatalf("Send returned after %v", took)
			}
		})
	}
}

func TestSMTPContextCancel(t *testing.T) {
	srv := mailtest.NewServer(t)
	srv.SetDataDelay(10 * time.Second)
	s := newSender(t, srv, nil)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(200*time.Millisecond, cancel)
	start := time.Now()
	err := s.Send(ctx, richMessage())
	if !errors.Is(err, context.Canceled) || mail.Permanent(err) {
		t.Fatalf("err = %v; want a temporary error matching context.Canceled", err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("Send returned after %v", took)
	}
}

func TestSMTPConfigTimeout(t *testing.T) {
	host, port := silentServer(t)
	s, err := mail.NewSMTPSender(mail.SMTPConfig{Host: host, Port: port, TLS: mail.TLSNone, From: defaultFrom, Timeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	err = s.Send(context.Background(), richMessage())
	if !errors.Is(err, context.DeadlineExceeded) || mail.Permanent(err) {
		t.Fatalf("err = %v", err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("Send returned after %v", took)
	}
}

func TestSMTPConcurrentSends(t *testing.T) {
	srv := mailtest.NewServer(t, mailtest.WithSTARTTLS(), mailtest.WithAuth("dossier", "pw"), mailtest.WithAuthMechanisms("LOGIN"))
	s := newSender(t, srv, func(c *mail.SMTPConfig) {
		c.TLS, c.RootCAs = mail.TLSStartTLS, srv.CertPool()
		c.Username, c.Password = "dossier", "pw"
	})
	const n = 16
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			m := richMessage()
			m.ID = "m" + string(rune('a'+i))
			errs <- s.Send(context.Background(), m)
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	seen := map[string]bool{}
	for _, m := range srv.Messages() {
		seen[m.MessageID] = true
	}
	if len(seen) != n {
		t.Fatalf("%d distinct messages, want %d", len(seen), n)
	}
}

func TestNewSMTPSenderDefaultsAndErrors(t *testing.T) {
	for _, tc := range []struct {
		policy mail.TLSPolicy
		port   string
	}{{"", "587"}, {mail.TLSOpportunistic, "587"}, {mail.TLSImplicit, "465"}, {mail.TLSNone, "25"}} {
		s, err := mail.NewSMTPSender(mail.SMTPConfig{Host: "smtp.example.com", TLS: tc.policy, From: defaultFrom})
		if err != nil {
			t.Fatalf("%q: %v", tc.policy, err)
		}
		if s.Addr() != "smtp.example.com:"+tc.port {
			t.Errorf("policy %q: Addr %s, want port %s", tc.policy, s.Addr(), tc.port)
		}
	}

	for _, tc := range []struct {
		name string
		cfg  mail.SMTPConfig
		want []string
	}{
		{"empty", mail.SMTPConfig{}, []string{"Host is required", "From is required"}},
		{"url", mail.SMTPConfig{Host: "smtp://mail.example.com", From: defaultFrom}, []string{"not a URL"}},
		{"port in host", mail.SMTPConfig{Host: "mail.example.com:587", From: defaultFrom}, []string{"without a port"}},
		{"bad port", mail.SMTPConfig{Host: "h", Port: 70000, From: defaultFrom}, []string{"Port 70000"}},
		{"bad policy", mail.SMTPConfig{Host: "h", TLS: "ssl", From: defaultFrom}, []string{`TLS "ssl"`}},
		{"bad auth", mail.SMTPConfig{Host: "h", Auth: "CRAM-MD5", From: defaultFrom}, []string{`Auth "CRAM-MD5"`}},
		{"user without password", mail.SMTPConfig{Host: "h", Username: "u", From: defaultFrom}, []string{"Password is empty"}},
		{"password without user", mail.SMTPConfig{Host: "h", Password: "p", From: defaultFrom}, []string{"Username is empty"}},
		{"credentials in plain text", mail.SMTPConfig{Host: "mail.example.com", TLS: mail.TLSNone, Username: "u", Password: "p", From: defaultFrom}, []string{"unencrypted"}},
		{"bad from", mail.SMTPConfig{Host: "h", From: mail.Address{Email: "nope"}}, []string{"From:"}},
		{"negative timeout", mail.SMTPConfig{Host: "h", From: defaultFrom, Timeout: -time.Second}, []string{"negative"}},
		{"bad helo", mail.SMTPConfig{Host: "h", From: defaultFrom, HELO: "two words"}, []string{"HELO"}},
		{"skip verify", mail.SMTPConfig{Host: "h", From: defaultFrom, TLSConfig: &tls.Config{InsecureSkipVerify: true}}, []string{"InsecureSkipVerify"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := mail.NewSMTPSender(tc.cfg)
			if !errors.Is(err, mail.ErrInvalidConfig) {
				t.Fatalf("err = %v; want ErrInvalidConfig", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}
