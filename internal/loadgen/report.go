package loadgen

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
)

// WriteJSON writes the report as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(r); err != nil {
		return fmt.Errorf("loadgen: write report: %w", err)
	}
	return nil
}

// WriteTable writes the report as text tables: the scenarios' rates and latencies, the
// baselines and ratios, errors by code and the invariant checks.
func (r *Report) WriteTable(w io.Writer) error {
	b := &strings.Builder{}
	fmt.Fprintf(b, "allot bench against %s as %s, %d clients, issuer key %s\n", r.Endpoint, r.Principal, r.Clients, r.KeyAlg)
	fmt.Fprintf(b, "machine: %d CPUs (GOMAXPROCS %d) %s, %s %s/%s\n\n", r.Machine.CPUs, r.Machine.GOMAXPROCS, r.Machine.CPUModel, r.Machine.GoVersion, r.Machine.OS, r.Machine.Arch)

	tw := tabwriter.NewWriter(b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "scenario\tops/s\tcheckouts/s\tp50 ms\tp90 ms\tp99 ms\tmax ms\terrors\tclient µs/op\tserver µs/op\twrites/tx\t")
	for _, s := range r.Scenarios {
		fmt.Fprintf(tw, "%s\t%.0f\t%s\t%.2f\t%.2f\t%.2f\t%.1f\t%d\t%.0f\t%s\t%s\t\n", s.Name, s.OpsPerSec, orDash(s.CheckoutsPerSec, "%.0f"),
			s.Latency.P50, s.Latency.P90, s.Latency.P99, s.Latency.Max, sum(s.Errors), s.ClientCPUPerOp, orDash(s.ServerCPUPerOp, "%.0f"), orDash(s.ServerBatch, "%.1f"))
	}
	tw.Flush()

	fmt.Fprintln(b, "\nlatency by operation")
	tw = tabwriter.NewWriter(b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "scenario\toperation\tcount\tp50 ms\tp90 ms\tp99 ms\tmax ms\t")
	for _, s := range r.Scenarios {
		for _, op := range slices.Sorted(maps.Keys(s.ByOperation)) {
			l := s.ByOperation[op]
			fmt.Fprintf(tw, "%s\t%s\t%d\t%.2f\t%.2f\t%.2f\t%.1f\t\n", s.Name, op, l.Count, l.P50, l.P90, l.P99, l.Max)
		}
	}
	tw.Flush()

	bl := r.Baselines
	fmt.Fprintln(b, "\nbaselines (same run)")
	tw = tabwriter.NewWriter(b, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "  GetCallerIdentity on this server\t%s ops/s\n", orDash(bl.IdentityOpsPerSec, "%.0f"))
	if bl.StoreWritesPerSec > 0 {
		fmt.Fprintf(tw, "  store group commit in process (%s)\t%.0f writes/s\t(%.1f per transaction)\n", bl.StoreDialect, bl.StoreWritesPerSec, bl.StoreBatch)
	}
	if bl.SignsPerSec > 0 {
		fmt.Fprintf(tw, "  %s token signing in process\t%.0f signatures/s\n", bl.SignAlg, bl.SignsPerSec)
	}
	tw.Flush()
	if slices.ContainsFunc(r.Scenarios, func(s *ScenarioResult) bool { return len(s.Ratios) > 0 }) {
		fmt.Fprintln(b, "\nratios (ops/s to baseline; checkouts/s to signing)")
		tw = tabwriter.NewWriter(b, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "scenario\tto identity\tto store\tto signing\t")
		for _, s := range r.Scenarios {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t\n", s.Name, ratio(s.Ratios, "identity"), ratio(s.Ratios, "store"), ratio(s.Ratios, "signing"))
		}
		tw.Flush()
	}

	for _, s := range r.Scenarios {
		if len(s.Errors) == 0 {
			continue
		}
		fmt.Fprintf(b, "\nerrors in %s\n", s.Name)
		for _, k := range slices.Sorted(maps.Keys(s.Errors)) {
			fmt.Fprintf(b, "  %8d  %s\n", s.Errors[k], k)
		}
	}

	fmt.Fprintln(b, "\ninvariants")
	for _, s := range r.Scenarios {
		for _, c := range s.Checks {
			mark := "ok  "
			if !c.OK {
				mark = "FAIL"
			}
			fmt.Fprintf(b, "  %s  %-9s %s: %s\n", mark, s.Name, c.Name, c.Detail)
		}
	}
	if len(r.Violations) > 0 {
		fmt.Fprintf(b, "\n%d invariant violations\n", len(r.Violations))
	} else {
		fmt.Fprintln(b, "\nall invariants held")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func orDash(v float64, format string) string {
	if v == 0 {
		return "-"
	}
	return fmt.Sprintf(format, v)
}

func ratio(m map[string]float64, k string) string {
	v, ok := m[k]
	if !ok {
		return "-"
	}
	return fmt.Sprintf("%.0f%%", v*100)
}

func sum(m map[string]int64) int64 {
	var n int64
	for _, v := range m {
		n += v
	}
	return n
}
