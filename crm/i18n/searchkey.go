package i18n

import (
	"strings"
	"unicode"

	"golang.org/x/text/cases"
	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// letters that carry no combining mark to strip but still read as a plain
// letter to someone typing a search.
var foldedLetters = strings.NewReplacer(
	"ø", "o", "Ø", "o", "ł", "l", "Ł", "l", "đ", "d", "Đ", "d", "ð", "d", "Ð", "d",
	"þ", "th", "Þ", "th", "æ", "ae", "Æ", "ae", "œ", "oe", "Œ", "oe", "ı", "i", "ß", "ss", "ẞ", "ss",
)

// SearchKey folds a name or text to the key used for case- and
// accent-insensitive search: marks removed ("é" -> "e"), case folded, letters
// without decomposition mapped ("ø" -> "o", "ł" -> "l", "ß" -> "ss"),
// punctuation other than - ' . & turned into spaces, and white space
// collapsed. "Émile Zoë" -> "emile zoe", "STRAßE" -> "strasse".
// It is safe for concurrent use.
func SearchKey(s string) string {
	// A transform.Chain keeps state: one per call.
	stripMarks := transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
	s, _, err := transform.String(stripMarks, foldedLetters.Replace(s))
	if err != nil {
		return ""
	}
	s = cases.Fold().String(s)
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, r := range s {
		keep := unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '\'' || r == '.' || r == '&'
		if !keep {
			space = b.Len() > 0
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(r)
	}
	return b.String()
}
