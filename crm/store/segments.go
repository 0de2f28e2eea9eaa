package store

import (
	"context"
	"time"

	"github.com/uptrace/bun"

	"github.com/dossiercrm/dossier/crm"
)

type segmentRow struct {
	bun.BaseModel `bun:"table:segments"`

	ID        string             `bun:"id,pk"`
	OrgID     string             `bun:"org_id,pk"`
	Name      string             `bun:"name"`
	NameKey   string             `bun:"name_key"`
	Filter    crm.CustomerFilter `bun:"filter,type:jsonb"`
	CreatedAt time.Time          `bun:"created_at"`
	UpdatedAt time.Time          `bun:"updated_at"`
}

func segmentToRow(orgID string, s *crm.Segment) *segmentRow {
	return &segmentRow{ID: s.ID, OrgID: orgID, Name: s.Name, NameKey: qualifierNameKey(s.Name), Filter: s.Filter,
		CreatedAt: s.CreatedAt, UpdatedAt: s.UpdatedAt}
}

func (r *segmentRow) toDomain() crm.Segment {
	return crm.Segment{ID: r.ID, Name: r.Name, Filter: r.Filter, CreatedAt: utc(r.CreatedAt), UpdatedAt: utc(r.UpdatedAt)}
}

// SegmentInsert implements crm.SegmentStore.
func (s *DB) SegmentInsert(ctx context.Context, orgID string, seg *crm.Segment) error {
	_, err := s.db.NewInsert().Model(segmentToRow(orgID, seg)).Exec(ctx)
	return interpretError(err)
}

// SegmentUpdate implements crm.SegmentStore.
func (s *DB) SegmentUpdate(ctx context.Context, orgID string, seg *crm.Segment) error {
	res, err := s.db.NewUpdate().Model(segmentToRow(orgID, seg)).Column("name", "name_key", "filter", "updated_at").
		Where("org_id = ?", orgID).Where("id = ?", seg.ID).Exec(ctx)
	return oneRow(res, err)
}

// SegmentDelete implements crm.SegmentStore.
func (s *DB) SegmentDelete(ctx context.Context, orgID, id string) error {
	res, err := s.db.NewDelete().Model((*segmentRow)(nil)).Where("org_id = ?", orgID).Where("id = ?", id).Exec(ctx)
	return oneRow(res, err)
}

// SegmentGet implements crm.SegmentStore.
func (s *DB) SegmentGet(ctx context.Context, orgID, id string) (*crm.Segment, error) {
	var row segmentRow
	if err := s.db.NewSelect().Model(&row).Where("org_id = ?", orgID).Where("id = ?", id).Scan(ctx); err != nil {
		return nil, interpretError(err)
	}
	seg := row.toDomain()
	return &seg, nil
}

// SegmentList implements crm.SegmentStore.
func (s *DB) SegmentList(ctx context.Context, orgID string) ([]crm.Segment, error) {
	var rows []segmentRow
	if err := s.db.NewSelect().Model(&rows).Where("org_id = ?", orgID).OrderExpr("name_key, id").Scan(ctx); err != nil {
		return nil, interpretError(err)
	}
	out := make([]crm.Segment, len(rows))
	for i := range rows {
		out[i] = rows[i].toDomain()
	}
	return out, nil
}
