package crm

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"time"
)

// PointKind is what a point transaction does.
type PointKind string

// The kinds of point transaction. Awards and positive corrections are
// credits ("lots", each with its own dates); redemptions, negative
// corrections and expiries are debits, taken from lots.
const (
	PointsAward   PointKind = "award"
	PointsRedeem  PointKind = "redeem"
	PointsCorrect PointKind = "correct"
	PointsReverse PointKind = "reverse"
	PointsExpire  PointKind = "expire"
)

// PointTransaction is one entry of a customer's points ledger. Entries are
// only ever appended: a mistake is corrected or reversed by a new entry.
type PointTransaction struct {
	ID         string    `json:"id"`
	CustomerID string    `json:"customerId"`
	Kind       PointKind `json:"kind"`
	// Points is signed: positive for credits, negative for debits.
	Points int64 `json:"points"`
	// AvailableFrom: an award is pending until this day (e.g. after the stay).
	AvailableFrom *Date `json:"availableFrom,omitempty"`
	// ExpiresOn: the award's points can be used up to and including this day.
	ExpiresOn *Date `json:"expiresOn,omitempty"`
	// Reason says why (required for corrections).
	Reason string `json:"reason,omitempty"`
	// Reference ties the transaction to something outside, e.g. a booking number.
	Reference string `json:"reference,omitempty"`
	// Reverses is the transaction a reversal undoes.
	Reverses string `json:"reverses,omitempty"`
	// IdempotencyKey is the key the transaction was written with, if any.
	IdempotencyKey string    `json:"idempotencyKey,omitempty"`
	Actor          Actor     `json:"actor"`
	At             time.Time `json:"at"`
	// RequestHash fingerprints the call that wrote it, to tell a repeated
	// call (same key, same arguments) from a different one.
	RequestHash string `json:"-"`
	// Replayed is set on the answer to a repeated call: the transaction is
	// the first call's, and nothing was written.
	Replayed bool `json:"-"`
}

// PointAllocation says how many points of a credit (lot) a debit took.
// A reversal of a debit gives them back with a negative allocation.
type PointAllocation struct {
	DebitID  string
	CreditID string
	Points   int64
}

// PointLot is a credit with what is left of it.
type PointLot struct {
	PointTransaction
	Remaining int64
}

// PointBalance is a customer's points.
type PointBalance struct {
	// Available can be redeemed today.
	Available int64 `json:"available"`
	// Pending become available on their AvailableFrom day.
	Pending int64 `json:"pending"`
	// Expired counts every point that expired: written off by the expiry
	// run, or past its day and waiting for it.
	Expired int64 `json:"expired"`
}

// PointInput is the input of the points calls.
type PointInput struct {
	Points        int64  `json:"points"`
	AvailableFrom *Date  `json:"availableFrom,omitempty"`
	ExpiresOn     *Date  `json:"expiresOn,omitempty"`
	Reason        string `json:"reason,omitempty" validate:"max=500"`
	Reference     string `json:"reference,omitempty" validate:"max=200"`
	// IdempotencyKey makes the call safe to repeat: the same key with the
	// same arguments returns the first result and writes nothing; with
	// other arguments it is ErrConflict. Unique per organisation.
	IdempotencyKey string `json:"idempotencyKey,omitempty" validate:"max=200"`
}

// PointStore keeps the points ledger. The store never updates or deletes a
// transaction or allocation (except with its customer). It keeps what is
// left of each credit next to the ledger, updated with each allocation, and
// refuses (ErrInsufficientPoints) an allocation that would take a credit
// below zero.
type PointStore interface {
	// PointTransactionInsert appends a transaction with its allocations. A
	// taken idempotency key, or a second reversal of one transaction, is
	// ErrConflict.
	PointTransactionInsert(ctx context.Context, orgID string, t *PointTransaction, allocs []PointAllocation) error
	// PointTransactionGet returns one transaction or ErrNotFound.
	PointTransactionGet(ctx context.Context, orgID, id string) (*PointTransaction, error)
	// PointTransactionByKey returns the transaction written with an
	// idempotency key, or ErrNotFound.
	PointTransactionByKey(ctx context.Context, orgID, key string) (*PointTransaction, error)
	// PointTransactionList returns a page of a customer's ledger, newest
	// first, strictly before (BeforeAt, BeforeID) when BeforeID is set.
	PointTransactionList(ctx context.Context, orgID, customerID string, beforeAt time.Time, beforeID string, limit int) ([]PointTransaction, error)
	// PointLots returns the customer's credits with points left, in the
	// order they are spent: soonest expiry first, no expiry last, then oldest.
	PointLots(ctx context.Context, orgID, customerID string) ([]PointLot, error)
	// PointAllocationsOf returns what a debit took from which credits.
	PointAllocationsOf(ctx context.Context, orgID, debitID string) ([]PointAllocation, error)
	// PointsExpiredTotal is the sum of the customer's expiry transactions (negative).
	PointsExpiredTotal(ctx context.Context, orgID, customerID string) (int64, error)
	// PointCustomersWithDueLots returns up to limit customers (ids, after
	// afterID in id order) holding points that expired before day.
	PointCustomersWithDueLots(ctx context.Context, orgID string, day Date, afterID string, limit int) ([]string, error)
}

// The timeline events of points.
const (
	EventPointsAwarded   EventKind = "points.awarded"
	EventPointsRedeemed  EventKind = "points.redeemed"
	EventPointsCorrected EventKind = "points.corrected"
	EventPointsReversed  EventKind = "points.reversed"
	EventPointsExpired   EventKind = "points.expired"
)

// PointService keeps loyalty points as a ledger that never overdraws (C8).
// An organisation switches points on with Organisation.PointsEnabled; while
// off, every call returns ErrFeatureOff.
//
// Every write locks the customer first, so the writes of one customer run
// one after the other and a balance is never read stale: concurrent
// redemptions can never take the same points twice.
type PointService struct{ *core }

// Award credits points, optionally pending until AvailableFrom and
// expiring after ExpiresOn.
func (s *PointService) Award(ctx context.Context, customerID string, in PointInput) (*PointTransaction, error) {
	return s.write(ctx, customerID, PointsAward, "", in)
}

// Redeem spends points, those expiring soonest first. More than the
// available balance is ErrInsufficientPoints.
func (s *PointService) Redeem(ctx context.Context, customerID string, in PointInput) (*PointTransaction, error) {
	return s.write(ctx, customerID, PointsRedeem, "", in)
}

// Correct adds (positive Points) or removes (negative Points) points with a
// required reason. A removal beyond the available balance is ErrInsufficientPoints.
func (s *PointService) Correct(ctx context.Context, customerID string, in PointInput) (*PointTransaction, error) {
	return s.write(ctx, customerID, PointsCorrect, "", in)
}

// Reverse undoes an earlier award, redemption or correction of the
// customer (e.g. when a booking is cancelled); in.Points is ignored. A
// transaction that is not the customer's is ErrNotFound. A
// reversed redemption gives the points back to the lots they came from,
// with their expiry. A transaction is reversed at most once (else
// ErrConflict); undoing an award whose points were spent is
// ErrInsufficientPoints when the balance cannot cover it.
func (s *PointService) Reverse(ctx context.Context, customerID, transactionID string, in PointInput) (*PointTransaction, error) {
	return s.write(ctx, customerID, PointsReverse, transactionID, in)
}

// requestHash fingerprints a call, for idempotency.
func requestHash(customerID string, kind PointKind, target string, in PointInput) string {
	in.IdempotencyKey = ""
	b, _ := json.Marshal(struct {
		C, K, T string
		In      PointInput
	}{customerID, string(kind), target, in})
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// check validates in and normalises it in place.
func (s *PointService) check(sc scope, kind PointKind, target string, in *PointInput) error {
	v := newValidation(sc.lang)
	v.checkText("", in)
	in.Reason, in.Reference, in.IdempotencyKey = strings.TrimSpace(in.Reason), strings.TrimSpace(in.Reference), strings.TrimSpace(in.IdempotencyKey)
	v.addStruct(s.validate, in)
	switch kind {
	case PointsAward, PointsRedeem:
		if in.Points <= 0 {
			v.add("points", "gt", "0")
		}
	case PointsCorrect:
		if in.Points == 0 {
			v.add("points", "ne", "0")
		}
		if strings.TrimSpace(in.Reason) == "" {
			v.add("reason", "required", "")
		}
	}
	if in.Points > 1_000_000_000 || in.Points < -1_000_000_000 {
		v.add("points", "maxValue", "1000000000")
	}
	if kind != PointsAward && (in.AvailableFrom != nil || in.ExpiresOn != nil) {
		v.add("expiresOn", "invalid", "") // dates belong to awards
	}
	if in.AvailableFrom != nil && in.ExpiresOn != nil && in.ExpiresOn.Before(*in.AvailableFrom) {
		v.add("expiresOn", "invalid", "")
	}
	return v.err()
}

func (s *PointService) write(ctx context.Context, customerID string, kind PointKind, target string, in PointInput) (*PointTransaction, error) {
	sc, err := s.writeScope(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.enabled(ctx, sc); err != nil {
		return nil, err
	}
	if err := s.check(sc, kind, target, &in); err != nil {
		return nil, err
	}
	if !validID(customerID) {
		return nil, &notFoundError{what: "customer " + customerID}
	}
	if kind == PointsReverse && !validID(target) {
		return nil, &notFoundError{what: "point transaction " + target}
	}
	hash := requestHash(customerID, kind, target, in)
	var out *PointTransaction
	err = s.store.InTx(ctx, func(tx Store) error {
		now := s.now()
		if in.IdempotencyKey != "" {
			// The lock comes before the key check, so a repeat that waited
			// for the first call finds its result; a repeat writes nothing.
			if err := tx.CustomerLock(ctx, sc.org, customerID); err != nil {
				return err
			}
			if first, err := s.repeated(ctx, tx, sc, in.IdempotencyKey, hash); err != nil || first != nil {
				out = first
				return err
			}
		}
		// Records the activity and, without a key, takes the lock.
		if err := tx.CustomerTouch(ctx, sc.org, customerID, now); err != nil {
			return err
		}
		t := &PointTransaction{
			ID: newID(), CustomerID: customerID, Kind: kind, Points: in.Points, AvailableFrom: in.AvailableFrom,
			ExpiresOn: in.ExpiresOn, Reason: in.Reason, Reference: in.Reference, Reverses: target,
			IdempotencyKey: in.IdempotencyKey, Actor: sc.actor, At: now, RequestHash: hash,
		}
		allocs, err := s.plan(ctx, tx, sc, t, DateOf(now))
		if err != nil {
			return err
		}
		if err := tx.PointTransactionInsert(ctx, sc.org, t, allocs); err != nil {
			return err
		}
		out = t
		return tx.HistoryAppend(ctx, s.event(sc, customerID, pointEvent(kind), now, []FieldChange{{Field: "points", New: t.Points}}))
	})
	if errors.Is(err, ErrConflict) && in.IdempotencyKey != "" {
		// Two calls with one key raced and this one lost: answer like a repeat.
		if first, rerr := s.repeated(ctx, s.store, sc, in.IdempotencyKey, hash); rerr == nil && first != nil {
			return first, nil
		}
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}

// repeated returns the transaction an idempotency key already wrote, nil
// when the key is new, or ErrConflict when it was used for another call.
func (s *PointService) repeated(ctx context.Context, st PointStore, sc scope, key, hash string) (*PointTransaction, error) {
	first, err := st.PointTransactionByKey(ctx, sc.org, key)
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if first.RequestHash != hash {
		return nil, &ConflictError{Field: "idempotencyKey", Reason: "the idempotency key was used for a different request: use a new key for a new request"}
	}
	first.Replayed = true
	return first, nil
}

// plan works out the transaction's allocations, refusing overdrafts.
func (s *PointService) plan(ctx context.Context, tx PointStore, sc scope, t *PointTransaction, today Date) ([]PointAllocation, error) {
	switch {
	case t.Kind == PointsAward, t.Kind == PointsCorrect && t.Points > 0:
		return nil, nil // a new lot
	case t.Kind == PointsReverse:
		return s.planReversal(ctx, tx, sc, t, today)
	default: // redeem, negative correction
		if t.Kind == PointsRedeem {
			t.Points = -t.Points
		}
		return s.take(ctx, tx, sc, t, -t.Points, "", today)
	}
}

// take allocates n points to debit t from the available lots, preferring
// the lot first (when set), then soonest expiry first.
func (s *PointService) take(ctx context.Context, tx PointStore, sc scope, t *PointTransaction, n int64, first string, today Date) ([]PointAllocation, error) {
	lots, err := tx.PointLots(ctx, sc.org, t.CustomerID)
	if err != nil {
		return nil, err
	}
	var allocs []PointAllocation
	use := func(l PointLot) {
		// The lot named first (an award being reversed) gives back what is
		// left of it whatever its dates: undoing a pending award takes its
		// pending points, not available ones.
		if n == 0 || l.Remaining <= 0 || (l.ID != first && !lotAvailable(&l, today)) {
			return
		}
		k := min(n, l.Remaining)
		allocs = append(allocs, PointAllocation{DebitID: t.ID, CreditID: l.ID, Points: k})
		n -= k
	}
	for _, l := range lots {
		if l.ID == first {
			use(l)
		}
	}
	for _, l := range lots {
		if l.ID != first {
			use(l)
		}
	}
	if n > 0 {
		return nil, ErrInsufficientPoints
	}
	return allocs, nil
}

func lotAvailable(l *PointLot, today Date) bool {
	return (l.AvailableFrom == nil || !today.Before(*l.AvailableFrom)) && (l.ExpiresOn == nil || !today.After(*l.ExpiresOn))
}

func (s *PointService) planReversal(ctx context.Context, tx PointStore, sc scope, t *PointTransaction, today Date) ([]PointAllocation, error) {
	orig, err := tx.PointTransactionGet(ctx, sc.org, t.Reverses)
	if errors.Is(err, ErrNotFound) || (err == nil && orig.CustomerID != t.CustomerID) {
		return nil, &notFoundError{what: "point transaction " + t.Reverses + " of this customer"}
	}
	if err != nil {
		return nil, err
	}
	if orig.Kind == PointsReverse || orig.Kind == PointsExpire {
		v := newValidation(sc.lang)
		v.add("transactionId", "invalid", "")
		return nil, v.err()
	}
	t.Points = -orig.Points
	if orig.Points > 0 { // a credit: take its points back, from itself first
		return s.take(ctx, tx, sc, t, orig.Points, orig.ID, today)
	}
	// A debit: give the points back to the lots they came from.
	taken, err := tx.PointAllocationsOf(ctx, sc.org, orig.ID)
	if err != nil {
		return nil, err
	}
	allocs := make([]PointAllocation, len(taken))
	for i, a := range taken {
		allocs[i] = PointAllocation{DebitID: t.ID, CreditID: a.CreditID, Points: -a.Points}
	}
	return allocs, nil
}

func pointEvent(k PointKind) EventKind {
	switch k {
	case PointsAward:
		return EventPointsAwarded
	case PointsRedeem:
		return EventPointsRedeemed
	case PointsCorrect:
		return EventPointsCorrected
	case PointsReverse:
		return EventPointsReversed
	}
	return EventPointsExpired
}

// enabled returns ErrFeatureOff unless the organisation has points on.
func (s *PointService) enabled(ctx context.Context, sc scope) error {
	org, err := s.organisation(ctx, s.store, sc)
	if err != nil {
		return err
	}
	if !org.PointsEnabled {
		return ErrFeatureOff
	}
	return nil
}

// Balance returns the customer's available, pending and expired points.
func (s *PointService) Balance(ctx context.Context, customerID string) (*PointBalance, error) {
	sc, err := readScope(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.enabled(ctx, sc); err != nil {
		return nil, err
	}
	if err := s.customerExists(ctx, s.store, sc, customerID); err != nil {
		return nil, err
	}
	return s.balance(ctx, s.store, sc, customerID)
}

func (s *PointService) balance(ctx context.Context, st PointStore, sc scope, customerID string) (*PointBalance, error) {
	lots, err := st.PointLots(ctx, sc.org, customerID)
	if err != nil {
		return nil, err
	}
	expired, err := st.PointsExpiredTotal(ctx, sc.org, customerID)
	if err != nil {
		return nil, err
	}
	b := &PointBalance{Expired: -expired}
	today := DateOf(s.now())
	for i := range lots {
		l := &lots[i]
		switch {
		case l.ExpiresOn != nil && today.After(*l.ExpiresOn):
			b.Expired += l.Remaining
		case l.AvailableFrom != nil && today.Before(*l.AvailableFrom):
			b.Pending += l.Remaining
		default:
			b.Available += l.Remaining
		}
	}
	return b, nil
}

// Transaction returns one of the customer's transactions. An unknown id, or
// one of another customer, is ErrNotFound.
func (s *PointService) Transaction(ctx context.Context, customerID, transactionID string) (*PointTransaction, error) {
	sc, err := readScope(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.enabled(ctx, sc); err != nil {
		return nil, err
	}
	if !validID(customerID) || !validID(transactionID) {
		return nil, &notFoundError{what: "point transaction " + transactionID}
	}
	t, err := s.store.PointTransactionGet(ctx, sc.org, transactionID)
	if err != nil {
		return nil, err
	}
	if t.CustomerID != customerID {
		return nil, &notFoundError{what: "point transaction " + transactionID}
	}
	return t, nil
}

// Ledger returns a page of the customer's transactions, newest first.
func (s *PointService) Ledger(ctx context.Context, customerID string, page PageRequest) (Page[PointTransaction], error) {
	sc, err := readScope(ctx)
	if err != nil {
		return Page[PointTransaction]{}, err
	}
	if err := s.enabled(ctx, sc); err != nil {
		return Page[PointTransaction]{}, err
	}
	v := newValidation(sc.lang)
	limit := page.limit(v)
	cur, ok := decodeCursor(page.Cursor)
	if !ok || (page.Cursor != "" && (cur.ID == "" || cur.Time == 0)) {
		v.add("cursor", "cursor", "")
	}
	if err := v.err(); err != nil {
		return Page[PointTransaction]{}, err
	}
	if err := s.customerExists(ctx, s.store, sc, customerID); err != nil {
		return Page[PointTransaction]{}, err
	}
	var before time.Time
	if page.Cursor != "" {
		before = time.UnixMicro(cur.Time).UTC()
	}
	items, err := s.store.PointTransactionList(ctx, sc.org, customerID, before, cur.ID, limit+1)
	if err != nil {
		return Page[PointTransaction]{}, err
	}
	out := Page[PointTransaction]{Items: nonNil(items)}
	if len(items) > limit {
		out.Items = items[:limit]
		last := out.Items[limit-1]
		out.Next = cursor{Time: last.At.UnixMicro(), ID: last.ID}.encode()
	}
	return out, nil
}

// ExpireReport is what an expiry run did.
type ExpireReport struct {
	// Customers counts the customers whose points expired; Points the points.
	Customers int   `json:"customers"`
	Points    int64 `json:"points"`
}

// ExpireDue writes an expiry transaction for every customer holding points
// whose expiry day is before now's day. Each customer is one transaction;
// running it again changes nothing.
func (s *PointService) ExpireDue(ctx context.Context, now time.Time) (*ExpireReport, error) {
	sc, err := s.writeScope(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.enabled(ctx, sc); err != nil {
		return nil, err
	}
	today := DateOf(now.UTC())
	report := &ExpireReport{}
	after := ""
	for {
		ids, err := s.store.PointCustomersWithDueLots(ctx, sc.org, today, after, retentionBatch)
		if err != nil {
			return report, err
		}
		for _, id := range ids {
			n, err := s.expireCustomer(ctx, sc, id, today)
			if errors.Is(err, ErrNotFound) {
				continue
			}
			if err != nil {
				return report, err
			}
			if n > 0 {
				report.Customers++
				report.Points += n
			}
		}
		if len(ids) < retentionBatch {
			return report, nil
		}
		after = ids[len(ids)-1]
	}
}

func (s *PointService) expireCustomer(ctx context.Context, sc scope, customerID string, today Date) (int64, error) {
	var expired int64
	err := s.store.InTx(ctx, func(tx Store) error {
		if err := tx.CustomerLock(ctx, sc.org, customerID); err != nil {
			return err
		}
		lots, err := tx.PointLots(ctx, sc.org, customerID)
		if err != nil {
			return err
		}
		now := s.now()
		t := &PointTransaction{ID: newID(), CustomerID: customerID, Kind: PointsExpire, Actor: sc.actor, At: now}
		var allocs []PointAllocation
		for _, l := range lots {
			if l.Remaining > 0 && l.ExpiresOn != nil && today.After(*l.ExpiresOn) {
				allocs = append(allocs, PointAllocation{DebitID: t.ID, CreditID: l.ID, Points: l.Remaining})
				expired += l.Remaining
			}
		}
		if expired == 0 {
			return nil
		}
		t.Points = -expired
		t.RequestHash = requestHash(customerID, PointsExpire, "", PointInput{Points: expired})
		if err := tx.PointTransactionInsert(ctx, sc.org, t, allocs); err != nil {
			return err
		}
		return tx.HistoryAppend(ctx, s.event(sc, customerID, EventPointsExpired, now, []FieldChange{{Field: "points", New: t.Points}}))
	})
	return expired, err
}
