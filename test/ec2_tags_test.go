package test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	lm "github.com/aws/aws-sdk-go-v2/service/licensemanager"
	lmtypes "github.com/aws/aws-sdk-go-v2/service/licensemanager/types"
)

// TestEC2Tags_CLI launches, tags and filters with the AWS CLI v2 as a provisioning script
// does: tags given at launch (instance tags kept, volume tags accepted), the Describe
// actions' tag filters, DescribeTags, CreateTags and DeleteTags, ListResourceInventory's
// tag:<key> filter, and malformed tag specifications refused with EC2's codes, leaving
// nothing behind. On SQLite and PostgreSQL.
func TestEC2Tags_CLI(t *testing.T) {
	t.Run("SQLite", func(t *testing.T) { tagsWithCLI(t, newOSCLI(t, serverOptions{})) })
	t.Run("PostgreSQL", func(t *testing.T) { tagsWithCLI(t, newOSCLI(t, serverOptions{database: postgresDatabase(t)})) })
}

func tagsWithCLI(t *testing.T, c *osCLI) {
	image := c.text("ec2", "register-image", "--name", "base-os", "--query", "ImageId")
	var run struct {
		Instances []struct {
			InstanceId string
			Tags       []struct{ Key, Value string }
		}
	}
	c.ok(&run, "ec2", "run-instances", "--image-id", image, "--instance-type", "m5.large", "--count", "2",
		"--tag-specifications", "ResourceType=instance,Tags=[{Key=team,Value=db},{Key=env,Value=prod}]", "ResourceType=volume,Tags=[{Key=backup,Value=daily}]")
	if len(run.Instances) != 2 {
		t.Fatalf("run-instances started %d instances, want 2", len(run.Instances))
	}
	for _, i := range run.Instances {
		if got := fmt.Sprint(i.Tags); got != "[{env prod} {team db}]" {
			t.Errorf("run-instances: tags of %s = %s, want env=prod, team=db", i.InstanceId, got)
		}
	}
	untagged := c.launch(image, "m5.large", "")

	if got := c.text("ec2", "describe-instances", "--filters", "Name=tag:team,Values=db", "--query", "length(Reservations[].Instances[])"); got != "2" {
		t.Errorf("describe-instances tag:team=db = %s instances, want 2", got)
	}
	if got := c.text("ec2", "describe-instances", "--filters", "Name=tag-key,Values=env", "Name=instance-id,Values="+untagged,
		"--query", "length(Reservations[].Instances[])"); got != "0" {
		t.Errorf("describe-instances tag-key=env of the untagged instance = %s, want 0", got)
	}
	tagged := c.text("ec2", "create-image", "--instance-id", untagged, "--name", "tagged-os", "--query", "ImageId",
		"--tag-specifications", "ResourceType=image,Tags=[{Key=os,Value=linux}]", "ResourceType=snapshot,Tags=[{Key=os,Value=linux}]")
	if got := c.text("ec2", "describe-images", "--owners", "self", "--filters", "Name=tag:os,Values=linux", "--query", "Images[].ImageId"); got != tagged {
		t.Errorf("describe-images tag:os=linux = %q, want %s", got, tagged)
	}
	if got := c.text("ec2", "describe-tags", "--filters", "Name=resource-type,Values=instance", "--query", "length(Tags)"); got != "4" {
		t.Errorf("describe-tags resource-type=instance = %s tags, want 4 (the volume's are not kept)", got)
	}
	if got := c.text("ec2", "describe-tags", "--query", "length(Tags)"); got != "5" {
		t.Errorf("describe-tags = %s tags, want 5 (the snapshot's are not kept)", got)
	}

	// CreateTags and DeleteTags, as the CLI spells them.
	c.ok(nil, "ec2", "create-tags", "--resources", untagged, image, "--tags", "Key=team,Value=web", "Key=flag")
	if got := c.text("ec2", "describe-tags", "--filters", "Name=resource-id,Values="+untagged, "--query", "Tags[].[Key,Value]"); got != "flag\t\nteam\tweb" {
		t.Errorf("describe-tags of %s = %q, want flag= and team=web", untagged, got)
	}
	c.ok(nil, "ec2", "delete-tags", "--resources", untagged, "--tags", "Key=team,Value=db", "Key=flag")
	if got := c.text("ec2", "describe-tags", "--filters", "Name=resource-id,Values="+untagged, "--query", "Tags[].Key"); got != "team" {
		t.Errorf("after delete-tags team=db and flag, tags of %s = %q, want team (web) only", untagged, got)
	}

	// The inventory filter: tag:<key> EQUALS, in one account.
	var inv struct{ ResourceInventoryList []struct{ ResourceId string } }
	c.ok(&inv, "license-manager", "list-resource-inventory", "--filters", "Name=tag:team,Condition=EQUALS,Value=db")
	var ids []string
	for _, r := range inv.ResourceInventoryList {
		ids = append(ids, r.ResourceId)
	}
	want := []string{run.Instances[0].InstanceId, run.Instances[1].InstanceId}
	slices.Sort(want)
	if !slices.Equal(ids, want) {
		t.Errorf("list-resource-inventory tag:team EQUALS db = %v, want %v", ids, want)
	}
	c.refused("InvalidParameterValueException", "NOT_EQUALS on tags needs cross-account discovery",
		"license-manager", "list-resource-inventory", "--filters", "Name=tag:team,Condition=NOT_EQUALS,Value=db")

	// Malformed tag specifications: EC2's codes, and nothing launched.
	fifty := make([]string, 51)
	for i := range fifty {
		fifty[i] = fmt.Sprintf("{Key=k%d,Value=v}", i)
	}
	for _, bad := range []struct{ code, msg, spec string }{
		{"InvalidParameterValue", "'bucket' is not a valid taggable resource type", "ResourceType=bucket,Tags=[{Key=a,Value=b}]"},
		{"InvalidParameterValue", "for this operation", "ResourceType=dedicated-host,Tags=[{Key=a,Value=b}]"},
		{"TagLimitExceeded", "51 tags", "ResourceType=instance,Tags=[" + strings.Join(fifty, ",") + "]"},
		{"InvalidTagKey.Malformed", "reserved", "ResourceType=instance,Tags=[{Key=aws:owner,Value=b}]"},
		{"InvalidParameterValue", "duplicate tag key 'a'", "ResourceType=instance,Tags=[{Key=a,Value=b},{Key=a,Value=c}]"},
	} {
		c.refused(bad.code, bad.msg, append(c.launchArgs(image, "m5.large", ""), "--tag-specifications", bad.spec)...)
	}
	c.refused("InvalidTagKey.Malformed", "reserved", "ec2", "create-tags", "--resources", untagged, "--tags", "Key=AWS:x,Value=y")
	c.refused("InvalidID", "vol-0123456789abcdef0", "ec2", "create-tags", "--resources", "vol-0123456789abcdef0", "--tags", "Key=a,Value=b")
	if got := c.text("ec2", "describe-instances", "--query", "length(Reservations[].Instances[])"); got != "3" {
		t.Errorf("%s instances after the refused launches, want 3", got)
	}
}

// TestEC2Tags_SDK drives tags with the AWS SDK for Go: DeleteTags telling a missing value
// from an empty one on the wire, DescribeTags pages, tags on hosts and images, and the IAM
// checks: tagging at launch needs ec2:CreateTags (with ec2:CreateAction), CreateTags and
// DeleteTags are authorized per resource ARN.
func TestEC2Tags_SDK(t *testing.T) {
	t.Run("SQLite", func(t *testing.T) { tagsWithSDK(t, startServer(t, serverOptions{})) })
	t.Run("PostgreSQL", func(t *testing.T) { tagsWithSDK(t, startServer(t, serverOptions{database: postgresDatabase(t)})) })
}

func tagsWithSDK(t *testing.T, s *server) {
	ctx := context.Background()
	ec2c := ec2.NewFromConfig(s.awsConfig(rootKeyID, rootSecret))

	img, err := ec2c.RegisterImage(ctx, &ec2.RegisterImageInput{Name: aws.String("app")})
	if err != nil {
		t.Fatal(err)
	}
	host, err := ec2c.AllocateHosts(ctx, &ec2.AllocateHostsInput{InstanceFamily: aws.String("m5"), AvailabilityZone: aws.String(region + "a"), Quantity: aws.Int32(1),
		TagSpecifications: []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeDedicatedHost, Tags: []ec2types.Tag{{Key: aws.String("rack"), Value: aws.String("r1")}}}}})
	if err != nil {
		t.Fatal(err)
	}
	hs, err := ec2c.DescribeHosts(ctx, &ec2.DescribeHostsInput{Filter: []ec2types.Filter{{Name: aws.String("tag:rack"), Values: []string{"r1"}}}})
	if err != nil || len(hs.Hosts) != 1 || aws.ToString(hs.Hosts[0].HostId) != host.HostIds[0] || len(hs.Hosts[0].Tags) != 1 || aws.ToString(hs.Hosts[0].Tags[0].Value) != "r1" {
		t.Fatalf("DescribeHosts tag:rack=r1 = %+v, %v; want the host with its tag", hs, err)
	}
	run, err := ec2c.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: img.ImageId, InstanceType: ec2types.InstanceTypeM5Large, MinCount: aws.Int32(6), MaxCount: aws.Int32(6)})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, i := range run.Instances {
		ids = append(ids, aws.ToString(i.InstanceId))
	}
	if _, err := ec2c.CreateTags(ctx, &ec2.CreateTagsInput{Resources: ids, Tags: []ec2types.Tag{
		{Key: aws.String("a"), Value: aws.String("1")}, {Key: aws.String("b"), Value: aws.String("")}, {Key: aws.String("c"), Value: aws.String("3")}}}); err != nil {
		t.Fatal(err)
	}

	// DescribeTags in pages of 5: 19 tags (6 × 3 and the host's), each once, in order.
	var all []string
	p := ec2.NewDescribeTagsPaginator(ec2c, &ec2.DescribeTagsInput{MaxResults: aws.Int32(5)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, tg := range page.Tags {
			all = append(all, aws.ToString(tg.ResourceId)+"/"+aws.ToString(tg.Key)+"/"+string(tg.ResourceType))
		}
	}
	if len(all) != 19 || !slices.IsSorted(all) || len(slices.Compact(slices.Clone(all))) != 19 {
		t.Errorf("DescribeTags pages = %d tags %v, want 19 distinct in order", len(all), all)
	}

	// DeleteTags: Value absent deletes whatever the value; Value "" only an empty value.
	if _, err := ec2c.DeleteTags(ctx, &ec2.DeleteTagsInput{Resources: ids[:1], Tags: []ec2types.Tag{{Key: aws.String("a")}, {Key: aws.String("c"), Value: aws.String("")}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := ec2c.DeleteTags(ctx, &ec2.DeleteTagsInput{Resources: ids[1:2], Tags: []ec2types.Tag{{Key: aws.String("b"), Value: aws.String("")}}}); err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string]string{ids[0]: "b=,c=3", ids[1]: "a=1,c=3", ids[2]: "a=1,b=,c=3"} {
		if got := describedTags(t, ec2c, id); got != want {
			t.Errorf("tags of %s = %s, want %s", id, got, want)
		}
	}

	// IAM: a user allowed to launch but not to tag.
	admin := rootIAM(s)
	if _, err := admin.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("deployer")}); err != nil {
		t.Fatal(err)
	}
	put := func(name, doc string) {
		t.Helper()
		if _, err := admin.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("deployer"), PolicyName: aws.String(name), PolicyDocument: aws.String(doc)}); err != nil {
			t.Fatal(err)
		}
	}
	put("launch", `{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["ec2:RunInstances", "ec2:DescribeInstances"], "Resource": "*"}]}`)
	key, err := admin.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("deployer")})
	if err != nil {
		t.Fatal(err)
	}
	user := ec2.NewFromConfig(s.awsConfig(aws.ToString(key.AccessKey.AccessKeyId), aws.ToString(key.AccessKey.SecretAccessKey)))
	tagged := &ec2.RunInstancesInput{ImageId: img.ImageId, InstanceType: ec2types.InstanceTypeM5Large, MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
		TagSpecifications: []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeInstance, Tags: []ec2types.Tag{{Key: aws.String("owner"), Value: aws.String("deployer")}}}}}
	_, err = user.RunInstances(ctx, tagged)
	wantAPIError(t, "a tagged launch without ec2:CreateTags", err, "UnauthorizedOperation", "ec2:CreateTags")
	if httpStatus(err) != http.StatusForbidden {
		t.Errorf("denied tagged launch: HTTP %d, want 403", httpStatus(err))
	}
	if n := countInstances(t, ec2c); n != 6 {
		t.Fatalf("%d instances after the denied launch, want 6", n)
	}
	if _, err := user.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: img.ImageId, InstanceType: ec2types.InstanceTypeM5Large, MinCount: aws.Int32(1), MaxCount: aws.Int32(1)}); err != nil {
		t.Fatalf("an untagged launch: %v", err)
	}
	// ec2:CreateTags for launches only, as EC2's documentation shows it.
	put("tag-on-launch", `{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "ec2:CreateTags", "Resource": "arn:aws:ec2:`+region+`:`+rootAccount+`:*/*",
		"Condition": {"StringEquals": {"ec2:CreateAction": "RunInstances"}}}]}`)
	out, err := user.RunInstances(ctx, tagged)
	if err != nil {
		t.Fatalf("a tagged launch with ec2:CreateTags on RunInstances: %v", err)
	}
	launched := aws.ToString(out.Instances[0].InstanceId)
	if got := describedTags(t, ec2c, launched); got != "owner=deployer" {
		t.Errorf("tags of %s = %s, want owner=deployer", launched, got)
	}
	_, err = user.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{launched}, Tags: []ec2types.Tag{{Key: aws.String("x"), Value: aws.String("y")}}})
	wantAPIError(t, "CreateTags outside a launch", err, "UnauthorizedOperation", "ec2:CreateTags")

	// CreateTags and DeleteTags on named instances only.
	put("tag-one", `{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["ec2:CreateTags", "ec2:DeleteTags"],
		"Resource": "arn:aws:ec2:`+region+`:`+rootAccount+`:instance/`+ids[5]+`"}]}`)
	if _, err := user.CreateTags(ctx, &ec2.CreateTagsInput{Resources: ids[5:], Tags: []ec2types.Tag{{Key: aws.String("x"), Value: aws.String("y")}}}); err != nil {
		t.Fatalf("CreateTags on the instance the policy names: %v", err)
	}
	_, err = user.CreateTags(ctx, &ec2.CreateTagsInput{Resources: ids[4:], Tags: []ec2types.Tag{{Key: aws.String("x"), Value: aws.String("z")}}})
	wantAPIError(t, "CreateTags on another instance too", err, "UnauthorizedOperation", ids[4])
	_, err = user.DeleteTags(ctx, &ec2.DeleteTagsInput{Resources: []string{ids[4]}})
	wantAPIError(t, "DeleteTags on another instance", err, "UnauthorizedOperation", ids[4])
	if got := describedTags(t, ec2c, ids[4]); got != "a=1,b=,c=3" {
		t.Errorf("tags of %s after denied calls = %s, want a=1,b=,c=3", ids[4], got)
	}
	_, err = user.DescribeTags(ctx, &ec2.DescribeTagsInput{})
	wantAPIError(t, "DescribeTags without ec2:DescribeTags", err, "UnauthorizedOperation", "ec2:DescribeTags")

	// Malformed input through the SDK.
	_, err = ec2c.CreateTags(ctx, &ec2.CreateTagsInput{Resources: ids[:1], Tags: []ec2types.Tag{{Key: aws.String(strings.Repeat("k", 129)), Value: aws.String("v")}}})
	wantAPIError(t, "a 129-character key", err, "InvalidParameterValue", "limit is 128")
	_, err = ec2c.CreateTags(ctx, &ec2.CreateTagsInput{Resources: ids[:1], Tags: []ec2types.Tag{{Key: aws.String("k"), Value: aws.String(strings.Repeat("v", 257))}}})
	wantAPIError(t, "a 257-character value", err, "InvalidParameterValue", "limit is 256")
	_, err = ec2c.DescribeTags(ctx, &ec2.DescribeTagsInput{MaxResults: aws.Int32(4)})
	wantAPIError(t, "DescribeTags MaxResults 4", err, "InvalidParameterValue", "MaxResults")
}

// describedTags returns an instance's tags as DescribeInstances shows them: key=value, by key.
func describedTags(t *testing.T, c *ec2.Client, id string) string {
	t.Helper()
	out, err := c.DescribeInstances(context.Background(), &ec2.DescribeInstancesInput{InstanceIds: []string{id}})
	if err != nil {
		t.Fatal(err)
	}
	var kv []string
	for _, tg := range out.Reservations[0].Instances[0].Tags {
		kv = append(kv, aws.ToString(tg.Key)+"="+aws.ToString(tg.Value))
	}
	slices.Sort(kv)
	return strings.Join(kv, ",")
}

func countInstances(t *testing.T, c *ec2.Client) int {
	t.Helper()
	out, err := c.DescribeInstances(context.Background(), &ec2.DescribeInstancesInput{})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, r := range out.Reservations {
		n += len(r.Instances)
	}
	return n
}

// TestListResourceInventory_TagsAcrossOrganization checks the tag:<key> filter of the
// management account's organization-wide inventory: EQUALS selects the resources of every
// account with the tag, NOT_EQUALS the others, untagged ones included.
func TestListResourceInventory_TagsAcrossOrganization(t *testing.T) {
	t.Run("SQLite", func(t *testing.T) { tagsAcrossOrganization(t, startServer(t, serverOptions{})) })
	t.Run("PostgreSQL", func(t *testing.T) {
		tagsAcrossOrganization(t, startServer(t, serverOptions{database: postgresDatabase(t)}))
	})
}

func tagsAcrossOrganization(t *testing.T, s *server) {
	ctx := context.Background()
	o := newLicenseOrg(t, s)
	o.link(t)
	if _, err := o.mgmtLM.UpdateServiceSettings(ctx, &lm.UpdateServiceSettingsInput{EnableCrossAccountsDiscovery: aws.Bool(true)}); err != nil {
		t.Fatalf("UpdateServiceSettings(EnableCrossAccountsDiscovery): %v", err)
	}
	launch := func(c *ec2.Client, image, env string) string {
		t.Helper()
		in := &ec2.RunInstancesInput{ImageId: aws.String(image), InstanceType: ec2types.InstanceTypeT3Micro, MinCount: aws.Int32(1), MaxCount: aws.Int32(1)}
		if env != "" {
			in.TagSpecifications = []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeInstance, Tags: []ec2types.Tag{{Key: aws.String("env"), Value: aws.String(env)}}}}
		}
		out, err := c.RunInstances(ctx, in)
		if err != nil {
			t.Fatalf("RunInstances: %v", err)
		}
		return aws.ToString(out.Instances[0].InstanceId)
	}
	mgmtImage, memberImage := o.image(t, o.mgmtEC2, "mgmt"), o.image(t, o.memberEC2, "member")
	memberProd, memberDev := launch(o.memberEC2, memberImage, "prod"), launch(o.memberEC2, memberImage, "dev")
	mgmtProd, mgmtUntagged := launch(o.mgmtEC2, mgmtImage, "prod"), launch(o.mgmtEC2, mgmtImage, "")

	envIs := func(cond lmtypes.InventoryFilterCondition, v string) lmtypes.InventoryFilter {
		return lmtypes.InventoryFilter{Name: aws.String("tag:env"), Condition: cond, Value: aws.String(v)}
	}
	keys := func(m map[string]string) []string {
		out := make([]string, 0, len(m))
		for k := range m {
			out = append(out, k)
		}
		slices.Sort(out)
		return out
	}
	sorted := func(ids ...string) []string { slices.Sort(ids); return ids }
	if got, want := keys(o.inventory(t, o.mgmtLM, envIs(lmtypes.InventoryFilterConditionEquals, "prod"))), sorted(memberProd, mgmtProd); !slices.Equal(got, want) {
		t.Errorf("tag:env EQUALS prod = %v, want %v", got, want)
	}
	if got, want := keys(o.inventory(t, o.mgmtLM, envIs(lmtypes.InventoryFilterConditionNotEquals, "prod"))),
		sorted(memberDev, mgmtUntagged, mgmtImage, memberImage); !slices.Equal(got, want) {
		t.Errorf("tag:env NOT_EQUALS prod = %v, want %v", got, want)
	}
	// With another condition: both must hold.
	if got, want := keys(o.inventory(t, o.mgmtLM, envIs(lmtypes.InventoryFilterConditionNotEquals, "prod"),
		lmtypes.InventoryFilter{Name: aws.String("account_id"), Condition: lmtypes.InventoryFilterConditionEquals, Value: aws.String(o.member)})),
		sorted(memberDev, memberImage); !slices.Equal(got, want) {
		t.Errorf("tag:env NOT_EQUALS prod and account_id EQUALS member = %v, want %v", got, want)
	}
	// The member's own inventory: its resources only, EQUALS only.
	if got, want := keys(o.inventory(t, o.memberLM, envIs(lmtypes.InventoryFilterConditionEquals, "prod"))), []string{memberProd}; !slices.Equal(got, want) {
		t.Errorf("the member's tag:env EQUALS prod = %v, want %v", got, want)
	}
}
