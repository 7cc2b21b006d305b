package amiproto_test

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/apntalk/ami/amiproto"
	"github.com/apntalk/ami/internal/eventmix"
)

// Performance notes (amiproto parser, -cpu 1, eventmix: ~19 headers and
// ~450 bytes per event). The machine these were taken on is shared and
// noisy: compare BenchmarkParseEventMixFrames with BenchmarkFramingOnly in
// the same run, over -count 3 or more, and look at medians. The full story
// is in docs/performance.md.
//
//   - Through NextFrame: ~355 ns/frame with bytes.IndexByte per line and an
//     8-bytes-at-a-time key check (framing-only ~165 ns: ratio 0.47), then
//     ~255 ns/frame (0.63) with the SSE2 bitmaps of lines_amd64.s and
//     fast paths small enough to be inlined into stepFrame. Without the
//     inlining the bitmaps bought only ~40 ns: the per-line function calls
//     ate the rest. 1 alloc/frame (the frame string), 0 per header.
//   - The first version built a fresh 512-byte window at every frame, which
//     made short frames (Ping replies, 60-80 bytes) 10-15% slower than the
//     portable scanner (found by review); the parser now keeps the window
//     across frames (BenchmarkParseSmallFrames: ~900 MB/s against ~775 for
//     -tags purego), at ~3% on the event mix (~270 ns/frame).
//   - What is left per frame: the one string copy (mallocgc + memmove into
//     fresh memory, ~100 ns), the bitmap pass (~35 ns for 512 bytes), and
//     ~5 ns per line (span append, CR check, kind keys).
//   - Tried, not kept: sharing one 16-64 KiB string block between frames
//     (strings.Builder): -25 ns/frame, but any kept substring (a Uniqueid
//     used as a map key) would pin the whole block; a pure SWAR newline
//     search (same speed as IndexByte); a branchless fixed-width key and
//     value scan (~20% slower: a dependency chain between lines).
//   - With GOMAXPROCS=2 the same loop runs ~35% slower: the collector's
//     worker on the other core and the allocating parser hand spans back
//     and forth (mcache refills). Single-threaded figures use -cpu 1.

const benchEvents = 6000

// BenchmarkParseEventMix parses the realistic event mix written in 64 KiB
// chunks, as a socket reader would deliver it.
func BenchmarkParseEventMix(b *testing.B) { benchParseEventMix(b, false) }

// BenchmarkParseEventMixFrames is BenchmarkParseEventMix through NextFrame,
// the compact form the client core uses: no header strings materialised.
func BenchmarkParseEventMixFrames(b *testing.B) { benchParseEventMix(b, true) }

func benchParseEventMix(b *testing.B, frames bool) {
	benchParse(b, eventmix.Stream(benchEvents), benchEvents, frames)
}

// BenchmarkParseSmallFrames parses short frames (Ping responses and
// two-header events, 60-80 bytes) through NextFrame: the per-frame fixed
// costs, which the event mix hides. The amd64 bitmaps must not lose to
// -tags purego here.
func BenchmarkParseSmallFrames(b *testing.B) {
	const n = 4000
	var sb strings.Builder
	for i := range n {
		if i%2 == 0 {
			fmt.Fprintf(&sb, "Response: Success\r\nActionID: pbx1:1:%d\r\nPing: Pong\r\nTimestamp: 1733300000.%06d\r\n\r\n", i, i)
		} else {
			sb.WriteString("Event: FullyBooted\r\nPrivilege: system,all\r\nStatus: Fully Booted\r\n\r\n")
		}
	}
	benchParse(b, []byte(sb.String()), n, true)
}

// benchParse parses stream (want frames) b.N times, written in 64 KiB
// chunks as a socket reader would deliver it, through NextFrame or Next.
func benchParse(b *testing.B, stream []byte, want int, frames bool) {
	p, err := amiproto.NewParser(amiproto.Limits{})
	if err != nil {
		b.Fatal(err)
	}
	next := func() (bool, error) {
		if frames {
			f, err := p.NextFrame()
			return f != nil, err
		}
		m, err := p.Next()
		return m != nil, err
	}
	const chunk = 64 << 10
	b.SetBytes(int64(len(stream)))
	b.ReportAllocs()
	b.ResetTimer()
	count := 0
	for range b.N {
		data := stream
		for len(data) > 0 {
			n, _ := p.Write(data[:min(chunk, len(data))])
			data = data[n:]
			for {
				ok, err := next()
				if err != nil {
					b.Fatal(err)
				}
				if !ok {
					break
				}
				count++
			}
		}
	}
	b.StopTimer()
	if count != want*b.N {
		b.Fatalf("parsed %d frames, want %d", count, want*b.N)
	}
	sec := b.Elapsed().Seconds()
	b.ReportMetric(float64(count)/sec, "frames/s")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(count), "ns/frame")
}

// BenchmarkFramingOnly is the reference: finding the frame boundaries of the
// same stream with bytes.Index, without parsing headers.
func BenchmarkFramingOnly(b *testing.B) {
	stream := eventmix.Stream(benchEvents)
	delim := []byte("\r\n\r\n")
	b.SetBytes(int64(len(stream)))
	b.ReportAllocs()
	b.ResetTimer()
	frames := 0
	for range b.N {
		data := stream
		for {
			i := bytes.Index(data, delim)
			if i < 0 {
				break
			}
			data = data[i+4:]
			frames++
		}
	}
	b.StopTimer()
	if frames != benchEvents*b.N {
		b.Fatalf("framed %d, want %d", frames, benchEvents*b.N)
	}
	b.ReportMetric(float64(frames)/b.Elapsed().Seconds(), "frames/s")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(frames), "ns/frame")
}

// BenchmarkAppendAction encodes a typical Originate action into a reused
// buffer.
func BenchmarkAppendAction(b *testing.B) {
	headers := []amiproto.Header{
		{Key: "Channel", Value: "PJSIP/trunk/0033612345678"},
		{Key: "Context", Value: "outbound"},
		{Key: "Exten", Value: "0033612345678"},
		{Key: "Priority", Value: "1"},
		{Key: "CallerID", Value: "\"Campaign 7\" <+33140000000>"},
		{Key: "Timeout", Value: "30000"},
		{Key: "Async", Value: "true"},
		{Key: "Variable", Value: "LEAD_ID=lead-12345"},
		{Key: "Variable", Value: "CAMPAIGN=spring"},
	}
	buf := make([]byte, 0, 1024)
	b.ReportAllocs()
	for range b.N {
		var err error
		buf, err = amiproto.AppendAction(buf[:0], "Originate", "pbx1:1:42", headers)
		if err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(len(buf)))
}
