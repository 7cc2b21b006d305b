package bench

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// Result is one measured figure, beside its reference when it has one.
type Result struct {
	// Scenario is the scenario that measured it ("parser", "ingest", ...).
	Scenario string
	// Figure names what was measured, e.g. "parser frames/s".
	Figure string
	// Value is the measured figure, in Unit.
	Value float64
	Unit  string
	// Reference is the reference's figure from the same run (0 when the
	// target is absolute), and RefName says what it is.
	Reference float64
	RefName   string
	// Ratio is Value/Reference (0 without a reference).
	Ratio float64
	// Target is the goal in words ("ratio >= 0.55", "< 1% of a core");
	// empty when the figure is only reported.
	Target string
	// Pass tells whether the target is met (true when there is none).
	Pass bool
	// Note adds context (loss count, CPU time, ...).
	Note string
}

// ratio builds a Result compared with a reference; higher is better when
// min is set (ratio >= min passes), lower when max is set.
func ratio(scenario, figure, unit string, value, ref float64, refName string, min, max float64) Result {
	r := Result{Scenario: scenario, Figure: figure, Value: value, Unit: unit, Reference: ref, RefName: refName, Pass: true}
	if ref > 0 {
		r.Ratio = value / ref
	}
	switch {
	case min > 0:
		r.Target = fmt.Sprintf("ratio >= %.2f", min)
		r.Pass = r.Ratio >= min
	case max > 0:
		r.Target = fmt.Sprintf("ratio <= %.2f", max)
		r.Pass = r.Ratio <= max
	}
	return r
}

// absolute builds a Result with no reference.
func absolute(scenario, figure, unit string, value float64, target string, pass bool) Result {
	return Result{Scenario: scenario, Figure: figure, Value: value, Unit: unit, Target: target, Pass: pass}
}

// WriteTable prints results as an aligned table: figure, value, reference,
// ratio, target and PASS/FAIL.
func WriteTable(w io.Writer, results []Result) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "FIGURE\tVALUE\tREFERENCE\tRATIO\tTARGET\tRESULT\tNOTE")
	for _, r := range results {
		ref, rat := "-", "-"
		if r.Reference > 0 {
			ref = fmt.Sprintf("%s %s (%s)", human(r.Reference), r.Unit, r.RefName)
			rat = fmt.Sprintf("%.2f", r.Ratio)
		}
		verdict := "PASS"
		switch {
		case r.Target == "":
			verdict = "info"
		case !r.Pass:
			verdict = "FAIL"
		}
		target := r.Target
		if target == "" {
			target = "-"
		}
		fmt.Fprintf(tw, "%s\t%s %s\t%s\t%s\t%s\t%s\t%s\n", r.Figure, human(r.Value), r.Unit, ref, rat, target, verdict, r.Note)
	}
	return tw.Flush()
}

// human formats a number compactly.
func human(v float64) string {
	switch {
	case v >= 1e9:
		return fmt.Sprintf("%.2fG", v/1e9)
	case v >= 1e6:
		return fmt.Sprintf("%.2fM", v/1e6)
	case v >= 1e4:
		return fmt.Sprintf("%.1fk", v/1e3)
	case v == float64(int64(v)):
		return fmt.Sprintf("%d", int64(v))
	default:
		return strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.3f", v), "0"), ".")
	}
}

// Failed returns the results whose target was missed.
func Failed(results []Result) []Result {
	var out []Result
	for _, r := range results {
		if !r.Pass {
			out = append(out, r)
		}
	}
	return out
}
