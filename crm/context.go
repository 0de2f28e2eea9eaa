package crm

import (
	"context"
	"fmt"
)

type ctxKey int

const (
	orgKey ctxKey = iota
	actorKey
	languageKey
	staffKey
)

// WithOrg scopes ctx to one organisation. Every service call reads the
// organisation from its context; no call reads or writes across organisations.
func WithOrg(ctx context.Context, orgID string) context.Context {
	return context.WithValue(ctx, orgKey, orgID)
}

// OrgFrom returns the organisation of ctx, or ErrNoOrg.
func OrgFrom(ctx context.Context) (string, error) {
	org, _ := ctx.Value(orgKey).(string)
	if org == "" {
		return "", ErrNoOrg
	}
	return org, nil
}

// ActorKind says what kind of party acts.
type ActorKind string

// The kinds of actor. Every history event names one.
const (
	ActorStaff       ActorKind = "staff"       // a staff user of the organisation
	ActorCustomer    ActorKind = "customer"    // the customer, through the portal
	ActorSystem      ActorKind = "system"      // Dossier itself (retention, expiry, merges run by jobs)
	ActorImport      ActorKind = "import"      // a file import
	ActorIntegration ActorKind = "integration" // a connected tool or booking platform
)

// Actor is who makes a change: recorded with every history event.
type Actor struct {
	Kind ActorKind `json:"kind"`
	// ID identifies the actor within its kind: a staff user id, a customer id,
	// an import or integration name. Empty for ActorSystem.
	ID string `json:"id,omitempty"`
}

// String renders the actor as "kind:id".
func (a Actor) String() string {
	if a.ID == "" {
		return string(a.Kind)
	}
	return string(a.Kind) + ":" + a.ID
}

func (a Actor) valid() bool {
	switch a.Kind {
	case ActorSystem:
		return true
	case ActorStaff, ActorCustomer, ActorImport, ActorIntegration:
		return a.ID != ""
	}
	return false
}

// Staff is a staff user of the organisation, by id. A change by a staff
// actor needs an active staff user of the organisation with that id, not a
// read-only one (else *ForbiddenError, ErrForbidden): named only by id, the
// user is read by its key before every change; StaffService.Act reads it
// once and returns a context that carries it, and WithStaffUser passes a
// user the program vouches for.
func Staff(userID string) Actor { return Actor{Kind: ActorStaff, ID: userID} }

// CustomerActor is the customer acting for themselves (portal).
func CustomerActor(customerID string) Actor { return Actor{Kind: ActorCustomer, ID: customerID} }

// System is Dossier itself acting (scheduled jobs).
func System() Actor { return Actor{Kind: ActorSystem} }

// Import is a file import, named e.g. by its file or batch id.
func Import(name string) Actor { return Actor{Kind: ActorImport, ID: name} }

// Integration is a connected tool or booking platform.
func Integration(name string) Actor { return Actor{Kind: ActorIntegration, ID: name} }

// WithActor says who acts in ctx. Changes without an actor fail with
// ErrNoActor. A staff actor (Staff) must be a real staff user of the
// organisation: every change reads it by id first (one primary-key read)
// and refuses an unknown, inactive or read-only one with ErrForbidden. To
// read it once for many calls, use the context StaffService.Act returns.
func WithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey, a)
}

// ActorFrom returns the actor of ctx, or ErrNoActor.
func ActorFrom(ctx context.Context) (Actor, error) {
	a, ok := ctx.Value(actorKey).(Actor)
	if !ok {
		return Actor{}, ErrNoActor
	}
	if !a.valid() {
		return Actor{}, fmt.Errorf("%w: actor %q is not valid", ErrNoActor, a.String())
	}
	return a, nil
}

// WithLanguage sets the language (BCP 47) in which errors for the caller are
// worded, e.g. the staff user's language. English when unset.
func WithLanguage(ctx context.Context, lang string) context.Context {
	return context.WithValue(ctx, languageKey, lang)
}

func languageFrom(ctx context.Context) string {
	l, _ := ctx.Value(languageKey).(string)
	return l
}

// scope is what every service call needs from its context.
type scope struct {
	org   string
	actor Actor
	lang  string
}

// readScope requires an organisation.
func readScope(ctx context.Context) (scope, error) {
	org, err := OrgFrom(ctx)
	if err != nil {
		return scope{}, err
	}
	return scope{org: org, lang: languageFrom(ctx)}, nil
}

// actorScope requires an organisation and an actor, and refuses a
// read-only staff user the context carries. It reads nothing: the writes
// of services go through core.writeScope, which also checks a staff actor
// against the store.
func actorScope(ctx context.Context) (scope, error) {
	s, err := readScope(ctx)
	if err != nil {
		return s, err
	}
	if s.actor, err = ActorFrom(ctx); err != nil {
		return s, err
	}
	if u, ok := StaffUserFrom(ctx); ok && u.Role == RoleReadOnly {
		return s, readOnlyError(u)
	}
	return s, nil
}

// writeScope is the scope of a change: an organisation and an actor. A
// staff actor must be a real staff user: the one the context carries
// (StaffService.Act, WithStaffUser) for that id and organisation, or else
// an active staff user of the organisation read from the store, one read
// by primary key (an unknown or inactive one is a *ForbiddenError). A
// read-only staff user is refused. Other kinds of actor are not read.
func (c *core) writeScope(ctx context.Context) (scope, error) {
	return c.writeScopeIn(ctx, c.store)
}

// writeScopeIn is writeScope reading the staff user through st: the
// transaction of a caller that already holds one (so that no second
// connection is needed while it is open).
func (c *core) writeScopeIn(ctx context.Context, st StaffStore) (scope, error) {
	s, err := actorScope(ctx)
	if err != nil || s.actor.Kind != ActorStaff {
		return s, err
	}
	u, err := c.actingStaff(ctx, st, s)
	if err != nil {
		return s, err
	}
	if u.Role == RoleReadOnly {
		return s, readOnlyError(u)
	}
	return s, nil
}

// readOnlyError refuses a change by a read-only staff user.
func readOnlyError(u *StaffUser) error {
	return &ForbiddenError{Reason: "the staff user " + u.ID + " may only read"}
}
