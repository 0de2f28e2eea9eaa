package crm

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"
)

// Label is an organisation's label: it marks customers and may carry
// benefits ("10% off excursions", "free upgrade"). A membership label is a
// membership type: customers get it through a Membership, which shows the
// label while it is active.
type Label struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// Benefits describes what the label gives its holder.
	Benefits string `json:"benefits,omitempty"`
	Colour   string `json:"colour,omitempty"`
	// Membership marks a membership type: the label is given through
	// memberships with a start and an end, not assigned directly.
	Membership bool      `json:"membership"`
	CreatedAt  time.Time `json:"createdAt"`
	UpdatedAt  time.Time `json:"updatedAt"`
}

// NewLabel is the input of LabelService.Define.
type NewLabel struct {
	Name       string `json:"name" validate:"required,max=60"`
	Benefits   string `json:"benefits,omitempty" validate:"max=2000" text:"multiline"`
	Colour     string `json:"colour,omitempty" validate:"omitempty,hexcolor"`
	Membership bool   `json:"membership,omitempty"`
}

// LabelPatch changes a label; nil fields stay. Whether a label is a
// membership type cannot change: memberships would lose their meaning.
type LabelPatch struct {
	Name     *string `json:"name,omitempty" validate:"omitempty,min=1,max=60"`
	Benefits *string `json:"benefits,omitempty" validate:"omitempty,max=2000" text:"multiline"`
	Colour   *string `json:"colour,omitempty" validate:"omitempty,hexcolor|len=0"`
}

// Membership gives its holder, and the customers it is shared with, a
// membership label from StartsOn to EndsOn (both included) unless it is
// cancelled. Whether it is active is worked out from the dates when read,
// so an expired membership drops out without a job having to run.
type Membership struct {
	ID      string `json:"id"`
	LabelID string `json:"labelId"`
	// HolderID is the customer who holds the membership.
	HolderID string `json:"holderId"`
	// SharedWith are further customers who enjoy it (a family membership).
	SharedWith  []string   `json:"sharedWith,omitempty"`
	StartsOn    Date       `json:"startsOn"`
	EndsOn      Date       `json:"endsOn"`
	CancelledAt *time.Time `json:"cancelledAt,omitempty"`
	CreatedAt   time.Time  `json:"createdAt"`
	UpdatedAt   time.Time  `json:"updatedAt"`
}

// ActiveOn reports whether the membership gives its label on day d.
func (m *Membership) ActiveOn(d Date) bool {
	return m.CancelledAt == nil && !d.Before(m.StartsOn) && !d.After(m.EndsOn)
}

// NewMembership is the input of LabelService.StartMembership.
type NewMembership struct {
	LabelID  string `json:"labelId" validate:"required"`
	HolderID string `json:"holderId" validate:"required"`
	// StartsOn defaults to today.
	StartsOn *Date `json:"startsOn,omitempty"`
	EndsOn   Date  `json:"endsOn"`
}

// CustomerLabel is a label a customer carries now, directly or through an
// active membership, with how often its benefit was used.
type CustomerLabel struct {
	Label
	// MembershipID is set when the label comes from a membership.
	MembershipID string `json:"membershipId,omitempty"`
	// Until is the last day of the membership, when from one.
	Until *Date `json:"until,omitempty"`
	// BenefitUses counts the recorded uses of the label's benefit by this customer.
	BenefitUses int `json:"benefitUses"`
}

// BenefitUse records one use of a label's benefit by a customer.
type BenefitUse struct {
	ID           string `json:"id"`
	OrgID        string `json:"-"`
	CustomerID   string `json:"customerId"`
	LabelID      string `json:"labelId"`
	MembershipID string `json:"membershipId,omitempty"`
	Note         string `json:"note,omitempty"`
	// Channel is where the benefit was used (box office or online), when said.
	Channel BenefitChannel `json:"channel,omitempty"`
	At      time.Time      `json:"at"`
	Actor   Actor          `json:"actor"`
}

// BenefitChannel is where a label's benefit was used: the ticketing
// systems count box-office and online uses apart.
type BenefitChannel string

// The benefit channels.
const (
	BenefitAtBoxOffice BenefitChannel = "box_office"
	BenefitOnline      BenefitChannel = "online"
)

// CustomerLabelLink is a label assigned directly to a customer.
type CustomerLabelLink struct {
	OrgID      string
	CustomerID string
	LabelID    string
	AddedAt    time.Time
}

// LabelStore keeps labels, their direct assignments, memberships and
// benefit uses.
type LabelStore interface {
	// LabelInsert stores a label; a name in use (any case) is a *ConflictError on "name".
	LabelInsert(ctx context.Context, orgID string, l *Label) error
	// LabelUpdate stores a changed label or returns ErrNotFound.
	LabelUpdate(ctx context.Context, orgID string, l *Label) error
	// LabelDelete removes a label with its assignments, memberships and benefit uses.
	LabelDelete(ctx context.Context, orgID, id string) error
	// LabelList returns the organisation's labels by name.
	LabelList(ctx context.Context, orgID string) ([]Label, error)
	// LabelCustomerIDs returns every customer that carries the label
	// directly or holds or shares a membership of it, active or not.
	LabelCustomerIDs(ctx context.Context, orgID, labelID string) ([]string, error)

	// CustomerLabelInsert assigns a label; one assigned already is ErrConflict.
	CustomerLabelInsert(ctx context.Context, link CustomerLabelLink) error
	// CustomerLabelDelete takes a label off; ErrNotFound when not assigned.
	CustomerLabelDelete(ctx context.Context, orgID, customerID, labelID string) error
	// CustomerLabelList returns the labels assigned directly to a customer.
	CustomerLabelList(ctx context.Context, orgID, customerID string) ([]CustomerLabelLink, error)

	// MembershipInsert stores a new membership.
	MembershipInsert(ctx context.Context, orgID string, m *Membership) error
	// MembershipGet returns one membership or ErrNotFound.
	MembershipGet(ctx context.Context, orgID, id string) (*Membership, error)
	// MembershipUpdate stores changed dates, holder, sharing or cancellation.
	MembershipUpdate(ctx context.Context, orgID string, m *Membership) error
	// MembershipList returns the memberships a customer holds or shares,
	// newest first, expired and cancelled ones included.
	MembershipList(ctx context.Context, orgID, customerID string) ([]Membership, error)

	// BenefitUseInsert records a benefit use.
	BenefitUseInsert(ctx context.Context, u *BenefitUse) error
	// BenefitUseCounts counts a customer's benefit uses per label.
	BenefitUseCounts(ctx context.Context, orgID, customerID string) (map[string]int, error)
}

// The timeline events of labels and memberships.
const (
	EventLabelAdded          EventKind = "label.added"
	EventLabelRemoved        EventKind = "label.removed"
	EventBenefitUsed         EventKind = "label.benefit_used"
	EventMembershipStarted   EventKind = "membership.started"
	EventMembershipRenewed   EventKind = "membership.renewed"
	EventMembershipCancelled EventKind = "membership.cancelled"
	EventMembershipShared    EventKind = "membership.shared"
	EventMembershipUnshared  EventKind = "membership.unshared"
	// EventMembershipGivenAway is written on both sides of a transfer.
	EventMembershipGivenAway EventKind = "membership.given_away"
)

// LabelService manages labels, their assignment to customers, memberships
// and benefit uses for the context's organisation.
type LabelService struct{ *core }

// Define adds a label or membership type.
func (s *LabelService) Define(ctx context.Context, in NewLabel) (*Label, error) {
	sc, err := s.writeScope(ctx)
	if err != nil {
		return nil, err
	}
	v := newValidation(sc.lang)
	v.checkText("", &in)
	in.Name, in.Colour, in.Benefits = strings.TrimSpace(in.Name), strings.ToLower(strings.TrimSpace(in.Colour)), strings.TrimSpace(in.Benefits)
	v.addStruct(s.validate, in)
	if err := v.err(); err != nil {
		return nil, err
	}
	now := s.now()
	l := &Label{ID: newID(), Name: in.Name, Benefits: in.Benefits, Colour: in.Colour, Membership: in.Membership, CreatedAt: now, UpdatedAt: now}
	if err := s.store.LabelInsert(ctx, sc.org, l); err != nil {
		return nil, err
	}
	return l, nil
}

// Update changes a label's name, benefits or colour.
func (s *LabelService) Update(ctx context.Context, id string, p LabelPatch) (*Label, error) {
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
	var l *Label
	err = s.store.InTx(ctx, func(tx Store) error {
		if l, err = s.label(ctx, tx, sc, id); err != nil {
			return err
		}
		if p.Name != nil {
			l.Name = strings.TrimSpace(*p.Name)
		}
		if p.Benefits != nil {
			l.Benefits = strings.TrimSpace(*p.Benefits)
		}
		if p.Colour != nil {
			l.Colour = strings.ToLower(strings.TrimSpace(*p.Colour))
		}
		l.UpdatedAt = s.now()
		return tx.LabelUpdate(ctx, sc.org, l)
	})
	if err != nil {
		return nil, err
	}
	return l, nil
}

// Delete removes a label with its assignments, memberships and recorded
// benefit uses; every customer that had it gets a timeline event.
func (s *LabelService) Delete(ctx context.Context, id string) error {
	sc, err := s.writeScope(ctx)
	if err != nil {
		return err
	}
	return s.removeDefinition(ctx, sc, EventLabelRemoved, func(tx Store) (FieldChange, []string, error) {
		l, err := s.label(ctx, tx, sc, id)
		if err != nil {
			return FieldChange{}, nil, err
		}
		customers, err := tx.LabelCustomerIDs(ctx, sc.org, id)
		return FieldChange{Field: "labels", Old: l.Name}, customers, err
	}, func(tx Store) error { return tx.LabelDelete(ctx, sc.org, id) })
}

// List returns the organisation's labels and membership types by name.
func (s *LabelService) List(ctx context.Context) ([]Label, error) {
	sc, err := readScope(ctx)
	if err != nil {
		return nil, err
	}
	return s.store.LabelList(ctx, sc.org)
}

// Assign gives a customer a label that is not a membership type.
func (s *LabelService) Assign(ctx context.Context, customerID, labelID string) error {
	return s.onCustomer(ctx, customerID, func(tx Store, sc scope, now time.Time) ([]HistoryEvent, error) {
		l, err := s.label(ctx, tx, sc, labelID)
		if err != nil {
			return nil, err
		}
		if l.Membership {
			v := newValidation(sc.lang)
			v.add("labelId", "invalid", "")
			return nil, v.err()
		}
		if err := tx.CustomerLabelInsert(ctx, CustomerLabelLink{OrgID: sc.org, CustomerID: customerID, LabelID: labelID, AddedAt: now}); err != nil {
			if errors.Is(err, ErrConflict) {
				return nil, &ConflictError{Field: "labelId", Reason: "the customer has this label already"}
			}
			return nil, err
		}
		return []HistoryEvent{s.event(sc, customerID, EventLabelAdded, now, []FieldChange{{Field: "labels", New: l.Name}})}, nil
	})
}

// Unassign takes a directly assigned label off a customer.
func (s *LabelService) Unassign(ctx context.Context, customerID, labelID string) error {
	return s.onCustomer(ctx, customerID, func(tx Store, sc scope, now time.Time) ([]HistoryEvent, error) {
		l, err := s.label(ctx, tx, sc, labelID)
		if err != nil {
			return nil, err
		}
		if err := tx.CustomerLabelDelete(ctx, sc.org, customerID, labelID); err != nil {
			return nil, err
		}
		return []HistoryEvent{s.event(sc, customerID, EventLabelRemoved, now, []FieldChange{{Field: "labels", Old: l.Name}})}, nil
	})
}

// Of returns the labels a customer carries today: assigned ones and those of
// its active memberships (held or shared), with benefit use counts.
func (s *LabelService) Of(ctx context.Context, customerID string) ([]CustomerLabel, error) {
	sc, err := readScope(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.customerExists(ctx, s.store, sc, customerID); err != nil {
		return nil, err
	}
	return s.of(ctx, s.store, sc, customerID)
}

// of returns the labels a customer carries today, read from st.
func (s *LabelService) of(ctx context.Context, st LabelStore, sc scope, customerID string) ([]CustomerLabel, error) {
	labels, err := st.LabelList(ctx, sc.org)
	if err != nil {
		return nil, err
	}
	byID := map[string]Label{}
	for _, l := range labels {
		byID[l.ID] = l
	}
	links, err := st.CustomerLabelList(ctx, sc.org, customerID)
	if err != nil {
		return nil, err
	}
	memberships, err := st.MembershipList(ctx, sc.org, customerID)
	if err != nil {
		return nil, err
	}
	uses, err := st.BenefitUseCounts(ctx, sc.org, customerID)
	if err != nil {
		return nil, err
	}
	out := []CustomerLabel{}
	for _, link := range links {
		out = append(out, CustomerLabel{Label: byID[link.LabelID], BenefitUses: uses[link.LabelID]})
	}
	today := DateOf(s.now())
	for _, m := range memberships {
		if !m.ActiveOn(today) || slices.ContainsFunc(out, func(c CustomerLabel) bool { return c.ID == m.LabelID }) {
			continue
		}
		until := m.EndsOn
		out = append(out, CustomerLabel{Label: byID[m.LabelID], MembershipID: m.ID, Until: &until, BenefitUses: uses[m.LabelID]})
	}
	slices.SortFunc(out, func(a, b CustomerLabel) int { return strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)) })
	return out, nil
}

// UseBenefit records that a customer used the benefit of a label it carries
// today, and returns how often it has now.
func (s *LabelService) UseBenefit(ctx context.Context, customerID, labelID, note string) (int, error) {
	return s.UseBenefitVia(ctx, customerID, labelID, "", note)
}

// UseBenefitVia is UseBenefit with the channel the benefit was used
// through (box office or online; empty when unknown).
func (s *LabelService) UseBenefitVia(ctx context.Context, customerID, labelID string, channel BenefitChannel, note string) (int, error) {
	switch channel {
	case "", BenefitAtBoxOffice, BenefitOnline:
	default:
		v := newValidation(languageFrom(ctx))
		v.add("channel", "oneof", "box_office, online")
		return 0, v.err()
	}
	clean, code := cleanText(note, true)
	if code != "" {
		v := newValidation(languageFrom(ctx))
		v.add("note", code, "")
		return 0, v.err()
	}
	note = clean
	var count int
	err := s.onCustomer(ctx, customerID, func(tx Store, sc scope, now time.Time) ([]HistoryEvent, error) {
		l, err := s.label(ctx, tx, sc, labelID)
		if err != nil {
			return nil, err
		}
		use := &BenefitUse{ID: newID(), OrgID: sc.org, CustomerID: customerID, LabelID: labelID, Note: strings.TrimSpace(note), Channel: channel, At: now, Actor: sc.actor}
		carries, err := s.carries(ctx, tx, sc, customerID, labelID, DateOf(now))
		if err != nil {
			return nil, err
		}
		if carries == nil {
			return nil, &ConflictError{Field: "labelId", Reason: "the customer does not carry this label today"}
		}
		use.MembershipID = carries.ID
		if err := tx.BenefitUseInsert(ctx, use); err != nil {
			return nil, err
		}
		counts, err := tx.BenefitUseCounts(ctx, sc.org, customerID)
		if err != nil {
			return nil, err
		}
		count = counts[labelID]
		changes := []FieldChange{{Field: "labels." + l.Name + ".benefitUses", Old: count - 1, New: count}}
		if use.Note != "" {
			changes = append(changes, FieldChange{Field: "note", New: use.Note})
		}
		if channel != "" {
			changes = append(changes, FieldChange{Field: "channel", New: string(channel)})
		}
		return []HistoryEvent{s.event(sc, customerID, EventBenefitUsed, now, changes)}, nil
	})
	return count, err
}

// carries reports whether the customer carries the label on day d: a
// direct assignment gives an empty Membership, an active membership itself;
// nil when it does not carry it.
func (s *LabelService) carries(ctx context.Context, st LabelStore, sc scope, customerID, labelID string, d Date) (*Membership, error) {
	links, err := st.CustomerLabelList(ctx, sc.org, customerID)
	if err != nil {
		return nil, err
	}
	if slices.ContainsFunc(links, func(l CustomerLabelLink) bool { return l.LabelID == labelID }) {
		return &Membership{}, nil
	}
	memberships, err := st.MembershipList(ctx, sc.org, customerID)
	if err != nil {
		return nil, err
	}
	for i := range memberships {
		if memberships[i].LabelID == labelID && memberships[i].ActiveOn(d) {
			return &memberships[i], nil
		}
	}
	return nil, nil
}

// StartMembership gives a customer a membership of a membership type.
func (s *LabelService) StartMembership(ctx context.Context, in NewMembership) (*Membership, error) {
	var m *Membership
	err := s.onCustomer(ctx, in.HolderID, func(tx Store, sc scope, now time.Time) ([]HistoryEvent, error) {
		v := newValidation(sc.lang)
		v.checkText("", &in)
		v.addStruct(s.validate, in)
		starts := DateOf(now)
		if in.StartsOn != nil {
			starts = *in.StartsOn
		}
		if in.EndsOn.IsZero() {
			v.add("endsOn", "required", "")
		} else if in.EndsOn.Before(starts) {
			v.add("endsOn", "invalid", "")
		}
		l, err := s.label(ctx, tx, sc, in.LabelID)
		if errors.Is(err, ErrNotFound) {
			v.add("labelId", "unknown", "")
		} else if err != nil {
			return nil, err
		} else if !l.Membership {
			v.add("labelId", "invalid", "")
		}
		if err := v.err(); err != nil {
			return nil, err
		}
		m = &Membership{ID: newID(), LabelID: in.LabelID, HolderID: in.HolderID, StartsOn: starts, EndsOn: in.EndsOn, CreatedAt: now, UpdatedAt: now}
		if err := tx.MembershipInsert(ctx, sc.org, m); err != nil {
			return nil, err
		}
		return []HistoryEvent{s.event(sc, in.HolderID, EventMembershipStarted, now, []FieldChange{
			{Field: "membership", New: l.Name}, {Field: "membership.startsOn", New: starts.String()}, {Field: "membership.endsOn", New: in.EndsOn.String()}})}, nil
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}

// Membership returns one membership.
func (s *LabelService) Membership(ctx context.Context, id string) (*Membership, error) {
	sc, err := readScope(ctx)
	if err != nil {
		return nil, err
	}
	if !validID(id) {
		return nil, &notFoundError{what: "membership " + id}
	}
	return s.store.MembershipGet(ctx, sc.org, id)
}

// Memberships returns the memberships a customer holds or shares, newest
// first, expired and cancelled ones included.
func (s *LabelService) Memberships(ctx context.Context, customerID string) ([]Membership, error) {
	sc, err := readScope(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.customerExists(ctx, s.store, sc, customerID); err != nil {
		return nil, err
	}
	ms, err := s.store.MembershipList(ctx, sc.org, customerID)
	if ms == nil && err == nil {
		ms = []Membership{}
	}
	return ms, err
}

// RenewMembership moves a membership's end to endsOn, which must be later
// than its current end. A cancelled membership cannot be renewed: start a
// new one.
func (s *LabelService) RenewMembership(ctx context.Context, id string, endsOn Date) (*Membership, error) {
	return s.changeMembership(ctx, id, func(m *Membership, v *validation, l *Label) (EventKind, []FieldChange, []string) {
		if m.CancelledAt != nil {
			v.add("membershipId", "invalid", "")
		}
		if code := validDate(endsOn); code != "" {
			v.add("endsOn", code, "")
		} else if !endsOn.After(m.EndsOn) {
			v.add("endsOn", "invalid", "")
		}
		old := m.EndsOn
		m.EndsOn = endsOn
		return EventMembershipRenewed, []FieldChange{{Field: "membership.endsOn", Old: old.String(), New: endsOn.String()}}, nil
	})
}

// CancelMembership ends a membership now: its label disappears at once from
// the holder and everyone it is shared with. Cancelling twice changes nothing.
func (s *LabelService) CancelMembership(ctx context.Context, id string) (*Membership, error) {
	return s.changeMembership(ctx, id, func(m *Membership, _ *validation, l *Label) (EventKind, []FieldChange, []string) {
		if m.CancelledAt != nil {
			return "", nil, nil
		}
		now := s.now()
		m.CancelledAt = &now
		return EventMembershipCancelled, []FieldChange{{Field: "membership", Old: l.Name}}, m.SharedWith
	})
}

// ShareMembership lets another customer enjoy a membership (and its label).
func (s *LabelService) ShareMembership(ctx context.Context, id, customerID string) (*Membership, error) {
	return s.changeMembership(ctx, id, func(m *Membership, v *validation, l *Label) (EventKind, []FieldChange, []string) {
		if customerID == m.HolderID || slices.Contains(m.SharedWith, customerID) {
			v.add("customerId", "duplicate", "")
		}
		m.SharedWith = append(slices.Clone(m.SharedWith), customerID)
		return EventMembershipShared, []FieldChange{{Field: "membership.sharedWith", New: customerID}}, []string{customerID}
	})
}

// UnshareMembership stops sharing a membership with a customer.
func (s *LabelService) UnshareMembership(ctx context.Context, id, customerID string) (*Membership, error) {
	return s.changeMembership(ctx, id, func(m *Membership, v *validation, l *Label) (EventKind, []FieldChange, []string) {
		if !slices.Contains(m.SharedWith, customerID) {
			v.add("customerId", "unknown", "")
		}
		m.SharedWith = slices.DeleteFunc(slices.Clone(m.SharedWith), func(c string) bool { return c == customerID })
		return EventMembershipUnshared, []FieldChange{{Field: "membership.sharedWith", Old: customerID}}, []string{customerID}
	})
}

// GiveAwayMembership makes another customer the holder; the giver loses it
// (unless it is shared with them), the people it is shared with keep it.
func (s *LabelService) GiveAwayMembership(ctx context.Context, id, toCustomerID string) (*Membership, error) {
	return s.changeMembership(ctx, id, func(m *Membership, v *validation, l *Label) (EventKind, []FieldChange, []string) {
		if m.CancelledAt != nil {
			v.add("membershipId", "invalid", "")
		}
		if toCustomerID == m.HolderID {
			v.add("customerId", "duplicate", "")
		}
		from := m.HolderID
		m.HolderID = toCustomerID
		m.SharedWith = slices.DeleteFunc(slices.Clone(m.SharedWith), func(c string) bool { return c == toCustomerID })
		return EventMembershipGivenAway, []FieldChange{{Field: "membership.holder", Old: from, New: toCustomerID}}, []string{toCustomerID}
	})
}

// changeMembership loads a membership, applies edit, stores it, and writes
// the event on the holder's timeline (the holder before the change) and on
// the timelines of the other customers edit names.
func (s *LabelService) changeMembership(ctx context.Context, id string,
	edit func(m *Membership, v *validation, l *Label) (EventKind, []FieldChange, []string),
) (*Membership, error) {
	sc, err := s.writeScope(ctx)
	if err != nil {
		return nil, err
	}
	if !validID(id) {
		return nil, &notFoundError{what: "membership " + id}
	}
	var m *Membership
	err = s.store.InTx(ctx, func(tx Store) error {
		if m, err = tx.MembershipGet(ctx, sc.org, id); err != nil {
			return err
		}
		now := s.now()
		if err := tx.CustomerTouch(ctx, sc.org, m.HolderID, now); err != nil {
			return err
		}
		l, err := s.label(ctx, tx, sc, m.LabelID)
		if err != nil {
			return err
		}
		holder := m.HolderID
		v := newValidation(sc.lang)
		kind, changes, others := edit(m, v, l)
		if err := v.err(); err != nil {
			return err
		}
		if kind == "" {
			return nil
		}
		for _, other := range others {
			if err := s.customerExists(ctx, tx, sc, other); err != nil {
				if errors.Is(err, ErrNotFound) {
					v.add("customerId", "unknown", "")
					return v.err()
				}
				return err
			}
		}
		m.UpdatedAt = now
		if err := tx.MembershipUpdate(ctx, sc.org, m); err != nil {
			return err
		}
		events := []HistoryEvent{s.event(sc, holder, kind, now, changes)}
		for _, other := range others {
			if other != holder {
				events = append(events, s.event(sc, other, kind, now, changes))
			}
		}
		return tx.HistoryAppend(ctx, events...)
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}

// onCustomer runs change in a transaction that locks the customer first,
// and appends the events it returns.
func (s *LabelService) onCustomer(ctx context.Context, customerID string, change func(tx Store, sc scope, now time.Time) ([]HistoryEvent, error)) error {
	sc, err := s.writeScope(ctx)
	if err != nil {
		return err
	}
	if !validID(customerID) {
		return &notFoundError{what: "customer " + customerID}
	}
	return s.store.InTx(ctx, func(tx Store) error {
		now := s.now()
		if err := tx.CustomerTouch(ctx, sc.org, customerID, now); err != nil {
			return err
		}
		events, err := change(tx, sc, now)
		if err != nil {
			return err
		}
		return tx.HistoryAppend(ctx, events...)
	})
}

func (s *LabelService) label(ctx context.Context, st LabelStore, sc scope, id string) (*Label, error) {
	labels, err := st.LabelList(ctx, sc.org)
	if err != nil {
		return nil, err
	}
	for i := range labels {
		if labels[i].ID == id {
			return &labels[i], nil
		}
	}
	return nil, &notFoundError{what: "label " + id}
}
