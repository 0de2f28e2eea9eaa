package httpapi

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"

	"github.com/dossiercrm/dossier/crm"
)

// checkBodyText is the middleware that refuses a JSON body whose strings
// are not valid UTF-8 (raw bytes such as \xff or the overlong \xc0\xaf) or
// hold a lone surrogate escape ("\ud800"). JSON decoding would turn both
// into U+FFFD silently, so the library, which refuses invalid text itself,
// would never see them: the raw bytes are checked here, before decoding.
// The answer is the library's own: 422 naming the member (code "utf8"),
// or "body" when the member cannot be told.
func (s *server) checkBodyText(ctx huma.Context, next func(huma.Context)) {
	r, _ := humago.Unwrap(ctx)
	ct := r.Header.Get("Content-Type")
	if r.Body == nil || r.Body == http.NoBody || (ct != "" && !strings.Contains(ct, "json")) {
		next(ctx)
		return
	}
	body, err := io.ReadAll(r.Body)
	rest := io.Reader(bytes.NewReader(body))
	if err != nil { // over the limit: let the body parser report it as it does
		rest = io.MultiReader(rest, errReader{err})
	}
	r.Body = io.NopCloser(rest)
	if err == nil {
		if member, bad := invalidJSONText(body); bad {
			verr := &crm.ValidationError{Fields: []crm.FieldError{{
				Field: member, Code: "utf8",
				Message: strings.TrimSpace(member + " " + messageFor(ctx.Context(), "utf8", "")),
			}}}
			s.writeHumaProblem(ctx, problemFor(ctx.Context(), s.log, fieldLocator{fallback: "body"}, verr).(*Problem))
			return
		}
	}
	next(ctx)
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// invalidJSONText reports whether a string in the JSON document body holds
// invalid UTF-8 or a lone surrogate escape, and the path of the member
// ("lastName", "phones[1].number"; "" when it cannot be told).
func invalidJSONText(body []byte) (string, bool) {
	if utf8.Valid(body) && !bytes.Contains(body, []byte(`\ud`)) && !bytes.Contains(body, []byte(`\uD`)) {
		return "", false // the common case: nothing to look for
	}
	type frame struct {
		obj       bool
		expectKey bool
		key       string
		idx       int
	}
	var stack []frame
	path := func() string {
		var b strings.Builder
		for _, f := range stack {
			if f.obj {
				if b.Len() > 0 {
					b.WriteByte('.')
				}
				b.WriteString(f.key)
			} else {
				b.WriteString("[" + strconv.Itoa(f.idx) + "]")
			}
		}
		return b.String()
	}
	beforeValue := func() {
		if n := len(stack); n > 0 && !stack[n-1].obj {
			stack[n-1].idx++
		}
	}
	afterValue := func() {
		if n := len(stack); n > 0 && stack[n-1].obj {
			stack[n-1].expectKey = true
		}
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	for {
		start := dec.InputOffset()
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			break // not JSON: the decoder after this one says so
		}
		raw := body[start:dec.InputOffset()]
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{', '[':
				beforeValue()
				stack = append(stack, frame{obj: t == '{', expectKey: true, idx: -1})
			default:
				stack = stack[:len(stack)-1]
				afterValue()
			}
		case string:
			if n := len(stack); n > 0 && stack[n-1].obj && stack[n-1].expectKey {
				stack[n-1].expectKey = false
				if badJSONString(raw) {
					stack = stack[:n-1] // the member's name itself: name the object
					return path(), true
				}
				stack[n-1].key = t
				continue
			}
			beforeValue()
			if badJSONString(raw) {
				return path(), true
			}
			afterValue()
		default:
			beforeValue()
			afterValue()
		}
	}
	// Bad bytes the walk did not place (outside strings, or after a syntax
	// error): the body as a whole.
	if !utf8.Valid(body) || badJSONString(body) {
		return "", true
	}
	return "", false
}

// badJSONString reports whether raw JSON text holds invalid UTF-8 or a
// \u escape of a surrogate that is not part of a high-low pair.
func badJSONString(raw []byte) bool {
	if !utf8.Valid(raw) {
		return true
	}
	for i := 0; i < len(raw); i++ {
		if raw[i] != '\\' || i+1 >= len(raw) {
			continue
		}
		if raw[i+1] != 'u' {
			i++ // an escaped character, perhaps a backslash
			continue
		}
		r, ok := hex4(raw[i+2:])
		if !ok {
			continue
		}
		switch {
		case r >= 0xD800 && r < 0xDC00:
			if i+11 < len(raw) && raw[i+6] == '\\' && raw[i+7] == 'u' {
				if low, ok := hex4(raw[i+8:]); ok && low >= 0xDC00 && low <= 0xDFFF {
					i += 11
					continue
				}
			}
			return true
		case r >= 0xDC00 && r <= 0xDFFF:
			return true
		}
		i += 5
	}
	return false
}

// hex4 reads four hexadecimal digits.
func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	n, err := strconv.ParseUint(string(b[:4]), 16, 32)
	return rune(n), err == nil
}
