package store

import (
	"context"

	"github.com/dossiercrm/dossier/crm"
)

// HistoryAppend implements crm.HistoryStore.
func (s *DB) HistoryAppend(ctx context.Context, events ...crm.HistoryEvent) error {
	if len(events) == 0 {
		return nil
	}
	rows := make([]historyRow, len(events))
	for i := range events {
		rows[i] = historyToRow(&events[i])
	}
	_, err := s.db.NewInsert().Model(&rows).Exec(ctx)
	return interpretError(err)
}

// HistoryList implements crm.HistoryStore.
func (s *DB) HistoryList(ctx context.Context, p crm.HistoryListParams) ([]crm.HistoryEvent, error) {
	var rows []historyRow
	q := s.db.NewSelect().Model(&rows).
		Where("org_id = ?", p.OrgID).
		Where("customer_id = ?", p.CustomerID).
		OrderExpr("at DESC, id DESC").
		Limit(int64(p.Limit))
	if p.BeforeID != "" {
		q = q.Where("(at < ? OR (at = ? AND id < ?))", p.BeforeAt, p.BeforeAt, p.BeforeID)
	}
	if err := q.Scan(ctx); err != nil {
		return nil, interpretError(err)
	}
	events := make([]crm.HistoryEvent, len(rows))
	for i := range rows {
		events[i] = rows[i].toDomain()
	}
	return events, nil
}
