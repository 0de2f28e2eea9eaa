package store

import (
	"database/sql"
	"errors"
	"fmt"
	"strings"

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
		crm.ConflictError{Field: "loginEmail", Reason: "already the login of another customer"}},
	{"organisations_pkey", "organisations.id",
		crm.ConflictError{Field: "id", Reason: "an organisation with this id exists"}},
	{"api_keys_secret_hash_uq", "api_keys.secret_hash",
		crm.ConflictError{Field: "secret", Reason: "an API key with this secret exists"}},
	{"qualifiers_name_uq", "qualifiers.org_id, qualifiers.kind, qualifiers.name_key",
		crm.ConflictError{Field: "name", Reason: "this name is taken"}},
	{"labels_name_uq", "labels.org_id, labels.name_key",
		crm.ConflictError{Field: "name", Reason: "this name is taken"}},
	{"segments_name_uq", "segments.org_id, segments.name_key",
		crm.ConflictError{Field: "name", Reason: "this name is taken"}},
	{"consent_purposes_key_uq", "consent_purposes.org_id, consent_purposes.key",
		crm.ConflictError{Field: "key", Reason: "a consent purpose with this key exists"}},
	{"point_transactions_key_uq", "point_transactions.org_id, point_transactions.idempotency_key",
		crm.ConflictError{Field: "idempotencyKey", Reason: "the key was used for a different request"}},
	{"point_transactions_reverses_uq", "point_transactions.org_id, point_transactions.reverses",
		crm.ConflictError{Field: "transactionId", Reason: "the transaction was reversed already"}},
	{"document_attributes_name_uq", "document_attributes.org_id, document_attributes.name_key",
		crm.ConflictError{Field: "name", Reason: "this name is taken"}},
	{"custom_field_definitions_pkey", "custom_field_definitions.org_id, custom_field_definitions.key",
		crm.ConflictError{Field: "key", Reason: "a custom field with this key exists (archived ones included)"}},
}

// interpretError translates driver errors into crm errors: the one place
// where database error codes are read.
func interpretError(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, sql.ErrNoRows) {
		return crm.ErrNotFound
	}
	var pgErr pgdriver.Error
	if errors.As(err, &pgErr) {
		switch pgErr.Field('C') {
		case "23505": // unique_violation
			return conflictFor(func(postgres, _ string) bool { return pgErr.Field('n') == postgres })
		case "23503": // foreign_key_violation
			return fmt.Errorf("store: %s: %w", pgErr.Field('M'), crm.ErrNotFound)
		case "23514": // check_violation: a value the schema's rules refuse (a tenth tag slot)
			return fmt.Errorf("store: %s: %w", pgErr.Field('n'), crm.ErrConflict)
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
		return fmt.Errorf("store: %s: %w", msg, crm.ErrConflict)
	case strings.Contains(msg, "FOREIGN KEY constraint failed"):
		return fmt.Errorf("store: a referenced row does not exist: %w", crm.ErrNotFound)
	}
	return err
}

func conflictFor(match func(postgres, sqlite string) bool) error {
	for _, u := range uniqueFields {
		if match(u.postgres, u.sqlite) {
			c := u.conflict
			return &c
		}
	}
	return &crm.ConflictError{Reason: "a unique value is already taken"}
}
