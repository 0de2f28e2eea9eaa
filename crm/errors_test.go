package crm

import (
	"errors"
	"strings"
	"testing"
)

// TestErrorTexts: what an error says is written for the person who reads it
// (through the CLI or an HTTP problem), without a package prefix, while
// errors.Is still tells the kinds apart.
func TestErrorTexts(t *testing.T) {
	for _, tc := range []struct {
		err  error
		kind error
		want string
	}{
		{ErrNotFound, ErrNotFound, "not found"},
		{ErrInvalid, ErrInvalid, "invalid input"},
		{ErrStaleVersion, ErrConflict, "the record was changed by someone else since it was read: read it again and repeat the change"},
		{ErrAnonymised, ErrConflict, "the customer is anonymised: the record can no longer be changed"},
		{ErrTooManyTags, ErrConflict, "a customer carries at most 9 tags: take one off first"},
		{&ConflictError{Field: "loginEmail", Reason: "this e-mail address is taken"}, ErrConflict, "this e-mail address is taken"},
		{&ConflictError{}, ErrConflict, "the change conflicts with stored data"},
		{&notFoundError{what: "API key nosuch"}, ErrNotFound, "there is no API key nosuch"},
		{&ValidationError{Fields: []FieldError{{Field: "email", Code: "email", Message: "email is not a valid e-mail address"},
			{Field: "lastName", Code: "max", Message: "lastName must be at most 100 characters long"}}}, ErrInvalid,
			"invalid input: email is not a valid e-mail address; lastName must be at most 100 characters long"},
	} {
		if got := tc.err.Error(); got != tc.want {
			t.Errorf("error reads %q, want %q", got, tc.want)
		}
		if !errors.Is(tc.err, tc.kind) {
			t.Errorf("%q does not match %v", tc.err, tc.kind)
		}
	}
	for _, err := range []error{ErrNotFound, ErrConflict, ErrInvalid, ErrNoOrg, ErrUnauthenticated, ErrNoActor,
		ErrFeatureOff, ErrMergeBlocked, ErrInsufficientPoints, ErrStaleVersion, ErrAnonymised, ErrTooManyTags} {
		if msg := err.Error(); strings.Contains(msg, "crm:") || strings.Contains(msg, "in context") {
			t.Errorf("%q speaks of the package or its internals", msg)
		}
	}
	if errors.Is(ErrStaleVersion, ErrNotFound) || errors.Is(&notFoundError{}, ErrConflict) {
		t.Error("error kinds match each other")
	}
}
