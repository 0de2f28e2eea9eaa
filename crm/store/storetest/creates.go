package storetest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/dossiercrm/dossier/crm"
)

// The tests of concurrent creates: what a caller sees whether or not the
// store runs the creates of one organisation together (crm.GroupTxStore).

// createOutcome is what one concurrent create returned.
type createOutcome struct {
	fields crm.CustomerFields
	cust   *crm.Customer
	err    error
}

// createAll runs the creates of fields at once, each with the context
// ctxOf(i) gives, and returns their outcomes in order.
func (e *env) createAll(ctxOf func(i int) context.Context, fields []crm.CustomerFields) []createOutcome {
	out := make([]createOutcome, len(fields))
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, f := range fields {
		out[i].fields = f
		wg.Go(func() {
			ctx := ctxOf(i)
			<-start
			out[i].cust, out[i].err = e.crm.Customers.Create(ctx, f)
		})
	}
	close(start)
	wg.Wait()
	return out
}

// checkCreated asserts that the organisation of ctx holds exactly the
// customers of the successful outcomes (and those of before), numbered
// 1..n without gaps or repeats, each as returned and with its creation
// event, and that no failed create left a customer.
func (e *env) checkCreated(ctx context.Context, before []crm.Customer, outcomes []createOutcome) {
	e.t.Helper()
	want := map[string]*crm.Customer{}
	for i := range before {
		want[before[i].ID] = &before[i]
	}
	for _, o := range outcomes {
		if o.err == nil {
			want[o.cust.ID] = o.cust
		}
	}
	got := e.list(ctx, crm.CustomerFilter{})
	nums := numbers(got)
	slices.Sort(nums)
	for i, n := range nums {
		if n != int64(i+1) {
			e.t.Fatalf("numbers %v, want 1..%d without gaps or repeats", nums, len(nums))
		}
	}
	if len(got) != len(want) {
		e.t.Fatalf("%d customers stored, %d creates succeeded (with those before): a failed create left a customer, or a successful one none",
			len(got), len(want))
	}
	for _, c := range got {
		w, ok := want[c.ID]
		if !ok {
			e.t.Fatalf("customer %d (%s %s) was stored, but its create failed", c.Number, c.FirstName, c.LastName)
		}
		if w.Number != c.Number || w.LastName != c.LastName || w.LoginEmail != c.LoginEmail {
			e.t.Fatalf("stored customer %d %s %q, the create returned %d %s %q", c.Number, c.LastName, c.LoginEmail,
				w.Number, w.LastName, w.LoginEmail)
		}
		if h := e.history(ctx, c.ID); len(h) != 1 || h[0].Kind != crm.EventCustomerCreated {
			e.t.Fatalf("customer %d has %d events, want its creation", c.Number, len(h))
		}
	}
}

// testCreatesConcurrentWithFailures: among concurrent creates of one
// organisation, those that fail (a login e-mail already taken, before or
// by another create of the same moment) leave nothing and take no number;
// the others are stored, numbered without gaps.
func testCreatesConcurrentWithFailures(t *testing.T, open func(t *testing.T) crm.Store) {
	e := newEnv(t, open)
	taken := e.create(e.a, crm.CustomerFields{LastName: "Holder", LoginEmail: "taken@example.nl"})
	before := []crm.Customer{*taken}
	for round := range 3 {
		const n = 24
		fields := make([]crm.CustomerFields, n)
		for i := range fields {
			fields[i] = crm.CustomerFields{LastName: fmt.Sprintf("Round%d-%02d", round, i)}
			switch {
			case i%4 == 1:
				fields[i].LoginEmail = "TAKEN@example.nl"
			case i%8 == 2:
				// Two creates of the moment want the same new login: one wins.
				fields[i].LoginEmail = fmt.Sprintf("pair%d@example.nl", round)
			}
		}
		outcomes := e.createAll(func(int) context.Context { return e.a }, fields)
		pairWon := 0
		for _, o := range outcomes {
			switch {
			case o.fields.LoginEmail == "TAKEN@example.nl":
				wantErr(t, o.err, crm.ErrConflict)
			case o.fields.LoginEmail != "":
				if o.err == nil {
					pairWon++
				} else {
					wantErr(t, o.err, crm.ErrConflict)
				}
			case o.err != nil:
				t.Fatalf("create %s: %v", o.fields.LastName, o.err)
			}
		}
		if pairWon != 1 {
			t.Fatalf("round %d: %d creates got the shared new login, want 1", round, pairWon)
		}
		e.checkCreated(e.a, before, outcomes)
		before = e.list(e.a, crm.CustomerFilter{})
	}
	// The other organisation's numbers are its own.
	if first := e.create(e.b, crm.CustomerFields{LastName: "B"}); first.Number != 1 {
		t.Fatalf("org B's first number is %d, want 1", first.Number)
	}
}

// testCreatesCancelled: a create whose caller goes away either happened
// (and returned the customer) or did not (and returned the context's
// error, leaving nothing): never a customer whose create reported a
// failure, never a gap in the numbers. The creates of the other callers
// are not disturbed.
func testCreatesCancelled(t *testing.T, open func(t *testing.T) crm.Store) {
	e := newEnv(t, open)
	r := rand.New(rand.NewPCG(16, 1))
	const n = 32
	fields := make([]crm.CustomerFields, n)
	ctxs := make([]context.Context, n)
	for i := range fields {
		fields[i] = crm.CustomerFields{LastName: fmt.Sprintf("Cancel-%02d", i), Phones: []crm.Phone{{Number: "06 1234 56" + fmt.Sprintf("%02d", i)}}}
		ctx, cancel := context.WithCancel(e.a)
		t.Cleanup(cancel)
		ctxs[i] = ctx
		switch i % 4 {
		case 0: // gone before it starts
			cancel()
		case 1: // gone at some moment of its create
			time.AfterFunc(time.Duration(r.IntN(3000))*time.Microsecond, cancel)
		}
	}
	outcomes := e.createAll(func(i int) context.Context { return ctxs[i] }, fields)
	for i, o := range outcomes {
		switch {
		case o.err == nil:
		case i%4 < 2 && errors.Is(o.err, context.Canceled):
		default:
			t.Fatalf("create %d: %v", i, o.err)
		}
		if i%4 == 0 && o.err == nil {
			t.Fatalf("create %d succeeded with a context cancelled before it began", i)
		}
	}
	e.checkCreated(e.a, nil, outcomes)
}

// testCreatesIdempotentAmongOthers: idempotent creates (which run in a
// transaction of their own) beside plain concurrent creates of the same
// organisation each create once, and a repeat answers with the first
// result.
func testCreatesIdempotentAmongOthers(t *testing.T, open func(t *testing.T) crm.Store) {
	e := newEnv(t, open)
	const n = 8
	type result struct {
		cust *crm.Customer
		err  error
	}
	keyed := make([]result, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	fields := make([]crm.CustomerFields, n)
	for i := range n {
		fields[i] = crm.CustomerFields{LastName: fmt.Sprintf("Plain-%d", i)}
		wg.Go(func() {
			<-start
			c, _, err := e.createOnce(e.crm, e.a, fmt.Sprintf("key-%d", i), crm.CustomerFields{LastName: fmt.Sprintf("Keyed-%d", i)})
			keyed[i] = result{c, err}
		})
	}
	var plain []createOutcome
	wg.Go(func() {
		<-start
		plain = e.createAll(func(int) context.Context { return e.a }, fields)
	})
	close(start)
	wg.Wait()
	outcomes := plain
	for i, k := range keyed {
		if k.err != nil {
			t.Fatalf("idempotent create %d: %v", i, k.err)
		}
		outcomes = append(outcomes, createOutcome{cust: k.cust})
	}
	for _, o := range plain {
		if o.err != nil {
			t.Fatalf("plain create %s: %v", o.fields.LastName, o.err)
		}
	}
	e.checkCreated(e.a, nil, outcomes)
	for i, k := range keyed {
		again, replayed, err := e.createOnce(e.crm, e.a, fmt.Sprintf("key-%d", i), crm.CustomerFields{LastName: fmt.Sprintf("Keyed-%d", i)})
		if err != nil || !replayed || again.ID != k.cust.ID || again.Number != k.cust.Number {
			t.Fatalf("repeat of key-%d: %+v, replayed %v, %v; first %d", i, again, replayed, err, k.cust.Number)
		}
	}
	if got := len(e.list(e.a, crm.CustomerFilter{})); got != 2*n {
		t.Fatalf("%d customers after the repeats, want %d", got, 2*n)
	}
}
