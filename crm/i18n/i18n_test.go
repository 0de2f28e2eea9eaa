package i18n_test

import (
	"strings"
	"sync"
	"testing"

	"github.com/dossiercrm/dossier/crm/i18n"
)

func TestCanonical(t *testing.T) {
	good := map[string]string{"nl-be": "nl-BE", "EN": "en", "pt-br": "pt-BR", "sr-latn-rs": "sr-Latn-RS", "de": "de"}
	for in, want := range good {
		got, err := i18n.Canonical(in)
		if err != nil || got != want {
			t.Errorf("Canonical(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "xx", "en_US!!", "und", "12", "english please", "nl-QQ-x"} {
		if got, err := i18n.Canonical(bad); err == nil {
			t.Errorf("Canonical(%q) = %q, want an error", bad, got)
		}
	}
}

func TestChoose(t *testing.T) {
	cases := []struct {
		available []string
		preferred []string
		want      string
		ok        bool
	}{
		{[]string{"en", "nl", "de"}, []string{"nl-BE"}, "nl", true},
		{[]string{"en", "nl", "de"}, []string{"sv"}, "en", false},
		{[]string{"en", "pt", "pt-BR"}, []string{"pt-BR"}, "pt-BR", true},
		{[]string{"en", "nl", "de"}, []string{"de-AT"}, "de", true},
		{[]string{"en", "nl-BE"}, []string{"nl"}, "nl-BE", true},
		{[]string{"fr", "en"}, []string{"sv", "en"}, "en", true},
		{[]string{"fr", "en"}, []string{"not a tag"}, "fr", false},
		{nil, []string{"en"}, "", false},
	}
	for _, tc := range cases {
		got, ok := i18n.Choose(tc.available, tc.preferred...)
		if got != tc.want || ok != tc.ok {
			t.Errorf("Choose(%v, %v) = %q, %v; want %q, %v", tc.available, tc.preferred, got, ok, tc.want, tc.ok)
		}
	}
}

func TestSearchKey(t *testing.T) {
	cases := map[string]string{
		"Émile Zoë":              "emile zoe",
		"STRAßE":                 "strasse",
		"  Müller-Lüdenscheidt ": "muller-ludenscheidt",
		"Łódź":                   "lodz",
		"Søren Kierkegaard":      "soren kierkegaard",
		"O'Neill, Seán":          "o'neill sean",
		"Dvořák\t(Antonín)":      "dvorak antonin",
		"Æsir & Œuvre":           "aesir & oeuvre",
		"İstanbul":               "istanbul",
		"山田 太郎":                  "山田 太郎",
		"van der   Berg":         "van der berg",
		"":                       "",
		"!!!":                    "",
	}
	for in, want := range cases {
		if got := i18n.SearchKey(in); got != want {
			t.Errorf("SearchKey(%q) = %q, want %q", in, got, want)
		}
	}
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 200; j++ {
				if got := i18n.SearchKey("Émile Zoë"); got != "emile zoe" {
					t.Errorf("concurrent SearchKey = %q", got)
					return
				}
			}
		}()
	}
	wg.Wait()
}

func TestSort(t *testing.T) {
	names := func(lang string) string {
		s := []string{"Zorn", "öberg", "Olsson", "adams"}
		i18n.Sort(lang, s, func(s string) string { return s })
		return strings.Join(s, " ")
	}
	if got, want := names("sv"), "adams Olsson Zorn öberg"; got != want {
		t.Errorf("Swedish order %q, want %q", got, want)
	}
	if got, want := names("de"), "adams öberg Olsson Zorn"; got != want {
		t.Errorf("German order %q, want %q", got, want)
	}
	if got, want := names("not a tag"), "adams öberg Olsson Zorn"; got != want {
		t.Errorf("fallback order %q, want %q", got, want)
	}
}

func TestMessages(t *testing.T) {
	keys := []string{"required", "email", "phone", "language", "country", "max", "min", "oneof", "future",
		"unknown_field", "type", "choice", "invalid", "cursor", "duplicate", "key", "date", "number", "limit",
		"archived", "gt", "version"}
	for _, lang := range i18n.Languages() {
		for _, key := range keys {
			msg := i18n.Message(lang, key, "P")
			if msg == key || (lang != "en" && msg == i18n.Message("en", key, "P")) {
				t.Errorf("%s has no own text for %q", lang, key)
			}
		}
	}
	if got := i18n.Message("nl-BE", "required", ""); got != "is verplicht" {
		t.Errorf("nl-BE required = %q", got)
	}
	if got := i18n.Message("sv", "required", ""); got != "is required" {
		t.Errorf("sv falls back to English: %q", got)
	}
	if got := i18n.Message("en", "max", "100"); got != "must be at most 100 characters long" {
		t.Errorf("param not replaced: %q", got)
	}
	if got := i18n.Message("en", "no_such_key", ""); got != "no_such_key" {
		t.Errorf("unknown key = %q", got)
	}
}
