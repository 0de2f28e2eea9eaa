package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dossiercrm/dossier/crm"
)

// trip is a delivery of a trip booking for customer c, departing on start.
func trip(ref string, c *crm.Customer, start string, total int64) crm.BookingInput {
	s := crm.MustDate(start)
	return crm.BookingInput{
		Reference: ref, CustomerID: c.ID, Kind: crm.KindBooking, Status: "confirmed", Channel: crm.ChannelOnline,
		RegisteredOn: crm.MustDate("2026-10-01"), StartsOn: &s, DestinationCountry: "ES", DestinationPlace: "Málaga",
		Description: "Hotel Sol, 7 nights", Total: total, Currency: "EUR",
		Lines: []crm.BookingLine{{Kind: "flight", Description: "AMS-AGP", Quantity: 2, Amount: total / 2}},
	}
}

func (e *env) upsert(ctx context.Context, in crm.BookingInput) *crm.BookingResult {
	e.t.Helper()
	r, err := e.crm.Bookings.Upsert(ctx, in)
	if err != nil {
		e.t.Fatalf("upsert %s: %v", in.Reference, err)
	}
	return r
}

// bookingEvents lists the kinds of the customer's booking events, oldest first.
func (e *env) bookingEvents(ctx context.Context, id string) []string {
	e.t.Helper()
	var out []string
	for _, h := range e.history(ctx, id) {
		if strings.HasPrefix(string(h.Kind), "booking.") {
			out = append(out, string(h.Kind))
		}
	}
	slices.Reverse(out)
	return out
}

// testBookingUpsert: an upsert is idempotent, ignores older deliveries by
// version or updated-at, maps the organisation's statuses, writes events
// for creation, status changes and cancellation only, and refuses bad input.
func testBookingUpsert(t *testing.T, open func(t *testing.T) crm.Store) {
	e := newEnv(t, open)
	c := e.create(e.a, crm.CustomerFields{FirstName: "Anna", LastName: "Nowak"})
	in := trip("B-1", c, "2027-06-10", 250000)
	in.SourceVersion = 2
	in.Deposit = &crm.Payment{DueOn: crm.MustDate("2026-11-25"), Amount: 50000, Paid: 0}
	r := e.upsert(e.a, in)
	if r.Outcome != crm.BookingCreated || r.Booking.CustomerNumber != c.Number || r.Booking.NextPayment == nil ||
		r.Booking.NextPayment.Missing != 50000 || r.Booking.NextPayment.Kind != crm.PaymentDeposit {
		t.Fatalf("create: %+v %+v", r, r.Booking)
	}
	got, err := e.crm.Bookings.Get(e.a, "B-1")
	if err != nil || got.Total != 250000 || got.DestinationPlace != "Málaga" || got.Lines[0].Description != "AMS-AGP" ||
		got.StartsOn.String() != "2027-06-10" || got.ID != r.Booking.ID {
		t.Fatalf("get: %+v, %v", got, err)
	}
	// The same delivery again, and an older one: nothing changes.
	if r := e.upsert(e.a, in); r.Outcome != crm.BookingUnchanged {
		t.Fatalf("repeat: %s", r.Outcome)
	}
	oldIn := in
	oldIn.SourceVersion, oldIn.Status = 1, "cancelled"
	if r := e.upsert(e.a, oldIn); r.Outcome != crm.BookingStale || r.Booking.Status != crm.StatusConfirmed {
		t.Fatalf("older version: %s %s", r.Outcome, r.Booking.Status)
	}
	// A newer one with other fields only: updated, but no event.
	in.SourceVersion, in.Total = 3, 260000
	if r := e.upsert(e.a, in); r.Outcome != crm.BookingUpdated || r.Booking.Total != 260000 {
		t.Fatalf("newer: %+v", r)
	}
	// A status change, then a cancellation.
	in.SourceVersion, in.Status = 4, "sold"
	e.upsert(e.a, in)
	in.SourceVersion, in.Status = 5, "cancelled"
	if r := e.upsert(e.a, in); r.Booking.NextPayment != nil {
		t.Fatalf("a cancelled booking has no payment due: %+v", r.Booking.NextPayment)
	}
	want := []string{"booking.created", "booking.status_changed", "booking.cancelled"}
	if got := e.bookingEvents(e.a, c.ID); !slices.Equal(got, want) {
		t.Fatalf("events %v, want %v", got, want)
	}

	// Ordering by the platform's updated-at when there is no version.
	t1, t2 := testNow.Add(-time.Hour), testNow
	u := trip("B-2", c, "2027-07-01", 1000)
	u.SourceUpdatedAt = &t2
	e.upsert(e.a, u)
	u.SourceUpdatedAt, u.Total = &t1, 999
	if r := e.upsert(e.a, u); r.Outcome != crm.BookingStale || r.Booking.Total != 1000 {
		t.Fatalf("older updated-at: %s %d", r.Outcome, r.Booking.Total)
	}

	// The organisation's own statuses.
	_, err = e.crm.Bookings.Upsert(e.a, crm.BookingInput{Reference: "B-3", CustomerID: c.ID, Status: "Anulowana",
		RegisteredOn: crm.MustDate("2026-10-01"), Currency: "PLN"})
	wantInvalid(t, err, "status", "oneof")
	if _, err := e.crm.Bookings.SetSettings(e.a, crm.BookingSettings{TimeZone: "Europe/Warsaw",
		StatusMap: map[string]crm.BookingStatus{"Anulowana": crm.StatusCancelled}}); err != nil {
		t.Fatal(err)
	}
	r = e.upsert(e.a, crm.BookingInput{Reference: "B-3", CustomerID: c.ID, Status: "Anulowana",
		RegisteredOn: crm.MustDate("2026-10-01"), Currency: "PLN"})
	if r.Booking.Status != crm.StatusCancelled || r.Booking.PlatformStatus != "Anulowana" || r.Booking.Kind != crm.KindBooking {
		t.Fatalf("mapped status: %+v", r.Booking)
	}
	_, err = e.crm.Bookings.SetSettings(e.a, crm.BookingSettings{TimeZone: "Mars/Olympus"})
	wantInvalid(t, err, "timeZone", "invalid")
	_, err = e.crm.Bookings.SetSettings(e.a, crm.BookingSettings{StatusMap: map[string]crm.BookingStatus{"X": "gone"}})
	wantInvalid(t, err, "statusMap.X", "oneof")

	// Bad input writes nothing and names the field.
	bad := trip("B-4", c, "2027-01-01", 10)
	bad.Description = "bad\x00byte"
	_, err = e.crm.Bookings.Upsert(e.a, bad)
	wantInvalid(t, err, "description", "control")
	for field, change := range map[string]func(*crm.BookingInput){
		"currency":           func(in *crm.BookingInput) { in.Currency = "euro" },
		"kind":               func(in *crm.BookingInput) { in.Kind = "cruise" },
		"channel":            func(in *crm.BookingInput) { in.Channel = "fax" },
		"registeredOn":       func(in *crm.BookingInput) { in.RegisteredOn = crm.Date{} },
		"destinationCountry": func(in *crm.BookingInput) { in.DestinationCountry = "XX" },
		"reference":          func(in *crm.BookingInput) { in.Reference = "" },
		"endsOn":             func(in *crm.BookingInput) { in.EndsOn = ptr(crm.MustDate("2026-01-01")) },
		"deposit.amount":     func(in *crm.BookingInput) { in.Deposit = &crm.Payment{DueOn: crm.MustDate("2026-12-01"), Amount: -1} },
		"participants[0]":    func(in *crm.BookingInput) { in.Participants = []string{"nobody"} },
		"customerId":         func(in *crm.BookingInput) { in.CustomerID = "x" },
	} {
		in := trip("B-5", c, "2027-01-01", 10)
		change(&in)
		_, err := e.crm.Bookings.Upsert(e.a, in)
		var ve *crm.ValidationError
		if !errors.As(err, &ve) || !slices.ContainsFunc(ve.Fields, func(f crm.FieldError) bool { return f.Field == field }) {
			t.Errorf("%s: %v, want a validation error on it", field, err)
		}
	}
	if _, err := e.crm.Bookings.Get(e.a, "B-5"); !errors.Is(err, crm.ErrNotFound) {
		t.Fatalf("refused deliveries wrote a booking: %v", err)
	}
	// A participant of another organisation is unknown.
	other := e.create(e.b, crm.CustomerFields{LastName: "Other"})
	p := trip("B-6", c, "2027-01-01", 10)
	p.Participants = []string{other.ID}
	_, err = e.crm.Bookings.Upsert(e.a, p)
	wantInvalid(t, err, "participants[0]", "unknown")

	// Another lead is a conflict; the booking moves only by Move.
	d := e.create(e.a, crm.CustomerFields{FirstName: "Dorota", LastName: "Wrong"})
	_, err = e.crm.Bookings.Upsert(e.a, trip("B-2", d, "2027-07-01", 1000))
	wantErr(t, err, crm.ErrConflict)
	moved, err := e.crm.Bookings.Move(e.a, "B-2", d.ID)
	if err != nil || moved.CustomerID != d.ID || moved.CustomerNumber != d.Number {
		t.Fatalf("move: %+v, %v", moved, err)
	}
	if got := e.bookingEvents(e.a, d.ID); !slices.Equal(got, []string{"booking.moved"}) {
		t.Fatalf("moved-to events %v", got)
	}
	if got := e.bookingEvents(e.a, c.ID); got[len(got)-1] != "booking.moved" {
		t.Fatalf("moved-from events %v", got)
	}
	_, err = e.crm.Bookings.Move(e.a, "B-2", other.ID)
	wantErr(t, err, crm.ErrNotFound)

	// An unknown customer, and an anonymised one.
	_, err = e.crm.Bookings.Upsert(e.a, trip("B-7", other, "2027-01-01", 10))
	wantErr(t, err, crm.ErrNotFound)
	if _, err := e.crm.Privacy.Anonymise(e.a, d.ID); err != nil {
		t.Fatal(err)
	}
	_, err = e.crm.Bookings.Upsert(e.a, trip("B-8", d, "2027-01-01", 10))
	wantErr(t, err, crm.ErrAnonymised)
	if b, err := e.crm.Bookings.Get(e.a, "B-2"); err != nil || b.Description != "" || b.Lines[0].Description != "" || b.Total != 1000 {
		t.Fatalf("an anonymised customer's booking keeps its row without personal values: %+v, %v", b, err)
	}
}

// testBookingUpsertConcurrent: concurrent first deliveries of one
// reference make one booking and one creation event.
func testBookingUpsertConcurrent(t *testing.T, open func(t *testing.T) crm.Store) {
	e := newEnv(t, open)
	c := e.create(e.a, crm.CustomerFields{LastName: "Race"})
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			in := trip("RACE-1", c, "2027-03-01", int64(100+i))
			in.SourceVersion = int64(i + 1)
			if _, err := e.crm.Bookings.Upsert(e.a, in); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("concurrent upsert: %v", err)
	}
	view, err := e.crm.Bookings.OfCustomer(e.a, c.ID, 0)
	if err != nil || len(view.Upcoming) != 1 || view.Upcoming[0].SourceVersion != 8 || view.Upcoming[0].Total != 107 {
		t.Fatalf("after the race: %+v, %v", view, err)
	}
	if got := e.bookingEvents(e.a, c.ID); !slices.Equal(got, []string{"booking.created"}) {
		t.Fatalf("events %v", got)
	}
}

// testBookingBatch: a batch writes its good deliveries and answers each.
func testBookingBatch(t *testing.T, open func(t *testing.T) crm.Store) {
	e := newEnv(t, open)
	c := e.create(e.a, crm.CustomerFields{LastName: "Batch"})
	other := e.create(e.b, crm.CustomerFields{LastName: "Other"})
	var ins []crm.BookingInput
	for i := range 100 {
		ins = append(ins, trip(fmt.Sprintf("BATCH-%03d", i), c, "2027-02-01", int64(i)))
	}
	bad := trip("BATCH-BAD", c, "2027-02-01", 1)
	bad.Currency = "eu"
	ins = append(ins, bad, trip("BATCH-OTHER", other, "2027-02-01", 1), ins[0])
	res, err := e.crm.Bookings.UpsertMany(e.a, ins)
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Outcome != crm.BookingCreated || res[99].Outcome != crm.BookingCreated || res[102].Outcome != crm.BookingUnchanged {
		t.Fatalf("outcomes %s %s %s", res[0].Outcome, res[99].Outcome, res[102].Outcome)
	}
	wantInvalid(t, res[100].Err, "currency", "invalid")
	wantErr(t, res[101].Err, crm.ErrNotFound)
	view, err := e.crm.Bookings.OfCustomer(e.a, c.ID, 500)
	if err != nil || view.Counts.Upcoming != 100 || len(view.Upcoming) != 100 {
		t.Fatalf("view: %+v, %v", view.Counts, err)
	}
	_, err = e.crm.Bookings.UpsertMany(e.a, make([]crm.BookingInput, crm.MaxBookingBatch+1))
	wantInvalid(t, err, "bookings", "maxItems")
}

// testBookingView: a customer's bookings split into upcoming, past and
// deleted (newest first), with counts and lifetime value per currency.
func testBookingView(t *testing.T, open func(t *testing.T) crm.Store) {
	e := newEnv(t, open)
	c := e.create(e.a, crm.CustomerFields{LastName: "View"})
	e.upsert(e.a, trip("V-past", c, "2025-05-01", 1000))
	e.upsert(e.a, trip("V-soon", c, "2026-12-01", 2000))
	e.upsert(e.a, trip("V-later", c, "2027-12-01", 3000))
	today := trip("V-today", c, "2026-11-22", 400)
	today.Currency = "PLN"
	e.upsert(e.a, today)
	opt := trip("V-option", c, "2027-01-01", 9999)
	opt.Status = "option"
	e.upsert(e.a, opt)
	del := trip("V-deleted", c, "2027-01-01", 5000)
	del.Status = "deleted"
	e.upsert(e.a, del)
	cancelled := trip("V-cancelled", c, "2024-01-01", 7000)
	cancelled.Status = "cancelled"
	e.upsert(e.a, cancelled)

	v, err := e.crm.Bookings.OfCustomer(e.a, c.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	refs := func(bs []crm.Booking) string {
		var out []string
		for _, b := range bs {
			out = append(out, b.Reference)
		}
		return strings.Join(out, " ")
	}
	if got := refs(v.Upcoming); got != "V-later V-option V-soon V-today" {
		t.Errorf("upcoming %q", got)
	}
	if got := refs(v.Past); got != "V-past V-cancelled" {
		t.Errorf("past %q", got)
	}
	if got := refs(v.Deleted); got != "V-deleted" {
		t.Errorf("deleted %q", got)
	}
	want := crm.BookingStats{Upcoming: 4, Past: 2, Deleted: 1, Cancelled: 1,
		LifetimeValue: []crm.Money{{Amount: 6000, Currency: "EUR"}, {Amount: 400, Currency: "PLN"}}}
	if fmt.Sprint(v.Counts) != fmt.Sprint(want) {
		t.Errorf("counts %+v, want %+v", v.Counts, want)
	}
	// Paging through one group.
	all := allPages(t, 1, func(page crm.PageRequest) (crm.Page[crm.Booking], error) {
		return e.crm.Bookings.List(e.a, c.ID, crm.GroupUpcoming, page)
	})
	if got := refs(all); got != "V-later V-option V-soon V-today" {
		t.Errorf("paged upcoming %q", got)
	}
	_, err = e.crm.Bookings.List(e.a, c.ID, "soon", crm.PageRequest{})
	wantInvalid(t, err, "group", "oneof")
	// Bookings are activity: retention sees the customer as active.
	got, _ := e.crm.Customers.Get(e.a, c.ID)
	if !got.LastActivityAt.Equal(e.now.UTC().Truncate(time.Microsecond)) {
		t.Errorf("last activity %v", got.LastActivityAt)
	}
}

// testBookingFilters: every booking criterion alone and combined with
// tags and language, in the same SQL as every other filter.
func testBookingFilters(t *testing.T, open func(t *testing.T) crm.Store) {
	e := newEnv(t, open)
	tags, _ := e.crm.Tags.List(e.a)
	vip := tags[0].ID
	mk := func(last, lang string, tag bool) *crm.Customer {
		c := e.create(e.a, crm.CustomerFields{LastName: last, Language: lang})
		if tag {
			if _, err := e.crm.Tags.Add(e.a, c.ID, vip); err != nil {
				t.Fatal(err)
			}
		}
		return c
	}
	spain := mk("Spain", "nl", true)     // Málaga in June 2027, 2,500 EUR; and a cancelled Greece
	greece := mk("Greece", "de", true)   // Crete in June 2027, 900 EUR by phone
	two := mk("Two", "nl", false)        // two Spanish trips, one in July, box office, one old
	nothing := mk("Nothing", "nl", true) // no bookings
	_ = nothing
	e.upsert(e.a, trip("F-1", spain, "2027-06-10", 250000))
	g := trip("F-2", greece, "2027-06-20", 90000)
	g.DestinationCountry, g.DestinationPlace, g.Channel = "GR", "Kreta", crm.ChannelPhone
	e.upsert(e.a, g)
	gc := trip("F-3", spain, "2027-06-20", 90000)
	gc.DestinationCountry, gc.DestinationPlace, gc.Status = "GR", "Kreta", "cancelled"
	e.upsert(e.a, gc)
	t1 := trip("F-4", two, "2027-07-05", 120000)
	t1.Channel = crm.ChannelBoxOffice
	t1.RegisteredOn = crm.MustDate("2026-09-01")
	e.upsert(e.a, t1)
	t2 := trip("F-5", two, "2024-07-05", 80000)
	t2.DestinationPlace = "Malaga"
	t2.RegisteredOn = crm.MustDate("2024-01-15")
	e.upsert(e.a, t2)
	// Another organisation's matching booking never shows.
	ob := e.create(e.b, crm.CustomerFields{LastName: "OtherOrg"})
	e.upsert(e.b, trip("F-1", ob, "2027-06-10", 250000))

	d := func(s string) *crm.Date { return ptr(crm.MustDate(s)) }
	i64 := func(n int64) *int64 { return &n }
	for _, tc := range []struct {
		name string
		f    crm.BookingFilter
		more crm.CustomerFilter
		want string
	}{
		{"country", crm.BookingFilter{DestinationCountry: "es"}, crm.CustomerFilter{}, "Spain Two"},
		{"place without accents", crm.BookingFilter{DestinationPlace: "MALAGA"}, crm.CustomerFilter{}, "Spain Two"},
		{"departure range", crm.BookingFilter{DepartureFrom: d("2027-06-01"), DepartureTo: d("2027-06-30")}, crm.CustomerFilter{}, "Spain Greece"},
		{"cancelled do not count", crm.BookingFilter{DestinationCountry: "GR"}, crm.CustomerFilter{}, "Greece"},
		{"status", crm.BookingFilter{Status: crm.StatusCancelled}, crm.CustomerFilter{}, "Spain"},
		{"value range", crm.BookingFilter{ValueMin: i64(100000), ValueMax: i64(200000), Currency: "eur"}, crm.CustomerFilter{}, "Two"},
		{"channel", crm.BookingFilter{Channel: crm.ChannelPhone}, crm.CustomerFilter{}, "Greece"},
		{"kind", crm.BookingFilter{Kind: crm.KindOrder}, crm.CustomerFilter{}, ""},
		{"count at least 2", crm.BookingFilter{CountMin: ptr(2)}, crm.CustomerFilter{}, "Two"},
		{"count at most 1", crm.BookingFilter{CountMax: ptr(1)}, crm.CustomerFilter{}, "Spain Greece Nothing"},
		{"no bookings", crm.BookingFilter{CountMax: ptr(0)}, crm.CustomerFilter{}, "Nothing"},
		{"last booking before", crm.BookingFilter{LastTo: d("2026-09-15")}, crm.CustomerFilter{}, "Two"},
		{"last booking after", crm.BookingFilter{LastFrom: d("2026-09-15")}, crm.CustomerFilter{}, "Spain Greece"},
		{"destination + month + value", crm.BookingFilter{DestinationCountry: "ES", DepartureFrom: d("2027-06-01"),
			DepartureTo: d("2027-06-30"), ValueMin: i64(200000), Currency: "EUR"}, crm.CustomerFilter{}, "Spain"},
		{"one booking must match all", crm.BookingFilter{DestinationPlace: "Malaga", DepartureFrom: d("2027-07-01"),
			ValueMax: i64(100000), Currency: "EUR"}, crm.CustomerFilter{}, ""},
		{"with tag", crm.BookingFilter{DepartureFrom: d("2027-01-01")}, crm.CustomerFilter{Tags: crm.QualifierFilter{Any: []string{vip}}}, "Spain Greece"},
		{"with tag none", crm.BookingFilter{DepartureFrom: d("2027-01-01")}, crm.CustomerFilter{Tags: crm.QualifierFilter{None: []string{vip}}}, "Two"},
		{"with language", crm.BookingFilter{DepartureFrom: d("2027-01-01")}, crm.CustomerFilter{Language: "nl"}, "Spain Two"},
		{"with language and tag", crm.BookingFilter{CountMax: ptr(1)}, crm.CustomerFilter{Language: "nl", Tags: crm.QualifierFilter{All: []string{vip}}}, "Spain Nothing"},
	} {
		f := tc.more
		f.Bookings = tc.f
		got := lastNames(e.list(e.a, f))
		if got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
		if n, err := e.crm.Customers.Count(e.a, f); err != nil || int(n) != len(e.list(e.a, f)) {
			t.Errorf("%s: count %d, %v", tc.name, n, err)
		}
	}
	for field, f := range map[string]crm.BookingFilter{
		"bookings.currency":           {ValueMin: i64(1)},
		"bookings.destinationCountry": {DestinationCountry: "XX"},
		"bookings.status":             {Status: "lost"},
		"bookings.channel":            {Channel: "fax"},
		"bookings.departureTo":        {DepartureFrom: d("2027-01-02"), DepartureTo: d("2027-01-01")},
		"bookings.countMin":           {CountMin: ptr(-1)},
	} {
		_, err := e.crm.Customers.List(e.a, crm.CustomerFilter{Bookings: f}, crm.PageRequest{})
		var ve *crm.ValidationError
		if !errors.As(err, &ve) || !slices.ContainsFunc(ve.Fields, func(fe crm.FieldError) bool { return fe.Field == field }) {
			t.Errorf("%s: %v", field, err)
		}
	}
	// A segment keeps booking criteria.
	seg, err := e.crm.Segments.Create(e.a, crm.NewSegment{Name: "Spain in June",
		Filter: crm.CustomerFilter{Bookings: crm.BookingFilter{DestinationCountry: "ES", DepartureFrom: d("2027-06-01"), DepartureTo: d("2027-06-30")}}})
	if err != nil {
		t.Fatal(err)
	}
	p, err := e.crm.Segments.Customers(e.a, seg.ID, crm.PageRequest{})
	if err != nil || lastNames(p.Items) != "Spain" {
		t.Fatalf("segment: %v, %v", p.Items, err)
	}
}

// testBookingWorklists: the departures and payments worklists, their day
// boundaries in the organisation's time zone, part payments, and the
// informed mark.
func testBookingWorklists(t *testing.T, open func(t *testing.T) crm.Store) {
	e := newEnv(t, open)
	if _, err := e.crm.Bookings.SetSettings(e.a, crm.BookingSettings{TimeZone: "Europe/Warsaw"}); err != nil {
		t.Fatal(err)
	}
	c := e.create(e.a, crm.CustomerFields{FirstName: "Jan", LastName: "Kowalski"})
	// It is 2026-11-22 23:30 in Warsaw (22:30 UTC).
	e.now = time.Date(2026, 11, 22, 22, 30, 0, 0, time.UTC)
	at := func(s string) *time.Time {
		v, _ := time.Parse(time.RFC3339, s)
		return &v
	}
	departs := func(ref string, startsAt *time.Time, status string) {
		in := trip(ref, c, "2026-01-01", 1000)
		in.StartsOn, in.StartsAt, in.Status = nil, startsAt, status
		e.upsert(e.a, in)
	}
	departs("D-today-early", at("2026-11-22T05:00:00Z"), "confirmed")     // left this morning: still on until midnight
	departs("D-warsaw-tomorrow", at("2026-11-22T23:15:00Z"), "confirmed") // 00:15 on the 23rd in Warsaw
	departs("D-day-after", at("2026-11-24T10:00:00Z"), "reserved")
	departs("D-too-late", at("2026-11-24T23:30:00Z"), "confirmed") // the 25th in Warsaw
	departs("D-cancelled", at("2026-11-23T10:00:00Z"), "cancelled")
	departs("D-yesterday", at("2026-11-21T22:59:00Z"), "confirmed") // 23:59 on the 21st in Warsaw
	list := func(r crm.WorklistRequest, payments bool) string {
		var out []string
		r.Page.Limit = 1
		for {
			var p crm.Page[crm.WorklistItem]
			var err error
			if payments {
				p, err = e.crm.Bookings.PaymentsDue(e.a, r)
			} else {
				p, err = e.crm.Bookings.Departures(e.a, r)
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, it := range p.Items {
				if it.CustomerName != "Jan Kowalski" {
					t.Fatalf("customer name %q", it.CustomerName)
				}
				out = append(out, it.Reference)
			}
			if p.Next == "" {
				return strings.Join(out, " ")
			}
			r.Page.Cursor = p.Next
		}
	}
	if got := list(crm.WorklistRequest{}, false); got != "D-today-early D-warsaw-tomorrow D-day-after" {
		t.Errorf("departures %q", got)
	}
	if got := list(crm.WorklistRequest{Days: 3}, false); got != "D-today-early D-warsaw-tomorrow D-day-after D-too-late" {
		t.Errorf("departures in 3 days %q", got)
	}
	b, _ := e.crm.Bookings.Get(e.a, "D-warsaw-tomorrow")
	if b.StartsOn.String() != "2026-11-23" {
		t.Errorf("a start given as a time belongs to the day in the organisation's zone: %s", b.StartsOn)
	}

	// The informed mark records who and when.
	staff := e.staffActor(e.a, "agent-7")
	marked, err := e.crm.Bookings.MarkInformed(staff, "D-day-after")
	if err != nil || marked.InformedBy == nil || marked.InformedBy.ID != "agent-7" || !marked.InformedAt.Equal(e.now) {
		t.Fatalf("informed: %+v, %v", marked, err)
	}
	_, err = e.crm.Bookings.MarkInformed(e.b, "D-day-after")
	wantErr(t, err, crm.ErrNotFound)

	// Payments: a partly paid deposit, a paid deposit with the final due,
	// a payment beyond the window, one paid in full.
	pay := func(ref string, deposit, final *crm.Payment) {
		in := trip(ref, c, "2027-05-01", 100000)
		in.Deposit, in.Final = deposit, final
		e.upsert(e.a, in)
	}
	d := crm.MustDate
	pay("P-deposit-part", &crm.Payment{DueOn: d("2026-11-22"), Amount: 30000, Paid: 10000}, &crm.Payment{DueOn: d("2027-04-01"), Amount: 70000})
	pay("P-final", &crm.Payment{DueOn: d("2026-10-01"), Amount: 30000, Paid: 30000}, &crm.Payment{DueOn: d("2026-11-24"), Amount: 70000, Paid: 5000})
	pay("P-later", &crm.Payment{DueOn: d("2026-11-25"), Amount: 30000}, nil)
	pay("P-overdue", &crm.Payment{DueOn: d("2026-11-20"), Amount: 30000}, nil)
	pay("P-paid", &crm.Payment{DueOn: d("2026-11-23"), Amount: 30000, Paid: 30000}, nil)
	if got := list(crm.WorklistRequest{}, true); got != "P-deposit-part P-final" {
		t.Errorf("payments due %q", got)
	}
	if got := list(crm.WorklistRequest{Overdue: true}, true); got != "P-overdue P-deposit-part P-final" {
		t.Errorf("payments due with overdue %q", got)
	}
	p, _ := e.crm.Bookings.PaymentsDue(e.a, crm.WorklistRequest{})
	if n := p.Items[0].NextPayment; n.Kind != crm.PaymentDeposit || n.Missing != 20000 {
		t.Errorf("deposit part paid: %+v", n)
	}
	if n := p.Items[1].NextPayment; n.Kind != crm.PaymentFinal || n.Missing != 65000 {
		t.Errorf("final: %+v", n)
	}
	// Paying in full takes a booking off the list.
	pay("P-deposit-part", &crm.Payment{DueOn: d("2026-11-22"), Amount: 30000, Paid: 30000}, &crm.Payment{DueOn: d("2027-04-01"), Amount: 70000})
	if got := list(crm.WorklistRequest{}, true); got != "P-final" {
		t.Errorf("after paying the deposit %q", got)
	}

	// A reminder is recorded on the booking and the timeline; "remind
	// every 2 days" leaves out bookings reminded since.
	r, err := e.crm.Bookings.RecordReminder(e.a, "P-final", crm.ReminderInput{Channel: "phone", Note: "called, pays Monday"})
	if err != nil || r.Payment != crm.PaymentFinal || r.Missing != 65000 {
		t.Fatalf("reminder: %+v, %v", r, err)
	}
	since := e.now.Add(-48 * time.Hour)
	if got := list(crm.WorklistRequest{NotRemindedSince: &since}, true); got != "" {
		t.Errorf("reminded bookings are left out: %q", got)
	}
	_, err = e.crm.Bookings.RecordReminder(e.a, "P-paid", crm.ReminderInput{Channel: "mail"})
	wantErr(t, err, crm.ErrConflict)
	_, err = e.crm.Bookings.RecordReminder(e.a, "P-final", crm.ReminderInput{Channel: "pigeon"})
	wantInvalid(t, err, "channel", "oneof")
	if got := e.bookingEvents(e.a, c.ID); !slices.Contains(got, "booking.informed") || !slices.Contains(got, "booking.payment_reminded") {
		t.Errorf("events %v", got)
	}
	_, err = e.crm.Bookings.Departures(e.a, crm.WorklistRequest{Days: 61})
	wantInvalid(t, err, "days", "maxValue")
	// Another organisation's worklists are its own.
	if p, err := e.crm.Bookings.Departures(e.b, crm.WorklistRequest{Days: 60}); err != nil || len(p.Items) != 0 {
		t.Fatalf("B's departures: %v, %v", p.Items, err)
	}
	if p, err := e.crm.Bookings.PaymentsDue(e.b, crm.WorklistRequest{Days: 60, Overdue: true}); err != nil || len(p.Items) != 0 {
		t.Fatalf("B's payments: %v, %v", p.Items, err)
	}
}

// testBookingIsolation: one organisation never reads or changes
// another's bookings; references are per organisation.
func testBookingIsolation(t *testing.T, open func(t *testing.T) crm.Store) {
	e := newEnv(t, open)
	a := e.create(e.a, crm.CustomerFields{LastName: "A"})
	b := e.create(e.b, crm.CustomerFields{LastName: "B"})
	e.upsert(e.a, trip("SAME", a, "2027-01-01", 100))
	// B cannot write a booking for A's customer, nor read A's.
	_, err := e.crm.Bookings.Upsert(e.b, trip("X", a, "2027-01-01", 100))
	wantErr(t, err, crm.ErrNotFound)
	_, err = e.crm.Bookings.Get(e.b, "SAME")
	wantErr(t, err, crm.ErrNotFound)
	_, err = e.crm.Bookings.List(e.b, a.ID, "", crm.PageRequest{})
	wantErr(t, err, crm.ErrNotFound)
	_, err = e.crm.Bookings.OfCustomer(e.b, a.ID, 0)
	wantErr(t, err, crm.ErrNotFound)
	_, err = e.crm.Bookings.Move(e.b, "SAME", b.ID)
	wantErr(t, err, crm.ErrNotFound)
	_, err = e.crm.Bookings.Move(e.a, "SAME", b.ID)
	wantErr(t, err, crm.ErrNotFound)
	_, err = e.crm.Bookings.RecordReminder(e.b, "SAME", crm.ReminderInput{Channel: "phone"})
	wantErr(t, err, crm.ErrNotFound)
	// The same reference in B is B's own booking.
	if r := e.upsert(e.b, trip("SAME", b, "2027-01-01", 200)); r.Outcome != crm.BookingCreated {
		t.Fatalf("B's own SAME: %s", r.Outcome)
	}
	if got, _ := e.crm.Bookings.Get(e.a, "SAME"); got.Total != 100 || got.CustomerID != a.ID {
		t.Fatalf("A's booking changed: %+v", got)
	}
	if _, err := e.crm.Bookings.SetSettings(e.b, crm.BookingSettings{TimeZone: "Europe/Berlin"}); err != nil {
		t.Fatal(err)
	}
	if set, _ := e.crm.Bookings.Settings(e.a); set.TimeZone != "" {
		t.Fatalf("A's settings: %+v", set)
	}
	// Deleting a customer deletes its bookings.
	if err := e.crm.Customers.Delete(e.a, a.ID); err != nil {
		t.Fatal(err)
	}
	_, err = e.crm.Bookings.Get(e.a, "SAME")
	wantErr(t, err, crm.ErrNotFound)
}

// testBenefitChannel: a benefit use records where it happened.
func testBenefitChannel(t *testing.T, open func(t *testing.T) crm.Store) {
	e := newEnv(t, open)
	c := e.create(e.a, crm.CustomerFields{LastName: "Season"})
	label, err := e.crm.Labels.Define(e.a, crm.NewLabel{Name: "Season ticket", Benefits: "Free coffee"})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.crm.Labels.Assign(e.a, c.ID, label.ID); err != nil {
		t.Fatal(err)
	}
	for _, ch := range []crm.BenefitChannel{crm.BenefitAtBoxOffice, crm.BenefitOnline, crm.BenefitOnline} {
		if _, err := e.crm.Labels.UseBenefitVia(e.a, c.ID, label.ID, ch, ""); err != nil {
			t.Fatal(err)
		}
	}
	_, err = e.crm.Labels.UseBenefitVia(e.a, c.ID, label.ID, "fax", "")
	wantInvalid(t, err, "channel", "oneof")
	x, err := e.crm.Privacy.Export(e.a, c.ID, crm.ExportStaff)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, u := range x.BenefitUses {
		got = append(got, string(u.Channel))
	}
	if strings.Join(got, " ") != "box_office online online" {
		t.Fatalf("channels %v", got)
	}
}

// testBookingParticipations: a participant who is a customer finds the
// bookings they take part in in their own export (Art. 15), reduced to
// what they take part in; the lead's export lists them as bookings, not
// participations; a participant taken off the booking no longer sees it;
// another organisation's export of the same id finds nothing.
func testBookingParticipations(t *testing.T, open func(t *testing.T) crm.Store) {
	e := newEnv(t, open)
	lead := e.create(e.a, crm.CustomerFields{FirstName: "Lea", LastName: "Lead"})
	partner := e.create(e.a, crm.CustomerFields{FirstName: "Pia", LastName: "Partner"})
	child := e.create(e.a, crm.CustomerFields{FirstName: "Kim", LastName: "Partner"})
	outsider := e.create(e.a, crm.CustomerFields{FirstName: "Otto", LastName: "Outside"})
	in := trip("PART-1", lead, "2027-07-01", 300000)
	in.Participants = []string{partner.ID, child.ID}
	in.InvoiceNumber, in.Invoiced = "INV-77", true
	in.Deposit = &crm.Payment{DueOn: crm.MustDate("2026-12-01"), Amount: 90000}
	e.upsert(e.a, in)
	other := trip("PART-2", lead, "2027-08-01", 100)
	other.Participants = []string{child.ID}
	e.upsert(e.a, other)
	e.upsert(e.a, trip("PART-3", partner, "2027-09-01", 100)) // the partner's own booking

	export := func(ctx context.Context, id string, audience crm.ExportAudience) *crm.CustomerExport {
		t.Helper()
		x, err := e.crm.Privacy.Export(ctx, id, audience)
		if err != nil {
			t.Fatal(err)
		}
		return x
	}
	refs := func(bs []crm.Booking) []string {
		var out []string
		for _, b := range bs {
			out = append(out, b.Reference)
		}
		return out
	}
	for _, audience := range []crm.ExportAudience{crm.ExportStaff, crm.ExportCustomer} {
		x := export(e.a, partner.ID, audience)
		if got := refs(x.Participations); !slices.Equal(got, []string{"PART-1"}) {
			t.Fatalf("%s: the partner's participations: %v", audience, got)
		}
		if got := refs(x.Bookings); !slices.Equal(got, []string{"PART-3"}) {
			t.Fatalf("%s: the partner's own bookings: %v", audience, got)
		}
		p := x.Participations[0]
		if p.CustomerID != "" || p.CustomerNumber != 0 || !slices.Equal(p.Participants, []string{partner.ID}) ||
			p.Total != 0 || p.Deposit != nil || p.InvoiceNumber != "" || p.Lines != nil ||
			p.DestinationPlace != "Málaga" || p.StartsOn == nil || p.StartsOn.String() != "2027-07-01" {
			t.Fatalf("%s: the partner's participation carries the lead's data or lacks the trip: %+v", audience, p)
		}
	}
	if got := refs(export(e.a, child.ID, crm.ExportStaff).Participations); !slices.Equal(got, []string{"PART-1", "PART-2"}) {
		t.Fatalf("the child's participations, oldest first: %v", got)
	}
	if x := export(e.a, lead.ID, crm.ExportStaff); len(x.Participations) != 0 || len(x.Bookings) != 2 {
		t.Fatalf("the lead's export: %d bookings, participations %v", len(x.Bookings), refs(x.Participations))
	}
	if x := export(e.a, outsider.ID, crm.ExportStaff); x.Participations == nil || len(x.Participations) != 0 {
		t.Fatalf("an outsider's participations: %v", x.Participations)
	}
	// The zip carries them as participations.csv.
	var zip strings.Builder
	if err := export(e.a, partner.ID, crm.ExportCustomer).WriteZip(&zip); err != nil || !strings.Contains(zip.String(), "participations.csv") {
		t.Fatalf("the zip lacks participations.csv (%v)", err)
	}
	// Taken off the booking, the partner no longer sees it.
	in.Participants = []string{child.ID}
	in.SourceVersion = 0
	e.upsert(e.a, in)
	if got := refs(export(e.a, partner.ID, crm.ExportStaff).Participations); len(got) != 0 {
		t.Fatalf("after leaving the booking: %v", got)
	}
	// Another organisation cannot export the child, nor see its participations.
	_, err := e.crm.Privacy.Export(e.b, child.ID, crm.ExportStaff)
	wantErr(t, err, crm.ErrNotFound)
}
