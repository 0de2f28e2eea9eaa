//go:build !unix

package store

import "net"

// connAlive cannot look at the socket without blocking here: a dead
// connection is found by its next statement, as before.
func connAlive(net.Conn) bool { return true }
