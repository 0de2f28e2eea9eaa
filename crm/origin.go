package crm

import (
	"context"
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"time"
)

// OriginKind says who set a customer field's value.
type OriginKind string

// The origins of a field's value, weakest first: a write may replace a
// value of its own kind or a weaker one (see MayReplace).
const (
	// OriginInteraction: an interaction (reservation, form, connected
	// tool) from the source FieldOrigin.Source.
	OriginInteraction OriginKind = "interaction"
	// OriginImport: a file import (FieldOrigin.Source names it).
	OriginImport OriginKind = "import"
	// OriginStaff: a person through Customers.Create or Update (staff, or a
	// program with an API key editing the record). A field without a
	// recorded origin was set this way.
	OriginStaff OriginKind = "staff"
)

func (k OriginKind) rank() int {
	switch k {
	case OriginInteraction:
		return 0
	case OriginImport:
		return 1
	}
	return 2 // staff, and anything unknown is treated as staff
}

// FieldOrigin says where a customer field's value came from and when.
// Field is the field's JSON name, nested fields joined with a dot
// ("firstName", "address.city", "customFields.shoeSize", "phones").
type FieldOrigin struct {
	Field  string     `json:"field"`
	Kind   OriginKind `json:"kind"`
	Source string     `json:"source,omitempty"`
	At     time.Time  `json:"at"`
}

// FieldOriginStore keeps where each customer field's value came from.
type FieldOriginStore interface {
	// FieldOriginList returns the recorded origins of the customer's fields.
	FieldOriginList(ctx context.Context, orgID, customerID string) ([]FieldOrigin, error)
	// FieldOriginSet records origins, replacing those of the same fields.
	FieldOriginSet(ctx context.Context, orgID, customerID string, origins []FieldOrigin) error
}

// MayReplace is the field-origin rule for a field that holds a value: a
// write of kind by may replace it when the value's origin is of the same
// kind or weaker (interaction < import < staff). known is false for a
// field without a recorded origin, which counts as staff. An empty field
// may always be filled (MergeFields does not ask).
//
//	value set by →   interaction   import   staff
//	interaction      refresh       keep     keep
//	import           refresh       refresh  keep
//	staff            replace       replace  replace
func MayReplace(current FieldOrigin, known bool, by OriginKind) bool {
	if !known {
		return by.rank() >= OriginStaff.rank()
	}
	return by.rank() >= current.Kind.rank()
}

// Fields that MergeFields never takes from an incoming record: the contact
// flags are the consent log's word (an incoming record gives consents),
// and what only staff decide.
var mergeSkipped = map[string]bool{
	"noPost": true, "noMailings": true, "internalDescription": true, "assignedTo": true,
}

// MergeFields applies the field-origin rule to an incoming record of kind
// by: it returns current with the incoming values it may take, and the
// names of the fields it set (to record as by's origin). current nil means
// a new customer: every incoming value is taken.
//
// Per field (names as in FieldOrigin): an empty incoming value changes
// nothing; an empty current value is filled; a value equal to the
// incoming one stays (its origin too); otherwise the incoming value
// replaces the current one when MayReplace allows. Lists only grow:
// phone numbers and alternative e-mails the customer does not have are
// added. An e-mail that may not replace the correspondence address (or
// that replaces one) is kept as an alternative address, so that it
// matches next time and nothing is lost. The first-contact date becomes
// the earlier of the two. The contact flags, the internal description and
// the assigned staff member are never taken.
//
// The fields must be normalised already (e-mail trimmed, phones in E.164:
// what CustomerService's validation gives).
func MergeFields(current *CustomerFields, origins map[string]FieldOrigin, incoming *CustomerFields, by OriginKind) (CustomerFields, []string) {
	if current == nil {
		set := createdSet(flatFields(incoming))
		out := *incoming
		out.NoPost, out.NoMailings, out.InternalDescription, out.AssignedTo = false, false, "", ""
		return out, set
	}
	may := func(field string) bool {
		o, known := origins[field]
		return MayReplace(o, known, by)
	}
	cur, in := flatFields(current), flatFields(incoming)
	var set []string
	for field, v := range in {
		switch {
		case mergeSkipped[field], emptyValue(v), field == "phones", field == "altEmails",
			field == "email", field == "loginEmail", field == "firstContact":
			continue
		}
		old, had := cur[field]
		if had && !emptyValue(old) && (reflect.DeepEqual(old, v) || !may(field)) {
			continue
		}
		cur[field] = v
		set = append(set, field)
	}
	out := unflattenFields(cur)
	// The things flatFields does not carry as they are.
	out.NoPost, out.NoMailings = current.NoPost, current.NoMailings
	out.Phones, out.AltEmails = slices.Clone(current.Phones), slices.Clone(current.AltEmails)

	has := func(email string) bool {
		k := EmailKey(email)
		return k == EmailKey(out.Email) || k == EmailKey(out.LoginEmail) ||
			slices.ContainsFunc(out.AltEmails, func(a string) bool { return EmailKey(a) == k })
	}
	addAlt := func(email string) bool {
		if email == "" || has(email) {
			return false
		}
		out.AltEmails = append(out.AltEmails, email)
		return true
	}
	altAdded := false
	if in := incoming.LoginEmail; in != "" && EmailKey(in) != EmailKey(out.LoginEmail) {
		if out.LoginEmail == "" || may("loginEmail") {
			altAdded = addAlt(out.LoginEmail) || altAdded
			out.LoginEmail = in
			set = append(set, "loginEmail")
			// The address moved from the alternatives to the login.
			out.AltEmails = slices.DeleteFunc(out.AltEmails, func(a string) bool { return EmailKey(a) == EmailKey(in) })
		} else {
			altAdded = addAlt(in) || altAdded
		}
	}
	if in := incoming.Email; in != "" && EmailKey(in) != EmailKey(out.Email) {
		if out.Email == "" || may("email") {
			old := out.Email
			out.Email = in
			out.AltEmails = slices.DeleteFunc(out.AltEmails, func(a string) bool { return EmailKey(a) == EmailKey(in) })
			altAdded = addAlt(old) || altAdded
			set = append(set, "email")
		} else {
			altAdded = addAlt(in) || altAdded
		}
	}
	for _, a := range incoming.AltEmails {
		altAdded = addAlt(a) || altAdded
	}
	if altAdded {
		set = append(set, "altEmails")
	}
	phonesAdded := false
	for _, p := range incoming.Phones {
		if p.Number != "" && !slices.ContainsFunc(out.Phones, func(q Phone) bool { return q.Number == p.Number }) {
			out.Phones = append(out.Phones, p)
			phonesAdded = true
		}
	}
	if phonesAdded {
		set = append(set, "phones")
	}
	if incoming.FirstContact != nil && (out.FirstContact == nil || incoming.FirstContact.Before(*out.FirstContact)) {
		d := *incoming.FirstContact
		out.FirstContact = &d
		set = append(set, "firstContact")
	}
	slices.Sort(set)
	return out, set
}

// createdSet is the set of fields MergeFields gives for a new customer,
// from its flatFields: those it has a value for.
func createdSet(flat map[string]any) []string {
	var set []string
	for field, v := range flat {
		if !mergeSkipped[field] && !emptyValue(v) {
			set = append(set, field)
		}
	}
	slices.Sort(set)
	return set
}

// emptyValue reports whether a flattened field value is empty.
func emptyValue(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case string:
		return strings.TrimSpace(x) == ""
	case bool:
		return !x
	case []any:
		return len(x) == 0
	case map[string]any:
		return len(x) == 0
	}
	return false
}

// unflattenFields is the inverse of flatFields.
func unflattenFields(m map[string]any) CustomerFields {
	nested := map[string]any{}
	for k, v := range m {
		nested[k] = v
	}
	for _, prefix := range []string{"address", "customFields"} {
		sub := map[string]any{}
		for k, v := range m {
			if rest, ok := strings.CutPrefix(k, prefix+"."); ok {
				sub[rest] = v
				delete(nested, k)
			}
		}
		if len(sub) > 0 {
			nested[prefix] = sub
		}
	}
	b, err := json.Marshal(nested)
	if err != nil {
		panic("crm: customer fields do not marshal: " + err.Error())
	}
	var f CustomerFields
	if err := json.Unmarshal(b, &f); err != nil {
		panic("crm: customer fields do not unmarshal: " + err.Error())
	}
	return f
}

// originsOf returns the recorded origins of a customer by field.
func originsOf(list []FieldOrigin) map[string]FieldOrigin {
	m := make(map[string]FieldOrigin, len(list))
	for _, o := range list {
		m[o.Field] = o
	}
	return m
}

// staffOrigins records that staff set the fields of changes: a later
// interaction or import keeps them (MayReplace).
func staffOrigins(ctx context.Context, st FieldOriginStore, sc scope, customerID string, changes []FieldChange, at time.Time) error {
	if len(changes) == 0 {
		return nil
	}
	origins := make([]FieldOrigin, 0, len(changes))
	for _, c := range changes {
		if mergeSkipped[c.Field] {
			continue
		}
		origins = append(origins, FieldOrigin{Field: c.Field, Kind: OriginStaff, Source: sc.actor.String(), At: at})
	}
	if len(origins) == 0 {
		return nil
	}
	return st.FieldOriginSet(ctx, sc.org, customerID, origins)
}

// NewOrigins returns the origins to record (FieldOriginStore.FieldOriginSet)
// for the fields MergeFields set from one record of kind from source.
func NewOrigins(fields []string, kind OriginKind, source string, at time.Time) []FieldOrigin {
	out := make([]FieldOrigin, len(fields))
	for i, f := range fields {
		out[i] = FieldOrigin{Field: f, Kind: kind, Source: source, At: at}
	}
	return out
}
