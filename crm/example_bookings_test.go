package crm_test

import (
	"fmt"
	"log"

	"github.com/dossiercrm/dossier/crm"
)

// A booking engine pushes its bookings into the dossier by its own
// reference; staff work from the two daily worklists.
func ExampleBookingService_Upsert() {
	c, ctx, done := setup() // the clock stands at 2026-11-22 09:00 UTC
	defer done()

	// Days of the worklists are those of the organisation's time zone, and
	// the platform's own status words map onto Dossier's.
	if _, err := c.Bookings.SetSettings(ctx, crm.BookingSettings{TimeZone: "Europe/Amsterdam",
		StatusMap: map[string]crm.BookingStatus{"OK": crm.StatusConfirmed, "STORNO": crm.StatusCancelled}}); err != nil {
		log.Fatal(err)
	}
	anna, err := c.Customers.Create(ctx, crm.CustomerFields{FirstName: "Anna", LastName: "Müller"})
	if err != nil {
		log.Fatal(err)
	}
	departure := crm.MustDate("2026-11-23")
	booking := crm.BookingInput{
		Reference: "TRV-1001", CustomerID: anna.ID, Status: "OK", Channel: crm.ChannelOnline,
		RegisteredOn: crm.MustDate("2026-09-01"), StartsOn: &departure,
		DestinationCountry: "ES", DestinationPlace: "Málaga", Description: "Hotel Sol, 7 nights",
		Total: 189900, Currency: "EUR", // €1,899.00 in minor units
		Deposit:       &crm.Payment{DueOn: crm.MustDate("2026-09-08"), Amount: 50000, Paid: 50000},
		Final:         &crm.Payment{DueOn: crm.MustDate("2026-11-23"), Amount: 139900, Paid: 100000},
		SourceVersion: 1,
	}
	r, err := c.Bookings.Upsert(ctx, booking)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(r.Outcome, r.Booking.Status, r.Booking.NextPayment.Kind, r.Booking.NextPayment.Missing)

	// The same delivery again, or an older one, changes nothing.
	r, _ = c.Bookings.Upsert(ctx, booking)
	fmt.Println(r.Outcome)

	// Staff's start screen.
	deps, _ := c.Bookings.Departures(ctx, crm.WorklistRequest{})
	due, _ := c.Bookings.PaymentsDue(ctx, crm.WorklistRequest{})
	fmt.Println(deps.Items[0].Reference, deps.Items[0].CustomerName, len(due.Items))
	if _, err := c.Bookings.MarkInformed(ctx, "TRV-1001"); err != nil {
		log.Fatal(err)
	}

	// Paying in full (a newer delivery) takes the booking off the list.
	booking.Final.Paid, booking.SourceVersion = 139900, 2
	r, _ = c.Bookings.Upsert(ctx, booking)
	due, _ = c.Bookings.PaymentsDue(ctx, crm.WorklistRequest{})
	fmt.Println(r.Outcome, len(due.Items))

	// Booking facts are customer filters like any other.
	minValue := int64(100000)
	found, _ := c.Customers.List(ctx, crm.CustomerFilter{Bookings: crm.BookingFilter{
		DestinationCountry: "ES", DepartureFrom: &departure, ValueMin: &minValue, Currency: "EUR"}}, crm.PageRequest{})
	fmt.Println(len(found.Items), found.Items[0].LastName)

	view, _ := c.Bookings.OfCustomer(ctx, anna.ID, 10)
	fmt.Println(view.Counts.Upcoming, view.Counts.LifetimeValue)
	// Output:
	// created confirmed final 39900
	// unchanged
	// TRV-1001 Anna Müller 1
	// updated 0
	// 1 Müller
	// 1 [{189900 EUR}]
}
