package store

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/sqlitedialect"

	"github.com/dossiercrm/dossier/crm"
)

// CustomFieldInsert implements crm.CustomFieldStore.
func (s *DB) CustomFieldInsert(ctx context.Context, orgID string, def *crm.CustomFieldDefinition) error {
	_, err := s.db.NewInsert().Model(customFieldToRow(orgID, def)).Exec(ctx)
	s.rulesChanged()
	return interpretError(err)
}

// CustomFieldUpdate implements crm.CustomFieldStore.
func (s *DB) CustomFieldUpdate(ctx context.Context, orgID string, def *crm.CustomFieldDefinition) error {
	res, err := s.db.NewUpdate().Model(customFieldToRow(orgID, def)).
		Column("label", "choices", "required", "position", "archived_at", "updated_at").
		Where("org_id = ?", orgID).Where("key = ?", def.Key).
		Exec(ctx)
	s.rulesChanged()
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

// organisationRulesRow is a row of OrganisationRules: the organisation
// with one of its definitions, or with a definition of NULLs when it has
// none (the LEFT JOIN).
type organisationRulesRow struct {
	Org   organisationRow `bun:"embed:o_"`
	Field customFieldRow  `bun:"embed:f_"`
}

// organisationRulesQuery is OrganisationRules' statement, its select list
// made from the two row types so that a new column cannot be missed.
var organisationRulesQuery = sync.OnceValue(func() string {
	var cols []string
	for _, t := range []struct {
		alias string
		model any
	}{{"o", (*organisationRow)(nil)}, {"f", (*customFieldRow)(nil)}} {
		for _, f := range sqlitedialect.New().Tables().Get(reflect.TypeOf(t.model)).Fields {
			cols = append(cols, fmt.Sprintf("%s.%s AS %s_%s", t.alias, f.Name, t.alias, f.Name))
		}
	}
	return preparedMarker + "SELECT " + strings.Join(cols, ", ") +
		" FROM organisations AS o LEFT JOIN custom_field_definitions AS f ON f.org_id = o.id" +
		" WHERE o.id = ? ORDER BY f.position, f.key"
})

// OrganisationRules implements crm.CustomFieldStore: OrganisationGet and
// CustomFieldList in one statement. Every create and change of a customer
// reads both first; as two statements they cost two round trips on
// PostgreSQL and, on SQLite, two read transactions, each of which checks
// (and after another connection's write, reloads) the connection's cache.
//
// Outside a transaction the answer comes from the rules cache
// (rulescache.go) when it holds one; a transaction always reads the
// database, and so sees its own changes.
func (s *DB) OrganisationRules(ctx context.Context, orgID string) (*crm.Organisation, []crm.CustomFieldDefinition, error) {
	if _, inTx := s.db.(bun.Tx); inTx {
		return s.readOrganisationRules(ctx, orgID)
	}
	org, defs, generation, ok := s.shared.rules.get(orgID, time.Now())
	if ok {
		return org, defs, nil
	}
	org, defs, err := s.readOrganisationRules(ctx, orgID)
	if err != nil {
		return nil, nil, err
	}
	s.shared.rules.put(orgID, generation, org, defs, time.Now())
	return org, defs, nil
}

// readOrganisationRules is OrganisationRules' statement.
func (s *DB) readOrganisationRules(ctx context.Context, orgID string) (*crm.Organisation, []crm.CustomFieldDefinition, error) {
	var rows []organisationRulesRow
	if err := s.db.NewRaw(organisationRulesQuery(), orgID).Scan(ctx, &rows); err != nil {
		return nil, nil, interpretError(err)
	}
	if len(rows) == 0 {
		return nil, nil, fmt.Errorf("organisation %s: %w", orgID, crm.ErrNotFound)
	}
	var defs []crm.CustomFieldDefinition
	for i := range rows {
		if rows[i].Field.Key != "" {
			defs = append(defs, rows[i].Field.toDomain())
		}
	}
	return rows[0].Org.toDomain(), defs, nil
}
