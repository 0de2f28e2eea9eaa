package mail_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"gocloud.dev/blob/memblob"

	"github.com/dossiercrm/dossier/crm"
	"github.com/dossiercrm/dossier/crm/mail"
	"github.com/dossiercrm/dossier/crm/mail/mailtest"
	"github.com/dossiercrm/dossier/crm/store/cloudblob"
	"github.com/dossiercrm/dossier/crm/store/testdb"
)

// BenchmarkOutboxWorker measures outbox delivery: b.N document mails (a
// 10 KiB attachment each) queued beforehand, then delivered by one worker
// to the in-test SMTP server (plain SMTP on loopback), on SQLite and
// (with DOSSIER_TEST_POSTGRES) PostgreSQL. See docs/performance.md.
//
//	go test ./crm/mail -run '^$' -bench OutboxWorker -benchtime 500x
func BenchmarkOutboxWorker(b *testing.B) {
	for _, db := range []struct {
		name string
		open testdb.Opener
	}{{"sqlite", testdb.SQLite}, {"postgres", testdb.Postgres}} {
		b.Run(db.name, func(b *testing.B) {
			blobs := cloudblob.New(memblob.OpenBucket(nil))
			c, err := crm.New(db.open(b), crm.Config{Blobs: blobs})
			if err != nil {
				b.Fatal(err)
			}
			if _, err := c.Organisations.Create(context.Background(), crm.NewOrganisation{ID: "acme", Name: "Acme"}); err != nil {
				b.Fatal(err)
			}
			ctx := crm.WithActor(crm.WithOrg(context.Background(), "acme"), crm.Staff("u"))
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
			for range b.N {
				if _, err := c.Documents.Send(ctx, cust.ID, []string{d.ID}, crm.SendOptions{}); err != nil {
					b.Fatal(err)
				}
			}
			worker := &mail.Worker{CRM: c, Sender: sender, Batch: 50, Concurrency: 8}
			b.ResetTimer()
			start := time.Now()
			for sent := 0; sent < b.N; {
				n, err := worker.RunOnce(ctx)
				if err != nil {
					b.Fatal(err)
				}
				sent += n
			}
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "mails/s")
		})
	}
}
