package server

import "github.com/allot-dev/allot/internal/ec2"

// ec2Operations returns the EC2 subset's actions, all authorized against "*" for now.
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
	}
}
