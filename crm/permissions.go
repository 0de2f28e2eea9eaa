package crm

import "context"

// Permissions are an organisation's switches for privacy actions, set by
// an administrator (as a ticketing system's privacy settings are). A
// refused action is a *ForbiddenError (ErrForbidden; 403 over HTTP).
type Permissions struct {
	// StaffMayExport lets staff users (and integrations, imports) export
	// everything known about a customer (Art. 15). Default on.
	StaffMayExport bool `json:"staffMayExport"`
	// StaffMayAnonymise lets staff users anonymise customers. Default on.
	StaffMayAnonymise bool `json:"staffMayAnonymise"`
	// CustomersMayExport lets customers export their own data (the
	// portal). Default on: the right of access is the customer's.
	CustomersMayExport bool `json:"customersMayExport"`
	// CustomersMayAnonymise lets customers anonymise themselves (the
	// portal). Default off: the organisation decides, since bookings may
	// have to be kept.
	CustomersMayAnonymise bool `json:"customersMayAnonymise"`
}

// DefaultPermissions are the switches of a new organisation.
func DefaultPermissions() Permissions {
	return Permissions{StaffMayExport: true, StaffMayAnonymise: true, CustomersMayExport: true}
}

// PermissionsPatch changes some switches; nil ones stay.
type PermissionsPatch struct {
	StaffMayExport        *bool `json:"staffMayExport,omitempty"`
	StaffMayAnonymise     *bool `json:"staffMayAnonymise,omitempty"`
	CustomersMayExport    *bool `json:"customersMayExport,omitempty"`
	CustomersMayAnonymise *bool `json:"customersMayAnonymise,omitempty"`
}

func (p PermissionsPatch) apply(to Permissions) Permissions {
	set := func(dst *bool, src *bool) {
		if src != nil {
			*dst = *src
		}
	}
	set(&to.StaffMayExport, p.StaffMayExport)
	set(&to.StaffMayAnonymise, p.StaffMayAnonymise)
	set(&to.CustomersMayExport, p.CustomersMayExport)
	set(&to.CustomersMayAnonymise, p.CustomersMayAnonymise)
	return to
}

// PrivacyAction is what a permission check is about.
type PrivacyAction string

// The privacy actions the permission switches govern.
const (
	ActionExport    PrivacyAction = "export"
	ActionAnonymise PrivacyAction = "anonymise"
)

// Permissions returns the switches of the context's organisation.
func (s *OrganisationService) Permissions(ctx context.Context) (Permissions, error) {
	sc, err := readScope(ctx)
	if err != nil {
		return Permissions{}, err
	}
	org, err := s.organisation(ctx, s.store, sc)
	if err != nil {
		return Permissions{}, err
	}
	return org.Permissions, nil
}

// SetPermissions changes the switches of the context's organisation; only
// an administrator (or the system actor) may.
func (s *OrganisationService) SetPermissions(ctx context.Context, p PermissionsPatch) (Permissions, error) {
	sc, err := s.writeScope(ctx)
	if err != nil {
		return Permissions{}, err
	}
	org, err := s.Update(ctx, sc.org, OrganisationPatch{Permissions: &p})
	if err != nil {
		return Permissions{}, err
	}
	return org.Permissions, nil
}

// Allowed checks whether the actor of ctx may take action on the customer
// customerID under the context organisation's switches: nil, or a
// *ForbiddenError. The system actor (retention, jobs) always may; a
// customer only on itself and when CustomersMay... is on; staff users,
// integrations and imports when StaffMay... is on. A context without an
// actor is the embedding program itself, which may. The portal calls this
// before it lets a customer export or anonymise.
func (s *OrganisationService) Allowed(ctx context.Context, action PrivacyAction, customerID string) error {
	sc, err := readScope(ctx)
	if err != nil {
		return err
	}
	org, err := s.organisation(ctx, s.store, sc)
	if err != nil {
		return err
	}
	return allowed(ctx, org, action, customerID)
}

func allowed(ctx context.Context, org *Organisation, action PrivacyAction, customerID string) error {
	actor, err := ActorFrom(ctx)
	if err != nil {
		return nil // the embedding program itself
	}
	p := org.Permissions
	switch actor.Kind {
	case ActorSystem:
		return nil
	case ActorCustomer:
		if actor.ID != customerID {
			return &ForbiddenError{Reason: "a customer may only " + string(action) + " itself"}
		}
		if (action == ActionExport && p.CustomersMayExport) || (action == ActionAnonymise && p.CustomersMayAnonymise) {
			return nil
		}
		return &ForbiddenError{Reason: "the organisation does not let customers " + string(action) + " their data themselves"}
	default:
		if (action == ActionExport && p.StaffMayExport) || (action == ActionAnonymise && p.StaffMayAnonymise) {
			return nil
		}
		if action == ActionAnonymise {
			return &ForbiddenError{Reason: "the organisation does not let staff anonymise customers"}
		}
		return &ForbiddenError{Reason: "the organisation does not let staff export customer data"}
	}
}
