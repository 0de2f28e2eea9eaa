package store

import (
	"context"

	"github.com/dossiercrm/dossier/crm"
)

// CustomFieldInsert implements crm.CustomFieldStore.
func (s *DB) CustomFieldInsert(ctx context.Context, orgID string, def *crm.CustomFieldDefinition) error {
	_, err := s.db.NewInsert().Model(customFieldToRow(orgID, def)).Exec(ctx)
	return interpretError(err)
}

// CustomFieldUpdate implements crm.CustomFieldStore.
func (s *DB) CustomFieldUpdate(ctx context.Context, orgID string, def *crm.CustomFieldDefinition) error {
	res, err := s.db.NewUpdate().Model(customFieldToRow(orgID, def)).
		Column("label", "choices", "required", "position", "archived_at", "updated_at").
		Where("org_id = ?", orgID).Where("key = ?", def.Key).
		Exec(ctx)
	return oneRow(res, err)
}

// CustomFieldList implements crm.CustomFieldStore.
func (s *DB) CustomFieldList(ctx context.Context, orgID string) ([]crm.CustomFieldDefinition, error) {
	var rows []customFieldRow
	err := s.db.NewSelect().Comment(preparedComment).Model(&rows).Where("org_id = ?", orgID).OrderExpr("position, key").Scan(ctx)
	if err != nil {
		return nil, interpretError(err)
	}
	defs := make([]crm.CustomFieldDefinition, len(rows))
	for i := range rows {
		defs[i] = rows[i].toDomain()
	}
	return defs, nil
}
