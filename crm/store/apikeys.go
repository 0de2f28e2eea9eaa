package store

import (
	"context"
	"time"

	"github.com/uptrace/bun"

	"github.com/dossiercrm/dossier/crm"
)

type apiKeyRow struct {
	bun.BaseModel `bun:"table:api_keys"`

	OrgID      string     `bun:"org_id,pk"`
	ID         string     `bun:"id,pk"`
	Name       string     `bun:"name"`
	StaffUser  string     `bun:"staff_user"`
	Prefix     string     `bun:"prefix"`
	SecretHash string     `bun:"secret_hash"`
	CreatedAt  time.Time  `bun:"created_at"`
	LastUsedAt *time.Time `bun:"last_used_at"`
	RevokedAt  *time.Time `bun:"revoked_at"`
}

func (r *apiKeyRow) toDomain() crm.APIKey {
	return crm.APIKey{
		ID: r.ID, OrgID: r.OrgID, Name: r.Name, StaffUser: r.StaffUser, Prefix: r.Prefix,
		CreatedAt: utc(r.CreatedAt), LastUsedAt: utcPtr(r.LastUsedAt), RevokedAt: utcPtr(r.RevokedAt),
	}
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := utc(*t)
	return &u
}

// APIKeyInsert implements crm.APIKeyStore.
func (s *DB) APIKeyInsert(ctx context.Context, k *crm.APIKey, secretHash string) error {
	_, err := s.db.NewInsert().Model(&apiKeyRow{
		ID: k.ID, OrgID: k.OrgID, Name: k.Name, StaffUser: k.StaffUser, Prefix: k.Prefix,
		SecretHash: secretHash, CreatedAt: k.CreatedAt, LastUsedAt: k.LastUsedAt, RevokedAt: k.RevokedAt,
	}).Exec(ctx)
	return interpretError(err)
}

// APIKeyByHash implements crm.APIKeyStore. Without an organisation (a key
// issued before secrets named theirs) it reads the index on the hash alone,
// which a distributed database answers by asking every shard.
func (s *DB) APIKeyByHash(ctx context.Context, orgID, secretHash string) (*crm.APIKey, string, error) {
	var row apiKeyRow
	q := s.db.NewSelect().Model(&row).Where("secret_hash = ?", secretHash)
	if orgID != "" {
		q = q.Where("org_id = ?", orgID)
	}
	if err := q.Limit(1).Scan(ctx); err != nil {
		return nil, "", interpretError(err)
	}
	k := row.toDomain()
	return &k, row.SecretHash, nil
}

// APIKeyList implements crm.APIKeyStore.
func (s *DB) APIKeyList(ctx context.Context, orgID string) ([]crm.APIKey, error) {
	var rows []apiKeyRow
	if err := s.db.NewSelect().Model(&rows).Where("org_id = ?", orgID).OrderExpr("created_at, id").Scan(ctx); err != nil {
		return nil, interpretError(err)
	}
	keys := make([]crm.APIKey, len(rows))
	for i := range rows {
		keys[i] = rows[i].toDomain()
	}
	return keys, nil
}

// APIKeyRevoke implements crm.APIKeyStore.
func (s *DB) APIKeyRevoke(ctx context.Context, orgID, id string, at time.Time) error {
	res, err := s.db.NewUpdate().Model((*apiKeyRow)(nil)).
		Set("revoked_at = COALESCE(revoked_at, ?)", at).
		Where("org_id = ?", orgID).Where("id = ?", id).Exec(ctx)
	return oneRow(res, err)
}

// APIKeyTouch implements crm.APIKeyStore.
func (s *DB) APIKeyTouch(ctx context.Context, orgID, id string, at time.Time) error {
	_, err := s.db.NewUpdate().Model((*apiKeyRow)(nil)).
		Set("last_used_at = ?", at).Where("org_id = ?", orgID).Where("id = ?", id).Exec(ctx)
	return interpretError(err)
}
