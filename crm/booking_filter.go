package crm

import (
	"strconv"
	"strings"
)

// BookingFilter selects customers by their bookings (C2), in
// CustomerFilter.Bookings. The first group of criteria must all hold for
// one and the same booking ("a booking to Spain, departing in June, worth
// more than 2,000 EUR"); without Status, cancelled and deleted bookings
// do not count. The second group looks at all the customer's bookings
// that are not cancelled or deleted. Every criterion is evaluated by the
// database.
type BookingFilter struct {
	// DestinationCountry (ISO 3166-1 alpha-2) and DestinationPlace (without
	// regard to case or accents: "malaga" finds "Málaga").
	DestinationCountry string `json:"destinationCountry,omitempty"`
	DestinationPlace   string `json:"destinationPlace,omitempty"`
	// DepartureFrom and DepartureTo bound the start day, both included.
	DepartureFrom *Date `json:"departureFrom,omitempty"`
	DepartureTo   *Date `json:"departureTo,omitempty"`
	// ValueMin and ValueMax bound the total, both included, in minor
	// units of Currency, which they need.
	ValueMin *int64         `json:"valueMin,omitempty"`
	ValueMax *int64         `json:"valueMax,omitempty"`
	Currency string         `json:"currency,omitempty"`
	Status   BookingStatus  `json:"status,omitempty"`
	Channel  BookingChannel `json:"channel,omitempty"`
	Kind     BookingKind    `json:"kind,omitempty"`

	// CountMin and CountMax bound the number of bookings, both included:
	// CountMax 0 selects customers without bookings.
	CountMin *int `json:"countMin,omitempty"`
	CountMax *int `json:"countMax,omitempty"`
	// LastFrom and LastTo bound the registration day of the latest
	// booking, both included ("last booked before 2024": LastTo 2023-12-31).
	LastFrom *Date `json:"lastFrom,omitempty"`
	LastTo   *Date `json:"lastTo,omitempty"`
}

// IsZero reports whether the filter selects nothing by itself.
func (f BookingFilter) IsZero() bool {
	return f.oneBookingZero() && f.CountMin == nil && f.CountMax == nil && f.LastFrom == nil && f.LastTo == nil
}

func (f BookingFilter) oneBookingZero() bool {
	return f.DestinationCountry == "" && f.DestinationPlace == "" && f.DepartureFrom == nil && f.DepartureTo == nil &&
		f.ValueMin == nil && f.ValueMax == nil && f.Currency == "" && f.Status == "" && f.Channel == "" && f.Kind == ""
}

// BookingConditions is a compiled BookingFilter for the store.
type BookingConditions struct {
	// One is set when the conditions on one booking apply.
	One                bool
	DestinationCountry string
	PlaceKey           string
	DepartureFrom      *Date
	DepartureTo        *Date
	ValueMin, ValueMax *int64
	Currency           string
	// Statuses the booking may have: the filter's one, else every status
	// but cancelled and deleted.
	Statuses []BookingStatus
	Channel  BookingChannel
	Kind     BookingKind

	CountMin, CountMax *int
	LastFrom, LastTo   *Date
}

// activeStatuses are the statuses of bookings that count.
var activeStatuses = []BookingStatus{StatusOption, StatusReserved, StatusConfirmed, StatusSold}

// compileBookingFilter validates f (its fields named under "bookings.").
func compileBookingFilter(v *validation, f BookingFilter) BookingConditions {
	if f.IsZero() {
		return BookingConditions{}
	}
	const p = "bookings."
	c := BookingConditions{
		One:                !f.oneBookingZero(),
		DestinationCountry: checkCountry(v, p+"destinationCountry", f.DestinationCountry),
		DepartureFrom:      f.DepartureFrom, DepartureTo: f.DepartureTo,
		ValueMin: f.ValueMin, ValueMax: f.ValueMax, Currency: strings.ToUpper(strings.TrimSpace(f.Currency)),
		Channel: f.Channel, Kind: f.Kind, CountMin: f.CountMin, CountMax: f.CountMax, LastFrom: f.LastFrom, LastTo: f.LastTo,
		Statuses: activeStatuses,
	}
	if place := strings.TrimSpace(f.DestinationPlace); place != "" {
		if c.PlaceKey = PlaceKey(place); c.PlaceKey == "" {
			v.add(p+"destinationPlace", "invalid", "")
		}
	}
	if f.Status != "" {
		if !validStatus(f.Status) {
			v.add(p+"status", "oneof", statusList)
		}
		c.Statuses = []BookingStatus{f.Status}
	}
	switch f.Channel {
	case "", ChannelOnline, ChannelBoxOffice, ChannelPhone, ChannelAgent:
	default:
		v.add(p+"channel", "oneof", "online, box_office, phone, agent")
	}
	switch f.Kind {
	case "", KindBooking, KindOrder, KindReservation, KindAppointment:
	default:
		v.add(p+"kind", "oneof", "booking, order, reservation, appointment")
	}
	if c.Currency != "" && !isCurrency(c.Currency) {
		v.add(p+"currency", "invalid", "")
	}
	if (f.ValueMin != nil || f.ValueMax != nil) && c.Currency == "" {
		v.add(p+"currency", "required", "")
	}
	if f.ValueMin != nil && f.ValueMax != nil && *f.ValueMax < *f.ValueMin {
		v.add(p+"valueMax", "minValue", strconv.FormatInt(*f.ValueMin, 10))
	}
	if f.DepartureFrom != nil && f.DepartureTo != nil && f.DepartureTo.Before(*f.DepartureFrom) {
		v.add(p+"departureTo", "invalid", "")
	}
	if f.LastFrom != nil && f.LastTo != nil && f.LastTo.Before(*f.LastFrom) {
		v.add(p+"lastTo", "invalid", "")
	}
	for name, n := range map[string]*int{"countMin": f.CountMin, "countMax": f.CountMax} {
		if n != nil && (*n < 0 || *n > 1_000_000) {
			v.add(p+name, "minValue", "0")
		}
	}
	if f.CountMin != nil && f.CountMax != nil && *f.CountMax < *f.CountMin {
		v.add(p+"countMax", "minValue", strconv.Itoa(*f.CountMin))
	}
	return c
}
