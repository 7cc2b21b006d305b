package amiproto_test

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/apntalk/ami/amiproto"
)

// fuzzLimits are the smallest limits, so that the fuzzer reaches the
// oversize and output paths with small inputs... as far as 64 KiB allows.
var fuzzLimits = amiproto.Limits{
	MaxFrameSize:  amiproto.MinMaxFrameSize,
	MaxBufferSize: amiproto.MinMaxFrameSize,
	MaxOutputSize: amiproto.MinMaxOutputSize,
}

func fuzzSeeds(f *testing.F, add func(data []byte)) {
	for _, s := range []string{
		"Asterisk Call Manager/13.0.0\r\nResponse: Success\r\nActionID: 1\r\n\r\n",
		"Event: A\nK:\nL: v: w\n\n",
		"Response: Follows\r\nPrivilege: Command\r\nActionID: x\r\nout\n\nlast--END COMMAND--\r\n\r\n",
		"junk\r\n\x00\xff\r\nEvent: B\r\n\r\n",
		"Event: A\r\nActionID: 2\r\nbad line\r\n\r\n",
		"\r\n\n\r\r\n",
	} {
		add([]byte(s))
	}
	for _, name := range []string{"command.txt", "misc_errors_logoff.sent.txt", "ping.txt"} {
		add(readCapture(f, name))
	}
}

func FuzzParse(f *testing.F) {
	fuzzSeeds(f, func(b []byte) { f.Add(b) })
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := amiproto.NewParser(fuzzLimits)
		if err != nil {
			t.Fatal(err)
		}
		lim := p.Limits()
		rest := data
		for loops := 0; ; loops++ {
			if loops > len(data)+10 {
				t.Fatal("no progress")
			}
			n, err := p.Write(rest)
			if err != nil && !errors.Is(err, amiproto.ErrBufferFull) {
				t.Fatalf("Write: %v", err)
			}
			rest = rest[n:]
			if p.Buffered() > lim.MaxBufferSize {
				t.Fatalf("Buffered %d > %d", p.Buffered(), lim.MaxBufferSize)
			}
			for {
				m, err := p.Next()
				if err != nil {
					var pe *amiproto.ProtocolError
					if !errors.As(err, &pe) || pe.Size <= 0 {
						t.Fatalf("bad error %v", err)
					}
					if !errors.Is(err, amiproto.ErrDesync) && !errors.Is(err, amiproto.ErrFrameTooLarge) && !errors.Is(err, amiproto.ErrOutputTooLarge) {
						t.Fatalf("unexpected sentinel in %v", err)
					}
					continue
				}
				if m == nil {
					break
				}
				checkBounded(t, m, lim)
			}
			if len(rest) == 0 {
				break
			}
		}
		st := p.Stats()
		if st.Bytes != uint64(len(data)) || st.DiscardedBytes > st.Bytes {
			t.Fatalf("stats %+v for %d bytes", st, len(data))
		}
	})
}

// checkBounded checks that a message respects the limits and is well formed.
func checkBounded(t *testing.T, m *amiproto.Message, lim amiproto.Limits) {
	t.Helper()
	size := len(m.Banner)
	for _, h := range m.Headers {
		if !amiproto.ValidKey(h.Key) || bytes.ContainsAny([]byte(h.Value), "\n") {
			t.Fatalf("bad header %q", h)
		}
		size += len(h.Key) + len(h.Value)
	}
	if size > lim.MaxFrameSize {
		t.Fatalf("message of %d bytes > MaxFrameSize", size)
	}
	out := 0
	for _, l := range m.Output {
		out += len(l)
	}
	if out > lim.MaxOutputSize || (m.Kind != amiproto.KindFollows && len(m.Output) > 0) {
		t.Fatalf("output of %d bytes in a %s", out, m.Kind)
	}
	if m.Kind == amiproto.KindResponse {
		total := 0
		for _, v := range m.Values("Output") {
			total += len(v)
		}
		if total > lim.MaxOutputSize {
			t.Fatalf("Output headers of %d bytes", total)
		}
	}
}

func FuzzChunking(f *testing.F) {
	fuzzSeeds(f, func(b []byte) { f.Add(b, uint64(len(b))) })
	f.Fuzz(func(t *testing.T, data []byte, seed uint64) {
		want := parseAll(t, fuzzLimits, data)
		got := parseRandom(t, fuzzLimits, data, seed, 1+int(seed%64))
		sameItems(t, fmt.Sprintf("seed %d", seed), got, want)
		// NextFrame yields the same messages as Next.
		sameItems(t, fmt.Sprintf("frames, seed %d", seed), parseRandomFrames(t, fuzzLimits, data, seed^1, 1+int(seed%61)), want)
		if seed%8 == 0 && len(data) < 4096 {
			sameItems(t, "byte by byte", parseBytewise(t, fuzzLimits, data), want)
		}
	})
}

func FuzzRoundTrip(f *testing.F) {
	f.Add("Originate", "pbx1:1:1", []byte("Channel\xffLocal/1@test\xffVariable\xffA=1\xffVariable\xff B: 2 "))
	f.Add("Ping", "", []byte(""))
	f.Add("Login", "l", []byte("Secret\xffa\r\nAction: Originate"))
	f.Add("Events", "x", []byte("EventMask\xff\xffBad Key\xffv"))
	f.Fuzz(func(t *testing.T, name, id string, blob []byte) {
		parts := bytes.Split(blob, []byte{0xff})
		var hs []amiproto.Header
		for i := 0; i+1 < len(parts); i += 2 {
			hs = append(hs, amiproto.Header{Key: string(parts[i]), Value: string(parts[i+1])})
		}
		enc, err := amiproto.AppendAction(nil, name, id, hs)
		if err != nil {
			var ee *amiproto.EncodeError
			if !errors.As(err, &ee) || enc != nil {
				t.Fatalf("bad refusal %v (%q)", err, enc)
			}
		} else {
			want := []amiproto.Header{{Key: "Action", Value: name}}
			if id != "" {
				want = append(want, amiproto.Header{Key: "ActionID", Value: id})
			}
			want = append(want, hs...)
			roundTrip(t, enc, amiproto.KindAction, want)
		}
		if len(hs) == 0 {
			return
		}
		frame, err := amiproto.AppendFrame(nil, hs)
		if err != nil || legacyFollows(hs) {
			return // a "Response: Follows" frame starts a legacy reply by design
		}
		ms := messages(t, parseAll(t, amiproto.Limits{}, frame))
		if len(ms) != 1 {
			t.Fatalf("%q: %d messages", frame, len(ms))
		}
		if fmt.Sprintf("%q", ms[0].Headers) != fmt.Sprintf("%q", hs) {
			t.Fatalf("frame round trip:\n got %q\nwant %q", ms[0].Headers, hs)
		}
	})
}

// legacyFollows reports whether the first kind header of hs is
// "Response: Follows".
func legacyFollows(hs []amiproto.Header) bool {
	for _, h := range hs {
		switch strings.ToLower(h.Key) {
		case "event", "action":
			return false
		case "response":
			return strings.EqualFold(h.Value, "follows")
		}
	}
	return false
}

func roundTrip(t *testing.T, enc []byte, kind amiproto.Kind, want []amiproto.Header) {
	t.Helper()
	ms := messages(t, parseAll(t, amiproto.Limits{}, enc))
	if len(ms) != 1 || ms[0].Kind != kind {
		t.Fatalf("%q parsed as %d messages", enc, len(ms))
	}
	if fmt.Sprintf("%q", ms[0].Headers) != fmt.Sprintf("%q", want) {
		t.Fatalf("round trip:\n got %q\nwant %q", ms[0].Headers, want)
	}
}
