package crm

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"regexp"
	"slices"
	"strings"
	"time"
)

// The built-in consent purposes every organisation starts with (C5). An
// organisation adds its own next to them.
const (
	PurposeNewsletter      = "newsletter"
	PurposeCommercialEmail = "commercial_email"
	PurposePost            = "post"
	PurposeSMS             = "sms"
	PurposeProfiling       = "profiling"
	// PurposeMailings is the customer's general word on mailings: withdrawn
	// means "no mailings" (C1), and mailing selections leave the customer
	// out whatever the other purposes say. Never asked means no objection.
	PurposeMailings = "mailings"
)

// ConsentChannel is how a purpose reaches the customer; mailing selections
// need a usable address for it.
type ConsentChannel string

// The channels of consent purposes.
const (
	ChannelEmail ConsentChannel = "email" // an e-mail address (correspondence, else login)
	ChannelPost  ConsentChannel = "post"  // a street and a city
	ChannelSMS   ConsentChannel = "sms"   // a phone number
	ChannelNone  ConsentChannel = "none"  // no contact (e.g. profiling)
)

// ConsentState is where a customer stands on one purpose.
type ConsentState string

// The consent states. A log holds granted, withdrawn and pending records;
// the current state of a purpose is that of its latest granted or withdrawn
// record, or never when it has none (a pending sign-up changes nothing
// until it is confirmed).
const (
	ConsentGranted   ConsentState = "granted"
	ConsentWithdrawn ConsentState = "withdrawn"
	ConsentPending   ConsentState = "pending"
	ConsentNever     ConsentState = "never"
)

// ConsentSource is where a consent record came from.
type ConsentSource string

// The consent sources.
const (
	SourceWebForm ConsentSource = "web_form"
	SourceImport  ConsentSource = "import"
	SourceStaff   ConsentSource = "staff"
	SourcePortal  ConsentSource = "portal"
	SourceBooking ConsentSource = "booking"
)

// DefaultConfirmationTTL is how long a double opt-in token works when
// Config.ConfirmationTTL is not set.
const DefaultConfirmationTTL = 7 * 24 * time.Hour

// LegalBasis is why a purpose may reach a customer (GDPR Art. 6(1)); it
// decides who a mailing selection takes.
type LegalBasis string

// The legal bases of purposes.
const (
	// LegalBasisConsent is opt-in: only customers who granted the purpose
	// are selected. The default of an organisation's own purposes.
	LegalBasisConsent LegalBasis = "consent"
	// LegalBasisLegitimateInterest is opt-out: every customer is selected
	// unless they withdrew the purpose (objected). The built-in post and
	// mailings purposes have it.
	LegalBasisLegitimateInterest LegalBasis = "legitimate_interest"
)

// ConsentPurpose is an organisation's definition of something a customer
// can consent to. Key is its stable name, used in filters and the API.
type ConsentPurpose struct {
	ID   string `json:"id"`
	Key  string `json:"key"`
	Name string `json:"name"`
	// Channel is how the purpose reaches the customer.
	Channel ConsentChannel `json:"channel"`
	// LegalBasis: consent (opt-in) or legitimate_interest (opt-out).
	LegalBasis LegalBasis `json:"legalBasis"`
	// DoubleOptIn: sign-ups must be confirmed from a mail before they count.
	DoubleOptIn bool `json:"doubleOptIn"`
	// BuiltIn purposes came with the organisation; their key and channel are fixed.
	BuiltIn   bool      `json:"builtIn"`
	Position  int       `json:"position"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// NewConsentPurpose is the input of ConsentService.DefinePurpose.
type NewConsentPurpose struct {
	// Key: lower-case letters, digits and underscores, unique in the organisation.
	Key         string         `json:"key" validate:"required,max=40"`
	Name        string         `json:"name" validate:"required,max=100"`
	Channel     ConsentChannel `json:"channel" validate:"required,oneof=email post sms none"`
	DoubleOptIn bool           `json:"doubleOptIn,omitempty"`
	Position    int            `json:"position,omitempty"`
	// LegalBasis is consent (opt-in, the default) or legitimate_interest (opt-out).
	LegalBasis LegalBasis `json:"legalBasis,omitempty" validate:"omitempty,oneof=consent legitimate_interest"`
}

// ConsentPurposePatch changes a purpose's name, legal basis, double opt-in or position.
type ConsentPurposePatch struct {
	Name        *string `json:"name,omitempty" validate:"omitempty,min=1,max=100"`
	DoubleOptIn *bool   `json:"doubleOptIn,omitempty"`
	Position    *int    `json:"position,omitempty"`
	// LegalBasis changes who mailing selections take from then on; the
	// consent log keeps its meaning.
	LegalBasis *LegalBasis `json:"legalBasis,omitempty" validate:"omitempty,oneof=consent legitimate_interest"`
}

// Evidence is what a consent was given or withdrawn with, kept as proof.
type Evidence struct {
	IP        string `json:"ip,omitempty" validate:"omitempty,ip"`
	UserAgent string `json:"userAgent,omitempty" validate:"max=500"`
}

// ConsentRecord is one entry of a customer's consent log. Records are only
// ever appended; the log is the proof of consent (GDPR Art. 7).
type ConsentRecord struct {
	ID         string        `json:"id"`
	CustomerID string        `json:"customerId"`
	PurposeID  string        `json:"purposeId"`
	Purpose    string        `json:"purpose"` // the purpose's key
	State      ConsentState  `json:"state"`
	Source     ConsentSource `json:"source"`
	Actor      Actor         `json:"actor"`
	At         time.Time     `json:"at"`
	// WordingID is the wording the customer saw (granted and pending records).
	WordingID string `json:"wordingId,omitempty"`
	// Confirms is the pending record a double opt-in confirmation confirms.
	Confirms string `json:"confirms,omitempty"`
	Evidence
}

// ConsentInput is the input of ConsentService.Give and Withdraw.
type ConsentInput struct {
	// Purpose is the purpose's key ("newsletter").
	Purpose string        `json:"purpose" validate:"required,max=40"`
	Source  ConsentSource `json:"source" validate:"required,oneof=web_form import staff portal booking"`
	// WordingID names the wording the customer saw; empty means the
	// purpose's latest wording in the customer's language (see Give).
	WordingID string `json:"wordingId,omitempty"`
	// NoWording records a grant without a wording, on purpose: consent that
	// staff, an import or a booking obtained where Dossier's text was not
	// shown. The customer's own sources (web_form, portal) cannot use it.
	NoWording bool `json:"noWording,omitempty"`
	Evidence
}

// CustomerConsent is the current state of one purpose for one customer,
// derived from its log.
type CustomerConsent struct {
	Purpose   string       `json:"purpose"`
	PurposeID string       `json:"purposeId"`
	State     ConsentState `json:"state"`
	// At is when the state was reached; zero for never.
	At time.Time `json:"at,omitzero"`
	// RecordID is the record that decided the state.
	RecordID string `json:"recordId,omitempty"`
	// Pending: a double opt-in sign-up waits for confirmation.
	Pending bool `json:"pending,omitempty"`
}

// PendingConsent is a double opt-in sign-up waiting for confirmation.
type PendingConsent struct {
	Record ConsentRecord `json:"record"`
	// Token goes into the confirmation link. It is shown once: only its
	// hash is stored.
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expiresAt"`
}

// ConsentConfirmation is a stored double opt-in token (its hash).
type ConsentConfirmation struct {
	OrgID      string
	TokenHash  string
	RecordID   string
	CustomerID string
	PurposeID  string
	WordingID  string
	Source     ConsentSource
	ExpiresAt  time.Time
	UsedAt     *time.Time
}

// ConsentNotWithdrawn is a state of filters only: granted or never, so
// every customer who did not withdraw (object to) the purpose.
const ConsentNotWithdrawn ConsentState = "notWithdrawn"

// ConsentCondition selects customers by their current state on a purpose.
type ConsentCondition struct {
	// Purpose is the purpose's key.
	Purpose string `json:"purpose"`
	// State is granted, withdrawn, never (never asked, or only a pending
	// sign-up) or notWithdrawn (granted or never).
	State ConsentState `json:"state"`
}

// ConsentStore keeps consent purposes, their wordings, the append-only
// consent log with its derived current state, and double opt-in tokens.
type ConsentStore interface {
	ConsentPurposeInsert(ctx context.Context, orgID string, ps ...ConsentPurpose) error
	ConsentPurposeUpdate(ctx context.Context, orgID string, p *ConsentPurpose) error
	// ConsentPurposeList returns the organisation's purposes in display order.
	ConsentPurposeList(ctx context.Context, orgID string) ([]ConsentPurpose, error)
	ConsentWordingInsert(ctx context.Context, orgID string, ws ...*ConsentWording) error
	// ConsentWordingList returns a purpose's wordings, newest version first per language.
	ConsentWordingList(ctx context.Context, orgID, purposeID string) ([]ConsentWording, error)
	// ConsentRecordInsert appends a record. A granted or withdrawn record
	// also becomes the purpose's current state for the customer, in the same
	// statement's transaction.
	ConsentRecordInsert(ctx context.Context, orgID string, r *ConsentRecord) error
	// ConsentRecordList returns a customer's log, oldest first.
	ConsentRecordList(ctx context.Context, orgID, customerID string) ([]ConsentRecord, error)
	// ConsentStateList returns a customer's current state per purpose it has one for.
	ConsentStateList(ctx context.Context, orgID, customerID string) ([]CustomerConsent, error)
	ConsentConfirmationInsert(ctx context.Context, c *ConsentConfirmation) error
	// ConsentConfirmationUse marks the token used and returns it. An unknown
	// token is ErrNotFound; a token already used is ErrConflict (it is never
	// used twice, also when two confirmations race).
	ConsentConfirmationUse(ctx context.Context, orgID, tokenHash string, at time.Time) (*ConsentConfirmation, error)
	// CustomerContactFlagsSet stores the NoPost and NoMailings flags the
	// consent log decided, as a change of the customer (new version).
	CustomerContactFlagsSet(ctx context.Context, orgID, customerID string, noPost, noMailings bool, at time.Time) error
}

// ConsentService records consents and their proof (C5): purposes with
// versioned wordings, the consent log, double opt-in, and mailing selections
// (C13).
type ConsentService struct {
	*core
	customers *CustomerService
	segments  *SegmentService
	outbox    *OutboxService
}

var purposeKeyPattern = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// defaultPurposes are the purposes every new organisation starts with.
func defaultPurposes(now time.Time) []ConsentPurpose {
	consent, interest := LegalBasisConsent, LegalBasisLegitimateInterest
	defs := []struct {
		key, name   string
		channel     ConsentChannel
		basis       LegalBasis
		doubleOptIn bool
	}{
		{PurposeNewsletter, "Newsletter", ChannelEmail, consent, true},
		{PurposeCommercialEmail, "Commercial e-mail", ChannelEmail, consent, false},
		{PurposePost, "Post", ChannelPost, interest, false},
		{PurposeSMS, "SMS", ChannelSMS, consent, false},
		{PurposeProfiling, "Profiling", ChannelNone, consent, false},
		{PurposeMailings, "Mailings", ChannelNone, interest, false},
	}
	out := make([]ConsentPurpose, len(defs))
	for i, d := range defs {
		out[i] = ConsentPurpose{
			ID: newID(), Key: d.key, Name: d.name, Channel: d.channel, LegalBasis: d.basis, DoubleOptIn: d.doubleOptIn,
			BuiltIn: true, Position: i + 1, CreatedAt: now, UpdatedAt: now,
		}
	}
	return out
}

// Purposes returns the organisation's consent purposes in display order.
func (s *ConsentService) Purposes(ctx context.Context) ([]ConsentPurpose, error) {
	sc, err := readScope(ctx)
	if err != nil {
		return nil, err
	}
	return s.purposes(ctx, s.store, sc)
}

// purposes returns the organisation's purposes. Organisations made before
// purposes existed got the built-in ones from the migration that added them.
func (s *ConsentService) purposes(ctx context.Context, st ConsentStore, sc scope) ([]ConsentPurpose, error) {
	return st.ConsentPurposeList(ctx, sc.org)
}

// Purpose returns one purpose by key or id.
func (s *ConsentService) Purpose(ctx context.Context, keyOrID string) (*ConsentPurpose, error) {
	sc, err := readScope(ctx)
	if err != nil {
		return nil, err
	}
	return s.purpose(ctx, s.store, sc, keyOrID)
}

func (s *ConsentService) purpose(ctx context.Context, st ConsentStore, sc scope, keyOrID string) (*ConsentPurpose, error) {
	ps, err := s.purposes(ctx, st, sc)
	if err != nil {
		return nil, err
	}
	for i := range ps {
		if ps[i].Key == keyOrID || ps[i].ID == keyOrID {
			return &ps[i], nil
		}
	}
	return nil, &notFoundError{what: "consent purpose " + keyOrID}
}

// DefinePurpose adds an organisation's own purpose.
func (s *ConsentService) DefinePurpose(ctx context.Context, in NewConsentPurpose) (*ConsentPurpose, error) {
	sc, err := s.writeScope(ctx)
	if err != nil {
		return nil, err
	}
	v := newValidation(sc.lang)
	v.checkText("", &in)
	in.Key, in.Name = strings.TrimSpace(in.Key), strings.TrimSpace(in.Name)
	v.addStruct(s.validate, in)
	if in.Key != "" && !v.has("key") && !purposeKeyPattern.MatchString(in.Key) {
		v.add("key", "invalid", "")
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	if _, err := s.purposes(ctx, s.store, sc); err != nil {
		return nil, err
	}
	now := s.now()
	if in.LegalBasis == "" {
		in.LegalBasis = LegalBasisConsent
	}
	p := &ConsentPurpose{
		ID: newID(), Key: in.Key, Name: in.Name, Channel: in.Channel, LegalBasis: in.LegalBasis, DoubleOptIn: in.DoubleOptIn,
		Position: in.Position, CreatedAt: now, UpdatedAt: now,
	}
	if err := s.store.ConsentPurposeInsert(ctx, sc.org, *p); err != nil {
		return nil, err
	}
	return p, nil
}

// UpdatePurpose changes a purpose's name, double opt-in or position. Its
// key and channel never change: the log's meaning depends on them.
func (s *ConsentService) UpdatePurpose(ctx context.Context, keyOrID string, patch ConsentPurposePatch) (*ConsentPurpose, error) {
	sc, err := s.writeScope(ctx)
	if err != nil {
		return nil, err
	}
	v := newValidation(sc.lang)
	v.checkText("", &patch)
	v.addStruct(s.validate, patch)
	if err := v.err(); err != nil {
		return nil, err
	}
	p, err := s.purpose(ctx, s.store, sc, keyOrID)
	if err != nil {
		return nil, err
	}
	if patch.Name != nil {
		p.Name = strings.TrimSpace(*patch.Name)
	}
	if patch.LegalBasis != nil {
		p.LegalBasis = *patch.LegalBasis
	}
	if patch.DoubleOptIn != nil {
		p.DoubleOptIn = *patch.DoubleOptIn
	}
	if patch.Position != nil {
		p.Position = *patch.Position
	}
	p.UpdatedAt = s.now()
	if err := s.store.ConsentPurposeUpdate(ctx, sc.org, p); err != nil {
		return nil, err
	}
	return p, nil
}

// Give records that the customer granted consent for in.Purpose. Without
// a WordingID the record points at the purpose's latest wording in the
// customer's language (else its base language, the organisation's
// language, or any). A purpose without any wording refuses the grant
// (ErrInvalid on field "wordingId", code "wordingNeeded"), unless
// in.NoWording says on purpose that the customer saw none of Dossier's
// texts: only staff, import and booking sources may say so, the customer's
// own (web_form, portal) always point at a wording.
//
// A purpose with double opt-in accepts a direct grant only from staff,
// import and booking sources; web forms and the portal go through
// RequestConfirmation.
func (s *ConsentService) Give(ctx context.Context, customerID string, in ConsentInput) (*ConsentRecord, error) {
	return s.record(ctx, customerID, ConsentGranted, in)
}

// Withdraw records that the customer withdrew consent for in.Purpose. It
// is as easy as giving: no wording is needed.
func (s *ConsentService) Withdraw(ctx context.Context, customerID string, in ConsentInput) (*ConsentRecord, error) {
	return s.record(ctx, customerID, ConsentWithdrawn, in)
}

func (s *ConsentService) record(ctx context.Context, customerID string, state ConsentState, in ConsentInput) (*ConsentRecord, error) {
	sc, err := s.writeScope(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.checkInput(sc, &in, state); err != nil {
		return nil, err
	}
	if !validID(customerID) {
		return nil, &notFoundError{what: "customer " + customerID}
	}
	var rec *ConsentRecord
	err = s.store.InTx(ctx, func(tx Store) error {
		cust, p, err := s.prepare(ctx, tx, sc, customerID, in.Purpose)
		if err != nil {
			return err
		}
		if state == ConsentGranted && p.DoubleOptIn && (in.Source == SourceWebForm || in.Source == SourcePortal) {
			v := newValidation(sc.lang)
			v.add("source", "doubleOptIn", "")
			return v.err()
		}
		rec, err = s.append(ctx, tx, sc, cust, p, state, in, "")
		return err
	})
	if err != nil {
		return nil, err
	}
	return rec, nil
}

// checkInput checks in for a record of state. A grant without a wording
// (NoWording) is for consent obtained outside Dossier's texts: never from
// the customer's own sources, nor for a double opt-in (pending).
func (s *ConsentService) checkInput(sc scope, in *ConsentInput, state ConsentState) error {
	v := newValidation(sc.lang)
	v.checkText("", in)
	v.addStruct(s.validate, in)
	if in.WordingID != "" && !validID(in.WordingID) {
		v.add("wordingId", "unknown", "")
	}
	if in.NoWording && state != ConsentWithdrawn {
		switch {
		case in.WordingID != "":
			v.add("noWording", "invalid", "")
		case state == ConsentPending || in.Source == SourceWebForm || in.Source == SourcePortal:
			v.add("noWording", "customerSide", "")
		}
	}
	return v.err()
}

// prepare locks the customer (so its consent records are written one after
// the other) and finds the purpose.
func (s *ConsentService) prepare(ctx context.Context, tx Store, sc scope, customerID, purpose string) (*Customer, *ConsentPurpose, error) {
	if err := tx.CustomerTouch(ctx, sc.org, customerID, s.now()); err != nil {
		return nil, nil, err
	}
	cust, err := tx.CustomerGet(ctx, CustomerGetParams{OrgID: sc.org, ID: customerID})
	if err != nil {
		return nil, nil, err
	}
	if cust.AnonymisedAt != nil {
		return nil, nil, ErrAnonymised
	}
	p, err := s.purpose(ctx, tx, sc, purpose)
	if errors.Is(err, ErrNotFound) {
		v := newValidation(sc.lang)
		v.add("purpose", "unknown", "")
		return nil, nil, v.err()
	}
	return cust, p, err
}

// append writes one record with its timeline event and, for the post and
// mailings purposes, the customer's NoPost and NoMailings flags.
func (s *ConsentService) append(ctx context.Context, tx Store, sc scope, cust *Customer, p *ConsentPurpose, state ConsentState, in ConsentInput, confirms string) (*ConsentRecord, error) {
	now := s.now()
	rec := &ConsentRecord{
		ID: newID(), CustomerID: cust.ID, PurposeID: p.ID, Purpose: p.Key, State: state,
		Source: in.Source, Actor: sc.actor, At: now, Confirms: confirms, Evidence: in.Evidence,
	}
	if state != ConsentWithdrawn && !in.NoWording {
		if confirms != "" && in.WordingID == "" {
			// A confirmation grants what its sign-up showed; a sign-up
			// without a wording cannot say what that was.
			return nil, wordingNeeded(sc)
		}
		w, err := s.wordingFor(ctx, tx, sc, cust, p, in.WordingID)
		if err != nil {
			return nil, err
		}
		if w == nil {
			return nil, wordingNeeded(sc)
		}
		rec.WordingID = w.ID
	}
	before, err := s.stateOf(ctx, tx, sc, cust.ID, p.ID)
	if err != nil {
		return nil, err
	}
	if err := tx.ConsentRecordInsert(ctx, sc.org, rec); err != nil {
		return nil, err
	}
	if state != ConsentPending && (p.Key == PurposePost || p.Key == PurposeMailings) {
		noPost, noMailings := cust.NoPost, cust.NoMailings
		if p.Key == PurposePost {
			noPost = state == ConsentWithdrawn
		} else {
			noMailings = state == ConsentWithdrawn
		}
		if noPost != cust.NoPost || noMailings != cust.NoMailings {
			if err := tx.CustomerContactFlagsSet(ctx, sc.org, cust.ID, noPost, noMailings, now); err != nil {
				return nil, err
			}
			cust.NoPost, cust.NoMailings = noPost, noMailings
		}
	}
	after := state
	if state == ConsentPending {
		after = before
	}
	return rec, tx.HistoryAppend(ctx, s.event(sc, cust.ID, consentEvent(state), now, []FieldChange{
		{Field: "consents." + p.Key, Old: string(before), New: string(after)},
	}))
}

// The timeline events of consents.
const (
	EventConsentGranted   EventKind = "consent.granted"
	EventConsentWithdrawn EventKind = "consent.withdrawn"
	// EventConsentRequested: a double opt-in sign-up waits for confirmation.
	EventConsentRequested EventKind = "consent.requested"
)

func consentEvent(state ConsentState) EventKind {
	switch state {
	case ConsentGranted:
		return EventConsentGranted
	case ConsentWithdrawn:
		return EventConsentWithdrawn
	}
	return EventConsentRequested
}

// stateOf returns the current state of one purpose for a customer.
func (s *ConsentService) stateOf(ctx context.Context, st ConsentStore, sc scope, customerID, purposeID string) (ConsentState, error) {
	states, err := st.ConsentStateList(ctx, sc.org, customerID)
	if err != nil {
		return "", err
	}
	for _, c := range states {
		if c.PurposeID == purposeID {
			return c.State, nil
		}
	}
	return ConsentNever, nil
}

// RequestConfirmation starts a double opt-in sign-up: it appends a pending
// record and returns the single-use token for the confirmation link,
// valid for Config.ConfirmationTTL. Only the token's hash is stored. With
// Config.ConfirmationURL set it also queues the confirmation mail (which
// needs an e-mail address) in the same transaction.
func (s *ConsentService) RequestConfirmation(ctx context.Context, customerID string, in ConsentInput) (*PendingConsent, error) {
	sc, err := s.writeScope(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.checkInput(sc, &in, ConsentPending); err != nil {
		return nil, err
	}
	if !validID(customerID) {
		return nil, &notFoundError{what: "customer " + customerID}
	}
	var out *PendingConsent
	err = s.store.InTx(ctx, func(tx Store) error {
		cust, p, err := s.prepare(ctx, tx, sc, customerID, in.Purpose)
		if err != nil {
			return err
		}
		rec, err := s.append(ctx, tx, sc, cust, p, ConsentPending, in, "")
		if err != nil {
			return err
		}
		token := newConfirmationToken()
		out = &PendingConsent{Record: *rec, Token: token, ExpiresAt: rec.At.Add(s.cfg.ConfirmationTTL)}
		if err := tx.ConsentConfirmationInsert(ctx, &ConsentConfirmation{
			OrgID: sc.org, TokenHash: hashToken(token), RecordID: rec.ID, CustomerID: cust.ID,
			PurposeID: p.ID, WordingID: rec.WordingID, Source: rec.Source, ExpiresAt: out.ExpiresAt,
		}); err != nil {
			return err
		}
		if s.cfg.ConfirmationURL == "" {
			return nil
		}
		// The confirmation mail is queued with the pending record: both or neither.
		data := MailData{Link: mailLink(s.cfg.ConfirmationURL, token), Purpose: p.Name,
			ExpiresAt: out.ExpiresAt.Format("2006-01-02 15:04 MST")}
		_, err = s.outbox.queue(ctx, tx, sc, cust, TemplateDoubleOptIn, "", data, nil)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Confirm completes a double opt-in: the token's pending record becomes a
// granted one (pointing at it and at the same wording). A token works once:
// a used one is ErrConflict, an expired one ErrInvalid (field "token", code
// "expired"), an unknown one ErrNotFound.
func (s *ConsentService) Confirm(ctx context.Context, token string, ev Evidence) (*ConsentRecord, error) {
	sc, err := s.writeScope(ctx)
	if err != nil {
		return nil, err
	}
	v := newValidation(sc.lang)
	v.checkText("", &ev)
	v.addStruct(s.validate, ev)
	if err := v.err(); err != nil {
		return nil, err
	}
	token = strings.TrimSpace(token)
	if token == "" || len(token) > 100 {
		return nil, &notFoundError{what: "pending confirmation for this token (it may have expired)"}
	}
	var rec *ConsentRecord
	err = s.store.InTx(ctx, func(tx Store) error {
		now := s.now()
		c, err := tx.ConsentConfirmationUse(ctx, sc.org, hashToken(token), now)
		if err != nil {
			if errors.Is(err, ErrConflict) {
				return &ConflictError{Field: "token", Reason: "the confirmation link was already used"}
			}
			return err
		}
		if !now.Before(c.ExpiresAt) {
			v.add("token", "expired", "")
			return v.err()
		}
		cust, p, err := s.prepare(ctx, tx, sc, c.CustomerID, c.PurposeID)
		if err != nil {
			return err
		}
		rec, err = s.append(ctx, tx, sc, cust, p, ConsentGranted, ConsentInput{
			Purpose: p.Key, Source: c.Source, WordingID: c.WordingID, Evidence: ev,
		}, c.RecordID)
		if err != nil || s.cfg.ConfirmationURL == "" {
			return err
		}
		_, err = s.outbox.queue(ctx, tx, sc, cust, TemplateConsentConfirmation, "", MailData{Purpose: p.Name}, nil)
		return err
	})
	if err != nil {
		return nil, err
	}
	return rec, nil
}

// newConfirmationToken returns 256 random bits, URL-safe.
func newConfirmationToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand never fails on supported platforms
	return base64.RawURLEncoding.EncodeToString(b)
}

func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// Log returns the customer's consent log, oldest first: the proof.
func (s *ConsentService) Log(ctx context.Context, customerID string) ([]ConsentRecord, error) {
	sc, err := readScope(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.exists(ctx, sc, customerID); err != nil {
		return nil, err
	}
	return s.store.ConsentRecordList(ctx, sc.org, customerID)
}

// States returns the customer's current state on every purpose of the
// organisation, in the purposes' order.
func (s *ConsentService) States(ctx context.Context, customerID string) ([]CustomerConsent, error) {
	sc, err := readScope(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.exists(ctx, sc, customerID); err != nil {
		return nil, err
	}
	return s.states(ctx, s.store, sc, customerID)
}

func (s *ConsentService) states(ctx context.Context, st ConsentStore, sc scope, customerID string) ([]CustomerConsent, error) {
	ps, err := s.purposes(ctx, st, sc)
	if err != nil {
		return nil, err
	}
	current, err := st.ConsentStateList(ctx, sc.org, customerID)
	if err != nil {
		return nil, err
	}
	log, err := st.ConsentRecordList(ctx, sc.org, customerID)
	if err != nil {
		return nil, err
	}
	out := make([]CustomerConsent, len(ps))
	for i, p := range ps {
		out[i] = CustomerConsent{Purpose: p.Key, PurposeID: p.ID, State: ConsentNever}
		if j := slices.IndexFunc(current, func(c CustomerConsent) bool { return c.PurposeID == p.ID }); j >= 0 {
			out[i].State, out[i].At, out[i].RecordID = current[j].State, current[j].At, current[j].RecordID
		}
		// Pending when the latest record of the purpose is a pending sign-up.
		for k := len(log) - 1; k >= 0; k-- {
			if log[k].PurposeID == p.ID {
				out[i].Pending = log[k].State == ConsentPending
				break
			}
		}
	}
	return out, nil
}

func (s *ConsentService) exists(ctx context.Context, sc scope, customerID string) error {
	if !validID(customerID) {
		return &notFoundError{what: "customer " + customerID}
	}
	_, err := s.store.CustomerGet(ctx, CustomerGetParams{OrgID: sc.org, ID: customerID})
	return err
}

// recordContactFlags writes the consent records that changed NoPost and
// NoMailings flags of a customer being created or updated stand for: the
// flags are views of the post and mailings purposes, never a second truth.
func (s *ConsentService) recordContactFlags(ctx context.Context, tx Store, sc scope, old, cust *Customer) error {
	for _, f := range []struct {
		purpose   string
		was, want bool
	}{{PurposePost, old != nil && old.NoPost, cust.NoPost}, {PurposeMailings, old != nil && old.NoMailings, cust.NoMailings}} {
		if f.was == f.want {
			continue
		}
		p, err := s.purpose(ctx, tx, sc, f.purpose)
		if err != nil {
			return err
		}
		state := ConsentGranted
		if f.want {
			state = ConsentWithdrawn
		}
		// A flag set by staff, an import or an integration showed the
		// customer no text; one the customer set in the portal did.
		src := sourceOf(sc.actor)
		in := ConsentInput{Purpose: p.Key, Source: src, NoWording: src != SourcePortal}
		if _, err := s.append(ctx, tx, sc, cust, p, state, in, ""); err != nil {
			return err
		}
	}
	return nil
}

// sourceOf is the consent source of a change made by an actor outside the
// consent calls (a customer record's flags).
func sourceOf(a Actor) ConsentSource {
	switch a.Kind {
	case ActorCustomer:
		return SourcePortal
	case ActorImport:
		return SourceImport
	case ActorIntegration:
		return SourceBooking
	}
	return SourceStaff
}
