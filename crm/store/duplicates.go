package store

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/dossiercrm/dossier/crm"
)

// DuplicateHits implements crm.DuplicateStore: one indexed query per reason,
// sent together.
func (s *DB) DuplicateHits(ctx context.Context, orgID, id string, limit int) ([]crm.DuplicateHit, error) {
	// The customer's own e-mail keys: its addresses' and its record's.
	const mine = `SELECT email_key FROM customer_emails WHERE org_id = ? AND customer_id = ?
		UNION ALL SELECT email_key FROM customers WHERE org_id = ? AND id = ? AND email_key IS NOT NULL`
	queries := []struct {
		reason crm.DuplicateReason
		sql    string
		args   []any
	}{
		// IN lists rather than a join with a common table: SQLite builds a
		// join's Bloom filter by scanning all of the organisation's customers.
		{crm.ReasonSameEmail, `SELECT customer_id AS id FROM customer_emails WHERE org_id = ? AND customer_id <> ? AND email_key IN (` + mine + `)
			UNION SELECT id FROM customers WHERE org_id = ? AND id <> ? AND email_key IN (` + mine + `)`,
			[]any{orgID, id, orgID, id, orgID, id, orgID, id, orgID, id, orgID, id}},
		// The customer's numbers from its record: the phone rows have no
		// index by customer.
		{crm.ReasonSamePhone, `SELECT DISTINCT c.id AS id FROM customer_phones AS o
			JOIN customers AS c ON c.org_id = o.org_id AND c.number = o.customer_number
			WHERE o.org_id = ? AND o.number IN (` + s.dialect.phoneNumbersOf("customers AS me", "me.phones") + ` WHERE me.org_id = ? AND me.id = ?)
			AND c.id <> ? LIMIT ?`, []any{orgID, orgID, id, id, limit}},
		{crm.ReasonSameNameBirthDate, `SELECT o.id AS id FROM customers AS m
			JOIN customers AS o ON o.org_id = m.org_id AND o.birth_date = m.birth_date AND o.id <> m.id
			WHERE m.org_id = ? AND m.id = ? AND m.birth_date IS NOT NULL AND m.last_name <> ''
			AND lower(o.first_name) = lower(m.first_name) AND lower(o.last_name) = lower(m.last_name) LIMIT ?`, []any{orgID, id, limit}},
		{crm.ReasonMatchConflict, `SELECT DISTINCT other_customer_id AS id FROM match_conflicts WHERE org_id = ? AND customer_id = ?
			UNION SELECT DISTINCT customer_id FROM match_conflicts WHERE org_id = ? AND other_customer_id = ?`, []any{orgID, id, orgID, id}},
	}
	// One statement for all reasons: one round trip and one plan.
	var sql []string
	var args []any
	for i, q := range queries {
		sql = append(sql, "SELECT x.id, "+strconv.Itoa(i)+" AS reason FROM ("+q.sql+") AS x")
		args = append(args, q.args...)
	}
	var rows []struct {
		ID     string `bun:"id"`
		Reason int    `bun:"reason"`
	}
	if err := s.db.NewRaw(strings.Join(sql, "\nUNION ALL "), args...).Scan(ctx, &rows); err != nil {
		return nil, interpretError(err)
	}
	var out []crm.DuplicateHit
	for _, r := range rows {
		out = append(out, crm.DuplicateHit{CustomerID: r.ID, Reason: queries[r.Reason].reason})
	}
	return out, nil
}

type duplicateKeyRow struct {
	bun.BaseModel `bun:"table:duplicate_keys"`
	OrgID         string `bun:"org_id,pk"`
	Key           string `bun:"key,pk"`
	CustomerID    string `bun:"customer_id,pk"`
	Name          string `bun:"name"`
}

type duplicatePairRow struct {
	bun.BaseModel   `bun:"table:duplicate_candidates,alias:dc"`
	OrgID           string    `bun:"org_id,pk"`
	CustomerID      string    `bun:"customer_id,pk"`
	OtherCustomerID string    `bun:"other_customer_id,pk"`
	Score           int       `bun:"score"`
	Reasons         string    `bun:"reasons"`
	FoundAt         time.Time `bun:"found_at"`
}

type duplicateDismissalRow struct {
	bun.BaseModel   `bun:"table:duplicate_dismissals"`
	OrgID           string    `bun:"org_id,pk"`
	CustomerID      string    `bun:"customer_id,pk"`
	OtherCustomerID string    `bun:"other_customer_id,pk"`
	DismissedAt     time.Time `bun:"dismissed_at"`
	DismissedBy     string    `bun:"dismissed_by"`
}

// DuplicateKeysSet implements crm.DuplicateStore.
func (s *DB) DuplicateKeysSet(ctx context.Context, orgID, id, name string, keys []string) error {
	return s.atomic(ctx, func(db bun.IDB) error {
		if _, err := db.NewDelete().Model((*duplicateKeyRow)(nil)).Where("org_id = ?", orgID).Where("customer_id = ?", id).Exec(ctx); err != nil {
			return interpretError(err)
		}
		rows := make([]duplicateKeyRow, 0, len(keys))
		for _, k := range keys {
			rows = append(rows, duplicateKeyRow{OrgID: orgID, Key: k, CustomerID: id, Name: name})
		}
		return insertAll(ctx, db, rows)
	})
}

// DuplicateKeysNear implements crm.DuplicateStore.
func (s *DB) DuplicateKeysNear(ctx context.Context, orgID, id string, keys []string, limit int) ([]crm.DuplicateNear, error) {
	if len(keys) == 0 {
		return nil, nil
	}
	var rows []duplicateKeyRow
	if err := s.db.NewSelect().Model(&rows).Column("customer_id", "name").Where("org_id = ?", orgID).
		Where("key IN (?)", bun.List(keys)).Where("customer_id <> ?", id).Limit(int64(limit)).Scan(ctx); err != nil {
		return nil, interpretError(err)
	}
	out := make([]crm.DuplicateNear, len(rows))
	for i, r := range rows {
		out[i] = crm.DuplicateNear{CustomerID: r.CustomerID, Name: r.Name}
	}
	return out, nil
}

// DuplicateKeysDrop implements crm.DuplicateStore.
func (s *DB) DuplicateKeysDrop(ctx context.Context, orgID, id string) error {
	return s.atomic(ctx, func(db bun.IDB) error { return dropDuplicates(ctx, db, orgID, id) })
}

// dropDuplicates removes a customer's place keys and candidate pairs (its
// dismissals stay: they hold no personal data and keep the pair out).
func dropDuplicates(ctx context.Context, db bun.IDB, orgID, id string) error {
	if _, err := db.NewDelete().Model((*duplicateKeyRow)(nil)).Where("org_id = ?", orgID).Where("customer_id = ?", id).Exec(ctx); err != nil {
		return interpretError(err)
	}
	if _, err := db.NewDelete().Model((*duplicatePairRow)(nil)).Where("org_id = ?", orgID).
		Where("(customer_id = ? OR other_customer_id = ?)", id, id).Exec(ctx); err != nil {
		return interpretError(err)
	}
	return nil
}

// DuplicatePairsSet implements crm.DuplicateStore.
func (s *DB) DuplicatePairsSet(ctx context.Context, orgID, id string, pairs []crm.DuplicatePair) error {
	return s.atomic(ctx, func(db bun.IDB) error {
		if _, err := db.NewDelete().Model((*duplicatePairRow)(nil)).Where("org_id = ?", orgID).
			Where("(customer_id = ? OR other_customer_id = ?)", id, id).Exec(ctx); err != nil {
			return interpretError(err)
		}
		rows := make([]duplicatePairRow, 0, len(pairs))
		for _, p := range pairs {
			rows = append(rows, duplicatePairRow{OrgID: orgID, CustomerID: p.CustomerID, OtherCustomerID: p.OtherCustomerID,
				Score: p.Score, Reasons: crm.JoinDuplicateReasons(p.Reasons), FoundAt: p.FoundAt.UTC()})
		}
		return insertAll(ctx, db, rows)
	})
}

// DuplicatePairList implements crm.DuplicateStore.
func (s *DB) DuplicatePairList(ctx context.Context, orgID string, after *crm.DuplicatePair, limit int) ([]crm.DuplicatePair, error) {
	var rows []duplicatePairRow
	q := s.db.NewSelect().Model(&rows).Where("org_id = ?", orgID)
	if after != nil {
		q = q.Where("(score < ? OR (score = ? AND (customer_id > ? OR (customer_id = ? AND other_customer_id > ?))))",
			after.Score, after.Score, after.CustomerID, after.CustomerID, after.OtherCustomerID)
	}
	if err := q.OrderExpr("score DESC, customer_id, other_customer_id").Limit(int64(limit)).Scan(ctx); err != nil {
		return nil, interpretError(err)
	}
	return pairsOf(rows), nil
}

// DuplicateDismiss implements crm.DuplicateStore.
func (s *DB) DuplicateDismiss(ctx context.Context, orgID, a, b string, at time.Time, by crm.Actor) (bool, error) {
	added := false
	err := s.atomic(ctx, func(db bun.IDB) error {
		rows := []duplicateDismissalRow{
			{OrgID: orgID, CustomerID: a, OtherCustomerID: b, DismissedAt: at.UTC(), DismissedBy: by.String()},
			{OrgID: orgID, CustomerID: b, OtherCustomerID: a, DismissedAt: at.UTC(), DismissedBy: by.String()},
		}
		res, err := db.NewInsert().Model(&rows).On("CONFLICT (org_id, customer_id, other_customer_id) DO NOTHING").Exec(ctx)
		if err != nil {
			return interpretError(err)
		}
		if n, _ := res.RowsAffected(); n > 0 {
			added = true
		}
		lo, hi := min(a, b), max(a, b)
		_, err = db.NewDelete().Model((*duplicatePairRow)(nil)).Where("org_id = ?", orgID).
			Where("customer_id = ?", lo).Where("other_customer_id = ?", hi).Exec(ctx)
		return interpretError(err)
	})
	return added, err
}

// DuplicateDismissed implements crm.DuplicateStore.
func (s *DB) DuplicateDismissed(ctx context.Context, orgID, id string) ([]crm.DuplicateDismissal, error) {
	var rows []duplicateDismissalRow
	if err := s.db.NewSelect().Model(&rows).Where("org_id = ?", orgID).Where("customer_id = ?", id).
		OrderExpr("dismissed_at, other_customer_id").Scan(ctx); err != nil {
		return nil, interpretError(err)
	}
	out := make([]crm.DuplicateDismissal, len(rows))
	for i, r := range rows {
		out[i] = crm.DuplicateDismissal{OtherCustomerID: r.OtherCustomerID, DismissedAt: utc(r.DismissedAt), DismissedBy: actorOf(r.DismissedBy)}
	}
	return out, nil
}

// DuplicatePairsOf implements crm.DuplicateStore.
func (s *DB) DuplicatePairsOf(ctx context.Context, orgID, id string) ([]crm.DuplicatePair, error) {
	var rows []duplicatePairRow
	if err := s.db.NewSelect().Model(&rows).Where("org_id = ?", orgID).
		Where("(customer_id = ? OR other_customer_id = ?)", id, id).OrderExpr("score DESC, customer_id, other_customer_id").Scan(ctx); err != nil {
		return nil, interpretError(err)
	}
	return pairsOf(rows), nil
}

func pairsOf(rows []duplicatePairRow) []crm.DuplicatePair {
	out := make([]crm.DuplicatePair, len(rows))
	for i, r := range rows {
		out[i] = crm.DuplicatePair{CustomerID: r.CustomerID, OtherCustomerID: r.OtherCustomerID, Score: r.Score,
			Reasons: crm.SplitDuplicateReasons(r.Reasons), FoundAt: utc(r.FoundAt)}
	}
	return out
}

// actorOf reads an actor stored as crm.Actor.String.
func actorOf(s string) crm.Actor {
	kind, id, _ := strings.Cut(s, ":")
	return crm.Actor{Kind: crm.ActorKind(kind), ID: id}
}
