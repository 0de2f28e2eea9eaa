package crm

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"
)

// StaffRole says what a staff user may do in its organisation.
type StaffRole string

// The roles of staff users.
const (
	// RoleAdministrator may do everything, and alone manages staff users,
	// departments, API keys and the organisation's settings and permissions.
	RoleAdministrator StaffRole = "administrator"
	// RoleStaff reads and changes the organisation's customers and their work.
	RoleStaff StaffRole = "staff"
	// RoleReadOnly reads; every change it attempts is ErrForbidden.
	RoleReadOnly StaffRole = "read-only"
)

func (r StaffRole) valid() bool {
	return r == RoleAdministrator || r == RoleStaff || r == RoleReadOnly
}

// StaffUser is a person who works for an organisation: the actor of the
// changes made through its API keys, the author of notes, the owner of
// tasks. Staff users are never deleted (timelines name them); an inactive
// one cannot act and its keys stop working.
type StaffUser struct {
	// ID is a UUID for users made by Dossier; users made from the free
	// staff names of earlier API keys keep that name as their ID.
	ID    string `json:"id"`
	OrgID string `json:"-"`
	Name  string `json:"name"`
	// Email is the user's work address; unique within the organisation
	// (ignoring case) when set.
	Email string `json:"email,omitempty"`
	// Language (BCP 47) is the user's language: error messages and the
	// wording of what Dossier says to the user.
	Language string `json:"language"`
	// TimeZone (IANA, "Europe/Warsaw") is where the user works: "today" of
	// the user's reminders is the day there. Empty: the organisation's.
	TimeZone string `json:"timeZone,omitempty"`
	// Departments are the ids of the departments the user belongs to.
	Departments []string  `json:"departments"`
	Role        StaffRole `json:"role"`
	Active      bool      `json:"active"`
	CreatedAt   time.Time `json:"createdAt"`
	UpdatedAt   time.Time `json:"updatedAt"`
	Version     int       `json:"version"`
}

// InDepartment reports whether the user belongs to department id.
func (u *StaffUser) InDepartment(id string) bool { return slices.Contains(u.Departments, id) }

// NewStaffUser is the input of StaffService.Create.
type NewStaffUser struct {
	// ID may be given (a slug or the platform's own user id); empty makes a UUID.
	ID    string `json:"id,omitempty" validate:"max=100"`
	Name  string `json:"name" validate:"required,max=200"`
	Email string `json:"email,omitempty" validate:"omitempty,max=254,email"`
	// Language falls back to the organisation's.
	Language    string    `json:"language,omitempty"`
	TimeZone    string    `json:"timeZone,omitempty"`
	Departments []string  `json:"departments,omitempty" validate:"max=50"`
	Role        StaffRole `json:"role" validate:"required"`
	// Active defaults to true; a pointer so that false can be said.
	Active *bool `json:"active,omitempty"`
}

// StaffUserPatch changes a staff user; nil fields stay.
type StaffUserPatch struct {
	Name        *string    `json:"name,omitempty" validate:"omitempty,max=200"`
	Email       *string    `json:"email,omitempty" validate:"omitempty,max=254,email"`
	Language    *string    `json:"language,omitempty"`
	TimeZone    *string    `json:"timeZone,omitempty"`
	Departments *[]string  `json:"departments,omitempty" validate:"omitempty,max=50"`
	Role        *StaffRole `json:"role,omitempty"`
	Active      *bool      `json:"active,omitempty"`
}

// Department groups staff users (sales, back office); inquiries can be
// visible to a department.
type Department struct {
	ID        string    `json:"id"`
	OrgID     string    `json:"-"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// NewDepartment is the input of StaffService.CreateDepartment and RenameDepartment.
type NewDepartment struct {
	Name string `json:"name" validate:"required,max=200"`
}

// StaffListParams selects staff users of an organisation.
type StaffListParams struct {
	OrgID string
	// Department, when set, keeps the members of that department.
	Department string
	// ActiveOnly leaves inactive users out.
	ActiveOnly bool
}

// StaffStore keeps staff users and departments.
type StaffStore interface {
	// StaffInsert stores a new staff user with its departments; a taken
	// id or e-mail address is a *ConflictError naming the field.
	StaffInsert(ctx context.Context, u *StaffUser) error
	// StaffGet returns one staff user of the organisation, or ErrNotFound.
	StaffGet(ctx context.Context, orgID, id string) (*StaffUser, error)
	// StaffList returns the organisation's staff users by name, then id.
	StaffList(ctx context.Context, p StaffListParams) ([]StaffUser, error)
	// StaffUpdate stores a changed staff user (its departments replaced) if
	// its stored version is u.Version-1, else ErrStaleVersion; ErrNotFound
	// when there is no such user.
	StaffUpdate(ctx context.Context, u *StaffUser) error
	// DepartmentInsert stores a new department; a name taken (ignoring
	// case) is a *ConflictError on "name".
	DepartmentInsert(ctx context.Context, d *Department) error
	// DepartmentList returns the organisation's departments by name.
	DepartmentList(ctx context.Context, orgID string) ([]Department, error)
	// DepartmentUpdate renames a department, or ErrNotFound.
	DepartmentUpdate(ctx context.Context, d *Department) error
	// DepartmentDelete removes a department and its memberships, or ErrNotFound.
	DepartmentDelete(ctx context.Context, orgID, id string) error
}

// StaffService manages an organisation's staff users and departments, and
// says who acts (Act). Only administrators (or the system actor: the
// command line, jobs) change staff and departments.
type StaffService struct {
	*core
}

// AdministratorID is the id of the administrator every new organisation
// gets, so that someone can manage it (see OrganisationService.Create).
const AdministratorID = "admin"

// staffIDMax bounds given staff ids.
const staffIDMax = 100

// Create adds a staff user to the context's organisation.
func (s *StaffService) Create(ctx context.Context, in NewStaffUser) (*StaffUser, error) {
	sc, err := s.writeScope(ctx)
	if err != nil {
		return nil, err
	}
	v := newValidation(sc.lang)
	v.checkText("", &in)
	in.ID, in.Name, in.Email = strings.TrimSpace(in.ID), strings.TrimSpace(in.Name), strings.TrimSpace(in.Email)
	v.addStruct(s.validate, in)
	if in.Role != "" && !in.Role.valid() {
		v.add("role", "oneof", "administrator, staff, read-only")
	}
	var out *StaffUser
	err = s.store.InTx(ctx, func(tx Store) error {
		if err := s.requireAdministrator(ctx, tx, sc); err != nil {
			return err
		}
		org, err := s.organisation(ctx, tx, sc)
		if err != nil {
			return err
		}
		u := &StaffUser{ID: in.ID, OrgID: sc.org, Name: in.Name, Email: in.Email, Role: in.Role, Active: true, Version: 1}
		if u.ID == "" {
			u.ID = newID()
		}
		if in.Active != nil {
			u.Active = *in.Active
		}
		u.Language = org.DefaultLanguage
		if in.Language != "" {
			u.Language = checkLanguage(v, "language", in.Language)
		}
		u.TimeZone = checkTimeZone(v, "timeZone", in.TimeZone, true)
		if u.Departments, err = s.checkDepartments(ctx, tx, sc, v, in.Departments); err != nil {
			return err
		}
		if err := v.err(); err != nil {
			return err
		}
		u.CreatedAt = s.now()
		u.UpdatedAt = u.CreatedAt
		if err := tx.StaffInsert(ctx, u); err != nil {
			return err
		}
		out = u
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Get returns one staff user of the context's organisation.
func (s *StaffService) Get(ctx context.Context, id string) (*StaffUser, error) {
	sc, err := readScope(ctx)
	if err != nil {
		return nil, err
	}
	if !validStaffID(id) {
		return nil, &notFoundError{what: "staff user " + id}
	}
	return s.store.StaffGet(ctx, sc.org, id)
}

// List returns the context organisation's staff users by name.
func (s *StaffService) List(ctx context.Context, p StaffListParams) ([]StaffUser, error) {
	sc, err := readScope(ctx)
	if err != nil {
		return nil, err
	}
	p.OrgID = sc.org
	return s.store.StaffList(ctx, p)
}

// Me returns the staff user acting in ctx: ErrForbidden when the actor is
// not an active staff user of the organisation.
func (s *StaffService) Me(ctx context.Context) (*StaffUser, error) {
	sc, err := readScope(ctx)
	if err != nil {
		return nil, err
	}
	if sc.actor, err = ActorFrom(ctx); err != nil {
		return nil, err
	}
	return s.actingStaff(ctx, s.store, sc)
}

// Update changes a staff user, based on version (ErrStaleVersion when it
// is no longer the stored one). The last active administrator cannot be
// demoted or deactivated (ErrConflict): the organisation would have nobody
// to manage it.
func (s *StaffService) Update(ctx context.Context, id string, version int, p StaffUserPatch) (*StaffUser, error) {
	sc, err := s.writeScope(ctx)
	if err != nil {
		return nil, err
	}
	if !validStaffID(id) {
		return nil, &notFoundError{what: "staff user " + id}
	}
	v := newValidation(sc.lang)
	v.checkText("", &p)
	v.addStruct(s.validate, p)
	var out *StaffUser
	err = s.store.InTx(ctx, func(tx Store) error {
		if err := s.requireAdministrator(ctx, tx, sc); err != nil {
			return err
		}
		u, err := tx.StaffGet(ctx, sc.org, id)
		if err != nil {
			return err
		}
		if version != 0 && u.Version != version {
			return ErrStaleVersion
		}
		wasAdmin := u.Active && u.Role == RoleAdministrator
		if p.Name != nil {
			if u.Name = strings.TrimSpace(*p.Name); u.Name == "" {
				v.add("name", "required", "")
			}
		}
		if p.Email != nil {
			u.Email = strings.TrimSpace(*p.Email)
		}
		if p.Language != nil {
			u.Language = checkLanguage(v, "language", *p.Language)
		}
		if p.TimeZone != nil {
			u.TimeZone = checkTimeZone(v, "timeZone", *p.TimeZone, true)
		}
		if p.Departments != nil {
			if u.Departments, err = s.checkDepartments(ctx, tx, sc, v, *p.Departments); err != nil {
				return err
			}
		}
		if p.Role != nil {
			if !p.Role.valid() {
				v.add("role", "oneof", "administrator, staff, read-only")
			}
			u.Role = *p.Role
		}
		if p.Active != nil {
			u.Active = *p.Active
		}
		if err := v.err(); err != nil {
			return err
		}
		if wasAdmin && !(u.Active && u.Role == RoleAdministrator) {
			admins, err := tx.StaffList(ctx, StaffListParams{OrgID: sc.org, ActiveOnly: true})
			if err != nil {
				return err
			}
			n := 0
			for _, a := range admins {
				if a.Role == RoleAdministrator {
					n++
				}
			}
			if n <= 1 {
				return &ConflictError{Field: "role", Reason: "the organisation's last active administrator must stay one: make another user administrator first"}
			}
		}
		u.Version++
		u.UpdatedAt = s.now()
		if err := tx.StaffUpdate(ctx, u); err != nil {
			return err
		}
		out = u
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Act returns ctx with the organisation's staff user id as its actor,
// checked: the user exists and is active (else ErrForbidden). Services
// then know the user's role (a read-only user's changes are refused), its
// departments and time zone without reading them again. The HTTP API
// does this for the staff user of every API key.
func (s *StaffService) Act(ctx context.Context, id string) (context.Context, error) {
	sc, err := readScope(ctx)
	if err != nil {
		return ctx, err
	}
	sc.actor = Staff(id)
	u, err := s.actingStaff(ctx, s.store, sc)
	if err != nil {
		return ctx, err
	}
	return WithStaffUser(ctx, u), nil
}

// CreateDepartment adds a department.
func (s *StaffService) CreateDepartment(ctx context.Context, in NewDepartment) (*Department, error) {
	sc, err := s.writeScope(ctx)
	if err != nil {
		return nil, err
	}
	v := newValidation(sc.lang)
	v.checkText("", &in)
	in.Name = strings.TrimSpace(in.Name)
	v.addStruct(s.validate, in)
	if err := v.err(); err != nil {
		return nil, err
	}
	d := &Department{ID: newID(), OrgID: sc.org, Name: in.Name, CreatedAt: s.now()}
	d.UpdatedAt = d.CreatedAt
	err = s.store.InTx(ctx, func(tx Store) error {
		if err := s.requireAdministrator(ctx, tx, sc); err != nil {
			return err
		}
		return tx.DepartmentInsert(ctx, d)
	})
	if err != nil {
		return nil, err
	}
	return d, nil
}

// Departments returns the organisation's departments by name.
func (s *StaffService) Departments(ctx context.Context) ([]Department, error) {
	sc, err := readScope(ctx)
	if err != nil {
		return nil, err
	}
	return s.store.DepartmentList(ctx, sc.org)
}

// RenameDepartment gives a department a new name.
func (s *StaffService) RenameDepartment(ctx context.Context, id string, in NewDepartment) (*Department, error) {
	sc, err := s.writeScope(ctx)
	if err != nil {
		return nil, err
	}
	v := newValidation(sc.lang)
	v.checkText("", &in)
	in.Name = strings.TrimSpace(in.Name)
	v.addStruct(s.validate, in)
	if err := v.err(); err != nil {
		return nil, err
	}
	if !validID(id) {
		return nil, &notFoundError{what: "department " + id}
	}
	var out *Department
	err = s.store.InTx(ctx, func(tx Store) error {
		if err := s.requireAdministrator(ctx, tx, sc); err != nil {
			return err
		}
		deps, err := tx.DepartmentList(ctx, sc.org)
		if err != nil {
			return err
		}
		i := slices.IndexFunc(deps, func(d Department) bool { return d.ID == id })
		if i < 0 {
			return &notFoundError{what: "department " + id}
		}
		d := deps[i]
		d.Name, d.UpdatedAt = in.Name, s.now()
		if err := tx.DepartmentUpdate(ctx, &d); err != nil {
			return err
		}
		out = &d
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// DeleteDepartment removes a department; its members stay, without it.
func (s *StaffService) DeleteDepartment(ctx context.Context, id string) error {
	sc, err := s.writeScope(ctx)
	if err != nil {
		return err
	}
	if !validID(id) {
		return &notFoundError{what: "department " + id}
	}
	return s.store.InTx(ctx, func(tx Store) error {
		if err := s.requireAdministrator(ctx, tx, sc); err != nil {
			return err
		}
		return tx.DepartmentDelete(ctx, sc.org, id)
	})
}

// checkDepartments validates department ids against the organisation's
// departments and returns them without repeats, sorted.
func (s *StaffService) checkDepartments(ctx context.Context, tx Store, sc scope, v *validation, ids []string) ([]string, error) {
	out := []string{}
	if len(ids) == 0 {
		return out, nil
	}
	deps, err := tx.DepartmentList(ctx, sc.org)
	if err != nil {
		return nil, err
	}
	for i, id := range ids {
		if !slices.ContainsFunc(deps, func(d Department) bool { return d.ID == id }) {
			v.add("departments["+strconv.Itoa(i)+"]", "unknown", "")
			continue
		}
		if !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out, nil
}

// validStaffID reports whether id can name a staff user.
func validStaffID(id string) bool {
	if id == "" || len(id) > staffIDMax {
		return false
	}
	clean, code := cleanText(id, false)
	return code == "" && clean == id
}

// WithStaffUser says that u acts in ctx: its id becomes the actor, and the
// services use its role, departments and time zone as they are in u. Use
// StaffService.Act to have the user read and checked; a program that
// passes a user it made itself vouches for it, and changes then read no
// staff user. A user whose OrgID is not the context's organisation is not
// trusted there: it is read by id, as for WithActor with Staff.
func WithStaffUser(ctx context.Context, u *StaffUser) context.Context {
	ctx = WithActor(ctx, Staff(u.ID))
	return context.WithValue(ctx, staffKey, u)
}

// StaffUserFrom returns the staff user WithStaffUser (or StaffService.Act)
// put into ctx, if any, for the actor ctx names.
func StaffUserFrom(ctx context.Context) (*StaffUser, bool) {
	u, ok := ctx.Value(staffKey).(*StaffUser)
	if !ok || u == nil {
		return nil, false
	}
	if a, err := ActorFrom(ctx); err != nil || a.Kind != ActorStaff || a.ID != u.ID {
		return nil, false
	}
	return u, true
}

// actingStaff returns the staff user of the scope's actor: from the
// context when it carries it, else read. An actor that is not an active
// staff user of the organisation is ErrForbidden.
func (c *core) actingStaff(ctx context.Context, st StaffStore, sc scope) (*StaffUser, error) {
	if sc.actor.Kind != ActorStaff {
		return nil, &ForbiddenError{Reason: "only a staff user of the organisation may do this"}
	}
	if u, ok := StaffUserFrom(ctx); ok && u.OrgID == sc.org {
		return u, nil
	}
	if !validStaffID(sc.actor.ID) {
		return nil, &ForbiddenError{Reason: "the acting staff user is not a staff user of the organisation"}
	}
	u, err := st.StaffGet(ctx, sc.org, sc.actor.ID)
	switch {
	case err == nil:
	case errors.Is(err, ErrNotFound):
		return nil, &ForbiddenError{Reason: "the acting staff user " + sc.actor.ID + " is not a staff user of the organisation"}
	default:
		return nil, err
	}
	if !u.Active {
		return nil, &ForbiddenError{Reason: "the acting staff user " + u.ID + " is not active"}
	}
	return u, nil
}

// requireAdministrator refuses the scope's actor unless it is the system
// (the command line, jobs) or an active administrator.
func (c *core) requireAdministrator(ctx context.Context, st StaffStore, sc scope) error {
	if sc.actor.Kind == ActorSystem {
		return nil
	}
	u, err := c.actingStaff(ctx, st, sc)
	if err != nil {
		return err
	}
	if u.Role != RoleAdministrator {
		return &ForbiddenError{Reason: "only an administrator may manage staff users, departments, API keys and the organisation's settings"}
	}
	return nil
}
