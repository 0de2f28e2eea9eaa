package mail

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/dossiercrm/dossier/crm"
)

// Worker delivers the outbox (crm.OutboxService): it claims due mails of
// every organisation, sends each with Sender, and records the outcome,
// which puts "mail.sent" or "mail.failed" on the customer's timeline.
//
// Nothing is lost between a commit and delivery: a mail is in the outbox
// from the moment its change committed, and a worker that crashed while
// holding it lets go when the lease (crm.Config.OutboxLease) ends. Once the
// mail server accepted a mail, the worker never sends it again: if it
// cannot record the delivery at once, it keeps trying to record it rather
// than letting the lease end. Only a crash in that narrow window can
// deliver a mail twice; its Message-ID is the outbox row's id in both, so
// the receiving side can tell.
type Worker struct {
	CRM    *crm.CRM
	Sender Sender
	// From is the sender of every mail (Sender's default From when zero).
	From Address
	// Logger receives one line per failed attempt. Nil means slog.Default().
	Logger *slog.Logger
	// Batch is how many mails one claim takes (default 20); Concurrency how
	// many are sent at once (default 4).
	Batch, Concurrency int
	// Idle is the pause when the outbox is empty (default 2s).
	Idle time.Duration

	mu sync.Mutex
	// accepted are mails the server took whose delivery is not recorded yet.
	accepted []crm.OutboxMail
}

func (w *Worker) logger() *slog.Logger {
	if w.Logger == nil {
		return slog.Default()
	}
	return w.Logger
}

// Run delivers until ctx ends, pausing Idle when there is nothing to do.
func (w *Worker) Run(ctx context.Context) error {
	idle := w.Idle
	if idle <= 0 {
		idle = 2 * time.Second
	}
	for {
		n, err := w.RunOnce(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			w.logger().Error("outbox worker", "err", err)
		}
		if n > 0 && err == nil {
			continue
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(idle):
		}
	}
}

// RunOnce records deliveries still unrecorded, then claims one batch and
// delivers it. It returns how many mails it claimed.
func (w *Worker) RunOnce(ctx context.Context) (int, error) {
	if err := w.recordAccepted(ctx); err != nil {
		return 0, err
	}
	batch := w.Batch
	if batch <= 0 {
		batch = 20
	}
	mails, err := w.CRM.Outbox.Claim(ctx, batch)
	if err != nil {
		return 0, err
	}
	workers := w.Concurrency
	if workers <= 0 {
		workers = 4
	}
	sem := make(chan struct{}, workers)
	var wg sync.WaitGroup
	for i := range mails {
		wg.Add(1)
		sem <- struct{}{}
		go func(m *crm.OutboxMail) {
			defer wg.Done()
			defer func() { <-sem }()
			w.deliver(ctx, m)
		}(&mails[i])
	}
	wg.Wait()
	return len(mails), w.recordAccepted(ctx)
}

func (w *Worker) deliver(ctx context.Context, m *crm.OutboxMail) {
	msg, err := w.message(ctx, m)
	if err == nil {
		err = w.Sender.Send(ctx, msg)
	}
	if err == nil {
		// Recorded even when shutdown has begun: an accepted mail whose record
		// is lost would be sent again when its lease ends.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		rerr := w.CRM.Outbox.Delivered(rctx, m)
		cancel()
		if rerr != nil && !errors.Is(rerr, crm.ErrNotFound) {
			// Accepted but not recorded: remember it, never send it again.
			w.mu.Lock()
			w.accepted = append(w.accepted, *m)
			w.mu.Unlock()
			w.logger().Error("outbox: delivered, recording later", "mail", m.ID, "err", rerr)
		}
		return
	}
	if ctx.Err() != nil {
		return // shutting down: the lease ends and the mail is tried again
	}
	permanent := Permanent(err)
	var se *SendError
	if errors.As(err, &se) && (se.Op == "connect" || se.Op == "starttls" || se.Op == "auth") {
		// The mail server or our account is the problem, not this mail.
		permanent = false
	}
	w.logger().Warn("outbox: delivery failed", "mail", m.ID, "attempt", m.Attempts, "permanent", permanent, "err", err)
	if ferr := w.CRM.Outbox.Failed(ctx, m, err, permanent); ferr != nil && !errors.Is(ferr, crm.ErrNotFound) {
		w.logger().Error("outbox: recording a failure", "mail", m.ID, "err", ferr)
	}
}

// recordAccepted retries recording deliveries the server accepted.
func (w *Worker) recordAccepted(ctx context.Context) error {
	w.mu.Lock()
	pending := w.accepted
	w.accepted = nil
	w.mu.Unlock()
	for i, m := range pending {
		if err := w.CRM.Outbox.Delivered(ctx, &m); err != nil && !errors.Is(err, crm.ErrNotFound) {
			w.mu.Lock()
			w.accepted = append(w.accepted, pending[i:]...)
			w.mu.Unlock()
			return err
		}
	}
	return nil
}

// message builds the mail of an outbox row with its attachments.
func (w *Worker) message(ctx context.Context, m *crm.OutboxMail) (*Message, error) {
	msg := &Message{
		ID: m.ID, From: w.From, To: []Address{{Name: m.ToName, Email: m.ToEmail}},
		Subject: m.Subject, Text: m.Text, HTML: m.HTML,
	}
	for _, a := range m.Attachments {
		rc, err := w.CRM.Outbox.Attachment(ctx, m, a)
		if err != nil {
			return nil, err
		}
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			return nil, err
		}
		msg.Attachments = append(msg.Attachments, Attachment{Name: a.FileName, ContentType: a.ContentType, Data: data})
	}
	return msg, nil
}
