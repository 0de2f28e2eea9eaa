package crm

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// The fuzz targets of the input path. Their seed corpora (f.Add below and
// testdata/fuzz/<target>) run as ordinary tests; `go test -fuzz FuzzX`
// searches for more. Every target holds the same properties: no panic,
// and what is accepted is valid UTF-8, in NFC, without NUL or control
// characters (tab and line feed aside in free text), and checking it again
// changes nothing.

// fuzzService is a customer service without a store: check and apply
// need only the validator, the clock and the rules passed in.
func fuzzService() *CustomerService {
	fixed := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	return &CustomerService{core: &core{cfg: Config{Clock: func() time.Time { return fixed }}, validate: newValidator()}}
}

var fuzzOrg = &Organisation{ID: "org", DefaultLanguage: "nl", DefaultCountry: "NL"}

var fuzzDefs = []CustomFieldDefinition{
	{Key: "note", Type: FieldText},
	{Key: "size", Type: FieldNumber},
	{Key: "since", Type: FieldDate},
	{Key: "work", Type: FieldEmail},
	{Key: "fax", Type: FieldPhone},
	{Key: "meal", Type: FieldChoice, Choices: []string{"vegan", "Café"}},
	{Key: "vip", Type: FieldBool},
}

// checkClean fails the test when any string in v breaks the text rules
// for stored values.
func checkClean(t *testing.T, path string, v reflect.Value, multiline bool) {
	t.Helper()
	switch v.Kind() {
	case reflect.String:
		s := v.String()
		if !utf8.ValidString(s) || !norm.NFC.IsNormalString(s) {
			t.Fatalf("%s = %q: not valid UTF-8 in NFC", path, s)
		}
		for _, r := range s {
			if r < 0x20 && !(multiline && (r == '\t' || r == '\n')) || r >= 0x7f && r <= 0x9f {
				t.Fatalf("%s = %q holds control character %U", path, s, r)
			}
		}
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			checkClean(t, path, v.Elem(), multiline)
		}
	case reflect.Struct:
		for i := range v.NumField() {
			f := v.Type().Field(i)
			if f.IsExported() {
				checkClean(t, path+"."+f.Name, v.Field(i), multiline || f.Tag.Get(textTag) == "multiline")
			}
		}
	case reflect.Slice:
		for i := range v.Len() {
			checkClean(t, path, v.Index(i), multiline)
		}
	case reflect.Map:
		for it := v.MapRange(); it.Next(); {
			checkClean(t, path+" key", it.Key(), false)
			checkClean(t, path+"."+it.Key().String(), it.Value(), multiline)
		}
	}
}

func FuzzCustomerFields(f *testing.F) {
	f.Add("Anna", "Müller", "anna@example.nl", "0612345678", "regel 1\nregel 2", "kort", "1985-04-12")
	f.Add("a\x00b", "Jansen", "anna@-example.nl", "+31 6 1234 5678", "x\x00y", "\xff", "0000-01-01")
	f.Add("Rene\u0301e", "\xc0\xaf", "andre\u0301@example.nl", "06\x0012345678", "a\r\nb", "cafe\u0301", "9999-12-31")
	f.Add("\u0085", "\ud7ff", "o'brien+x@mail.example.co.uk", "", "\t", "\x7f", "2025-02-30")
	s := fuzzService()
	sc := scope{org: "org", lang: "en"}
	f.Fuzz(func(t *testing.T, first, last, email, phone, remarks, note, birth string) {
		in := CustomerFields{
			FirstName: first, LastName: last, Email: email, LoginEmail: email, AltEmails: []string{email, first + "@example.nl"},
			Phones: []Phone{{Number: phone}}, Remarks: remarks, InternalDescription: note, Origin: note,
			Address:      Address{Street: first, City: note, Country: "nl"},
			CustomFields: map[string]any{"note": note, "meal": note, "work": email, "fax": phone, "since": birth},
		}
		if d, err := parseDate(birth); err == nil {
			in.BirthDate = &d
		}
		in.Status, in.Language = StatusCustomer, "nl"
		out, err := s.check(sc, fuzzOrg, fuzzDefs, in, nil)
		if err != nil {
			var ve *ValidationError
			if !asValidation(err, &ve) || len(ve.Fields) == 0 {
				t.Fatalf("error %v is no ValidationError", err)
			}
			return
		}
		checkClean(t, "CustomerFields", reflect.ValueOf(out), false)
		if out.BirthDate != nil && validDate(*out.BirthDate) != "" {
			t.Fatalf("accepted birth date %v", *out.BirthDate)
		}
		for _, e := range []string{out.Email, out.LoginEmail} {
			if e != "" && !validEmail(e) {
				t.Fatalf("accepted e-mail %q", e)
			}
		}
		// Checking what was accepted accepts it unchanged.
		again, err := s.check(sc, fuzzOrg, fuzzDefs, out, &Customer{CustomerFields: out})
		if err != nil {
			t.Fatalf("accepted fields refused on a second check: %v", err)
		}
		if !reflect.DeepEqual(again, out) {
			t.Fatalf("a second check changed the fields:\n%+v\n%+v", out, again)
		}
	})
}

func FuzzCustomerPatch(f *testing.F) {
	f.Add([]byte(`{"firstName": "Anna", "birthDate": null, "customFields": {"note": "x", "size": null}}`))
	f.Add([]byte(`{"remarks": "x\u0000y"}`))
	f.Add([]byte(`{"lastName": "\ud800", "phones": [{"number": "0612345678"}]}`))
	f.Add([]byte("{\"lastName\": \"M\xff\xfeller\"}"))
	f.Add([]byte(`{"address": {"city": "Orle\u0301ans"}, "altEmails": ["a@example.nl", "A@example.nl"]}`))
	f.Add([]byte(`{"passportExpiry": "0000-01-01", "status": null}`))
	s := fuzzService()
	sc := scope{org: "org", lang: "en"}
	base := CustomerFields{FirstName: "Anna", LastName: "Jansen", Email: "anna@example.nl", Status: StatusCustomer, Language: "nl",
		Phones: []Phone{{Kind: PhoneMobile, Number: "+31612345678"}}, CustomFields: map[string]any{"note": "oud", "size": 42.0}}
	f.Fuzz(func(t *testing.T, body []byte) {
		var p CustomerPatch
		if err := json.Unmarshal(body, &p); err != nil {
			return
		}
		applied := p.apply(base)
		// A merge patch is idempotent: applying it twice is applying it once.
		if twice := p.apply(applied); !reflect.DeepEqual(twice, applied) {
			t.Fatalf("applying the patch twice differs:\n%+v\n%+v", applied, twice)
		}
		out, err := s.check(sc, fuzzOrg, fuzzDefs, applied, &Customer{CustomerFields: base})
		if err != nil {
			var ve *ValidationError
			if !asValidation(err, &ve) || len(ve.Fields) == 0 {
				t.Fatalf("error %v is no ValidationError", err)
			}
			return
		}
		checkClean(t, "CustomerFields", reflect.ValueOf(out), false)
		again, err := s.check(sc, fuzzOrg, fuzzDefs, out, &Customer{CustomerFields: out})
		if err != nil || !reflect.DeepEqual(again, out) {
			t.Fatalf("a second check: %v\n%+v\n%+v", err, out, again)
		}
	})
}

func FuzzParsePhone(f *testing.F) {
	for _, seed := range []string{"0612345678", "+31 6 12345678", "06-1234 5678", "+49 30 12345672", "00316\x0012345678",
		"\xff", "+", "tel:+31612345678", "+٣١٦١٢٣٤٥٦٧٨", "0612345678;ext=12", "+1 (201) 555-0123 x99"} {
		f.Add(seed, "NL")
	}
	f.Add("030 1234567", "DE")
	f.Add("+31612345678", "")
	f.Fuzz(func(t *testing.T, raw, region string) {
		e164, ok := parsePhone(raw, region)
		if !ok {
			return
		}
		if len(e164) < 3 || len(e164) > 16 || e164[0] != '+' || strings.Trim(e164[1:], "0123456789") != "" {
			t.Fatalf("parsePhone(%q, %q) = %q: not E.164", raw, region, e164)
		}
		// The stored form reads back as itself, in any region (parsed,
		// not from the memo, which relies on this).
		for _, r := range []string{region, "", "NL", "US"} {
			if r == "" {
				r = "ZZ"
			}
			if again, ok := parsePhoneOnce(e164, r); !ok || again != e164 {
				t.Fatalf("parsePhone(%q, %q) = %q, %v; want it unchanged", e164, r, again, ok)
			}
		}
	})
}

func asValidation(err error, target **ValidationError) bool {
	ve, ok := err.(*ValidationError)
	*target = ve
	return ok
}
