package crm

import (
	"encoding/json"
	"reflect"
	"sort"
)

// diffCustomer lists the fields that differ between old and next, in their
// JSON spelling, with address and custom fields compared field by field
// ("address.city", "customFields.shoeSize"). With old nil it lists every
// field next has a value for (the creation event).
func diffCustomer(old, next *Customer) []FieldChange {
	before := map[string]any{}
	if old != nil {
		before = flatFields(&old.CustomerFields)
	}
	return diffFlat(old == nil, before, flatFields(&next.CustomerFields))
}

// diffFlat is diffCustomer of the flatFields of the customer before (none
// when created) and after.
func diffFlat(created bool, before, after map[string]any) []FieldChange {
	var changes []FieldChange
	for field, a := range after {
		if b, ok := before[field]; !ok || !reflect.DeepEqual(a, b) {
			if created && a == false {
				continue // a flag left off at creation is no news
			}
			changes = append(changes, FieldChange{Field: field, Old: before[field], New: a})
		}
	}
	for field, b := range before {
		if _, ok := after[field]; !ok {
			changes = append(changes, FieldChange{Field: field, Old: b})
		}
	}
	sort.Slice(changes, func(i, j int) bool { return changes[i].Field < changes[j].Field })
	return changes
}

// flatFields renders the fields as JSON values (so that they compare and
// store alike whatever Go types they came in), with the nested objects
// address and customFields flattened one level.
func flatFields(f *CustomerFields) map[string]any {
	b, err := json.Marshal(f)
	if err != nil {
		panic("crm: customer fields do not marshal: " + err.Error()) // only plain data in there
	}
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	for _, nested := range []string{"address", "customFields"} {
		if sub, ok := m[nested].(map[string]any); ok {
			for k, v := range sub {
				m[nested+"."+k] = v
			}
		}
		delete(m, nested)
	}
	return m
}
