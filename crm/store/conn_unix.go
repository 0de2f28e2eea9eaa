//go:build unix

package store

import (
	"errors"
	"net"
	"syscall"
)

// connAlive reports whether an idle connection is still open: a
// non-blocking read finds nothing to read. Data (an error the server sent
// before closing) or the end of the stream mean the server is gone.
func connAlive(nc net.Conn) bool {
	if tc, ok := nc.(interface{ NetConn() net.Conn }); ok { // TLS: look at the socket below
		nc = tc.NetConn()
	}
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return true
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return true
	}
	var (
		rerr error
		buf  [1]byte
	)
	if err := raw.Read(func(fd uintptr) bool {
		_, rerr = syscall.Read(int(fd), buf[:])
		return true
	}); err != nil {
		return false
	}
	// Data or the end of the stream (no error either way) mean dead.
	return errors.Is(rerr, syscall.EAGAIN) || errors.Is(rerr, syscall.EWOULDBLOCK)
}
