package store

import (
	"errors"
	"testing"

	"github.com/dossiercrm/dossier/crm"
)

// TestInterpretErrorTexts: a constraint violation reaches people as a
// sentence about the change, not as the database's message, while its kind
// matches under errors.Is and the driver's error stays reachable for logs.
func TestInterpretErrorTexts(t *testing.T) {
	for _, tc := range []struct {
		driver string
		kind   error
		want   string
	}{
		{"constraint failed: FOREIGN KEY constraint failed (787)", crm.ErrNotFound, missingReference},
		{"constraint failed: CHECK constraint failed: slot BETWEEN 1 AND 9 (275)", crm.ErrConflict, brokenLimit},
		{"constraint failed: UNIQUE constraint failed: customers.org_id, customers.login_email_key (2067)", crm.ErrConflict,
			"this e-mail address is already the login of another customer: use another address, or change that customer"},
		{"constraint failed: UNIQUE constraint failed: somewhere.else (2067)", crm.ErrConflict, "a value that must be unique is taken already: change it"},
	} {
		driverErr := errors.New(tc.driver)
		err := interpretError(driverErr)
		if err.Error() != tc.want || !errors.Is(err, tc.kind) {
			t.Errorf("%q became %q (matching %v: %v), want %q", tc.driver, err, tc.kind, errors.Is(err, tc.kind), tc.want)
		}
		var tr *translatedError
		if errors.As(err, &tr) && !errors.Is(err, driverErr) {
			t.Errorf("%q: the driver's error is lost", tc.driver)
		}
	}
}
