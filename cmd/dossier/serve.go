package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/dossiercrm/dossier/crm"
	"github.com/dossiercrm/dossier/crm/background"
	"github.com/dossiercrm/dossier/crm/httpapi"
	"github.com/dossiercrm/dossier/crm/report"
	"github.com/dossiercrm/dossier/crm/store"
)

// The organisation and key that serve creates on an empty database.
const (
	firstOrgID     = "main"
	firstOrgName   = "My organisation"
	firstKeyName   = "first key"
	firstKeyStaff  = "admin"
	defaultDB      = "sqlite:dossier.db"
	defaultMaxBody = 1 << 20
)

// serveLimits are the HTTP server's timeouts.
type serveLimits struct {
	// ReadHeader bounds reading a request's headers (slow clients).
	ReadHeader time.Duration
	// Read bounds reading a whole request, body included.
	Read time.Duration
	// Write bounds the time from the end of the request headers to the end of the response.
	Write time.Duration
	// Idle bounds how long a keep-alive connection waits for its next request.
	Idle time.Duration
	// Shutdown bounds how long in-flight requests may take to finish once
	// the server is asked to stop.
	Shutdown time.Duration
	// Request is the deadline of a request's handling, body reading
	// included; it reaches the database, which ends the request's
	// queries when it passes (or when the client goes away). It stays
	// below Write, so that the answer to a request past its deadline (503)
	// is still written.
	Request time.Duration
}

var defaultLimits = serveLimits{
	ReadHeader: 10 * time.Second,
	Read:       30 * time.Second,
	Write:      60 * time.Second,
	Idle:       120 * time.Second,
	Shutdown:   20 * time.Second,
	Request:    30 * time.Second,
}

// serve is "dossier serve".
func (cl *cli) serve(ctx context.Context, fs *flagSet, args []string) error {
	var (
		db, addr, lang, country, logFormat        string
		dataDir, blobURL, confirmationURL         string
		setPasswordURL, unsubscribeURL            string
		unsubscribeOneClickURL, unsubscribeMailto string
		corsOrigins                               string
		maxBody, maxDocument, maxConns            int64
		limits                                    = defaultLimits
		retentionEvery, expiryEvery               time.Duration
		analyzeEvery                              time.Duration
		mailing                                   mailSettings
	)
	fs.dbFlag(&db)
	fs.envString(&addr, "addr", "DOSSIER_ADDR", "127.0.0.1:8080", "`address` to listen on; port 0 picks a free port")
	fs.orgSettingsFlags(&lang, &country, "new organisations")
	fs.envString(&logFormat, "log-format", "DOSSIER_LOG_FORMAT", "text", "log `format`: text or json")
	fs.envInt64(&maxBody, "max-body", "DOSSIER_MAX_BODY_BYTES", defaultMaxBody, "largest request body in `bytes`")
	fs.envDuration(&retentionEvery, "retention-every", "DOSSIER_RETENTION_EVERY", defaultRetentionEvery,
		"how often to apply the organisations' retention policies (once per period among all servers on the database, the first time when started); 0 turns it off")
	fs.envDuration(&expiryEvery, "points-expiry-every", "DOSSIER_POINTS_EXPIRY_EVERY", defaultPointsExpiryEvery,
		"how often to expire loyalty points past their date (once per period among all servers on the database, the first time when started); 0 turns it off")
	fs.envDuration(&analyzeEvery, "analyze-every", "DOSSIER_ANALYZE_EVERY", background.DefaultAnalyzeEvery,
		"how often to refresh the query planner's statistics of tables that changed much since their last analysis (once per period among all servers on the database); 0 turns it off")
	fs.blobFlags(&dataDir, &blobURL)
	fs.envInt64(&maxConns, "db-max-conns", "DOSSIER_DB_MAX_CONNS", 0,
		"most PostgreSQL `connections` at once (at least 2); requests beyond wait for one; 0: 4 per processor, at least 8")
	fs.envDuration(&limits.Request, "request-timeout", "DOSSIER_REQUEST_TIMEOUT", defaultLimits.Request,
		"deadline of a request, database queries included: past it the request ends with 503 and its queries are cancelled")
	fs.envInt64(&maxDocument, "max-document-bytes", "DOSSIER_MAX_DOCUMENT_BYTES", crm.DefaultMaxDocumentBytes, "largest document in `bytes`")
	fs.mailFlags(&mailing)
	fs.envString(&confirmationURL, "confirmation-url", "DOSSIER_CONFIRMATION_URL", "",
		"`URL` of the double opt-in confirmation link that Dossier mails, {token} replaced by the token, e.g. https://example.com/confirm?t={token}; "+
			"empty: no confirmation mails (the platform mails the token)")
	fs.envString(&setPasswordURL, "set-password-url", "DOSSIER_SET_PASSWORD_URL", crm.DefaultSetPasswordURL,
		"`URL` of the portal's set-password link, {token} replaced by the link's secret (put it after # so that it reaches no server log)")
	fs.envString(&unsubscribeURL, "unsubscribe-url", "DOSSIER_UNSUBSCRIBE_URL", crm.DefaultUnsubscribeURL,
		"`URL` of a mailing's unsubscribe link, {token} replaced by the link's secret")
	fs.envString(&unsubscribeOneClickURL, "unsubscribe-one-click-url", "DOSSIER_UNSUBSCRIBE_ONE_CLICK_URL", crm.DefaultUnsubscribeOneClickURL,
		"`URL` of a mailing's List-Unsubscribe header (RFC 8058 one-click, POST /portal/v1/unsubscribe/one-click?token={token} on this server); "+
			"only an https URL announces one-click")
	fs.envString(&unsubscribeMailto, "unsubscribe-mailto", "DOSSIER_UNSUBSCRIBE_MAILTO", "",
		"e-mail `address` added to a mailing's List-Unsubscribe header as a mailto: link; empty: none")
	fs.envString(&corsOrigins, "cors-origins", "DOSSIER_CORS_ORIGINS", "",
		"comma-separated `origins` (https://app.example.com, or *) whose web pages may call the API from a browser; empty: none (CORS off)")
	if err := fs.parse(args); err != nil {
		return err
	}
	origins, err := parseCORSOrigins(corsOrigins)
	if err != nil {
		return err
	}
	log, err := newLogger(logFormat, cl.stderr)
	if err != nil {
		return err
	}
	if maxBody <= 0 {
		return usageErrorf("--max-body must be positive, not %d", maxBody)
	}
	if retentionEvery < 0 || retentionEvery > 0 && retentionEvery < background.MinPeriod {
		return usageErrorf("--retention-every must be 0 (off) or at least %s, not %s", background.MinPeriod, retentionEvery)
	}
	if expiryEvery < 0 || expiryEvery > 0 && expiryEvery < background.MinPeriod {
		return usageErrorf("--points-expiry-every must be 0 (off) or at least %s, not %s", background.MinPeriod, expiryEvery)
	}
	if analyzeEvery < 0 || analyzeEvery > 0 && analyzeEvery < background.MinPeriod {
		return usageErrorf("--analyze-every must be 0 (off) or at least %s, not %s", background.MinPeriod, analyzeEvery)
	}
	if maxConns < 0 || maxConns == 1 {
		return usageErrorf("--db-max-conns must be 0 (the default) or at least 2, not %d", maxConns)
	}
	if limits.Request <= 0 {
		return usageErrorf("--request-timeout must be positive, not %s", limits.Request)
	}
	limits.Write = max(limits.Write, limits.Request+10*time.Second)
	if maxDocument <= 0 {
		return usageErrorf("--max-document-bytes must be positive, not %d", maxDocument)
	}
	if err := checkConfirmationURL(confirmationURL); err != nil {
		return err
	}
	sender, from, err := mailing.sender(cl.getenv(envSMTPPassword), log)
	if err != nil {
		return err
	}
	blobs, blobsAt, err := openBlobs(ctx, dataDir, blobURL)
	if err != nil {
		return err
	}
	defer blobs.Close()

	st, err := store.Open(ctx, db, store.WithMigrate(), store.WithMaxConns(int(maxConns)))
	if err != nil {
		return err
	}
	defer st.Close()
	log.Info("database ready", "db", st.Dialect())
	c, err := crm.New(st, crm.Config{
		DefaultLanguage: lang, DefaultCountry: country, Logger: log,
		Blobs: blobs, MaxDocumentBytes: maxDocument, Reports: report.PDF{}, ConfirmationURL: confirmationURL,
		SetPasswordURL: setPasswordURL, UnsubscribeURL: unsubscribeURL,
		UnsubscribeOneClickURL: unsubscribeOneClickURL, UnsubscribeMailto: unsubscribeMailto,
	})
	if err != nil {
		return err
	}
	log.Info("documents ready", "blobs", blobsAt, "max_bytes", maxDocument)
	// Listen before creating the first organisation: a port in use then
	// fails the start without leaving a key nobody has seen, and the printed
	// curl line has the real port when --addr asks for port 0.
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	if err := createFirstOrganisation(ctx, c, lang, country, log, cl.stdout, "http://"+ln.Addr().String(), db); err != nil {
		ln.Close()
		return err
	}
	// The background work's stop is deferred after st.Close, so it runs
	// before it: running jobs finish (a mail being sent gets its answer
	// and its record) before the database closes.
	work := background.Config{Sender: sender, From: from, Logger: log,
		RetentionEvery: offIfZero(retentionEvery), PointsExpiryEvery: offIfZero(expiryEvery), AnalyzeEvery: offIfZero(analyzeEvery)}
	if !mailing.worker {
		work.Sender = nil
		log.Warn("mail worker off (--mail-worker=false): queued mails wait in the outbox for a server that delivers them")
	}
	bg, err := background.Start(ctx, st, c, work)
	if err != nil {
		ln.Close()
		return err
	}
	defer bg.Stop(context.WithoutCancel(ctx))
	h := httpapi.New(c, httpapi.Options{Logger: log, Ready: st.Ping, MaxBodyBytes: maxBody, Version: version(),
		CORSOrigins: origins})
	return serveHTTP(ctx, ln, h, log, limits)
}

// offIfZero maps a flag's 0 (off) to background.Config's negative (off).
func offIfZero(every time.Duration) time.Duration {
	if every == 0 {
		return -1
	}
	return every
}

// newLogger returns the structured logger of the server, on w.
func newLogger(format string, w io.Writer) (*slog.Logger, error) {
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, nil)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, nil)), nil
	}
	return nil, usageErrorf("--log-format must be text or json, not %q", format)
}

// createFirstOrganisation makes a fresh installation usable: when there is
// no organisation yet it creates one with an API key and prints the key to
// out, once. The key never goes to the log. On a database that has
// organisations it logs how to make a key, for an operator who lost the
// first one: db is the database serve was given.
func createFirstOrganisation(ctx context.Context, c *crm.CRM, lang, country string, log *slog.Logger, out io.Writer, baseURL, db string) error {
	orgs, err := c.Organisations.List(ctx)
	if err != nil {
		return err
	}
	if len(orgs) > 0 {
		log.Info("API keys are shown only when they are made; to make one: "+apikeyCreateHint(db, orgs), "organisations", len(orgs))
		return nil
	}
	org, err := c.Organisations.Create(ctx, crm.NewOrganisation{
		ID: firstOrgID, Name: firstOrgName, DefaultLanguage: lang, DefaultCountry: country,
	})
	if errors.Is(err, crm.ErrConflict) {
		return nil // another server on the same database was quicker
	}
	if err != nil {
		return fmt.Errorf("creating the first organisation: %w", err)
	}
	key, secret, err := c.APIKeys.Create(crm.WithActor(crm.WithOrg(ctx, org.ID), crm.System()),
		crm.NewAPIKey{Name: firstKeyName, StaffUser: firstKeyStaff})
	if err != nil {
		return fmt.Errorf("organisation %q was created but its first API key was not (make one with \"dossier apikey create --org %s --name NAME\"): %w",
			org.ID, org.ID, err)
	}
	log.Info("created the first organisation and API key", "org", org.ID, "key_id", key.ID)

	settings := "language " + org.DefaultLanguage
	if org.DefaultCountry != "" {
		settings += ", country " + org.DefaultCountry
	}
	fmt.Fprintf(out, `
Dossier created a first organisation and an API key for it.

  Organisation:  %s (%s, %s)
  API key:       %s

The key is shown only this once: copy it now. Anyone who has it can read and
change this organisation's customers. Make more keys with
"dossier apikey create --org %s --name NAME".

Try it:

  curl -H 'Authorization: Bearer %s' %s/v1/customers

`, org.ID, org.Name, settings, secret, org.ID, secret, baseURL)
	return nil
}

// serveHTTP serves h on ln until ctx is cancelled, then shuts down
// gracefully: it stops accepting connections and waits up to
// limits.Shutdown for in-flight requests to finish. Requests do not inherit
// ctx, so cancelling it does not cancel them.
func serveHTTP(ctx context.Context, ln net.Listener, h http.Handler, log *slog.Logger, limits serveLimits) error {
	srv := &http.Server{
		Handler:           withDeadline(h, limits.Request),
		ReadHeaderTimeout: limits.ReadHeader,
		ReadTimeout:       limits.Read,
		WriteTimeout:      limits.Write,
		IdleTimeout:       limits.Idle,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	log.Info("listening", "addr", ln.Addr().String(), "version", version())

	select {
	case err := <-served:
		return fmt.Errorf("serving HTTP stopped: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down: finishing requests in flight", "timeout", limits.Shutdown)
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), limits.Shutdown)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		srv.Close()
		<-served
		return fmt.Errorf("shutting down: requests still running after %s were cut off: %w", limits.Shutdown, err)
	}
	<-served // http.ErrServerClosed
	log.Info("stopped")
	return nil
}

// withDeadline gives every request handled by h the deadline d (none when
// d is 0): the store cancels the request's database queries when it
// passes, as when the client goes away, so that no query outlives its
// request and a shutdown never waits on one nobody waits for.
func withDeadline(h http.Handler, d time.Duration) http.Handler {
	if d <= 0 {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), d)
		defer cancel()
		h.ServeHTTP(w, r.WithContext(ctx))
	})
}

// apikeyCreateHint is the command line that makes an API key on the
// database db for one of orgs: its id when there is one organisation, with
// --db unless db is the default, and a password placeholder in place of a
// password.
func apikeyCreateHint(db string, orgs []crm.Organisation) string {
	org := "ID"
	if len(orgs) == 1 {
		org = orgs[0].ID
	}
	hint := "dossier apikey create --org " + org + " --name NAME"
	if db != defaultDB {
		dsn := strings.ReplaceAll(redact(db), "xxxxx", "PASSWORD")
		hint += " --db '" + strings.ReplaceAll(dsn, "'", `'\''`) + "'"
	}
	if len(orgs) > 1 {
		ids := make([]string, 0, 5)
		for _, o := range orgs[:min(len(orgs), 5)] {
			ids = append(ids, o.ID)
		}
		if len(orgs) > 5 {
			ids = append(ids, "...")
		}
		hint += ", ID one of " + strings.Join(ids, ", ")
	}
	return hint
}
