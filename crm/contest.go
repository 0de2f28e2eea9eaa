package crm

import (
	"context"
	"errors"
	"strings"
	"time"
)

// Contest is a contest of the organisation (C13): a period and a question;
// customers enter once each, and staff pick winners.
type Contest struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Question string `json:"question"`
	// StartsOn and EndsOn bound the period in which entries are taken, both included.
	StartsOn  Date      `json:"startsOn"`
	EndsOn    Date      `json:"endsOn"`
	CreatedAt time.Time `json:"createdAt"`
}

// NewContest is the input of ContestService.Create.
type NewContest struct {
	Name     string `json:"name" validate:"required,max=200"`
	Question string `json:"question" validate:"required,max=2000" text:"multiline"`
	StartsOn *Date  `json:"startsOn"`
	EndsOn   *Date  `json:"endsOn"`
}

// ContestEntry is a customer's entry of a contest, kept on the dossier.
type ContestEntry struct {
	ID         string     `json:"id"`
	ContestID  string     `json:"contestId"`
	CustomerID string     `json:"customerId"`
	Answer     string     `json:"answer"`
	EnteredAt  time.Time  `json:"enteredAt"`
	Winner     bool       `json:"winner"`
	PickedAt   *time.Time `json:"pickedAt,omitempty"`
}

// ContestStore keeps contests and their entries.
type ContestStore interface {
	ContestInsert(ctx context.Context, orgID string, c *Contest) error
	ContestGet(ctx context.Context, orgID, id string) (*Contest, error)
	// ContestList returns the organisation's contests, newest period first.
	ContestList(ctx context.Context, orgID string) ([]Contest, error)
	// ContestEntryInsert stores an entry; a second entry of one customer
	// in one contest is ErrConflict.
	ContestEntryInsert(ctx context.Context, orgID string, e *ContestEntry) error
	ContestEntryGet(ctx context.Context, orgID, id string) (*ContestEntry, error)
	// ContestEntryList returns the entries of a contest (contestID set)
	// or of a customer (customerID set), oldest first.
	ContestEntryList(ctx context.Context, orgID, contestID, customerID string) ([]ContestEntry, error)
	// ContestEntryPick marks an entry a winner at the time given.
	ContestEntryPick(ctx context.Context, orgID, id string, at time.Time) error
}

// The timeline events of contests.
const (
	EventContestEntered EventKind = "contest.entered"
	EventContestWon     EventKind = "contest.won"
)

// ContestService keeps contests (C13). An organisation switches them on
// with PortalSettings.ContestsEnabled; off, every call is ErrFeatureOff.
type ContestService struct {
	*core
	portal *PortalService
}

func (s *ContestService) enabled(ctx context.Context, sc scope) error {
	return s.portal.feature(ctx, s.store, sc, func(p *PortalSettings) bool { return p.ContestsEnabled })
}

// Create adds a contest.
func (s *ContestService) Create(ctx context.Context, in NewContest) (*Contest, error) {
	sc, err := s.writeScope(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.enabled(ctx, sc); err != nil {
		return nil, err
	}
	v := newValidation(sc.lang)
	v.checkText("", &in)
	in.Name, in.Question = strings.TrimSpace(in.Name), strings.TrimSpace(in.Question)
	v.addStruct(s.validate, in)
	if in.StartsOn == nil {
		v.add("startsOn", "required", "")
	}
	if in.EndsOn == nil {
		v.add("endsOn", "required", "")
	}
	if in.StartsOn != nil && in.EndsOn != nil && in.EndsOn.Before(*in.StartsOn) {
		v.add("endsOn", "invalid", "")
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	c := &Contest{ID: newID(), Name: in.Name, Question: in.Question, StartsOn: *in.StartsOn, EndsOn: *in.EndsOn, CreatedAt: s.now()}
	if err := s.store.ContestInsert(ctx, sc.org, c); err != nil {
		return nil, err
	}
	return c, nil
}

// List returns the organisation's contests, newest period first.
func (s *ContestService) List(ctx context.Context) ([]Contest, error) {
	sc, err := readScope(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.enabled(ctx, sc); err != nil {
		return nil, err
	}
	cs, err := s.store.ContestList(ctx, sc.org)
	return nonNil(cs), err
}

// Get returns one contest.
func (s *ContestService) Get(ctx context.Context, id string) (*Contest, error) {
	sc, err := readScope(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.enabled(ctx, sc); err != nil {
		return nil, err
	}
	if !validID(id) {
		return nil, &notFoundError{what: "contest " + id}
	}
	return s.store.ContestGet(ctx, sc.org, id)
}

// Enter records a customer's entry with their answer: the signed-in
// customer's own for a customer actor (customerID is then ignored), else
// customerID's. Outside the contest's period the contest is closed (a
// *ValidationError on "contestId", code "closed"); a second entry of one
// customer is ErrConflict.
func (s *ContestService) Enter(ctx context.Context, contestID, customerID, answer string) (*ContestEntry, error) {
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
	v.checkText("answer", &answer)
	answer = strings.TrimSpace(answer)
	if answer == "" && !v.has("answer") {
		v.add("answer", "required", "")
	} else if len([]rune(answer)) > 2000 {
		v.add("answer", "max", "2000")
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	if !validID(contestID) {
		return nil, &notFoundError{what: "contest " + contestID}
	}
	if !validID(customerID) {
		return nil, &notFoundError{what: "customer " + customerID}
	}
	var out *ContestEntry
	err = s.store.InTx(ctx, func(tx Store) error {
		c, err := tx.ContestGet(ctx, sc.org, contestID)
		if err != nil {
			return err
		}
		now := s.now()
		today := DateOf(now)
		if today.Before(c.StartsOn) || c.EndsOn.Before(today) {
			v.add("contestId", "closed", "")
			return v.err()
		}
		if err := tx.CustomerTouch(ctx, sc.org, customerID, now); err != nil {
			return err
		}
		out = &ContestEntry{ID: newID(), ContestID: c.ID, CustomerID: customerID, Answer: answer, EnteredAt: now}
		if err := tx.ContestEntryInsert(ctx, sc.org, out); err != nil {
			if errors.Is(err, ErrConflict) {
				return &ConflictError{Field: "contestId", Reason: "the customer has entered this contest already"}
			}
			return err
		}
		return tx.HistoryAppend(ctx, s.event(sc, customerID, EventContestEntered, now, []FieldChange{
			{Field: "contest.id", New: c.ID}, {Field: "contest.name", New: c.Name}, {Field: "answer", New: answer}}))
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Entries returns the entries of a contest, oldest first.
func (s *ContestService) Entries(ctx context.Context, contestID string) ([]ContestEntry, error) {
	if _, err := s.Get(ctx, contestID); err != nil {
		return nil, err
	}
	sc, _ := readScope(ctx)
	es, err := s.store.ContestEntryList(ctx, sc.org, contestID, "")
	return nonNil(es), err
}

// EntriesOf returns a customer's entries of every contest, oldest first
// (for a customer actor: their own).
func (s *ContestService) EntriesOf(ctx context.Context, customerID string) ([]ContestEntry, error) {
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
	es, err := s.store.ContestEntryList(ctx, sc.org, "", customerID)
	return nonNil(es), err
}

// PickWinner makes an entry a winner (staff). Picking a winner twice
// changes nothing. Customers cannot pick (ErrUnauthenticated).
func (s *ContestService) PickWinner(ctx context.Context, entryID string) (*ContestEntry, error) {
	sc, err := s.writeScope(ctx)
	if err != nil {
		return nil, err
	}
	if sc.actor.Kind == ActorCustomer {
		return nil, errPortalAuth
	}
	if err := s.enabled(ctx, sc); err != nil {
		return nil, err
	}
	if !validID(entryID) {
		return nil, &notFoundError{what: "contest entry " + entryID}
	}
	var out *ContestEntry
	err = s.store.InTx(ctx, func(tx Store) error {
		e, err := tx.ContestEntryGet(ctx, sc.org, entryID)
		if err != nil {
			return err
		}
		out = e
		if e.Winner {
			return nil
		}
		now := s.now()
		if err := tx.ContestEntryPick(ctx, sc.org, entryID, now); err != nil {
			return err
		}
		e.Winner, e.PickedAt = true, &now
		c, err := tx.ContestGet(ctx, sc.org, e.ContestID)
		if err != nil {
			return err
		}
		if err := tx.CustomerTouch(ctx, sc.org, e.CustomerID, now); err != nil {
			return err
		}
		return tx.HistoryAppend(ctx, s.event(sc, e.CustomerID, EventContestWon, now, []FieldChange{
			{Field: "contest.id", New: c.ID}, {Field: "contest.name", New: c.Name}}))
	})
	return out, err
}

// Entry returns one contest entry.
func (s *ContestService) Entry(ctx context.Context, id string) (*ContestEntry, error) {
	sc, err := readScope(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.enabled(ctx, sc); err != nil {
		return nil, err
	}
	if !validID(id) {
		return nil, &notFoundError{what: "contest entry " + id}
	}
	e, err := s.store.ContestEntryGet(ctx, sc.org, id)
	if err != nil {
		return nil, err
	}
	if a, err := ActorFrom(ctx); err == nil && a.Kind == ActorCustomer && a.ID != e.CustomerID {
		return nil, &notFoundError{what: "contest entry " + id}
	}
	return e, nil
}
