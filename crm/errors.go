package crm

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors. Every error the library returns matches one of them under
// errors.Is, so callers (and the HTTP layer) branch on the kind of failure
// without parsing messages.
var (
	// ErrNotFound: the thing asked for does not exist in the caller's organisation.
	ErrNotFound = errors.New("crm: not found")
	// ErrConflict: the change collides with stored data (a unique value taken, a stale version).
	ErrConflict = errors.New("crm: conflict")
	// ErrInvalid: the input breaks a rule; the error is a *ValidationError naming the fields.
	ErrInvalid = errors.New("crm: invalid input")
	// ErrNoOrg: the context carries no organisation (see WithOrg).
	ErrNoOrg = errors.New("crm: no organisation in context")
	// ErrUnauthenticated: a credential (an API key) is unknown, malformed or
	// revoked. It deliberately does not say which.
	ErrUnauthenticated = errors.New("crm: not authenticated")
	// ErrNoActor: a change was attempted without an actor in the context (see WithActor).
	ErrNoActor = errors.New("crm: no actor in context")
	// ErrFeatureOff: the organisation has switched the feature off.
	ErrFeatureOff = errors.New("crm: feature switched off")
	// ErrMergeBlocked: a merge would remove a customer that must stay.
	ErrMergeBlocked = errors.New("crm: merge blocked")
	// ErrInsufficientPoints: a redemption or correction would overdraw the points balance.
	ErrInsufficientPoints = errors.New("crm: insufficient points")
)

// ErrStaleVersion is returned by updates whose expected version is no longer
// the stored one: somebody else changed the record first. It matches
// ErrConflict under errors.Is, so callers that only care about "conflict" need
// not know it; the HTTP layer maps it to 412 Precondition Failed.
var ErrStaleVersion error = &ConflictError{Reason: "the record was changed by someone else (stale version)"}

// ErrAnonymised is returned for changes of an anonymised customer: its
// record is a shell without personal data and stays that way. It matches
// ErrConflict under errors.Is.
var ErrAnonymised error = &ConflictError{Reason: "the customer is anonymised"}

// ConflictError reports a change refused because of stored data. Field names
// the input field (in its JSON spelling) whose value is already taken, when
// the conflict is about one field.
type ConflictError struct {
	Field  string
	Reason string
}

// Error implements error.
func (e *ConflictError) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("crm: conflict on %s: %s", e.Field, e.Reason)
	}
	return "crm: conflict: " + e.Reason
}

// Is makes a ConflictError match ErrConflict.
func (e *ConflictError) Is(target error) bool { return target == ErrConflict }

// FieldError is one failed rule of one input field.
type FieldError struct {
	// Field is the path of the field in its JSON spelling, e.g. "loginEmail",
	// "address.country", "phones[1].number", "customFields.shoeSize".
	Field string `json:"field"`
	// Code is the stable, machine-readable rule name, e.g. "required", "email".
	Code string `json:"code"`
	// Param is the rule's parameter where it has one (a length, a list of choices).
	Param string `json:"param,omitempty"`
	// Message is a readable sentence in the caller's language (see WithLanguage).
	Message string `json:"message"`
}

// ValidationError lists every field of an input that failed validation. It
// matches ErrInvalid under errors.Is.
type ValidationError struct {
	Fields []FieldError
}

// Error implements error.
func (e *ValidationError) Error() string {
	parts := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		parts[i] = f.Message
	}
	return "crm: invalid input: " + strings.Join(parts, "; ")
}

// Is makes a ValidationError match ErrInvalid.
func (e *ValidationError) Is(target error) bool { return target == ErrInvalid }

// Has reports whether field failed with code (any code when code is empty).
func (e *ValidationError) Has(field, code string) bool {
	for _, f := range e.Fields {
		if f.Field == field && (code == "" || f.Code == code) {
			return true
		}
	}
	return false
}

// notFoundError says what was not found; it matches ErrNotFound.
type notFoundError struct{ what string }

func (e *notFoundError) Error() string        { return "crm: " + e.what + " not found" }
func (e *notFoundError) Is(target error) bool { return target == ErrNotFound }
