package iam

import (
	"time"

	"github.com/allot-dev/allot/internal/awserr"
	"github.com/allot-dev/allot/internal/store"
)

// The structures below are IAM's output shapes. Their xml tags give the Query member names;
// their json tags the names audit records use (lower-cased first letter by package audit).

// Tag is a tag of a user, role or managed policy.
type Tag struct {
	Key   string
	Value string
}

// BoundaryType is the only PermissionsBoundaryType.
const BoundaryType = "PermissionsBoundaryPolicy"

// AttachedPermissionsBoundary is a user's or role's permissions boundary.
type AttachedPermissionsBoundary struct {
	PermissionsBoundaryType string
	PermissionsBoundaryARN  string `xml:"PermissionsBoundaryArn" json:"PermissionsBoundaryArn"`
}

// User is an IAM user (or, from GetUser, the account's root user, which has no name or path).
type User struct {
	Path                string                       `xml:",omitempty" json:",omitempty"`
	UserName            string                       `xml:",omitempty" json:",omitempty"`
	UserID              string                       `xml:"UserId" json:"UserId"`
	ARN                 string                       `xml:"Arn" json:"Arn"`
	CreateDate          time.Time                    //
	PermissionsBoundary *AttachedPermissionsBoundary `xml:",omitempty" json:",omitempty"`
	Tags                []Tag                        `xml:",omitempty" json:",omitempty"`
}

// Role is an IAM role.
type Role struct {
	Path                     string
	RoleName                 string
	RoleID                   string `xml:"RoleId" json:"RoleId"`
	ARN                      string `xml:"Arn" json:"Arn"`
	CreateDate               time.Time
	AssumeRolePolicyDocument PolicyDocument               `xml:",omitempty" json:",omitempty"`
	Description              string                       `xml:",omitempty" json:",omitempty"`
	MaxSessionDuration       int32                        `xml:",omitempty" json:",omitempty"`
	PermissionsBoundary      *AttachedPermissionsBoundary `xml:",omitempty" json:",omitempty"`
	Tags                     []Tag                        `xml:",omitempty" json:",omitempty"`
	RoleLastUsed             *RoleLastUsed                `json:",omitempty"` // nil pointers are left out; an empty one is written
}

// RoleLastUsed says when and where a role was last assumed; empty when never.
type RoleLastUsed struct {
	LastUsedDate *time.Time `xml:",omitempty" json:",omitempty"`
	Region       string     `xml:",omitempty" json:",omitempty"`
}

// Policy is a managed policy.
type Policy struct {
	PolicyName                    string
	PolicyID                      string `xml:"PolicyId" json:"PolicyId"`
	ARN                           string `xml:"Arn" json:"Arn"`
	Path                          string
	DefaultVersionID              string `xml:"DefaultVersionId" json:"DefaultVersionId"`
	AttachmentCount               int32
	PermissionsBoundaryUsageCount int32
	IsAttachable                  bool
	Description                   string `xml:",omitempty" json:",omitempty"`
	CreateDate                    time.Time
	UpdateDate                    time.Time
	Tags                          []Tag `xml:",omitempty" json:",omitempty"`
}

// PolicyVersion is a version of a managed policy; Document only from GetPolicyVersion.
type PolicyVersion struct {
	Document         PolicyDocument `xml:",omitempty" json:",omitempty"`
	VersionID        string         `xml:"VersionId" json:"VersionId"`
	IsDefaultVersion bool
	CreateDate       time.Time
}

// AccessKey is a new access key with its secret, which only CreateAccessKey returns.
type AccessKey struct {
	UserName        string `xml:",omitempty" json:",omitempty"` // empty for root's keys
	AccessKeyID     string `xml:"AccessKeyId" json:"AccessKeyId"`
	Status          string
	SecretAccessKey string
	CreateDate      time.Time
}

// AccessKeyMetadata describes an access key without its secret.
type AccessKeyMetadata struct {
	UserName    string `xml:",omitempty" json:",omitempty"` // empty for root's keys
	AccessKeyID string `xml:"AccessKeyId" json:"AccessKeyId"`
	Status      string
	CreateDate  time.Time
}

// AttachedPolicy names a managed policy attached to a user or role.
type AttachedPolicy struct {
	PolicyName string
	PolicyARN  string `xml:"PolicyArn" json:"PolicyArn"`
}

// seconds returns t at the precision IAM shows times with.
func seconds(t time.Time) time.Time { return t.Truncate(time.Second) }

func tagsOf(ts []store.Tag) []Tag {
	if len(ts) == 0 {
		return nil
	}
	out := make([]Tag, len(ts))
	for i, t := range ts {
		out[i] = Tag{Key: t.Key, Value: t.Value}
	}
	return out
}

func boundaryOf(arn string) *AttachedPermissionsBoundary {
	if arn == "" {
		return nil
	}
	return &AttachedPermissionsBoundary{PermissionsBoundaryType: BoundaryType, PermissionsBoundaryARN: arn}
}

// userOf returns a user as GetUser and CreateUser show it.
func userOf(u *store.User) *User {
	return &User{
		Path: u.Path, UserName: u.Name, UserID: u.ID, ARN: u.ARN, CreateDate: seconds(u.CreatedAt),
		PermissionsBoundary: boundaryOf(u.PermissionsBoundary), Tags: tagsOf(u.Tags),
	}
}

// roleOf returns a role as CreateRole shows it; GetRole adds RoleLastUsed.
func roleOf(r *store.Role) *Role {
	return &Role{
		Path: r.Path, RoleName: r.Name, RoleID: r.ID, ARN: r.ARN, CreateDate: seconds(r.CreatedAt),
		AssumeRolePolicyDocument: PolicyDocument(r.AssumeRolePolicy), Description: r.Description,
		MaxSessionDuration: r.MaxSessionDuration, PermissionsBoundary: boundaryOf(r.PermissionsBoundary),
		Tags: tagsOf(r.Tags),
	}
}

func lastUsedOf(r *store.Role) *RoleLastUsed {
	lu := &RoleLastUsed{Region: r.LastUsedRegion}
	if !r.LastUsedAt.IsZero() {
		t := seconds(r.LastUsedAt)
		lu.LastUsedDate = &t
	}
	return lu
}

func policyOf(p *store.ManagedPolicy) *Policy {
	return &Policy{
		PolicyName: p.Name, PolicyID: p.ID, ARN: p.ARN, Path: p.Path, DefaultVersionID: p.DefaultVersion,
		AttachmentCount: p.AttachmentCount, PermissionsBoundaryUsageCount: p.BoundaryUsageCount, IsAttachable: true,
		Description: p.Description, CreateDate: seconds(p.CreatedAt), UpdateDate: seconds(p.UpdatedAt), Tags: tagsOf(p.Tags),
	}
}

// Errors in IAM's words.

func noSuchUser(name string) error {
	return awserr.New(ErrNoSuchEntity, "The user with name %s cannot be found.", name)
}

func noSuchRole(name string) error {
	return awserr.New(ErrNoSuchEntity, "The role with name %s cannot be found.", name)
}

func noSuchPolicy(arn string) error {
	return awserr.New(ErrNoSuchEntity, "Policy %s does not exist or is not attachable.", arn)
}

func noSuchBoundary(arn string) error {
	return awserr.New(ErrNoSuchEntity, "Scope ARN: %s does not exist or is not attachable.", arn)
}

func noSuchVersion(arn, version string) error {
	return awserr.New(ErrNoSuchEntity, "Policy %s version %s does not exist or is not attachable.", arn, version)
}

func noSuchAccessKey(id string) error {
	return awserr.New(ErrNoSuchEntity, "The Access Key with id %s cannot be found.", id)
}

func tooManyTags() error {
	return awserr.New(ErrLimitExceeded, "The number of tags has reached the maximum limit of %d.", store.MaxTags)
}

func unmodifiablePolicy(arn string) error {
	return awserr.New(ErrUnmodifiableEntity, "Policy %s is an AWS managed policy and cannot be changed.", arn)
}
