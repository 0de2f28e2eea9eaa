package crm

import (
	"cmp"
	"context"
	"encoding/csv"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
)

// ReportKind names a report over the customer base (C17).
type ReportKind string

// The reports. Each counts the customers of the organisation that match
// the report's customer filter (or segment) and, when the report has a
// period, were created in it.
const (
	// ReportNewCustomers counts customers by month of creation (UTC,
	// "2026-11") and origin ("" when none was recorded).
	ReportNewCustomers ReportKind = "new-customers"
	// ReportLanguages counts customers by language.
	ReportLanguages ReportKind = "languages"
	// ReportStatuses counts customers by status.
	ReportStatuses ReportKind = "statuses"
	// ReportConsents gives the consent coverage per purpose: how many
	// customers granted it, withdrew it, and never answered (a pending
	// double opt-in counts as never).
	ReportConsents ReportKind = "consents"
	// ReportTags counts customers per tag, every tag of the organisation
	// listed (zero for a tag no customer carries).
	ReportTags ReportKind = "tags"
	// ReportAttributes counts customers per attribute, like ReportTags.
	ReportAttributes ReportKind = "attributes"
	// ReportPoints gives the loyalty points outstanding (points left in
	// credits that have not expired) by month of expiry ("" for points
	// that never expire), with how many customers hold them.
	ReportPoints ReportKind = "points"
	// ReportInquiries counts the inquiries the reader may see, of the
	// customers the filter selects and created in the period (the period
	// bounds the inquiries here, not the customers), as won, lost and open
	// per department and handler.
	ReportInquiries ReportKind = "inquiries"
)

// ReportKinds lists every report, in the order reports are offered.
func ReportKinds() []ReportKind {
	return []ReportKind{ReportNewCustomers, ReportLanguages, ReportStatuses, ReportConsents,
		ReportTags, ReportAttributes, ReportPoints, ReportInquiries, ReportTasksOverdue}
}

// ReportParams says which customers a report covers.
type ReportParams struct {
	// Filter selects the customers, as a customer list does. Leave it zero
	// when Segment is set.
	Filter CustomerFilter `json:"filter,omitzero"`
	// Segment selects the customers of a saved segment (its id) instead.
	Segment string `json:"segment,omitempty"`
	// From and To bound the period, both days included (UTC): only
	// customers created in it are counted. Either may be left out.
	From *Date `json:"from,omitempty"`
	To   *Date `json:"to,omitempty"`
}

// Report is the result of a report: a table whose rows are labelled by
// Dimensions and counted in Measures. It is served as JSON, as CSV
// (WriteCSV) and as a chart (crm/report's Chart).
type Report struct {
	Kind ReportKind `json:"kind"`
	// Title says in English what the report counts.
	Title string `json:"title"`
	// From and To are the period the report was asked for.
	From        *Date     `json:"from,omitempty"`
	To          *Date     `json:"to,omitempty"`
	GeneratedAt time.Time `json:"generatedAt"`
	// Dimensions name the labels of each row ("month", "origin"),
	// Measures its numbers ("customers").
	Dimensions []string    `json:"dimensions"`
	Measures   []string    `json:"measures"`
	Rows       []ReportRow `json:"rows"`
}

// ReportRow is one row of a report: as many labels as the report has
// dimensions, as many values as it has measures.
type ReportRow struct {
	Labels []string `json:"labels"`
	Values []int64  `json:"values"`
}

// Total returns the sum of the measure at index m over every row.
func (r *Report) Total(m int) int64 {
	var n int64
	for _, row := range r.Rows {
		if m < len(row.Values) {
			n += row.Values[m]
		}
	}
	return n
}

// WriteCSV writes the report as CSV: a header of its dimensions and
// measures, then one line per row.
func (r *Report) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(append(slices.Clone(r.Dimensions), r.Measures...)); err != nil {
		return err
	}
	for _, row := range r.Rows {
		line := slices.Clone(row.Labels)
		for _, v := range row.Values {
			line = append(line, strconv.FormatInt(v, 10))
		}
		if err := cw.Write(line); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// ReportQuery is what the store needs for a report: the compiled customer
// filter (its creation bounds narrowed by the period) and today's date.
type ReportQuery struct {
	Customers CustomerListParams
	// Today is the day the report is made (UTC): points that expired
	// before it are not outstanding.
	Today Date
}

// ReportGroup is one group a report query counted: up to two keys, the
// number of rows (customers) and, where the report adds something up
// (points), the sum.
type ReportGroup struct {
	Keys  [2]string
	Count int64
	Sum   int64
}

// ReportGrouping says by what ReportCustomers groups customers.
type ReportGrouping string

// The groupings of ReportCustomers.
const (
	GroupByMonthAndOrigin ReportGrouping = "month-origin"
	GroupByLanguage       ReportGrouping = "language"
	GroupByStatus         ReportGrouping = "status"
)

// ReportStore computes the groups of reports. Every method counts only
// the customers q.Customers selects (with the same SQL as customer lists)
// of q.Customers.OrgID.
type ReportStore interface {
	// ReportCustomers counts customers by the grouping.
	ReportCustomers(ctx context.Context, q ReportQuery, by ReportGrouping) ([]ReportGroup, error)
	// ReportConsents counts customers per purpose id (Keys[0]) and
	// current state (Keys[1]: granted or withdrawn).
	ReportConsents(ctx context.Context, q ReportQuery) ([]ReportGroup, error)
	// ReportQualifiers counts customers per tag or attribute id (Keys[0]).
	ReportQualifiers(ctx context.Context, q ReportQuery, kind QualifierKind) ([]ReportGroup, error)
	// ReportPoints sums the points left in unexpired credits by month of
	// expiry (Keys[0], "" for none), with the number of customers holding them.
	ReportPoints(ctx context.Context, q ReportQuery) ([]ReportGroup, error)
}

// ReportService makes reports over the customer base (C17).
type ReportService struct {
	*core
	customers *CustomerService
	segments  *SegmentService
}

// Run makes the report of the kind over the customers p selects.
// An unknown kind, a period that ends before it starts, a bad filter or
// both a filter and a segment are a *ValidationError; an unknown segment
// is ErrNotFound.
func (s *ReportService) Run(ctx context.Context, kind ReportKind, p ReportParams) (*Report, error) {
	sc, err := readScope(ctx)
	if err != nil {
		return nil, err
	}
	v := newValidation(sc.lang)
	if !slices.Contains(ReportKinds(), kind) {
		v.add("kind", "oneof", joinKinds())
	}
	if p.From != nil && p.To != nil && p.To.Before(*p.From) {
		v.add("to", "invalid", "")
	}
	f := p.Filter
	if p.Segment != "" {
		if !isZeroFilter(f) {
			v.add("segment", "excluded_with", "filter")
		} else {
			seg, err := s.segments.Get(ctx, p.Segment)
			if err != nil {
				return nil, err
			}
			f = seg.Filter
		}
	}
	f.Sort = ""
	cp, err := s.customers.compileFilter(ctx, sc, v, f)
	if err != nil {
		return nil, err
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	filterOnly := cp
	if p.From != nil {
		if from := p.From.Time(); cp.CreatedFrom.IsZero() || cp.CreatedFrom.Before(from) {
			cp.CreatedFrom = from
		}
	}
	if p.To != nil {
		if to := p.To.Time().AddDate(0, 0, 1); cp.CreatedTo.IsZero() || cp.CreatedTo.After(to) {
			cp.CreatedTo = to
		}
	}
	now := s.now()
	q := ReportQuery{Customers: cp, Today: DateOf(now)}
	r := &Report{Kind: kind, From: p.From, To: p.To, GeneratedAt: now, Rows: []ReportRow{}}
	switch kind {
	case ReportNewCustomers:
		err = s.newCustomers(ctx, q, r)
	case ReportLanguages:
		err = s.byOne(ctx, q, r, GroupByLanguage, "Customers by language", "language")
	case ReportStatuses:
		err = s.byOne(ctx, q, r, GroupByStatus, "Customers by status", "status")
	case ReportConsents:
		err = s.consentCoverage(ctx, sc, q, r)
	case ReportTags:
		err = s.qualifiers(ctx, sc, q, r, KindTag, "Customers per tag", "tag")
	case ReportAttributes:
		err = s.qualifiers(ctx, sc, q, r, KindAttribute, "Customers per attribute", "attribute")
	case ReportPoints:
		err = s.points(ctx, q, r)
	case ReportInquiries:
		var from, to time.Time
		if p.From != nil {
			from = p.From.Time()
		}
		if p.To != nil {
			to = p.To.Time().AddDate(0, 0, 1)
		}
		err = s.inquiryOutcomes(ctx, sc, ReportQuery{Customers: filterOnly, Today: q.Today}, from, to, r)
	case ReportTasksOverdue:
		err = s.tasksOverdue(ctx, sc, ReportQuery{Customers: filterOnly}, p.From, p.To, r)
	}
	if err != nil {
		return nil, err
	}
	return r, nil
}

func joinKinds() string {
	var out string
	for i, k := range ReportKinds() {
		if i > 0 {
			out += ", "
		}
		out += string(k)
	}
	return out
}

// isZeroFilter reports whether f selects every customer.
func isZeroFilter(f CustomerFilter) bool {
	f.Sort = ""
	z := CustomerFilter{}
	return f.Name == z.Name && f.NameContains == z.NameContains && f.Email == z.Email && f.Phone == z.Phone &&
		f.BirthDate == nil && f.Number == 0 && f.Status == "" && f.Origin == "" && f.Language == "" &&
		f.AssignedTo == "" && f.FirstContactFrom == nil && f.FirstContactTo == nil && f.CreatedFrom.IsZero() &&
		f.CreatedTo.IsZero() && f.Tags.IsZero() && f.Attributes.IsZero() && f.Membership == "" && len(f.Consents) == 0
}

func (s *ReportService) newCustomers(ctx context.Context, q ReportQuery, r *Report) error {
	r.Title = "New customers by month and origin"
	r.Dimensions, r.Measures = []string{"month", "origin"}, []string{"customers"}
	groups, err := s.store.ReportCustomers(ctx, q, GroupByMonthAndOrigin)
	if err != nil {
		return err
	}
	slices.SortFunc(groups, func(a, b ReportGroup) int {
		if c := strings.Compare(a.Keys[0], b.Keys[0]); c != 0 {
			return c
		}
		return strings.Compare(a.Keys[1], b.Keys[1])
	})
	for _, g := range groups {
		r.Rows = append(r.Rows, ReportRow{Labels: []string{g.Keys[0], g.Keys[1]}, Values: []int64{g.Count}})
	}
	return nil
}

// byOne is a report of customers counted by one column, largest group first.
func (s *ReportService) byOne(ctx context.Context, q ReportQuery, r *Report, by ReportGrouping, title, dimension string) error {
	r.Title = title
	r.Dimensions, r.Measures = []string{dimension}, []string{"customers"}
	groups, err := s.store.ReportCustomers(ctx, q, by)
	if err != nil {
		return err
	}
	slices.SortFunc(groups, func(a, b ReportGroup) int {
		if a.Count != b.Count {
			return cmp.Compare(b.Count, a.Count)
		}
		return strings.Compare(a.Keys[0], b.Keys[0])
	})
	for _, g := range groups {
		r.Rows = append(r.Rows, ReportRow{Labels: []string{g.Keys[0]}, Values: []int64{g.Count}})
	}
	return nil
}

func (s *ReportService) consentCoverage(ctx context.Context, sc scope, q ReportQuery, r *Report) error {
	r.Title = "Consent coverage per purpose"
	r.Dimensions, r.Measures = []string{"purpose", "name"}, []string{"customers", "granted", "withdrawn", "never"}
	purposes, err := s.customers.consents.purposes(ctx, s.store, sc)
	if err != nil {
		return err
	}
	total, err := s.store.CustomerCount(ctx, q.Customers)
	if err != nil {
		return err
	}
	groups, err := s.store.ReportConsents(ctx, q)
	if err != nil {
		return err
	}
	for _, p := range purposes {
		var granted, withdrawn int64
		for _, g := range groups {
			if g.Keys[0] != p.ID {
				continue
			}
			switch ConsentState(g.Keys[1]) {
			case ConsentGranted:
				granted += g.Count
			case ConsentWithdrawn:
				withdrawn += g.Count
			}
		}
		r.Rows = append(r.Rows, ReportRow{Labels: []string{p.Key, p.Name},
			Values: []int64{total, granted, withdrawn, total - granted - withdrawn}})
	}
	return nil
}

func (s *ReportService) qualifiers(ctx context.Context, sc scope, q ReportQuery, r *Report, kind QualifierKind, title, dimension string) error {
	r.Title = title
	r.Dimensions, r.Measures = []string{dimension + "Id", dimension}, []string{"customers"}
	defs, err := s.store.QualifierList(ctx, sc.org, kind)
	if err != nil {
		return err
	}
	groups, err := s.store.ReportQualifiers(ctx, q, kind)
	if err != nil {
		return err
	}
	counts := make(map[string]int64, len(groups))
	for _, g := range groups {
		counts[g.Keys[0]] += g.Count
	}
	for _, d := range defs {
		r.Rows = append(r.Rows, ReportRow{Labels: []string{d.ID, d.Name}, Values: []int64{counts[d.ID]}})
	}
	return nil
}

func (s *ReportService) points(ctx context.Context, q ReportQuery, r *Report) error {
	r.Title = "Points outstanding by month of expiry"
	r.Dimensions, r.Measures = []string{"expires"}, []string{"points", "customers"}
	groups, err := s.store.ReportPoints(ctx, q)
	if err != nil {
		return err
	}
	// Months in order, the points that never expire last.
	slices.SortFunc(groups, func(a, b ReportGroup) int {
		switch {
		case a.Keys[0] == "" && b.Keys[0] != "":
			return 1
		case b.Keys[0] == "" && a.Keys[0] != "":
			return -1
		}
		return strings.Compare(a.Keys[0], b.Keys[0])
	})
	for _, g := range groups {
		r.Rows = append(r.Rows, ReportRow{Labels: []string{g.Keys[0]}, Values: []int64{g.Sum, g.Count}})
	}
	return nil
}
