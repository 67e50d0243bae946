package loadgen

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// runner holds what the scenarios of one run share.
type runner struct {
	cfg     Config
	ep      *endpoint
	log     *slog.Logger
	runID   string
	account string
	admin   *client // the credentials given: setup and verification
	load    *signer // the principal the load is sent as
}

// holds counts, per license, the checkouts clients hold: incremented once a checkout is
// answered, decremented before its check-in is sent. It can only be below the server's count,
// so a value above the license's MaxCount is an over-allocation seen by clients.
type holds struct {
	now, peak []atomic.Int64
}

func newHolds(n int) *holds {
	return &holds{now: make([]atomic.Int64, n), peak: make([]atomic.Int64, n)}
}

func (h *holds) add(i int) {
	n := h.now[i].Add(1)
	for {
		p := h.peak[i].Load()
		if n <= p || h.peak[i].CompareAndSwap(p, n) {
			return
		}
	}
}

func (h *holds) sub(i int) { h.now[i].Add(-1) }

// heldCheckout is a checkout a client still holds at the end of a scenario.
type heldCheckout struct {
	token   string
	license int
}

// worker is one load-generating client.
type worker struct {
	r     *runner
	id    int
	name  string // scenario
	c     *client
	t     *tally
	stop  time.Time // no new request after this
	lics  []*license
	fleet *fleet // the launches scenario's
	holds *holds
	held  []heldCheckout
	body  []byte

	retries, retryMismatch int64 // ClientToken retries sent, and those answered with another checkout
	unknown                int64 // checkouts whose outcome stayed unknown (transport errors)
}

func (w *worker) stopping() bool { return !time.Now().Before(w.stop) }

// scenario sets up and runs one scenario and checks its invariants.
func (r *runner) scenario(ctx context.Context, name string) (*ScenarioResult, error) {
	cfg := r.cfg
	var lics []*license
	var fl *fleet
	issuer := "AllotBench" + cfg.KeyAlg
	switch name {
	case ScenarioLaunches:
		f, err := setUpFleet(ctx, r.admin, r.runID, cfg.MaxCount)
		if err != nil {
			return nil, err
		}
		fl = f
	case ScenarioCheckout:
		l, err := createLicense(ctx, r.admin, cfg.Region, issuer, "BENCH-HOT-"+r.runID, cfg.KeyAlg, cfg.MaxCount)
		if err != nil {
			return nil, err
		}
		lics = []*license{l}
	case ScenarioSpread:
		for i := range cfg.Licenses {
			l, err := createLicense(ctx, r.admin, cfg.Region, issuer, fmt.Sprintf("BENCH-SPREAD-%s-%04d", r.runID, i), cfg.KeyAlg, int64(cfg.Clients))
			if err != nil {
				return nil, err
			}
			lics = append(lics, l)
		}
	case ScenarioExtend:
		l, err := createLicense(ctx, r.admin, cfg.Region, issuer, "BENCH-EXTEND-"+r.runID, cfg.KeyAlg, int64(cfg.Clients))
		if err != nil {
			return nil, err
		}
		lics = []*license{l}
	}

	start := time.Now()
	from := start.Add(cfg.Warmup)
	to := from.Add(cfg.Duration)
	hs := newHolds(max(len(lics), 1))
	workers := make([]*worker, cfg.Clients)
	for i := range workers {
		workers[i] = &worker{r: r, id: i, name: name, c: r.ep.newClient(r.load), t: newTally(from, to), stop: to, lics: lics, fleet: fl, holds: hs}
	}
	defer func() {
		for _, w := range workers {
			w.c.close()
		}
	}()

	// The monitor polls the licenses' usage while the load runs: it must never pass MaxCount.
	mon := &monitor{peak: make([]int64, max(len(lics), 1))}
	monCtx, stopMon := context.WithCancel(ctx)
	var monDone sync.WaitGroup
	if len(lics) > 0 {
		monDone.Go(func() { mon.run(monCtx, r, lics) })
	}
	if fl != nil {
		monDone.Go(func() { mon.runFleet(monCtx, r, fl) })
	}

	cpu0, srv0 := processCPU(), r.serverStats(ctx)
	var wg sync.WaitGroup
	for _, w := range workers {
		wg.Go(func() { w.run(ctx) })
	}
	wg.Wait()
	cpu1, srv1 := processCPU(), r.serverStats(ctx)
	stopMon()
	monDone.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	total := newTally(from, to)
	var retries, mismatches, unknown int64
	var held []heldCheckout
	for _, w := range workers {
		total.merge(w.t)
		retries += w.retries
		mismatches += w.retryMismatch
		unknown += w.unknown
		held = append(held, w.held...)
	}
	secs := cfg.Duration.Seconds()
	res := &ScenarioResult{Name: name, Clients: cfg.Clients, Seconds: secs, ByOperation: map[string]Latency{}, Errors: total.errs}
	var all []int64
	for op := range numOps {
		if op != opReplay {
			res.Ops += total.ok[op]
		}
		if len(total.lat[op]) > 0 {
			all = append(all, total.lat[op]...)
			res.ByOperation[opNames[op]] = summarize(total.lat[op])
		}
	}
	res.Latency = summarize(all)
	res.OpsPerSec = float64(res.Ops) / secs
	res.CheckoutsPerSec = float64(total.ok[opCheckout]) / secs
	if res.Ops > 0 {
		// CPU is measured over the whole scenario, warm-up included: divide by every request.
		reqs := float64(res.Ops) * (to.Sub(start).Seconds() / secs)
		res.ClientCPUPerOp = float64((cpu1 - cpu0).Microseconds()) / reqs
		if srv0.ok && srv1.ok {
			res.ServerCPUPerOp = (srv1.cpu - srv0.cpu) * 1e6 / reqs
			res.ServerRSSBytes = srv1.rss
			if txs := srv1.txs - srv0.txs; txs > 0 {
				res.ServerBatch = (srv1.req - srv0.req) / txs
			}
		}
	}

	// Invariants.
	res.Checks = append(res.Checks, Check{Name: "no server errors", OK: total.server == 0,
		Detail: fmt.Sprintf("%d answers with a 5xx status", total.server)})
	if len(lics) > 0 {
		res.Checks = append(res.Checks, r.verify(ctx, lics, hs, mon, held)...)
	}
	if fl != nil {
		res.Checks = append(res.Checks, r.verifyFleet(ctx, fl, hs, mon, held)...)
	}
	if cfg.RetryEvery > 0 && (name == ScenarioCheckout || name == ScenarioSpread) {
		res.Checks = append(res.Checks, Check{Name: "ClientToken retries answer the first checkout", OK: mismatches == 0,
			Detail: fmt.Sprintf("%d retries, %d answered with another checkout", retries, mismatches)})
	}
	if unknown > 0 {
		res.Checks = append(res.Checks, Check{Name: "every checkout's outcome known", OK: false,
			Detail: fmt.Sprintf("%d checkouts (or launches) failed to get an answer even on retry", unknown)})
	}
	r.log.Info("scenario done", "scenario", name, "ops_per_sec", int(res.OpsPerSec), "p99_ms", res.Latency.P99)
	return res, nil
}

// run is the client's loop until its stop time.
func (w *worker) run(ctx context.Context) {
	switch w.name {
	case ScenarioIdentity:
		for !w.stopping() && ctx.Err() == nil {
			start := time.Now()
			_, err := w.c.call(ctx, "sts", contentQuery, "", identityBody)
			w.t.record(opIdentity, start, err)
		}
	case ScenarioCheckout, ScenarioSpread:
		w.pairs(ctx)
	case ScenarioExtend:
		w.extend(ctx)
	case ScenarioLaunches:
		w.launches(ctx)
	}
}

var identityBody = []byte("Action=GetCallerIdentity&Version=2011-06-15")

// pairs checks out one seat and checks it in again, round the licenses, until the stop time.
// Half the clients keep their last checkout, so that the end state has checkouts out.
func (w *worker) pairs(ctx context.Context) {
	for seq := 0; ctx.Err() == nil; seq++ {
		li := (w.id + seq) % len(w.lics)
		token, err := w.checkout(ctx, li, seq)
		if err != nil {
			if w.stopping() {
				return
			}
			continue
		}
		w.holds.add(li)
		if w.stopping() && w.id%2 == 0 {
			w.held = append(w.held, heldCheckout{token, li})
			return
		}
		w.holds.sub(li)
		if err := w.checkIn(ctx, token, true); err != nil {
			w.holds.add(li)
			w.held = append(w.held, heldCheckout{token, li})
		}
		if w.stopping() {
			return
		}
	}
}

// checkout checks out one seat of license li and returns its consumption token. A request
// without an answer is sent again with its ClientToken, which is safe: it answers the first
// checkout if there was one.
func (w *worker) checkout(ctx context.Context, li, seq int) (string, error) {
	l := w.lics[li]
	clientToken := w.r.runID + "-" + w.name + "-" + strconv.Itoa(w.id) + "-" + strconv.Itoa(seq)
	w.body = checkoutBody(w.body[:0], l, clientToken, w.id)
	for attempt := 0; ; attempt++ {
		start := time.Now()
		resp, err := w.c.call(ctx, "license-manager", contentJSON, targetLicenseManager+"CheckoutLicense", w.body)
		w.t.record(opCheckout, start, err)
		if err == nil {
			token := jsonString(resp, "LicenseConsumptionToken")
			if token == "" {
				return "", fmt.Errorf("loadgen: CheckoutLicense answered no LicenseConsumptionToken: %.200s", resp)
			}
			if w.r.cfg.RetryEvery > 0 && seq%w.r.cfg.RetryEvery == w.r.cfg.RetryEvery-1 {
				w.retry(ctx, token)
			}
			return token, nil
		}
		if _, ok := err.(*APIError); ok || ctx.Err() != nil {
			return "", err
		}
		if attempt == 3 {
			w.unknown++
			return "", err
		}
	}
}

// retry sends the last checkout request again: it must answer the same checkout.
func (w *worker) retry(ctx context.Context, token string) {
	w.retries++
	start := time.Now()
	resp, err := w.c.call(ctx, "license-manager", contentJSON, targetLicenseManager+"CheckoutLicense", w.body)
	w.t.record(opReplay, start, err)
	if err == nil && jsonString(resp, "LicenseConsumptionToken") != token {
		w.retryMismatch++
	}
}

// checkIn checks a checkout in, sending it again while no answer comes back (a check-in is
// idempotent). timed says whether it counts in the measurement.
func (w *worker) checkIn(ctx context.Context, token string, timed bool) error {
	w.body = append(append(append(w.body[:0], `{"LicenseConsumptionToken":"`...), token...), `"}`...)
	for attempt := 0; ; attempt++ {
		start := time.Now()
		_, err := w.c.call(ctx, "license-manager", contentJSON, targetLicenseManager+"CheckInLicense", w.body)
		if timed {
			w.t.record(opCheckIn, start, err)
		}
		if err == nil {
			return nil
		}
		if _, ok := err.(*APIError); ok || ctx.Err() != nil || attempt == 3 {
			return err
		}
	}
}

// extend checks out one seat and extends it until the stop time; the checkout stays out.
func (w *worker) extend(ctx context.Context) {
	var token string
	for seq := 0; token == "" && ctx.Err() == nil; seq++ {
		t, err := w.checkout(ctx, 0, seq)
		if err == nil {
			token = t
			break
		}
		if w.stopping() {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	if token == "" {
		return
	}
	w.holds.add(0)
	w.held = append(w.held, heldCheckout{token, 0})
	body := []byte(`{"LicenseConsumptionToken":"` + token + `"}`)
	for !w.stopping() && ctx.Err() == nil {
		start := time.Now()
		_, err := w.c.call(ctx, "license-manager", contentJSON, targetLicenseManager+"ExtendLicenseConsumption", body)
		w.t.record(opExtend, start, err)
	}
}

// checkoutBody appends a CheckoutLicense request for one seat of l to b.
func checkoutBody(b []byte, l *license, clientToken string, node int) []byte {
	b = append(b, `{"ProductSKU":`...)
	b = appendJSONString(b, l.SKU)
	b = append(b, `,"CheckoutType":"PROVISIONAL","KeyFingerprint":`...)
	b = appendJSONString(b, l.Fingerprint)
	b = append(b, `,"Entitlements":[{"Name":"Seats","Unit":"Count","Value":"1"}],"ClientToken":`...)
	b = appendJSONString(b, clientToken)
	b = append(b, `,"Beneficiary":"allot-bench","NodeId":"bench-node-`...)
	b = strconv.AppendInt(b, int64(node), 10)
	return append(b, `"}`...)
}

// appendJSONString appends s as a JSON string.
func appendJSONString(b []byte, s string) []byte {
	const hexDigits = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}

// monitor polls the licenses' usage during a scenario and remembers the highest seen.
type monitor struct {
	mu     sync.Mutex
	peak   []int64
	polls  int
	errors int
}

func (m *monitor) run(ctx context.Context, r *runner, lics []*license) {
	c := r.ep.newClient(r.admin.sign)
	defer c.close()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for i := 0; ; i++ {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		li := i % len(lics)
		n, err := usage(ctx, c, lics[li].ARN)
		m.mu.Lock()
		if err != nil {
			if ctx.Err() == nil {
				m.errors++
			}
		} else {
			m.polls++
			m.peak[li] = max(m.peak[li], n)
		}
		m.mu.Unlock()
	}
}

// verify checks a scenario's end state: the usage of each license equals the checkouts
// clients still hold, no count ever passed MaxCount, and checking every held checkout in
// brings the usage back to zero.
func (r *runner) verify(ctx context.Context, lics []*license, hs *holds, mon *monitor, held []heldCheckout) []Check {
	heldBy := make([]int64, len(lics))
	for _, h := range held {
		heldBy[h.license]++
	}
	var checks []Check
	var bad []string
	for i, l := range lics {
		n, err := usage(ctx, r.admin, l.ARN)
		switch {
		case err != nil:
			bad = append(bad, fmt.Sprintf("%s: %v", l.SKU, err))
		case n != heldBy[i]:
			bad = append(bad, fmt.Sprintf("%s: usage %d, clients hold %d", l.SKU, n, heldBy[i]))
		}
	}
	checks = append(checks, check("usage equals the checkouts clients hold", bad,
		fmt.Sprintf("%d checkouts held over %d licenses", len(held), len(lics))))

	bad = nil
	var peakClients, peakServer int64
	mon.mu.Lock()
	for i, l := range lics {
		pc, ps := hs.peak[i].Load(), mon.peak[i]
		peakClients, peakServer = max(peakClients, pc), max(peakServer, ps)
		if pc > l.MaxCount {
			bad = append(bad, fmt.Sprintf("%s: clients held %d at once, MaxCount %d", l.SKU, pc, l.MaxCount))
		}
		if ps > l.MaxCount {
			bad = append(bad, fmt.Sprintf("%s: GetLicenseUsage reported %d, MaxCount %d", l.SKU, ps, l.MaxCount))
		}
	}
	polls := mon.polls
	mon.mu.Unlock()
	checks = append(checks, check("never over MaxCount", bad,
		fmt.Sprintf("peak held by clients %d, peak usage in %d polls %d, MaxCount %d", peakClients, polls, peakServer, lics[0].MaxCount)))

	// Check everything in, a client per connection, and expect nothing left out.
	bad = nil
	var mu sync.Mutex
	var wg sync.WaitGroup
	next := atomic.Int64{}
	for range min(r.cfg.Clients, max(len(held), 1)) {
		wg.Go(func() {
			w := &worker{r: r, c: r.ep.newClient(r.load)}
			defer w.c.close()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(held) {
					return
				}
				if err := w.checkIn(ctx, held[i].token, false); err != nil {
					mu.Lock()
					bad = append(bad, fmt.Sprintf("check in %s: %v", held[i].token, err))
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	for _, l := range lics {
		n, err := usage(ctx, r.admin, l.ARN)
		switch {
		case err != nil:
			bad = append(bad, fmt.Sprintf("%s: %v", l.SKU, err))
		case n != 0:
			bad = append(bad, fmt.Sprintf("%s: usage %d after every checkout was checked in", l.SKU, n))
		}
	}
	checks = append(checks, check("every check-in returned its units", bad,
		fmt.Sprintf("%d held checkouts checked in, usage back to 0 on %d licenses", len(held), len(lics))))
	return checks
}

// check returns a passed check with detail ok, or a failed one listing (some of) bad.
func check(name string, bad []string, ok string) Check {
	if len(bad) == 0 {
		return Check{Name: name, OK: true, Detail: ok}
	}
	more := ""
	if len(bad) > 5 {
		more = fmt.Sprintf(" (and %d more)", len(bad)-5)
		bad = bad[:5]
	}
	return Check{Name: name, Detail: strings.Join(bad, "; ") + more}
}

// serverSample is what the server's /metrics said at one moment.
type serverSample struct {
	ok       bool
	cpu      float64 // process_cpu_seconds_total
	rss      int64   // process_resident_memory_bytes
	txs, req float64 // allot_store_transactions_total, allot_store_requests_total
}

// serverStats reads the server's CPU time and memory from its Prometheus endpoint.
func (r *runner) serverStats(ctx context.Context) serverSample {
	scheme := "http://"
	if r.ep.tls {
		scheme = "https://"
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, scheme+r.ep.host+"/metrics", nil)
	if err != nil {
		return serverSample{}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return serverSample{}
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		io.Copy(io.Discard, resp.Body)
		return serverSample{}
	}
	var s serverSample
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		name, val, ok := strings.Cut(sc.Text(), " ")
		if !ok {
			continue
		}
		switch name {
		case "process_cpu_seconds_total":
			if v, err := strconv.ParseFloat(val, 64); err == nil {
				s.cpu, s.ok = v, true
			}
		case "process_resident_memory_bytes":
			if v, err := strconv.ParseFloat(val, 64); err == nil {
				s.rss = int64(v)
			}
		case "allot_store_transactions_total":
			s.txs, _ = strconv.ParseFloat(val, 64)
		case "allot_store_requests_total":
			s.req, _ = strconv.ParseFloat(val, 64)
		}
	}
	if errors.Is(sc.Err(), bufio.ErrTooLong) {
		return serverSample{}
	}
	return s
}
