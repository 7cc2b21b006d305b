package amiprom_test

import (
	"sync"
	"testing"
	"time"

	"github.com/apntalk/ami"
	"github.com/apntalk/ami/amiprom"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// find returns the metric of family name whose labels include want, or nil.
func find(t *testing.T, g prometheus.Gatherer, name string, want map[string]string) *dto.Metric {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, m := range mf.GetMetric() {
			got := map[string]string{}
			for _, lp := range m.GetLabel() {
				got[lp.GetName()] = lp.GetValue()
			}
			for k, v := range want {
				if got[k] != v {
					continue next
				}
			}
			return m
		}
	}
	return nil
}

func counter(t *testing.T, g prometheus.Gatherer, name string, labels map[string]string) float64 {
	t.Helper()
	m := find(t, g, name, labels)
	if m == nil {
		t.Fatalf("no %s%v", name, labels)
	}
	if m.Counter != nil {
		return m.Counter.GetValue()
	}
	return m.Gauge.GetValue()
}

func TestEventsBoundedAndCanonical(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := amiprom.New(reg)
	m.EventReceived("pbx1", "Hangup")
	m.EventReceived("pbx1", "HANGUP")
	m.EventReceived("pbx1", "hangup")
	m.EventReceived("pbx1", "MyCustomEvent42")
	m.EventReceived("pbx1", "AnotherRandomName")
	m.EventReceived("pbx2", "Newchannel")
	if v := counter(t, reg, "ami_events_received_total", map[string]string{"server": "pbx1", "event": "Hangup"}); v != 3 {
		t.Errorf("Hangup = %v, want 3", v)
	}
	if v := counter(t, reg, "ami_events_received_total", map[string]string{"server": "pbx1", "event": "other"}); v != 2 {
		t.Errorf("other = %v, want 2", v)
	}
	if v := counter(t, reg, "ami_events_received_total", map[string]string{"server": "pbx2", "event": "Newchannel"}); v != 1 {
		t.Errorf("pbx2 Newchannel = %v", v)
	}
	if find(t, reg, "ami_events_received_total", map[string]string{"event": "MyCustomEvent42"}) != nil {
		t.Error("unbounded event label exported")
	}
}

func TestWithEventNames(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := amiprom.New(reg, amiprom.WithEventNames("MyEvent"))
	m.EventReceived("p", "myevent")
	m.EventReceived("p", "Hangup")
	if v := counter(t, reg, "ami_events_received_total", map[string]string{"event": "MyEvent"}); v != 1 {
		t.Errorf("MyEvent = %v", v)
	}
	if v := counter(t, reg, "ami_events_received_total", map[string]string{"event": "other"}); v != 1 {
		t.Errorf("other = %v", v)
	}
}

func TestActions(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := amiprom.New(reg)
	m.ActionSent("pbx1", "Originate")
	m.ActionSent("pbx1", "originate")
	m.ActionSent("pbx1", "SomethingWeird")
	m.ActionDone("pbx1", "Originate", 20*time.Millisecond, "success")
	m.ActionDone("pbx1", "Originate", 3*time.Second, "timeout")
	m.ActionDone("pbx1", "Originate", time.Millisecond, "brand_new_outcome")
	if v := counter(t, reg, "ami_actions_sent_total", map[string]string{"action": "Originate"}); v != 2 {
		t.Errorf("sent Originate = %v", v)
	}
	if v := counter(t, reg, "ami_actions_sent_total", map[string]string{"action": "other"}); v != 1 {
		t.Errorf("sent other = %v", v)
	}
	for outcome, want := range map[string]float64{"success": 1, "timeout": 1, "other": 1} {
		if v := counter(t, reg, "ami_actions_completed_total", map[string]string{"action": "Originate", "outcome": outcome}); v != want {
			t.Errorf("completed %s = %v", outcome, v)
		}
	}
	h := find(t, reg, "ami_action_duration_seconds", map[string]string{"server": "pbx1", "action": "Originate"})
	if h == nil || h.Histogram.GetSampleCount() != 3 || h.Histogram.GetSampleSum() < 3 {
		t.Errorf("histogram = %v", h)
	}
}

func TestGaugesAndStates(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := amiprom.New(reg)
	m.ConnectionState("pbx1", ami.StateConnecting)
	m.ConnectionState("pbx1", ami.StateReady)
	for _, st := range []ami.State{ami.StateDisconnected, ami.StateConnecting, ami.StateConnected, ami.StateAuthenticating,
		ami.StateReady, ami.StateReconnecting, ami.StateClosing, ami.StateClosed} {
		want := 0.0
		if st == ami.StateReady {
			want = 1
		}
		if v := counter(t, reg, "ami_connection_state", map[string]string{"server": "pbx1", "state": st.String()}); v != want {
			t.Errorf("state %s = %v, want %v", st, v, want)
		}
	}
	m.CircuitState("pbx1", "open")
	if v := counter(t, reg, "ami_circuit_state", map[string]string{"state": "open"}); v != 1 {
		t.Errorf("open = %v", v)
	}
	if v := counter(t, reg, "ami_circuit_state", map[string]string{"state": "closed"}); v != 0 {
		t.Errorf("closed = %v", v)
	}
	m.PendingActions("pbx1", 7)
	m.WriteBufferBytes("pbx1", 1024)
	m.BytesPurged("pbx1", 10)
	m.BytesPurged("pbx1", 5)
	m.EventsDropped("pbx1", 3)
	m.Reconnect("pbx1")
	m.LogRecordsDropped(4)
	m.OutputLinesDropped(6)
	checks := []struct {
		name string
		want float64
	}{
		{"ami_pending_actions", 7}, {"ami_write_buffer_bytes", 1024}, {"ami_purged_bytes_total", 15},
		{"ami_events_dropped_total", 3}, {"ami_reconnects_total", 1}, {"ami_log_records_dropped_total", 4},
		{"ami_output_lines_dropped_total", 6},
	}
	for _, c := range checks {
		if v := counter(t, reg, c.name, nil); v != c.want {
			t.Errorf("%s = %v, want %v", c.name, v, c.want)
		}
	}
}

func TestFreeFormLabelsAreCapped(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := amiprom.New(reg, amiprom.WithMaxLabelValues(2))
	for _, r := range []string{"refused", "timeout", "auth", "dns", "refused"} {
		m.ConnectFailure("pbx1", r)
	}
	m.ProtocolError("pbx1", "desync")
	if v := counter(t, reg, "ami_connect_failures_total", map[string]string{"reason": "refused"}); v != 2 {
		t.Errorf("refused = %v", v)
	}
	if v := counter(t, reg, "ami_connect_failures_total", map[string]string{"reason": "other"}); v != 2 {
		t.Errorf("other = %v, want 2 (auth, dns over the cap)", v)
	}
	if v := counter(t, reg, "ami_protocol_errors_total", map[string]string{"kind": "desync"}); v != 1 {
		t.Errorf("desync = %v", v)
	}
}

func TestTick(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := amiprom.New(reg)
	m.Tick(30*time.Millisecond, 25*time.Millisecond)
	for _, name := range []string{"ami_tick_duration_seconds", "ami_tick_wait_seconds"} {
		h := find(t, reg, name, nil)
		if h == nil || h.Histogram.GetSampleCount() != 1 {
			t.Errorf("%s = %v", name, h)
		}
	}
}

func TestSharedRegistry(t *testing.T) {
	reg := prometheus.NewRegistry()
	a := amiprom.New(reg)
	b := amiprom.New(reg) // must not panic
	a.Reconnect("pbx1")
	b.Reconnect("pbx1")
	if v := counter(t, reg, "ami_reconnects_total", map[string]string{"server": "pbx1"}); v != 2 {
		t.Errorf("reconnects = %v, want 2", v)
	}
}

func TestNamespaceAndConstLabels(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := amiprom.New(reg, amiprom.WithNamespace("dialer"), amiprom.WithConstLabels(prometheus.Labels{"instance_id": "w1"}))
	m.Reconnect("p")
	if v := counter(t, reg, "dialer_reconnects_total", map[string]string{"instance_id": "w1"}); v != 1 {
		t.Errorf("reconnects = %v", v)
	}
}

func TestConcurrentUse(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := amiprom.New(reg)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 500 {
				m.EventReceived("pbx1", "Hangup")
				m.ActionSent("pbx1", "Ping")
				m.ConnectFailure("pbx1", []string{"a", "b", "c"}[(g+i)%3])
			}
		})
	}
	wg.Wait()
	if v := counter(t, reg, "ami_events_received_total", map[string]string{"event": "Hangup"}); v != 4000 {
		t.Errorf("Hangup = %v, want 4000", v)
	}
}

func TestHotPathDoesNotAllocate(t *testing.T) {
	m := amiprom.New(prometheus.NewRegistry())
	m.EventReceived("pbx1", "Hangup")
	m.ActionSent("pbx1", "Ping")
	m.ActionDone("pbx1", "Ping", time.Millisecond, "success")
	allocs := testing.AllocsPerRun(1000, func() {
		m.EventReceived("pbx1", "Hangup")
		m.EventsDropped("pbx1", 1)
		m.ActionSent("pbx1", "Ping")
		m.ActionDone("pbx1", "Ping", time.Millisecond, "success")
		m.PendingActions("pbx1", 3)
		m.Tick(time.Millisecond, time.Millisecond)
	})
	if allocs > 0 {
		t.Errorf("%v allocations per call set, want 0", allocs)
	}
}

func BenchmarkEventReceived(b *testing.B) {
	m := amiprom.New(prometheus.NewRegistry())
	b.ReportAllocs()
	for b.Loop() {
		m.EventReceived("pbx1", "Newstate")
	}
}
