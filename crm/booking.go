package crm

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/dossiercrm/dossier/crm/i18n"
)

// BookingKind is what a booking summary describes.
type BookingKind string

// The kinds of booking.
const (
	KindBooking     BookingKind = "booking"     // a trip, a stay
	KindOrder       BookingKind = "order"       // tickets, products, gift cards
	KindReservation BookingKind = "reservation" // a table, a seat held at the box office
	KindAppointment BookingKind = "appointment"
)

// BookingStatus is where a booking stands. Dossier knows these six; an
// organisation maps the statuses of its own platform onto them with
// BookingSettings.StatusMap, and the platform's word is kept next to them
// (Booking.PlatformStatus).
type BookingStatus string

// The booking statuses.
const (
	StatusOption    BookingStatus = "option"    // held, not yet firm
	StatusReserved  BookingStatus = "reserved"  // reserved, e.g. at the box office, not yet paid
	StatusConfirmed BookingStatus = "confirmed" // firm
	StatusSold      BookingStatus = "sold"      // sold and paid (orders)
	StatusCancelled BookingStatus = "cancelled"
	StatusDeleted   BookingStatus = "deleted" // removed by the platform; listed apart
)

// BookingChannel is where a booking was made.
type BookingChannel string

// The booking channels.
const (
	ChannelOnline    BookingChannel = "online"
	ChannelBoxOffice BookingChannel = "box_office"
	ChannelPhone     BookingChannel = "phone"
	ChannelAgent     BookingChannel = "agent"
)

// PaymentKind says which payment of a booking's schedule is meant.
type PaymentKind string

// The payments of a booking's schedule.
const (
	PaymentDeposit PaymentKind = "deposit"
	PaymentFinal   PaymentKind = "final"
)

// Money is an exact amount: an integer number of minor units (cents) of
// a currency (ISO 4217), so that 1999 EUR is €19.99 and 500 JPY is ¥500.
type Money struct {
	Amount   int64  `json:"amount"`
	Currency string `json:"currency" validate:"omitempty,len=3,uppercase"`
}

// BookingLine is one line of what was booked: a ticket, a product, a gift
// card, a subscription, a travel component (flight, hotel, transfer).
type BookingLine struct {
	Kind        string `json:"kind,omitempty" validate:"max=40"`
	Description string `json:"description,omitempty" validate:"max=500"`
	Quantity    int    `json:"quantity,omitempty"`
	// Amount is the line's total in minor units of the booking's currency.
	Amount int64 `json:"amount,omitempty"`
}

// Payment is one payment of a booking's schedule: due on DueOn, Amount to
// pay, Paid so far (all in minor units of the booking's currency).
type Payment struct {
	DueOn  Date  `json:"dueOn"`
	Amount int64 `json:"amount"`
	Paid   int64 `json:"paid"`
}

// PaymentDue is the next payment of a booking that is not paid in full.
type PaymentDue struct {
	Kind   PaymentKind `json:"kind"`
	DueOn  Date        `json:"dueOn"`
	Amount int64       `json:"amount"`
	Paid   int64       `json:"paid"`
	// Missing is Amount minus Paid.
	Missing int64 `json:"missing"`
}

// Booking is Dossier's summary of a booking or order that a booking
// platform owns and pushes (C10). The platform's Reference is its key
// within the organisation.
type Booking struct {
	ID string `json:"id"`
	// Reference is the platform's own booking or order number.
	Reference string `json:"reference"`
	// CustomerID is the lead customer; CustomerNumber its number.
	CustomerID     string         `json:"customerId"`
	CustomerNumber int64          `json:"customerNumber"`
	Kind           BookingKind    `json:"kind"`
	Status         BookingStatus  `json:"status"`
	PlatformStatus string         `json:"platformStatus,omitempty"`
	Channel        BookingChannel `json:"channel,omitempty"`
	RegisteredOn   Date           `json:"registeredOn"`
	// StartsOn and EndsOn are the days of departure and return (or of the
	// event or appointment) in the organisation's booking time zone;
	// StartsAt and EndsAt the exact times when the platform knows them.
	StartsOn *Date      `json:"startsOn,omitempty"`
	StartsAt *time.Time `json:"startsAt,omitempty"`
	EndsOn   *Date      `json:"endsOn,omitempty"`
	EndsAt   *time.Time `json:"endsAt,omitempty"`
	// DestinationCountry (ISO 3166-1 alpha-2) and DestinationPlace, or Venue.
	DestinationCountry string        `json:"destinationCountry,omitempty"`
	DestinationPlace   string        `json:"destinationPlace,omitempty"`
	Venue              string        `json:"venue,omitempty"`
	Description        string        `json:"description,omitempty"`
	Lines              []BookingLine `json:"lines,omitempty"`
	// Total is in minor units of Currency.
	Total    int64  `json:"total"`
	Currency string `json:"currency"`
	// Labels are subscription or membership labels the booking carries.
	Labels        []string `json:"labels,omitempty"`
	Invoiced      bool     `json:"invoiced"`
	InvoiceNumber string   `json:"invoiceNumber,omitempty"`
	Deposit       *Payment `json:"deposit,omitempty"`
	Final         *Payment `json:"final,omitempty"`
	// NextPayment is the first payment not paid in full, if any (none for
	// a cancelled or deleted booking).
	NextPayment *PaymentDue `json:"nextPayment,omitempty"`
	// Participants are the other customers on the booking (ids).
	Participants []string `json:"participants,omitempty"`
	// Link is the booking's page on the platform.
	Link string `json:"link,omitempty"`
	// SourceVersion and SourceUpdatedAt are the platform's version of the
	// delivery stored; an older delivery changes nothing.
	SourceVersion   int64      `json:"sourceVersion,omitempty"`
	SourceUpdatedAt *time.Time `json:"sourceUpdatedAt,omitempty"`
	// InformedAt and InformedBy record who told the customer the final
	// flight times, and when.
	InformedAt *time.Time `json:"informedAt,omitempty"`
	InformedBy *Actor     `json:"informedBy,omitempty"`
	// LastReminderAt is when the last payment reminder was recorded.
	LastReminderAt *time.Time `json:"lastReminderAt,omitempty"`
	CreatedAt      time.Time  `json:"createdAt"`
	UpdatedAt      time.Time  `json:"updatedAt"`
	// RowVersion is the store's optimistic lock.
	RowVersion int `json:"-"`
}

// Day is the day a booking is listed under: its start, else its registration.
func (b *Booking) Day() Date {
	if b.StartsOn != nil {
		return *b.StartsOn
	}
	return b.RegisteredOn
}

// nextPayment works out the first payment not paid in full.
func (b *Booking) nextPayment() *PaymentDue {
	if b.Status == StatusCancelled || b.Status == StatusDeleted {
		return nil
	}
	for _, p := range []struct {
		kind PaymentKind
		p    *Payment
	}{{PaymentDeposit, b.Deposit}, {PaymentFinal, b.Final}} {
		if p.p != nil && p.p.Paid < p.p.Amount {
			return &PaymentDue{Kind: p.kind, DueOn: p.p.DueOn, Amount: p.p.Amount, Paid: p.p.Paid, Missing: p.p.Amount - p.p.Paid}
		}
	}
	return nil
}

// BookingInput is a delivery of a booking from the platform (see
// BookingService.Upsert). Status may be one of Dossier's statuses or one
// of the organisation's own (BookingSettings.StatusMap).
type BookingInput struct {
	Reference          string         `json:"reference" validate:"required,max=100"`
	CustomerID         string         `json:"customerId" validate:"required"`
	Kind               BookingKind    `json:"kind,omitempty"`
	Status             string         `json:"status" validate:"required,max=100"`
	Channel            BookingChannel `json:"channel,omitempty"`
	RegisteredOn       Date           `json:"registeredOn"`
	StartsOn           *Date          `json:"startsOn,omitempty"`
	StartsAt           *time.Time     `json:"startsAt,omitempty"`
	EndsOn             *Date          `json:"endsOn,omitempty"`
	EndsAt             *time.Time     `json:"endsAt,omitempty"`
	DestinationCountry string         `json:"destinationCountry,omitempty"`
	DestinationPlace   string         `json:"destinationPlace,omitempty" validate:"max=200"`
	Venue              string         `json:"venue,omitempty" validate:"max=200"`
	Description        string         `json:"description,omitempty" validate:"max=2000" text:"multiline"`
	Lines              []BookingLine  `json:"lines,omitempty" validate:"max=200,dive"`
	Total              int64          `json:"total"`
	Currency           string         `json:"currency" validate:"required"`
	Labels             []string       `json:"labels,omitempty" validate:"max=20,dive,max=100"`
	Invoiced           bool           `json:"invoiced,omitempty"`
	InvoiceNumber      string         `json:"invoiceNumber,omitempty" validate:"max=100"`
	Deposit            *Payment       `json:"deposit,omitempty"`
	Final              *Payment       `json:"final,omitempty"`
	Participants       []string       `json:"participants,omitempty" validate:"max=50"`
	Link               string         `json:"link,omitempty" validate:"max=2000"`
	SourceVersion      int64          `json:"sourceVersion,omitempty"`
	SourceUpdatedAt    *time.Time     `json:"sourceUpdatedAt,omitempty"`
}

// BookingOutcome says what an upsert did.
type BookingOutcome string

// The outcomes of an upsert.
const (
	BookingCreated   BookingOutcome = "created"
	BookingUpdated   BookingOutcome = "updated"
	BookingUnchanged BookingOutcome = "unchanged" // the same delivery again
	BookingStale     BookingOutcome = "stale"     // older than the stored one: ignored
)

// BookingResult is the answer to one delivery.
type BookingResult struct {
	Reference string         `json:"reference"`
	Outcome   BookingOutcome `json:"outcome,omitempty"`
	// Booking is the stored booking (after the delivery, or as it was when
	// the delivery was unchanged or stale).
	Booking *Booking `json:"booking,omitempty"`
	// Err is why the delivery was refused (batch upserts only).
	Err error `json:"-"`
}

// BookingSettings are an organisation's booking rules.
type BookingSettings struct {
	// TimeZone (IANA, "Europe/Warsaw") is the zone whose days the
	// worklists, the upcoming/past split and StartsOn derived from StartsAt
	// use. Empty means UTC.
	TimeZone string `json:"timeZone"`
	// StatusMap maps the platform's own statuses ("OP", "Anulowana") to
	// Dossier's. A delivery whose status is neither one of Dossier's nor
	// in the map is refused (422 on status).
	StatusMap map[string]BookingStatus `json:"statusMap"`
	UpdatedAt time.Time                `json:"updatedAt"`
}

// PaymentReminder records that the customer was reminded of a payment.
type PaymentReminder struct {
	ID        string      `json:"id"`
	BookingID string      `json:"bookingId"`
	Reference string      `json:"reference"`
	Channel   string      `json:"channel"`
	Payment   PaymentKind `json:"payment,omitempty"`
	// Missing is what was still to pay when reminded (minor units).
	Missing int64     `json:"missing"`
	Note    string    `json:"note,omitempty"`
	Actor   Actor     `json:"actor"`
	At      time.Time `json:"at"`
}

// ReminderInput is the input of BookingService.RecordReminder.
type ReminderInput struct {
	// Channel is how the customer was reminded: phone, mail, sms or letter.
	Channel string `json:"channel" validate:"required,oneof=phone mail sms letter"`
	Note    string `json:"note,omitempty" validate:"max=1000" text:"multiline"`
}

// BookingGroup splits a customer's bookings.
type BookingGroup string

// The groups of a customer's bookings, by their day (Booking.Day) in the
// organisation's time zone.
const (
	GroupUpcoming BookingGroup = "upcoming" // today or later, not deleted
	GroupPast     BookingGroup = "past"     // before today, not deleted
	GroupDeleted  BookingGroup = "deleted"  // deleted by the platform
)

// BookingListParams selects a page of a customer's bookings, newest
// (latest day) first.
type BookingListParams struct {
	OrgID      string
	CustomerID string
	// Group with Today; empty Group lists all.
	Group BookingGroup
	Today Date
	// The keyset position: strictly after (BeforeDay, BeforeID) in
	// (day DESC, id DESC) order, when BeforeID is set.
	BeforeDay Date
	BeforeID  string
	Limit     int
}

// BookingStats sums a customer's bookings.
type BookingStats struct {
	Upcoming  int `json:"upcoming"`
	Past      int `json:"past"`
	Deleted   int `json:"deleted"`
	Cancelled int `json:"cancelled"`
	// LifetimeValue is the total of the reserved, confirmed and sold
	// bookings, per currency (options, cancelled and deleted ones do not count).
	LifetimeValue []Money `json:"lifetimeValue"`
}

// CustomerBookings is the bookings part of a customer's dossier.
type CustomerBookings struct {
	Counts   BookingStats `json:"counts"`
	Upcoming []Booking    `json:"upcoming"`
	Past     []Booking    `json:"past"`
	Deleted  []Booking    `json:"deleted"`
}

// WorklistParams selects a page of a worklist.
type WorklistParams struct {
	OrgID string
	// From and To bound the day, both included. Overdue (payments only)
	// drops From.
	From, To Date
	Overdue  bool
	// NotRemindedSince, when set, keeps bookings without a reminder since then.
	NotRemindedSince *time.Time
	AfterDay         Date
	AfterID          string
	Limit            int
}

// WorklistItem is a booking on a worklist with its customer's name.
type WorklistItem struct {
	Booking
	CustomerName string `json:"customerName"`
}

// WorklistRequest asks for a worklist page.
type WorklistRequest struct {
	// Days is how many days ahead besides today: 0..60, default 2.
	Days int
	// Overdue (payments) also lists payments whose due day has passed.
	Overdue bool
	// NotRemindedSince (payments) leaves out bookings reminded since then,
	// e.g. now minus two days for "every 2 days until paid".
	NotRemindedSince *time.Time
	Page             PageRequest
}

// BookingCustomer is what a booking write needs of a customer.
type BookingCustomer struct {
	Number     int64
	Anonymised bool
}

// BookingStore keeps booking summaries. Every method names the organisation.
type BookingStore interface {
	// BookingGet returns the booking with the platform's reference, or ErrNotFound.
	BookingGet(ctx context.Context, orgID, reference string) (*Booking, error)
	// BookingGetMany returns the bookings with these references, by reference.
	BookingGetMany(ctx context.Context, orgID string, references []string) (map[string]*Booking, error)
	// BookingInsertMany stores new bookings; a taken reference is ErrConflict.
	BookingInsertMany(ctx context.Context, orgID string, bs []*Booking) error
	// BookingCustomers records activity on the lead customers that are not
	// anonymised (their last-activity time) and locks them until the
	// transaction ends, and returns, by id, every customer of leads and
	// others that exists in the organisation.
	BookingCustomers(ctx context.Context, orgID string, leads, others []string, at time.Time) (map[string]BookingCustomer, error)
	// BookingUpdate stores b if its row version is still expected (else
	// ErrConflict), and increments it.
	BookingUpdate(ctx context.Context, orgID string, b *Booking, expected int) error
	// BookingList returns a page of a customer's bookings (see BookingListParams).
	BookingList(ctx context.Context, p BookingListParams) ([]Booking, error)
	// BookingStats counts and sums a customer's bookings as of today.
	BookingStats(ctx context.Context, orgID, customerID string, today Date) (*BookingStats, error)
	// BookingDepartures returns bookings starting between p.From and p.To,
	// not cancelled or deleted, by (start day, id).
	BookingDepartures(ctx context.Context, p WorklistParams) ([]WorklistItem, error)
	// BookingPaymentsDue returns bookings whose next payment is due between
	// p.From and p.To, by (due day, id).
	BookingPaymentsDue(ctx context.Context, p WorklistParams) ([]WorklistItem, error)
	// BookingParticipations returns the bookings customerID takes part in
	// without leading them (a participant, not the lead), oldest day first.
	BookingParticipations(ctx context.Context, orgID, customerID string) ([]Booking, error)
	// BookingReminderInsert records a payment reminder and sets the
	// booking's LastReminderAt.
	BookingReminderInsert(ctx context.Context, orgID string, r *PaymentReminder) error
	// BookingReminderList returns a customer's reminders, oldest first.
	BookingReminderList(ctx context.Context, orgID, customerID string) ([]PaymentReminder, error)
	// BookingSettingsGet returns the organisation's settings (zero when never set).
	BookingSettingsGet(ctx context.Context, orgID string) (*BookingSettings, error)
	// BookingSettingsSet stores them.
	BookingSettingsSet(ctx context.Context, orgID string, s *BookingSettings) error
}

// The timeline events of bookings. A sync that changes other fields writes
// no event: the timeline shows what matters, not every delivery.
const (
	EventBookingCreated       EventKind = "booking.created"
	EventBookingStatusChanged EventKind = "booking.status_changed"
	EventBookingCancelled     EventKind = "booking.cancelled"
	EventBookingMoved         EventKind = "booking.moved"
	EventBookingInformed      EventKind = "booking.informed"
	EventBookingReminded      EventKind = "booking.payment_reminded"
)

// DefaultWorklistDays is how many days after today a worklist covers.
const DefaultWorklistDays = 2

// MaxBookingBatch is the most bookings one UpsertMany takes.
const MaxBookingBatch = 500

// BookingService keeps the bookings and orders the organisation's booking
// platform pushes (C10): the platform owns them, Dossier keeps what the
// dossier needs, with its worklists.
type BookingService struct{ *core }

// Settings returns the organisation's booking settings.
func (s *BookingService) Settings(ctx context.Context) (*BookingSettings, error) {
	sc, err := readScope(ctx)
	if err != nil {
		return nil, err
	}
	return s.settings(ctx, s.store, sc)
}

func (s *BookingService) settings(ctx context.Context, st BookingStore, sc scope) (*BookingSettings, error) {
	set, err := st.BookingSettingsGet(ctx, sc.org)
	if err != nil {
		return nil, err
	}
	if set.StatusMap == nil {
		set.StatusMap = map[string]BookingStatus{}
	}
	return set, nil
}

// SetSettings replaces the organisation's booking settings.
func (s *BookingService) SetSettings(ctx context.Context, in BookingSettings) (*BookingSettings, error) {
	sc, err := s.writeScope(ctx)
	if err != nil {
		return nil, err
	}
	v := newValidation(sc.lang)
	in.TimeZone = strings.TrimSpace(in.TimeZone)
	if _, err := time.LoadLocation(in.TimeZone); err != nil || strings.EqualFold(in.TimeZone, "local") {
		v.add("timeZone", "invalid", "")
	}
	if len(in.StatusMap) > 100 {
		v.add("statusMap", "maxItems", "100")
	}
	clean := make(map[string]BookingStatus, len(in.StatusMap))
	for k, st := range in.StatusMap {
		key, code := cleanText(strings.TrimSpace(k), false)
		field := "statusMap." + k
		if code != "" || key == "" || len(key) > 100 {
			v.add("statusMap", "invalid", "")
			continue
		}
		if !validStatus(st) {
			v.add(field, "oneof", statusList)
		}
		clean[key] = st
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	in.StatusMap, in.UpdatedAt = clean, s.now()
	if err := s.store.BookingSettingsSet(ctx, sc.org, &in); err != nil {
		return nil, err
	}
	return &in, nil
}

const statusList = "option, reserved, confirmed, sold, cancelled, deleted"

func validStatus(st BookingStatus) bool {
	switch st {
	case StatusOption, StatusReserved, StatusConfirmed, StatusSold, StatusCancelled, StatusDeleted:
		return true
	}
	return false
}

// location returns the settings' time zone.
func (set *BookingSettings) location() *time.Location {
	if loc, err := time.LoadLocation(set.TimeZone); err == nil && set.TimeZone != "" {
		return loc
	}
	return time.UTC
}

// today is the current day in the organisation's booking time zone.
func (s *BookingService) today(set *BookingSettings) Date {
	return DateOf(s.cfg.Clock().In(set.location()))
}

// prepare validates a delivery and turns it into a booking (without ids and times).
func (s *BookingService) prepare(sc scope, set *BookingSettings, in BookingInput, v *validation, prefix string) *Booking {
	v.checkText(prefix, &in)
	in.Reference, in.CustomerID = strings.TrimSpace(in.Reference), strings.TrimSpace(in.CustomerID)
	in.Status = strings.TrimSpace(in.Status)
	in.Currency = strings.ToUpper(strings.TrimSpace(in.Currency))
	if prefix == "" {
		v.addStruct(s.validate, in)
	} else {
		sub := newValidation(sc.lang)
		sub.addStruct(s.validate, in)
		for _, f := range sub.fields {
			v.add(prefix+"."+f.Field, f.Code, f.Param)
		}
	}
	field := func(name string) string {
		if prefix == "" {
			return name
		}
		return prefix + "." + name
	}
	b := &Booking{
		Reference: in.Reference, CustomerID: in.CustomerID, Kind: in.Kind, Channel: in.Channel,
		RegisteredOn: in.RegisteredOn, StartsOn: in.StartsOn, EndsOn: in.EndsOn,
		DestinationCountry: checkCountry(v, field("destinationCountry"), in.DestinationCountry),
		DestinationPlace:   strings.TrimSpace(in.DestinationPlace), Venue: strings.TrimSpace(in.Venue),
		Description: strings.TrimSpace(in.Description), Lines: in.Lines, Total: in.Total, Currency: in.Currency,
		Labels: in.Labels, Invoiced: in.Invoiced, InvoiceNumber: strings.TrimSpace(in.InvoiceNumber),
		Deposit: in.Deposit, Final: in.Final, Participants: in.Participants, Link: strings.TrimSpace(in.Link),
		SourceVersion: in.SourceVersion,
	}
	if strings.ContainsAny(in.Reference, "/?#") {
		v.add(field("reference"), "invalid", "")
	}
	if in.CustomerID != "" && !validID(in.CustomerID) {
		v.add(field("customerId"), "unknown", "")
	}
	if b.Kind == "" {
		b.Kind = KindBooking
	}
	switch b.Kind {
	case KindBooking, KindOrder, KindReservation, KindAppointment:
	default:
		v.add(field("kind"), "oneof", "booking, order, reservation, appointment")
	}
	switch b.Channel {
	case "", ChannelOnline, ChannelBoxOffice, ChannelPhone, ChannelAgent:
	default:
		v.add(field("channel"), "oneof", "online, box_office, phone, agent")
	}
	if in.Status != "" {
		if st := BookingStatus(in.Status); validStatus(st) {
			b.Status = st
		} else if st, ok := set.StatusMap[in.Status]; ok {
			b.Status, b.PlatformStatus = st, in.Status
		} else {
			v.add(field("status"), "oneof", statusList+" or a status of the organisation's status map")
		}
	}
	if in.RegisteredOn.IsZero() {
		v.add(field("registeredOn"), "required", "")
	}
	if in.Currency != "" && !isCurrency(in.Currency) {
		v.add(field("currency"), "invalid", "")
	}
	loc := set.location()
	if in.StartsAt != nil {
		t := in.StartsAt.UTC().Truncate(time.Microsecond)
		b.StartsAt = &t
		if b.StartsOn == nil {
			d := DateOf(t.In(loc))
			b.StartsOn = &d
		}
	}
	if in.EndsAt != nil {
		t := in.EndsAt.UTC().Truncate(time.Microsecond)
		b.EndsAt = &t
		if b.EndsOn == nil {
			d := DateOf(t.In(loc))
			b.EndsOn = &d
		}
	}
	if b.StartsOn != nil && b.EndsOn != nil && b.EndsOn.Before(*b.StartsOn) {
		v.add(field("endsOn"), "invalid", "")
	}
	if in.SourceUpdatedAt != nil {
		t := in.SourceUpdatedAt.UTC().Truncate(time.Microsecond)
		b.SourceUpdatedAt = &t
	}
	const maxMoney = 1_000_000_000_000 // ten billion in cents
	money := func(name string, n int64) {
		if n < -maxMoney || n > maxMoney {
			v.add(field(name), "maxValue", strconv.Itoa(maxMoney))
		}
	}
	money("total", in.Total)
	for i := range b.Lines {
		money("lines["+strconv.Itoa(i)+"].amount", b.Lines[i].Amount)
		b.Lines[i].Description = strings.TrimSpace(b.Lines[i].Description)
		if b.Lines[i].Quantity < 0 {
			v.add(field("lines["+strconv.Itoa(i)+"].quantity"), "minValue", "0")
		}
	}
	for name, p := range map[string]*Payment{"deposit": in.Deposit, "final": in.Final} {
		if p == nil {
			continue
		}
		if p.DueOn.IsZero() {
			v.add(field(name+".dueOn"), "required", "")
		}
		if p.Amount < 0 {
			v.add(field(name+".amount"), "minValue", "0")
		}
		if p.Paid < 0 {
			v.add(field(name+".paid"), "minValue", "0")
		}
		money(name+".amount", p.Amount)
		money(name+".paid", p.Paid)
	}
	if in.SourceVersion < 0 {
		v.add(field("sourceVersion"), "minValue", "0")
	}
	seen := map[string]bool{}
	b.Participants = nil
	for i, id := range in.Participants {
		id = strings.TrimSpace(id)
		if !validID(id) {
			v.add(field("participants["+strconv.Itoa(i)+"]"), "unknown", "")
			continue
		}
		if !seen[id] && id != b.CustomerID {
			seen[id] = true
			b.Participants = append(b.Participants, id)
		}
	}
	for i := range b.Labels {
		b.Labels[i] = strings.TrimSpace(b.Labels[i])
	}
	b.NextPayment = b.nextPayment()
	return b
}

// isCurrency reports whether code looks like an ISO 4217 code: three
// upper-case letters.
func isCurrency(code string) bool {
	if len(code) != 3 {
		return false
	}
	for _, r := range code {
		if r < 'A' || r > 'Z' {
			return false
		}
	}
	return true
}

// platformFields is the part of a booking the platform writes, to tell an
// unchanged delivery from a changed one.
func platformFields(b *Booking) string {
	c := *b
	c.ID, c.CustomerNumber, c.NextPayment = "", 0, nil
	c.InformedAt, c.InformedBy, c.LastReminderAt = nil, nil, nil
	c.CreatedAt, c.UpdatedAt, c.RowVersion = time.Time{}, time.Time{}, 0
	c.SourceVersion, c.SourceUpdatedAt = 0, nil
	if len(c.Lines) == 0 {
		c.Lines = nil
	}
	if len(c.Labels) == 0 {
		c.Labels = nil
	}
	if len(c.Participants) == 0 {
		c.Participants = nil
	}
	out, _ := json.Marshal(c)
	return string(out)
}

// Upsert stores a delivery of the platform, keyed by its reference: a new
// reference makes a booking, a known one is updated. It is idempotent and
// safe against out-of-order delivery: a delivery older than the stored
// one (a lower SourceVersion, else an earlier SourceUpdatedAt) changes
// nothing (BookingStale), and the same delivery again changes nothing
// (BookingUnchanged). A delivery for another lead customer than the
// stored one is ErrConflict: moving a booking is Move. An anonymised
// customer's bookings are frozen (ErrAnonymised).
func (s *BookingService) Upsert(ctx context.Context, in BookingInput) (*BookingResult, error) {
	res, err := s.upsert(ctx, []BookingInput{in}, false)
	if err != nil {
		return nil, err
	}
	if res[0].Err != nil {
		return nil, res[0].Err
	}
	return &res[0], nil
}

// errRetryBooking says a concurrent write of the same reference won.
var errRetryBooking = &ConflictError{Field: "reference", Reason: "the booking was written concurrently: try again"}

// UpsertMany stores up to MaxBookingBatch deliveries (see Upsert) in one
// transaction, with a handful of statements for the whole batch. Each
// delivery gets its own result; a refused one (Err set: invalid, its
// customer unknown or anonymised, its lead another customer) does not stop
// the others. Deliveries of one reference are applied in order.
func (s *BookingService) UpsertMany(ctx context.Context, ins []BookingInput) ([]BookingResult, error) {
	return s.upsert(ctx, ins, true)
}

func (s *BookingService) upsert(ctx context.Context, ins []BookingInput, batch bool) ([]BookingResult, error) {
	sc, err := s.writeScope(ctx)
	if err != nil {
		return nil, err
	}
	if len(ins) > MaxBookingBatch {
		v := newValidation(sc.lang)
		v.add("bookings", "maxItems", strconv.Itoa(MaxBookingBatch))
		return nil, v.err()
	}
	set, err := s.settings(ctx, s.store, sc)
	if err != nil {
		return nil, err
	}
	results := make([]BookingResult, len(ins))
	prepared := make([]*Booking, len(ins))
	for i, in := range ins {
		v := newValidation(sc.lang)
		b := s.prepare(sc, set, in, v, "")
		results[i].Reference = b.Reference
		if results[i].Err = v.err(); results[i].Err == nil {
			prepared[i] = b
		}
	}
	if !batch && prepared[0] == nil {
		return results, nil
	}
	// Two first deliveries of one reference raced: the loser's insert
	// found the reference taken and its transaction rolled back; again,
	// it finds the winner's row.
	for attempt := 0; ; attempt++ {
		out := slices.Clone(results)
		err = s.store.InTx(ctx, func(tx Store) error {
			copy(out, results)
			return s.applyBatch(ctx, tx, sc, prepared, out)
		})
		if errors.Is(err, errRetryBooking) && attempt < 3 {
			continue
		}
		if err != nil {
			return nil, err
		}
		return out, nil
	}
}

// applyBatch writes the prepared deliveries (nil: refused already) in tx,
// setting each one's result: its customers are read and touched in one
// statement, its stored bookings read in one, new bookings and events
// written in one each, and changed bookings updated one by one.
func (s *BookingService) applyBatch(ctx context.Context, tx Store, sc scope, items []*Booking, results []BookingResult) error {
	now := s.now()
	var leads, others, refs []string
	for _, b := range items {
		if b == nil {
			continue
		}
		leads = append(leads, b.CustomerID)
		others = append(others, b.Participants...)
		refs = append(refs, b.Reference)
	}
	if len(refs) == 0 {
		return nil
	}
	slices.Sort(leads)
	leads = slices.Compact(leads)
	// Records the activity of the leads (a customer who books is active)
	// and locks them, so that deliveries of one customer run one after the other.
	custs, err := tx.BookingCustomers(ctx, sc.org, leads, others, now)
	if err != nil {
		return err
	}
	stored, err := tx.BookingGetMany(ctx, sc.org, refs)
	if err != nil {
		return err
	}
	isNew := map[string]bool{}
	expected := map[string]int{}
	var order []string // references to write, in first-write order
	var events []HistoryEvent
	for i, in := range items {
		if in == nil {
			continue
		}
		b := *in
		c, ok := custs[b.CustomerID]
		switch {
		case !ok:
			results[i].Err = &notFoundError{what: "customer " + b.CustomerID}
			continue
		case c.Anonymised:
			results[i].Err = ErrAnonymised
			continue
		}
		if j := slices.IndexFunc(b.Participants, func(id string) bool { _, ok := custs[id]; return !ok }); j >= 0 {
			v := newValidation(sc.lang)
			v.add("participants["+strconv.Itoa(j)+"]", "unknown", "")
			results[i].Err = v.err()
			continue
		}
		b.CustomerNumber = c.Number
		old := stored[b.Reference]
		if old == nil {
			b.ID, b.CreatedAt, b.UpdatedAt = newID(), now, now
			stored[b.Reference], isNew[b.Reference] = &b, true
			order = append(order, b.Reference)
			events = append(events, s.event(sc, b.CustomerID, EventBookingCreated, now,
				[]FieldChange{{Field: "booking.reference", New: b.Reference}, {Field: "booking.status", New: string(b.Status)}}))
			out := b
			results[i] = BookingResult{Reference: b.Reference, Outcome: BookingCreated, Booking: &out}
			continue
		}
		if old.CustomerID != b.CustomerID {
			results[i].Err = &ConflictError{Field: "customerId", Reason: "the booking belongs to another customer: move it first (BookingService.Move)"}
			continue
		}
		if older(&b, old) || platformFields(&b) == platformFields(old) {
			outcome := BookingStale
			if platformFields(&b) == platformFields(old) {
				outcome = BookingUnchanged
			}
			out := *old
			results[i] = BookingResult{Reference: b.Reference, Outcome: outcome, Booking: &out}
			continue
		}
		b.ID, b.CreatedAt, b.UpdatedAt, b.RowVersion = old.ID, old.CreatedAt, now, old.RowVersion
		b.InformedAt, b.InformedBy, b.LastReminderAt = old.InformedAt, old.InformedBy, old.LastReminderAt
		if b.SourceVersion == 0 {
			b.SourceVersion = old.SourceVersion
		}
		if b.SourceUpdatedAt == nil {
			b.SourceUpdatedAt = old.SourceUpdatedAt
		}
		if _, ok := expected[b.Reference]; !ok && !isNew[b.Reference] {
			expected[b.Reference] = old.RowVersion
			order = append(order, b.Reference)
		}
		stored[b.Reference] = &b
		if old.Status != b.Status {
			kind := EventBookingStatusChanged
			if b.Status == StatusCancelled {
				kind = EventBookingCancelled
			}
			events = append(events, s.event(sc, b.CustomerID, kind, now, []FieldChange{{Field: "booking.reference", New: b.Reference},
				{Field: "booking.status", Old: string(old.Status), New: string(b.Status)}}))
		}
		out := b
		results[i] = BookingResult{Reference: b.Reference, Outcome: BookingUpdated, Booking: &out}
	}
	var inserts []*Booking
	for _, ref := range order {
		if isNew[ref] {
			inserts = append(inserts, stored[ref])
		}
	}
	if err := tx.BookingInsertMany(ctx, sc.org, inserts); err != nil {
		if errors.Is(err, ErrConflict) {
			return errRetryBooking
		}
		return err
	}
	for _, ref := range order {
		if isNew[ref] {
			continue
		}
		if err := tx.BookingUpdate(ctx, sc.org, stored[ref], expected[ref]); err != nil {
			if errors.Is(err, ErrConflict) {
				return errRetryBooking
			}
			return err
		}
	}
	for i := range results {
		if b := results[i].Booking; b != nil && results[i].Outcome != BookingStale && results[i].Outcome != BookingUnchanged {
			b.RowVersion = stored[b.Reference].RowVersion
		}
	}
	return tx.HistoryAppend(ctx, events...)
}

// older reports whether delivery b is not newer than the stored one: by
// the platform's version when both carry one, else by its updated-at.
func older(b, stored *Booking) bool {
	if b.SourceVersion > 0 && stored.SourceVersion > 0 {
		return b.SourceVersion < stored.SourceVersion ||
			(b.SourceVersion == stored.SourceVersion && platformFields(b) != platformFields(stored))
	}
	if b.SourceUpdatedAt != nil && stored.SourceUpdatedAt != nil {
		return b.SourceUpdatedAt.Before(*stored.SourceUpdatedAt) ||
			(b.SourceUpdatedAt.Equal(*stored.SourceUpdatedAt) && platformFields(b) != platformFields(stored))
	}
	return false
}

// Get returns the booking with the platform's reference.
func (s *BookingService) Get(ctx context.Context, reference string) (*Booking, error) {
	sc, err := readScope(ctx)
	if err != nil {
		return nil, err
	}
	return s.get(ctx, s.store, sc, reference)
}

func (s *BookingService) get(ctx context.Context, st BookingStore, sc scope, reference string) (*Booking, error) {
	reference = strings.TrimSpace(reference)
	if reference == "" || len(reference) > 100 {
		return nil, &notFoundError{what: "booking " + reference}
	}
	b, err := st.BookingGet(ctx, sc.org, reference)
	if errors.Is(err, ErrNotFound) {
		return nil, &notFoundError{what: "booking " + reference}
	}
	return b, err
}

// List returns a page of the customer's bookings of one group (all when
// group is empty), newest first: latest day first.
func (s *BookingService) List(ctx context.Context, customerID string, group BookingGroup, page PageRequest) (Page[Booking], error) {
	sc, err := readScope(ctx)
	if err != nil {
		return Page[Booking]{}, err
	}
	v := newValidation(sc.lang)
	limit := page.limit(v)
	switch group {
	case "", GroupUpcoming, GroupPast, GroupDeleted:
	default:
		v.add("group", "oneof", "upcoming, past, deleted")
	}
	cur, ok := decodeCursor(page.Cursor)
	if !ok || (page.Cursor != "" && (cur.ID == "" || cur.Time == 0)) {
		v.add("cursor", "cursor", "")
	}
	if err := v.err(); err != nil {
		return Page[Booking]{}, err
	}
	if err := s.customerExists(ctx, s.store, sc, customerID); err != nil {
		return Page[Booking]{}, err
	}
	set, err := s.settings(ctx, s.store, sc)
	if err != nil {
		return Page[Booking]{}, err
	}
	p := BookingListParams{OrgID: sc.org, CustomerID: customerID, Group: group, Today: s.today(set), Limit: limit + 1}
	if page.Cursor != "" {
		p.BeforeDay, p.BeforeID = DateOf(time.UnixMicro(cur.Time).UTC()), cur.ID
	}
	items, err := s.store.BookingList(ctx, p)
	if err != nil {
		return Page[Booking]{}, err
	}
	out := Page[Booking]{Items: nonNil(items)}
	if len(items) > limit {
		out.Items = items[:limit]
		last := out.Items[limit-1]
		out.Next = cursor{Time: last.Day().Time().UnixMicro(), ID: last.ID}.encode()
	}
	return out, nil
}

// OfCustomer returns the bookings part of the customer's dossier: counts
// and lifetime value over all bookings, and the newest limit (default 10,
// at most MaxPageLimit) of each group. List pages through a group.
func (s *BookingService) OfCustomer(ctx context.Context, customerID string, limit int) (*CustomerBookings, error) {
	sc, err := readScope(ctx)
	if err != nil {
		return nil, err
	}
	if limit == 0 {
		limit = 10
	}
	if limit < 0 || limit > MaxPageLimit {
		v := newValidation(sc.lang)
		v.add("limit", "limit", strconv.Itoa(MaxPageLimit))
		return nil, v.err()
	}
	if err := s.customerExists(ctx, s.store, sc, customerID); err != nil {
		return nil, err
	}
	set, err := s.settings(ctx, s.store, sc)
	if err != nil {
		return nil, err
	}
	today := s.today(set)
	out := &CustomerBookings{}
	stats, err := s.store.BookingStats(ctx, sc.org, customerID, today)
	if err != nil {
		return nil, err
	}
	out.Counts = *stats
	out.Counts.LifetimeValue = nonNil(out.Counts.LifetimeValue)
	for _, g := range []struct {
		group BookingGroup
		dst   *[]Booking
	}{{GroupUpcoming, &out.Upcoming}, {GroupPast, &out.Past}, {GroupDeleted, &out.Deleted}} {
		items, err := s.store.BookingList(ctx, BookingListParams{OrgID: sc.org, CustomerID: customerID, Group: g.group, Today: today, Limit: limit})
		if err != nil {
			return nil, err
		}
		*g.dst = nonNil(items)
	}
	return out, nil
}

// Move makes another customer the booking's lead: the explicit call for
// a booking that was put on the wrong customer (and for merges). Both
// customers' timelines record it. Moving to the current lead changes nothing.
func (s *BookingService) Move(ctx context.Context, reference, toCustomerID string) (*Booking, error) {
	sc, err := s.writeScope(ctx)
	if err != nil {
		return nil, err
	}
	if !validID(toCustomerID) {
		return nil, &notFoundError{what: "customer " + toCustomerID}
	}
	var out *Booking
	err = s.store.InTx(ctx, func(tx Store) error {
		var err error
		out, err = s.move(ctx, tx, sc, reference, toCustomerID)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// MoveTx is Move inside a transaction the caller runs (a merge moves
// every booking of one customer to another in its own transaction).
func (s *BookingService) MoveTx(ctx context.Context, tx Store, reference, toCustomerID string) (*Booking, error) {
	sc, err := s.writeScopeIn(ctx, tx)
	if err != nil {
		return nil, err
	}
	if !validID(toCustomerID) {
		return nil, &notFoundError{what: "customer " + toCustomerID}
	}
	return s.move(ctx, tx, sc, reference, toCustomerID)
}

func (s *BookingService) move(ctx context.Context, tx Store, sc scope, reference, to string) (*Booking, error) {
	b, err := s.get(ctx, tx, sc, reference)
	if err != nil {
		return nil, err
	}
	if b.CustomerID == to {
		return b, nil
	}
	now := s.now()
	from := b.CustomerID
	// Locks in id order, so that two moves between the same customers do not deadlock.
	ids := []string{from, to}
	slices.Sort(ids)
	for _, id := range ids {
		if err := tx.CustomerTouch(ctx, sc.org, id, now); err != nil {
			if errors.Is(err, ErrAnonymised) && id == from {
				continue // moving away from an anonymised shell is allowed
			}
			return nil, err
		}
	}
	cust, err := tx.CustomerGet(ctx, CustomerGetParams{OrgID: sc.org, ID: to})
	if err != nil {
		return nil, err
	}
	old := b.RowVersion
	b.CustomerID, b.CustomerNumber, b.UpdatedAt = to, cust.Number, now
	b.Participants = slices.DeleteFunc(b.Participants, func(id string) bool { return id == to })
	if err := tx.BookingUpdate(ctx, sc.org, b, old); err != nil {
		return nil, err
	}
	changes := []FieldChange{{Field: "booking.reference", New: b.Reference}, {Field: "booking.customerId", Old: from, New: to}}
	if err := tx.HistoryAppend(ctx, s.event(sc, from, EventBookingMoved, now, changes), s.event(sc, to, EventBookingMoved, now, changes)); err != nil {
		return nil, err
	}
	return b, nil
}

// MarkInformed records that the acting staff member told the customer the
// final flight times of the booking, now.
func (s *BookingService) MarkInformed(ctx context.Context, reference string) (*Booking, error) {
	sc, err := s.writeScope(ctx)
	if err != nil {
		return nil, err
	}
	var out *Booking
	err = s.store.InTx(ctx, func(tx Store) error {
		b, err := s.get(ctx, tx, sc, reference)
		if err != nil {
			return err
		}
		now := s.now()
		if err := tx.CustomerTouch(ctx, sc.org, b.CustomerID, now); err != nil {
			return err
		}
		actor := sc.actor
		old := b.RowVersion
		b.InformedAt, b.InformedBy, b.UpdatedAt = &now, &actor, now
		if err := tx.BookingUpdate(ctx, sc.org, b, old); err != nil {
			return err
		}
		out = b
		return tx.HistoryAppend(ctx, s.event(sc, b.CustomerID, EventBookingInformed, now,
			[]FieldChange{{Field: "booking.reference", New: b.Reference}}))
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// RecordReminder records that the customer was reminded of the booking's
// next payment (by phone, mail, ...), on the booking and on the timeline.
// A booking with nothing to pay is ErrConflict.
func (s *BookingService) RecordReminder(ctx context.Context, reference string, in ReminderInput) (*PaymentReminder, error) {
	sc, err := s.writeScope(ctx)
	if err != nil {
		return nil, err
	}
	v := newValidation(sc.lang)
	v.checkText("", &in)
	in.Note = strings.TrimSpace(in.Note)
	v.addStruct(s.validate, in)
	if err := v.err(); err != nil {
		return nil, err
	}
	var out *PaymentReminder
	err = s.store.InTx(ctx, func(tx Store) error {
		b, err := s.get(ctx, tx, sc, reference)
		if err != nil {
			return err
		}
		now := s.now()
		if err := tx.CustomerTouch(ctx, sc.org, b.CustomerID, now); err != nil {
			return err
		}
		due := b.nextPayment()
		if due == nil {
			return &ConflictError{Field: "reference", Reason: "the booking has no payment outstanding"}
		}
		r := &PaymentReminder{ID: newID(), BookingID: b.ID, Reference: b.Reference, Channel: in.Channel, Payment: due.Kind,
			Missing: due.Missing, Note: in.Note, Actor: sc.actor, At: now}
		if err := tx.BookingReminderInsert(ctx, sc.org, r); err != nil {
			return err
		}
		out = r
		changes := []FieldChange{{Field: "booking.reference", New: b.Reference}, {Field: "reminder.channel", New: in.Channel},
			{Field: "reminder.payment", New: string(due.Kind)}, {Field: "reminder.missing", New: due.Missing}}
		if in.Note != "" {
			changes = append(changes, FieldChange{Field: "reminder.note", New: in.Note})
		}
		return tx.HistoryAppend(ctx, s.event(sc, b.CustomerID, EventBookingReminded, now, changes))
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Departures is the worklist of bookings departing today or in the next
// Days days (default DefaultWorklistDays), not cancelled or deleted, by
// departure day. Days are those of the organisation's booking time zone
// (BookingSettings.TimeZone, else UTC): a booking stays on the list until
// the end of its departure day there.
func (s *BookingService) Departures(ctx context.Context, r WorklistRequest) (Page[WorklistItem], error) {
	return s.worklist(ctx, r, false)
}

// PaymentsDue is the worklist of bookings whose next payment (deposit,
// then final) is due today or in the next Days days and is not paid in
// full, by due day, with the missing amount (Booking.NextPayment). A sync
// that sets the paid amount in full takes a booking off the list.
func (s *BookingService) PaymentsDue(ctx context.Context, r WorklistRequest) (Page[WorklistItem], error) {
	return s.worklist(ctx, r, true)
}

func (s *BookingService) worklist(ctx context.Context, r WorklistRequest, payments bool) (Page[WorklistItem], error) {
	sc, err := readScope(ctx)
	if err != nil {
		return Page[WorklistItem]{}, err
	}
	v := newValidation(sc.lang)
	limit := r.Page.limit(v)
	if r.Days < 0 || r.Days > 60 {
		v.add("days", "maxValue", "60")
	}
	cur, ok := decodeCursor(r.Page.Cursor)
	if !ok || (r.Page.Cursor != "" && (cur.ID == "" || cur.Time == 0)) {
		v.add("cursor", "cursor", "")
	}
	if err := v.err(); err != nil {
		return Page[WorklistItem]{}, err
	}
	if r.Days == 0 {
		r.Days = DefaultWorklistDays
	}
	set, err := s.settings(ctx, s.store, sc)
	if err != nil {
		return Page[WorklistItem]{}, err
	}
	today := s.today(set)
	p := WorklistParams{OrgID: sc.org, From: today, To: DateOf(today.Time().AddDate(0, 0, r.Days)),
		Overdue: r.Overdue && payments, Limit: limit + 1}
	if payments && r.NotRemindedSince != nil {
		t := r.NotRemindedSince.UTC()
		p.NotRemindedSince = &t
	}
	if r.Page.Cursor != "" {
		p.AfterDay, p.AfterID = DateOf(time.UnixMicro(cur.Time).UTC()), cur.ID
	}
	var items []WorklistItem
	if payments {
		items, err = s.store.BookingPaymentsDue(ctx, p)
	} else {
		items, err = s.store.BookingDepartures(ctx, p)
	}
	if err != nil {
		return Page[WorklistItem]{}, err
	}
	out := Page[WorklistItem]{Items: nonNil(items)}
	if len(items) > limit {
		out.Items = items[:limit]
		last := out.Items[limit-1]
		day := last.Day()
		if payments && last.NextPayment != nil {
			day = last.NextPayment.DueOn
		}
		out.Next = cursor{Time: day.Time().UnixMicro(), ID: last.ID}.encode()
	}
	return out, nil
}

// CustomerName is how a worklist names a customer: first and last name,
// else the company.
func CustomerName(first, last, company string) string {
	if n := strings.TrimSpace(first + " " + last); n != "" {
		return n
	}
	return company
}

// PlaceKey is the search key of a destination place: "malaga" finds
// "Málaga". The store keeps it next to the place.
func PlaceKey(place string) string { return i18n.SearchKey(place) }
