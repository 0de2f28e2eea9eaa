package mail_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/dossiercrm/dossier/crm/mail"
)

// A first run without SMTP: every mail becomes a log line instead of disappearing.
func ExampleLogSender() {
	logger := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{} // keep the example's output stable
			}
			return a
		},
	}))
	var sender mail.Sender = &mail.LogSender{Logger: logger, From: mail.Address{Email: "info@sonnenschein.example"}}

	err := sender.Send(context.Background(), &mail.Message{
		ID:          "0190f3a2",
		To:          []mail.Address{{Name: "Anna Müller", Email: "anna@example.nl"}},
		Subject:     "Ihre Unterlagen für März",
		Text:        "Guten Tag Frau Müller, ...",
		Attachments: []mail.Attachment{{Name: "Reiseplan.pdf", ContentType: "application/pdf", Data: make([]byte, 2048)}},
	})
	fmt.Println(err)
	// Output:
	// level=INFO msg="mail not sent (log sender)" id=0190f3a2 from=info@sonnenschein.example to="Anna Müller <anna@example.nl>" subject="Ihre Unterlagen für März" attachments="Reiseplan.pdf (2048 bytes)"
	// <nil>
}

// The Recorder stands in for a real sender in tests, and can fail on demand.
func ExampleRecorder() {
	var rec mail.Recorder
	ctx := context.Background()
	m := &mail.Message{To: []mail.Address{{Email: "anna@example.nl"}}, Subject: "Willkommen", Text: "Hallo Anna"}

	rec.FailNext(1, false) // the next send fails as a 451 would
	rec.FailNext(1, true)  // and the one after as a 550 would

	for range 3 {
		err := rec.Send(ctx, m)
		fmt.Printf("err=%v permanent=%v\n", err, mail.Permanent(err))
	}
	fmt.Println(rec.Len(), "recorded of", rec.Attempts(), "attempts; subject:", rec.Messages()[0].Subject)
	// Output:
	// err=mail: recorder: 451 4.3.0 temporary failure (Recorder.FailNext) (temporary) permanent=false
	// err=mail: recorder: 550 5.0.0 permanent failure (Recorder.FailNext) (permanent) permanent=true
	// err=<nil> permanent=false
	// 1 recorded of 3 attempts; subject: Willkommen
}

// Configuring SMTP submission with STARTTLS and AUTH. Nothing connects until Send.
func ExampleNewSMTPSender() {
	sender, err := mail.NewSMTPSender(mail.SMTPConfig{
		Host:     "smtp.example.com",
		Username: "dossier@example.com",
		Password: "app-password",
		From:     mail.Address{Name: "Reisebüro Sonnenschein", Email: "info@sonnenschein.example"},
		Timeout:  30 * time.Second,
	})
	fmt.Println(sender.Addr(), err)

	// A configuration that cannot work is refused with every problem named.
	_, err = mail.NewSMTPSender(mail.SMTPConfig{Host: "smtp.example.com:587", TLS: "ssl"})
	fmt.Println(errors.Is(err, mail.ErrInvalidConfig))
	fmt.Println(err)
	// Output:
	// smtp.example.com:587 <nil>
	// true
	// mail: invalid configuration: SMTPConfig: Host "smtp.example.com:587" must be a host name or IP address without a port (give the port in Port); TLS "ssl" is not one of starttls, opportunistic, tls, none; From is required (the default sender)
}
