package crm

import (
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Text rules. Every text the library accepts, whatever service takes it,
// passes one check before anything else looks at it (see checkText):
//
//   - It must be valid UTF-8. Overlong forms ("\xc0\xaf") and encoded
//     surrogates ("\xed\xa0\x80") are invalid UTF-8 too. Code "utf8".
//   - It must hold no control characters: no NUL, nothing else of C0
//     (U+0000..U+001F), no DEL (U+007F), nothing of C1 (U+0080..U+009F).
//     Free-text fields (remarks, descriptions, notes, mail bodies, consent
//     wordings: the fields tagged text:"multiline") may hold tab and line
//     feed; a carriage return there is read as a line break, so "\r\n" and
//     "\r" become "\n". Code "control".
//   - It is stored in Unicode normalisation form C (NFC): "é" written as
//     U+0065 U+0301 is stored, searched and compared as U+00E9, so two
//     spellings that look the same are the same value (unique login e-mail
//     addresses, tag names, search keys).
//
// Dates (Date) must lie between 0001-01-01 and 9999-12-31 and exist; times
// (time.Time) that are set must lie in the years 1 to 9999. Code "dateRange"
// (or "date" for a Date that does not exist, such as February 30).

// textTag is the struct tag that marks a free-text field (`text:"multiline"`)
// or a field the text check leaves alone (`text:"-"`, for values the
// library never stores or compares as text).
const textTag = "text"

var (
	dateType = reflect.TypeFor[Date]()
	timeType = reflect.TypeFor[time.Time]()
)

// cleanText checks one text and returns it in NFC, or the code of the rule
// it breaks ("utf8", "control"). multiline allows tab and line breaks.
func cleanText(s string, multiline bool) (string, string) {
	// Fast path: printable ASCII is valid and already in NFC.
	i := 0
	for ; i < len(s); i++ {
		b := s[i]
		if b < 0x20 || b >= 0x7f {
			if multiline && (b == '\t' || b == '\n') {
				continue
			}
			break
		}
	}
	if i == len(s) {
		return s, ""
	}
	crs := false
	for j := i; j < len(s); {
		r, size := utf8.DecodeRuneInString(s[j:])
		switch {
		case r == utf8.RuneError && size <= 1:
			return s, "utf8"
		case r == '\r' && multiline:
			crs = true
		case r == '\t' || r == '\n':
			if !multiline {
				return s, "control"
			}
		case r < 0x20 || (r >= 0x7f && r <= 0x9f):
			return s, "control"
		}
		j += size
	}
	if crs {
		s = strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\r", "\n")
	}
	return norm.NFC.String(s), ""
}

// checkText checks and normalises every text, date and time in the value
// ptr points to (a struct, a string, a slice or a map), by the rules
// above. Fields are named by their JSON names under prefix, the way the
// validator names them ("address.street", "phones[1].number",
// "customFields.note", "filter.tags.any[0]"). Normalised values are written
// into *ptr; slices, maps and pointed-to values are copied before they are
// changed, so that the caller's data is never written to.
func (v *validation) checkText(prefix string, ptr any) {
	rv := reflect.ValueOf(ptr)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return
	}
	w := textWalker{v: v, path: make([]pathElem, 0, 8)}
	if prefix != "" {
		w.path = append(w.path, pathElem{name: prefix})
	}
	if nv, changed := w.walk(rv.Elem(), false); changed {
		rv.Elem().Set(nv)
	}
}

// checkString is checkText for one single-line text named field.
func (v *validation) checkString(field string, s *string) {
	clean, code := cleanText(*s, false)
	if code != "" {
		v.add(field, code, "")
		return
	}
	*s = clean
}

// textWalker walks a value by reflection. path holds the JSON names down to
// the current value; it is joined only when a rule fails.
type textWalker struct {
	v    *validation
	path []pathElem
}

// pathElem is a member name, or an index when name is empty and index >= 0.
type pathElem struct {
	name  string
	index int
}

func (w *textWalker) fail(code string) {
	var b strings.Builder
	for _, p := range w.path {
		switch {
		case p.name != "":
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(p.name)
		case p.index >= 0:
			b.WriteString("[" + strconv.Itoa(p.index) + "]")
		}
	}
	w.v.add(b.String(), code, "")
}

// walk checks rv and returns its normalised replacement when it differs.
func (w *textWalker) walk(rv reflect.Value, multiline bool) (reflect.Value, bool) {
	switch rv.Kind() {
	case reflect.String:
		clean, code := cleanText(rv.String(), multiline)
		if code != "" {
			w.fail(code)
			return rv, false
		}
		if clean == rv.String() {
			return rv, false
		}
		return reflect.ValueOf(clean).Convert(rv.Type()), true
	case reflect.Pointer:
		if rv.IsNil() {
			return rv, false
		}
		nv, changed := w.walk(rv.Elem(), multiline)
		if !changed {
			return rv, false
		}
		p := reflect.New(rv.Type().Elem())
		p.Elem().Set(nv)
		return p, true
	case reflect.Interface:
		if rv.IsNil() {
			return rv, false
		}
		nv, changed := w.walk(rv.Elem(), multiline)
		if !changed {
			return rv, false
		}
		out := reflect.New(rv.Type()).Elem()
		out.Set(nv)
		return out, true
	case reflect.Struct:
		return w.walkStruct(rv, multiline)
	case reflect.Slice, reflect.Array:
		if rv.Kind() == reflect.Slice && rv.Type().Elem().Kind() == reflect.Uint8 {
			return rv, false // bytes, not text
		}
		var out reflect.Value
		for i := range rv.Len() {
			w.path = append(w.path, pathElem{index: i})
			nv, changed := w.walk(rv.Index(i), multiline)
			w.path = w.path[:len(w.path)-1]
			if !changed {
				continue
			}
			if !out.IsValid() {
				if rv.Kind() == reflect.Slice {
					out = reflect.MakeSlice(rv.Type(), rv.Len(), rv.Len())
				} else {
					out = reflect.New(rv.Type()).Elem()
				}
				reflect.Copy(out, rv)
			}
			out.Index(i).Set(nv)
		}
		return out, out.IsValid()
	case reflect.Map:
		if rv.Type().Key().Kind() != reflect.String || rv.Len() == 0 {
			return rv, false
		}
		var changedKeys, changedValues [][2]reflect.Value
		var drop []reflect.Value
		for iter := rv.MapRange(); iter.Next(); {
			k, val := iter.Key(), iter.Value()
			w.path = append(w.path, pathElem{name: k.String()})
			clean, code := cleanText(k.String(), false)
			if code != "" {
				w.path[len(w.path)-1] = pathElem{index: -1} // the key itself cannot be written out
				w.fail(code)
				w.path = w.path[:len(w.path)-1]
				continue
			}
			nv, changed := w.walk(val, multiline)
			w.path = w.path[:len(w.path)-1]
			switch {
			case clean != k.String():
				drop = append(drop, k)
				changedKeys = append(changedKeys, [2]reflect.Value{reflect.ValueOf(clean).Convert(k.Type()), nv})
			case changed:
				changedValues = append(changedValues, [2]reflect.Value{k, nv})
			}
		}
		if len(changedKeys) == 0 && len(changedValues) == 0 {
			return rv, false
		}
		out := reflect.MakeMapWithSize(rv.Type(), rv.Len())
		for iter := rv.MapRange(); iter.Next(); {
			out.SetMapIndex(iter.Key(), iter.Value())
		}
		for _, k := range drop {
			out.SetMapIndex(k, reflect.Value{})
		}
		for _, kv := range append(changedValues, changedKeys...) {
			out.SetMapIndex(kv[0], kv[1])
		}
		return out, true
	}
	return rv, false
}

func (w *textWalker) walkStruct(rv reflect.Value, multiline bool) (reflect.Value, bool) {
	switch rv.Type() {
	case dateType:
		d := Date{Year: int(rv.Field(0).Int()), Month: time.Month(rv.Field(1).Int()), Day: int(rv.Field(2).Int())}
		if code := validDate(d); code != "" {
			w.fail(code)
		}
		return rv, false
	case timeType:
		if t := rv.Interface().(time.Time); !t.IsZero() && (t.Year() < 1 || t.Year() > 9999) {
			w.fail("dateRange")
		}
		return rv, false
	}
	var out reflect.Value
	for _, f := range textFieldsOf(rv.Type()) {
		if f.name != "" {
			w.path = append(w.path, pathElem{name: f.name})
		}
		nv, changed := w.walk(rv.Field(f.index), multiline || f.multiline)
		if f.name != "" {
			w.path = w.path[:len(w.path)-1]
		}
		if !changed {
			continue
		}
		if !out.IsValid() {
			out = reflect.New(rv.Type()).Elem()
			out.Set(rv)
		}
		out.Field(f.index).Set(nv)
	}
	return out, out.IsValid()
}

// textField is a struct field the text check visits: one that can hold
// text, a date or a time.
type textField struct {
	index     int
	name      string // the JSON name; empty for an embedded struct
	multiline bool
}

// textFieldCache maps a struct type to its []textField: reading struct
// tags on every call would cost more than the check itself.
var textFieldCache sync.Map

func textFieldsOf(t reflect.Type) []textField {
	if fs, ok := textFieldCache.Load(t); ok {
		return fs.([]textField)
	}
	var fs []textField
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get(textTag)
		if !f.IsExported() || tag == "-" || !mayHoldText(f.Type, map[reflect.Type]bool{}) {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch {
		case name == "-":
			continue
		case name == "" && f.Anonymous:
			// an embedded struct's fields are the outer JSON object's
		case name == "":
			name = f.Name
		}
		fs = append(fs, textField{index: i, name: name, multiline: tag == "multiline"})
	}
	textFieldCache.Store(t, fs)
	return fs
}

// mayHoldText reports whether a value of type t can hold a string, a Date
// or a time.Time.
func mayHoldText(t reflect.Type, seen map[reflect.Type]bool) bool {
	if seen[t] {
		return false
	}
	seen[t] = true
	switch t.Kind() {
	case reflect.String, reflect.Interface:
		return true
	case reflect.Pointer, reflect.Slice, reflect.Array:
		return t.Elem().Kind() != reflect.Uint8 && mayHoldText(t.Elem(), seen)
	case reflect.Map:
		return t.Key().Kind() == reflect.String || mayHoldText(t.Elem(), seen)
	case reflect.Struct:
		if t == dateType || t == timeType {
			return true
		}
		for i := range t.NumField() {
			if f := t.Field(i); f.IsExported() && mayHoldText(f.Type, seen) {
				return true
			}
		}
	}
	return false
}
