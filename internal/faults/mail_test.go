package faults

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/dossiercrm/dossier/crm/mail/mailtest"
)

// TestFaultSIGTERMDuringMail stops the server with SIGTERM while it
// delivers mails to an SMTP server that answers each message after
// 150 ms, restarts it, and counts what arrived: every queued mail exactly
// once (by Message-ID and by recipient), and every outbox mail sent.
func TestFaultSIGTERMDuringMail(t *testing.T) {
	sz := mode(t)
	eachDB(t, func(t *testing.T, dsn string) {
		smtp := mailtest.NewServer(t)
		smtp.SetDataDelay(150 * time.Millisecond)
		dataDir := t.TempDir()
		args := []string{"--smtp-host", smtp.Host, "--smtp-port", strconv.Itoa(smtp.Port), "--smtp-tls", "none",
			"--mail-from", "Fault Suite <noreply@example.org>", "--confirmation-url", "https://example.org/confirm?t={token}"}
		srv := start(t, dsn, dataDir, args...)
		key := srv.key(t)

		queued := map[string]bool{} // recipients of acknowledged mails
		var inFlightAtTerm []int
		for round := range sz.mailRounds {
			c := newClient(srv.url, key)
			before := smtp.Received()
			var mu sync.Mutex
			var wg sync.WaitGroup
			for w := range 4 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := w; i < sz.mails; i += 4 {
						email := fmt.Sprintf("mail-%d-%d@example.org", round, i)
						var cust struct{ ID string }
						r := c.do(context.Background(), "POST", "/v1/customers", map[string]any{"firstName": "Mail", "email": email})
						if r.status != http.StatusCreated || r.decode(&cust) != nil {
							t.Errorf("create: %d %s %v", r.status, r.body, r.err)
							continue
						}
						r = c.do(context.Background(), "POST", "/v1/customers/"+cust.ID+"/consents/double-opt-in",
							map[string]any{"purpose": "newsletter", "source": "web_form"})
						if r.status != http.StatusCreated {
							t.Errorf("double opt-in: %d %s %v", r.status, r.body, r.err)
							continue
						}
						mu.Lock()
						queued[email] = true
						mu.Unlock()
					}
				}()
			}
			wg.Wait()
			// Stop while the sends go on: a few have arrived, most wait.
			if !waitFor(60*time.Second, func() bool { return smtp.Received() >= before+3 }) {
				t.Fatalf("no mails arrived\nserver log:\n%s", srv.stderr)
			}
			srv.term(t)
			inFlightAtTerm = append(inFlightAtTerm, len(queued)-(smtp.Received()))
			srv = start(t, dsn, dataDir, args...)
		}

		c := newClient(srv.url, key)
		allSent := func() bool {
			cursor, sent, total := "", 0, 0
			for {
				var page struct {
					Items []struct{ Status string }
					Next  string
				}
				r := c.do(context.Background(), "GET", "/v1/outbox?limit=500"+cursor, nil)
				if r.status != http.StatusOK || r.decode(&page) != nil {
					return false
				}
				for _, m := range page.Items {
					total++
					if m.Status == "sent" {
						sent++
					}
				}
				if page.Next == "" {
					return total == len(queued) && sent == total
				}
				cursor = "&cursor=" + url.QueryEscape(page.Next)
			}
		}
		if !waitFor(3*time.Minute, allSent) {
			t.Errorf("the outbox does not show all %d mails sent after the restart", len(queued))
		}
		srv.term(t)

		byID, byRecipient := map[string]int{}, map[string]int{}
		for _, m := range smtp.Messages() {
			byID[m.MessageID]++
			for _, to := range m.To {
				byRecipient[to]++
			}
		}
		dup, lost := 0, 0
		for id, n := range byID {
			if n > 1 {
				dup += n - 1
				t.Errorf("Message-ID %s arrived %d times", id, n)
			}
		}
		for to, n := range byRecipient {
			if n > 1 {
				t.Errorf("%s got %d mails, want 1", to, n)
			}
		}
		for email := range queued {
			if byRecipient[email] == 0 {
				lost++
				t.Errorf("the mail to %s never arrived", email)
			}
		}
		if len(queued) != sz.mails*sz.mailRounds {
			t.Errorf("%d mails acknowledged, want %d", len(queued), sz.mails*sz.mailRounds)
		}
		figures(t, "rounds=%d mails=%d received=%d waiting-at-SIGTERM=%v lost=%d duplicated=%d",
			sz.mailRounds, len(queued), len(smtp.Messages()), inFlightAtTerm, lost, dup)
	})
}
