package mail_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/dossiercrm/dossier/crm/mail"
)

func TestLogSender(t *testing.T) {
	var buf bytes.Buffer
	s := &mail.LogSender{Logger: slog.New(slog.NewTextHandler(&buf, nil)), From: defaultFrom}
	if err := s.Send(context.Background(), richMessage()); err != nil {
		t.Fatal(err)
	}
	line := buf.String()
	if strings.Count(line, "\n") != 1 {
		t.Errorf("not one line: %q", line)
	}
	for _, want := range []string{
		"level=INFO", `msg="mail not sent (log sender)"`,
		"id=0190f3a2-7c1e-7b6a-9d2f-3c4b5a6d7e8f",
		`to="Anna Müller <anna@example.nl>, bob@example.com"`,
		`from="Reisebüro Sonnenschein <info@sonnenschein.example>"`,
		`subject="Ihre Unterlagen für März"`,
		"bytes.bin (1024 bytes)", "Rechnung März.pdf (",
	} {
		if !strings.Contains(line, want) {
			t.Errorf("line lacks %q:\n%s", want, line)
		}
	}
	if strings.Contains(line, "Guten Tag") || strings.Contains(line, "X-Dossier-Customer") {
		t.Errorf("bodies or headers logged without Verbose:\n%s", line)
	}

	buf.Reset()
	s.Verbose = true
	s.Level = slog.LevelWarn
	if err := s.Send(context.Background(), richMessage()); err != nil {
		t.Fatal(err)
	}
	line = buf.String()
	if strings.Count(line, "\n") != 1 || !strings.Contains(line, "level=WARN") ||
		!strings.Contains(line, "Guten Tag Frau Müller") || !strings.Contains(line, "<b>März</b>") ||
		!strings.Contains(line, "X-Dossier-Customer: c-42") {
		t.Errorf("verbose line:\n%s", line)
	}

	buf.Reset()
	err := s.Send(context.Background(), &mail.Message{Text: "x"})
	if !errors.Is(err, mail.ErrInvalidMessage) || buf.Len() != 0 {
		t.Errorf("invalid message: err %v, logged %q", err, buf.String())
	}
}
