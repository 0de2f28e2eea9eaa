package i18n

import (
	"strings"
	"unicode"

	"golang.org/x/text/cases"
	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// foldedLetters maps letters that carry no combining mark to strip but still
// read as a plain letter to someone typing a search, and the typographic
// apostrophes and hyphens to their ASCII forms.
var foldedLetters = strings.NewReplacer(
	"ø", "o", "Ø", "o", "ł", "l", "Ł", "l", "đ", "d", "Đ", "d", "ð", "d", "Ð", "d",
	"þ", "th", "Þ", "th", "æ", "ae", "Æ", "ae", "œ", "oe", "Œ", "oe", "ı", "i",
	"ß", "ss", "ẞ", "ss", "ĳ", "ij", "Ĳ", "ij",
	"\u2018", "'", "\u2019", "'", "\u02bc", "'", // ‘ ’ ʼ
	"\u2010", "-", "\u2011", "-", "\u2013", "-", // hyphen, non-breaking hyphen, en dash
)

// accent reports whether r is a mark that SearchKey removes: a non-spacing
// mark, except the Japanese voicing marks, which make "ガ" a letter of its own.
func accent(r rune) bool {
	return unicode.Is(unicode.Mn, r) && r != '\u3099' && r != '\u309a'
}

// SearchKey folds a name or text to the key used for case- and
// accent-insensitive search: marks removed ("é" -> "e"), case folded, letters
// without decomposition mapped ("ø" -> "o", "ł" -> "l", "ß" -> "ss"),
// punctuation and symbols other than - ' . & turned into spaces, invisible
// format characters (soft hyphen) dropped, and white space collapsed.
// "Émile Zoë" -> "emile zoe", "STRAßE" -> "strasse".
// It is safe for concurrent use.
func SearchKey(s string) string {
	// A transform.Chain and a cases.Caser keep state: new ones per call.
	stripMarks := transform.Chain(norm.NFD, runes.Remove(runes.Predicate(accent)), norm.NFC)
	s, _, err := transform.String(stripMarks, foldedLetters.Replace(s))
	if err != nil {
		return ""
	}
	s = cases.Fold().String(s)
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, r := range s {
		switch {
		case unicode.Is(unicode.Cf, r): // soft hyphen, zero-width joiners
		case unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r) ||
			r == '-' || r == '\'' || r == '.' || r == '&':
			if space {
				b.WriteByte(' ')
				space = false
			}
			b.WriteRune(r)
		default:
			space = b.Len() > 0
		}
	}
	return b.String()
}
