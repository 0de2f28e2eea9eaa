package crm

import (
	"context"
	"slices"
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
