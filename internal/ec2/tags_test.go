package ec2

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/allot-dev/allot/internal/authz"
	"github.com/allot-dev/allot/internal/awserr"
	"github.com/allot-dev/allot/internal/licenseconfig"
	"github.com/allot-dev/allot/internal/store"
)

func tag(k, v string) Tag { return Tag{Key: ptr(k), Value: ptr(v)} }

func tagsN(n int) []Tag {
	out := make([]Tag, n)
	for i := range out {
		out[i] = tag(fmt.Sprintf("k%02d", i), "v")
	}
	return out
}

// instanceTags returns the tags DescribeInstances shows on an instance, as key=value.
func (f *fixture) instanceTags(id string) []string {
	f.t.Helper()
	out, err := f.svc.DescribeInstances(f.ctx, f.caller, &DescribeInstancesInput{InstanceIDs: []string{id}})
	if err != nil {
		f.t.Fatal(err)
	}
	var got []string
	for _, t := range out.Reservations[0].Instances[0].Tags {
		got = append(got, t.Key+"="+t.Value)
	}
	return got
}

func (f *fixture) countInstances() int {
	f.t.Helper()
	out, err := f.svc.DescribeInstances(f.ctx, f.caller, &DescribeInstancesInput{})
	if err != nil {
		f.t.Fatal(err)
	}
	n := 0
	for _, r := range out.Reservations {
		n += len(r.Instances)
	}
	return n
}

func TestRunInstances_TagSpecification(t *testing.T) {
	f := newFixture(t)
	out, err := f.run("m5.large", 2, 2, func(in *RunInstancesInput) {
		in.TagSpecifications = []TagSpecification{
			{ResourceType: "instance", Tags: []Tag{tag("team", "db"), {Key: ptr("empty")}}},
			{ResourceType: "volume", Tags: []Tag{tag("ignored", "x")}},
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range out.Instances {
		if !slices.Equal(i.Tags, []TagXML{{"empty", ""}, {"team", "db"}}) {
			t.Errorf("RunInstances tags of %s = %v, want empty= and team=db", i.InstanceID, i.Tags)
		}
		if got := f.instanceTags(i.InstanceID); !slices.Equal(got, []string{"empty=", "team=db"}) {
			t.Errorf("DescribeInstances tags of %s = %v", i.InstanceID, got)
		}
	}

	cases := []struct {
		name  string
		specs []TagSpecification
		code  string
		msg   string
	}{
		{"ErrUnknownType", []TagSpecification{{ResourceType: "bucket", Tags: []Tag{tag("a", "b")}}}, ErrInvalidParameterValue, "'bucket' is not a valid taggable resource type"},
		{"ErrTypeForOtherAction", []TagSpecification{{ResourceType: "image", Tags: []Tag{tag("a", "b")}}}, ErrInvalidParameterValue, "not a valid taggable resource type for this operation"},
		{"ErrNoType", []TagSpecification{{Tags: []Tag{tag("a", "b")}}}, ErrMissingParameter, "TagSpecification.1.ResourceType"},
		{"ErrTypeTwice", []TagSpecification{{ResourceType: "instance", Tags: []Tag{tag("a", "b")}}, {ResourceType: "instance", Tags: []Tag{tag("c", "d")}}}, ErrInvalidParameterValue, "more than once"},
		{"ErrNoTags", []TagSpecification{{ResourceType: "instance"}}, ErrInvalidParameterValue, "at least one tag"},
		{"ErrTooMany", []TagSpecification{{ResourceType: "instance", Tags: tagsN(51)}}, ErrTagLimitExceeded, "51 tags"},
		{"ErrAWSPrefix", []TagSpecification{{ResourceType: "instance", Tags: []Tag{tag("AWS:cost", "b")}}}, ErrInvalidTagKeyMalformed, "reserved"},
		{"ErrEmptyKey", []TagSpecification{{ResourceType: "instance", Tags: []Tag{tag("", "b")}}}, ErrInvalidTagKeyMalformed, "empty"},
		{"ErrDuplicateKey", []TagSpecification{{ResourceType: "instance", Tags: []Tag{tag("a", "b"), tag("a", "c")}}}, ErrInvalidParameterValue, "duplicate tag key 'a'"},
		{"ErrLongKey", []TagSpecification{{ResourceType: "instance", Tags: []Tag{tag(strings.Repeat("k", 129), "b")}}}, ErrInvalidParameterValue, "limit is 128"},
		{"ErrLongValue", []TagSpecification{{ResourceType: "instance", Tags: []Tag{tag("k", strings.Repeat("é", 257))}}}, ErrInvalidParameterValue, "limit is 256"},
		{"ErrIgnoredTypeChecked", []TagSpecification{{ResourceType: "network-interface", Tags: []Tag{tag("aws:x", "b")}}}, ErrInvalidTagKeyMalformed, "reserved"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := f.run("m5.large", 1, 1, func(in *RunInstancesInput) { in.TagSpecifications = c.specs })
			wantCode(t, "RunInstances", err, c.code, c.msg)
		})
	}
	if n := f.countInstances(); n != 2 {
		t.Errorf("instances after refused launches = %d, want 2", n)
	}
	// Limits at the edge pass: 50 tags, a 128-character key, a 256-character value.
	edge := append(tagsN(48), tag(strings.Repeat("k", 128), ""), tag("v", strings.Repeat("é", 256)))
	if _, err := f.run("m5.large", 1, 1, func(in *RunInstancesInput) {
		in.TagSpecifications = []TagSpecification{{ResourceType: "instance", Tags: edge}}
	}); err != nil {
		t.Fatalf("RunInstances with 50 tags at the limits: %v", err)
	}
}

func TestAllocateHostsAndImages_TagSpecification(t *testing.T) {
	f := newFixture(t)
	h, err := f.svc.AllocateHosts(f.ctx, f.caller, &AllocateHostsInput{InstanceFamily: "m5", AvailabilityZone: "us-east-1a", Quantity: ptr[int32](1),
		TagSpecifications: []TagSpecification{{ResourceType: "dedicated-host", Tags: []Tag{tag("rack", "7")}}}})
	if err != nil {
		t.Fatal(err)
	}
	hs, err := f.svc.DescribeHosts(f.ctx, f.caller, &DescribeHostsInput{Filters: []Filter{{Name: "tag:rack", Value: []string{"7"}}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(hs.Hosts) != 1 || hs.Hosts[0].HostID != h.HostIDs[0] || len(hs.Hosts[0].Tags) != 1 {
		t.Errorf("DescribeHosts tag:rack=7 = %+v, want host %s with its tag", hs.Hosts, h.HostIDs[0])
	}
	_, err = f.svc.AllocateHosts(f.ctx, f.caller, &AllocateHostsInput{InstanceFamily: "m5", AvailabilityZone: "us-east-1a", Quantity: ptr[int32](1),
		TagSpecifications: []TagSpecification{{ResourceType: "instance", Tags: []Tag{tag("a", "b")}}}})
	wantCode(t, "AllocateHosts with instance tags", err, ErrInvalidParameterValue, "for this operation")

	img, err := f.svc.RegisterImage(f.ctx, f.caller, &RegisterImageInput{Name: "tagged", TagSpecifications: []TagSpecification{{ResourceType: "image", Tags: []Tag{tag("os", "linux")}}}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.svc.RegisterImage(f.ctx, f.caller, &RegisterImageInput{Name: "tagged", TagSpecifications: []TagSpecification{{ResourceType: "snapshot", Tags: []Tag{tag("os", "linux")}}}})
	wantCode(t, "RegisterImage with snapshot tags", err, ErrInvalidParameterValue, "for this operation")
	ims, err := f.svc.DescribeImages(f.ctx, f.caller, &DescribeImagesInput{Filters: []Filter{{Name: "tag-key", Value: []string{"os"}}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(ims.Images) != 1 || ims.Images[0].ImageID != img.ImageID || ims.Images[0].Tags[0] != (TagXML{"os", "linux"}) {
		t.Errorf("DescribeImages tag-key os = %+v, want %s", ims.Images, img.ImageID)
	}
	run, err := f.run("m5.large", 1, 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	created, err := f.svc.CreateImage(f.ctx, f.caller, &CreateImageInput{InstanceID: run.Instances[0].InstanceID, Name: "from-instance",
		TagSpecifications: []TagSpecification{{ResourceType: "image", Tags: []Tag{tag("os", "bsd")}}, {ResourceType: "snapshot", Tags: []Tag{tag("s", "1")}}}})
	if err != nil {
		t.Fatal(err)
	}
	ts, err := f.svc.DescribeTags(f.ctx, f.caller, &DescribeTagsInput{Filters: []Filter{{Name: "resource-id", Value: []string{created.ImageID}}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(ts.Tags) != 1 || ts.Tags[0] != (TagDescription{Key: "os", ResourceID: created.ImageID, ResourceType: "image", Value: "bsd"}) {
		t.Errorf("DescribeTags of %s = %+v, want os=bsd only", created.ImageID, ts.Tags)
	}
}

func TestCreateDeleteDescribeTags(t *testing.T) {
	f := newFixture(t)
	run, err := f.run("m5.large", 3, 3, nil)
	if err != nil {
		t.Fatal(err)
	}
	ids := []string{run.Instances[0].InstanceID, run.Instances[1].InstanceID, run.Instances[2].InstanceID}
	if _, err := f.svc.CreateTags(f.ctx, f.caller, &CreateTagsInput{ResourceIDs: append(slices.Clone(ids), f.image),
		Tags: []Tag{tag("env", "prod"), tag("team", "db"), {Key: ptr("flag")}}}); err != nil {
		t.Fatal(err)
	}
	// Overwrite one value.
	if _, err := f.svc.CreateTags(f.ctx, f.caller, &CreateTagsInput{ResourceIDs: ids[:1], Tags: []Tag{tag("env", "test")}}); err != nil {
		t.Fatal(err)
	}
	if got := f.instanceTags(ids[0]); !slices.Equal(got, []string{"env=test", "flag=", "team=db"}) {
		t.Errorf("tags of %s = %v", ids[0], got)
	}

	t.Run("Errors", func(t *testing.T) {
		cases := []struct {
			name string
			in   *CreateTagsInput
			code string
			msg  string
		}{
			{"ErrNoResource", &CreateTagsInput{Tags: []Tag{tag("a", "b")}}, ErrMissingParameter, "ResourceId"},
			{"ErrNoTag", &CreateTagsInput{ResourceIDs: ids[:1]}, ErrMissingParameter, "Tag"},
			{"ErrUnknownID", &CreateTagsInput{ResourceIDs: []string{"vol-0123456789abcdef0"}, Tags: []Tag{tag("a", "b")}}, ErrInvalidID, "vol-0123456789abcdef0"},
			{"ErrMalformed", &CreateTagsInput{ResourceIDs: []string{"i-xyz"}, Tags: []Tag{tag("a", "b")}}, "InvalidInstanceID.Malformed", "i-xyz"},
			{"ErrNotFound", &CreateTagsInput{ResourceIDs: []string{ids[0], "h-0123456789abcdef0"}, Tags: []Tag{tag("a", "b")}}, "InvalidHostID.NotFound", "h-0123456789abcdef0"},
			{"ErrAWSPrefix", &CreateTagsInput{ResourceIDs: ids[:1], Tags: []Tag{tag("aws:x", "b")}}, ErrInvalidTagKeyMalformed, "reserved"},
			{"ErrLimit", &CreateTagsInput{ResourceIDs: ids[:1], Tags: tagsN(48)}, ErrTagLimitExceeded, ids[0]},
			{"DryRun", &CreateTagsInput{ResourceIDs: ids[:1], Tags: []Tag{tag("a", "b")}, DryRun: ptr(true)}, ErrDryRunOperation, "DryRun"},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				_, err := f.svc.CreateTags(f.ctx, f.caller, c.in)
				wantCode(t, "CreateTags", err, c.code, c.msg)
			})
		}
		// All or none: the failed calls wrote nothing.
		if got := f.instanceTags(ids[0]); !slices.Equal(got, []string{"env=test", "flag=", "team=db"}) {
			t.Errorf("tags of %s after refused calls = %v", ids[0], got)
		}
	})

	t.Run("DescribeTags", func(t *testing.T) {
		all, err := f.svc.DescribeTags(f.ctx, f.caller, &DescribeTagsInput{})
		if err != nil {
			t.Fatal(err)
		}
		if len(all.Tags) != 12 || all.NextToken != nil {
			t.Fatalf("DescribeTags = %d tags (next %v), want 12 in one page", len(all.Tags), all.NextToken)
		}
		// Pages of 5 return the same tags in the same order.
		var paged []TagDescription
		var token *string
		for {
			p, err := f.svc.DescribeTags(f.ctx, f.caller, &DescribeTagsInput{MaxResults: ptr[int32](5), NextToken: token})
			if err != nil {
				t.Fatal(err)
			}
			paged = append(paged, p.Tags...)
			if token = p.NextToken; token == nil {
				break
			}
		}
		if !slices.Equal(paged, all.Tags) {
			t.Errorf("pages = %v, want %v", paged, all.Tags)
		}
		filtered := []struct {
			fs   []Filter
			want int
		}{
			{[]Filter{{Name: "key", Value: []string{"env"}}}, 4},
			{[]Filter{{Name: "value", Value: []string{"prod"}}}, 3},
			{[]Filter{{Name: "key", Value: []string{"env"}}, {Name: "value", Value: []string{"prod"}}}, 3},
			{[]Filter{{Name: "resource-type", Value: []string{"image"}}}, 3},
			{[]Filter{{Name: "resource-type", Value: []string{"volume"}}}, 0},
			{[]Filter{{Name: "resource-id", Value: []string{ids[0]}}}, 3},
			{[]Filter{{Name: "tag:env", Value: []string{"test"}}}, 3}, // every tag of the resources tagged env=test
		}
		for _, c := range filtered {
			got, err := f.svc.DescribeTags(f.ctx, f.caller, &DescribeTagsInput{Filters: c.fs})
			if err != nil {
				t.Fatal(err)
			}
			if len(got.Tags) != c.want {
				t.Errorf("DescribeTags %+v = %d tags, want %d", c.fs, len(got.Tags), c.want)
			}
		}
		_, err = f.svc.DescribeTags(f.ctx, f.caller, &DescribeTagsInput{Filters: []Filter{{Name: "owner", Value: []string{"x"}}}})
		wantCode(t, "DescribeTags owner", err, ErrInvalidParameterValue, "owner")
	})

	t.Run("DescribeInstancesFilters", func(t *testing.T) {
		for _, c := range []struct {
			fs   []Filter
			want int
		}{
			{[]Filter{{Name: "tag:env", Value: []string{"prod"}}}, 2},
			{[]Filter{{Name: "tag:env", Value: []string{"prod", "test"}}}, 3},
			{[]Filter{{Name: "tag:env", Value: []string{"PROD"}}}, 0},
			{[]Filter{{Name: "tag-key", Value: []string{"flag"}}}, 3},
			{[]Filter{{Name: "tag-key", Value: []string{"nope"}}}, 0},
			{[]Filter{{Name: "tag:env", Value: []string{"prod"}}, {Name: "instance-id", Value: []string{ids[0]}}}, 0},
		} {
			out, err := f.svc.DescribeInstances(f.ctx, f.caller, &DescribeInstancesInput{Filters: c.fs})
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for _, r := range out.Reservations {
				n += len(r.Instances)
			}
			if n != c.want {
				t.Errorf("DescribeInstances %+v = %d instances, want %d", c.fs, n, c.want)
			}
		}
	})

	t.Run("DeleteTags", func(t *testing.T) {
		// Key and a value it does not have: nothing goes. Key only: any value goes.
		if _, err := f.svc.DeleteTags(f.ctx, f.caller, &DeleteTagsInput{ResourceIDs: ids[:2], Tags: []Tag{tag("env", "prod"), {Key: ptr("team")}}}); err != nil {
			t.Fatal(err)
		}
		if got := f.instanceTags(ids[0]); !slices.Equal(got, []string{"env=test", "flag="}) {
			t.Errorf("tags of %s = %v, want env=test flag=", ids[0], got)
		}
		if got := f.instanceTags(ids[1]); !slices.Equal(got, []string{"flag="}) {
			t.Errorf("tags of %s = %v, want flag=", ids[1], got)
		}
		// An empty value deletes only a tag whose value is empty.
		if _, err := f.svc.DeleteTags(f.ctx, f.caller, &DeleteTagsInput{ResourceIDs: ids[:1], Tags: []Tag{tag("flag", ""), tag("env", "")}}); err != nil {
			t.Fatal(err)
		}
		if got := f.instanceTags(ids[0]); !slices.Equal(got, []string{"env=test"}) {
			t.Errorf("tags of %s = %v, want env=test", ids[0], got)
		}
		// Without tags, every tag goes.
		if _, err := f.svc.DeleteTags(f.ctx, f.caller, &DeleteTagsInput{ResourceIDs: ids}); err != nil {
			t.Fatal(err)
		}
		for _, id := range ids {
			if got := f.instanceTags(id); len(got) != 0 {
				t.Errorf("tags of %s = %v, want none", id, got)
			}
		}
		_, err := f.svc.DeleteTags(f.ctx, f.caller, &DeleteTagsInput{ResourceIDs: ids, Tags: []Tag{{Key: ptr("aws:cloudformation:stack-name")}}})
		wantCode(t, "DeleteTags aws:", err, ErrInvalidTagKeyMalformed, "reserved")
		_, err = f.svc.DeleteTags(f.ctx, f.caller, &DeleteTagsInput{ResourceIDs: []string{"ami-0123456789abcdef0"}})
		wantCode(t, "DeleteTags unknown image", err, "InvalidAMIID.NotFound", "ami-0123456789abcdef0")
	})
}

// TestCreateTags_OtherAccount checks that an account cannot tag, untag or see the tags of
// another account's resources.
func TestCreateTags_OtherAccount(t *testing.T) {
	f := newFixture(t)
	run, err := f.run("m5.large", 1, 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	id := run.Instances[0].InstanceID
	if _, err := f.svc.CreateTags(f.ctx, f.caller, &CreateTagsInput{ResourceIDs: []string{id, f.image}, Tags: []Tag{tag("a", "b")}}); err != nil {
		t.Fatal(err)
	}
	other := *f.caller
	other.AccountID, other.ARN = "444455556666", "arn:aws:iam::444455556666:root"
	if err := f.db.Update(f.ctx, func(tx *store.Tx) error {
		return tx.CreateAccount(f.ctx, &store.Account{ID: other.AccountID, Name: "b", Status: "ACTIVE", CreatedAt: tx.Now()})
	}); err != nil {
		t.Fatal(err)
	}
	_, err = f.svc.CreateTags(f.ctx, &other, &CreateTagsInput{ResourceIDs: []string{id}, Tags: []Tag{tag("x", "y")}})
	wantCode(t, "CreateTags of another account's instance", err, "InvalidInstanceID.NotFound", id)
	_, err = f.svc.DeleteTags(f.ctx, &other, &DeleteTagsInput{ResourceIDs: []string{f.image}})
	wantCode(t, "DeleteTags of another account's image", err, "InvalidAMIID.NotFound", f.image)
	out, err := f.svc.DescribeTags(f.ctx, &other, &DescribeTagsInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Tags) != 0 {
		t.Errorf("DescribeTags of another account = %+v, want none", out.Tags)
	}
}

// denyTags is an authorizer that denies ec2:CreateTags and records what it was asked.
type denyTags struct{ asked []*authz.Request }

func (d *denyTags) Authorize(_ context.Context, r *authz.Request) error {
	d.asked = append(d.asked, r)
	if r.Action == "ec2:CreateTags" {
		return awserr.New("AccessDenied", "not allowed to %s", r.Action)
	}
	return nil
}

func TestTagOnCreate_NeedsCreateTags(t *testing.T) {
	f := newFixture(t)
	d := &denyTags{}
	f.svc.Authz = d
	_, err := f.run("m5.large", 2, 2, func(in *RunInstancesInput) {
		in.TagSpecifications = []TagSpecification{{ResourceType: "instance", Tags: []Tag{tag("team", "db")}}}
	})
	wantCode(t, "RunInstances with tags, CreateTags denied", err, "AccessDenied", "ec2:CreateTags")
	if n := f.countInstances(); n != 0 {
		t.Errorf("instances after a denied tagged launch = %d, want 0", n)
	}
	if len(d.asked) != 1 {
		t.Fatalf("authorizer asked %d times, want once (denied at the first)", len(d.asked))
	}
	r := d.asked[0]
	region := licenseconfig.RequestRegion(f.ctx)
	if !strings.HasPrefix(r.Resource, "arn:aws:ec2:"+region+":"+f.caller.AccountID+":instance/i-") ||
		!slices.Equal(r.Context["ec2:CreateAction"], []string{"RunInstances"}) ||
		!slices.Equal(r.Context["aws:RequestTag/team"], []string{"db"}) || !slices.Equal(r.Context["aws:TagKeys"], []string{"team"}) {
		t.Errorf("CreateTags request = %+v", r)
	}
	// Untagged launches do not ask.
	if _, err := f.run("m5.large", 1, 1, nil); err != nil {
		t.Fatal(err)
	}
	_, err = f.svc.RegisterImage(f.ctx, f.caller, &RegisterImageInput{Name: "img", TagSpecifications: []TagSpecification{{ResourceType: "image", Tags: []Tag{tag("a", "b")}}}})
	wantCode(t, "RegisterImage with tags, CreateTags denied", err, "AccessDenied", "ec2:CreateTags")
	_, err = f.svc.AllocateHosts(f.ctx, f.caller, &AllocateHostsInput{InstanceFamily: "m5", AvailabilityZone: "us-east-1a", Quantity: ptr[int32](1),
		TagSpecifications: []TagSpecification{{ResourceType: "dedicated-host", Tags: []Tag{tag("a", "b")}}}})
	wantCode(t, "AllocateHosts with tags, CreateTags denied", err, "AccessDenied", "ec2:CreateTags")
	if len(d.asked) != 3 {
		t.Errorf("authorizer asked %d times, want 3", len(d.asked))
	}
}
