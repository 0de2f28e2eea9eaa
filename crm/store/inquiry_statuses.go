package store

import (
	"context"
	"time"

	"github.com/uptrace/bun"

	"github.com/dossiercrm/dossier/crm"
)

type pipelineStatusRow struct {
	bun.BaseModel `bun:"table:inquiry_statuses"`

	OrgID      string            `bun:"org_id,pk"`
	ID         string            `bun:"id,pk"`
	Names      map[string]string `bun:"names,type:jsonb"`
	Kind       string            `bun:"kind"`
	Position   int               `bun:"position"`
	ArchivedAt *time.Time        `bun:"archived_at"`
	CreatedAt  time.Time         `bun:"created_at"`
	UpdatedAt  time.Time         `bun:"updated_at"`
}

func pipelineStatusRowOf(orgID string, st *crm.PipelineStatus) *pipelineStatusRow {
	r := &pipelineStatusRow{OrgID: orgID, ID: string(st.ID), Names: st.Names, Kind: string(st.Kind), Position: st.Position,
		CreatedAt: st.CreatedAt, UpdatedAt: st.UpdatedAt}
	if st.Archived {
		r.ArchivedAt = &r.UpdatedAt
	}
	return r
}

// PipelineStatusInsert implements crm.PipelineStatusStore.
func (s *DB) PipelineStatusInsert(ctx context.Context, orgID string, st *crm.PipelineStatus) error {
	_, err := s.db.NewInsert().Model(pipelineStatusRowOf(orgID, st)).Exec(ctx)
	return interpretError(err)
}

// PipelineStatusList implements crm.PipelineStatusStore.
func (s *DB) PipelineStatusList(ctx context.Context, orgID string) ([]crm.PipelineStatus, error) {
	var rows []pipelineStatusRow
	if err := s.db.NewSelect().Model(&rows).Where("org_id = ?", orgID).OrderExpr("position, id").Scan(ctx); err != nil {
		return nil, interpretError(err)
	}
	out := make([]crm.PipelineStatus, len(rows))
	for i, r := range rows {
		out[i] = crm.PipelineStatus{ID: crm.InquiryStatus(r.ID), Names: r.Names, Kind: crm.PipelineKind(r.Kind), Position: r.Position,
			Archived: r.ArchivedAt != nil, CreatedAt: utc(r.CreatedAt), UpdatedAt: utc(r.UpdatedAt)}
	}
	return out, nil
}

// PipelineStatusUpdate implements crm.PipelineStatusStore: names and
// archiving change; the kind never does.
func (s *DB) PipelineStatusUpdate(ctx context.Context, orgID string, st *crm.PipelineStatus) error {
	res, err := s.db.NewUpdate().Model(pipelineStatusRowOf(orgID, st)).Column("names", "archived_at", "updated_at").
		Where("org_id = ?", orgID).Where("id = ?", string(st.ID)).Exec(ctx)
	return oneRow(res, err)
}
