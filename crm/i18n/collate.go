package i18n

import (
	"bytes"
	"slices"
	"sync"

	"golang.org/x/text/collate"
	"golang.org/x/text/language"
)

// collators keeps case-blind Collators by the language text they were
// asked for: collate.New builds the language's tailoring each time (40%
// of a sort key, made on every create and update), and a Collator is not
// safe for concurrent use, so each language has a pool. Languages past
// maxCollatorLanguages (text a caller made up) get a Collator of their
// own each time, so the cache stays small whatever it is asked.
var collators struct {
	sync.Mutex
	pools map[string]*sync.Pool
}

const maxCollatorLanguages = 64

// withCollator runs fn with a case-blind Collator of lang (English when
// lang is unusable).
func withCollator(lang string, fn func(c *collate.Collator)) {
	collators.Lock()
	pool := collators.pools[lang]
	if pool == nil && len(collators.pools) < maxCollatorLanguages {
		if collators.pools == nil {
			collators.pools = map[string]*sync.Pool{}
		}
		pool = &sync.Pool{New: func() any { return newCollator(lang) }}
		collators.pools[lang] = pool
	}
	collators.Unlock()
	if pool == nil {
		fn(newCollator(lang))
		return
	}
	c := pool.Get().(*collate.Collator)
	defer pool.Put(c)
	fn(c)
}

func newCollator(lang string) *collate.Collator {
	tag, err := language.Parse(lang)
	if err != nil {
		tag = language.English
	}
	return collate.New(tag, collate.IgnoreCase)
}

// Sort sorts items in place, stably, in the order the language lang expects
// (Swedish puts "Ö" after "Z", German next to "O"), without regard to case.
// key returns the text to sort an item by. An unusable lang sorts as English.
func Sort[T any](lang string, items []T, key func(T) string) {
	withCollator(lang, func(c *collate.Collator) {
		var buf collate.Buffer
		keys := make(map[string][]byte, len(items))
		sortKey := func(s string) []byte {
			k, ok := keys[s]
			if !ok {
				k = slices.Clone(c.KeyFromString(&buf, s))
				buf.Reset()
				keys[s] = k
			}
			return k
		}
		slices.SortStableFunc(items, func(a, b T) int {
			return bytes.Compare(sortKey(key(a)), sortKey(key(b)))
		})
	})
}

// SortKey returns a byte string whose byte order is the order of s in the
// language lang, without regard to case: bytes.Compare(SortKey(l, a),
// SortKey(l, b)) orders a and b as Sort does. Stored in a column, it lets a
// database sort names the way the language expects with a plain byte
// comparison and an ordinary index. An unusable lang sorts as English.
// It is safe for concurrent use.
func SortKey(lang, s string) []byte {
	var key []byte
	withCollator(lang, func(c *collate.Collator) {
		buf := collateBuffers.Get().(*collate.Buffer)
		defer collateBuffers.Put(buf)
		key = slices.Clone(c.KeyFromString(buf, s))
		buf.Reset()
	})
	return key
}

// collateBuffers are the buffers SortKey and SortKeyParts make keys in:
// a collate.Buffer holds 4 KB, a new one for each key was most of what a
// customer's sort key allocated. Each key is copied out and the buffer
// reset before it goes back.
var collateBuffers = sync.Pool{New: func() any { return new(collate.Buffer) }}

// SortKeyParts is SortKey for text made of parts compared one after the
// other, such as a last name and a first name: the first part decides at
// every level of the collation (letters, then accents, then the rest)
// before the second is looked at, so that in German "Muller, Zoë" sorts
// before "Müller, Anna" and all the Müllers stay together. Empty parts
// are compared too (they sort first).
// It is safe for concurrent use.
//
// The key is made to be stored (a customer's sort key, in a column and an
// index), so it is compact: see appendPartKey.
func SortKeyParts(lang string, parts ...string) []byte {
	var key []byte
	withCollator(lang, func(c *collate.Collator) {
		buf := collateBuffers.Get().(*collate.Buffer)
		defer collateBuffers.Put(buf)
		for _, p := range parts {
			key = appendPartKey(key, c.KeyFromString(buf, p))
			buf.Reset()
		}
	})
	return key
}

// appendPartKey appends to key the part whose collation key is k, in an
// encoding whose byte order is the order of the collation keys, with a
// part that is a prefix of another first.
//
// A case-blind collation key is the primary weights (two bytes each, three
// when the first has its high bit set), 0x00 0x00, then the secondary
// weights (accents), two bytes each. Nearly every secondary weight is below
// 0xEF (a letter without an accent has 0x20), so they take one byte each
// here instead of two, and the markers take two bytes instead of the five
// that escaping the raw key cost: a part is
//
//	escaped primary weights, 0x00 0x01, secondary weights, 0x00 0x00
//
// The primary bytes are escaped (0x00 -> 0x01 0x01, 0x01 -> 0x01 0x02) and
// every secondary byte is at least 0x01, so a marker (0x00 ...) sorts
// before any weight: a part whose letters or accents end first sorts
// first, as with the raw keys. A secondary weight w below 0xEF is the byte
// w+1; a larger one is three bytes, 0xF0 + w>>12, then 1 + the next six
// bits and 1 + the last six, which sort above every one-byte weight and
// among themselves as w. TestSortKeyPartsOrder holds the order to the raw
// keys' on random names.
func appendPartKey(key, k []byte) []byte {
	sep := len(k) // where the primary weights end
	for i := 0; i+1 < len(k); {
		if k[i] == 0 && k[i+1] == 0 {
			sep = i
			break
		}
		if k[i]&0x80 != 0 {
			i += 3
		} else {
			i += 2
		}
	}
	for _, b := range k[:sep] {
		switch b {
		case 0x00, 0x01:
			key = append(key, 0x01, b+1)
		default:
			key = append(key, b)
		}
	}
	key = append(key, 0x00, 0x01)
	if sep+2 <= len(k) {
		sec := k[sep+2:]
		for i := 0; i < len(sec); i += 2 {
			w := int(sec[i]) << 8
			if i+1 < len(sec) {
				w |= int(sec[i+1])
			}
			if w < 0xEF {
				key = append(key, byte(w+1))
			} else {
				key = append(key, byte(0xF0+w>>12), byte(1+(w>>6)&0x3F), byte(1+w&0x3F))
			}
		}
	}
	return append(key, 0x00, 0x00)
}
