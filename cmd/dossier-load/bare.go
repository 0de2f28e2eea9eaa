package main

import (
	"crypto/subtle"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
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

// bareHandler serves the lookups with net/http and database/sql alone.
type bareHandler struct {
	db            *sql.DB
	dialect       string
	auth          []byte // the whole expected Authorization header
	getQuery      string
	findQuery     string
	containsQuery string
	numberQuery   string
	insertQuery   string
}

// newBareHandler returns the baseline handler: GET /customers/{id} and
// GET /customers?name=PREFIX of the organisation "load", for requests that
// carry "Authorization: Bearer token". The token is compared with a
// constant in memory; there is no key lookup.
func newBareHandler(db *sql.DB, dialect, token string) http.Handler {
	ph := func(n int) string { return placeholder(dialect, n) }
	h := &bareHandler{
		db:       db,
		dialect:  dialect,
		auth:     []byte("Bearer " + token),
		getQuery: "SELECT " + customerColumns + " FROM customers WHERE org_id = " + ph(1) + " AND id = " + ph(2),
		// The query the store runs for a name search (crm/store/customers.go).
		findQuery: "SELECT " + customerColumns + " FROM customers WHERE org_id = " + ph(1) +
			" AND number IN (SELECT number FROM customer_name_keys WHERE org_id = " + ph(2) +
			" AND key >= " + ph(3) + " AND key < " + ph(4) + ") ORDER BY number LIMIT 51",
		// The straightforward contains-search over the same trigram index:
		// every match, sorted, then the first page.
		containsQuery: map[string]string{
			"sqlite": "SELECT " + customerColumns + " FROM customers WHERE org_id = ? AND number IN (SELECT number FROM customer_search" +
				" WHERE org_id = ? AND search_id IN (SELECT rowid FROM customer_search_fts WHERE customer_search_fts MATCH ?)) ORDER BY number LIMIT 51",
			"postgres": "SELECT " + customerColumns + " FROM customers WHERE org_id = $1 AND number IN (SELECT number FROM customer_search" +
				" WHERE org_id = $2 AND text LIKE $3) ORDER BY number LIMIT 51",
		}[dialect],
		numberQuery: "UPDATE organisations SET next_customer_number = next_customer_number + 1 WHERE id = " + ph(1) + " RETURNING next_customer_number",
		insertQuery: "INSERT INTO customers (id, org_id, number, first_name, middle_name, last_name, company, street, house_number, postal_code, city, country," +
			" phones, birth_date, status, origin, first_contact, email, email_key, alt_emails, language, remarks, created_at, updated_at, last_activity_at, version)" +
			" VALUES (" + placeholders(dialect, 26) + ")",
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /customers/{id}", h.get)
	mux.HandleFunc("GET /customers", h.find)
	mux.HandleFunc("POST /customers", h.create)
	return mux
}

// placeholders renders n query parameters separated by commas.
func placeholders(dialect string, n int) string {
	ps := make([]string, n)
	for i := range ps {
		ps[i] = placeholder(dialect, i+1)
	}
	return strings.Join(ps, ", ")
}

// bareNew is the body of a create, as the bare handler reads it.
type bareNew struct {
	FirstName  string      `json:"firstName"`
	MiddleName string      `json:"middleName"`
	LastName   string      `json:"lastName"`
	Company    string      `json:"company"`
	Address    bareAddress `json:"address"`
	Phones     rawJSON     `json:"phones"`
	BirthDate  *string     `json:"birthDate"`
	Status     string      `json:"status"`
	Origin     string      `json:"origin"`
	Email      string      `json:"email"`
	AltEmails  rawJSON     `json:"altEmails"`
	Language   string      `json:"language"`
	Remarks    string      `json:"remarks"`
}

// UnmarshalJSON implements json.Unmarshaler: raw JSON kept as it came.
func (j *rawJSON) UnmarshalJSON(b []byte) error {
	*j = append((*j)[:0], b...)
	return nil
}

// bareErrors logs the first failed create: wrk only counts them.
var bareErrors sync.Once

// create serves POST /customers: the row as sent, with the next number
// of the organisation, in one transaction; no validation beyond JSON.
func (h *bareHandler) create(w http.ResponseWriter, r *http.Request) {
	if !h.authorized(w, r) {
		return
	}
	var in bareNew
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	now := time.Now().UTC()
	id, err := uuid.NewV7()
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	if in.Status == "" {
		in.Status = "customer"
	}
	if in.Language == "" {
		in.Language = "nl"
	}
	c := bareCustomer{ID: id.String(), Number: 0, FirstName: in.FirstName, MiddleName: in.MiddleName, LastName: in.LastName,
		Company: in.Company, Address: in.Address, Phones: in.Phones, Status: in.Status, Origin: in.Origin, Language: in.Language,
		Remarks: in.Remarks, AltEmails: in.AltEmails, CreatedAt: now, UpdatedAt: now, LastActivityAt: now, Version: 1}
	nullJSON := func(j rawJSON) any {
		if len(j) == 0 || string(j) == "null" {
			return nil
		}
		return string(j)
	}
	var email, emailKey any
	if in.Email != "" {
		c.Email, email, emailKey = &in.Email, in.Email, strings.ToLower(in.Email)
	}
	today := now.Format(time.DateOnly)
	ts := func(t time.Time) any {
		if h.dialect == "sqlite" {
			return t.Format("2006-01-02 15:04:05.999999-07:00")
		}
		return t
	}
	err = func() error {
		tx, err := h.db.BeginTx(r.Context(), nil)
		if err != nil {
			return err
		}
		defer tx.Rollback()
		if err := tx.QueryRowContext(r.Context(), h.numberQuery, loadOrg).Scan(&c.Number); err != nil {
			return err
		}
		if _, err := tx.ExecContext(r.Context(), h.insertQuery, c.ID, loadOrg, c.Number, c.FirstName, c.MiddleName, c.LastName, c.Company,
			c.Address.Street, c.Address.HouseNumber, c.Address.PostalCode, c.Address.City, c.Address.Country,
			nullJSON(in.Phones), in.BirthDate, c.Status, c.Origin, today, email, emailKey, nullJSON(in.AltEmails), c.Language, c.Remarks,
			ts(now), ts(now), ts(now), 1); err != nil {
			return err
		}
		return tx.Commit()
	}()
	if err != nil {
		bareErrors.Do(func() { log.Printf("bare create: %v", err) })
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	_ = json.NewEncoder(w).Encode(&c)
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
	// The benchmark sends prefixes and fragments that are search keys
	// already (lower case, no accents), so no normalisation is needed here.
	prefix, fragment := r.URL.Query().Get("name"), r.URL.Query().Get("nameContains")
	var (
		rows *sql.Rows
		err  error
	)
	switch {
	case prefix != "":
		rows, err = h.db.QueryContext(r.Context(), h.findQuery, loadOrg, loadOrg, prefix, prefix+maxKey)
	case fragment != "" && h.dialect == "sqlite":
		rows, err = h.db.QueryContext(r.Context(), h.containsQuery, loadOrg, loadOrg, `"`+fragment+`"`)
	case fragment != "":
		rows, err = h.db.QueryContext(r.Context(), h.containsQuery, loadOrg, loadOrg, "%"+fragment+"%")
	default:
		http.Error(w, "name or nameContains is required", http.StatusBadRequest)
		return
	}
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
