package crm

import (
	"errors"
	"strings"
)

// Sentinel errors. Every error the library returns matches one of them under
// errors.Is, so callers (and the HTTP layer) branch on the kind of failure
// without parsing messages. Their texts, and those of the typed errors, are
// written for the person who reads them in the end: they say what happened
// (and, where there is one, what to do), without package names or internal
// terms.
var (
	// ErrNotFound: the thing asked for does not exist in the caller's organisation.
	ErrNotFound = errors.New("not found")
	// ErrConflict: the change collides with stored data (a unique value taken, a stale version).
	ErrConflict = errors.New("the change conflicts with stored data")
	// ErrInvalid: the input breaks a rule; the error is a *ValidationError naming the fields.
	ErrInvalid = errors.New("invalid input")
	// ErrNoOrg: the context carries no organisation (see WithOrg).
	ErrNoOrg = errors.New("no organisation given for the call: scope its context with crm.WithOrg")
	// ErrUnauthenticated: a credential (an API key) is unknown, malformed or
	// revoked. It deliberately does not say which.
	ErrUnauthenticated = errors.New("not authenticated: a valid API key is needed")
	// ErrNoActor: a change was attempted without an actor in the context (see WithActor).
	ErrNoActor = errors.New("no actor given for the change: say who makes it with crm.WithActor")
	// ErrFeatureOff: the organisation has switched the feature off.
	ErrFeatureOff = errors.New("the organisation has switched this feature off")
	// ErrMergeBlocked: a merge would remove a customer that must stay.
	ErrMergeBlocked = errors.New("the merge is blocked: a customer it would remove must stay")
	// ErrInsufficientPoints: a redemption or correction would overdraw the points balance.
	ErrInsufficientPoints = errors.New("not enough points: the points available today do not cover it")
	// ErrForbidden: the caller is known but may not do this: a read-only
	// staff user changing something, a staff user who is not an
	// administrator managing staff or permissions, or an action the
	// organisation's permission switches (Permissions) turned off. The
	// error is a *ForbiddenError saying which.
	ErrForbidden = errors.New("not allowed: the acting user may not do this")
	// ErrUnavailable: the database cannot be reached or cannot store more
	// (a full disk), or the call ran out of time. Nothing was changed that
	// the caller has to know of: the same call may succeed later.
	ErrUnavailable = errors.New("the database is unavailable for now: try again later")
)

// ErrStaleVersion is returned by updates whose expected version is no longer
// the stored one: somebody else changed the record first. It matches
// ErrConflict under errors.Is, so callers that only care about "conflict" need
// not know it; the HTTP layer maps it to 412 Precondition Failed.
var ErrStaleVersion error = &ConflictError{Reason: "the record was changed by someone else since it was read: read it again and repeat the change"}

// ErrAnonymised is returned for changes of an anonymised customer: its
// record is a shell without personal data and stays that way. It matches
// ErrConflict under errors.Is.
var ErrAnonymised error = &ConflictError{Reason: "the customer is anonymised: the record can no longer be changed"}

// ConflictError reports a change refused because of stored data. Field names
// the input field (in its JSON spelling) whose value is already taken, when
// the conflict is about one field; Reason says what happened in words a
// person reads, and what to do where that is clear.
type ConflictError struct {
	Field  string
	Reason string
}

// Error implements error: the reason.
func (e *ConflictError) Error() string {
	if e.Reason == "" {
		return ErrConflict.Error()
	}
	return e.Reason
}

// Is makes a ConflictError match ErrConflict.
func (e *ConflictError) Is(target error) bool { return target == ErrConflict }

// ForbiddenError reports a refusal: who acts is known, and may not do
// this. Reason says why, in words a person reads. It matches ErrForbidden.
type ForbiddenError struct {
	Reason string
}

// Error implements error: the reason.
func (e *ForbiddenError) Error() string {
	if e.Reason == "" {
		return ErrForbidden.Error()
	}
	return "not allowed: " + e.Reason
}

// Is makes a ForbiddenError match ErrForbidden.
func (e *ForbiddenError) Is(target error) bool { return target == ErrForbidden }

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
	return "invalid input: " + strings.Join(parts, "; ")
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

// notFoundError says what was not found ("there is no customer 0193..."); it
// matches ErrNotFound.
type notFoundError struct{ what string }

func (e *notFoundError) Error() string        { return "there is no " + e.what }
func (e *notFoundError) Is(target error) bool { return target == ErrNotFound }
