package crm

import (
	"context"
	"strings"
	"time"
)

// Segment is a named, saved customer filter of an organisation (C2): the
// selection behind a mailing or an export. Its customers are whoever
// matches the filter when it is used.
type Segment struct {
	ID        string         `json:"id"`
	Name      string         `json:"name"`
	Filter    CustomerFilter `json:"filter"`
	CreatedAt time.Time      `json:"createdAt"`
	UpdatedAt time.Time      `json:"updatedAt"`
}

// NewSegment is the input of SegmentService.Create.
type NewSegment struct {
	Name   string         `json:"name" validate:"required,max=100"`
	Filter CustomerFilter `json:"filter"`
}

// SegmentPatch changes a segment; nil fields stay.
type SegmentPatch struct {
	Name   *string         `json:"name,omitempty" validate:"omitempty,min=1,max=100"`
	Filter *CustomerFilter `json:"filter,omitempty"`
}

// SegmentStore keeps segments.
type SegmentStore interface {
	// SegmentInsert stores a segment; a name in use (any case) is a *ConflictError on "name".
	SegmentInsert(ctx context.Context, orgID string, s *Segment) error
	// SegmentUpdate stores a changed segment or returns ErrNotFound.
	SegmentUpdate(ctx context.Context, orgID string, s *Segment) error
	// SegmentDelete removes a segment or returns ErrNotFound.
	SegmentDelete(ctx context.Context, orgID, id string) error
	// SegmentGet returns one segment or ErrNotFound.
	SegmentGet(ctx context.Context, orgID, id string) (*Segment, error)
	// SegmentList returns the organisation's segments by name.
	SegmentList(ctx context.Context, orgID string) ([]Segment, error)
}

// SegmentService saves customer filters as segments and lists, counts and
// walks their customers.
type SegmentService struct {
	*core
	// store is the one store interface the service uses (it hides core's
	// whole Store); filters run through the customer service.
	store     SegmentStore
	customers *CustomerService
}

// Create saves a filter as a segment. The filter is checked as List would
// check it, so a segment always runs.
func (s *SegmentService) Create(ctx context.Context, in NewSegment) (*Segment, error) {
	sc, err := s.writeScope(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.check(ctx, sc, &in.Name, &in.Filter, func(v *validation) { v.addStruct(s.validate, in) }); err != nil {
		return nil, err
	}
	now := s.now()
	seg := &Segment{ID: newID(), Name: in.Name, Filter: in.Filter, CreatedAt: now, UpdatedAt: now}
	if err := s.store.SegmentInsert(ctx, sc.org, seg); err != nil {
		return nil, err
	}
	return seg, nil
}

// Update renames a segment or replaces its filter.
func (s *SegmentService) Update(ctx context.Context, id string, p SegmentPatch) (*Segment, error) {
	sc, err := s.writeScope(ctx)
	if err != nil {
		return nil, err
	}
	seg, err := s.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if p.Name != nil {
		seg.Name = *p.Name
	}
	if p.Filter != nil {
		seg.Filter = *p.Filter
	}
	if err := s.check(ctx, sc, &seg.Name, &seg.Filter, func(v *validation) {
		if p.Name != nil {
			p.Name = &seg.Name
		}
		v.addStruct(s.validate, p)
	}); err != nil {
		return nil, err
	}
	seg.UpdatedAt = s.now()
	if err := s.store.SegmentUpdate(ctx, sc.org, seg); err != nil {
		return nil, err
	}
	return seg, nil
}

// Delete removes a segment; its customers are not touched.
func (s *SegmentService) Delete(ctx context.Context, id string) error {
	sc, err := s.writeScope(ctx)
	if err != nil {
		return err
	}
	if !validID(id) {
		return &notFoundError{what: "segment " + id}
	}
	return s.store.SegmentDelete(ctx, sc.org, id)
}

// Get returns a segment.
func (s *SegmentService) Get(ctx context.Context, id string) (*Segment, error) {
	sc, err := readScope(ctx)
	if err != nil {
		return nil, err
	}
	if !validID(id) {
		return nil, &notFoundError{what: "segment " + id}
	}
	seg, err := s.store.SegmentGet(ctx, sc.org, id)
	if err != nil {
		return nil, err
	}
	seg.Filter.saved = true
	return seg, nil
}

// List returns the organisation's segments by name.
func (s *SegmentService) List(ctx context.Context) ([]Segment, error) {
	sc, err := readScope(ctx)
	if err != nil {
		return nil, err
	}
	segs, err := s.store.SegmentList(ctx, sc.org)
	if segs == nil && err == nil {
		segs = []Segment{}
	}
	return segs, err
}

// Count returns how many customers the segment holds now.
func (s *SegmentService) Count(ctx context.Context, id string) (int64, error) {
	seg, err := s.Get(ctx, id)
	if err != nil {
		return 0, err
	}
	return s.customers.Count(ctx, seg.Filter)
}

// Customers returns a page of the segment's customers, in its filter's order.
func (s *SegmentService) Customers(ctx context.Context, id string, page PageRequest) (Page[Customer], error) {
	seg, err := s.Get(ctx, id)
	if err != nil {
		return Page[Customer]{}, err
	}
	return s.customers.List(ctx, seg.Filter, page)
}

// Each calls fn for every customer of the segment, in number order, a page
// at a time (see CustomerService.Each): the iterator behind exports and
// mailing selections.
func (s *SegmentService) Each(ctx context.Context, id string, pageSize int, fn func(*Customer) error) error {
	seg, err := s.Get(ctx, id)
	if err != nil {
		return err
	}
	return s.customers.Each(ctx, seg.Filter, pageSize, fn)
}

// check validates a segment's name (trimmed and normalised in place, then
// checked by rules) and its filter (normalised in place, as it is stored),
// reporting the filter's failures under "filter.".
func (s *SegmentService) check(ctx context.Context, sc scope, name *string, f *CustomerFilter, rules func(*validation)) error {
	v := newValidation(sc.lang)
	v.checkString("name", name)
	*name = strings.TrimSpace(*name)
	if !v.has("name") {
		rules(v)
	}
	fv := newValidation(sc.lang)
	fv.checkText("", f)
	if err := fv.err(); err == nil {
		if _, err := s.customers.compileFilter(ctx, sc, fv, *f); err != nil {
			return err
		}
	}
	for _, fe := range fv.fields {
		v.add("filter."+fe.Field, fe.Code, fe.Param)
	}
	return v.err()
}
