package test

import (
	"context"
	"net/http"
	"slices"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	lm "github.com/aws/aws-sdk-go-v2/service/licensemanager"
	lmtypes "github.com/aws/aws-sdk-go-v2/service/licensemanager/types"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
)

// licenseOrg is an organization of two accounts as License Manager sees them: the management
// account (through an administrator user) and a member (through OrganizationAccountAccessRole).
type licenseOrg struct {
	s                  *server
	member             string
	mgmtLM, memberLM   *lm.Client
	mgmtEC2, memberEC2 *ec2.Client
	memberSSM          *ssm.Client
	org                *organizations.Client
}

func newLicenseOrg(t *testing.T, s *server) *licenseOrg {
	t.Helper()
	ctx := context.Background()
	admin := orgAdmin(t, s)
	o := &licenseOrg{s: s, org: organizations.NewFromConfig(s.configFor(admin))}
	if _, err := o.org.CreateOrganization(ctx, &organizations.CreateOrganizationInput{}); err != nil {
		t.Fatalf("CreateOrganization: %v", err)
	}
	acct, err := o.org.CreateAccount(ctx, &organizations.CreateAccountInput{AccountName: aws.String("workloads"), Email: aws.String("workloads@example.com")})
	if err != nil {
		t.Fatalf("CreateAccount: %v", err)
	}
	o.member = aws.ToString(acct.CreateAccountStatus.AccountId)
	mgmt, member := s.configFor(admin), s.configFor(assumeOrgRole(t, s, admin, o.member))
	o.mgmtLM, o.mgmtEC2 = lm.NewFromConfig(mgmt), ec2.NewFromConfig(mgmt)
	o.memberLM, o.memberEC2, o.memberSSM = lm.NewFromConfig(member), ec2.NewFromConfig(member), ssm.NewFromConfig(member)
	return o
}

// link gives License Manager trusted access to the organization and turns Organizations
// integration on in the management account.
func (o *licenseOrg) link(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	if _, err := o.org.EnableAWSServiceAccess(ctx, &organizations.EnableAWSServiceAccessInput{ServicePrincipal: aws.String(lmPrincipal)}); err != nil {
		t.Fatalf("EnableAWSServiceAccess: %v", err)
	}
	if _, err := o.mgmtLM.UpdateServiceSettings(ctx, &lm.UpdateServiceSettingsInput{
		OrganizationConfiguration: &lmtypes.OrganizationConfiguration{EnableIntegration: true}}); err != nil {
		t.Fatalf("UpdateServiceSettings(EnableIntegration): %v", err)
	}
}

// configuration creates a hard-limited, Instance-counted configuration in the management account.
func (o *licenseOrg) configuration(t *testing.T, name string, count int64) string {
	t.Helper()
	out, err := o.mgmtLM.CreateLicenseConfiguration(context.Background(), &lm.CreateLicenseConfigurationInput{Name: aws.String(name),
		LicenseCountingType: lmtypes.LicenseCountingTypeInstance, LicenseCount: aws.Int64(count), LicenseCountHardLimit: aws.Bool(true)})
	if err != nil {
		t.Fatalf("CreateLicenseConfiguration: %v", err)
	}
	return aws.ToString(out.LicenseConfigurationArn)
}

func (o *licenseOrg) image(t *testing.T, c *ec2.Client, name string) string {
	t.Helper()
	out, err := c.RegisterImage(context.Background(), &ec2.RegisterImageInput{Name: aws.String(name)})
	if err != nil {
		t.Fatalf("RegisterImage: %v", err)
	}
	return aws.ToString(out.ImageId)
}

// launch runs one t3.micro instance of image, with the configurations named.
func (o *licenseOrg) launch(c *ec2.Client, image string, configs ...string) (string, error) {
	in := &ec2.RunInstancesInput{ImageId: aws.String(image), InstanceType: ec2types.InstanceTypeT3Micro, MinCount: aws.Int32(1), MaxCount: aws.Int32(1)}
	for _, a := range configs {
		in.LicenseSpecifications = append(in.LicenseSpecifications, ec2types.LicenseConfigurationRequest{LicenseConfigurationArn: aws.String(a)})
	}
	out, err := c.RunInstances(context.Background(), in)
	if err != nil {
		return "", err
	}
	return aws.ToString(out.Instances[0].InstanceId), nil
}

func (o *licenseOrg) consumed(t *testing.T, arn string) int64 {
	t.Helper()
	out, err := o.mgmtLM.GetLicenseConfiguration(context.Background(), &lm.GetLicenseConfigurationInput{LicenseConfigurationArn: aws.String(arn)})
	if err != nil {
		t.Fatalf("GetLicenseConfiguration: %v", err)
	}
	return aws.ToInt64(out.ConsumedLicenses)
}

// usage lists every resource that consumes a configuration, page by page.
func (o *licenseOrg) usage(t *testing.T, arn string) []lmtypes.LicenseConfigurationUsage {
	t.Helper()
	var all []lmtypes.LicenseConfigurationUsage
	in := &lm.ListUsageForLicenseConfigurationInput{LicenseConfigurationArn: aws.String(arn), MaxResults: aws.Int32(7)}
	for {
		page, err := o.mgmtLM.ListUsageForLicenseConfiguration(context.Background(), in)
		if err != nil {
			t.Fatalf("ListUsageForLicenseConfiguration: %v", err)
		}
		all = append(all, page.LicenseConfigurationUsageList...)
		if page.NextToken == nil {
			return all
		}
		in.NextToken = page.NextToken
	}
}

// inventory lists the caller's resource inventory (with filters) page by page, as resource
// ID → owning account.
func (o *licenseOrg) inventory(t *testing.T, c *lm.Client, filters ...lmtypes.InventoryFilter) map[string]string {
	t.Helper()
	out := map[string]string{}
	in := &lm.ListResourceInventoryInput{Filters: filters, MaxResults: aws.Int32(2)}
	for {
		page, err := c.ListResourceInventory(context.Background(), in)
		if err != nil {
			t.Fatalf("ListResourceInventory: %v", err)
		}
		for _, r := range page.ResourceInventoryList {
			out[aws.ToString(r.ResourceId)] = aws.ToString(r.ResourceOwningAccountId)
		}
		if page.NextToken == nil {
			return out
		}
		in.NextToken = page.NextToken
	}
}

// TestOrganizations_LicenseConfigurations shares the management account's configurations
// with a member account through Organizations integration, with the AWS SDK for Go: refused
// before the link, counted after, whoever launches; cross-account discovery in the
// inventory; ListLicenseConfigurationsForOrganization.
func TestOrganizations_LicenseConfigurations(t *testing.T) {
	t.Run("SQLite", func(t *testing.T) { orgLicenseConfigurations(t, startServer(t, serverOptions{})) })
	t.Run("PostgreSQL", func(t *testing.T) {
		orgLicenseConfigurations(t, startServer(t, serverOptions{database: postgresDatabase(t)}))
	})
}

func orgLicenseConfigurations(t *testing.T, s *server) {
	ctx := context.Background()
	o := newLicenseOrg(t, s)
	cfg := o.configuration(t, "app server", 4)
	memberImage := o.image(t, o.memberEC2, "member-app")

	// Before the link the member does not see the configuration, and cannot link.
	_, err := o.launch(o.memberEC2, memberImage, cfg)
	wantAPIError(t, "member launch before the link", err, "InvalidParameterValue", "does not exist in account "+o.member)
	_, err = o.memberLM.UpdateServiceSettings(ctx, &lm.UpdateServiceSettingsInput{OrganizationConfiguration: &lmtypes.OrganizationConfiguration{EnableIntegration: true}})
	wantTyped[*lmtypes.AccessDeniedException](t, "UpdateServiceSettings(EnableIntegration) by a member", err)
	_, err = o.mgmtLM.UpdateServiceSettings(ctx, &lm.UpdateServiceSettingsInput{OrganizationConfiguration: &lmtypes.OrganizationConfiguration{EnableIntegration: true}})
	wantAPIError(t, "UpdateServiceSettings(EnableIntegration) without trusted access", err, "AccessDeniedException", "enable-aws-service-access")
	if httpStatus(err) != http.StatusBadRequest {
		t.Errorf("AccessDeniedException with HTTP %d, want 400 as License Manager answers it", httpStatus(err))
	}
	_, err = o.mgmtLM.ListLicenseConfigurationsForOrganization(ctx, &lm.ListLicenseConfigurationsForOrganizationInput{})
	wantTyped[*lmtypes.AccessDeniedException](t, "ListLicenseConfigurationsForOrganization before the link", err)

	o.link(t)

	// The member launches against the management account's configuration, by name and
	// through its own image associated with it.
	named, err := o.launch(o.memberEC2, memberImage, cfg)
	if err != nil {
		t.Fatalf("member launch after the link: %v", err)
	}
	imageARN := "arn:aws:ec2:" + region + "::image/" + memberImage
	if _, err := o.memberLM.UpdateLicenseSpecificationsForResource(ctx, &lm.UpdateLicenseSpecificationsForResourceInput{ResourceArn: aws.String(imageARN),
		AddLicenseSpecifications: []lmtypes.LicenseSpecification{{LicenseConfigurationArn: aws.String(cfg)}}}); err != nil {
		t.Fatalf("member associates its image: %v", err)
	}
	fromImage, err := o.launch(o.memberEC2, memberImage)
	if err != nil {
		t.Fatalf("member launch from the associated image: %v", err)
	}
	specs, err := o.memberLM.ListLicenseSpecificationsForResource(ctx, &lm.ListLicenseSpecificationsForResourceInput{
		ResourceArn: aws.String("arn:aws:ec2:" + region + ":" + o.member + ":instance/" + fromImage)})
	if err != nil || len(specs.LicenseSpecifications) != 1 || aws.ToString(specs.LicenseSpecifications[0].LicenseConfigurationArn) != cfg {
		t.Errorf("ListLicenseSpecificationsForResource(member instance) = %+v, %v", specs, err)
	}
	mgmtImage := o.image(t, o.mgmtEC2, "mgmt-app")
	own, err := o.launch(o.mgmtEC2, mgmtImage, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if got := o.consumed(t, cfg); got != 3 {
		t.Fatalf("ConsumedLicenses = %d, want 3 (two member launches, one of the management account's)", got)
	}
	owners := map[string]string{}
	for _, u := range o.usage(t, cfg) {
		owners[aws.ToString(u.ResourceArn)] = aws.ToString(u.ResourceOwnerId)
	}
	for id, owner := range map[string]string{named: o.member, fromImage: o.member, own: rootAccount} {
		if arn := "arn:aws:ec2:" + region + ":" + owner + ":instance/" + id; owners[arn] != owner {
			t.Errorf("usage of %s: owner %q, want %s (all usage: %v)", arn, owners[arn], owner, owners)
		}
	}
	// The configuration itself stays the management account's.
	_, err = o.memberLM.GetLicenseConfiguration(ctx, &lm.GetLicenseConfigurationInput{LicenseConfigurationArn: aws.String(cfg)})
	wantTyped[*lmtypes.InvalidParameterValueException](t, "GetLicenseConfiguration by the member", err)
	_, err = o.memberLM.UpdateLicenseConfiguration(ctx, &lm.UpdateLicenseConfigurationInput{LicenseConfigurationArn: aws.String(cfg), LicenseCount: aws.Int64(100)})
	wantTyped[*lmtypes.InvalidParameterValueException](t, "UpdateLicenseConfiguration by the member", err)
	// The hard limit holds across both accounts: one unit left.
	if _, err := o.launch(o.memberEC2, memberImage, cfg); err != nil {
		t.Fatalf("the fourth launch: %v", err)
	}
	_, err = o.launch(o.mgmtEC2, mgmtImage, cfg)
	wantAPIError(t, "the fifth launch", err, "LicenseUsageException", "has a hard limit of 4 instances: 4 are in use")

	// Inventory: the management account's own until cross-account discovery is on.
	for id, owner := range o.inventory(t, o.mgmtLM) {
		if owner != rootAccount {
			t.Errorf("inventory without cross-account discovery lists %s of %s", id, owner)
		}
	}
	_, err = o.mgmtLM.ListResourceInventory(ctx, &lm.ListResourceInventoryInput{Filters: []lmtypes.InventoryFilter{
		{Name: aws.String("tag:env"), Condition: lmtypes.InventoryFilterConditionNotEquals, Value: aws.String("prod")}}})
	wantTyped[*lmtypes.InvalidParameterValueException](t, "tag NOT_EQUALS without cross-account discovery", err)
	if _, err := o.mgmtLM.UpdateServiceSettings(ctx, &lm.UpdateServiceSettingsInput{EnableCrossAccountsDiscovery: aws.Bool(true)}); err != nil {
		t.Fatalf("UpdateServiceSettings(EnableCrossAccountsDiscovery): %v", err)
	}
	inv := o.inventory(t, o.mgmtLM)
	for id, owner := range map[string]string{named: o.member, fromImage: o.member, memberImage: o.member, own: rootAccount, mgmtImage: rootAccount} {
		if inv[id] != owner {
			t.Errorf("cross-account inventory: %s owned by %q, want %s (inventory %v)", id, inv[id], owner, inv)
		}
	}
	accountIs := func(cond lmtypes.InventoryFilterCondition, account string) lmtypes.InventoryFilter {
		return lmtypes.InventoryFilter{Name: aws.String("account_id"), Condition: cond, Value: aws.String(account)}
	}
	for id, owner := range o.inventory(t, o.mgmtLM, accountIs(lmtypes.InventoryFilterConditionEquals, o.member)) {
		if owner != o.member {
			t.Errorf("account_id EQUALS %s lists %s of %s", o.member, id, owner)
		}
	}
	if got := o.inventory(t, o.mgmtLM, accountIs(lmtypes.InventoryFilterConditionNotEquals, o.member)); len(got) != 2 || got[own] != rootAccount {
		t.Errorf("account_id NOT_EQUALS %s = %v, want the management account's instance and image", o.member, got)
	}
	for id, owner := range o.inventory(t, o.memberLM) {
		if owner != o.member {
			t.Errorf("the member's inventory lists %s of %s", id, owner)
		}
	}
	_, err = o.mgmtLM.UpdateServiceSettings(ctx, &lm.UpdateServiceSettingsInput{EnableCrossAccountsDiscovery: aws.Bool(false)})
	wantAPIError(t, "turning cross-account discovery off", err, "InvalidParameterValueException", "cannot be disabled")

	// Configurations across the organization: the management account's view only.
	mine, err := o.memberLM.CreateLicenseConfiguration(ctx, &lm.CreateLicenseConfigurationInput{Name: aws.String("member's own"),
		LicenseCountingType: lmtypes.LicenseCountingTypeVcpu})
	if err != nil {
		t.Fatal(err)
	}
	var listed []string
	in := &lm.ListLicenseConfigurationsForOrganizationInput{MaxResults: aws.Int32(1)}
	for {
		page, err := o.mgmtLM.ListLicenseConfigurationsForOrganization(ctx, in)
		if err != nil || len(page.LicenseConfigurations) > 1 {
			t.Fatalf("ListLicenseConfigurationsForOrganization(MaxResults 1) = %+v, %v", page, err)
		}
		for _, c := range page.LicenseConfigurations {
			listed = append(listed, aws.ToString(c.LicenseConfigurationArn)+" "+aws.ToString(c.OwnerAccountId))
		}
		if page.NextToken == nil {
			break
		}
		in.NextToken = page.NextToken
	}
	want := []string{cfg + " " + rootAccount, aws.ToString(mine.LicenseConfigurationArn) + " " + o.member}
	slices.Sort(want)
	if !slices.Equal(listed, want) {
		t.Errorf("ListLicenseConfigurationsForOrganization = %v, want %v", listed, want)
	}
	hard, err := o.mgmtLM.ListLicenseConfigurationsForOrganization(ctx, &lm.ListLicenseConfigurationsForOrganizationInput{
		Filters: []lmtypes.Filter{{Name: aws.String("enforceLicenseCount"), Values: []string{"true"}}}})
	if err != nil || len(hard.LicenseConfigurations) != 1 || aws.ToString(hard.LicenseConfigurations[0].LicenseConfigurationArn) != cfg ||
		aws.ToInt64(hard.LicenseConfigurations[0].ConsumedLicenses) != 4 {
		t.Errorf("ListLicenseConfigurationsForOrganization(enforceLicenseCount) = %+v, %v", hard, err)
	}
	_, err = o.memberLM.ListLicenseConfigurationsForOrganization(ctx, &lm.ListLicenseConfigurationsForOrganizationInput{})
	wantAPIError(t, "ListLicenseConfigurationsForOrganization by a member", err, "AccessDeniedException", "for the management account of an organization")
}

// TestOrganizations_LicenseConfigurationsConcurrent launches from the management account and
// a member at once against one shared hard-limited configuration: exactly the limit is
// launched, and the configuration's count is the sum of its usage, across the accounts.
func TestOrganizations_LicenseConfigurationsConcurrent(t *testing.T) {
	t.Run("SQLite", func(t *testing.T) { orgConcurrentLaunches(t, startServer(t, serverOptions{})) })
	t.Run("PostgreSQL", func(t *testing.T) {
		orgConcurrentLaunches(t, startServer(t, serverOptions{database: postgresDatabase(t)}))
	})
}

func orgConcurrentLaunches(t *testing.T, s *server) {
	const limit, perAccount = 20, 30
	o := newLicenseOrg(t, s)
	o.link(t)
	cfg := o.configuration(t, "shared pool", limit)
	images := map[*ec2.Client]string{o.mgmtEC2: o.image(t, o.mgmtEC2, "mgmt"), o.memberEC2: o.image(t, o.memberEC2, "member")}
	accounts := map[*ec2.Client]string{o.mgmtEC2: rootAccount, o.memberEC2: o.member}

	var mu sync.Mutex
	launched := map[string]int{}
	refused := 0
	var wg sync.WaitGroup
	start := make(chan struct{})
	for range perAccount {
		for c, image := range images {
			wg.Go(func() {
				<-start
				_, err := o.launch(c, image, cfg)
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					launched[accounts[c]]++
				case errorCode(err) == "LicenseUsageException":
					refused++
				default:
					t.Errorf("RunInstances in %s: %v", accounts[c], err)
				}
			})
		}
	}
	close(start)
	wg.Wait()
	if n := launched[rootAccount] + launched[o.member]; n != limit || refused != 2*perAccount-limit {
		t.Fatalf("%d launched (%v) and %d refused; want exactly %d and %d", n, launched, refused, limit, 2*perAccount-limit)
	}
	var sum int64
	byOwner := map[string]int{}
	for _, u := range o.usage(t, cfg) {
		sum += aws.ToInt64(u.ConsumedLicenses)
		byOwner[aws.ToString(u.ResourceOwnerId)]++
	}
	if got := o.consumed(t, cfg); got != sum || got > limit || byOwner[rootAccount] != launched[rootAccount] || byOwner[o.member] != launched[o.member] {
		t.Fatalf("ConsumedLicenses %d; usage sums to %d, by owner %v; launched %v; want equal and at most %d", got, sum, byOwner, launched, limit)
	}
}

// TestOrganizations_DiscoveryOfMemberMachines has a member account's managed instances
// report a package that configurations of the management account describe, with the AWS SDK
// for Go on SQLite and PostgreSQL: discovery leaves them alone until the organization is
// linked to License Manager, then associates them on their next report, and a configuration
// the management account creates afterwards discovers them at once.
func TestOrganizations_DiscoveryOfMemberMachines(t *testing.T) {
	t.Run("SQLite", func(t *testing.T) { orgDiscoveryOfMemberMachines(t, startServer(t, serverOptions{})) })
	t.Run("PostgreSQL", func(t *testing.T) {
		orgDiscoveryOfMemberMachines(t, startServer(t, serverOptions{database: postgresDatabase(t)}))
	})
}

func orgDiscoveryOfMemberMachines(t *testing.T, s *server) {
	ctx := context.Background()
	o := newLicenseOrg(t, s)
	before := oracleConfiguration(t, o.mgmtLM, 64)
	db := machine{id: "mi-0000000000000d0b1", platform: "Linux", cores: 8, apps: []string{"oracle-db"}}
	if err := db.report(ctx, o.memberSSM); err != nil {
		t.Fatalf("member's PutInventory: %v", err)
	}
	if got := o.consumed(t, before); got != 0 {
		t.Fatalf("before the link, the member's machine consumes %d of the management account's configuration, want 0", got)
	}

	o.link(t)
	if err := db.report(ctx, o.memberSSM); err != nil {
		t.Fatalf("member's PutInventory after the link: %v", err)
	}
	machineARN := "arn:aws:ssm:" + region + ":" + o.member + ":managed-instance/" + db.id
	check := func(arn string) {
		t.Helper()
		if got := o.consumed(t, arn); got != int64(db.cores) {
			t.Errorf("ConsumedLicenses of %s = %d, want the member machine's %d cores", arn, got, db.cores)
		}
		us := o.usage(t, arn)
		if len(us) != 1 || aws.ToString(us[0].ResourceArn) != machineARN || aws.ToString(us[0].ResourceOwnerId) != o.member ||
			us[0].ResourceType != lmtypes.ResourceTypeSystemsManagerManagedInstance {
			t.Errorf("usage of %s = %+v, want %s of %s", arn, us, machineARN, o.member)
		}
	}
	check(before)
	after := oracleConfiguration(t, o.mgmtLM, 64)
	check(after)
	assocs, err := o.mgmtLM.ListAssociationsForLicenseConfiguration(ctx, &lm.ListAssociationsForLicenseConfigurationInput{LicenseConfigurationArn: aws.String(after)})
	if err != nil || len(assocs.LicenseConfigurationAssociations) != 1 || aws.ToString(assocs.LicenseConfigurationAssociations[0].ResourceOwnerId) != o.member {
		t.Errorf("ListAssociationsForLicenseConfiguration(%s) = %+v, %v; want the member's machine", after, assocs, err)
	}
}
