package ec2

import (
	"slices"
	"strings"
)

// InstanceType is what Allot knows of an EC2 instance type: its default CPU topology.
type InstanceType struct {
	Name           string
	VCPUs          int64 // default vCPUs
	Cores          int64 // default physical cores
	ThreadsPerCore int64 // default threads per core
	Architecture   string
}

// HostFamily is what Allot knows of the Dedicated Hosts of an instance family.
type HostFamily struct {
	Family  string
	Sockets int64
	Cores   int64 // physical cores
	VCPUs   int64 // total vCPUs the host offers its instances
}

// Family returns the family of an instance type: "m5" of "m5.xlarge".
func (t InstanceType) Family() string { f, _, _ := strings.Cut(t.Name, "."); return f }

// size is one size of a family: its name, vCPUs and cores.
type size struct {
	name         string
	vcpus, cores int64
}

// family is one instance family of the built-in table: its sizes and its Dedicated Hosts.
type family struct {
	name           string
	threadsPerCore int64
	arch           string
	host           HostFamily
	sizes          []size
}

// twoThreads lists sizes of a family with two threads per core: vCPUs, cores = vCPUs / 2.
func twoThreads(names ...string) []size {
	vcpus := map[string]int64{"large": 2, "xlarge": 4, "2xlarge": 8, "4xlarge": 16, "8xlarge": 32, "9xlarge": 36,
		"12xlarge": 48, "16xlarge": 64, "18xlarge": 72, "24xlarge": 96, "32xlarge": 128}
	out := make([]size, len(names))
	for i, n := range names {
		out[i] = size{n, vcpus[n], vcpus[n] / 2}
	}
	return out
}

// families returns the built-in table: a handful of families whose default CPU topology and
// Dedicated Host capacity follow AWS's published figures (docs/self-managed.md lists them).
// A fresh table each call: nothing shared to mutate.
func families() []family {
	return []family{
		{name: "t3", threadsPerCore: 2, arch: "x86_64", host: HostFamily{"t3", 2, 48, 96},
			sizes: append([]size{{"nano", 2, 1}, {"micro", 2, 1}, {"small", 2, 1}, {"medium", 2, 1}}, twoThreads("large", "xlarge", "2xlarge")...)},
		{name: "m5", threadsPerCore: 2, arch: "x86_64", host: HostFamily{"m5", 2, 48, 96},
			sizes: twoThreads("large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge", "24xlarge")},
		{name: "c5", threadsPerCore: 2, arch: "x86_64", host: HostFamily{"c5", 2, 48, 96},
			sizes: twoThreads("large", "xlarge", "2xlarge", "4xlarge", "9xlarge", "12xlarge", "18xlarge", "24xlarge")},
		{name: "r5", threadsPerCore: 2, arch: "x86_64", host: HostFamily{"r5", 2, 48, 96},
			sizes: twoThreads("large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge", "24xlarge")},
		{name: "m6i", threadsPerCore: 2, arch: "x86_64", host: HostFamily{"m6i", 2, 64, 128},
			sizes: twoThreads("large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge", "24xlarge", "32xlarge")},
		{name: "m6g", threadsPerCore: 1, arch: "arm64", host: HostFamily{"m6g", 1, 64, 64},
			sizes: []size{{"medium", 1, 1}, {"large", 2, 2}, {"xlarge", 4, 4}, {"2xlarge", 8, 8}, {"4xlarge", 16, 16},
				{"8xlarge", 32, 32}, {"12xlarge", 48, 48}, {"16xlarge", 64, 64}}},
	}
}

// LookupInstanceType returns an instance type of the built-in table.
func LookupInstanceType(name string) (InstanceType, bool) {
	fam, sz, ok := strings.Cut(name, ".")
	if !ok {
		return InstanceType{}, false
	}
	for _, f := range families() {
		if f.name != fam {
			continue
		}
		for _, s := range f.sizes {
			if s.name == sz {
				return InstanceType{Name: name, VCPUs: s.vcpus, Cores: s.cores, ThreadsPerCore: f.threadsPerCore, Architecture: f.arch}, true
			}
		}
	}
	return InstanceType{}, false
}

// LookupHostFamily returns the Dedicated Host of an instance family of the built-in table.
func LookupHostFamily(name string) (HostFamily, bool) {
	for _, f := range families() {
		if f.name == name {
			return f.host, true
		}
	}
	return HostFamily{}, false
}

// InstanceTypes returns the names of every instance type of the built-in table, sorted.
func InstanceTypes() []string {
	var out []string
	for _, f := range families() {
		for _, s := range f.sizes {
			out = append(out, f.name+"."+s.name)
		}
	}
	slices.Sort(out)
	return out
}

// Families returns the instance families of the built-in table, sorted.
func Families() []string {
	var out []string
	for _, f := range families() {
		out = append(out, f.name)
	}
	slices.Sort(out)
	return out
}
