//go:build !unix

package amitest

import "syscall"

// rcvbufControl is a no-op where SO_RCVBUF cannot be set portably; the
// accepted connections still get SetReadBuffer.
func rcvbufControl(n int) func(network, address string, c syscall.RawConn) error {
	return nil
}
