package mail_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/dossiercrm/dossier/crm/mail"
)

func TestRecorderRecordsCopies(t *testing.T) {
	var r mail.Recorder
	m := richMessage()
	if err := r.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	m.To[0].Email = "changed@example.nl"
	m.Attachments[0].Data[0] = 0xff
	m.Headers["X-Dossier-Customer"] = "changed"

	got := r.Messages()
	if len(got) != 1 || r.Len() != 1 || r.Attempts() != 1 {
		t.Fatalf("%d messages, Len %d, Attempts %d", len(got), r.Len(), r.Attempts())
	}
	if got[0].To[0].Email != "anna@example.nl" || got[0].Attachments[0].Data[0] != 0 || got[0].Headers["X-Dossier-Customer"] != "c-42" {
		t.Error("the record changed with the caller's message")
	}
	got[0].Subject = "changed"
	if r.Messages()[0].Subject != "Ihre Unterlagen für März" {
		t.Error("Messages returned the record itself")
	}

	if err := r.Send(context.Background(), &mail.Message{Text: "no recipient"}); !errors.Is(err, mail.ErrInvalidMessage) {
		t.Errorf("invalid message: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := r.Send(ctx, richMessage()); !errors.Is(err, context.Canceled) || mail.Permanent(err) {
		t.Errorf("cancelled context: %v", err)
	}
	r.Reset()
	if r.Len() != 0 || r.Attempts() != 0 {
		t.Error("Reset kept something")
	}
}

func TestRecorderFailNext(t *testing.T) {
	var r mail.Recorder
	ctx := context.Background()
	r.FailNext(2, false)
	r.FailNext(1, true)
	boom := errors.New("boom")
	r.FailNextWith(1, boom)

	var se *mail.SendError
	for i := range 2 {
		err := r.Send(ctx, richMessage())
		if err == nil || mail.Permanent(err) || !errors.As(err, &se) || se.Code != 451 {
			t.Fatalf("send %d: %v; want a temporary 451", i, err)
		}
	}
	if err := r.Send(ctx, richMessage()); !mail.Permanent(err) || !errors.As(err, &se) || se.Code != 550 {
		t.Fatalf("send 3: %v; want a permanent 550", err)
	}
	if err := r.Send(ctx, richMessage()); !errors.Is(err, boom) {
		t.Fatalf("send 4: %v; want boom", err)
	}
	if err := r.Send(ctx, richMessage()); err != nil {
		t.Fatalf("send 5: %v", err)
	}
	if r.Len() != 1 || r.Attempts() != 5 {
		t.Fatalf("Len %d, Attempts %d; want 1, 5", r.Len(), r.Attempts())
	}
}

func TestRecorderConcurrentAndWait(t *testing.T) {
	var r mail.Recorder
	const n = 50
	done := make(chan []mail.Message)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		msgs, err := r.Wait(ctx, n)
		if err != nil {
			t.Error(err)
		}
		done <- msgs
	}()
	r.FailNext(n/2, false)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			for {
				err := r.Send(context.Background(), richMessage())
				if err == nil {
					return
				}
				if mail.Permanent(err) {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if msgs := <-done; len(msgs) < n {
		t.Fatalf("Wait returned %d messages", len(msgs))
	}
	if r.Len() != n || r.Attempts() != n+n/2 {
		t.Fatalf("Len %d, Attempts %d", r.Len(), r.Attempts())
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if _, err := r.Wait(ctx, n+1); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Wait for more than sent: %v", err)
	}
}
