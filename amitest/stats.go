package amitest

import "sync/atomic"

// Stats are the server's counters since it was created.
type Stats struct {
	Accepted        int64 // connections accepted (refused ones excepted)
	Refused         int64 // connections closed at once because of SetRefuse
	Active          int64 // connections open now
	LoggedIn        int64 // successful logins
	LoginFailures   int64 // failed logins
	ActionsReceived int64 // frames received from clients (with or without Action)
	ResponsesSent   int64 // Response frames sent by the built-in and custom handlers
	EventsSent      int64 // event frames sent (one per connection it went to)
	BytesReceived   int64 // bytes read from clients
	BytesSent       int64 // bytes written to clients
	CallsStarted    int64 // simulated calls started (Originate and StartCalls)
	CallsActive     int64 // simulated calls not hung up yet
}

type counters struct {
	accepted, refused, loginOK, loginFailed atomic.Int64
	actions, responses, events              atomic.Int64
	bytesReceived, bytesSent                atomic.Int64
	callsStarted                            atomic.Int64
}

// Stats returns a snapshot of the counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	active := int64(len(s.live))
	s.mu.Unlock()
	c := &s.counters
	return Stats{
		Accepted:        c.accepted.Load(),
		Refused:         c.refused.Load(),
		Active:          active,
		LoggedIn:        c.loginOK.Load(),
		LoginFailures:   c.loginFailed.Load(),
		ActionsReceived: c.actions.Load(),
		ResponsesSent:   c.responses.Load(),
		EventsSent:      c.events.Load(),
		BytesReceived:   c.bytesReceived.Load(),
		BytesSent:       c.bytesSent.Load(),
		CallsStarted:    c.callsStarted.Load(),
		CallsActive:     int64(s.pbx.activeCalls()),
	}
}
