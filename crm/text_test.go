package crm

import (
	"testing"
	"time"
)

func TestCleanText(t *testing.T) {
	for _, tc := range []struct {
		in        string
		multiline bool
		want      string
		code      string
	}{
		{"Anna", false, "Anna", ""},
		{"", false, "", ""},
		{"Müller", false, "Müller", ""},
		{"Rene\u0301e", false, "Renée", ""},
		{"\ufb01", false, "\ufb01", ""}, // a ligature stays: NFC, not NFKC
		{"\ufffd", false, "\ufffd", ""}, // a real replacement character is text
		{"😀", false, "😀", ""},
		{"a\x00b", false, "", "control"},
		{"a\x00b", true, "", "control"},
		{"a\tb", false, "", "control"},
		{"a\nb", false, "", "control"},
		{"a\rb", false, "", "control"},
		{"a\tb\nc", true, "a\tb\nc", ""},
		{"a\r\nb\rc", true, "a\nb\nc", ""},
		{"a\x1bb", true, "", "control"},
		{"a\x7fb", true, "", "control"},
		{"a\u0085b", true, "", "control"},
		{"a\u009fb", false, "", "control"},
		{"a\u00a0b", false, "a\u00a0b", ""},
		{"\xff\xfe", false, "", "utf8"},
		{"\xc0\xaf", false, "", "utf8"},
		{"\xed\xa0\x80", false, "", "utf8"},
		{"\xf4\x90\x80\x80", false, "", "utf8"},
		{"caf\xc3", true, "", "utf8"},
	} {
		got, code := cleanText(tc.in, tc.multiline)
		if code != tc.code || (code == "" && got != tc.want) {
			t.Errorf("cleanText(%q, %v) = %q, %q; want %q, %q", tc.in, tc.multiline, got, code, tc.want, tc.code)
		}
	}
}

func TestCheckTextNamesFieldsAndLeavesCallerAlone(t *testing.T) {
	alt := []string{"a@example.nl", "Rene\u0301e@example.nl"}
	phones := []Phone{{Number: "06"}, {Number: "06\x00"}}
	custom := map[string]any{"note": "cafe\u0301", "list": []any{"ok", "x\x01"}}
	in := CustomerFields{LastName: "O\u0308berg", AltEmails: alt, Phones: phones, CustomFields: custom,
		Address: Address{City: "\xff"}, BirthDate: &Date{Year: 0, Month: 1, Day: 1}}
	v := newValidation("en")
	v.checkText("", &in)
	for _, want := range [][2]string{{"phones[1].number", "control"}, {"customFields.list[1]", "control"},
		{"address.city", "utf8"}, {"birthDate", "dateRange"}} {
		if !v.err().(*ValidationError).Has(want[0], want[1]) {
			t.Errorf("no %s (%s) in %+v", want[0], want[1], v.fields)
		}
	}
	if len(v.fields) != 4 {
		t.Errorf("fields %+v", v.fields)
	}
	if in.LastName != "Öberg" || in.AltEmails[1] != "Renée@example.nl" || in.CustomFields["note"] != "café" {
		t.Errorf("not normalised: %+v", in)
	}
	if alt[1] != "Rene\u0301e@example.nl" || custom["note"] != "cafe\u0301" {
		t.Errorf("the caller's slice or map was written to: %q %q", alt[1], custom["note"])
	}
}

func TestValidDate(t *testing.T) {
	for _, tc := range []struct {
		d    Date
		code string
	}{
		{Date{}, ""},
		{Date{1, time.January, 1}, ""},
		{Date{9999, time.December, 31}, ""},
		{Date{2024, time.February, 29}, ""},
		{Date{0, time.December, 31}, "dateRange"},
		{Date{10000, time.January, 1}, "dateRange"},
		{Date{2025, time.February, 29}, "date"},
		{Date{2025, 0, 1}, "date"},
		{Date{2025, time.January, 0}, "date"},
	} {
		if got := validDate(tc.d); got != tc.code {
			t.Errorf("validDate(%v) = %q, want %q", tc.d, got, tc.code)
		}
	}
}

func TestValidEmail(t *testing.T) {
	for addr, want := range map[string]bool{
		"anna@example.nl":                 true,
		"o'brien+news@mail.example.co.uk": true,
		"müller@bücher.de":                true,
		"anna@xn--bcher-kva.de":           true,
		"a@b.c1":                          true,
		"anna@-example.nl":                false,
		"anna@example-.nl":                false,
		"anna@example":                    false,
		"anna@example.":                   false,
		"anna@example..nl":                false,
		"anna@exa_mple.nl":                false,
		"anna@example.123":                false,
		"anna@[192.0.2.1]":                false,
		`"anna b"@example.nl`:             false,
		"anna..b@example.nl":              false,
		".anna@example.nl":                false,
		"anna@":                           false,
		"@example.nl":                     false,
		"anna":                            false,
		"Anna <anna@example.nl>":          false,
		"anna@exam ple.nl":                false,
		"an\u00a0na@example.nl":           false,
		"anna@example.nl\x00":             false,
		"anna@ex\xffample.nl":             false,
	} {
		if got := validEmail(addr); got != want {
			t.Errorf("validEmail(%q) = %v, want %v", addr, got, want)
		}
	}
}

// BenchmarkCheckText measures the text check of a whole customer: the part
// of a create that every input now pays for.
func BenchmarkCheckText(b *testing.B) {
	birth := Date{1985, time.April, 12}
	for _, bc := range []struct {
		name string
		in   CustomerFields
	}{
		{"ascii", CustomerFields{FirstName: "Anna", MiddleName: "van der", LastName: "Berg", Company: "Example Travel",
			Address: Address{Street: "Dorpsstraat", HouseNumber: "12a", PostalCode: "1234 AB", City: "Amsterdam", Country: "NL"},
			Phones:  []Phone{{Kind: PhoneMobile, Number: "0612345678"}}, BirthDate: &birth, Email: "anna@example.nl",
			LoginEmail: "anna@example.nl", AltEmails: []string{"a.berg@example.com"}, Remarks: "Prefers the window seat.\nVegetarian.",
			CustomFields: map[string]any{"shoe_size": 38.0, "note": "Regular since 2019"}}},
		{"accents", CustomerFields{FirstName: "Zoë", LastName: "Müller-Lüdenscheidt", Company: "Café Ørsted",
			Address: Address{Street: "Königsallee", City: "Düsseldorf", Country: "DE"}, BirthDate: &birth,
			Email: "zoë@example.de", Remarks: "Spricht Französisch.", CustomFields: map[string]any{"note": "Crème brûlée"}}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				in := bc.in
				v := validation{lang: "en"}
				v.checkText("", &in)
				if v.fields != nil {
					b.Fatal(v.fields)
				}
			}
		})
	}
}
