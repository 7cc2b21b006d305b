package eventmix_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/apntalk/ami/internal/eventmix"
)

// frames splits a stream on the CRLF frame delimiter.
func frames(t *testing.T, b []byte) []string {
	t.Helper()
	s := string(b)
	if !strings.HasSuffix(s, "\r\n\r\n") {
		t.Fatalf("stream does not end with a blank line")
	}
	return strings.Split(strings.TrimSuffix(s, "\r\n\r\n"), "\r\n\r\n")
}

func TestAverageSize(t *testing.T) {
	const n = 6000
	stream := eventmix.Stream(n)
	fs := frames(t, stream)
	if len(fs) != n {
		t.Fatalf("got %d frames, want %d", len(fs), n)
	}
	headers := 0
	for _, f := range fs {
		headers += strings.Count(f, "\r\n") + 1
	}
	avgHeaders := float64(headers) / n
	avgBytes := float64(len(stream)) / n
	t.Logf("average: %.2f headers, %.1f bytes per event", avgHeaders, avgBytes)
	if avgHeaders < 17 || avgHeaders > 21 {
		t.Errorf("average headers = %.2f, want 17..21", avgHeaders)
	}
	if avgBytes < 380 || avgBytes > 480 {
		t.Errorf("average bytes = %.1f, want 380..480", avgBytes)
	}
}

func TestWellFormed(t *testing.T) {
	for i := 0; i < 240; i++ {
		b := eventmix.Append(nil, i)
		fs := frames(t, b)
		if len(fs) != 1 {
			t.Fatalf("event %d: %d frames", i, len(fs))
		}
		if bytes.Count(b, []byte("\n")) != bytes.Count(b, []byte("\r\n")) {
			t.Fatalf("event %d has a bare LF", i)
		}
		lines := strings.Split(fs[0], "\r\n")
		want := "Event: " + eventmix.Names[i%len(eventmix.Names)]
		if lines[0] != want {
			t.Fatalf("event %d: first line %q, want %q", i, lines[0], want)
		}
		seen := map[string]bool{}
		for _, l := range lines {
			k, _, ok := strings.Cut(l, ": ")
			if !ok || k == "" || strings.ContainsAny(k, " \t:") {
				t.Fatalf("event %d: malformed line %q", i, l)
			}
			if seen[k] {
				t.Fatalf("event %d: duplicate key %q", i, k)
			}
			seen[k] = true
		}
		for _, k := range []string{"Privilege", "Uniqueid", "Linkedid", "Exten", "Context"} {
			if !seen[k] && !seen["Dest"+k] {
				t.Fatalf("event %d: missing %s in %q", i, k, fs[0])
			}
		}
	}
}

func TestDeterministic(t *testing.T) {
	a := eventmix.Stream(100)
	b := eventmix.Stream(100)
	if !bytes.Equal(a, b) {
		t.Fatal("Stream is not deterministic")
	}
	var c []byte
	for i := 0; i < 100; i++ {
		c = eventmix.Append(c, i)
	}
	if !bytes.Equal(a, c) {
		t.Fatal("Stream differs from repeated Append")
	}
	if !bytes.Equal(eventmix.Append([]byte("x"), 3)[1:], eventmix.Append(nil, 3)) {
		t.Fatal("Append does not append")
	}
	if eventmix.Stream(0) != nil {
		t.Fatal("Stream(0) should be nil")
	}
}

func TestEventSpecificHeaders(t *testing.T) {
	cases := map[int][]string{
		2: {"Variable: ", "Value: "},
		3: {"DestChannel: ", "DialString: "},
		4: {"DestChannel: ", "DialStatus: ANSWER"},
		5: {"Cause: 16", "Cause-txt: "},
		9: {"\r\nChannel: PJSIP/agent-", "DestChannel: "}, // bridged call: caller snapshot
	}
	for i, wants := range cases {
		s := string(eventmix.Append(nil, i))
		for _, w := range wants {
			if !strings.Contains(s, w) {
				t.Errorf("event %d lacks %q:\n%s", i, w, s)
			}
		}
	}
}
