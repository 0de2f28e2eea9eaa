package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/uptrace/bun"

	"github.com/dossiercrm/dossier/crm"
)

type idempotencyRow struct {
	bun.BaseModel `bun:"table:idempotency_records"`

	OrgID       string    `bun:"org_id,pk"`
	Key         string    `bun:"key,pk"`
	Operation   string    `bun:"operation"`
	RequestHash string    `bun:"request_hash"`
	Response    string    `bun:"response,nullzero"`
	CreatedAt   time.Time `bun:"created_at"`
}

// IdempotencyClaim implements crm.IdempotencyStore. The insert does
// nothing on a key taken by a current record: on PostgreSQL it waits for a transaction that
// holds the key to end, then sees its committed record; SQLite runs one
// writing transaction at a time.
func (s *DB) IdempotencyClaim(ctx context.Context, r *crm.IdempotencyRecord, expiredBefore time.Time) (*crm.IdempotencyRecord, error) {
	// One statement claims a free key or replaces an expired record.
	row := &idempotencyRow{OrgID: r.OrgID, Key: r.Key, Operation: r.Operation, RequestHash: r.RequestHash, CreatedAt: r.CreatedAt}
	res, err := s.db.NewInsert().Comment(preparedComment).Model(row).On("CONFLICT (org_id, key) DO UPDATE").
		Set("operation = EXCLUDED.operation, request_hash = EXCLUDED.request_hash, response = NULL, created_at = EXCLUDED.created_at").
		Where("?TableAlias.created_at < ?", expiredBefore).Returning("NULL").Exec(ctx)
	if err != nil {
		return nil, interpretError(err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return nil, err
	} else if n == 1 {
		return nil, nil
	}
	var first idempotencyRow
	err = s.db.NewSelect().Model(&first).Where("org_id = ? AND key = ?", r.OrgID, r.Key).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		// The holder rolled back between the insert and the read: claim again.
		return s.IdempotencyClaim(ctx, r, expiredBefore)
	}
	if err != nil {
		return nil, interpretError(err)
	}
	return &crm.IdempotencyRecord{OrgID: first.OrgID, Key: first.Key, Operation: first.Operation,
		RequestHash: first.RequestHash, Response: []byte(first.Response), CreatedAt: first.CreatedAt}, nil
}

// IdempotencyComplete implements crm.IdempotencyStore.
func (s *DB) IdempotencyComplete(ctx context.Context, orgID, key string, response []byte) error {
	res, err := s.db.NewUpdate().Model((*idempotencyRow)(nil)).Set("response = ?", string(response)).
		Where("org_id = ? AND key = ?", orgID, key).Exec(ctx)
	if err != nil {
		return interpretError(err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return crm.ErrNotFound
	}
	return nil
}

// IdempotencyDeleteBefore implements crm.IdempotencyStore, oldest first.
func (s *DB) IdempotencyDeleteBefore(ctx context.Context, t time.Time, limit int) (int, error) {
	old := s.db.NewSelect().Model((*idempotencyRow)(nil)).Column("org_id", "key").
		Where("created_at < ?", t).Order("created_at").Limit(int64(limit))
	res, err := s.db.NewDelete().Model((*idempotencyRow)(nil)).
		Where("(org_id, key) IN (?)", old).Exec(ctx)
	if err != nil {
		return 0, interpretError(err)
	}
	n, err := res.RowsAffected()
	return int(n), err
}

// IdempotencyForget implements crm.IdempotencyStore. Ids are UUIDs, so a
// substring match finds exactly the answers that name id.
func (s *DB) IdempotencyForget(ctx context.Context, orgID, id string) error {
	_, err := s.db.NewDelete().Model((*idempotencyRow)(nil)).
		Where("org_id = ? AND response LIKE ?", orgID, "%"+id+"%").Exec(ctx)
	return interpretError(err)
}
