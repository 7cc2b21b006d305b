package ami_test

import (
	"strings"
	"testing"
	"time"

	"github.com/apntalk/ami"
)

func TestConnectFailureLogsAreStructured(t *testing.T) {
	addr := rDeadAddr(t)
	logs, logOpt := rJSONLogger()
	fake, now := rFake()
	const cooldown = 5 * time.Second
	m := rManager(t, rOne(addr, ami.Options{
		ReconnectBase:    100 * time.Millisecond,
		ReconnectMax:     400 * time.Millisecond,
		ReconnectJitter:  -1,
		BreakerThreshold: 3,
		BreakerCooldown:  cooldown,
	}), now, logOpt)
	c := m.Default()
	m.Poll()

	type failure struct {
		at, next time.Time
		delay    time.Duration
	}
	var fails []failure
	for i := 1; i <= 3; i++ {
		d := rNextRetry(t, m, c, fake, i)
		fails = append(fails, failure{at: fake.Now(), next: c.Health().NextRetry, delay: d})
		if i < 3 {
			rExpectRetryAt(t, m, fake, d)
		}
	}
	if err := m.Close(); err != nil { // flushes the asynchronous log handler
		t.Fatal(err)
	}

	recs := logs.withMsg(t, "ami: connection failed")
	if len(recs) != len(fails) {
		t.Fatalf("%d \"ami: connection failed\" records, want %d", len(recs), len(fails))
	}
	wantBackoff := []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond}
	for i, r := range recs {
		f := fails[i]
		if r["level"] != "WARN" || r["server_key"] != "pbx" || r["address"] != addr || r["phase"] != "connect" {
			t.Fatalf("record %d: %v", i, r)
		}
		if got := rInt(t, r, "attempt"); got != int64(i+1) {
			t.Fatalf("record %d: attempt %d, want %d", i, got, i+1)
		}
		if got := time.Duration(rInt(t, r, "backoff")); got != wantBackoff[i] {
			t.Fatalf("record %d: backoff %v, want %v", i, got, wantBackoff[i])
		}
		next := rTime(t, r, "next_retry_at")
		if !next.Equal(f.next) {
			t.Fatalf("record %d: next_retry_at %v, Health.NextRetry %v", i, next, f.next)
		}
		if errText, _ := r["error"].(string); !strings.Contains(errText, addr) {
			t.Fatalf("record %d: error %q does not name the address", i, errText)
		}
	}
	// The first two retries wait the backoff; the third failure trips the
	// breaker, whose cooldown then decides the retry.
	if fails[0].delay != wantBackoff[0] || fails[1].delay != wantBackoff[1] || fails[2].delay != cooldown {
		t.Fatalf("delays %v, %v, %v", fails[0].delay, fails[1].delay, fails[2].delay)
	}
	if b := recs[2]["breaker"]; b != "open" {
		t.Fatalf("third failure logged breaker %v, want open", b)
	}

	trips := logs.withMsg(t, "ami: circuit breaker")
	if len(trips) != 1 || trips[0]["from"] != "closed" || trips[0]["to"] != "open" || trips[0]["server_key"] != "pbx" {
		t.Fatalf("breaker records: %v", trips)
	}
	if got := rInt(t, trips[0], "consecutive_failures"); got != 3 {
		t.Fatalf("breaker opened after %d consecutive failures, want 3", got)
	}
	for i, r := range logs.withMsg(t, "ami: connecting") {
		if r["server_key"] != "pbx" || r["address"] != addr || rInt(t, r, "attempt") != int64(i+1) {
			t.Fatalf("connecting record %d: %v", i, r)
		}
	}
	for _, r := range logs.records(t) {
		if r["server_key"] == nil && r["msg"] != "ami: log records dropped" {
			t.Fatalf("record without server_key: %v", r)
		}
		if strings.Contains(r["msg"].(string), "admin-secret") {
			t.Fatalf("secret in a log record: %v", r)
		}
	}
}
