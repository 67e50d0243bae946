package loadgen

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// The launches scenario: clients launch one instance at a time with EC2 RunInstances against
// a license configuration counted by instance with a hard limit (MaxCount instances), and
// terminate it again, which returns its license; as in the checkout scenario, half of them
// keep their last instance at the end. Launches the limit refuses are answered
// LicenseUsageException and counted among the errors.

const ec2Version = "2016-11-15"

// fleet is what the launches scenario launches from and against.
type fleet struct {
	ConfigARN string // the license configuration: Instance counting, hard limit
	ImageID   string
	Limit     int64
}

// ec2 calls an EC2 action (the ec2Query protocol) and returns the answer's body, valid until
// the client's next call, or an *APIError.
func (c *client) ec2(ctx context.Context, action string, params url.Values) ([]byte, error) {
	form := url.Values{"Action": {action}, "Version": {ec2Version}}
	for k, v := range params {
		form[k] = v
	}
	return c.call(ctx, "ec2", contentQuery, "", []byte(form.Encode()))
}

// setUpFleet creates the license configuration and the image the launches scenario uses.
func setUpFleet(ctx context.Context, c *client, runID string, limit int64) (*fleet, error) {
	var lc struct{ LicenseConfigurationArn string }
	err := c.lm(ctx, "CreateLicenseConfiguration", map[string]any{"Name": "allot bench launches " + runID,
		"LicenseCountingType": "Instance", "LicenseCount": limit, "LicenseCountHardLimit": true}, &lc)
	if err != nil {
		return nil, fmt.Errorf("loadgen: set up launches: %w", err)
	}
	resp, err := c.ec2(ctx, "RegisterImage", url.Values{"Name": {"allot-bench-" + runID}})
	if err != nil {
		return nil, fmt.Errorf("loadgen: set up launches: RegisterImage: %w", err)
	}
	var img struct {
		ImageID string `xml:"imageId"`
	}
	if err := xml.Unmarshal(resp, &img); err != nil || img.ImageID == "" {
		return nil, fmt.Errorf("loadgen: set up launches: RegisterImage answered %.200s (%v)", resp, err)
	}
	return &fleet{ConfigARN: lc.LicenseConfigurationArn, ImageID: img.ImageID, Limit: limit}, nil
}

// launches launches an instance and terminates it again, until the stop time.
func (w *worker) launches(ctx context.Context) {
	for seq := 0; ctx.Err() == nil; seq++ {
		id, err := w.launch(ctx, seq)
		if err != nil {
			if w.stopping() {
				return
			}
			continue
		}
		w.holds.add(0)
		if w.stopping() && w.id%2 == 0 {
			w.held = append(w.held, heldCheckout{id, 0})
			return
		}
		w.holds.sub(0)
		if err := w.terminate(ctx, id, true); err != nil {
			w.holds.add(0)
			w.held = append(w.held, heldCheckout{id, 0})
		}
		if w.stopping() {
			return
		}
	}
}

// launch runs one instance and returns its ID. A request without an answer is sent again with
// its ClientToken, which answers the first launch if there was one.
func (w *worker) launch(ctx context.Context, seq int) (string, error) {
	params := url.Values{"ImageId": {w.fleet.ImageID}, "InstanceType": {"t3.micro"}, "MinCount": {"1"}, "MaxCount": {"1"},
		"LicenseSpecification.1.LicenseConfigurationArn": {w.fleet.ConfigARN},
		"ClientToken": {w.r.runID + "-launch-" + strconv.Itoa(w.id) + "-" + strconv.Itoa(seq)}}
	for attempt := 0; ; attempt++ {
		start := time.Now()
		resp, err := w.c.ec2(ctx, "RunInstances", params)
		w.t.record(opLaunch, start, err)
		if err == nil {
			id := xmlText(resp, "instanceId")
			if id == "" {
				return "", fmt.Errorf("loadgen: RunInstances answered no instanceId: %.200s", resp)
			}
			return id, nil
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

// terminate terminates an instance, sending the request again while no answer comes back
// (terminating a terminated instance does nothing). timed says whether it counts in the
// measurement.
func (w *worker) terminate(ctx context.Context, id string, timed bool) error {
	for attempt := 0; ; attempt++ {
		start := time.Now()
		_, err := w.c.ec2(ctx, "TerminateInstances", url.Values{"InstanceId.1": {id}})
		if timed {
			w.t.record(opTerminate, start, err)
		}
		if err == nil {
			return nil
		}
		if _, ok := err.(*APIError); ok || ctx.Err() != nil || attempt == 3 {
			return err
		}
	}
}

// xmlText returns the text of the first element named name in an XML answer, found by
// scanning (it holds no markup: an ID).
func xmlText(body []byte, name string) string {
	open := []byte("<" + name + ">")
	i := bytes.Index(body, open)
	if i < 0 {
		return ""
	}
	rest := body[i+len(open):]
	j := bytes.IndexByte(rest, '<')
	if j < 0 {
		return ""
	}
	return string(rest[:j])
}

// configUsage returns what a license configuration reports consumed.
func configUsage(ctx context.Context, c *client, arn string) (int64, error) {
	var out struct{ ConsumedLicenses int64 }
	if err := c.lm(ctx, "GetLicenseConfiguration", map[string]any{"LicenseConfigurationArn": arn}, &out); err != nil {
		return 0, err
	}
	return out.ConsumedLicenses, nil
}

// configUsageRows returns the sum of what the resources listed by
// ListUsageForLicenseConfiguration consume of a configuration, and how many there are.
func configUsageRows(ctx context.Context, c *client, arn string) (sum int64, rows int, err error) {
	in := map[string]any{"LicenseConfigurationArn": arn, "MaxResults": 100}
	for {
		var out struct {
			LicenseConfigurationUsageList []struct{ ConsumedLicenses int64 }
			NextToken                     string
		}
		if err := c.lm(ctx, "ListUsageForLicenseConfiguration", in, &out); err != nil {
			return sum, rows, err
		}
		for _, u := range out.LicenseConfigurationUsageList {
			sum += u.ConsumedLicenses
			rows++
		}
		if out.NextToken == "" {
			return sum, rows, nil
		}
		in["NextToken"] = out.NextToken
	}
}

// runFleet polls the configuration's consumed licenses while the load runs, into m.peak[0].
func (m *monitor) runFleet(ctx context.Context, r *runner, f *fleet) {
	c := r.ep.newClient(r.admin.sign)
	defer c.close()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		n, err := configUsage(ctx, c, f.ConfigARN)
		m.mu.Lock()
		if err != nil {
			if ctx.Err() == nil {
				m.errors++
			}
		} else {
			m.polls++
			m.peak[0] = max(m.peak[0], n)
		}
		m.mu.Unlock()
	}
}

// verifyFleet checks the launches scenario's end state: the configuration's consumed count
// equals the sum of its usage rows and the instances clients still run, no count ever passed
// the limit, and terminating every instance left brings both back to zero.
func (r *runner) verifyFleet(ctx context.Context, f *fleet, hs *holds, mon *monitor, held []heldCheckout) []Check {
	var checks []Check
	consistent := func() (consumed, rowsSum int64, rows int, bad []string) {
		consumed, err := configUsage(ctx, r.admin, f.ConfigARN)
		if err != nil {
			return 0, 0, 0, []string{err.Error()}
		}
		rowsSum, rows, err = configUsageRows(ctx, r.admin, f.ConfigARN)
		if err != nil {
			return 0, 0, 0, []string{err.Error()}
		}
		if consumed != rowsSum {
			bad = append(bad, fmt.Sprintf("ConsumedLicenses %d, its %d usage rows sum to %d", consumed, rows, rowsSum))
		}
		return consumed, rowsSum, rows, bad
	}
	consumed, _, rows, bad := consistent()
	checks = append(checks, check("consumed equals the sum of the usage rows", bad,
		fmt.Sprintf("ConsumedLicenses %d = the sum over %d usage rows", consumed, rows)))
	bad = nil
	if consumed != int64(len(held)) {
		bad = append(bad, fmt.Sprintf("ConsumedLicenses %d, clients run %d instances", consumed, len(held)))
	}
	checks = append(checks, check("consumed equals the instances clients run", bad,
		fmt.Sprintf("%d instances running", len(held))))

	bad = nil
	mon.mu.Lock()
	peakClients, peakServer, polls := hs.peak[0].Load(), mon.peak[0], mon.polls
	mon.mu.Unlock()
	if peakClients > f.Limit {
		bad = append(bad, fmt.Sprintf("clients ran %d licensed instances at once, limit %d", peakClients, f.Limit))
	}
	if peakServer > f.Limit {
		bad = append(bad, fmt.Sprintf("GetLicenseConfiguration reported %d consumed, limit %d", peakServer, f.Limit))
	}
	checks = append(checks, check("never over the limit", bad,
		fmt.Sprintf("peak run by clients %d, peak consumed in %d polls %d, limit %d", peakClients, polls, peakServer, f.Limit)))

	// Terminate what is left, a client per connection, and expect nothing consumed.
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
				if err := w.terminate(ctx, held[i].token, false); err != nil {
					mu.Lock()
					bad = append(bad, fmt.Sprintf("terminate %s: %v", held[i].token, err))
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	consumed, rowsSum, _, more := consistent()
	bad = append(bad, more...)
	if consumed != 0 || rowsSum != 0 {
		bad = append(bad, fmt.Sprintf("ConsumedLicenses %d, usage rows %d after every instance was terminated", consumed, rowsSum))
	}
	checks = append(checks, check("every termination returned its license", bad,
		fmt.Sprintf("%d instances left running terminated, consumed back to 0", len(held))))
	return checks
}
