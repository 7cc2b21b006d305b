package bench

import (
	"fmt"
	"time"
)

// Scenarios lists the scenario names Run accepts, in run order.
var Scenarios = []string{"parser", "ingest", "roundtrip", "memory", "idle"}

// Config selects scenarios and sizes. Zero sizes take the defaults of the
// full run, or of the short run when Short is set.
type Config struct {
	// Scenarios to run (names from Scenarios); all when empty.
	Scenarios []string
	// Short shrinks every size so that the suite takes a few seconds (CI).
	Short bool
	// ParserTime is the time spent per parser contestant. Defaults to 2s (short: 200ms).
	ParserTime time.Duration
	// Events is the flood size of the ingest scenario. Defaults to 500,000 (short: 50,000).
	Events int
	// IngestRounds is how many times each ingest contestant runs (best kept). Defaults to 3 (short: 1).
	IngestRounds int
	// Pings is the number of sequential Do(Ping). Defaults to 5,000 (short: 500).
	Pings int
	// Actions is the number of concurrent actions. Defaults to 50,000 (short: 5,000).
	Actions int
	// IdleTime is the idle CPU measurement window. Defaults to 10s (short: 1s).
	IdleTime time.Duration
}

func (c Config) withDefaults() Config {
	pick := func(v, full, short int) int {
		if v > 0 {
			return v
		}
		if c.Short {
			return short
		}
		return full
	}
	pickD := func(v, full, short time.Duration) time.Duration {
		if v > 0 {
			return v
		}
		if c.Short {
			return short
		}
		return full
	}
	c.ParserTime = pickD(c.ParserTime, 2*time.Second, 200*time.Millisecond)
	c.Events = pick(c.Events, 500_000, 50_000)
	c.IngestRounds = pick(c.IngestRounds, 3, 1)
	c.Pings = pick(c.Pings, 5000, 500)
	c.Actions = pick(c.Actions, 50_000, 5000)
	c.IdleTime = pickD(c.IdleTime, 10*time.Second, time.Second)
	if len(c.Scenarios) == 0 {
		c.Scenarios = Scenarios
	}
	return c
}

// Run runs the selected scenarios in order and returns their results. It
// stops at the first scenario that cannot run (an error, not a missed
// target).
func Run(cfg Config) ([]Result, error) {
	cfg = cfg.withDefaults()
	var out []Result
	for _, name := range cfg.Scenarios {
		var rs []Result
		var err error
		switch name {
		case "parser":
			rs, err = Parser(cfg.ParserTime)
		case "ingest":
			rs, err = Ingest(cfg.Events, cfg.IngestRounds)
		case "roundtrip":
			rs, err = RoundTrip(cfg.Pings, cfg.Actions)
		case "memory":
			rs, err = Memory(cfg.Short)
		case "idle":
			rs, err = Idle(cfg.IdleTime)
		default:
			return out, fmt.Errorf("ami: bench: unknown scenario %q (known: %v)", name, Scenarios)
		}
		if err != nil {
			return out, fmt.Errorf("ami: bench: %s: %w", name, err)
		}
		out = append(out, rs...)
	}
	return out, nil
}
