package crm

import (
	"testing"
	"time"
)

// TestExportColumnText: the text a column gives a text table (CSV) is the
// text of the value it gives any other table, for every standard column,
// tags and attributes, with values present and absent; each of them
// has a text of its own (not its value's, put into an interface).
func TestExportColumnText(t *testing.T) {
	birth := Date{Year: 1980, Month: 2, Day: 29}
	full := Customer{ID: "0193-a", Number: 42, CreatedAt: time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC),
		UpdatedAt: time.Date(2026, 11, 30, 1, 2, 3, 0, time.FixedZone("", 3600)),
		CustomerFields: CustomerFields{FirstName: "Zoë", LastName: "d'Arc", Company: "A, B \"C\"", Email: "z@example.org",
			Phones:    []Phone{{Kind: PhoneMobile, Number: "+31612345678"}, {Kind: PhoneHome, Number: "+3130123456"}},
			AltEmails: []string{"a@example.org", "b@example.org"}, BirthDate: &birth, Status: StatusCustomer, NoPost: true,
			Address: Address{Street: "Lange Nieuwstraat", City: "Utrecht", Country: "NL"}}}
	one := Customer{Number: 7, CustomerFields: CustomerFields{Phones: []Phone{{Kind: PhoneMobile, Number: "+31687654321"}}}}
	customers := []Customer{full, one, {}}
	x := &exportExtras{tags: [][]string{{"VIP", "Golf"}, {"VIP"}, nil}, attributes: [][]string{nil, {"Wijn"}, {}}}
	keys := append(append([]string{}, ExportColumns...), "tags", "attributes")
	for _, key := range keys {
		col, ok := standardColumn(key)
		if key == "tags" || key == "attributes" {
			col, ok = qualifierColumn(key), true
		}
		if !ok || col.text == nil {
			t.Fatalf("no column %q, or no text of it", key)
		}
		for i := range customers {
			x.row = i
			if got, want := col.cellText(&customers[i], x), TableCellText(col.value(&customers[i], x)); got != want {
				t.Errorf("%s of customer %d: text %q, value's text %q", key, i, got, want)
			}
		}
	}
}
