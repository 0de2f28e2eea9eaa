package store

import (
	"context"
)

// A batch of bookings goes into SQLite as one INSERT with placeholders and
// its values as arguments (see sqliteinsert.go). Through bun, the 100 rows
// of a batch upsert were written into the statement's text (some 4,400
// values) and taken out again by the connection (valuesArgs) so that the
// compiled statement could be used again: about a tenth of a batch's time.
// TestSQLiteBookingInsertArgs holds the two to the same statement and
// arguments.

// bookingInsertColumns are the bookings table's columns in the order of
// bookingRow's fields, which bookingArgs follows.
const bookingInsertColumns = `"org_id", "id", "reference", "customer_id", "customer_number", "kind", "status", ` +
	`"platform_status", "channel", "registered_on", "starts_on", "starts_at", "ends_on", "ends_at", "list_day", ` +
	`"destination_country", "destination_place", "place_key", "venue", "description", "booking_lines", "labels", ` +
	`"participants", "total", "currency", "invoiced", "invoice_number", "deposit_due", "deposit_amount", "deposit_paid", ` +
	`"final_due", "final_amount", "final_paid", "next_due_on", "link", "source_version", "source_updated_at", ` +
	`"informed_at", "informed_by_kind", "informed_by_id", "last_reminder_at", "created_at", "updated_at", "row_version"`

// bookingInsertWidth is the number of columns in bookingInsertColumns.
const bookingInsertWidth = 44

// bookingArgs appends r's values in bookingInsertColumns order, as bun
// writes them for SQLite.
func bookingArgs(args []any, r *bookingRow) ([]any, error) {
	lines, err := sqliteJSON(r.Lines)
	if err != nil {
		return nil, err
	}
	labels, err := sqliteJSON(r.Labels)
	if err != nil {
		return nil, err
	}
	participants, err := sqliteJSON(r.Participants)
	if err != nil {
		return nil, err
	}
	return append(args,
		r.OrgID, r.ID, r.Reference, r.CustomerID, r.CustomerNumber, r.Kind, r.Status,
		r.PlatformStatus, r.Channel, r.RegisteredOn.String(), sqliteDateArg(r.StartsOn), sqliteTimeArg(r.StartsAt), sqliteDateArg(r.EndsOn), sqliteTimeArg(r.EndsAt), r.ListDay.String(),
		r.DestinationCountry, r.DestinationPlace, r.PlaceKey, r.Venue, r.Description, lines, labels,
		participants, r.Total, r.Currency, sqliteBool(r.Invoiced), r.InvoiceNumber, sqliteDateArg(r.DepositDue), sqliteIntArg(r.DepositAmount), sqliteIntArg(r.DepositPaid),
		sqliteDateArg(r.FinalDue), sqliteIntArg(r.FinalAmount), sqliteIntArg(r.FinalPaid), sqliteDateArg(r.NextDueOn), r.Link, r.SourceVersion, sqliteTimeArg(r.SourceUpdatedAt),
		sqliteTimeArg(r.InformedAt), sqliteStringArg(r.InformedByKind), sqliteStringArg(r.InformedByID), sqliteTimeArg(r.LastReminderAt), sqliteTime(r.CreatedAt), sqliteTime(r.UpdatedAt), int64(r.RowVersion),
	), nil
}

// sqliteBookingInsert inserts rows with arguments (see above), in one
// statement for any batch crm allows (MaxBookingBatch rows of
// bookingInsertWidth values are under SQLite's limit on arguments).
func (s *DB) sqliteBookingInsert(ctx context.Context, rows []bookingRow) error {
	args := make([]any, 0, len(rows)*bookingInsertWidth)
	for i := range rows {
		var err error
		if args, err = bookingArgs(args, &rows[i]); err != nil {
			return err
		}
	}
	return s.sqliteInsertRows(ctx, "bookings", bookingInsertColumns, bookingInsertWidth, args)
}
