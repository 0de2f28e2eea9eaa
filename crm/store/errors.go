package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/uptrace/bun/driver/pgdriver"

	"github.com/dossiercrm/dossier/crm"
)

// uniqueFields maps what a unique violation names (the PostgreSQL constraint,
// or the SQLite column list) to the input field it is about.
var uniqueFields = []struct {
	postgres, sqlite string
	conflict         crm.ConflictError
}{
	{"customers_login_email_uq", "customers.org_id, customers.login_email_key",
		crm.ConflictError{Field: "loginEmail", Reason: "this e-mail address is already the login of another customer: use another address, or change that customer"}},
	{"organisations_pkey", "organisations.id",
		crm.ConflictError{Field: "id", Reason: "an organisation with this id exists already: choose another id"}},
	{"api_keys_secret_hash_uq", "api_keys.secret_hash",
		crm.ConflictError{Field: "secret", Reason: "an API key with this secret exists already: make the key again"}},
	{"qualifiers_name_uq", "qualifiers.org_id, qualifiers.kind, qualifiers.name_key",
		crm.ConflictError{Field: "name", Reason: "this name is taken already: choose another name"}},
	{"labels_name_uq", "labels.org_id, labels.name_key",
		crm.ConflictError{Field: "name", Reason: "this name is taken already: choose another name"}},
	{"segments_name_uq", "segments.org_id, segments.name_key",
		crm.ConflictError{Field: "name", Reason: "this name is taken already: choose another name"}},
	{"consent_purposes_key_uq", "consent_purposes.org_id, consent_purposes.key",
		crm.ConflictError{Field: "key", Reason: "a consent purpose with this key exists already: choose another key"}},
	{"point_transactions_key_uq", "point_transactions.org_id, point_transactions.idempotency_key",
		crm.ConflictError{Field: "idempotencyKey", Reason: "the idempotency key was used for a different request: use a new key for a new request"}},
	{"point_transactions_reverses_uq", "point_transactions.org_id, point_transactions.reverses",
		crm.ConflictError{Field: "transactionId", Reason: "the transaction was reversed already"}},
	{"document_attributes_name_uq", "document_attributes.org_id, document_attributes.name_key",
		crm.ConflictError{Field: "name", Reason: "this name is taken already: choose another name"}},
	{"portal_accounts_email_uq", "portal_accounts.org_id, portal_accounts.email_key",
		crm.ConflictError{Field: "email", Reason: "this e-mail address is already the login of another portal account"}},
	{"portal_accounts_customer_uq", "portal_accounts.org_id, portal_accounts.customer_id",
		crm.ConflictError{Field: "customerId", Reason: "the customer has a portal account already"}},
	{"contest_entries_once_uq", "contest_entries.org_id, contest_entries.contest_id, contest_entries.customer_id",
		crm.ConflictError{Field: "contestId", Reason: "the customer has entered this contest already"}},
	{"staff_users_pkey", "staff_users.org_id, staff_users.id",
		crm.ConflictError{Field: "id", Reason: "a staff user with this id exists already: choose another id"}},
	{"staff_users_email_uq", "staff_users.org_id, staff_users.email_key",
		crm.ConflictError{Field: "email", Reason: "another staff user has this e-mail address already: use another address"}},
	{"departments_name_uq", "departments.org_id, departments.name_key",
		crm.ConflictError{Field: "name", Reason: "this name is taken already: choose another name"}},
	{"custom_field_definitions_pkey", "custom_field_definitions.org_id, custom_field_definitions.key",
		crm.ConflictError{Field: "key", Reason: "a custom field with this key exists already (archived ones count too): choose another key, or restore the archived field"}},
	{"forms_pkey", "forms.org_id, forms.key",
		crm.ConflictError{Field: "key", Reason: "a form with this key exists already: choose another key"}},
}

// interpretError translates driver errors into crm errors: the one place
// where database error codes are read. The translated errors say what
// happened in words for the person who reads them; the driver's error stays
// reachable with errors.Unwrap, for logs.
func interpretError(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, sql.ErrNoRows) {
		return crm.ErrNotFound
	}
	if u := unavailable(err); u != nil {
		return u
	}
	var pgErr pgdriver.Error
	if errors.As(err, &pgErr) {
		switch pgErr.Field('C') {
		case "23505": // unique_violation
			return conflictFor(func(postgres, _ string) bool { return pgErr.Field('n') == postgres })
		case "23503": // foreign_key_violation
			return &translatedError{msg: missingReference, kind: crm.ErrNotFound, cause: err}
		case "23514": // check_violation: a value the schema's rules refuse (a tenth tag slot)
			return &translatedError{msg: brokenLimit, kind: crm.ErrConflict, cause: err}
		case "22P02": // invalid_text_representation: an id that is not a UUID cannot exist
			return crm.ErrNotFound
		}
		return err
	}
	// SQLite (modernc or mattn): the extended result code is in the message.
	msg := err.Error()
	switch {
	case strings.Contains(msg, "UNIQUE constraint failed: "), strings.Contains(msg, "PRIMARY KEY constraint failed"):
		return conflictFor(func(_, sqlite string) bool { return strings.Contains(msg, sqlite) })
	case strings.Contains(msg, "CHECK constraint failed"):
		return &translatedError{msg: brokenLimit, kind: crm.ErrConflict, cause: err}
	case strings.Contains(msg, "FOREIGN KEY constraint failed"):
		return &translatedError{msg: missingReference, kind: crm.ErrNotFound, cause: err}
	}
	return err
}

// unavailable returns err translated into crm.ErrUnavailable when it says
// that the database cannot serve the call for now: it cannot be reached, the
// server is shutting down, its disk or memory is full, SQLite's write lock
// stayed busy past the busy timeout, or the call ran out of time (or
// was abandoned: then the context's error stays reachable, so the HTTP layer
// still tells a closed request from an outage). Otherwise it returns nil.
func unavailable(err error) error {
	if errors.Is(err, crm.ErrUnavailable) {
		return nil // translated already
	}
	var pgErr pgdriver.Error
	if errors.As(err, &pgErr) {
		code := pgErr.Field('C')
		switch {
		case strings.HasPrefix(code, "08"), // connection_exception
			strings.HasPrefix(code, "53"),                     // insufficient_resources: disk_full, out_of_memory, too_many_connections
			code == "57P01", code == "57P02", code == "57P03", // admin_shutdown, crash_shutdown, cannot_connect_now
			code == "57014": // query_canceled: statement_timeout, or a cancelled call
			return &translatedError{msg: unavailableText, kind: crm.ErrUnavailable, cause: err}
		}
		return nil
	}
	var netErr net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled),
		errors.Is(err, driver.ErrBadConn), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE),
		errors.Is(err, syscall.ENOSPC), errors.As(err, &netErr):
		return &translatedError{msg: unavailableText, kind: crm.ErrUnavailable, cause: err}
	}
	// SQLite (modernc or mattn): the result code is in the message.
	msg := err.Error()
	for _, s := range []string{"database or disk is full", "SQLITE_FULL", "database is locked", "SQLITE_BUSY", "disk I/O error"} {
		if strings.Contains(msg, s) {
			return &translatedError{msg: unavailableText, kind: crm.ErrUnavailable, cause: err}
		}
	}
	return nil
}

// unavailableOr is unavailable(err) when err says the database is
// unavailable, and err otherwise: for errors that may be crm errors already.
func unavailableOr(err error) error {
	if err == nil {
		return nil
	}
	if u := unavailable(err); u != nil {
		return u
	}
	return err
}

// The texts of translated constraint violations.
const (
	missingReference = "something the change refers to does not exist (it may have just been deleted): nothing was changed"
	brokenLimit      = "the change goes beyond a limit of the stored data, such as the most tags a customer carries: nothing was changed"
	unavailableText  = "the database is unavailable for now (unreachable, out of space, or too slow to answer): try again later"
)

// translatedError is a driver error translated into a crm kind: Error is
// the text for people, Is matches the kind (crm.ErrNotFound,
// crm.ErrConflict, crm.ErrUnavailable) and Unwrap returns the driver's error.
type translatedError struct {
	msg   string
	kind  error
	cause error
}

func (e *translatedError) Error() string        { return e.msg }
func (e *translatedError) Is(target error) bool { return target == e.kind }
func (e *translatedError) Unwrap() error        { return e.cause }

func conflictFor(match func(postgres, sqlite string) bool) error {
	for _, u := range uniqueFields {
		if match(u.postgres, u.sqlite) {
			c := u.conflict
			return &c
		}
	}
	return &crm.ConflictError{Reason: "a value that must be unique is taken already: change it"}
}
