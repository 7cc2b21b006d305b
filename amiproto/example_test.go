package amiproto_test

import (
	"errors"
	"fmt"

	"github.com/apntalk/ami/amiproto"
)

func ExampleParser() {
	p, err := amiproto.NewParser(amiproto.Limits{})
	if err != nil {
		panic(err)
	}
	stream := "Asterisk Call Manager/13.0.0\r\n" +
		"Response: Success\r\nActionID: login-1\r\nMessage: Authentication accepted\r\n\r\n" +
		"this line is garbage\r\n" +
		"Event: Hangup\r\nChannel: PJSIP/trunk-00000001\r\nCause: 16\r\n\r\n"
	if _, err := p.Write([]byte(stream)); err != nil {
		panic(err)
	}
	for {
		m, err := p.Next()
		if err != nil {
			fmt.Println("discarded:", errors.Is(err, amiproto.ErrDesync))
			continue
		}
		if m == nil {
			break // need more bytes
		}
		fmt.Printf("%s %s %q\n", m.Kind, m.Name(), m.ActionID())
	}
	// Output:
	// Banner 13.0.0 ""
	// Response Success "login-1"
	// discarded: true
	// Event Hangup ""
}

func ExampleAppendAction() {
	buf, err := amiproto.AppendAction(nil, "Originate", "pbx1:1:42", []amiproto.Header{
		{Key: "Channel", Value: "PJSIP/0033612345678@trunk"},
		{Key: "Async", Value: "true"},
	})
	fmt.Printf("%q %v\n", buf, err)

	_, err = amiproto.AppendAction(nil, "Login", "", []amiproto.Header{
		{Key: "Secret", Value: "pa55\r\nAction: Originate"},
	})
	fmt.Println(err)
	// Output:
	// "Action: Originate\r\nActionID: pbx1:1:42\r\nChannel: PJSIP/0033612345678@trunk\r\nAsync: true\r\n\r\n" <nil>
	// ami: invalid header "Secret" (index 0): value contains CR
}

func ExampleMessage_Values() {
	p, _ := amiproto.NewParser(amiproto.Limits{})
	p.Write([]byte("Response: Success\r\nActionID: cmd-1\r\nOutput: line one\r\nOutput: \r\nOutput: line three\r\n\r\n"))
	m, _ := p.Next()
	fmt.Printf("%q\n", m.Values("Output"))
	// Output:
	// ["line one" "" "line three"]
}
