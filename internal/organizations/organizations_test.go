package organizations

import (
	"context"
	"path/filepath"
	"regexp"
	"sync"
	"testing"

	"github.com/allot-dev/allot/internal/awserr"
	"github.com/allot-dev/allot/internal/awsproto"
	"github.com/allot-dev/allot/internal/iam"
	"github.com/allot-dev/allot/internal/identity"
	"github.com/allot-dev/allot/internal/store"
	"github.com/allot-dev/allot/internal/store/storetest"
)

func TestErrorCodesHaveStatuses(t *testing.T) {
	for _, code := range []string{
		ErrAccessDenied, ErrNotInUse, ErrAlreadyInOrganization, ErrAccountNotFound, ErrChildNotFound,
		ErrConstraintViolation, ErrCreateAccountStatusNotFound, ErrDestinationParentNotFound, ErrDuplicateAccount,
		ErrDuplicateOU, ErrDuplicatePolicy, ErrDuplicatePolicyAttachment, ErrInvalidInput, ErrMalformedPolicyDocument,
		ErrOrganizationNotEmpty, ErrOUNotEmpty, ErrOUNotFound, ErrParentNotFound, ErrPolicyInUse, ErrPolicyNotAttached,
		ErrPolicyNotFound, ErrPolicyTypeAlreadyEnabled, ErrPolicyTypeNotAvailable, ErrPolicyTypeNotEnabled,
		ErrRootNotFound, ErrSourceParentNotFound, ErrTargetNotFound,
	} {
		if !awsproto.KnownCode(code) {
			t.Errorf("%s has no entry in awsproto's status table", code)
		}
	}
}

func TestIDs(t *testing.T) {
	root := newRootID()
	for id, pattern := range map[string]string{
		newOrgID():    `^o-[a-z0-9]{10,32}$`,
		root:          `^r-[0-9a-z]{4,32}$`,
		newOUID(root): `^ou-` + root[2:] + `-[a-z0-9]{8,32}$`,
		newPolicyID(): `^p-[0-9a-zA-Z_]{8,128}$`,
		newCARID():    `^car-[a-z0-9]{8,32}$`,
	} {
		if !regexp.MustCompile(pattern).MatchString(id) {
			t.Errorf("ID %q does not match %s", id, pattern)
		}
	}
	for id, want := range map[string]string{root: TypeRoot, newOUID(root): TypeOU, "123456789012": TypeAccount} {
		if got := targetType(id); got != want {
			t.Errorf("targetType(%s) = %s, want %s", id, got, want)
		}
	}
}

func TestCheckContent(t *testing.T) {
	for content, code := range map[string]string{
		`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"iam:*","Resource":"*"}]}`:                 "",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"iam:*","Resource":"*"}]}`: ErrMalformedPolicyDocument,
		`not json`: ErrMalformedPolicyDocument,
		``:         ErrInvalidInput,
		`{"Version":"2012-10-17","Statement":[{"Sid":"` + repeat("x", MaxSCPSize) + `","Effect":"Deny","Action":"*","Resource":"*"}]}`: ErrConstraintViolation,
	} {
		if got := awserr.Code(checkContent(content)); got != code {
			t.Errorf("checkContent(%.40q…) = %q, want %q", content, got, code)
		}
	}
}

func repeat(s string, n int) string {
	b := make([]byte, 0, len(s)*n)
	for range n {
		b = append(b, s...)
	}
	return string(b)
}

// newService returns a service over a fresh SQLite database and the management account of a
// new organization.
func newService(t *testing.T) (*Service, *identity.Principal) {
	t.Helper()
	db := storetest.OpenDSN(t, filepath.Join(t.TempDir(), "allot.db"), storetest.NewBox(t), store.Options{})
	mgmt := identity.Root("111122223333", "")
	ctx := context.Background()
	err := db.Update(ctx, func(tx *store.Tx) error {
		return tx.CreateAccount(ctx, &store.Account{ID: mgmt.AccountID, Name: "management", Status: "ACTIVE", CreatedAt: tx.Now()})
	})
	if err != nil {
		t.Fatal(err)
	}
	s := &Service{DB: db}
	if _, err := s.CreateOrganization(ctx, mgmt, &CreateOrganizationInput{}); err != nil {
		t.Fatal(err)
	}
	return s, mgmt
}

// TestCreateAccount_ConcurrentSameEmail checks that of many CreateAccount requests with one
// email address exactly one succeeds, the others failing with EMAIL_ALREADY_EXISTS.
func TestCreateAccount_ConcurrentSameEmail(t *testing.T) {
	s, mgmt := newService(t)
	ctx := context.Background()
	const n = 16
	states := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			out, err := s.CreateAccount(ctx, mgmt, &CreateAccountInput{AccountName: "dev", Email: "dev@example.com"})
			if err != nil {
				t.Errorf("CreateAccount: %v", err)
				return
			}
			states[i] = out.CreateAccountStatus.State + " " + out.CreateAccountStatus.FailureReason
		})
	}
	wg.Wait()
	succeeded := 0
	for _, st := range states {
		switch st {
		case StateSucceeded + " ":
			succeeded++
		case StateFailed + " " + FailureEmailAlreadyExists:
		default:
			t.Errorf("CreateAccount state %q", st)
		}
	}
	if succeeded != 1 {
		t.Errorf("%d of %d CreateAccount calls with one email succeeded, want 1", succeeded, n)
	}
}

// TestCreateAccount_SetsUpTheAccount checks what a new account gets: its access role with
// AdministratorAccess, FullAWSAccess when SCPs are enabled, and License Manager's member role
// when it has trusted access.
func TestCreateAccount_SetsUpTheAccount(t *testing.T) {
	s, mgmt := newService(t)
	ctx := context.Background()
	roots, err := s.ListRoots(ctx, mgmt, &ListRootsInput{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.EnablePolicyType(ctx, mgmt, &EnablePolicyTypeInput{RootID: roots.Roots[0].ID, PolicyType: store.PolicyTypeSCP}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.EnableAWSServiceAccess(ctx, mgmt, &EnableAWSServiceAccessInput{ServicePrincipal: iam.LicenseManagerService}); err != nil {
		t.Fatal(err)
	}
	out, err := s.CreateAccount(ctx, mgmt, &CreateAccountInput{AccountName: "dev", Email: "dev@example.com", RoleName: "Admin"})
	if err != nil {
		t.Fatal(err)
	}
	acct := out.CreateAccountStatus.AccountID
	err = s.DB.View(ctx, func(tx *store.Tx) error {
		role, err := tx.Role(ctx, acct, "Admin")
		if err != nil {
			return err
		}
		if want := `"AWS":"arn:aws:iam::` + mgmt.AccountID + `:root"`; !regexp.MustCompile(regexp.QuoteMeta(want)).MatchString(role.AssumeRolePolicy) {
			t.Errorf("trust policy %s does not trust %s", role.AssumeRolePolicy, want)
		}
		attached, err := tx.AttachedPolicies(ctx, store.EntityRole, acct, "Admin", store.ListQuery{})
		if err != nil || len(attached) != 1 || attached[0].ARN != administratorAccess {
			t.Errorf("policies of the access role = %v, %v", attached, err)
		}
		if _, err := tx.Role(ctx, acct, "AWSServiceRoleForAWSLicenseManagerMemberAccountRole"); err != nil {
			t.Errorf("member-account role: %v", err)
		}
		oc, err := tx.OrgContext(ctx, acct)
		if err != nil || len(oc.Levels) != 2 || len(oc.Levels[1]) != 1 {
			t.Errorf("OrgContext of the new account = %+v, %v; want FullAWSAccess on it", oc, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// A reserved role name.
	_, err = s.CreateAccount(ctx, mgmt, &CreateAccountInput{AccountName: "x", Email: "x@example.com", RoleName: "AWSServiceRoleForX"})
	if awserr.Code(err) != ErrInvalidInput {
		t.Errorf("CreateAccount(AWSServiceRoleFor…) = %v, want InvalidInputException", err)
	}
}
