package test

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	lm "github.com/aws/aws-sdk-go-v2/service/licensemanager"
	lmtypes "github.com/aws/aws-sdk-go-v2/service/licensemanager/types"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
)

// A machine as the inventory agent reports it, with the AWS SDK's SSM client.
type machine struct {
	id, platform string
	cores        int
	apps         []string
}

func (m machine) items(capture time.Time) []ssmtypes.InventoryItem {
	at := aws.String(capture.UTC().Format("2006-01-02T15:04:05Z"))
	appEntries := []map[string]string{}
	for _, a := range m.apps {
		appEntries = append(appEntries, map[string]string{"Name": a, "Version": "19.3", "Publisher": "Example Corp", "Architecture": "x86_64"})
	}
	return []ssmtypes.InventoryItem{
		{TypeName: aws.String("AWS:InstanceInformation"), SchemaVersion: aws.String("1.0"), CaptureTime: at, ContentHash: aws.String("info-" + m.id),
			Content: []map[string]string{{"AgentType": "allot-agent", "AgentVersion": "1.0.0", "ComputerName": m.id + ".example.com",
				"InstanceId": m.id, "IpAddress": "192.0.2.7", "PlatformName": "Ubuntu", "PlatformType": m.platform, "PlatformVersion": "24.04",
				"ResourceType": "ManagedInstance"}}},
		{TypeName: aws.String("AWS:InstanceDetailedInformation"), SchemaVersion: aws.String("1.0"), CaptureTime: at, ContentHash: aws.String(fmt.Sprint("cpu-", m.cores)),
			Content: []map[string]string{{"CPUModel": "Xeon", "CPUs": fmt.Sprint(2 * m.cores), "CPUCores": fmt.Sprint(m.cores),
				"CPUSockets": "1", "CPUHyperThreadEnabled": "true"}}},
		{TypeName: aws.String("AWS:Application"), SchemaVersion: aws.String("1.1"), CaptureTime: at, ContentHash: aws.String(contentHash(m.apps)),
			Content: appEntries},
		{TypeName: aws.String("Custom:AllotAgent"), SchemaVersion: aws.String("1.0"), CaptureTime: at, ContentHash: aws.String("agent"),
			Content: []map[string]string{{"HeartbeatSeconds": "60", "Architecture": "x86_64"}}},
	}
}

// contentHash is a hash of a list, as an agent computes ContentHash.
func contentHash(v any) string {
	b, _ := json.Marshal(v)
	sum := md5.Sum(b)
	return base64.StdEncoding.EncodeToString(sum[:])
}

// heartbeat is the report of a machine whose inventory has not changed: hashes only.
func (m machine) heartbeat(capture time.Time) []ssmtypes.InventoryItem {
	items := m.items(capture)
	for i := range items {
		items[i].Content = nil
	}
	return items
}

func (m machine) report(ctx context.Context, c *ssm.Client) error {
	_, err := c.PutInventory(ctx, &ssm.PutInventoryInput{InstanceId: aws.String(m.id), Items: m.items(time.Now())})
	return err
}

// oracleConfiguration creates a hard-limited configuration of count cores that automated
// discovery associates with machines that have oracle-db installed.
func oracleConfiguration(t *testing.T, c *lm.Client, count int64) string {
	t.Helper()
	out, err := c.CreateLicenseConfiguration(context.Background(), &lm.CreateLicenseConfigurationInput{Name: aws.String("Oracle DB"),
		LicenseCountingType: lmtypes.LicenseCountingTypeCore, LicenseCount: aws.Int64(count), LicenseCountHardLimit: aws.Bool(true),
		ProductInformationList: []lmtypes.ProductInformation{{ResourceType: aws.String("SSM_MANAGED"),
			ProductInformationFilterList: []lmtypes.ProductInformationFilter{{ProductInformationFilterName: aws.String("Application Name"),
				ProductInformationFilterValue: []string{"oracle-db"}, ProductInformationFilterComparator: aws.String("EQUALS")}}}}})
	if err != nil {
		t.Fatalf("CreateLicenseConfiguration: %v", err)
	}
	return aws.ToString(out.LicenseConfigurationArn)
}

// usageOf returns a configuration's ConsumedLicenses and the sum its resources consume.
func usageOf(t *testing.T, c *lm.Client, arn string) (consumed, sum int64, resources int) {
	t.Helper()
	ctx := context.Background()
	got, err := c.GetLicenseConfiguration(ctx, &lm.GetLicenseConfigurationInput{LicenseConfigurationArn: aws.String(arn)})
	if err != nil {
		t.Fatal(err)
	}
	in := &lm.ListUsageForLicenseConfigurationInput{LicenseConfigurationArn: aws.String(arn), MaxResults: aws.Int32(50)}
	for {
		page, err := c.ListUsageForLicenseConfiguration(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range page.LicenseConfigurationUsageList {
			sum += aws.ToInt64(u.ConsumedLicenses)
			resources++
		}
		if aws.ToString(page.NextToken) == "" {
			return aws.ToInt64(got.ConsumedLicenses), sum, resources
		}
		in.NextToken = page.NextToken
	}
}

// TestSSM_Inventory drives the SSM subset with the AWS SDK for Go on SQLite and PostgreSQL:
// registration by PutInventory, heartbeats, DescribeInstanceInformation,
// ListInventoryEntries, the instance in License Manager's inventory and discovery, and
// deregistration.
func TestSSM_Inventory(t *testing.T) {
	t.Run("SQLite", func(t *testing.T) { ssmInventory(t, startServer(t, serverOptions{})) })
	t.Run("PostgreSQL", func(t *testing.T) { ssmInventory(t, startServer(t, serverOptions{database: postgresDatabase(t)})) })
}

func ssmInventory(t *testing.T, s *server) {
	ctx := context.Background()
	cfg := s.awsConfig(rootKeyID, rootSecret)
	sc, lmc := ssm.NewFromConfig(cfg), lm.NewFromConfig(cfg)
	arn := oracleConfiguration(t, lmc, 64)
	db1 := machine{id: "mi-0123456789abcdef0", platform: "Linux", cores: 16, apps: []string{"oracle-db", "nginx"}}
	web := machine{id: "mi-0123456789abcdef1", platform: "Linux", cores: 4, apps: []string{"nginx"}}
	before := time.Now().Add(-time.Second)
	for _, m := range []machine{db1, web} {
		if err := m.report(ctx, sc); err != nil {
			t.Fatalf("PutInventory(%s): %v", m.id, err)
		}
	}
	// A heartbeat: hashes only.
	if _, err := sc.PutInventory(ctx, &ssm.PutInventoryInput{InstanceId: aws.String(db1.id), Items: db1.heartbeat(time.Now())}); err != nil {
		t.Fatalf("PutInventory(heartbeat): %v", err)
	}

	desc, err := sc.DescribeInstanceInformation(ctx, &ssm.DescribeInstanceInformationInput{})
	if err != nil {
		t.Fatalf("DescribeInstanceInformation: %v", err)
	}
	if len(desc.InstanceInformationList) != 2 {
		t.Fatalf("DescribeInstanceInformation lists %d instances, want 2: %+v", len(desc.InstanceInformationList), desc.InstanceInformationList)
	}
	for _, i := range desc.InstanceInformationList {
		if i.PingStatus != ssmtypes.PingStatusOnline || i.ResourceType != ssmtypes.ResourceTypeManagedInstance || i.PlatformType != ssmtypes.PlatformTypeLinux ||
			aws.ToString(i.PlatformName) != "Ubuntu" || aws.ToString(i.AgentVersion) != "1.0.0" || aws.ToString(i.IPAddress) != "192.0.2.7" ||
			i.LastPingDateTime == nil || i.LastPingDateTime.Before(before) || i.RegistrationDate == nil || i.RegistrationDate.Before(before) {
			t.Errorf("instance %+v", i)
		}
	}
	filtered, err := sc.DescribeInstanceInformation(ctx, &ssm.DescribeInstanceInformationInput{
		Filters: []ssmtypes.InstanceInformationStringFilter{{Key: aws.String("InstanceIds"), Values: []string{web.id}}}})
	if err != nil || len(filtered.InstanceInformationList) != 1 || aws.ToString(filtered.InstanceInformationList[0].InstanceId) != web.id {
		t.Fatalf("DescribeInstanceInformation(InstanceIds) = %+v, %v", filtered, err)
	}
	paged := 0
	for p := ssm.NewDescribeInstanceInformationPaginator(sc, &ssm.DescribeInstanceInformationInput{MaxResults: aws.Int32(5)}); p.HasMorePages(); {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		paged += len(page.InstanceInformationList)
	}
	if paged != 2 {
		t.Errorf("the paginator found %d instances, want 2", paged)
	}

	entries, err := sc.ListInventoryEntries(ctx, &ssm.ListInventoryEntriesInput{InstanceId: aws.String(db1.id), TypeName: aws.String("AWS:Application"),
		Filters: []ssmtypes.InventoryFilter{{Key: aws.String("Name"), Values: []string{"oracle-db"}, Type: ssmtypes.InventoryQueryOperatorTypeEqual}}})
	if err != nil || len(entries.Entries) != 1 || entries.Entries[0]["Publisher"] != "Example Corp" || aws.ToString(entries.SchemaVersion) != "1.1" {
		t.Fatalf("ListInventoryEntries = %+v, %v", entries, err)
	}

	// License Manager sees both machines, and discovery counted the one with oracle-db.
	inv, err := lmc.ListResourceInventory(ctx, &lm.ListResourceInventoryInput{Filters: []lmtypes.InventoryFilter{
		{Name: aws.String("resource_id"), Condition: lmtypes.InventoryFilterConditionEquals, Value: aws.String(db1.id)}}})
	if err != nil || len(inv.ResourceInventoryList) != 1 || inv.ResourceInventoryList[0].ResourceType != lmtypes.ResourceTypeSystemsManagerManagedInstance ||
		aws.ToString(inv.ResourceInventoryList[0].ResourceArn) != "arn:aws:ssm:"+region+":"+rootAccount+":managed-instance/"+db1.id {
		t.Fatalf("ListResourceInventory(%s) = %+v, %v", db1.id, inv, err)
	}
	if consumed, sum, n := usageOf(t, lmc, arn); consumed != 16 || sum != 16 || n != 1 {
		t.Fatalf("after discovery: ConsumedLicenses %d, %d held by %d resources; want 16 by 1", consumed, sum, n)
	}

	// Deregistration releases the units at once, and the machine cannot report again.
	if _, err := sc.DeregisterManagedInstance(ctx, &ssm.DeregisterManagedInstanceInput{InstanceId: aws.String(db1.id)}); err != nil {
		t.Fatalf("DeregisterManagedInstance: %v", err)
	}
	if consumed, sum, n := usageOf(t, lmc, arn); consumed != 0 || sum != 0 || n != 0 {
		t.Fatalf("after deregistering: ConsumedLicenses %d, %d held by %d resources; want none", consumed, sum, n)
	}
	wantTyped[*ssmtypes.InvalidInstanceId](t, "PutInventory(deregistered)", db1.report(ctx, sc))
	_, err = sc.DeregisterManagedInstance(ctx, &ssm.DeregisterManagedInstanceInput{InstanceId: aws.String(db1.id)})
	wantTyped[*ssmtypes.InvalidInstanceId](t, "DeregisterManagedInstance(again)", err)
	desc, err = sc.DescribeInstanceInformation(ctx, &ssm.DescribeInstanceInformationInput{})
	if err != nil || len(desc.InstanceInformationList) != 1 || aws.ToString(desc.InstanceInformationList[0].InstanceId) != web.id {
		t.Fatalf("DescribeInstanceInformation after deregistering = %+v, %v", desc, err)
	}

	// Typed errors, with SSM's extra members.
	stale := web.heartbeat(time.Now())
	stale[2].ContentHash = aws.String("apps-something-else")
	_, err = sc.PutInventory(ctx, &ssm.PutInventoryInput{InstanceId: aws.String(web.id), Items: stale})
	var mismatch *ssmtypes.ItemContentMismatchException
	if !errors.As(err, &mismatch) || aws.ToString(mismatch.TypeName) != "AWS:Application" || httpStatus(err) != http.StatusBadRequest {
		t.Errorf("PutInventory(stale hash) = %v, want ItemContentMismatchException (400) for AWS:Application", err)
	}
	bad := web.items(time.Now())
	bad[2].Content = append(bad[2].Content, map[string]string{"Name": "x", "Colour": "red"})
	_, err = sc.PutInventory(ctx, &ssm.PutInventoryInput{InstanceId: aws.String(web.id), Items: bad})
	wantTyped[*ssmtypes.InvalidItemContentException](t, "PutInventory(unknown attribute)", err)
	_, err = sc.PutInventory(ctx, &ssm.PutInventoryInput{InstanceId: aws.String(web.id), Items: []ssmtypes.InventoryItem{{TypeName: aws.String("AWS:Network"),
		SchemaVersion: aws.String("1.0"), CaptureTime: aws.String("2026-01-01T00:00:00Z")}}})
	wantTyped[*ssmtypes.InvalidTypeNameException](t, "PutInventory(AWS:Network)", err)
	_, err = sc.PutInventory(ctx, &ssm.PutInventoryInput{InstanceId: aws.String(web.id), Items: []ssmtypes.InventoryItem{{TypeName: aws.String("AWS:Application"),
		SchemaVersion: aws.String("1.0"), CaptureTime: aws.String("2026-01-01T00:00:00Z")}}})
	wantTyped[*ssmtypes.UnsupportedInventorySchemaVersionException](t, "PutInventory(schema 1.0)", err)
	huge := append(web.items(time.Now()), ssmtypes.InventoryItem{TypeName: aws.String("Custom:Rack"), SchemaVersion: aws.String("1.0"),
		CaptureTime: aws.String(time.Now().UTC().Format("2006-01-02T15:04:05Z"))})
	for i := range 60 {
		huge[4].Content = append(huge[4].Content, map[string]string{"Name": fmt.Sprint("slot-", i), "Note": strings.Repeat("x", 4000)})
	}
	_, err = sc.PutInventory(ctx, &ssm.PutInventoryInput{InstanceId: aws.String(web.id), Items: huge})
	var tooBig *ssmtypes.ItemSizeLimitExceededException
	if !errors.As(err, &tooBig) || aws.ToString(tooBig.TypeName) != "Custom:Rack" {
		t.Errorf("PutInventory(240 kB custom item) = %v, want ItemSizeLimitExceededException for Custom:Rack", err)
	}
	// SSM's own types are bounded by the report's 1,000,000 bytes alone.
	huge = web.items(time.Now())
	for i := range 252 {
		huge[2].Content = append(huge[2].Content, map[string]string{"Name": fmt.Sprint("pkg-", i), "Summary": strings.Repeat("x", 4000)})
	}
	_, err = sc.PutInventory(ctx, &ssm.PutInventoryInput{InstanceId: aws.String(web.id), Items: huge})
	wantTyped[*ssmtypes.TotalSizeLimitExceededException](t, "PutInventory(1 MB of applications)", err)
	_, err = sc.ListInventoryEntries(ctx, &ssm.ListInventoryEntriesInput{InstanceId: aws.String(web.id), TypeName: aws.String("AWS:Service")})
	wantTyped[*ssmtypes.InvalidTypeNameException](t, "ListInventoryEntries(AWS:Service)", err)
	_, err = sc.DescribeInstanceInformation(ctx, &ssm.DescribeInstanceInformationInput{MaxResults: aws.Int32(2)})
	wantAPIError(t, "DescribeInstanceInformation(MaxResults 2)", err, "ValidationException", "MaxResults")
	_, err = sc.DescribeInstanceInformation(ctx, &ssm.DescribeInstanceInformationInput{
		Filters: []ssmtypes.InstanceInformationStringFilter{{Key: aws.String("Colour"), Values: []string{"red"}}}})
	wantTyped[*ssmtypes.InvalidFilterKey](t, "DescribeInstanceInformation(Colour)", err)

	// Nothing of a refused report was written: web's applications are as first reported.
	entries, err = sc.ListInventoryEntries(ctx, &ssm.ListInventoryEntriesInput{InstanceId: aws.String(web.id), TypeName: aws.String("AWS:Application")})
	if err != nil || len(entries.Entries) != 1 || entries.Entries[0]["Name"] != "nginx" {
		t.Fatalf("web's applications after refused reports = %+v, %v", entries, err)
	}
}

// TestSSM_Wire checks what reaches the server outside the SDK's checks: malformed JSON,
// unknown members, a body over the limit, and the audit trail's record of a report.
func TestSSM_Wire(t *testing.T) {
	s := startServer(t, serverOptions{})
	post := func(target string, body []byte) (int, jsonError) {
		t.Helper()
		resp, err := http.DefaultClient.Do(signedRequest(t, s, "ssm", target, "application/x-amz-json-1.1", body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		var e jsonError
		if resp.StatusCode != http.StatusOK {
			if err := json.Unmarshal(raw, &e); err != nil {
				t.Fatalf("%s: error body %q: %v", target, raw, err)
			}
		}
		return resp.StatusCode, e
	}
	for _, tt := range []struct {
		name, target string
		body         []byte
		status       int
		code         string
	}{
		{"MalformedJSON", "AmazonSSM.PutInventory", []byte(`{"InstanceId": "mi-0123456789abcdef0", "Items": [`), 400, "SerializationException"},
		{"UnknownMember", "AmazonSSM.PutInventory", []byte(`{"InstanceId": "mi-0123456789abcdef0", "Items": [], "Tags": []}`), 400, "SerializationException"},
		{"UnknownItemMember", "AmazonSSM.PutInventory", []byte(`{"InstanceId": "mi-0123456789abcdef0", "Items": [{"TypeName": "Custom:X", "Colour": "red"}]}`), 400, "SerializationException"},
		{"WrongType", "AmazonSSM.PutInventory", []byte(`{"InstanceId": "mi-0123456789abcdef0", "Items": [{"TypeName": "Custom:X", "Content": [{"a": 1}]}]}`), 400, "SerializationException"},
		{"TooLarge", "AmazonSSM.PutInventory", append([]byte(`{"InstanceId": "mi-0123456789abcdef0", "Items": [{"TypeName": "Custom:X", "Content": [{"a": "`),
			append(bytes.Repeat([]byte("x"), 1<<20), []byte(`"}]}]}`)...)...), 400, "SerializationException"},
		{"UnknownOperation", "AmazonSSM.SendCommand", []byte(`{}`), 400, "UnknownOperationException"},
		{"NoItems", "AmazonSSM.PutInventory", []byte(`{"InstanceId": "mi-0123456789abcdef0"}`), 400, "ValidationException"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			status, e := post(tt.target, tt.body)
			if status != tt.status || e.Type != tt.code {
				t.Errorf("HTTP %d %s (%s), want %d %s", status, e.Type, e.Message, tt.status, tt.code)
			}
		})
	}

	// A report's audit event: eventSource ssm.amazonaws.com, the items summarized, not their content.
	m := machine{id: "mi-00000000000000abc", platform: "Linux", cores: 2, apps: []string{"secret-app-name"}}
	if err := m.report(context.Background(), ssm.NewFromConfig(s.awsConfig(rootKeyID, rootSecret))); err != nil {
		t.Fatal(err)
	}
	events := lookupAll(t, s, "PutInventory", 50)
	var ok *trailEvent
	for i := range events {
		if events[i].ErrorCode == "" {
			ok = &events[i]
		}
	}
	if ok == nil {
		t.Fatalf("no successful PutInventory event among %d", len(events))
	}
	if ok.EventSource != "ssm.amazonaws.com" || !strings.Contains(string(ok.RequestParameters), m.id) ||
		strings.Contains(string(ok.RequestParameters), "secret-app-name") || !strings.Contains(string(ok.RequestParameters), `"typeName":"AWS:Application"`) {
		t.Fatalf("PutInventory event from %s with requestParameters %s; want one from ssm.amazonaws.com naming the instance and the types, without the content", ok.EventSource, ok.RequestParameters)
	}
	if !strings.Contains(string(ok.RequestParameters), `"entries":1`) {
		t.Errorf("requestParameters %s do not count the entries", ok.RequestParameters)
	}
}

// TestSSM_Authorization checks SSM's resource-level permissions: an agent's key allowed to
// report one managed instance reports it and nothing else; another account cannot touch it.
func TestSSM_Authorization(t *testing.T) {
	ctx := context.Background()
	s := startServer(t, serverOptions{})
	admin := rootIAM(s)
	mine, other := "mi-0123456789abcdef0", "mi-0123456789abcdef1"
	policy := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ssm:PutInventory","Resource":"arn:aws:ssm:%s:%s:managed-instance/%s"}]}`,
		region, rootAccount, mine)
	if _, err := admin.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("agent")}); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("agent"), PolicyName: aws.String("report"), PolicyDocument: aws.String(policy)}); err != nil {
		t.Fatal(err)
	}
	key, err := admin.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("agent")})
	if err != nil {
		t.Fatal(err)
	}
	agent := ssm.NewFromConfig(s.awsConfig(aws.ToString(key.AccessKey.AccessKeyId), aws.ToString(key.AccessKey.SecretAccessKey)))
	if err := (machine{id: mine, platform: "Linux", cores: 2}).report(ctx, agent); err != nil {
		t.Fatalf("PutInventory for its own instance: %v", err)
	}
	err = machine{id: other, platform: "Linux", cores: 2}.report(ctx, agent)
	wantAPIError(t, "PutInventory(another instance)", err, "AccessDeniedException", "managed-instance/"+other)
	_, err = agent.DescribeInstanceInformation(ctx, &ssm.DescribeInstanceInformationInput{})
	wantAPIError(t, "DescribeInstanceInformation", err, "AccessDeniedException", "ssm:DescribeInstanceInformation")

	// Another account (a member of the organization, as its administrator) cannot report
	// for, read or deregister the instance.
	outsider := ssm.NewFromConfig(s.configFor(memberAccount(t, s)))
	wantTyped[*ssmtypes.InvalidInstanceId](t, "PutInventory(another account's instance)", machine{id: mine, platform: "Linux", cores: 2}.report(ctx, outsider))
	_, err = outsider.ListInventoryEntries(ctx, &ssm.ListInventoryEntriesInput{InstanceId: aws.String(mine), TypeName: aws.String("AWS:Application")})
	wantTyped[*ssmtypes.InvalidInstanceId](t, "ListInventoryEntries(another account's instance)", err)
	_, err = outsider.DeregisterManagedInstance(ctx, &ssm.DeregisterManagedInstanceInput{InstanceId: aws.String(mine)})
	wantTyped[*ssmtypes.InvalidInstanceId](t, "DeregisterManagedInstance(another account's instance)", err)
	list, err := outsider.DescribeInstanceInformation(ctx, &ssm.DescribeInstanceInformationInput{})
	if err != nil || len(list.InstanceInformationList) != 0 {
		t.Fatalf("another account's DescribeInstanceInformation = %+v, %v; want nothing", list, err)
	}
	mgmt, err := ssm.NewFromConfig(s.awsConfig(rootKeyID, rootSecret)).DescribeInstanceInformation(ctx, &ssm.DescribeInstanceInformationInput{})
	if err != nil || len(mgmt.InstanceInformationList) != 1 {
		t.Fatalf("the owner's DescribeInstanceInformation = %+v, %v; want its instance", mgmt, err)
	}
}

// memberAccount creates an organization with one member account and returns credentials of
// its OrganizationAccountAccessRole, assumed by an administrator of the management account.
func memberAccount(t *testing.T, s *server) creds {
	t.Helper()
	ctx := context.Background()
	admin := orgAdmin(t, s)
	org := organizations.NewFromConfig(s.configFor(admin))
	if _, err := org.CreateOrganization(ctx, &organizations.CreateOrganizationInput{}); err != nil {
		t.Fatalf("CreateOrganization: %v", err)
	}
	out, err := org.CreateAccount(ctx, &organizations.CreateAccountInput{AccountName: aws.String("plant"), Email: aws.String("plant@example.com")})
	if err != nil {
		t.Fatalf("CreateAccount: %v", err)
	}
	return assumeOrgRole(t, s, admin, aws.ToString(out.CreateAccountStatus.AccountId))
}

// TestSSM_ConcurrentReports sends many machines' first reports at once against a hard
// limit, then heartbeats and deregistrations at once, on SQLite and PostgreSQL: the limit
// holds and ConsumedLicenses is always what the resources hold.
func TestSSM_ConcurrentReports(t *testing.T) {
	t.Run("SQLite", func(t *testing.T) { ssmConcurrentReports(t, startServer(t, serverOptions{})) })
	t.Run("PostgreSQL", func(t *testing.T) {
		ssmConcurrentReports(t, startServer(t, serverOptions{database: postgresDatabase(t)}))
	})
}

func ssmConcurrentReports(t *testing.T, s *server) {
	const machines, limit = 40, 48 // 4 cores each: 12 fit
	ctx := context.Background()
	cfg := s.awsConfig(rootKeyID, rootSecret)
	sc, lmc := ssm.NewFromConfig(cfg), lm.NewFromConfig(cfg)
	arn := oracleConfiguration(t, lmc, limit)
	ms := make([]machine, machines)
	for i := range ms {
		ms[i] = machine{id: fmt.Sprintf("mi-%017x", 0x1000+i), platform: "Linux", cores: 4, apps: []string{"oracle-db"}}
	}
	var wg sync.WaitGroup
	errs := make(chan error, 2*machines)
	for _, m := range ms {
		wg.Go(func() { errs <- m.report(ctx, sc) })
		wg.Go(func() { errs <- ms[0].report(ctx, sc) }) // one new ID's first reports, many at once
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("a concurrent report failed: %v", err)
		}
	}
	if consumed, sum, n := usageOf(t, lmc, arn); consumed != limit || sum != limit || n != limit/4 {
		t.Fatalf("after %d reports: ConsumedLicenses %d, %d held by %d resources; want %d by %d", machines, consumed, sum, n, limit, limit/4)
	}
	count := 0
	for p := ssm.NewDescribeInstanceInformationPaginator(sc, &ssm.DescribeInstanceInformationInput{MaxResults: aws.Int32(50)}); p.HasMorePages(); {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		count += len(page.InstanceInformationList)
	}
	if count != machines {
		t.Fatalf("%d managed instances, want %d", count, machines)
	}

	// Heartbeats and deregistrations at once: freed units go to machines that report.
	var mu sync.Mutex
	deregistered := 0
	for i, m := range ms {
		wg.Go(func() {
			_, err := sc.PutInventory(ctx, &ssm.PutInventoryInput{InstanceId: aws.String(m.id), Items: m.items(time.Now())})
			if err != nil && errorCode(err) != "InvalidInstanceId" {
				t.Errorf("PutInventory(%s): %v", m.id, err)
			}
		})
		if i%4 == 0 {
			wg.Go(func() {
				_, err := sc.DeregisterManagedInstance(ctx, &ssm.DeregisterManagedInstanceInput{InstanceId: aws.String(m.id)})
				if err != nil {
					t.Errorf("DeregisterManagedInstance(%s): %v", m.id, err)
					return
				}
				mu.Lock()
				deregistered++
				mu.Unlock()
			})
		}
	}
	wg.Wait()
	if consumed, sum, _ := usageOf(t, lmc, arn); consumed != sum || consumed > limit {
		t.Fatalf("after concurrent heartbeats and %d deregistrations: ConsumedLicenses %d, %d held; want equal and at most %d", deregistered, consumed, sum, limit)
	}
}

// TestSSM_CLI runs docs/inventory.md's AWS CLI examples with the AWS CLI v2.
func TestSSM_CLI(t *testing.T) {
	c := newOSCLI(t, serverOptions{})
	id := "mi-0123456789abcdef0"
	items := `[{"TypeName":"AWS:InstanceInformation","SchemaVersion":"1.0","CaptureTime":"2026-03-01T12:00:00Z",` +
		`"Content":[{"ComputerName":"db1.example.com","PlatformName":"Ubuntu","PlatformType":"Linux","PlatformVersion":"24.04","IpAddress":"192.0.2.10"}]},` +
		`{"TypeName":"AWS:InstanceDetailedInformation","SchemaVersion":"1.0","CaptureTime":"2026-03-01T12:00:00Z",` +
		`"Content":[{"CPUs":"16","CPUCores":"8","CPUSockets":"1","CPUModel":"Xeon"}]},` +
		`{"TypeName":"AWS:Application","SchemaVersion":"1.1","CaptureTime":"2026-03-01T12:00:00Z","ContentHash":"apps-1",` +
		`"Content":[{"Name":"oracle-db","Version":"19.3","Publisher":"Oracle"}]}]`
	c.ok(nil, "ssm", "put-inventory", "--instance-id", id, "--items", items)
	c.ok(nil, "ssm", "put-inventory", "--instance-id", id, "--items",
		`[{"TypeName":"AWS:Application","SchemaVersion":"1.1","CaptureTime":"2026-03-01T12:30:00Z","ContentHash":"apps-1"}]`)
	if got := c.text("ssm", "describe-instance-information", "--query", "InstanceInformationList[].[InstanceId,PingStatus,PlatformName,ComputerName]"); strings.Join(strings.Fields(got), " ") != id+" Online Ubuntu db1.example.com" {
		t.Errorf("describe-instance-information = %q", got)
	}
	if got := c.text("ssm", "list-inventory-entries", "--instance-id", id, "--type-name", "AWS:Application", "--query", "[CaptureTime, Entries[0].Name]"); strings.Join(strings.Fields(got), " ") != "2026-03-01T12:30:00Z oracle-db" {
		t.Errorf("list-inventory-entries = %q", got)
	}
	if got := c.text("license-manager", "list-resource-inventory", "--query", "ResourceInventoryList[].[ResourceId,ResourceType,Platform]"); strings.Join(strings.Fields(got), " ") != id+" SYSTEMS_MANAGER_MANAGED_INSTANCE Ubuntu" {
		t.Errorf("list-resource-inventory = %q", got)
	}
	c.refused("ItemContentMismatchException", "send the item with its content", "ssm", "put-inventory", "--instance-id", id, "--items",
		`[{"TypeName":"AWS:Application","SchemaVersion":"1.1","CaptureTime":"2026-03-01T13:00:00Z","ContentHash":"apps-2"}]`)
	c.ok(nil, "ssm", "deregister-managed-instance", "--instance-id", id)
	c.refused("InvalidInstanceId", "was deregistered", "ssm", "put-inventory", "--instance-id", id, "--items", items)
}

// TestSSM_DeregisterDeletesInventory deregisters a machine, with the AWS SDK for Go on SQLite
// and PostgreSQL: its inventory is gone (ListInventoryEntries answers InvalidInstanceId for
// every type) and a configuration made afterwards on one of its packages discovers nothing.
func TestSSM_DeregisterDeletesInventory(t *testing.T) {
	t.Run("SQLite", func(t *testing.T) { ssmDeregisterDeletesInventory(t, startServer(t, serverOptions{})) })
	t.Run("PostgreSQL", func(t *testing.T) {
		ssmDeregisterDeletesInventory(t, startServer(t, serverOptions{database: postgresDatabase(t)}))
	})
}

func ssmDeregisterDeletesInventory(t *testing.T, s *server) {
	ctx := context.Background()
	cfg := s.awsConfig(rootKeyID, rootSecret)
	sc, lmc := ssm.NewFromConfig(cfg), lm.NewFromConfig(cfg)
	db1 := machine{id: "mi-0123456789abcdef0", platform: "Linux", cores: 8, apps: []string{"oracle-db"}}
	web := machine{id: "mi-0123456789abcdef1", platform: "Linux", cores: 2, apps: []string{"nginx"}}
	for _, m := range []machine{db1, web} {
		if err := m.report(ctx, sc); err != nil {
			t.Fatalf("PutInventory(%s): %v", m.id, err)
		}
	}
	if _, err := sc.DeregisterManagedInstance(ctx, &ssm.DeregisterManagedInstanceInput{InstanceId: aws.String(db1.id)}); err != nil {
		t.Fatalf("DeregisterManagedInstance: %v", err)
	}
	for _, typ := range []string{"AWS:Application", "AWS:InstanceInformation", "AWS:InstanceDetailedInformation", "Custom:AllotAgent"} {
		_, err := sc.ListInventoryEntries(ctx, &ssm.ListInventoryEntriesInput{InstanceId: aws.String(db1.id), TypeName: aws.String(typ)})
		wantTyped[*ssmtypes.InvalidInstanceId](t, "ListInventoryEntries(deregistered, "+typ+")", err)
	}
	arn := oracleConfiguration(t, lmc, 64)
	if consumed, sum, n := usageOf(t, lmc, arn); consumed != 0 || sum != 0 || n != 0 {
		t.Errorf("a configuration on the deregistered machine's package: ConsumedLicenses %d, %d held by %d resources; want none", consumed, sum, n)
	}
	inv, err := lmc.ListResourceInventory(ctx, &lm.ListResourceInventoryInput{Filters: []lmtypes.InventoryFilter{
		{Name: aws.String("application_name"), Condition: lmtypes.InventoryFilterConditionEquals, Value: aws.String("oracle-db")}}})
	if err != nil || len(inv.ResourceInventoryList) != 0 {
		t.Errorf("ListResourceInventory(application_name oracle-db) = %+v, %v; want nothing", inv, err)
	}
	// The other machine keeps its inventory.
	entries, err := sc.ListInventoryEntries(ctx, &ssm.ListInventoryEntriesInput{InstanceId: aws.String(web.id), TypeName: aws.String("AWS:Application")})
	if err != nil || len(entries.Entries) != 1 || entries.Entries[0]["Name"] != "nginx" {
		t.Errorf("ListInventoryEntries(%s) = %+v, %v; want nginx", web.id, entries, err)
	}
}

// TestSSM_DiscoveryLastRunTime reads AutomatedDiscoveryInformation.LastRunTime with the AWS
// SDK for Go on SQLite and PostgreSQL: set when a configuration with products is created
// (discovery runs then), moved on by a machine's report, absent without products.
func TestSSM_DiscoveryLastRunTime(t *testing.T) {
	t.Run("SQLite", func(t *testing.T) { ssmDiscoveryLastRunTime(t, startServer(t, serverOptions{})) })
	t.Run("PostgreSQL", func(t *testing.T) {
		ssmDiscoveryLastRunTime(t, startServer(t, serverOptions{database: postgresDatabase(t)}))
	})
}

func ssmDiscoveryLastRunTime(t *testing.T, s *server) {
	ctx := context.Background()
	cfg := s.awsConfig(rootKeyID, rootSecret)
	sc, lmc := ssm.NewFromConfig(cfg), lm.NewFromConfig(cfg)
	lastRun := func(arn string) *time.Time {
		t.Helper()
		out, err := lmc.GetLicenseConfiguration(ctx, &lm.GetLicenseConfigurationInput{LicenseConfigurationArn: aws.String(arn)})
		if err != nil {
			t.Fatalf("GetLicenseConfiguration: %v", err)
		}
		if out.AutomatedDiscoveryInformation == nil {
			return nil
		}
		return out.AutomatedDiscoveryInformation.LastRunTime
	}
	// Epoch seconds on the wire: compare to the second.
	within := func(got *time.Time, from, to time.Time) bool {
		return got != nil && !got.Before(from.Truncate(time.Second)) && !got.After(to.Add(time.Second))
	}
	before := time.Now()
	arn := oracleConfiguration(t, lmc, 64)
	created := time.Now()
	first := lastRun(arn)
	if !within(first, before, created) {
		t.Fatalf("LastRunTime after CreateLicenseConfiguration = %v, want between %v and %v", first, before, created)
	}
	plain, err := lmc.CreateLicenseConfiguration(ctx, &lm.CreateLicenseConfigurationInput{Name: aws.String("no products"),
		LicenseCountingType: lmtypes.LicenseCountingTypeInstance})
	if err != nil {
		t.Fatal(err)
	}
	out, err := lmc.GetLicenseConfiguration(ctx, &lm.GetLicenseConfigurationInput{LicenseConfigurationArn: plain.LicenseConfigurationArn})
	if err != nil || out.AutomatedDiscoveryInformation != nil {
		t.Errorf("a configuration without products: AutomatedDiscoveryInformation = %+v, %v; want none", out.AutomatedDiscoveryInformation, err)
	}

	// A run is recorded to the second: a report in a later second moves it on.
	time.Sleep(time.Until(first.Add(1100 * time.Millisecond)))
	reported := time.Now()
	if err := (machine{id: "mi-0123456789abcdef0", platform: "Linux", cores: 4, apps: []string{"nginx"}}).report(ctx, sc); err != nil {
		t.Fatalf("PutInventory: %v", err)
	}
	second := lastRun(arn)
	if !within(second, reported, time.Now()) || !second.After(*first) {
		t.Errorf("LastRunTime after a report = %v, want after %v, between %v and now", second, first, reported)
	}
}

// TestSSM_CPUCountChanges has machines report other CPU counts, with the AWS SDK for Go on
// SQLite and PostgreSQL: what they hold follows; a growth over a hard limit leaves the
// machine holding nothing, recorded as a failure, until it fits again; and many machines
// growing at once never take more than the limit, the counter always what they hold.
func TestSSM_CPUCountChanges(t *testing.T) {
	t.Run("SQLite", func(t *testing.T) { ssmCPUCountChanges(t, startServer(t, serverOptions{})) })
	t.Run("PostgreSQL", func(t *testing.T) {
		ssmCPUCountChanges(t, startServer(t, serverOptions{database: postgresDatabase(t)}))
	})
}

func ssmCPUCountChanges(t *testing.T, s *server) {
	ctx := context.Background()
	cfg := s.awsConfig(rootKeyID, rootSecret)
	sc, lmc := ssm.NewFromConfig(cfg), lm.NewFromConfig(cfg)
	arn := oracleConfiguration(t, lmc, 20) // cores, hard limit
	report := func(m machine) {
		t.Helper()
		if err := m.report(ctx, sc); err != nil {
			t.Fatalf("PutInventory(%s, %d cores): %v", m.id, m.cores, err)
		}
	}
	want := func(what string, consumed int64, resources int) {
		t.Helper()
		if c, sum, n := usageOf(t, lmc, arn); c != consumed || sum != consumed || n != resources {
			t.Fatalf("%s: ConsumedLicenses %d, %d held by %d resources; want %d by %d", what, c, sum, n, consumed, resources)
		}
	}
	db1 := machine{id: "mi-00000000000000db1", platform: "Linux", cores: 4, apps: []string{"oracle-db"}}
	db2 := machine{id: "mi-00000000000000db2", platform: "Linux", cores: 12, apps: []string{"oracle-db"}}
	report(db1)
	want("4 cores", 4, 1)
	db1.cores = 8
	report(db1)
	want("grown to 8 cores", 8, 1)
	db1.cores = 2
	report(db1)
	want("shrunk to 2 cores", 2, 1)
	report(db2)
	want("with a 12-core machine", 14, 2)

	// 8 cores do not fit next to 12 under 20: db1 keeps its association, holding nothing.
	db1.cores = 10
	report(db1)
	want("db1 grown past the limit", 12, 1)
	failures, err := lmc.ListFailuresForLicenseConfigurationOperations(ctx, &lm.ListFailuresForLicenseConfigurationOperationsInput{LicenseConfigurationArn: aws.String(arn)})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, f := range failures.LicenseOperationFailureList {
		found = found || aws.ToString(f.OperationName) == "AutomatedDiscovery" && strings.HasSuffix(aws.ToString(f.ResourceArn), db1.id) &&
			strings.Contains(aws.ToString(f.ErrorMessage), "hard limit")
	}
	if !found {
		t.Errorf("no AutomatedDiscovery failure for %s over the hard limit: %+v", db1.id, failures.LicenseOperationFailureList)
	}
	assocs, err := lmc.ListAssociationsForLicenseConfiguration(ctx, &lm.ListAssociationsForLicenseConfigurationInput{LicenseConfigurationArn: aws.String(arn)})
	if err != nil || len(assocs.LicenseConfigurationAssociations) != 2 {
		t.Errorf("associations with db1 over the limit = %+v, %v; want db1's (holding nothing) and db2's", assocs, err)
	}
	// Back to a size that fits: it holds its units again.
	db1.cores = 8
	report(db1)
	want("db1 back to 8 cores", 20, 2)

	// Many machines growing at once against a hard limit.
	const machines, limit = 24, 60 // 2 cores each, then 8: 48, then at most 60
	big := discoveryConfiguration(t, lmc, "SQL Server", "mssql", lmtypes.LicenseCountingTypeCore, limit, true)
	grow := make([]machine, machines)
	for i := range grow {
		grow[i] = machine{id: fmt.Sprintf("mi-%017x", 0x2000+i), platform: "Linux", cores: 2, apps: []string{"mssql"}}
	}
	var wg sync.WaitGroup
	for _, m := range grow {
		wg.Go(func() {
			if err := m.report(ctx, sc); err != nil {
				t.Errorf("PutInventory(%s): %v", m.id, err)
			}
		})
	}
	wg.Wait()
	if c, sum, n := usageOf(t, lmc, big); c != 2*machines || sum != c || n != machines {
		t.Fatalf("%d 2-core machines: ConsumedLicenses %d, %d held by %d; want %d by %d", machines, c, sum, n, 2*machines, machines)
	}
	for i := range grow {
		grow[i].cores = 8
	}
	for _, m := range grow {
		wg.Go(func() {
			if err := m.report(ctx, sc); err != nil {
				t.Errorf("PutInventory(%s, 8 cores): %v", m.id, err)
			}
		})
	}
	wg.Wait()
	c, sum, n := usageOf(t, lmc, big)
	if c != sum || c > limit || n == 0 {
		t.Fatalf("after %d machines grew to 8 cores at once: ConsumedLicenses %d, %d held by %d; want equal, at most %d", machines, c, sum, n, limit)
	}
	failures, err = lmc.ListFailuresForLicenseConfigurationOperations(ctx, &lm.ListFailuresForLicenseConfigurationOperationsInput{
		LicenseConfigurationArn: aws.String(big), MaxResults: aws.Int32(100)})
	if err != nil || len(failures.LicenseOperationFailureList) == 0 {
		t.Errorf("no failure recorded for the machines that did not fit: %+v, %v", failures, err)
	}
}
