package crm

import (
	"slices"
	"strings"
	"testing"

	"github.com/dossiercrm/dossier/crm/i18n"
)

// TestNameKeys: the keys of a name are its word suffixes in both orders
// and every spelling, without the keys that begin another key; every key
// left out begins a kept one, so a prefix search finds the customer by
// whatever it would have found it by before.
func TestNameKeys(t *testing.T) {
	for _, tc := range []struct {
		f    CustomerFields
		want []string
	}{
		{CustomerFields{FirstName: "Anna", LastName: "Berg"}, []string{"anna berg", "berg anna"}},
		{CustomerFields{FirstName: "Anna", LastName: "van der Berg"},
			[]string{"anna van der berg", "berg anna", "der berg anna", "van der berg anna"}},
		{CustomerFields{FirstName: "Jean-Luc", LastName: "Müller"},
			[]string{"jean luc mueller", "jean luc muller", "jeanluc mueller", "jeanluc muller", "luc mueller", "luc muller",
				"mueller jean luc", "mueller jeanluc", "muller jean luc", "muller jeanluc"}},
		{CustomerFields{LastName: "Berg"}, []string{"berg"}},
		{CustomerFields{Company: "Berg & Zonen BV"}, []string{"& zonen bv", "berg & zonen bv", "bv", "zonen bv"}},
		{CustomerFields{}, nil},
	} {
		got := NameKeys(&tc.f)
		if !slices.Equal(got, tc.want) {
			t.Errorf("NameKeys(%+v) = %q, want %q", tc.f, got, tc.want)
		}
		for _, k := range allNameSuffixes(&tc.f) {
			if !slices.ContainsFunc(got, func(kept string) bool { return strings.HasPrefix(kept, k) }) {
				t.Errorf("NameKeys(%+v): %q begins no key of %q", tc.f, k, got)
			}
		}
	}
}

// allNameSuffixes is every word suffix NameKeys considers, none left out.
func allNameSuffixes(f *CustomerFields) []string {
	var all []string
	for _, s := range []string{f.FirstName + " " + f.MiddleName + " " + f.LastName, f.MiddleName + " " + f.LastName + " " + f.FirstName, f.Company} {
		for _, key := range i18n.SearchKeys(s) {
			words := strings.Fields(key)
			for i := range words {
				all = append(all, strings.Join(words[i:], " "))
			}
		}
	}
	return all
}
