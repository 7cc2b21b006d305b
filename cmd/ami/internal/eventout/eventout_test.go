package eventout_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/apntalk/ami"
	"github.com/apntalk/ami/cmd/ami/internal/eventout"
)

var at = time.Date(2024, 5, 1, 10, 0, 0, 123456789, time.UTC)

func hangup() *ami.Event {
	return ami.NewEvent("pbx1", at, ami.Headers{
		ami.H("Event", "Hangup"), ami.H("Privilege", "call,all"), ami.H("Channel", "PJSIP/100-00000001"),
		ami.H("Variable", "a=1"), ami.H("CallerIDName", "Jos\u00e9 \"J\" <x>"), ami.H("variable", "b=2"),
		ami.H("Cause-txt", "Normal Clearing"), ami.H("Ctl", "a\x00b\tc\r\n"), ami.H("Bad", "\xff"),
	})
}

func TestAppendJSON(t *testing.T) {
	line := eventout.AppendJSON(nil, hangup())
	want := `{"server":"pbx1","event":"Hangup","received_at":"2024-05-01T10:00:00.123456789Z","headers":{` +
		`"Privilege":"call,all","Channel":"PJSIP/100-00000001","Variable":["a=1","b=2"],` +
		`"CallerIDName":"José \"J\" \u003cx\u003e","Cause-txt":"Normal Clearing","Ctl":"a\u0000b\tc\r\n","Bad":"\ufffd"}}`
	if string(line) != want {
		t.Errorf("got\n%s\nwant\n%s", line, want)
	}
	var v struct {
		Server  string         `json:"server"`
		Headers map[string]any `json:"headers"`
	}
	if err := json.Unmarshal(line, &v); err != nil {
		t.Fatal(err)
	}
	if v.Headers["CallerIDName"] != "José \"J\" <x>" || v.Headers["Ctl"] != "a\x00b\tc\r\n" {
		t.Errorf("round trip: %v", v.Headers)
	}
}

func TestAppendStringMatchesEncodingJSON(t *testing.T) {
	for _, s := range []string{"", "plain", "q\"b\\", "\x01\x1f\x7f", "<&>", "é€😀", "\u2028\u2029", "a\xffb", "\xed\xa0\x80"} {
		got := eventout.AppendString(nil, s)
		want, _ := json.Marshal(s)
		if string(got) != string(want) {
			t.Errorf("AppendString(%q) = %s, want %s", s, got, want)
		}
	}
}

func TestAppendText(t *testing.T) {
	line := string(eventout.AppendText(nil, hangup()))
	local := at.Local().Format(eventout.TextTimeLayout)
	want := local + ` pbx1 Hangup Privilege=call,all Channel=PJSIP/100-00000001 Variable=a=1 CallerIDName="José \"J\" <x>" variable=b=2 Cause-txt="Normal Clearing" Ctl="a\x00b\tc\r\n" Bad="\xff"`
	if line != want {
		t.Errorf("got\n%s\nwant\n%s", line, want)
	}
	if strings.ContainsAny(line, "\r\n") {
		t.Error("text line contains a line break")
	}
}

func TestParseFormat(t *testing.T) {
	for in, want := range map[string]eventout.Format{"json": eventout.JSON, "TEXT": eventout.Text} {
		if f, err := eventout.ParseFormat(in); err != nil || f != want || f.String() != strings.ToLower(in) {
			t.Errorf("ParseFormat(%q) = %v, %v", in, f, err)
		}
	}
	if _, err := eventout.ParseFormat("xml"); err == nil || !strings.HasPrefix(err.Error(), "ami: ") {
		t.Errorf("ParseFormat(xml) = %v", err)
	}
}

func TestAppendDoesNotAllocate(t *testing.T) {
	e := hangup()
	buf := make([]byte, 0, 4096)
	for _, f := range []eventout.Format{eventout.JSON, eventout.Text} {
		if n := testing.AllocsPerRun(100, func() { buf = f.Append(buf[:0], e) }); n > 0 {
			t.Errorf("%v: %v allocations per event", f, n)
		}
	}
}

func BenchmarkAppendJSON(b *testing.B) {
	e := hangup()
	buf := make([]byte, 0, 4096)
	b.ReportAllocs()
	for b.Loop() {
		buf = eventout.AppendJSON(buf[:0], e)
	}
}

func BenchmarkAppendText(b *testing.B) {
	e := hangup()
	buf := make([]byte, 0, 4096)
	b.ReportAllocs()
	for b.Loop() {
		buf = eventout.AppendText(buf[:0], e)
	}
}

// BenchmarkEncodingJSON is the baseline: the same line with encoding/json.
func BenchmarkEncodingJSON(b *testing.B) {
	e := hangup()
	b.ReportAllocs()
	for b.Loop() {
		headers := map[string]any{}
		for _, h := range e.Headers() {
			if h.Key == "Event" {
				continue
			}
			if prev, ok := headers[h.Key]; ok {
				switch p := prev.(type) {
				case string:
					headers[h.Key] = []string{p, h.Value}
				case []string:
					headers[h.Key] = append(p, h.Value)
				}
				continue
			}
			headers[h.Key] = h.Value
		}
		_, _ = json.Marshal(struct {
			Server     string         `json:"server"`
			Event      string         `json:"event"`
			ReceivedAt time.Time      `json:"received_at"`
			Headers    map[string]any `json:"headers"`
		}{e.Server(), e.Name(), e.ReceivedAt(), headers})
	}
}
