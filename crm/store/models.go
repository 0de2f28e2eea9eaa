package store

import (
	"database/sql/driver"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/dossiercrm/dossier/crm"
)

// Row types: the tables as bun sees them. crm's domain types carry no
// database tags; these convert to and from them at the boundary.

type organisationRow struct {
	bun.BaseModel `bun:"table:organisations"`

	ID                 string `bun:"id,pk"`
	Name               string `bun:"name"`
	DefaultLanguage    string `bun:"default_language"`
	DefaultCountry     string `bun:"default_country"`
	NextCustomerNumber int64  `bun:"next_customer_number"`
	PointsEnabled      bool   `bun:"points_enabled"`
	TimeZone           string `bun:"time_zone"`
	// The permission switches (crm.Permissions).
	StaffMayExport        bool      `bun:"staff_may_export"`
	StaffMayAnonymise     bool      `bun:"staff_may_anonymise"`
	CustomersMayExport    bool      `bun:"customers_may_export"`
	CustomersMayAnonymise bool      `bun:"customers_may_anonymise"`
	CreatedAt             time.Time `bun:"created_at"`
	UpdatedAt             time.Time `bun:"updated_at"`
}

func organisationRowOf(org *crm.Organisation) *organisationRow {
	return &organisationRow{
		ID: org.ID, Name: org.Name, DefaultLanguage: org.DefaultLanguage, DefaultCountry: org.DefaultCountry,
		PointsEnabled: org.PointsEnabled, TimeZone: org.TimeZone,
		StaffMayExport: org.Permissions.StaffMayExport, StaffMayAnonymise: org.Permissions.StaffMayAnonymise,
		CustomersMayExport: org.Permissions.CustomersMayExport, CustomersMayAnonymise: org.Permissions.CustomersMayAnonymise,
		CreatedAt: org.CreatedAt, UpdatedAt: org.UpdatedAt,
	}
}

func (r *organisationRow) toDomain() *crm.Organisation {
	return &crm.Organisation{
		ID: r.ID, Name: r.Name, DefaultLanguage: r.DefaultLanguage, DefaultCountry: r.DefaultCountry,
		PointsEnabled: r.PointsEnabled, TimeZone: r.TimeZone,
		Permissions: crm.Permissions{StaffMayExport: r.StaffMayExport, StaffMayAnonymise: r.StaffMayAnonymise,
			CustomersMayExport: r.CustomersMayExport, CustomersMayAnonymise: r.CustomersMayAnonymise},
		CreatedAt: utc(r.CreatedAt), UpdatedAt: utc(r.UpdatedAt),
	}
}

type customerRow struct {
	bun.BaseModel `bun:"table:customers"`

	ID                  string         `bun:"id,pk"`
	OrgID               string         `bun:"org_id,pk"`
	Number              int64          `bun:"number"`
	FirstName           string         `bun:"first_name"`
	MiddleName          string         `bun:"middle_name"`
	LastName            string         `bun:"last_name"`
	Company             string         `bun:"company"`
	Street              string         `bun:"street"`
	HouseNumber         string         `bun:"house_number"`
	PostalCode          string         `bun:"postal_code"`
	City                string         `bun:"city"`
	Country             string         `bun:"country"`
	Phones              []crm.Phone    `bun:"phones,type:jsonb"`
	BirthDate           *date          `bun:"birth_date"`
	PassportExpiry      *date          `bun:"passport_expiry"`
	Status              string         `bun:"status"`
	Origin              string         `bun:"origin"`
	FirstContact        *date          `bun:"first_contact"`
	LoginEmail          string         `bun:"login_email,nullzero"`
	LoginEmailKey       string         `bun:"login_email_key,nullzero"`
	Email               string         `bun:"email,nullzero"`
	EmailKey            string         `bun:"email_key,nullzero"`
	AltEmails           []string       `bun:"alt_emails,type:jsonb"`
	Language            string         `bun:"language"`
	InternalDescription string         `bun:"internal_description"`
	Remarks             string         `bun:"remarks"`
	NoPost              bool           `bun:"no_post"`
	NoMailings          bool           `bun:"no_mailings"`
	AssignedTo          string         `bun:"assigned_to"`
	CustomFields        map[string]any `bun:"custom_fields,type:jsonb"`
	CreatedAt           time.Time      `bun:"created_at"`
	UpdatedAt           time.Time      `bun:"updated_at"`
	LastActivityAt      time.Time      `bun:"last_activity_at"`
	Version             int            `bun:"version"`
	SortKey             []byte         `bun:"sort_key"`
	AnonymisedAt        *time.Time     `bun:"anonymised_at"`
}

func customerToRow(c *crm.Customer) *customerRow {
	f := &c.CustomerFields
	return &customerRow{
		ID: c.ID, OrgID: c.OrgID, Number: c.Number,
		FirstName: f.FirstName, MiddleName: f.MiddleName, LastName: f.LastName, Company: f.Company,
		Street: f.Address.Street, HouseNumber: f.Address.HouseNumber, PostalCode: f.Address.PostalCode,
		City: f.Address.City, Country: f.Address.Country,
		Phones:    f.Phones,
		BirthDate: toDate(f.BirthDate), PassportExpiry: toDate(f.PassportExpiry),
		Status: string(f.Status), Origin: f.Origin, FirstContact: toDate(f.FirstContact),
		LoginEmail: f.LoginEmail, LoginEmailKey: crm.EmailKey(f.LoginEmail),
		Email: f.Email, EmailKey: crm.EmailKey(f.Email), AltEmails: f.AltEmails,
		Language: f.Language, InternalDescription: f.InternalDescription, Remarks: f.Remarks,
		NoPost: f.NoPost, NoMailings: f.NoMailings, AssignedTo: f.AssignedTo, CustomFields: f.CustomFields,
		CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt, LastActivityAt: c.LastActivityAt, Version: c.Version,
		SortKey: c.SortKey, AnonymisedAt: c.AnonymisedAt,
	}
}

func (r *customerRow) toDomain() crm.Customer {
	return crm.Customer{
		ID: r.ID, OrgID: r.OrgID, Number: r.Number,
		CustomerFields: crm.CustomerFields{
			FirstName: r.FirstName, MiddleName: r.MiddleName, LastName: r.LastName, Company: r.Company,
			Address: crm.Address{Street: r.Street, HouseNumber: r.HouseNumber, PostalCode: r.PostalCode,
				City: r.City, Country: r.Country},
			Phones:    r.Phones,
			BirthDate: r.BirthDate.domain(), PassportExpiry: r.PassportExpiry.domain(),
			Status: crm.CustomerStatus(r.Status), Origin: r.Origin, FirstContact: r.FirstContact.domain(),
			LoginEmail: r.LoginEmail, Email: r.Email, AltEmails: r.AltEmails,
			Language: r.Language, InternalDescription: r.InternalDescription, Remarks: r.Remarks,
			NoPost: r.NoPost, NoMailings: r.NoMailings, AssignedTo: r.AssignedTo, CustomFields: r.CustomFields,
		},
		CreatedAt: utc(r.CreatedAt), UpdatedAt: utc(r.UpdatedAt), LastActivityAt: utc(r.LastActivityAt),
		Version: r.Version, SortKey: r.SortKey, AnonymisedAt: utcPtr(r.AnonymisedAt),
	}
}

// The search index rows kept beside each customer.

// nameKeyRow is one name key of a customer (crm.NameKeys), keyed by
// (org_id, key, number): the customer is named by its number, which never
// changes, and not by its id, which would take 36 more bytes in every key
// and a second index to find a customer's keys. A writer removes a
// customer's keys by computing them again from the names it had
// (nameKeysOf, deleteNameKeys).
type nameKeyRow struct {
	bun.BaseModel `bun:"table:customer_name_keys"`
	OrgID         string `bun:"org_id"`
	Key           string `bun:"key"`
	Number        int64  `bun:"number"`
}

// searchRow is a customer's text for contains-search (crm.SearchText),
// keyed by the customer's number (which never changes). On SQLite the
// table also has an integer search_id, filled in by SQLite.
type searchRow struct {
	bun.BaseModel `bun:"table:customer_search"`
	OrgID         string `bun:"org_id"`
	Number        int64  `bun:"number"`
	Text          string `bun:"text"`
}

type emailRow struct {
	bun.BaseModel `bun:"table:customer_emails"`
	OrgID         string `bun:"org_id"`
	CustomerID    string `bun:"customer_id"`
	EmailKey      string `bun:"email_key"`
}

// phoneRow indexes a customer by one of its phone numbers. It names the
// customer by number, like the name keys, and has no foreign key: its
// rows go with the numbers the record holds (deletePhoneRows).
type phoneRow struct {
	bun.BaseModel  `bun:"table:customer_phones"`
	OrgID          string `bun:"org_id"`
	Number         string `bun:"number"`
	CustomerNumber int64  `bun:"customer_number"`
}

type customFieldRow struct {
	bun.BaseModel `bun:"table:custom_field_definitions"`

	OrgID      string     `bun:"org_id,pk"`
	Key        string     `bun:"key,pk"`
	Label      string     `bun:"label"`
	Type       string     `bun:"type"`
	Choices    []string   `bun:"choices,type:jsonb"`
	Required   bool       `bun:"required"`
	Position   int        `bun:"position"`
	ArchivedAt *time.Time `bun:"archived_at"`
	CreatedAt  time.Time  `bun:"created_at"`
	UpdatedAt  time.Time  `bun:"updated_at"`
}

func customFieldToRow(orgID string, d *crm.CustomFieldDefinition) *customFieldRow {
	return &customFieldRow{
		OrgID: orgID, Key: d.Key, Label: d.Label, Type: string(d.Type), Choices: d.Choices,
		Required: d.Required, Position: d.Position, ArchivedAt: d.ArchivedAt,
		CreatedAt: d.CreatedAt, UpdatedAt: d.UpdatedAt,
	}
}

func (r *customFieldRow) toDomain() crm.CustomFieldDefinition {
	d := crm.CustomFieldDefinition{
		Key: r.Key, Label: r.Label, Type: crm.FieldType(r.Type), Choices: r.Choices,
		Required: r.Required, Position: r.Position, CreatedAt: utc(r.CreatedAt), UpdatedAt: utc(r.UpdatedAt),
	}
	if r.ArchivedAt != nil {
		t := utc(*r.ArchivedAt)
		d.ArchivedAt = &t
	}
	return d
}

type historyRow struct {
	bun.BaseModel `bun:"table:history_events"`

	ID         string         `bun:"id,pk"`
	OrgID      string         `bun:"org_id,pk"`
	CustomerID string         `bun:"customer_id"`
	Kind       string         `bun:"kind"`
	ActorKind  string         `bun:"actor_kind"`
	ActorID    string         `bun:"actor_id"`
	At         time.Time      `bun:"at"`
	Changes    historyChanges `bun:"changes"`
}

func historyToRow(e *crm.HistoryEvent) historyRow {
	return historyRow{
		ID: e.ID, OrgID: e.OrgID, CustomerID: e.CustomerID, Kind: string(e.Kind),
		ActorKind: string(e.Actor.Kind), ActorID: e.Actor.ID, At: e.At, Changes: historyChanges(e.Changes),
	}
}

func (r *historyRow) toDomain() crm.HistoryEvent {
	return crm.HistoryEvent{
		ID: r.ID, OrgID: r.OrgID, CustomerID: r.CustomerID, Kind: crm.EventKind(r.Kind),
		Actor: crm.Actor{Kind: crm.ActorKind(r.ActorKind), ID: r.ActorID}, At: utc(r.At), Changes: []crm.FieldChange(r.Changes),
	}
}

// utc normalises a time read back from either driver (some return Local).
func utc(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// date stores a crm.Date as 'YYYY-MM-DD': a DATE on PostgreSQL, TEXT on
// SQLite, comparable as text on both. A nil *date is NULL.
type date struct{ crm.Date }

func toDate(d *crm.Date) *date {
	if d == nil {
		return nil
	}
	return &date{*d}
}

func (d *date) domain() *crm.Date {
	if d == nil {
		return nil
	}
	v := d.Date
	return &v
}

// Value implements driver.Valuer.
func (d date) Value() (driver.Value, error) { return d.String(), nil }

// Scan implements sql.Scanner for DATE values (time.Time) and text.
func (d *date) Scan(src any) error {
	switch v := src.(type) {
	case time.Time:
		d.Date = crm.DateOf(v) // midnight in whatever zone the driver chose
		return nil
	case string:
		return d.parse(v)
	case []byte:
		return d.parse(string(v))
	}
	return fmt.Errorf("cannot read %T as a date", src)
}

func (d *date) parse(s string) error {
	if len(s) > 10 {
		s = s[:10] // "2006-01-02 00:00:00+00:00" from drivers that render DATE as a timestamp
	}
	v, err := crm.ParseDate(s)
	d.Date = v
	return err
}
