package httpapi

import (
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/dossiercrm/dossier/crm"
)

// TestMayMismatchCase: the scan of member names never passes a body in
// which the full check (caseMismatches) finds a member in the wrong case,
// on bodies made of a customer's member names in random case, nested
// objects, custom fields, names in string values and escapes; and it
// passes a customer's body as clients send it.
func TestMayMismatchCase(t *testing.T) {
	typ := reflect.TypeFor[crm.CustomerFields]()
	names := memberNames(typ)
	if names["lastname"] != "lastName" || names["city"] != "city" || names["number"] != "number" {
		t.Fatalf("member names %v", names)
	}
	plain := `{"firstName": "Anna", "lastName": "de Vries", "email": "anna@example.org",
		"phones": [{"kind": "mobile", "number": "+31612345678"}], "address": {"street": "Dorpsstraat", "city": "Köln"},
		"customFields": {"shoe size": 42}, "remarks": "lastname: \"City\""}`
	if mayMismatchCase([]byte(plain), names) {
		t.Errorf("a body in the API's case needs the full check: %s", plain)
	}

	words := []string{"firstName", "lastName", "email", "phones", "kind", "number", "address", "city", "street",
		"customFields", "remarks", "noPost", "other"}
	r := rand.New(rand.NewPCG(5, 9))
	recase := func(s string) string {
		if r.IntN(4) > 0 {
			return s
		}
		b := []byte(s)
		i := r.IntN(len(b))
		if b[i] >= 'a' && b[i] <= 'z' {
			b[i] -= 'a' - 'A'
		} else if b[i] >= 'A' && b[i] <= 'Z' {
			b[i] += 'a' - 'A'
		}
		return string(b)
	}
	var value func(depth int) any
	value = func(depth int) any {
		switch r.IntN(5) {
		case 0:
			if depth < 3 {
				obj := map[string]any{}
				for range r.IntN(4) {
					obj[recase(words[r.IntN(len(words))])] = value(depth + 1)
				}
				return obj
			}
		case 1:
			if depth < 3 {
				return []any{value(depth + 1), value(depth + 1)}
			}
		case 2:
			return recase(words[r.IntN(len(words))]) + `": "` // a name inside a value
		}
		return r.IntN(100)
	}
	for range 5000 {
		doc := map[string]any{}
		for range 1 + r.IntN(6) {
			doc[recase(words[r.IntN(len(words))])] = value(0)
		}
		data, err := json.Marshal(doc)
		if err != nil {
			t.Fatal(err)
		}
		if r.IntN(5) == 0 { // spaces before the colon, as some clients write
			data = []byte(strings.ReplaceAll(string(data), `":`, `" :`))
		}
		var tree any
		if err := json.Unmarshal(data, &tree); err != nil {
			t.Fatal(err)
		}
		if found := caseMismatches(typ, tree, "", nil); len(found) > 0 && !mayMismatchCase(data, names) {
			t.Fatalf("the scan passed %s, in which the full check finds %v", data, found)
		}
	}
}
