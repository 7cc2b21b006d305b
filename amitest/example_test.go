package amitest_test

import (
	"bufio"
	"fmt"
	"net"
	"strings"

	"github.com/apntalk/ami/amitest"
)

// ExampleNewServer logs in to a fake Asterisk over a raw TCP connection and
// pings it.
func ExampleNewServer() {
	s := amitest.NewServer(nil, amitest.Options{}) // in a test: NewServer(t, ...)
	defer s.Close()

	nc, err := net.Dial("tcp", s.Addr())
	if err != nil {
		panic(err)
	}
	defer nc.Close()
	r := bufio.NewReader(nc)
	banner, _ := r.ReadString('\n')
	fmt.Print(strings.TrimRight(banner, "\r\n"), "\n")

	fmt.Fprint(nc, "Action: Login\r\nActionID: 1\r\nUsername: admin\r\nSecret: admin-secret\r\nEvents: off\r\n\r\n")
	fmt.Fprint(nc, "Action: Ping\r\nActionID: 2\r\n\r\n")
	for range 2 { // two responses
		for {
			line, _ := r.ReadString('\n')
			line = strings.TrimRight(line, "\r\n")
			if line == "" {
				break
			}
			if !strings.HasPrefix(line, "Timestamp:") {
				fmt.Println(line)
			}
		}
	}
	fmt.Println(s.Conns()[0].Username())
	// Output:
	// Asterisk Call Manager/13.0.0
	// Response: Success
	// ActionID: 1
	// Message: Authentication accepted
	// Response: Success
	// ActionID: 2
	// Ping: Pong
	// admin
}
