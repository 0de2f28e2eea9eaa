package crm

import (
	"context"
	"time"
)

// EventKind names what happened in a history event.
type EventKind string

// The kinds of history event written by the core. Later areas add theirs.
const (
	EventCustomerCreated EventKind = "customer.created"
	EventCustomerUpdated EventKind = "customer.updated"
	// EventCustomerDeleted stays after the customer and the rest of its
	// timeline are gone, saying who deleted it and when; it holds no personal data.
	EventCustomerDeleted EventKind = "customer.deleted"
	// EventTagsChanged: tags were added to or removed from the customer
	// (the change lists the tag names before and after).
	EventTagsChanged EventKind = "tags.changed"
	// EventAttributesChanged: attributes or interests were added or removed.
	EventAttributesChanged EventKind = "attributes.changed"
)

// HistoryEvent is one entry of a customer's timeline (C12).
type HistoryEvent struct {
	ID         string    `json:"id"`
	OrgID      string    `json:"-"`
	CustomerID string    `json:"customerId"`
	Kind       EventKind `json:"kind"`
	Actor      Actor     `json:"actor"`
	At         time.Time `json:"at"`
	// Changes lists the fields that changed, with their old and new values.
	Changes []FieldChange `json:"changes,omitempty"`
}

// FieldChange is one changed field of an event. Old is nil for a field that
// was set for the first time, New is nil for a field that was cleared.
type FieldChange struct {
	Field string `json:"field"`
	Old   any    `json:"old,omitempty"`
	New   any    `json:"new,omitempty"`
}

// HistoryListParams selects one page of a customer's timeline, newest first.
type HistoryListParams struct {
	OrgID      string
	CustomerID string
	// Before, when set, is the keyset position: events strictly older than
	// (BeforeAt, BeforeID) in (At, ID) order.
	BeforeAt time.Time
	BeforeID string
	Limit    int
}

// HistoryStore keeps customer timelines. Events are only ever appended; the
// store deletes them only with their customer.
type HistoryStore interface {
	// HistoryAppend stores events.
	HistoryAppend(ctx context.Context, events ...HistoryEvent) error
	// HistoryList returns up to Limit events newest first.
	HistoryList(ctx context.Context, p HistoryListParams) ([]HistoryEvent, error)
}

// HistoryService reads customer timelines. Events are written by the
// services that make the changes, in the same transaction.
type HistoryService struct {
	*core
	// store is the one store interface the service reads; it hides
	// core's whole Store, so the compiler holds the service to it.
	store HistoryStore
	// inquiries gives the customer's inquiry events the reader may see.
	inquiries InquiryTimelineStore
}

// List returns a page of the customer's timeline, newest first. An unknown
// customer is ErrNotFound; a deleted one shows only its deletion event.
// The events of the customer's inquiries are on it for a reader who may
// see them (see EventInquiryCreated): every one for the system, those the
// acting staff user may see for staff, none for other readers.
func (s *HistoryService) List(ctx context.Context, customerID string, page PageRequest) (Page[HistoryEvent], error) {
	sc, err := readScope(ctx)
	if err != nil {
		return Page[HistoryEvent]{}, err
	}
	v := newValidation(sc.lang)
	limit := page.limit(v)
	cur, ok := decodeCursor(page.Cursor)
	if !ok || (page.Cursor != "" && (cur.ID == "" || cur.Time == 0)) {
		v.add("cursor", "cursor", "")
	}
	if err := v.err(); err != nil {
		return Page[HistoryEvent]{}, err
	}
	if !validID(customerID) {
		return Page[HistoryEvent]{}, &notFoundError{what: "customer " + customerID}
	}
	p := HistoryListParams{OrgID: sc.org, CustomerID: customerID, Limit: limit + 1}
	if page.Cursor != "" {
		p.BeforeAt, p.BeforeID = time.UnixMicro(cur.Time).UTC(), cur.ID
	}
	events, err := s.store.HistoryList(ctx, p)
	if err != nil {
		return Page[HistoryEvent]{}, err
	}
	// Every customer has at least its creation event, so an empty first page
	// means there is no such customer in this organisation.
	if len(events) == 0 && page.Cursor == "" {
		return Page[HistoryEvent]{}, &notFoundError{what: "customer " + customerID}
	}
	// The customer's inquiries the reader may see are on the timeline too.
	if viewer, ok, err := s.timelineViewer(ctx, sc); err != nil {
		return Page[HistoryEvent]{}, err
	} else if ok {
		inq, err := s.inquiries.InquiryTimeline(ctx, InquiryTimelineParams{OrgID: sc.org, CustomerID: customerID, Viewer: viewer,
			BeforeAt: p.BeforeAt, BeforeID: p.BeforeID, Limit: p.Limit})
		if err != nil {
			return Page[HistoryEvent]{}, err
		}
		if len(inq) > 0 {
			// An anonymised customer's timeline keeps events without values.
			cust, err := s.core.store.CustomerGet(ctx, CustomerGetParams{OrgID: sc.org, ID: customerID})
			if err != nil {
				return Page[HistoryEvent]{}, err
			}
			shown := make([]HistoryEvent, len(inq))
			for i, e := range inq {
				shown[i] = inquiryTimelineEvent(sc.org, customerID, e)
				if cust.AnonymisedAt != nil {
					for j := range shown[i].Changes {
						shown[i].Changes[j] = FieldChange{Field: shown[i].Changes[j].Field}
					}
				}
			}
			events = mergeTimeline(events, shown, p.Limit)
		}
	}
	out := Page[HistoryEvent]{Items: events}
	if len(events) > limit {
		out.Items = events[:limit]
		last := out.Items[limit-1]
		out.Next = cursor{Time: last.At.UnixMicro(), ID: last.ID}.encode()
	}
	return out, nil
}

// event builds a history event for the scope's actor.
func (c *core) event(sc scope, customerID string, kind EventKind, at time.Time, changes []FieldChange) HistoryEvent {
	return HistoryEvent{
		ID:         newID(),
		OrgID:      sc.org,
		CustomerID: customerID,
		Kind:       kind,
		Actor:      sc.actor,
		At:         at,
		Changes:    changes,
	}
}
