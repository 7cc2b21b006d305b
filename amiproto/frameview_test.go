package amiproto_test

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/apntalk/ami/amiproto"
	"github.com/apntalk/ami/internal/eventmix"
)

// frameItems parses data with NextFrame in random chunks and returns every
// message materialised (Frame.Message) plus error texts, in order.
func frameItems(t *testing.T, data []byte, seed uint64) []string {
	t.Helper()
	p, err := amiproto.NewParser(amiproto.Limits{MaxFrameSize: 64 << 10})
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(seed, 1))
	var out []string
	for len(data) > 0 {
		n, _ := p.Write(data[:min(len(data), 1+r.IntN(300))])
		data = data[n:]
		for {
			f, err := p.NextFrame()
			if err != nil {
				out = append(out, "error: "+err.Error())
				continue
			}
			if f == nil {
				break
			}
			out = append(out, frameString(f.Message()))
		}
	}
	return out
}

func msgItems(t *testing.T, data []byte) []string {
	t.Helper()
	p, err := amiproto.NewParser(amiproto.Limits{MaxFrameSize: 64 << 10})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	if _, err := p.Write(data); err != nil {
		t.Fatal(err)
	}
	for {
		m, err := p.Next()
		if err != nil {
			out = append(out, "error: "+err.Error())
			continue
		}
		if m == nil {
			return out
		}
		out = append(out, frameString(m))
	}
}

func frameString(m *amiproto.Message) string {
	s := m.Kind.String() + "|" + m.Banner
	for _, h := range m.Headers {
		s += "|" + h.Key + "=" + h.Value
	}
	for _, o := range m.Output {
		s += "|out:" + o
	}
	return s
}

// NextFrame yields exactly what Next yields, for every capture, the event
// mix and a hostile stream, whatever the chunking.
func TestNextFrameMatchesNext(t *testing.T) {
	streams := map[string][]byte{"eventmix": eventmix.Stream(300)}
	for _, name := range captureFiles(t) {
		streams[name] = readCapture(t, name)
	}
	streams["hostile"] = []byte("Asterisk Call Manager/13.0.0\r\nResponse: Follows\r\nActionID: f\r\nline: x\n\nmore\n--END COMMAND--\r\n\r\n" +
		"garbage\x00\r\nEvent: A\r\nKey:v\r\n\r\nno colon here\r\nResponse: Success\r\nActionID: 1\r\n\r\n")
	for name, data := range streams {
		want := msgItems(t, data)
		if len(want) == 0 {
			t.Fatalf("%s: nothing parsed", name)
		}
		for seed := range uint64(5) {
			if got := frameItems(t, data, seed); !slices.Equal(got, want) {
				t.Fatalf("%s seed %d: NextFrame differs from Next\ngot  %q\nwant %q", name, seed, got, want)
			}
		}
	}
}

func TestFrameAccessors(t *testing.T) {
	f := amiproto.FrameOf(amiproto.KindEvent, []amiproto.Header{
		{Key: "Event", Value: "VarSet"}, {Key: "Variable", Value: "a=1"}, {Key: "variable", Value: "b=2"}, {Key: "Empty", Value: ""},
	})
	if f.Len() != 4 || f.Name() != "VarSet" || f.Get("EVENT") != "VarSet" || f.Key(2) != "variable" || f.Value(1) != "a=1" {
		t.Fatalf("accessors: %+v", f.Message())
	}
	if v, ok := f.Lookup("empty"); !ok || v != "" {
		t.Fatal("empty value not found")
	}
	if _, ok := f.Lookup("Missing"); ok {
		t.Fatal("missing key found")
	}
	if got := f.Values("VARIABLE"); !slices.Equal(got, []string{"a=1", "b=2"}) {
		t.Fatalf("Values: %q", got)
	}
	var keys []string
	for k := range f.All() {
		keys = append(keys, k)
		if k == "Variable" {
			break
		}
	}
	if !slices.Equal(keys, []string{"Event", "Variable"}) {
		t.Fatalf("All with break: %q", keys)
	}
	if h := f.Header(3); h.Key != "Empty" || h.Value != "" {
		t.Fatalf("Header(3) = %+v", h)
	}
}

// A cloned Frame survives the parser moving on.
func TestFrameCloneIndependent(t *testing.T) {
	p, _ := amiproto.NewParser(amiproto.Limits{})
	_, _ = p.Write([]byte("Event: One\r\nA: 1\r\n\r\nEvent: Two\r\nB: 2\r\nC: 3\r\n\r\n"))
	f, _ := p.NextFrame()
	keep := f.Clone()
	if f2, _ := p.NextFrame(); f2 == nil || f2.Name() != "Two" {
		t.Fatal("second frame")
	}
	if keep.Name() != "One" || keep.Get("A") != "1" || keep.Len() != 2 {
		t.Fatalf("clone changed: %+v", keep.Message())
	}
}

// NextFrame allocates one string per frame and nothing per header.
func TestNextFrameAllocs(t *testing.T) {
	stream := eventmix.Stream(100)
	p, _ := amiproto.NewParser(amiproto.Limits{})
	allocs := testing.AllocsPerRun(20, func() {
		_, _ = p.Write(stream)
		for {
			f, err := p.NextFrame()
			if err != nil {
				t.Fatal(err)
			}
			if f == nil {
				return
			}
		}
	})
	if allocs > 100 { // 100 frames: one string each
		t.Fatalf("%v allocations for 100 frames", allocs)
	}
}
