package amiproto_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/apntalk/ami/amiproto"
	"github.com/apntalk/ami/internal/eventmix"
)

// hostileStream mixes valid frames of every kind with every kind of bad
// input, sized for the smallest limits.
func hostileStream() []byte {
	var sb strings.Builder
	sb.WriteString("Asterisk Call Manager/13.0.0\r\n")
	sb.Write(eventmix.Stream(12))
	sb.WriteString("Response: Follows\r\nPrivilege: Command\r\nActionID: f1\r\nline: one\n\nline three\n--END COMMAND--\r\n\r\n")
	sb.WriteString("garbage\r\n\x00\x01\x02\n\n")
	sb.WriteString("Event: Half\r\nActionID: h1\r\nbroken line\r\n")
	sb.WriteString("Event: Big\r\nActionID: big\r\n")
	for i := 0; i < 2000; i++ {
		fmt.Fprintf(&sb, "Filler%d: %s\r\n", i, strings.Repeat("f", 30))
	}
	sb.WriteString("\r\n")
	sb.WriteString("Response: Success\r\nActionID: out\r\n")
	for i := 0; i < 40; i++ {
		fmt.Fprintf(&sb, "Output: %s\r\n", strings.Repeat("o", 40))
	}
	sb.WriteString("\r\n")
	sb.WriteString("Response: Follows\r\nActionID: f2\r\n")
	for i := 0; i < 60; i++ {
		fmt.Fprintf(&sb, "raw %s\n", strings.Repeat("r", 40))
	}
	sb.WriteString("--END COMMAND--\r\n\r\n")
	sb.WriteString("Event: Long\r\nData: " + strings.Repeat("L", 70000) + "\r\n\r")
	sb.WriteString("\nEvent: Last\n\n")
	sb.Write(eventmix.Stream(7))
	return []byte(sb.String())
}

func TestChunkingEquivalence(t *testing.T) {
	small := amiproto.Limits{MaxFrameSize: amiproto.MinMaxFrameSize, MaxBufferSize: amiproto.MinMaxFrameSize, MaxOutputSize: amiproto.MinMaxOutputSize}
	streams := []struct {
		name string
		data []byte
		lim  amiproto.Limits
	}{
		{"eventmix", eventmix.Stream(300), amiproto.Limits{}},
		{"hostile small limits", hostileStream(), small},
		{"hostile default limits", hostileStream(), amiproto.Limits{}},
	}
	for _, s := range streams {
		t.Run(s.name, func(t *testing.T) {
			oneShot := parseAll(t, s.lim, s.data)
			sameItems(t, "byte by byte", parseBytewise(t, s.lim, s.data), oneShot)
			for seed := uint64(1); seed <= 20; seed++ {
				maxChunk := []int{2, 16, 300, 5000, 70000}[seed%5]
				sameItems(t, fmt.Sprintf("seed %d max %d", seed, maxChunk), parseRandom(t, s.lim, s.data, seed, maxChunk), oneShot)
			}
		})
	}
	// The hostile stream must give the expected sequence with small limits.
	got := summaries(parseAll(t, small, hostileStream()))
	var kinds []string
	for _, g := range got {
		if strings.HasPrefix(g, "ERR ") {
			kinds = append(kinds, strings.Join(strings.Fields(g)[:3], " "))
		} else {
			kinds = append(kinds, strings.Fields(g)[0])
		}
	}
	want := []string{"Banner"}
	for range 12 {
		want = append(want, "Event")
	}
	want = append(want, "Follows", "ERR desync id=", "ERR desync id=h1", "ERR toolarge id=big", "ERR output id=out",
		"ERR output id=f2", "ERR toolarge id=", "Event")
	for range 7 {
		want = append(want, "Event")
	}
	if strings.Join(kinds, ",") != strings.Join(want, ",") {
		t.Fatalf("hostile stream:\n got %q\nwant %q", kinds, want)
	}
}
