package crm

import (
	"encoding/base64"
	"encoding/json"
	"strconv"
)

// DefaultPageLimit is the page size when a PageRequest leaves Limit at zero.
const DefaultPageLimit = 50

// MaxPageLimit is the largest page a list call returns.
const MaxPageLimit = 500

// PageRequest asks for one page of a list. Lists use keyset pagination: the
// cursor is an opaque position taken from the previous page's Next, so pages
// neither skip nor repeat rows when rows are added between calls.
type PageRequest struct {
	// Cursor is the previous page's Next; empty for the first page.
	Cursor string
	// Limit is the page size, 1 to MaxPageLimit; zero means DefaultPageLimit.
	Limit int
}

// Page is one page of a list.
type Page[T any] struct {
	Items []T `json:"items"`
	// Next is the cursor of the following page; empty on the last page.
	Next string `json:"next,omitempty"`
}

// cursor is the keyset position behind the opaque cursor string.
type cursor struct {
	Sort   string `json:"s,omitempty"` // the order the cursor belongs to
	Number int64  `json:"n,omitempty"` // customer number
	Key    []byte `json:"k,omitempty"` // sort key
	Time   int64  `json:"t,omitempty"` // unix microseconds
	ID     string `json:"i,omitempty"`
}

func (c cursor) encode() string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s string) (cursor, bool) {
	var c cursor
	if s == "" {
		return c, true
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || json.Unmarshal(b, &c) != nil {
		return c, false
	}
	return c, true
}

// limit validates and defaults the page size.
func (p PageRequest) limit(v *validation) int {
	switch {
	case p.Limit == 0:
		return DefaultPageLimit
	case p.Limit < 0 || p.Limit > MaxPageLimit:
		v.add("limit", "limit", strconv.Itoa(MaxPageLimit))
	}
	return p.Limit
}

// nonNil returns s, or an empty slice for nil, so that a list without
// items is written as [] rather than null.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
