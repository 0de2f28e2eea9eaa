package store

import (
	"reflect"
	"testing"
	"time"

	"github.com/dossiercrm/dossier/crm"
)

// TestSQLiteBookingInsertArgs holds the direct insert of bookings on
// SQLite to what bun writes: the same statement and the same arguments
// (values and types) as bun's INSERT after valuesArgs, for a row with
// every field set and for one with every optional field empty.
func TestSQLiteBookingInsertArgs(t *testing.T) {
	st := sqliteFileStore(t, "bookings.db")
	var full bookingRow
	fillValue(t, reflect.ValueOf(&full).Elem(), "")
	at := time.Date(2026, 11, 28, 13, 4, 5, 123456789, time.FixedZone("x", 3600))
	minimal := bookingRow{OrgID: "o", ID: "b", Reference: "R'1", CustomerID: "c", Kind: "booking", Status: "confirmed",
		RegisteredOn: date{crm.MustDate("2026-01-02")}, ListDay: date{crm.MustDate("2026-01-02")}, Total: 1, Currency: "EUR",
		CreatedAt: at, UpdatedAt: at, Labels: []string{}}
	rows := []bookingRow{full, minimal, full}
	var args []any
	for i := range rows {
		var err error
		if args, err = bookingArgs(args, &rows[i]); err != nil {
			t.Fatal(err)
		}
	}
	sameInsertAsBun(t, st, &rows, sqliteInsertText("bookings", bookingInsertColumns, bookingInsertWidth, len(rows)), args, bookingInsertWidth)
}

// TestSQLiteHistoryInsertArgs holds the direct insert of history events on
// SQLite to what bun writes, for events of each layout of their changes
// (none, creation, change with old values) and a nil list.
func TestSQLiteHistoryInsertArgs(t *testing.T) {
	st := sqliteFileStore(t, "history.db")
	at := time.Date(2026, 11, 28, 13, 4, 5, 123456789, time.FixedZone("x", 3600))
	events := []crm.HistoryEvent{
		{ID: "e1", OrgID: "o", CustomerID: "c", Kind: crm.EventCustomerCreated, Actor: crm.Actor{Kind: crm.ActorStaff, ID: "s'1"}, At: at,
			Changes: []crm.FieldChange{{Field: "firstName", New: "Zoë <&>"}, {Field: "tags", New: []any{"a", 1.5}}}},
		{ID: "e2", OrgID: "o", CustomerID: "c", Kind: crm.EventCustomerUpdated, At: at,
			Changes: []crm.FieldChange{{Field: "lastName", Old: "A", New: "B"}, {Field: "remarks", New: "x"}}},
		{ID: "e3", OrgID: "o", CustomerID: "c", Kind: crm.EventCustomerUpdated, At: at, Changes: []crm.FieldChange{{Field: "email"}}},
		{ID: "e4", OrgID: "o", CustomerID: "c", Kind: crm.EventCustomerUpdated, At: at},
	}
	rows := make([]historyRow, len(events))
	var args []any
	for i := range events {
		rows[i] = historyToRow(&events[i])
		var err error
		if args, err = historyArgs(args, &rows[i]); err != nil {
			t.Fatal(err)
		}
	}
	sameInsertAsBun(t, st, &rows, sqliteInsertText("history_events", historyInsertColumns, historyInsertWidth, len(rows)), args, historyInsertWidth)
}

// sameInsertAsBun fails t unless query and args are bun's INSERT of rows
// (a pointer to a slice of models) after valuesArgs: the same text, and
// arguments of the same types and values.
func sameInsertAsBun(t *testing.T, st *DB, rows any, query string, args []any, width int) {
	t.Helper()
	text, err := st.bun.NewInsert().Model(rows).Returning("NULL").AppendQuery(st.bun.QueryGen(), nil)
	if err != nil {
		t.Fatal(err)
	}
	wantQuery, wantArgs, ok := valuesArgs(string(text))
	if !ok {
		t.Fatalf("valuesArgs did not take bun's INSERT apart: %s", text)
	}
	if query != wantQuery {
		t.Fatalf("statement\n got %s\nwant %s", query, wantQuery)
	}
	if len(args) != len(wantArgs) {
		t.Fatalf("%d arguments, bun wrote %d", len(args), len(wantArgs))
	}
	for i, a := range wantArgs {
		if !reflect.DeepEqual(args[i], a.Value) {
			t.Errorf("argument %d (row %d, column %d): %T %#v, bun wrote %T %#v", i, i/width, i%width, args[i], args[i], a.Value, a.Value)
		}
	}
}

// fillValue sets every field of v (recursively) to a value that is not
// its zero: text with a quote, an accent and characters JSON escapes.
func fillValue(t *testing.T, v reflect.Value, name string) {
	t.Helper()
	switch {
	case v.Type() == reflect.TypeFor[time.Time]():
		v.Set(reflect.ValueOf(time.Date(2026, 11, 28, 13, 4, 5, 123456789, time.FixedZone("x", -7200))))
		return
	case v.Type() == reflect.TypeFor[crm.Date]():
		v.Set(reflect.ValueOf(crm.MustDate("2027-03-04")))
		return
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString("l'été <" + name + "> & \"x\"")
	case reflect.Int, reflect.Int64, reflect.Int32:
		v.SetInt(int64(7 + len(name)))
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fillValue(t, v.Elem(), name)
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 2, 2)
		for i := range 2 {
			fillValue(t, s.Index(i), name)
		}
		v.Set(s)
	case reflect.Struct:
		for i := range v.NumField() {
			if f := v.Type().Field(i); f.IsExported() {
				fillValue(t, v.Field(i), f.Name)
			}
		}
	default:
		t.Fatalf("fillValue: no value for a %s (%s)", v.Type(), name)
	}
}
