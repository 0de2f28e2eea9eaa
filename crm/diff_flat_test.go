package crm

import (
	"math/rand/v2"
	"reflect"
	"testing"
	"time"
)

// TestFlatFieldsCoversEveryField: with every field of CustomerFields set
// (found by reflection, so a field added later is included), flatFields
// gives what the JSON round trip gives: a new field left out of the
// field-by-field map would vanish from history and field origins.
func TestFlatFieldsCoversEveryField(t *testing.T) {
	var f CustomerFields
	fill(t, reflect.ValueOf(&f).Elem())
	want := flatFieldsJSON(&f)
	if got := flatFields(&f); !reflect.DeepEqual(got, want) {
		t.Fatalf("flatFields of every field set\n = %#v\nJSON gives %#v", got, want)
	}
}

// fill sets every field of v, recursively, to a value that is not its zero.
func fill(t *testing.T, v reflect.Value) {
	t.Helper()
	switch v.Kind() {
	case reflect.String:
		v.SetString("x")
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int32, reflect.Int64:
		v.SetInt(7)
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[Date]() {
			v.Set(reflect.ValueOf(MustDate("2026-11-28")))
			return
		}
		for i := range v.NumField() {
			fill(t, v.Field(i))
		}
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fill(t, v.Elem())
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 1, 1))
		fill(t, v.Index(0))
	case reflect.Map:
		v.Set(reflect.MakeMap(v.Type()))
		v.SetMapIndex(reflect.ValueOf("k"), reflect.ValueOf("v"))
	default:
		t.Fatalf("fill does not know %s: teach it, and flatFields the new field", v.Type())
	}
}

// TestFlatFieldsMatchesJSON: flatFields, built field by field, gives the
// map a JSON round trip of the fields gives, for fields of every kind
// set or left empty, custom fields of any type, and text JSON would
// change (invalid UTF-8) or escape (<, &, U+2028).
func TestFlatFieldsMatchesJSON(t *testing.T) {
	r := rand.New(rand.NewPCG(45, 2))
	texts := []string{"", "", "Anna", "van der", "<b>&amp;</b>", "line\u2028sep", "Zoë Müller", "tab\there", "bad\xffbyte", "\x00nul"}
	text := func() string { return texts[r.IntN(len(texts))] }
	date := func() *Date {
		if r.IntN(2) == 0 {
			return nil
		}
		d := DateOf(time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC).AddDate(0, 0, r.IntN(4000)-2000))
		return &d
	}
	customs := []any{nil, 7, int64(1) << 40, 3.25, "x", true, []string{"a", "b"}, map[string]any{"k": 1}, MustDate("2026-01-02"),
		time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC), []any{}, "bad\xfe"}
	for range 20000 {
		f := CustomerFields{FirstName: text(), MiddleName: text(), LastName: text(), Company: text(),
			Address:   Address{Street: text(), HouseNumber: text(), PostalCode: text(), City: text(), Country: text()},
			BirthDate: date(), PassportExpiry: date(), FirstContact: date(),
			Status: CustomerStatus(text()), Origin: text(), LoginEmail: text(), Email: text(), Language: text(),
			InternalDescription: text(), Remarks: text(), AssignedTo: text(),
			NoPost: r.IntN(2) == 0, NoMailings: r.IntN(2) == 0}
		switch r.IntN(3) {
		case 1:
			f.Phones = []Phone{}
		case 2:
			for range 1 + r.IntN(3) {
				f.Phones = append(f.Phones, Phone{Kind: PhoneKind(text()), Number: text()})
			}
		}
		switch r.IntN(3) {
		case 1:
			f.AltEmails = []string{}
		case 2:
			f.AltEmails = []string{text(), text()}
		}
		switch r.IntN(3) {
		case 1:
			f.CustomFields = map[string]any{}
		case 2:
			f.CustomFields = map[string]any{}
			for range 1 + r.IntN(4) {
				f.CustomFields[text()] = customs[r.IntN(len(customs))]
			}
		}
		if got, want := flatFields(&f), flatFieldsJSON(&f); !reflect.DeepEqual(got, want) {
			t.Fatalf("flatFields(%+v)\n = %#v\nJSON gives %#v", f, got, want)
		}
	}
}

// BenchmarkFlatFields: the fields of an imported customer, field by field
// and through JSON.
func BenchmarkFlatFields(b *testing.B) {
	first := MustDate("2026-11-28")
	f := CustomerFields{FirstName: "Anna", LastName: "Jansen", Email: "anna@example.org",
		Phones:  []Phone{{Kind: PhoneMobile, Number: "+31612345678"}},
		Address: Address{City: "Utrecht", PostalCode: "3512 AB", Country: "NL"}, Status: StatusCustomer, Language: "nl",
		FirstContact: &first, CustomFields: map[string]any{"shoeSize": 42}}
	b.Run("fields", func(b *testing.B) {
		for b.Loop() {
			flatFields(&f)
		}
	})
	b.Run("json", func(b *testing.B) {
		for b.Loop() {
			flatFieldsJSON(&f)
		}
	})
}
