package i18n

import (
	"slices"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// foldedLetters maps letters that carry no combining mark to strip but still
// read as a plain letter to someone typing a search.
var foldedLetters = strings.NewReplacer(
	"ø", "o", "Ø", "o", "ł", "l", "Ł", "l", "đ", "d", "Đ", "d", "ð", "d", "Ð", "d",
	"þ", "th", "Þ", "th", "æ", "ae", "Æ", "ae", "œ", "oe", "Œ", "oe", "ı", "i",
	"ß", "ss", "ẞ", "ss", "ĳ", "ij", "Ĳ", "ij",
)

// germanLetters is the German transliteration of the umlauts, applied to
// composed (NFC) text: "Müller" is also written "Mueller".
var germanLetters = strings.NewReplacer(
	"ä", "ae", "ö", "oe", "ü", "ue", "Ä", "Ae", "Ö", "Oe", "Ü", "Ue",
)

// accent reports whether r is a mark that SearchKey removes: a non-spacing
// mark, except the Japanese voicing marks, which make "ガ" a letter of its own.
func accent(r rune) bool {
	return unicode.Is(unicode.Mn, r) && r != '\u3099' && r != '\u309a'
}

// apostrophe reports whether r is an apostrophe or a character typed in its
// place: SearchKey drops them, so that "OBrien" finds "O'Brien".
func apostrophe(r rune) bool {
	switch r {
	case '\'', '`', '\u00b4', '\u2018', '\u2019', '\u201b', '\u02bc', '\u02b9', '\u2032', '\uff07':
		return true // ' ` ´ ‘ ’ ‛ ʼ ʹ ′ ＇
	}
	return false
}

// hyphen reports whether r is a hyphen or dash: SearchKey reads it as a
// space between words, so that "Jean-Luc" is found by "jean" and by "luc".
func hyphen(r rune) bool {
	return r == '-' || unicode.Is(unicode.Pd, r)
}

// SearchKey folds a name or text to the key used for case- and
// accent-insensitive search: marks removed ("é" -> "e"), case folded, letters
// without decomposition mapped ("ø" -> "o", "ł" -> "l", "ß" -> "ss"),
// apostrophes dropped ("O'Brien" -> "obrien"), hyphens and dashes read as
// spaces between words ("Jean-Luc" -> "jean luc"), punctuation and symbols
// other than . and & turned into spaces, invisible format characters (soft
// hyphen) dropped, and white space collapsed.
// "Émile Zoë" -> "emile zoe", "STRAßE" -> "strasse".
// It is safe for concurrent use.
func SearchKey(s string) string {
	if k, ok := searchKeyASCII(s); ok {
		return k
	}
	return searchKeyUnicode(s)
}

// searchKeyFolders are the transformers of searchKeyUnicode. They keep
// state, so a call takes its own; a chain made new for each call cost a
// create some 20 KB of buffers (transform.String resets what it is given).
var searchKeyFolders = sync.Pool{New: func() any {
	return &searchKeyFolder{
		stripMarks: transform.Chain(norm.NFD, runes.Remove(runes.Predicate(accent)), norm.NFC),
		fold:       cases.Fold(),
	}
}}

// searchKeyFolder is one set of searchKeyUnicode's transformers.
type searchKeyFolder struct {
	stripMarks transform.Transformer
	fold       cases.Caser
}

// searchKeyUnicode is SearchKey of any text.
func searchKeyUnicode(s string) string {
	f := searchKeyFolders.Get().(*searchKeyFolder)
	defer searchKeyFolders.Put(f)
	s, _, err := transform.String(f.stripMarks, foldedLetters.Replace(s))
	if err != nil {
		return ""
	}
	s = f.fold.String(s)
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, r := range s {
		switch {
		case unicode.Is(unicode.Cf, r) || apostrophe(r): // soft hyphen, zero-width joiners
		case unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r) || r == '.' || r == '&':
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

// searchKeyASCII is SearchKey of a string of ASCII characters, which most
// names and addresses are: none of them decomposes, carries a mark or is
// a format character, and folding their case is lowering it, so the
// normalising transforms (a quarter of an import's processor time) can be
// skipped. ok is false when s has other characters.
func searchKeyASCII(s string) (key string, ok bool) {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return "", false
		}
	}
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\'' || c == '`': // apostrophe
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '.', c == '&', 'A' <= c && c <= 'Z':
			if space {
				b.WriteByte(' ')
				space = false
			}
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			b.WriteByte(c)
		default:
			space = b.Len() > 0
		}
	}
	return b.String(), true
}

// SearchKeys returns the keys under which a name is found: its SearchKey
// first, then the other ways people type it, each once:
//   - a hyphenated word written as one ("Jean-Luc" -> "jeanluc"; SearchKey
//     already finds it by "jean" and by "luc"),
//   - the German transliteration of the umlauts ("Müller" -> "mueller"; the
//     SearchKey "muller" finds it too), for every name whatever the
//     organisation's language: people abroad write German names so as well.
//
// Search with SearchKey(query) against all of them. It is safe for
// concurrent use.
func SearchKeys(s string) []string {
	variants := []string{s}
	if strings.IndexFunc(s, hyphen) >= 0 {
		variants = append(variants, strings.Map(func(r rune) rune {
			if hyphen(r) {
				return -1
			}
			return r
		}, s))
	}
	if composed := norm.NFC.String(s); germanLetters.Replace(composed) != composed {
		for _, v := range variants {
			variants = append(variants, germanLetters.Replace(norm.NFC.String(v)))
		}
	}
	keys := make([]string, 0, len(variants))
	for _, v := range variants {
		if k := SearchKey(v); k != "" && !slices.Contains(keys, k) {
			keys = append(keys, k)
		}
	}
	return keys
}
