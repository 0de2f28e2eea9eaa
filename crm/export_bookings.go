package crm

import (
	"context"
	"strings"
)

// bookingCountColumn is the key of the export column that counts a
// customer's bookings (those neither cancelled nor deleted).
const bookingCountColumn = "bookings"

// bookingCountLabels are its headers in the export languages.
var bookingCountLabels = map[string]string{
	"en": "Bookings", "nl": "Boekingen", "de": "Buchungen", "fr": "Réservations", "pl": "Rezerwacje",
}

// bookingCounts serves the "bookings" export column: one statement per
// page of customers, on the bookings' (org, customer number, status) index.
type bookingCounts struct{ st ExportStore }

// ExportColumns implements ExportColumnSource.
func (b bookingCounts) ExportColumns(_ context.Context, _ string, lang string) ([]string, []string, error) {
	base, _, _ := strings.Cut(strings.ToLower(lang), "-")
	label, ok := bookingCountLabels[base]
	if !ok {
		label = bookingCountLabels["en"]
	}
	return []string{bookingCountColumn}, []string{label}, nil
}

// ExportFill implements ExportColumnSource.
func (b bookingCounts) ExportFill(ctx context.Context, orgID string, _ []string, customers []Customer) (map[string]map[string]any, error) {
	if len(customers) == 0 {
		return nil, nil
	}
	numbers := make([]int64, len(customers))
	for i := range customers {
		numbers[i] = customers[i].Number
	}
	counts, err := b.st.BookingCountMany(ctx, orgID, numbers)
	if err != nil {
		return nil, err
	}
	out := make(map[string]map[string]any, len(customers))
	for i := range customers {
		out[customers[i].ID] = map[string]any{bookingCountColumn: counts[customers[i].Number]}
	}
	return out, nil
}
