package i18n

import (
	"bytes"
	"math/rand/v2"
	"strings"
	"testing"

	"golang.org/x/text/collate"
)

// rawPartsKey is the key SortKeyParts made before keys were compacted:
// each part's raw collation key, escaped, then 0x00. Its order is the
// order the compact keys must keep.
func rawPartsKey(lang string, parts ...string) []byte {
	var key []byte
	withCollator(lang, func(c *collate.Collator) {
		var buf collate.Buffer
		for _, p := range parts {
			for _, b := range c.KeyFromString(&buf, p) {
				switch b {
				case 0x00, 0x01:
					key = append(key, 0x01, b+1)
				default:
					key = append(key, b)
				}
			}
			key = append(key, 0x00)
			buf.Reset()
		}
	})
	return key
}

// TestSortKeyPartsOrder: compact keys sort random names, and names that
// differ only in an accent, a letter's case, a letter more or a part
// more, exactly as the raw collation keys do, in languages that tailor
// letters (Swedish, Polish, Danish), that compare accents from the end
// (Canadian French) and none.
func TestSortKeyPartsOrder(t *testing.T) {
	runes := []rune("aAbBcCeEiIoOuUzZ éèëêÉüÜöÖøØåÅäÄłŁßçñõ" + "\u0301\u0308\u0327" + "09-'.·&" +
		"абвгдЖЯ" + "αβγΩ" + "中文字" + "ﺍﺏ" + "😀" + "ǅǈ" + "\u00a0")
	r := rand.New(rand.NewPCG(3, 7))
	word := func() string {
		var b strings.Builder
		for range r.IntN(9) {
			b.WriteRune(runes[r.IntN(len(runes))])
		}
		return b.String()
	}
	mutate := func(s string) string {
		rs := []rune(s)
		switch i := r.IntN(len(rs) + 1); r.IntN(4) {
		case 0: // a letter more
			return string(rs[:i]) + string(runes[r.IntN(len(runes))]) + string(rs[i:])
		case 1: // an accent more
			return string(rs[:i]) + string([]rune("\u0301\u0308\u0327\u030a")[r.IntN(4)]) + string(rs[i:])
		case 2: // another case
			return strings.ToUpper(s)
		default:
			if i < len(rs) {
				rs[i] = runes[r.IntN(len(runes))]
			}
			return string(rs)
		}
	}
	sign := func(c int) int { return min(max(c, -1), 1) }
	for _, lang := range []string{"en", "de", "sv", "pl", "da", "fr-CA", "nl", ""} {
		for range 4000 {
			a := make([]string, 1+r.IntN(3))
			for i := range a {
				a[i] = word()
			}
			b := append([]string(nil), a...)
			switch r.IntN(4) {
			case 0:
				b[r.IntN(len(b))] = word()
			case 1:
				b = append(b, word())
			default:
				i := r.IntN(len(b))
				b[i] = mutate(b[i])
			}
			raw := sign(bytes.Compare(rawPartsKey(lang, a...), rawPartsKey(lang, b...)))
			compact := sign(bytes.Compare(SortKeyParts(lang, a...), SortKeyParts(lang, b...)))
			if raw != compact {
				t.Fatalf("%s: %q against %q: raw keys compare %d, compact keys %d", lang, a, b, raw, compact)
			}
		}
	}
}

// TestSortKeyPartsSize: a name's compact key is about a third shorter than
// its raw key.
func TestSortKeyPartsSize(t *testing.T) {
	raw, compact := len(rawPartsKey("nl", "Gonçalves", "Łukasz", "van")), len(SortKeyParts("nl", "Gonçalves", "Łukasz", "van"))
	if compact*3 > raw*2 {
		t.Errorf("compact key of %d bytes, raw key %d", compact, raw)
	}
}
