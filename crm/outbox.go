package crm

import (
	"context"
	"errors"
	"io"
	"strconv"
	"strings"
	"time"
)

// OutboxStatus is where a queued mail stands.
type OutboxStatus string

// The outbox statuses.
const (
	OutboxPending OutboxStatus = "pending"
	OutboxSent    OutboxStatus = "sent"
	OutboxFailed  OutboxStatus = "failed"
)

// The timeline events of mails.
const (
	EventMailQueued EventKind = "mail.queued"
	EventMailSent   EventKind = "mail.sent"
	EventMailFailed EventKind = "mail.failed"
)

// DefaultOutboxLease is how long a worker holds a claimed mail when
// Config.OutboxLease is not set.
const DefaultOutboxLease = 2 * time.Minute

// MaxMailAttempts is how often delivery of one mail is tried before it is
// given up as failed.
const MaxMailAttempts = 8

// OutboxAttachment is a document a queued mail carries. The outbox holds a
// reference to its contents, so they stay until the mail is done even if
// the document is deleted meanwhile.
type OutboxAttachment struct {
	DocumentID  string `json:"documentId"`
	FileName    string `json:"fileName"`
	ContentType string `json:"contentType"`
	Size        int64  `json:"size"`
	SHA256      string `json:"sha256"`
}

// OutboxMail is a rendered mail waiting for, or done with, delivery. It is
// written in the same transaction as the change that causes it, so a
// change is never committed without its mail nor a mail without its change.
type OutboxMail struct {
	ID          string             `json:"id"`
	OrgID       string             `json:"-"`
	CustomerID  string             `json:"customerId"`
	Template    string             `json:"template"`
	Language    string             `json:"language"`
	ToEmail     string             `json:"toEmail"`
	ToName      string             `json:"toName"`
	Subject     string             `json:"subject"`
	Text        string             `json:"-"`
	HTML        string             `json:"-"`
	Attachments []OutboxAttachment `json:"attachments,omitempty"`
	// Headers are extra mail headers (a mailing's List-Unsubscribe and
	// List-Unsubscribe-Post); like the text, they may carry a link's
	// secret until delivery.
	Headers map[string]string `json:"-"`
	Status  OutboxStatus      `json:"status"`
	// Attempts counts delivery attempts so far.
	Attempts      int       `json:"attempts"`
	NextAttemptAt time.Time `json:"nextAttemptAt"`
	LastError     string    `json:"lastError,omitempty"`
	// LeaseUntil is set while a delivery attempt is under way.
	LeaseUntil *time.Time `json:"-"`
	Actor      Actor      `json:"actor"`
	CreatedAt  time.Time  `json:"createdAt"`
	SentAt     *time.Time `json:"sentAt,omitempty"`
}

// OutboxStore keeps queued mails.
type OutboxStore interface {
	OutboxInsert(ctx context.Context, m *OutboxMail) error
	// OutboxInsertMany writes mails like OutboxInsert, in one statement
	// per chunk of rows (a mailing's batch).
	OutboxInsertMany(ctx context.Context, mails []*OutboxMail) error
	// OutboxClaim leases one pending mail due at now until now+lease: its
	// attempt count goes up, and no other claim returns it before the
	// lease ends. A mail whose earlier lease ran out without an outcome
	// (the worker stopped between claim and record) gets note as its last
	// error: the mail server may have accepted that attempt. It returns
	// ErrNotFound when the mail is not pending, not due or leased.
	OutboxClaim(ctx context.Context, orgID, id string, now time.Time, lease time.Duration, note string) (*OutboxMail, error)
	// OutboxFinish records the outcome of attempt number attempt: sent,
	// failed for good, or pending again from next (with the error). It
	// returns ErrNotFound when the mail is no longer pending or a later
	// claim took it meanwhile.
	OutboxFinish(ctx context.Context, orgID, id string, attempt int, status OutboxStatus, at, next time.Time, lastErr string) error
	OutboxGet(ctx context.Context, orgID, id string) (*OutboxMail, error)
	// OutboxPending returns up to limit pending mails of every
	// organisation with ids after afterID, in id order, with their ids and
	// organisations filled in (the rest may be empty).
	OutboxPending(ctx context.Context, afterID string, limit int) ([]OutboxMail, error)
	// OutboxList returns an organisation's mails newest first, of one
	// customer when customerID is set, before beforeID when it is set.
	OutboxList(ctx context.Context, orgID, customerID, beforeID string, limit int) ([]OutboxMail, error)
	// OutboxScrub replaces the text, HTML and headers of a mail that is
	// done (sent or failed): the outbox drops the secrets a delivered mail
	// carried.
	OutboxScrub(ctx context.Context, orgID, id, text, html string, headers map[string]string) error
	// OutboxDeleteOf removes a customer's mails and returns the attachments
	// of those still pending, whose contents the outbox held.
	OutboxDeleteOf(ctx context.Context, orgID, customerID string) ([]OutboxAttachment, error)
}

// OutboxService queues mails and gives workers (crm/mail.Worker) what to
// deliver. Claim, Delivered and Failed take the organisation as an
// argument, like OrganisationService: they are for the delivery worker
// (run by crm/background), not for users.
type OutboxService struct {
	*core
	mail *MailService
}

// queue renders template key for the customer, in lang or else the
// customer's language, and writes it to the outbox in tx, taking
// references to the attachments' contents.
func (s *OutboxService) queue(ctx context.Context, tx Store, sc scope, cust *Customer, key, lang string, data MailData, docs []Document) (*OutboxMail, error) {
	to := cust.Email
	if to == "" {
		to = cust.LoginEmail
	}
	if to == "" {
		v := newValidation(sc.lang)
		v.add("email", "noAddress", "")
		return nil, v.err()
	}
	if lang == "" {
		lang = cust.Language
	}
	data.Customer.FirstName, data.Customer.LastName = cust.FirstName, cust.LastName
	data.Customer.DisplayName, data.Customer.Number = cust.DisplayName(), cust.Number
	for _, d := range docs {
		data.Documents = append(data.Documents, struct{ Title, FileName string }{d.Title, d.FileName})
	}
	r, err := s.mail.render(ctx, tx, sc, key, lang, data)
	if err != nil {
		return nil, err
	}
	now := s.now()
	m := &OutboxMail{
		ID: newID(), OrgID: sc.org, CustomerID: cust.ID, Template: key, Language: r.Language, ToEmail: to,
		ToName: cust.DisplayName(), Subject: r.Subject, Text: r.Text, HTML: r.HTML, Status: OutboxPending,
		NextAttemptAt: now, Actor: sc.actor, CreatedAt: now,
	}
	for _, d := range docs {
		if err := tx.BlobAcquire(ctx, sc.org, d.SHA256, d.Size); err != nil {
			return nil, err
		}
		m.Attachments = append(m.Attachments, OutboxAttachment{DocumentID: d.ID, FileName: d.FileName,
			ContentType: d.ContentType, Size: d.Size, SHA256: d.SHA256})
	}
	if err := tx.OutboxInsert(ctx, m); err != nil {
		return nil, err
	}
	if err := tx.JobEnqueue(ctx, DeliverMail{OrgID: sc.org, MailID: m.ID}); err != nil {
		return nil, err
	}
	return m, tx.HistoryAppend(ctx, s.event(sc, cust.ID, EventMailQueued, now, []FieldChange{
		{Field: "mail", New: key}, {Field: "subject", New: m.Subject}, {Field: "to", New: to},
	}))
}

// UnknownOutcome is the last error a mail gets when an attempt to deliver
// it ended without a recorded outcome (the worker stopped between taking
// the mail and recording what the server said) and it is tried again: the
// server may have accepted the earlier attempt. The Message-ID, the
// mail's id in every attempt, lets the receiving side tell a duplicate.
const UnknownOutcome = "an earlier attempt ended without an outcome; the mail server may have received it"

// Claim takes mail id of organisation orgID for one delivery attempt,
// leasing it for Config.OutboxLease. It returns the mail to send; or no
// mail and the time to try again (the mail is not due yet, or another
// worker holds it); or neither, when there is nothing to deliver (the
// mail was delivered, failed for good or deleted).
func (s *OutboxService) Claim(ctx context.Context, orgID, id string) (*OutboxMail, time.Time, error) {
	now := s.now()
	m, err := s.store.OutboxClaim(ctx, orgID, id, now, s.cfg.OutboxLease, UnknownOutcome)
	if err == nil {
		return m, time.Time{}, nil
	}
	if !errors.Is(err, ErrNotFound) {
		return nil, time.Time{}, err
	}
	m, err = s.store.OutboxGet(ctx, orgID, id)
	switch {
	case errors.Is(err, ErrNotFound):
		return nil, time.Time{}, nil
	case err != nil:
		return nil, time.Time{}, err
	case m.Status != OutboxPending:
		return nil, time.Time{}, nil
	case m.LeaseUntil != nil && m.LeaseUntil.After(now):
		return nil, *m.LeaseUntil, nil
	case m.NextAttemptAt.After(now):
		return nil, m.NextAttemptAt, nil
	}
	return nil, now, nil // changed between the two reads: try again
}

// Pending returns the ids of pending mails of every organisation, after
// the mail afterID (empty: from the start), at most limit of them, in id
// order, as their delivery jobs. A delivery worker enqueues them when it
// starts, to catch up on mails queued without a job (by a version before
// jobs, or by a program that enqueued none).
func (s *OutboxService) Pending(ctx context.Context, afterID string, limit int) ([]DeliverMail, error) {
	mails, err := s.store.OutboxPending(ctx, afterID, limit)
	if err != nil {
		return nil, err
	}
	out := make([]DeliverMail, len(mails))
	for i, m := range mails {
		out[i] = DeliverMail{OrgID: m.OrgID, MailID: m.ID}
	}
	return out, nil
}

// Attachment opens the contents of one of a claimed mail's attachments.
func (s *OutboxService) Attachment(ctx context.Context, m *OutboxMail, a OutboxAttachment) (io.ReadCloser, error) {
	if s.cfg.Blobs == nil {
		return nil, errors.New("crm: attachments need Config.Blobs")
	}
	return s.cfg.Blobs.Open(ctx, blobKey(m.OrgID, a.SHA256))
}

// Delivered records that the mail server accepted the mail: it is marked
// sent and a "mail.sent" event goes on the customer's timeline, in one
// transaction; then the attachments' contents are let go.
//
// A mail sent again after an attempt without an outcome keeps
// UnknownOutcome as its last error, and its event says so: the customer
// may have received it twice.
func (s *OutboxService) Delivered(ctx context.Context, m *OutboxMail) error {
	note := ""
	if m.LastError == UnknownOutcome {
		note = UnknownOutcome
	}
	return s.finish(ctx, m, OutboxSent, time.Time{}, note)
}

// Failed records a failed attempt. A permanent failure, or the last
// allowed attempt, marks the mail failed with a "mail.failed" event; else
// it is tried again later, waiting longer after each attempt.
func (s *OutboxService) Failed(ctx context.Context, m *OutboxMail, cause error, permanent bool) error {
	msg := firstLine(cause.Error())
	if len(msg) > 1000 {
		msg = msg[:1000]
	}
	if permanent || m.Attempts >= MaxMailAttempts {
		return s.finish(ctx, m, OutboxFailed, time.Time{}, msg)
	}
	return s.finish(ctx, m, OutboxPending, s.now().Add(RetryDelay(m.Attempts)), msg)
}

// Release gives a claimed mail back before its send began (the worker is
// stopping): it is due again at once, for any worker.
func (s *OutboxService) Release(ctx context.Context, m *OutboxMail) error {
	return s.finish(ctx, m, OutboxPending, s.now(), m.LastError)
}

// RetryDelay is the wait after a temporary failure of attempt number
// attempts before the next: 30 s, 1 min, 2 min, ... up to an hour.
func RetryDelay(attempts int) time.Duration {
	d := 30 * time.Second
	for i := 1; i < attempts && d < time.Hour; i++ {
		d *= 2
	}
	return min(d, time.Hour)
}

func (s *OutboxService) finish(ctx context.Context, m *OutboxMail, status OutboxStatus, next time.Time, lastErr string) error {
	sc := scope{org: m.OrgID, actor: System()}
	now := s.now()
	var released []string
	err := s.store.InTx(ctx, func(tx Store) error {
		released = released[:0]
		if err := tx.OutboxFinish(ctx, m.OrgID, m.ID, m.Attempts, status, now, next, lastErr); err != nil {
			return err
		}
		if status == OutboxPending {
			return nil
		}
		// A link's secret (set a password, unsubscribe) is kept only until
		// the mail is out.
		text, t := scrubSecrets(m.Text)
		html, h := scrubSecrets(m.HTML)
		headers, hs := scrubHeaders(m.Headers)
		if t || h || hs {
			if err := tx.OutboxScrub(ctx, m.OrgID, m.ID, text, html, headers); err != nil {
				return err
			}
		}
		for _, a := range m.Attachments {
			unused, err := tx.BlobRelease(ctx, m.OrgID, a.SHA256)
			if err != nil {
				return err
			}
			if unused {
				released = append(released, a.SHA256)
			}
		}
		kind, changes := EventMailSent, []FieldChange{{Field: "subject", New: m.Subject}, {Field: "to", New: m.ToEmail}}
		if status == OutboxFailed || lastErr != "" {
			changes = append(changes, FieldChange{Field: "error", New: lastErr})
		}
		if status == OutboxFailed {
			kind = EventMailFailed
		}
		// A customer deleted meanwhile has no timeline left to write to.
		if _, err := tx.CustomerGet(ctx, CustomerGetParams{OrgID: m.OrgID, ID: m.CustomerID}); errors.Is(err, ErrNotFound) {
			return nil
		} else if err != nil {
			return err
		}
		return tx.HistoryAppend(ctx, s.event(sc, m.CustomerID, kind, now, changes))
	})
	if err != nil {
		return err
	}
	return s.removeBlobs(ctx, m.OrgID, released)
}

// Get returns one queued mail of the organisation, with its status.
func (s *OutboxService) Get(ctx context.Context, id string) (*OutboxMail, error) {
	sc, err := readScope(ctx)
	if err != nil {
		return nil, err
	}
	if !validID(id) {
		return nil, &notFoundError{what: "mail " + id}
	}
	return s.store.OutboxGet(ctx, sc.org, id)
}

// List returns a page of the organisation's mails (of one customer when
// customerID is set), newest first, with their status.
func (s *OutboxService) List(ctx context.Context, customerID string, page PageRequest) (Page[OutboxMail], error) {
	sc, err := readScope(ctx)
	if err != nil {
		return Page[OutboxMail]{}, err
	}
	v := newValidation(sc.lang)
	limit := page.limit(v)
	cur, ok := decodeCursor(page.Cursor)
	if !ok || (page.Cursor != "" && !validID(cur.ID)) {
		v.add("cursor", "cursor", "")
	}
	if err := v.err(); err != nil {
		return Page[OutboxMail]{}, err
	}
	if customerID != "" {
		if err := s.customerExists(ctx, s.store, sc, customerID); err != nil {
			return Page[OutboxMail]{}, err
		}
	}
	items, err := s.store.OutboxList(ctx, sc.org, customerID, cur.ID, limit+1)
	if err != nil {
		return Page[OutboxMail]{}, err
	}
	out := Page[OutboxMail]{Items: nonNil(items)}
	if len(items) > limit {
		out.Items = items[:limit]
		out.Next = cursor{ID: out.Items[limit-1].ID}.encode()
	}
	return out, nil
}

// SendOptions adjusts a document mail.
type SendOptions struct {
	// Language overrides the customer's communication language.
	Language string `json:"language,omitempty"`
}

// Send mails chosen documents of a customer as attachments, in the
// customer's language (or opts.Language), through the outbox: the mail is
// queued in the same transaction that marks the documents sent.
func (s *DocumentService) Send(ctx context.Context, customerID string, documentIDs []string, opts SendOptions) (*OutboxMail, error) {
	sc, err := s.writeScope(ctx)
	if err != nil {
		return nil, err
	}
	v := newValidation(sc.lang)
	if len(documentIDs) == 0 {
		v.add("documentIds", "required", "")
	} else if len(documentIDs) > 20 {
		v.add("documentIds", "maxItems", "20")
	}
	if opts.Language != "" {
		opts.Language = checkLanguage(v, "language", opts.Language)
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	if !validID(customerID) {
		return nil, &notFoundError{what: "customer " + customerID}
	}
	var m *OutboxMail
	err = s.store.InTx(ctx, func(tx Store) error {
		now := s.now()
		if err := tx.CustomerTouch(ctx, sc.org, customerID, now); err != nil {
			return err
		}
		cust, err := tx.CustomerGet(ctx, CustomerGetParams{OrgID: sc.org, ID: customerID})
		if err != nil {
			return err
		}
		var docs []Document
		for i, id := range documentIDs {
			var d *Document
			if validID(id) {
				d, err = tx.DocumentGet(ctx, sc.org, id)
			}
			if d == nil || errors.Is(err, ErrNotFound) || d.CustomerID != customerID {
				v.add("documentIds["+strconv.Itoa(i)+"]", "unknown", "")
				continue
			}
			if err != nil {
				return err
			}
			docs = append(docs, *d)
		}
		if err := v.err(); err != nil {
			return err
		}
		if m, err = s.outbox.queue(ctx, tx, sc, cust, TemplateDocumentDelivery, opts.Language, MailData{}, docs); err != nil {
			return err
		}
		ids := make([]string, len(docs))
		for i, d := range docs {
			ids[i] = d.ID
		}
		return tx.DocumentMarkSent(ctx, sc.org, ids, now)
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}

// BatchSendReport is what SendByAttribute did.
type BatchSendReport struct {
	// Mails counts the mails queued, Documents the documents they carry.
	Mails     int `json:"mails"`
	Documents int `json:"documents"`
	// Skipped are customers whose documents stay unsent, with why (no address).
	Skipped []SkippedCustomer `json:"skipped"`
}

// SkippedCustomer is a customer a batch left out.
type SkippedCustomer struct {
	CustomerID string `json:"customerId"`
	Reason     string `json:"reason"`
}

// SendByAttribute mails every document with the attribute that was never
// sent to its customer: one mail per customer with all of them (C6). Each
// customer is one transaction that queues the mail and marks its
// documents sent, so a run that stops halfway and is started again sends
// nothing twice. Customers without an address are skipped and reported;
// their documents stay unsent.
func (s *DocumentService) SendByAttribute(ctx context.Context, attributeID string) (*BatchSendReport, error) {
	sc, err := s.writeScope(ctx)
	if err != nil {
		return nil, err
	}
	v := newValidation(sc.lang)
	if attributeID == "" {
		v.add("attributeId", "required", "")
		return nil, v.err()
	}
	if err := s.checkAttribute(ctx, sc, v, attributeID); err != nil {
		return nil, err
	}
	report := &BatchSendReport{Skipped: []SkippedCustomer{}}
	after := ""
	for {
		page, err := s.store.DocumentsUnsent(ctx, sc.org, attributeID, after, 200)
		if err != nil {
			return report, err
		}
		seen := map[string]bool{}
		for _, d := range page {
			if seen[d.CustomerID] {
				continue
			}
			seen[d.CustomerID] = true
			n, err := s.sendUnsent(ctx, sc, d.CustomerID, attributeID)
			var invalid *ValidationError
			switch {
			case errors.As(err, &invalid) && invalid.Has("email", "noAddress"):
				report.Skipped = append(report.Skipped, SkippedCustomer{CustomerID: d.CustomerID, Reason: "no e-mail address"})
			case errors.Is(err, ErrAnonymised), errors.Is(err, ErrNotFound):
				report.Skipped = append(report.Skipped, SkippedCustomer{CustomerID: d.CustomerID, Reason: "customer gone"})
			case err != nil:
				return report, err
			case n > 0:
				report.Mails++
				report.Documents += n
			}
		}
		if len(page) < 200 {
			return report, nil
		}
		after = page[len(page)-1].ID
	}
}

// sendUnsent queues one mail with every unsent document of the attribute
// of one customer, read under the customer's lock so that two runs at the
// same time cannot both send them.
func (s *DocumentService) sendUnsent(ctx context.Context, sc scope, customerID, attributeID string) (int, error) {
	n := 0
	err := s.store.InTx(ctx, func(tx Store) error {
		now := s.now()
		if err := tx.CustomerTouch(ctx, sc.org, customerID, now); err != nil {
			return err
		}
		docs, err := tx.DocumentsUnsentOf(ctx, sc.org, customerID, attributeID)
		if err != nil || len(docs) == 0 {
			return err
		}
		cust, err := tx.CustomerGet(ctx, CustomerGetParams{OrgID: sc.org, ID: customerID})
		if err != nil {
			return err
		}
		if _, err := s.outbox.queue(ctx, tx, sc, cust, TemplateDocumentDelivery, "", MailData{}, docs); err != nil {
			return err
		}
		ids := make([]string, len(docs))
		for i, d := range docs {
			ids[i] = d.ID
		}
		n = len(docs)
		return tx.DocumentMarkSent(ctx, sc.org, ids, now)
	})
	return n, err
}

// mailLink fills a link pattern's {token}.
func mailLink(pattern, token string) string { return strings.ReplaceAll(pattern, "{token}", token) }
