package amiproto_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/apntalk/ami/amiproto"
)

// summary is a compact, exact description of one Next result.
func summary(it item) string {
	if it.err != nil {
		var name string
		switch {
		case errors.Is(it.err, amiproto.ErrDesync):
			name = "desync"
		case errors.Is(it.err, amiproto.ErrFrameTooLarge):
			name = "toolarge"
		case errors.Is(it.err, amiproto.ErrOutputTooLarge):
			name = "output"
		default:
			name = it.err.Err.Error()
		}
		return fmt.Sprintf("ERR %s id=%s size=%d", name, it.err.ActionID, it.err.Size)
	}
	m := it.msg
	if m.Kind == amiproto.KindBanner {
		return "Banner " + m.Banner
	}
	var kv []string
	for _, h := range m.Headers {
		kv = append(kv, h.Key+"="+h.Value)
	}
	s := m.Kind.String() + " " + strings.Join(kv, "|")
	if m.Kind == amiproto.KindFollows {
		s += fmt.Sprintf(" out=%q", m.Output)
	}
	return s
}

func summaries(items []item) []string {
	out := make([]string, 0, len(items))
	for _, it := range items {
		out = append(out, summary(it))
	}
	return out
}

type parseCase struct {
	name   string
	in     string
	limits amiproto.Limits
	want   []string
}

func checkCases(t *testing.T, cases []parseCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			oneShot := parseAll(t, tc.limits, []byte(tc.in))
			got := summaries(oneShot)
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Fatalf("input %q\n got:\n  %s\nwant:\n  %s", tc.in, strings.Join(got, "\n  "), strings.Join(tc.want, "\n  "))
			}
			sameItems(t, "byte by byte", parseBytewise(t, tc.limits, []byte(tc.in)), oneShot)
			for seed := uint64(1); seed <= 5; seed++ {
				sameItems(t, fmt.Sprintf("random chunks seed %d", seed), parseRandom(t, tc.limits, []byte(tc.in), seed, 7), oneShot)
			}
		})
	}
}

func TestParseBanner(t *testing.T) {
	checkCases(t, []parseCase{
		{"banner then frame in one chunk", "Asterisk Call Manager/13.0.0\r\nResponse: Success\r\nActionID: 1\r\n\r\n",
			amiproto.Limits{}, []string{"Banner Asterisk Call Manager/13.0.0", "Response Response=Success|ActionID=1"}},
		{"bare LF banner", "Asterisk Call Manager/2.10.6\nEvent: FullyBooted\n\n",
			amiproto.Limits{}, []string{"Banner Asterisk Call Manager/2.10.6", "Event Event=FullyBooted"}},
		{"other Asterisk greeting", "Asterisk Manager Proxy/1.1\r\n",
			amiproto.Limits{}, []string{"Banner Asterisk Manager Proxy/1.1"}},
		{"no banner (client stream)", "Action: Ping\r\nActionID: p1\r\n\r\n",
			amiproto.Limits{}, []string{"Action Action=Ping|ActionID=p1"}},
		{"banner-like line later is garbage", "Event: A\r\n\r\nAsterisk Call Manager/13.0.0\r\nEvent: B\r\n\r\n",
			amiproto.Limits{}, []string{"Event Event=A", "ERR desync id= size=30", "Event Event=B"}},
		{"banner alone, no line end yet", "Asterisk Call Manager/13.0.0",
			amiproto.Limits{}, nil},
	})
}

func TestParseFraming(t *testing.T) {
	checkCases(t, []parseCase{
		{"CRLF", "Event: A\r\nX: 1\r\n\r\nEvent: B\r\n\r\n", amiproto.Limits{},
			[]string{"Event Event=A|X=1", "Event Event=B"}},
		{"bare LF", "Event: A\nX: 1\n\nEvent: B\n\n", amiproto.Limits{},
			[]string{"Event Event=A|X=1", "Event Event=B"}},
		{"CRLF then LF", "Event: A\r\nX: 1\r\n\nEvent: B\n\r\n", amiproto.Limits{},
			[]string{"Event Event=A|X=1", "Event Event=B"}},
		{"mixed endings in one frame", "Event: A\nX: 1\r\nY: 2\n\r\n", amiproto.Limits{},
			[]string{"Event Event=A|X=1|Y=2"}},
		{"extra blank lines are ignored", "\r\n\r\n\nEvent: A\r\n\r\n\r\n\n\r\nEvent: B\r\n\r\n", amiproto.Limits{},
			[]string{"Event Event=A", "Event Event=B"}},
		{"incomplete frame waits", "Event: A\r\nX: 1\r\n", amiproto.Limits{}, nil},
		{"incomplete delimiter waits", "Event: A\r\nX: 1\r\n\r", amiproto.Limits{}, nil},
	})
}

func TestParseValues(t *testing.T) {
	checkCases(t, []parseCase{
		{"empty values", "Event: A\r\nK1:\r\nK2: \r\nK3:\r\n\r\n", amiproto.Limits{},
			[]string{"Event Event=A|K1=|K2=|K3="}},
		{"no space after colon", "Event:A\r\nK:v\r\n\r\n", amiproto.Limits{},
			[]string{"Event Event=A|K=v"}},
		{"only one leading space removed", "Event: A\r\nOutput:   'short' =>\r\n\r\n", amiproto.Limits{},
			[]string{"Event Event=A|Output=  'short' =>"}},
		{"colons in value", "Event: A\r\nTime: 15:17:59\r\nURL: sip:a@b:5060\r\n\r\n", amiproto.Limits{},
			[]string{"Event Event=A|Time=15:17:59|URL=sip:a@b:5060"}},
		{"trailing spaces kept", "Event: A\r\nK: v  \r\n\r\n", amiproto.Limits{},
			[]string{"Event Event=A|K=v  "}},
		{"repeated keys keep order and case", "Action: Originate\r\nVariable: A=1\r\nvariable: B=2\r\nVARIABLE: C=3\r\n\r\n", amiproto.Limits{},
			[]string{"Action Action=Originate|Variable=A=1|variable=B=2|VARIABLE=C=3"}},
		{"inner CR kept", "Event: A\r\nK: a\rb\r\n\r\n", amiproto.Limits{},
			[]string{"Event Event=A|K=a\rb"}},
		{"punctuation in keys", "Event: Hangup\r\nCause-txt: Normal\r\nX_Y.Z: 1\r\n\r\n", amiproto.Limits{},
			[]string{"Event Event=Hangup|Cause-txt=Normal|X_Y.Z=1"}},
	})
}

func TestParseKind(t *testing.T) {
	checkCases(t, []parseCase{
		{"event with a later Response header", "Event: OriginateResponse\r\nActionID: o1\r\nResponse: Success\r\n\r\n", amiproto.Limits{},
			[]string{"Event Event=OriginateResponse|ActionID=o1|Response=Success"}},
		{"response with a later Event header", "ActionID: x\r\nResponse: Success\r\nEvent: Foo\r\n\r\n", amiproto.Limits{},
			[]string{"Response ActionID=x|Response=Success|Event=Foo"}},
		{"lower-case keys", "response: Error\r\nmessage: m\r\n\r\nevent: E\r\n\r\naction: ping\r\n\r\n", amiproto.Limits{},
			[]string{"Response response=Error|message=m", "Event event=E", "Action action=ping"}},
		{"no kind header", "ActionID: noaction-1\r\nFoo: bar\r\n\r\n", amiproto.Limits{},
			[]string{"Unknown ActionID=noaction-1|Foo=bar"}},
		{"similar keys do not count", "Events: off\r\nActions: x\r\nResponses: y\r\n\r\n", amiproto.Limits{},
			[]string{"Unknown Events=off|Actions=x|Responses=y"}},
		{"Follows value only on the kind header", "Event: X\r\nResponse: Follows\r\n\r\n", amiproto.Limits{},
			[]string{"Event Event=X|Response=Follows"}},
	})
}

func TestParseGarbage(t *testing.T) {
	junk := "\x00\x01\x02binary\xff\xfe"
	checkCases(t, []parseCase{
		{"garbage line between frames", "Event: A\r\n\r\nthis is garbage\r\nEvent: B\r\n\r\n", amiproto.Limits{},
			[]string{"Event Event=A", "ERR desync id= size=17", "Event Event=B"}},
		{"binary junk inside a frame drops the frame", "Event: A\r\nActionID: x1\r\n" + junk + "\r\nEvent: B\r\nK: v\r\n\r\n", amiproto.Limits{},
			[]string{fmt.Sprintf("ERR desync id=x1 size=%d", len("Event: A\r\nActionID: x1\r\n"+junk+"\r\n")), "Event Event=B|K=v"}},
		{"a run of garbage is one error", "junk one\r\njunk two\r\n\r\n" + junk + "\r\nEvent: B\r\n\r\n", amiproto.Limits{},
			[]string{"ERR desync id= size=10", "Event Event=B"}},
		{"two runs are two errors", "junk one\r\nEvent: A\r\n\r\njunk two\r\n\r\nEvent: B\r\n\r\n", amiproto.Limits{},
			[]string{"ERR desync id= size=10", "Event Event=A", "ERR desync id= size=10", "Event Event=B"}},
		{"key with a space", "Event: A\r\nBad Key: v\r\n\r\nEvent: B\r\n\r\n", amiproto.Limits{},
			[]string{"ERR desync id= size=22", "Event Event=B"}},
		{"empty key", ": v\r\nEvent: B\r\n\r\n", amiproto.Limits{},
			[]string{"ERR desync id= size=5", "Event Event=B"}},
		{"key with a tab", "Event\t: A\r\n\r\n", amiproto.Limits{},
			[]string{"ERR desync id= size=11"}},
		{"truncated line then a new frame", "Event: A\r\nActionID: t1\r\nChann\r\nEvent: B\r\n\r\n", amiproto.Limits{},
			[]string{"ERR desync id=t1 size=31", "Event Event=B"}},
		{"no leak into the next frame", "Response: Success\r\nActionID: bad\r\nSecret stuff\r\nMessage: tail\r\n\r\n", amiproto.Limits{},
			[]string{"ERR desync id=bad size=48", "Unknown Message=tail"}},
	})
}

func TestParseGarbageStats(t *testing.T) {
	p := newParser(t, amiproto.Limits{})
	in := "junk one\r\njunk two\r\n\r\n\x00\x01\r\nEvent: B\r\n\r\n"
	items := feed(t, p, []byte(in), func() int { return 3 })
	if got := summaries(items); len(got) != 2 || got[1] != "Event Event=B" {
		t.Fatalf("got %q", got)
	}
	st := p.Stats()
	if st.Desyncs != 1 || st.DiscardedBytes != 10+10+4 || st.Frames != 1 || st.Bytes != uint64(len(in)) {
		t.Fatalf("stats %+v", st)
	}
}

func TestParseTruncatedThenReset(t *testing.T) {
	p := newParser(t, amiproto.Limits{})
	items := feed(t, p, []byte("Asterisk Call Manager/13.0.0\r\nEvent: A\r\nActionID: cut\r\nChan"), func() int { return 5 })
	if got := summaries(items); len(got) != 1 || got[0] != "Banner Asterisk Call Manager/13.0.0" {
		t.Fatalf("before reset: %q", got)
	}
	if p.Buffered() == 0 {
		t.Fatal("partial frame not buffered")
	}
	p.Reset()
	if p.Buffered() != 0 {
		t.Fatalf("Buffered after Reset = %d", p.Buffered())
	}
	items = feed(t, p, []byte("Asterisk Call Manager/13.0.0\r\nEvent: B\r\n\r\n"), func() int { return 4 })
	want := []string{"Banner Asterisk Call Manager/13.0.0", "Event Event=B"}
	if got := summaries(items); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("after reset: %q", got)
	}
	if st := p.Stats(); st.Frames != 3 || st.Desyncs != 0 {
		t.Fatalf("stats kept across Reset: %+v", st)
	}
}

func TestParseOversized(t *testing.T) {
	const limit = amiproto.MinMaxFrameSize
	lim := amiproto.Limits{MaxFrameSize: limit, MaxBufferSize: limit}
	head := "Event: Big\r\nActionID: big-1\r\n"
	var sb strings.Builder
	sb.WriteString(head)
	for sb.Len() < 3*limit {
		sb.WriteString("Filler: 0123456789012345678901234567890123456789\r\n")
	}
	big := sb.String() + "\r\n"
	in := "Event: A\r\n\r\n" + big + "Event: B\r\nActionID: b\r\n\r\n"
	want := []string{"Event Event=A", fmt.Sprintf("ERR toolarge id=big-1 size=%d", len(big)), "Event Event=B|ActionID=b"}
	checkCases(t, []parseCase{{"oversized frame then a valid one", in, lim, want}})

	// A single endless line, then the frame end.
	line := "Event: Long\r\nActionID: l1\r\nData: " + strings.Repeat("x", 2*limit) + "\r\n\r\n"
	checkCases(t, []parseCase{{"oversized line", line + "Event: B\r\n\r\n", lim,
		[]string{fmt.Sprintf("ERR toolarge id=l1 size=%d", len(line)), "Event Event=B"}}})

	// A frame whose empty line ends exactly at the limit is accepted; one
	// byte more is not.
	for _, extra := range []int{0, 1} {
		pre := "Event: Edge\r\nPad: "
		n := limit - len(pre) - len("\r\n\r\n") + extra
		frame := pre + strings.Repeat("p", n) + "\r\n\r\n"
		items := parseAll(t, lim, []byte(frame))
		if len(items) != 1 {
			t.Fatalf("extra=%d: %d items", extra, len(items))
		}
		if got := items[0].err != nil; got != (extra == 1) {
			t.Fatalf("frame of %d bytes (limit %d): error=%v", len(frame), limit, got)
		}
		sameItems(t, "edge bytewise", parseBytewise(t, lim, []byte(frame)), items)
	}

	p := newParser(t, lim)
	items := feed(t, p, []byte(in), func() int { return 4096 })
	if len(items) != 3 {
		t.Fatalf("items %v", summaries(items))
	}
	if st := p.Stats(); st.Oversized != 1 || st.DiscardedBytes != uint64(len(big)) || st.Frames != 2 {
		t.Fatalf("stats %+v", st)
	}
	var pe *amiproto.ProtocolError
	if !errors.As(items[1].err, &pe) || !errors.Is(pe, amiproto.ErrFrameTooLarge) || !strings.HasPrefix(pe.Error(), "ami: ") {
		t.Fatalf("error %v", items[1].err)
	}
}

func TestParseOversizedMemoryBounded(t *testing.T) {
	lim := amiproto.Limits{MaxFrameSize: amiproto.MinMaxFrameSize, MaxBufferSize: amiproto.MinMaxFrameSize}
	p := newParser(t, lim)
	chunk := []byte(strings.Repeat("Filler: endless frame without an end\r\n", 100))
	total := 0
	for total < 20*amiproto.MinMaxFrameSize {
		data := chunk
		for len(data) > 0 {
			n, err := p.Write(data)
			if err != nil && !errors.Is(err, amiproto.ErrBufferFull) {
				t.Fatal(err)
			}
			data = data[n:]
			total += n
			if m, err := p.Next(); m != nil || err != nil {
				t.Fatalf("Next = %v, %v", m, err)
			}
			if p.Buffered() > amiproto.MinMaxFrameSize {
				t.Fatalf("Buffered %d", p.Buffered())
			}
		}
	}
	if p.Buffered() != 0 {
		t.Fatalf("discard mode buffers %d bytes", p.Buffered())
	}
	// The frame finally ends: one error for all of it, then parsing goes on.
	items := feed(t, p, []byte("\r\nEvent: After\r\n\r\n"), func() int { return 1 })
	want := []string{fmt.Sprintf("ERR toolarge id= size=%d", total+2), "Event Event=After"}
	if got := summaries(items); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("got %q want %q", got, want)
	}
}

func TestParseModernOutputCap(t *testing.T) {
	lim := amiproto.Limits{MaxOutputSize: amiproto.MinMaxOutputSize}
	var sb strings.Builder
	sb.WriteString("Response: Success\r\nActionID: cmd-big\r\nMessage: Command output follows\r\n")
	for i := 0; i < 20; i++ {
		fmt.Fprintf(&sb, "Output: line %02d %s\r\n", i, strings.Repeat("o", 50))
	}
	sb.WriteString("\r\n")
	big := sb.String()
	ok := "Response: Success\r\nActionID: cmd-ok\r\nOutput: small\r\nOutput: \r\n\r\n"
	checkCases(t, []parseCase{{"modern output over the cap", big + ok, lim, []string{
		fmt.Sprintf("ERR output id=cmd-big size=%d", len(big)),
		"Response Response=Success|ActionID=cmd-ok|Output=small|Output=",
	}}})
	p := newParser(t, lim)
	feed(t, p, []byte(big+ok), func() int { return 100 })
	if st := p.Stats(); st.OutputTooLarge != 1 || st.Frames != 1 || st.DiscardedBytes != uint64(len(big)) {
		t.Fatalf("stats %+v", st)
	}
}

func TestWriteBufferFull(t *testing.T) {
	lim := amiproto.Limits{MaxFrameSize: amiproto.MinMaxFrameSize, MaxBufferSize: amiproto.MinMaxFrameSize}
	p := newParser(t, lim)
	frame := "Event: Fill\r\nData: " + strings.Repeat("d", 1000) + "\r\n\r\n"
	data := []byte(strings.Repeat(frame, 100))
	n, err := p.Write(data)
	if !errors.Is(err, amiproto.ErrBufferFull) || n != amiproto.MinMaxFrameSize {
		t.Fatalf("Write = %d, %v; want %d, ErrBufferFull", n, err, amiproto.MinMaxFrameSize)
	}
	if p.Buffered() != amiproto.MinMaxFrameSize {
		t.Fatalf("Buffered = %d", p.Buffered())
	}
	if n2, err := p.Write([]byte("x")); n2 != 0 || !errors.Is(err, amiproto.ErrBufferFull) {
		t.Fatalf("Write on a full buffer = %d, %v", n2, err)
	}
	// Draining frees room; the caller retries the rest.
	got := drain(t, p, nil)
	data = data[n:]
	for len(data) > 0 {
		n, err = p.Write(data)
		if err != nil && !errors.Is(err, amiproto.ErrBufferFull) {
			t.Fatal(err)
		}
		data = data[n:]
		got = drain(t, p, got)
	}
	if len(got) != 100 {
		t.Fatalf("parsed %d frames, want 100", len(got))
	}
	for _, it := range got {
		if it.err != nil || it.msg.Get("Data") != strings.Repeat("d", 1000) {
			t.Fatalf("bad item %s", summary(it))
		}
	}
	if st := p.Stats(); st.Bytes != uint64(len(frame)*100) {
		t.Fatalf("Bytes = %d, want %d", st.Bytes, len(frame)*100)
	}
}

func TestZeroParserUsesDefaults(t *testing.T) {
	var p amiproto.Parser
	if p.Limits() != amiproto.DefaultLimits() {
		t.Fatalf("limits %+v", p.Limits())
	}
	got := summaries(feed(t, &p, []byte("Asterisk Call Manager/13.0.0\r\nEvent: A\r\n\r\n"), func() int { return 3 }))
	if len(got) != 2 || got[1] != "Event Event=A" {
		t.Fatalf("got %q", got)
	}
}

func TestNextMessageReuseAndClone(t *testing.T) {
	p := newParser(t, amiproto.Limits{})
	if _, err := p.Write([]byte("Event: A\r\nK: 1\r\n\r\nEvent: B\r\nK: 2\r\nL: 3\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	m1, err := p.Next()
	if err != nil || m1 == nil {
		t.Fatal(m1, err)
	}
	key, val := m1.Headers[1].Key, m1.Headers[1].Value
	c := m1.Clone()
	m2, err := p.Next()
	if err != nil || m2 == nil {
		t.Fatal(m2, err)
	}
	if c.Name() != "A" || c.Get("K") != "1" || len(c.Headers) != 2 {
		t.Fatalf("clone changed by the next Next: %s", msgString(c))
	}
	if m2.Name() != "B" || m2.Get("L") != "3" {
		t.Fatalf("second message %s", msgString(m2))
	}
	// Strings taken from an earlier message stay valid.
	if key != "K" || val != "1" {
		t.Fatalf("strings of the first message changed: %q %q", key, val)
	}
}

func TestParseAllocsPerFrame(t *testing.T) {
	if testing.Short() {
		t.Skip("allocation count")
	}
	var stream []byte
	for i := 0; i < 50; i++ {
		stream = append(stream, "Event: Newchannel\r\nPrivilege: call,all\r\nChannel: PJSIP/trunk-0000001\r\nChannelState: 0\r\nUniqueid: 1733328000.1\r\nLinkedid: 1733328000.1\r\n\r\n"...)
	}
	p := newParser(t, amiproto.Limits{})
	run := func() {
		if _, err := p.Write(stream); err != nil {
			t.Fatal(err)
		}
		for {
			m, err := p.Next()
			if err != nil {
				t.Fatal(err)
			}
			if m == nil {
				return
			}
		}
	}
	run() // warm up: buffer and header slices reach their size
	allocs := testing.AllocsPerRun(20, run)
	if perFrame := allocs / 50; perFrame > 1.01 {
		t.Fatalf("%.2f allocations per frame, want 1", perFrame)
	}
}

func TestParseKeyBytes(t *testing.T) {
	// Every byte value at every position of a 16-byte key (the parser tests
	// key bytes 8 at a time, then one by one).
	for c := 0; c < 256; c++ {
		valid := c > 0x20 && c < 0x7f && c != ':'
		for pos := 0; pos < 17; pos++ {
			key := []byte("ABCDEFGHIJKLMNOP")
			if pos < len(key) {
				key[pos] = byte(c)
			} else {
				key = append(key, byte(c))
			}
			if c == '\n' {
				continue // a line break, not a key byte
			}
			in := "Event: A\r\n" + string(key) + ": v\r\n\r\n"
			items := parseAll(t, amiproto.Limits{}, []byte(in))
			if len(items) != 1 {
				t.Fatalf("byte %#x at %d: %d items", c, pos, len(items))
			}
			colonAt := c == ':' && pos > 0
			ok := items[0].err == nil
			if ok != (valid || colonAt) {
				t.Fatalf("byte %#x at %d: accepted=%v: %s", c, pos, ok, summary(items[0]))
			}
		}
	}
}
