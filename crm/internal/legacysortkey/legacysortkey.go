// Package legacysortkey makes customers' sort keys as they were stored
// before migration 20261130000100 compacted them: each name part's raw
// case-blind collation key, escaped (0x00 -> 0x01 0x01, 0x01 -> 0x01 0x02),
// then 0x00. Tests use it to hold the compact keys to the old order and to
// write databases as they were before the migration.
package legacysortkey

import (
	"golang.org/x/text/collate"
	"golang.org/x/text/language"
)

// Parts returns the legacy key of parts in the language lang (English
// when lang is unusable, as crm/i18n does).
func Parts(lang string, parts ...string) []byte {
	tag, err := language.Parse(lang)
	if err != nil {
		tag = language.English
	}
	c := collate.New(tag, collate.IgnoreCase)
	var buf collate.Buffer
	var key []byte
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
	return key
}
