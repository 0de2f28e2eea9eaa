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
func SortKeyParts(lang string, parts ...string) []byte {
	var key []byte
	withCollator(lang, func(c *collate.Collator) {
		buf := collateBuffers.Get().(*collate.Buffer)
		defer collateBuffers.Put(buf)
		for _, p := range parts {
			// Each part's key, escaped so that it holds no 0x00 byte, then
			// 0x00: a part that is a prefix of another sorts first, whatever
			// follows it. 0x00 -> 0x01 0x01 and 0x01 -> 0x01 0x02 keep the order.
			for _, b := range c.KeyFromString(buf, p) {
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
