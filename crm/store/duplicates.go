package store

import (
	"context"

	"github.com/dossiercrm/dossier/crm"
)

// DuplicateHits implements crm.DuplicateStore: one indexed statement per reason.
func (s *DB) DuplicateHits(ctx context.Context, orgID, id string, limit int) ([]crm.DuplicateHit, error) {
	queries := []struct {
		reason crm.DuplicateReason
		sql    string
		args   []any
	}{
		{crm.ReasonSameEmail, `WITH mine AS (
				SELECT email_key FROM customer_emails WHERE org_id = ? AND customer_id = ?
				UNION SELECT email_key FROM customers WHERE org_id = ? AND id = ? AND email_key IS NOT NULL)
			SELECT o.customer_id FROM customer_emails AS o JOIN mine ON o.email_key = mine.email_key WHERE o.org_id = ? AND o.customer_id <> ?
			UNION SELECT o.id FROM customers AS o JOIN mine ON o.email_key = mine.email_key WHERE o.org_id = ? AND o.id <> ?`,
			[]any{orgID, id, orgID, id, orgID, id, orgID, id}},
		{crm.ReasonSamePhone, `SELECT DISTINCT o.customer_id FROM customer_phones AS m
			JOIN customer_phones AS o ON o.org_id = m.org_id AND o.number = m.number AND o.customer_id <> m.customer_id
			WHERE m.org_id = ? AND m.customer_id = ? LIMIT ?`, []any{orgID, id, limit}},
		{crm.ReasonSameNameBirthDate, `SELECT o.id FROM customers AS m
			JOIN customers AS o ON o.org_id = m.org_id AND o.birth_date = m.birth_date AND o.id <> m.id
			WHERE m.org_id = ? AND m.id = ? AND m.birth_date IS NOT NULL AND m.last_name <> ''
			AND lower(o.first_name) = lower(m.first_name) AND lower(o.last_name) = lower(m.last_name) LIMIT ?`, []any{orgID, id, limit}},
		{crm.ReasonMatchConflict, `SELECT DISTINCT other_customer_id FROM match_conflicts WHERE org_id = ? AND customer_id = ?
			UNION SELECT DISTINCT customer_id FROM match_conflicts WHERE org_id = ? AND other_customer_id = ?`, []any{orgID, id, orgID, id}},
	}
	var out []crm.DuplicateHit
	for _, q := range queries {
		var ids []string
		if err := s.db.NewRaw(q.sql, q.args...).Scan(ctx, &ids); err != nil {
			return nil, interpretError(err)
		}
		for _, other := range ids {
			out = append(out, crm.DuplicateHit{CustomerID: other, Reason: q.reason})
		}
	}
	return out, nil
}
