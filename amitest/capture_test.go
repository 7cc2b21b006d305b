package amitest_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/apntalk/ami/amiproto"
	"github.com/apntalk/ami/amitest"
)

const captureDir = "../../shared/captures"

func readCapture(t *testing.T, name string) (sent, got []byte) {
	t.Helper()
	dir := captureDir
	if d := os.Getenv("AMI_CAPTURES"); d != "" {
		dir = d
	}
	sent, err := os.ReadFile(filepath.Join(dir, name+".sent.txt"))
	if err != nil {
		t.Skipf("capture %s not available: %v", name, err)
	}
	got, err = os.ReadFile(filepath.Join(dir, name+".txt"))
	if err != nil {
		t.Skipf("capture %s not available: %v", name, err)
	}
	return sent, got
}

// parseAll parses a whole stream.
func parseAll(t *testing.T, b []byte) []*amiproto.Message {
	t.Helper()
	p, err := amiproto.NewParser(amiproto.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Write(b); err != nil {
		t.Fatal(err)
	}
	var out []*amiproto.Message
	for {
		m, err := p.Next()
		if err != nil {
			t.Fatalf("parse capture: %v", err)
		}
		if m == nil {
			return out
		}
		out = append(out, m.Clone())
	}
}

var (
	hexRun   = regexp.MustCompile(`0x[0-9a-f]+`)
	digitRun = regexp.MustCompile(`[0-9]+`)
)

// volatileKeys differ legitimately between the real PBX and the fake.
var volatileKeys = map[string]bool{"asteriskversion": true}

// normalize renders a message with numbers (ids, times, ports) blurred.
func normalize(m *amiproto.Message) string {
	var b strings.Builder
	fmt.Fprintf(&b, "[%v]", m.Kind)
	if m.Kind == amiproto.KindBanner {
		b.WriteString(m.Banner)
	}
	for _, h := range m.Headers {
		v := h.Value
		if volatileKeys[strings.ToLower(h.Key)] {
			v = "*"
		}
		v = digitRun.ReplaceAllString(hexRun.ReplaceAllString(v, "0x#"), "#")
		fmt.Fprintf(&b, "\n%s: %s", h.Key, v)
	}
	for _, o := range m.Output {
		fmt.Fprintf(&b, "\n> %s", o)
	}
	return b.String()
}

// TestCaptureReplay replays what a client sent to a real Asterisk and
// compares the fake's answer, frame by frame and header by header, with
// what Asterisk answered (numbers blurred).
func TestCaptureReplay(t *testing.T) {
	cases := []struct {
		name   string
		closed bool // the server closes the connection at the end
	}{
		{"login_success", false},
		{"login_failure", true},
		{"login_unknown_user", true},
		{"unauthenticated_action", false},
		{"ping", false},
		{"misc_errors_logoff", true},
		{"coreshowchannels_empty", false},
		{"originate_async", false},
		{"originate_sync", false},
		{"originate_sync_failure", false},
		{"originate_failure", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sent, want := readCapture(t, tc.name)
			s := amitest.NewServer(t, amitest.Options{})
			c := dial(t, s)
			wantMsgs := parseAll(t, want)
			var got []*amiproto.Message
			readUpTo := func(n int) {
				for len(got) < n {
					m, err := c.tryNext(waitTimeout)
					if err != nil {
						t.Fatalf("after %d of %d frames: %v", len(got), len(wantMsgs), err)
					}
					got = append(got, m)
				}
			}
			// Send the actions one by one, as the capture client did: each
			// once every frame Asterisk wrote before its response was read.
			for _, frame := range splitFrames(sent) {
				if id := parseAll(t, frame)[0].ActionID(); id != "" {
					readUpTo(responseIndex(wantMsgs, len(got), id))
				}
				c.send(string(frame))
			}
			readUpTo(len(wantMsgs))
			for i := range wantMsgs {
				if g, w := normalize(got[i]), normalize(wantMsgs[i]); g != w {
					t.Fatalf("frame %d differs:\n--- got\n%s\n--- want\n%s", i, g, w)
				}
			}
			if tc.closed {
				c.expectClosed()
			} else if m, err := c.tryNext(100 * time.Millisecond); err == nil {
				t.Fatalf("extra frame: %v", m.Headers)
			}
		})
	}
}

// TestCaptureExactBytes checks byte-exact answers where nothing varies.
func TestCaptureExactBytes(t *testing.T) {
	for _, name := range []string{"login_failure", "login_unknown_user", "unauthenticated_action", "coreshowchannels_empty"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			sent, want := readCapture(t, name)
			s := amitest.NewServer(t, amitest.Options{})
			c := dial(t, s)
			c.send(string(sent))
			var got []byte
			c.nc.SetReadDeadline(time.Now().Add(waitTimeout))
			buf := make([]byte, 4096)
			for len(got) < len(want) {
				n, err := c.nc.Read(buf)
				got = append(got, buf[:n]...)
				if err != nil {
					break
				}
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("got\n%q\nwant\n%q", got, want)
			}
			if conns := s.Conns(); len(conns) != 1 || !bytes.Equal(conns[0].Received(), sent) {
				t.Fatalf("Received() differs from the bytes sent")
			}
		})
	}
}

// splitFrames splits a client stream into its frames.
func splitFrames(b []byte) [][]byte {
	var out [][]byte
	for len(b) > 0 {
		i := bytes.Index(b, []byte("\r\n\r\n"))
		if i < 0 {
			return append(out, b)
		}
		out = append(out, b[:i+4])
		b = b[i+4:]
	}
	return out
}

// responseIndex returns the index of the response with ActionID id at or
// after from (len(ms) if none).
func responseIndex(ms []*amiproto.Message, from int, id string) int {
	for i := from; i < len(ms); i++ {
		if ms[i].Kind != amiproto.KindEvent && ms[i].ActionID() == id {
			return i
		}
	}
	return from
}
