package storetest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/dossiercrm/dossier/crm"
)

// enablePoints switches points on for organisation A (and B when both).
func (e *env) enablePoints(ctxs ...context.Context) {
	e.t.Helper()
	for _, ctx := range ctxs {
		org, _ := crm.OrgFrom(ctx)
		if _, err := e.crm.Organisations.Update(ctx, org, crm.OrganisationPatch{PointsEnabled: ptr(true)}); err != nil {
			e.t.Fatal(err)
		}
	}
}

func (e *env) balance(ctx context.Context, id string) crm.PointBalance {
	e.t.Helper()
	b, err := e.crm.Points.Balance(ctx, id)
	if err != nil {
		e.t.Fatalf("balance: %v", err)
	}
	return *b
}

// ledger returns the customer's whole ledger, newest first.
func (e *env) ledger(ctx context.Context, id string) []crm.PointTransaction {
	e.t.Helper()
	var all []crm.PointTransaction
	page := crm.PageRequest{Limit: 2}
	for {
		p, err := e.crm.Points.Ledger(ctx, id, page)
		if err != nil {
			e.t.Fatalf("ledger: %v", err)
		}
		all = append(all, p.Items...)
		if p.Next == "" {
			return all
		}
		page.Cursor = p.Next
	}
}

func ledgerSum(ts []crm.PointTransaction) int64 {
	var sum int64
	for _, t := range ts {
		sum += t.Points
	}
	return sum
}

func testPointsFeatureOff(t *testing.T, open func(t *testing.T) crm.Store) {
	e := newEnv(t, open)
	c := e.create(e.a, crm.CustomerFields{FirstName: "Off"})
	in := crm.PointInput{Points: 10, Reason: "x"}
	for name, call := range map[string]func() error{
		"award":   func() error { _, err := e.crm.Points.Award(e.a, c.ID, in); return err },
		"redeem":  func() error { _, err := e.crm.Points.Redeem(e.a, c.ID, in); return err },
		"correct": func() error { _, err := e.crm.Points.Correct(e.a, c.ID, in); return err },
		"reverse": func() error {
			_, err := e.crm.Points.Reverse(e.a, c.ID, "01900000-0000-7000-8000-000000000000", in)
			return err
		},
		"balance": func() error { _, err := e.crm.Points.Balance(e.a, c.ID); return err },
		"ledger":  func() error { _, err := e.crm.Points.Ledger(e.a, c.ID, crm.PageRequest{}); return err },
		"expire":  func() error { _, err := e.crm.Points.ExpireDue(e.a, testNow); return err },
	} {
		if err := call(); !errors.Is(err, crm.ErrFeatureOff) {
			t.Fatalf("%s with points off: %v, want ErrFeatureOff", name, err)
		}
	}
	// Switching points on for A leaves B off.
	e.enablePoints(e.a)
	if _, err := e.crm.Points.Award(e.a, c.ID, in); err != nil {
		t.Fatal(err)
	}
	other := e.create(e.b, crm.CustomerFields{FirstName: "B"})
	_, err := e.crm.Points.Award(e.b, other.ID, in)
	wantErr(t, err, crm.ErrFeatureOff)
}

func testPointsLedger(t *testing.T, open func(t *testing.T) crm.Store) {
	e := newEnv(t, open)
	e.enablePoints(e.a, e.b)
	c := e.create(e.a, crm.CustomerFields{FirstName: "Punt"})
	today := crm.DateOf(testNow)
	day := func(n int) *crm.Date { d := crm.DateOf(testNow.AddDate(0, 0, n)); return &d }
	award := func(in crm.PointInput) *crm.PointTransaction {
		t.Helper()
		tr, err := e.crm.Points.Award(e.a, c.ID, in)
		if err != nil {
			t.Fatalf("award %+v: %v", in, err)
		}
		return tr
	}
	late := award(crm.PointInput{Points: 100, ExpiresOn: day(30), Reference: "booking 12"})
	soon := award(crm.PointInput{Points: 70, ExpiresOn: day(10)})
	award(crm.PointInput{Points: 50, AvailableFrom: day(5)}) // pending, after the stay
	forever := award(crm.PointInput{Points: 20})             // no expiry: spent last
	if b := e.balance(e.a, c.ID); b != (crm.PointBalance{Available: 190, Pending: 50}) {
		t.Fatalf("balance after awards: %+v", b)
	}
	// One transaction reads back as written; through another customer or
	// another organisation it does not exist.
	if got, err := e.crm.Points.Transaction(e.a, c.ID, late.ID); err != nil || got.ID != late.ID || got.Points != 100 || got.Reference != "booking 12" {
		t.Fatalf("transaction: %+v, %v", got, err)
	}
	another := e.create(e.a, crm.CustomerFields{FirstName: "Ander"})
	_, err := e.crm.Points.Transaction(e.a, another.ID, late.ID)
	wantErr(t, err, crm.ErrNotFound)
	_, err = e.crm.Points.Transaction(e.b, c.ID, late.ID)
	wantErr(t, err, crm.ErrNotFound)
	_, err = e.crm.Points.Transaction(e.a, c.ID, "not-an-id")
	wantErr(t, err, crm.ErrNotFound)
	// A redemption takes the points that expire soonest first.
	redeem, err := e.crm.Points.Redeem(e.a, c.ID, crm.PointInput{Points: 80, Reference: "voucher"})
	if err != nil || redeem.Points != -80 || redeem.Kind != crm.PointsRedeem {
		t.Fatalf("redeem: %+v, %v", redeem, err)
	}
	if b := e.balance(e.a, c.ID); b.Available != 110 || b.Pending != 50 {
		t.Fatalf("balance after redeeming 80: %+v", b)
	}
	// Which lots were used shows when everything but the no-expiry lot is spent.
	if _, err := e.crm.Points.Redeem(e.a, c.ID, crm.PointInput{Points: 90}); err != nil {
		t.Fatal(err)
	}
	_, err = e.crm.Points.Redeem(e.a, c.ID, crm.PointInput{Points: 21})
	wantErr(t, err, crm.ErrInsufficientPoints)
	// Pending points cannot be spent.
	if b := e.balance(e.a, c.ID); b.Available != 20 || b.Pending != 50 {
		t.Fatalf("balance after redeeming 170: %+v (the 20 without expiry must be left)", b)
	}
	// Corrections need a reason and cannot overdraw.
	_, err = e.crm.Points.Correct(e.a, c.ID, crm.PointInput{Points: -5})
	wantInvalid(t, err, "reason", "required")
	_, err = e.crm.Points.Correct(e.a, c.ID, crm.PointInput{Points: -21, Reason: "typo"})
	wantErr(t, err, crm.ErrInsufficientPoints)
	if _, err := e.crm.Points.Correct(e.a, c.ID, crm.PointInput{Points: -5, Reason: "typo"}); err != nil {
		t.Fatal(err)
	}
	// Reversing the first redemption gives its points back to their lots,
	// with their expiry: spendable again, soonest first.
	rev, err := e.crm.Points.Reverse(e.a, c.ID, redeem.ID, crm.PointInput{Reason: "booking cancelled"})
	if err != nil || rev.Points != 80 || rev.Reverses != redeem.ID {
		t.Fatalf("reverse: %+v, %v", rev, err)
	}
	if b := e.balance(e.a, c.ID); b.Available != 95 {
		t.Fatalf("balance after reversing: %+v", b)
	}
	_, err = e.crm.Points.Reverse(e.a, c.ID, redeem.ID, crm.PointInput{})
	wantErr(t, err, crm.ErrConflict)
	_, err = e.crm.Points.Reverse(e.a, c.ID, rev.ID, crm.PointInput{})
	wantInvalid(t, err, "transactionId", "invalid")
	// Reversing an award takes its points back; the no-expiry lot still holds 15.
	if _, err := e.crm.Points.Reverse(e.a, c.ID, forever.ID, crm.PointInput{}); err != nil {
		t.Fatal(err)
	}
	// Reversing the 100-point award now needs more than is available.
	_, err = e.crm.Points.Reverse(e.a, c.ID, late.ID, crm.PointInput{})
	wantErr(t, err, crm.ErrInsufficientPoints)
	_ = soon

	// Reversing a pending award (the booking was cancelled before the stay)
	// takes its pending points back, not available ones.
	pendingAward, err := e.crm.Points.Award(e.a, c.ID, crm.PointInput{Points: 30, AvailableFrom: day(20)})
	if err != nil {
		t.Fatal(err)
	}
	beforeReversal := e.balance(e.a, c.ID)
	if _, err := e.crm.Points.Reverse(e.a, c.ID, pendingAward.ID, crm.PointInput{}); err != nil {
		t.Fatal(err)
	}
	if b := e.balance(e.a, c.ID); b.Available != beforeReversal.Available || b.Pending != beforeReversal.Pending-30 {
		t.Fatalf("reversing a pending award: %+v, before %+v", b, beforeReversal)
	}

	// Bad input.
	_, err = e.crm.Points.Award(e.a, c.ID, crm.PointInput{Points: 0})
	wantInvalid(t, err, "points", "gt")
	_, err = e.crm.Points.Award(e.a, c.ID, crm.PointInput{Points: 5, AvailableFrom: day(10), ExpiresOn: day(5)})
	wantInvalid(t, err, "expiresOn", "invalid")
	_, err = e.crm.Points.Redeem(e.a, c.ID, crm.PointInput{Points: 5, ExpiresOn: &today})
	wantInvalid(t, err, "expiresOn", "invalid")
	_, err = e.crm.Points.Reverse(e.a, c.ID, "not-an-id", crm.PointInput{})
	wantErr(t, err, crm.ErrNotFound)

	// The ledger: every transaction, newest first, summing to the balance.
	ledger := e.ledger(e.a, c.ID)
	if len(ledger) != 11 {
		t.Fatalf("ledger has %d entries, want 11", len(ledger))
	}
	b := e.balance(e.a, c.ID)
	if sum := ledgerSum(ledger); sum != b.Available+b.Pending {
		t.Fatalf("ledger sums to %d, balance %+v", sum, b)
	}
	var events int
	for _, ev := range e.history(e.a, c.ID) {
		if len(ev.Kind) > 7 && ev.Kind[:7] == "points." {
			events++
		}
	}
	if events != 11 {
		t.Fatalf("%d points events on the timeline, want 11", events)
	}

	// Organisation B sees nothing of A's customer and cannot touch it.
	_, err = e.crm.Points.Balance(e.b, c.ID)
	wantErr(t, err, crm.ErrNotFound)
	_, err = e.crm.Points.Ledger(e.b, c.ID, crm.PageRequest{})
	wantErr(t, err, crm.ErrNotFound)
	_, err = e.crm.Points.Award(e.b, c.ID, crm.PointInput{Points: 1})
	wantErr(t, err, crm.ErrNotFound)
	other := e.create(e.b, crm.CustomerFields{FirstName: "B"})
	_, err = e.crm.Points.Reverse(e.b, other.ID, redeem.ID, crm.PointInput{})
	wantErr(t, err, crm.ErrNotFound)
}

func testPointsExpiry(t *testing.T, open func(t *testing.T) crm.Store) {
	e := newEnv(t, open)
	e.enablePoints(e.a, e.b)
	c := e.create(e.a, crm.CustomerFields{FirstName: "Expiring"})
	otherOrg := e.create(e.b, crm.CustomerFields{FirstName: "B"})
	last := crm.DateOf(testNow.AddDate(0, 0, 3))
	for _, ctx := range []context.Context{e.a, e.b} {
		id := c.ID
		if ctx == e.b {
			id = otherOrg.ID
		}
		if _, err := e.crm.Points.Award(ctx, id, crm.PointInput{Points: 40, ExpiresOn: &last}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.crm.Points.Award(e.a, c.ID, crm.PointInput{Points: 10}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.crm.Points.Redeem(e.a, c.ID, crm.PointInput{Points: 15}); err != nil {
		t.Fatal(err)
	}
	// On the last day the points are still there.
	e.now = testNow.AddDate(0, 0, 3)
	if b := e.balance(e.a, c.ID); b != (crm.PointBalance{Available: 35}) {
		t.Fatalf("on the last day: %+v", b)
	}
	// The day after they count as expired, before any run, and cannot be spent.
	e.now = testNow.AddDate(0, 0, 4)
	if b := e.balance(e.a, c.ID); b != (crm.PointBalance{Available: 10, Expired: 25}) {
		t.Fatalf("the day after: %+v", b)
	}
	_, err := e.crm.Points.Redeem(e.a, c.ID, crm.PointInput{Points: 11})
	wantErr(t, err, crm.ErrInsufficientPoints)
	system := crm.WithActor(e.a, crm.System())
	report, err := e.crm.Points.ExpireDue(system, e.now)
	if err != nil || report.Customers != 1 || report.Points != 25 {
		t.Fatalf("expiry run: %+v, %v", report, err)
	}
	again, err := e.crm.Points.ExpireDue(system, e.now)
	if err != nil || again.Customers != 0 {
		t.Fatalf("second expiry run: %+v, %v", again, err)
	}
	if b := e.balance(e.a, c.ID); b != (crm.PointBalance{Available: 10, Expired: 25}) {
		t.Fatalf("after the run: %+v", b)
	}
	ledger := e.ledger(e.a, c.ID)
	if ledger[0].Kind != crm.PointsExpire || ledger[0].Points != -25 || ledger[0].Actor != crm.System() || ledgerSum(ledger) != 10 {
		t.Fatalf("ledger after expiry: %+v", ledger)
	}
	// A's run left B's points alone.
	if b := e.balance(e.b, otherOrg.ID); b.Expired != 40 || len(e.ledger(e.b, otherOrg.ID)) != 1 {
		t.Fatalf("organisation B after A's run: %+v", b)
	}
}

func testPointsIdempotency(t *testing.T, open func(t *testing.T) crm.Store) {
	e := newEnv(t, open)
	e.enablePoints(e.a, e.b)
	c := e.create(e.a, crm.CustomerFields{FirstName: "Twice"})
	in := crm.PointInput{Points: 30, Reference: "booking 7", IdempotencyKey: "award-booking-7"}
	first, err := e.crm.Points.Award(e.a, c.ID, in)
	if err != nil {
		t.Fatal(err)
	}
	before, _ := e.crm.Customers.Get(e.a, c.ID)
	e.now = testNow.Add(time.Minute)
	again, err := e.crm.Points.Award(e.a, c.ID, in)
	if err != nil || again.ID != first.ID || !again.At.Equal(first.At) || !again.Replayed || first.Replayed {
		t.Fatalf("repeat: %+v, %v (first %+v)", again, err, first)
	}
	if after, _ := e.crm.Customers.Get(e.a, c.ID); after.LastActivityAt != before.LastActivityAt {
		t.Fatal("a repeated call wrote to the customer")
	}
	if n := len(e.ledger(e.a, c.ID)); n != 1 {
		t.Fatalf("repeat wrote a transaction: %d", n)
	}
	// The same key with other arguments is a conflict.
	_, err = e.crm.Points.Award(e.a, c.ID, crm.PointInput{Points: 31, Reference: "booking 7", IdempotencyKey: "award-booking-7"})
	wantErr(t, err, crm.ErrConflict)
	_, err = e.crm.Points.Redeem(e.a, c.ID, crm.PointInput{Points: 30, Reference: "booking 7", IdempotencyKey: "award-booking-7"})
	wantErr(t, err, crm.ErrConflict)
	// Keys are per organisation.
	other := e.create(e.b, crm.CustomerFields{FirstName: "B"})
	if _, err := e.crm.Points.Award(e.b, other.ID, in); err != nil {
		t.Fatalf("same key in organisation B: %v", err)
	}
	// Many concurrent calls with one key apply it once.
	var wg sync.WaitGroup
	results := make([]string, 8)
	errs := make([]error, 8)
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tr, err := e.crm.Points.Redeem(e.a, c.ID, crm.PointInput{Points: 5, IdempotencyKey: "redeem-once"})
			errs[i] = err
			if tr != nil {
				results[i] = tr.ID
			}
		}()
	}
	wg.Wait()
	for i := range 8 {
		if errs[i] != nil || results[i] != results[0] {
			t.Fatalf("concurrent repeats: %v / %v", errs, results)
		}
	}
	if b := e.balance(e.a, c.ID); b.Available != 25 {
		t.Fatalf("balance after concurrent repeats: %+v", b)
	}
}

// testPointsConcurrency is a bank-transfer style consistency check: many
// goroutines award, redeem and reverse against a few customers at once,
// some repeating idempotency keys. Afterwards no balance is negative,
// every balance is the sum of its ledger, no key was applied twice, and
// every refusal was a crm error, never a driver error.
func testPointsConcurrency(t *testing.T, open func(t *testing.T) crm.Store) {
	e := newEnv(t, open)
	e.enablePoints(e.a)
	var customers []*crm.Customer
	for i := range 3 {
		customers = append(customers, e.create(e.a, crm.CustomerFields{FirstName: fmt.Sprintf("Hot %d", i)}))
	}
	const workers, ops = 8, 25
	var (
		mu       sync.Mutex
		written  = map[string]string{} // idempotency key -> transaction id
		refusals int
	)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(w), 7))
			var mine []string
			for i := range ops {
				c := customers[r.IntN(len(customers))]
				key := fmt.Sprintf("w%d-op%d", w, i)
				if i > 0 && r.IntN(5) == 0 {
					key = fmt.Sprintf("w%d-op%d", w, i-1) // a retry of the previous call...
				}
				var (
					tr  *crm.PointTransaction
					err error
				)
				switch op := r.IntN(10); {
				case op < 4:
					tr, err = e.crm.Points.Award(e.a, c.ID, crm.PointInput{Points: int64(1 + r.IntN(20)), IdempotencyKey: key})
				case op < 9:
					tr, err = e.crm.Points.Redeem(e.a, c.ID, crm.PointInput{Points: int64(1 + r.IntN(25)), IdempotencyKey: key})
				default:
					if len(mine) == 0 {
						continue
					}
					tr, err = e.crm.Points.Reverse(e.a, c.ID, mine[r.IntN(len(mine))], crm.PointInput{IdempotencyKey: key})
				}
				switch {
				case err == nil:
					mine = append(mine, tr.ID)
					mu.Lock()
					if prev, ok := written[key]; ok && prev != tr.ID {
						t.Errorf("key %s applied twice: %s and %s", key, prev, tr.ID)
					}
					written[key] = tr.ID
					mu.Unlock()
				case errors.Is(err, crm.ErrInsufficientPoints), errors.Is(err, crm.ErrConflict), errors.Is(err, crm.ErrInvalid), errors.Is(err, crm.ErrNotFound):
					// A refused redemption, a retry with other arguments, a
					// second reversal, a reversal of another customer's transaction.
					mu.Lock()
					refusals++
					mu.Unlock()
				default:
					t.Errorf("unexpected error (not a crm error): %v", err)
				}
			}
		}()
	}
	wg.Wait()
	if len(written) == 0 || refusals == 0 {
		t.Fatalf("the run did not exercise both paths: %d written, %d refused", len(written), refusals)
	}
	for _, c := range customers {
		b := e.balance(e.a, c.ID)
		ledger := e.ledger(e.a, c.ID)
		if b.Available < 0 || b.Pending != 0 {
			t.Fatalf("customer %d balance %+v", c.Number, b)
		}
		if sum := ledgerSum(ledger); sum != b.Available {
			t.Fatalf("customer %d: ledger sums to %d, balance %+v", c.Number, sum, b)
		}
		keys := map[string]bool{}
		for _, tr := range ledger {
			if tr.IdempotencyKey == "" {
				continue
			}
			if keys[tr.IdempotencyKey] {
				t.Fatalf("key %s appears twice in the ledger", tr.IdempotencyKey)
			}
			keys[tr.IdempotencyKey] = true
		}
	}
}
