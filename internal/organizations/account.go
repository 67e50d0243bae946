package organizations

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/allot-dev/allot/internal/awserr"
	"github.com/allot-dev/allot/internal/iam"
	"github.com/allot-dev/allot/internal/identity"
	"github.com/allot-dev/allot/internal/store"
)

// administratorAccess is the AWS managed policy attached to the role CreateAccount makes.
const administratorAccess = "arn:aws:iam::aws:policy/AdministratorAccess"

// CreateAccountInput is the input of CreateAccount.
type CreateAccountInput struct {
	AccountName            string
	Email                  string
	RoleName               string `json:",omitempty"`
	IamUserAccessToBilling string `json:",omitempty"`
	Tags                   []Tag  `json:",omitempty"`
}

// CreateAccountOutput is the output of CreateAccount.
type CreateAccountOutput struct {
	CreateAccountStatus *CreateAccountStatus
}

// CreateAccount creates a member account of the caller's organization, under its root, and
// returns the request's status: SUCCEEDED with the new account's ID, or FAILED with
// EMAIL_ALREADY_EXISTS when an account has the email address. As in AWS the new account gets
// a role (RoleName, OrganizationAccountAccessRole by default) that the management account may
// assume, with AdministratorAccess; FullAWSAccess when SCPs are enabled; and License
// Manager's member-account service-linked role when License Manager has trusted access.
// Errors: AWSOrganizationsNotInUseException, AccessDeniedException, InvalidInputException,
// ConstraintViolationException (tags).
func (s *Service) CreateAccount(ctx context.Context, caller *identity.Principal, in *CreateAccountInput) (*CreateAccountOutput, error) {
	if err := checkString("Email", in.Email, true, 6, 64, emailPattern); err != nil {
		return nil, err
	}
	if err := checkString("AccountName", in.AccountName, true, 1, 50, accountName); err != nil {
		return nil, err
	}
	roleName := in.RoleName
	if roleName == "" {
		roleName = DefaultRoleName
	}
	if err := checkString("RoleName", roleName, false, 1, 64, roleNamePattern); err != nil {
		return nil, err
	}
	if strings.HasPrefix(roleName, "AWSServiceRoleFor") {
		return nil, invalidInput(ReasonInvalidRoleName, "You provided a role name that isn't valid. A role name can't begin with the reserved prefix 'AWSServiceRoleFor'.")
	}
	if err := checkEnum("IamUserAccessToBilling", in.IamUserAccessToBilling, false, "ALLOW", "DENY"); err != nil {
		return nil, err
	}
	tags, err := checkTags("Tags", in.Tags)
	if err != nil {
		return nil, err
	}
	return store.Apply(ctx, s.DB, func(tx *store.Tx) (*CreateAccountOutput, error) {
		o, err := managed(ctx, tx, caller, "CreateAccount", true)
		if err != nil {
			return nil, err
		}
		now := tx.Now()
		req := &store.CreateAccountRequest{ID: newCARID(), OrgID: o.ID, AccountName: in.AccountName, RequestedAt: now, CompletedAt: now}
		acct, err := s.createAccount(ctx, tx, o, in, now)
		switch {
		case errors.Is(err, errEmailTaken):
			req.State, req.FailureReason = StateFailed, FailureEmailAlreadyExists
		case err != nil:
			return nil, err
		default:
			req.State, req.AccountID = StateSucceeded, acct.ID
			if err := s.setUpAccount(ctx, tx, o, acct.ID, roleName, tags); err != nil {
				return nil, err
			}
		}
		if err := tx.PutCreateAccountRequest(ctx, req); err != nil {
			return nil, err
		}
		return &CreateAccountOutput{CreateAccountStatus: createAccountStatusOf(req)}, nil
	})
}

var errEmailTaken = errors.New("organizations: email address taken")

// createAccount stores the new account, trying new IDs on the (unlikely) collision of one.
func (s *Service) createAccount(ctx context.Context, tx *store.Tx, o *store.Organization, in *CreateAccountInput, now time.Time) (*store.OrgAccount, error) {
	for range 5 {
		if used, err := tx.EmailInUse(ctx, in.Email); err != nil {
			return nil, err
		} else if used {
			return nil, errEmailTaken
		}
		a := &store.OrgAccount{
			ID: s.newAccountID(), OrgID: o.ID, ParentID: o.RootID, Name: in.AccountName, Email: in.Email,
			Status: "ACTIVE", JoinedMethod: store.JoinedCreated, JoinedAt: now,
		}
		err := tx.CreateOrgAccount(ctx, a)
		if !errors.Is(err, store.ErrConflict) {
			return a, err
		}
	}
	return nil, errors.New("organizations: no free account ID after 5 tries")
}

// setUpAccount gives a new account what AWS gives it: the access role, tags, FullAWSAccess and
// the service-linked roles of services with trusted access.
func (s *Service) setUpAccount(ctx context.Context, tx *store.Tx, o *store.Organization, accountID, roleName string, tags []store.Tag) error {
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"` + identity.RootARN(o.ManagementAccount) +
		`"},"Action":"sts:AssumeRole"}]}`
	if _, err := iam.CreateRoleTx(ctx, tx, accountID, &iam.CreateRoleInput{RoleName: roleName, AssumeRolePolicyDocument: trust}); err != nil {
		return err
	}
	if err := tx.AttachPolicy(ctx, store.EntityRole, accountID, roleName, administratorAccess); err != nil {
		return err
	}
	if err := tx.PutOrgTags(ctx, accountID, tags); err != nil {
		return err
	}
	if o.SCPsEnabled() {
		if err := tx.AttachOrgPolicy(ctx, o.ID, store.FullAWSAccessID, accountID); err != nil {
			return err
		}
	}
	return s.createServiceRoles(ctx, tx, o, accountID)
}

// DescribeCreateAccountStatusInput is the input of DescribeCreateAccountStatus.
type DescribeCreateAccountStatusInput struct {
	CreateAccountRequestID string `json:"CreateAccountRequestId"`
}

// DescribeCreateAccountStatus returns the status of a CreateAccount request. Errors:
// AWSOrganizationsNotInUseException, AccessDeniedException,
// CreateAccountStatusNotFoundException, InvalidInputException.
func (s *Service) DescribeCreateAccountStatus(ctx context.Context, caller *identity.Principal, in *DescribeCreateAccountStatusInput) (*CreateAccountOutput, error) {
	if err := checkString("CreateAccountRequestId", in.CreateAccountRequestID, true, 1, 36, carIDPattern); err != nil {
		return nil, err
	}
	var out *CreateAccountOutput
	err := s.readManaged(ctx, caller, "DescribeCreateAccountStatus", func(tx *store.Tx, o *store.Organization) error {
		r, err := tx.CreateAccountRequest(ctx, o.ID, in.CreateAccountRequestID)
		if errors.Is(err, store.ErrNotFound) {
			return awserr.New(ErrCreateAccountStatusNotFound, "We can't find a create account request with the CreateAccountRequestId %s.", in.CreateAccountRequestID)
		}
		if err != nil {
			return err
		}
		out = &CreateAccountOutput{CreateAccountStatus: createAccountStatusOf(r)}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ListCreateAccountStatusInput is the input of ListCreateAccountStatus.
type ListCreateAccountStatusInput struct {
	States     []string `json:",omitempty"`
	MaxResults *int32   `json:",omitempty"`
	NextToken  *string  `json:",omitempty"`
}

// ListCreateAccountStatusOutput is the output of ListCreateAccountStatus.
type ListCreateAccountStatusOutput struct {
	CreateAccountStatuses []CreateAccountStatus
	NextToken             *string `json:",omitempty"`
}

// ListCreateAccountStatus returns the organization's CreateAccount requests in the states
// given (all when none), oldest first. Errors: AWSOrganizationsNotInUseException,
// AccessDeniedException, InvalidInputException.
func (s *Service) ListCreateAccountStatus(ctx context.Context, caller *identity.Principal, in *ListCreateAccountStatusInput) (*ListCreateAccountStatusOutput, error) {
	for _, st := range in.States {
		if err := checkEnum("States", st, true, StateInProgress, StateSucceeded, StateFailed); err != nil {
			return nil, err
		}
	}
	p, err := readPage("ListCreateAccountStatus", in.MaxResults, in.NextToken)
	if err != nil {
		return nil, err
	}
	out := &ListCreateAccountStatusOutput{CreateAccountStatuses: []CreateAccountStatus{}}
	err = s.readManaged(ctx, caller, "ListCreateAccountStatus", func(tx *store.Tx, o *store.Organization) error {
		reqs, err := tx.CreateAccountRequests(ctx, o.ID, store.CreateAccountRequestQuery{
			States: in.States, AfterID: p.pos.After, AfterTime: time.UnixMicro(p.pos.Time), Limit: p.limit + 1,
		})
		if err != nil {
			return err
		}
		reqs, out.NextToken = cut(p, reqs, func(r *store.CreateAccountRequest) (string, int64) { return r.ID, r.RequestedAt.UnixMicro() })
		for _, r := range reqs {
			out.CreateAccountStatuses = append(out.CreateAccountStatuses, *createAccountStatusOf(r))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ListAccountsInput is the input of ListAccounts.
type ListAccountsInput struct {
	MaxResults *int32  `json:",omitempty"`
	NextToken  *string `json:",omitempty"`
}

// ListAccountsOutput is the output of ListAccounts and ListAccountsForParent.
type ListAccountsOutput struct {
	Accounts  []Account
	NextToken *string `json:",omitempty"`
}

// ListAccounts returns the accounts of the organization, the management account included, in
// order of ID. Errors: AWSOrganizationsNotInUseException, AccessDeniedException,
// InvalidInputException.
func (s *Service) ListAccounts(ctx context.Context, caller *identity.Principal, in *ListAccountsInput) (*ListAccountsOutput, error) {
	return s.listAccounts(ctx, caller, "ListAccounts", "", in.MaxResults, in.NextToken)
}

// ListAccountsForParentInput is the input of ListAccountsForParent.
type ListAccountsForParentInput struct {
	ParentID   string  `json:"ParentId"`
	MaxResults *int32  `json:",omitempty"`
	NextToken  *string `json:",omitempty"`
}

// ListAccountsForParent returns the accounts directly under a root or OU. Errors:
// AWSOrganizationsNotInUseException, AccessDeniedException, ParentNotFoundException,
// InvalidInputException.
func (s *Service) ListAccountsForParent(ctx context.Context, caller *identity.Principal, in *ListAccountsForParentInput) (*ListAccountsOutput, error) {
	if err := checkTargetID("ParentId", in.ParentID, parentIDPattern); err != nil {
		return nil, err
	}
	return s.listAccounts(ctx, caller, "ListAccountsForParent", in.ParentID, in.MaxResults, in.NextToken)
}

func (s *Service) listAccounts(ctx context.Context, caller *identity.Principal, op, parentID string, maxResults *int32, nextToken *string) (*ListAccountsOutput, error) {
	p, err := readPage(op, maxResults, nextToken)
	if err != nil {
		return nil, err
	}
	out := &ListAccountsOutput{Accounts: []Account{}}
	err = s.readManaged(ctx, caller, op, func(tx *store.Tx, o *store.Organization) error {
		if parentID != "" {
			if err := checkParent(ctx, tx, o, parentID, ErrParentNotFound); err != nil {
				return err
			}
		}
		accts, err := tx.OrgAccounts(ctx, o.ID, p.query(parentID))
		if err != nil {
			return err
		}
		accts, out.NextToken = cut(p, accts, func(a *store.OrgAccount) (string, int64) { return a.ID, 0 })
		paths := pathCache{}
		for _, a := range accts {
			path, err := paths.of(ctx, tx, o, a.ParentID)
			if err != nil {
				return err
			}
			out.Accounts = append(out.Accounts, accountOf(o, a, path))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// pathCache finds the paths (o-…/r-…/ou-…/) of roots and OUs.
type pathCache map[string]string

func (c pathCache) of(ctx context.Context, tx *store.Tx, o *store.Organization, parentID string) (string, error) {
	if p, ok := c[parentID]; ok {
		return p, nil
	}
	chain, err := tx.OUChain(ctx, o.ID, parentID)
	if err != nil {
		return "", err
	}
	p := o.ID + "/" + o.RootID + "/"
	for _, ou := range chain {
		p += ou + "/"
	}
	c[parentID] = p
	return p, nil
}

// DescribeAccountInput is the input of DescribeAccount.
type DescribeAccountInput struct {
	AccountID string `json:"AccountId"`
}

// DescribeAccountOutput is the output of DescribeAccount.
type DescribeAccountOutput struct {
	Account *Account
}

// DescribeAccount returns an account of the organization. Errors:
// AWSOrganizationsNotInUseException, AccessDeniedException, AccountNotFoundException,
// InvalidInputException.
func (s *Service) DescribeAccount(ctx context.Context, caller *identity.Principal, in *DescribeAccountInput) (*DescribeAccountOutput, error) {
	if err := checkString("AccountId", in.AccountID, true, 12, 12, accountIDPattern); err != nil {
		return nil, err
	}
	var out *DescribeAccountOutput
	err := s.readManaged(ctx, caller, "DescribeAccount", func(tx *store.Tx, o *store.Organization) error {
		a, err := tx.OrgAccount(ctx, o.ID, in.AccountID)
		if errors.Is(err, store.ErrNotFound) {
			return accountNotFound(in.AccountID)
		}
		if err != nil {
			return err
		}
		path, err := pathCache{}.of(ctx, tx, o, a.ParentID)
		if err != nil {
			return err
		}
		acct := accountOf(o, a, path)
		out = &DescribeAccountOutput{Account: &acct}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func accountNotFound(id string) error {
	return awserr.New(ErrAccountNotFound, "You specified an account that doesn't exist: %s is not an account of this organization.", id)
}

// MoveAccountInput is the input of MoveAccount.
type MoveAccountInput struct {
	AccountID           string `json:"AccountId"`
	SourceParentID      string `json:"SourceParentId"`
	DestinationParentID string `json:"DestinationParentId"`
}

// MoveAccount moves an account from its parent (a root or OU) to another. Errors:
// AWSOrganizationsNotInUseException, AccessDeniedException, AccountNotFoundException,
// SourceParentNotFoundException, DestinationParentNotFoundException,
// DuplicateAccountException, InvalidInputException.
func (s *Service) MoveAccount(ctx context.Context, caller *identity.Principal, in *MoveAccountInput) (*Empty, error) {
	if err := checkString("AccountId", in.AccountID, true, 12, 12, accountIDPattern); err != nil {
		return nil, err
	}
	if err := checkTargetID("SourceParentId", in.SourceParentID, parentIDPattern); err != nil {
		return nil, err
	}
	if err := checkTargetID("DestinationParentId", in.DestinationParentID, parentIDPattern); err != nil {
		return nil, err
	}
	return store.Apply(ctx, s.DB, func(tx *store.Tx) (*Empty, error) {
		o, err := managed(ctx, tx, caller, "MoveAccount", true)
		if err != nil {
			return nil, err
		}
		a, err := tx.OrgAccount(ctx, o.ID, in.AccountID)
		if errors.Is(err, store.ErrNotFound) {
			return nil, accountNotFound(in.AccountID)
		}
		if err != nil {
			return nil, err
		}
		if err := checkParent(ctx, tx, o, in.SourceParentID, ErrSourceParentNotFound); err != nil {
			return nil, err
		}
		if err := checkParent(ctx, tx, o, in.DestinationParentID, ErrDestinationParentNotFound); err != nil {
			return nil, err
		}
		switch {
		case a.ParentID == in.DestinationParentID:
			return nil, awserr.New(ErrDuplicateAccount, "That account is already present in the specified destination %s.", in.DestinationParentID)
		case a.ParentID != in.SourceParentID:
			return nil, awserr.New(ErrSourceParentNotFound, "We can't find a source root or OU with the ParentId that you specified: account %s is not in %s.", a.ID, in.SourceParentID)
		}
		if err := tx.MoveOrgAccount(ctx, o.ID, a.ID, in.SourceParentID, in.DestinationParentID); err != nil {
			return nil, err
		}
		return &Empty{}, nil
	})
}

// checkParent returns the error code's error unless id is the organization's root or one of
// its OUs.
func checkParent(ctx context.Context, tx *store.Tx, o *store.Organization, id, code string) error {
	if id == o.RootID {
		return nil
	}
	if ouIDPattern.MatchString(id) {
		_, err := tx.OrganizationalUnit(ctx, o.ID, id)
		if !errors.Is(err, store.ErrNotFound) {
			return err
		}
	}
	return awserr.New(code, "We can't find a root or OU with the ParentId %s.", id)
}
