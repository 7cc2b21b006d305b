//go:build amd64 && !purego

package amiproto

import "math/bits"

// lineFinder is the line and key scanner stepFrame uses: on amd64, bitmaps
// built 16 bytes at a time with SSE2 (part of every amd64 CPU).
type lineFinder = bitmapFinder

// lineMasks is implemented in lines_amd64.s.
//
//go:noescape
func lineMasks(src *byte, n int, nl, nk *uint64)

// window is the width of the bitmaps in bytes.
const window = 64 * 8

// bitmapFinder answers lineEnd and keyEnd from two bitmaps over a window of
// up to 512 bytes of b: one bit per '\n' and one per byte that may not
// appear in a key. Building them costs about one instruction per byte;
// lines are then found by walking the '\n' bits in order, and the end of a
// key is a shift and a trailing-zero count, against a function call and a
// search per line for indexFinder.
//
// The parser keeps one across calls, its offsets relative to the unread
// bytes (consume shifts it): the bytes a window covers never change while
// it is in use, since the parser only appends, moves unread bytes together
// with their offsets (compaction), or forgets them all (reset). stepFrame
// asks for lines in order, each lineEnd call starting where the previous
// line ended; when it did not (another mode consumed lines), the fast path
// sees a bit before from and defers to lineEnd. The fast paths are small
// enough to be inlined. The zero value is empty.
//
// Invariant for nextKey and keyEnd: the line's '\n' was just returned from
// the current window, so the line's first non-key byte is inside it too.
type bitmapFinder struct {
	base  int    // offset in b of the window's first byte
	n     int    // bytes in the window; 0 when empty
	at    int    // offset in b of bit 0 of rest
	rest  uint64 // the '\n' bits of the current word not returned yet
	word  int    // index in nl of the current word
	words int    // words of nl that hold bits of the window
	nl    [window / 64]uint64
	nk    [window / 64]uint64
}

const wordMask = window/64 - 1 // keeps word indexes in range without a bounds check

// fill builds the bitmaps for b[pos:], up to window bytes; pos < len(b).
func (w *bitmapFinder) fill(b []byte, pos int) {
	n := min(len(b)-pos, window)
	w.base, w.n = pos, n
	if n >= 16 {
		lineMasks(&b[pos], n, &w.nl[0], &w.nk[0])
	} else {
		// The zero padding past n sets no nl bit; it does set nk bits, but
		// a key scan meets the line's '\n' first (see the invariant).
		var tmp [16]byte
		copy(tmp[:], b[pos:pos+n])
		lineMasks(&tmp[0], 16, &w.nl[0], &w.nk[0])
	}
	w.word, w.words, w.at, w.rest = 0, (n+63)>>6, pos, w.nl[0]
}

// shift moves the window's origin when the parser drops the first n unread
// bytes.
func (w *bitmapFinder) shift(n int) { w.base -= n; w.at -= n }

// reset empties the window (the bytes it covered are gone).
func (w *bitmapFinder) reset() { w.n, w.words, w.word, w.rest = 0, 0, 0, 0 }

// nextLine is lineEnd's fast path, small enough to be inlined: the next
// '\n' bit of the current word, or of the next word of the window. ok is
// false when it cannot answer.
func (w *bitmapFinder) nextLine(from int) (nl int, ok bool) {
	// The nl bits past the window's end are zero (see lineMasks and fill),
	// so a bit in rest is a '\n' in b; words past words are never read.
	r := w.rest
	if r == 0 {
		w.word++
		if w.word >= w.words {
			return 0, false
		}
		w.at += 64
		if r = w.nl[w.word&wordMask]; r == 0 {
			return 0, false
		}
	}
	j := w.at + bits.TrailingZeros64(r)
	if j < from {
		return 0, false
	}
	w.rest = r & (r - 1)
	return j, true
}

// lineEnd returns the index of the first '\n' in b at or after from, or -1.
// from is where the previous line ended, or (first call) the start of the
// line or a point inside it known to follow no '\n' of it. It walks the
// words from from and refills the window as needed.
func (w *bitmapFinder) lineEnd(b []byte, from int) int {
	if from >= len(b) {
		return -1
	}
	if from < w.base || from >= w.base+w.n {
		w.fill(b, from)
	}
	refilled := w.base == from
	pos := from
	for {
		i := pos - w.base
		k := i >> 6
		x := w.nl[k&wordMask] & (^uint64(0) << (i & 63))
		for x == 0 && (k+1)<<6 < w.n {
			k++
			x = w.nl[k&wordMask]
		}
		if x != 0 {
			// nl bits past n are zero (see lineMasks), so j < n.
			w.word, w.at, w.rest = k, w.base+k<<6, x&(x-1)
			return w.at + bits.TrailingZeros64(x)
		}
		end := w.base + w.n
		if end >= len(b) {
			w.rest = 0 // the next call starts over
			return -1
		}
		// The line crosses the window's end: refill at from (the line's
		// start, unless resuming after p.seen), once, so that its key is in
		// view for nextKey; past that, at the end. When from is not the
		// line's start, keyEnd falls back to skipKey.
		if refilled {
			w.fill(b, end)
		} else {
			w.fill(b, from)
			refilled = true
		}
		pos = end
	}
}

// nextKey is keyEnd's fast path, small enough to be inlined: the first
// non-key bit at or after start in start's word.
func (w *bitmapFinder) nextKey(start int) (end int, ok bool) {
	// lineEnd just returned the line's '\n' from the window, so a start at
	// or after the window's first byte is inside it.
	if i := start - w.base; i >= 0 {
		if x := w.nk[(i>>6)&wordMask] >> (i & 63); x != 0 {
			return start + bits.TrailingZeros64(x), true
		}
	}
	return 0, false
}

// keyEnd is nextKey's slow path and must only follow a nextKey miss: it
// returns the index of the first byte at or after start that may not appear
// in a key, looking from the word after start's (nextKey saw start's own
// word hold none). b[start:] holds the line's '\n', so there is always one.
func (w *bitmapFinder) keyEnd(b []byte, start int) int {
	i := start - w.base
	if uint(i) >= uint(w.n) {
		return skipKey(b, start) // the line began before the window
	}
	for k := i>>6 + 1; k<<6 < w.n; k++ {
		if x := w.nk[k&wordMask]; x != 0 {
			return w.base + k<<6 + bits.TrailingZeros64(x)
		}
	}
	return skipKey(b, w.base+w.n)
}
