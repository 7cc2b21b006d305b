package main_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// amiBin is the ami binary built once by TestMain.
var amiBin string

// buildFlags are the flags of that build: -race when the tests run with
// -race (race_test.go), so that the binary is checked too.
var buildFlags []string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "ami-cli-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	amiBin = filepath.Join(dir, "ami")
	build := exec.Command("go", append(append([]string{"build"}, buildFlags...), "-o", amiBin, ".")...)
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building ami:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	goleak.VerifyTestMain(m, goleak.Cleanup(func(code int) {
		os.RemoveAll(dir)
		os.Exit(code)
	}))
}

// env returns a minimal environment for the binary plus kv pairs.
func env(kv ...string) []string {
	// A race-enabled binary otherwise sleeps 1s before exiting.
	out := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"), "GORACE=atexit_sleep_ms=0 halt_on_error=1"}
	return append(out, kv...)
}

// result is a finished run of the binary.
type result struct {
	stdout, stderr string
	code           int
}

// runAMI runs the binary to completion (bounded by a generous timeout).
func runAMI(t *testing.T, environ []string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, amiBin, args...)
	cmd.Env = environ
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("ami %v: %v", args, err)
	}
	return result{stdout: stdout.String(), stderr: stderr.String(), code: code}
}

// proc is a running ami process whose stdout lines and stderr are captured.
type proc struct {
	t     *testing.T
	cmd   *exec.Cmd
	lines chan string // stdout lines
	mu    sync.Mutex
	errb  bytes.Buffer
	errc  chan string // stderr lines
	done  chan struct{}
	code  int
	out   bytes.Buffer // every stdout line
}

// start runs the binary in the background. If stdout is not nil, it is used
// as is (a pipe nobody reads, for instance) and lines stays empty.
func start(t *testing.T, environ []string, stdout *os.File, args ...string) *proc {
	t.Helper()
	p := &proc{t: t, lines: make(chan string, 100000), errc: make(chan string, 10000), done: make(chan struct{})}
	p.cmd = exec.Command(amiBin, args...)
	p.cmd.Env = environ
	var wg sync.WaitGroup
	if stdout != nil {
		p.cmd.Stdout = stdout
	} else {
		r, err := p.cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		wg.Go(func() {
			sc := bufio.NewScanner(r)
			sc.Buffer(make([]byte, 1<<20), 1<<20)
			for sc.Scan() {
				p.mu.Lock()
				p.out.WriteString(sc.Text() + "\n")
				p.mu.Unlock()
				select {
				case p.lines <- sc.Text():
				default:
				}
			}
		})
	}
	er, err := p.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	wg.Go(func() {
		sc := bufio.NewScanner(er)
		for sc.Scan() {
			p.mu.Lock()
			p.errb.WriteString(sc.Text() + "\n")
			p.mu.Unlock()
			select {
			case p.errc <- sc.Text():
			default:
			}
		}
	})
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		wg.Wait()
		err := p.cmd.Wait()
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			p.code = ee.ExitCode()
		} else if err != nil {
			p.code = -1
		}
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

func (p *proc) stderr() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.errb.String()
}

func (p *proc) stdout() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.String()
}

// signal sends sig and waits for the exit status (bounded).
func (p *proc) stop(sig os.Signal, within time.Duration) int {
	p.t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		p.t.Fatalf("signal: %v", err)
	}
	return p.wait(within)
}

func (p *proc) wait(within time.Duration) int {
	p.t.Helper()
	select {
	case <-p.done:
		return p.code
	case <-time.After(within):
		p.t.Fatalf("ami did not exit within %v; stderr:\n%s", within, p.stderr())
		return -1
	}
}

// waitLog waits for a JSON log record on stderr whose msg is msg.
func (p *proc) waitLog(msg string, within time.Duration) map[string]any {
	p.t.Helper()
	deadline := time.After(within)
	for {
		select {
		case line := <-p.errc:
			var rec map[string]any
			if json.Unmarshal([]byte(line), &rec) == nil && rec["msg"] == msg {
				return rec
			}
		case <-p.done:
			p.t.Fatalf("ami exited (%d) before logging %q; stderr:\n%s", p.code, msg, p.stderr())
		case <-deadline:
			p.t.Fatalf("no %q log within %v; stderr:\n%s", msg, within, p.stderr())
		}
	}
}

// eventLine is one JSON line of listen.
type eventLine struct {
	Server     string         `json:"server"`
	Event      string         `json:"event"`
	ReceivedAt string         `json:"received_at"`
	Headers    map[string]any `json:"headers"`
}

// waitEvent reads stdout lines until an event named name arrives.
func (p *proc) waitEvent(name string, within time.Duration) eventLine {
	p.t.Helper()
	deadline := time.After(within)
	for {
		select {
		case line := <-p.lines:
			var e eventLine
			if err := json.Unmarshal([]byte(line), &e); err != nil {
				p.t.Fatalf("stdout line is not JSON: %v: %q", err, line)
			}
			if e.Event == name {
				return e
			}
		case <-p.done:
			p.t.Fatalf("ami exited (%d) before printing %s; stderr:\n%s", p.code, name, p.stderr())
		case <-deadline:
			p.t.Fatalf("no %s event within %v; stderr:\n%s", name, within, p.stderr())
		}
	}
}

// summaryRecord is the JSON summary record of one server.
type summaryRecord struct {
	Server        string `json:"server_key"`
	Received      uint64 `json:"received"`
	Printed       uint64 `json:"printed"`
	Filtered      uint64 `json:"filtered"`
	DroppedOutput uint64 `json:"dropped_output"`
	DroppedQueue  uint64 `json:"dropped_queue"`
	Undelivered   uint64 `json:"undelivered"`
	Reconnects    uint64 `json:"reconnects"`
}

// summaries parses the JSON summary records of a stderr text.
func summaries(t *testing.T, stderr string) map[string]summaryRecord {
	t.Helper()
	out := map[string]summaryRecord{}
	for line := range strings.SplitSeq(stderr, "\n") {
		if !strings.Contains(line, `"msg":"summary"`) {
			continue
		}
		var s summaryRecord
		if err := json.Unmarshal([]byte(line), &s); err != nil {
			t.Fatalf("bad summary %q: %v", line, err)
		}
		out[s.Server] = s
	}
	return out
}

// noSecret fails if secret appears in any of the texts.
func noSecret(t *testing.T, secret string, texts ...string) {
	t.Helper()
	for _, s := range texts {
		if strings.Contains(s, secret) {
			t.Errorf("the secret appears in the output:\n%s", s)
		}
	}
}

// writeFile writes a file in a test directory and returns its path.
func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
