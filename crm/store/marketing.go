package store

import (
	"context"
	"encoding/json"
	"time"

	"github.com/uptrace/bun"

	"github.com/dossiercrm/dossier/crm"
)

type itineraryRow struct {
	bun.BaseModel `bun:"table:itineraries"`

	OrgID      string              `bun:"org_id,pk"`
	ID         string              `bun:"id,pk"`
	CustomerID string              `bun:"customer_id"`
	Title      string              `bun:"title"`
	Lines      []crm.ItineraryLine `bun:"lines,type:jsonb"`
	CreatedAt  time.Time           `bun:"created_at"`
	ExpiresAt  time.Time           `bun:"expires_at"`
}

func (r *itineraryRow) toDomain() crm.Itinerary {
	return crm.Itinerary{ID: r.ID, CustomerID: r.CustomerID, Title: r.Title, Lines: r.Lines,
		CreatedAt: utc(r.CreatedAt), ExpiresAt: utc(r.ExpiresAt)}
}

// ItineraryInsert implements crm.ItineraryStore.
func (s *DB) ItineraryInsert(ctx context.Context, orgID string, it *crm.Itinerary) error {
	_, err := s.db.NewInsert().Model(&itineraryRow{OrgID: orgID, ID: it.ID, CustomerID: it.CustomerID, Title: it.Title,
		Lines: it.Lines, CreatedAt: it.CreatedAt, ExpiresAt: it.ExpiresAt}).Exec(ctx)
	return interpretError(err)
}

// ItineraryGet implements crm.ItineraryStore.
func (s *DB) ItineraryGet(ctx context.Context, orgID, id string) (*crm.Itinerary, error) {
	var r itineraryRow
	if err := s.db.NewSelect().Model(&r).Where("org_id = ?", orgID).Where("id = ?", id).Scan(ctx); err != nil {
		return nil, interpretError(err)
	}
	it := r.toDomain()
	return &it, nil
}

// ItineraryList implements crm.ItineraryStore.
func (s *DB) ItineraryList(ctx context.Context, orgID, customerID string) ([]crm.Itinerary, error) {
	var rows []itineraryRow
	if err := s.db.NewSelect().Model(&rows).Where("org_id = ?", orgID).Where("customer_id = ?", customerID).
		OrderExpr("created_at DESC, id DESC").Scan(ctx); err != nil {
		return nil, interpretError(err)
	}
	out := make([]crm.Itinerary, len(rows))
	for i := range rows {
		out[i] = rows[i].toDomain()
	}
	return out, nil
}

// ItineraryDeleteExpired implements crm.ItineraryStore.
func (s *DB) ItineraryDeleteExpired(ctx context.Context, orgID string, now time.Time, limit int) ([]crm.Itinerary, error) {
	var rows []itineraryRow
	if err := s.db.NewSelect().Model(&rows).Column("id", "customer_id").Where("org_id = ?", orgID).
		Where("expires_at <= ?", now).OrderExpr("expires_at, id").Limit(int64(limit)).Scan(ctx); err != nil {
		return nil, interpretError(err)
	}
	if len(rows) == 0 {
		return nil, nil
	}
	ids := make([]string, len(rows))
	out := make([]crm.Itinerary, len(rows))
	for i, r := range rows {
		ids[i] = r.ID
		out[i] = crm.Itinerary{ID: r.ID, CustomerID: r.CustomerID}
	}
	if _, err := s.db.NewDelete().Model((*itineraryRow)(nil)).Where("org_id = ?", orgID).Where("id IN (?)", bun.List(ids)).Exec(ctx); err != nil {
		return nil, interpretError(err)
	}
	return out, nil
}

type contestRow struct {
	bun.BaseModel `bun:"table:contests"`

	OrgID     string    `bun:"org_id,pk"`
	ID        string    `bun:"id,pk"`
	Name      string    `bun:"name"`
	Question  string    `bun:"question"`
	StartsOn  date      `bun:"starts_on"`
	EndsOn    date      `bun:"ends_on"`
	CreatedAt time.Time `bun:"created_at"`
}

func (r *contestRow) toDomain() crm.Contest {
	return crm.Contest{ID: r.ID, Name: r.Name, Question: r.Question, StartsOn: r.StartsOn.Date, EndsOn: r.EndsOn.Date, CreatedAt: utc(r.CreatedAt)}
}

type contestEntryRow struct {
	bun.BaseModel `bun:"table:contest_entries"`

	OrgID      string     `bun:"org_id,pk"`
	ID         string     `bun:"id,pk"`
	ContestID  string     `bun:"contest_id"`
	CustomerID string     `bun:"customer_id"`
	Answer     string     `bun:"answer"`
	EnteredAt  time.Time  `bun:"entered_at"`
	Winner     bool       `bun:"winner"`
	PickedAt   *time.Time `bun:"picked_at"`
}

func (r *contestEntryRow) toDomain() crm.ContestEntry {
	return crm.ContestEntry{ID: r.ID, ContestID: r.ContestID, CustomerID: r.CustomerID, Answer: r.Answer,
		EnteredAt: utc(r.EnteredAt), Winner: r.Winner, PickedAt: utcPtr(r.PickedAt)}
}

// ContestInsert implements crm.ContestStore.
func (s *DB) ContestInsert(ctx context.Context, orgID string, c *crm.Contest) error {
	_, err := s.db.NewInsert().Model(&contestRow{OrgID: orgID, ID: c.ID, Name: c.Name, Question: c.Question,
		StartsOn: date{c.StartsOn}, EndsOn: date{c.EndsOn}, CreatedAt: c.CreatedAt}).Exec(ctx)
	return interpretError(err)
}

// ContestGet implements crm.ContestStore.
func (s *DB) ContestGet(ctx context.Context, orgID, id string) (*crm.Contest, error) {
	var r contestRow
	if err := s.db.NewSelect().Model(&r).Where("org_id = ?", orgID).Where("id = ?", id).Scan(ctx); err != nil {
		return nil, interpretError(err)
	}
	c := r.toDomain()
	return &c, nil
}

// ContestList implements crm.ContestStore.
func (s *DB) ContestList(ctx context.Context, orgID string) ([]crm.Contest, error) {
	var rows []contestRow
	if err := s.db.NewSelect().Model(&rows).Where("org_id = ?", orgID).OrderExpr("starts_on DESC, id DESC").Scan(ctx); err != nil {
		return nil, interpretError(err)
	}
	out := make([]crm.Contest, len(rows))
	for i := range rows {
		out[i] = rows[i].toDomain()
	}
	return out, nil
}

// ContestEntryInsert implements crm.ContestStore.
func (s *DB) ContestEntryInsert(ctx context.Context, orgID string, e *crm.ContestEntry) error {
	_, err := s.db.NewInsert().Model(&contestEntryRow{OrgID: orgID, ID: e.ID, ContestID: e.ContestID, CustomerID: e.CustomerID,
		Answer: e.Answer, EnteredAt: e.EnteredAt, Winner: e.Winner, PickedAt: e.PickedAt}).Exec(ctx)
	return interpretError(err)
}

// ContestEntryGet implements crm.ContestStore.
func (s *DB) ContestEntryGet(ctx context.Context, orgID, id string) (*crm.ContestEntry, error) {
	var r contestEntryRow
	if err := s.db.NewSelect().Model(&r).Where("org_id = ?", orgID).Where("id = ?", id).Scan(ctx); err != nil {
		return nil, interpretError(err)
	}
	e := r.toDomain()
	return &e, nil
}

// ContestEntryList implements crm.ContestStore.
func (s *DB) ContestEntryList(ctx context.Context, orgID, contestID, customerID string) ([]crm.ContestEntry, error) {
	var rows []contestEntryRow
	q := s.db.NewSelect().Model(&rows).Where("org_id = ?", orgID)
	if contestID != "" {
		q = q.Where("contest_id = ?", contestID)
	}
	if customerID != "" {
		q = q.Where("customer_id = ?", customerID)
	}
	if err := q.OrderExpr("entered_at, id").Scan(ctx); err != nil {
		return nil, interpretError(err)
	}
	out := make([]crm.ContestEntry, len(rows))
	for i := range rows {
		out[i] = rows[i].toDomain()
	}
	return out, nil
}

// ContestEntryPick implements crm.ContestStore.
func (s *DB) ContestEntryPick(ctx context.Context, orgID, id string, at time.Time) error {
	res, err := s.db.NewUpdate().Model((*contestEntryRow)(nil)).Set("winner = ?", true).Set("picked_at = ?", at).
		Where("org_id = ?", orgID).Where("id = ?", id).Exec(ctx)
	return oneRow(res, err)
}

type brochureRequestRow struct {
	bun.BaseModel `bun:"table:brochure_requests"`

	OrgID       string    `bun:"org_id,pk"`
	ID          string    `bun:"id,pk"`
	CustomerID  string    `bun:"customer_id"`
	Brochures   []string  `bun:"brochures,type:jsonb"`
	Source      string    `bun:"source"`
	ActorKind   string    `bun:"actor_kind"`
	ActorID     string    `bun:"actor_id"`
	RequestedAt time.Time `bun:"requested_at"`
	PrintedOn   *date     `bun:"printed_on"`
}

func (r *brochureRequestRow) toDomain() crm.BrochureRequest {
	return crm.BrochureRequest{ID: r.ID, CustomerID: r.CustomerID, Brochures: r.Brochures, Source: crm.BrochureSource(r.Source),
		Actor: crm.Actor{Kind: crm.ActorKind(r.ActorKind), ID: r.ActorID}, RequestedAt: utc(r.RequestedAt), PrintedOn: r.PrintedOn.domain()}
}

// BrochureRequestInsert implements crm.BrochureStore.
func (s *DB) BrochureRequestInsert(ctx context.Context, orgID string, r *crm.BrochureRequest) error {
	_, err := s.db.NewInsert().Model(&brochureRequestRow{OrgID: orgID, ID: r.ID, CustomerID: r.CustomerID, Brochures: r.Brochures,
		Source: string(r.Source), ActorKind: string(r.Actor.Kind), ActorID: r.Actor.ID, RequestedAt: r.RequestedAt,
		PrintedOn: toDate(r.PrintedOn)}).Exec(ctx)
	return interpretError(err)
}

// BrochureRequestGet implements crm.BrochureStore.
func (s *DB) BrochureRequestGet(ctx context.Context, orgID, id string) (*crm.BrochureRequest, error) {
	var r brochureRequestRow
	if err := s.db.NewSelect().Model(&r).Where("org_id = ?", orgID).Where("id = ?", id).Scan(ctx); err != nil {
		return nil, interpretError(err)
	}
	b := r.toDomain()
	return &b, nil
}

// BrochureRequestList implements crm.BrochureStore.
func (s *DB) BrochureRequestList(ctx context.Context, orgID, customerID string) ([]crm.BrochureRequest, error) {
	var rows []brochureRequestRow
	if err := s.db.NewSelect().Model(&rows).Where("org_id = ?", orgID).Where("customer_id = ?", customerID).
		OrderExpr("requested_at DESC, id DESC").Scan(ctx); err != nil {
		return nil, interpretError(err)
	}
	return brochureDomain(rows), nil
}

func brochureDomain(rows []brochureRequestRow) []crm.BrochureRequest {
	out := make([]crm.BrochureRequest, len(rows))
	for i := range rows {
		out[i] = rows[i].toDomain()
	}
	return out
}

// BrochureRequestsToSend implements crm.BrochureStore, from the partial
// index of requests without a print date.
func (s *DB) BrochureRequestsToSend(ctx context.Context, orgID string, afterAt time.Time, afterID string, limit int) ([]crm.BrochureRequest, error) {
	var rows []brochureRequestRow
	q := s.db.NewSelect().Model(&rows).Where("org_id = ?", orgID).Where("printed_on IS NULL")
	if afterID != "" {
		q = q.Where("(requested_at > ? OR (requested_at = ? AND id > ?))", afterAt, afterAt, afterID)
	}
	if err := q.OrderExpr("requested_at, id").Limit(int64(limit)).Scan(ctx); err != nil {
		return nil, interpretError(err)
	}
	return brochureDomain(rows), nil
}

// BrochureRequestPrinted implements crm.BrochureStore.
func (s *DB) BrochureRequestPrinted(ctx context.Context, orgID, id string, on crm.Date) error {
	res, err := s.db.NewUpdate().Model((*brochureRequestRow)(nil)).Set("printed_on = ?", date{on}).
		Where("org_id = ?", orgID).Where("id = ?", id).Exec(ctx)
	return oneRow(res, err)
}

type mailingRow struct {
	bun.BaseModel `bun:"table:mailings"`

	OrgID       string     `bun:"org_id,pk"`
	ID          string     `bun:"id,pk"`
	Template    string     `bun:"template"`
	Purpose     string     `bun:"purpose"`
	SegmentID   string     `bun:"segment_id"`
	Status      string     `bun:"status"`
	AfterNumber int64      `bun:"after_number"`
	Queued      int        `bun:"queued"`
	Skipped     int        `bun:"skipped"`
	ActorKind   string     `bun:"actor_kind"`
	ActorID     string     `bun:"actor_id"`
	CreatedAt   time.Time  `bun:"created_at"`
	FinishedAt  *time.Time `bun:"finished_at"`
}

type mailingRecipientRow struct {
	bun.BaseModel `bun:"table:mailing_recipients"`

	OrgID           string     `bun:"org_id,pk"`
	MailingID       string     `bun:"mailing_id,pk"`
	CustomerID      string     `bun:"customer_id,pk"`
	MailID          string     `bun:"mail_id"`
	UnsubscribeHash string     `bun:"unsubscribe_hash"`
	UnsubscribedAt  *time.Time `bun:"unsubscribed_at"`
}

// MailingInsert implements crm.MailingStore.
func (s *DB) MailingInsert(ctx context.Context, orgID string, m *crm.Mailing) error {
	_, err := s.db.NewInsert().Model(&mailingRow{OrgID: orgID, ID: m.ID, Template: m.Template, Purpose: m.Purpose,
		SegmentID: m.SegmentID, Status: string(m.Status), AfterNumber: m.AfterNumber, ActorKind: string(m.Actor.Kind),
		ActorID: m.Actor.ID, CreatedAt: m.CreatedAt}).Exec(ctx)
	return interpretError(err)
}

// MailingGet implements crm.MailingStore.
func (s *DB) MailingGet(ctx context.Context, orgID, id string) (*crm.Mailing, error) {
	var r mailingRow
	if err := s.db.NewSelect().Model(&r).Where("org_id = ?", orgID).Where("id = ?", id).Scan(ctx); err != nil {
		return nil, interpretError(err)
	}
	return s.mailingDomain(ctx, &r)
}

// mailingDomain reads a mailing's counts: its mails by delivery status and
// its unsubscriptions, from the recipients' primary key.
func (s *DB) mailingDomain(ctx context.Context, r *mailingRow) (*crm.Mailing, error) {
	m := &crm.Mailing{ID: r.ID, Template: r.Template, Purpose: r.Purpose, SegmentID: r.SegmentID, Status: crm.MailingStatus(r.Status),
		Actor: crm.Actor{Kind: crm.ActorKind(r.ActorKind), ID: r.ActorID}, CreatedAt: utc(r.CreatedAt), FinishedAt: utcPtr(r.FinishedAt),
		AfterNumber: r.AfterNumber}
	m.Counts.Queued, m.Counts.Skipped = r.Queued, r.Skipped
	var byStatus []struct {
		Status string `bun:"status"`
		N      int    `bun:"n"`
	}
	if err := s.db.NewSelect().TableExpr("mailing_recipients AS r").ColumnExpr("o.status, count(*) AS n").
		Join("JOIN outbox AS o ON o.org_id = r.org_id AND o.id = r.mail_id").
		Where("r.org_id = ?", r.OrgID).Where("r.mailing_id = ?", r.ID).GroupExpr("o.status").Scan(ctx, &byStatus); err != nil {
		return nil, interpretError(err)
	}
	for _, b := range byStatus {
		switch crm.OutboxStatus(b.Status) {
		case crm.OutboxSent:
			m.Counts.Sent = b.N
		case crm.OutboxFailed:
			m.Counts.Failed = b.N
		case crm.OutboxPending:
			m.Counts.Pending = b.N
		}
	}
	n, err := s.db.NewSelect().Model((*mailingRecipientRow)(nil)).Where("org_id = ?", r.OrgID).Where("mailing_id = ?", r.ID).
		Where("unsubscribed_at IS NOT NULL").Count(ctx)
	if err != nil {
		return nil, interpretError(err)
	}
	m.Counts.Unsubscribed = int(n)
	return m, nil
}

// MailingList implements crm.MailingStore.
func (s *DB) MailingList(ctx context.Context, orgID string) ([]crm.Mailing, error) {
	var rows []mailingRow
	if err := s.db.NewSelect().Model(&rows).Where("org_id = ?", orgID).OrderExpr("created_at DESC, id DESC").Limit(1000).Scan(ctx); err != nil {
		return nil, interpretError(err)
	}
	out := make([]crm.Mailing, len(rows))
	for i := range rows {
		m, err := s.mailingDomain(ctx, &rows[i])
		if err != nil {
			return nil, err
		}
		out[i] = *m
	}
	return out, nil
}

// MailingAdvance implements crm.MailingStore.
func (s *DB) MailingAdvance(ctx context.Context, orgID, id string, afterNumber int64, queued, skipped int, done bool, at time.Time) error {
	q := s.db.NewUpdate().Model((*mailingRow)(nil)).Set("after_number = ?", afterNumber).
		Set("queued = queued + ?", queued).Set("skipped = skipped + ?", skipped)
	if done {
		q = q.Set("status = ?", string(crm.MailingDone)).Set("finished_at = ?", at)
	}
	res, err := q.Where("org_id = ?", orgID).Where("id = ?", id).Exec(ctx)
	return oneRow(res, err)
}

// MailingRecipientInsert implements crm.MailingStore, one statement per batch.
func (s *DB) MailingRecipientInsert(ctx context.Context, orgID string, rows []crm.MailingRecipientRow) error {
	if len(rows) == 0 {
		return nil
	}
	rs := make([]mailingRecipientRow, len(rows))
	for i, r := range rows {
		rs[i] = mailingRecipientRow{OrgID: orgID, MailingID: r.MailingID, CustomerID: r.CustomerID, MailID: r.MailID,
			UnsubscribeHash: r.UnsubscribeHash, UnsubscribedAt: r.UnsubscribedAt}
	}
	_, err := s.db.NewInsert().Model(&rs).Exec(ctx)
	return interpretError(err)
}

// MailingRecipientByHash implements crm.MailingStore.
func (s *DB) MailingRecipientByHash(ctx context.Context, orgID, hash string) (*crm.MailingRecipientRow, error) {
	var r mailingRecipientRow
	if err := s.db.NewSelect().Model(&r).Where("org_id = ?", orgID).Where("unsubscribe_hash = ?", hash).Scan(ctx); err != nil {
		return nil, interpretError(err)
	}
	return &crm.MailingRecipientRow{MailingID: r.MailingID, CustomerID: r.CustomerID, MailID: r.MailID, UnsubscribedAt: utcPtr(r.UnsubscribedAt)}, nil
}

// MailingRecipientUnsubscribe implements crm.MailingStore.
func (s *DB) MailingRecipientUnsubscribe(ctx context.Context, orgID, mailingID, customerID string, at time.Time) error {
	res, err := s.db.NewUpdate().Model((*mailingRecipientRow)(nil)).Set("unsubscribed_at = ?", at).
		Where("org_id = ?", orgID).Where("mailing_id = ?", mailingID).Where("customer_id = ?", customerID).
		Where("unsubscribed_at IS NULL").Exec(ctx)
	return oneRow(res, err)
}

// MailingRecipientList implements crm.MailingStore.
func (s *DB) MailingRecipientList(ctx context.Context, orgID, customerID string) ([]crm.MailingRecipientRow, error) {
	var rows []struct {
		MailingID      string     `bun:"mailing_id"`
		MailID         string     `bun:"mail_id"`
		UnsubscribedAt *time.Time `bun:"unsubscribed_at"`
		Template       string     `bun:"template"`
		Purpose        string     `bun:"purpose"`
	}
	if err := s.db.NewSelect().TableExpr("mailing_recipients AS r").
		ColumnExpr("r.mailing_id, r.mail_id, r.unsubscribed_at, m.template, m.purpose").
		Join("JOIN mailings AS m ON m.org_id = r.org_id AND m.id = r.mailing_id").
		Where("r.org_id = ?", orgID).Where("r.customer_id = ?", customerID).OrderExpr("m.created_at, m.id").Scan(ctx, &rows); err != nil {
		return nil, interpretError(err)
	}
	out := make([]crm.MailingRecipientRow, len(rows))
	for i, r := range rows {
		out[i] = crm.MailingRecipientRow{MailingID: r.MailingID, CustomerID: customerID, MailID: r.MailID,
			UnsubscribedAt: utcPtr(r.UnsubscribedAt), Template: r.Template, Purpose: r.Purpose}
	}
	return out, nil
}

// OutboxScrub implements crm.OutboxStore.
func (s *DB) OutboxScrub(ctx context.Context, orgID, id, text, html string, headers map[string]string) error {
	q := s.db.NewUpdate().Model((*outboxRow)(nil)).Set("text = ?", text).Set("html = ?", html)
	if len(headers) == 0 {
		q = q.Set("headers = NULL")
	} else {
		b, err := json.Marshal(headers)
		if err != nil {
			return err
		}
		q = q.Set("headers = ?", string(b))
	}
	res, err := q.Where("org_id = ?", orgID).Where("id = ?", id).Exec(ctx)
	return oneRow(res, err)
}
