package store

import (
	"context"
	"time"

	"github.com/uptrace/bun"

	"github.com/dossiercrm/dossier/crm"
)

type mailTemplateRow struct {
	bun.BaseModel `bun:"table:mail_templates"`

	OrgID     string    `bun:"org_id,pk"`
	Key       string    `bun:"key,pk"`
	Language  string    `bun:"language,pk"`
	Subject   string    `bun:"subject"`
	Text      string    `bun:"text"`
	HTML      string    `bun:"html"`
	UpdatedAt time.Time `bun:"updated_at"`
}

type outboxRow struct {
	bun.BaseModel `bun:"table:outbox"`

	ID            string                 `bun:"id,pk"`
	OrgID         string                 `bun:"org_id,pk"`
	CustomerID    string                 `bun:"customer_id"`
	Template      string                 `bun:"template"`
	Language      string                 `bun:"language"`
	ToEmail       string                 `bun:"to_email"`
	ToName        string                 `bun:"to_name"`
	Subject       string                 `bun:"subject"`
	Text          string                 `bun:"text"`
	HTML          string                 `bun:"html"`
	Attachments   []crm.OutboxAttachment `bun:"attachments,type:jsonb"`
	Headers       map[string]string      `bun:"headers,type:jsonb,nullzero"`
	Status        string                 `bun:"status"`
	Attempts      int                    `bun:"attempts"`
	NextAttemptAt time.Time              `bun:"next_attempt_at"`
	LeaseUntil    *time.Time             `bun:"lease_until"`
	LastError     string                 `bun:"last_error"`
	ActorKind     string                 `bun:"actor_kind"`
	ActorID       string                 `bun:"actor_id"`
	CreatedAt     time.Time              `bun:"created_at"`
	SentAt        *time.Time             `bun:"sent_at"`
}

func (r *outboxRow) toDomain() crm.OutboxMail {
	return crm.OutboxMail{ID: r.ID, OrgID: r.OrgID, CustomerID: r.CustomerID, Template: r.Template, Language: r.Language,
		ToEmail: r.ToEmail, ToName: r.ToName, Subject: r.Subject, Text: r.Text, HTML: r.HTML, Attachments: r.Attachments,
		Headers: r.Headers, Status: crm.OutboxStatus(r.Status), Attempts: r.Attempts, NextAttemptAt: utc(r.NextAttemptAt), LastError: r.LastError,
		Actor: crm.Actor{Kind: crm.ActorKind(r.ActorKind), ID: r.ActorID}, CreatedAt: utc(r.CreatedAt), SentAt: utcPtr(r.SentAt),
		LeaseUntil: utcPtr(r.LeaseUntil)}
}

func outboxMails(rows []outboxRow) []crm.OutboxMail {
	out := make([]crm.OutboxMail, len(rows))
	for i := range rows {
		out[i] = rows[i].toDomain()
	}
	return out
}

// MailTemplatePut implements crm.MailTemplateStore.
func (s *DB) MailTemplatePut(ctx context.Context, orgID string, t *crm.MailTemplate) error {
	_, err := s.db.NewInsert().Model(&mailTemplateRow{OrgID: orgID, Key: t.Key, Language: t.Language, Subject: t.Subject,
		Text: t.Text, HTML: t.HTML, UpdatedAt: t.UpdatedAt}).
		On("CONFLICT (org_id, key, language) DO UPDATE").
		Set("subject = EXCLUDED.subject").Set("text = EXCLUDED.text").Set("html = EXCLUDED.html").
		Set("updated_at = EXCLUDED.updated_at").Exec(ctx)
	return interpretError(err)
}

// MailTemplateDelete implements crm.MailTemplateStore.
func (s *DB) MailTemplateDelete(ctx context.Context, orgID, key, lang string) error {
	res, err := s.db.NewDelete().Model((*mailTemplateRow)(nil)).
		Where("org_id = ?", orgID).Where("key = ?", key).Where("language = ?", lang).Exec(ctx)
	return oneRow(res, err)
}

// MailTemplateList implements crm.MailTemplateStore.
func (s *DB) MailTemplateList(ctx context.Context, orgID string) ([]crm.MailTemplate, error) {
	var rows []mailTemplateRow
	if err := s.db.NewSelect().Model(&rows).Where("org_id = ?", orgID).OrderExpr("key, language").Scan(ctx); err != nil {
		return nil, interpretError(err)
	}
	out := make([]crm.MailTemplate, len(rows))
	for i, r := range rows {
		out[i] = crm.MailTemplate{Key: r.Key, Language: r.Language, Subject: r.Subject, Text: r.Text, HTML: r.HTML,
			UpdatedAt: utc(r.UpdatedAt)}
	}
	return out, nil
}

// OutboxInsert implements crm.OutboxStore.
func (s *DB) OutboxInsert(ctx context.Context, m *crm.OutboxMail) error {
	row := outboxToRow(m)
	_, err := s.db.NewInsert().Model(&row).Exec(ctx)
	return interpretError(err)
}

func outboxToRow(m *crm.OutboxMail) outboxRow {
	return outboxRow{ID: m.ID, OrgID: m.OrgID, CustomerID: m.CustomerID, Template: m.Template,
		Language: m.Language, ToEmail: m.ToEmail, ToName: m.ToName, Subject: m.Subject, Text: m.Text, HTML: m.HTML,
		Attachments: m.Attachments, Headers: m.Headers, Status: string(m.Status), Attempts: m.Attempts, NextAttemptAt: m.NextAttemptAt,
		ActorKind: string(m.Actor.Kind), ActorID: m.Actor.ID, CreatedAt: m.CreatedAt}
}

// outboxChunkRows and outboxChunkBytes bound one INSERT of
// OutboxInsertMany: bun writes the values into the statement, so a chunk
// of large mails is cut by its size.
const (
	outboxChunkRows  = 500
	outboxChunkBytes = 4 << 20
)

// OutboxInsertMany implements crm.OutboxStore: one multi-row INSERT per
// chunk of outboxChunkRows mails or outboxChunkBytes of text.
func (s *DB) OutboxInsertMany(ctx context.Context, mails []*crm.OutboxMail) error {
	rows := make([]outboxRow, 0, min(len(mails), outboxChunkRows))
	size := 0
	flush := func() error {
		if len(rows) == 0 {
			return nil
		}
		err := insertAll(ctx, s.db, rows)
		rows, size = rows[:0], 0
		return err
	}
	for _, m := range mails {
		rows = append(rows, outboxToRow(m))
		size += len(m.Text) + len(m.HTML) + len(m.Subject) + 512
		if len(rows) == outboxChunkRows || size >= outboxChunkBytes {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	return flush()
}

// OutboxClaim implements crm.OutboxStore: one UPDATE of the row, which
// matches only while the mail is pending, due and not leased, so that of
// two claims at once one gets it.
func (s *DB) OutboxClaim(ctx context.Context, orgID, id string, now time.Time, lease time.Duration, note string) (*crm.OutboxMail, error) {
	var row outboxRow
	err := s.db.NewUpdate().Model(&row).ModelTableExpr("outbox").
		Set("lease_until = ?", now.Add(lease)).Set("attempts = attempts + 1").
		Set("last_error = CASE WHEN lease_until IS NULL THEN last_error ELSE ? END", note).
		Where("org_id = ?", orgID).Where("id = ?", id).Where("status = ?", crm.OutboxPending).
		Where("next_attempt_at <= ?", now).Where("(lease_until IS NULL OR lease_until <= ?)", now).
		Returning("*").Scan(ctx)
	if err != nil {
		return nil, interpretError(err)
	}
	m := row.toDomain()
	return &m, nil
}

// OutboxFinish implements crm.OutboxStore.
func (s *DB) OutboxFinish(ctx context.Context, orgID, id string, attempt int, status crm.OutboxStatus, at, next time.Time, lastErr string) error {
	q := s.db.NewUpdate().Model((*outboxRow)(nil)).Set("status = ?", status).Set("lease_until = NULL").
		Set("last_error = ?", lastErr).Where("org_id = ?", orgID).Where("id = ?", id).Where("status = ?", crm.OutboxPending).
		Where("attempts = ?", attempt)
	switch status {
	case crm.OutboxSent:
		q = q.Set("sent_at = ?", at)
	case crm.OutboxPending:
		q = q.Set("next_attempt_at = ?", next)
	}
	res, err := q.Exec(ctx)
	return oneRow(res, err)
}

// OutboxPending implements crm.OutboxStore.
func (s *DB) OutboxPending(ctx context.Context, afterID string, limit int) ([]crm.OutboxMail, error) {
	var rows []outboxRow
	q := s.db.NewSelect().Model(&rows).Column("id", "org_id").Where("status = ?", crm.OutboxPending).
		OrderExpr("id").Limit(int64(limit))
	if afterID != "" {
		q = q.Where("id > ?", afterID)
	}
	if err := q.Scan(ctx); err != nil {
		return nil, interpretError(err)
	}
	return outboxMails(rows), nil
}

// OutboxGet implements crm.OutboxStore.
func (s *DB) OutboxGet(ctx context.Context, orgID, id string) (*crm.OutboxMail, error) {
	var row outboxRow
	if err := s.db.NewSelect().Model(&row).Where("org_id = ?", orgID).Where("id = ?", id).Scan(ctx); err != nil {
		return nil, interpretError(err)
	}
	m := row.toDomain()
	return &m, nil
}

// OutboxList implements crm.OutboxStore.
func (s *DB) OutboxList(ctx context.Context, orgID, customerID, beforeID string, limit int) ([]crm.OutboxMail, error) {
	var rows []outboxRow
	q := s.db.NewSelect().Model(&rows).Where("org_id = ?", orgID).OrderExpr("id DESC").Limit(int64(limit))
	if customerID != "" {
		q = q.Where("customer_id = ?", customerID)
	}
	if beforeID != "" {
		q = q.Where("id < ?", beforeID)
	}
	if err := q.Scan(ctx); err != nil {
		return nil, interpretError(err)
	}
	return outboxMails(rows), nil
}

// OutboxDeleteOf implements crm.OutboxStore.
func (s *DB) OutboxDeleteOf(ctx context.Context, orgID, customerID string) ([]crm.OutboxAttachment, error) {
	var rows []outboxRow
	if err := s.db.NewSelect().Model(&rows).Column("attachments").Where("org_id = ?", orgID).
		Where("customer_id = ?", customerID).Where("status = ?", crm.OutboxPending).Scan(ctx); err != nil {
		return nil, interpretError(err)
	}
	if _, err := s.db.NewDelete().Model((*outboxRow)(nil)).Where("org_id = ?", orgID).
		Where("customer_id = ?", customerID).Exec(ctx); err != nil {
		return nil, interpretError(err)
	}
	var out []crm.OutboxAttachment
	for _, r := range rows {
		out = append(out, r.Attachments...)
	}
	return out, nil
}

// DocumentsUnsentOf implements crm.DocumentStore.
func (s *DB) DocumentsUnsentOf(ctx context.Context, orgID, customerID, attributeID string) ([]crm.Document, error) {
	var rows []documentRow
	if err := s.db.NewSelect().Model(&rows).Where("org_id = ?", orgID).Where("customer_id = ?", customerID).
		Where("attribute_id = ?", attributeID).Where("sent_at IS NULL").OrderExpr("added_at, id").Scan(ctx); err != nil {
		return nil, interpretError(err)
	}
	return documents(rows), nil
}
