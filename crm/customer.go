package crm

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/nyaruka/phonenumbers"
)

// CustomerStatus is where a customer stands in the relationship.
type CustomerStatus string

// The customer statuses.
const (
	StatusLead     CustomerStatus = "lead"     // showed interest, has not booked
	StatusProspect CustomerStatus = "prospect" // in talks, e.g. an open inquiry
	StatusCustomer CustomerStatus = "customer" // has booked; the default
	StatusInactive CustomerStatus = "inactive" // no longer active
)

// PhoneKind says what a phone number is for.
type PhoneKind string

// The phone kinds.
const (
	PhoneMobile PhoneKind = "mobile"
	PhoneHome   PhoneKind = "home"
	PhoneWork   PhoneKind = "work"
	PhoneOther  PhoneKind = "other"
)

// Phone is one phone number of a customer. Number is accepted in any format
// the organisation's country understands and stored in E.164 ("+31612345678").
type Phone struct {
	Kind   PhoneKind `json:"kind" validate:"omitempty,oneof=mobile home work other"`
	Number string    `json:"number" validate:"required,max=40"`
}

// Address is a postal address. Country is ISO 3166-1 alpha-2.
type Address struct {
	Street      string `json:"street,omitempty" validate:"max=200"`
	HouseNumber string `json:"houseNumber,omitempty" validate:"max=20"`
	PostalCode  string `json:"postalCode,omitempty" validate:"max=20"`
	City        string `json:"city,omitempty" validate:"max=100"`
	Country     string `json:"country,omitempty"`
}

// CustomerFields are the fields of a customer that callers write: the input
// of Create, and the editable part of Customer.
type CustomerFields struct {
	FirstName string `json:"firstName,omitempty" validate:"max=100"`
	// MiddleName holds name particles ("van der") and middle names.
	MiddleName string  `json:"middleName,omitempty" validate:"max=100"`
	LastName   string  `json:"lastName,omitempty" validate:"max=100"`
	Company    string  `json:"company,omitempty" validate:"max=200"`
	Address    Address `json:"address"`
	Phones     []Phone `json:"phones,omitempty" validate:"max=20,dive"`
	BirthDate  *Date   `json:"birthDate,omitempty"`
	// PassportExpiry is the expiry date of the customer's passport (travel).
	PassportExpiry *Date          `json:"passportExpiry,omitempty"`
	Status         CustomerStatus `json:"status,omitempty" validate:"omitempty,oneof=lead prospect customer inactive"`
	// Origin is how the customer found the business ("website", "fair 2026").
	Origin string `json:"origin,omitempty" validate:"max=100"`
	// FirstContact is the date of the first contact; today when not given.
	FirstContact *Date `json:"firstContact,omitempty"`
	// LoginEmail is the address of the customer's portal account: unique
	// within the organisation, compared without regard to case.
	LoginEmail string `json:"loginEmail,omitempty" validate:"omitempty,max=254"`
	// Email is the correspondence address; several customers may share one.
	Email string `json:"email,omitempty" validate:"omitempty,max=254"`
	// AltEmails are further addresses; search by e-mail finds them too.
	AltEmails []string `json:"altEmails,omitempty" validate:"max=20,dive,required,max=254"`
	// Language (BCP 47) is the communication language every generated mail
	// uses; the organisation's default when not given.
	Language string `json:"language,omitempty"`
	// InternalDescription is for staff only and is never shown to the customer.
	InternalDescription string `json:"internalDescription,omitempty" validate:"max=10000" text:"multiline"`
	Remarks             string `json:"remarks,omitempty" validate:"max=10000" text:"multiline"`
	// NoPost: send the customer no post. It is the consent log's word on
	// the post purpose (withdrawn): setting it appends a consent record,
	// and withdrawing or giving that consent sets it.
	NoPost bool `json:"noPost"`
	// NoMailings: leave the customer out of mailing selections. Like
	// NoPost, it is the consent log's word on the mailings purpose.
	NoMailings bool `json:"noMailings"`
	// AssignedTo is the staff user responsible for the customer.
	AssignedTo string `json:"assignedTo,omitempty" validate:"max=100"`
	// CustomFields holds the values of the organisation's custom fields by
	// key. Text values may span lines.
	CustomFields map[string]any `json:"customFields,omitempty" text:"multiline"`
}

// Customer is one customer's record.
type Customer struct {
	ID    string `json:"id"`
	OrgID string `json:"-"`
	// Number is the human-facing customer number, a sequence per organisation.
	Number int64 `json:"number"`
	CustomerFields
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
	// LastActivityAt is the last time anything happened with the customer.
	LastActivityAt time.Time `json:"lastActivityAt"`
	// Version increases with every change; updates name the version they
	// were based on (optimistic locking).
	Version int `json:"version"`
	// AnonymisedAt is set once the customer was anonymised (GDPR Art. 17):
	// the record holds no personal data any more and cannot be changed.
	AnonymisedAt *time.Time `json:"anonymisedAt,omitempty"`
	// LatestReview is the score of the customer's latest review from a
	// connected tool (an interaction of kind "review"). Get and the
	// results of Interactions.Record fill it; lists leave it out.
	LatestReview *CustomerReview `json:"latestReview,omitempty"`
	// LatestNote is the customer's newest note (by its time, see
	// NoteService.Latest). Get fills it; lists leave it out.
	LatestNote *Note `json:"latestNote,omitempty"`
	// SortKey orders the customer by name in the organisation's language
	// (see SortName); computed on every write, never sent to clients.
	SortKey []byte `json:"-"`
}

// DisplayName is the name staff see in lists: the person's name, else the company.
func (c *Customer) DisplayName() string {
	name := strings.Join(strings.Fields(c.FirstName+" "+c.MiddleName+" "+c.LastName), " ")
	if name == "" {
		return c.Company
	}
	return name
}

// CustomerPatch changes some fields of a customer; nil fields stay as they
// are. A pointer to an empty string clears a text field; a pointer to a zero
// Date clears a date. In CustomFields a key with a nil value removes that
// value; keys not named stay.
//
// Decoded from JSON it is a merge patch (RFC 7396): a member left out stays,
// a member set to null is cleared ("birthDate": null), and in customFields a
// key set to null removes that value. The nullable tags say so in the
// OpenAPI document of the HTTP API.
type CustomerPatch struct {
	FirstName           *string         `json:"firstName,omitempty" nullable:"true"`
	MiddleName          *string         `json:"middleName,omitempty" nullable:"true"`
	LastName            *string         `json:"lastName,omitempty" nullable:"true"`
	Company             *string         `json:"company,omitempty" nullable:"true"`
	Address             *Address        `json:"address,omitempty"`
	Phones              *[]Phone        `json:"phones,omitempty" nullable:"true"`
	BirthDate           *Date           `json:"birthDate,omitempty" nullable:"true"`
	PassportExpiry      *Date           `json:"passportExpiry,omitempty" nullable:"true"`
	Status              *CustomerStatus `json:"status,omitempty"`
	Origin              *string         `json:"origin,omitempty" nullable:"true"`
	FirstContact        *Date           `json:"firstContact,omitempty" nullable:"true"`
	LoginEmail          *string         `json:"loginEmail,omitempty" nullable:"true"`
	Email               *string         `json:"email,omitempty" nullable:"true"`
	AltEmails           *[]string       `json:"altEmails,omitempty" nullable:"true"`
	Language            *string         `json:"language,omitempty"`
	InternalDescription *string         `json:"internalDescription,omitempty" nullable:"true"`
	Remarks             *string         `json:"remarks,omitempty" nullable:"true"`
	NoPost              *bool           `json:"noPost,omitempty"`
	NoMailings          *bool           `json:"noMailings,omitempty"`
	AssignedTo          *string         `json:"assignedTo,omitempty" nullable:"true"`
	CustomFields        map[string]any  `json:"customFields,omitempty"`
}

// UnmarshalJSON decodes a merge patch: members set to null become pointers
// to the zero value, which clear the field (see CustomerPatch).
func (p *CustomerPatch) UnmarshalJSON(b []byte) error {
	type plain CustomerPatch // without this method
	var decoded plain
	if err := json.Unmarshal(b, &decoded); err != nil {
		return err
	}
	var members map[string]json.RawMessage
	if err := json.Unmarshal(b, &members); err != nil {
		return err
	}
	*p = CustomerPatch(decoded)
	v := reflect.ValueOf(p).Elem()
	for i := range v.NumField() {
		f := v.Type().Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		raw, ok := members[name]
		if !ok || f.Type.Kind() != reflect.Pointer || string(bytes.TrimSpace(raw)) != "null" {
			continue
		}
		v.Field(i).Set(reflect.New(f.Type.Elem()))
	}
	return nil
}

// apply returns f with the patch applied.
func (p CustomerPatch) apply(f CustomerFields) CustomerFields {
	set := func(dst *string, src *string) {
		if src != nil {
			*dst = *src
		}
	}
	setDate := func(dst **Date, src *Date) {
		if src != nil {
			if src.IsZero() {
				*dst = nil
			} else {
				d := *src
				*dst = &d
			}
		}
	}
	set(&f.FirstName, p.FirstName)
	set(&f.MiddleName, p.MiddleName)
	set(&f.LastName, p.LastName)
	set(&f.Company, p.Company)
	set(&f.Origin, p.Origin)
	set(&f.LoginEmail, p.LoginEmail)
	set(&f.Email, p.Email)
	set(&f.Language, p.Language)
	set(&f.InternalDescription, p.InternalDescription)
	set(&f.Remarks, p.Remarks)
	set(&f.AssignedTo, p.AssignedTo)
	setDate(&f.BirthDate, p.BirthDate)
	setDate(&f.PassportExpiry, p.PassportExpiry)
	setDate(&f.FirstContact, p.FirstContact)
	if p.Address != nil {
		f.Address = *p.Address
	}
	if p.Phones != nil {
		f.Phones = append([]Phone(nil), *p.Phones...)
	}
	if p.AltEmails != nil {
		f.AltEmails = append([]string(nil), *p.AltEmails...)
	}
	if p.Status != nil {
		f.Status = *p.Status
	}
	if p.NoPost != nil {
		f.NoPost = *p.NoPost
	}
	if p.NoMailings != nil {
		f.NoMailings = *p.NoMailings
	}
	if p.CustomFields != nil {
		merged := make(map[string]any, len(f.CustomFields)+len(p.CustomFields))
		for k, v := range f.CustomFields {
			merged[k] = v
		}
		for k, v := range p.CustomFields {
			if v == nil {
				delete(merged, k)
			} else {
				merged[k] = v
			}
		}
		f.CustomFields = merged
	}
	return f
}

// CustomerGetParams names one customer by exactly one of ID, Number or
// LoginEmailKey (see EmailKey).
type CustomerGetParams struct {
	OrgID         string
	ID            string
	Number        int64
	LoginEmailKey string
	// Latest asks for the customer's latest review and latest note as well
	// (Customer.LatestReview, LatestNote; see ReviewGet and NoteLatest),
	// read together with the customer.
	Latest bool
}

// CustomerStore keeps customer records and their search indexes (name keys,
// e-mail addresses, phone numbers), which it keeps in sync on every write.
type CustomerStore interface {
	// CustomerInsert stores a new customer. A login e-mail already used in
	// the organisation is a *ConflictError on "loginEmail".
	CustomerInsert(ctx context.Context, c *Customer) error
	// CustomerGet returns one customer or ErrNotFound.
	CustomerGet(ctx context.Context, p CustomerGetParams) (*Customer, error)
	// CustomerUpdate stores c if its stored version is still
	// before.Version (else ErrStaleVersion; ErrNotFound when it does not
	// exist). before is the customer as the caller read it from the store,
	// unchanged: its names and contacts say which search keys c replaces,
	// so the store need not read them again.
	CustomerUpdate(ctx context.Context, c *Customer, before *Customer) error
	// CustomerTouch records activity on a customer (its last-activity time)
	// and locks its row until the transaction ends, so that changes of
	// the customer's linked data (tags) run one after the other. ErrNotFound
	// when there is no such customer; ErrAnonymised when it is anonymised,
	// so that nothing new is linked to an anonymised customer.
	CustomerTouch(ctx context.Context, orgID, id string, at time.Time) error
	// CustomerDelete removes a customer, its search indexes and its history.
	CustomerDelete(ctx context.Context, orgID, id string) error
	// CustomerList returns up to Limit customers matching p, in p.Sort
	// order, after the keyset position p names.
	CustomerList(ctx context.Context, p CustomerListParams) ([]Customer, error)
	// CustomerCount counts the customers matching p (its sort, position and
	// limit do not apply).
	CustomerCount(ctx context.Context, p CustomerListParams) (int64, error)
	// CustomerSortKeysRebuild recomputes the sort key of every customer of
	// the organisation with key, after its language changed.
	CustomerSortKeysRebuild(ctx context.Context, orgID string, key func(*CustomerFields) []byte) error
}

// CustomerService creates, reads, changes and finds the customers of the
// context's organisation. Every change writes a history event in the same
// transaction.
type CustomerService struct {
	*core
	consents *ConsentService
	portal   *PortalService
}

// Create adds a customer. It needs at least a name, a company or an e-mail
// address. Empty Language becomes the organisation's default, empty Status
// "customer", empty FirstContact today. Concurrent creates of one
// organisation may commit in one transaction (GroupTxStore); each still
// succeeds or fails on its own, and returns after its commit.
func (s *CustomerService) Create(ctx context.Context, in CustomerFields) (*Customer, error) {
	sc, err := s.writeScope(ctx)
	if err != nil {
		return nil, err
	}
	org, defs, err := s.rules(ctx, sc)
	if err != nil {
		return nil, err
	}
	now := s.now()
	if in.Status == "" {
		in.Status = StatusCustomer
	}
	if in.Language == "" {
		in.Language = org.DefaultLanguage
	}
	if in.FirstContact == nil {
		today := DateOf(now)
		in.FirstContact = &today
	}
	fields, err := s.check(sc, org, defs, in, nil)
	if err != nil {
		return nil, err
	}
	c := &Customer{
		ID:             newID(),
		OrgID:          sc.org,
		CustomerFields: fields,
		CreatedAt:      now,
		UpdatedAt:      now,
		LastActivityAt: now,
		Version:        1,
		SortKey:        SortKey(org.DefaultLanguage, &fields),
	}
	// Concurrent creates of one organisation share a transaction (group
	// commit, see GroupTxStore): they take turns at the organisation's
	// number counter from the moment one takes a number until it commits,
	// so one commit for several creates is what lets them scale. Each
	// create is a savepoint of its own: a failing one (a login e-mail
	// already taken) takes no number and undoes nothing of the others'.
	err = inGroupTx(ctx, s.store, "customers/"+sc.org, func(ctx context.Context, tx Store) error {
		// The history event first: the number is the organisation's
		// counter, which concurrent creates wait for from the moment one
		// takes it until it commits, so as little as possible comes after.
		// (In a batch the store holds the counter for the batch, counts on
		// in memory and sends the event with the customer's rows; see
		// crm/store/groupbatch.go.)
		if err := tx.HistoryAppend(ctx, s.event(sc, c.ID, EventCustomerCreated, now, diffCustomer(nil, c))); err != nil {
			return err
		}
		number, err := tx.OrganisationNextCustomerNumber(ctx, sc.org)
		if err != nil {
			return err
		}
		c.Number = number
		if err := tx.CustomerInsert(ctx, c); err != nil {
			return err
		}
		if err := s.consents.recordContactFlags(ctx, tx, sc, nil, c); err != nil {
			return err
		}
		// A MergeableJob: the creates of one batch get one check for all.
		if err := enqueueDuplicateCheck(ctx, tx, sc.org, c.ID); err != nil {
			return err
		}
		return s.portal.onRegistration(ctx, tx, sc, c)
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// Get returns a customer by id.
func (s *CustomerService) Get(ctx context.Context, id string) (*Customer, error) {
	sc, err := readScope(ctx)
	if err != nil {
		return nil, err
	}
	if !validID(id) {
		return nil, &notFoundError{what: "customer " + id}
	}
	// The latest review from a connected tool and the latest note show
	// on the customer.
	return s.store.CustomerGet(ctx, CustomerGetParams{OrgID: sc.org, ID: id, Latest: true})
}

// GetByNumber returns a customer by its customer number.
func (s *CustomerService) GetByNumber(ctx context.Context, number int64) (*Customer, error) {
	sc, err := readScope(ctx)
	if err != nil {
		return nil, err
	}
	if number <= 0 {
		return nil, &notFoundError{what: "customer with that number"}
	}
	return s.store.CustomerGet(ctx, CustomerGetParams{OrgID: sc.org, Number: number})
}

// GetByLoginEmail returns the customer whose portal login is email, compared
// without regard to case.
func (s *CustomerService) GetByLoginEmail(ctx context.Context, email string) (*Customer, error) {
	sc, err := readScope(ctx)
	if err != nil {
		return nil, err
	}
	v := newValidation(sc.lang)
	if v.checkString("email", &email); v.err() != nil {
		return nil, v.err()
	}
	key := EmailKey(email)
	if key == "" {
		return nil, &notFoundError{what: "customer with that login e-mail"}
	}
	return s.store.CustomerGet(ctx, CustomerGetParams{OrgID: sc.org, LoginEmailKey: key})
}

// Update applies patch to the customer if it is still at expectedVersion.
// When someone else changed the customer first the result is ErrStaleVersion
// (which matches ErrConflict) and nothing is written. An update that changes
// nothing writes nothing and returns the customer as it is.
func (s *CustomerService) Update(ctx context.Context, id string, expectedVersion int, patch CustomerPatch) (*Customer, error) {
	sc, err := s.writeScope(ctx)
	if err != nil {
		return nil, err
	}
	if expectedVersion <= 0 {
		v := newValidation(sc.lang)
		v.add("version", "version", "")
		return nil, v.err()
	}
	if !validID(id) {
		return nil, &notFoundError{what: "customer " + id}
	}
	org, defs, err := s.rules(ctx, sc)
	if err != nil {
		return nil, err
	}
	var updated *Customer
	err = s.store.InTx(ctx, func(tx Store) error {
		old, err := tx.CustomerGet(ctx, CustomerGetParams{OrgID: sc.org, ID: id})
		if err != nil {
			return err
		}
		if old.Version != expectedVersion {
			return ErrStaleVersion
		}
		if old.AnonymisedAt != nil {
			return ErrAnonymised
		}
		fields, err := s.check(sc, org, defs, patch.apply(old.CustomerFields), old)
		if err != nil {
			return err
		}
		next := *old
		next.CustomerFields = fields
		next.SortKey = SortKey(org.DefaultLanguage, &fields)
		changes := diffCustomer(old, &next)
		if len(changes) == 0 {
			updated = old
			return nil
		}
		now := s.now()
		next.UpdatedAt, next.LastActivityAt, next.Version = now, now, old.Version+1
		if err := tx.CustomerUpdate(ctx, &next, old); err != nil {
			return err
		}
		if err := tx.HistoryAppend(ctx, s.event(sc, id, EventCustomerUpdated, now, changes)); err != nil {
			return err
		}
		if err := staffOrigins(ctx, tx, sc, id, changes, now); err != nil {
			return err
		}
		if duplicateFieldsChanged(changes) {
			if err := enqueueDuplicateCheck(ctx, tx, sc.org, id); err != nil {
				return err
			}
		}
		updated = &next
		// The record already holds the new flags, so the consent records
		// only append: the row is not written twice.
		return s.consents.recordContactFlags(ctx, tx, sc, old, &next)
	})
	if err != nil {
		return nil, err
	}
	return updated, nil
}

// Delete removes a customer with its timeline. One "customer.deleted" event,
// without personal data, stays to say who deleted it and when.
func (s *CustomerService) Delete(ctx context.Context, id string) error {
	sc, err := s.writeScope(ctx)
	if err != nil {
		return err
	}
	if !validID(id) {
		return &notFoundError{what: "customer " + id}
	}
	var released []string
	err = s.store.InTx(ctx, func(tx Store) error {
		released = released[:0]
		old, err := tx.CustomerGet(ctx, CustomerGetParams{OrgID: sc.org, ID: id})
		if err != nil {
			return err
		}
		// Documents and mails first, letting go of their contents.
		if err := s.dropFiles(ctx, tx, sc.org, id, &released); err != nil {
			return err
		}
		if err := tx.CustomerDelete(ctx, sc.org, id); err != nil {
			return err
		}
		return tx.HistoryAppend(ctx, s.event(sc, id, EventCustomerDeleted, s.now(),
			[]FieldChange{{Field: "number", Old: old.Number}}))
	})
	if err != nil {
		return err
	}
	return s.removeBlobs(ctx, sc.org, released)
}

// rules loads what validating a customer needs: the organisation (language,
// country) and its custom field definitions.
func (s *CustomerService) rules(ctx context.Context, sc scope) (*Organisation, []CustomFieldDefinition, error) {
	org, defs, err := s.store.OrganisationRules(ctx, sc.org)
	if err != nil {
		return nil, nil, organisationMissing(sc, err)
	}
	return org, defs, nil
}

// check validates and normalises the fields of a customer. old is the
// stored customer on update, nil on create.
func (s *CustomerService) check(sc scope, org *Organisation, defs []CustomFieldDefinition, f CustomerFields, old *Customer) (CustomerFields, error) {
	v := newValidation(sc.lang)
	v.checkText("", &f)
	trim := func(ps ...*string) {
		for _, p := range ps {
			*p = strings.TrimSpace(*p)
		}
	}
	trim(&f.FirstName, &f.MiddleName, &f.LastName, &f.Company, &f.Origin, &f.LoginEmail,
		&f.Email, &f.Language, &f.AssignedTo, &f.Address.Street, &f.Address.HouseNumber,
		&f.Address.PostalCode, &f.Address.City, &f.Address.Country)
	f.InternalDescription = strings.TrimSpace(f.InternalDescription)
	f.Remarks = strings.TrimSpace(f.Remarks)
	// Normalising writes into the slices: never into the caller's.
	f.Phones = slices.Clone(f.Phones)
	f.AltEmails = slices.Clone(f.AltEmails)

	v.addStruct(s.validate, f)
	if f.Status == "" {
		v.add("status", "required", "")
	}
	if f.FirstName == "" && f.LastName == "" && f.Company == "" && f.LoginEmail == "" && f.Email == "" {
		v.add("lastName", "required", "")
	}
	for _, e := range []struct {
		field string
		addr  *string
	}{{"loginEmail", &f.LoginEmail}, {"email", &f.Email}} {
		if *e.addr != "" && !v.has(e.field) && !validEmail(*e.addr) {
			v.add(e.field, "email", "")
		}
	}
	seenEmail := map[string]bool{}
	for i := range f.AltEmails {
		field := "altEmails[" + strconv.Itoa(i) + "]"
		f.AltEmails[i] = strings.TrimSpace(f.AltEmails[i])
		switch key := EmailKey(f.AltEmails[i]); {
		case v.has(field):
		case !validEmail(f.AltEmails[i]):
			v.add(field, "email", "")
		case seenEmail[key]:
			v.add(field, "duplicate", "")
		default:
			seenEmail[key] = true
		}
	}

	for i := range f.Phones {
		field := "phones[" + strconv.Itoa(i) + "].number"
		if f.Phones[i].Kind == "" {
			f.Phones[i].Kind = PhoneMobile
		}
		if v.has(field) {
			continue
		}
		e164, ok := parsePhone(f.Phones[i].Number, org.DefaultCountry)
		if !ok {
			v.add(field, "phone", "")
			continue
		}
		f.Phones[i].Number = e164
	}

	f.Address.Country = checkCountry(v, "address.country", f.Address.Country)
	f.Language = checkLanguage(v, "language", f.Language)

	today := DateOf(s.now())
	if f.BirthDate != nil && f.BirthDate.After(today) {
		v.add("birthDate", "future", "")
	}
	if f.FirstContact != nil && f.FirstContact.After(today) {
		v.add("firstContact", "future", "")
	}

	var oldValues map[string]any
	if old != nil {
		oldValues = old.CustomFields
	}
	f.CustomFields = checkCustomFields(v, defs, f.CustomFields, oldValues, old == nil, org.DefaultCountry)
	if len(f.Phones) == 0 {
		f.Phones = nil
	}
	if len(f.AltEmails) == 0 {
		f.AltEmails = nil
	}
	return f, v.err()
}

// AddAltEmail adds an alternative e-mail address to a customer. Unlike
// Update it needs no version: adding one address cannot overwrite anyone
// else's change. An address the customer already has (compared without
// regard to case) is a *ConflictError on "email".
func (s *CustomerService) AddAltEmail(ctx context.Context, id, email string) (*Customer, error) {
	v := newValidation(languageFrom(ctx))
	v.checkString("email", &email)
	email = strings.TrimSpace(email)
	if !v.has("email") && !validEmail(email) {
		v.add("email", "email", "")
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	return s.patchLatest(ctx, id, func(c *Customer) (CustomerPatch, error) {
		for _, e := range c.AltEmails {
			if EmailKey(e) == EmailKey(email) {
				return CustomerPatch{}, &ConflictError{Field: "email", Reason: "already an alternative address of this customer"}
			}
		}
		emails := append(slices.Clone(c.AltEmails), email)
		return CustomerPatch{AltEmails: &emails}, nil
	})
}

// RemoveAltEmail removes an alternative e-mail address (compared without
// regard to case) from a customer; ErrNotFound when the customer does not
// have it.
func (s *CustomerService) RemoveAltEmail(ctx context.Context, id, email string) (*Customer, error) {
	return s.patchLatest(ctx, id, func(c *Customer) (CustomerPatch, error) {
		emails := slices.DeleteFunc(slices.Clone(c.AltEmails), func(e string) bool { return EmailKey(e) == EmailKey(email) })
		if len(emails) == len(c.AltEmails) {
			return CustomerPatch{}, &notFoundError{what: "alternative e-mail " + email + " on this customer"}
		}
		return CustomerPatch{AltEmails: &emails}, nil
	})
}

// patchLatest applies a patch computed from the customer's current state,
// retrying when another change lands between the read and the write. It is
// for changes that are right whatever the version (adding one address), not
// for edits a person made on a form they read earlier: those use Update.
func (s *CustomerService) patchLatest(ctx context.Context, id string, change func(*Customer) (CustomerPatch, error)) (*Customer, error) {
	const attempts = 5
	for range attempts - 1 {
		c, err := s.Get(ctx, id)
		if err != nil {
			return nil, err
		}
		patch, err := change(c)
		if err != nil {
			return nil, err
		}
		updated, err := s.Update(ctx, id, c.Version, patch)
		if !errors.Is(err, ErrStaleVersion) {
			return updated, err
		}
	}
	return nil, ErrStaleVersion
}

// parsePhone reads a phone number written in any format the region's
// numbering plan understands and returns it in E.164.
//
// A number is read several times on its way in (the file's or the form's
// text, then its E.164 form by the checks and the match keys), and each
// reading is a full parse of the numbering plan: the last outcomes are
// remembered (phoneMemo).
func parsePhone(raw, region string) (string, bool) {
	if region == "" {
		region = "ZZ" // unknown region: only numbers with a + prefix parse
	}
	slot := &phoneMemos[phoneMemoSlot(raw, region)]
	if m := slot.Load(); m != nil && m.raw == raw && m.region == region {
		return m.e164, m.ok
	}
	e164, ok := parsePhoneOnce(raw, region)
	slot.Store(&phoneMemo{raw: raw, region: region, e164: e164, ok: ok})
	if ok && e164 != raw {
		// The next reading is of the E.164 form (the checks, the match
		// keys), which parses to itself.
		phoneMemos[phoneMemoSlot(e164, region)].Store(&phoneMemo{raw: e164, region: region, e164: e164, ok: true})
	}
	return e164, ok
}

// parsePhoneOnce is parsePhone without the memo.
func parsePhoneOnce(raw, region string) (string, bool) {
	if e164, ok, decided := parseE164(raw); decided {
		return e164, ok
	}
	return parsePhoneFully(raw, region)
}

// parsePhoneFully is parsePhoneOnce through phonenumbers.Parse, whatever
// the form of raw.
func parsePhoneFully(raw, region string) (string, bool) {
	num, err := phonenumbers.Parse(raw, region)
	if err != nil {
		return "", false
	}
	return checkedE164(num)
}

// phoneMemo is one remembered outcome of parsePhone. phoneMemos is a
// direct-mapped table of them (a slot keeps the last number hashed to it),
// safe for concurrent use and bounded whatever the numbers read.
type phoneMemo struct {
	raw, region, e164 string
	ok                bool
}

// Its size holds the two forms of the numbers of an import's batch
// (ImportBatchSize rows) with few collisions.
var phoneMemos [8192]atomic.Pointer[phoneMemo]

// phoneMemoSlot hashes a number and region (FNV-1a) to a slot of phoneMemos.
func phoneMemoSlot(raw, region string) int {
	h := uint32(2166136261)
	for i := 0; i < len(raw); i++ {
		h = (h ^ uint32(raw[i])) * 16777619
	}
	for i := 0; i < len(region); i++ {
		h = (h ^ uint32(region[i])) * 16777619
	}
	return int(h % uint32(len(phoneMemos)))
}

func (c *core) customerExists(ctx context.Context, st CustomerStore, sc scope, id string) error {
	if !validID(id) {
		return &notFoundError{what: "customer " + id}
	}
	_, err := st.CustomerGet(ctx, CustomerGetParams{OrgID: sc.org, ID: id})
	return err
}
