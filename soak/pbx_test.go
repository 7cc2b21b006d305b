package soak_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/apntalk/ami/amitest"
)

// childEnv marks the re-executed test binary that serves the fake PBXs.
const childEnv = "AMI_SOAK_PBX_CHILD"

// pbxCount is the number of fake PBXs of the soak.
const pbxCount = 3

// runPBXs serves pbxCount fake PBXs and obeys one-line commands on in,
// answering each with one line on out:
//
//	flood N   every PBX floods N events to its connections -> "ok SENT"
//	cut I     PBX I drops its connections abruptly         -> "ok"
//	sent      events sent by all PBXs so far               -> "ok SENT"
//	quit      close everything and exit                    -> "ok"
//
// The first line written is "addrs A1 A2 A3".
func runPBXs(in io.Reader, out io.Writer) int {
	srvs := make([]*amitest.Server, pbxCount)
	addrs := make([]string, pbxCount)
	for i := range srvs {
		srvs[i] = amitest.NewServer(nil, amitest.Options{})
		addrs[i] = srvs[i].Addr()
	}
	defer func() {
		for _, s := range srvs {
			s.Close()
		}
	}()
	w := bufio.NewWriter(out)
	reply := func(format string, args ...any) {
		fmt.Fprintf(w, format+"\n", args...)
		w.Flush()
	}
	reply("addrs %s", strings.Join(addrs, " "))
	sc := bufio.NewScanner(in)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		switch f[0] {
		case "flood":
			n, _ := strconv.Atoi(f[1])
			var wg sync.WaitGroup
			var mu sync.Mutex
			total := 0
			var firstErr error
			for _, s := range srvs {
				wg.Go(func() {
					sent, err := s.Flood(context.Background(), amitest.Flood{Count: n})
					mu.Lock()
					defer mu.Unlock()
					total += sent
					if err != nil && firstErr == nil {
						firstErr = err
					}
				})
			}
			wg.Wait()
			if firstErr != nil {
				reply("err %v", firstErr)
				continue
			}
			reply("ok %d", total)
		case "cut":
			i, _ := strconv.Atoi(f[1])
			srvs[i].CloseClientConnections()
			reply("ok")
		case "sent":
			var total int64
			for _, s := range srvs {
				total += s.Stats().EventsSent
			}
			reply("ok %d", total)
		case "quit":
			reply("ok")
			return 0
		default:
			reply("err unknown command %q", f[0])
		}
	}
	return 0
}

// pbxProcess is the parent's handle on the child process.
type pbxProcess struct {
	t     testing.TB
	cmd   *exec.Cmd
	in    io.WriteCloser
	out   *bufio.Scanner
	addrs []string
}

// startPBXs re-executes the test binary as the fake PBXs' process.
func startPBXs(t testing.TB) *pbxProcess {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"=1")
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	outPipe, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &pbxProcess{t: t, cmd: cmd, in: in, out: bufio.NewScanner(outPipe)}
	t.Cleanup(func() {
		fmt.Fprintln(p.in, "quit")
		p.in.Close()
		if err := cmd.Wait(); err != nil {
			t.Errorf("fake PBX process: %v", err)
		}
	})
	line := p.read()
	f := strings.Fields(line)
	if len(f) != pbxCount+1 || f[0] != "addrs" {
		t.Fatalf("fake PBX process said %q", line)
	}
	p.addrs = f[1:]
	return p
}

func (p *pbxProcess) read() string {
	p.t.Helper()
	if !p.out.Scan() {
		p.t.Fatalf("fake PBX process ended: %v", p.out.Err())
	}
	return p.out.Text()
}

// do sends one command and returns the number in its "ok N" answer (0 for
// a bare "ok").
func (p *pbxProcess) do(format string, args ...any) int64 {
	p.t.Helper()
	fmt.Fprintf(p.in, format+"\n", args...)
	line := p.read()
	f := strings.Fields(line)
	if len(f) == 0 || f[0] != "ok" {
		p.t.Fatalf("fake PBX process: %q answered %q", fmt.Sprintf(format, args...), line)
	}
	if len(f) == 1 {
		return 0
	}
	n, err := strconv.ParseInt(f[1], 10, 64)
	if err != nil {
		p.t.Fatalf("fake PBX process answered %q", line)
	}
	return n
}
