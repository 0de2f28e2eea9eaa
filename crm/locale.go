package crm

import (
	"regexp"
	"strings"

	"github.com/dossiercrm/dossier/crm/i18n"
	"golang.org/x/text/language"
)

// checkLanguage validates a BCP 47 tag and returns its canonical form.
func checkLanguage(v *validation, field, tag string) string {
	if tag == "" {
		v.add(field, "required", "")
		return ""
	}
	canonical, err := i18n.Canonical(strings.TrimSpace(tag))
	if err != nil {
		v.add(field, "language", "")
		return tag
	}
	return canonical
}

var countryPattern = regexp.MustCompile(`^[A-Z]{2}$`)

// isCountry reports whether code is an assigned ISO 3166-1 alpha-2 country code.
func isCountry(code string) bool {
	if !countryPattern.MatchString(code) {
		return false
	}
	r, err := language.ParseRegion(code)
	return err == nil && r.IsCountry()
}

// checkCountry validates an optional ISO 3166-1 alpha-2 code and returns it in upper case.
func checkCountry(v *validation, field, code string) string {
	code = strings.ToUpper(strings.TrimSpace(code))
	if code != "" && !isCountry(code) {
		v.add(field, "country", "")
	}
	return code
}
