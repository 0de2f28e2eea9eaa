// Package i18n holds Dossier's language handling: parsing and choosing BCP 47
// language tags with fallback, the search keys that make name search
// insensitive to case, accents and apostrophes and find the other common
// spellings of a name ("jeanluc", "mueller"), sorting in the order a
// language expects (also by several parts, a last name before a first
// name), and the catalogue of messages (validation errors) in several
// languages.
//
// It imports only the standard library and golang.org/x/text.
package i18n
