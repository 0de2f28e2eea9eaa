package storetest

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/dossiercrm/dossier/crm"
)

// createOnce creates a customer with crm.Idempotent.
func (e *env) createOnce(c *crm.CRM, ctx context.Context, key string, in crm.CustomerFields) (*crm.Customer, bool, error) {
	return crm.Idempotent(ctx, c, crm.IdempotentCall{Key: key, Operation: "createCustomer", Request: in},
		func(ctx context.Context) (*crm.Customer, error) { return c.Customers.Create(ctx, in) })
}

// createdSince returns how many customers org got since the customer last
// (by their numbers, which count every customer created).
func (e *env) createdSince(ctx context.Context, last *crm.Customer) int64 {
	e.t.Helper()
	probe := e.create(ctx, crm.CustomerFields{FirstName: "Probe"})
	return probe.Number - last.Number - 1
}

func testIdempotency(t *testing.T, open func(t *testing.T) crm.Store) {
	e := newEnv(t, open)
	in := crm.CustomerFields{FirstName: "Once", LastName: "Only"}
	first, replayed, err := e.createOnce(e.crm, e.a, "create-once", in)
	if err != nil || replayed {
		t.Fatalf("first call: %v, replayed %v", err, replayed)
	}
	e.now = testNow.Add(time.Minute)
	again, replayed, err := e.createOnce(e.crm, e.a, "create-once", in)
	if err != nil || !replayed || again.ID != first.ID || again.Number != first.Number || !again.CreatedAt.Equal(first.CreatedAt) {
		t.Fatalf("repeat: %+v, replayed %v, %v (first %+v)", again, replayed, err, first)
	}
	if n := e.createdSince(e.a, first); n != 0 {
		t.Fatalf("a repeat created %d customers", n)
	}
	// A later change does not change the answer: it is the first one.
	if _, err := e.crm.Customers.Update(e.a, first.ID, first.Version, crm.CustomerPatch{FirstName: ptr("Changed")}); err != nil {
		t.Fatal(err)
	}
	if again, _, _ := e.createOnce(e.crm, e.a, "create-once", in); again.FirstName != "Once" {
		t.Fatalf("repeat after a change answered %q, want the first answer", again.FirstName)
	}

	// The key with another request, or another operation, is a conflict.
	_, _, err = e.createOnce(e.crm, e.a, "create-once", crm.CustomerFields{FirstName: "Other"})
	wantErr(t, err, crm.ErrConflict)
	var ce *crm.ConflictError
	if !errors.As(err, &ce) || ce.Field != "idempotencyKey" {
		t.Fatalf("conflict names %v", err)
	}
	_, _, err = crm.Idempotent(e.a, e.crm, crm.IdempotentCall{Key: "create-once", Operation: "defineLabel", Request: in},
		func(ctx context.Context) (*crm.Label, error) {
			return e.crm.Labels.Define(ctx, crm.NewLabel{Name: "Gold"})
		})
	wantErr(t, err, crm.ErrConflict)

	// Keys are per organisation: B's call with A's key creates B's customer.
	inB, replayed, err := e.createOnce(e.crm, e.b, "create-once", in)
	if err != nil || replayed || inB.ID == first.ID || inB.OrgID != orgB {
		t.Fatalf("same key in organisation B: %+v, replayed %v, %v", inB, replayed, err)
	}
	if _, err := e.crm.Customers.Get(e.b, first.ID); !errors.Is(err, crm.ErrNotFound) {
		t.Fatalf("B reads A's customer: %v", err)
	}

	// A repeat while the first call runs is refused at once.
	_, _, err = crm.Idempotent(e.a, e.crm, crm.IdempotentCall{Key: "running", Operation: "createCustomer", Request: in},
		func(ctx context.Context) (*crm.Customer, error) {
			_, _, err := e.createOnce(e.crm, e.a, "running", in)
			return nil, err
		})
	if !errors.Is(err, crm.ErrIdempotencyInProgress) || !errors.Is(err, crm.ErrConflict) {
		t.Fatalf("repeat during the first call: %v", err)
	}

	// Bad keys are refused before anything runs.
	for _, key := range []string{"", "tab\there", "é", string(make([]byte, 256))} {
		_, _, err := e.createOnce(e.crm, e.a, key, in)
		var ve *crm.ValidationError
		if !errors.As(err, &ve) || len(ve.Fields) == 0 || ve.Fields[0].Field != "idempotencyKey" {
			t.Fatalf("key %q: %v", key, err)
		}
	}
}

// testIdempotencyAtomic: the record and what the call created commit
// together, also for services that write without InTx of their own.
func testIdempotencyAtomic(t *testing.T, open func(t *testing.T) crm.Store) {
	e := newEnv(t, open)
	last := e.create(e.a, crm.CustomerFields{FirstName: "Before"})
	boom := errors.New("failed after the create")
	_, _, err := crm.Idempotent(e.a, e.crm, crm.IdempotentCall{Key: "k1", Operation: "createCustomer", Request: 1},
		func(ctx context.Context) (*crm.Customer, error) {
			if _, err := e.crm.Customers.Create(ctx, crm.CustomerFields{FirstName: "Rolled back"}); err != nil {
				return nil, err
			}
			return nil, boom
		})
	if !errors.Is(err, boom) {
		t.Fatalf("error = %v", err)
	}
	if n := e.createdSince(e.a, last); n != 0 {
		t.Fatalf("a failed call left %d customers", n)
	}
	_, _, err = crm.Idempotent(e.a, e.crm, crm.IdempotentCall{Key: "k2", Operation: "defineLabel", Request: 1},
		func(ctx context.Context) (*crm.Label, error) {
			if _, err := e.crm.Labels.Define(ctx, crm.NewLabel{Name: "Rolled back"}); err != nil {
				return nil, err
			}
			return nil, boom
		})
	if !errors.Is(err, boom) {
		t.Fatalf("error = %v", err)
	}
	if labels, err := e.crm.Labels.List(e.a); err != nil || len(labels) != 0 {
		t.Fatalf("a failed call left labels: %+v, %v", labels, err)
	}
	// A failed call leaves no record: the key works for the next request.
	c, replayed, err := e.createOnce(e.crm, e.a, "k1", crm.CustomerFields{FirstName: "Now"})
	if err != nil || replayed || c.FirstName != "Now" {
		t.Fatalf("key after a failure: %+v, %v, %v", c, replayed, err)
	}
	// A validation error leaves no record either.
	_, _, err = e.createOnce(e.crm, e.a, "k3", crm.CustomerFields{Email: "not an address"})
	wantErr(t, err, crm.ErrInvalid)
	if _, replayed, err := e.createOnce(e.crm, e.a, "k3", crm.CustomerFields{FirstName: "Fixed"}); err != nil || replayed {
		t.Fatalf("key after an invalid request: %v, %v", replayed, err)
	}
}

// testIdempotencyConcurrent: concurrent calls with one key, through one
// CRM and through two (as two server processes on one database), create
// once; every other call answers with the first result or says the first
// is in progress.
func testIdempotencyConcurrent(t *testing.T, open func(t *testing.T) crm.Store) {
	e := newEnv(t, open)
	second, err := crm.New(e.store, crm.Config{Clock: func() time.Time { return e.now }})
	if err != nil {
		t.Fatal(err)
	}
	last := e.create(e.a, crm.CustomerFields{FirstName: "Before"})
	in := crm.CustomerFields{FirstName: "Raced"}
	const calls = 12
	ids := make([]string, calls)
	errs := make([]error, calls)
	var wg sync.WaitGroup
	for i := range calls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := e.crm
			if i%2 == 1 {
				c = second
			}
			got, _, err := e.createOnce(c, e.a, "raced", in)
			errs[i] = err
			if got != nil {
				ids[i] = got.ID
			}
		}()
	}
	wg.Wait()
	winner := ""
	for i := range calls {
		switch {
		case errors.Is(errs[i], crm.ErrIdempotencyInProgress):
		case errs[i] != nil:
			t.Fatalf("call %d: %v", i, errs[i])
		case winner == "":
			winner = ids[i]
		case ids[i] != winner:
			t.Fatalf("two customers for one key: %s and %s", winner, ids[i])
		}
	}
	if winner == "" {
		t.Fatal("no call succeeded")
	}
	if n := e.createdSince(e.a, last); n != 1 {
		t.Fatalf("%d customers for one key", n)
	}
	again, replayed, err := e.createOnce(second, e.a, "raced", in)
	if err != nil || !replayed || again.ID != winner {
		t.Fatalf("repeat after the race: %+v, %v, %v", again, replayed, err)
	}
}

// testIdempotencyExpiry: a key is remembered for crm.IdempotencyTTL;
// IdempotencyDeleteBefore removes older records of every organisation.
func testIdempotencyExpiry(t *testing.T, open func(t *testing.T) crm.Store) {
	e := newEnv(t, open)
	in := crm.CustomerFields{FirstName: "Old"}
	first, _, err := e.createOnce(e.crm, e.a, "old", in)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.createOnce(e.crm, e.b, "old", in); err != nil {
		t.Fatal(err)
	}
	e.now = testNow.Add(crm.IdempotencyTTL - time.Second)
	if again, replayed, _ := e.createOnce(e.crm, e.a, "old", in); !replayed || again.ID != first.ID {
		t.Fatal("the key was forgotten before its time")
	}
	e.now = testNow.Add(crm.IdempotencyTTL + time.Second)
	fresh, replayed, err := e.createOnce(e.crm, e.a, "old", in)
	if err != nil || replayed || fresh.ID == first.ID {
		t.Fatalf("expired key: %+v, %v, %v", fresh, replayed, err)
	}
	// A's record is new again; B's is a day old.
	n, err := e.store.IdempotencyDeleteBefore(context.Background(), e.now.Add(-crm.IdempotencyTTL), 100)
	if err != nil || n != 1 {
		t.Fatalf("cleanup removed %d, %v; want B's record", n, err)
	}
	if again, replayed, _ := e.createOnce(e.crm, e.a, "old", in); !replayed || again.ID != fresh.ID {
		t.Fatal("the cleanup removed a current record")
	}
}

// testIdempotencyAnonymise: anonymising a customer removes the kept
// answers that show it, and only those.
func testIdempotencyAnonymise(t *testing.T, open func(t *testing.T) crm.Store) {
	e := newEnv(t, open)
	in := crm.CustomerFields{FirstName: "Erased", Email: "erased@a.example"}
	gone, _, err := e.createOnce(e.crm, e.a, "k", in)
	if err != nil {
		t.Fatal(err)
	}
	kept, _, err := e.createOnce(e.crm, e.a, "other", crm.CustomerFields{FirstName: "Kept"})
	if err != nil {
		t.Fatal(err)
	}
	inB, _, err := e.createOnce(e.crm, e.b, "k", in)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.crm.Privacy.Anonymise(e.a, gone.ID); err != nil {
		t.Fatal(err)
	}
	if again, replayed, err := e.createOnce(e.crm, e.a, "k", in); err != nil || replayed || again.ID == gone.ID {
		t.Fatalf("the anonymised customer's answer was kept: %+v, %v, %v", again, replayed, err)
	}
	if again, replayed, _ := e.createOnce(e.crm, e.a, "other", crm.CustomerFields{FirstName: "Kept"}); !replayed || again.ID != kept.ID {
		t.Fatal("anonymising removed another customer's answer")
	}
	if again, replayed, _ := e.createOnce(e.crm, e.b, "k", in); !replayed || again.ID != inB.ID {
		t.Fatal("anonymising removed another organisation's answer")
	}
}
