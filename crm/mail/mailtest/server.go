// Package mailtest runs a real SMTP server inside a test, on 127.0.0.1, built on
// github.com/emersion/go-smtp. Tests of code that sends mail over SMTP (the SMTP sender, the
// outbox) deliver to it and then look at what it received: the envelope, the raw data, and the
// message parsed into subject, text, HTML and attachments.
//
// The server can require AUTH (PLAIN and LOGIN), offer STARTTLS or speak implicit TLS with a
// self-signed certificate made for the test, refuse chosen recipients with 550, answer 451 to
// the next messages, and stall before answering to test deadlines.
//
//	srv := mailtest.NewServer(t, mailtest.WithSTARTTLS(), mailtest.WithAuth("dossier", "secret"))
//	sender, _ := mail.NewSMTPSender(mail.SMTPConfig{Host: srv.Host, Port: srv.Port,
//		Username: "dossier", Password: "secret", RootCAs: srv.CertPool(), From: ...})
//	...
//	got := srv.Messages()
package mailtest

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"log"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Option configures a Server.
type Option func(*options)

type options struct {
	user, pass  string
	mechs       []string
	startTLS    bool
	implicitTLS bool
	maxBytes    int64
	discard     bool
}

// WithAuth makes the server require SMTP AUTH with this user and password before MAIL FROM.
// Without TLS (no WithSTARTTLS, no WithImplicitTLS) AUTH is offered on the plain connection.
func WithAuth(user, password string) Option {
	return func(o *options) { o.user, o.pass = user, password }
}

// WithAuthMechanisms sets the AUTH mechanisms offered, in order: "PLAIN", "LOGIN" or both
// (the default).
func WithAuthMechanisms(mechs ...string) Option {
	return func(o *options) { o.mechs = mechs }
}

// WithSTARTTLS makes the server offer STARTTLS with a self-signed certificate for 127.0.0.1,
// ::1 and localhost (see CertPool). AUTH is then offered only after STARTTLS, as a real
// submission server does.
func WithSTARTTLS() Option {
	return func(o *options) { o.startTLS = true }
}

// WithImplicitTLS makes the server speak TLS from the first byte (as on port 465), with the
// self-signed certificate (see CertPool).
func WithImplicitTLS() Option {
	return func(o *options) { o.implicitTLS = true }
}

// WithMaxMessageBytes makes the server announce SIZE n and refuse larger messages with 552.
func WithMaxMessageBytes(n int64) Option {
	return func(o *options) { o.maxBytes = n }
}

// WithDiscard makes the server count the messages it accepts (see Received) but neither parse
// nor keep them: for benchmarks, where keeping every message would measure the server.
func WithDiscard() Option {
	return func(o *options) { o.discard = true }
}

// Server is an SMTP server listening on 127.0.0.1 for the length of one test. Its methods are
// safe for concurrent use.
type Server struct {
	// Host is "127.0.0.1".
	Host string
	// Port is the port the server listens on.
	Port int
	// Addr is Host:Port.
	Addr string

	opts  options
	srv   *smtp.Server
	ln    net.Listener
	pool  *x509.CertPool
	done  chan struct{}
	close sync.Once

	mu        sync.Mutex
	msgs      []*Message
	rejected  map[string]bool
	failNext  int
	delay     time.Duration
	conns     int
	received  int
	authFails int
	changed   chan struct{}
}

// NewServer starts a server for t and stops it when t ends.
func NewServer(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s := &Server{Host: "127.0.0.1", done: make(chan struct{}), rejected: map[string]bool{}}
	for _, o := range opts {
		o(&s.opts)
	}
	if len(s.opts.mechs) == 0 {
		s.opts.mechs = []string{sasl.Plain, sasl.Login}
	}

	srv := smtp.NewServer(smtp.BackendFunc(s.newSession))
	srv.Domain = "mailtest.localhost"
	srv.MaxMessageBytes = s.opts.maxBytes
	srv.MaxRecipients = 100
	srv.ReadTimeout = time.Minute
	srv.WriteTimeout = time.Minute
	srv.ErrorLog = log.New(io.Discard, "", 0)

	var tlsConfig *tls.Config
	if s.opts.startTLS || s.opts.implicitTLS {
		cert, pool, err := selfSigned()
		if err != nil {
			t.Fatalf("mailtest: certificate: %v", err)
		}
		s.pool = pool
		tlsConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	if s.opts.startTLS {
		srv.TLSConfig = tlsConfig
	}
	// Without any TLS, AUTH is offered in plain text (the client talks to 127.0.0.1).
	srv.AllowInsecureAuth = !s.opts.startTLS && !s.opts.implicitTLS

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("mailtest: listen: %v", err)
	}
	ln = countingListener{Listener: ln, s: s}
	if s.opts.implicitTLS {
		ln = tls.NewListener(ln, tlsConfig)
	}
	s.ln, s.srv = ln, srv
	s.Addr = ln.Addr().String()
	s.Port = ln.Addr().(*net.TCPAddr).Port
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(s.Close)
	return s
}

// Close stops the server and cuts its connections. NewServer arranges it at the test's end.
func (s *Server) Close() {
	s.close.Do(func() {
		close(s.done)
		_ = s.srv.Close()
	})
}

// CertPool returns a pool holding the server's self-signed certificate, for the client's
// root CAs; nil without WithSTARTTLS or WithImplicitTLS.
func (s *Server) CertPool() *x509.CertPool { return s.pool }

// Messages returns the messages received so far, oldest first.
func (s *Server) Messages() []*Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*Message(nil), s.msgs...)
}

// Wait blocks until at least n messages have been received and returns them, or returns
// ctx's error when it ends first. For tests of code that sends from another goroutine.
func (s *Server) Wait(ctx context.Context, n int) ([]*Message, error) {
	for {
		s.mu.Lock()
		if len(s.msgs) >= n {
			out := append([]*Message(nil), s.msgs...)
			s.mu.Unlock()
			return out, nil
		}
		if s.changed == nil {
			s.changed = make(chan struct{})
		}
		ch := s.changed
		s.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// Received is the number of messages accepted so far (with WithDiscard too); Reset does not
// clear it.
func (s *Server) Received() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.received
}

// Connections is the number of connections accepted so far.
func (s *Server) Connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conns
}

// AuthFailures is the number of AUTH attempts refused so far.
func (s *Server) AuthFailures() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.authFails
}

// RejectRecipient makes the server refuse RCPT TO addr (case-insensitively) with
// "550 5.1.1 no such user", until Reset.
func (s *Server) RejectRecipient(addr string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rejected[strings.ToLower(addr)] = true
}

// FailNext makes the server answer the next n messages with "451 4.3.0" after receiving
// their data, and not keep them. Calls add up.
func (s *Server) FailNext(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failNext += n
}

// SetDataDelay makes the server wait d after receiving a message's data before answering
// it (zero: answer at once), to test a client's deadlines. The wait ends early when the
// server closes.
func (s *Server) SetDataDelay(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.delay = d
}

// Reset forgets the received messages, the refused recipients, the pending 451 answers and
// the data delay.
func (s *Server) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.msgs = nil
	s.rejected = map[string]bool{}
	s.failNext = 0
	s.delay = 0
}

// UnusedPort returns a port on 127.0.0.1 that nothing listens on (it was free a moment ago):
// a connection to it is refused, the way a mail server that is down refuses one.
func UnusedPort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("mailtest: listen: %v", err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	if err := ln.Close(); err != nil {
		t.Fatalf("mailtest: close: %v", err)
	}
	return port
}

// newSession is called at EHLO, and again at the EHLO after STARTTLS.
func (s *Server) newSession(c *smtp.Conn) (smtp.Session, error) {
	return &session{s: s, conn: c}, nil
}

// countingListener counts the connections it accepts.
type countingListener struct {
	net.Listener
	s *Server
}

// Accept implements net.Listener.
func (l countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.s.mu.Lock()
		l.s.conns++
		l.s.mu.Unlock()
	}
	return c, err
}

// session is one SMTP session. go-smtp calls its methods from the connection's goroutine.
type session struct {
	s        *Server
	conn     *smtp.Conn
	authUser string
	from     string
	to       []string
}

var (
	errAuthRequired = &smtp.SMTPError{Code: 530, EnhancedCode: smtp.EnhancedCode{5, 7, 0}, Message: "Authentication required"}
	errNoSuchUser   = &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
	errTryLater     = &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "temporary failure, try again later"}
)

// AuthMechanisms implements smtp.AuthSession.
func (se *session) AuthMechanisms() []string {
	if se.s.opts.user == "" {
		return nil
	}
	return se.s.opts.mechs
}

// Auth implements smtp.AuthSession.
func (se *session) Auth(mech string) (sasl.Server, error) {
	check := func(user, pass string) error {
		if user != se.s.opts.user || pass != se.s.opts.pass {
			se.s.mu.Lock()
			se.s.authFails++
			se.s.mu.Unlock()
			return smtp.ErrAuthFailed
		}
		se.authUser = user
		return nil
	}
	offered := false
	for _, m := range se.AuthMechanisms() {
		offered = offered || strings.EqualFold(m, mech)
	}
	if !offered {
		return nil, smtp.ErrAuthUnknownMechanism
	}
	switch strings.ToUpper(mech) {
	case sasl.Plain:
		return sasl.NewPlainServer(func(identity, user, pass string) error {
			if identity != "" && identity != user {
				return smtp.ErrAuthFailed
			}
			return check(user, pass)
		}), nil
	case sasl.Login:
		return &loginServer{check: check}, nil
	}
	return nil, smtp.ErrAuthUnknownMechanism
}

// Mail implements smtp.Session.
func (se *session) Mail(from string, _ *smtp.MailOptions) error {
	if se.s.opts.user != "" && se.authUser == "" {
		return errAuthRequired
	}
	se.from, se.to = from, nil
	return nil
}

// Rcpt implements smtp.Session.
func (se *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	se.s.mu.Lock()
	rejected := se.s.rejected[strings.ToLower(to)]
	se.s.mu.Unlock()
	if rejected {
		return errNoSuchUser
	}
	se.to = append(se.to, to)
	return nil
}

// Data implements smtp.Session.
func (se *session) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err // go-smtp's own error, e.g. 552 for a message over the size limit
	}
	se.s.mu.Lock()
	delay := se.s.delay
	se.s.mu.Unlock()
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-se.s.done:
			return errTryLater
		}
	}

	se.s.mu.Lock()
	defer se.s.mu.Unlock()
	if se.s.failNext > 0 {
		se.s.failNext--
		return errTryLater
	}
	se.s.received++
	if se.s.opts.discard {
		return nil
	}
	m := parse(data)
	m.From, m.To = se.from, append([]string(nil), se.to...)
	_, m.TLS = se.conn.TLSConnectionState()
	m.AuthUser = se.authUser
	m.Helo = se.conn.Hostname()
	se.s.msgs = append(se.s.msgs, m)
	if se.s.changed != nil {
		close(se.s.changed)
		se.s.changed = nil
	}
	return nil
}

// Reset implements smtp.Session.
func (se *session) Reset() { se.from, se.to = "", nil }

// Logout implements smtp.Session.
func (se *session) Logout() error { return nil }

// loginServer is the server side of AUTH LOGIN (go-sasl has only the client side): it asks
// for the user name, then the password.
type loginServer struct {
	check func(user, pass string) error
	user  string
	step  int
}

// Next implements sasl.Server.
func (l *loginServer) Next(response []byte) ([]byte, bool, error) {
	switch l.step {
	case 0:
		l.step++
		if response != nil { // an initial response carries the user name
			l.user = string(response)
			l.step++
			return []byte("Password:"), false, nil
		}
		return []byte("Username:"), false, nil
	case 1:
		l.user = string(response)
		l.step++
		return []byte("Password:"), false, nil
	case 2:
		l.step++
		return nil, true, l.check(l.user, string(response))
	}
	return nil, false, errors.New("unexpected AUTH LOGIN response")
}
