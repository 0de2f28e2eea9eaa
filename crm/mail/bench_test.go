package mail_test

import (
	"context"
	"crypto/rand"
	"testing"

	"github.com/dossiercrm/dossier/crm/mail"
	"github.com/dossiercrm/dossier/crm/mail/mailtest"
)

// BenchmarkSMTPSend measures mails per second handed to the in-test server over loopback,
// one connection per mail as SMTPSender does: sequentially and from 4 goroutines per CPU, in plain
// text and with STARTTLS + AUTH, with a short text/HTML mail and with a 100 KiB attachment.
// The server counts and discards (mailtest.WithDiscard), so the figure is the client's.
//
//	go test -run '^$' -bench BenchmarkSMTPSend -benchtime 3s ./crm/mail/
func BenchmarkSMTPSend(b *testing.B) {
	attachment := make([]byte, 100*1024)
	if _, err := rand.Read(attachment); err != nil {
		b.Fatal(err)
	}
	small := func() *mail.Message {
		return &mail.Message{
			ID:      "bench",
			To:      []mail.Address{{Name: "Anna Müller", Email: "anna@example.nl"}},
			Subject: "Ihre Unterlagen für März",
			Text:    "Guten Tag Frau Müller,\n\nanbei Ihre Unterlagen.\n",
			HTML:    "<p>Guten Tag Frau Müller,</p><p>anbei Ihre Unterlagen.</p>",
			Headers: map[string]string{"X-Dossier-Customer": "c-42"},
		}
	}
	withAttachment := func() *mail.Message {
		m := small()
		m.Attachments = []mail.Attachment{{Name: "Unterlagen.pdf", ContentType: "application/pdf", Data: attachment}}
		return m
	}

	for _, transport := range []string{"plain", "starttls+auth"} {
		for _, body := range []struct {
			name string
			msg  func() *mail.Message
		}{{"text+html", small}, {"attachment-100KiB", withAttachment}} {
			for _, parallel := range []bool{false, true} {
				name := transport + "/" + body.name + "/sequential"
				if parallel {
					name = transport + "/" + body.name + "/parallel"
				}
				b.Run(name, func(b *testing.B) {
					var srv *mailtest.Server
					var sender *mail.SMTPSender
					var err error
					if transport == "plain" {
						srv = mailtest.NewServer(b, mailtest.WithDiscard())
						sender, err = mail.NewSMTPSender(mail.SMTPConfig{Host: srv.Host, Port: srv.Port, TLS: mail.TLSNone,
							From: defaultFrom})
					} else {
						srv = mailtest.NewServer(b, mailtest.WithDiscard(), mailtest.WithSTARTTLS(), mailtest.WithAuth("dossier", "pw"))
						sender, err = mail.NewSMTPSender(mail.SMTPConfig{Host: srv.Host, Port: srv.Port, TLS: mail.TLSStartTLS,
							RootCAs: srv.CertPool(), Username: "dossier", Password: "pw", From: defaultFrom})
					}
					if err != nil {
						b.Fatal(err)
					}
					m := body.msg()
					ctx := context.Background()
					b.ReportAllocs()
					if parallel {
						b.SetParallelism(4) // 4 goroutines per CPU: 8 on the 2-core CI machine
						b.ResetTimer()
						b.RunParallel(func(pb *testing.PB) {
							for pb.Next() {
								if err := sender.Send(ctx, m); err != nil {
									b.Error(err)
									return
								}
							}
						})
					} else {
						for b.Loop() {
							if err := sender.Send(ctx, m); err != nil {
								b.Fatal(err)
							}
						}
					}
					b.ReportMetric(float64(srv.Received())/b.Elapsed().Seconds(), "mails/s")
				})
			}
		}
	}
}
