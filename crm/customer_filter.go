package crm

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/dossiercrm/dossier/crm/i18n"
)

// CustomerFilter selects customers for lists, segments, exports and mailing
// selections (C2). Zero fields do not filter; the criteria combine with AND.
// Every criterion is evaluated by the database, never in Go, so a filter
// over a million customers costs one indexed query.
//
// It is stored as JSON in segments: later criteria are added as new fields,
// so a stored filter keeps its meaning.
type CustomerFilter struct {
	// Name matches customers with a name part (first, middle, last name or
	// company) starting with it, without regard to case or accents:
	// "muller" finds "Müller", "van der b" finds "van der Berg".
	Name string `json:"name,omitempty"`
	// NameContains matches customers whose name or company contains it
	// anywhere, without regard to case or accents: "ller" finds "Müller".
	// It needs at least MinContainsLength characters.
	NameContains string `json:"nameContains,omitempty"`
	// Email matches the login, correspondence or any alternative address.
	Email string `json:"email,omitempty"`
	// Phone matches any of the customer's numbers; any format the
	// organisation's country understands ("06 1234 5678", "+31 6 12345678").
	Phone     string         `json:"phone,omitempty"`
	BirthDate *Date          `json:"birthDate,omitempty"`
	Number    int64          `json:"number,omitempty"`
	Status    CustomerStatus `json:"status,omitempty"`
	Origin    string         `json:"origin,omitempty"`
	// Language matches the tag and its regional variants ("nl" matches "nl-BE").
	Language   string `json:"language,omitempty"`
	AssignedTo string `json:"assignedTo,omitempty"`
	// FirstContactFrom and FirstContactTo bound the first-contact date, both included.
	FirstContactFrom *Date `json:"firstContactFrom,omitempty"`
	FirstContactTo   *Date `json:"firstContactTo,omitempty"`
	// CreatedFrom (included) and CreatedTo (excluded) bound the creation time.
	CreatedFrom time.Time `json:"createdFrom,omitzero"`
	CreatedTo   time.Time `json:"createdTo,omitzero"`
	// Tags and Attributes select by the customer's tags and attributes (ids).
	Tags       QualifierFilter `json:"tags,omitzero"`
	Attributes QualifierFilter `json:"attributes,omitzero"`
	// Membership selects customers holding or sharing a membership of this
	// label (its id) that is active today.
	Membership string `json:"membership,omitempty"`
	// Consents select by the current consent state on purposes (by key):
	// every condition must hold. Besides the states, notWithdrawn selects
	// everyone who did not withdraw (granted or never).
	Consents []ConsentCondition `json:"consents,omitempty"`
	// Bookings select by booking facts: destination, departure, value,
	// status, channel, number of bookings, last booking (see BookingFilter).
	Bookings BookingFilter `json:"bookings,omitzero"`
	// Sort is the order of the list, not a criterion; SortNumber when empty.
	Sort CustomerSort `json:"sort,omitempty"`

	// saved marks a filter read from a stored segment: its ids were
	// checked when it was saved, and a tag deleted since then is one no
	// customer carries (see compileFilter).
	saved bool
}

// QualifierFilter selects customers by tags or attributes (their ids).
type QualifierFilter struct {
	// Any: the customer carries at least one of these.
	Any []string `json:"any,omitempty"`
	// All: the customer carries every one of these.
	All []string `json:"all,omitempty"`
	// None: the customer carries none of these.
	None []string `json:"none,omitempty"`
}

// IsZero reports whether the filter selects nothing by itself.
func (f QualifierFilter) IsZero() bool { return len(f.Any) == 0 && len(f.All) == 0 && len(f.None) == 0 }

// CustomerSort is the order of a customer list.
type CustomerSort string

// The orders of customer lists. Every order is total (ties are broken by
// customer number), so keyset pages never skip or repeat a customer.
const (
	// SortNumber orders by customer number, the default.
	SortNumber CustomerSort = "number"
	// SortName orders by last name, first name, middle name (or company),
	// the way the organisation's language sorts ("Öberg" after "Zorn" in
	// Swedish, next to "Oberg" in German).
	SortName CustomerSort = "name"
	// SortCreated orders oldest first; SortCreatedDesc newest first.
	SortCreated     CustomerSort = "created"
	SortCreatedDesc CustomerSort = "-created"
)

// MinContainsLength is the shortest NameContains: shorter text matches too
// much to be a search, and the trigram indexes need three characters.
const MinContainsLength = 3

// CustomerListParams is a compiled CustomerFilter for the store: criteria
// normalised (NamePrefix and NameContains are search keys, EmailKey an
// EmailKey, Phone in E.164), zero fields not filtering.
type CustomerListParams struct {
	OrgID            string
	NamePrefix       string
	NameContains     string
	EmailKey         string
	Phone            string
	BirthDate        *Date
	Number           int64
	Status           CustomerStatus
	Origin           string
	Language         string
	AssignedTo       string
	FirstContactFrom *Date
	FirstContactTo   *Date
	CreatedFrom      time.Time
	CreatedTo        time.Time
	Tags             QualifierFilter
	Attributes       QualifierFilter
	// MembershipLabel with MembershipDay: an active membership of that label on that day.
	MembershipLabel string
	MembershipDay   Date
	// Consents: the current state on each purpose (by id) must be as given.
	Consents []ConsentParam
	// Reachable, when set, keeps only customers with a usable address for
	// the channel (mailing selections), and ExcludeAnonymised leaves out
	// anonymised customers.
	Reachable         ConsentChannel
	ExcludeAnonymised bool
	// Bookings are the booking criteria (see BookingFilter).
	Bookings BookingConditions

	// Sort and the keyset position: the customer the previous page ended
	// with (its number, sort key or creation time). Zero means from the start.
	Sort         CustomerSort
	AfterNumber  int64
	AfterSortKey []byte
	AfterCreated time.Time
	// Limit is the most customers to return; zero (in CustomerCount) means all.
	Limit int
}

// ConsentParam is a compiled ConsentCondition: the purpose by id.
type ConsentParam struct {
	PurposeID string
	State     ConsentState
}

// compileFilter validates f and turns it into store parameters.
//
// Every id in the filter (tags, attributes, the membership label) must
// name a definition of the organisation: an unknown id, or another
// organisation's, is a *ValidationError naming the member
// ("tags.any[1]", "membership"), for lists and counts as for segments
// being saved. A stored segment's filter was checked when it was saved;
// when it runs, an id deleted since then matches no customer.
func (s *CustomerService) compileFilter(ctx context.Context, sc scope, v *validation, f CustomerFilter) (CustomerListParams, error) {
	v.checkText("", &f)
	p := CustomerListParams{
		OrgID:            sc.org,
		BirthDate:        f.BirthDate,
		Number:           f.Number,
		Status:           f.Status,
		Origin:           strings.TrimSpace(f.Origin),
		AssignedTo:       strings.TrimSpace(f.AssignedTo),
		FirstContactFrom: f.FirstContactFrom,
		FirstContactTo:   f.FirstContactTo,
		CreatedFrom:      f.CreatedFrom.UTC(),
		CreatedTo:        f.CreatedTo.UTC(),
		Tags:             f.Tags,
		Attributes:       f.Attributes,
		MembershipLabel:  strings.TrimSpace(f.Membership),
		MembershipDay:    DateOf(s.now()),
		Sort:             f.Sort,
		Bookings:         compileBookingFilter(v, f.Bookings),
	}
	if f.CreatedFrom.IsZero() {
		p.CreatedFrom = time.Time{}
	}
	if f.CreatedTo.IsZero() {
		p.CreatedTo = time.Time{}
	}
	if f.Name != "" {
		if p.NamePrefix = i18n.SearchKey(f.Name); p.NamePrefix == "" {
			v.add("name", "invalid", "")
		}
	}
	if f.NameContains != "" {
		p.NameContains = i18n.SearchKey(f.NameContains)
		if utf8.RuneCountInString(p.NameContains) < MinContainsLength {
			v.add("nameContains", "min", "3")
		}
	}
	if f.Email != "" {
		p.EmailKey = EmailKey(f.Email)
	}
	if f.Language != "" {
		p.Language = checkLanguage(v, "language", f.Language)
	}
	if f.Status != "" && s.validate.Var(string(f.Status), "oneof=lead prospect customer inactive") != nil {
		v.add("status", "oneof", "lead, prospect, customer, inactive")
	}
	if f.Number < 0 {
		v.add("number", "gt", "0")
	}
	if f.FirstContactFrom != nil && f.FirstContactTo != nil && f.FirstContactTo.Before(*f.FirstContactFrom) {
		v.add("firstContactTo", "invalid", "")
	}
	switch f.Sort {
	case "":
		p.Sort = SortNumber
	case SortNumber, SortName, SortCreated, SortCreatedDesc:
	default:
		v.add("sort", "oneof", "number, name, created, -created")
	}
	if err := s.checkFilterIDs(ctx, sc, v, f, p.MembershipLabel); err != nil {
		return p, err
	}
	if len(f.Consents) > 20 {
		v.add("consents", "maxItems", "20")
	} else if len(f.Consents) > 0 {
		purposes, err := s.consents.purposes(ctx, s.store, sc)
		if err != nil {
			return p, err
		}
		for i, c := range f.Consents {
			field := "consents[" + strconv.Itoa(i) + "]"
			j := slices.IndexFunc(purposes, func(p ConsentPurpose) bool { return p.Key == c.Purpose })
			if j < 0 {
				v.add(field+".purpose", "unknown", "")
			}
			switch c.State {
			case ConsentGranted, ConsentWithdrawn, ConsentNever, ConsentNotWithdrawn:
			default:
				v.add(field+".state", "oneof", "granted, withdrawn, never, notWithdrawn")
			}
			if j >= 0 {
				p.Consents = append(p.Consents, ConsentParam{PurposeID: purposes[j].ID, State: c.State})
			}
		}
	}
	if f.Phone != "" {
		org, err := s.organisation(ctx, s.store, sc)
		if err != nil {
			return p, err
		}
		e164, ok := parsePhone(f.Phone, org.DefaultCountry)
		if !ok {
			v.add("phone", "phone", "")
		}
		p.Phone = e164
	}
	return p, nil
}

// checkFilterIDs checks that the ids of f's tags, attributes and
// membership label name definitions of the organisation (see compileFilter).
func (s *CustomerService) checkFilterIDs(ctx context.Context, sc scope, v *validation, f CustomerFilter, label string) error {
	for _, q := range []struct {
		field  string
		kind   QualifierKind
		filter QualifierFilter
	}{{"tags", KindTag, f.Tags}, {"attributes", KindAttribute, f.Attributes}} {
		if q.filter.IsZero() {
			continue
		}
		var known map[string]bool
		if !f.saved {
			defs, err := s.store.QualifierList(ctx, sc.org, q.kind)
			if err != nil {
				return err
			}
			known = make(map[string]bool, len(defs))
			for _, d := range defs {
				known[d.ID] = true
			}
		}
		for _, m := range []struct {
			name string
			ids  []string
		}{{"any", q.filter.Any}, {"all", q.filter.All}, {"none", q.filter.None}} {
			field := q.field + "." + m.name
			if len(m.ids) > 100 {
				v.add(field, "maxItems", "100")
				continue
			}
			for i, id := range m.ids {
				if !validID(id) || (known != nil && !known[id]) {
					v.add(field+"["+strconv.Itoa(i)+"]", "unknown", "")
				}
			}
		}
	}
	if label == "" {
		return nil
	}
	if !validID(label) {
		v.add("membership", "unknown", "")
		return nil
	}
	if f.saved {
		return nil
	}
	labels, err := s.store.LabelList(ctx, sc.org)
	if err != nil {
		return err
	}
	if !slices.ContainsFunc(labels, func(l Label) bool { return l.ID == label && l.Membership }) {
		v.add("membership", "unknown", "")
	}
	return nil
}

// List returns a page of the customers matching f, in f.Sort order.
func (s *CustomerService) List(ctx context.Context, f CustomerFilter, page PageRequest) (Page[Customer], error) {
	return s.list(ctx, f, reachFilter{}, page)
}

// list is List with the conditions a mailing selection adds.
func (s *CustomerService) list(ctx context.Context, f CustomerFilter, reach reachFilter, page PageRequest) (Page[Customer], error) {
	sc, err := readScope(ctx)
	if err != nil {
		return Page[Customer]{}, err
	}
	v := newValidation(sc.lang)
	p, err := s.compile(ctx, sc, v, f, reach)
	if err != nil {
		return Page[Customer]{}, err
	}
	p.Limit = page.limit(v) + 1
	cur, ok := decodeCursor(page.Cursor)
	if !ok || (page.Cursor != "" && (cur.Number <= 0 || cur.Sort != string(p.Sort))) {
		v.add("cursor", "cursor", "")
	}
	p.AfterNumber, p.AfterSortKey = cur.Number, cur.Key
	if cur.Time != 0 {
		p.AfterCreated = time.UnixMicro(cur.Time).UTC()
	}
	if err := v.err(); err != nil {
		return Page[Customer]{}, err
	}
	items, err := s.store.CustomerList(ctx, p)
	if err != nil {
		return Page[Customer]{}, err
	}
	out := Page[Customer]{Items: items}
	if out.Items == nil {
		out.Items = []Customer{}
	}
	if limit := p.Limit - 1; len(items) > limit {
		out.Items = items[:limit]
		last := out.Items[limit-1]
		next := cursor{Sort: string(p.Sort), Number: last.Number}
		switch p.Sort {
		case SortName:
			next.Key = last.SortKey
		case SortCreated, SortCreatedDesc:
			next.Time = last.CreatedAt.UnixMicro()
		}
		out.Next = next.encode()
	}
	return out, nil
}

// compile is compileFilter with the conditions a mailing selection adds.
func (s *CustomerService) compile(ctx context.Context, sc scope, v *validation, f CustomerFilter, reach reachFilter) (CustomerListParams, error) {
	p, err := s.compileFilter(ctx, sc, v, f)
	if err != nil || reach.channel == "" {
		return p, err
	}
	p.Reachable, p.ExcludeAnonymised = reach.channel, true
	mailings, err := s.consents.purpose(ctx, s.store, sc, reach.notWithdrawn)
	if err != nil {
		return p, err
	}
	p.Consents = append(p.Consents, ConsentParam{PurposeID: mailings.ID, State: ConsentNotWithdrawn})
	return p, nil
}

// Count returns how many customers match f.
func (s *CustomerService) Count(ctx context.Context, f CustomerFilter) (int64, error) {
	sc, err := readScope(ctx)
	if err != nil {
		return 0, err
	}
	v := newValidation(sc.lang)
	p, err := s.compileFilter(ctx, sc, v, f)
	if err != nil {
		return 0, err
	}
	if err := v.err(); err != nil {
		return 0, err
	}
	return s.store.CustomerCount(ctx, p)
}

// Each calls fn for every customer matching f, in customer-number order,
// reading pageSize customers at a time (DefaultPageLimit when zero). The
// walk is stable: a customer added meanwhile is seen only if its number
// is beyond the page being read, and none is seen twice. It stops at the
// first error fn returns, and returns it.
func (s *CustomerService) Each(ctx context.Context, f CustomerFilter, pageSize int, fn func(*Customer) error) error {
	return s.each(ctx, f, reachFilter{}, pageSize, fn)
}

// each is Each with the conditions a mailing selection adds.
func (s *CustomerService) each(ctx context.Context, f CustomerFilter, reach reachFilter, pageSize int, fn func(*Customer) error) error {
	sc, err := readScope(ctx)
	if err != nil {
		return err
	}
	f.Sort = SortNumber
	v := newValidation(sc.lang)
	// Compiled once: a walk over a million customers is thousands of pages.
	p, err := s.compile(ctx, sc, v, f, reach)
	if err != nil {
		return err
	}
	limit := PageRequest{Limit: pageSize}.limit(v)
	if err := v.err(); err != nil {
		return err
	}
	p.Limit = limit
	if reach.afterNumber > 0 {
		p.AfterNumber = reach.afterNumber
	}
	for {
		items, err := s.store.CustomerList(ctx, p)
		if err != nil {
			return err
		}
		for i := range items {
			if err := fn(&items[i]); err != nil {
				return err
			}
		}
		if len(items) < limit {
			return nil
		}
		p.AfterNumber = items[len(items)-1].Number
	}
}
