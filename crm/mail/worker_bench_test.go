package mail_test

import (
	"bytes"
	"context"
	"sync/atomic"
	"testing"
	"time"

	"gocloud.dev/blob/memblob"

	"github.com/dossiercrm/dossier/crm"
	"github.com/dossiercrm/dossier/crm/background"
	"github.com/dossiercrm/dossier/crm/mail"
	"github.com/dossiercrm/dossier/crm/mail/mailtest"
	"github.com/dossiercrm/dossier/crm/store/cloudblob"
	"github.com/dossiercrm/dossier/crm/store/testdb"
)

// BenchmarkOutboxWorker measures outbox delivery: b.N document mails (a
// 10 KiB attachment each) queued beforehand (queued/s: each with its
// delivery job), then delivered by the background work of one program
// (package crm/background, 8 mails at once) to the in-test SMTP server
// (plain SMTP on loopback), on SQLite and (with DOSSIER_TEST_POSTGRES)
// PostgreSQL. See docs/performance.md.
//
//	go test ./crm/mail -run '^$' -bench OutboxWorker -benchtime 500x
func BenchmarkOutboxWorker(b *testing.B) {
	for _, db := range []struct {
		name string
		open testdb.Opener
	}{{"sqlite", testdb.SQLite}, {"postgres", testdb.Postgres}} {
		b.Run(db.name, func(b *testing.B) {
			blobs := cloudblob.New(memblob.OpenBucket(nil))
			st := db.open(b)
			c, err := crm.New(st, crm.Config{Blobs: blobs})
			if err != nil {
				b.Fatal(err)
			}
			if _, err := c.Organisations.Create(context.Background(), crm.NewOrganisation{ID: "acme", Name: "Acme"}); err != nil {
				b.Fatal(err)
			}
			ctx := crm.WithActor(crm.WithOrg(context.Background(), "acme"), crm.Staff(crm.AdministratorID))
			server := mailtest.NewServer(b, mailtest.WithDiscard())
			sender, err := mail.NewSMTPSender(mail.SMTPConfig{Host: server.Host, Port: server.Port, TLS: mail.TLSNone,
				From: mail.Address{Email: "noreply@acme.example"}})
			if err != nil {
				b.Fatal(err)
			}
			cust, err := c.Customers.Create(ctx, crm.CustomerFields{FirstName: "Bench", Email: "bench@example.nl"})
			if err != nil {
				b.Fatal(err)
			}
			attachment := bytes.Repeat([]byte("0123456789abcdef"), 640)
			d, err := c.Documents.Add(ctx, cust.ID, crm.NewDocument{FileName: "ticket.txt"}, bytes.NewReader(attachment))
			if err != nil {
				b.Fatal(err)
			}
			queueStart := time.Now()
			for range b.N {
				if _, err := c.Documents.Send(ctx, cust.ID, []string{d.ID}, crm.SendOptions{}); err != nil {
					b.Fatal(err)
				}
			}
			queued := float64(b.N) / time.Since(queueStart).Seconds()
			counting := &countingSender{next: sender, want: int64(b.N), done: make(chan struct{})}
			b.ResetTimer()
			start := time.Now()
			bg, err := background.Start(ctx, st, c, background.Config{Sender: counting, MailWorkers: 8, PollInterval: 100 * time.Millisecond})
			if err != nil {
				b.Fatal(err)
			}
			<-counting.done
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "mails/s")
			b.ReportMetric(queued, "queued/s")
			b.StopTimer()
			bg.Stop(context.Background())
		})
	}
}

// countingSender closes done once it has sent want mails.
type countingSender struct {
	next mail.Sender
	n    atomic.Int64
	want int64
	done chan struct{}
}

func (s *countingSender) Send(ctx context.Context, m *mail.Message) error {
	err := s.next.Send(ctx, m)
	if err == nil && s.n.Add(1) == s.want {
		close(s.done)
	}
	return err
}
