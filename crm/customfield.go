package crm

import (
	"context"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"
	"time"
)

// FieldType is the type of a custom field's values.
type FieldType string

// The custom field types and the Go values they hold in Customer.CustomFields.
const (
	FieldText   FieldType = "text"   // string
	FieldNumber FieldType = "number" // float64 (JSON number)
	FieldDate   FieldType = "date"   // string "YYYY-MM-DD"
	FieldEmail  FieldType = "email"  // string, a valid address
	FieldPhone  FieldType = "phone"  // string, stored in E.164
	FieldChoice FieldType = "choice" // string, one of the definition's Choices
	FieldBool   FieldType = "bool"   // bool
)

// CustomFieldDefinition is a field an organisation adds to its customer record.
//
// Definitions are archived, never deleted: archiving stops validation and new
// writes for the key, but values customers already hold stay stored and
// visible. A removed definition must not silently lose data staff entered;
// Restore brings the field back with its values, and anonymisation or an
// explicit customer update is what removes values.
type CustomFieldDefinition struct {
	// Key names the field in Customer.CustomFields: a lower-case letter, then
	// lower-case letters, digits and underscores. It never changes.
	Key      string    `json:"key"`
	Label    string    `json:"label"`
	Type     FieldType `json:"type"`
	Choices  []string  `json:"choices,omitempty"`
	Required bool      `json:"required"`
	// Position orders the fields on a form.
	Position   int        `json:"position"`
	ArchivedAt *time.Time `json:"archivedAt,omitempty"`
	CreatedAt  time.Time  `json:"createdAt"`
	UpdatedAt  time.Time  `json:"updatedAt"`
}

// Archived reports whether the definition was archived.
func (d *CustomFieldDefinition) Archived() bool { return d.ArchivedAt != nil }

// NewCustomField is the input of CustomFieldService.Define.
type NewCustomField struct {
	Key      string    `json:"key" validate:"required,max=64"`
	Label    string    `json:"label" validate:"required,max=200"`
	Type     FieldType `json:"type" validate:"required,oneof=text number date email phone choice bool"`
	Choices  []string  `json:"choices" validate:"omitempty,max=200,dive,required,max=200"`
	Required bool      `json:"required"`
	Position int       `json:"position"`
}

// CustomFieldPatch changes a definition; nil fields stay. The type cannot
// change: stored values would no longer match it.
type CustomFieldPatch struct {
	Label    *string   `json:"label" validate:"omitempty,min=1,max=200"`
	Choices  *[]string `json:"choices" validate:"omitempty,max=200,dive,required,max=200"`
	Required *bool     `json:"required"`
	Position *int      `json:"position"`
}

// CustomFieldStore keeps custom field definitions.
type CustomFieldStore interface {
	// CustomFieldInsert stores a new definition; a key in use is ErrConflict.
	CustomFieldInsert(ctx context.Context, orgID string, def *CustomFieldDefinition) error
	// CustomFieldUpdate stores a changed definition or returns ErrNotFound.
	CustomFieldUpdate(ctx context.Context, orgID string, def *CustomFieldDefinition) error
	// CustomFieldList returns every definition, archived ones included, by Position then Key.
	CustomFieldList(ctx context.Context, orgID string) ([]CustomFieldDefinition, error)
	// OrganisationRules returns the organisation and its definitions (as
	// CustomFieldList) as one read, or ErrNotFound: what validating a
	// customer needs, at the price of one statement.
	OrganisationRules(ctx context.Context, orgID string) (*Organisation, []CustomFieldDefinition, error)
}

// CustomFieldService manages the custom fields of the context's organisation.
type CustomFieldService struct{ *core }

var customKeyPattern = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// Define adds a custom field. A key used before, even by an archived
// definition, is ErrConflict: restore that one instead.
func (s *CustomFieldService) Define(ctx context.Context, in NewCustomField) (*CustomFieldDefinition, error) {
	sc, err := s.writeScope(ctx)
	if err != nil {
		return nil, err
	}
	v := newValidation(sc.lang)
	v.checkText("", &in)
	in.Key, in.Label = strings.TrimSpace(in.Key), strings.TrimSpace(in.Label)
	v.addStruct(s.validate, in)
	if in.Key != "" && !v.has("key") && !customKeyPattern.MatchString(in.Key) {
		v.add("key", "key", "")
	}
	checkChoices(v, in.Type, in.Choices)
	if err := v.err(); err != nil {
		return nil, err
	}
	now := s.now()
	def := &CustomFieldDefinition{
		Key: in.Key, Label: in.Label, Type: in.Type, Choices: in.Choices,
		Required: in.Required, Position: in.Position, CreatedAt: now, UpdatedAt: now,
	}
	if err := s.store.CustomFieldInsert(ctx, sc.org, def); err != nil {
		return nil, err
	}
	return def, nil
}

// Update changes the label, choices, required flag or position of a field.
// Making a field required applies to new customers and to updates that
// touch custom fields; customers stored without a value are not rejected
// when staff edit something else.
func (s *CustomFieldService) Update(ctx context.Context, key string, p CustomFieldPatch) (*CustomFieldDefinition, error) {
	return s.change(ctx, key, func(v *validation, def *CustomFieldDefinition) {
		v.checkText("", &p)
		v.addStruct(s.validate, p)
		if p.Label != nil {
			def.Label = strings.TrimSpace(*p.Label)
		}
		if p.Choices != nil {
			def.Choices = *p.Choices
			checkChoices(v, def.Type, def.Choices)
		}
		if p.Required != nil {
			def.Required = *p.Required
		}
		if p.Position != nil {
			def.Position = *p.Position
		}
	})
}

// Archive retires a field: it is no longer shown on forms, validated or
// writable, and stored values stay (see CustomFieldDefinition).
func (s *CustomFieldService) Archive(ctx context.Context, key string) (*CustomFieldDefinition, error) {
	return s.change(ctx, key, func(_ *validation, def *CustomFieldDefinition) {
		if def.ArchivedAt == nil {
			now := s.now()
			def.ArchivedAt = &now
		}
	})
}

// Restore brings an archived field back, with the values customers kept.
func (s *CustomFieldService) Restore(ctx context.Context, key string) (*CustomFieldDefinition, error) {
	return s.change(ctx, key, func(_ *validation, def *CustomFieldDefinition) { def.ArchivedAt = nil })
}

// change loads one definition, applies edit, and stores it in one transaction.
func (s *CustomFieldService) change(ctx context.Context, key string, edit func(*validation, *CustomFieldDefinition)) (*CustomFieldDefinition, error) {
	sc, err := s.writeScope(ctx)
	if err != nil {
		return nil, err
	}
	var def *CustomFieldDefinition
	err = s.store.InTx(ctx, func(tx Store) error {
		defs, err := tx.CustomFieldList(ctx, sc.org)
		if err != nil {
			return err
		}
		i := slices.IndexFunc(defs, func(d CustomFieldDefinition) bool { return d.Key == key })
		if i < 0 {
			return &notFoundError{what: "custom field " + key}
		}
		def = &defs[i]
		v := newValidation(sc.lang)
		edit(v, def)
		if err := v.err(); err != nil {
			return err
		}
		def.UpdatedAt = s.now()
		return tx.CustomFieldUpdate(ctx, sc.org, def)
	})
	if err != nil {
		return nil, err
	}
	return def, nil
}

// List returns the organisation's custom fields in form order; archived ones
// only when includeArchived is set.
func (s *CustomFieldService) List(ctx context.Context, includeArchived bool) ([]CustomFieldDefinition, error) {
	sc, err := readScope(ctx)
	if err != nil {
		return nil, err
	}
	defs, err := s.store.CustomFieldList(ctx, sc.org)
	if err != nil {
		return nil, err
	}
	if !includeArchived {
		defs = slices.DeleteFunc(defs, func(d CustomFieldDefinition) bool { return d.Archived() })
	}
	return defs, nil
}

func checkChoices(v *validation, t FieldType, choices []string) {
	if t == FieldChoice && len(choices) == 0 {
		v.add("choices", "required", "")
	}
	if t != FieldChoice && len(choices) > 0 {
		v.add("choices", "invalid", "")
	}
	seen := map[string]bool{}
	for _, c := range choices {
		if seen[c] {
			v.add("choices", "duplicate", "")
			return
		}
		seen[c] = true
	}
}

// checkCustomFields validates and normalises the custom field values of a
// customer against the organisation's definitions. old holds the values
// stored before (nil on create): an unchanged value of an archived field is
// kept as it is, and a required field may stay missing on customers that
// never had it unless the update touches it.
func checkCustomFields(v *validation, defs []CustomFieldDefinition, values, old map[string]any, creating bool, region string) map[string]any {
	byKey := make(map[string]*CustomFieldDefinition, len(defs))
	for i := range defs {
		byKey[defs[i].Key] = &defs[i]
	}
	out := make(map[string]any, len(values))
	for key, val := range values {
		field := "customFields." + key
		def := byKey[key]
		switch {
		case def == nil:
			v.add(field, "unknown_field", "")
			continue
		case def.Archived():
			if oldVal, had := old[key]; had && fmt.Sprint(oldVal) == fmt.Sprint(val) {
				out[key] = val
			} else {
				v.add(field, "archived", "")
			}
			continue
		}
		if norm, ok := normaliseCustomValue(v, field, def, val, region); ok {
			out[key] = norm
		}
	}
	for i := range defs {
		def := &defs[i]
		if !def.Required || def.Archived() {
			continue
		}
		_, has := out[def.Key]
		_, had := old[def.Key]
		_, touched := values[def.Key]
		if !has && (creating || had || touched) && !v.has("customFields."+def.Key) {
			v.add("customFields."+def.Key, "required", "")
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// normaliseCustomValue checks one value against its definition. Values a
// JSON decoder produces (float64, string, bool) and Go's own numeric types
// are accepted.
func normaliseCustomValue(v *validation, field string, def *CustomFieldDefinition, val any, region string) (any, bool) {
	fail := func(code, param string) (any, bool) { v.add(field, code, param); return nil, false }
	if val == nil {
		return fail("required", "")
	}
	switch def.Type {
	case FieldNumber:
		var f float64
		switch n := val.(type) {
		case float64:
			f = n
		case float32:
			f = float64(n)
		case int:
			f = float64(n)
		case int64:
			f = float64(n)
		case int32:
			f = float64(n)
		default:
			return fail("type", string(def.Type))
		}
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return fail("number", "")
		}
		return f, true
	case FieldBool:
		b, ok := val.(bool)
		if !ok {
			return fail("type", string(def.Type))
		}
		return b, true
	}
	s, ok := val.(string)
	if !ok {
		return fail("type", string(def.Type))
	}
	s = strings.TrimSpace(s)
	if s == "" {
		return fail("required", "")
	}
	switch def.Type {
	case FieldText:
		if len([]rune(s)) > 2000 {
			return fail("max", "2000")
		}
	case FieldDate:
		d, err := ParseDate(s)
		if err != nil {
			return fail("date", "")
		}
		s = d.String()
	case FieldEmail:
		if !validEmail(s) {
			return fail("email", "")
		}
	case FieldPhone:
		e164, ok := parsePhone(s, region)
		if !ok {
			return fail("phone", "")
		}
		s = e164
	case FieldChoice:
		if !slices.Contains(def.Choices, s) {
			return fail("choice", strings.Join(def.Choices, ", "))
		}
	}
	return s, true
}
