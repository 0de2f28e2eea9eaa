package background

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"gocloud.dev/blob/memblob"

	"github.com/dossiercrm/dossier/crm"
	"github.com/dossiercrm/dossier/crm/mail"
	"github.com/dossiercrm/dossier/crm/store"
	"github.com/dossiercrm/dossier/crm/store/cloudblob"
	"github.com/dossiercrm/dossier/crm/store/testdb"
)

// world is a CRM on a fresh database with an organisation and a customer
// with an address.
type world struct {
	st   *store.DB
	c    *crm.CRM
	ctx  context.Context
	cust *crm.Customer
}

func newWorld(t *testing.T, open testdb.Opener, cfg crm.Config) *world {
	t.Helper()
	st := open(t)
	cfg.Blobs = cloudblob.New(memblob.OpenBucket(nil))
	return newWorldOn(t, st, st, cfg)
}

// newWorldOn builds the CRM on cs, which is st or wraps it.
func newWorldOn(t *testing.T, st *store.DB, cs crm.Store, cfg crm.Config) *world {
	t.Helper()
	c, err := crm.New(cs, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Organisations.Create(t.Context(), crm.NewOrganisation{ID: "acme", Name: "Acme", DefaultLanguage: "en"}); err != nil {
		t.Fatal(err)
	}
	ctx := crm.WithActor(crm.WithOrg(t.Context(), "acme"), crm.Staff(crm.AdministratorID))
	cust, err := c.Customers.Create(ctx, crm.CustomerFields{FirstName: "Anna", Email: "anna@example.nl"})
	if err != nil {
		t.Fatal(err)
	}
	return &world{st: st, c: c, ctx: ctx, cust: cust}
}

// send queues a document mail to the customer.
func (w *world) send(t *testing.T, i int) *crm.OutboxMail {
	t.Helper()
	d, err := w.c.Documents.Add(w.ctx, w.cust.ID, crm.NewDocument{FileName: "ticket.txt"}, bytes.NewReader([]byte{byte(i), byte(i >> 8)}))
	if err != nil {
		t.Fatal(err)
	}
	m, err := w.c.Documents.Send(w.ctx, w.cust.ID, []string{d.ID}, crm.SendOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// start starts background work on w's database, stopped at the end of the test.
func (w *world) start(t *testing.T, cfg Config) *Runner {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	cfg.PollInterval = or(cfg.PollInterval, 100*time.Millisecond)
	r, err := New(w.st, w.c, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Stop(context.Background()) })
	return r
}

// waitFor polls cond until it holds; the test's own deadline bounds it.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting: %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// jobs lists the jobs of a kind in every state.
func jobs(t *testing.T, r *Runner, kind string) []*rivertype.JobRow {
	t.Helper()
	res, err := r.Client().JobList(t.Context(), river.NewJobListParams().Kinds(kind).First(10000))
	if err != nil {
		t.Fatal(err)
	}
	return res.Jobs
}

// failAfterQueue fails the change that marks documents sent: a change that
// rolls back after it queued its mail.
type failAfterQueue struct{ crm.Store }

func (f failAfterQueue) InTx(ctx context.Context, fn func(tx crm.Store) error) error {
	return f.Store.InTx(ctx, func(tx crm.Store) error { return fn(failAfterQueue{tx}) })
}

func (f failAfterQueue) DocumentMarkSent(ctx context.Context, orgID string, ids []string, at time.Time) error {
	return errors.New("disk full")
}

// TestRolledBackJobNeverRuns: a mail queued by a change that rolls back
// leaves neither a mail nor a delivery job; a committed one is delivered.
func TestRolledBackJobNeverRuns(t *testing.T) {
	testdb.Each(t, func(t *testing.T, open testdb.Opener) {
		st := open(t)
		blobs := cloudblob.New(memblob.OpenBucket(nil))
		failing := newWorldOn(t, st, failAfterQueue{st}, crm.Config{Blobs: blobs})
		d, err := failing.c.Documents.Add(failing.ctx, failing.cust.ID, crm.NewDocument{FileName: "a.txt"}, bytes.NewReader([]byte("a")))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := failing.c.Documents.Send(failing.ctx, failing.cust.ID, []string{d.ID}, crm.SendOptions{}); err == nil {
			t.Fatal("the send did not fail")
		}
		c, _ := crm.New(st, crm.Config{Blobs: blobs})
		w := &world{st: st, c: c, ctx: failing.ctx, cust: failing.cust}
		sender := &mail.Recorder{}
		r := w.start(t, Config{Sender: sender})
		m := w.send(t, 1)
		if _, err := sender.Wait(t.Context(), 1); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "the mail recorded as sent", func() bool {
			got, _ := w.c.Outbox.Get(w.ctx, m.ID)
			return got.Status == crm.OutboxSent
		})
		if all := jobs(t, r, crm.JobDeliverMail); len(all) != 1 {
			t.Fatalf("%d delivery jobs, want 1 (the rolled back one never existed)", len(all))
		}
		if page, _ := w.c.Outbox.List(w.ctx, "", crm.PageRequest{}); len(page.Items) != 1 {
			t.Fatalf("outbox: %+v", page.Items)
		}
		if msgs := sender.Messages(); len(msgs) != 1 || msgs[0].ID != m.ID {
			t.Fatalf("sent: %+v", msgs)
		}
	})
}

// TestTwoProgramsDeliverOnce: two programs working one database deliver
// every mail exactly once.
func TestTwoProgramsDeliverOnce(t *testing.T) {
	testdb.Each(t, func(t *testing.T, open testdb.Opener) {
		w := newWorld(t, open, crm.Config{})
		sender := &mail.Recorder{}
		w.start(t, Config{Sender: sender, ID: "one"})
		r := w.start(t, Config{Sender: sender, ID: "two"})
		const n = 30
		ids := map[string]bool{}
		for i := range n {
			ids[w.send(t, i).ID] = true
		}
		waitFor(t, "every delivery job completed", func() bool {
			done := 0
			for _, j := range jobs(t, r, crm.JobDeliverMail) {
				if j.State == rivertype.JobStateCompleted {
					done++
				}
			}
			return done == n
		})
		got := map[string]int{}
		for _, m := range sender.Messages() {
			got[m.ID]++
		}
		for id := range ids {
			if got[id] != 1 {
				t.Errorf("mail %s sent %d times", id, got[id])
			}
			if m, _ := w.c.Outbox.Get(w.ctx, id); m.Status != crm.OutboxSent || m.Attempts != 1 {
				t.Errorf("mail %s: %s after %d attempts", id, m.Status, m.Attempts)
			}
		}
		if len(got) != n || sender.Attempts() != n {
			t.Fatalf("%d mails in %d sends, want %d", len(got), sender.Attempts(), n)
		}
	})
}

// TestPeriodicWorkOncePerPeriod: of two programs on one database, the
// leader runs retention; when it stops and the other takes over, the
// period's run is not repeated.
func TestPeriodicWorkOncePerPeriod(t *testing.T) {
	testdb.Each(t, func(t *testing.T, open testdb.Opener) {
		w := newWorld(t, open, crm.Config{})
		var (
			mu       sync.Mutex
			inserted = map[string][]bool{} // program: skipped as duplicate, per retention insert
		)
		hook := func(id string) func([]*rivertype.JobInsertParams, []*rivertype.JobInsertResult) {
			return func(params []*rivertype.JobInsertParams, res []*rivertype.JobInsertResult) {
				mu.Lock()
				defer mu.Unlock()
				for i, p := range params {
					if p.Kind == (ApplyRetention{}).Kind() {
						inserted[id] = append(inserted[id], res[i].UniqueSkippedAsDuplicate)
					}
				}
			}
		}
		runners := map[string]*Runner{}
		for _, id := range []string{"one", "two"} {
			runners[id] = w.start(t, Config{ID: id, insertHook: hook(id)})
		}
		var leader, other string
		waitFor(t, "a retention run", func() bool {
			mu.Lock()
			defer mu.Unlock()
			for id, ins := range inserted {
				if len(ins) > 0 {
					leader = id
				}
			}
			return leader != ""
		})
		other = map[string]string{"one": "two", "two": "one"}[leader]
		waitFor(t, "the retention run completed", func() bool {
			all := jobs(t, runners[other], "retention")
			return len(all) == 1 && all[0].State == rivertype.JobStateCompleted
		})
		if err := runners[leader].Stop(t.Context()); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "the other program to take over", func() bool {
			mu.Lock()
			defer mu.Unlock()
			return len(inserted[other]) > 0
		})
		mu.Lock()
		defer mu.Unlock()
		if len(inserted[leader]) != 1 || inserted[leader][0] || !inserted[other][0] {
			t.Fatalf("retention inserts (skipped as duplicate): %v", inserted)
		}
		if all := jobs(t, runners[other], "retention"); len(all) != 1 {
			t.Fatalf("%d retention runs, want 1", len(all))
		}
	})
}

// blockingSender holds the first send until released, as a program that
// crashed while the server was answering; later sends go to next.
type blockingSender struct {
	next     mail.Sender
	once     sync.Once
	blocked  chan struct{}
	released chan struct{}
}

func (b *blockingSender) Send(ctx context.Context, m *mail.Message) error {
	first := false
	b.once.Do(func() { first = true })
	if first {
		close(b.blocked)
		<-b.released
		return errors.New("connection lost")
	}
	return b.next.Send(ctx, m)
}

// TestCrashBetweenClaimAndRecordIsRetried: a program that took a mail and
// never finished (it crashed while the server was answering) loses the
// job after RescueAfter; another program sends the mail and records that
// the first attempt's outcome is unknown.
func TestCrashBetweenClaimAndRecordIsRetried(t *testing.T) {
	testdb.Each(t, func(t *testing.T, open testdb.Opener) {
		const lease = time.Second
		w := newWorld(t, open, crm.Config{OutboxLease: lease})
		recorder := &mail.Recorder{}
		hung := &blockingSender{next: recorder, blocked: make(chan struct{}), released: make(chan struct{})}
		crashed := w.start(t, Config{Sender: hung, ID: "crashed", noLeader: true, RescueAfter: lease})
		m := w.send(t, 1)
		<-hung.blocked
		claimedAt := time.Now()
		t.Cleanup(func() { close(hung.released) })
		// The crashed program holds the job: it must be older than
		// RescueAfter, and the mail's lease over, before a rescue.
		time.Sleep(time.Until(claimedAt.Add(3 * lease)))
		w.start(t, Config{Sender: recorder, ID: "rescuer", RescueAfter: lease})
		waitFor(t, "the mail sent again", func() bool {
			return recorder.Len() == 1
		})
		waitFor(t, "the mail recorded as sent", func() bool {
			got, _ := w.c.Outbox.Get(w.ctx, m.ID)
			return got.Status == crm.OutboxSent
		})
		got, _ := w.c.Outbox.Get(w.ctx, m.ID)
		if got.Attempts != 2 || got.LastError != crm.UnknownOutcome {
			t.Fatalf("after the rescue: %+v", got)
		}
		h, _ := w.c.History.List(w.ctx, w.cust.ID, crm.PageRequest{})
		if h.Items[0].Kind != crm.EventMailSent || len(h.Items[0].Changes) != 3 || h.Items[0].Changes[2].New != crm.UnknownOutcome {
			t.Fatalf("timeline: %+v", h.Items[0])
		}
		_ = crashed
	})
}

// TestForgetIdempotencyKeys: the periodic job removes the keys older than
// crm.IdempotencyTTL, so such a key is new again, and keeps younger ones.
func TestForgetIdempotencyKeys(t *testing.T) {
	testdb.Each(t, func(t *testing.T, open testdb.Opener) {
		st := open(t)
		old := newWorldOn(t, st, st, crm.Config{Clock: func() time.Time { return time.Now().Add(-crm.IdempotencyTTL - time.Hour) }})
		c, err := crm.New(st, crm.Config{})
		if err != nil {
			t.Fatal(err)
		}
		create := func(c *crm.CRM, key, name string) error {
			in := crm.CustomerFields{FirstName: name}
			_, _, err := crm.Idempotent(old.ctx, c, crm.IdempotentCall{Key: key, Operation: "createCustomer", Request: in},
				func(ctx context.Context) (*crm.Customer, error) { return c.Customers.Create(ctx, in) })
			return err
		}
		if err := create(old.c, "old-key", "Old"); err != nil {
			t.Fatal(err)
		}
		if err := create(c, "young-key", "Young"); err != nil {
			t.Fatal(err)
		}
		w := &forgetIdempotencyWorker{st: st, log: slog.New(slog.DiscardHandler)}
		if err := w.Work(t.Context(), &river.Job[ForgetIdempotencyKeys]{}); err != nil {
			t.Fatal(err)
		}
		for key, want := range map[string]int{"old-key": 0, "young-key": 1} {
			var n int
			if err := st.SQLDB().QueryRowContext(t.Context(),
				"SELECT count(*) FROM idempotency_records WHERE org_id = 'acme' AND key = '"+key+"'").Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n != want {
				t.Errorf("%s: %d records, want %d", key, n, want)
			}
		}
		if err := create(c, "young-key", "Other"); !errors.Is(err, crm.ErrConflict) {
			t.Errorf("the young key was forgotten: %v", err)
		}
	})
}

// TestAnalyzeTables: a table that filled up after the store was opened
// (so that Open had nothing to analyse) gets planner statistics from the
// periodic AnalyzeTables job, without anyone calling Analyze: the
// statistics come to know its rows (PostgreSQL: pg_class.reltuples, which
// ANALYZE sets; SQLite: the row count in sqlite_stat1).
func TestAnalyzeTables(t *testing.T) {
	testdb.Each(t, func(t *testing.T, open testdb.Opener) {
		w := newWorld(t, open, crm.Config{})
		const n = 300
		for i := range n {
			if _, err := w.c.Customers.Create(w.ctx, crm.CustomerFields{LastName: "Jansen", FirstName: string(rune('a' + i%26))}); err != nil {
				t.Fatal(err)
			}
		}
		known := func() (rows float64) {
			q := "SELECT reltuples FROM pg_class WHERE oid = 'customers'::regclass"
			if w.st.Dialect() == "sqlite" {
				q = "SELECT coalesce((SELECT CAST(stat AS INTEGER) FROM sqlite_stat1 WHERE tbl = 'customers' AND idx = 'customers_page_idx'), 0)"
			}
			if err := w.st.SQLDB().QueryRowContext(t.Context(), q).Scan(&rows); err != nil && !strings.Contains(err.Error(), "no such table") {
				t.Fatal(err)
			}
			return rows
		}
		if known() >= n {
			t.Fatal("the customers were analysed before the background work started")
		}
		r := w.start(t, Config{AnalyzeEvery: time.Second})
		waitFor(t, "statistics of the customers", func() bool { return known() >= n })
		if ran := jobs(t, r, "tables.analyze"); len(ran) == 0 {
			t.Error("no tables.analyze job ran")
		}
	})
}
