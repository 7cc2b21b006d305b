//go:build amd64 && !purego

package amiproto

import (
	"math/bits"
	"math/rand/v2"
	"strings"
	"testing"
)

// classBytes are the bytes on either side of every boundary the bitmaps
// draw; random test input is drawn mostly from them.
var classBytes = []byte{'\n', '\r', ':', ' ', 0x00, 0x20, 0x21, 0x7e, 0x7f, 0x80, 0xff, 'a', 'Z', '0', 0x09, 0x0b}

func randomBytes(r *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		if r.IntN(4) == 0 {
			b[i] = byte(r.UintN(256))
		} else {
			b[i] = classBytes[r.IntN(len(classBytes))]
		}
	}
	return b
}

// TestLineMasksMatchScalar checks the SSE2 bitmaps bit by bit against
// keyByte and a '\n' test, for every length and source alignment, and that
// the words past the input are left alone and the bits past it are zero.
func TestLineMasksMatchScalar(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for n := 16; n <= window; n++ {
		for _, off := range []int{0, 1, 7, 15} {
			buf := randomBytes(r, n+off)
			src := buf[off:]
			var nl, nk [window/64 + 1]uint64
			const guard = 0xdeadbeefcafef00d
			for i := range nl {
				nl[i], nk[i] = guard, guard
			}
			lineMasks(&src[0], n, &nl[0], &nk[0])
			words := (n + 63) / 64
			for i := range n {
				gotNL := nl[i/64]>>(i%64)&1 == 1
				gotNK := nk[i/64]>>(i%64)&1 == 1
				if gotNL != (src[i] == '\n') || gotNK != !keyByte[src[i]] {
					t.Fatalf("n=%d off=%d byte %d (%#x): nl=%v nk=%v", n, off, i, src[i], gotNL, gotNK)
				}
			}
			if n%64 != 0 {
				if hi := ^uint64(0) << (n % 64); nl[words-1]&hi != 0 || nk[words-1]&hi != 0 {
					t.Fatalf("n=%d: bits past the input are set", n)
				}
			}
			for i := words; i < len(nl); i++ {
				if nl[i] != guard || nk[i] != guard {
					t.Fatalf("n=%d: word %d past the input was written", n, i)
				}
			}
		}
	}
}

// walkLines drives a lineFinder the way stepFrame does: lines in order, the
// key end of each complete line, a random first offset known to hold no
// '\n' (the parser's seen), and random drops of the lines done (stray empty
// lines). It returns what it found, as absolute offsets in b.
func walkLines(b []byte, seen int, drops []bool, next func(int) (int, bool), lineEnd func([]byte, int) int,
	nextKey func(int) (int, bool), keyEnd func([]byte, int) int, shift func(int)) []int {
	var out []int
	origin := 0 // offset in b of the slice the finder sees
	start := 0
	for li := 0; ; li++ {
		view := b[origin:]
		nl, ok := next(start)
		if !ok {
			nl = lineEnd(view, max(start, seen-origin))
		}
		if nl < 0 {
			return append(out, -1)
		}
		k, ok := nextKey(start)
		if !ok {
			k = keyEnd(view, start)
		}
		out = append(out, origin+nl, origin+k)
		start = nl + 1
		if li < len(drops) && drops[li] {
			shift(start)
			origin += start
			start = 0
		}
	}
}

func compareFinders(t *testing.T, b []byte, seen int, drops []bool) {
	t.Helper()
	var bf bitmapFinder
	var xf indexFinder
	got := walkLines(b, seen, drops, bf.nextLine, bf.lineEnd, bf.nextKey, bf.keyEnd, bf.shift)
	want := walkLines(b, seen, drops, xf.nextLine, xf.lineEnd, xf.nextKey, xf.keyEnd, xf.shift)
	if len(got) != len(want) {
		t.Fatalf("bitmap finder found %d offsets, index finder %d\ninput %q", len(got), len(want), b)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("offset %d: bitmap finder %d, index finder %d\ninput %q", i, got[i], want[i], b)
		}
	}
}

// TestBitmapFinderMatchesIndexFinder compares the two scanners on random
// input: short and long lines (longer than a window), inputs shorter than
// 16 bytes, seen offsets and drops.
func TestBitmapFinderMatchesIndexFinder(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for iter := range 3000 {
		var sb strings.Builder
		for sb.Len() < 1+r.IntN(3000) {
			switch r.IntN(10) {
			case 0:
				sb.Write(randomBytes(r, r.IntN(1200))) // long, probably with '\n'
			case 1:
				sb.WriteString(strings.Repeat("x", 500+r.IntN(600)) + ": v\r\n")
			default:
				sb.WriteString(strings.Repeat("K", r.IntN(20)) + ": " + strings.Repeat("v", r.IntN(40)) + "\r\n")
			}
		}
		b := []byte(sb.String())
		if iter%5 == 0 {
			b = b[:r.IntN(len(b)+1)]
		}
		if iter%7 == 0 {
			b = b[:min(len(b), r.IntN(16))]
		}
		drops := make([]bool, 200)
		for i := range drops {
			drops[i] = r.IntN(6) == 0
		}
		seen := 0
		if i := strings.IndexByte(string(b), '\n'); i > 0 && iter%3 == 0 {
			seen = r.IntN(i)
		}
		compareFinders(t, b, seen, drops)
	}
}

// FuzzLineFinder compares the bitmap finder with the index finder on any
// input; the first byte seeds the drops and the seen offset.
func FuzzLineFinder(f *testing.F) {
	f.Add([]byte("\x00Event: A\r\nKey: v\r\n\r\n"))
	f.Add([]byte("\x05" + strings.Repeat("k", 600) + ": v\nx\n\n"))
	f.Add([]byte("\xffa\nb\n\n\r\n:\n \n\x7f\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 {
			return
		}
		seed, b := data[0], data[1:]
		drops := make([]bool, 64)
		for i := range drops {
			drops[i] = bits.RotateLeft8(seed, i)&1 == 1
		}
		seen := 0
		if i := strings.IndexByte(string(b), '\n'); i > 0 {
			seen = int(seed) % i
		}
		compareFinders(t, b, seen, drops)
	})
}
