package store

import (
	"context"
	"errors"
	"time"

	"github.com/uptrace/bun"

	"github.com/dossiercrm/dossier/crm"
)

type taskRow struct {
	bun.BaseModel `bun:"table:tasks"`

	OrgID       string     `bun:"org_id,pk"`
	ID          string     `bun:"id,pk"`
	Title       string     `bun:"title"`
	Description string     `bun:"description"`
	DueOn       date       `bun:"due_on"`
	DueTime     string     `bun:"due_time,nullzero"`
	OwnerID     string     `bun:"owner_id"`
	CreatorID   string     `bun:"creator_id"`
	Status      string     `bun:"status"`
	CustomerID  string     `bun:"customer_id,nullzero"`
	BookingID   string     `bun:"booking_id,nullzero"`
	DoneAt      *time.Time `bun:"done_at"`
	DoneBy      string     `bun:"done_by,nullzero"`
	CreatedAt   time.Time  `bun:"created_at"`
	UpdatedAt   time.Time  `bun:"updated_at"`
	Version     int        `bun:"version"`
}

func taskRowOf(orgID string, t *crm.Task) *taskRow {
	return &taskRow{OrgID: orgID, ID: t.ID, Title: t.Title, Description: t.Description, DueOn: date{t.DueOn}, DueTime: t.DueTime,
		OwnerID: t.OwnerID, CreatorID: t.CreatorID, Status: string(t.Status), CustomerID: t.CustomerID, BookingID: t.BookingID,
		DoneAt: t.DoneAt, DoneBy: t.DoneBy, CreatedAt: t.CreatedAt, UpdatedAt: t.UpdatedAt, Version: t.Version}
}

func (r *taskRow) toDomain() crm.Task {
	return crm.Task{ID: r.ID, Title: r.Title, Description: r.Description, DueOn: r.DueOn.Date, DueTime: r.DueTime,
		OwnerID: r.OwnerID, CreatorID: r.CreatorID, Status: crm.TaskStatus(r.Status), CustomerID: r.CustomerID, BookingID: r.BookingID,
		DoneAt: utcPtr(r.DoneAt), DoneBy: r.DoneBy, CreatedAt: utc(r.CreatedAt), UpdatedAt: utc(r.UpdatedAt), Version: r.Version}
}

// TaskInsert implements crm.TaskStore.
func (s *DB) TaskInsert(ctx context.Context, orgID string, t *crm.Task) error {
	_, err := s.db.NewInsert().Model(taskRowOf(orgID, t)).Exec(ctx)
	return interpretError(err)
}

// TaskGet implements crm.TaskStore.
func (s *DB) TaskGet(ctx context.Context, orgID, id string) (*crm.Task, error) {
	var row taskRow
	if err := s.db.NewSelect().Model(&row).Where("org_id = ?", orgID).Where("id = ?", id).Scan(ctx); err != nil {
		return nil, interpretError(err)
	}
	t := row.toDomain()
	return &t, nil
}

// TaskUpdate implements crm.TaskStore.
func (s *DB) TaskUpdate(ctx context.Context, orgID string, t *crm.Task) error {
	res, err := s.db.NewUpdate().Model(taskRowOf(orgID, t)).
		Column("title", "description", "due_on", "due_time", "owner_id", "status", "done_at", "done_by", "updated_at", "version").
		Where("org_id = ?", orgID).Where("id = ?", t.ID).Where("version = ?", t.Version-1).Exec(ctx)
	if err := oneRow(res, err); err != nil {
		if errors.Is(err, crm.ErrNotFound) {
			if _, gerr := s.TaskGet(ctx, orgID, t.ID); gerr == nil {
				return crm.ErrStaleVersion
			}
		}
		return err
	}
	return nil
}

// TaskList implements crm.TaskStore. An owner's open tasks (the
// reminders) are read from the partial index tasks_owner_open_idx; the
// status is written as the index's literal so that the planner can use it.
func (s *DB) TaskList(ctx context.Context, p crm.TaskListParams) ([]crm.Task, error) {
	var rows []taskRow
	q := s.db.NewSelect().Model(&rows).Where("org_id = ?", p.OrgID).
		OrderExpr("due_on, id").Limit(int64(p.Limit))
	switch p.Status {
	case crm.TaskOpen:
		q = q.Where("status = 'open'")
	case crm.TaskDone:
		q = q.Where("status = 'done'")
	}
	if p.OwnerID != "" {
		q = q.Where("owner_id = ?", p.OwnerID)
	}
	if p.CustomerID != "" {
		q = q.Where("customer_id = ?", p.CustomerID)
	}
	if p.DueFrom != nil {
		q = q.Where("due_on >= ?", date{*p.DueFrom})
	}
	if p.DueTo != nil {
		q = q.Where("due_on <= ?", date{*p.DueTo})
	}
	if p.AfterDue != nil {
		q = q.Where("(due_on > ? OR (due_on = ? AND id > ?))", date{*p.AfterDue}, date{*p.AfterDue}, p.AfterID)
	}
	if err := q.Scan(ctx); err != nil {
		return nil, interpretError(err)
	}
	out := make([]crm.Task, len(rows))
	for i := range rows {
		out[i] = rows[i].toDomain()
	}
	return out, nil
}
