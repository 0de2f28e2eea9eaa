package crm

import (
	"context"
	"slices"
	"strconv"
)

// bookingsOf reads every booking the customer leads, oldest first, and the
// reminders recorded on them, for the export.
func bookingsOf(ctx context.Context, tx BookingStore, sc scope, customerID string) ([]Booking, []PaymentReminder, error) {
	p := BookingListParams{OrgID: sc.org, CustomerID: customerID, Limit: MaxPageLimit}
	var all []Booking
	for {
		page, err := tx.BookingList(ctx, p)
		if err != nil {
			return nil, nil, err
		}
		all = append(all, page...)
		if len(page) < p.Limit {
			break
		}
		last := page[len(page)-1]
		p.BeforeDay, p.BeforeID = last.Day(), last.ID
	}
	slices.Reverse(all)
	reminders, err := tx.BookingReminderList(ctx, sc.org, customerID)
	if err != nil {
		return nil, nil, err
	}
	return nonNil(all), nonNil(reminders), nil
}

// participationsOf returns the bookings customerID takes part in as a
// participant, each reduced to what the participant takes part in: the
// lead customer, the other participants, the payments and the invoice are
// the lead's and are left out.
func participationsOf(ctx context.Context, tx BookingStore, sc scope, customerID string) ([]Booking, error) {
	bs, err := tx.BookingParticipations(ctx, sc.org, customerID)
	if err != nil {
		return nil, err
	}
	for i := range bs {
		b := &bs[i]
		b.CustomerID, b.CustomerNumber, b.Participants = "", 0, []string{customerID}
		b.Total, b.Lines, b.Deposit, b.Final, b.NextPayment = 0, nil, nil, nil, nil
		b.Invoiced, b.InvoiceNumber, b.Link = false, "", ""
		b.InformedAt, b.InformedBy, b.LastReminderAt = nil, nil, nil
	}
	return nonNil(bs), nil
}

// hideBookingStaff leaves out which staff user informed the customer or
// recorded a reminder, for the customer's own export.
func (e *CustomerExport) hideBookingStaff(hide func(Actor) Actor) {
	for i := range e.Bookings {
		if a := e.Bookings[i].InformedBy; a != nil {
			h := hide(*a)
			e.Bookings[i].InformedBy = &h
		}
	}
	for i := range e.BookingReminders {
		e.BookingReminders[i].Actor = hide(e.BookingReminders[i].Actor)
	}
}

// csvSection is one CSV file of an export's zip.
type csvSection = struct {
	name   string
	header []string
	rows   [][]string
}

func bookingsCSV(bs []Booking) csvSection {
	return csvSection{"bookings.csv", []string{"id", "reference", "kind", "status", "platformStatus", "channel", "registeredOn",
		"startsOn", "endsOn", "destinationCountry", "destinationPlace", "venue", "description", "total", "currency",
		"invoiceNumber", "link", "booking"}, rowsOf(bs, func(b Booking) []string {
		day := func(d *Date) string {
			if d == nil {
				return ""
			}
			return d.String()
		}
		return []string{b.ID, b.Reference, string(b.Kind), string(b.Status), b.PlatformStatus, string(b.Channel), b.RegisteredOn.String(),
			day(b.StartsOn), day(b.EndsOn), b.DestinationCountry, b.DestinationPlace, b.Venue, b.Description,
			strconv.FormatInt(b.Total, 10), b.Currency, b.InvoiceNumber, b.Link, valueText(b)}
	})}
}

func participationsCSV(bs []Booking) csvSection {
	return csvSection{"participations.csv", []string{"id", "reference", "kind", "status", "channel", "registeredOn",
		"startsOn", "endsOn", "destinationCountry", "destinationPlace", "venue", "description"}, rowsOf(bs, func(b Booking) []string {
		day := func(d *Date) string {
			if d == nil {
				return ""
			}
			return d.String()
		}
		return []string{b.ID, b.Reference, string(b.Kind), string(b.Status), string(b.Channel), b.RegisteredOn.String(),
			day(b.StartsOn), day(b.EndsOn), b.DestinationCountry, b.DestinationPlace, b.Venue, b.Description}
	})}
}

func remindersCSV(rs []PaymentReminder) csvSection {
	return csvSection{"booking_reminders.csv", []string{"id", "reference", "channel", "payment", "missing", "note", "actor", "at"},
		rowsOf(rs, func(r PaymentReminder) []string {
			return []string{r.ID, r.Reference, r.Channel, string(r.Payment), strconv.FormatInt(r.Missing, 10), r.Note, r.Actor.String(), timeText(r.At)}
		})}
}
