package main

import (
	"fmt"
	"io"
	"log/slog"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/apntalk/ami"
	"github.com/apntalk/ami/internal/lineout"
)

// summaryRow is the end-of-run account of one server. Every event received
// is exactly one of: printed, filtered out, dropped at output, dropped in
// the event queue, or undelivered (still queued when the run ended):
//
//	received = printed + filtered + dropped_output + dropped_queue + undelivered
type summaryRow struct {
	Server        string
	Received      uint64
	Printed       uint64
	Filtered      uint64
	DroppedOutput uint64
	DroppedQueue  uint64
	Undelivered   uint64
	Reconnects    uint64
	State         ami.State
}

func summaryRows(stats ami.ManagerStats, p *printer) []summaryRow {
	rows := make([]summaryRow, 0, len(stats.Servers))
	for _, s := range stats.Servers {
		c := p.counter(s.Server)
		r := summaryRow{
			Server: s.Server, Received: s.EventsReceived, DroppedQueue: s.EventsDropped,
			Printed: c.printed.Load(), Filtered: c.filtered.Load(), DroppedOutput: c.droppedOutput.Load(),
			Reconnects: s.Reconnects, State: s.State,
		}
		if done := s.EventsDispatched + s.EventsDropped; s.EventsReceived > done {
			r.Undelivered = s.EventsReceived - done
		}
		rows = append(rows, r)
	}
	return rows
}

// writeSummary reports the run on stderr: one structured record per server
// when logs are JSON (machine-readable), a table otherwise.
func writeSummary(w io.Writer, logger *slog.Logger, jsonLogs bool, rows []summaryRow, out lineout.Stats, elapsed time.Duration, logDropped uint64) {
	if jsonLogs {
		for _, r := range rows {
			logger.Info("summary", "server_key", r.Server, "received", r.Received, "printed", r.Printed,
				"filtered", r.Filtered, "dropped_output", r.DroppedOutput, "dropped_queue", r.DroppedQueue,
				"undelivered", r.Undelivered, "reconnects", r.Reconnects, "state", r.State.String())
		}
		logger.Info("summary total", "elapsed", elapsed.Round(time.Millisecond).String(), "lines_written", out.Written,
			"lines_dropped", out.Dropped, "write_errors", out.Errors, "log_records_dropped", logDropped)
		return
	}
	var b strings.Builder
	fmt.Fprintf(&b, "ami: summary after %s\n", elapsed.Round(time.Millisecond))
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SERVER\tRECEIVED\tPRINTED\tFILTERED\tDROPPED_OUTPUT\tDROPPED_QUEUE\tUNDELIVERED\tRECONNECTS\tSTATE")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%s\n", r.Server, r.Received, r.Printed, r.Filtered,
			r.DroppedOutput, r.DroppedQueue, r.Undelivered, r.Reconnects, r.State)
	}
	tw.Flush()
	fmt.Fprintf(&b, "output: %d lines written, %d dropped, %d write errors; %d log records dropped\n",
		out.Written, out.Dropped, out.Errors, logDropped)
	io.WriteString(w, b.String())
}
