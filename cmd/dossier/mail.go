package main

import (
	"errors"
	"log/slog"
	netmail "net/mail"
	"net/url"
	"strings"

	"github.com/dossiercrm/dossier/crm/mail"
)

// envSMTPPassword holds the SMTP password. There is deliberately no flag:
// a command line is visible to every user of the machine.
const envSMTPPassword = "DOSSIER_SMTP_PASSWORD"

// mailSettings are serve's flags for sending mail.
type mailSettings struct {
	host, user, tls, from string
	port                  int64
	worker                bool
}

// mailFlags defines the flags of mailSettings.
func (fs *flagSet) mailFlags(m *mailSettings) {
	fs.envString(&m.host, "smtp-host", "DOSSIER_SMTP_HOST", "",
		"SMTP server `host` to send mail through; without it mails are written to the log, not sent")
	fs.envInt64(&m.port, "smtp-port", "DOSSIER_SMTP_PORT", 0,
		"SMTP server `port` (default 587 for starttls and opportunistic, 465 for tls, 25 for none)")
	fs.envString(&m.user, "smtp-user", "DOSSIER_SMTP_USER", "",
		"SMTP AUTH `user`; the password is read from $"+envSMTPPassword+" only")
	fs.envString(&m.tls, "smtp-tls", "DOSSIER_SMTP_TLS", string(mail.TLSStartTLS),
		"how to secure the SMTP connection: starttls, opportunistic (STARTTLS when offered), tls (SMTPS) or none")
	fs.envString(&m.from, "mail-from", "DOSSIER_MAIL_FROM", "",
		"`sender` of every mail, \"Name <address>\" or address (required with --smtp-host)")
	fs.envBool(&m.worker, "mail-worker", "DOSSIER_MAIL_WORKER", true,
		"deliver the outbox in the background; false leaves queued mails for another server's worker")
}

// sender returns the mail sender the settings ask for, and the sender
// address: SMTP with --smtp-host, else the log sender, which writes each
// mail to log instead of sending it. password is $DOSSIER_SMTP_PASSWORD.
// It never connects: a wrong host or password shows at the first mail.
func (m *mailSettings) sender(password string, log *slog.Logger) (mail.Sender, mail.Address, error) {
	var from mail.Address
	if m.from != "" {
		a, err := netmail.ParseAddress(m.from)
		if err != nil {
			return nil, from, usageErrorf("--mail-from must be an address or \"Name <address>\", not %q", m.from)
		}
		from = mail.Address{Name: a.Name, Email: a.Address}
	}
	policy := mail.TLSPolicy(strings.ToLower(m.tls))
	switch policy {
	case mail.TLSStartTLS, mail.TLSOpportunistic, mail.TLSImplicit, mail.TLSNone:
	default:
		return nil, from, usageErrorf("--smtp-tls must be starttls, opportunistic, tls or none, not %q", m.tls)
	}
	if m.port < 0 || m.port > 65535 {
		return nil, from, usageErrorf("--smtp-port must be between 1 and 65535, not %d", m.port)
	}

	if m.host == "" {
		if m.user != "" || password != "" {
			return nil, from, usageErrorf("--smtp-user and $%s need --smtp-host", envSMTPPassword)
		}
		log.Info("mails are written to this log, not sent: no --smtp-host is set (log sender)")
		return &mail.LogSender{Logger: log, From: from}, from, nil
	}
	if from.IsZero() {
		return nil, from, usageErrorf("--smtp-host needs --mail-from, the sender of the mails")
	}
	s, err := mail.NewSMTPSender(mail.SMTPConfig{
		Host: m.host, Port: int(m.port), Username: m.user, Password: password,
		From: from, TLS: policy, Logger: log,
	})
	if errors.Is(err, mail.ErrInvalidConfig) {
		return nil, from, usageErrorf("the mail settings do not work: %v", err)
	}
	if err != nil {
		return nil, from, err
	}
	log.Info("mail goes out by SMTP", "server", s.Addr(), "tls", string(policy), "auth", m.user != "", "from", from.Email)
	return s, from, nil
}

// checkConfirmationURL checks --confirmation-url: empty (no double opt-in
// mails), or an http(s) URL with {token} where the token goes.
func checkConfirmationURL(pattern string) error {
	if pattern == "" {
		return nil
	}
	u, err := url.Parse(strings.ReplaceAll(pattern, "{token}", "token"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return usageErrorf("--confirmation-url must be an http or https URL, not %q", pattern)
	}
	if !strings.Contains(pattern, "{token}") {
		return usageErrorf("--confirmation-url must contain {token}, where the confirmation token goes: %q", pattern)
	}
	return nil
}
