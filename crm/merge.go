package crm

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"time"
)

// EventCustomerMerged is written on the survivor of a merge: its changes
// name the customer that was merged into it (id and number), the fields
// taken from it, and how many rows of each kind moved. The actor is who
// merged.
const EventCustomerMerged EventKind = "customer.merged"

// MergedError says that the customer asked for was merged into another:
// its id and number are a tombstone that resolve to SurvivorID. It matches
// ErrNotFound under errors.Is (the customer itself is gone), so callers
// that do not care about merges treat it as absent; those that do follow
// SurvivorID (errors.As). The HTTP layer answers 308 to the survivor.
type MergedError struct {
	// ID is the id of the customer that was merged away.
	ID string
	// SurvivorID is the customer it lives on in.
	SurvivorID string
}

// Error implements error.
func (e *MergedError) Error() string {
	return "customer " + e.ID + " was merged into customer " + e.SurvivorID
}

// Is makes a MergedError match ErrNotFound.
func (e *MergedError) Is(target error) bool { return target == ErrNotFound }

// MergeBlockedError is a merge refused for a reason the caller cannot
// choose away in the merge itself (see MergeService.Merge). It matches
// ErrMergeBlocked.
type MergeBlockedError struct {
	// Code is a stable name of the reason: "invoiced_booking",
	// "same_customer", "anonymised", "too_many_tags",
	// "two_memberships", "two_portal_accounts".
	Code string
	// Reason says it in words.
	Reason string
}

// Error implements error.
func (e *MergeBlockedError) Error() string { return "the merge is blocked: " + e.Reason }

// Is makes a MergeBlockedError match ErrMergeBlocked.
func (e *MergeBlockedError) Is(target error) bool { return target == ErrMergeBlocked }

// MergeSide names one customer of a merge as the preview saw it.
type MergeSide struct {
	ID      string `json:"id"`
	Number  int64  `json:"number"`
	Version int    `json:"version"`
	Name    string `json:"name"`
}

// MergeField is one field of the customer record in a merge preview: both
// values (as JSON), and which one the merge keeps.
type MergeField struct {
	Field     string          `json:"field"`
	Survivor  json.RawMessage `json:"survivor"`
	Duplicate json.RawMessage `json:"duplicate"`
	// Kept is "survivor" or "duplicate".
	Kept string `json:"kept"`
	// Conflict: both customers have a value and they differ.
	Conflict bool `json:"conflict"`
}

// MergeMove counts the rows of one kind that move from the duplicate to
// the survivor (or, for the record's own indexes, are rebuilt).
type MergeMove struct {
	// Table is the storage table; What says what its rows are.
	Table string `json:"table"`
	What  string `json:"what"`
	Rows  int64  `json:"rows"`
}

// MergeConflict is something that stops the merge until resolved: the
// tags, memberships or portal accounts of both customers that cannot live
// on one. A preview with conflicts has Blocked set.
type MergeConflict struct {
	Code   string `json:"code"`
	Reason string `json:"reason"`
}

// MergePreview is what a merge of Duplicate into Survivor would do.
// Merge takes its versions and choices: a change of either customer
// after the preview makes the merge a conflict.
type MergePreview struct {
	Survivor  MergeSide       `json:"survivor"`
	Duplicate MergeSide       `json:"duplicate"`
	Fields    []MergeField    `json:"fields"`
	Moves     []MergeMove     `json:"moves"`
	Conflicts []MergeConflict `json:"conflicts"`
	// Blocked, when not nil, is why Merge would refuse.
	Blocked *MergeBlockedError `json:"blocked,omitempty"`
}

// MergeRequest asks to merge DuplicateID into SurvivorID. The versions
// are those the preview showed; TakeFromDuplicate names the fields (in
// their JSON spelling, as in MergeField.Field) whose duplicate value
// replaces the survivor's.
type MergeRequest struct {
	SurvivorID        string   `json:"survivorId"`
	DuplicateID       string   `json:"duplicateId"`
	SurvivorVersion   int      `json:"survivorVersion"`
	DuplicateVersion  int      `json:"duplicateVersion"`
	TakeFromDuplicate []string `json:"takeFromDuplicate,omitempty"`
}

// MergeFacts is what the store reports about a pair before a merge.
type MergeFacts struct {
	// Moves counts the duplicate's rows per table of the merge registry.
	Moves []MergeMove
	// TagsTogether is how many distinct tags both carry together.
	TagsTogether int
	// SharedMembershipLabels are labels of which both hold a membership.
	SharedMembershipLabels []string
	// InvoicedBookings are the references of the duplicate's invoiced bookings.
	InvoicedBookings []string
}

// MergeStore moves everything of one customer to another.
type MergeStore interface {
	// MergeFacts counts what a merge of duplicateID into survivorID moves
	// and finds what would block it.
	MergeFacts(ctx context.Context, orgID, survivorID, duplicateID string) (*MergeFacts, error)
	// MergeMove moves every row that refers to duplicate to survivor by
	// the store's merge registry, leaves a tombstone (duplicate's id and
	// number resolve to survivor, see MergedError), and deletes the
	// duplicate's record. It runs inside the caller's transaction.
	MergeMove(ctx context.Context, p MergeMoveParams) error
}

// MergeMoveParams says which customer moves into which.
type MergeMoveParams struct {
	OrgID           string
	SurvivorID      string
	SurvivorNumber  int64
	DuplicateID     string
	DuplicateNumber int64
	At              time.Time
	By              Actor
}

// MergeService previews and performs merges of duplicate customers (C11).
type MergeService struct {
	*core
	customers *CustomerService
}

// mergeFieldNames lists the record's fields in their JSON spelling, in
// the order a preview shows them.
var mergeFieldNames = []string{"firstName", "middleName", "lastName", "company", "address", "phones",
	"birthDate", "passportExpiry", "status", "origin", "firstContact", "loginEmail", "email", "altEmails",
	"language", "internalDescription", "remarks", "noPost", "noMailings", "assignedTo", "customFields"}

// Preview says what merging duplicateID into survivorID would do. The
// survivor's value of each field is kept unless take names the field.
func (s *MergeService) Preview(ctx context.Context, survivorID, duplicateID string, take ...string) (*MergePreview, error) {
	sc, err := readScope(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.checkPair(sc, survivorID, duplicateID, take); err != nil {
		return nil, err
	}
	var p *MergePreview
	err = s.store.InTx(ctx, func(tx Store) error {
		surv, err := tx.CustomerGet(ctx, CustomerGetParams{OrgID: sc.org, ID: survivorID})
		if err != nil {
			return err
		}
		dup, err := tx.CustomerGet(ctx, CustomerGetParams{OrgID: sc.org, ID: duplicateID})
		if err != nil {
			return err
		}
		facts, err := tx.MergeFacts(ctx, sc.org, survivorID, duplicateID)
		if err != nil {
			return err
		}
		p = buildPreview(surv, dup, facts, take)
		return nil
	})
	return p, err
}

func (s *MergeService) checkPair(sc scope, survivorID, duplicateID string, take []string) error {
	if !validID(survivorID) {
		return &notFoundError{what: "customer " + survivorID}
	}
	if !validID(duplicateID) {
		return &notFoundError{what: "customer " + duplicateID}
	}
	v := newValidation(sc.lang)
	for i, f := range take {
		if !slices.Contains(mergeFieldNames, f) {
			v.add("takeFromDuplicate["+strconv.Itoa(i)+"]", "oneof", "a field of the customer")
		}
	}
	if err := v.err(); err != nil {
		return err
	}
	if survivorID == duplicateID {
		return &MergeBlockedError{Code: "same_customer", Reason: "a customer cannot be merged into itself"}
	}
	return nil
}

func fieldsJSON(c *Customer) map[string]json.RawMessage {
	b, _ := json.Marshal(c.CustomerFields)
	m := map[string]json.RawMessage{}
	_ = json.Unmarshal(b, &m)
	return m
}

func emptyJSON(v json.RawMessage) bool {
	switch string(v) {
	case "", "null", `""`, "false", "[]", "{}":
		return true
	}
	// An address with no parts set marshals as {"country":""} and the like.
	var m map[string]any
	if json.Unmarshal(v, &m) == nil {
		for _, x := range m {
			if x != "" && x != nil {
				return false
			}
		}
		return true
	}
	return false
}

func buildPreview(surv, dup *Customer, facts *MergeFacts, take []string) *MergePreview {
	p := &MergePreview{
		Survivor:  MergeSide{ID: surv.ID, Number: surv.Number, Version: surv.Version, Name: surv.DisplayName()},
		Duplicate: MergeSide{ID: dup.ID, Number: dup.Number, Version: dup.Version, Name: dup.DisplayName()},
		Moves:     facts.Moves,
		Fields:    []MergeField{},
		Conflicts: []MergeConflict{},
	}
	sm, dm := fieldsJSON(surv), fieldsJSON(dup)
	for _, f := range mergeFieldNames {
		sv, dv := sm[f], dm[f]
		if sv == nil {
			sv = json.RawMessage("null")
		}
		if dv == nil {
			dv = json.RawMessage("null")
		}
		kept := "survivor"
		if slices.Contains(take, f) {
			kept = "duplicate"
		}
		p.Fields = append(p.Fields, MergeField{Field: f, Survivor: sv, Duplicate: dv, Kept: kept,
			Conflict: !emptyJSON(sv) && !emptyJSON(dv) && string(sv) != string(dv)})
	}
	if facts.TagsTogether > MaxTagsPerCustomer {
		p.Conflicts = append(p.Conflicts, MergeConflict{Code: "too_many_tags",
			Reason: "together the customers carry " + strconv.Itoa(facts.TagsTogether) + " tags, more than " + strconv.Itoa(MaxTagsPerCustomer) + ": remove some first"})
	}
	for _, l := range facts.SharedMembershipLabels {
		p.Conflicts = append(p.Conflicts, MergeConflict{Code: "two_memberships",
			Reason: "both customers hold a membership of label " + l + ": end one first"})
	}
	if surv.LoginEmail != "" && dup.LoginEmail != "" {
		p.Conflicts = append(p.Conflicts, MergeConflict{Code: "two_portal_accounts",
			Reason: "both customers have a portal account: remove the duplicate's login e-mail first"})
	}
	switch {
	case len(facts.InvoicedBookings) > 0:
		p.Blocked = &MergeBlockedError{Code: "invoiced_booking",
			Reason: "the customer to be removed has an invoiced booking (" + facts.InvoicedBookings[0] + ")"}
	case surv.AnonymisedAt != nil || dup.AnonymisedAt != nil:
		p.Blocked = &MergeBlockedError{Code: "anonymised", Reason: "an anonymised customer cannot be merged"}
	case len(p.Conflicts) > 0:
		p.Blocked = &MergeBlockedError{Code: p.Conflicts[0].Code, Reason: p.Conflicts[0].Reason}
	}
	return p
}

// Merge merges req.DuplicateID into req.SurvivorID in one transaction:
// every row of the duplicate (bookings, documents, consents with their
// log, points ledger and lots, tags, attributes, labels, memberships,
// interactions, history, ...) moves to the survivor; the fields named in
// TakeFromDuplicate take the duplicate's value; a "customer.merged" event
// on the survivor says who merged whom; the duplicate's id and number
// become a tombstone that resolves to the survivor (MergedError).
//
// Refused with a *MergeBlockedError (ErrMergeBlocked) when the duplicate
// has an invoiced booking, when both are one customer, when either is
// anonymised, and while the preview shows a conflict (more than nine tags
// together, two memberships of one label, two portal accounts). When
// either customer changed since the preview (its version), or was merged
// meanwhile, the result is ErrConflict (ErrStaleVersion for a version).
func (s *MergeService) Merge(ctx context.Context, req MergeRequest) (*Customer, error) {
	sc, err := s.writeScope(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.checkPair(sc, req.SurvivorID, req.DuplicateID, req.TakeFromDuplicate); err != nil {
		return nil, err
	}
	if req.SurvivorVersion <= 0 || req.DuplicateVersion <= 0 {
		v := newValidation(sc.lang)
		if req.SurvivorVersion <= 0 {
			v.add("survivorVersion", "required", "")
		}
		if req.DuplicateVersion <= 0 {
			v.add("duplicateVersion", "required", "")
		}
		return nil, v.err()
	}
	org, defs, err := s.customers.rules(ctx, sc)
	if err != nil {
		return nil, err
	}
	var out *Customer
	err = s.store.InTx(ctx, func(tx Store) error {
		now := s.now()
		// Locks in id order, so that merges and moves do not deadlock.
		ids := []string{req.SurvivorID, req.DuplicateID}
		slices.Sort(ids)
		for _, id := range ids {
			if err := tx.CustomerTouch(ctx, sc.org, id, now); err != nil && !errors.Is(err, ErrAnonymised) {
				return gone(ctx, tx, sc, id, err)
			}
		}
		surv, err := tx.CustomerGet(ctx, CustomerGetParams{OrgID: sc.org, ID: req.SurvivorID})
		if err != nil {
			return gone(ctx, tx, sc, req.SurvivorID, err)
		}
		dup, err := tx.CustomerGet(ctx, CustomerGetParams{OrgID: sc.org, ID: req.DuplicateID})
		if err != nil {
			return gone(ctx, tx, sc, req.DuplicateID, err)
		}
		if surv.Version != req.SurvivorVersion || dup.Version != req.DuplicateVersion {
			return ErrStaleVersion
		}
		facts, err := tx.MergeFacts(ctx, sc.org, surv.ID, dup.ID)
		if err != nil {
			return err
		}
		p := buildPreview(surv, dup, facts, req.TakeFromDuplicate)
		if p.Blocked != nil {
			return p.Blocked
		}
		merged := fieldsJSON(surv)
		dm := fieldsJSON(dup)
		for _, f := range req.TakeFromDuplicate {
			merged[f] = dm[f]
		}
		b, _ := json.Marshal(merged)
		var fields CustomerFields
		if err := json.Unmarshal(b, &fields); err != nil {
			return err
		}
		fields, err = s.customers.check(sc, org, defs, fields, surv)
		if err != nil {
			return err
		}
		if err := tx.MergeMove(ctx, MergeMoveParams{OrgID: sc.org, SurvivorID: surv.ID, SurvivorNumber: surv.Number,
			DuplicateID: dup.ID, DuplicateNumber: dup.Number, At: now, By: sc.actor}); err != nil {
			return err
		}
		// The contact flags are views of the post and mailings consents,
		// whose current state is now the newer of both customers': the
		// survivor's flags follow it, unless the merge takes a flag from
		// the duplicate, which records a consent for the value chosen.
		derived := *surv
		derived.CustomerFields = fields
		if err := s.flagsFromConsents(ctx, tx, sc, &derived); err != nil {
			return err
		}
		if !slices.Contains(req.TakeFromDuplicate, "noPost") {
			fields.NoPost = derived.NoPost
		}
		if !slices.Contains(req.TakeFromDuplicate, "noMailings") {
			fields.NoMailings = derived.NoMailings
		}
		next := *surv
		next.CustomerFields = fields
		next.SortKey = SortKey(org.DefaultLanguage, &fields)
		next.UpdatedAt, next.LastActivityAt, next.Version = now, now, surv.Version+1
		if err := tx.CustomerUpdate(ctx, &next, surv); err != nil {
			return err
		}
		changes := []FieldChange{{Field: "merged.id", Old: dup.ID}, {Field: "merged.number", Old: dup.Number}}
		changes = append(changes, diffCustomer(surv, &next)...)
		for _, m := range facts.Moves {
			if m.Rows > 0 {
				changes = append(changes, FieldChange{Field: "moved." + m.Table, New: m.Rows})
			}
		}
		if err := tx.HistoryAppend(ctx, s.event(sc, surv.ID, EventCustomerMerged, now, changes)); err != nil {
			return err
		}
		if err := staffOrigins(ctx, tx, sc, surv.ID, diffCustomer(surv, &next), now); err != nil {
			return err
		}
		if err := enqueueDuplicateCheck(ctx, tx, sc.org, surv.ID); err != nil {
			return err
		}
		out = &next
		return s.customers.consents.recordContactFlags(ctx, tx, sc, &derived, &next)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// flagsFromConsents sets c's NoPost and NoMailings from the current state
// of its post and mailings consents, where it has one.
func (s *MergeService) flagsFromConsents(ctx context.Context, tx Store, sc scope, c *Customer) error {
	states, err := tx.ConsentStateList(ctx, sc.org, c.ID)
	if err != nil {
		return err
	}
	for _, st := range states {
		if st.State != ConsentGranted && st.State != ConsentWithdrawn {
			continue
		}
		switch st.Purpose {
		case PurposePost:
			c.NoPost = st.State == ConsentWithdrawn
		case PurposeMailings:
			c.NoMailings = st.State == ConsentWithdrawn
		}
	}
	return nil
}

// gone turns "not found" of a customer a merge had seen in its preview into
// a conflict when the customer was merged meanwhile.
func gone(ctx context.Context, tx Store, sc scope, id string, err error) error {
	var merged *MergedError
	if errors.As(err, &merged) {
		return &ConflictError{Reason: "customer " + id + " was merged into another meanwhile: preview again"}
	}
	if errors.Is(err, ErrNotFound) {
		if _, gerr := tx.CustomerGet(ctx, CustomerGetParams{OrgID: sc.org, ID: id}); errors.As(gerr, &merged) {
			return &ConflictError{Reason: "customer " + id + " was merged into another meanwhile: preview again"}
		}
	}
	return err
}
