package crm

import (
	"context"
	"errors"
	"html"
	"slices"
	"strings"
	"time"

	"github.com/dossiercrm/dossier/crm/i18n"
)

// MailingStatus is where a mailing stands.
type MailingStatus string

// The mailing statuses.
const (
	// MailingRunning: recipients are still being selected and queued.
	MailingRunning MailingStatus = "running"
	// MailingDone: every recipient's mail is in the outbox (sent or not).
	MailingDone MailingStatus = "done"
)

// Mailing is one template sent to a segment's customers who may be
// contacted for a purpose (C13): recipients come from the mailing
// selection (consents and opt-outs respected), each mail in the
// customer's language through the outbox, with an unsubscribe link.
type Mailing struct {
	ID       string `json:"id"`
	Template string `json:"template"`
	// Purpose is the consent purpose the mailing serves; its unsubscribe
	// link withdraws it.
	Purpose string `json:"purpose"`
	// SegmentID is the segment of the recipients; empty: every customer.
	SegmentID string        `json:"segmentId,omitempty"`
	Status    MailingStatus `json:"status"`
	Actor     Actor         `json:"actor"`
	CreatedAt time.Time     `json:"createdAt"`
	// FinishedAt is when the last recipient was queued.
	FinishedAt *time.Time    `json:"finishedAt,omitempty"`
	Counts     MailingCounts `json:"counts"`
	// AfterNumber is the customer number the selection has reached.
	AfterNumber int64 `json:"-"`
}

// MailingCounts is a mailing's progress.
type MailingCounts struct {
	// Queued counts the mails written to the outbox; Sent, Failed and
	// Pending split them by their delivery. Mails of customers deleted
	// since are in none of these.
	Queued  int `json:"queued"`
	Sent    int `json:"sent"`
	Failed  int `json:"failed"`
	Pending int `json:"pending"`
	// Unsubscribed counts recipients who used the mailing's unsubscribe link.
	Unsubscribed int `json:"unsubscribed"`
	// Skipped counts selected customers whose mail could not be made
	// (e.g. no e-mail address after all).
	Skipped int `json:"skipped"`
}

// NewMailing is the input of MailingService.Start.
type NewMailing struct {
	// Template is the key of a built-in or organisation-defined template.
	Template string `json:"template" validate:"required,max=40"`
	// SegmentID selects the recipients; empty: every customer.
	SegmentID string `json:"segmentId,omitempty" validate:"max=36"`
	// Purpose is the consent purpose (key) the mailing serves; default
	// "newsletter". It must reach customers by e-mail.
	Purpose string `json:"purpose,omitempty" validate:"max=40"`
}

// MailingRecipientRow is one customer a mailing went to.
type MailingRecipientRow struct {
	MailingID  string `json:"mailingId"`
	CustomerID string `json:"customerId"`
	MailID     string `json:"mailId"`
	// UnsubscribeHash is the SHA-256 of the unsubscribe link's secret.
	UnsubscribeHash string     `json:"-"`
	UnsubscribedAt  *time.Time `json:"unsubscribedAt,omitempty"`
	// Template and Purpose are the mailing's, for exports.
	Template string `json:"template,omitempty"`
	Purpose  string `json:"purpose,omitempty"`
}

// MailingStore keeps mailings and their recipients.
type MailingStore interface {
	MailingInsert(ctx context.Context, orgID string, m *Mailing) error
	// MailingGet returns a mailing with its counts, or ErrNotFound.
	MailingGet(ctx context.Context, orgID, id string) (*Mailing, error)
	// MailingList returns the organisation's mailings, newest first, with counts.
	MailingList(ctx context.Context, orgID string) ([]Mailing, error)
	// MailingAdvance records a batch: the selection reached afterNumber,
	// queued and skipped more mails; done finishes the mailing at at.
	MailingAdvance(ctx context.Context, orgID, id string, afterNumber int64, queued, skipped int, done bool, at time.Time) error
	MailingRecipientInsert(ctx context.Context, orgID string, rows []MailingRecipientRow) error
	// MailingRecipientByHash returns the recipient of an unsubscribe secret's hash, or ErrNotFound.
	MailingRecipientByHash(ctx context.Context, orgID, hash string) (*MailingRecipientRow, error)
	MailingRecipientUnsubscribe(ctx context.Context, orgID, mailingID, customerID string, at time.Time) error
	// MailingRecipientList returns the mailings a customer received, with
	// their templates and purposes.
	MailingRecipientList(ctx context.Context, orgID, customerID string) ([]MailingRecipientRow, error)
}

// SendMailing is the job that selects and queues a mailing's recipients,
// a batch per transaction, from where it stopped.
type SendMailing struct {
	OrgID     string `json:"orgId"`
	MailingID string `json:"mailingId"`
}

// JobSendMailing is the kind of SendMailing.
const JobSendMailing = "mailing.send"

// Kind implements Job.
func (SendMailing) Kind() string { return JobSendMailing }

// The timeline events of mailings.
const (
	EventMailingUnsubscribed EventKind = "mailing.unsubscribed"
)

// MailingBatch is how many recipients one transaction of a mailing queues
// unless Config.MailingBatch says otherwise.
const MailingBatch = 500

// MailingService sends an organisation's mail templates (built-in or its
// own) to one customer, or as a mailing to a segment (C13).
type MailingService struct {
	*core
	consents *ConsentService
	outbox   *OutboxService
}

// Send queues template key to one customer in their language (or lang),
// whatever consents say: a mail staff send by hand. An unknown key is a
// *ValidationError on "template".
func (s *MailingService) Send(ctx context.Context, customerID, key, lang string) (*OutboxMail, error) {
	sc, err := s.writeScope(ctx)
	if err != nil {
		return nil, err
	}
	v := newValidation(sc.lang)
	v.checkString("template", &key)
	if lang != "" {
		lang = checkLanguage(v, "language", lang)
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	if !validID(customerID) {
		return nil, &notFoundError{what: "customer " + customerID}
	}
	var m *OutboxMail
	err = s.store.InTx(ctx, func(tx Store) error {
		if err := s.checkTemplate(ctx, tx, sc, key); err != nil {
			return err
		}
		if err := tx.CustomerTouch(ctx, sc.org, customerID, s.now()); err != nil {
			return err
		}
		cust, err := tx.CustomerGet(ctx, CustomerGetParams{OrgID: sc.org, ID: customerID})
		if err != nil {
			return err
		}
		if cust.AnonymisedAt != nil {
			return ErrAnonymised
		}
		m, err = s.outbox.queue(ctx, tx, sc, cust, key, lang, MailData{}, nil)
		return err
	})
	return m, err
}

// checkTemplate refuses a key that is neither built in nor the organisation's.
func (s *MailingService) checkTemplate(ctx context.Context, st Store, sc scope, key string) error {
	if isBuiltinTemplate(key) {
		return nil
	}
	own, err := st.MailTemplateList(ctx, sc.org)
	if err != nil {
		return err
	}
	if !slices.ContainsFunc(own, func(t MailTemplate) bool { return t.Key == key }) {
		v := newValidation(sc.lang)
		v.add("template", "unknown", "")
		return v.err()
	}
	return nil
}

// Start begins a mailing: it checks the template, segment and purpose and
// enqueues the background job (SendMailing) that selects the recipients
// and queues their mails, Config.MailingBatch per transaction, resuming where it
// stopped after a restart. Read its progress with Get.
func (s *MailingService) Start(ctx context.Context, in NewMailing) (*Mailing, error) {
	sc, err := s.writeScope(ctx)
	if err != nil {
		return nil, err
	}
	v := newValidation(sc.lang)
	v.checkText("", &in)
	if in.Purpose == "" {
		in.Purpose = PurposeNewsletter
	}
	v.addStruct(s.validate, in)
	if err := v.err(); err != nil {
		return nil, err
	}
	m := &Mailing{ID: newID(), Template: in.Template, Purpose: in.Purpose, SegmentID: in.SegmentID,
		Status: MailingRunning, Actor: sc.actor, CreatedAt: s.now()}
	err = s.store.InTx(ctx, func(tx Store) error {
		if err := s.checkTemplate(ctx, tx, sc, in.Template); err != nil {
			return err
		}
		p, err := s.consents.purpose(ctx, tx, sc, in.Purpose)
		if errors.Is(err, ErrNotFound) || (err == nil && p.Channel != ChannelEmail) {
			v.add("purpose", "unknown", "")
			return v.err()
		}
		if err != nil {
			return err
		}
		m.Purpose = p.Key
		if in.SegmentID != "" {
			if !validID(in.SegmentID) {
				v.add("segmentId", "unknown", "")
				return v.err()
			}
			if _, err := tx.SegmentGet(ctx, sc.org, in.SegmentID); errors.Is(err, ErrNotFound) {
				v.add("segmentId", "unknown", "")
				return v.err()
			} else if err != nil {
				return err
			}
		}
		if err := tx.MailingInsert(ctx, sc.org, m); err != nil {
			return err
		}
		return tx.JobEnqueue(ctx, SendMailing{OrgID: sc.org, MailingID: m.ID})
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}

// Get returns a mailing with its progress.
func (s *MailingService) Get(ctx context.Context, id string) (*Mailing, error) {
	sc, err := readScope(ctx)
	if err != nil {
		return nil, err
	}
	if !validID(id) {
		return nil, &notFoundError{what: "mailing " + id}
	}
	return s.store.MailingGet(ctx, sc.org, id)
}

// List returns the organisation's mailings, newest first, with their progress.
func (s *MailingService) List(ctx context.Context) ([]Mailing, error) {
	sc, err := readScope(ctx)
	if err != nil {
		return nil, err
	}
	ms, err := s.store.MailingList(ctx, sc.org)
	return nonNil(ms), err
}

// Continue queues the next batch of a running mailing (the SendMailing
// job calls it until it reports done). Each batch is one transaction: the
// recipients' mails, their unsubscribe secrets' hashes, their timeline
// events and the mailing's position commit together, so a stop at any
// moment loses or repeats nothing.
func (s *MailingService) Continue(ctx context.Context, id string) (done bool, err error) {
	sc, err := readScope(ctx)
	if err != nil {
		return false, err
	}
	err = s.store.InTx(ctx, func(tx Store) error {
		m, err := tx.MailingGet(ctx, sc.org, id)
		if err != nil {
			return err
		}
		if m.Status != MailingRunning {
			done = true
			return nil
		}
		msc := scope{org: sc.org, actor: m.Actor, lang: sc.lang}
		org, err := s.organisation(ctx, tx, msc)
		if err != nil {
			return err
		}
		own, err := tx.MailTemplateList(ctx, sc.org)
		if err != nil {
			return err
		}
		now := s.now()
		var (
			mails  []*OutboxMail
			jobs   []Job
			rows   []MailingRecipientRow
			events []HistoryEvent
		)
		tpls := make(parsedTemplates)
		after, skipped, n := m.AfterNumber, 0, 0
		tctx := context.WithValue(ctx, txKey{}, tx)
		batch := s.cfg.MailingBatch
		err = s.consents.mailingSelection(tctx, MailingSelectionParams{SegmentID: m.SegmentID, Purpose: m.Purpose, PageSize: min(batch, MaxPageLimit)},
			m.AfterNumber, func(c *Customer, r MailingRecipient) error {
				n++
				after = c.Number
				token := newSecret(unsubscribePrefix, sc.org)
				mail, ev, err := s.mailFor(tpls, org, own, msc, c, r.Email, m.Template, token, now)
				if err != nil {
					var ce *ConflictError
					if !errors.As(err, &ce) && !errors.Is(err, ErrNotFound) {
						return err
					}
					skipped++ // a template that fails for this customer's data
				} else {
					mails = append(mails, mail)
					jobs = append(jobs, DeliverMail{OrgID: sc.org, MailID: mail.ID})
					rows = append(rows, MailingRecipientRow{MailingID: m.ID, CustomerID: c.ID, MailID: mail.ID, UnsubscribeHash: hashSecret(token)})
					events = append(events, ev)
				}
				if n == batch {
					// Full: the next batch starts after this customer (and
					// finds nothing when this was the last one).
					return errBatchFull
				}
				return nil
			})
		full := errors.Is(err, errBatchFull)
		if err != nil && !full {
			return err
		}
		done = !full
		// The batch's rows go in a few multi-row statements: its mails, their
		// delivery jobs, the recipients and the timeline events.
		if len(rows) > 0 {
			if err := tx.OutboxInsertMany(ctx, mails); err != nil {
				return err
			}
			if err := tx.JobEnqueueMany(ctx, jobs); err != nil {
				return err
			}
			if err := tx.MailingRecipientInsert(ctx, sc.org, rows); err != nil {
				return err
			}
			if err := tx.HistoryAppend(ctx, events...); err != nil {
				return err
			}
		}
		return tx.MailingAdvance(ctx, sc.org, m.ID, after, len(rows), skipped, done, now)
	})
	return done, err
}

// errBatchFull ends a mailing's selection walk when a batch is full.
var errBatchFull = errors.New("crm: the batch is full")

// mailFor renders a mailing's mail for one customer, with the unsubscribe
// link (its secret token) added when the template does not show it, and
// in the List-Unsubscribe headers.
func (s *MailingService) mailFor(tpls parsedTemplates, org *Organisation, own []MailTemplate, sc scope, c *Customer, to, key, token string, now time.Time) (*OutboxMail, HistoryEvent, error) {
	unsubscribe := mailLink(s.cfg.UnsubscribeURL, token)
	var data MailData
	data.Customer.FirstName, data.Customer.LastName = c.FirstName, c.LastName
	data.Customer.DisplayName, data.Customer.Number = c.DisplayName(), c.Number
	data.UnsubscribeLink = unsubscribe
	r, err := tpls.render(org, own, key, c.Language, data)
	if err != nil {
		return nil, HistoryEvent{}, err
	}
	word := i18n.Message(r.Language, "mail.unsubscribe", "")
	if !strings.Contains(r.Text, unsubscribe) {
		r.Text = strings.TrimRight(r.Text, "\n") + "\n\n" + word + ": " + unsubscribe + "\n"
	}
	if r.HTML != "" && !strings.Contains(r.HTML, html.EscapeString(unsubscribe)) {
		r.HTML += `<p><a href="` + html.EscapeString(unsubscribe) + `">` + html.EscapeString(word) + `</a></p>`
	}
	m := &OutboxMail{
		ID: newID(), OrgID: sc.org, CustomerID: c.ID, Template: key, Language: r.Language, ToEmail: to,
		ToName: c.DisplayName(), Subject: r.Subject, Text: r.Text, HTML: r.HTML, Headers: s.cfg.unsubscribeHeaders(token),
		Status: OutboxPending, NextAttemptAt: now, Actor: sc.actor, CreatedAt: now,
	}
	return m, s.event(sc, c.ID, EventMailQueued, now, []FieldChange{
		{Field: "mail", New: key}, {Field: "subject", New: m.Subject}, {Field: "to", New: to}}), nil
}

// UnsubscribeInfo is what an unsubscribe link would withdraw, for the
// page that asks the customer to confirm.
type UnsubscribeInfo struct {
	Purpose      string     `json:"purpose"`
	Organisation string     `json:"organisation"`
	Unsubscribed *time.Time `json:"unsubscribedAt,omitempty"`
}

// UnsubscribeCheck tells what the unsubscribe secret token would withdraw,
// changing nothing (a mail scanner following the link unsubscribes
// no one). An unknown or malformed token is ErrUnauthenticated.
func (s *MailingService) UnsubscribeCheck(ctx context.Context, token string) (*UnsubscribeInfo, error) {
	org, ok := secretOrg(unsubscribePrefix, token)
	if !ok {
		return nil, errPortalAuth
	}
	r, err := s.store.MailingRecipientByHash(ctx, org, hashSecret(token))
	if errors.Is(err, ErrNotFound) {
		return nil, errPortalAuth
	}
	if err != nil {
		return nil, err
	}
	m, err := s.store.MailingGet(ctx, org, r.MailingID)
	if err != nil {
		return nil, err
	}
	o, err := s.store.OrganisationGet(ctx, org)
	if err != nil {
		return nil, err
	}
	return &UnsubscribeInfo{Purpose: m.Purpose, Organisation: o.Name, Unsubscribed: r.UnsubscribedAt}, nil
}

// Unsubscribe withdraws, for the customer a mailing's unsubscribe link was
// made for, the consent the mailing was sent under; the consent log and
// the timeline record it, as the customer's own act. Using a link twice
// changes nothing more. An unknown or malformed token is ErrUnauthenticated.
func (s *MailingService) Unsubscribe(ctx context.Context, token string, ev Evidence) (*UnsubscribeInfo, error) {
	return s.unsubscribe(ctx, token, ev, UnsubscribeViaLink)
}

// UnsubscribeOneClick is Unsubscribe for a mail program's one-click POST
// to a mail's List-Unsubscribe link (RFC 8058): the same withdrawal,
// recorded on the timeline with via "one-click".
func (s *MailingService) UnsubscribeOneClick(ctx context.Context, token string, ev Evidence) (*UnsubscribeInfo, error) {
	return s.unsubscribe(ctx, token, ev, UnsubscribeViaOneClick)
}

func (s *MailingService) unsubscribe(ctx context.Context, token string, ev Evidence, via string) (*UnsubscribeInfo, error) {
	org, ok := secretOrg(unsubscribePrefix, token)
	if !ok {
		return nil, errPortalAuth
	}
	hash := hashSecret(token)
	var out *UnsubscribeInfo
	err := s.store.InTx(ctx, func(tx Store) error {
		r, err := tx.MailingRecipientByHash(ctx, org, hash)
		if errors.Is(err, ErrNotFound) {
			return errPortalAuth
		}
		if err != nil {
			return err
		}
		m, err := tx.MailingGet(ctx, org, r.MailingID)
		if err != nil {
			return err
		}
		o, err := tx.OrganisationGet(ctx, org)
		if err != nil {
			return err
		}
		out = &UnsubscribeInfo{Purpose: m.Purpose, Organisation: o.Name, Unsubscribed: r.UnsubscribedAt}
		if r.UnsubscribedAt != nil {
			return nil
		}
		now := s.now()
		cust, err := tx.CustomerGet(ctx, CustomerGetParams{OrgID: org, ID: r.CustomerID})
		if err != nil {
			return err
		}
		if err := tx.MailingRecipientUnsubscribe(ctx, org, r.MailingID, r.CustomerID, now); err != nil {
			return err
		}
		out.Unsubscribed = &now
		if cust.AnonymisedAt != nil {
			return nil
		}
		cctx := WithActor(WithOrg(context.WithValue(ctx, txKey{}, tx), org), CustomerActor(r.CustomerID))
		cctx = WithLanguage(cctx, languageFrom(ctx))
		sc := scope{org: org, actor: CustomerActor(r.CustomerID)}
		if err := tx.HistoryAppend(ctx, s.event(sc, r.CustomerID, EventMailingUnsubscribed, now, []FieldChange{
			{Field: "mailing.id", New: m.ID}, {Field: "purpose", New: m.Purpose}, {Field: "via", New: via}})); err != nil {
			return err
		}
		_, err = s.consents.Withdraw(cctx, r.CustomerID, ConsentInput{Purpose: m.Purpose, Source: SourcePortal, Evidence: ev})
		return err
	})
	return out, err
}

// scrubSecrets replaces the portal's secrets (set-password and unsubscribe
// links) in a delivered mail's text, so that the outbox keeps none once
// the mail is out.
func scrubSecrets(text string) (string, bool) {
	if !secretPattern.MatchString(text) {
		return text, false
	}
	return secretPattern.ReplaceAllStringFunc(text, func(sec string) string {
		prefix, _, _ := strings.Cut(sec, ".")
		return prefix + ".(removed after delivery)"
	}), true
}
