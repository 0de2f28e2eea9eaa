package mail

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// Sender delivers messages. Send returns nil only when the server accepted the message; an error
// says whether retrying can help (see Permanent).
//
// Implementations are safe for concurrent use. Send does not change the message.
type Sender interface {
	Send(ctx context.Context, m *Message) error
}

// ErrInvalidConfig is matched (errors.Is) by the error of a sender constructor given a
// configuration it cannot work with; the error names every offending field.
var ErrInvalidConfig = errors.New("mail: invalid configuration")

// SendError is a failed delivery. The SMTP sender returns one for every failure after the
// message was found valid; Recorder returns one when told to fail.
type SendError struct {
	// Op is the step that failed: "connect" (dialling, the greeting, EHLO), "starttls",
	// "auth", "size" (larger than the server's SIZE limit), "mail" (MAIL FROM), "rcpt",
	// "data" (DATA, the content, the answer to it), or "recorder".
	Op string
	// Code is the SMTP reply code (e.g. 550, 451, 535), or 0 when the failure was no
	// answer of the server (a refused connection, a timeout, a TLS error).
	Code int
	// EnhancedCode is the RFC 3463 status code the server sent with Code ("5.1.1"), if any.
	EnhancedCode string
	// Recipients are, for Op "rcpt", the recipients the server refused. The message was then
	// sent to nobody: a mail goes to all its recipients or to none.
	Recipients []string
	// Permanent is true when retrying the same message cannot succeed (see the function
	// Permanent).
	Permanent bool
	// Err is the underlying error: a *textproto.Error for a server answer, a net or TLS error,
	// context.DeadlineExceeded or context.Canceled, ...
	Err error
}

// Error implements error: `mail: rcpt: anna@example.nl: 550 "5.1.1 no such user" (permanent)`.
func (e *SendError) Error() string {
	var b strings.Builder
	b.WriteString("mail: ")
	b.WriteString(e.Op)
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(strings.ReplaceAll(e.Err.Error(), "\n", "; "))
	}
	if e.Permanent {
		b.WriteString(" (permanent)")
	} else {
		b.WriteString(" (temporary)")
	}
	return b.String()
}

// Unwrap returns Err.
func (e *SendError) Unwrap() error { return e.Err }

// Permanent reports whether err means retrying the same message cannot succeed (an SMTP 5xx
// answer for the recipient, an invalid address, a message too large), as opposed to a temporary
// failure (connection refused, timeout, 4xx).
//
// In detail: an error matching ErrInvalidMessage is permanent, a *SendError is permanent when
// its Permanent field says so (for the SMTP sender: the server answered 5xx, at any step,
// including a refused AUTH 535, or the message exceeds the server's SIZE), and every other
// error, nil included, is not.
func Permanent(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, ErrInvalidMessage) {
		return true
	}
	var se *SendError
	if errors.As(err, &se) {
		return se.Permanent
	}
	return false
}

// configError joins the problems of a configuration into one error matching ErrInvalidConfig.
func configError(what string, problems []string) error {
	if len(problems) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %s: %s", ErrInvalidConfig, what, strings.Join(problems, "; "))
}
