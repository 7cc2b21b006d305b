package amiproto_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/apntalk/ami/amiproto"
)

func TestAppendAction(t *testing.T) {
	b, err := amiproto.AppendAction([]byte("prefix"), "Originate", "pbx1:1:7", []amiproto.Header{
		{Key: "Channel", Value: "Local/short@test"},
		{Key: "Variable", Value: "A=1"},
		{Key: "Variable", Value: "B="},
		{Key: "Empty", Value: ""},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := "prefixAction: Originate\r\nActionID: pbx1:1:7\r\nChannel: Local/short@test\r\nVariable: A=1\r\nVariable: B=\r\nEmpty: \r\n\r\n"
	if string(b) != want {
		t.Fatalf("got %q", b)
	}
	b, err = amiproto.AppendAction(nil, "Ping", "", nil)
	if err != nil || string(b) != "Action: Ping\r\n\r\n" {
		t.Fatalf("Ping = %q, %v", b, err)
	}
}

func TestAppendFrame(t *testing.T) {
	b, err := amiproto.AppendFrame(nil, []amiproto.Header{{Key: "Response", Value: "Success"}, {Key: "Ping", Value: "Pong"}})
	if err != nil || string(b) != "Response: Success\r\nPing: Pong\r\n\r\n" {
		t.Fatalf("got %q, %v", b, err)
	}
	// Frames are not bound by the action limits: a Command reply may be long.
	hs := []amiproto.Header{{Key: "Response", Value: "Success"}}
	for i := 0; i < 500; i++ {
		hs = append(hs, amiproto.Header{Key: "Output", Value: strings.Repeat("x", 2000)})
	}
	if _, err := amiproto.AppendFrame(nil, hs); err != nil {
		t.Fatalf("long frame refused: %v", err)
	}
	if _, err := amiproto.AppendFrame(nil, nil); !errors.Is(err, amiproto.ErrInvalidHeader) {
		t.Fatalf("empty frame: %v", err)
	}
}

func TestEncodeRefusals(t *testing.T) {
	const secret = "s3cr3t-value"
	long := strings.Repeat("v", amiproto.MaxLineLength)
	many := make([]amiproto.Header, amiproto.MaxHeaders-1)
	for i := range many {
		many[i] = amiproto.Header{Key: fmt.Sprintf("H%d", i), Value: "x"}
	}
	cases := []struct {
		name     string
		action   string
		id       string
		headers  []amiproto.Header
		sentinel error
		key      string
		index    int
	}{
		{"CR in value", "Login", "", []amiproto.Header{{Key: "Secret", Value: secret + "\rAction: Originate"}}, amiproto.ErrInvalidHeader, "Secret", 0},
		{"LF in value", "Login", "", []amiproto.Header{{Key: "Username", Value: "a"}, {Key: "Secret", Value: secret + "\nX: y"}}, amiproto.ErrInvalidHeader, "Secret", 1},
		{"NUL in value", "Login", "", []amiproto.Header{{Key: "Secret", Value: secret + "\x00"}}, amiproto.ErrInvalidHeader, "Secret", 0},
		{"CRLF in action name", "Ping\r\nAction: Originate", "", nil, amiproto.ErrInvalidHeader, "Action", -1},
		{"LF in action id", "Ping", "id\n", nil, amiproto.ErrInvalidHeader, "ActionID", -1},
		{"empty action name", "", "", nil, amiproto.ErrInvalidHeader, "Action", -1},
		{"colon in key", "Ping", "", []amiproto.Header{{Key: "A:B", Value: "x"}}, amiproto.ErrInvalidHeader, "A:B", 0},
		{"space in key", "Ping", "", []amiproto.Header{{Key: "A B", Value: "x"}}, amiproto.ErrInvalidHeader, "A B", 0},
		{"tab in key", "Ping", "", []amiproto.Header{{Key: "A\tB", Value: "x"}}, amiproto.ErrInvalidHeader, "A\tB", 0},
		{"CR in key", "Ping", "", []amiproto.Header{{Key: "A\r", Value: "x"}}, amiproto.ErrInvalidHeader, "A\r", 0},
		{"LF in key", "Ping", "", []amiproto.Header{{Key: "A\nB", Value: "x"}}, amiproto.ErrInvalidHeader, "A\nB", 0},
		{"NUL in key", "Ping", "", []amiproto.Header{{Key: "A\x00", Value: "x"}}, amiproto.ErrInvalidHeader, "A\x00", 0},
		{"empty key", "Ping", "", []amiproto.Header{{Key: "", Value: "x"}}, amiproto.ErrInvalidHeader, "", 0},
		{"non-ASCII key", "Ping", "", []amiproto.Header{{Key: "Clé", Value: "x"}}, amiproto.ErrInvalidHeader, "Clé", 0},
		{"line too long", "Ping", "", []amiproto.Header{{Key: "Data", Value: secret + long}}, amiproto.ErrLineTooLong, "Data", 0},
		{"too many headers", "Ping", "id", append(many, amiproto.Header{Key: "Last", Value: "x"}), amiproto.ErrTooManyHeaders, "", -1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dst := []byte("keep")
			out, err := amiproto.AppendAction(dst, tc.action, tc.id, tc.headers)
			var ee *amiproto.EncodeError
			if !errors.As(err, &ee) || !errors.Is(err, tc.sentinel) {
				t.Fatalf("err = %v, want %v", err, tc.sentinel)
			}
			if ee.Key != tc.key || ee.Index != tc.index {
				t.Fatalf("got key %q index %d, want %q %d", ee.Key, ee.Index, tc.key, tc.index)
			}
			if string(out) != "keep" || len(out) != 4 {
				t.Fatalf("dst changed: %q", out)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "ami: ") || strings.Contains(msg, secret) || strings.Contains(msg, "vvvv") {
				t.Fatalf("error text %q", msg)
			}
			if strings.ContainsAny(msg, "\r\n\x00") {
				t.Fatalf("error text has control bytes: %q", msg)
			}
		})
	}
	// Same refusals in AppendFrame, except the action limits.
	if _, err := amiproto.AppendFrame(nil, []amiproto.Header{{Key: "Event", Value: "X\r\nInjected: 1"}}); !errors.Is(err, amiproto.ErrInvalidHeader) {
		t.Fatalf("AppendFrame accepted CRLF: %v", err)
	}
	if _, err := amiproto.AppendFrame(nil, []amiproto.Header{{Key: "Bad Key", Value: "x"}}); !errors.Is(err, amiproto.ErrInvalidHeader) {
		t.Fatalf("AppendFrame accepted a bad key: %v", err)
	}
}

func TestEncodeLimitsEdges(t *testing.T) {
	// A line of exactly MaxLineLength bytes is accepted.
	v := strings.Repeat("v", amiproto.MaxLineLength-len("Data: \r\n"))
	if _, err := amiproto.AppendAction(nil, "Ping", "", []amiproto.Header{{Key: "Data", Value: v}}); err != nil {
		t.Fatalf("line of %d bytes: %v", amiproto.MaxLineLength, err)
	}
	if _, err := amiproto.AppendAction(nil, "Ping", "", []amiproto.Header{{Key: "Data", Value: v + "v"}}); !errors.Is(err, amiproto.ErrLineTooLong) {
		t.Fatalf("line of %d bytes: %v", amiproto.MaxLineLength+1, err)
	}
	// MaxHeaders lines, the Action and ActionID lines included.
	hs := make([]amiproto.Header, amiproto.MaxHeaders-2)
	for i := range hs {
		hs[i] = amiproto.Header{Key: "Variable", Value: fmt.Sprintf("V%d=1", i)}
	}
	if _, err := amiproto.AppendAction(nil, "Originate", "id", hs); err != nil {
		t.Fatalf("%d lines: %v", amiproto.MaxHeaders, err)
	}
	if _, err := amiproto.AppendAction(nil, "Originate", "id", append(hs, amiproto.Header{Key: "X", Value: "1"})); !errors.Is(err, amiproto.ErrTooManyHeaders) {
		t.Fatalf("%d lines: %v", amiproto.MaxHeaders+1, err)
	}
	if _, err := amiproto.AppendAction(nil, "Originate", "", append(hs, amiproto.Header{Key: "X", Value: "1"})); err != nil {
		t.Fatalf("%d lines without ActionID: %v", amiproto.MaxHeaders, err)
	}
}

func TestValidKey(t *testing.T) {
	for _, k := range []string{"Action", "ActionID", "Cause-txt", "X_Y.Z", "a!~"} {
		if !amiproto.ValidKey(k) {
			t.Errorf("ValidKey(%q) = false", k)
		}
	}
	for _, k := range []string{"", "A B", "A:B", ":", "A\t", "A\r", "A\n", "A\x00", "A\x7f", "é", " A"} {
		if amiproto.ValidKey(k) {
			t.Errorf("ValidKey(%q) = true", k)
		}
	}
}

func TestEncodeRoundTrip(t *testing.T) {
	headers := []amiproto.Header{
		{Key: "Channel", Value: "PJSIP/trunk/0033612345678"},
		{Key: "Variable", Value: "A=1"},
		{Key: "variable", Value: "B=2"},
		{Key: "Data", Value: " leading space and: colon  "},
		{Key: "Empty", Value: ""},
		{Key: "Response", Value: "Follows"}, // not the kind header: harmless
		{Key: "Tab", Value: "a\tb"},
	}
	var stream []byte
	stream, err := amiproto.AppendAction(stream, "Originate", "pbx1:1:1", headers)
	if err != nil {
		t.Fatal(err)
	}
	stream, err = amiproto.AppendFrame(stream, []amiproto.Header{{Key: "Event", Value: "Hangup"}, {Key: "Cause", Value: "16"}})
	if err != nil {
		t.Fatal(err)
	}
	ms := messages(t, parseAll(t, amiproto.Limits{}, stream))
	if len(ms) != 2 {
		t.Fatalf("%d messages", len(ms))
	}
	a := ms[0]
	if a.Kind != amiproto.KindAction || a.Name() != "Originate" || a.ActionID() != "pbx1:1:1" {
		t.Fatalf("action %s", msgString(a))
	}
	want := append([]amiproto.Header{{Key: "Action", Value: "Originate"}, {Key: "ActionID", Value: "pbx1:1:1"}}, headers...)
	if fmt.Sprint(a.Headers) != fmt.Sprint(want) {
		t.Fatalf("round trip:\n got %q\nwant %q", a.Headers, want)
	}
	if ms[1].Kind != amiproto.KindEvent || ms[1].Get("cause") != "16" {
		t.Fatalf("frame %s", msgString(ms[1]))
	}
}

func TestAppendActionAllocs(t *testing.T) {
	headers := []amiproto.Header{{Key: "Channel", Value: "Local/1@test"}, {Key: "Exten", Value: "100"}}
	buf := make([]byte, 0, 512)
	allocs := testing.AllocsPerRun(100, func() {
		buf, _ = amiproto.AppendAction(buf[:0], "Originate", "id-1", headers)
	})
	if allocs != 0 {
		t.Fatalf("AppendAction allocates %.1f times with a large enough dst", allocs)
	}
}
