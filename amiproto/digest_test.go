package amiproto_test

import (
	"crypto/sha256"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	"github.com/apntalk/ami/amiproto"
)

// genBytes are the bytes on either side of the scanners' class boundaries.
var genBytes = []byte{'\n', '\r', ':', ' ', 0x00, 0x20, 0x21, 0x7e, 0x7f, 0x80, 0xff, 'a', 'Z', '0', 0x09}

// genStream generates about size bytes of hostile AMI stream.
func genStream(r *rand.Rand, size int) []byte {
	var sb strings.Builder
	if r.IntN(3) == 0 {
		sb.WriteString("Asterisk Call Manager/13.0.0\r\n")
	}
	eol := func() string {
		switch r.IntN(4) {
		case 0:
			return "\n"
		default:
			return "\r\n"
		}
	}
	for sb.Len() < size {
		switch r.IntN(14) {
		case 0: // random junk
			n := r.IntN(1500)
			for range n {
				if r.IntN(3) == 0 {
					sb.WriteByte(byte(r.UintN(256)))
				} else {
					sb.WriteByte(genBytes[r.IntN(len(genBytes))])
				}
			}
		case 1: // long key around window boundaries
			k := []int{1, 15, 16, 17, 63, 64, 65, 127, 128, 129, 500, 511, 512, 513, 1023, 1024, 1025, 2000}[r.IntN(18)]
			sb.WriteString(strings.Repeat("K", k))
			if r.IntN(4) == 0 {
				sb.WriteByte(genBytes[r.IntN(len(genBytes))])
			}
			sb.WriteString(": v" + eol())
		case 2: // long value
			sb.WriteString("Data: " + strings.Repeat("v", r.IntN(3000)) + eol())
		case 3:
			sb.WriteString(eol()) // empty line
		case 4:
			sb.WriteString("Response: Follows\r\nPrivilege: Command\r\nActionID: f" + fmt.Sprint(r.IntN(9)) + "\r\n")
			for range r.IntN(10) {
				sb.WriteString(strings.Repeat("o", r.IntN(700)) + eol())
			}
			sb.WriteString("--END COMMAND--\r\n\r\n")
		case 5: // huge frame over small limit
			if r.IntN(4) == 0 {
				sb.WriteString("Event: Big\r\nActionID: b\r\nX: " + strings.Repeat("L", 60000+r.IntN(10000)) + eol() + eol())
			}
		case 6:
			sb.WriteString("\r")
		case 7:
			sb.WriteString("Response: Success\r\nActionID: o\r\n")
			for range r.IntN(40) {
				sb.WriteString("Output: " + strings.Repeat("o", 40) + "\r\n")
			}
			sb.WriteString(eol())
		default:
			sb.WriteString("Event: E" + fmt.Sprint(r.IntN(100)) + eol())
			for range r.IntN(8) {
				sb.WriteString(strings.Repeat("k", 1+r.IntN(30)) + ": " + strings.Repeat("v", r.IntN(80)) + eol())
			}
			sb.WriteString(eol())
		}
	}
	return []byte(sb.String())
}

// TestDigest parses 400 generated hostile streams (junk, keys and values
// across the 512-byte bitmap windows, Follows replies, oversized frames,
// bare CRs) with small and default limits, checks that 4 random chunkings
// (and byte by byte, for some) give the same results, and writes a digest
// of each result to $AMIPROTO_DIGEST_OUT. CI runs it once with the amd64
// bitmaps and once with -tags purego and requires identical files: the two
// line scanners must parse every stream the same way.
func TestDigest(t *testing.T) {
	out := os.Getenv("AMIPROTO_DIGEST_OUT")
	if out == "" {
		t.Skip("AMIPROTO_DIGEST_OUT unset (see .ci/run)")
	}
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	small := amiproto.Limits{MaxFrameSize: amiproto.MinMaxFrameSize, MaxBufferSize: amiproto.MinMaxFrameSize, MaxOutputSize: amiproto.MinMaxOutputSize}
	iters := 400
	for it := range iters {
		r := rand.New(rand.NewPCG(uint64(it), 77))
		data := genStream(r, 1+r.IntN(40000))
		for li, lim := range []amiproto.Limits{small, {}} {
			want := parseAll(t, lim, data)
			ws := itemsString(want)
			fmt.Fprintf(f, "%d %d %x\n", it, li, sha256.Sum256([]byte(ws)))
			for s := uint64(0); s < 4; s++ {
				mc := []int{1, 7, 100, 600, 5000}[(uint64(it)+s)%5]
				got := parseRandom(t, lim, data, s+uint64(it)*10, mc)
				sameItems(t, fmt.Sprintf("it %d lim %d seed %d mc %d", it, li, s, mc), got, want)
			}
			if it%20 == 0 && len(data) < 20000 {
				sameItems(t, "bytewise", parseBytewise(t, lim, data), want)
			}
		}
	}
}
