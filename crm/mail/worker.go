package mail

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/dossiercrm/dossier/crm"
)

// Outbox is what a Worker needs of the outbox (crm.OutboxService).
type Outbox interface {
	Claim(ctx context.Context, orgID, id string) (*crm.OutboxMail, time.Time, error)
	Attachment(ctx context.Context, m *crm.OutboxMail, a crm.OutboxAttachment) (io.ReadCloser, error)
	Delivered(ctx context.Context, m *crm.OutboxMail) error
	Failed(ctx context.Context, m *crm.OutboxMail, cause error, permanent bool) error
	Release(ctx context.Context, m *crm.OutboxMail) error
}

// Worker delivers outbox mails one at a time (Deliver): package
// crm/background calls it for every delivery job, which the outbox
// enqueues with each mail. It sends the mail with Sender and records the
// outcome, which puts "mail.sent" or "mail.failed" on the customer's
// timeline.
//
// Nothing is lost between a commit and delivery: a mail and its delivery
// job are in the database from the moment its change committed. Once the
// mail server accepted a mail, the worker never sends it again: if it
// cannot record the delivery at once, it keeps trying to record it rather
// than giving the mail back. A send that has begun is not cut off when ctx
// ends (a stopping server waits for it), since its outcome would be
// unknown. Only a crash between the server's answer and the record leaves
// the outcome open; the next attempt then notes crm.UnknownOutcome on the
// mail before sending it again, with the same Message-ID (the outbox
// row's id), so the receiving side can tell.
type Worker struct {
	Outbox Outbox
	Sender Sender
	// From is the sender of every mail (Sender's default From when zero).
	From Address
	// Logger receives one line per failed attempt. Nil means slog.Default().
	Logger *slog.Logger
	// SendTimeout bounds one send, which ctx does not cut off (default 2
	// minutes).
	SendTimeout time.Duration
}

func (w *Worker) logger() *slog.Logger {
	if w.Logger == nil {
		return slog.Default()
	}
	return w.Logger
}

// Deliver makes one delivery attempt of mail id of organisation orgID. It
// returns a zero time when the mail is done with (delivered, failed for
// good, or gone), or the time of the next attempt: after a temporary
// failure, when the mail is not due yet, or when another worker holds
// it. When ctx ended before the send began, the mail is handed back (due
// again at once) and ctx's error returned. Any other error means the
// attempt could not be made or its outcome not be recorded; the mail is
// then tried again after its lease.
func (w *Worker) Deliver(ctx context.Context, orgID, id string) (time.Time, error) {
	m, retry, err := w.Outbox.Claim(ctx, orgID, id)
	if err != nil || m == nil {
		return retry, err
	}
	msg, err := w.message(ctx, m)
	if ctx.Err() != nil {
		// Stopping before the send began: give the mail back at once.
		if err := w.Outbox.Release(context.WithoutCancel(ctx), m); err != nil && !errors.Is(err, crm.ErrNotFound) {
			return time.Time{}, err
		}
		return time.Time{}, ctx.Err()
	}
	if err == nil {
		timeout := w.SendTimeout
		if timeout <= 0 {
			timeout = 2 * time.Minute
		}
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
		err = w.Sender.Send(sctx, msg)
		cancel()
	}
	if err == nil {
		return time.Time{}, w.recordDelivered(ctx, m)
	}
	permanent := Permanent(err)
	var se *SendError
	if errors.As(err, &se) && (se.Op == "connect" || se.Op == "starttls" || se.Op == "auth") {
		// The mail server or our account is the problem, not this mail.
		permanent = false
	}
	w.logger().Warn("outbox: delivery failed", "mail", m.ID, "attempt", m.Attempts, "permanent", permanent, "err", err)
	if ferr := w.Outbox.Failed(context.WithoutCancel(ctx), m, err, permanent); ferr != nil && !errors.Is(ferr, crm.ErrNotFound) {
		return time.Time{}, fmt.Errorf("outbox: recording a failure of mail %s: %w", m.ID, ferr)
	}
	if permanent || m.Attempts >= crm.MaxMailAttempts {
		return time.Time{}, nil
	}
	return time.Now().Add(crm.RetryDelay(m.Attempts)), nil
}

// recordDelivered records an accepted mail, retrying until it is recorded:
// the mail must not be given back, or it would be sent again. Shutdown
// does not stop it; it gives up only after recordFor.
func (w *Worker) recordDelivered(ctx context.Context, m *crm.OutboxMail) error {
	ctx = context.WithoutCancel(ctx)
	wait := 100 * time.Millisecond
	deadline := time.Now().Add(recordFor)
	for {
		err := w.Outbox.Delivered(ctx, m)
		if err == nil || errors.Is(err, crm.ErrNotFound) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("outbox: mail %s was delivered, but recording it failed: %w", m.ID, err)
		}
		w.logger().Error("outbox: delivered, recording again", "mail", m.ID, "err", err)
		time.Sleep(wait)
		wait = min(2*wait, 10*time.Second)
	}
}

// recordFor is how long a worker keeps trying to record an accepted mail.
const recordFor = 10 * time.Minute

// message builds the mail of an outbox row with its attachments.
func (w *Worker) message(ctx context.Context, m *crm.OutboxMail) (*Message, error) {
	msg := &Message{
		ID: m.ID, From: w.From, To: []Address{{Name: m.ToName, Email: m.ToEmail}},
		Subject: m.Subject, Text: m.Text, HTML: m.HTML, Headers: m.Headers,
	}
	for _, a := range m.Attachments {
		rc, err := w.Outbox.Attachment(ctx, m, a)
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
