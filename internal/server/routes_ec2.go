package server

import (
	"context"

	"github.com/allot-dev/allot/internal/ec2"
	"github.com/allot-dev/allot/internal/identity"
)

// ec2Operations returns the EC2 subset's actions, authorized against "*" but for CreateTags
// and DeleteTags, which are authorized on each resource they name (EC2's resource-level
// permissions). Tagging at creation (TagSpecification) also needs ec2:CreateTags: the
// actions that create resources ask for it themselves (ec2.Service.Authz).
func ec2Operations(s *ec2.Service) []*Operation {
	return []*Operation{
		op("AllocateHosts", "ec2:AllocateHosts", false, s.AllocateHosts),
		op("ReleaseHosts", "ec2:ReleaseHosts", false, s.ReleaseHosts),
		op("DescribeHosts", "ec2:DescribeHosts", true, s.DescribeHosts),
		op("RunInstances", "ec2:RunInstances", false, s.RunInstances),
		op("StartInstances", "ec2:StartInstances", false, s.StartInstances),
		op("StopInstances", "ec2:StopInstances", false, s.StopInstances),
		op("TerminateInstances", "ec2:TerminateInstances", false, s.TerminateInstances),
		op("DescribeInstances", "ec2:DescribeInstances", true, s.DescribeInstances),
		op("RegisterImage", "ec2:RegisterImage", false, s.RegisterImage),
		op("CreateImage", "ec2:CreateImage", false, s.CreateImage),
		op("DescribeImages", "ec2:DescribeImages", true, s.DescribeImages),
		op("DeregisterImage", "ec2:DeregisterImage", false, s.DeregisterImage),
		onEC2Resources(op("CreateTags", "ec2:CreateTags", false, s.CreateTags), func(in *ec2.CreateTagsInput) []string { return in.ResourceIDs }),
		onEC2Resources(op("DeleteTags", "ec2:DeleteTags", false, s.DeleteTags), func(in *ec2.DeleteTagsInput) []string { return in.ResourceIDs }),
		op("DescribeTags", "ec2:DescribeTags", true, s.DescribeTags),
	}
}

// onEC2Resources authorizes o on the ARN of each resource its input names (ids), in the
// caller's account: the first as its Resource, the others as MoreResources. IDs of no
// resource recorded here are left to the operation, which refuses them.
func onEC2Resources[In any](o *Operation, ids func(*In) []string) *Operation {
	o.Resource = func(ctx context.Context, caller *identity.Principal, in any) (string, string) {
		if arns := ec2.TagResourceARNs(ctx, caller, ids(in.(*In))); len(arns) > 0 {
			return arns[0], ""
		}
		return "", ""
	}
	o.MoreResources = func(ctx context.Context, caller *identity.Principal, in any) []string {
		if arns := ec2.TagResourceARNs(ctx, caller, ids(in.(*In))); len(arns) > 1 {
			return arns[1:]
		}
		return nil
	}
	return o
}
