package bench

import (
	"bytes"
	"fmt"
	"runtime"
	"time"

	"github.com/apntalk/ami/amiproto"
	"github.com/apntalk/ami/internal/eventmix"
)

// parserStreamEvents is the size of the event-mix stream parsed in a loop
// (the same as amiproto's own BenchmarkParseEventMix).
const parserStreamEvents = 6000

// ParserStats is what one parser measurement saw.
type ParserStats struct {
	Frames, Headers, Bytes, Allocs uint64
	Elapsed                        time.Duration
}

// FramesPerSec is the throughput in frames per second.
func (s ParserStats) FramesPerSec() float64 { return float64(s.Frames) / s.Elapsed.Seconds() }

// MBPerSec is the throughput in MB (1e6 bytes) per second.
func (s ParserStats) MBPerSec() float64 { return float64(s.Bytes) / 1e6 / s.Elapsed.Seconds() }

// ParseStream parses stream with an amiproto.Parser in 64 KiB writes (as a
// socket reader delivers it), rounds times, through NextFrame (the path the
// client core uses), and counts frames, headers and heap allocations.
func ParseStream(stream []byte, rounds int) (ParserStats, error) {
	return parseStream(stream, rounds, false)
}

// ParseStreamMessages is ParseStream through Next, which also materialises
// every header as a pair of strings (Message.Headers).
func ParseStreamMessages(stream []byte, rounds int) (ParserStats, error) {
	return parseStream(stream, rounds, true)
}

func parseStream(stream []byte, rounds int, messages bool) (ParserStats, error) {
	p, err := amiproto.NewParser(amiproto.Limits{})
	if err != nil {
		return ParserStats{}, err
	}
	var st ParserStats
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	allocs := ms.Mallocs
	start := time.Now()
	for range rounds {
		data := stream
		for len(data) > 0 {
			n, _ := p.Write(data[:min(64<<10, len(data))])
			data = data[n:]
			for {
				var headers int
				if messages {
					m, err := p.Next()
					if err != nil {
						return st, fmt.Errorf("ami: bench: parse: %w", err)
					}
					if m == nil {
						break
					}
					headers = len(m.Headers)
				} else {
					f, err := p.NextFrame()
					if err != nil {
						return st, fmt.Errorf("ami: bench: parse: %w", err)
					}
					if f == nil {
						break
					}
					headers = f.Len()
				}
				st.Frames++
				st.Headers += uint64(headers)
			}
		}
	}
	st.Elapsed = time.Since(start)
	runtime.ReadMemStats(&ms)
	st.Allocs = ms.Mallocs - allocs
	st.Bytes = uint64(len(stream)) * uint64(rounds)
	return st, nil
}

// FrameStream is the framing-only reference: it finds the frame boundaries
// of stream with bytes.Index, rounds times, without looking at headers.
func FrameStream(stream []byte, rounds int) ParserStats {
	var st ParserStats
	start := time.Now()
	for range rounds {
		data := stream
		for {
			i := bytes.Index(data, delim)
			if i < 0 {
				break
			}
			data = data[i+4:]
			st.Frames++
		}
	}
	st.Elapsed = time.Since(start)
	st.Bytes = uint64(len(stream)) * uint64(rounds)
	return st
}

// CopyStream is the memcpy reference: it copies stream rounds times.
func CopyStream(stream []byte, rounds int) ParserStats {
	dst := make([]byte, len(stream))
	start := time.Now()
	for range rounds {
		copy(dst, stream)
	}
	return ParserStats{Bytes: uint64(len(stream)) * uint64(rounds), Elapsed: time.Since(start)}
}

// roundsFor picks how many rounds of f fill about d.
func roundsFor(d time.Duration, f func(rounds int) time.Duration) int {
	rounds := 1
	for {
		el := f(rounds)
		if el >= d/4 || rounds >= 1<<20 {
			return max(1, int(float64(rounds)*float64(d)/float64(max(el, time.Microsecond))))
		}
		rounds *= 4
	}
}

// Parser measures the amiproto parser against the framing-only scan and a
// memcpy of the same event-mix stream, each for about d.
//
// The parser is single-threaded, and so is the reference, so the target
// rows are measured with GOMAXPROCS=1 (like `go test -bench -cpu 1`): every
// cost of the parser, the garbage collector's work for its one string per
// frame included, is then charged to the core it runs on. The same figure
// with all the machine's Ps is reported as info: there the collector runs
// beside the parser on another core, and the parser pays instead for the
// span hand-offs between the two (about 25-40% on the 2-core CI machines).
func Parser(d time.Duration) ([]Result, error) {
	stream := eventmix.Stream(parserStreamEvents)
	procs := runtime.GOMAXPROCS(1)
	one, err := measureParser(stream, d, true)
	runtime.GOMAXPROCS(procs)
	if err != nil {
		return nil, err
	}
	all := one
	if procs > 1 {
		if all, err = measureParser(stream, d/2, false); err != nil {
			return nil, err
		}
	}
	parse, frame := one.parse, one.frame
	perFrame := float64(parse.Allocs) / float64(parse.Frames)
	perHeader := float64(parse.Allocs) / float64(parse.Headers)
	fps := ratio("parser", "parser frames/s", "frames/s", parse.FramesPerSec(), frame.FramesPerSec(), "framing-only scan", 0.55, 0)
	fps.Note = fmt.Sprintf("GOMAXPROCS=1; %.1f headers/frame, %d bytes/frame", float64(parse.Headers)/float64(parse.Frames), parse.Bytes/parse.Frames)
	mbs := ratio("parser", "parser MB/s", "MB/s", parse.MBPerSec(), frame.MBPerSec(), "framing-only scan", 0.55, 0)
	mbs.Note = "GOMAXPROCS=1"
	cpy := ratio("parser", "parser MB/s vs memcpy", "MB/s", parse.MBPerSec(), one.copy.MBPerSec(), "memcpy", 0, 0)
	nxt := ratio("parser", "parser frames/s via Next", "frames/s", one.msgs.FramesPerSec(), frame.FramesPerSec(), "framing-only scan", 0, 0)
	nxt.Note = "GOMAXPROCS=1; Next also materialises Message.Headers (the figures above are NextFrame, the client's path)"
	out := []Result{fps, mbs, cpy, nxt}
	if procs > 1 {
		wide := ratio("parser", fmt.Sprintf("parser frames/s, %d Ps", procs), "frames/s", all.parse.FramesPerSec(), all.frame.FramesPerSec(), "framing-only scan", 0, 0)
		wide.Note = fmt.Sprintf("GOMAXPROCS=%d: the collector runs on another core (see docs/performance.md)", procs)
		out = append(out, wide)
	}
	// One allocation per frame (the frame's strings) is the design; the
	// small tolerance absorbs the runtime's own rare allocations.
	al := absolute("parser", "parser allocs/frame", "allocs", perFrame, "<= 1 per frame (0 per header)", perFrame <= 1.01)
	al.Note = fmt.Sprintf("%.3f allocs/header", perHeader)
	return append(out, al), nil
}

// parserRun is one interleaved measurement of the parser and its
// references.
type parserRun struct {
	parse, msgs, frame, copy ParserStats
}

// measureParser runs the contestants for about d each, interleaved in three
// rounds so that machine noise hits all of them; withInfo adds the Next and
// memcpy rows.
func measureParser(stream []byte, d time.Duration, withInfo bool) (parserRun, error) {
	rounds := roundsFor(d, func(r int) time.Duration {
		st, _ := ParseStream(stream, r)
		return st.Elapsed
	})
	n := max(1, rounds/3)
	var run parserRun
	for range 3 {
		st, err := ParseStream(stream, n)
		if err != nil {
			return run, err
		}
		run.parse = addStats(run.parse, st)
		run.frame = addStats(run.frame, FrameStream(stream, n))
		if !withInfo {
			continue
		}
		sm, err := ParseStreamMessages(stream, n)
		if err != nil {
			return run, err
		}
		run.msgs = addStats(run.msgs, sm)
		run.copy = addStats(run.copy, CopyStream(stream, n))
	}
	return run, nil
}

func addStats(a, b ParserStats) ParserStats {
	return ParserStats{Frames: a.Frames + b.Frames, Headers: a.Headers + b.Headers, Bytes: a.Bytes + b.Bytes,
		Allocs: a.Allocs + b.Allocs, Elapsed: a.Elapsed + b.Elapsed}
}
