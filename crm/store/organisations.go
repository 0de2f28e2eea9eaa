package store

import (
	"context"
	"fmt"

	"github.com/dossiercrm/dossier/crm"
)

// OrganisationInsert implements crm.OrganisationStore.
func (s *DB) OrganisationInsert(ctx context.Context, org *crm.Organisation) error {
	if org.TimeZone == "" {
		org.TimeZone = "UTC"
	}
	_, err := s.db.NewInsert().Model(organisationRowOf(org)).Exec(ctx)
	return interpretError(err)
}

// OrganisationGet implements crm.OrganisationStore.
func (s *DB) OrganisationGet(ctx context.Context, id string) (*crm.Organisation, error) {
	var row organisationRow
	if err := s.db.NewSelect().Comment(preparedComment).Model(&row).Where("id = ?", id).Scan(ctx); err != nil {
		return nil, interpretError(err)
	}
	return row.toDomain(), nil
}

// OrganisationList implements crm.OrganisationStore.
func (s *DB) OrganisationList(ctx context.Context) ([]crm.Organisation, error) {
	var rows []organisationRow
	if err := s.db.NewSelect().Model(&rows).OrderExpr("id").Scan(ctx); err != nil {
		return nil, interpretError(err)
	}
	orgs := make([]crm.Organisation, len(rows))
	for i := range rows {
		orgs[i] = *rows[i].toDomain()
	}
	return orgs, nil
}

// OrganisationUpdate implements crm.OrganisationStore.
func (s *DB) OrganisationUpdate(ctx context.Context, org *crm.Organisation) error {
	res, err := s.db.NewUpdate().Model((*organisationRow)(nil)).
		Set("name = ?", org.Name).
		Set("default_language = ?", org.DefaultLanguage).
		Set("default_country = ?", org.DefaultCountry).
		Set("points_enabled = ?", org.PointsEnabled).
		Set("time_zone = ?", org.TimeZone).
		Set("staff_may_export = ?", org.Permissions.StaffMayExport).
		Set("staff_may_anonymise = ?", org.Permissions.StaffMayAnonymise).
		Set("customers_may_export = ?", org.Permissions.CustomersMayExport).
		Set("customers_may_anonymise = ?", org.Permissions.CustomersMayAnonymise).
		Set("updated_at = ?", org.UpdatedAt).
		Where("id = ?", org.ID).Exec(ctx)
	s.rulesChanged()
	return oneRow(res, err)
}

// OrganisationNextCustomerNumber implements crm.OrganisationStore. The
// counter lives on the organisation's row: the UPDATE locks the row until the
// transaction ends, so concurrent creates take numbers one after the other.
func (s *DB) OrganisationNextCustomerNumber(ctx context.Context, id string) (int64, error) {
	if s.batch != nil {
		if n, ok := s.batch.nextNumber(id); ok {
			return n, nil // counted on from the counter the batch holds
		}
	}
	var next int64
	err := s.db.NewUpdate().Comment(preparedComment).Model((*organisationRow)(nil)).
		Set("next_customer_number = next_customer_number + 1").
		Where("id = ?", id).
		Returning("next_customer_number").
		Scan(ctx, &next)
	if err != nil {
		return 0, fmt.Errorf("organisation %s: %w", id, interpretError(err))
	}
	if s.batch != nil {
		if s.batch.counters == nil {
			s.batch.counters = make(map[string]*batchCounter)
		}
		s.batch.counters[id] = &batchCounter{stored: next, last: next}
	}
	return next, nil
}
