package store

import (
	"context"
	"errors"
	"time"

	"github.com/uptrace/bun"

	"github.com/dossiercrm/dossier/crm"
)

type staffUserRow struct {
	bun.BaseModel `bun:"table:staff_users"`

	OrgID     string    `bun:"org_id,pk"`
	ID        string    `bun:"id,pk"`
	Name      string    `bun:"name"`
	Email     string    `bun:"email"`
	EmailKey  string    `bun:"email_key,nullzero"`
	Language  string    `bun:"language"`
	TimeZone  string    `bun:"time_zone"`
	Role      string    `bun:"role"`
	Active    bool      `bun:"active"`
	CreatedAt time.Time `bun:"created_at"`
	UpdatedAt time.Time `bun:"updated_at"`
	Version   int       `bun:"version"`
}

type staffDepartmentRow struct {
	bun.BaseModel `bun:"table:staff_departments"`

	OrgID        string `bun:"org_id,pk"`
	StaffID      string `bun:"staff_id,pk"`
	DepartmentID string `bun:"department_id,pk"`
}

type departmentRow struct {
	bun.BaseModel `bun:"table:departments"`

	OrgID     string    `bun:"org_id,pk"`
	ID        string    `bun:"id,pk"`
	Name      string    `bun:"name"`
	NameKey   string    `bun:"name_key"`
	CreatedAt time.Time `bun:"created_at"`
	UpdatedAt time.Time `bun:"updated_at"`
}

func staffRowOf(u *crm.StaffUser) *staffUserRow {
	return &staffUserRow{
		OrgID: u.OrgID, ID: u.ID, Name: u.Name, Email: u.Email, EmailKey: crm.EmailKey(u.Email),
		Language: u.Language, TimeZone: u.TimeZone, Role: string(u.Role), Active: u.Active,
		CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt, Version: u.Version,
	}
}

func (r *staffUserRow) toDomain() crm.StaffUser {
	return crm.StaffUser{
		ID: r.ID, OrgID: r.OrgID, Name: r.Name, Email: r.Email, Language: r.Language, TimeZone: r.TimeZone,
		Departments: []string{}, Role: crm.StaffRole(r.Role), Active: r.Active,
		CreatedAt: utc(r.CreatedAt), UpdatedAt: utc(r.UpdatedAt), Version: r.Version,
	}
}

// StaffInsert implements crm.StaffStore.
func (s *DB) StaffInsert(ctx context.Context, u *crm.StaffUser) error {
	if _, err := s.db.NewInsert().Model(staffRowOf(u)).Exec(ctx); err != nil {
		return interpretError(err)
	}
	return s.staffDepartmentsSet(ctx, u)
}

func (s *DB) staffDepartmentsSet(ctx context.Context, u *crm.StaffUser) error {
	if _, err := s.db.NewDelete().Model((*staffDepartmentRow)(nil)).
		Where("org_id = ?", u.OrgID).Where("staff_id = ?", u.ID).Exec(ctx); err != nil {
		return interpretError(err)
	}
	if len(u.Departments) == 0 {
		return nil
	}
	rows := make([]staffDepartmentRow, len(u.Departments))
	for i, d := range u.Departments {
		rows[i] = staffDepartmentRow{OrgID: u.OrgID, StaffID: u.ID, DepartmentID: d}
	}
	_, err := s.db.NewInsert().Model(&rows).Exec(ctx)
	return interpretError(err)
}

// StaffGet implements crm.StaffStore.
func (s *DB) StaffGet(ctx context.Context, orgID, id string) (*crm.StaffUser, error) {
	var row staffUserRow
	if err := s.db.NewSelect().Model(&row).Where("org_id = ?", orgID).Where("id = ?", id).Scan(ctx); err != nil {
		return nil, interpretError(err)
	}
	u := row.toDomain()
	if err := s.db.NewSelect().Model((*staffDepartmentRow)(nil)).Column("department_id").
		Where("org_id = ?", orgID).Where("staff_id = ?", id).OrderExpr("department_id").
		Scan(ctx, &u.Departments); err != nil {
		return nil, interpretError(err)
	}
	return &u, nil
}

// StaffList implements crm.StaffStore.
func (s *DB) StaffList(ctx context.Context, p crm.StaffListParams) ([]crm.StaffUser, error) {
	var rows []staffUserRow
	q := s.db.NewSelect().Model(&rows).Where("org_id = ?", p.OrgID).OrderExpr("name, id")
	if p.ActiveOnly {
		q = q.Where("active = ?", true)
	}
	if p.Department != "" {
		q = q.Where("EXISTS (SELECT 1 FROM staff_departments d WHERE d.org_id = staff_user_row.org_id AND d.staff_id = staff_user_row.id AND d.department_id = ?)", p.Department)
	}
	if err := q.Scan(ctx); err != nil {
		return nil, interpretError(err)
	}
	var links []staffDepartmentRow
	if err := s.db.NewSelect().Model(&links).Where("org_id = ?", p.OrgID).OrderExpr("staff_id, department_id").Scan(ctx); err != nil {
		return nil, interpretError(err)
	}
	deps := map[string][]string{}
	for _, l := range links {
		deps[l.StaffID] = append(deps[l.StaffID], l.DepartmentID)
	}
	out := make([]crm.StaffUser, len(rows))
	for i := range rows {
		out[i] = rows[i].toDomain()
		if d := deps[rows[i].ID]; d != nil {
			out[i].Departments = d
		}
	}
	return out, nil
}

// StaffUpdate implements crm.StaffStore.
func (s *DB) StaffUpdate(ctx context.Context, u *crm.StaffUser) error {
	row := staffRowOf(u)
	res, err := s.db.NewUpdate().Model(row).
		Column("name", "email", "email_key", "language", "time_zone", "role", "active", "updated_at", "version").
		Where("org_id = ?", u.OrgID).Where("id = ?", u.ID).Where("version = ?", u.Version-1).Exec(ctx)
	if err := oneRow(res, err); err != nil {
		if errors.Is(err, crm.ErrNotFound) {
			if _, gerr := s.StaffGet(ctx, u.OrgID, u.ID); gerr == nil {
				return crm.ErrStaleVersion
			}
		}
		return err
	}
	return s.staffDepartmentsSet(ctx, u)
}

// DepartmentInsert implements crm.StaffStore.
func (s *DB) DepartmentInsert(ctx context.Context, d *crm.Department) error {
	_, err := s.db.NewInsert().Model(&departmentRow{OrgID: d.OrgID, ID: d.ID, Name: d.Name, NameKey: qualifierNameKey(d.Name),
		CreatedAt: d.CreatedAt, UpdatedAt: d.UpdatedAt}).Exec(ctx)
	return interpretError(err)
}

// DepartmentList implements crm.StaffStore.
func (s *DB) DepartmentList(ctx context.Context, orgID string) ([]crm.Department, error) {
	var rows []departmentRow
	if err := s.db.NewSelect().Model(&rows).Where("org_id = ?", orgID).OrderExpr("name_key, id").Scan(ctx); err != nil {
		return nil, interpretError(err)
	}
	out := make([]crm.Department, len(rows))
	for i, r := range rows {
		out[i] = crm.Department{ID: r.ID, OrgID: r.OrgID, Name: r.Name, CreatedAt: utc(r.CreatedAt), UpdatedAt: utc(r.UpdatedAt)}
	}
	return out, nil
}

// DepartmentUpdate implements crm.StaffStore.
func (s *DB) DepartmentUpdate(ctx context.Context, d *crm.Department) error {
	res, err := s.db.NewUpdate().Model((*departmentRow)(nil)).
		Set("name = ?", d.Name).Set("name_key = ?", qualifierNameKey(d.Name)).Set("updated_at = ?", d.UpdatedAt).
		Where("org_id = ?", d.OrgID).Where("id = ?", d.ID).Exec(ctx)
	return oneRow(res, err)
}

// DepartmentDelete implements crm.StaffStore. The memberships go with it
// (the schema's ON DELETE CASCADE, removed here too so that it does not
// depend on SQLite's foreign_keys pragma).
func (s *DB) DepartmentDelete(ctx context.Context, orgID, id string) error {
	if _, err := s.db.NewDelete().Model((*staffDepartmentRow)(nil)).
		Where("org_id = ?", orgID).Where("department_id = ?", id).Exec(ctx); err != nil {
		return interpretError(err)
	}
	res, err := s.db.NewDelete().Model((*departmentRow)(nil)).Where("org_id = ?", orgID).Where("id = ?", id).Exec(ctx)
	return oneRow(res, err)
}
