package amiproto

import "bytes"

// indexFinder is the portable line and key scanner: bytes.IndexByte for
// '\n' and skipKey (8 bytes at a time) for the end of a key. It is what
// stepFrame uses without the amd64 bitmaps, and the model the bitmaps are
// tested against. It has no state.
type indexFinder struct{}

// nextLine has no fast path: it always defers to lineEnd.
func (indexFinder) nextLine(int) (int, bool) { return 0, false }

// nextKey has no fast path: it always defers to keyEnd.
func (indexFinder) nextKey(int) (int, bool) { return 0, false }

// lineEnd returns the index of the first '\n' in b at or after from, or -1.
func (indexFinder) lineEnd(b []byte, from int) int {
	if i := bytes.IndexByte(b[from:], '\n'); i >= 0 {
		return from + i
	}
	return -1
}

// keyEnd returns the index of the first byte at or after start that may not
// appear in a key; b[start:] holds a '\n', so there is one.
func (indexFinder) keyEnd(b []byte, start int) int { return skipKey(b, start) }

// shift is a no-op: indexFinder keeps no offsets.
func (indexFinder) shift(int) {}

// reset is a no-op: indexFinder keeps no state.
//
//lint:ignore U1000 called through lineFinder in builds without the amd64 bitmaps
func (indexFinder) reset() {}
