package i18n

import (
	"bytes"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/dossiercrm/dossier/crm/internal/legacysortkey"
)

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
			raw := sign(bytes.Compare(legacysortkey.Parts(lang, a...), legacysortkey.Parts(lang, b...)))
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
	raw, compact := len(legacysortkey.Parts("nl", "Gonçalves", "Łukasz", "van")), len(SortKeyParts("nl", "Gonçalves", "Łukasz", "van"))
	if compact*3 > raw*2 {
		t.Errorf("compact key of %d bytes, raw key %d", compact, raw)
	}
}
