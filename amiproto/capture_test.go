package amiproto_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/apntalk/ami/amiproto"
)

// captureFiles lists the transcripts (*.txt, README excluded).
func captureFiles(t testing.TB) []string {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(captureDir(t), "*.txt"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, n := range names {
		out = append(out, filepath.Base(n))
	}
	if len(out) < 30 {
		t.Fatalf("only %d capture files", len(out))
	}
	return out
}

// parseCapture parses a capture in one piece and checks that byte-by-byte
// and random chunking give the same result and that nothing was discarded.
func parseCapture(t *testing.T, name string) []*amiproto.Message {
	t.Helper()
	data := readCapture(t, name)
	p := newParser(t, amiproto.Limits{})
	items := feed(t, p, data, func() int { return len(data) })
	st := p.Stats()
	if st.Desyncs != 0 || st.Oversized != 0 || st.OutputTooLarge != 0 || st.DiscardedBytes != 0 {
		t.Fatalf("%s: stats %+v", name, st)
	}
	if p.Buffered() != 0 {
		t.Fatalf("%s: %d bytes left over", name, p.Buffered())
	}
	if st.Bytes != uint64(len(data)) || st.Frames != uint64(len(items)) {
		t.Fatalf("%s: stats %+v for %d bytes, %d messages", name, st, len(data), len(items))
	}
	sameItems(t, name+" byte by byte", parseBytewise(t, amiproto.Limits{}, data), items)
	for seed := uint64(1); seed <= 3; seed++ {
		sameItems(t, name+" random chunks", parseRandom(t, amiproto.Limits{}, data, seed, 97), items)
	}
	return messages(t, items)
}

func TestCapturesAll(t *testing.T) {
	for _, name := range captureFiles(t) {
		t.Run(name, func(t *testing.T) {
			ms := parseCapture(t, name)
			if len(ms) == 0 {
				t.Fatal("no message")
			}
			sent := strings.HasSuffix(name, ".sent.txt")
			for i, m := range ms {
				switch {
				case sent:
					if m.Kind != amiproto.KindAction && !(name == "misc_errors_logoff.sent.txt" && m.ActionID() == "noaction-1") {
						t.Errorf("message %d: %s, want an action", i, msgString(m))
					}
				case i == 0:
					if m.Kind != amiproto.KindBanner || m.Name() != "13.0.0" {
						t.Errorf("first message %s, want the banner", msgString(m))
					}
				default:
					if m.Kind != amiproto.KindResponse && m.Kind != amiproto.KindEvent {
						t.Errorf("message %d: %s", i, msgString(m))
					}
					if m.Name() == "" {
						t.Errorf("message %d has no name: %s", i, msgString(m))
					}
				}
				for _, h := range m.Headers {
					if !amiproto.ValidKey(h.Key) || strings.ContainsAny(h.Value, "\r\n") {
						t.Errorf("message %d: bad header %q", i, h)
					}
				}
			}
			// The frames delimited by "\r\n\r\n" are exactly the messages.
			data := string(readCapture(t, name))
			frames := strings.Count(data, "\r\n\r\n")
			if !sent {
				frames++ // the banner line
			}
			if frames != len(ms) {
				t.Errorf("%d messages, %d frames in the file", len(ms), frames)
			}
		})
	}
}

func byActionID(ms []*amiproto.Message, id string) []*amiproto.Message {
	var out []*amiproto.Message
	for _, m := range ms {
		if m.ActionID() == id {
			out = append(out, m)
		}
	}
	return out
}

func TestCaptureCommand(t *testing.T) {
	ms := parseCapture(t, "command.txt")
	if ms[0].Kind != amiproto.KindBanner || ms[0].Banner != "Asterisk Call Manager/13.0.0" || ms[0].Name() != "13.0.0" {
		t.Fatalf("banner %s", msgString(ms[0]))
	}
	login := ms[1]
	if login.Kind != amiproto.KindResponse || login.Name() != "Success" || login.ActionID() != "login-1" ||
		login.Get("Message") != "Authentication accepted" {
		t.Fatalf("login %s", msgString(login))
	}
	cmd4 := byActionID(ms, "cmd-4")
	if len(cmd4) != 1 {
		t.Fatalf("cmd-4: %d messages", len(cmd4))
	}
	want := []string{"", "username", "--------", "admin", "limited", "-------------------", "2 manager users configured."}
	if got := cmd4[0].Values("Output"); !slices.Equal(got, want) {
		t.Fatalf("cmd-4 Output = %q", got)
	}
	cmd3 := byActionID(ms, "cmd-3")[0]
	if cmd3.Kind != amiproto.KindResponse || cmd3.Name() != "Error" ||
		!strings.HasPrefix(cmd3.Get("Output"), "No such command 'no such command here'") {
		t.Fatalf("cmd-3 %s", msgString(cmd3))
	}
	cmd5 := byActionID(ms, "cmd-5")[0].Values("output")
	if len(cmd5) != 6 || !strings.HasPrefix(cmd5[1], "  'short' =>") || cmd5[4] != "" {
		t.Fatalf("cmd-5 output %q", cmd5)
	}
	sent := parseCapture(t, "command.sent.txt")
	if len(sent) != 6 || sent[4].Name() != "Command" || sent[4].Get("Command") != "manager show users" {
		t.Fatalf("sent %d messages", len(sent))
	}
}

func TestCaptureCoreShowChannels(t *testing.T) {
	ms := byActionID(parseCapture(t, "coreshowchannels.txt"), "csc-1")
	if len(ms) != 6 {
		t.Fatalf("%d messages for csc-1", len(ms))
	}
	if ms[0].Kind != amiproto.KindResponse || ms[0].Get("EventList") != "start" {
		t.Fatalf("start %s", msgString(ms[0]))
	}
	for _, m := range ms[1:5] {
		if m.Kind != amiproto.KindEvent || m.Name() != "CoreShowChannel" || !strings.HasPrefix(m.Get("Channel"), "Local/long@test-") {
			t.Fatalf("item %s", msgString(m))
		}
	}
	last := ms[5]
	if last.Name() != "CoreShowChannelsComplete" || last.Get("EventList") != "Complete" || last.Get("ListItems") != "4" {
		t.Fatalf("complete %s", msgString(last))
	}
	empty := byActionID(parseCapture(t, "coreshowchannels_empty.txt"), "csc-empty")
	if len(empty) != 2 || empty[1].Get("ListItems") != "0" {
		var names []string
		for _, m := range parseCapture(t, "coreshowchannels_empty.txt") {
			names = append(names, m.Name()+"/"+m.ActionID())
		}
		t.Fatalf("empty list: %q", names)
	}
}

func TestCaptureOriginate(t *testing.T) {
	ms := parseCapture(t, "originate_async.txt")
	orig := byActionID(ms, "orig-1")
	if len(orig) != 2 || orig[0].Kind != amiproto.KindResponse || orig[0].Get("Message") != "Originate successfully queued" {
		t.Fatalf("orig-1: %d messages", len(orig))
	}
	ev := orig[1]
	if ev.Kind != amiproto.KindEvent || ev.Name() != "OriginateResponse" || ev.Get("Response") != "Success" {
		t.Fatalf("OriginateResponse %s", msgString(ev))
	}
	hangups := 0
	for _, m := range ms {
		if m.Kind == amiproto.KindEvent && m.Name() == "Hangup" {
			hangups++
			if m.Get("Cause-txt") == "" || m.Get("Uniqueid") == "" {
				t.Fatalf("hangup %s", msgString(m))
			}
		}
	}
	if hangups != 2 {
		t.Fatalf("%d hangups", hangups)
	}
	fail := parseCapture(t, "originate_failure.txt")
	for _, id := range []string{"orig-bad", "orig-badtech"} {
		var found bool
		for _, m := range byActionID(fail, id) {
			if m.Kind == amiproto.KindEvent && m.Name() == "OriginateResponse" && m.Get("Response") == "Failure" {
				found = true
			}
		}
		if !found {
			t.Fatalf("no failed OriginateResponse for %s", id)
		}
	}
}

func TestCaptureMiscAndLogin(t *testing.T) {
	sent := parseCapture(t, "misc_errors_logoff.sent.txt")
	noaction := byActionID(sent, "noaction-1")
	if len(noaction) != 1 || noaction[0].Kind != amiproto.KindUnknown || noaction[0].Get("Foo") != "bar" {
		t.Fatalf("noaction-1 %v", noaction)
	}
	ms := parseCapture(t, "misc_errors_logoff.txt")
	last := ms[len(ms)-1]
	if last.Name() != "Goodbye" || last.ActionID() != "bye-1" {
		t.Fatalf("last %s", msgString(last))
	}
	cset := byActionID(ms, "cset-1")[0]
	if v, ok := cset.Lookup("SystemName"); !ok || v != "" {
		t.Fatal("empty SystemName value")
	}
	fail := parseCapture(t, "login_failure.txt")
	if len(fail) != 2 || fail[1].Name() != "Error" || fail[1].Get("Message") != "Authentication failed" {
		t.Fatalf("login failure %v", len(fail))
	}
	md5 := parseCapture(t, "login_md5_challenge.txt")
	if byActionID(md5, "ch-1")[0].Get("Challenge") == "" {
		t.Fatal("no challenge")
	}
	md5sent := parseCapture(t, "login_md5_challenge.sent.txt")
	if len(md5sent) != 3 || md5sent[1].Get("AuthType") != "MD5" || md5sent[1].Get("Key") == "" {
		t.Fatal("md5 login action")
	}
	burst := parseCapture(t, "userevent_burst5.txt")
	users := 0
	for _, m := range burst {
		if m.Name() == "UserEvent" {
			users++
		}
	}
	if users != 5 {
		t.Fatalf("%d UserEvents", users)
	}
}

func TestCaptureTestdataMatchesShared(t *testing.T) {
	shared := filepath.Join("..", "..", "shared", "captures")
	if _, err := os.Stat(shared); err != nil {
		t.Skip("shared captures not present")
	}
	for _, name := range captureFiles(t) {
		a, err1 := os.ReadFile(filepath.Join("testdata", "captures", name))
		b, err2 := os.ReadFile(filepath.Join(shared, name))
		if err1 != nil || err2 != nil || string(a) != string(b) {
			t.Errorf("%s: testdata copy differs from shared/captures (%v, %v)", name, err1, err2)
		}
	}
}
