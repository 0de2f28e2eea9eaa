package i18n_test

import (
	"bytes"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/dossiercrm/dossier/crm/i18n"
)

func TestCanonical(t *testing.T) {
	good := []struct{ in, want string }{
		{"nl-be", "nl-BE"},
		{"EN", "en"},
		{"de", "de"},
		{"pt-br", "pt-BR"},
		{"sr-latn-rs", "sr-Latn-RS"},
		{"iw", "he"}, // deprecated codes are replaced
	}
	for _, tc := range good {
		got, err := i18n.Canonical(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("Canonical(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", "xx", "en_US!!", "und", "und-US", "12", "english please", "nl-QQ-x"} {
		if got, err := i18n.Canonical(bad); err == nil {
			t.Errorf("Canonical(%q) = %q, want an error", bad, got)
		}
	}
}

func TestChoose(t *testing.T) {
	enNlDe := []string{"en", "nl", "de"}
	cases := []struct {
		available []string
		preferred []string
		want      string
		ok        bool
	}{
		{enNlDe, []string{"nl-BE"}, "nl", true},
		{enNlDe, []string{"sv"}, "en", false},
		{[]string{"en", "pt", "pt-BR"}, []string{"pt-BR"}, "pt-BR", true},
		{enNlDe, []string{"de-AT"}, "de", true},
		{enNlDe, []string{"en-GB"}, "en", true}, // not the matcher's "en-u-rg-gbzzzz"
		{enNlDe, []string{"sv", "de"}, "de", true},
		{enNlDe, []string{"DE"}, "de", true},
		{enNlDe, []string{"und"}, "en", false},
		{enNlDe, nil, "en", false},
		{[]string{"en", "nl-BE"}, []string{"nl"}, "nl-BE", true},
		{[]string{"fr", "en"}, []string{"sv", "en"}, "en", true},
		{[]string{"fr", "en"}, []string{"not a tag", "en"}, "en", true},
		{[]string{"fr", "en"}, []string{"not a tag"}, "fr", false},
		{nil, []string{"en"}, "", false},
	}
	for _, tc := range cases {
		got, ok := i18n.Choose(tc.available, tc.preferred...)
		if got != tc.want || ok != tc.ok {
			t.Errorf("Choose(%q, %q) = %q, %v; want %q, %v", tc.available, tc.preferred, got, ok, tc.want, tc.ok)
		}
	}
}

var searchKeys = []struct{ in, want string }{
	{"Émile Zoë", "emile zoe"},
	{"STRAßE", "strasse"},
	{"  Müller-Lüdenscheidt ", "muller ludenscheidt"},   // a hyphen separates words
	{"Müller\u2010Lüdenscheidt", "muller ludenscheidt"}, // typographic hyphen
	{"Jean–Luc", "jean luc"},                            // en dash
	{"Łódź", "lodz"},
	{"Søren", "soren"},
	{"Søren Kierkegaard", "soren kierkegaard"},
	{"O'Neill, Seán", "oneill sean"}, // apostrophes go
	{"O’Neill", "oneill"},            // typographic apostrophe
	{"Dʼ Angelo", "d angelo"},
	{"'t Hooft", "t hooft"},
	{"O`Brien O´Brien", "obrien obrien"}, // typed for an apostrophe
	{"Dvořák\t(Antonín)", "dvorak antonin"},
	{"Æsir & Œuvre", "aesir & oeuvre"},
	{"St. Đorđe", "st. dorde"},
	{"İstanbul ıspanak", "istanbul ispanak"},
	{"ĲSSELMEER", "ijsselmeer"},
	{"Mül\u00adler", "muller"}, // soft hyphen
	{"van der   Berg\n", "van der berg"},
	{"山田 太郎", "山田 太郎"},
	{"がっこう ガッコウ", "がっこう ガッコウ"}, // voicing marks are kept
	{"김민준", "김민준"},
	{"हिन्दी", "हिनदी"}, // the virama goes, the vowel signs stay in the word
	{"", ""},
	{"!!!", ""},
}

func TestSearchKey(t *testing.T) {
	for _, tc := range searchKeys {
		if got := i18n.SearchKey(tc.in); got != tc.want {
			t.Errorf("SearchKey(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestSearchKeyASCII: SearchKey's shortcut for ASCII text gives what the
// full folding gives, for every ASCII character alone and in words.
func TestSearchKeyASCII(t *testing.T) {
	var ins []string
	for c := range 128 {
		ch := string(rune(c))
		ins = append(ins, ch, "a"+ch+"B", ch+"Zz"+ch+ch+"9", " "+ch+" x")
	}
	ins = append(ins, "O'Brien", "Jean-Luc  VAN der Berg", "3512 AB", "St. John & Sons", "c1@example.org", "  --  ", "A`b")
	for _, in := range ins {
		if got, want := i18n.SearchKey(in), i18n.SearchKeyUnicode(in); got != want {
			t.Errorf("SearchKey(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSearchKeyConcurrent(t *testing.T) {
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 50 {
				for _, tc := range searchKeys {
					if got := i18n.SearchKey(tc.in); got != tc.want {
						t.Errorf("concurrent SearchKey(%q) = %q, want %q", tc.in, got, tc.want)
						return
					}
				}
			}
		})
	}
	wg.Wait()
}

func TestSort(t *testing.T) {
	cases := []struct{ lang, want string }{
		{"sv", "Adams ADAMS olsson Zorn Öberg"}, // Ö is a letter after Z
		{"de", "Adams ADAMS Öberg olsson Zorn"}, // Ö sorts with O
		{"en", "Adams ADAMS Öberg olsson Zorn"},
		{"not a tag", "Adams ADAMS Öberg olsson Zorn"}, // falls back to English
	}
	for _, tc := range cases {
		names := []string{"Zorn", "Öberg", "Adams", "olsson", "ADAMS"}
		i18n.Sort(tc.lang, names, func(s string) string { return s })
		if got := strings.Join(names, " "); got != tc.want {
			t.Errorf("Sort(%q) = %q, want %q", tc.lang, got, tc.want)
		}
	}
}

func TestCatalogueComplete(t *testing.T) {
	langs := i18n.Languages()
	if len(langs) == 0 || langs[0] != "en" {
		t.Fatalf("Languages() = %q, want English first", langs)
	}
	for lang := range i18n.Catalogue {
		if !slices.Contains(langs, lang) {
			t.Errorf("catalogue language %q missing from Languages()", lang)
		}
	}
	english := i18n.Catalogue["en"]
	for _, lang := range langs {
		texts, ok := i18n.Catalogue[lang]
		if !ok {
			t.Errorf("Languages() lists %q, which the catalogue lacks", lang)
			continue
		}
		for key, en := range english {
			text, ok := texts[key]
			switch {
			case !ok || text == "":
				t.Errorf("%s: no text for %q", lang, key)
			case strings.Contains(text, "{param}") != strings.Contains(en, "{param}"):
				t.Errorf("%s: %q has {param} where English has not, or the other way round: %q", lang, key, text)
			}
		}
		for key := range texts {
			if _, ok := english[key]; !ok {
				t.Errorf("%s: key %q is not in English", lang, key)
			}
		}
	}
}

func TestMessage(t *testing.T) {
	cases := []struct{ lang, key, param, want string }{
		{"en", "required", "", "is required"},
		{"nl", "required", "", "is verplicht"},
		{"nl-BE", "required", "", "is verplicht"},
		{"de-AT", "required", "", "ist erforderlich"},
		{"sv", "required", "", "is required"},
		{"", "required", "", "is required"},
		{"not a tag", "required", "", "is required"},
		{"en", "max", "100", "must be at most 100 characters long"},
		{"nl", "max", "100", "mag hoogstens 100 tekens lang zijn"},
		{"de", "gt", "0", "muss größer als 0 sein"},
		{"en", "no_such_key", "x", "no_such_key"},
		{"nl", "no_such_key", "", "no_such_key"},
	}
	for _, tc := range cases {
		if got := i18n.Message(tc.lang, tc.key, tc.param); got != tc.want {
			t.Errorf("Message(%q, %q, %q) = %q, want %q", tc.lang, tc.key, tc.param, got, tc.want)
		}
	}
}

func TestSortKey(t *testing.T) {
	for _, tc := range []struct{ lang, want string }{
		{"sv", "Adams ADAMS olsson Zorn Öberg"},
		{"de", "Adams ADAMS Öberg olsson Zorn"},
	} {
		names := []string{"Zorn", "Öberg", "Adams", "olsson", "ADAMS"}
		slices.SortStableFunc(names, func(a, b string) int {
			return bytes.Compare(i18n.SortKey(tc.lang, a), i18n.SortKey(tc.lang, b))
		})
		if got := strings.Join(names, " "); got != tc.want {
			t.Errorf("SortKey order for %q = %q, want %q", tc.lang, got, tc.want)
		}
	}
}

func TestSearchKeys(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"Anna Berg", []string{"anna berg"}},
		{"O'Brien", []string{"obrien"}},
		{"Jean-Luc Picard", []string{"jean luc picard", "jeanluc picard"}},
		{"Müller", []string{"muller", "mueller"}},
		{"Mu\u0308ller", []string{"muller", "mueller"}}, // decomposed ü
		{"MÜLLER", []string{"muller", "mueller"}},
		{"Jörg Müller-Lüdenscheidt", []string{"jorg muller ludenscheidt", "jorg mullerludenscheidt",
			"joerg mueller luedenscheidt", "joerg muellerluedenscheidt"}},
		{"Straße", []string{"strasse"}},
		{"!!!", []string{}},
	} {
		got := i18n.SearchKeys(tc.in)
		if !slices.Equal(got, tc.want) {
			t.Errorf("SearchKeys(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if len(got) > 0 && got[0] != i18n.SearchKey(tc.in) {
			t.Errorf("SearchKeys(%q) does not start with the SearchKey", tc.in)
		}
	}
}

// TestSortKeyParts: the last name decides at every level before the first
// name is compared, so one surname stays together in any case or accent.
func TestSortKeyParts(t *testing.T) {
	type name struct{ last, first string }
	for _, tc := range []struct {
		lang  string
		names []name
		want  string
	}{
		{"de", []name{{"Arlig", "Bea"}, {"Ärlig", "Anna"}, {"Arlig", "Carl"}, {"Ärlig", "Dora"}},
			"Arlig Bea, Arlig Carl, Ärlig Anna, Ärlig Dora"},
		{"de", []name{{"MÜLLER", "Anna"}, {"Muller", "Bert"}, {"Müller", "Cora"}, {"Muller", "Anna"}, {"Müller", "Bert"}, {"Mull", "Zoë"}},
			"Mull Zoë, Muller Anna, Muller Bert, MÜLLER Anna, Müller Bert, Müller Cora"},
		{"sv", []name{{"Öberg", "Anna"}, {"Zorn", "Bo"}, {"Oberg", "Cilla"}},
			"Oberg Cilla, Zorn Bo, Öberg Anna"},
		{"en", []name{{"", "Zed"}, {"Adams", "Amy"}}, "Zed, Adams Amy"}, // an empty part sorts first
	} {
		names := slices.Clone(tc.names)
		slices.SortStableFunc(names, func(a, b name) int {
			return bytes.Compare(i18n.SortKeyParts(tc.lang, a.last, a.first), i18n.SortKeyParts(tc.lang, b.last, b.first))
		})
		var got []string
		for _, n := range names {
			got = append(got, strings.TrimSpace(n.last+" "+n.first))
		}
		if s := strings.Join(got, ", "); s != tc.want {
			t.Errorf("%s: %s, want %s", tc.lang, s, tc.want)
		}
	}
	// The escaping keeps keys whose bytes include 0x00 and 0x01 in order.
	if bytes.Compare(i18n.SortKeyParts("en", "a", "b"), i18n.SortKeyParts("en", "a b")) >= 0 {
		t.Error(`"a", "b" does not sort before "a b"`)
	}
}

func TestPartialMessages(t *testing.T) {
	cases := []struct{ lang, key, want string }{
		{"fr", "notInForm", "n'est pas un champ que le formulaire booking recueille"},
		{"fr-BE", "required", "est obligatoire"},
		{"pl", "notInForm", "nie jest polem, które zbiera formularz booking"},
		{"pl-PL", "required", "jest wymagane"},
		{"pl", "email", "is not a valid e-mail address"}, // not in the partial catalogue: English
		{"nl", "notInForm", "is geen veld dat het formulier booking vraagt"},
	}
	for _, tc := range cases {
		if got := i18n.Message(tc.lang, tc.key, "booking"); got != tc.want {
			t.Errorf("Message(%q, %q) = %q, want %q", tc.lang, tc.key, got, tc.want)
		}
	}
}

// TestSortKeyConcurrent: sort keys made at once by many callers, in more
// languages than the store of collators keeps, are the keys made one at a
// time; the same language spelled twice ("de", "DE") gives the same keys.
func TestSortKeyConcurrent(t *testing.T) {
	langs := []string{"de", "DE", "sv", "nl", "pl", "fr", "not a language", ""}
	for i := range 80 {
		langs = append(langs, "x-"+strings.Repeat("a", 1+i%8)+string(rune('a'+i%26)))
	}
	names := []string{"Müller", "Zoë", "Östberg", "Ørsted", "van den Berg", "Łukasz", "anna", "ANNA"}
	want := map[string][]byte{}
	for _, l := range langs {
		for _, n := range names {
			want[l+"|"+n] = i18n.SortKeyParts(l, n, "x")
		}
	}
	if !bytes.Equal(i18n.SortKey("de", "Müller"), i18n.SortKey("DE", "Müller")) {
		t.Error(`SortKey("de") and SortKey("DE") differ`)
	}
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := range 400 {
				l, n := langs[(i+w)%len(langs)], names[(i*w+i)%len(names)]
				if got := i18n.SortKeyParts(l, n, "x"); !bytes.Equal(got, want[l+"|"+n]) {
					t.Errorf("SortKeyParts(%q, %q) = %x, want %x", l, n, got, want[l+"|"+n])
					return
				}
			}
		})
	}
	wg.Wait()
}
