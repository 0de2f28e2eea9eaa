package crm

import (
	"slices"
	"strings"

	"github.com/dossiercrm/dossier/crm/i18n"
	"golang.org/x/text/unicode/norm"
)

// EmailKey is the form in which e-mail addresses are compared: trimmed,
// lower case and in Unicode normalisation form C, so that "É" written as
// one code point or as "E" and a combining accent is the same address.
// Addresses are stored as given (in NFC, like all text).
func EmailKey(email string) string {
	return norm.NFC.String(strings.ToLower(strings.TrimSpace(email)))
}

// NameKeys returns the search keys under which name search finds a customer:
// for the full name "Anna van der Berg" every suffix that starts a word
// ("anna van der berg", "van der berg", "der berg", "berg"), the name with
// the last name first ("van der berg anna"), and the company's suffixes,
// each also in the other spellings of i18n.SearchKeys ("Jean-Luc" as
// "jeanluc", "Müller" as "mueller"). A prefix search over these keys finds
// a customer by any name part, in either order, without regard to case,
// accents or apostrophes.
//
// A key that begins another key of the same customer is left out ("berg"
// begins "berg anna", "van der berg" begins "van der berg anna"): every
// prefix of it is a prefix of the longer key, so a prefix search finds the
// customer all the same. That halves the keys of most names, and with them
// the rows and the index pages a write of a customer touches. The keys come
// in byte order.
func NameKeys(c *CustomerFields) []string {
	var keys []string
	seen := map[string]bool{}
	addSuffixes := func(s string) {
		for _, key := range i18n.SearchKeys(s) {
			words := strings.Fields(key)
			for i := range words {
				k := strings.Join(words[i:], " ")
				if !seen[k] {
					seen[k] = true
					keys = append(keys, k)
				}
			}
		}
	}
	addSuffixes(c.FirstName + " " + c.MiddleName + " " + c.LastName)
	if c.FirstName != "" && c.LastName != "" {
		addSuffixes(c.MiddleName + " " + c.LastName + " " + c.FirstName)
	}
	addSuffixes(c.Company)
	// In byte order the keys that begin with a key follow it directly, so
	// a key begins another exactly when it begins the next one.
	slices.Sort(keys)
	kept := keys[:0]
	for i, k := range keys {
		if i+1 < len(keys) && strings.HasPrefix(keys[i+1], k) {
			continue
		}
		kept = append(kept, k)
	}
	return kept
}

// SortKey is the key that orders a customer in SortName order for an
// organisation whose language is lang. Stores keep it with the customer;
// bulk loaders compute it with this function.
func SortKey(lang string, f *CustomerFields) []byte { return i18n.SortKeyParts(lang, sortName(f)...) }

// sortName is what a customer sorts by in SortName order: last name, then
// first name, then middle name, each compared whole before the next (all
// the "Müller"s together, ordered by first name); without a last name the
// first name leads; the company for customers without a name.
func sortName(f *CustomerFields) []string {
	var parts []string
	for _, p := range []string{f.LastName, f.FirstName, f.MiddleName} {
		if p = strings.Join(strings.Fields(p), " "); p != "" {
			parts = append(parts, p)
		}
	}
	if len(parts) == 0 {
		return []string{strings.Join(strings.Fields(f.Company), " ")}
	}
	return parts
}

// searchTextSeparator separates the spellings in a SearchText. A search key
// never holds it, so no contains-search matches across two spellings.
const searchTextSeparator = " | "

// SearchText is the text contains-search looks in: the full name and the
// company as a search key (i18n.SearchKey), followed by its other
// spellings (i18n.SearchKeys: "jeanluc", "mueller").
func SearchText(f *CustomerFields) string {
	return strings.Join(i18n.SearchKeys(f.FirstName+" "+f.MiddleName+" "+f.LastName+" "+f.Company), searchTextSeparator)
}
