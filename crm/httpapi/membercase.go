package httpapi

import (
	"bytes"
	"context"
	"encoding"
	"encoding/json"
	"io"
	"maps"
	"mime"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"
)

// JSON members whose names match a field only without regard to case
// ("lastname" for "lastName") are accepted by encoding/json, and by huma's
// schema check unless its process-wide ValidateStrictCasing is set. This
// API refuses them (a client's typo must be an error, not a guess) without
// touching that switch: its middleware checkMemberCase reads a JSON body
// before huma does and records such members, and the API names them with
// every other failing field (problemTransformer) or, when the schema check
// passed, before the handler runs. Being this API's own middleware, the
// rule holds for this API only, not for other huma APIs of a program that
// embeds it.

// checkMemberCase is the middleware that finds the members of a JSON body
// that differ from a field of the operation's body only in case.
func (s *server) checkMemberCase(ctx huma.Context, next func(huma.Context)) {
	body, ok := s.bodyTypes[ctx.Operation().OperationID]
	t := body.t
	info := requestInfoFrom(ctx.Context())
	mediaType, _, _ := mime.ParseMediaType(ctx.Header("Content-Type"))
	if !ok || info == nil || (mediaType != "application/json" && !strings.HasSuffix(mediaType, "+json")) {
		next(ctx)
		return
	}
	r, _ := humago.Unwrap(ctx)
	data, err := io.ReadAll(r.Body) // bounded by limitBody
	var rest io.Reader = bytes.NewReader(data)
	if err != nil {
		rest = io.MultiReader(rest, errorReader{err}) // huma answers the error (413) as before
	} else if mayMismatchCase(data, body.names) {
		var doc any
		if json.Unmarshal(data, &doc) == nil {
			info.invalid = append(info.invalid, caseProblems(ctx.Context(), caseMismatches(t, doc, "", nil))...)
		}
	}
	r.Body = io.NopCloser(rest)
	next(ctx)
}

type errorReader struct{ err error }

func (e errorReader) Read([]byte) (int, error) { return 0, e.err }

// bodyType is the Go type of an operation's JSON body and the member names
// of every struct in it (memberNames).
type bodyType struct {
	t     reflect.Type
	names map[string]string
}

// memberNames returns the JSON member names of every struct reachable
// from t (through pointers, slices, arrays and map values, down to types
// that decode themselves), by their lower case: the name, or "" when
// structs of t spell the same name in more than one way. The names are
// Go identifiers or tags, in ASCII.
func memberNames(t reflect.Type) map[string]string {
	names := map[string]string{}
	seen := map[reflect.Type]bool{}
	var walk func(t reflect.Type)
	walk = func(t reflect.Type) {
		for t.Kind() == reflect.Pointer {
			if t.Implements(jsonUnmarshalerType) || t.Implements(textUnmarshalerType) {
				return
			}
			t = t.Elem()
		}
		if seen[t] || reflect.PointerTo(t).Implements(jsonUnmarshalerType) || reflect.PointerTo(t).Implements(textUnmarshalerType) {
			return
		}
		seen[t] = true
		switch t.Kind() {
		case reflect.Struct:
			for name, ft := range jsonFields(t) {
				lower := strings.ToLower(name)
				if have, ok := names[lower]; ok && have != name {
					names[lower] = ""
				} else {
					names[lower] = name
				}
				walk(ft)
			}
		case reflect.Map, reflect.Slice, reflect.Array:
			walk(t.Elem())
		}
	}
	walk(t)
	return names
}

// mayMismatchCase reports whether the JSON document data may hold a member
// that caseMismatches names: one whose name is a member name of the body's
// structs in other letter case. Most bodies have none, and a scan of their
// member names spares decoding them into a tree (a write's body was
// decoded three times). A name with an escape or a letter beyond ASCII in
// it is looked at closely whatever it is.
func mayMismatchCase(data []byte, names map[string]string) bool {
	for i := 0; i < len(data); i++ {
		if data[i] != '"' {
			continue
		}
		start, escaped := i+1, false
		for i++; i < len(data) && data[i] != '"'; i++ {
			if data[i] == '\\' {
				escaped = true
				i++
			}
		}
		if i >= len(data) {
			return true // not JSON: the decoder says so
		}
		name := data[start:i]
		j := i + 1
		for j < len(data) && (data[j] == ' ' || data[j] == '\t' || data[j] == '\n' || data[j] == '\r') {
			j++
		}
		if j >= len(data) || data[j] != ':' {
			continue // a value, not a member name
		}
		if escaped || !isASCII(name) {
			return true // looked at closely: escapes, and letters that fold in ways lower case does not show
		}
		if exact, ok := names[strings.ToLower(string(name))]; ok && exact != string(name) {
			return true
		}
	}
	return false
}

func isASCII(b []byte) bool {
	for _, c := range b {
		if c >= 0x80 {
			return false
		}
	}
	return true
}

// caseProblems are the fields for members that differ from a field only in case.
func caseProblems(ctx context.Context, paths []string) []ProblemField {
	out := make([]ProblemField, 0, len(paths))
	for _, p := range paths {
		out = append(out, ProblemField{Location: "body." + p, Field: p, Code: "unknownMember",
			Message: p + " " + messageFor(ctx, "unknownMember", "")})
	}
	return out
}

var (
	jsonUnmarshalerType = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// caseMismatches appends to out the paths of the members of doc that
// would reach a field of t only without regard to case, in order.
func caseMismatches(t reflect.Type, doc any, path string, out []string) []string {
	for t.Kind() == reflect.Pointer {
		if t.Implements(jsonUnmarshalerType) || t.Implements(textUnmarshalerType) {
			return out // decodes itself
		}
		t = t.Elem()
	}
	if reflect.PointerTo(t).Implements(jsonUnmarshalerType) || reflect.PointerTo(t).Implements(textUnmarshalerType) {
		return out
	}
	switch t.Kind() {
	case reflect.Struct:
		obj, ok := doc.(map[string]any)
		if !ok {
			return out
		}
		fields := jsonFields(t)
		for _, name := range slices.Sorted(maps.Keys(obj)) {
			ft, exact := fields[name]
			if !exact {
				for fname := range fields {
					if strings.EqualFold(fname, name) {
						out = append(out, join(path, name))
						break
					}
				}
				continue // unknown: the schema check names it
			}
			out = caseMismatches(ft, obj[name], join(path, name), out)
		}
	case reflect.Map:
		if obj, ok := doc.(map[string]any); ok {
			for _, name := range slices.Sorted(maps.Keys(obj)) {
				out = caseMismatches(t.Elem(), obj[name], join(path, name), out)
			}
		}
	case reflect.Slice, reflect.Array:
		if arr, ok := doc.([]any); ok {
			for i, value := range arr {
				out = caseMismatches(t.Elem(), value, path+"["+strconv.Itoa(i)+"]", out)
			}
		}
	}
	return out
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// jsonFields returns the JSON member names of struct t and their types,
// with the fields of embedded structs as encoding/json promotes them.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			et := f.Type
			if et.Kind() == reflect.Pointer {
				et = et.Elem()
			}
			if et.Kind() == reflect.Struct {
				for n, ft := range jsonFields(et) {
					if _, ok := out[n]; !ok {
						out[n] = ft
					}
				}
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out[name] = f.Type
	}
	return out
}
