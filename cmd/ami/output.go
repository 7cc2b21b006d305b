package main

import (
	"strings"
	"sync/atomic"

	"github.com/apntalk/ami"
	"github.com/apntalk/ami/cmd/ami/internal/eventout"
	"github.com/apntalk/ami/internal/lineout"
)

// outputCounters are the CLI's own counts for one server.
type outputCounters struct {
	printed       atomic.Uint64 // lines accepted by the bounded stdout queue
	filtered      atomic.Uint64 // events left out by --event
	droppedOutput atomic.Uint64 // lines dropped because stdout was too slow
}

// printer formats events and queues them on the bounded stdout writer. Its
// handle method is an ami.EventHandler: it runs on the tick goroutine,
// never blocks and reuses one buffer.
type printer struct {
	out      *lineout.Writer
	format   eventout.Format
	names    []string // --event filter; empty: every event
	counters map[string]*outputCounters
	dropped  func(n int) // metrics hook, may be nil
	buf      []byte
}

func newPrinter(out *lineout.Writer, format eventout.Format, names []string, servers []string, dropped func(int)) *printer {
	p := &printer{out: out, format: format, names: names, counters: make(map[string]*outputCounters, len(servers)), dropped: dropped}
	for _, s := range servers {
		p.counters[s] = &outputCounters{}
	}
	return p
}

// counter returns the counters of a server (created up front, so the map is
// only read after construction).
func (p *printer) counter(server string) *outputCounters {
	if c, ok := p.counters[server]; ok {
		return c
	}
	return &outputCounters{} // unknown server: not counted (cannot happen)
}

func (p *printer) wanted(name string) bool {
	if len(p.names) == 0 {
		return true
	}
	for _, n := range p.names {
		if strings.EqualFold(n, name) {
			return true
		}
	}
	return false
}

func (p *printer) handle(e *ami.Event) {
	c := p.counter(e.Server())
	if !p.wanted(e.Name()) {
		c.filtered.Add(1)
		return
	}
	p.buf = p.format.Append(p.buf[:0], e)
	if p.out.WriteLine(p.buf) {
		c.printed.Add(1)
		return
	}
	c.droppedOutput.Add(1)
	if p.dropped != nil {
		p.dropped(1)
	}
}
