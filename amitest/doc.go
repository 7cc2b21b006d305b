// Package amitest provides a scriptable fake Asterisk Manager Interface
// server for tests, benchmarks and demos, in the spirit of net/http/httptest.
//
// A Server listens on a loopback address and behaves like an Asterisk 13+
// manager on the wire, byte for byte as in the captures of a real PBX: the
// "Asterisk Call Manager/13.0.0" banner, plain and MD5-challenge Login
// (failed logins are answered after Options.LoginFailureDelay, then the
// connection is closed), "Permission denied" before login, Ping, Events,
// Logoff ("Thanks for all the fish."), Command (modern "Output:" form, or the
// legacy "Response: Follows" form with Options.LegacyCommand), list actions
// (CoreShowChannels, Status, QueueStatus, QueueSummary, PJSIPShowEndpoints,
// PJSIPShowEndpoint) with "EventList: start", items carrying the ActionID and
// a "...Complete" event with ListItems, queue member actions, Getvar/Setvar,
// Hangup, Redirect, UserEvent, ExtensionState, CoreStatus, CoreSettings and
// Originate. Unknown actions and frames without Action get Asterisk's error
// messages.
//
// # Simulated PBX
//
// Originate plays a simulated call: Local channels follow the
// originate_async capture (Newchannel x2, Newexten, LocalBridge, DialBegin,
// Newstate, DialEnd, OriginateResponse with the action's ActionID, ...,
// Hangup x2, DeviceStateChange); other technologies (PJSIP, SIP, IAX2,
// DAHDI) a single outbound channel. The dialled resource decides the fate:
// "fail" or "nosuch" fails (Reason 0, like a missing extension), "busy",
// "noanswer" and "congestion" give Reasons 5, 3 and 8, an unknown technology
// fails at once; anything else is answered (Reason 4) and hangs up after
// Options.CallDuration. Events are broadcast, as on Asterisk, to every
// logged-in connection whose event mask has the event's class (the first
// item of its Privilege header): a client logged in with "Events: off" gets
// no OriginateResponse. StartCalls adds background traffic at a given rate.
// Live simulated channels show in CoreShowChannels, Status and "core show
// channels", and can be hung up with the Hangup action.
//
// # Scripting and fault injection
//
// Handle replaces the reply of any action (ResponseWriter.Default falls back
// on the built-in one); Conn.Send and Conn.SendFrame write anything,
// garbage included; Broadcast and Flood push events (Flood in large
// pre-encoded batches, fast enough for benchmarks); Options.WriteChunkSize
// and WriteChunkDelay split every write; SetReading(false) stops reading
// like a hung PBX; SetRefuse makes the PBX refuse sessions; Conn.Close and
// CloseClientConnections reset connections; Close then StartAt(addr)
// restarts a PBX on the same port. Conn.Received returns the exact bytes a
// client sent and Conn.Actions the parsed actions, parsed with the amiproto
// parser the client library uses.
//
// # Concurrency
//
// Every method of Server and Conn is safe for concurrent use. Each
// connection has one reader goroutine, which parses the client's bytes and
// runs the action handlers in order (a handler that blocks stops that
// connection's reading, as a busy Asterisk session would). Writes to a
// connection are serialised by a lock: a reply, an event, a Flood batch or
// a Send is never interleaved with another frame. Simulated calls run on
// their own goroutines. Close closes the listener and every connection and
// waits for all of these goroutines, so tests can check for leaks; a client
// that stopped reading cannot hang it. Broadcast, Flood and simulated call
// events block while a client does not read, unless Options.WriteTimeout is
// set.
package amitest
