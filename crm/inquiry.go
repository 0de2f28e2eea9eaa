package crm

import (
	"context"
	"errors"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// InquiryStatus is a step of the sales pipeline of an inquiry.
type InquiryStatus string

// The built-in pipeline. Won and lost are final: an inquiry in them is
// closed and no longer flagged as overdue. Organisations add their own
// statuses, each open, won or lost (InquiryService.DefineStatus).
const (
	InquiryNew        InquiryStatus = "new"
	InquiryInProgress InquiryStatus = "in_progress"
	InquiryOfferSent  InquiryStatus = "offer_sent"
	InquiryWon        InquiryStatus = "won"
	InquiryLost       InquiryStatus = "lost"
)

// InquiryStatuses lists the pipeline in order.
func InquiryStatuses() []InquiryStatus {
	return []InquiryStatus{InquiryNew, InquiryInProgress, InquiryOfferSent, InquiryWon, InquiryLost}
}

// Final reports whether the status is a built-in one that closes the
// inquiry (won or lost). An organisation's own statuses say it by their
// PipelineKind (InquiryService.Statuses).
func (s InquiryStatus) Final() bool { return s == InquiryWon || s == InquiryLost }

// InquiryVisibility says who may see an inquiry besides its handler and
// its creator, who always may.
type InquiryVisibility string

// The visibilities.
const (
	// VisibleToMe: only the handler and the creator.
	VisibleToMe InquiryVisibility = "me"
	// VisibleToDepartment: the members of the department VisibleTo names.
	VisibleToDepartment InquiryVisibility = "department"
	// VisibleToPerson: the staff user VisibleTo names.
	VisibleToPerson InquiryVisibility = "person"
	// VisibleToCompany: every staff user of the organisation.
	VisibleToCompany InquiryVisibility = "company"
)

// InquiryFields are what staff fill in on an inquiry: the customer's
// preferences, the pipeline status, the planned completion date, the
// handler and who may see it.
type InquiryFields struct {
	// Title says in a line what is asked ("Crete, two weeks in July").
	Title       string `json:"title" validate:"max=200"`
	Destination string `json:"destination,omitempty" validate:"max=200"`
	// Period is when the customer wants to travel, as they said it ("July 2027", "after Easter").
	Period string `json:"period,omitempty" validate:"max=100"`
	// Duration in days.
	Duration   int    `json:"duration,omitempty" validate:"min=0,max=3650"`
	Budget     *Money `json:"budget,omitempty"`
	Travellers int    `json:"travellers,omitempty" validate:"min=0,max=1000"`
	// Board is the meal plan asked for ("all inclusive", "half board").
	Board string `json:"board,omitempty" validate:"max=100"`
	Notes string `json:"notes,omitempty" validate:"max=10000" text:"multiline"`
	// Fields are the organisation's own preferences by key ("cabin_class":
	// "business"): keys of lower-case letters, digits and _, at most 20.
	Fields map[string]string `json:"fields,omitempty"`
	// Status is one of the organisation's pipeline (InquiryService.Statuses);
	// it defaults to new.
	Status InquiryStatus `json:"status,omitempty"`
	// PlannedOn is the day the inquiry should be completed by.
	PlannedOn *Date `json:"plannedOn,omitempty"`
	// HandlerID is the staff user who handles it; default the creator.
	HandlerID string `json:"handlerId,omitempty"`
	// Visibility defaults to VisibleToCompany. VisibleTo names the
	// department or the person for those visibilities.
	Visibility InquiryVisibility `json:"visibility,omitempty"`
	VisibleTo  string            `json:"visibleTo,omitempty"`
}

// Inquiry is a customer's request for an offer: a sales opportunity (C14).
type Inquiry struct {
	ID         string `json:"id"`
	CustomerID string `json:"customerId"`
	InquiryFields
	CreatedBy string     `json:"createdBy"`
	CreatedAt time.Time  `json:"createdAt"`
	UpdatedAt time.Time  `json:"updatedAt"`
	ClosedAt  *time.Time `json:"closedAt,omitempty"`
	// Overdue is set on reads: the planned day has passed and the status
	// is not final. The day passes at midnight in the reader's time zone
	// (the staff user's, else the organisation's), not in UTC.
	Overdue bool `json:"overdue"`
	Version int  `json:"version"`
}

// InquiryPatch changes an inquiry; nil fields stay.
type InquiryPatch struct {
	Title       *string            `json:"title,omitempty"`
	Destination *string            `json:"destination,omitempty"`
	Period      *string            `json:"period,omitempty"`
	Duration    *int               `json:"duration,omitempty"`
	Budget      *Money             `json:"budget,omitempty"`
	Travellers  *int               `json:"travellers,omitempty"`
	Board       *string            `json:"board,omitempty"`
	Notes       *string            `json:"notes,omitempty" text:"multiline"`
	Fields      map[string]string  `json:"fields,omitempty"`
	Status      *InquiryStatus     `json:"status,omitempty"`
	PlannedOn   *Date              `json:"plannedOn,omitempty"`
	HandlerID   *string            `json:"handlerId,omitempty"`
	Visibility  *InquiryVisibility `json:"visibility,omitempty"`
	VisibleTo   *string            `json:"visibleTo,omitempty"`
}

// InquiryEventKind says what an inquiry event records.
type InquiryEventKind string

// The inquiry events.
const (
	InquiryCreated InquiryEventKind = "created"
	InquiryChanged InquiryEventKind = "changed"
	InquiryComment InquiryEventKind = "comment"
)

// InquiryEvent is one entry of an inquiry's history: its creation, a
// change (with the fields' values before and after) or a comment.
type InquiryEvent struct {
	ID        string           `json:"id"`
	InquiryID string           `json:"inquiryId"`
	Kind      InquiryEventKind `json:"kind"`
	Actor     Actor            `json:"actor"`
	At        time.Time        `json:"at"`
	Changes   []FieldChange    `json:"changes,omitempty"`
	Comment   string           `json:"comment,omitempty"`
}

// Viewer is who reads inquiries: the store returns only those the viewer
// may see. All is the system (jobs, the command line), which sees every one.
type Viewer struct {
	All         bool
	StaffID     string
	Departments []string
}

// InquiryFilter selects inquiries for lists and counts.
type InquiryFilter struct {
	CustomerID string          `json:"customerId,omitempty"`
	HandlerID  string          `json:"handlerId,omitempty"`
	Status     []InquiryStatus `json:"status,omitempty"`
	// Open selects inquiries whose status is not final.
	Open bool `json:"open,omitempty"`
	// Overdue selects open inquiries planned before today.
	Overdue bool `json:"overdue,omitempty"`
	// PlannedFrom and PlannedTo bound the planned day, both included.
	PlannedFrom *Date `json:"plannedFrom,omitempty"`
	PlannedTo   *Date `json:"plannedTo,omitempty"`
	// Search matches the title or destination, without regard to case.
	Search string `json:"search,omitempty"`
}

// InquiryListParams is a checked InquiryFilter for the store.
type InquiryListParams struct {
	OrgID  string
	Viewer Viewer
	InquiryFilter
	Today Date
	// After is the id the previous page ended with (pages run newest first).
	After string
	Limit int
}

// InquiryStore keeps inquiries and their history. Every read takes the
// viewer and returns only what it may see: an inquiry it may not see is
// ErrNotFound, as one that does not exist.
type InquiryStore interface {
	InquiryInsert(ctx context.Context, orgID string, in *Inquiry) error
	// InquiryUpdate stores in if its stored version is expectedVersion
	// (else ErrStaleVersion).
	InquiryUpdate(ctx context.Context, orgID string, in *Inquiry, expectedVersion int) error
	InquiryGet(ctx context.Context, orgID string, v Viewer, id string) (*Inquiry, error)
	InquiryList(ctx context.Context, p InquiryListParams) ([]Inquiry, error)
	InquiryCount(ctx context.Context, p InquiryListParams) (int64, error)
	InquiryEventAppend(ctx context.Context, orgID string, events ...InquiryEvent) error
	InquiryEvents(ctx context.Context, orgID string, inquiryID string) ([]InquiryEvent, error)
	// InquiryOutcomes counts the inquiries the viewer may see of the
	// customers q selects, created in [from, to) when set, by handler
	// (Keys[0]) and status (Keys[1]).
	InquiryOutcomes(ctx context.Context, q ReportQuery, v Viewer, from, to time.Time) ([]ReportGroup, error)
}

// InquiryService keeps inquiries (C14).
type InquiryService struct {
	*core
	customers *CustomerService
}

// NewCustomerInquiry is the input of CreateWithCustomer.
type NewCustomerInquiry struct {
	Customer CustomerFields `json:"customer"`
	Inquiry  InquiryFields  `json:"inquiry"`
}

// CustomerInquiry is a new customer with its first inquiry.
type CustomerInquiry struct {
	Customer *Customer `json:"customer"`
	Inquiry  *Inquiry  `json:"inquiry"`
}

var inquiryFieldKey = regexp.MustCompile(`^[a-z][a-z0-9_]{0,39}$`)

// viewer returns who reads in ctx, reading the staff user through st (a
// transaction the caller holds: no second connection while it is open).
func (s *InquiryService) viewer(ctx context.Context, st Store, sc scope) (Viewer, error) {
	if sc.actor.Kind == ActorSystem {
		return Viewer{All: true}, nil
	}
	u, err := s.actingStaff(ctx, st, sc)
	if err != nil {
		return Viewer{}, err
	}
	return Viewer{StaffID: u.ID, Departments: u.Departments}, nil
}

// reader returns who reads in ctx and the day it is for them: planned
// days are compared with today in the reader's time zone (the staff
// user's own, else the organisation's), never in UTC.
func (s *InquiryService) reader(ctx context.Context, st Store, sc scope) (Viewer, Date, error) {
	var u *StaffUser
	v := Viewer{All: true}
	if sc.actor.Kind != ActorSystem {
		var err error
		if u, err = s.actingStaff(ctx, st, sc); err != nil {
			return Viewer{}, Date{}, err
		}
		v = Viewer{StaffID: u.ID, Departments: u.Departments}
	}
	today, _, err := s.localToday(ctx, st, sc, u)
	return v, today, err
}

// readViewer is reader for reads, which need an organisation and an actor.
func (s *InquiryService) readViewer(ctx context.Context) (scope, Viewer, Date, error) {
	sc, err := readScope(ctx)
	if err != nil {
		return sc, Viewer{}, Date{}, err
	}
	if sc.actor, err = ActorFrom(ctx); err != nil {
		return sc, Viewer{}, Date{}, err
	}
	v, today, err := s.reader(ctx, s.store, sc)
	return sc, v, today, err
}

// Create records an inquiry of a customer.
func (s *InquiryService) Create(ctx context.Context, customerID string, in InquiryFields) (*Inquiry, error) {
	sc, err := s.writeScope(ctx)
	if err != nil {
		return nil, err
	}
	var out *Inquiry
	err = s.store.InTx(ctx, func(tx Store) error {
		out, err = s.create(ctx, tx, sc, customerID, in)
		return err
	})
	return out, err
}

// CreateWithCustomer makes a new customer and its inquiry in one
// transaction: both or neither.
func (s *InquiryService) CreateWithCustomer(ctx context.Context, in NewCustomerInquiry) (*CustomerInquiry, error) {
	sc, err := s.writeScope(ctx)
	if err != nil {
		return nil, err
	}
	var out CustomerInquiry
	err = s.store.InTx(ctx, func(tx Store) error {
		txCtx := context.WithValue(ctx, txKey{}, tx)
		if out.Customer, err = s.customers.Create(txCtx, in.Customer); err != nil {
			return prefixFields(err, "customer")
		}
		out.Inquiry, err = s.create(txCtx, tx, sc, out.Customer.ID, in.Inquiry)
		return prefixFields(err, "inquiry")
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// prefixFields puts prefix before the fields a *ValidationError names.
func prefixFields(err error, prefix string) error {
	ve, ok := err.(*ValidationError)
	if !ok {
		return err
	}
	out := &ValidationError{Fields: slices.Clone(ve.Fields)}
	for i := range out.Fields {
		out.Fields[i].Field = prefix + "." + out.Fields[i].Field
	}
	return out
}

func (s *InquiryService) create(ctx context.Context, tx Store, sc scope, customerID string, in InquiryFields) (*Inquiry, error) {
	me, today, err := s.reader(ctx, tx, sc)
	if err != nil {
		return nil, err
	}
	if !validID(customerID) {
		return nil, &notFoundError{what: "customer " + customerID}
	}
	if _, err := tx.CustomerGet(ctx, CustomerGetParams{OrgID: sc.org, ID: customerID}); err != nil {
		return nil, err
	}
	if in.Status == "" {
		in.Status = InquiryNew
	}
	if in.Visibility == "" {
		in.Visibility = VisibleToCompany
	}
	if in.HandlerID == "" {
		in.HandlerID = me.StaffID
	}
	kind, err := s.check(ctx, tx, sc, &in, "")
	if err != nil {
		return nil, err
	}
	now := s.now()
	q := &Inquiry{ID: newID(), CustomerID: customerID, InquiryFields: in, CreatedBy: me.StaffID,
		CreatedAt: now, UpdatedAt: now, Version: 1}
	if kind.Final() {
		q.ClosedAt = &now
	}
	if err := tx.InquiryInsert(ctx, sc.org, q); err != nil {
		return nil, err
	}
	if err := tx.InquiryEventAppend(ctx, sc.org, InquiryEvent{ID: newID(), InquiryID: q.ID, Kind: InquiryCreated,
		Actor: sc.actor, At: now}); err != nil {
		return nil, err
	}
	q.Overdue = overdue(q, today)
	return q, nil
}

// check validates an inquiry's fields: text, limits, status (one of the
// organisation's pipeline, not archived unless it is the inquiry's
// status already, prev), visibility, and that the handler and the person
// or department it is visible to are the organisation's. It returns the
// kind of the status.
func (s *InquiryService) check(ctx context.Context, tx Store, sc scope, in *InquiryFields, prev InquiryStatus) (PipelineKind, error) {
	v := newValidation(sc.lang)
	v.checkText("", in)
	v.addStruct(s.validate, in)
	if in.Budget != nil {
		if in.Budget.Amount < 0 {
			v.add("budget.amount", "min", "0")
		}
		if len(in.Budget.Currency) != 3 || strings.ToUpper(in.Budget.Currency) != in.Budget.Currency {
			v.add("budget.currency", "currency", "")
		}
	}
	if len(in.Fields) > 20 {
		v.add("fields", "maxItems", "20")
	}
	for k, val := range in.Fields {
		if !inquiryFieldKey.MatchString(k) {
			v.add("fields."+k, "key", "")
		}
		if len(val) > 1000 {
			v.add("fields."+k, "max", "1000")
		}
	}
	pipeline, err := s.pipeline(ctx, tx, sc)
	if err != nil {
		return "", err
	}
	var kind PipelineKind
	if i := slices.IndexFunc(pipeline, func(p PipelineStatus) bool { return p.ID == in.Status }); i < 0 ||
		(pipeline[i].Archived && in.Status != prev) {
		v.add("status", "oneof", statusChoices(pipeline))
	} else {
		kind = pipeline[i].Kind
	}
	switch in.Visibility {
	case VisibleToMe, VisibleToCompany:
		if in.VisibleTo != "" {
			v.add("visibleTo", "excluded_with", "visibility")
		}
	case VisibleToPerson:
		if in.VisibleTo == "" {
			v.add("visibleTo", "required", "")
		} else if _, err := tx.StaffGet(ctx, sc.org, in.VisibleTo); err != nil {
			if !errors.Is(err, ErrNotFound) {
				return "", err
			}
			v.add("visibleTo", "unknown", "")
		}
	case VisibleToDepartment:
		if in.VisibleTo == "" {
			v.add("visibleTo", "required", "")
		} else {
			deps, err := tx.DepartmentList(ctx, sc.org)
			if err != nil {
				return "", err
			}
			if !slices.ContainsFunc(deps, func(d Department) bool { return d.ID == in.VisibleTo }) {
				v.add("visibleTo", "unknown", "")
			}
		}
	default:
		v.add("visibility", "oneof", "me, department, person, company")
	}
	if in.HandlerID == "" {
		v.add("handlerId", "required", "")
	} else if u, err := tx.StaffGet(ctx, sc.org, in.HandlerID); err != nil {
		if !errors.Is(err, ErrNotFound) {
			return "", err
		}
		v.add("handlerId", "unknown", "")
	} else if !u.Active {
		v.add("handlerId", "inactive", "")
	}
	return kind, v.err()
}

// Get returns an inquiry the acting staff user may see; any other is ErrNotFound.
func (s *InquiryService) Get(ctx context.Context, id string) (*Inquiry, error) {
	sc, v, today, err := s.readViewer(ctx)
	if err != nil {
		return nil, err
	}
	if !validID(id) {
		return nil, &notFoundError{what: "inquiry " + id}
	}
	q, err := s.store.InquiryGet(ctx, sc.org, v, id)
	if err != nil {
		return nil, err
	}
	q.Overdue = overdue(q, today)
	return q, nil
}

// Update changes an inquiry based on version (ErrStaleVersion when it is
// no longer the stored one), and records the change in its history.
func (s *InquiryService) Update(ctx context.Context, id string, version int, p InquiryPatch) (*Inquiry, error) {
	sc, err := s.writeScope(ctx)
	if err != nil {
		return nil, err
	}
	var out *Inquiry
	var today Date
	err = s.store.InTx(ctx, func(tx Store) error {
		var me Viewer
		if me, today, err = s.reader(ctx, tx, sc); err != nil {
			return err
		}
		if !validID(id) {
			return &notFoundError{what: "inquiry " + id}
		}
		q, err := tx.InquiryGet(ctx, sc.org, me, id)
		if err != nil {
			return err
		}
		if q.Version != version {
			return ErrStaleVersion
		}
		before := q.InquiryFields
		f := q.InquiryFields
		setPtr(&f.Title, p.Title)
		setPtr(&f.Destination, p.Destination)
		setPtr(&f.Period, p.Period)
		setPtr(&f.Duration, p.Duration)
		setPtr(&f.Travellers, p.Travellers)
		setPtr(&f.Board, p.Board)
		setPtr(&f.Notes, p.Notes)
		setPtr(&f.Status, p.Status)
		setPtr(&f.HandlerID, p.HandlerID)
		setPtr(&f.Visibility, p.Visibility)
		setPtr(&f.VisibleTo, p.VisibleTo)
		if p.Visibility != nil && p.VisibleTo == nil && (*p.Visibility == VisibleToMe || *p.Visibility == VisibleToCompany) {
			f.VisibleTo = ""
		}
		if p.Budget != nil {
			f.Budget = p.Budget
			if *p.Budget == (Money{}) {
				f.Budget = nil
			}
		}
		if p.PlannedOn != nil {
			f.PlannedOn = p.PlannedOn
			if p.PlannedOn.IsZero() {
				f.PlannedOn = nil
			}
		}
		if p.Fields != nil {
			f.Fields = map[string]string{}
			for k, v := range q.Fields {
				f.Fields[k] = v
			}
			for k, v := range p.Fields {
				if v == "" {
					delete(f.Fields, k)
				} else {
					f.Fields[k] = v
				}
			}
		}
		kind, err := s.check(ctx, tx, sc, &f, before.Status)
		if err != nil {
			return err
		}
		changes := diffInquiry(before, f)
		now := s.now()
		q.InquiryFields = f
		if len(changes) == 0 {
			out = q
			return nil
		}
		switch {
		case kind.Final() && q.ClosedAt == nil:
			q.ClosedAt = &now
		case !kind.Final():
			q.ClosedAt = nil
		}
		q.UpdatedAt = now
		q.Version++
		if err := tx.InquiryUpdate(ctx, sc.org, q, version); err != nil {
			return err
		}
		out = q
		return tx.InquiryEventAppend(ctx, sc.org, InquiryEvent{ID: newID(), InquiryID: q.ID, Kind: InquiryChanged,
			Actor: sc.actor, At: now, Changes: changes})
	})
	if err != nil {
		return nil, err
	}
	out.Overdue = overdue(out, today)
	return out, nil
}

func setPtr[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}

// diffInquiry lists the fields that differ, by their JSON names.
func diffInquiry(a, b InquiryFields) []FieldChange {
	var out []FieldChange
	add := func(field string, from, to any, same bool) {
		if !same {
			out = append(out, FieldChange{Field: field, Old: from, New: to})
		}
	}
	add("title", a.Title, b.Title, a.Title == b.Title)
	add("destination", a.Destination, b.Destination, a.Destination == b.Destination)
	add("period", a.Period, b.Period, a.Period == b.Period)
	add("duration", a.Duration, b.Duration, a.Duration == b.Duration)
	add("budget", a.Budget, b.Budget, (a.Budget == nil && b.Budget == nil) || (a.Budget != nil && b.Budget != nil && *a.Budget == *b.Budget))
	add("travellers", a.Travellers, b.Travellers, a.Travellers == b.Travellers)
	add("board", a.Board, b.Board, a.Board == b.Board)
	add("notes", a.Notes, b.Notes, a.Notes == b.Notes)
	sameFields := len(a.Fields) == len(b.Fields)
	for k, v := range a.Fields {
		sameFields = sameFields && b.Fields[k] == v
	}
	add("fields", a.Fields, b.Fields, sameFields)
	add("status", a.Status, b.Status, a.Status == b.Status)
	add("plannedOn", a.PlannedOn, b.PlannedOn, (a.PlannedOn == nil && b.PlannedOn == nil) || (a.PlannedOn != nil && b.PlannedOn != nil && *a.PlannedOn == *b.PlannedOn))
	add("handlerId", a.HandlerID, b.HandlerID, a.HandlerID == b.HandlerID)
	add("visibility", a.Visibility, b.Visibility, a.Visibility == b.Visibility)
	add("visibleTo", a.VisibleTo, b.VisibleTo, a.VisibleTo == b.VisibleTo)
	return out
}

// Comment adds a comment to an inquiry's history.
func (s *InquiryService) Comment(ctx context.Context, id, text string) (*InquiryEvent, error) {
	sc, err := s.writeScope(ctx)
	if err != nil {
		return nil, err
	}
	var ev *InquiryEvent
	err = s.store.InTx(ctx, func(tx Store) error {
		me, err := s.viewer(ctx, tx, sc)
		if err != nil {
			return err
		}
		if !validID(id) {
			return &notFoundError{what: "inquiry " + id}
		}
		if _, err := tx.InquiryGet(ctx, sc.org, me, id); err != nil {
			return err
		}
		v := newValidation(sc.lang)
		in := struct {
			Comment string `json:"comment" text:"multiline"`
		}{text}
		v.checkText("", &in)
		switch {
		case strings.TrimSpace(in.Comment) == "":
			v.add("comment", "required", "")
		case len(in.Comment) > 10000:
			v.add("comment", "max", "10000")
		}
		if err := v.err(); err != nil {
			return err
		}
		ev = &InquiryEvent{ID: newID(), InquiryID: id, Kind: InquiryComment, Actor: sc.actor, At: s.now(), Comment: in.Comment}
		return tx.InquiryEventAppend(ctx, sc.org, *ev)
	})
	if err != nil {
		return nil, err
	}
	return ev, nil
}

// History returns an inquiry's history, oldest first: its creation, every
// change and every comment.
func (s *InquiryService) History(ctx context.Context, id string) ([]InquiryEvent, error) {
	sc, v, _, err := s.readViewer(ctx)
	if err != nil {
		return nil, err
	}
	if !validID(id) {
		return nil, &notFoundError{what: "inquiry " + id}
	}
	if _, err := s.store.InquiryGet(ctx, sc.org, v, id); err != nil {
		return nil, err
	}
	events, err := s.store.InquiryEvents(ctx, sc.org, id)
	if events == nil && err == nil {
		events = []InquiryEvent{}
	}
	return events, err
}

// compile checks f for the store.
func (s *InquiryService) compile(ctx context.Context, f InquiryFilter) (InquiryListParams, *validation, error) {
	sc, viewer, today, err := s.readViewer(ctx)
	if err != nil {
		return InquiryListParams{}, nil, err
	}
	v := newValidation(sc.lang)
	v.checkText("", &f)
	if len(f.Status) > 0 {
		pipeline, err := s.pipeline(ctx, s.store, sc)
		if err != nil {
			return InquiryListParams{}, nil, err
		}
		for i, st := range f.Status {
			if !slices.ContainsFunc(pipeline, func(p PipelineStatus) bool { return p.ID == st }) {
				v.add("status["+strconv.Itoa(i)+"]", "oneof", statusChoices(pipeline))
			}
		}
	}
	if len(f.Status) > 10 {
		v.add("status", "maxItems", "10")
	}
	if f.CustomerID != "" && !validID(f.CustomerID) {
		v.add("customerId", "unknown", "")
	}
	if len(f.Search) > 100 {
		v.add("search", "max", "100")
	}
	f.Search = strings.TrimSpace(f.Search)
	if f.PlannedFrom != nil && f.PlannedTo != nil && f.PlannedTo.Before(*f.PlannedFrom) {
		v.add("plannedTo", "invalid", "")
	}
	return InquiryListParams{OrgID: sc.org, Viewer: viewer, InquiryFilter: f, Today: today}, v, nil
}

// List returns a page of the inquiries the acting staff user may see
// that match f, newest first.
func (s *InquiryService) List(ctx context.Context, f InquiryFilter, page PageRequest) (Page[Inquiry], error) {
	p, v, err := s.compile(ctx, f)
	if err != nil {
		return Page[Inquiry]{}, err
	}
	p.Limit = page.limit(v) + 1
	if page.Cursor != "" {
		cur, ok := decodeCursor(page.Cursor)
		if !ok || !validID(cur.ID) || cur.Sort != "inquiries" {
			v.add("cursor", "cursor", "")
		}
		p.After = cur.ID
	}
	if err := v.err(); err != nil {
		return Page[Inquiry]{}, err
	}
	items, err := s.store.InquiryList(ctx, p)
	if err != nil {
		return Page[Inquiry]{}, err
	}
	out := Page[Inquiry]{Items: items}
	if out.Items == nil {
		out.Items = []Inquiry{}
	}
	if limit := p.Limit - 1; len(items) > limit {
		out.Items = items[:limit]
		out.Next = cursor{Sort: "inquiries", ID: out.Items[limit-1].ID}.encode()
	}
	for i := range out.Items {
		out.Items[i].Overdue = overdue(&out.Items[i], p.Today)
	}
	return out, nil
}

// Count returns how many inquiries the acting staff user may see match f.
func (s *InquiryService) Count(ctx context.Context, f InquiryFilter) (int64, error) {
	p, v, err := s.compile(ctx, f)
	if err != nil {
		return 0, err
	}
	if err := v.err(); err != nil {
		return 0, err
	}
	return s.store.InquiryCount(ctx, p)
}

// Due returns the open inquiries the acting staff user handles whose
// planned day falls within the next three days (today included) or has
// passed (overdue), soonest first: the inquiries of "my reminders".
// Today is the day in the user's time zone, else the organisation's.
func (s *InquiryService) Due(ctx context.Context) ([]Inquiry, error) {
	sc, viewer, today, err := s.readViewer(ctx)
	if err != nil {
		return nil, err
	}
	if viewer.All {
		return []Inquiry{}, nil
	}
	until := DateOf(today.Time().AddDate(0, 0, 2))
	p := InquiryListParams{OrgID: sc.org, Viewer: viewer, Today: today, Limit: 500,
		InquiryFilter: InquiryFilter{HandlerID: viewer.StaffID, Open: true, PlannedTo: &until}}
	items, err := s.store.InquiryList(ctx, p)
	if err != nil {
		return nil, err
	}
	for i := range items {
		items[i].Overdue = overdue(&items[i], today)
	}
	slices.SortStableFunc(items, func(a, b Inquiry) int { return a.PlannedOn.Time().Compare(b.PlannedOn.Time()) })
	if items == nil {
		items = []Inquiry{}
	}
	return items, nil
}

// overdue reports whether q's planned day has passed while it is open
// (not closed by a final status: ClosedAt is set exactly while it has one).
func overdue(q *Inquiry, today Date) bool {
	return q.PlannedOn != nil && q.PlannedOn.Before(today) && q.ClosedAt == nil
}
