package crm

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"time"
)

// Organisation is one tenant of an installation. Everything else belongs to
// exactly one organisation and is only ever seen by it.
type Organisation struct {
	// ID is a short slug chosen at creation ("acme", "hotel-zuid"), used in
	// contexts (WithOrg) and URLs. It never changes.
	ID   string `json:"id"`
	Name string `json:"name"`
	// DefaultLanguage (BCP 47) is given to new customers that do not say theirs.
	DefaultLanguage string `json:"defaultLanguage"`
	// DefaultCountry (ISO 3166-1 alpha-2) is used to read phone numbers written
	// without an international prefix. Empty: only "+..." numbers are accepted.
	DefaultCountry string `json:"defaultCountry,omitempty"`
	// PointsEnabled switches loyalty points on (C8); while off, every
	// points call returns ErrFeatureOff.
	PointsEnabled bool `json:"pointsEnabled"`
	// TimeZone (IANA, "Europe/Warsaw") is where the organisation works:
	// "today" of its staff users' reminders is the day there, unless a
	// user has a time zone of its own. Default "UTC".
	TimeZone string `json:"timeZone"`
	// Permissions are the switches an administrator sets for privacy
	// actions (exports and anonymisation by staff and by customers).
	Permissions Permissions `json:"permissions"`
	CreatedAt   time.Time   `json:"createdAt"`
	UpdatedAt   time.Time   `json:"updatedAt"`
}

// NewOrganisation is the input of OrganisationService.Create.
type NewOrganisation struct {
	ID   string `json:"id" validate:"required,max=64"`
	Name string `json:"name" validate:"required,max=200"`
	// DefaultLanguage falls back to Config.DefaultLanguage.
	DefaultLanguage string `json:"defaultLanguage"`
	// DefaultCountry falls back to Config.DefaultCountry.
	DefaultCountry string `json:"defaultCountry"`
	// PointsEnabled switches loyalty points on from the start.
	PointsEnabled bool `json:"pointsEnabled"`
	// TimeZone (IANA) defaults to "UTC".
	TimeZone string `json:"timeZone"`
	// Permissions default to DefaultPermissions.
	Permissions *Permissions `json:"permissions"`
}

// OrganisationPatch changes an organisation's settings; nil fields stay.
type OrganisationPatch struct {
	Name            *string `json:"name" validate:"omitempty,min=1,max=200"`
	DefaultLanguage *string `json:"defaultLanguage"`
	DefaultCountry  *string `json:"defaultCountry"`
	PointsEnabled   *bool   `json:"pointsEnabled"`
	TimeZone        *string `json:"timeZone"`
	// Permissions changes the switches given; only an administrator (or
	// the system actor) may change them.
	Permissions *PermissionsPatch `json:"permissions"`
}

// OrganisationStore keeps organisations and their per-organisation sequences.
type OrganisationStore interface {
	// OrganisationInsert stores a new organisation; an existing ID is ErrConflict.
	OrganisationInsert(ctx context.Context, org *Organisation) error
	// OrganisationGet returns one organisation or ErrNotFound.
	OrganisationGet(ctx context.Context, id string) (*Organisation, error)
	// OrganisationList returns every organisation of the installation, by ID.
	OrganisationList(ctx context.Context) ([]Organisation, error)
	// OrganisationUpdate stores changed settings or returns ErrNotFound.
	OrganisationUpdate(ctx context.Context, org *Organisation) error
	// OrganisationNextCustomerNumber takes the next customer number of the
	// organisation. Numbers are never handed out twice, even concurrently;
	// a rolled-back transaction may leave a gap.
	OrganisationNextCustomerNumber(ctx context.Context, id string) (int64, error)
}

// OrganisationService creates and configures organisations. Unlike the other
// services it does not read the organisation from the context: it is the
// administrative entry point that makes organisations exist.
type OrganisationService struct{ *core }

var orgIDPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`)

// Create makes a new organisation with the default tags (DefaultTags),
// the built-in consent purposes (PurposeNewsletter, ...) and a first
// administrator, the staff user AdministratorID ("admin"), so that someone
// can manage its staff. Its
// ID must be unused (else ErrConflict).
func (s *OrganisationService) Create(ctx context.Context, in NewOrganisation) (*Organisation, error) {
	v := newValidation(languageFrom(ctx))
	v.checkText("", &in)
	in.ID = strings.TrimSpace(in.ID)
	in.Name = strings.TrimSpace(in.Name)
	v.addStruct(s.validate, in)
	if in.ID != "" && !v.has("id") && !orgIDPattern.MatchString(in.ID) {
		v.add("id", "invalid", "")
	}
	if in.DefaultLanguage == "" {
		in.DefaultLanguage = s.cfg.DefaultLanguage
	}
	if in.DefaultCountry == "" {
		in.DefaultCountry = s.cfg.DefaultCountry
	}
	org := &Organisation{ID: in.ID, Name: in.Name, PointsEnabled: in.PointsEnabled, Permissions: DefaultPermissions()}
	if in.Permissions != nil {
		org.Permissions = *in.Permissions
	}
	org.TimeZone = "UTC"
	if in.TimeZone != "" {
		org.TimeZone = checkTimeZone(v, "timeZone", in.TimeZone, false)
	}
	org.DefaultLanguage = checkLanguage(v, "defaultLanguage", in.DefaultLanguage)
	org.DefaultCountry = checkCountry(v, "defaultCountry", in.DefaultCountry)
	if err := v.err(); err != nil {
		return nil, err
	}
	org.CreatedAt = s.now()
	org.UpdatedAt = org.CreatedAt
	err := s.store.InTx(ctx, func(tx Store) error {
		if err := tx.OrganisationInsert(ctx, org); err != nil {
			return err
		}
		if err := tx.QualifierInsert(ctx, org.ID, defaultTags(org.CreatedAt)...); err != nil {
			return err
		}
		purposes := defaultPurposes(org.CreatedAt)
		if err := tx.ConsentPurposeInsert(ctx, org.ID, purposes...); err != nil {
			return err
		}
		if err := tx.ConsentWordingInsert(ctx, org.ID, defaultWordings(purposes, org.CreatedAt)...); err != nil {
			return err
		}
		if err := tx.NoteTypeInsert(ctx, org.ID, BuiltInNoteTypes(org.CreatedAt)...); err != nil {
			return err
		}
		return tx.StaffInsert(ctx, &StaffUser{ID: AdministratorID, OrgID: org.ID, Name: "Administrator",
			Language: org.DefaultLanguage, Departments: []string{}, Role: RoleAdministrator, Active: true,
			CreatedAt: org.CreatedAt, UpdatedAt: org.CreatedAt, Version: 1})
	})
	if err != nil {
		return nil, err
	}
	return org, nil
}

// Get returns an organisation by ID.
func (s *OrganisationService) Get(ctx context.Context, id string) (*Organisation, error) {
	return s.store.OrganisationGet(ctx, id)
}

// List returns every organisation of the installation, by ID. It is for
// administration (the reference server's first start, the command line),
// never for an organisation's own users.
func (s *OrganisationService) List(ctx context.Context) ([]Organisation, error) {
	return s.store.OrganisationList(ctx)
}

// Update changes the settings of an organisation. When ctx names an actor
// of the organisation (the HTTP API always does), it must be an
// administrator or the system: anyone else is ErrForbidden. Without an
// actor the call is administration by the embedding program itself.
func (s *OrganisationService) Update(ctx context.Context, id string, p OrganisationPatch) (*Organisation, error) {
	v := newValidation(languageFrom(ctx))
	v.checkText("", &p)
	if p.Name != nil {
		name := strings.TrimSpace(*p.Name)
		p.Name = &name
		if name == "" {
			v.add("name", "required", "")
		}
	}
	v.addStruct(s.validate, p)
	var org *Organisation
	err := s.store.InTx(ctx, func(tx Store) error {
		var err error
		if actor, aerr := ActorFrom(ctx); aerr == nil {
			if err := s.requireAdministrator(ctx, tx, scope{org: id, actor: actor}); err != nil {
				return err
			}
		}
		if org, err = tx.OrganisationGet(ctx, id); err != nil {
			return err
		}
		if p.Name != nil {
			org.Name = strings.TrimSpace(*p.Name)
		}
		oldLanguage := org.DefaultLanguage
		if p.DefaultLanguage != nil {
			org.DefaultLanguage = checkLanguage(v, "defaultLanguage", *p.DefaultLanguage)
		}
		if p.DefaultCountry != nil {
			org.DefaultCountry = checkCountry(v, "defaultCountry", *p.DefaultCountry)
		}
		if p.PointsEnabled != nil {
			org.PointsEnabled = *p.PointsEnabled
		}
		if p.TimeZone != nil {
			org.TimeZone = checkTimeZone(v, "timeZone", *p.TimeZone, false)
		}
		if p.Permissions != nil {
			org.Permissions = p.Permissions.apply(org.Permissions)
		}
		if err := v.err(); err != nil {
			return err
		}
		org.UpdatedAt = s.now()
		if err := tx.OrganisationUpdate(ctx, org); err != nil {
			return err
		}
		if org.DefaultLanguage == oldLanguage {
			return nil
		}
		// Lists sorted by name follow the organisation's language.
		return tx.CustomerSortKeysRebuild(ctx, org.ID, func(f *CustomerFields) []byte {
			return SortKey(org.DefaultLanguage, f)
		})
	})
	if err != nil {
		return nil, err
	}
	return org, nil
}

// organisation loads the organisation of a scope, saying clearly when the
// context names an organisation that does not exist.
func (c *core) organisation(ctx context.Context, st OrganisationStore, sc scope) (*Organisation, error) {
	org, err := st.OrganisationGet(ctx, sc.org)
	return org, organisationMissing(sc, err)
}

// organisationMissing turns the store's ErrNotFound for the scope's
// organisation into an error that names it; other errors stay.
func organisationMissing(sc scope, err error) error {
	if errors.Is(err, ErrNotFound) {
		return &notFoundError{what: "organisation " + sc.org}
	}
	return err
}
