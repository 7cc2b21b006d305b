package amiproto_test

import (
	"bytes"
	"testing"

	"github.com/apntalk/ami/amiproto"
	"github.com/apntalk/ami/internal/eventmix"
)

const benchEvents = 6000

// BenchmarkParseEventMix parses the realistic event mix written in 64 KiB
// chunks, as a socket reader would deliver it.
func BenchmarkParseEventMix(b *testing.B) {
	stream := eventmix.Stream(benchEvents)
	p, err := amiproto.NewParser(amiproto.Limits{})
	if err != nil {
		b.Fatal(err)
	}
	const chunk = 64 << 10
	b.SetBytes(int64(len(stream)))
	b.ReportAllocs()
	b.ResetTimer()
	frames := 0
	for range b.N {
		data := stream
		for len(data) > 0 {
			n, _ := p.Write(data[:min(chunk, len(data))])
			data = data[n:]
			for {
				m, err := p.Next()
				if err != nil {
					b.Fatal(err)
				}
				if m == nil {
					break
				}
				frames++
			}
		}
	}
	b.StopTimer()
	if frames != benchEvents*b.N {
		b.Fatalf("parsed %d frames, want %d", frames, benchEvents*b.N)
	}
	sec := b.Elapsed().Seconds()
	b.ReportMetric(float64(frames)/sec, "frames/s")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(frames), "ns/frame")
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
