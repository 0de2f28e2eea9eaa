package mail_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gocloud.dev/blob/memblob"

	"github.com/dossiercrm/dossier/crm"
	"github.com/dossiercrm/dossier/crm/mail"
	"github.com/dossiercrm/dossier/crm/mail/mailtest"
	"github.com/dossiercrm/dossier/crm/store/cloudblob"
	"github.com/dossiercrm/dossier/crm/store/testdb"
)

// outboxWorld is a CRM on a fresh database with an organisation, a clock
// the test moves, and an in-test SMTP server with a sender for it.
type outboxWorld struct {
	c      *crm.CRM
	ctx    context.Context
	server *mailtest.Server
	sender *mail.SMTPSender
	mu     sync.Mutex
	now    time.Time
}

func (w *outboxWorld) clock() time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.now
}

func (w *outboxWorld) advance(d time.Duration) {
	w.mu.Lock()
	w.now = w.now.Add(d)
	w.mu.Unlock()
}

func newOutboxWorld(t *testing.T, open testdb.Opener) *outboxWorld {
	t.Helper()
	w := &outboxWorld{now: time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)}
	c, err := crm.New(open(t), crm.Config{Clock: w.clock, Blobs: cloudblob.New(memblob.OpenBucket(nil))})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Organisations.Create(context.Background(), crm.NewOrganisation{ID: "acme", Name: "Acme Reizen", DefaultLanguage: "de"}); err != nil {
		t.Fatal(err)
	}
	w.c, w.ctx = c, crm.WithActor(crm.WithOrg(context.Background(), "acme"), crm.Staff(crm.AdministratorID))
	w.server = mailtest.NewServer(t)
	if w.sender, err = mail.NewSMTPSender(mail.SMTPConfig{Host: w.server.Host, Port: w.server.Port, TLS: mail.TLSNone,
		From: mail.Address{Name: "Acme Reizen", Email: "noreply@acme.example"}}); err != nil {
		t.Fatal(err)
	}
	return w
}

func (w *outboxWorld) worker() *mail.Worker {
	return &mail.Worker{Outbox: w.c.Outbox, Sender: w.sender}
}

// deliver makes one delivery attempt of m, as its job does.
func (w *outboxWorld) deliver(t *testing.T, worker *mail.Worker, m *crm.OutboxMail) time.Time {
	t.Helper()
	next, err := worker.Deliver(t.Context(), m.OrgID, m.ID)
	if err != nil {
		t.Fatalf("deliver %s: %v", m.ID, err)
	}
	return next
}

// sendDocument queues a mail with one document for a new customer.
func (w *outboxWorld) sendDocument(t *testing.T, f crm.CustomerFields, data []byte) (*crm.Customer, *crm.OutboxMail) {
	t.Helper()
	cust, err := w.c.Customers.Create(w.ctx, f)
	if err != nil {
		t.Fatal(err)
	}
	d, err := w.c.Documents.Add(w.ctx, cust.ID, crm.NewDocument{Title: "Reisplan", FileName: "reisplan.pdf"}, bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	m, err := w.c.Documents.Send(w.ctx, cust.ID, []string{d.ID}, crm.SendOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return cust, m
}

func allBytes() []byte {
	b := []byte("%PDF-1.4\n")
	for i := range 256 {
		b = append(b, byte(i))
	}
	return b
}

// TestWorkerDelivers: a mail queued by a committed change (the worker was
// not running: as after a crash between commit and delivery) reaches the
// SMTP server exactly once, in the customer's language, with its
// attachment byte for byte, and shows on the timeline.
func TestWorkerDelivers(t *testing.T) {
	testdb.Each(t, func(t *testing.T, open testdb.Opener) {
		w := newOutboxWorld(t, open)
		data := allBytes()
		cust, m := w.sendDocument(t, crm.CustomerFields{FirstName: "Jan", LastName: "<b>de Vries</b>", Email: "jan@example.nl", Language: "nl-BE"}, data)
		// A second customer in Swedish, which has no template: the organisation's German.
		_, m2 := w.sendDocument(t, crm.CustomerFields{FirstName: "Sven", Email: "sven@example.se", Language: "sv"}, []byte("x"))

		worker := w.worker()
		for range 2 { // a second run finds nothing left to do
			for _, m := range []*crm.OutboxMail{m, m2} {
				if next := w.deliver(t, worker, m); !next.IsZero() {
					t.Fatalf("after delivery: next attempt at %s", next)
				}
			}
		}
		got := w.server.Messages()
		if len(got) != 2 {
			t.Fatalf("server received %d mails, want 2", len(got))
		}
		byTo := map[string]*mailtest.Message{}
		for _, msg := range got {
			byTo[msg.To[0]] = msg
		}
		nl := byTo["jan@example.nl"]
		if nl == nil || nl.Subject != "Uw documenten van Acme Reizen" || !strings.Contains(nl.MessageID, m.ID) ||
			!strings.Contains(nl.Text, "Beste Jan <b>de Vries</b>") || !strings.Contains(nl.HTML, "Jan &lt;b&gt;de Vries&lt;/b&gt;") {
			t.Fatalf("mail to the nl-BE customer: %+v", nl)
		}
		if len(nl.Attachments) != 1 || nl.Attachments[0].Filename != "reisplan.pdf" || !bytes.Equal(nl.Attachments[0].Data, data) {
			t.Fatalf("attachment: %+v", nl.Attachments)
		}
		if sv := byTo["sven@example.se"]; sv == nil || sv.Subject != "Ihre Unterlagen von Acme Reizen" {
			t.Fatalf("mail to the Swedish customer: %+v", sv)
		}
		for _, id := range []string{m.ID, m2.ID} {
			if got, _ := w.c.Outbox.Get(w.ctx, id); got.Status != crm.OutboxSent {
				t.Fatalf("mail %s: %s", id, got.Status)
			}
		}
		h, _ := w.c.History.List(w.ctx, cust.ID, crm.PageRequest{})
		if h.Items[0].Kind != crm.EventMailSent || h.Items[0].Actor != crm.System() {
			t.Fatalf("timeline: %+v", h.Items[0])
		}
	})
}

// TestWorkerRetries: a worker that crashed holding a mail lets go when the
// lease ends, and the next attempt notes that the first one's outcome is
// unknown; a temporary refusal is retried later; a permanent one fails the
// mail. The server accepts each mail once.
func TestWorkerRetries(t *testing.T) {
	testdb.Each(t, func(t *testing.T, open testdb.Opener) {
		w := newOutboxWorld(t, open)
		_, crashed := w.sendDocument(t, crm.CustomerFields{FirstName: "A", Email: "a@example.nl"}, []byte("a"))
		// A worker claims the mail and dies before recording anything.
		if claimed, _, err := w.c.Outbox.Claim(t.Context(), crashed.OrgID, crashed.ID); err != nil || claimed == nil {
			t.Fatalf("claim: %v, %v", claimed, err)
		}
		worker := w.worker()
		if next := w.deliver(t, worker, crashed); !next.Equal(w.clock().Add(crm.DefaultOutboxLease)) {
			t.Fatalf("a leased mail: next attempt at %s, want the lease's end", next)
		}
		w.advance(crm.DefaultOutboxLease)
		if next := w.deliver(t, worker, crashed); !next.IsZero() {
			t.Fatalf("after the lease: next attempt at %s", next)
		}
		if got, _ := w.c.Outbox.Get(w.ctx, crashed.ID); got.Status != crm.OutboxSent || got.Attempts != 2 || got.LastError != crm.UnknownOutcome {
			t.Fatalf("after the lease: %+v", got)
		}

		// 451 once: pending again, retried after the pause, delivered.
		w.server.FailNext(1)
		_, later := w.sendDocument(t, crm.CustomerFields{FirstName: "B", Email: "b@example.nl"}, []byte("b"))
		if next := w.deliver(t, worker, later); next.IsZero() {
			t.Fatal("after a 451: no next attempt")
		}
		if got, _ := w.c.Outbox.Get(w.ctx, later.ID); got.Status != crm.OutboxPending || got.LastError == "" {
			t.Fatalf("after a 451: %+v", got)
		}
		if next := w.deliver(t, worker, later); next.IsZero() {
			t.Fatal("before its time: no next attempt")
		}
		if got, _ := w.c.Outbox.Get(w.ctx, later.ID); got.Status != crm.OutboxPending || got.Attempts != 1 {
			t.Fatalf("retried before its time: %+v", got)
		}
		w.advance(time.Minute)
		w.deliver(t, worker, later)
		if got, _ := w.c.Outbox.Get(w.ctx, later.ID); got.Status != crm.OutboxSent || got.LastError != "" {
			t.Fatalf("after the retry: %+v", got)
		}

		// 550: failed for good, on the timeline, never tried again.
		w.server.RejectRecipient("nobody@example.nl")
		cust, bad := w.sendDocument(t, crm.CustomerFields{FirstName: "C", Email: "nobody@example.nl"}, []byte("c"))
		if next := w.deliver(t, worker, bad); !next.IsZero() {
			t.Fatalf("after a 550: next attempt at %s", next)
		}
		w.advance(24 * time.Hour)
		w.deliver(t, worker, bad)
		if got, _ := w.c.Outbox.Get(w.ctx, bad.ID); got.Status != crm.OutboxFailed || got.Attempts != 1 {
			t.Fatalf("after a 550: %+v", got)
		}
		h, _ := w.c.History.List(w.ctx, cust.ID, crm.PageRequest{})
		if h.Items[0].Kind != crm.EventMailFailed {
			t.Fatalf("timeline after a 550: %+v", h.Items[0])
		}
		if n := len(w.server.Messages()); n != 2 {
			t.Fatalf("the server accepted %d mails, want 2 (each once)", n)
		}
	})
}

// cancelledSender cancels its caller's context while it sends, as a
// stopping server does, and then accepts the mail.
type cancelledSender struct {
	next   mail.Sender
	cancel context.CancelFunc
}

func (c *cancelledSender) Send(ctx context.Context, m *mail.Message) error {
	c.cancel()
	return c.next.Send(ctx, m)
}

// TestWorkerFinishesASendWhenStopping: a stop that comes while the server
// is answering does not cut the send off: the mail is delivered and
// recorded, never sent again. A stop before the send hands the mail back.
func TestWorkerFinishesASendWhenStopping(t *testing.T) {
	testdb.Each(t, func(t *testing.T, open testdb.Opener) {
		w := newOutboxWorld(t, open)
		_, m := w.sendDocument(t, crm.CustomerFields{FirstName: "S", Email: "s@example.nl"}, []byte("s"))
		ctx, cancel := context.WithCancel(t.Context())
		worker := &mail.Worker{Outbox: w.c.Outbox, Sender: &cancelledSender{next: w.sender, cancel: cancel}}
		if next, err := worker.Deliver(ctx, m.OrgID, m.ID); err != nil || !next.IsZero() {
			t.Fatalf("deliver while stopping: %s, %v", next, err)
		}
		if got, _ := w.c.Outbox.Get(w.ctx, m.ID); got.Status != crm.OutboxSent {
			t.Fatalf("after a stop during the send: %+v", got)
		}

		_, m2 := w.sendDocument(t, crm.CustomerFields{FirstName: "T", Email: "t@example.nl"}, []byte("t"))
		if _, err := w.worker().Deliver(ctx, m2.OrgID, m2.ID); !errors.Is(err, context.Canceled) {
			t.Fatalf("deliver after the stop: %v", err)
		}
		got, _ := w.c.Outbox.Get(w.ctx, m2.ID)
		if got.Status != crm.OutboxPending || got.LeaseUntil != nil || got.NextAttemptAt.After(w.clock()) {
			t.Fatalf("a mail handed back: %+v", got)
		}
		w.deliver(t, w.worker(), m2)
		if n := len(w.server.Messages()); n != 2 {
			t.Fatalf("the server received %d mails, want 2", n)
		}
	})
}

// flakyStore fails the next transaction when armed: the database is away
// for a moment.
type flakyStore struct {
	crm.Store
	failNext atomic.Bool
}

func (f *flakyStore) InTx(ctx context.Context, fn func(tx crm.Store) error) error {
	if f.failNext.CompareAndSwap(true, false) {
		return errors.New("database unavailable")
	}
	return f.Store.InTx(ctx, fn)
}

// TestWorkerNeverResendsAnAcceptedMail: when the server accepted a mail but
// recording the delivery fails, the worker retries the record, not the
// send; after the lease the mail is not sent again.
func TestWorkerNeverResendsAnAcceptedMail(t *testing.T) {
	testdb.Each(t, func(t *testing.T, open testdb.Opener) {
		w := newOutboxWorld(t, open)
		flaky := &flakyStore{Store: open(t)}
		c, err := crm.New(flaky, crm.Config{Clock: w.clock, Blobs: cloudblob.New(memblob.OpenBucket(nil))})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Organisations.Create(context.Background(), crm.NewOrganisation{ID: "acme", Name: "Acme"}); err != nil {
			t.Fatal(err)
		}
		w.c = c
		_, m := w.sendDocument(t, crm.CustomerFields{FirstName: "Once", Email: "once@example.nl"}, []byte("once"))
		worker := w.worker()
		// Claiming is no transaction of InTx; recording the delivery is the next one.
		flaky.failNext.Store(true)
		w.deliver(t, worker, m)
		if got, _ := w.c.Outbox.Get(w.ctx, m.ID); got.Status != crm.OutboxSent {
			t.Fatalf("the delivery was not recorded on the retry: %+v", got)
		}
		w.advance(2 * crm.DefaultOutboxLease)
		w.deliver(t, worker, m)
		if n := len(w.server.Messages()); n != 1 {
			t.Fatalf("the server received %d copies, want 1", n)
		}
	})
}
