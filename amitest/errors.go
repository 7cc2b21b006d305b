package amitest

import "errors"

var (
	// ErrServerClosed is returned by the waiting methods (WaitConns, Ready)
	// when the server is closed, or was never started.
	ErrServerClosed = errors.New("ami: amitest: server closed")

	// ErrServerRunning is returned by Start and StartAt when the server is
	// already listening.
	ErrServerRunning = errors.New("ami: amitest: server already started")

	// ErrConnClosed is returned when writing to a connection that is closed,
	// and by Conn.WaitAction when the connection closes first.
	ErrConnClosed = errors.New("ami: amitest: connection closed")

	// ErrNoConns is returned by Flood when no logged-in connection with
	// events enabled is there to receive the events.
	ErrNoConns = errors.New("ami: amitest: no logged-in connection with events on")

	// ErrNotLoopback is returned by StartAt for an address that is not a
	// loopback address.
	ErrNotLoopback = errors.New("ami: amitest: address is not loopback")
)
