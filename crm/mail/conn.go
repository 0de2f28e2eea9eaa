package mail

import (
	"context"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/wneessen/go-mail/smtp"
)

// aLongTimeAgo is a deadline in the past: it makes every pending and future read and write
// of a connection fail at once.
var aLongTimeAgo = time.Unix(1, 0)

// ctxConn is a connection bound to a context: no deadline set on it reaches past the
// context's, and cancelling the context cuts it. go-mail's SMTP client only knows fixed
// timeouts; this is how Send's context reaches every read and write of a session, the TLS
// handshake included.
type ctxConn struct {
	net.Conn
	deadline time.Time // the context's deadline; zero: none
	stop     func() bool

	mu   sync.Mutex
	done bool // the context has ended
}

func newCtxConn(ctx context.Context, c net.Conn) *ctxConn {
	cc := &ctxConn{Conn: c}
	cc.deadline, _ = ctx.Deadline()
	_ = c.SetDeadline(cc.deadline)
	cc.stop = context.AfterFunc(ctx, func() {
		cc.mu.Lock()
		defer cc.mu.Unlock()
		cc.done = true
		_ = cc.Conn.SetDeadline(aLongTimeAgo)
	})
	return cc
}

// clamp returns the deadline to set for a wish of t. The caller holds mu.
func (c *ctxConn) clamp(t time.Time) time.Time {
	switch {
	case c.done:
		return aLongTimeAgo
	case c.deadline.IsZero():
		return t
	case t.IsZero() || c.deadline.Before(t):
		return c.deadline
	}
	return t
}

// SetDeadline sets the connection's deadline, no later than the context's.
func (c *ctxConn) SetDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.Conn.SetDeadline(c.clamp(t))
}

// SetReadDeadline sets the read deadline, no later than the context's.
func (c *ctxConn) SetReadDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.Conn.SetReadDeadline(c.clamp(t))
}

// SetWriteDeadline sets the write deadline, no later than the context's.
func (c *ctxConn) SetWriteDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.Conn.SetWriteDeadline(c.clamp(t))
}

// Close closes the connection and lets go of the context.
func (c *ctxConn) Close() error {
	c.stop()
	return c.Conn.Close()
}

// authChooser is the smtp.Auth of one session: it picks the mechanism from the server's list
// (or checks the configured one is offered) and hands over to go-mail's PLAIN or LOGIN. It is
// used instead of go-mail's Client auto-discovery, which does not know that a connection it
// did not dial itself (ours, for the context) is protected by implicit TLS and then offers
// neither PLAIN nor LOGIN. A new one is needed per session: LOGIN keeps state.
type authChooser struct {
	mech       AuthMechanism
	user, pass string
	host       string
	inner      smtp.Auth
}

// Start implements smtp.Auth.
func (a *authChooser) Start(si *smtp.ServerInfo) (string, []byte, error) {
	offered := func(m AuthMechanism) bool {
		return slices.ContainsFunc(si.Auth, func(s string) bool { return strings.EqualFold(s, string(m)) })
	}
	mech := a.mech
	switch {
	case len(si.Auth) == 0:
		return "", nil, fmt.Errorf("the server offers no AUTH mechanism (on this connection; does it want TLS first?)")
	case mech == AuthAuto && offered(AuthPlain):
		mech = AuthPlain
	case mech == AuthAuto && offered(AuthLogin):
		mech = AuthLogin
	case mech == AuthAuto:
		return "", nil, fmt.Errorf("the server offers AUTH %s, neither PLAIN nor LOGIN", strings.Join(si.Auth, " "))
	case !offered(mech):
		return "", nil, fmt.Errorf("the server does not offer AUTH %s (it offers %s)", mech, strings.Join(si.Auth, " "))
	}
	if mech == AuthLogin {
		a.inner = smtp.LoginAuth(a.user, a.pass, a.host, false)
	} else {
		a.inner = smtp.PlainAuth("", a.user, a.pass, a.host, false)
	}
	return a.inner.Start(si)
}

// Next implements smtp.Auth.
func (a *authChooser) Next(fromServer []byte, more bool) ([]byte, error) {
	return a.inner.Next(fromServer, more)
}
