package crm

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/go-playground/validator/v10"
	"github.com/google/uuid"
)

// Store is everything the services need from storage: one small interface per
// aggregate, and InTx to run several calls in one transaction. The package
// crm/store implements it for PostgreSQL and SQLite; crm/store/storetest is the
// conformance suite any implementation must pass.
//
// Every method takes the organisation explicitly and must never read or write
// rows of another organisation.
type Store interface {
	OrganisationStore
	CustomerStore
	CustomFieldStore
	HistoryStore
	APIKeyStore
	QualifierStore
	LabelStore
	SegmentStore
	ConsentStore
	PrivacyStore
	PointStore
	IdempotencyStore
	DocumentStore
	MailTemplateStore
	OutboxStore
	JobStore
	BookingStore
	ExportStore
	ImportStore
	MatchStore
	FieldOriginStore
	InteractionStore
	FormStore
	ReportStore
	PortalStore
	ItineraryStore
	ContestStore
	BrochureStore
	MailingStore
	StaffStore
	InquiryStore
	InquiryTimelineStore
	PipelineStatusStore
	NoteStore
	TaskStore
	TaskReportStore
	MergeStore
	DuplicateStore

	// InTx runs fn in one transaction: all of fn's writes commit together or
	// none does. The Store passed to fn is bound to the transaction; calling
	// InTx on it runs fn in the same transaction.
	InTx(ctx context.Context, fn func(tx Store) error) error
}

// Config configures a CRM. The zero value works: New fills in defaults.
type Config struct {
	// DefaultLanguage (BCP 47) is given to new organisations that do not say
	// theirs. Default "en".
	DefaultLanguage string
	// DefaultCountry (ISO 3166-1 alpha-2) is given to new organisations that do
	// not say theirs; it is used to read national phone numbers. Default empty:
	// only international numbers ("+31 6 ...") are accepted.
	DefaultCountry string
	// Logger receives operational messages. Nil means a logger that discards.
	Logger *slog.Logger
	// ConfirmationTTL is how long a double opt-in token works. Default
	// DefaultConfirmationTTL (seven days).
	ConfirmationTTL time.Duration
	// Blobs keeps document contents (see BlobStore); documents need it.
	// crm/store/cloudblob keeps them in a gocloud.dev/blob bucket: a folder
	// (the reference server's default) or object storage, opened by URL.
	Blobs BlobStore
	// MaxDocumentBytes is the largest document. Default DefaultMaxDocumentBytes (20 MiB).
	MaxDocumentBytes int64
	// Reports renders customer reports (Documents.FileReport); the
	// reference server uses crm/report's PDF renderer.
	Reports ReportRenderer
	// OutboxLease is how long a delivery worker holds a claimed mail before
	// another may try it. Default DefaultOutboxLease (two minutes).
	OutboxLease time.Duration
	// ConfirmationURL, when set, makes a double opt-in sign-up queue its
	// confirmation mail, with the link made by putting the token in place
	// of {token} ("https://example.com/confirm?token={token}"), and a
	// confirmation queue the thank-you mail.
	ConfirmationURL string
	// Tables reads and writes the files of imports and exports; package
	// crm/tabular implements it (CSV, XLSX, JSON Lines). Imports and
	// exports need it.
	Tables Tables
	// SetPasswordURL is the link of set-password mails, with {token} where
	// the link's secret goes. Default DefaultSetPasswordURL. Put the token
	// in the fragment (#token=...) so that it never reaches a server's log.
	SetPasswordURL string
	// UnsubscribeURL is the unsubscribe link of mailings, with {token}.
	// Default DefaultUnsubscribeURL.
	UnsubscribeURL string
	// UnsubscribeOneClickURL is the link of a mailing's List-Unsubscribe
	// header, with {token}: the address a mail program POSTs to when the
	// reader unsubscribes (RFC 8058 one-click, the route POST
	// /portal/v1/unsubscribe/one-click of crm/httpapi). Default
	// DefaultUnsubscribeOneClickURL. Only an https link gets the
	// List-Unsubscribe-Post header that announces one-click.
	UnsubscribeOneClickURL string
	// UnsubscribeMailto, when set, is an e-mail address added to the
	// List-Unsubscribe header as a mailto: link whose subject carries the
	// unsubscribe secret ("unsubscribe dpu_..."); the program that reads
	// that mailbox passes the secret to MailingService.Unsubscribe.
	UnsubscribeMailto string
	// SetPasswordTTL is how long a set-password link works. Default
	// DefaultSetPasswordTTL (24 hours).
	SetPasswordTTL time.Duration
	// PortalSessionIdle ends a portal session unused for this long;
	// PortalSessionMax ends any session this long after sign-in. Defaults
	// DefaultPortalSessionIdle (30 minutes) and DefaultPortalSessionMax (8 hours).
	PortalSessionIdle, PortalSessionMax time.Duration
	// PasswordMinLength is the shortest portal password, at least 8.
	// Default DefaultPasswordMinLength (12).
	PasswordMinLength int
	// PasswordHashers bounds the argon2id hashes computed at once (19 MiB
	// each). Default 4.
	PasswordHashers int
	// ImportBatch is how many rows an import writes in one transaction.
	// Default ImportBatchSize.
	ImportBatch int
	// MailingBatch is how many recipients a mailing queues in one
	// transaction. Default MailingBatch.
	MailingBatch int
	// Clock returns the current time; tests set it to make time stand still.
	// It is called from several goroutines at once (an import reads its
	// file ahead on one of its own). Nil means time.Now.
	Clock func() time.Time
}

// withDefaults returns the config with every unset field filled in, validated.
func (cfg Config) withDefaults() (Config, error) {
	if cfg.DefaultLanguage == "" {
		cfg.DefaultLanguage = "en"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.ImportBatch <= 0 {
		cfg.ImportBatch = ImportBatchSize
	}
	if cfg.MailingBatch <= 0 {
		cfg.MailingBatch = MailingBatch
	}
	if cfg.OutboxLease == 0 {
		cfg.OutboxLease = DefaultOutboxLease
	}
	if cfg.MaxDocumentBytes == 0 {
		cfg.MaxDocumentBytes = DefaultMaxDocumentBytes
	}
	if cfg.ConfirmationTTL == 0 {
		cfg.ConfirmationTTL = DefaultConfirmationTTL
	}
	if cfg.SetPasswordURL == "" {
		cfg.SetPasswordURL = DefaultSetPasswordURL
	}
	if cfg.UnsubscribeURL == "" {
		cfg.UnsubscribeURL = DefaultUnsubscribeURL
	}
	if cfg.UnsubscribeOneClickURL == "" {
		cfg.UnsubscribeOneClickURL = DefaultUnsubscribeOneClickURL
	}
	if cfg.SetPasswordTTL == 0 {
		cfg.SetPasswordTTL = DefaultSetPasswordTTL
	}
	if cfg.PortalSessionIdle == 0 {
		cfg.PortalSessionIdle = DefaultPortalSessionIdle
	}
	if cfg.PortalSessionMax == 0 {
		cfg.PortalSessionMax = DefaultPortalSessionMax
	}
	if cfg.PasswordMinLength == 0 {
		cfg.PasswordMinLength = DefaultPasswordMinLength
	}
	if cfg.PasswordHashers == 0 {
		cfg.PasswordHashers = 4
	}
	v := newValidation("en")
	if cfg.PasswordMinLength < 8 || cfg.PasswordMinLength > MaxPasswordLength {
		v.add("PasswordMinLength", "minValue", "8")
	}
	for name, d := range map[string]time.Duration{"SetPasswordTTL": cfg.SetPasswordTTL, "PortalSessionIdle": cfg.PortalSessionIdle, "PortalSessionMax": cfg.PortalSessionMax} {
		if d < 0 {
			v.add(name, "gt", "0")
		}
	}
	if !strings.Contains(cfg.SetPasswordURL, "{token}") {
		v.add("SetPasswordURL", "invalid", "")
	}
	if !strings.Contains(cfg.UnsubscribeURL, "{token}") {
		v.add("UnsubscribeURL", "invalid", "")
	}
	checkOneClickConfig(v, cfg.UnsubscribeOneClickURL, cfg.UnsubscribeMailto)
	cfg.DefaultLanguage = checkLanguage(v, "DefaultLanguage", cfg.DefaultLanguage)
	cfg.DefaultCountry = checkCountry(v, "DefaultCountry", cfg.DefaultCountry)
	if cfg.ConfirmationTTL < 0 {
		v.add("ConfirmationTTL", "gt", "0")
	}
	if err := v.err(); err != nil {
		return cfg, fmt.Errorf("crm: config: %w", err)
	}
	return cfg, nil
}

// CRM is the entry point of the library: one service per area, all sharing
// one store and one configuration. It is safe for concurrent use.
type CRM struct {
	Organisations *OrganisationService
	Customers     *CustomerService
	CustomFields  *CustomFieldService
	History       *HistoryService
	APIKeys       *APIKeyService
	// Tags qualify the relationship: at most nine per customer (C4).
	Tags *QualifierService
	// Attributes are attributes and interests, any number per customer (C4).
	Attributes *QualifierService
	// Labels are labels with benefits and memberships (C4).
	Labels *LabelService
	// Segments are saved customer filters (C2).
	Segments *SegmentService
	// Consents are consent purposes, the consent log with double opt-in,
	// and mailing selections (C5, C13).
	Consents *ConsentService
	// Privacy exports and anonymises customers and applies the retention
	// policy (C5).
	Privacy *PrivacyService
	// Points are loyalty points, a ledger that never overdraws (C8).
	Points *PointService
	// Documents are files kept per customer, and generated reports (C6).
	Documents *DocumentService
	// Mail keeps mail templates and renders them in the customer's language (C7).
	Mail *MailService
	// Outbox holds queued mails for a delivery worker (crm/mail.Worker).
	Outbox *OutboxService
	// Bookings are the booking and order summaries the booking platform
	// pushes, with the daily worklists (C10).
	Bookings *BookingService
	// Exports write the whole base, a segment or a filter to CSV, XLSX or
	// JSON Lines, and keep a record of every export (C15).
	Exports *ExportService
	// Imports read customers from CSV and XLSX files as background jobs
	// (C15).
	Imports *ImportService
	// Interactions record reservations, forms, sign-ups and reviews, and
	// build customers from them (C3).
	Interactions *InteractionService
	// Forms are the organisation's forms: which fields each collects and
	// requires (C3).
	Forms *FormService
	// Reports count the customer base by origin, language, status,
	// consent, tag, attribute and points (C17), as JSON, CSV or a chart.
	Reports *ReportService
	// Portal is the customer's own account: portal accounts, set-password
	// links, sign-in, sessions and the customer's own calls (C9, C5).
	Portal *PortalService
	// Itineraries are trips customers saved from the portal (C13).
	Itineraries *ItineraryService
	// Contests are contests with customers' entries (C13).
	Contests *ContestService
	// Brochures are brochure requests and the "to send" list (C13).
	Brochures *BrochureService
	// Mailings send an organisation's templates to one customer or to a
	// segment, with unsubscribe links (C13).
	Mailings *MailingService
	// Staff are the organisation's staff users and departments (issue 19).
	Staff *StaffService
	// Inquiries are customers' requests for offers: sales opportunities
	// with a pipeline, a handler, visibility and a history (C14).
	Inquiries *InquiryService
	// Notes are notes of typed events on customers' timelines (C12).
	Notes *NoteService
	// Tasks are tasks and reminders (C14).
	Tasks *TaskService
	// Merges preview and perform merges of duplicate customers (C11).
	Merges *MergeService
}

// New builds a CRM on st.
func New(st Store, cfg Config) (*CRM, error) {
	if st == nil {
		return nil, errors.New("crm: New needs a Store")
	}
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	c := &core{store: txRouter{st}, cfg: cfg, validate: newValidator()}
	customers := &CustomerService{core: c}
	segments := &SegmentService{core: c, store: c.store, customers: customers}
	mailSvc := &MailService{c}
	outbox := &OutboxService{core: c, mail: mailSvc}
	consents := &ConsentService{core: c, customers: customers, segments: segments, outbox: outbox}
	customers.consents = consents
	tags := &QualifierService{core: c, kind: KindTag}
	attributes := &QualifierService{core: c, kind: KindAttribute}
	labels := &LabelService{c}
	points := &PointService{c}
	privacy := &PrivacyService{core: c, consents: consents, tags: tags, attributes: attributes, labels: labels, points: points}
	forms := &FormService{core: c, consents: consents}
	documents := &DocumentService{core: c, privacy: privacy, outbox: outbox}
	bookings := &BookingService{c}
	portal := &PortalService{core: c, outbox: outbox, customers: customers, consents: consents, privacy: privacy,
		documents: documents, bookings: bookings, hashing: make(chan struct{}, cfg.PasswordHashers)}
	customers.portal = portal
	return &CRM{
		Interactions:  &InteractionService{core: c, customers: customers, consents: consents, forms: forms},
		Forms:         forms,
		Organisations: &OrganisationService{c},
		Customers:     customers,
		CustomFields:  &CustomFieldService{c},
		History:       &HistoryService{core: c, store: c.store, inquiries: c.store},
		APIKeys:       &APIKeyService{core: c, store: c.store},
		Tags:          tags,
		Attributes:    attributes,
		Labels:        labels,
		Segments:      segments,
		Consents:      consents,
		Privacy:       privacy,
		Points:        points,
		Documents:     documents,
		Mail:          mailSvc,
		Outbox:        outbox,
		Bookings:      bookings,
		Exports:       &ExportService{core: c, customers: customers, segments: segments, sources: []ExportColumnSource{bookingCounts{c.store}}},
		Imports:       &ImportService{core: c, customers: customers, consents: consents},
		Reports:       &ReportService{core: c, customers: customers, segments: segments},
		Portal:        portal,
		Itineraries:   &ItineraryService{core: c, portal: portal},
		Contests:      &ContestService{core: c, portal: portal},
		Brochures:     &BrochureService{core: c},
		Mailings:      &MailingService{core: c, consents: consents, outbox: outbox},
		Staff:         &StaffService{c},
		Inquiries:     &InquiryService{core: c, customers: customers},
		Notes:         &NoteService{c},
		Tasks:         &TaskService{c},
		Merges:        &MergeService{core: c, customers: customers},
	}, nil
}

// core is what every service shares.
type core struct {
	store    Store
	cfg      Config
	validate *validator.Validate
	// inFlight holds the idempotent calls running in this process.
	inFlight sync.Map
}

// now is the clock, in UTC at the microsecond precision both databases keep,
// so that what a service returns equals what a later read returns.
func (c *core) now() time.Time { return c.cfg.Clock().UTC().Truncate(time.Microsecond) }

// newID returns a time-ordered UUIDv7: safe to merge and export, and it keeps
// index inserts local.
func newID() string { return uuid.Must(uuid.NewV7()).String() }

// validID reports whether id can be an id Dossier issued. Ids that cannot
// are simply not found; they never reach the database.
func validID(id string) bool {
	_, err := uuid.Parse(id)
	return err == nil && len(id) == 36
}
