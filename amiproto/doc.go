// Package amiproto is the sans-I/O wire format of the Asterisk Manager
// Interface (AMI): message types, an incremental bounded parser and an
// append-style encoder. It opens no sockets, starts no goroutines and reads
// no clock, in the spirit of pgx's pgproto3.
//
// # Parsing
//
// A Parser turns a byte stream into Messages. It serves both directions: the
// client core parses what Asterisk sends (banner, responses, events, legacy
// "Response: Follows" command output), and the fake server amitest parses
// what clients send (actions) with the very same code.
//
//	p, err := amiproto.NewParser(amiproto.Limits{}) // defaults
//	...
//	// for each chunk read from the connection:
//	for len(chunk) > 0 {
//		n, _ := p.Write(chunk) // ErrBufferFull: accepted n bytes, drain then retry
//		chunk = chunk[n:]
//		for {
//			msg, err := p.Next()
//			if err != nil {
//				// *ProtocolError: one frame was discarded, count it and go on
//				continue
//			}
//			if msg == nil {
//				break // need more bytes
//			}
//			handle(msg) // msg is valid until the next Next; Clone to keep it
//		}
//	}
//
// The wire format it accepts:
//
//   - an optional banner line "Asterisk Call Manager/X.Y.Z" as the first line
//     of the stream (or after Reset), returned as KindBanner;
//   - frames of "Key: Value" lines ended by an empty line; "\r\n" and bare "\n"
//     line endings are both accepted, in any mix; the value is everything after
//     the first ':' with exactly one leading space removed; keys keep their
//     case and compare case-insensitively; repeated keys keep wire order;
//   - the legacy Command reply of Asterisk before 14: "Response: Follows",
//     then raw output lines (which may be empty or contain ':') up to a line
//     ending in "--END COMMAND--", returned as KindFollows with Message.Output.
//
// # Bounds and recovery
//
// The parser never holds more than Limits.MaxBufferSize bytes. A frame larger
// than Limits.MaxFrameSize is skipped without buffering up to its end and
// reported once as a *ProtocolError wrapping ErrFrameTooLarge. A line that is
// not "Key: Value" shaped (binary junk, a line with no colon, a key with
// spaces) drops the frame it appears in and is reported as ErrDesync, once
// per run of consecutive garbage lines; the next valid "Key: Value" line
// starts a new frame, so no header of a corrupt frame ever leaks into the
// next one (the valid lines that followed the garbage inside the corrupt
// frame come out as a frame of their own, usually KindUnknown). Command output over Limits.MaxOutputSize is
// reported as ErrOutputTooLarge. After any of these, Next can be called again:
// the stream recovers. The ProtocolError carries the ActionID of the dropped
// frame when it was seen, so a client can fail exactly that action.
//
// Results do not depend on how the stream is cut into Write calls: feeding
// one byte at a time or everything at once yields the same messages and
// errors in the same order.
//
// # Two forms of the same message
//
// Next returns a *Message whose Headers are materialised as key/value
// strings: the convenient form. NextFrame returns a *Frame: the frame's
// bytes as one string plus the offsets of every key and value, with the
// same accessors (Get, Lookup, Values, Name, Header(i), All). It writes no
// pointer per header, so it parses about twice as fast and a retained
// Frame costs the garbage collector one string and one pointer-free slice;
// the client core parses with it and keeps it in every ami.Event.
//
// # Speed
//
// On amd64 the parser finds line ends and key ends through bitmaps built
// 16 bytes at a time with SSE2 (every amd64 CPU has it): one bit per '\n'
// and one per byte that may not appear in a key, 512 bytes per pass, then a
// trailing-zero count per line. Elsewhere, or with the purego build tag, it
// uses bytes.IndexByte per line and checks keys 8 bytes at a time; the two
// paths are tested against each other (including a fuzz target) and give
// the same results.
//
// # Encoding
//
// AppendAction and AppendFrame append a frame to a byte slice without
// allocating per header. They refuse anything that could inject a header into
// the PBX (CR, LF or NUL in a value, an invalid key) and what Asterisk would
// silently truncate (lines longer than MaxLineLength, more than MaxHeaders
// lines in an action). Error texts name the key, never the value.
//
// # Concurrency and ownership
//
// A Parser is not safe for concurrent use; it is meant to be owned by one
// goroutine (the tick loop). The *Message returned by Next (or *Frame
// returned by NextFrame), its Headers and Output slices belong to the parser
// and are reused by the next call to Next, NextFrame or Reset: use Clone to
// keep one. The strings inside (keys, values,
// output lines, banner) are never reused and stay valid forever. The encoding
// functions and the Message methods other than Reset are safe for concurrent
// use on distinct or read-only values.
package amiproto
