package crm

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"
)

// IdempotencyTTL is how long an idempotency key is remembered.
const IdempotencyTTL = 24 * time.Hour

// MaxIdempotencyKey is the longest idempotency key, in bytes.
const MaxIdempotencyKey = 255

// ErrIdempotencyInProgress says that a call with the same idempotency key
// is still running: repeat the call once it has finished.
var ErrIdempotencyInProgress error = &ConflictError{Field: "idempotencyKey",
	Reason: "a request with this idempotency key is still in progress: repeat it when the first has finished"}

// errKeyReused is a key repeated with another request.
var errKeyReused = &ConflictError{Field: "idempotencyKey",
	Reason: "the idempotency key was used for a different request: use a new key for a new request"}

// IdempotencyRecord is what an idempotency key remembers: the call it was
// used for and the call's result.
type IdempotencyRecord struct {
	OrgID string
	Key   string
	// Operation names the call, e.g. "createCustomer".
	Operation string
	// RequestHash fingerprints the call's arguments (IdempotentCall).
	RequestHash string
	// Response is the first call's result, as JSON; empty until the call
	// has finished (in the same transaction).
	Response  []byte
	CreatedAt time.Time
}

// IdempotencyStore keeps idempotency records. Every method is scoped to
// one organisation except the cleanup, which runs across them.
type IdempotencyStore interface {
	// IdempotencyClaim runs inside a transaction. It inserts r unless the
	// organisation has a record with r's key created at or after
	// expiredBefore (an older one is replaced); with such a record it
	// inserts nothing and returns it. A concurrent claim of the same key
	// waits for the other transaction to end.
	IdempotencyClaim(ctx context.Context, r *IdempotencyRecord, expiredBefore time.Time) (existing *IdempotencyRecord, err error)
	// IdempotencyComplete stores the result of the call that claimed key.
	IdempotencyComplete(ctx context.Context, orgID, key string, response []byte) error
	// IdempotencyForget removes the organisation's records whose kept
	// answer names id (a customer being anonymised).
	IdempotencyForget(ctx context.Context, orgID, id string) error
	// IdempotencyDeleteBefore removes up to limit records (of every
	// organisation) created before t and returns how many it removed.
	IdempotencyDeleteBefore(ctx context.Context, t time.Time, limit int) (int, error)
}

// IdempotentCall names one idempotent create.
type IdempotentCall struct {
	// Key is the caller's idempotency key: 1 to 255 printable ASCII
	// characters, unique per organisation for IdempotencyTTL.
	Key string
	// Operation names the call, e.g. "createCustomer"; part of the hash.
	Operation string
	// Request is the call's arguments (path parameters and body). Its JSON,
	// with Operation, is hashed (SHA-256): a repeat whose hash differs is a
	// *ConflictError.
	Request any
}

// Hash returns the call's request hash: SHA-256 over the operation and the
// request's JSON.
func (c IdempotentCall) Hash() (string, error) {
	b, err := json.Marshal(c.Request)
	if err != nil {
		return "", fmt.Errorf("crm: hashing the request of %s: %w", c.Operation, err)
	}
	h := sha256.New()
	h.Write([]byte(c.Operation))
	h.Write([]byte{0})
	h.Write(b)
	return hex.EncodeToString(h.Sum(nil)), nil
}

// Idempotent runs create once per organisation and call.Key, so that a
// create can be repeated safely: a client whose call got no answer (a
// connection reset, a timeout) cannot know whether it was applied, and
// simply repeats it with the same key.
//
// The first call runs create and returns its result. A repeat with the same
// Operation and Request returns the first call's result (kept as JSON and
// decoded: exactly the first answer, also after later changes to what it
// created) with replayed true, and runs nothing. A repeat with another
// request is a *ConflictError (field idempotencyKey); a repeat while the
// first still runs in this process is ErrIdempotencyInProgress. A key that
// is not 1 to 255 printable ASCII characters is a *ValidationError.
//
// Atomic: Idempotent opens one transaction, claims the key in it (an
// IdempotencyRecord), runs create with a context that carries the
// transaction and stores create's result in the record before it commits.
// Every store call a service makes with that context, inside or outside an
// InTx of its own, runs in that transaction. So the record and what create
// wrote commit together or not at all: a crash never leaves one without the
// other, and a create that fails (an error, invalid input) rolls back and
// leaves no record, so the key can be used again. Across processes a
// concurrent call with the key waits for the first's transaction at the
// record and then answers as a repeat (or runs, if the first failed):
// never twice.
//
// Keys are remembered for IdempotencyTTL; an older key is new again.
// IdempotencyStore.IdempotencyDeleteBefore removes expired records, for all
// organisations; the background work (crm/background's
// ForgetIdempotencyKeys) calls it hourly with time.Now().Add(-IdempotencyTTL).
//
// create must pass the context it is given to the services and not use it
// from several goroutines at once (it carries one transaction), and T must
// survive a JSON round trip. For example:
//
//	cust, replayed, err := crm.Idempotent(ctx, c, crm.IdempotentCall{Key: key, Operation: "createCustomer", Request: in},
//		func(ctx context.Context) (*crm.Customer, error) { return c.Customers.Create(ctx, in) })
func Idempotent[T any](ctx context.Context, c *CRM, call IdempotentCall, create func(context.Context) (T, error)) (result T, replayed bool, err error) {
	var zero T
	core := c.Organisations.core
	// The acting staff user is read in the call's transaction below: a
	// repeat while the first call runs is refused without a connection
	// of its own (a one-connection store would wait for the first's).
	sc, err := actorScope(ctx)
	if err != nil {
		return zero, false, err
	}
	if err := checkIdempotencyKey(sc.lang, call.Key); err != nil {
		return zero, false, err
	}
	hash, err := call.Hash()
	if err != nil {
		return zero, false, err
	}
	flight := inFlightKey{org: sc.org, key: call.Key}
	if _, running := core.inFlight.LoadOrStore(flight, struct{}{}); running {
		return zero, false, ErrIdempotencyInProgress
	}
	defer core.inFlight.Delete(flight)

	var first *IdempotencyRecord
	now := core.now()
	err = core.store.InTx(ctx, func(tx Store) error {
		if _, err := core.writeScopeIn(ctx, tx); err != nil {
			return err
		}
		existing, err := tx.IdempotencyClaim(ctx, &IdempotencyRecord{OrgID: sc.org, Key: call.Key, Operation: call.Operation,
			RequestHash: hash, CreatedAt: now}, now.Add(-IdempotencyTTL))
		if err != nil {
			return err
		}
		if existing != nil {
			first = existing
			return nil
		}
		if result, err = create(context.WithValue(ctx, txKey{}, tx)); err != nil {
			return err
		}
		response, err := json.Marshal(result)
		if err != nil {
			return fmt.Errorf("crm: keeping the result of %s: %w", call.Operation, err)
		}
		return tx.IdempotencyComplete(ctx, sc.org, call.Key, response)
	})
	if err != nil {
		return zero, false, err
	}
	if first == nil {
		return result, false, nil
	}
	if first.RequestHash != hash || first.Operation != call.Operation {
		return zero, false, errKeyReused
	}
	if len(first.Response) == 0 { // cannot be seen after its commit; kept for a faulty store
		return zero, false, ErrIdempotencyInProgress
	}
	var out T
	if err := json.Unmarshal(first.Response, &out); err != nil {
		return zero, false, fmt.Errorf("crm: reading the kept result of %s: %w", call.Operation, err)
	}
	return out, true, nil
}

// checkIdempotencyKey validates a key: 1-255 printable ASCII characters.
func checkIdempotencyKey(lang, key string) error {
	v := newValidation(lang)
	switch {
	case key == "":
		v.add("idempotencyKey", "required", "")
	case len(key) > MaxIdempotencyKey:
		v.add("idempotencyKey", "max", fmt.Sprint(MaxIdempotencyKey))
	default:
		for i := range len(key) {
			if key[i] < 0x20 || key[i] > 0x7e {
				v.add("idempotencyKey", "invalid", "")
				break
			}
		}
	}
	return v.err()
}

// inFlightKey names a running idempotent call.
type inFlightKey struct{ org, key string }

//go:generate go run ./internal/gentxrouter

// txKey carries the transaction of an idempotent call in its context.
type txKey struct{}

// txRouter is the Store the services use: every call made with the
// context of an idempotent call runs in that call's transaction (InTx joins
// it); every other call goes to the store. See txrouter_gen.go.
type txRouter struct{ Store }

// on returns the store a call with ctx runs on.
func (r txRouter) on(ctx context.Context) Store {
	if tx, ok := ctx.Value(txKey{}).(Store); ok {
		return tx
	}
	return r.Store
}

// InTx implements Store: inside an idempotent call it joins its transaction.
func (r txRouter) InTx(ctx context.Context, fn func(tx Store) error) error {
	return r.on(ctx).InTx(ctx, fn)
}
