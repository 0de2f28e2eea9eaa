package crm

import (
	"errors"
	"reflect"
	"strings"

	"github.com/go-playground/validator/v10"

	"github.com/dossiercrm/dossier/crm/i18n"
)

// embedded names embedded structs in validation paths; addStruct drops it.
const embedded = "\x00"

// newValidator builds the struct validator shared by the services. Field
// errors are named by their JSON names so that they match what API callers send.
func newValidator() *validator.Validate {
	v := validator.New(validator.WithRequiredStructEnabled())
	v.RegisterTagNameFunc(func(f reflect.StructField) string {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			return ""
		}
		if name == "" && f.Anonymous {
			return embedded // an embedded struct's fields are the outer JSON object's
		}
		if name == "" {
			return f.Name
		}
		return name
	})
	return v
}

// validation collects field errors of one input, in the caller's language.
type validation struct {
	lang   string
	fields []FieldError
}

func newValidation(lang string) *validation { return &validation{lang: lang} }

// add records that field failed rule code (with its parameter).
func (v *validation) add(field, code, param string) {
	v.fields = append(v.fields, FieldError{
		Field:   field,
		Code:    code,
		Param:   param,
		Message: field + " " + i18n.Message(v.lang, code, param),
	})
}

// has reports whether field already failed, so a later check does not pile a
// second, less precise message onto the same field.
func (v *validation) has(field string) bool {
	for _, f := range v.fields {
		if f.Field == field {
			return true
		}
	}
	return false
}

// addStruct runs the struct tags of input through validate and records each failure.
func (v *validation) addStruct(validate *validator.Validate, input any) {
	err := validate.Struct(input)
	var fieldErrs validator.ValidationErrors
	if !errors.As(err, &fieldErrs) {
		if err != nil {
			v.add("", "invalid", "")
		}
		return
	}
	for _, fe := range fieldErrs {
		// Namespace is "Type.field.sub"; the type name means nothing to callers.
		_, field, _ := strings.Cut(fe.Namespace(), ".")
		field = strings.Trim(strings.ReplaceAll(field, embedded+".", ""), ".")
		code, param := fe.Tag(), fe.Param()
		switch code {
		case "required_without_all", "required_without", "required_if":
			code, param = "required", ""
		case "e164":
			code = "phone"
		case "iso3166_1_alpha2":
			code = "country"
		case "bcp47_language_tag":
			code = "language"
		case "oneof":
			param = strings.ReplaceAll(param, " ", ", ")
		case "min", "max":
			// The tags mean length for text, size for lists, value for numbers.
			switch fe.Kind() {
			case reflect.Slice, reflect.Array, reflect.Map:
				code += "Items"
			case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
				reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Float32, reflect.Float64:
				code += "Value"
			}
		}
		v.add(field, code, param)
	}
}

// err returns the collected *ValidationError, or nil when every rule passed.
func (v *validation) err() error {
	if len(v.fields) == 0 {
		return nil
	}
	return &ValidationError{Fields: v.fields}
}
