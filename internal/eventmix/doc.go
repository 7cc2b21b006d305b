// Package eventmix generates deterministic, realistic AMI event traffic for
// benchmarks, floods and demos.
//
// The traffic imitates what Asterisk 13+ emits while a dialer places calls:
// a repeating mix of Newchannel, Newstate, VarSet, DialBegin, DialEnd and
// Hangup events, with the channel-snapshot headers real Asterisk writes
// (Channel, ChannelState, CallerIDNum, Uniqueid, Linkedid ...). Every frame
// uses CRLF line endings and ends with an empty line, exactly like the wire.
//
// The output is a pure function of the event index: Append(nil, i) returns
// the same bytes on every call, on every machine, so benchmarks and tests are
// reproducible. On average an event has about 19 header lines and about 430
// bytes, close to the events a busy PBX sends.
//
// The package has no state and is safe for concurrent use.
package eventmix
