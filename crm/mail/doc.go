// Package mail sends the mails Dossier writes to customers and staff.
//
// A Sender delivers one rendered Message. Three senders come with the package:
//
//   - SMTPSender delivers through an SMTP server (submission with STARTTLS,
//     implicit TLS on port 465, or plain SMTP), with SMTP AUTH PLAIN or LOGIN.
//     It is built on github.com/wneessen/go-mail.
//   - LogSender writes a one-line summary of every mail to a *slog.Logger. It is
//     the sender of a first run, before SMTP is configured: mail is never
//     silently dropped, it is at least logged.
//   - Recorder keeps every mail in memory, for tests of code that sends mail,
//     and can be told to fail the next sends.
//
// Every sender checks the message first (Message.Validate), so a message that
// a Recorder accepts in a test is one the SMTPSender accepts in production.
//
// Errors say whether retrying can help: Permanent reports an error that no
// retry of the same message can cure (a recipient refused with 5xx, an invalid
// address, a message too large), and every other error is temporary (a refused
// connection, a timeout, a 4xx answer). The SMTP sender's errors are *SendError
// values carrying the SMTP reply code and the step that failed.
//
// The package crm/mail/mailtest runs a real SMTP server inside a test.
package mail
