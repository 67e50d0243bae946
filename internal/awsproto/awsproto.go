// Package awsproto implements the AWS wire protocols Allot speaks: JSON 1.1 (License Manager,
// Organizations, CloudTrail) and Query (IAM, STS), their error shapes and pagination tokens.
package awsproto
