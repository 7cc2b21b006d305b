package amiprom

import (
	"slices"

	"github.com/prometheus/client_golang/prometheus"
)

// Option configures New.
type Option func(*config)

type config struct {
	namespace       string
	constLabels     prometheus.Labels
	eventNames      []string
	actionNames     []string
	maxLabelValues  int
	actionBuckets   []float64
	tickBuckets     []float64
	tickWaitBuckets []float64
}

func defaultConfig() config {
	return config{
		namespace:       "ami",
		eventNames:      DefaultEventNames(),
		actionNames:     DefaultActionNames(),
		maxLabelValues:  32,
		actionBuckets:   []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		tickBuckets:     []float64{.00005, .0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25},
		tickWaitBuckets: []float64{0, .001, .0025, .005, .01, .025, .05, .1, .25},
	}
}

// WithNamespace replaces the metric name prefix. Defaults to "ami".
func WithNamespace(ns string) Option { return func(c *config) { c.namespace = ns } }

// WithConstLabels adds constant labels to every metric (for example the
// dialer instance). Defaults to none.
func WithConstLabels(l prometheus.Labels) Option {
	return func(c *config) { c.constLabels = l }
}

// WithEventNames replaces the set of event names exported as the "event"
// label of ami_events_received_total (matched case-insensitively, exported
// with the spelling given here); other events count as "other". Defaults to
// DefaultEventNames.
func WithEventNames(names ...string) Option {
	return func(c *config) { c.eventNames = slices.Clone(names) }
}

// WithActionNames replaces the set of action names exported as the "action"
// label; other actions count as "other". Defaults to DefaultActionNames.
func WithActionNames(names ...string) Option {
	return func(c *config) { c.actionNames = slices.Clone(names) }
}

// WithMaxLabelValues bounds the distinct values of a free-form label
// ("reason", "kind") per server and metric; further values count as
// "other". Values below 1 are ignored. Defaults to 32.
func WithMaxLabelValues(n int) Option {
	return func(c *config) {
		if n >= 1 {
			c.maxLabelValues = n
		}
	}
}

// WithActionBuckets replaces the buckets (seconds) of
// ami_action_duration_seconds. Defaults to 1ms..30s.
func WithActionBuckets(b ...float64) Option {
	return func(c *config) { c.actionBuckets = slices.Clone(b) }
}

// WithTickBuckets replaces the buckets (seconds) of ami_tick_duration_seconds
// and ami_tick_wait_seconds. Defaults to 50µs..250ms for the duration and
// 0..250ms for the wait.
func WithTickBuckets(duration, wait []float64) Option {
	return func(c *config) {
		if len(duration) > 0 {
			c.tickBuckets = slices.Clone(duration)
		}
		if len(wait) > 0 {
			c.tickWaitBuckets = slices.Clone(wait)
		}
	}
}
