package crm

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"
)

// BrochureSource says where a brochure request came from.
type BrochureSource string

// The sources of brochure requests.
const (
	BrochureFromStaff BrochureSource = "staff" // registered on the dossier
	BrochureFromSite  BrochureSource = "site"  // the organisation's website
)

// BrochureRequest is a customer's request for printed brochures (C13). It
// stays on the "to send" list until it gets a print date; the request and
// its date stay on the dossier.
type BrochureRequest struct {
	ID         string         `json:"id"`
	CustomerID string         `json:"customerId"`
	Brochures  []string       `json:"brochures"`
	Source     BrochureSource `json:"source"`
	Actor      Actor          `json:"actor"`
	// PrintedOn is the day the brochures were printed for sending; nil while on the list.
	PrintedOn   *Date     `json:"printedOn,omitempty"`
	RequestedAt time.Time `json:"requestedAt"`
}

// NewBrochureRequest is the input of BrochureService.Request.
type NewBrochureRequest struct {
	// Brochures names the brochures asked for ("Greece 2027", "Cruises").
	Brochures []string       `json:"brochures" validate:"required,min=1,max=50,dive,required,max=200"`
	Source    BrochureSource `json:"source" validate:"required,oneof=staff site"`
}

// BrochureStore keeps brochure requests.
type BrochureStore interface {
	BrochureRequestInsert(ctx context.Context, orgID string, r *BrochureRequest) error
	BrochureRequestGet(ctx context.Context, orgID, id string) (*BrochureRequest, error)
	// BrochureRequestList returns a customer's requests, newest first.
	BrochureRequestList(ctx context.Context, orgID, customerID string) ([]BrochureRequest, error)
	// BrochureRequestsToSend returns up to limit requests without a print
	// date, oldest first, after (afterAt, afterID) when afterID is set.
	BrochureRequestsToSend(ctx context.Context, orgID string, afterAt time.Time, afterID string, limit int) ([]BrochureRequest, error)
	// BrochureRequestPrinted sets the print date.
	BrochureRequestPrinted(ctx context.Context, orgID, id string, on Date) error
}

// The timeline events of brochure requests.
const (
	EventBrochureRequested EventKind = "brochure.requested"
	EventBrochurePrinted   EventKind = "brochure.printed"
)

// BrochureService keeps brochure requests and the "to send" list (C13).
type BrochureService struct{ *core }

// Request registers a brochure request on a customer's dossier.
func (s *BrochureService) Request(ctx context.Context, customerID string, in NewBrochureRequest) (*BrochureRequest, error) {
	sc, err := s.writeScope(ctx)
	if err != nil {
		return nil, err
	}
	v := newValidation(sc.lang)
	v.checkText("", &in)
	for i := range in.Brochures {
		in.Brochures[i] = strings.TrimSpace(in.Brochures[i])
	}
	v.addStruct(s.validate, in)
	if err := v.err(); err != nil {
		return nil, err
	}
	if !validID(customerID) {
		return nil, &notFoundError{what: "customer " + customerID}
	}
	now := s.now()
	r := &BrochureRequest{ID: newID(), CustomerID: customerID, Brochures: in.Brochures, Source: in.Source, Actor: sc.actor, RequestedAt: now}
	err = s.store.InTx(ctx, func(tx Store) error {
		if err := tx.CustomerTouch(ctx, sc.org, customerID, now); err != nil {
			return err
		}
		if err := tx.BrochureRequestInsert(ctx, sc.org, r); err != nil {
			return err
		}
		return tx.HistoryAppend(ctx, s.event(sc, customerID, EventBrochureRequested, now, []FieldChange{
			{Field: "brochure.id", New: r.ID}, {Field: "brochures", New: strings.Join(r.Brochures, ", ")}, {Field: "source", New: string(r.Source)}}))
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

// List returns a customer's brochure requests, sent or not, newest first.
func (s *BrochureService) List(ctx context.Context, customerID string) ([]BrochureRequest, error) {
	sc, err := readScope(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.customerExists(ctx, s.store, sc, customerID); err != nil {
		return nil, err
	}
	rs, err := s.store.BrochureRequestList(ctx, sc.org, customerID)
	return nonNil(rs), err
}

// ToSend returns a page of the organisation's "to send" list: requests
// without a print date, oldest first.
func (s *BrochureService) ToSend(ctx context.Context, page PageRequest) (Page[BrochureRequest], error) {
	sc, err := readScope(ctx)
	if err != nil {
		return Page[BrochureRequest]{}, err
	}
	v := newValidation(sc.lang)
	limit := page.limit(v)
	cur, ok := decodeCursor(page.Cursor)
	if !ok || (page.Cursor != "" && (!validID(cur.ID) || cur.Time == 0)) {
		v.add("cursor", "cursor", "")
	}
	if err := v.err(); err != nil {
		return Page[BrochureRequest]{}, err
	}
	var after time.Time
	if page.Cursor != "" {
		after = time.UnixMicro(cur.Time).UTC()
	}
	items, err := s.store.BrochureRequestsToSend(ctx, sc.org, after, cur.ID, limit+1)
	if err != nil {
		return Page[BrochureRequest]{}, err
	}
	out := Page[BrochureRequest]{Items: nonNil(items)}
	if len(items) > limit {
		out.Items = items[:limit]
		last := out.Items[limit-1]
		out.Next = cursor{Time: last.RequestedAt.UnixMicro(), ID: last.ID}.encode()
	}
	return out, nil
}

// Printed gives requests their print date, which takes them off the "to
// send" list; the dossier keeps them. A request printed already keeps its
// first date. An id that is not one of the organisation's requests is a
// *ValidationError naming it, and nothing changes.
func (s *BrochureService) Printed(ctx context.Context, ids []string, on Date) ([]BrochureRequest, error) {
	sc, err := s.writeScope(ctx)
	if err != nil {
		return nil, err
	}
	v := newValidation(sc.lang)
	if len(ids) == 0 {
		v.add("ids", "required", "")
	} else if len(ids) > 500 {
		v.add("ids", "maxItems", "500")
	}
	if on.IsZero() {
		v.add("printedOn", "required", "")
	} else if msg := validDate(on); msg != "" {
		v.add("printedOn", msg, "")
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	var out []BrochureRequest
	err = s.store.InTx(ctx, func(tx Store) error {
		out = out[:0]
		now := s.now()
		for i, id := range ids {
			var r *BrochureRequest
			var err error
			if validID(id) {
				r, err = tx.BrochureRequestGet(ctx, sc.org, id)
			}
			if r == nil {
				if err != nil && !errors.Is(err, ErrNotFound) {
					return err
				}
				v.add("ids["+strconv.Itoa(i)+"]", "unknown", "")
				continue
			}
			if r.PrintedOn == nil {
				if err := tx.BrochureRequestPrinted(ctx, sc.org, id, on); err != nil {
					return err
				}
				d := on
				r.PrintedOn = &d
				if err := tx.CustomerTouch(ctx, sc.org, r.CustomerID, now); err != nil {
					return err
				}
				if err := tx.HistoryAppend(ctx, s.event(sc, r.CustomerID, EventBrochurePrinted, now, []FieldChange{
					{Field: "brochure.id", New: r.ID}, {Field: "printedOn", New: on.String()}})); err != nil {
					return err
				}
			}
			out = append(out, *r)
		}
		return v.err()
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Get returns one brochure request.
func (s *BrochureService) Get(ctx context.Context, id string) (*BrochureRequest, error) {
	sc, err := readScope(ctx)
	if err != nil {
		return nil, err
	}
	if !validID(id) {
		return nil, &notFoundError{what: "brochure request " + id}
	}
	return s.store.BrochureRequestGet(ctx, sc.org, id)
}
