package loadgen

import (
	"slices"
	"time"
)

// Operations the load generator times.
const (
	opCheckout = iota
	opCheckIn
	opExtend
	opIdentity
	opReplay // a CheckoutLicense sent again with its ClientToken
	opLaunch
	opTerminate
	numOps
)

var opNames = [numOps]string{"CheckoutLicense", "CheckInLicense", "ExtendLicenseConsumption", "GetCallerIdentity", "CheckoutLicense (retry)",
	"RunInstances", "TerminateInstances"}

// tally is what one client goroutine counted inside the measured window. Not safe for
// concurrent use: each goroutine has its own, merged at the end.
type tally struct {
	from, to time.Time // the measured window
	lat      [numOps][]int64
	ok       [numOps]int64
	errs     map[string]int64 // by op name and error code: "CheckoutLicense: NoEntitlementsAllowedException"
	server   int64            // answers with a 5xx status
}

func newTally(from, to time.Time) *tally {
	return &tally{from: from, to: to, errs: map[string]int64{}}
}

// record counts one request of op that started at start and ended now with err.
func (t *tally) record(op int, start time.Time, err error) {
	end := time.Now()
	if start.Before(t.from) || end.After(t.to) {
		return
	}
	if err == nil {
		t.ok[op]++
		t.lat[op] = append(t.lat[op], int64(end.Sub(start)))
		return
	}
	t.errs[opNames[op]+": "+errorCode(err)]++
	if ae, ok := err.(*APIError); ok {
		t.lat[op] = append(t.lat[op], int64(end.Sub(start)))
		if ae.Status >= 500 {
			t.server++
		}
	}
}

func (t *tally) merge(o *tally) {
	for i := range numOps {
		t.lat[i] = append(t.lat[i], o.lat[i]...)
		t.ok[i] += o.ok[i]
	}
	for k, v := range o.errs {
		t.errs[k] += v
	}
	t.server += o.server
}

// Latency summarises request latencies, in milliseconds.
type Latency struct {
	Count int64   `json:"count"`
	Mean  float64 `json:"mean_ms"`
	P50   float64 `json:"p50_ms"`
	P90   float64 `json:"p90_ms"`
	P99   float64 `json:"p99_ms"`
	Max   float64 `json:"max_ms"`
}

// summarize sorts ns in place and returns its summary.
func summarize(ns []int64) Latency {
	if len(ns) == 0 {
		return Latency{}
	}
	slices.Sort(ns)
	var sum float64
	for _, v := range ns {
		sum += float64(v)
	}
	ms := func(v int64) float64 { return float64(v) / 1e6 }
	at := func(q float64) float64 {
		i := int(q*float64(len(ns))+0.5) - 1
		return ms(ns[min(max(i, 0), len(ns)-1)])
	}
	return Latency{
		Count: int64(len(ns)),
		Mean:  sum / float64(len(ns)) / 1e6,
		P50:   at(0.50),
		P90:   at(0.90),
		P99:   at(0.99),
		Max:   ms(ns[len(ns)-1]),
	}
}
