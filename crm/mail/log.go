package mail

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"strings"
)

// LogSender "sends" a message by writing a one-line summary of it to a logger: the
// recipients, the subject, the attachments' names and sizes, and (with Verbose) the bodies.
// It is the sender of a first run, before SMTP is configured: the mail is not delivered, but it
// is never silently dropped either. The zero value writes to slog.Default().
//
// Send checks the message like every sender (an invalid message is an error, not a log
// line) and returns nil once the line is written.
type LogSender struct {
	// Logger receives the lines. Nil: slog.Default(). (Unlike elsewhere in Dossier, a nil
	// logger is not a quiet one here: a quiet LogSender would drop mail.)
	Logger *slog.Logger
	// From is the default sender shown for messages with a zero From.
	From Address
	// Level is the level of the lines. Zero: slog.LevelInfo.
	Level slog.Level
	// Verbose adds the text and HTML bodies and the extra headers to the line.
	Verbose bool
}

var _ Sender = (*LogSender)(nil)

// Send validates m and logs it. The line's message is "mail not sent (log sender)".
func (s *LogSender) Send(ctx context.Context, m *Message) error {
	if err := m.Validate(); err != nil {
		return err
	}
	log := s.Logger
	if log == nil {
		log = slog.Default()
	}
	from := m.From
	if from.IsZero() {
		from = s.From
	}
	attrs := []slog.Attr{
		slog.String("id", m.ID),
		slog.String("from", addressList([]Address{from})),
		slog.String("to", addressList(m.To)),
		slog.String("subject", m.Subject),
		slog.String("attachments", attachmentList(m.Attachments)),
	}
	if m.ReplyTo != nil {
		attrs = append(attrs, slog.String("replyTo", addressList([]Address{*m.ReplyTo})))
	}
	if s.Verbose {
		keys := make([]string, 0, len(m.Headers))
		for k := range m.Headers {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		hs := make([]string, len(keys))
		for i, k := range keys {
			hs[i] = k + ": " + m.Headers[k]
		}
		attrs = append(attrs,
			slog.String("headers", strings.Join(hs, "; ")),
			slog.String("text", m.Text),
			slog.String("html", m.HTML))
	}
	log.LogAttrs(ctx, s.Level, "mail not sent (log sender)", attrs...)
	return nil
}

// addressList shows addresses for a log line: `Anna Müller <anna@example.nl>, bob@example.nl`,
// names unencoded.
func addressList(as []Address) string {
	parts := make([]string, 0, len(as))
	for _, a := range as {
		switch {
		case a.IsZero():
		case a.Name == "":
			parts = append(parts, a.Email)
		default:
			parts = append(parts, fmt.Sprintf("%s <%s>", a.Name, a.Email))
		}
	}
	return strings.Join(parts, ", ")
}

// attachmentList shows attachments for a log line: "rechnung.pdf (12345 bytes), logo.png (42 bytes)".
func attachmentList(as []Attachment) string {
	parts := make([]string, len(as))
	for i, a := range as {
		parts[i] = fmt.Sprintf("%s (%d bytes)", a.Name, len(a.Data))
	}
	return strings.Join(parts, ", ")
}
