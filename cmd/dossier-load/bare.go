package main

import (
	"crypto/subtle"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/uptrace/bun/driver/pgdriver"
	"github.com/uptrace/bun/driver/sqliteshim"
)

// openSQL opens a plain sql.DB on the database of a store DSN with the
// driver and settings store.Open gives its own (see crm/store/store.go):
// the SQLite pragmas and transaction mode, or pgdriver's connector, and
// database/sql's default pool.
func openSQL(dsn string) (*sql.DB, error) {
	switch {
	case strings.HasPrefix(dsn, "sqlite:"):
		path := strings.TrimPrefix(dsn, "sqlite:")
		if path == "" || path == ":memory:" {
			return nil, errors.New("the load benchmark needs an SQLite file both servers open: sqlite:PATH")
		}
		if !strings.HasPrefix(path, "file:") {
			path = "file:" + path
		}
		sep := "?"
		if strings.Contains(path, "?") {
			sep = "&"
		}
		// Keep in step with store.Open.
		path += sep + "_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)" +
			"&_pragma=mmap_size(1073741824)&_txlock=immediate"
		return sql.Open(sqliteshim.ShimName, path)
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		return sql.OpenDB(pgdriver.NewConnector(pgdriver.WithDSN(dsn))), nil
	}
	return nil, errors.New("unknown database in DSN: use sqlite:PATH or a postgres:// URL")
}

// placeholder renders the n-th query parameter of a dialect: $1 on
// PostgreSQL, ? on SQLite.
func placeholder(dialect string, n int) string {
	if dialect == "postgres" {
		return "$" + strconv.Itoa(n)
	}
	return "?"
}

// customerColumns are every column of the customers table, in the order
// bareCustomer.dest scans them.
const customerColumns = "id, org_id, number, first_name, middle_name, last_name, company, " +
	"street, house_number, postal_code, city, country, phones, birth_date, passport_expiry, " +
	"status, origin, first_contact, login_email, login_email_key, email, email_key, alt_emails, " +
	"language, internal_description, remarks, no_post, no_mailings, assigned_to, custom_fields, " +
	"created_at, updated_at, last_activity_at, version"

// bareCustomer is a customers row as a hand-written handler would read and
// send it: JSON columns passed through as they are stored.
type bareCustomer struct {
	ID                  string      `json:"id"`
	OrgID               string      `json:"-"`
	Number              int64       `json:"number"`
	FirstName           string      `json:"firstName,omitempty"`
	MiddleName          string      `json:"middleName,omitempty"`
	LastName            string      `json:"lastName,omitempty"`
	Company             string      `json:"company,omitempty"`
	Address             bareAddress `json:"address"`
	Phones              rawJSON     `json:"phones,omitempty"`
	BirthDate           *sqlDate    `json:"birthDate,omitempty"`
	PassportExpiry      *sqlDate    `json:"passportExpiry,omitempty"`
	Status              string      `json:"status"`
	Origin              string      `json:"origin,omitempty"`
	FirstContact        *sqlDate    `json:"firstContact,omitempty"`
	LoginEmail          *string     `json:"loginEmail,omitempty"`
	LoginEmailKey       *string     `json:"-"`
	Email               *string     `json:"email,omitempty"`
	EmailKey            *string     `json:"-"`
	AltEmails           rawJSON     `json:"altEmails,omitempty"`
	Language            string      `json:"language"`
	InternalDescription string      `json:"internalDescription,omitempty"`
	Remarks             string      `json:"remarks,omitempty"`
	NoPost              bool        `json:"noPost"`
	NoMailings          bool        `json:"noMailings"`
	AssignedTo          string      `json:"assignedTo,omitempty"`
	CustomFields        rawJSON     `json:"customFields,omitempty"`
	CreatedAt           time.Time   `json:"createdAt"`
	UpdatedAt           time.Time   `json:"updatedAt"`
	LastActivityAt      time.Time   `json:"lastActivityAt"`
	Version             int         `json:"version"`
}

// bareAddress is the address part of a customer.
type bareAddress struct {
	Street      string `json:"street,omitempty"`
	HouseNumber string `json:"houseNumber,omitempty"`
	PostalCode  string `json:"postalCode,omitempty"`
	City        string `json:"city,omitempty"`
	Country     string `json:"country,omitempty"`
}

// dest returns the scan destinations of customerColumns.
func (c *bareCustomer) dest() []any {
	return []any{&c.ID, &c.OrgID, &c.Number, &c.FirstName, &c.MiddleName, &c.LastName, &c.Company,
		&c.Address.Street, &c.Address.HouseNumber, &c.Address.PostalCode, &c.Address.City, &c.Address.Country, &c.Phones, &c.BirthDate, &c.PassportExpiry,
		&c.Status, &c.Origin, &c.FirstContact, &c.LoginEmail, &c.LoginEmailKey, &c.Email, &c.EmailKey, &c.AltEmails,
		&c.Language, &c.InternalDescription, &c.Remarks, &c.NoPost, &c.NoMailings, &c.AssignedTo, &c.CustomFields,
		&c.CreatedAt, &c.UpdatedAt, &c.LastActivityAt, &c.Version}
}

// rawJSON is a JSON column, sent on as stored: text on SQLite, jsonb on
// PostgreSQL. NULL is empty and left out.
type rawJSON []byte

// Scan implements sql.Scanner.
func (j *rawJSON) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*j = nil
	case string:
		*j = rawJSON(v)
	case []byte:
		*j = append(rawJSON(nil), v...)
	default:
		return fmt.Errorf("cannot read %T as JSON", src)
	}
	return nil
}

// MarshalJSON implements json.Marshaler.
func (j rawJSON) MarshalJSON() ([]byte, error) {
	if len(j) == 0 {
		return []byte("null"), nil
	}
	return j, nil
}

// sqlDate is a DATE column: time.Time from PostgreSQL, text on SQLite.
type sqlDate string

// Scan implements sql.Scanner.
func (d *sqlDate) Scan(src any) error {
	switch v := src.(type) {
	case time.Time:
		*d = sqlDate(v.Format(time.DateOnly))
	case string:
		*d = sqlDate(v[:min(len(v), 10)])
	case []byte:
		*d = sqlDate(v[:min(len(v), 10)])
	default:
		return fmt.Errorf("cannot read %T as a date", src)
	}
	return nil
}

// barePage is a page of customers, shaped like Dossier's.
type barePage struct {
	Items []bareCustomer `json:"items"`
	Next  string         `json:"next,omitempty"`
}

// bareHandler serves the two lookups with net/http and database/sql alone.
type bareHandler struct {
	db        *sql.DB
	auth      []byte // the whole expected Authorization header
	getQuery  string
	findQuery string
}

// newBareHandler returns the baseline handler: GET /customers/{id} and
// GET /customers?name=PREFIX of the organisation "load", for requests that
// carry "Authorization: Bearer token". The token is compared with a
// constant in memory; there is no key lookup.
func newBareHandler(db *sql.DB, dialect, token string) http.Handler {
	ph := func(n int) string { return placeholder(dialect, n) }
	h := &bareHandler{
		db:       db,
		auth:     []byte("Bearer " + token),
		getQuery: "SELECT " + customerColumns + " FROM customers WHERE org_id = " + ph(1) + " AND id = " + ph(2),
		// The query the store runs for a name search (crm/store/customers.go).
		findQuery: "SELECT " + customerColumns + " FROM customers WHERE org_id = " + ph(1) +
			" AND number IN (SELECT number FROM customer_name_keys WHERE org_id = " + ph(2) +
			" AND key >= " + ph(3) + " AND key < " + ph(4) + ") ORDER BY number LIMIT 51",
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /customers/{id}", h.get)
	mux.HandleFunc("GET /customers", h.find)
	return mux
}

// maxKey is above every valid UTF-8 string that starts with the same
// prefix, as in the store.
const maxKey = "\U0010FFFF"

// authorized answers 401 unless the request carries the expected token.
func (h *bareHandler) authorized(w http.ResponseWriter, r *http.Request) bool {
	if subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), h.auth) != 1 {
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return false
	}
	return true
}

// get serves GET /customers/{id}.
func (h *bareHandler) get(w http.ResponseWriter, r *http.Request) {
	if !h.authorized(w, r) {
		return
	}
	var c bareCustomer
	err := h.db.QueryRowContext(r.Context(), h.getQuery, loadOrg, r.PathValue("id")).Scan(c.dest()...)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		http.Error(w, "not found", http.StatusNotFound)
		return
	case err != nil:
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("ETag", `"`+strconv.Itoa(c.Version)+`"`)
	writeJSON(w, &c)
}

// find serves GET /customers?name=PREFIX: the first page of 50.
func (h *bareHandler) find(w http.ResponseWriter, r *http.Request) {
	if !h.authorized(w, r) {
		return
	}
	// The benchmark sends prefixes that are search keys already (lower
	// case, no accents), so no normalisation is needed here.
	prefix := r.URL.Query().Get("name")
	if prefix == "" {
		http.Error(w, "name is required", http.StatusBadRequest)
		return
	}
	rows, err := h.db.QueryContext(r.Context(), h.findQuery, loadOrg, loadOrg, prefix, prefix+maxKey)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	defer rows.Close()
	page := barePage{Items: make([]bareCustomer, 0, 51)}
	for rows.Next() {
		var c bareCustomer
		if err := rows.Scan(c.dest()...); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		page.Items = append(page.Items, c)
	}
	if err := rows.Err(); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	if len(page.Items) > 50 {
		page.Items = page.Items[:50]
		page.Next = strconv.FormatInt(page.Items[49].Number, 10)
	}
	writeJSON(w, &page)
}

// writeJSON sends v as the JSON body of a 200 response.
func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}
