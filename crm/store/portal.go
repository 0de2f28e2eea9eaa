package store

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/uptrace/bun"

	"github.com/dossiercrm/dossier/crm"
)

type portalSettingsRow struct {
	bun.BaseModel `bun:"table:portal_settings"`

	OrgID                  string    `bun:"org_id,pk"`
	AccountsOnRegistration bool      `bun:"accounts_on_registration"`
	ItinerariesEnabled     bool      `bun:"itineraries_enabled"`
	ContestsEnabled        bool      `bun:"contests_enabled"`
	EditableFields         []string  `bun:"editable_fields,type:jsonb"`
	UpdatedAt              time.Time `bun:"updated_at"`
}

type portalAccountRow struct {
	bun.BaseModel `bun:"table:portal_accounts"`

	OrgID          string     `bun:"org_id,pk"`
	ID             string     `bun:"id,pk"`
	CustomerID     *string    `bun:"customer_id"`
	Email          string     `bun:"email"`
	EmailKey       string     `bun:"email_key"`
	PasswordHash   *string    `bun:"password_hash"`
	PasswordSetAt  *time.Time `bun:"password_set_at"`
	FailedSignIns  int        `bun:"failed_signins"`
	ThrottledUntil *time.Time `bun:"throttled_until"`
	LastSignInAt   *time.Time `bun:"last_signin_at"`
	CreatedAt      time.Time  `bun:"created_at"`
	UpdatedAt      time.Time  `bun:"updated_at"`
}

func accountRow(orgID string, a *crm.PortalAccount) *portalAccountRow {
	r := &portalAccountRow{OrgID: orgID, ID: a.ID, Email: a.Email, EmailKey: crm.EmailKey(a.Email),
		PasswordSetAt: a.PasswordSetAt, FailedSignIns: a.FailedSignIns, ThrottledUntil: a.ThrottledUntil,
		LastSignInAt: a.LastSignInAt, CreatedAt: a.CreatedAt, UpdatedAt: a.UpdatedAt}
	if a.CustomerID != "" {
		r.CustomerID = &a.CustomerID
	}
	if a.PasswordHash != "" {
		r.PasswordHash = &a.PasswordHash
	}
	return r
}

func (r *portalAccountRow) toDomain() *crm.PortalAccount {
	a := &crm.PortalAccount{ID: r.ID, Email: r.Email, PasswordSetAt: utcPtr(r.PasswordSetAt), LastSignInAt: utcPtr(r.LastSignInAt),
		CreatedAt: utc(r.CreatedAt), UpdatedAt: utc(r.UpdatedAt), FailedSignIns: r.FailedSignIns, ThrottledUntil: utcPtr(r.ThrottledUntil)}
	if r.CustomerID != nil {
		a.CustomerID = *r.CustomerID
	}
	if r.PasswordHash != nil {
		a.PasswordHash = *r.PasswordHash
		a.PasswordSet = true
	}
	return a
}

type portalTokenRow struct {
	bun.BaseModel `bun:"table:portal_tokens"`

	OrgID     string     `bun:"org_id,pk"`
	TokenHash string     `bun:"token_hash,pk"`
	AccountID string     `bun:"account_id"`
	ExpiresAt time.Time  `bun:"expires_at"`
	UsedAt    *time.Time `bun:"used_at"`
	CreatedAt time.Time  `bun:"created_at"`
}

type portalSessionRow struct {
	bun.BaseModel `bun:"table:portal_sessions"`

	OrgID      string    `bun:"org_id,pk"`
	TokenHash  string    `bun:"token_hash,pk"`
	ID         string    `bun:"id"`
	AccountID  string    `bun:"account_id"`
	CreatedAt  time.Time `bun:"created_at"`
	LastSeenAt time.Time `bun:"last_seen_at"`
	ExpiresAt  time.Time `bun:"expires_at"`
}

// PortalSettingsGet implements crm.PortalStore.
// In a group-commit batch the settings are read once per organisation.
func (s *DB) PortalSettingsGet(ctx context.Context, orgID string) (*crm.PortalSettings, error) {
	if s.batch != nil {
		if p, ok := s.batch.portal[orgID]; ok {
			p.EditableFields = slices.Clone(p.EditableFields)
			return &p, nil
		}
	}
	var r portalSettingsRow
	p := &crm.PortalSettings{}
	if err := s.db.NewSelect().Comment(preparedComment).Model(&r).Where("org_id = ?", orgID).Scan(ctx); err != nil {
		if err = interpretError(err); !errors.Is(err, crm.ErrNotFound) {
			return nil, err
		}
	} else {
		p = &crm.PortalSettings{AccountsOnRegistration: r.AccountsOnRegistration, ItinerariesEnabled: r.ItinerariesEnabled,
			ContestsEnabled: r.ContestsEnabled, EditableFields: r.EditableFields, UpdatedAt: utc(r.UpdatedAt)}
	}
	if s.batch != nil {
		if s.batch.portal == nil {
			s.batch.portal = make(map[string]crm.PortalSettings)
		}
		kept := *p
		kept.EditableFields = slices.Clone(p.EditableFields)
		s.batch.portal[orgID] = kept
	}
	return p, nil
}

// PortalSettingsPut implements crm.PortalStore.
func (s *DB) PortalSettingsPut(ctx context.Context, orgID string, p *crm.PortalSettings) error {
	if s.batch != nil {
		s.batch.portal = nil
	}
	_, err := s.db.NewInsert().Model(&portalSettingsRow{OrgID: orgID, AccountsOnRegistration: p.AccountsOnRegistration,
		ItinerariesEnabled: p.ItinerariesEnabled, ContestsEnabled: p.ContestsEnabled, EditableFields: p.EditableFields, UpdatedAt: p.UpdatedAt}).
		On("CONFLICT (org_id) DO UPDATE").
		Set("accounts_on_registration = EXCLUDED.accounts_on_registration").
		Set("itineraries_enabled = EXCLUDED.itineraries_enabled").
		Set("contests_enabled = EXCLUDED.contests_enabled").
		Set("editable_fields = EXCLUDED.editable_fields").
		Set("updated_at = EXCLUDED.updated_at").Exec(ctx)
	return interpretError(err)
}

// PortalAccountInsert implements crm.PortalStore.
func (s *DB) PortalAccountInsert(ctx context.Context, orgID string, a *crm.PortalAccount) error {
	_, err := s.db.NewInsert().Model(accountRow(orgID, a)).Exec(ctx)
	return interpretError(err)
}

// PortalAccountGet implements crm.PortalStore.
func (s *DB) PortalAccountGet(ctx context.Context, orgID string, p crm.PortalAccountGetParams) (*crm.PortalAccount, error) {
	var r portalAccountRow
	q := s.db.NewSelect().Model(&r).Where("org_id = ?", orgID)
	switch {
	case p.ID != "":
		q = q.Where("id = ?", p.ID)
	case p.CustomerID != "":
		q = q.Where("customer_id = ?", p.CustomerID)
	case p.EmailKey != "":
		q = q.Where("email_key = ?", p.EmailKey)
	default:
		return nil, crm.ErrNotFound
	}
	if err := q.Scan(ctx); err != nil {
		return nil, interpretError(err)
	}
	return r.toDomain(), nil
}

// PortalAccountUpdate implements crm.PortalStore.
func (s *DB) PortalAccountUpdate(ctx context.Context, orgID string, a *crm.PortalAccount) error {
	res, err := s.db.NewUpdate().Model(accountRow(orgID, a)).
		Column("customer_id", "password_hash", "password_set_at", "failed_signins", "throttled_until", "last_signin_at", "updated_at").
		Where("org_id = ?", orgID).Where("id = ?", a.ID).Exec(ctx)
	return oneRow(res, err)
}

// PortalAccountDeleteOf implements crm.PortalStore; tokens and sessions go with it.
func (s *DB) PortalAccountDeleteOf(ctx context.Context, orgID, customerID string) error {
	return deletePortalAccountOf(ctx, s.db, orgID, customerID)
}

func deletePortalAccountOf(ctx context.Context, db bun.IDB, orgID, customerID string) error {
	// Explicitly, not only by ON DELETE CASCADE: SQLite enforces foreign
	// keys only where the connection switched them on.
	sub := db.NewSelect().Model((*portalAccountRow)(nil)).Column("id").Where("org_id = ?", orgID).Where("customer_id = ?", customerID)
	for _, m := range []any{(*portalSessionRow)(nil), (*portalTokenRow)(nil)} {
		if _, err := db.NewDelete().Model(m).Where("org_id = ?", orgID).Where("account_id IN (?)", sub).Exec(ctx); err != nil {
			return interpretError(err)
		}
	}
	_, err := db.NewDelete().Model((*portalAccountRow)(nil)).Where("org_id = ?", orgID).Where("customer_id = ?", customerID).Exec(ctx)
	return interpretError(err)
}

// PortalTokenInsert implements crm.PortalStore.
func (s *DB) PortalTokenInsert(ctx context.Context, orgID, tokenHash, accountID string, expiresAt, createdAt time.Time) error {
	_, err := s.db.NewInsert().Model(&portalTokenRow{OrgID: orgID, TokenHash: tokenHash, AccountID: accountID,
		ExpiresAt: expiresAt, CreatedAt: createdAt}).Exec(ctx)
	return interpretError(err)
}

// PortalTokenPeek implements crm.PortalStore.
func (s *DB) PortalTokenPeek(ctx context.Context, orgID, tokenHash string, now time.Time) (string, error) {
	var r portalTokenRow
	err := s.db.NewSelect().Model(&r).Where("org_id = ?", orgID).Where("token_hash = ?", tokenHash).
		Where("used_at IS NULL").Where("expires_at > ?", now).Scan(ctx)
	if err != nil {
		return "", interpretError(err)
	}
	return r.AccountID, nil
}

// PortalTokenUse implements crm.PortalStore: one statement marks the
// token used, so two uses at once cannot both succeed.
func (s *DB) PortalTokenUse(ctx context.Context, orgID, tokenHash string, now time.Time) (string, error) {
	var ids []string
	err := s.db.NewUpdate().Model((*portalTokenRow)(nil)).Set("used_at = ?", now).
		Where("org_id = ?", orgID).Where("token_hash = ?", tokenHash).
		Where("used_at IS NULL").Where("expires_at > ?", now).Returning("account_id").Scan(ctx, &ids)
	if err != nil {
		return "", interpretError(err)
	}
	if len(ids) == 0 {
		return "", crm.ErrNotFound
	}
	return ids[0], nil
}

// PortalTokensRevoke implements crm.PortalStore.
func (s *DB) PortalTokensRevoke(ctx context.Context, orgID, accountID string, at time.Time) error {
	_, err := s.db.NewUpdate().Model((*portalTokenRow)(nil)).Set("used_at = ?", at).
		Where("org_id = ?", orgID).Where("account_id = ?", accountID).Where("used_at IS NULL").Exec(ctx)
	return interpretError(err)
}

// PortalSessionInsert implements crm.PortalStore.
func (s *DB) PortalSessionInsert(ctx context.Context, p *crm.PortalSession, tokenHash string) error {
	_, err := s.db.NewInsert().Model(&portalSessionRow{OrgID: p.OrgID, TokenHash: tokenHash, ID: p.ID, AccountID: p.AccountID,
		CreatedAt: p.CreatedAt, LastSeenAt: p.LastSeenAt, ExpiresAt: p.ExpiresAt}).Exec(ctx)
	return interpretError(err)
}

// PortalSessionGet implements crm.PortalStore: one indexed join.
func (s *DB) PortalSessionGet(ctx context.Context, orgID, tokenHash string) (*crm.PortalSession, error) {
	var r struct {
		portalSessionRow
		CustomerID *string `bun:"customer_id"`
	}
	err := s.db.NewSelect().TableExpr("portal_sessions AS s").
		ColumnExpr("s.id, s.account_id, s.created_at, s.last_seen_at, s.expires_at, a.customer_id").
		Join("JOIN portal_accounts AS a ON a.org_id = s.org_id AND a.id = s.account_id").
		Where("s.org_id = ?", orgID).Where("s.token_hash = ?", tokenHash).Scan(ctx, &r)
	if err != nil {
		return nil, interpretError(err)
	}
	out := &crm.PortalSession{ID: r.ID, OrgID: orgID, AccountID: r.AccountID, CreatedAt: utc(r.CreatedAt),
		LastSeenAt: utc(r.LastSeenAt), ExpiresAt: utc(r.ExpiresAt)}
	if r.CustomerID != nil {
		out.CustomerID = *r.CustomerID
	}
	return out, nil
}

// PortalSessionTouch implements crm.PortalStore.
func (s *DB) PortalSessionTouch(ctx context.Context, orgID, tokenHash string, at time.Time) error {
	res, err := s.db.NewUpdate().Model((*portalSessionRow)(nil)).Set("last_seen_at = ?", at).
		Where("org_id = ?", orgID).Where("token_hash = ?", tokenHash).Exec(ctx)
	return oneRow(res, err)
}

// PortalSessionDelete implements crm.PortalStore.
func (s *DB) PortalSessionDelete(ctx context.Context, orgID, tokenHash string) error {
	res, err := s.db.NewDelete().Model((*portalSessionRow)(nil)).Where("org_id = ?", orgID).Where("token_hash = ?", tokenHash).Exec(ctx)
	return oneRow(res, err)
}

// PortalSessionsRevoke implements crm.PortalStore.
func (s *DB) PortalSessionsRevoke(ctx context.Context, orgID, accountID string) error {
	_, err := s.db.NewDelete().Model((*portalSessionRow)(nil)).Where("org_id = ?", orgID).Where("account_id = ?", accountID).Exec(ctx)
	return interpretError(err)
}

// anonymisePortal is the portal's part of CustomerAnonymise: the account
// (the login e-mail) goes with its tokens and sessions, saved itineraries
// go, contest answers are cleared.
func anonymisePortal(ctx context.Context, db bun.IDB, orgID, customerID string) error {
	if err := deletePortalAccountOf(ctx, db, orgID, customerID); err != nil {
		return err
	}
	if _, err := db.NewDelete().Model((*itineraryRow)(nil)).Where("org_id = ?", orgID).Where("customer_id = ?", customerID).Exec(ctx); err != nil {
		return interpretError(err)
	}
	_, err := db.NewUpdate().Model((*contestEntryRow)(nil)).Set("answer = ''").
		Where("org_id = ?", orgID).Where("customer_id = ?", customerID).Exec(ctx)
	return interpretError(err)
}
