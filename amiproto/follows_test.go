package amiproto_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/apntalk/ami/amiproto"
)

func TestParseFollows(t *testing.T) {
	checkCases(t, []parseCase{
		{"marker on its own line, blank lines and colons in the body",
			"Response: Follows\r\nPrivilege: Command\r\nActionID: c1\r\n" +
				"Channel              Location             State   Application(Data)\n" +
				"\n" +
				"key: value looking line\n" +
				"   indented\n" +
				"\n" +
				"--END COMMAND--\r\n\r\n" +
				"Event: After\r\n\r\n",
			amiproto.Limits{}, []string{
				`Follows Response=Follows|Privilege=Command|ActionID=c1 out=["Channel              Location             State   Application(Data)" "" "key: value looking line" "   indented" ""]`,
				"Event Event=After",
			}},
		{"marker appended to the last line",
			"Response: Follows\r\nPrivilege: Command\r\nActionID: c2\r\nAsterisk 1.8.32 built by x\nlast line--END COMMAND--\r\n\r\n",
			amiproto.Limits{}, []string{
				`Follows Response=Follows|Privilege=Command|ActionID=c2 out=["Asterisk 1.8.32 built by x" "last line"]`,
			}},
		{"empty output",
			"Response: Follows\r\nPrivilege: Command\r\nActionID: c3\r\n--END COMMAND--\r\n\r\nResponse: Success\r\nActionID: p\r\n\r\n",
			amiproto.Limits{}, []string{
				`Follows Response=Follows|Privilege=Command|ActionID=c3 out=[]`,
				"Response Response=Success|ActionID=p",
			}},
		{"only one empty output line",
			"Response: Follows\r\nPrivilege: Command\r\n\n--END COMMAND--\r\n\r\n",
			amiproto.Limits{}, []string{`Follows Response=Follows|Privilege=Command out=[""]`}},
		{"headers after the first raw line are output",
			"Response: Follows\r\nActionID: c4\r\nfirst\nMessage: not a header\nActionID: nope\n--END COMMAND--\r\n\r\n",
			amiproto.Limits{}, []string{`Follows Response=Follows|ActionID=c4 out=["first" "Message: not a header" "ActionID: nope"]`}},
		{"other header-shaped line starts the output",
			"Response: Follows\r\nPrivilege: Command\r\nUptime: 12 minutes\r\n--END COMMAND--\r\n\r\n",
			amiproto.Limits{}, []string{`Follows Response=Follows|Privilege=Command out=["Uptime: 12 minutes"]`}},
		{"lower-case follows and bare LF, no final blank line",
			"response: follows\nprivilege: Command\nactionid: c5\nout\n--END COMMAND--\nEvent: Next\n\n",
			amiproto.Limits{}, []string{
				`Follows response=follows|privilege=Command|actionid=c5 out=["out"]`,
				"Event Event=Next",
			}},
		{"binary output is not a desync",
			"Response: Follows\r\nPrivilege: Command\r\n\x00\x01\xff junk\r\n--END COMMAND--\r\n\r\n",
			amiproto.Limits{}, []string{"Follows Response=Follows|Privilege=Command out=[\"\\x00\\x01\\xff junk\"]"}},
		{"incomplete body waits",
			"Response: Follows\r\nPrivilege: Command\r\nline\n--END COMM",
			amiproto.Limits{}, nil},
	})
}

func TestParseFollowsOutputCap(t *testing.T) {
	lim := amiproto.Limits{MaxOutputSize: amiproto.MinMaxOutputSize}
	head := "Response: Follows\r\nPrivilege: Command\r\nActionID: big-cmd\r\n"
	var body strings.Builder
	for i := 0; body.Len() < 3*amiproto.MinMaxOutputSize; i++ {
		fmt.Fprintf(&body, "output line %03d with --END COMMAND in the middle\n\n", i)
	}
	big := head + body.String() + "tail--END COMMAND--\r\n"
	next := "\r\nResponse: Success\r\nActionID: after\r\n\r\n"
	checkCases(t, []parseCase{{"legacy output over the cap", big + next, lim, []string{
		fmt.Sprintf("ERR output id=big-cmd size=%d", len(big)),
		"Response Response=Success|ActionID=after",
	}}})

	// Exactly at the cap is accepted.
	line := strings.Repeat("z", amiproto.MinMaxOutputSize-10)
	exact := head + line + "\n0123456789--END COMMAND--\r\n\r\n"
	items := parseAll(t, lim, []byte(exact))
	if len(items) != 1 || items[0].err != nil || len(items[0].msg.Output) != 2 {
		t.Fatalf("output of exactly MaxOutputSize: %v", summaries(items))
	}
	over := head + line + "\n0123456789A--END COMMAND--\r\n\r\n"
	checkCases(t, []parseCase{{"one byte over", over, lim, []string{
		fmt.Sprintf("ERR output id=big-cmd size=%d", len(over)-2),
	}}})

	p := newParser(t, lim)
	feed(t, p, []byte(big+next), func() int { return 33 })
	if st := p.Stats(); st.OutputTooLarge != 1 || st.Frames != 1 || st.DiscardedBytes != uint64(len(big)) {
		t.Fatalf("stats %+v", st)
	}
}

func TestParseFollowsLongLine(t *testing.T) {
	// A raw line longer than MaxFrameSize is refused even if MaxOutputSize
	// would allow it: the parser never buffers more than one frame's worth.
	lim := amiproto.Limits{MaxFrameSize: amiproto.MinMaxFrameSize, MaxBufferSize: amiproto.MinMaxFrameSize, MaxOutputSize: 8 << 20}
	head := "Response: Follows\r\nPrivilege: Command\r\nActionID: long\r\n"
	reply := head + "short\n" + strings.Repeat("L", 3*amiproto.MinMaxFrameSize) + "--END COMMAND--\r\n"
	checkCases(t, []parseCase{{"long raw line", reply + "\r\nEvent: X\r\n\r\n", lim, []string{
		fmt.Sprintf("ERR output id=long size=%d", len(reply)),
		"Event Event=X",
	}}})
}

func TestParseFollowsLargeOutputBeyondBuffer(t *testing.T) {
	// Legacy output larger than the parser buffer is collected line by line.
	lim := amiproto.Limits{MaxFrameSize: amiproto.MinMaxFrameSize, MaxBufferSize: amiproto.MinMaxFrameSize, MaxOutputSize: 1 << 20}
	var body strings.Builder
	n := 0
	for body.Len() < 4*amiproto.MinMaxFrameSize {
		fmt.Fprintf(&body, "channel line %06d\n", n)
		n++
	}
	in := "Response: Follows\r\nPrivilege: Command\r\n" + body.String() + "--END COMMAND--\r\n\r\n"
	p := newParser(t, lim)
	items := feed(t, p, []byte(in), func() int { return 10000 })
	if len(items) != 1 || items[0].err != nil {
		t.Fatalf("items %d", len(items))
	}
	out := items[0].msg.Output
	if len(out) != n || out[0] != "channel line 000000" || out[n-1] != fmt.Sprintf("channel line %06d", n-1) {
		t.Fatalf("got %d lines, want %d", len(out), n)
	}
}
