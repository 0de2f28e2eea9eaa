package mail

import (
	"context"
	"errors"
	"maps"
	"slices"
	"sync"
)

// Recorder is a Sender that keeps every message it accepts in memory, for tests of code that
// sends mail (the outbox, services). It can be told to fail the next sends. The zero value is
// ready to use; a Recorder is safe for concurrent use.
//
// Like every sender it checks the message first and refuses an invalid one with an error
// matching ErrInvalidMessage, and a Send with an ended context fails (temporarily).
type Recorder struct {
	mu       sync.Mutex
	sent     []Message
	attempts int
	failures []error
	changed  chan struct{} // closed and replaced whenever sent grows
}

var _ Sender = (*Recorder)(nil)

// Send records a copy of m, or returns the next failure it was told to return (FailNext,
// FailNextWith) without recording m.
func (r *Recorder) Send(ctx context.Context, m *Message) error {
	if err := m.Validate(); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.attempts++
	if err := ctx.Err(); err != nil {
		return &SendError{Op: "recorder", Err: err}
	}
	if len(r.failures) > 0 {
		err := r.failures[0]
		r.failures = r.failures[1:]
		return err
	}
	r.sent = append(r.sent, cloneMessage(m))
	if r.changed != nil {
		close(r.changed)
		r.changed = nil
	}
	return nil
}

// Messages returns copies of the messages accepted so far, oldest first.
func (r *Recorder) Messages() []Message {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]Message, len(r.sent))
	for i := range r.sent {
		out[i] = cloneMessage(&r.sent[i])
	}
	return out
}

// Len is the number of messages accepted so far.
func (r *Recorder) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.sent)
}

// Attempts is the number of Send calls with a valid message, failed ones included.
func (r *Recorder) Attempts() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.attempts
}

// Wait blocks until at least n messages have been accepted and returns them (as Messages
// does), or returns ctx's error when it ends first. It is for tests of code that sends from
// another goroutine, such as an outbox worker.
func (r *Recorder) Wait(ctx context.Context, n int) ([]Message, error) {
	for {
		r.mu.Lock()
		if len(r.sent) >= n {
			r.mu.Unlock()
			return r.Messages(), nil
		}
		if r.changed == nil {
			r.changed = make(chan struct{})
		}
		ch := r.changed
		r.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// FailNext makes the next n sends fail without recording their messages: with a permanent
// error (an SMTP 550 answer) when permanent is true, else with a temporary one (451). The
// failures queue up behind any not yet used.
func (r *Recorder) FailNext(n int, permanent bool) {
	code, enhanced, text := 451, "4.3.0", "451 4.3.0 temporary failure (Recorder.FailNext)"
	if permanent {
		code, enhanced, text = 550, "5.0.0", "550 5.0.0 permanent failure (Recorder.FailNext)"
	}
	for range n {
		r.FailNextWith(1, &SendError{Op: "recorder", Code: code, EnhancedCode: enhanced,
			Permanent: permanent, Err: errors.New(text)})
	}
}

// FailNextWith makes the next n sends return err without recording their messages.
func (r *Recorder) FailNextWith(n int, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for range n {
		r.failures = append(r.failures, err)
	}
}

// Reset forgets the messages, the attempts and the failures not yet used.
func (r *Recorder) Reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sent, r.attempts, r.failures = nil, 0, nil
}

// cloneMessage is a deep copy of m: changing the original after Send changes no record.
func cloneMessage(m *Message) Message {
	c := *m
	c.To = slices.Clone(m.To)
	if m.ReplyTo != nil {
		rt := *m.ReplyTo
		c.ReplyTo = &rt
	}
	if m.Attachments != nil {
		c.Attachments = make([]Attachment, len(m.Attachments))
		for i, a := range m.Attachments {
			a.Data = slices.Clone(a.Data)
			c.Attachments[i] = a
		}
	}
	c.Headers = maps.Clone(m.Headers)
	return c
}
