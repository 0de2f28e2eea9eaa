package i18n

import (
	"errors"
	"fmt"

	"golang.org/x/text/language"
)

// ErrLanguage is returned for a tag that is not a usable BCP 47 language tag.
var ErrLanguage = errors.New("i18n: not a known language tag")

// Canonical parses a BCP 47 language tag and returns its canonical form
// ("nl-be" -> "nl-BE", "EN" -> "en"). It rejects ill-formed tags, tags with
// unknown subtags ("xx") and the undetermined language ("und").
func Canonical(tag string) (string, error) {
	if tag == "" {
		return "", fmt.Errorf("%w: empty", ErrLanguage)
	}
	t, err := language.Parse(tag)
	if err != nil {
		return "", fmt.Errorf("%w: %q", ErrLanguage, tag)
	}
	if _, conf := t.Base(); conf != language.Exact { // "und", "und-US": no language named
		return "", fmt.Errorf("%w: %q", ErrLanguage, tag)
	}
	return t.String(), nil
}

// Choose returns the entry of available that best serves the preferred
// languages, in order of preference: the exact tag, else the same base
// language ("nl-BE" is served by "nl", "nl" by "nl-BE"). When nothing
// matches, ok is false and the first entry of available is returned, so the
// first entry is the fallback. Preferred entries that do not parse are skipped.
func Choose(available []string, preferred ...string) (chosen string, ok bool) {
	if len(available) == 0 {
		return "", false
	}
	tags := make([]language.Tag, 0, len(available))
	index := make([]int, 0, len(available)) // tags[i] is available[index[i]]
	for i, a := range available {
		t, err := language.Parse(a)
		if err != nil {
			continue
		}
		tags = append(tags, t)
		index = append(index, i)
	}
	if len(tags) == 0 {
		return available[0], false
	}
	var want []language.Tag
	for _, p := range preferred {
		if t, err := language.Parse(p); err == nil {
			want = append(want, t)
		}
	}
	if len(want) == 0 {
		return available[0], false
	}
	// The matcher's returned tag carries extensions; use its index instead.
	_, i, conf := language.NewMatcher(tags).Match(want...)
	if conf == language.No {
		return available[0], false
	}
	return available[index[i]], true
}
