package organizations

import (
	"github.com/allot-dev/allot/internal/awstime"
	"github.com/allot-dev/allot/internal/store"
)

// The structures below are Organizations' output shapes, with AWS's member names; times are
// epoch seconds.

// Organization is an organization as DescribeOrganization shows it.
type Organization struct {
	ID                   string              `json:"Id"`
	ARN                  string              `json:"Arn"`
	FeatureSet           string              `json:"FeatureSet"`
	MasterAccountARN     string              `json:"MasterAccountArn"`
	MasterAccountID      string              `json:"MasterAccountId"`
	MasterAccountEmail   string              `json:"MasterAccountEmail,omitempty"`
	AvailablePolicyTypes []PolicyTypeSummary `json:"AvailablePolicyTypes"`
}

// PolicyTypeSummary is a policy type and its status in a root.
type PolicyTypeSummary struct {
	Type   string
	Status string
}

// Root is an organization's root.
type Root struct {
	ID          string              `json:"Id"`
	ARN         string              `json:"Arn"`
	Name        string              `json:"Name"`
	PolicyTypes []PolicyTypeSummary `json:"PolicyTypes"`
}

// Account is a member account of an organization.
type Account struct {
	ID              string        `json:"Id"`
	ARN             string        `json:"Arn"`
	Email           string        `json:"Email,omitempty"`
	Name            string        `json:"Name"`
	Status          string        `json:"Status"`
	State           string        `json:"State"`
	JoinedMethod    string        `json:"JoinedMethod"`
	JoinedTimestamp awstime.Epoch `json:"JoinedTimestamp"`
	Paths           []string      `json:"Paths,omitempty"`
}

// CreateAccountStatus is the state of a CreateAccount request.
type CreateAccountStatus struct {
	ID                 string         `json:"Id"`
	AccountName        string         `json:"AccountName"`
	State              string         `json:"State"`
	RequestedTimestamp awstime.Epoch  `json:"RequestedTimestamp"`
	CompletedTimestamp *awstime.Epoch `json:"CompletedTimestamp,omitempty"`
	AccountID          string         `json:"AccountId,omitempty"`
	FailureReason      string         `json:"FailureReason,omitempty"`
}

// OrganizationalUnit is an OU.
type OrganizationalUnit struct {
	ID   string `json:"Id"`
	ARN  string `json:"Arn"`
	Name string `json:"Name"`
}

// Child is a child of a root or OU: an account or an OU.
type Child struct {
	ID   string `json:"Id"`
	Type string `json:"Type"`
}

// Parent is the parent of an account or OU: a root or an OU.
type Parent struct {
	ID   string `json:"Id"`
	Type string `json:"Type"`
}

// Policy is an organization policy with its content.
type Policy struct {
	PolicySummary *PolicySummary
	Content       string
}

// PolicySummary describes an organization policy.
type PolicySummary struct {
	ID          string `json:"Id"`
	ARN         string `json:"Arn"`
	Name        string `json:"Name"`
	Description string `json:"Description"`
	Type        string `json:"Type"`
	AwsManaged  bool   `json:"AwsManaged"`
}

// PolicyTargetSummary is a root, OU or account a policy is attached to.
type PolicyTargetSummary struct {
	TargetID string `json:"TargetId"`
	ARN      string `json:"Arn"`
	Name     string `json:"Name"`
	Type     string `json:"Type"`
}

// EnabledServicePrincipal is a service principal with trusted access to the organization.
type EnabledServicePrincipal struct {
	ServicePrincipal string
	DateEnabled      awstime.Epoch
}

// Tag is a tag of an account, OU, root or policy.
type Tag struct {
	Key   string
	Value string
}

func organizationOf(o *store.Organization) *Organization {
	return &Organization{
		ID: o.ID, ARN: store.OrganizationARN(o.ManagementAccount, o.ID), FeatureSet: o.FeatureSet,
		MasterAccountARN:     store.OrgAccountARN(o.ManagementAccount, o.ID, o.ManagementAccount),
		MasterAccountID:      o.ManagementAccount,
		MasterAccountEmail:   o.ManagementEmail,
		AvailablePolicyTypes: policyTypesOf(o),
	}
}

func policyTypesOf(o *store.Organization) []PolicyTypeSummary {
	out := make([]PolicyTypeSummary, 0, len(o.PolicyTypes))
	for _, t := range o.PolicyTypes {
		out = append(out, PolicyTypeSummary{Type: t, Status: "ENABLED"})
	}
	return out
}

func rootOf(o *store.Organization) *Root {
	return &Root{ID: o.RootID, ARN: store.OrgRootARN(o.ManagementAccount, o.ID, o.RootID), Name: RootName, PolicyTypes: policyTypesOf(o)}
}

// accountOf returns an account as ListAccounts shows it; path is the account's parent's path
// ("o-…/r-…/ou-…/"), or "" to leave Paths out.
func accountOf(o *store.Organization, a *store.OrgAccount, path string) Account {
	out := Account{
		ID: a.ID, ARN: store.OrgAccountARN(o.ManagementAccount, o.ID, a.ID), Email: a.Email, Name: a.Name,
		Status: a.Status, State: a.Status, JoinedMethod: a.JoinedMethod, JoinedTimestamp: awstime.Epoch{Time: a.JoinedAt},
	}
	if path != "" {
		out.Paths = []string{path + a.ID + "/"}
	}
	return out
}

func createAccountStatusOf(r *store.CreateAccountRequest) *CreateAccountStatus {
	out := &CreateAccountStatus{
		ID: r.ID, AccountName: r.AccountName, State: r.State, RequestedTimestamp: awstime.Epoch{Time: r.RequestedAt},
		AccountID: r.AccountID, FailureReason: r.FailureReason,
	}
	if !r.CompletedAt.IsZero() {
		out.CompletedTimestamp = &awstime.Epoch{Time: r.CompletedAt}
	}
	return out
}

func ouOf(o *store.Organization, u *store.OrganizationalUnit) *OrganizationalUnit {
	return &OrganizationalUnit{ID: u.ID, ARN: store.OUARN(o.ManagementAccount, o.ID, u.ID), Name: u.Name}
}

func policySummaryOf(o *store.Organization, p *store.OrgPolicy) *PolicySummary {
	return &PolicySummary{
		ID: p.ID, ARN: store.OrgPolicyARN(o.ManagementAccount, o.ID, p.Type, p.ID, p.AWSManaged()), Name: p.Name,
		Description: p.Description, Type: p.Type, AwsManaged: p.AWSManaged(),
	}
}

func policyOf(o *store.Organization, p *store.OrgPolicy) *Policy {
	return &Policy{PolicySummary: policySummaryOf(o, p), Content: p.Content}
}

func tagsOf(ts []store.Tag) []Tag {
	out := make([]Tag, len(ts))
	for i, t := range ts {
		out[i] = Tag{Key: t.Key, Value: t.Value}
	}
	return out
}
