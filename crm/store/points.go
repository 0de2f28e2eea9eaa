package store

import (
	"context"
	"errors"
	"time"

	"github.com/uptrace/bun"

	"github.com/dossiercrm/dossier/crm"
)

type pointTransactionRow struct {
	bun.BaseModel `bun:"table:point_transactions"`

	ID             string    `bun:"id,pk"`
	OrgID          string    `bun:"org_id,pk"`
	CustomerID     string    `bun:"customer_id"`
	Kind           string    `bun:"kind"`
	Points         int64     `bun:"points"`
	AvailableFrom  *date     `bun:"available_from"`
	ExpiresOn      *date     `bun:"expires_on"`
	Reason         string    `bun:"reason"`
	Reference      string    `bun:"reference"`
	Reverses       string    `bun:"reverses,nullzero"`
	IdempotencyKey string    `bun:"idempotency_key,nullzero"`
	RequestHash    string    `bun:"request_hash"`
	ActorKind      string    `bun:"actor_kind"`
	ActorID        string    `bun:"actor_id"`
	At             time.Time `bun:"at"`
}

func (r *pointTransactionRow) toDomain() crm.PointTransaction {
	return crm.PointTransaction{
		ID: r.ID, CustomerID: r.CustomerID, Kind: crm.PointKind(r.Kind), Points: r.Points,
		AvailableFrom: r.AvailableFrom.domain(), ExpiresOn: r.ExpiresOn.domain(), Reason: r.Reason, Reference: r.Reference,
		Reverses: r.Reverses, IdempotencyKey: r.IdempotencyKey, RequestHash: r.RequestHash,
		Actor: crm.Actor{Kind: crm.ActorKind(r.ActorKind), ID: r.ActorID}, At: utc(r.At),
	}
}

type pointLotRow struct {
	bun.BaseModel `bun:"table:point_lots"`

	OrgID         string `bun:"org_id,pk"`
	CreditID      string `bun:"credit_id,pk"`
	CustomerID    string `bun:"customer_id"`
	Remaining     int64  `bun:"remaining"`
	AvailableFrom *date  `bun:"available_from"`
	ExpiresOn     *date  `bun:"expires_on"`
}

type pointAllocationRow struct {
	bun.BaseModel `bun:"table:point_allocations"`

	OrgID    string `bun:"org_id,pk"`
	DebitID  string `bun:"debit_id,pk"`
	CreditID string `bun:"credit_id,pk"`
	Points   int64  `bun:"points"`
}

// PointTransactionInsert implements crm.PointStore.
func (s *DB) PointTransactionInsert(ctx context.Context, orgID string, t *crm.PointTransaction, allocs []crm.PointAllocation) error {
	return s.atomic(ctx, func(db bun.IDB) error {
		_, err := db.NewInsert().Model(&pointTransactionRow{
			ID: t.ID, OrgID: orgID, CustomerID: t.CustomerID, Kind: string(t.Kind), Points: t.Points,
			AvailableFrom: toDate(t.AvailableFrom), ExpiresOn: toDate(t.ExpiresOn), Reason: t.Reason, Reference: t.Reference,
			Reverses: t.Reverses, IdempotencyKey: t.IdempotencyKey, RequestHash: t.RequestHash,
			ActorKind: string(t.Actor.Kind), ActorID: t.Actor.ID, At: t.At,
		}).Exec(ctx)
		if err != nil {
			return interpretError(err)
		}
		if t.Points > 0 && (t.Kind == crm.PointsAward || t.Kind == crm.PointsCorrect) {
			if _, err := db.NewInsert().Model(&pointLotRow{OrgID: orgID, CreditID: t.ID, CustomerID: t.CustomerID,
				Remaining: t.Points, AvailableFrom: toDate(t.AvailableFrom), ExpiresOn: toDate(t.ExpiresOn)}).Exec(ctx); err != nil {
				return interpretError(err)
			}
		}
		rows := make([]pointAllocationRow, len(allocs))
		for i, a := range allocs {
			rows[i] = pointAllocationRow{OrgID: orgID, DebitID: a.DebitID, CreditID: a.CreditID, Points: a.Points}
			res, err := db.NewUpdate().Model((*pointLotRow)(nil)).Set("remaining = remaining - ?", a.Points).
				Where("org_id = ?", orgID).Where("credit_id = ?", a.CreditID).Exec(ctx)
			if err := oneRow(res, err); err != nil {
				if errors.Is(err, crm.ErrConflict) { // the CHECK: the lot would go below zero
					return crm.ErrInsufficientPoints
				}
				return err
			}
		}
		return insertAll(ctx, db, rows)
	})
}

func (s *DB) pointTransaction(ctx context.Context, orgID, column, value string) (*crm.PointTransaction, error) {
	var row pointTransactionRow
	if err := s.db.NewSelect().Model(&row).Where("org_id = ?", orgID).Where("? = ?", bun.Ident(column), value).Scan(ctx); err != nil {
		return nil, interpretError(err)
	}
	t := row.toDomain()
	return &t, nil
}

// PointTransactionGet implements crm.PointStore.
func (s *DB) PointTransactionGet(ctx context.Context, orgID, id string) (*crm.PointTransaction, error) {
	return s.pointTransaction(ctx, orgID, "id", id)
}

// PointTransactionByKey implements crm.PointStore.
func (s *DB) PointTransactionByKey(ctx context.Context, orgID, key string) (*crm.PointTransaction, error) {
	return s.pointTransaction(ctx, orgID, "idempotency_key", key)
}

// PointTransactionList implements crm.PointStore.
func (s *DB) PointTransactionList(ctx context.Context, orgID, customerID string, beforeAt time.Time, beforeID string, limit int) ([]crm.PointTransaction, error) {
	var rows []pointTransactionRow
	q := s.db.NewSelect().Model(&rows).Where("org_id = ?", orgID).Where("customer_id = ?", customerID).
		OrderExpr("at DESC, id DESC").Limit(int64(limit))
	if beforeID != "" {
		q = q.Where("(at < ? OR (at = ? AND id < ?))", beforeAt, beforeAt, beforeID)
	}
	if err := q.Scan(ctx); err != nil {
		return nil, interpretError(err)
	}
	out := make([]crm.PointTransaction, len(rows))
	for i := range rows {
		out[i] = rows[i].toDomain()
	}
	return out, nil
}

// PointLots implements crm.PointStore.
func (s *DB) PointLots(ctx context.Context, orgID, customerID string) ([]crm.PointLot, error) {
	var rows []struct {
		pointTransactionRow `bun:",extend"`
		Remaining           int64 `bun:"remaining"`
	}
	err := s.db.NewSelect().TableExpr("point_lots AS l").ColumnExpr("t.*, l.remaining").
		Join("JOIN point_transactions AS t ON t.org_id = l.org_id AND t.id = l.credit_id").
		Where("l.org_id = ?", orgID).Where("l.customer_id = ?", customerID).Where("l.remaining > 0").
		OrderExpr("CASE WHEN l.expires_on IS NULL THEN 1 ELSE 0 END, l.expires_on, t.at, t.id").
		Scan(ctx, &rows)
	if err != nil {
		return nil, interpretError(err)
	}
	out := make([]crm.PointLot, len(rows))
	for i := range rows {
		out[i] = crm.PointLot{PointTransaction: rows[i].toDomain(), Remaining: rows[i].Remaining}
	}
	return out, nil
}

// PointAllocationsOf implements crm.PointStore.
func (s *DB) PointAllocationsOf(ctx context.Context, orgID, debitID string) ([]crm.PointAllocation, error) {
	var rows []pointAllocationRow
	if err := s.db.NewSelect().Model(&rows).Where("org_id = ?", orgID).Where("debit_id = ?", debitID).
		OrderExpr("credit_id").Scan(ctx); err != nil {
		return nil, interpretError(err)
	}
	out := make([]crm.PointAllocation, len(rows))
	for i, r := range rows {
		out[i] = crm.PointAllocation{DebitID: r.DebitID, CreditID: r.CreditID, Points: r.Points}
	}
	return out, nil
}

// PointsExpiredTotal implements crm.PointStore.
func (s *DB) PointsExpiredTotal(ctx context.Context, orgID, customerID string) (int64, error) {
	var total int64
	err := s.db.NewSelect().Model((*pointTransactionRow)(nil)).ColumnExpr("COALESCE(SUM(points), 0)").
		Where("org_id = ?", orgID).Where("customer_id = ?", customerID).Where("kind = ?", crm.PointsExpire).
		Scan(ctx, &total)
	return total, interpretError(err)
}

// PointCustomersWithDueLots implements crm.PointStore.
func (s *DB) PointCustomersWithDueLots(ctx context.Context, orgID string, day crm.Date, afterID string, limit int) ([]string, error) {
	var ids []string
	q := s.db.NewSelect().Model((*pointLotRow)(nil)).ColumnExpr("DISTINCT customer_id").
		Where("org_id = ?", orgID).Where("remaining > 0").Where("expires_on IS NOT NULL").Where("expires_on < ?", toDate(&day))
	if afterID != "" {
		q = q.Where("customer_id > ?", afterID)
	}
	err := q.OrderExpr("customer_id").Limit(int64(limit)).Scan(ctx, &ids)
	return ids, interpretError(err)
}
