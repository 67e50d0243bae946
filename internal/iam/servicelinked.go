package iam

import (
	"context"
	"strings"

	"github.com/google/uuid"

	"github.com/allot-dev/allot/internal/awserr"
	"github.com/allot-dev/allot/internal/identity"
	"github.com/allot-dev/allot/internal/store"
)

// Service-linked roles are roles that an AWS service (here: Allot on its behalf) creates and
// owns: their path is /aws-service-role/SERVICE/, only the service can assume them, their
// permissions are an AWS managed policy, and callers can change only their description
// (modifiableRole refuses the rest). They are created with CreateServiceLinkedRole, or by
// Organizations when trusted access is enabled, and deleted with DeleteServiceLinkedRole,
// which refuses while the service still depends on the role.

// Service principals of License Manager's service-linked roles (seed 001; api-reference §6.1).
const (
	LicenseManagerService              = "license-manager.amazonaws.com"
	LicenseManagerMasterAccountService = "license-manager.master-account.amazonaws.com"
	LicenseManagerMemberAccountService = "license-manager.member-account.amazonaws.com"
)

// ServiceLinkedRole describes a service-linked role Allot can create.
type ServiceLinkedRole struct {
	ServiceName string // the AWSServiceName that creates it and the principal its trust policy names
	RoleName    string
	PolicyARN   string // its permissions: an AWS managed policy
	// TrustedAccess is the service principal whose trusted access to the account's
	// organization depends on the role: while it is enabled the role cannot be deleted.
	TrustedAccess string
}

// ServiceLinkedRoles are the service-linked roles Allot knows: License Manager's three.
var ServiceLinkedRoles = []ServiceLinkedRole{
	{LicenseManagerService, "AWSServiceRoleForAWSLicenseManagerRole",
		"arn:aws:iam::aws:policy/aws-service-role/AWSLicenseManagerServiceRolePolicy", LicenseManagerService},
	{LicenseManagerMasterAccountService, "AWSServiceRoleForAWSLicenseManagerMasterAccountRole",
		"arn:aws:iam::aws:policy/aws-service-role/AWSLicenseManagerMasterAccountRolePolicy", LicenseManagerService},
	{LicenseManagerMemberAccountService, "AWSServiceRoleForAWSLicenseManagerMemberAccountRole",
		"arn:aws:iam::aws:policy/aws-service-role/AWSLicenseManagerMemberAccountRolePolicy", LicenseManagerService},
}

// ServiceLinkedRoleFor returns the service-linked role of an AWS service name
// (case-sensitive, as AWS's service principals are).
func ServiceLinkedRoleFor(serviceName string) (ServiceLinkedRole, bool) {
	for _, r := range ServiceLinkedRoles {
		if r.ServiceName == serviceName {
			return r, true
		}
	}
	return ServiceLinkedRole{}, false
}

// Path returns the role's path, /aws-service-role/SERVICE/.
func (r ServiceLinkedRole) Path() string { return ServiceLinkedRolePath + r.ServiceName + "/" }

// ARN returns the role's ARN in an account.
func (r ServiceLinkedRole) ARN(accountID string) string {
	return store.RoleARN(accountID, r.Path(), r.RoleName)
}

// TrustPolicy returns the role's trust policy: only its service may assume it.
func (r ServiceLinkedRole) TrustPolicy() string {
	return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"` + r.ServiceName +
		`"},"Action":"sts:AssumeRole"}]}`
}

// CreateServiceLinkedRoleTx creates the service-linked role of an AWS service name in an
// account inside tx, with its permissions policy attached, and returns it. Errors
// (*awserr.Error): InvalidInput for an unknown service or a role name taken in the account.
func CreateServiceLinkedRoleTx(ctx context.Context, tx *store.Tx, accountID, serviceName, description string) (*Role, error) {
	role, exists, err := createServiceLinkedRole(ctx, tx, accountID, serviceName, description)
	if exists {
		return nil, awserr.New(ErrInvalidInput, "Service role name %s has been taken in this account, please try a different suffix.", role.RoleName)
	}
	return role, err
}

// EnsureServiceLinkedRoleTx creates the service-linked role of an AWS service name in an
// account inside tx unless the account has a role of that name, and reports whether it
// created it.
func EnsureServiceLinkedRoleTx(ctx context.Context, tx *store.Tx, accountID, serviceName string) (bool, error) {
	_, exists, err := createServiceLinkedRole(ctx, tx, accountID, serviceName, "")
	return err == nil && !exists, err
}

// createServiceLinkedRole creates a service-linked role, or reports that the account has a
// role of its name (returning only the name then).
func createServiceLinkedRole(ctx context.Context, tx *store.Tx, accountID, serviceName, description string) (*Role, bool, error) {
	slr, ok := ServiceLinkedRoleFor(serviceName)
	if !ok {
		return nil, false, unknownService(serviceName)
	}
	role, err := CreateRoleTx(ctx, tx, accountID, &CreateRoleInput{
		Path: slr.Path(), RoleName: slr.RoleName, AssumeRolePolicyDocument: slr.TrustPolicy(), Description: description,
	})
	if awserr.Code(err) == ErrEntityAlreadyExists {
		return &Role{RoleName: slr.RoleName}, true, nil
	}
	if err != nil {
		return nil, false, err
	}
	if err := tx.AttachPolicy(ctx, store.EntityRole, accountID, slr.RoleName, slr.PolicyARN); err != nil {
		return nil, false, err
	}
	return role, false, nil
}

func unknownService(name string) error {
	names := make([]string, len(ServiceLinkedRoles))
	for i, r := range ServiceLinkedRoles {
		names[i] = r.ServiceName
	}
	return awserr.New(ErrInvalidInput, "Service %s has no service-linked role here; AWSServiceName must be one of %s.",
		name, strings.Join(names, ", "))
}

// CreateServiceLinkedRoleInput is the input of CreateServiceLinkedRole.
type CreateServiceLinkedRoleInput struct {
	AWSServiceName string
	Description    string `json:",omitempty"`
	CustomSuffix   string `json:",omitempty"`
}

// CreateServiceLinkedRoleOutput is the output of CreateServiceLinkedRole.
type CreateServiceLinkedRoleOutput struct {
	Role *Role
}

// CreateServiceLinkedRole creates the service-linked role of an AWS service in the caller's
// account: for License Manager's service names (license-manager.amazonaws.com,
// license-manager.master-account.amazonaws.com, license-manager.member-account.amazonaws.com)
// its role at /aws-service-role/SERVICE/ with its AWS managed permissions policy. Errors:
// InvalidInput (an unknown service, a CustomSuffix, which these services do not take, or a
// role that exists), ValidationError.
func (s *Service) CreateServiceLinkedRole(ctx context.Context, caller *identity.Principal, in *CreateServiceLinkedRoleInput) (*CreateServiceLinkedRoleOutput, error) {
	if err := checkName("aWSServiceName", in.AWSServiceName, 128); err != nil {
		return nil, err
	}
	if err := checkDescription("description", in.Description); err != nil {
		return nil, err
	}
	if _, ok := ServiceLinkedRoleFor(in.AWSServiceName); !ok {
		return nil, unknownService(in.AWSServiceName)
	}
	if in.CustomSuffix != "" {
		if err := checkName("customSuffix", in.CustomSuffix, 64); err != nil {
			return nil, err
		}
		return nil, awserr.New(ErrInvalidInput, "Custom suffix is not allowed for %s.", in.AWSServiceName)
	}
	return store.Apply(ctx, s.DB, func(tx *store.Tx) (*CreateServiceLinkedRoleOutput, error) {
		r, err := CreateServiceLinkedRoleTx(ctx, tx, caller.AccountID, in.AWSServiceName, in.Description)
		if err != nil {
			return nil, err
		}
		return &CreateServiceLinkedRoleOutput{Role: r}, nil
	})
}

// ServiceLinkedRoleResource returns the resource CreateServiceLinkedRole is authorized
// against: the ARN of the service's role in the caller's account (for an unknown service, its
// path).
func ServiceLinkedRoleResource(caller *identity.Principal, serviceName string) string {
	if slr, ok := ServiceLinkedRoleFor(serviceName); ok {
		return slr.ARN(caller.AccountID)
	}
	return store.RoleARN(caller.AccountID, ServiceLinkedRolePath+serviceName+"/", "")
}

// Deletion task states, as GetServiceLinkedRoleDeletionStatus reports them.
const (
	DeletionSucceeded = "SUCCEEDED"
	DeletionFailed    = "FAILED"
)

// DeleteServiceLinkedRoleInput is the input of DeleteServiceLinkedRole.
type DeleteServiceLinkedRoleInput struct {
	RoleName string
}

// DeleteServiceLinkedRoleOutput is the output of DeleteServiceLinkedRole.
type DeleteServiceLinkedRoleOutput struct {
	DeletionTaskID string `xml:"DeletionTaskId" json:"DeletionTaskId"`
}

// DeleteServiceLinkedRole submits the deletion of a service-linked role and returns the
// deletion task's ID (task/aws-service-role/SERVICE/ROLE/…), which
// GetServiceLinkedRoleDeletionStatus reports on. The task runs at once: it fails, leaving the
// role, while the service still depends on it (License Manager's roles while its trusted
// access to the account's organization is enabled, seeds 001 and 003); otherwise the role is
// deleted with its policies. Errors: NoSuchEntity, InvalidInput (not a service-linked role),
// ValidationError.
func (s *Service) DeleteServiceLinkedRole(ctx context.Context, caller *identity.Principal, in *DeleteServiceLinkedRoleInput) (*DeleteServiceLinkedRoleOutput, error) {
	if err := checkName("roleName", in.RoleName, maxRoleName); err != nil {
		return nil, err
	}
	return store.Apply(ctx, s.DB, func(tx *store.Tx) (*DeleteServiceLinkedRoleOutput, error) {
		// The organization first (as Organizations locks it before creating roles): trusted
		// access cannot be enabled while the role is being deleted.
		org, err := tx.LockOrganization(ctx, caller.AccountID)
		if err != nil && !is(err, store.ErrNotFound) {
			return nil, err
		}
		r, err := role(ctx, tx, caller.AccountID, in.RoleName)
		if err != nil {
			return nil, err
		}
		if !strings.HasPrefix(r.Path, ServiceLinkedRolePath) {
			return nil, awserr.New(ErrInvalidInput, "The role %s is not a service-linked role; delete it with DeleteRole.", r.Name)
		}
		task := &store.SLRDeletionTask{
			ID:        "task" + r.Path + r.Name + "/" + uuid.NewString(),
			AccountID: caller.AccountID, RoleName: r.Name, Status: DeletionSucceeded, CreatedAt: tx.Now(),
		}
		if reason, resources, err := slrDependents(ctx, tx, caller.AccountID, org, r); err != nil {
			return nil, err
		} else if reason != "" {
			task.Status, task.Reason, task.Resources = DeletionFailed, reason, resources
		} else if err := deleteRoleAndPolicies(ctx, tx, caller.AccountID, r.Name); err != nil {
			return nil, err
		}
		if err := tx.CreateSLRDeletionTask(ctx, task); err != nil {
			return nil, err
		}
		return &DeleteServiceLinkedRoleOutput{DeletionTaskID: task.ID}, nil
	})
}

// slrDependents says why a service-linked role cannot be deleted and which resources use it,
// or returns "" when nothing depends on it. org is the account's organization, nil when none.
func slrDependents(ctx context.Context, tx *store.Tx, accountID string, org *store.Organization, r *store.Role) (string, []string, error) {
	var slr ServiceLinkedRole
	for _, known := range ServiceLinkedRoles {
		if known.RoleName == r.Name && known.Path() == r.Path {
			slr = known
		}
	}
	if slr.TrustedAccess == "" || org == nil {
		return "", nil, nil
	}
	orgID, err := tx.ServiceAccessEnabled(ctx, accountID, slr.TrustedAccess)
	if err != nil || orgID == "" {
		return "", nil, err
	}
	orgARN := store.OrganizationARN(org.ManagementAccount, org.ID)
	reason := "The service-linked role " + r.Name + " cannot be deleted while trusted access for AWS License Manager (" +
		slr.TrustedAccess + ") is enabled for organization " + org.ID + " (" + orgARN + "), which uses the role. " +
		"Disable trusted access from the organization's management account (aws organizations disable-aws-service-access " +
		"--service-principal " + slr.TrustedAccess + "), or remove the account from the organization, first."
	return reason, []string{orgARN}, nil
}

// deleteRoleAndPolicies deletes a role with its attached and inline policies.
func deleteRoleAndPolicies(ctx context.Context, tx *store.Tx, accountID, name string) error {
	attached, err := tx.AttachedPolicies(ctx, store.EntityRole, accountID, name, store.ListQuery{})
	if err != nil {
		return err
	}
	for _, p := range attached {
		if err := tx.DetachPolicy(ctx, store.EntityRole, accountID, name, p.ARN); err != nil {
			return err
		}
	}
	inline, err := tx.InlinePolicies(ctx, store.EntityRole, accountID, name, store.ListQuery{})
	if err != nil {
		return err
	}
	for _, p := range inline {
		if err := tx.DeleteInlinePolicy(ctx, store.EntityRole, accountID, name, p.Name); err != nil {
			return err
		}
	}
	return tx.DeleteRole(ctx, accountID, name)
}

// GetServiceLinkedRoleDeletionStatusInput is the input of GetServiceLinkedRoleDeletionStatus.
type GetServiceLinkedRoleDeletionStatusInput struct {
	DeletionTaskID string `query:"DeletionTaskId" json:"DeletionTaskId"`
}

// GetServiceLinkedRoleDeletionStatusOutput is the output of GetServiceLinkedRoleDeletionStatus.
type GetServiceLinkedRoleDeletionStatusOutput struct {
	Status string
	Reason *DeletionTaskFailureReason `xml:",omitempty" json:",omitempty"`
}

// DeletionTaskFailureReason says why a deletion task failed and what uses the role.
type DeletionTaskFailureReason struct {
	Reason        string      `xml:",omitempty" json:",omitempty"`
	RoleUsageList []RoleUsage `xml:",omitempty" json:",omitempty"`
}

// RoleUsage lists resources that use a role.
type RoleUsage struct {
	Region    string   `xml:",omitempty" json:",omitempty"`
	Resources []string `xml:",omitempty" json:",omitempty"`
}

// GetServiceLinkedRoleDeletionStatus reports on a deletion task of the caller's account:
// SUCCEEDED, or FAILED with the reason and the resources that use the role. Errors:
// NoSuchEntity, ValidationError.
func (s *Service) GetServiceLinkedRoleDeletionStatus(ctx context.Context, caller *identity.Principal, in *GetServiceLinkedRoleDeletionStatusInput) (*GetServiceLinkedRoleDeletionStatusOutput, error) {
	if in.DeletionTaskID == "" {
		return nil, missing("deletionTaskId")
	}
	if err := checkLength("deletionTaskId", in.DeletionTaskID, 1, 1000); err != nil {
		return nil, err
	}
	return store.Read(ctx, s.DB, func(tx *store.Tx) (*GetServiceLinkedRoleDeletionStatusOutput, error) {
		t, err := tx.SLRDeletionTask(ctx, caller.AccountID, in.DeletionTaskID)
		if is(err, store.ErrNotFound) {
			return nil, awserr.New(ErrNoSuchEntity, "The deletion task %s cannot be found.", in.DeletionTaskID)
		}
		if err != nil {
			return nil, err
		}
		out := &GetServiceLinkedRoleDeletionStatusOutput{Status: t.Status}
		if t.Status == DeletionFailed {
			out.Reason = &DeletionTaskFailureReason{Reason: t.Reason}
			if len(t.Resources) > 0 {
				out.Reason.RoleUsageList = []RoleUsage{{Resources: t.Resources}}
			}
		}
		return out, nil
	})
}

// DeletionTaskRoleARN returns the ARN of the role a deletion task ID
// (task/aws-service-role/SERVICE/ROLE/ID) names, in the caller's account, for authorization;
// "*" when the ID has another form.
func DeletionTaskRoleARN(caller *identity.Principal, taskID string) string {
	rest, ok := strings.CutPrefix(taskID, "task/")
	i := strings.LastIndexByte(rest, '/')
	if !ok || i < 0 {
		return "*"
	}
	rest = rest[:i]
	j := strings.LastIndexByte(rest, '/')
	if j < 0 {
		return "*"
	}
	return store.RoleARN(caller.AccountID, "/"+rest[:j+1], rest[j+1:])
}
