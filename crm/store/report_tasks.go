package store

import (
	"context"

	"github.com/dossiercrm/dossier/crm"
)

// ReportTasksOverdue implements crm.TaskReportStore: one GROUP BY owner
// over the open tasks due before today, through the report's customer
// filter as every report applies it (restrict). Over every customer it
// reads the tasks alone, internal ones included; the partial index of
// open tasks (tasks_owner_open_idx) holds what it counts.
func (s *DB) ReportTasksOverdue(ctx context.Context, q crm.ReportQuery, from, to *crm.Date) ([]crm.ReportGroup, error) {
	sel, err := s.restrict(ctx, q, "tasks AS t", "t", "t.owner_id AS k1, '' AS k2, count(*) AS n, 0 AS s")
	if err != nil {
		return nil, err
	}
	sel = sel.Where("t.status = 'open'").Where("t.due_on < ?", toDate(&q.Today))
	if from != nil {
		sel = sel.Where("t.due_on >= ?", toDate(from))
	}
	if to != nil {
		sel = sel.Where("t.due_on <= ?", toDate(to))
	}
	return groups(ctx, sel.GroupExpr("1, 2"))
}
