package crm

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// PortalSettings are an organisation's choices about the customer's own
// side (C9, C13): whether registering makes a portal account, which
// optional features are on, and which fields of their record customers may
// change themselves.
type PortalSettings struct {
	// AccountsOnRegistration makes Customers.Create open a portal account
	// for every new customer with an e-mail address and mail the
	// set-password link.
	AccountsOnRegistration bool `json:"accountsOnRegistration"`
	// ItinerariesEnabled switches saved itineraries on; off, every
	// itinerary call is ErrFeatureOff.
	ItinerariesEnabled bool `json:"itinerariesEnabled"`
	// ContestsEnabled switches contests on; off, every contest call is ErrFeatureOff.
	ContestsEnabled bool `json:"contestsEnabled"`
	// EditableFields are the fields (JSON names, from PortalEditableFields)
	// customers may change from the portal. Empty: none.
	EditableFields []string  `json:"editableFields"`
	UpdatedAt      time.Time `json:"updatedAt,omitzero"`
}

// PortalSettingsPatch changes portal settings; nil fields stay.
type PortalSettingsPatch struct {
	AccountsOnRegistration *bool     `json:"accountsOnRegistration,omitempty"`
	ItinerariesEnabled     *bool     `json:"itinerariesEnabled,omitempty"`
	ContestsEnabled        *bool     `json:"contestsEnabled,omitempty"`
	EditableFields         *[]string `json:"editableFields,omitempty"`
}

// PortalEditableFields are the customer fields an organisation may let
// customers change from the portal. Staff-only fields (the internal
// description, remarks, status, origin, the assigned staff member), the
// first-contact date and the login e-mail (the account's name) are never
// among them.
var PortalEditableFields = []string{"firstName", "middleName", "lastName", "company", "address", "phones",
	"birthDate", "passportExpiry", "email", "altEmails", "language", "noPost", "noMailings", "customFields"}

// PortalAccount is a customer's login for the organisation's portal (a
// web user): a login e-mail, a password kept only as an argon2id hash,
// connected to at most one customer. An account without a customer cannot
// sign in.
type PortalAccount struct {
	ID string `json:"id"`
	// CustomerID is the connected customer; empty when disconnected.
	CustomerID string `json:"customerId,omitempty"`
	Email      string `json:"email"`
	// PasswordSet says whether a password was ever set (never the password).
	PasswordSet   bool       `json:"passwordSet"`
	PasswordSetAt *time.Time `json:"passwordSetAt,omitempty"`
	LastSignInAt  *time.Time `json:"lastSignInAt,omitempty"`
	CreatedAt     time.Time  `json:"createdAt"`
	UpdatedAt     time.Time  `json:"updatedAt"`

	// PasswordHash is the argon2id PHC string; empty before a password is set.
	PasswordHash string `json:"-"`
	// FailedSignIns counts failed sign-ins since the last good one.
	FailedSignIns int `json:"-"`
	// ThrottledUntil: sign-ins are refused until then.
	ThrottledUntil *time.Time `json:"-"`
}

// PortalSession is a signed-in customer. Its token is shown once, at
// sign-in; only its hash is stored.
type PortalSession struct {
	ID         string    `json:"id"`
	OrgID      string    `json:"-"`
	AccountID  string    `json:"accountId"`
	CustomerID string    `json:"customerId"`
	CreatedAt  time.Time `json:"createdAt"`
	LastSeenAt time.Time `json:"lastSeenAt"`
	// ExpiresAt is the absolute end; an idle session ends earlier
	// (Config.PortalSessionIdle after LastSeenAt).
	ExpiresAt time.Time `json:"expiresAt"`
}

// PortalClient is what the portal knows of the client signing in: it goes
// on the customer's timeline with each sign-in.
type PortalClient struct {
	IP        string `json:"ip,omitempty"`
	UserAgent string `json:"userAgent,omitempty"`
}

// PortalStore keeps portal settings, accounts, set-password tokens and
// sessions. Tokens are stored by the SHA-256 of their secret only.
type PortalStore interface {
	// PortalSettingsGet returns the organisation's settings; zero settings when it has none.
	PortalSettingsGet(ctx context.Context, orgID string) (*PortalSettings, error)
	PortalSettingsPut(ctx context.Context, orgID string, s *PortalSettings) error
	// PortalAccountInsert stores a new account; a taken e-mail (by
	// EmailKey) or a customer with an account already is ErrConflict.
	PortalAccountInsert(ctx context.Context, orgID string, a *PortalAccount) error
	// PortalAccountGet returns an account by id, by customer (customerID
	// set) or by e-mail key (emailKey set), or ErrNotFound.
	PortalAccountGet(ctx context.Context, orgID string, p PortalAccountGetParams) (*PortalAccount, error)
	// PortalAccountUpdate stores the account's customer, password hash,
	// sign-in counters and times.
	PortalAccountUpdate(ctx context.Context, orgID string, a *PortalAccount) error
	// PortalAccountDeleteOf removes the customer's account with its tokens and sessions.
	PortalAccountDeleteOf(ctx context.Context, orgID, customerID string) error
	// PortalTokenInsert stores a set-password token's hash.
	PortalTokenInsert(ctx context.Context, orgID, tokenHash, accountID string, expiresAt, createdAt time.Time) error
	// PortalTokenPeek returns the account of an unused, unexpired token,
	// or ErrNotFound, without using it.
	PortalTokenPeek(ctx context.Context, orgID, tokenHash string, now time.Time) (string, error)
	// PortalTokenUse marks an unused, unexpired token used at now and
	// returns its account; any other token is ErrNotFound.
	PortalTokenUse(ctx context.Context, orgID, tokenHash string, now time.Time) (string, error)
	// PortalTokensRevoke marks every unused token of the account used.
	PortalTokensRevoke(ctx context.Context, orgID, accountID string, at time.Time) error
	PortalSessionInsert(ctx context.Context, s *PortalSession, tokenHash string) error
	// PortalSessionGet returns a session by its token's hash, with its
	// account's customer (empty when disconnected), or ErrNotFound.
	PortalSessionGet(ctx context.Context, orgID, tokenHash string) (*PortalSession, error)
	PortalSessionTouch(ctx context.Context, orgID, tokenHash string, at time.Time) error
	PortalSessionDelete(ctx context.Context, orgID, tokenHash string) error
	// PortalSessionsRevoke removes every session of the account.
	PortalSessionsRevoke(ctx context.Context, orgID, accountID string) error
}

// PortalAccountGetParams names one account: by ID, CustomerID or EmailKey.
type PortalAccountGetParams struct {
	ID, CustomerID, EmailKey string
}

// The timeline events of portal accounts.
const (
	EventPortalAccountCreated EventKind = "portal.account_created"
	EventPortalLinkSent       EventKind = "portal.link_sent"
	EventPortalPasswordSet    EventKind = "portal.password_set"
	EventPortalSignedIn       EventKind = "portal.signed_in"
	EventPortalConnected      EventKind = "portal.connected"
	EventPortalDisconnected   EventKind = "portal.disconnected"
)

// Defaults of the portal settings in Config.
const (
	DefaultSetPasswordTTL    = 24 * time.Hour
	DefaultPortalSessionIdle = 30 * time.Minute
	DefaultPortalSessionMax  = 8 * time.Hour
	// PortalThrottleAfter failed sign-ins in a row throttle an account:
	// each further failure doubles the wait, from one second up to
	// PortalThrottleMax.
	PortalThrottleAfter = 5
	PortalThrottleMax   = 15 * time.Minute
)

// Prefixes of the portal's secrets, so that a leaked one is recognised
// (and so that the outbox can drop them from mails once delivered): a
// secret is the prefix, the organisation, a dot and 256 random bits.
const (
	setPasswordPrefix = "dpt_"
	sessionPrefix     = "dps_"
	unsubscribePrefix = "dpu_"
)

// secretPattern finds the portal's secrets in text (delivered mails).
var secretPattern = regexp.MustCompile(`dp[tu]_[a-z0-9][a-z0-9_-]*\.[A-Za-z0-9_-]{43}`)

// newSecret returns a secret of prefix for org.
func newSecret(prefix, org string) string {
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		panic(err) // crypto/rand does not fail on supported systems
	}
	return prefix + org + "." + base64.RawURLEncoding.EncodeToString(raw)
}

// secretOrg returns the organisation a secret of prefix names, or false
// when it is not such a secret.
func secretOrg(prefix, secret string) (string, bool) {
	rest, ok := strings.CutPrefix(secret, prefix)
	if !ok || len(secret) > len(prefix)+64+1+43 {
		return "", false
	}
	org, random, ok := strings.Cut(rest, ".")
	if !ok || len(random) != 43 || !orgIDPattern.MatchString(org) {
		return "", false
	}
	return org, true
}

// errSignIn is every refused sign-in: it never says whether the e-mail
// exists, the password was wrong or the account is throttled.
var errSignIn error = &authError{"the e-mail address or the password is not right"}

// errPortalAuth is a missing, unknown, expired or revoked session or link.
var errPortalAuth error = &authError{"not signed in: the session or link is unknown or has expired"}

// authError is a refused credential; it matches ErrUnauthenticated.
type authError struct{ msg string }

func (e *authError) Error() string        { return e.msg }
func (e *authError) Is(target error) bool { return target == ErrUnauthenticated }

// PortalService is the customer's own account (C9): portal accounts,
// set-password links, sign-in and sessions, and what a signed-in customer
// may do with their own dossier.
//
// Staff calls (CreateAccount, SendSetPasswordLink, Connect, ...) read the
// organisation and actor from the context as everywhere. SetPassword and
// Authenticate read the organisation from the secret; SignIn from the
// context. The customer's own calls (Self, UpdateSelf, ...) need a context
// whose actor is the customer (CustomerActor, as the HTTP API's portal
// routes set from the session): they act on that customer only.
type PortalService struct {
	*core
	outbox    *OutboxService
	customers *CustomerService
	consents  *ConsentService
	privacy   *PrivacyService
	documents *DocumentService
	bookings  *BookingService
	// hashing bounds the argon2id computations running at once: each takes
	// 19 MiB, so a burst of sign-ins cannot exhaust memory.
	hashing chan struct{}
}

// Settings returns the organisation's portal settings.
func (s *PortalService) Settings(ctx context.Context) (*PortalSettings, error) {
	sc, err := readScope(ctx)
	if err != nil {
		return nil, err
	}
	return s.settings(ctx, s.store, sc)
}

func (s *PortalService) settings(ctx context.Context, st Store, sc scope) (*PortalSettings, error) {
	ps, err := st.PortalSettingsGet(ctx, sc.org)
	if err != nil {
		return nil, err
	}
	ps.EditableFields = nonNil(ps.EditableFields)
	return ps, nil
}

// UpdateSettings changes the organisation's portal settings.
func (s *PortalService) UpdateSettings(ctx context.Context, p PortalSettingsPatch) (*PortalSettings, error) {
	sc, err := s.writeScope(ctx)
	if err != nil {
		return nil, err
	}
	v := newValidation(sc.lang)
	v.checkText("", &p)
	if p.EditableFields != nil {
		for i, f := range *p.EditableFields {
			if !slices.Contains(PortalEditableFields, f) {
				v.add("editableFields["+strconv.Itoa(i)+"]", "oneof", strings.Join(PortalEditableFields, ", "))
			}
		}
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	var out *PortalSettings
	err = s.store.InTx(ctx, func(tx Store) error {
		if _, err := s.organisation(ctx, tx, sc); err != nil {
			return err
		}
		ps, err := s.settings(ctx, tx, sc)
		if err != nil {
			return err
		}
		if p.AccountsOnRegistration != nil {
			ps.AccountsOnRegistration = *p.AccountsOnRegistration
		}
		if p.ItinerariesEnabled != nil {
			ps.ItinerariesEnabled = *p.ItinerariesEnabled
		}
		if p.ContestsEnabled != nil {
			ps.ContestsEnabled = *p.ContestsEnabled
		}
		if p.EditableFields != nil {
			ps.EditableFields = slices.Compact(slices.Sorted(slices.Values(*p.EditableFields)))
		}
		ps.UpdatedAt = s.now()
		out = ps
		return tx.PortalSettingsPut(ctx, sc.org, ps)
	})
	return out, err
}

// feature returns ErrFeatureOff unless on says the feature is on.
func (s *PortalService) feature(ctx context.Context, st Store, sc scope, on func(*PortalSettings) bool) error {
	ps, err := st.PortalSettingsGet(ctx, sc.org)
	if err != nil {
		return err
	}
	if !on(ps) {
		return ErrFeatureOff
	}
	return nil
}

// CreateAccount opens a portal account for a customer, with email as its
// login (empty: the customer's login e-mail, else the correspondence
// address). A customer with an account, or an e-mail another account
// uses, is ErrConflict. No password is set: send the customer a
// set-password link (SendSetPasswordLink).
func (s *PortalService) CreateAccount(ctx context.Context, customerID, email string) (*PortalAccount, error) {
	sc, err := s.writeScope(ctx)
	if err != nil {
		return nil, err
	}
	v := newValidation(sc.lang)
	v.checkString("email", &email)
	if err := v.err(); err != nil {
		return nil, err
	}
	if !validID(customerID) {
		return nil, &notFoundError{what: "customer " + customerID}
	}
	var out *PortalAccount
	err = s.store.InTx(ctx, func(tx Store) error {
		cust, err := s.lockCustomer(ctx, tx, sc, customerID)
		if err != nil {
			return err
		}
		out, err = s.createAccount(ctx, tx, sc, cust, email)
		return err
	})
	return out, err
}

// lockCustomer locks and reads a customer that can still change.
func (s *PortalService) lockCustomer(ctx context.Context, tx Store, sc scope, customerID string) (*Customer, error) {
	if err := tx.CustomerTouch(ctx, sc.org, customerID, s.now()); err != nil {
		return nil, err
	}
	cust, err := tx.CustomerGet(ctx, CustomerGetParams{OrgID: sc.org, ID: customerID})
	if err != nil {
		return nil, err
	}
	if cust.AnonymisedAt != nil {
		return nil, ErrAnonymised
	}
	return cust, nil
}

func (s *PortalService) createAccount(ctx context.Context, tx Store, sc scope, cust *Customer, email string) (*PortalAccount, error) {
	v := newValidation(sc.lang)
	email = strings.TrimSpace(email)
	for _, e := range []string{email, cust.LoginEmail, cust.Email} {
		if email == "" {
			email = e
		}
	}
	switch {
	case email == "":
		v.add("email", "noAddress", "")
	case len(email) > 254 || !validEmail(email):
		v.add("email", "email", "")
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	now := s.now()
	a := &PortalAccount{ID: newID(), CustomerID: cust.ID, Email: email, CreatedAt: now, UpdatedAt: now}
	if err := tx.PortalAccountInsert(ctx, sc.org, a); err != nil {
		return nil, err
	}
	return a, tx.HistoryAppend(ctx, s.event(sc, cust.ID, EventPortalAccountCreated, now, []FieldChange{
		{Field: "account.id", New: a.ID}, {Field: "account.email", New: email}}))
}

// Account returns the portal account of a customer, or ErrNotFound.
func (s *PortalService) Account(ctx context.Context, customerID string) (*PortalAccount, error) {
	sc, err := readScope(ctx)
	if err != nil {
		return nil, err
	}
	if !validID(customerID) {
		return nil, &notFoundError{what: "portal account of customer " + customerID}
	}
	return s.store.PortalAccountGet(ctx, sc.org, PortalAccountGetParams{CustomerID: customerID})
}

// AccountByID returns a portal account by its id, connected or not.
func (s *PortalService) AccountByID(ctx context.Context, id string) (*PortalAccount, error) {
	sc, err := readScope(ctx)
	if err != nil {
		return nil, err
	}
	if !validID(id) {
		return nil, &notFoundError{what: "portal account " + id}
	}
	return s.store.PortalAccountGet(ctx, sc.org, PortalAccountGetParams{ID: id})
}

// AccountByEmail returns the portal account with a login e-mail (any case).
func (s *PortalService) AccountByEmail(ctx context.Context, email string) (*PortalAccount, error) {
	sc, err := readScope(ctx)
	if err != nil {
		return nil, err
	}
	v := newValidation(sc.lang)
	v.checkString("email", &email)
	if err := v.err(); err != nil {
		return nil, err
	}
	return s.store.PortalAccountGet(ctx, sc.org, PortalAccountGetParams{EmailKey: EmailKey(strings.TrimSpace(email))})
}

// SendSetPasswordLink mails the customer a link to set the password of
// their portal account, in their language, with the built-in (or the
// organisation's own) "set_password" template; it opens the account
// first when there is none. The link holds a single-use secret that
// works for Config.SetPasswordTTL; only its hash is stored, and any
// earlier link stops working. No password is ever mailed. Staff may send
// a new link at any time when the customer has an e-mail address.
func (s *PortalService) SendSetPasswordLink(ctx context.Context, customerID string) (*PortalAccount, error) {
	sc, err := s.writeScope(ctx)
	if err != nil {
		return nil, err
	}
	if !validID(customerID) {
		return nil, &notFoundError{what: "customer " + customerID}
	}
	var out *PortalAccount
	err = s.store.InTx(ctx, func(tx Store) error {
		cust, err := s.lockCustomer(ctx, tx, sc, customerID)
		if err != nil {
			return err
		}
		a, err := tx.PortalAccountGet(ctx, sc.org, PortalAccountGetParams{CustomerID: customerID})
		if errors.Is(err, ErrNotFound) {
			a, err = s.createAccount(ctx, tx, sc, cust, "")
		}
		if err != nil {
			return err
		}
		out = a
		return s.sendLink(ctx, tx, sc, cust, a)
	})
	return out, err
}

// sendLink issues a set-password token for a and queues its mail, in tx.
func (s *PortalService) sendLink(ctx context.Context, tx Store, sc scope, cust *Customer, a *PortalAccount) error {
	now := s.now()
	if err := tx.PortalTokensRevoke(ctx, sc.org, a.ID, now); err != nil {
		return err
	}
	token := newSecret(setPasswordPrefix, sc.org)
	expires := now.Add(s.cfg.SetPasswordTTL)
	if err := tx.PortalTokenInsert(ctx, sc.org, hashSecret(token), a.ID, expires, now); err != nil {
		return err
	}
	// The mail goes to the account's address: that is where the customer signs in.
	to := *cust
	to.Email = a.Email
	data := MailData{Link: mailLink(s.cfg.SetPasswordURL, token), ExpiresAt: expires.Format("2006-01-02 15:04 MST")}
	if _, err := s.outbox.queue(ctx, tx, sc, &to, TemplateSetPassword, "", data, nil); err != nil {
		return err
	}
	return tx.HistoryAppend(ctx, s.event(sc, cust.ID, EventPortalLinkSent, now, []FieldChange{
		{Field: "account.email", New: a.Email}, {Field: "expiresAt", New: expires}}))
}

// onRegistration opens an account and mails its link for a new customer
// when the organisation wants it and the customer has an address; in the
// customer's creating transaction.
func (s *PortalService) onRegistration(ctx context.Context, tx Store, sc scope, cust *Customer) error {
	ps, err := tx.PortalSettingsGet(ctx, sc.org)
	if err != nil || !ps.AccountsOnRegistration || (cust.LoginEmail == "" && cust.Email == "") {
		return err
	}
	a, err := s.createAccount(ctx, tx, sc, cust, "")
	if errors.Is(err, ErrConflict) {
		return nil // the address belongs to another account: staff connect it by hand
	}
	if err != nil {
		return err
	}
	return s.sendLink(ctx, tx, sc, cust, a)
}

// SetPassword sets the password of the account a set-password link was
// made for; the link's secret is token. It works once, before it
// expires; a used, expired, unknown or malformed token is
// ErrUnauthenticated. The password must have at least
// Config.PasswordMinLength characters and not be a common one
// (*ValidationError on "password"). Every session of the account ends.
func (s *PortalService) SetPassword(ctx context.Context, token, password string) error {
	org, ok := secretOrg(setPasswordPrefix, token)
	if !ok {
		return errPortalAuth
	}
	sc := scope{org: org, lang: languageFrom(ctx)}
	// The token is checked first, the password then: a guessed token
	// learns nothing from the password rules.
	hash := hashSecret(token)
	id, err := s.store.PortalTokenPeek(ctx, org, hash, s.now())
	if errors.Is(err, ErrNotFound) {
		return errPortalAuth
	}
	if err != nil {
		return err
	}
	acct, err := s.store.PortalAccountGet(ctx, org, PortalAccountGetParams{ID: id})
	if errors.Is(err, ErrNotFound) {
		return errPortalAuth
	}
	if err != nil {
		return err
	}
	v := newValidation(sc.lang)
	checkPassword(v, "password", password, acct.Email, s.cfg.PasswordMinLength)
	if err := v.err(); err != nil {
		return err
	}
	phc, err := s.hash(ctx, password)
	if err != nil {
		return err
	}
	return s.store.InTx(ctx, func(tx Store) error {
		now := s.now()
		id, err := tx.PortalTokenUse(ctx, org, hash, now)
		if errors.Is(err, ErrNotFound) {
			return errPortalAuth // used meanwhile
		}
		if err != nil {
			return err
		}
		a, err := tx.PortalAccountGet(ctx, org, PortalAccountGetParams{ID: id})
		if err != nil {
			return err
		}
		sc.actor = System()
		if a.CustomerID != "" {
			sc.actor = CustomerActor(a.CustomerID)
		}
		return s.storePassword(ctx, tx, sc, a, phc, now)
	})
}

// storePassword stores a new password hash, ends every session and link
// and lifts the throttle; the customer's timeline records it.
func (s *PortalService) storePassword(ctx context.Context, tx Store, sc scope, a *PortalAccount, phc string, now time.Time) error {
	a.PasswordHash, a.PasswordSetAt, a.UpdatedAt = phc, &now, now
	a.PasswordSet, a.FailedSignIns, a.ThrottledUntil = true, 0, nil
	if err := tx.PortalAccountUpdate(ctx, sc.org, a); err != nil {
		return err
	}
	if err := tx.PortalSessionsRevoke(ctx, sc.org, a.ID); err != nil {
		return err
	}
	if err := tx.PortalTokensRevoke(ctx, sc.org, a.ID, now); err != nil {
		return err
	}
	if a.CustomerID == "" {
		return nil
	}
	return tx.HistoryAppend(ctx, s.event(sc, a.CustomerID, EventPortalPasswordSet, now, nil))
}

// hash computes an argon2id hash, at most cap(hashing) at a time.
func (s *PortalService) hash(ctx context.Context, password string) (string, error) {
	if err := s.acquire(ctx); err != nil {
		return "", err
	}
	defer func() { <-s.hashing }()
	return hashPassword(password)
}

func (s *PortalService) verify(ctx context.Context, phc, password string) (bool, error) {
	if err := s.acquire(ctx); err != nil {
		return false, err
	}
	defer func() { <-s.hashing }()
	return verifyPassword(phc, password)
}

func (s *PortalService) acquire(ctx context.Context) error {
	select {
	case s.hashing <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// SignIn checks a customer's e-mail and password in the context's
// organisation and starts a session: it returns the session and its
// token (shown once; only its hash is stored). Any failure is the same
// ErrUnauthenticated, taking about as long, whether the e-mail exists,
// the password is wrong, the account has no password or customer, or it
// is throttled: after PortalThrottleAfter failures in a row an account
// refuses sign-ins for a while, doubling with each further failure. A
// sign-in goes on the customer's timeline with the client.
func (s *PortalService) SignIn(ctx context.Context, email, password string, client PortalClient) (*PortalSession, string, error) {
	sc, err := readScope(ctx)
	if err != nil {
		return nil, "", err
	}
	v := newValidation(sc.lang)
	v.checkString("email", &email)
	v.checkText("", &client)
	if len(client.UserAgent) > 500 {
		client.UserAgent = client.UserAgent[:500]
	}
	if err := v.err(); err != nil {
		return nil, "", err
	}
	if len(password) > 4*MaxPasswordLength || len(email) > 254 {
		return nil, "", errSignIn
	}
	a, err := s.store.PortalAccountGet(ctx, sc.org, PortalAccountGetParams{EmailKey: EmailKey(strings.TrimSpace(email))})
	if errors.Is(err, ErrNotFound) {
		a, err = nil, nil
	}
	if err != nil {
		return nil, "", err
	}
	phc := dummyHash()
	if a != nil && a.PasswordHash != "" {
		phc = a.PasswordHash
	}
	good, err := s.verify(ctx, phc, password)
	if err != nil {
		return nil, "", err
	}
	if a == nil || a.PasswordHash == "" || a.CustomerID == "" {
		return nil, "", errSignIn
	}
	var sess *PortalSession
	token := newSecret(sessionPrefix, sc.org)
	err = s.store.InTx(ctx, func(tx Store) error {
		now := s.now()
		// Read again under the customer's lock: concurrent failures count each.
		if err := tx.CustomerLock(ctx, sc.org, a.CustomerID); err != nil {
			return err
		}
		a, err := tx.PortalAccountGet(ctx, sc.org, PortalAccountGetParams{ID: a.ID})
		if err != nil {
			return err
		}
		if a.ThrottledUntil != nil && now.Before(*a.ThrottledUntil) {
			return errSignIn // a guess while throttled is not even counted
		}
		if !good || subtle.ConstantTimeCompare([]byte(a.PasswordHash), []byte(phc)) != 1 {
			a.FailedSignIns++
			if n := a.FailedSignIns - PortalThrottleAfter; n >= 0 {
				wait := time.Second << min(n, 20)
				until := now.Add(min(wait, PortalThrottleMax))
				a.ThrottledUntil = &until
			}
			return tx.PortalAccountUpdate(ctx, sc.org, a)
		}
		a.FailedSignIns, a.ThrottledUntil, a.LastSignInAt = 0, nil, &now
		if err := tx.PortalAccountUpdate(ctx, sc.org, a); err != nil {
			return err
		}
		sess = &PortalSession{ID: newID(), OrgID: sc.org, AccountID: a.ID, CustomerID: a.CustomerID,
			CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(s.cfg.PortalSessionMax)}
		if err := tx.PortalSessionInsert(ctx, sess, hashSecret(token)); err != nil {
			return err
		}
		csc := scope{org: sc.org, actor: CustomerActor(a.CustomerID)}
		return tx.HistoryAppend(ctx, s.event(csc, a.CustomerID, EventPortalSignedIn, now, []FieldChange{
			{Field: "client.ip", New: nilIfBlank(client.IP)}, {Field: "client.userAgent", New: nilIfBlank(client.UserAgent)}}))
	})
	if err != nil {
		return nil, "", err
	}
	if sess == nil {
		return nil, "", errSignIn
	}
	return sess, token, nil
}

// sessionTouchResolution is how stale a session's LastSeenAt may be:
// recording every request would make each read a write.
const sessionTouchResolution = time.Minute

// Authenticate returns the session of a token: ErrUnauthenticated when
// the token is unknown, malformed, signed out, past its absolute end,
// idle for longer than Config.PortalSessionIdle, or its account is no
// longer connected to a customer.
func (s *PortalService) Authenticate(ctx context.Context, token string) (*PortalSession, error) {
	org, ok := secretOrg(sessionPrefix, token)
	if !ok {
		return nil, errPortalAuth
	}
	hash := hashSecret(token)
	sess, err := s.store.PortalSessionGet(ctx, org, hash)
	if errors.Is(err, ErrNotFound) {
		return nil, errPortalAuth
	}
	if err != nil {
		return nil, err
	}
	now := s.now()
	if sess.CustomerID == "" || !now.Before(sess.ExpiresAt) || now.Sub(sess.LastSeenAt) >= s.cfg.PortalSessionIdle {
		return nil, errPortalAuth
	}
	if now.Sub(sess.LastSeenAt) >= sessionTouchResolution {
		if err := s.store.PortalSessionTouch(ctx, org, hash, now); err != nil {
			return nil, err
		}
		sess.LastSeenAt = now
	}
	return sess, nil
}

// SignOut ends the session of a token; an unknown token changes nothing.
func (s *PortalService) SignOut(ctx context.Context, token string) error {
	org, ok := secretOrg(sessionPrefix, token)
	if !ok {
		return nil
	}
	err := s.store.PortalSessionDelete(ctx, org, hashSecret(token))
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	return err
}

// Connect connects an account to a customer (staff find the right one by
// name, e-mail or phone): a first connection, or a re-connection of an
// account that was linked to the wrong customer. Both customers'
// timelines record it and the account's sessions end. A customer with
// another account is ErrConflict.
func (s *PortalService) Connect(ctx context.Context, accountID, customerID string) (*PortalAccount, error) {
	return s.connect(ctx, accountID, customerID)
}

// Disconnect takes an account off its customer: it can no longer sign in
// until connected again. The timeline records it; the sessions end.
func (s *PortalService) Disconnect(ctx context.Context, accountID string) (*PortalAccount, error) {
	return s.connect(ctx, accountID, "")
}

func (s *PortalService) connect(ctx context.Context, accountID, customerID string) (*PortalAccount, error) {
	sc, err := s.writeScope(ctx)
	if err != nil {
		return nil, err
	}
	if !validID(accountID) {
		return nil, &notFoundError{what: "portal account " + accountID}
	}
	if customerID != "" && !validID(customerID) {
		v := newValidation(sc.lang)
		v.add("customerId", "unknown", "")
		return nil, v.err()
	}
	var out *PortalAccount
	err = s.store.InTx(ctx, func(tx Store) error {
		a, err := tx.PortalAccountGet(ctx, sc.org, PortalAccountGetParams{ID: accountID})
		if err != nil {
			return err
		}
		out = a
		if a.CustomerID == customerID {
			return nil
		}
		now := s.now()
		if customerID != "" {
			if _, err := s.lockCustomer(ctx, tx, sc, customerID); errors.Is(err, ErrNotFound) {
				v := newValidation(sc.lang)
				v.add("customerId", "unknown", "")
				return v.err()
			} else if err != nil {
				return err
			}
		}
		old := a.CustomerID
		a.CustomerID, a.UpdatedAt = customerID, now
		if err := tx.PortalAccountUpdate(ctx, sc.org, a); err != nil {
			return err
		}
		if err := tx.PortalSessionsRevoke(ctx, sc.org, a.ID); err != nil {
			return err
		}
		if err := tx.PortalTokensRevoke(ctx, sc.org, a.ID, now); err != nil {
			return err
		}
		if old != "" {
			if err := tx.CustomerTouch(ctx, sc.org, old, now); err != nil && !errors.Is(err, ErrNotFound) {
				return err
			}
			if err := tx.HistoryAppend(ctx, s.event(sc, old, EventPortalDisconnected, now, []FieldChange{
				{Field: "account.id", New: a.ID}, {Field: "account.email", New: a.Email}, {Field: "customerId", Old: old, New: nilIfBlank(customerID)}})); err != nil {
				return err
			}
		}
		if customerID != "" {
			return tx.HistoryAppend(ctx, s.event(sc, customerID, EventPortalConnected, now, []FieldChange{
				{Field: "account.id", New: a.ID}, {Field: "account.email", New: a.Email}, {Field: "customerId", Old: nilIfBlank(old), New: customerID}}))
		}
		return nil
	})
	return out, err
}

// self returns the scope of a customer's own call: the actor must be a
// customer (so no staff user is read: any other actor is refused).
func (s *PortalService) self(ctx context.Context) (scope, string, error) {
	sc, err := actorScope(ctx)
	if err != nil {
		return sc, "", err
	}
	if sc.actor.Kind != ActorCustomer || !validID(sc.actor.ID) {
		return sc, "", errPortalAuth
	}
	return sc, sc.actor.ID, nil
}

// Self returns the signed-in customer's record as the customer sees it:
// without what only staff see (the internal description, the assigned
// staff member).
func (s *PortalService) Self(ctx context.Context) (*Customer, error) {
	_, id, err := s.self(ctx)
	if err != nil {
		return nil, err
	}
	c, err := s.customers.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	forCustomer(c)
	return c, nil
}

func forCustomer(c *Customer) {
	c.InternalDescription, c.AssignedTo = "", ""
}

// UpdateSelf changes the signed-in customer's own record: only the fields
// the organisation lets customers change (PortalSettings.EditableFields);
// any other field set in the patch is a *ValidationError (code
// "notEditable") and nothing changes.
func (s *PortalService) UpdateSelf(ctx context.Context, expectedVersion int, p CustomerPatch) (*Customer, error) {
	sc, id, err := s.self(ctx)
	if err != nil {
		return nil, err
	}
	ps, err := s.settings(ctx, s.store, sc)
	if err != nil {
		return nil, err
	}
	b, err := json.Marshal(p)
	if err != nil {
		return nil, err
	}
	var set map[string]json.RawMessage
	if err := json.Unmarshal(b, &set); err != nil {
		return nil, err
	}
	v := newValidation(sc.lang)
	for _, f := range slices.Sorted(func(yield func(string) bool) {
		for k := range set {
			if !yield(k) {
				return
			}
		}
	}) {
		if !slices.Contains(ps.EditableFields, f) {
			v.add(f, "notEditable", "")
		}
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	c, err := s.customers.Update(ctx, id, expectedVersion, p)
	if err != nil {
		return nil, err
	}
	forCustomer(c)
	return c, nil
}

// Documents lists the signed-in customer's documents visible in the portal.
func (s *PortalService) Documents(ctx context.Context) ([]Document, error) {
	_, id, err := s.self(ctx)
	if err != nil {
		return nil, err
	}
	docs, err := s.documents.List(ctx, id, true)
	for i := range docs {
		docs[i].AddedBy = Actor{Kind: docs[i].AddedBy.Kind}
	}
	return docs, err
}

// OpenDocument opens one of the signed-in customer's portal documents; a
// document of another customer, or an internal one, is ErrNotFound.
func (s *PortalService) OpenDocument(ctx context.Context, documentID string) (*Document, io.ReadCloser, error) {
	_, id, err := s.self(ctx)
	if err != nil {
		return nil, nil, err
	}
	d, err := s.documents.Get(ctx, documentID)
	if err != nil {
		return nil, nil, err
	}
	if d.CustomerID != id || d.Visibility != VisibilityPortal {
		return nil, nil, &notFoundError{what: "document " + documentID}
	}
	d, r, err := s.documents.Open(ctx, documentID)
	if err != nil {
		return nil, nil, err
	}
	d.AddedBy = Actor{Kind: d.AddedBy.Kind}
	return d, r, nil
}

// Bookings returns the signed-in customer's own bookings as
// BookingService.OfCustomer does (counts, lifetime value and the newest
// limit of each group), as the customer sees them: which staff user told
// them the final flight times and the other participants' customer ids
// are left out, as in their own export.
func (s *PortalService) Bookings(ctx context.Context, limit int) (*CustomerBookings, error) {
	_, id, err := s.self(ctx)
	if err != nil {
		return nil, err
	}
	out, err := s.bookings.OfCustomer(ctx, id, limit)
	if err != nil {
		return nil, err
	}
	for _, group := range [][]Booking{out.Upcoming, out.Past, out.Deleted} {
		for i := range group {
			if a := group[i].InformedBy; a != nil {
				group[i].InformedBy = &Actor{Kind: a.Kind}
			}
			// The other travellers are customers of their own: their ids
			// are not the signed-in customer's to see.
			group[i].Participants = nil
		}
	}
	return out, nil
}

// PortalConsent is one purpose as the customer sees it: its current state
// and the wording to show before giving it (in the customer's language).
type PortalConsent struct {
	CustomerConsent
	Name    string          `json:"name"`
	Channel ConsentChannel  `json:"channel"`
	Wording *ConsentWording `json:"wording,omitempty"`
}

// Consents lists the signed-in customer's consents with the wording of
// each purpose in their language.
func (s *PortalService) Consents(ctx context.Context) ([]PortalConsent, error) {
	sc, id, err := s.self(ctx)
	if err != nil {
		return nil, err
	}
	cust, err := s.customers.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	states, err := s.consents.States(ctx, id)
	if err != nil {
		return nil, err
	}
	purposes, err := s.consents.Purposes(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]PortalConsent, 0, len(states))
	for _, st := range states {
		pc := PortalConsent{CustomerConsent: st}
		if i := slices.IndexFunc(purposes, func(p ConsentPurpose) bool { return p.ID == st.PurposeID }); i >= 0 {
			pc.Name, pc.Channel = purposes[i].Name, purposes[i].Channel
		}
		if i := slices.IndexFunc(purposes, func(p ConsentPurpose) bool { return p.ID == st.PurposeID }); i >= 0 {
			w, err := s.consents.wordingFor(ctx, s.store, sc, cust, &purposes[i], "")
			if err != nil {
				return nil, err
			}
			pc.Wording = w
		}
		out = append(out, pc)
	}
	return out, nil
}

// GiveConsent records the signed-in customer's consent to a purpose, with
// the wording they were shown (wordingID; empty: the latest in their
// language), from the portal.
func (s *PortalService) GiveConsent(ctx context.Context, purpose, wordingID string, ev Evidence) (*ConsentRecord, error) {
	_, id, err := s.self(ctx)
	if err != nil {
		return nil, err
	}
	return s.consents.Give(ctx, id, ConsentInput{Purpose: purpose, Source: SourcePortal, WordingID: wordingID, Evidence: ev})
}

// WithdrawConsent records that the signed-in customer withdrew a consent.
func (s *PortalService) WithdrawConsent(ctx context.Context, purpose string, ev Evidence) (*ConsentRecord, error) {
	_, id, err := s.self(ctx)
	if err != nil {
		return nil, err
	}
	return s.consents.Withdraw(ctx, id, ConsentInput{Purpose: purpose, Source: SourcePortal, Evidence: ev})
}

// Export returns everything known about the signed-in customer, as the
// customer sees it (ExportCustomer), where the organisation lets
// customers export their data.
func (s *PortalService) Export(ctx context.Context) (*CustomerExport, error) {
	sc, id, err := s.self(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.permitted(ctx, sc, permissionExport); err != nil {
		return nil, err
	}
	return s.privacy.Export(ctx, id, ExportCustomer)
}

// Anonymise irreversibly anonymises the signed-in customer, where the
// organisation lets customers do so. The portal account goes with the
// personal data, and with it every session.
func (s *PortalService) Anonymise(ctx context.Context) error {
	sc, id, err := s.self(ctx)
	if err != nil {
		return err
	}
	if err := s.permitted(ctx, sc, permissionAnonymise); err != nil {
		return err
	}
	_, err = s.privacy.Anonymise(ctx, id)
	return err
}

// What customers may do themselves where the organisation allows it.
const (
	permissionExport    = "export"
	permissionAnonymise = "anonymise"
)

// permitted reports whether the organisation lets its customers do what.
func (s *PortalService) permitted(ctx context.Context, sc scope, what string) error {
	return customerPermission(ctx, s.core, sc, what)
}

// The default links of portal mails: the reference server's address.
// An organisation's site sets its own (Config.SetPasswordURL,
// Config.UnsubscribeURL).
const (
	DefaultSetPasswordURL = "http://127.0.0.1:8080/portal/set-password#token={token}"
	DefaultUnsubscribeURL = "http://127.0.0.1:8080/portal/v1/unsubscribe?token={token}"
)
