package amiproto_test

import (
	"bytes"
	"testing"

	"github.com/apntalk/ami/amiproto"
	"github.com/apntalk/ami/internal/eventmix"
)

// Performance notes (amiproto parser, -cpu 1, eventmix: ~19 headers and
// ~450 bytes per event). The machine these were taken on is shared and
// noisy: compare BenchmarkParseEventMix with BenchmarkFramingOnly in the same
// run, over -count 5 or more, and look at medians.
//
//   - Dec 2026, before: ~520-580 ns/frame, framing-only ~170-190 ns/frame,
//     ratio ~3.1-3.2 (process CPU time, interleaved runs); 1 alloc/frame
//     (the frame string), 0 per header.
//   - Dec 2026, after: ~490-500 ns/frame, ratio ~2.9-3.0; same allocations.
//     Change: stepFrame finds '\n' first (bytes.IndexByte from the line
//     start) and only then checks the key (keyEnd/skipKey, 8 bytes at a time
//     with TrailingZeros instead of a byte loop for the tail). The next line
//     no longer waits for the key scan, so the two run side by side; the
//     fast/slow path split went away too.
//   - Where the time goes now (pprof): about half in finishFrame: the one
//     string per frame (mallocgc + memmove, ~80-100 ns) and buildHeaders
//     (~120 ns, of which ~90 ns GC write barriers: 38 pointer writes per
//     frame, and with GOMAXPROCS=1 the mark phase is on ~45% of the time,
//     see GODEBUG=gctrace=1); GOGC=1000 alone brings the ratio to ~2.9.
//     The rest is ~19 IndexByte calls and key scans per frame (~12 ns/line).
//   - Tried, did not help: a pure SWAR newline search for values (same speed
//     as IndexByte); a branchless fixed-width scan of key and value (3+4
//     words, first flag picked with TrailingZeros arithmetic): ~20% slower,
//     because it puts a long dependency chain between one line and the next
//     where branch prediction used to overlap them; GOGC=off (page faults).
//   - Not done: interning common keys to static strings and skipping the
//     Key write when the slot already holds it (would cut write-barrier
//     work roughly in half during GC, but the lookup costs ~3 ns/header,
//     about what it saves); a bitmap (simdjson-style) pass over the whole
//     frame, which is what reaching 1.8x framing-only would likely need.

const benchEvents = 6000

// BenchmarkParseEventMix parses the realistic event mix written in 64 KiB
// chunks, as a socket reader would deliver it.
func BenchmarkParseEventMix(b *testing.B) { benchParseEventMix(b, false) }

// BenchmarkParseEventMixFrames is BenchmarkParseEventMix through NextFrame,
// the compact form the client core uses: no header strings materialised.
func BenchmarkParseEventMixFrames(b *testing.B) { benchParseEventMix(b, true) }

func benchParseEventMix(b *testing.B, frames bool) {
	stream := eventmix.Stream(benchEvents)
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
	if count != benchEvents*b.N {
		b.Fatalf("parsed %d frames, want %d", count, benchEvents*b.N)
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
