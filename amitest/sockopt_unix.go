//go:build unix

package amitest

import "syscall"

// rcvbufControl returns a net.ListenConfig Control function that sets
// SO_RCVBUF on the listening socket (accepted sockets inherit it, so it
// applies to the window announced in the handshake). n <= 0 means none.
func rcvbufControl(n int) func(network, address string, c syscall.RawConn) error {
	if n <= 0 {
		return nil
	}
	return func(network, address string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, n)
		})
		if err != nil {
			return err
		}
		return serr
	}
}
