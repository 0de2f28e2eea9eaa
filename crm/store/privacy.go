package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/uptrace/bun"

	"github.com/dossiercrm/dossier/crm"
)

type retentionPolicyRow struct {
	bun.BaseModel `bun:"table:retention_policies"`

	OrgID           string    `bun:"org_id,pk"`
	Enabled         bool      `bun:"enabled"`
	InactiveDays    int       `bun:"inactive_days"`
	ExcludePurposes []string  `bun:"exclude_purposes,type:jsonb"`
	UpdatedAt       time.Time `bun:"updated_at"`
}

// CustomerLock implements crm.PrivacyStore: a write that changes nothing
// takes the row lock on both databases.
func (s *DB) CustomerLock(ctx context.Context, orgID, id string) error {
	res, err := s.db.NewUpdate().Model((*customerRow)(nil)).Set("version = version").
		Where("org_id = ?", orgID).Where("id = ?", id).Exec(ctx)
	return oneRow(res, err)
}

// CustomerAnonymise implements crm.PrivacyStore. Every statement names the
// organisation; all of them run in one transaction.
func (s *DB) CustomerAnonymise(ctx context.Context, orgID, id string, at time.Time) error {
	return s.atomic(ctx, func(db bun.IDB) error {
		// No old name finds the customer: its name keys, computed from the
		// names it has until the next statement clears them.
		stored, err := removeNameKeys(ctx, db, orgID, id)
		if err != nil {
			return err
		}
		number := stored.Number
		// The record: every personal field cleared. Status, language, the
		// first-contact date, the assigned staff member and the contact
		// flags stay: they describe the relationship, not the person.
		res, err := db.NewUpdate().Model((*customerRow)(nil)).
			Set("first_name = ''").Set("middle_name = ''").Set("last_name = ''").Set("company = ''").
			Set("street = ''").Set("house_number = ''").Set("postal_code = ''").Set("city = ''").Set("country = ''").
			Set("phones = NULL").Set("birth_date = NULL").Set("passport_expiry = NULL").Set("origin = ''").
			Set("login_email = NULL").Set("login_email_key = NULL").Set("email = NULL").Set("email_key = NULL").
			Set("alt_emails = NULL").Set("internal_description = ''").Set("remarks = ''").Set("custom_fields = NULL").
			Set("sort_key = ?", []byte{}).Set("anonymised_at = ?", at).Set("updated_at = ?", at).
			Set("last_activity_at = ?", at).Set("version = version + 1").
			Where("org_id = ?", orgID).Where("id = ?", id).Exec(ctx)
		if err := oneRow(res, err); err != nil {
			return err
		}
		// Search indexes: no old name, e-mail or phone finds the customer.
		// The search row stays, empty (its row id is the customer's on SQLite).
		if _, err := db.NewUpdate().Model((*searchRow)(nil)).Set("text = ''").
			Where("org_id = ?", orgID).Where("number = ?", number).Exec(ctx); err != nil {
			return interpretError(err)
		}
		stored.OrgID, stored.ID = orgID, id
		if err := deleteSearchIndex(ctx, db, stored); err != nil {
			return err
		}
		// The consent log stays as proof for the anonymous customer, without
		// the evidence that could identify the person; tokens go.
		if _, err := db.NewUpdate().Model((*consentRecordRow)(nil)).Set("ip = ''").Set("user_agent = ''").
			Where("org_id = ?", orgID).Where("customer_id = ?", id).Exec(ctx); err != nil {
			return interpretError(err)
		}
		if _, err := db.NewDelete().Model((*consentConfirmationRow)(nil)).
			Where("org_id = ?", orgID).Where("customer_id = ?", id).Exec(ctx); err != nil {
			return interpretError(err)
		}
		// The values an import replaced go: the import cannot restore them.
		if _, err := db.NewDelete().Model((*importChangeRow)(nil)).
			Where("org_id = ?", orgID).Where("customer_id = ?", id).Exec(ctx); err != nil {
			return interpretError(err)
		}
		if _, err := db.NewUpdate().Model((*benefitUseRow)(nil)).Set("note = ''").
			Where("org_id = ?", orgID).Where("customer_id = ?", id).Exec(ctx); err != nil {
			return interpretError(err)
		}
		// The points ledger stays (it is money-like); free-text reasons go.
		if _, err := db.NewUpdate().Model((*pointTransactionRow)(nil)).Set("reason = ''").
			Where("org_id = ?", orgID).Where("customer_id = ?", id).Where("reason <> ''").Exec(ctx); err != nil {
			return interpretError(err)
		}
		if err := anonymiseBookings(ctx, db, orgID, id); err != nil {
			return err
		}
		if err := anonymiseInquiries(ctx, db, orgID, id); err != nil {
			return err
		}
		if err := anonymisePortal(ctx, db, orgID, id); err != nil {
			return err
		}
		if err := anonymiseNotesAndTasks(ctx, db, orgID, id); err != nil {
			return err
		}
		// Its duplicate check keys hold its name and place; its pairs go.
		if err := dropDuplicates(ctx, db, orgID, id); err != nil {
			return err
		}
		return redactHistory(ctx, db, orgID, id)
	})
}

// redactHistory keeps the customer's timeline (what happened, when, by
// whom) but removes the values of every change: the field names stay.
// Rewritten in Go, one event at a time, so that one piece of code serves
// the JSON of both databases.
func redactHistory(ctx context.Context, db bun.IDB, orgID, customerID string) error {
	var rows []historyRow
	if err := db.NewSelect().Model(&rows).Column("id", "changes").
		Where("org_id = ?", orgID).Where("customer_id = ?", customerID).Where("changes IS NOT NULL").
		Scan(ctx); err != nil {
		return interpretError(err)
	}
	for _, r := range rows {
		redacted := make([]crm.FieldChange, len(r.Changes))
		for i, c := range r.Changes {
			redacted[i] = crm.FieldChange{Field: c.Field}
		}
		r.Changes = redacted
		// Within the customer's events: on SQLite the table is keyed by
		// (org_id, customer_id, at, id), and the id alone has no index.
		if _, err := db.NewUpdate().Model(&r).Column("changes").
			Where("org_id = ?", orgID).Where("customer_id = ?", customerID).
			Where("id = ?", r.ID).Exec(ctx); err != nil {
			return interpretError(err)
		}
	}
	return nil
}

// BenefitUseList implements crm.PrivacyStore.
func (s *DB) BenefitUseList(ctx context.Context, orgID, customerID string) ([]crm.BenefitUse, error) {
	var rows []benefitUseRow
	if err := s.db.NewSelect().Model(&rows).Where("org_id = ?", orgID).Where("customer_id = ?", customerID).
		OrderExpr("at, id").Scan(ctx); err != nil {
		return nil, interpretError(err)
	}
	out := make([]crm.BenefitUse, len(rows))
	for i, r := range rows {
		out[i] = crm.BenefitUse{ID: r.ID, OrgID: r.OrgID, CustomerID: r.CustomerID, LabelID: r.LabelID,
			MembershipID: r.MembershipID, Note: r.Note, Channel: crm.BenefitChannel(r.Channel), At: utc(r.At),
			Actor: crm.Actor{Kind: crm.ActorKind(r.ActorKind), ID: r.ActorID}}
	}
	return out, nil
}

// RetentionPolicyGet implements crm.PrivacyStore.
func (s *DB) RetentionPolicyGet(ctx context.Context, orgID string) (*crm.RetentionPolicy, error) {
	var row retentionPolicyRow
	err := s.db.NewSelect().Model(&row).Where("org_id = ?", orgID).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return &crm.RetentionPolicy{ExcludePurposes: []string{}}, nil
	}
	if err != nil {
		return nil, interpretError(err)
	}
	p := &crm.RetentionPolicy{Enabled: row.Enabled, InactiveDays: row.InactiveDays, ExcludePurposes: row.ExcludePurposes,
		UpdatedAt: utc(row.UpdatedAt)}
	if p.ExcludePurposes == nil {
		p.ExcludePurposes = []string{}
	}
	return p, nil
}

// RetentionPolicySet implements crm.PrivacyStore.
func (s *DB) RetentionPolicySet(ctx context.Context, orgID string, p *crm.RetentionPolicy) error {
	_, err := s.db.NewInsert().Model(&retentionPolicyRow{OrgID: orgID, Enabled: p.Enabled, InactiveDays: p.InactiveDays,
		ExcludePurposes: p.ExcludePurposes, UpdatedAt: p.UpdatedAt}).
		On("CONFLICT (org_id) DO UPDATE").
		Set("enabled = EXCLUDED.enabled").Set("inactive_days = EXCLUDED.inactive_days").
		Set("exclude_purposes = EXCLUDED.exclude_purposes").Set("updated_at = EXCLUDED.updated_at").
		Exec(ctx)
	return interpretError(err)
}

// RetentionCandidates implements crm.PrivacyStore.
func (s *DB) RetentionCandidates(ctx context.Context, p crm.RetentionParams) ([]crm.RetentionCandidate, error) {
	var rows []struct {
		ID             string    `bun:"id"`
		Number         int64     `bun:"number"`
		LastActivityAt time.Time `bun:"last_activity_at"`
	}
	q := s.db.NewSelect().TableExpr("customers AS c").ColumnExpr("c.id, c.number, c.last_activity_at").
		Where("c.org_id = ?", p.OrgID).Where("c.anonymised_at IS NULL").
		Where("c.last_activity_at < ?", p.InactiveBefore).Where("c.number > ?", p.AfterNumber)
	if len(p.ExcludePurposeIDs) > 0 {
		q = q.Where("NOT EXISTS (?)", s.db.NewSelect().TableExpr("customer_consents AS cc").ColumnExpr("1").
			Where("cc.org_id = c.org_id").Where("cc.customer_id = c.id").
			Where("cc.purpose_id IN (?)", bun.List(p.ExcludePurposeIDs)).Where("cc.state = ?", crm.ConsentGranted))
	}
	if err := q.OrderExpr("c.number").Limit(int64(p.Limit)).Scan(ctx, &rows); err != nil {
		return nil, interpretError(err)
	}
	out := make([]crm.RetentionCandidate, len(rows))
	for i, r := range rows {
		out[i] = crm.RetentionCandidate{ID: r.ID, Number: r.Number, LastActivityAt: utc(r.LastActivityAt)}
	}
	return out, nil
}
