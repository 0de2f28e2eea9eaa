package mail

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/mail"
	"net/textproto"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/wneessen/go-mail/smtp"
)

// TLSPolicy says how an SMTPSender protects its connection.
type TLSPolicy string

// The TLS policies.
const (
	// TLSStartTLS connects in plain text and upgrades with STARTTLS; a server that does not
	// offer STARTTLS is an error. The default, and the right choice for submission on port 587.
	TLSStartTLS TLSPolicy = "starttls"
	// TLSOpportunistic upgrades with STARTTLS when the server offers it and goes on in plain
	// text when it does not. Credentials are still never sent unencrypted (except to localhost).
	TLSOpportunistic TLSPolicy = "opportunistic"
	// TLSImplicit speaks TLS from the first byte ("SMTPS", port 465).
	TLSImplicit TLSPolicy = "tls"
	// TLSNone never encrypts: for a relay on the same host or a test server.
	TLSNone TLSPolicy = "none"
)

// AuthMechanism is an SMTP AUTH mechanism.
type AuthMechanism string

// The AUTH mechanisms an SMTPSender speaks.
const (
	// AuthAuto picks the mechanism from the server's list: PLAIN if offered, else LOGIN.
	AuthAuto AuthMechanism = ""
	// AuthPlain is AUTH PLAIN (RFC 4616).
	AuthPlain AuthMechanism = "PLAIN"
	// AuthLogin is AUTH LOGIN, which some older servers offer alone.
	AuthLogin AuthMechanism = "LOGIN"
)

// DefaultSMTPTimeout bounds one SMTPSender.Send when SMTPConfig.Timeout is zero.
const DefaultSMTPTimeout = 60 * time.Second

// SMTPConfig configures an SMTPSender. Host and From are required; everything else has a
// default.
type SMTPConfig struct {
	// Host is the SMTP server's host name or IP address, without a port.
	Host string
	// Port is the server's port. Zero: 587 for TLSStartTLS and TLSOpportunistic, 465 for
	// TLSImplicit, 25 for TLSNone.
	Port int
	// Username and Password are the SMTP AUTH credentials; both empty: no AUTH. They are sent
	// only over TLS, or to a server on localhost.
	Username string
	Password string
	// Auth chooses the AUTH mechanism; AuthAuto (empty) lets the server's list decide.
	Auth AuthMechanism
	// From is the default sender, used for messages with a zero From.
	From Address
	// TLS is the TLS policy. Empty: TLSStartTLS.
	TLS TLSPolicy
	// TLSConfig is the TLS configuration to start from (it is cloned, not changed). Nil: the
	// system's roots, TLS 1.2 at least. ServerName defaults to Host. Certificate checks cannot
	// be switched off: InsecureSkipVerify is refused; give RootCAs instead.
	TLSConfig *tls.Config
	// RootCAs, when set, are the certificate authorities trusted for the server's certificate
	// instead of the system's, e.g. a test server's self-signed certificate or a company CA.
	RootCAs *x509.CertPool
	// Timeout bounds one Send, from dialling to the server's answer to the message. Zero:
	// DefaultSMTPTimeout. A sooner deadline of Send's context wins.
	Timeout time.Duration
	// HELO is the name this client gives in EHLO. Empty: the machine's host name.
	HELO string
	// Logger receives a debug line per delivery and failure. Nil: quiet.
	Logger *slog.Logger
}

// SMTPSender delivers messages through an SMTP server. Each Send opens its own connection,
// so an SMTPSender is safe for concurrent use; the server's limits on parallel connections
// are the caller's to respect.
//
// A message goes to all its recipients or to none: when the server refuses one recipient,
// nothing is sent and the error (a *SendError with Op "rcpt") names the refused ones.
type SMTPSender struct {
	cfg     SMTPConfig
	addr    string
	tls     *tls.Config
	timeout time.Duration
	helo    string
	log     *slog.Logger
}

var _ Sender = (*SMTPSender)(nil)

// NewSMTPSender checks cfg, fills in its defaults and returns a sender. It does not connect:
// a wrong host or password shows at the first Send. The error matches ErrInvalidConfig and
// names every problem.
func NewSMTPSender(cfg SMTPConfig) (*SMTPSender, error) {
	var problems []string
	add := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }

	cfg.Host = strings.TrimSpace(cfg.Host)
	switch {
	case cfg.Host == "":
		add("Host is required")
	case strings.Contains(cfg.Host, "://"):
		add("Host %q must be a host name, not a URL", cfg.Host)
	case strings.ContainsAny(cfg.Host, " \t\r\n/[]") || (strings.Contains(cfg.Host, ":") && net.ParseIP(cfg.Host) == nil):
		add("Host %q must be a host name or IP address without a port (give the port in Port)", cfg.Host)
	}
	if cfg.TLS == "" {
		cfg.TLS = TLSStartTLS
	}
	cfg.TLS = TLSPolicy(strings.ToLower(string(cfg.TLS)))
	switch cfg.TLS {
	case TLSStartTLS, TLSOpportunistic, TLSImplicit, TLSNone:
	default:
		add("TLS %q is not one of starttls, opportunistic, tls, none", cfg.TLS)
	}
	if cfg.Port == 0 {
		switch cfg.TLS {
		case TLSImplicit:
			cfg.Port = 465
		case TLSNone:
			cfg.Port = 25
		default:
			cfg.Port = 587
		}
	}
	if cfg.Port < 1 || cfg.Port > 65535 {
		add("Port %d is not between 1 and 65535", cfg.Port)
	}
	cfg.Auth = AuthMechanism(strings.ToUpper(string(cfg.Auth)))
	switch cfg.Auth {
	case AuthAuto, AuthPlain, AuthLogin:
	default:
		add("Auth %q is not one of PLAIN, LOGIN or empty (automatic)", cfg.Auth)
	}
	switch {
	case cfg.Username == "" && cfg.Password != "":
		add("Password is set but Username is empty")
	case cfg.Username != "" && cfg.Password == "":
		add("Username is set but Password is empty")
	case cfg.Username != "" && cfg.TLS == TLSNone && !isLocalhost(cfg.Host):
		add("credentials would be sent unencrypted to %s: use TLS starttls or tls", cfg.Host)
	}
	if cfg.From.IsZero() {
		add("From is required (the default sender)")
	} else if p := checkAddress(cfg.From); p != "" {
		add("From: %s", p)
	}
	if cfg.Timeout < 0 {
		add("Timeout %v is negative", cfg.Timeout)
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultSMTPTimeout
	}
	if cfg.HELO == "" {
		cfg.HELO = defaultHELO()
	} else if strings.ContainsAny(cfg.HELO, " \t\r\n") {
		add("HELO %q must be one word, a host name", cfg.HELO)
	}

	var tc *tls.Config
	if cfg.TLSConfig != nil {
		tc = cfg.TLSConfig.Clone()
	} else {
		tc = &tls.Config{}
	}
	if tc.InsecureSkipVerify {
		add("TLSConfig.InsecureSkipVerify is not supported: trust the server's certificate with RootCAs")
	}
	if cfg.RootCAs != nil {
		if tc.RootCAs != nil {
			add("RootCAs and TLSConfig.RootCAs are both set: give one")
		}
		tc.RootCAs = cfg.RootCAs
	}
	if tc.ServerName == "" {
		tc.ServerName = cfg.Host
	}
	if tc.MinVersion == 0 {
		tc.MinVersion = tls.VersionTLS12
	}

	if err := configError("SMTPConfig", problems); err != nil {
		return nil, err
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &SMTPSender{
		cfg:     cfg,
		addr:    net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.Port)),
		tls:     tc,
		timeout: cfg.Timeout,
		helo:    cfg.HELO,
		log:     log,
	}, nil
}

// Addr is the server's address, "host:port".
func (s *SMTPSender) Addr() string { return s.addr }

// From is the default sender.
func (s *SMTPSender) From() Address { return s.cfg.From }

// Send delivers m: it checks the message, renders it (MIME, RFC 2047 headers, base64
// attachments), connects, secures the connection as the TLS policy says, authenticates when
// credentials are configured, and hands the message to the server. It returns nil once the
// server has answered the message with 250; a failure of the closing QUIT does not count.
//
// ctx bounds the whole exchange: when it is cancelled or its deadline passes, the connection
// is cut and Send returns an error matching ctx.Err() under errors.Is (not Permanent).
// Errors after validation are *SendError values; see Permanent.
func (s *SMTPSender) Send(ctx context.Context, m *Message) error {
	if err := m.Validate(); err != nil {
		return err
	}
	from := m.From
	if from.IsZero() {
		from = s.cfg.From
	}
	data, err := render(m, from)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidMessage, err)
	}
	rcpts := make([]string, len(m.To))
	for i, a := range m.To {
		rcpts[i] = a.Email
	}

	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	start := time.Now()
	err = s.deliver(ctx, from.Email, rcpts, data)
	if err != nil {
		s.log.DebugContext(ctx, "mail: send failed", "id", m.ID, "to", rcpts, "server", s.addr,
			"took", time.Since(start), "permanent", Permanent(err), "err", err)
		return err
	}
	s.log.DebugContext(ctx, "mail: sent", "id", m.ID, "to", rcpts, "server", s.addr,
		"bytes", len(data), "took", time.Since(start))
	return nil
}

// deliver runs one SMTP session that hands data to the server for rcpts.
func (s *SMTPSender) deliver(ctx context.Context, from string, rcpts []string, data []byte) error {
	conn, err := s.dial(ctx)
	if err != nil {
		return failure(ctx, "connect", err)
	}
	// Closing the connection is what ends the session in every case; QUIT below is a courtesy.
	defer func() { _ = conn.Close() }()

	c, err := smtp.NewClient(conn, s.cfg.Host)
	if err != nil {
		return failure(ctx, "connect", err)
	}
	if err := c.Hello(s.helo); err != nil {
		return failure(ctx, "connect", err)
	}
	switch s.cfg.TLS {
	case TLSStartTLS, TLSOpportunistic:
		if ok, _ := c.Extension("STARTTLS"); ok {
			if err := c.StartTLS(s.tls); err != nil {
				return failure(ctx, "starttls", err)
			}
		} else if s.cfg.TLS == TLSStartTLS {
			return failure(ctx, "starttls", errors.New("the server does not offer STARTTLS, which the TLS policy starttls requires"))
		}
	}
	if s.cfg.Username != "" {
		a := &authChooser{mech: s.cfg.Auth, user: s.cfg.Username, pass: s.cfg.Password, host: s.cfg.Host}
		if err := c.Auth(a); err != nil {
			return failure(ctx, "auth", err)
		}
	}
	if ok, v := c.Extension("SIZE"); ok {
		if limit, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); err == nil && limit > 0 && int64(len(data)) > limit {
			_ = c.Quit()
			return &SendError{Op: "size", Permanent: true,
				Err: fmt.Errorf("the message is %d bytes, the server takes at most %d", len(data), limit)}
		}
	}
	if err := c.Mail(angle(from)); err != nil {
		return failure(ctx, "mail", err)
	}
	var refused *SendError
	for _, r := range rcpts {
		if err := c.Rcpt(angle(r)); err != nil {
			refused = addRefused(ctx, refused, r, err)
		}
	}
	if refused != nil {
		_ = c.Reset()
		_ = c.Quit()
		return refused
	}
	w, err := c.Data()
	if err != nil {
		return failure(ctx, "data", err)
	}
	if _, err := w.Write(data); err != nil {
		return failure(ctx, "data", err)
	}
	if err := w.Close(); err != nil {
		return failure(ctx, "data", err)
	}
	_ = c.Quit() // the message is accepted; a failing QUIT changes nothing
	return nil
}

// dial connects to the server; for TLSImplicit it also completes the TLS handshake. The
// connection honours ctx: its deadline is ctx's, and it is cut when ctx is cancelled.
func (s *SMTPSender) dial(ctx context.Context) (net.Conn, error) {
	var d net.Dialer
	raw, err := d.DialContext(ctx, "tcp", s.addr)
	if err != nil {
		return nil, err
	}
	conn := newCtxConn(ctx, raw)
	if s.cfg.TLS != TLSImplicit {
		return conn, nil
	}
	tc := tls.Client(conn, s.tls)
	if err := tc.HandshakeContext(ctx); err != nil {
		_ = conn.Close()
		return nil, err
	}
	// The smtp client sees a *tls.Conn and so knows that AUTH is protected.
	return tc, nil
}

// failure turns err at step op into a *SendError: permanent exactly when the server answered
// 5xx; when ctx has ended the error also matches ctx.Err().
func failure(ctx context.Context, op string, err error) *SendError {
	se := &SendError{Op: op, Err: err}
	var te *textproto.Error
	if errors.As(err, &te) {
		se.Code = te.Code
		se.EnhancedCode = enhancedCode(te.Msg)
	}
	se.Permanent = se.Code >= 500 && se.Code <= 599
	ctxErr := ctx.Err()
	if ctxErr == nil && errors.Is(err, os.ErrDeadlineExceeded) {
		// The connection's deadline is the context's; it may fire a moment before the
		// context's own timer does.
		if d, ok := ctx.Deadline(); ok && !time.Now().Before(d) {
			ctxErr = context.DeadlineExceeded
		}
	}
	if ctxErr != nil && !errors.Is(err, ctxErr) {
		se.Err = fmt.Errorf("%w: %w", ctxErr, err)
	}
	return se
}

// addRefused adds recipient r, refused with err, to the rcpt error se (nil: a new one). The
// error is permanent when any recipient was refused with 5xx.
func addRefused(ctx context.Context, se *SendError, r string, err error) *SendError {
	f := failure(ctx, "rcpt", fmt.Errorf("%s: %w", r, err))
	if se == nil {
		f.Recipients = []string{r}
		return f
	}
	se.Recipients = append(se.Recipients, r)
	se.Err = errors.Join(se.Err, f.Err)
	if f.Permanent && !se.Permanent {
		se.Permanent, se.Code, se.EnhancedCode = true, f.Code, f.EnhancedCode
	}
	return se
}

// enhancedCode returns the RFC 3463 code at the start of an SMTP reply text ("5.1.1 ...").
func enhancedCode(msg string) string {
	code, _, _ := strings.Cut(msg, " ")
	parts := strings.Split(code, ".")
	if len(parts) != 3 || len(parts[0]) != 1 || !strings.Contains("245", parts[0]) {
		return ""
	}
	for _, p := range parts[1:] {
		if _, err := strconv.Atoi(p); err != nil || len(p) == 0 || len(p) > 3 {
			return ""
		}
	}
	return code
}

// angle formats an address for MAIL FROM and RCPT TO: "<anna@example.nl>", the local part
// quoted where it needs to be.
func angle(addr string) string {
	return (&mail.Address{Address: addr}).String()
}

// isLocalhost reports whether host is one that go-mail's PLAIN and LOGIN send credentials to
// without TLS.
func isLocalhost(host string) bool {
	return host == "localhost" || host == "127.0.0.1" || host == "::1"
}

func defaultHELO() string {
	h, err := os.Hostname()
	if err != nil || h == "" || strings.ContainsAny(h, " \t\r\n") {
		return "localhost"
	}
	return h
}

// render writes m as an RFC 5322 message with go-mail.
func render(m *Message, from Address) ([]byte, error) {
	var buf bytes.Buffer
	if _, err := compose(m, from).WriteTo(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
