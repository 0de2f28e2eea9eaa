package crm

import (
	"context"
	"errors"
	"strings"
	"time"
)

// The timeline events of inquiries. They are not stored in the
// customer's history: the timeline reads them from the inquiries' own
// history, at read time and for the reader, so that a staff user who may
// not see an inquiry does not learn from the timeline that it exists.
// Each names its inquiry in a change "inquiry".
const (
	// EventInquiryCreated: an inquiry of the customer was recorded.
	EventInquiryCreated EventKind = "inquiry.created"
	// EventInquiryChanged: an inquiry changed; the changes hold the fields
	// before and after (its status, handler, planned day...).
	EventInquiryChanged EventKind = "inquiry.changed"
	// EventInquiryCommented: a comment was added to an inquiry; the change
	// "comment" holds it.
	EventInquiryCommented EventKind = "inquiry.commented"
)

// InquiryTimelineParams selects a page of the history events of one
// customer's inquiries that Viewer may see, newest first.
type InquiryTimelineParams struct {
	OrgID      string
	CustomerID string
	Viewer     Viewer
	// BeforeAt and BeforeID, when BeforeID is set, are the keyset
	// position: events strictly older in (At, ID) order.
	BeforeAt time.Time
	BeforeID string
	Limit    int
}

// InquiryTimelineStore reads inquiry events for customers' timelines.
type InquiryTimelineStore interface {
	// InquiryTimeline returns up to p.Limit events of the customer's
	// inquiries that p.Viewer may see (by the inquiries' visibility as it
	// is now), newest first.
	InquiryTimeline(ctx context.Context, p InquiryTimelineParams) ([]InquiryEvent, error)
}

// timelineViewer says whose inquiries a timeline read shows: every one
// for the system, those the acting staff user may see for staff, and none
// for a read without an actor, by another kind of actor, or by a staff
// actor that is no active staff user of the organisation.
func (c *core) timelineViewer(ctx context.Context, sc scope) (Viewer, bool, error) {
	a, err := ActorFrom(ctx)
	if err != nil {
		return Viewer{}, false, nil
	}
	switch a.Kind {
	case ActorSystem:
		return Viewer{All: true}, true, nil
	case ActorStaff:
		sc.actor = a
		u, err := c.actingStaff(ctx, c.store, sc)
		if errors.Is(err, ErrForbidden) {
			return Viewer{}, false, nil
		}
		if err != nil {
			return Viewer{}, false, err
		}
		return Viewer{StaffID: u.ID, Departments: u.Departments}, true, nil
	}
	return Viewer{}, false, nil
}

// inquiryTimelineEvent renders an inquiry event as a timeline event.
func inquiryTimelineEvent(orgID, customerID string, e InquiryEvent) HistoryEvent {
	h := HistoryEvent{ID: e.ID, OrgID: orgID, CustomerID: customerID, Actor: e.Actor, At: e.At,
		Changes: []FieldChange{{Field: "inquiry", New: e.InquiryID}}}
	switch e.Kind {
	case InquiryCreated:
		h.Kind = EventInquiryCreated
	case InquiryComment:
		h.Kind = EventInquiryCommented
		h.Changes = append(h.Changes, FieldChange{Field: "comment", New: e.Comment})
	default:
		h.Kind = EventInquiryChanged
	}
	h.Changes = append(h.Changes, e.Changes...)
	return h
}

// mergeTimeline merges two timelines, each newest first by (At, ID), into
// at most limit events.
func mergeTimeline(a, b []HistoryEvent, limit int) []HistoryEvent {
	out := make([]HistoryEvent, 0, min(limit, len(a)+len(b)))
	for len(out) < limit && (len(a) > 0 || len(b) > 0) {
		takeA := len(b) == 0 || (len(a) > 0 && newer(a[0], b[0]))
		if takeA {
			out, a = append(out, a[0]), a[1:]
		} else {
			out, b = append(out, b[0]), b[1:]
		}
	}
	return out
}

// newer reports whether x comes before y on a timeline, newest first.
func newer(x, y HistoryEvent) bool {
	if !x.At.Equal(y.At) {
		return x.At.After(y.At)
	}
	return strings.Compare(x.ID, y.ID) > 0
}
