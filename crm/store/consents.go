package store

import (
	"context"
	"errors"
	"time"

	"github.com/uptrace/bun"

	"github.com/dossiercrm/dossier/crm"
)

type consentPurposeRow struct {
	bun.BaseModel `bun:"table:consent_purposes"`

	ID          string    `bun:"id,pk"`
	OrgID       string    `bun:"org_id,pk"`
	Key         string    `bun:"key"`
	Name        string    `bun:"name"`
	Channel     string    `bun:"channel"`
	LegalBasis  string    `bun:"legal_basis"`
	DoubleOptIn bool      `bun:"double_opt_in"`
	BuiltIn     bool      `bun:"built_in"`
	Position    int       `bun:"position"`
	CreatedAt   time.Time `bun:"created_at"`
	UpdatedAt   time.Time `bun:"updated_at"`
}

type consentWordingRow struct {
	bun.BaseModel `bun:"table:consent_wordings"`

	ID        string    `bun:"id,pk"`
	OrgID     string    `bun:"org_id,pk"`
	PurposeID string    `bun:"purpose_id"`
	Language  string    `bun:"language"`
	Version   int       `bun:"version"`
	Text      string    `bun:"text"`
	SHA256    string    `bun:"sha256"`
	CreatedAt time.Time `bun:"created_at"`
}

type consentRecordRow struct {
	bun.BaseModel `bun:"table:consent_records"`

	ID         string    `bun:"id,pk"`
	OrgID      string    `bun:"org_id,pk"`
	CustomerID string    `bun:"customer_id"`
	PurposeID  string    `bun:"purpose_id"`
	State      string    `bun:"state"`
	Source     string    `bun:"source"`
	ActorKind  string    `bun:"actor_kind"`
	ActorID    string    `bun:"actor_id"`
	At         time.Time `bun:"at"`
	WordingID  string    `bun:"wording_id,nullzero"`
	Confirms   string    `bun:"confirms,nullzero"`
	IP         string    `bun:"ip"`
	UserAgent  string    `bun:"user_agent"`
}

type customerConsentRow struct {
	bun.BaseModel `bun:"table:customer_consents"`

	OrgID      string    `bun:"org_id,pk"`
	CustomerID string    `bun:"customer_id,pk"`
	PurposeID  string    `bun:"purpose_id,pk"`
	Number     int64     `bun:"number"`
	State      string    `bun:"state"`
	RecordID   string    `bun:"record_id"`
	At         time.Time `bun:"at"`
}

type consentConfirmationRow struct {
	bun.BaseModel `bun:"table:consent_confirmations"`

	OrgID      string     `bun:"org_id,pk"`
	TokenHash  string     `bun:"token_hash,pk"`
	RecordID   string     `bun:"record_id"`
	CustomerID string     `bun:"customer_id"`
	PurposeID  string     `bun:"purpose_id"`
	WordingID  string     `bun:"wording_id,nullzero"`
	Source     string     `bun:"source"`
	ExpiresAt  time.Time  `bun:"expires_at"`
	UsedAt     *time.Time `bun:"used_at"`
}

func purposeToRow(orgID string, p *crm.ConsentPurpose) consentPurposeRow {
	return consentPurposeRow{ID: p.ID, OrgID: orgID, Key: p.Key, Name: p.Name, Channel: string(p.Channel),
		LegalBasis: string(p.LegalBasis), DoubleOptIn: p.DoubleOptIn, BuiltIn: p.BuiltIn, Position: p.Position, CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt}
}

// ConsentPurposeInsert implements crm.ConsentStore.
func (s *DB) ConsentPurposeInsert(ctx context.Context, orgID string, ps ...crm.ConsentPurpose) error {
	rows := make([]consentPurposeRow, len(ps))
	for i := range ps {
		rows[i] = purposeToRow(orgID, &ps[i])
	}
	return insertAll(ctx, s.db, rows)
}

// ConsentPurposeUpdate implements crm.ConsentStore.
func (s *DB) ConsentPurposeUpdate(ctx context.Context, orgID string, p *crm.ConsentPurpose) error {
	res, err := s.db.NewUpdate().Model((*consentPurposeRow)(nil)).
		Set("name = ?", p.Name).Set("legal_basis = ?", p.LegalBasis).Set("double_opt_in = ?", p.DoubleOptIn).Set("position = ?", p.Position).
		Set("updated_at = ?", p.UpdatedAt).
		Where("org_id = ?", orgID).Where("id = ?", p.ID).Exec(ctx)
	return oneRow(res, err)
}

// ConsentPurposeList implements crm.ConsentStore.
func (s *DB) ConsentPurposeList(ctx context.Context, orgID string) ([]crm.ConsentPurpose, error) {
	var rows []consentPurposeRow
	if err := s.db.NewSelect().Model(&rows).Where("org_id = ?", orgID).OrderExpr("position, key").Scan(ctx); err != nil {
		return nil, interpretError(err)
	}
	out := make([]crm.ConsentPurpose, len(rows))
	for i, r := range rows {
		out[i] = crm.ConsentPurpose{ID: r.ID, Key: r.Key, Name: r.Name, Channel: crm.ConsentChannel(r.Channel),
			LegalBasis: crm.LegalBasis(r.LegalBasis), DoubleOptIn: r.DoubleOptIn, BuiltIn: r.BuiltIn, Position: r.Position,
			CreatedAt: utc(r.CreatedAt), UpdatedAt: utc(r.UpdatedAt)}
	}
	return out, nil
}

// ConsentWordingInsert implements crm.ConsentStore, in one statement.
func (s *DB) ConsentWordingInsert(ctx context.Context, orgID string, ws ...*crm.ConsentWording) error {
	rows := make([]consentWordingRow, len(ws))
	for i, w := range ws {
		rows[i] = consentWordingRow{ID: w.ID, OrgID: orgID, PurposeID: w.PurposeID, Language: w.Language,
			Version: w.Version, Text: w.Text, SHA256: w.SHA256, CreatedAt: w.CreatedAt}
	}
	return insertAll(ctx, s.db, rows)
}

// ConsentWordingList implements crm.ConsentStore.
func (s *DB) ConsentWordingList(ctx context.Context, orgID, purposeID string) ([]crm.ConsentWording, error) {
	var rows []consentWordingRow
	if err := s.db.NewSelect().Model(&rows).Where("org_id = ?", orgID).Where("purpose_id = ?", purposeID).
		OrderExpr("language, version DESC").Scan(ctx); err != nil {
		return nil, interpretError(err)
	}
	out := make([]crm.ConsentWording, len(rows))
	for i, r := range rows {
		out[i] = crm.ConsentWording{ID: r.ID, PurposeID: r.PurposeID, Language: r.Language, Version: r.Version,
			Text: r.Text, SHA256: r.SHA256, CreatedAt: utc(r.CreatedAt)}
	}
	return out, nil
}

// ConsentRecordInsert implements crm.ConsentStore: the record and, for a
// granted or withdrawn one, the customer's current state of the purpose.
func (s *DB) ConsentRecordInsert(ctx context.Context, orgID string, r *crm.ConsentRecord) error {
	return s.atomic(ctx, func(db bun.IDB) error {
		_, err := db.NewInsert().Model(&consentRecordRow{
			ID: r.ID, OrgID: orgID, CustomerID: r.CustomerID, PurposeID: r.PurposeID, State: string(r.State),
			Source: string(r.Source), ActorKind: string(r.Actor.Kind), ActorID: r.Actor.ID, At: r.At,
			WordingID: r.WordingID, Confirms: r.Confirms, IP: r.IP, UserAgent: r.UserAgent,
		}).Exec(ctx)
		if err != nil || r.State == crm.ConsentPending {
			return interpretError(err)
		}
		var number int64
		if err := db.NewSelect().Model((*customerRow)(nil)).Column("number").
			Where("org_id = ?", orgID).Where("id = ?", r.CustomerID).Scan(ctx, &number); err != nil {
			return interpretError(err)
		}
		_, err = db.NewInsert().Model(&customerConsentRow{OrgID: orgID, CustomerID: r.CustomerID, PurposeID: r.PurposeID,
			Number: number, State: string(r.State), RecordID: r.ID, At: r.At}).
			On("CONFLICT (org_id, customer_id, purpose_id) DO UPDATE").
			Set("state = EXCLUDED.state").Set("record_id = EXCLUDED.record_id").Set("at = EXCLUDED.at").
			Exec(ctx)
		return interpretError(err)
	})
}

// ConsentRecordList implements crm.ConsentStore.
func (s *DB) ConsentRecordList(ctx context.Context, orgID, customerID string) ([]crm.ConsentRecord, error) {
	var rows []struct {
		consentRecordRow `bun:",extend"`
		Purpose          string `bun:"purpose"`
	}
	err := s.db.NewSelect().TableExpr("consent_records AS r").ColumnExpr("r.*, p.key AS purpose").
		Join("JOIN consent_purposes AS p ON p.org_id = r.org_id AND p.id = r.purpose_id").
		Where("r.org_id = ?", orgID).Where("r.customer_id = ?", customerID).
		OrderExpr("r.at, r.id").Scan(ctx, &rows)
	if err != nil {
		return nil, interpretError(err)
	}
	out := make([]crm.ConsentRecord, len(rows))
	for i, r := range rows {
		out[i] = crm.ConsentRecord{
			ID: r.ID, CustomerID: r.CustomerID, PurposeID: r.PurposeID, Purpose: r.Purpose,
			State: crm.ConsentState(r.State), Source: crm.ConsentSource(r.Source),
			Actor: crm.Actor{Kind: crm.ActorKind(r.ActorKind), ID: r.ActorID}, At: utc(r.At),
			WordingID: r.WordingID, Confirms: r.Confirms, Evidence: crm.Evidence{IP: r.IP, UserAgent: r.UserAgent},
		}
	}
	return out, nil
}

// ConsentStateList implements crm.ConsentStore.
func (s *DB) ConsentStateList(ctx context.Context, orgID, customerID string) ([]crm.CustomerConsent, error) {
	var rows []struct {
		customerConsentRow `bun:",extend"`
		Purpose            string `bun:"purpose"`
	}
	err := s.db.NewSelect().TableExpr("customer_consents AS cc").ColumnExpr("cc.*, p.key AS purpose").
		Join("JOIN consent_purposes AS p ON p.org_id = cc.org_id AND p.id = cc.purpose_id").
		Where("cc.org_id = ?", orgID).Where("cc.customer_id = ?", customerID).
		OrderExpr("p.position, p.key").Scan(ctx, &rows)
	if err != nil {
		return nil, interpretError(err)
	}
	out := make([]crm.CustomerConsent, len(rows))
	for i, r := range rows {
		out[i] = crm.CustomerConsent{Purpose: r.Purpose, PurposeID: r.PurposeID, State: crm.ConsentState(r.State),
			At: utc(r.At), RecordID: r.RecordID}
	}
	return out, nil
}

// ConsentConfirmationInsert implements crm.ConsentStore.
func (s *DB) ConsentConfirmationInsert(ctx context.Context, c *crm.ConsentConfirmation) error {
	_, err := s.db.NewInsert().Model(&consentConfirmationRow{
		OrgID: c.OrgID, TokenHash: c.TokenHash, RecordID: c.RecordID, CustomerID: c.CustomerID, PurposeID: c.PurposeID,
		WordingID: c.WordingID, Source: string(c.Source), ExpiresAt: c.ExpiresAt,
	}).Exec(ctx)
	return interpretError(err)
}

// ConsentConfirmationUse implements crm.ConsentStore. The UPDATE only
// matches an unused token, so of two racing confirmations one wins.
func (s *DB) ConsentConfirmationUse(ctx context.Context, orgID, tokenHash string, at time.Time) (*crm.ConsentConfirmation, error) {
	var row consentConfirmationRow
	err := s.atomic(ctx, func(db bun.IDB) error {
		res, err := db.NewUpdate().Model((*consentConfirmationRow)(nil)).Set("used_at = ?", at).
			Where("org_id = ?", orgID).Where("token_hash = ?", tokenHash).Where("used_at IS NULL").Exec(ctx)
		if err := oneRow(res, err); err != nil {
			if !errors.Is(err, crm.ErrNotFound) {
				return err
			}
			exists, xerr := db.NewSelect().Model((*consentConfirmationRow)(nil)).
				Where("org_id = ?", orgID).Where("token_hash = ?", tokenHash).Exists(ctx)
			if xerr != nil {
				return interpretError(xerr)
			}
			if exists {
				return crm.ErrConflict
			}
			return err
		}
		return interpretError(db.NewSelect().Model(&row).Where("org_id = ?", orgID).Where("token_hash = ?", tokenHash).Scan(ctx))
	})
	if err != nil {
		return nil, err
	}
	return &crm.ConsentConfirmation{
		OrgID: row.OrgID, TokenHash: row.TokenHash, RecordID: row.RecordID, CustomerID: row.CustomerID,
		PurposeID: row.PurposeID, WordingID: row.WordingID, Source: crm.ConsentSource(row.Source),
		ExpiresAt: utc(row.ExpiresAt), UsedAt: row.UsedAt,
	}, nil
}

// CustomerContactFlagsSet implements crm.ConsentStore.
func (s *DB) CustomerContactFlagsSet(ctx context.Context, orgID, customerID string, noPost, noMailings bool, at time.Time) error {
	res, err := s.db.NewUpdate().Model((*customerRow)(nil)).
		Set("no_post = ?", noPost).Set("no_mailings = ?", noMailings).
		Set("updated_at = ?", at).Set("last_activity_at = ?", at).Set("version = version + 1").
		Where("org_id = ?", orgID).Where("id = ?", customerID).Exec(ctx)
	return oneRow(res, err)
}
