package crm

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"time"
)

// FormField is one field a form collects, and whether it must be filled.
// Field is one of FormFieldNames, "customFields.<key>" for a custom field
// or "consents.<purpose>" for a consent the form asks for.
type FormField struct {
	Field    string `json:"field" validate:"required,max=80"`
	Required bool   `json:"required"`
}

// FormFieldNames are the fields of an interaction a form can collect,
// besides custom fields and consents.
var FormFieldNames = []string{
	"firstName", "middleName", "lastName", "company", "emails", "phones", "language",
	"address.street", "address.houseNumber", "address.postalCode", "address.city", "address.country",
	"birthDate", "review",
}

// Form is one of the organisation's forms (booking form, contact form,
// newsletter form, ...): which fields it collects and which it requires.
// An interaction that names the form is checked against it.
type Form struct {
	Key  string `json:"key"`
	Name string `json:"name"`
	// Kind, when set, is the only interaction kind the form sends.
	Kind      InteractionKind `json:"kind,omitempty"`
	Fields    []FormField     `json:"fields"`
	CreatedAt time.Time       `json:"createdAt"`
	UpdatedAt time.Time       `json:"updatedAt"`
}

// NewForm defines a form.
type NewForm struct {
	Key    string          `json:"key" validate:"required,max=40"`
	Name   string          `json:"name" validate:"required,max=100"`
	Kind   InteractionKind `json:"kind,omitempty" validate:"omitempty,oneof=reservation contact_form tool newsletter review"`
	Fields []FormField     `json:"fields" validate:"max=100,dive"`
}

// FormPatch changes a form; nil members stay. Fields, when given,
// replaces the whole list.
type FormPatch struct {
	Name   *string          `json:"name,omitempty" validate:"omitempty,min=1,max=100"`
	Kind   *InteractionKind `json:"kind,omitempty" validate:"omitempty,oneof=reservation contact_form tool newsletter review"`
	Fields *[]FormField     `json:"fields,omitempty" validate:"omitempty,max=100,dive"`
}

// FormStore keeps the organisations' forms.
type FormStore interface {
	// FormInsert stores a new form; a key in use is a *ConflictError on "key".
	FormInsert(ctx context.Context, orgID string, f *Form) error
	// FormGet returns one form or ErrNotFound.
	FormGet(ctx context.Context, orgID, key string) (*Form, error)
	// FormList returns the organisation's forms by key.
	FormList(ctx context.Context, orgID string) ([]Form, error)
	// FormUpdate stores a changed form (ErrNotFound when there is none).
	FormUpdate(ctx context.Context, orgID string, f *Form) error
	// FormDelete removes a form (ErrNotFound when there is none).
	FormDelete(ctx context.Context, orgID, key string) error
}

// FormService manages the organisation's forms.
type FormService struct {
	*core
	consents *ConsentService
}

// Define adds a form. Its fields must exist: the fixed ones, the
// organisation's custom fields (not archived) and consent purposes.
func (s *FormService) Define(ctx context.Context, in NewForm) (*Form, error) {
	sc, err := s.writeScope(ctx)
	if err != nil {
		return nil, err
	}
	v := newValidation(sc.lang)
	v.checkText("", &in)
	in.Key, in.Name = strings.TrimSpace(in.Key), strings.TrimSpace(in.Name)
	v.addStruct(s.validate, in)
	if in.Key != "" && !v.has("key") && !purposeKeyPattern.MatchString(in.Key) {
		v.add("key", "key", "")
	}
	if err := s.checkFields(ctx, sc, v, in.Fields); err != nil {
		return nil, err
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	now := s.now()
	f := &Form{Key: in.Key, Name: in.Name, Kind: in.Kind, Fields: nonNil(in.Fields), CreatedAt: now, UpdatedAt: now}
	if err := s.store.FormInsert(ctx, sc.org, f); err != nil {
		return nil, err
	}
	return f, nil
}

// checkFields checks a form's field list into v.
func (s *FormService) checkFields(ctx context.Context, sc scope, v *validation, fields []FormField) error {
	var defs []CustomFieldDefinition
	var purposes []ConsentPurpose
	seen := map[string]bool{}
	for i := range fields {
		name := "fields[" + strconv.Itoa(i) + "].field"
		f := strings.TrimSpace(fields[i].Field)
		fields[i].Field = f
		if v.has(name) || f == "" {
			continue
		}
		if seen[f] {
			v.add(name, "duplicate", "")
			continue
		}
		seen[f] = true
		switch {
		case slices.Contains(FormFieldNames, f):
		case strings.HasPrefix(f, "customFields."):
			if defs == nil {
				var err error
				if defs, err = s.store.CustomFieldList(ctx, sc.org); err != nil {
					return err
				}
			}
			key := strings.TrimPrefix(f, "customFields.")
			if !slices.ContainsFunc(defs, func(d CustomFieldDefinition) bool { return d.Key == key && d.ArchivedAt == nil }) {
				v.add(name, "unknown_field", "")
			}
		case strings.HasPrefix(f, "consents."):
			if purposes == nil {
				var err error
				if purposes, err = s.consents.purposes(ctx, s.store, sc); err != nil {
					return err
				}
			}
			key := strings.TrimPrefix(f, "consents.")
			if !slices.ContainsFunc(purposes, func(p ConsentPurpose) bool { return p.Key == key }) {
				v.add(name, "unknown", "")
			}
		default:
			v.add(name, "unknown", "")
		}
	}
	return nil
}

// Get returns a form by key.
func (s *FormService) Get(ctx context.Context, key string) (*Form, error) {
	sc, err := readScope(ctx)
	if err != nil {
		return nil, err
	}
	return s.store.FormGet(ctx, sc.org, key)
}

// List returns the organisation's forms by key.
func (s *FormService) List(ctx context.Context) ([]Form, error) {
	sc, err := readScope(ctx)
	if err != nil {
		return nil, err
	}
	forms, err := s.store.FormList(ctx, sc.org)
	return nonNil(forms), err
}

// Update changes a form.
func (s *FormService) Update(ctx context.Context, key string, patch FormPatch) (*Form, error) {
	sc, err := s.writeScope(ctx)
	if err != nil {
		return nil, err
	}
	v := newValidation(sc.lang)
	v.checkText("", &patch)
	v.addStruct(s.validate, patch)
	if patch.Fields != nil {
		fields := slices.Clone(*patch.Fields)
		if err := s.checkFields(ctx, sc, v, fields); err != nil {
			return nil, err
		}
		patch.Fields = &fields
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	var out *Form
	err = s.store.InTx(ctx, func(tx Store) error {
		f, err := tx.FormGet(ctx, sc.org, key)
		if err != nil {
			return err
		}
		if patch.Name != nil {
			f.Name = strings.TrimSpace(*patch.Name)
		}
		if patch.Kind != nil {
			f.Kind = *patch.Kind
		}
		if patch.Fields != nil {
			f.Fields = nonNil(*patch.Fields)
		}
		f.UpdatedAt = s.now()
		out = f
		return tx.FormUpdate(ctx, sc.org, f)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Delete removes a form. Interactions recorded from it keep its key.
func (s *FormService) Delete(ctx context.Context, key string) error {
	sc, err := s.writeScope(ctx)
	if err != nil {
		return err
	}
	return s.store.FormDelete(ctx, sc.org, key)
}

// check refuses an interaction that lacks a field the form requires (code
// "required") or carries one the form does not collect ("notInForm"),
// naming each field as the interaction names it. Free data (data) is
// always allowed.
func (f *Form) check(sc scope, in *NewInteraction) error {
	v := newValidation(sc.lang)
	if f.Kind != "" && in.Kind != f.Kind {
		v.add("kind", "oneof", string(f.Kind))
	}
	present := map[string]string{} // form field → the interaction's field name
	c := &in.InteractionContent
	for name, val := range map[string]string{
		"firstName": c.FirstName, "middleName": c.MiddleName, "lastName": c.LastName, "company": c.Company,
		"language": c.Language,
	} {
		if strings.TrimSpace(val) != "" {
			present[name] = name
		}
	}
	if len(c.Emails) > 0 {
		present["emails"] = "emails"
	}
	if len(c.Phones) > 0 {
		present["phones"] = "phones"
	}
	if c.BirthDate != nil {
		present["birthDate"] = "birthDate"
	}
	if in.Review != nil {
		present["review"] = "review"
	}
	if a := c.Address; a != nil {
		for name, val := range map[string]string{"street": a.Street, "houseNumber": a.HouseNumber,
			"postalCode": a.PostalCode, "city": a.City, "country": a.Country} {
			if strings.TrimSpace(val) != "" {
				present["address."+name] = "address." + name
			}
		}
	}
	for k, val := range c.CustomFields {
		if val != nil {
			present["customFields."+k] = "customFields." + k
		}
	}
	for i, cons := range c.Consents {
		present["consents."+cons.Purpose] = "consents[" + strconv.Itoa(i) + "].purpose"
	}
	collects := map[string]bool{}
	for _, ff := range f.Fields {
		collects[ff.Field] = true
		if _, ok := present[ff.Field]; ff.Required && !ok {
			v.add(ff.Field, "required", "")
		}
	}
	fields := make([]string, 0, len(present))
	for field := range present {
		fields = append(fields, field)
	}
	slices.Sort(fields)
	for _, field := range fields {
		if !collects[field] {
			v.add(present[field], "notInForm", f.Key)
		}
	}
	return v.err()
}
