package crm

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"
)

// QualifierKind says what a Qualifier is: a tag or an attribute.
type QualifierKind string

// The kinds of qualifier.
const (
	// KindTag qualifies the relationship (VIP, Regular, No-show): at most
	// MaxTagsPerCustomer per customer.
	KindTag QualifierKind = "tag"
	// KindAttribute is an attribute or interest (diving, city trips,
	// vegetarian): any number per customer, used to select customers for
	// targeted mailings.
	KindAttribute QualifierKind = "attribute"
)

// MaxTagsPerCustomer is how many tags one customer can carry (C4).
const MaxTagsPerCustomer = 9

// DefaultTags are the tags every new organisation starts with; it manages
// its own list from there.
var DefaultTags = []string{"Friends & Family", "Business", "Influencer", "Local", "No-show", "Problem case", "Regular", "VIP"}

// Qualifier is an organisation's definition of a tag or an attribute.
// Customers refer to it by ID, so renaming it renames it on every customer.
type Qualifier struct {
	ID   string        `json:"id"`
	Kind QualifierKind `json:"kind"`
	// Name is unique within the organisation and kind, compared without
	// regard to case.
	Name string `json:"name"`
	// Colour is an optional "#rrggbb" for display.
	Colour string `json:"colour,omitempty"`
	// Position orders the list.
	Position  int       `json:"position"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// NewQualifier is the input of Define.
type NewQualifier struct {
	Name     string `json:"name" validate:"required,max=60"`
	Colour   string `json:"colour,omitempty" validate:"omitempty,hexcolor"`
	Position int    `json:"position,omitempty"`
}

// QualifierPatch changes a definition; nil fields stay.
type QualifierPatch struct {
	Name     *string `json:"name,omitempty" validate:"omitempty,min=1,max=60"`
	Colour   *string `json:"colour,omitempty" validate:"omitempty,hexcolor|len=0"`
	Position *int    `json:"position,omitempty"`
}

// CustomerQualifier links a customer to a tag or an attribute. Slot numbers
// a customer's tags 1 to MaxTagsPerCustomer; the schema refuses a tenth
// (see QualifierStore). Attributes have slot 0.
type CustomerQualifier struct {
	OrgID       string
	CustomerID  string
	QualifierID string
	Kind        QualifierKind
	Slot        int
	AddedAt     time.Time
	AddedBy     Actor
	// CustomerNumber is the customer's number (a link carries it for the
	// filters' number order). A writer that knows it (an import, of the
	// customers it has just created) sets it and spares the store reading
	// it; zero: the store reads it. Lists fill it.
	CustomerNumber int64
}

// QualifierStore keeps tag and attribute definitions and the links of
// customers to them.
//
// The store guarantees at most MaxTagsPerCustomer tags per customer by its
// schema: a tag link carries a slot from 1 to 9, unique per customer, so a
// tenth link cannot be stored whatever the code above it does. Services
// also lock the customer (CustomerTouch) before reading its links, so that
// two concurrent additions see each other and the loser gets a clear error
// instead of a constraint violation.
type QualifierStore interface {
	// QualifierInsert stores definitions; a name in use (same kind, any
	// case) is a *ConflictError on "name".
	QualifierInsert(ctx context.Context, orgID string, qs ...Qualifier) error
	// QualifierUpdate stores a changed definition or returns ErrNotFound.
	QualifierUpdate(ctx context.Context, orgID string, q *Qualifier) error
	// QualifierDelete removes a definition with every customer's link to it.
	QualifierDelete(ctx context.Context, orgID string, kind QualifierKind, id string) error
	// QualifierList returns the definitions of one kind by Position, then name.
	QualifierList(ctx context.Context, orgID string, kind QualifierKind) ([]Qualifier, error)
	// CustomerQualifierList returns the links of the given customers, of
	// one kind, by customer then slot.
	CustomerQualifierList(ctx context.Context, orgID string, kind QualifierKind, customerIDs []string) ([]CustomerQualifier, error)
	// QualifierCustomerIDs returns the customers linked to a definition.
	QualifierCustomerIDs(ctx context.Context, orgID, qualifierID string) ([]string, error)
	// CustomerQualifierInsert stores links. A slot taken, or out of 1 to
	// MaxTagsPerCustomer for a tag, is ErrConflict.
	CustomerQualifierInsert(ctx context.Context, links ...CustomerQualifier) error
	// CustomerQualifierDelete removes a customer's links to the given definitions.
	CustomerQualifierDelete(ctx context.Context, orgID, customerID string, qualifierIDs []string) error
}

// QualifierService manages one kind of qualifier of the context's
// organisation (CRM.Tags, CRM.Attributes) and which customers carry them.
// Every change to a customer's tags or attributes goes on its timeline.
type QualifierService struct {
	*core
	kind QualifierKind
}

// ErrTooManyTags is returned when a customer would carry more than
// MaxTagsPerCustomer tags. It matches ErrConflict: it collides with the
// tags the customer already has.
var ErrTooManyTags error = &ConflictError{Field: "tags", Reason: "a customer carries at most " + strconv.Itoa(MaxTagsPerCustomer) + " tags: take one off first"}

// Define adds a tag or attribute.
func (s *QualifierService) Define(ctx context.Context, in NewQualifier) (*Qualifier, error) {
	sc, err := s.writeScope(ctx)
	if err != nil {
		return nil, err
	}
	v := newValidation(sc.lang)
	v.checkText("", &in)
	in.Name, in.Colour = strings.TrimSpace(in.Name), strings.ToLower(strings.TrimSpace(in.Colour))
	v.addStruct(s.validate, in)
	if err := v.err(); err != nil {
		return nil, err
	}
	now := s.now()
	q := Qualifier{ID: newID(), Kind: s.kind, Name: in.Name, Colour: in.Colour, Position: in.Position, CreatedAt: now, UpdatedAt: now}
	if err := s.store.QualifierInsert(ctx, sc.org, q); err != nil {
		return nil, err
	}
	return &q, nil
}

// Update renames, recolours or moves a definition; every customer carrying
// it shows the change.
func (s *QualifierService) Update(ctx context.Context, id string, p QualifierPatch) (*Qualifier, error) {
	sc, err := s.writeScope(ctx)
	if err != nil {
		return nil, err
	}
	v := newValidation(sc.lang)
	v.checkText("", &p)
	v.addStruct(s.validate, p)
	if err := v.err(); err != nil {
		return nil, err
	}
	var q *Qualifier
	err = s.store.InTx(ctx, func(tx Store) error {
		if q, err = s.find(ctx, tx, sc, id); err != nil {
			return err
		}
		if p.Name != nil {
			q.Name = strings.TrimSpace(*p.Name)
		}
		if p.Colour != nil {
			q.Colour = strings.ToLower(strings.TrimSpace(*p.Colour))
		}
		if p.Position != nil {
			q.Position = *p.Position
		}
		q.UpdatedAt = s.now()
		return tx.QualifierUpdate(ctx, sc.org, q)
	})
	if err != nil {
		return nil, err
	}
	return q, nil
}

// Delete removes a definition from the organisation and from every customer
// carrying it; each of those customers' timelines records the removal.
func (s *QualifierService) Delete(ctx context.Context, id string) error {
	sc, err := s.writeScope(ctx)
	if err != nil {
		return err
	}
	return s.removeDefinition(ctx, sc, s.changedEvent(), func(tx Store) (FieldChange, []string, error) {
		q, err := s.find(ctx, tx, sc, id)
		if err != nil {
			return FieldChange{}, nil, err
		}
		customers, err := tx.QualifierCustomerIDs(ctx, sc.org, id)
		return FieldChange{Field: s.field(), Old: []string{q.Name}}, customers, err
	}, func(tx Store) error { return tx.QualifierDelete(ctx, sc.org, s.kind, id) })
}

// removeDefinition deletes a definition that customers carry (a tag, a
// label) in one transaction, writing on the timeline of each customer that
// carried it an event of kind with the change prepare returns.
func (c *core) removeDefinition(ctx context.Context, sc scope, kind EventKind,
	prepare func(tx Store) (change FieldChange, customerIDs []string, err error), remove func(tx Store) error,
) error {
	return c.store.InTx(ctx, func(tx Store) error {
		change, customers, err := prepare(tx)
		if err != nil {
			return err
		}
		now := c.now()
		events := make([]HistoryEvent, len(customers))
		for i, id := range customers {
			events[i] = c.event(sc, id, kind, now, []FieldChange{change})
		}
		if err := remove(tx); err != nil {
			return err
		}
		return tx.HistoryAppend(ctx, events...)
	})
}

// List returns the organisation's definitions in display order.
func (s *QualifierService) List(ctx context.Context) ([]Qualifier, error) {
	sc, err := readScope(ctx)
	if err != nil {
		return nil, err
	}
	return s.store.QualifierList(ctx, sc.org, s.kind)
}

// Of returns the definitions a customer carries, in display order.
func (s *QualifierService) Of(ctx context.Context, customerID string) ([]Qualifier, error) {
	sc, err := readScope(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.customerExists(ctx, s.store, sc, customerID); err != nil {
		return nil, err
	}
	return s.of(ctx, s.store, sc, customerID)
}

// Add gives a customer the definitions with the given ids; ones it already
// carries are left as they are. A tag beyond MaxTagsPerCustomer is
// ErrTooManyTags and nothing is added; an unknown id is ErrInvalid (on
// "ids[i]", i its position after sorting and removing repeats).
func (s *QualifierService) Add(ctx context.Context, customerID string, ids ...string) ([]Qualifier, error) {
	return s.change(ctx, customerID, ids, func(current []CustomerQualifier, add []string, now time.Time, sc scope) ([]CustomerQualifier, []string, error) {
		used := map[int]bool{}
		for _, l := range current {
			used[l.Slot] = true
		}
		var links []CustomerQualifier
		slot := 0
		for _, id := range add {
			if slices.ContainsFunc(current, func(l CustomerQualifier) bool { return l.QualifierID == id }) {
				continue
			}
			if s.kind == KindTag {
				for slot++; used[slot]; slot++ {
				}
				if slot > MaxTagsPerCustomer {
					return nil, nil, ErrTooManyTags
				}
			}
			links = append(links, CustomerQualifier{OrgID: sc.org, CustomerID: customerID, QualifierID: id,
				Kind: s.kind, Slot: slot, AddedAt: now, AddedBy: sc.actor})
		}
		return links, nil, nil
	})
}

// Remove takes the definitions with the given ids off a customer; ones it
// does not carry are ignored.
func (s *QualifierService) Remove(ctx context.Context, customerID string, ids ...string) ([]Qualifier, error) {
	return s.change(ctx, customerID, ids, func(current []CustomerQualifier, remove []string, _ time.Time, _ scope) ([]CustomerQualifier, []string, error) {
		var drop []string
		for _, l := range current {
			if slices.Contains(remove, l.QualifierID) {
				drop = append(drop, l.QualifierID)
			}
		}
		return nil, drop, nil
	})
}

// change runs an addition or removal in one transaction: it locks the
// customer, checks the ids, applies plan's links, and writes the timeline
// event with the names before and after.
func (s *QualifierService) change(ctx context.Context, customerID string, ids []string,
	plan func(current []CustomerQualifier, ids []string, now time.Time, sc scope) (add []CustomerQualifier, remove []string, err error),
) ([]Qualifier, error) {
	sc, err := s.writeScope(ctx)
	if err != nil {
		return nil, err
	}
	if !validID(customerID) {
		return nil, &notFoundError{what: "customer " + customerID}
	}
	v := newValidation(sc.lang)
	if len(ids) == 0 {
		v.add("ids", "required", "")
	}
	ids = slices.Compact(slices.Sorted(slices.Values(ids)))
	var after []Qualifier
	err = s.store.InTx(ctx, func(tx Store) error {
		now := s.now()
		// Locks the customer row until commit: concurrent changes of the
		// same customer's tags run one after the other.
		if err := tx.CustomerTouch(ctx, sc.org, customerID, now); err != nil {
			return err
		}
		defs, err := tx.QualifierList(ctx, sc.org, s.kind)
		if err != nil {
			return err
		}
		for i, id := range ids {
			if !slices.ContainsFunc(defs, func(q Qualifier) bool { return q.ID == id }) {
				v.add("ids["+strconv.Itoa(i)+"]", "unknown", "")
			}
		}
		if err := v.err(); err != nil {
			return err
		}
		current, err := tx.CustomerQualifierList(ctx, sc.org, s.kind, []string{customerID})
		if err != nil {
			return err
		}
		add, remove, err := plan(current, ids, now, sc)
		if err != nil {
			return err
		}
		before := namesOf(defs, current)
		if len(add) > 0 {
			if err := tx.CustomerQualifierInsert(ctx, add...); err != nil {
				if errors.Is(err, ErrConflict) && s.kind == KindTag {
					return ErrTooManyTags
				}
				return err
			}
		}
		if len(remove) > 0 {
			if err := tx.CustomerQualifierDelete(ctx, sc.org, customerID, remove); err != nil {
				return err
			}
		}
		if after, err = s.of(ctx, tx, sc, customerID); err != nil {
			return err
		}
		if len(add) == 0 && len(remove) == 0 {
			return nil
		}
		afterNames := make([]string, len(after))
		for i, q := range after {
			afterNames[i] = q.Name
		}
		return tx.HistoryAppend(ctx, s.event(sc, customerID, s.changedEvent(), now,
			[]FieldChange{{Field: s.field(), Old: nilIfEmpty(before), New: nilIfEmpty(afterNames)}}))
	})
	if err != nil {
		return nil, err
	}
	return after, nil
}

// of returns the definitions a customer carries, in display order.
func (s *QualifierService) of(ctx context.Context, st QualifierStore, sc scope, customerID string) ([]Qualifier, error) {
	defs, err := st.QualifierList(ctx, sc.org, s.kind)
	if err != nil {
		return nil, err
	}
	links, err := st.CustomerQualifierList(ctx, sc.org, s.kind, []string{customerID})
	if err != nil {
		return nil, err
	}
	out := []Qualifier{}
	for _, d := range defs {
		if slices.ContainsFunc(links, func(l CustomerQualifier) bool { return l.QualifierID == d.ID }) {
			out = append(out, d)
		}
	}
	return out, nil
}

func (s *QualifierService) find(ctx context.Context, st QualifierStore, sc scope, id string) (*Qualifier, error) {
	defs, err := st.QualifierList(ctx, sc.org, s.kind)
	if err != nil {
		return nil, err
	}
	for i := range defs {
		if defs[i].ID == id {
			return &defs[i], nil
		}
	}
	return nil, &notFoundError{what: string(s.kind) + " " + id}
}

// field is the name of the kind in field errors and timeline changes.
func (s *QualifierService) field() string { return string(s.kind) + "s" }

func (s *QualifierService) changedEvent() EventKind {
	if s.kind == KindTag {
		return EventTagsChanged
	}
	return EventAttributesChanged
}

// namesOf returns the names of the linked definitions in display order.
func namesOf(defs []Qualifier, links []CustomerQualifier) []string {
	var names []string
	for _, d := range defs {
		if slices.ContainsFunc(links, func(l CustomerQualifier) bool { return l.QualifierID == d.ID }) {
			names = append(names, d.Name)
		}
	}
	return names
}

func nilIfEmpty(s []string) any {
	if len(s) == 0 {
		return nil
	}
	return s
}

// defaultTags builds the default tag set of a new organisation.
func defaultTags(now time.Time) []Qualifier {
	qs := make([]Qualifier, len(DefaultTags))
	for i, name := range DefaultTags {
		qs[i] = Qualifier{ID: newID(), Kind: KindTag, Name: name, Position: i + 1, CreatedAt: now, UpdatedAt: now}
	}
	return qs
}
