package amiprom_test

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apntalk/ami"
	"github.com/apntalk/ami/amiprom"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// TestDocsListEveryMetric keeps docs/metrics.md in step with the code: every
// registered metric is documented with its type and labels, and every
// documented metric exists.
func TestDocsListEveryMetric(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := amiprom.New(reg)
	// Touch every method so that every vector has a child and is gathered.
	m.EventReceived("s", "Hangup")
	m.EventsDropped("s", 1)
	m.ActionSent("s", "Ping")
	m.ActionDone("s", "Ping", time.Millisecond, "success")
	m.PendingActions("s", 1)
	m.WriteBufferBytes("s", 1)
	m.BytesPurged("s", 1)
	m.ConnectionState("s", ami.StateReady)
	m.Reconnect("s")
	m.ConnectFailure("s", "refused")
	m.CircuitState("s", "closed")
	m.ProtocolError("s", "desync")
	m.LogRecordsDropped(1)
	m.OutputLinesDropped(1)
	m.Tick(time.Millisecond, time.Millisecond)

	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{} // name -> "type labels"
	for _, mf := range mfs {
		var labels []string
		for _, lp := range mf.GetMetric()[0].GetLabel() {
			labels = append(labels, lp.GetName())
		}
		slices.Sort(labels)
		typ := map[dto.MetricType]string{dto.MetricType_COUNTER: "counter", dto.MetricType_GAUGE: "gauge", dto.MetricType_HISTOGRAM: "histogram"}[mf.GetType()]
		got[mf.GetName()] = typ + " " + strings.Join(labels, ",")
	}

	doc, err := os.ReadFile("../docs/metrics.md")
	if err != nil {
		t.Fatal(err)
	}
	row := regexp.MustCompile("(?m)^\\| `(ami_[a-z_]+)` \\| (\\w+) \\| ([^|]*)\\|")
	documented := map[string]string{}
	for _, r := range row.FindAllStringSubmatch(string(doc), -1) {
		var labels []string
		for _, l := range strings.Split(r[3], ",") {
			if l = strings.Trim(strings.TrimSpace(l), "`"); l != "" {
				labels = append(labels, l)
			}
		}
		slices.Sort(labels)
		documented[r[1]] = r[2] + " " + strings.Join(labels, ",")
	}
	for name, want := range got {
		if d, ok := documented[name]; !ok {
			t.Errorf("docs/metrics.md does not list %s (%s)", name, want)
		} else if d != want {
			t.Errorf("docs/metrics.md: %s documented as %q, registered as %q", name, d, want)
		}
	}
	for name := range documented {
		if _, ok := got[name]; !ok {
			t.Errorf("docs/metrics.md lists %s, which is not registered", name)
		}
	}
}
