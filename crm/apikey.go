package crm

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"
	"time"
)

// APIKey is a credential with which a program (the reference server's
// clients, a booking platform) acts for one organisation. The organisation
// and the staff user it acts as belong to the key, never to the request.
//
// The secret is shown once, when the key is created; Dossier keeps only its
// SHA-256 hash (a 256-bit random secret needs no slow hash: it cannot be
// guessed from a list, unlike a password).
type APIKey struct {
	ID    string `json:"id"`
	OrgID string `json:"-"`
	// Name says what the key is for ("booking site", "import job").
	Name string `json:"name"`
	// StaffUser is the id of the staff user the key acts as: the actor of
	// every change made with it. The key works only while that user is active.
	StaffUser string `json:"staffUser"`
	// Prefix is the start of the secret, shown in lists so that staff can
	// tell keys apart without the secret.
	Prefix     string     `json:"prefix"`
	CreatedAt  time.Time  `json:"createdAt"`
	LastUsedAt *time.Time `json:"lastUsedAt,omitempty"`
	RevokedAt  *time.Time `json:"revokedAt,omitempty"`
	// User is the staff user, as Authenticate read it.
	User *StaffUser `json:"-"`
}

// Revoked reports whether the key was revoked.
func (k *APIKey) Revoked() bool { return k.RevokedAt != nil }

// NewAPIKey is the input of APIKeyService.Create.
type NewAPIKey struct {
	Name string `json:"name" validate:"required,max=100"`
	// StaffUser names an active staff user of the organisation.
	StaffUser string `json:"staffUser" validate:"required,max=100"`
}

// APIKeyStore keeps API keys. A key is found by its organisation (which its
// secret names) and the hash of its secret; every call is scoped to one
// organisation, except the lookup of keys issued before secrets named their
// organisation.
type APIKeyStore interface {
	// APIKeyInsert stores a new key with the hash of its secret.
	APIKeyInsert(ctx context.Context, key *APIKey, secretHash string) error
	// APIKeyByHash returns the organisation's key whose secret hashes to
	// secretHash, revoked or not, or ErrNotFound. An empty orgID looks in
	// every organisation: keys issued before secrets named their
	// organisation are found that way.
	APIKeyByHash(ctx context.Context, orgID, secretHash string) (*APIKey, string, error)
	// APIKeyList returns the organisation's keys, oldest first.
	APIKeyList(ctx context.Context, orgID string) ([]APIKey, error)
	// APIKeyRevoke marks a key revoked at the given time; a key already
	// revoked keeps its first revocation time. ErrNotFound when the
	// organisation has no such key.
	APIKeyRevoke(ctx context.Context, orgID, id string, at time.Time) error
	// APIKeyTouch records that a key of the organisation was used.
	APIKeyTouch(ctx context.Context, orgID, id string, at time.Time) error
}

// APIKeyService issues, lists, revokes and checks API keys.
type APIKeyService struct {
	*core
	// store is what the service needs of the Store (it hides core's
	// whole Store): API keys, and the organisation a key is made for.
	store interface {
		APIKeyStore
		OrganisationStore
		StaffStore
	}
}

// apiKeySecretPrefix starts every secret so that a leaked key is easy to
// recognise (secret scanners, logs).
const apiKeySecretPrefix = "dsk_"

// A secret is apiKeySecretPrefix, the organisation's ID, a dot and 256
// random bits in unpadded base64url ("dsk_acme.3q2-..."): the organisation
// is known from the key itself, so the key is looked up within it (every
// key and query of the schema includes the organisation, docs/scaling.md).
// Organisation IDs and base64url hold no dot. Secrets issued before had no
// organisation and no dot ("dsk_3q2-..."); they keep working.
const (
	apiKeyOrgSeparator = "."
	apiKeyRandomLen    = 43 // base64url of 32 bytes
	apiKeySecretMaxLen = len(apiKeySecretPrefix) + 64 + len(apiKeyOrgSeparator) + apiKeyRandomLen
)

// lastUsedResolution is how stale LastUsedAt may be: recording every use
// would turn each read request into a write.
const lastUsedResolution = time.Minute

// Create issues a key for the context's organisation and returns it with its
// secret. The secret is not stored and cannot be shown again. The key acts
// as in.StaffUser, an active staff user of the organisation (else a
// *ValidationError on staffUser). Only an administrator or the system
// actor makes keys.
func (s *APIKeyService) Create(ctx context.Context, in NewAPIKey) (*APIKey, string, error) {
	sc, err := s.writeScope(ctx)
	if err != nil {
		return nil, "", err
	}
	v := newValidation(sc.lang)
	v.checkText("", &in)
	in.Name, in.StaffUser = strings.TrimSpace(in.Name), strings.TrimSpace(in.StaffUser)
	v.addStruct(s.validate, in)
	if err := v.err(); err != nil {
		return nil, "", err
	}
	if _, err := s.organisation(ctx, s.store, sc); err != nil {
		return nil, "", err
	}
	if err := s.requireAdministrator(ctx, s.store, sc); err != nil {
		return nil, "", err
	}
	switch u, err := s.store.StaffGet(ctx, sc.org, in.StaffUser); {
	case errors.Is(err, ErrNotFound) || (err == nil && !u.Active):
		v.add("staffUser", "unknown", "")
		return nil, "", v.err()
	case err != nil:
		return nil, "", err
	}
	raw := make([]byte, 32) // 256 bits
	if _, err := rand.Read(raw); err != nil {
		return nil, "", err
	}
	named := apiKeySecretPrefix + sc.org + apiKeyOrgSeparator
	secret := named + base64.RawURLEncoding.EncodeToString(raw)
	key := &APIKey{
		ID: newID(), OrgID: sc.org, Name: in.Name, StaffUser: in.StaffUser,
		Prefix: secret[:len(named)+6], CreatedAt: s.now(),
	}
	if err := s.store.APIKeyInsert(ctx, key, hashSecret(secret)); err != nil {
		return nil, "", err
	}
	return key, secret, nil
}

// List returns the context organisation's keys, revoked ones included, oldest first.
func (s *APIKeyService) List(ctx context.Context) ([]APIKey, error) {
	sc, err := readScope(ctx)
	if err != nil {
		return nil, err
	}
	return s.store.APIKeyList(ctx, sc.org)
}

// Revoke stops a key of the context's organisation from working. Revoking a
// revoked key changes nothing. Only an administrator or the system actor
// revokes keys.
func (s *APIKeyService) Revoke(ctx context.Context, id string) error {
	sc, err := s.writeScope(ctx)
	if err != nil {
		return err
	}
	if !validID(id) {
		return &notFoundError{what: "API key " + id}
	}
	if err := s.requireAdministrator(ctx, s.store, sc); err != nil {
		return err
	}
	return s.store.APIKeyRevoke(ctx, sc.org, id, s.now())
}

// Authenticate returns the key whose secret is given, in any organisation,
// with its staff user (APIKey.User). An unknown, malformed or revoked
// secret, or one whose staff user is inactive, is ErrUnauthenticated, with
// no hint which of these it was. It records the use (to the minute).
func (s *APIKeyService) Authenticate(ctx context.Context, secret string) (*APIKey, error) {
	rest, ok := strings.CutPrefix(secret, apiKeySecretPrefix)
	if !ok || len(secret) > apiKeySecretMaxLen {
		return nil, ErrUnauthenticated
	}
	// A secret without an organisation is one issued before secrets named
	// it: orgID stays empty and the store looks in every organisation.
	orgID, _, named := strings.Cut(rest, apiKeyOrgSeparator)
	if !named {
		orgID = ""
	} else if !orgIDPattern.MatchString(orgID) {
		return nil, ErrUnauthenticated
	}
	hash := hashSecret(secret)
	key, stored, err := s.store.APIKeyByHash(ctx, orgID, hash)
	switch {
	case err == nil:
	case errors.Is(err, ErrNotFound):
		return nil, ErrUnauthenticated
	default:
		return nil, err
	}
	// The lookup was by hash; comparing again in constant time costs nothing
	// and does not rely on how the database compares strings.
	if subtle.ConstantTimeCompare([]byte(stored), []byte(hash)) != 1 || key.Revoked() || (named && key.OrgID != orgID) {
		return nil, ErrUnauthenticated
	}
	user, err := s.store.StaffGet(ctx, key.OrgID, key.StaffUser)
	switch {
	case errors.Is(err, ErrNotFound) || (err == nil && !user.Active):
		return nil, ErrUnauthenticated
	case err != nil:
		return nil, err
	}
	key.User = user
	now := s.now()
	if key.LastUsedAt == nil || now.Sub(*key.LastUsedAt) >= lastUsedResolution {
		if err := s.store.APIKeyTouch(ctx, key.OrgID, key.ID, now); err != nil {
			s.cfg.Logger.WarnContext(ctx, "recording API key use failed", "key", key.ID, "err", err)
		} else {
			key.LastUsedAt = &now
		}
	}
	return key, nil
}

// Actor is the actor of changes made with the key: its staff user.
func (k *APIKey) Actor() Actor { return Staff(k.StaffUser) }

// Context returns ctx scoped to the key's organisation, acting as its
// staff user (with the user Authenticate read, so that services know its
// role, departments and time zone).
func (k *APIKey) Context(ctx context.Context) context.Context {
	ctx = WithOrg(ctx, k.OrgID)
	if k.User != nil {
		return WithStaffUser(ctx, k.User)
	}
	return WithActor(ctx, k.Actor())
}

func hashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}
