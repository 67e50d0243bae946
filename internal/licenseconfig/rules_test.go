package licenseconfig

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/allot-dev/allot/internal/awserr"
	"github.com/allot-dev/allot/internal/store"
)

func ptr[T any](v T) *T { return &v }

func TestParseRules(t *testing.T) {
	cases := []struct {
		name  string
		typ   string
		rules []string
		want  *Rules
		err   string // part of the InvalidParameterValueException's message; "" for success
	}{
		{"OKNone", CountCore, nil, &Rules{}, ""},
		{"OKSeed001", CountCore, []string{"#minimumCores=8", "#maximumCores=16", "#allowedTenancy=EC2-DedicatedHost"},
			&Rules{MinimumCores: ptr[int64](8), MaximumCores: ptr[int64](16), AllowedTenancy: []string{TenancyDedicatedHost}}, ""},
		{"OKVCPU", CountVCPU, []string{"#minimumVcpus=2", "#maximumVcpus=64", "#honorVcpuOptimization=True"},
			&Rules{MinimumVCPUs: ptr[int64](2), MaximumVCPUs: ptr[int64](64), HonorVCPUOptimization: true}, ""},
		{"OKHonorLowerCase", CountVCPU, []string{"#honorVcpuOptimization=false"}, &Rules{}, ""},
		{"OKInstanceVCPUs", CountInstance, []string{"#maximumVcpus=4"}, &Rules{MaximumVCPUs: ptr[int64](4)}, ""},
		{"OKSocket", CountSocket, []string{"#minimumSockets=1", "#maximumSockets=2", "#licenseAffinityToHost=90"},
			&Rules{MinimumSockets: ptr[int64](1), MaximumSockets: ptr[int64](2), LicenseAffinityToHost: ptr[int64](90)}, ""},
		{"OKTenancies", CountInstance, []string{"#allowedTenancy=EC2-Default", "#allowedTenancy=EC2-DedicatedInstance"},
			&Rules{AllowedTenancy: []string{TenancyDefault, TenancyDedicatedInstance}}, ""},
		{"OKSpaces", CountCore, []string{" #minimumCores = 8 "}, &Rules{MinimumCores: ptr[int64](8)}, ""},

		{"ErrNoHash", CountCore, []string{"minimumCores=8"}, nil, "must be written #name=value"},
		{"ErrNoValue", CountCore, []string{"#minimumCores"}, nil, "must be written #name=value"},
		{"ErrUnknown", CountCore, []string{"#cores=8"}, nil, `there is no rule "cores"`},
		{"ErrCase", CountCore, []string{"#MinimumCores=8"}, nil, "did you mean #minimumCores"},
		{"ErrVCPURuleOnCore", CountCore, []string{"#minimumVcpus=2"}, nil, "applies to vCPU and Instance counting, not Core. For Core counting use #minimumCores"},
		{"ErrCoreRuleOnVCPU", CountVCPU, []string{"#maximumCores=2"}, nil, "applies to Core counting, not vCPU. For vCPU counting use #maximumVcpus"},
		{"ErrSocketRuleOnInstance", CountInstance, []string{"#minimumSockets=1"}, nil, "applies to Socket counting, not Instance"},
		{"ErrHonorOnCore", CountCore, []string{"#honorVcpuOptimization=true"}, nil, "applies to vCPU counting, not Core"},
		{"ErrAffinityOnVCPU", CountVCPU, []string{"#licenseAffinityToHost=1"}, nil, "applies to Core and Socket counting"},
		{"ErrZero", CountCore, []string{"#minimumCores=0"}, nil, "whole number from 1"},
		{"ErrNegative", CountCore, []string{"#maximumCores=-1"}, nil, "whole number from 1"},
		{"ErrNotNumber", CountCore, []string{"#maximumCores=eight"}, nil, "whole number from 1"},
		{"ErrMinAboveMax", CountCore, []string{"#minimumCores=16", "#maximumCores=8"}, nil, "#minimumCores=16 is more than #maximumCores=8"},
		{"ErrTwice", CountCore, []string{"#minimumCores=8", "#minimumCores=9"}, nil, "given twice (also at LicenseRules[0])"},
		{"ErrTenancy", CountCore, []string{"#allowedTenancy=host"}, nil, "must be one of EC2-Default, EC2-DedicatedInstance, EC2-DedicatedHost"},
		{"ErrTenancyTwice", CountCore, []string{"#allowedTenancy=EC2-DedicatedHost", "#allowedTenancy=EC2-DedicatedHost"}, nil, "given twice"},
		{"ErrHonorValue", CountVCPU, []string{"#honorVcpuOptimization=yes"}, nil, "True or False"},
		{"ErrAffinityRange", CountCore, []string{"#licenseAffinityToHost=181"}, nil, "from 1 to 180"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := ParseRules(c.typ, c.rules)
			if c.err == "" {
				if err != nil {
					t.Fatalf("ParseRules(%s, %q) = %v", c.typ, c.rules, err)
				}
				if !equalRules(got, c.want) {
					t.Fatalf("ParseRules(%s, %q) = %+v, want %+v", c.typ, c.rules, got, c.want)
				}
				return
			}
			var e *awserr.Error
			if !errors.As(err, &e) || e.Code != ErrInvalidParameterValue || !strings.Contains(e.Message, c.err) {
				t.Fatalf("ParseRules(%s, %q) = %v, want an InvalidParameterValueException containing %q", c.typ, c.rules, err, c.err)
			}
		})
	}
}

func equalRules(a, b *Rules) bool {
	eq := func(x, y *int64) bool { return x == nil && y == nil || x != nil && y != nil && *x == *y }
	return eq(a.MinimumVCPUs, b.MinimumVCPUs) && eq(a.MaximumVCPUs, b.MaximumVCPUs) && eq(a.MinimumCores, b.MinimumCores) &&
		eq(a.MaximumCores, b.MaximumCores) && eq(a.MinimumSockets, b.MinimumSockets) && eq(a.MaximumSockets, b.MaximumSockets) &&
		a.HonorVCPUOptimization == b.HonorVCPUOptimization && slices.Equal(a.AllowedTenancy, b.AllowedTenancy) &&
		eq(a.LicenseAffinityToHost, b.LicenseAffinityToHost)
}

func TestChangedRules(t *testing.T) {
	cases := []struct {
		a, b []string
		want []string
	}{
		{[]string{"#minimumCores=8"}, []string{"#minimumCores=8"}, nil},
		{[]string{"#minimumCores=8", "#licenseAffinityToHost=1"}, []string{"#licenseAffinityToHost=2", "#minimumCores=8"}, []string{ruleLicenseAffinityToHost}},
		{[]string{"#allowedTenancy=EC2-Default", "#allowedTenancy=EC2-DedicatedHost"}, []string{"#allowedTenancy=EC2-DedicatedHost", "#allowedTenancy=EC2-Default"}, nil},
		{[]string{"#honorVcpuOptimization=True"}, []string{"#honorVcpuOptimization=true"}, nil},
		{[]string{"#minimumCores=8"}, nil, []string{ruleMinimumCores}},
	}
	for _, c := range cases {
		if got := changedRules(c.a, c.b); !slices.Equal(got, c.want) {
			t.Errorf("changedRules(%q, %q) = %q, want %q", c.a, c.b, got, c.want)
		}
	}
}

// TestUnitsFor checks what a resource consumes by counting type, and which rules refuse it.
func TestUnitsFor(t *testing.T) {
	// m5.8xlarge: 32 vCPUs, 16 cores; launched with 8 cores × 1 thread on a 2-socket host.
	optimized := &store.Resource{ID: "i-1", Type: store.ResourceInstance, InstanceType: "m5.8xlarge", VCPUs: 32, Cores: 8, ThreadsPerCore: 1,
		CPUOptions: true, Tenancy: "host", HostID: "h-1", Sockets: 2}
	shared := &store.Resource{ID: "i-2", Type: store.ResourceInstance, InstanceType: "m5.large", VCPUs: 2, Cores: 1, ThreadsPerCore: 2, Tenancy: "default"}
	host := &store.Resource{ID: "h-1", Type: store.ResourceHost, InstanceType: "", VCPUs: 96, Cores: 48, ThreadsPerCore: 2, Sockets: 2, Tenancy: "host"}
	image := &store.Resource{ID: "ami-1", Type: store.ResourceImage}
	cases := []struct {
		name  string
		typ   string
		rules []string
		r     *store.Resource
		units int64
		err   string
	}{
		{"VCPUDefault", CountVCPU, nil, optimized, 32, ""},
		{"VCPUHonored", CountVCPU, []string{"#honorVcpuOptimization=True"}, optimized, 8, ""},
		{"VCPUHonoredWithoutOptions", CountVCPU, []string{"#honorVcpuOptimization=True"}, shared, 2, ""},
		{"Core", CountCore, nil, optimized, 8, ""},
		{"CoreHost", CountCore, nil, host, 48, ""},
		{"Socket", CountSocket, nil, optimized, 2, ""},
		{"SocketHost", CountSocket, nil, host, 2, ""},
		{"Instance", CountInstance, nil, shared, 1, ""},
		{"Image", CountCore, []string{"#minimumCores=100"}, image, 0, ""},
		{"ErrMinimumCores", CountCore, []string{"#minimumCores=16"}, optimized, 0, "needs at least 16 cores per resource (#minimumCores=16), and instance i-1 (m5.8xlarge) has 8"},
		{"ErrMaximumCores", CountCore, []string{"#maximumCores=16"}, host, 0, "allows at most 16 cores"},
		{"ErrMaximumVCPUs", CountVCPU, []string{"#maximumVcpus=16"}, optimized, 0, "allows at most 16 vCPUs"},
		{"MaximumVCPUsHonored", CountVCPU, []string{"#maximumVcpus=16", "#honorVcpuOptimization=true"}, optimized, 8, ""},
		{"ErrTenancy", CountInstance, []string{"#allowedTenancy=EC2-DedicatedHost"}, shared, 0, "allows only tenancy EC2-DedicatedHost (#allowedTenancy), and instance i-2 (m5.large) has tenancy default (EC2-Default)"},
		{"TenancyHost", CountCore, []string{"#allowedTenancy=EC2-DedicatedHost"}, optimized, 8, ""},
		{"ErrSocketShared", CountSocket, nil, shared, 0, "counts sockets, which only a Dedicated Host has"},
		{"ErrMinimumSockets", CountSocket, []string{"#minimumSockets=4"}, host, 0, "needs at least 4 sockets"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := &store.LicenseConfiguration{ARN: "arn:aws:license-manager:us-east-1:111122223333:license-configuration:lic-0", Name: "L", CountingType: c.typ, Rules: c.rules}
			units, err := unitsFor(cfg, c.r)
			if c.err == "" {
				if err != nil || units != c.units {
					t.Fatalf("unitsFor = %d, %v; want %d", units, err, c.units)
				}
				return
			}
			var ref *Refusal
			if !errors.As(err, &ref) || ref.Err.Code != ErrLicenseUsage || ref.ConfigARN != cfg.ARN || !strings.Contains(ref.Err.Message, c.err) {
				t.Fatalf("unitsFor = %d, %v; want a LicenseUsageException containing %q", units, err, c.err)
			}
		})
	}
}
