package crm

import (
	"context"
	"strconv"
	"strings"
	"time"
)

// ItineraryTTL is how long a saved itinerary is kept: it is removed this
// long after it was saved, by the background work (ExpireItineraries).
const ItineraryTTL = 30 * 24 * time.Hour

// Itinerary is a trip a customer assembled on the organisation's site and
// saved from the portal (the shopping cart): structured lines, readable by
// staff in the dossier, never editable, removed ItineraryTTL after saving.
type Itinerary struct {
	ID         string          `json:"id"`
	CustomerID string          `json:"customerId"`
	Title      string          `json:"title"`
	Lines      []ItineraryLine `json:"lines"`
	CreatedAt  time.Time       `json:"createdAt"`
	ExpiresAt  time.Time       `json:"expiresAt"`
}

// ItineraryLine is one part of an itinerary: a flight, a stay, an
// excursion, ... with its dates and price.
type ItineraryLine struct {
	// Kind says what the line is ("flight", "hotel", "excursion", ...).
	Kind        string `json:"kind" validate:"required,max=40"`
	Description string `json:"description" validate:"required,max=500"`
	// Reference is the platform's product code.
	Reference string `json:"reference,omitempty" validate:"max=100"`
	StartDate *Date  `json:"startDate,omitempty"`
	EndDate   *Date  `json:"endDate,omitempty"`
	Quantity  int    `json:"quantity,omitempty" validate:"min=0,max=1000"`
	// PriceMinor is the price in minor units of Currency (cents).
	PriceMinor int64  `json:"priceMinor,omitempty" validate:"min=0,max=100000000000"`
	Currency   string `json:"currency,omitempty" validate:"omitempty,len=3,uppercase"`
}

// NewItinerary is the input of ItineraryService.Save.
type NewItinerary struct {
	Title string          `json:"title" validate:"required,max=200"`
	Lines []ItineraryLine `json:"lines" validate:"required,min=1,max=100,dive"`
}

// ItineraryStore keeps saved itineraries.
type ItineraryStore interface {
	ItineraryInsert(ctx context.Context, orgID string, it *Itinerary) error
	ItineraryGet(ctx context.Context, orgID, id string) (*Itinerary, error)
	// ItineraryList returns a customer's itineraries, newest first.
	ItineraryList(ctx context.Context, orgID, customerID string) ([]Itinerary, error)
	// ItineraryDeleteExpired removes up to limit itineraries that expired
	// at or before now, returning them (ids and customers).
	ItineraryDeleteExpired(ctx context.Context, orgID string, now time.Time, limit int) ([]Itinerary, error)
}

// The timeline events of itineraries.
const (
	EventItinerarySaved   EventKind = "itinerary.saved"
	EventItineraryRemoved EventKind = "itinerary.removed"
)

// ItineraryService keeps itineraries (C13). An organisation switches them
// on with PortalSettings.ItinerariesEnabled; off, every call is ErrFeatureOff.
type ItineraryService struct {
	*core
	portal *PortalService
}

func (s *ItineraryService) enabled(ctx context.Context, sc scope) error {
	return s.portal.feature(ctx, s.store, sc, func(p *PortalSettings) bool { return p.ItinerariesEnabled })
}

// Save stores an itinerary for the signed-in customer (the context's actor
// must be the customer: CustomerActor) or, for other actors, for
// customerID. It is removed ItineraryTTL after saving.
func (s *ItineraryService) Save(ctx context.Context, customerID string, in NewItinerary) (*Itinerary, error) {
	sc, err := s.writeScope(ctx)
	if err != nil {
		return nil, err
	}
	if sc.actor.Kind == ActorCustomer {
		customerID = sc.actor.ID
	}
	if err := s.enabled(ctx, sc); err != nil {
		return nil, err
	}
	v := newValidation(sc.lang)
	v.checkText("", &in)
	in.Title = strings.TrimSpace(in.Title)
	v.addStruct(s.validate, in)
	for i, l := range in.Lines {
		if l.StartDate != nil && l.EndDate != nil && l.EndDate.Before(*l.StartDate) {
			v.add("lines["+strconv.Itoa(i)+"].endDate", "invalid", "")
		}
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	if !validID(customerID) {
		return nil, &notFoundError{what: "customer " + customerID}
	}
	now := s.now()
	it := &Itinerary{ID: newID(), CustomerID: customerID, Title: in.Title, Lines: in.Lines, CreatedAt: now, ExpiresAt: now.Add(ItineraryTTL)}
	err = s.store.InTx(ctx, func(tx Store) error {
		if err := tx.CustomerTouch(ctx, sc.org, customerID, now); err != nil {
			return err
		}
		if err := tx.ItineraryInsert(ctx, sc.org, it); err != nil {
			return err
		}
		return tx.HistoryAppend(ctx, s.event(sc, customerID, EventItinerarySaved, now, []FieldChange{
			{Field: "itinerary.id", New: it.ID}, {Field: "itinerary.title", New: it.Title}}))
	})
	if err != nil {
		return nil, err
	}
	return it, nil
}

// List returns a customer's saved itineraries, newest first (for a
// customer actor: their own, whatever customerID says).
func (s *ItineraryService) List(ctx context.Context, customerID string) ([]Itinerary, error) {
	sc, err := readScope(ctx)
	if err != nil {
		return nil, err
	}
	if a, err := ActorFrom(ctx); err == nil && a.Kind == ActorCustomer {
		customerID = a.ID
	}
	if err := s.enabled(ctx, sc); err != nil {
		return nil, err
	}
	if err := s.customerExists(ctx, s.store, sc, customerID); err != nil {
		return nil, err
	}
	items, err := s.store.ItineraryList(ctx, sc.org, customerID)
	return nonNil(items), err
}

// Get returns one itinerary (for a customer actor: only their own).
func (s *ItineraryService) Get(ctx context.Context, id string) (*Itinerary, error) {
	sc, err := readScope(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.enabled(ctx, sc); err != nil {
		return nil, err
	}
	if !validID(id) {
		return nil, &notFoundError{what: "itinerary " + id}
	}
	it, err := s.store.ItineraryGet(ctx, sc.org, id)
	if err != nil {
		return nil, err
	}
	if a, err := ActorFrom(ctx); err == nil && a.Kind == ActorCustomer && a.ID != it.CustomerID {
		return nil, &notFoundError{what: "itinerary " + id}
	}
	return it, nil
}

// ExpireDue removes the organisation's itineraries saved ItineraryTTL or
// longer before now, each with an "itinerary.removed" event; it returns
// how many. It runs whether the feature is on or not: what was saved goes
// when its time is up.
func (s *ItineraryService) ExpireDue(ctx context.Context, now time.Time) (int, error) {
	sc, err := s.writeScope(ctx)
	if err != nil {
		return 0, err
	}
	total := 0
	for {
		n := 0
		err := s.store.InTx(ctx, func(tx Store) error {
			gone, err := tx.ItineraryDeleteExpired(ctx, sc.org, now.UTC(), 500)
			if err != nil {
				return err
			}
			n = len(gone)
			at := s.now()
			for _, it := range gone {
				if err := tx.HistoryAppend(ctx, s.event(sc, it.CustomerID, EventItineraryRemoved, at, []FieldChange{
					{Field: "itinerary.id", New: it.ID}, {Field: "reason", New: "expired"}})); err != nil {
					return err
				}
			}
			return nil
		})
		total += n
		if err != nil || n < 500 {
			return total, err
		}
	}
}

// ExpireItineraries is the periodic job that removes itineraries past
// ItineraryTTL in every organisation (ItineraryService.ExpireDue).
type ExpireItineraries struct{}

// JobExpireItineraries is the kind of ExpireItineraries.
const JobExpireItineraries = "itineraries.expire"

// Kind implements Job.
func (ExpireItineraries) Kind() string { return JobExpireItineraries }
