package server

import (
	"context"

	"github.com/allot-dev/allot/internal/identity"
	"github.com/allot-dev/allot/internal/ssm"
)

// ssmOperations returns the Systems Manager subset's operations. Those on one managed
// instance are authorized against its ARN, as SSM does; DescribeInstanceInformation against
// "*".
func ssmOperations(s *ssm.Service) []*Operation {
	return []*Operation{
		onManagedInstance(op("PutInventory", "ssm:PutInventory", false, s.PutInventory),
			func(in *ssm.PutInventoryInput) string { return in.InstanceId }),
		op("DescribeInstanceInformation", "ssm:DescribeInstanceInformation", true, s.DescribeInstanceInformation),
		onManagedInstance(op("ListInventoryEntries", "ssm:ListInventoryEntries", true, s.ListInventoryEntries),
			func(in *ssm.ListInventoryEntriesInput) string { return in.InstanceId }),
		onManagedInstance(op("DeregisterManagedInstance", "ssm:DeregisterManagedInstance", false, s.DeregisterManagedInstance),
			func(in *ssm.DeregisterManagedInstanceInput) string { return in.InstanceId }),
	}
}

// onManagedInstance authorizes o against the ARN of the managed instance its input names, in
// the caller's account and the request's region ("*" for a malformed ID, which the operation
// refuses).
func onManagedInstance[In any](o *Operation, id func(*In) string) *Operation {
	o.Resource = func(ctx context.Context, caller *identity.Principal, in any) (string, string) {
		if v := id(in.(*In)); ssm.IsManagedInstanceID(v) {
			return ssm.InstanceARN(ctx, caller, v), ""
		}
		return "*", ""
	}
	return o
}
