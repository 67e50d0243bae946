package agent

import (
	"bufio"
	"bytes"
	"fmt"
	"math"
	"runtime"
	"strconv"
	"strings"
)

// Sources of the CPU topology, most exact first.
const (
	SourceSysfs    = "sysfs"          // sys/devices/system/cpu/cpuN/topology
	SourceCPUInfo  = "cpuinfo"        // physical id and core id of each processor in proc/cpuinfo
	SourceSiblings = "cpuinfo-counts" // siblings and cpu cores of proc/cpuinfo, one socket assumed
	SourceCount    = "count"          // the number of processors only: one thread per core, one socket
)

// CPU is a machine's processor topology.
type CPU struct {
	Model          string
	SpeedMHz       int // 0 when unknown
	Logical        int // logical processors (vCPUs): the processors proc/cpuinfo lists
	Cores          int // physical cores
	Sockets        int
	ThreadsPerCore int
	HyperThreading bool
	Source         string // where Cores and Sockets come from: one of the Source constants
	Note           string `json:",omitempty"` // what was assumed, when the topology was hidden
}

// processor is one "processor" block of proc/cpuinfo.
type processor struct {
	id                 string
	physicalID, coreID string // "" when absent
	siblings, cores    int    // 0 when absent
	model              string
	mhz                float64
}

// parseCPUInfo reads the processor blocks of proc/cpuinfo. Blocks without a "processor"
// line (the trailer of ARM kernels) only give the model when no processor names one.
func parseCPUInfo(data []byte) []processor {
	var (
		out   []processor
		cur   *processor
		model string // a model named outside the processor blocks
	)
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.TrimSpace(line) == "" {
			cur = nil
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if k == "processor" {
			out = append(out, processor{id: v})
			cur = &out[len(out)-1]
			continue
		}
		if cur == nil {
			if isModelKey(k) && model == "" {
				model = v
			}
			continue
		}
		switch {
		case k == "physical id":
			cur.physicalID = v
		case k == "core id":
			cur.coreID = v
		case k == "siblings":
			cur.siblings, _ = strconv.Atoi(v)
		case k == "cpu cores":
			cur.cores, _ = strconv.Atoi(v)
		case k == "cpu MHz" || k == "clock":
			cur.mhz, _ = strconv.ParseFloat(strings.TrimSuffix(v, "MHz"), 64)
		case isModelKey(k) && cur.model == "":
			cur.model = v
		}
	}
	for i := range out {
		if out[i].model == "" {
			out[i].model = model
		}
	}
	return out
}

// isModelKey reports whether a cpuinfo key names the processor model: "model name" on x86
// and recent ARM kernels, "Processor" on older ARM, "cpu model" on MIPS, "cpu" on POWER.
func isModelKey(k string) bool {
	return k == "model name" || k == "Processor" || k == "cpu model" || k == "cpu"
}

// coreKey identifies a physical core: its package (socket), die and core.
type coreKey struct{ pkg, die, core string }

// cpu reads the processor topology: the logical processors from proc/cpuinfo, cores and
// sockets from sysfs when every processor has its topology there, else from cpuinfo's
// physical and core IDs, else from its sibling and core counts, else one core per
// processor on one socket.
func (c *Collector) cpu() (CPU, error) {
	data, ok, err := c.readFile("proc/cpuinfo")
	if err != nil {
		return CPU{}, err
	}
	procs := parseCPUInfo(data)
	var out CPU
	if !ok || len(procs) == 0 {
		// No cpuinfo (not Linux, or a sandbox without it): the processors this process may use.
		n := runtime.NumCPU()
		return CPU{Logical: n, Cores: n, Sockets: 1, ThreadsPerCore: 1, Source: SourceCount,
			Note: fmt.Sprintf("no proc/cpuinfo: %d processors counted by the runtime, assumed 1 thread per core and 1 socket", n)}, nil
	}
	out.Logical = len(procs)
	out.Model = procs[0].model
	out.SpeedMHz = int(math.Round(procs[0].mhz))
	if out.SpeedMHz == 0 {
		out.SpeedMHz = c.maxFreqMHz()
	}

	cores, err := c.sysfsCores(procs)
	if err != nil {
		return CPU{}, err
	}
	out.Source = SourceSysfs
	if cores == nil {
		cores = cpuinfoCores(procs)
		out.Source = SourceCPUInfo
	}
	if cores != nil {
		threads := map[coreKey]int{}
		sockets := map[string]bool{}
		for _, k := range cores {
			threads[k]++
			sockets[k.pkg] = true
		}
		out.Cores, out.Sockets = len(threads), len(sockets)
		for _, n := range threads {
			out.ThreadsPerCore = max(out.ThreadsPerCore, n)
		}
		out.HyperThreading = out.ThreadsPerCore > 1
		return out, nil
	}

	// No topology: the counts cpuinfo gives per socket, when it gives them.
	p := procs[0]
	out.Sockets = 1
	if p.siblings > 0 && p.cores > 0 && p.siblings >= p.cores {
		out.Source = SourceSiblings
		out.ThreadsPerCore = p.siblings / p.cores
		out.Cores = max(1, out.Logical/out.ThreadsPerCore)
		out.HyperThreading = out.ThreadsPerCore > 1
		out.Note = fmt.Sprintf("no CPU topology (physical and core IDs hidden): %d threads per core from cpuinfo's siblings/cpu cores, 1 socket assumed", out.ThreadsPerCore)
		return out, nil
	}
	out.Source = SourceCount
	out.Cores, out.ThreadsPerCore = out.Logical, 1
	out.Note = "no CPU topology: assumed 1 thread per core and 1 socket"
	return out, nil
}

// sysfsCores returns the core of each processor from sysfs, or nil when some processor has
// no topology there (containers often hide it).
func (c *Collector) sysfsCores(procs []processor) ([]coreKey, error) {
	out := make([]coreKey, 0, len(procs))
	for _, p := range procs {
		dir := "sys/devices/system/cpu/cpu" + p.id + "/topology/"
		pkg, ok1, err := c.readFile(dir + "physical_package_id")
		if err != nil {
			return nil, err
		}
		core, ok2, err := c.readFile(dir + "core_id")
		if err != nil {
			return nil, err
		}
		if !ok1 || !ok2 {
			return nil, nil
		}
		die, _, err := c.readFile(dir + "die_id")
		if err != nil {
			return nil, err
		}
		k := coreKey{pkg: strings.TrimSpace(string(pkg)), die: strings.TrimSpace(string(die)), core: strings.TrimSpace(string(core))}
		if k.pkg == "-1" { // some ARM kernels do not know the package: one socket
			k.pkg = "0"
		}
		out = append(out, k)
	}
	return out, nil
}

// cpuinfoCores returns the core of each processor from cpuinfo's physical and core IDs, or
// nil when some processor lacks them.
func cpuinfoCores(procs []processor) []coreKey {
	out := make([]coreKey, 0, len(procs))
	for _, p := range procs {
		if p.physicalID == "" || p.coreID == "" {
			return nil
		}
		out = append(out, coreKey{pkg: p.physicalID, core: p.coreID})
	}
	return out
}

// maxFreqMHz returns cpu0's highest frequency from cpufreq, 0 when unknown.
func (c *Collector) maxFreqMHz() int {
	data, ok, err := c.readFile("sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq")
	if err != nil || !ok {
		return 0
	}
	khz, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil {
		return 0
	}
	return khz / 1000
}
