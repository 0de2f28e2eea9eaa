package store_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/dossiercrm/dossier/crm"
	"github.com/dossiercrm/dossier/crm/store"
	"github.com/dossiercrm/dossier/crm/store/testdb"
)

// groupOrg makes an organisation whose customer-number counter the group
// commit tests take numbers from.
func groupOrg(t *testing.T, st *store.DB) string {
	t.Helper()
	c, err := crm.New(st, crm.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Organisations.Create(context.Background(), crm.NewOrganisation{ID: "g", Name: "G", DefaultLanguage: "nl"}); err != nil {
		t.Fatal(err)
	}
	return "g"
}

// waitQueued waits until n calls of group wait in its queue.
func waitQueued(t *testing.T, st *store.DB, group string, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for st.GroupWaitingForTest(group) != n {
		if time.Now().After(deadline) {
			t.Fatalf("%d calls queued, want %d", st.GroupWaitingForTest(group), n)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestGroupCommit: calls that queue behind a running batch run as the
// next batch in one transaction, each in a savepoint: a failing or
// panicking call undoes its own writes only (its number is taken again by
// the next), a call whose context is done before its turn is skipped, one
// cancelled while its fn runs commits, one cancelled in the queue leaves
// it at once.
func TestGroupCommit(t *testing.T) {
	testdb.Each(t, func(t *testing.T, open testdb.Opener) {
		st := open(t)
		org := groupOrg(t, st)
		ctx := context.Background()
		const group = "customers/g"

		// The leader's batch holds the group until hold closes.
		hold, started := make(chan struct{}), make(chan struct{})
		leader := make(chan error, 1)
		var leaderTx any
		go func() {
			leader <- st.InGroupTx(ctx, group, func(ctx context.Context, tx crm.Store) error {
				leaderTx = tx.(*store.DB).TxForTest()
				if n, err := tx.OrganisationNextCustomerNumber(ctx, org); err != nil || n != 1 {
					return errors.Join(err, errors.New("the leader's number is not 1"))
				}
				close(started)
				<-hold
				return nil
			})
		}()
		<-started

		type call struct {
			ctx    context.Context
			cancel context.CancelFunc
			fn     func(ctx context.Context, tx crm.Store) error
			number int64
			tx     any
			err    error
			panic  any
		}
		calls := make([]*call, 7)
		for i := range calls {
			c := &call{}
			c.ctx, c.cancel = context.WithCancel(ctx)
			t.Cleanup(c.cancel)
			calls[i] = c
		}
		take := func(c *call) func(ctx context.Context, tx crm.Store) error {
			return func(ctx context.Context, tx crm.Store) error {
				c.tx = tx.(*store.DB).TxForTest()
				var err error
				c.number, err = tx.OrganisationNextCustomerNumber(ctx, org)
				return err
			}
		}
		calls[0].fn = func(ctx context.Context, tx crm.Store) error {
			calls[2].cancel() // taken into the batch, not yet at its turn
			return take(calls[0])(ctx, tx)
		}
		refused := errors.New("refused after writing")
		calls[1].fn = func(ctx context.Context, tx crm.Store) error {
			if err := take(calls[1])(ctx, tx); err != nil {
				return err
			}
			return refused
		}
		calls[2].fn = func(ctx context.Context, tx crm.Store) error {
			t.Error("a call whose context was done before its turn ran")
			return nil
		}
		calls[3].fn = func(ctx context.Context, tx crm.Store) error {
			calls[3].cancel() // its caller goes away while it runs
			if ctx.Err() != nil {
				return errors.New("the call's context was cancelled with its caller's")
			}
			return take(calls[3])(ctx, tx)
		}
		calls[4].fn = func(ctx context.Context, tx crm.Store) error {
			_ = take(calls[4])(ctx, tx)
			panic("boom")
		}
		calls[5].fn = take(calls[5])
		calls[6].fn = func(ctx context.Context, tx crm.Store) error {
			t.Error("a call cancelled in the queue ran")
			return nil
		}
		var wg sync.WaitGroup
		for i, c := range calls {
			wg.Go(func() {
				defer func() { c.panic = recover() }()
				c.err = st.InGroupTx(c.ctx, group, c.fn)
			})
			waitQueued(t, st, group, i+1)
		}
		calls[6].cancel()
		waitQueued(t, st, group, 6)
		close(hold)
		wg.Wait()
		if err := <-leader; err != nil {
			t.Fatalf("leader: %v", err)
		}

		want := []struct {
			number int64
			err    error
		}{{2, nil}, {0, refused}, {0, context.Canceled}, {3, nil}, {0, nil}, {4, nil}, {0, context.Canceled}}
		for i, c := range calls {
			if !errors.Is(c.err, want[i].err) || (want[i].err == nil && c.err != nil) {
				t.Errorf("call %d returned %v, want %v", i, c.err, want[i].err)
			}
			if want[i].number != 0 && c.number != want[i].number {
				t.Errorf("call %d took number %d, want %d", i, c.number, want[i].number)
			}
		}
		if calls[4].panic != "boom" {
			t.Errorf("the panicking call's caller got %v, want its panic", calls[4].panic)
		}
		if calls[0].tx == nil || calls[0].tx == leaderTx || calls[3].tx != calls[0].tx || calls[5].tx != calls[0].tx {
			t.Errorf("the queued calls did not run in one transaction of their own")
		}
		// Numbers 1 to 4 were committed; the refused and the panicking
		// call's numbers were given again, so the next is 5.
		if n, err := st.OrganisationNextCustomerNumber(ctx, org); err != nil || n != 5 {
			t.Fatalf("next number %d (%v), want 5: gaps or lost numbers", n, err)
		}
	})
}

// TestGroupCommitAlone: a call with nobody to share with runs in a
// transaction of its own; its error rolls that back; inside a transaction
// (InTx) it joins that transaction.
func TestGroupCommitAlone(t *testing.T) {
	testdb.Each(t, func(t *testing.T, open testdb.Opener) {
		st := open(t)
		org := groupOrg(t, st)
		ctx := context.Background()
		refused := errors.New("refused")
		err := st.InGroupTx(ctx, "customers/g", func(ctx context.Context, tx crm.Store) error {
			if _, err := tx.OrganisationNextCustomerNumber(ctx, org); err != nil {
				return err
			}
			return refused
		})
		if !errors.Is(err, refused) {
			t.Fatalf("got %v, want the call's error", err)
		}
		err = st.InTx(ctx, func(outer crm.Store) error {
			return outer.(crm.GroupTxStore).InGroupTx(ctx, "customers/g", func(ctx context.Context, tx crm.Store) error {
				if tx.(*store.DB).TxForTest() != outer.(*store.DB).TxForTest() {
					return errors.New("a nested call did not join the transaction")
				}
				_, err := tx.OrganisationNextCustomerNumber(ctx, org)
				return err
			})
		})
		if err != nil {
			t.Fatal(err)
		}
		if n, err := st.OrganisationNextCustomerNumber(ctx, org); err != nil || n != 2 {
			t.Fatalf("next number %d (%v), want 2", n, err)
		}
		// A context done before the call began: nothing runs.
		done, cancel := context.WithCancel(ctx)
		cancel()
		if err := st.InGroupTx(done, "customers/g", func(context.Context, crm.Store) error {
			t.Error("ran with a done context")
			return nil
		}); !errors.Is(err, context.Canceled) {
			t.Fatalf("got %v, want context.Canceled", err)
		}
	})
}
