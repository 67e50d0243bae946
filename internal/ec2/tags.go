package ec2

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/allot-dev/allot/internal/authz"
	"github.com/allot-dev/allot/internal/awserr"
	"github.com/allot-dev/allot/internal/identity"
	"github.com/allot-dev/allot/internal/licenseconfig"
	"github.com/allot-dev/allot/internal/store"
)

// Tag error codes, as EC2 names them.
const (
	ErrInvalidTagKeyMalformed = "InvalidTagKey.Malformed"
	ErrTagLimitExceeded       = "TagLimitExceeded"
	ErrInvalidID              = "InvalidID"
)

// Tag limits, as EC2's.
const (
	maxTagKeyLength   = 128
	maxTagValueLength = 256
	maxTagResources   = 1000 // resource IDs of one CreateTags or DeleteTags call
	maxDeleteTags     = 1000 // tags of one DeleteTags call
)

// EC2's names of the resource types tags apply to here.
const (
	TypeInstance      = "instance"
	TypeDedicatedHost = "dedicated-host"
	TypeImage         = "image"
)

// taggableTypes are the resource types EC2 tags (TagSpecification's and DescribeTags'
// resource-type values); only instance, dedicated-host and image exist here.
var taggableTypes = []string{
	"capacity-reservation", "capacity-reservation-fleet", "carrier-gateway", "client-vpn-endpoint", "coip-pool",
	"customer-gateway", "dedicated-host", "dhcp-options", "egress-only-internet-gateway", "elastic-gpu", "elastic-ip",
	"export-image-task", "export-instance-task", "fleet", "fpga-image", "host-reservation", "image", "import-image-task",
	"import-snapshot-task", "instance", "instance-event-window", "internet-gateway", "ipam", "ipam-pool", "ipam-scope",
	"ipv4pool-ec2", "ipv6pool-ec2", "key-pair", "launch-template", "local-gateway", "natgateway", "network-acl",
	"network-insights-analysis", "network-insights-path", "network-interface", "placement-group", "prefix-list",
	"replace-root-volume-task", "reserved-instances", "route-table", "security-group", "security-group-rule", "snapshot",
	"spot-fleet-request", "spot-instances-request", "subnet", "subnet-cidr-reservation", "traffic-mirror-filter",
	"traffic-mirror-session", "traffic-mirror-target", "transit-gateway", "transit-gateway-attachment",
	"transit-gateway-route-table", "volume", "vpc", "vpc-endpoint", "vpc-endpoint-service", "vpc-flow-log",
	"vpc-peering-connection", "vpn-connection", "vpn-gateway",
}

// ec2Type returns EC2's name of an inventory resource type.
func ec2Type(storeType string) string {
	switch storeType {
	case store.ResourceInstance:
		return TypeInstance
	case store.ResourceHost:
		return TypeDedicatedHost
	case store.ResourceImage:
		return TypeImage
	}
	return storeType
}

// storeType returns the inventory's name of an EC2 resource type, "" for one that is not
// recorded here.
func storeType(ec2Type string) string {
	switch ec2Type {
	case TypeInstance:
		return store.ResourceInstance
	case TypeDedicatedHost:
		return store.ResourceHost
	case TypeImage:
		return store.ResourceImage
	}
	return ""
}

// Tag is a tag of a request. A missing Value is an empty one, except in DeleteTags, where it
// means any value.
type Tag struct {
	Key   *string
	Value *string
}

// TagXML is a tag as EC2 describes it.
type TagXML struct {
	Key   string `xml:"key"`
	Value string `xml:"value"`
}

// tagSet returns tags as EC2's tagSet, nil (no element) for none.
func tagSet(tags []store.Tag) []TagXML {
	if len(tags) == 0 {
		return nil
	}
	out := make([]TagXML, len(tags))
	for i, t := range tags {
		out[i] = TagXML{Key: t.Key, Value: t.Value}
	}
	return out
}

// TagSpecification is the tags to give resources of one type as they are created.
type TagSpecification struct {
	ResourceType string
	Tags         []Tag `query:"Tag"`
}

// checkTagKey checks a tag key as EC2 does: 1 to 128 characters, not beginning with "aws:" in
// any case. what names it in messages.
func checkTagKey(key *string, what string) error {
	if key == nil || *key == "" {
		return awserr.New(ErrInvalidTagKeyMalformed, "%s: a tag key cannot be empty or missing.", what)
	}
	if n := utf8.RuneCountInString(*key); n > maxTagKeyLength {
		return invalid("%s: the tag key '%s' is %d characters long; the limit is %d.", what, clipTag(*key), n, maxTagKeyLength)
	}
	if len(*key) >= 4 && strings.EqualFold((*key)[:4], "aws:") {
		return awserr.New(ErrInvalidTagKeyMalformed, "%s: tag keys beginning with 'aws:' are reserved for AWS use, not '%s'.", what, clipTag(*key))
	}
	return nil
}

func clipTag(s string) string {
	if utf8.RuneCountInString(s) <= 40 {
		return s
	}
	return string([]rune(s)[:40]) + "…"
}

// checkTags checks the tags to write to a resource: valid keys, each once, values of at most
// 256 characters, at most 50 tags. what names them in messages ("Tag", "TagSpecification.1").
func checkTags(tags []Tag, what string) ([]store.Tag, error) {
	if len(tags) > store.MaxResourceTags {
		return nil, awserr.New(ErrTagLimitExceeded, "%s has %d tags; a resource may have at most %d.", what, len(tags), store.MaxResourceTags)
	}
	out := make([]store.Tag, 0, len(tags))
	seen := map[string]bool{}
	for i, t := range tags {
		item := fmt.Sprintf("%s.Tag.%d", what, i+1)
		if what == "Tag" {
			item = fmt.Sprintf("Tag.%d", i+1)
		}
		if err := checkTagKey(t.Key, item); err != nil {
			return nil, err
		}
		v := ""
		if t.Value != nil {
			v = *t.Value
		}
		if n := utf8.RuneCountInString(v); n > maxTagValueLength {
			return nil, invalid("%s: the value of tag '%s' is %d characters long; the limit is %d.", item, clipTag(*t.Key), n, maxTagValueLength)
		}
		if seen[*t.Key] {
			return nil, invalid("%s: duplicate tag key '%s': each key may appear once.", item, clipTag(*t.Key))
		}
		seen[*t.Key] = true
		out = append(out, store.Tag{Key: *t.Key, Value: v})
	}
	return out, nil
}

// tagsOnCreate checks the TagSpecification of an action that creates resources of type
// recorded, and returns the tags to give them. ignored are the other types the action takes in
// EC2, whose resources (volumes, snapshots, …) do not exist here: their tags are checked and
// dropped. Any other type, a type given twice or a specification without tags is
// InvalidParameterValue, as in EC2; bad tags are InvalidTagKey.Malformed, TagLimitExceeded or
// InvalidParameterValue.
func tagsOnCreate(specs []TagSpecification, recorded string, ignored ...string) ([]store.Tag, error) {
	var out []store.Tag
	seen := map[string]bool{}
	for i, s := range specs {
		what := fmt.Sprintf("TagSpecification.%d", i+1)
		switch {
		case s.ResourceType == "":
			return nil, missing(what + ".ResourceType")
		case !slices.Contains(taggableTypes, s.ResourceType):
			return nil, invalid("%s: '%s' is not a valid taggable resource type.", what, s.ResourceType)
		case s.ResourceType != recorded && !slices.Contains(ignored, s.ResourceType):
			return nil, invalid("%s: '%s' is not a valid taggable resource type for this operation: it takes %s.",
				what, s.ResourceType, strings.Join(append([]string{recorded}, ignored...), ", "))
		case seen[s.ResourceType]:
			return nil, invalid("%s: the resource type '%s' is given more than once.", what, s.ResourceType)
		case len(s.Tags) == 0:
			return nil, invalid("%s: a tag specification must have at least one tag.", what)
		}
		seen[s.ResourceType] = true
		tags, err := checkTags(s.Tags, what)
		if err != nil {
			return nil, err
		}
		if s.ResourceType == recorded {
			out = tags
		}
	}
	return out, nil
}

// Authorizer decides whether a call is allowed: nil to allow, an AccessDenied *awserr.Error
// naming the cause to deny. *authz.Authorizer is one.
type Authorizer interface {
	Authorize(ctx context.Context, r *authz.Request) error
}

// authorizer returns s.Authz, or one reading s.DB's policies when it is not set.
func (s *Service) authorizer() Authorizer {
	if s.Authz != nil {
		return s.Authz
	}
	s.authzOnce.Do(func() { s.defaultAuthz = authz.New(s.DB, nil) })
	return s.defaultAuthz
}

// authorizeTagOnCreate asks, as EC2 does when an action that creates resources is given tags,
// whether the caller may also perform ec2:CreateTags on each new resource (arns), with the
// condition keys ec2:CreateAction (the action), aws:RequestTag/<key> and aws:TagKeys. A
// denial is answered UnauthorizedOperation and nothing is created.
func (s *Service) authorizeTagOnCreate(ctx context.Context, caller *identity.Principal, action string, arns []string, tags []store.Tag) error {
	if len(tags) == 0 || caller == nil {
		return nil
	}
	c := map[string][]string{"ec2:CreateAction": {action}}
	for _, t := range tags {
		c["aws:RequestTag/"+t.Key] = []string{t.Value}
		c["aws:TagKeys"] = append(c["aws:TagKeys"], t.Key)
	}
	for _, arn := range arns {
		if err := s.authorizer().Authorize(ctx, &authz.Request{Principal: caller, Action: "ec2:CreateTags", Resource: arn, Context: c}); err != nil {
			return err
		}
	}
	return nil
}

// putTags writes tags to resources created in tx.
func putTags(ctx context.Context, tx *store.Tx, tags []store.Tag, arns ...string) error {
	for _, arn := range arns {
		if err := tx.PutResourceTags(ctx, arn, tags); err != nil {
			return err
		}
	}
	return nil
}

// taggedResource is a resource CreateTags or DeleteTags names.
type taggedResource struct {
	id, arn  string
	notFound string // the error code when it does not exist
	kind     string // instance, host, image: for messages
}

// resolveTagged maps resource IDs to the caller's resources by their prefix: i- instances,
// h- Dedicated Hosts, ami- images. Other IDs are InvalidID; malformed ones
// Invalid<Kind>ID.Malformed.
func resolveTagged(region, account string, ids []string) ([]taggedResource, error) {
	out := make([]taggedResource, 0, len(ids))
	for _, id := range ids {
		var r taggedResource
		switch {
		case strings.HasPrefix(id, "i-"):
			if err := checkIDs("InvalidInstanceID", instanceIDPattern, []string{id}); err != nil {
				return nil, err
			}
			r = taggedResource{id, licenseconfig.InstanceARN(region, account, id), "InvalidInstanceID.NotFound", "instance"}
		case strings.HasPrefix(id, "h-"):
			if err := checkIDs("InvalidHostID", hostIDPattern, []string{id}); err != nil {
				return nil, err
			}
			r = taggedResource{id, licenseconfig.HostARN(region, account, id), "InvalidHostID.NotFound", "host"}
		case strings.HasPrefix(id, "ami-"):
			if err := checkIDs("InvalidAMIID", imageIDPattern, []string{id}); err != nil {
				return nil, err
			}
			r = taggedResource{id, licenseconfig.ImageARN(region, id), "InvalidAMIID.NotFound", "image"}
		default:
			return nil, awserr.New(ErrInvalidID, "The ID '%s' is not valid: this server tags instances (i-…), Dedicated Hosts (h-…) and images (ami-…).", id)
		}
		out = append(out, r)
	}
	return out, nil
}

// TagResourceARNs returns the ARNs of the resources CreateTags or DeleteTags name, in the
// caller's account and the request's region, for resource-level permissions; IDs of no
// resource type recorded here are left out.
func TagResourceARNs(ctx context.Context, caller *identity.Principal, ids []string) []string {
	region := licenseconfig.RequestRegion(ctx)
	var out []string
	for _, id := range ids {
		if rs, err := resolveTagged(region, caller.AccountID, []string{id}); err == nil {
			out = append(out, rs[0].arn)
		}
	}
	return out
}

// lockTagged locks a resource of the caller's that CreateTags or DeleteTags names: an
// instance not terminated more than an hour ago, a host (released or not), an available
// image.
func (s *Service) lockTagged(ctx context.Context, tx *store.Tx, caller *identity.Principal, t taggedResource) error {
	r, err := tx.LockResource(ctx, t.arn)
	if isNotFound(err) || err == nil && (r.AccountID != caller.AccountID || s.longGone(r) || r.Type == store.ResourceImage && r.State != ImageAvailable) {
		return awserr.New(t.notFound, "The %s ID '%s' does not exist", t.kind, t.id)
	}
	return err
}

func checkTagResources(ids []string) error {
	if len(ids) == 0 {
		return missing("ResourceId")
	}
	if len(ids) > maxTagResources {
		return invalid("At most %d resource IDs per call, not %d.", maxTagResources, len(ids))
	}
	return nil
}

// CreateTagsInput is the input of CreateTags.
type CreateTagsInput struct {
	ResourceIDs []string `query:"ResourceId"`
	Tags        []Tag    `query:"Tag"`
	DryRun      *bool
}

// ReturnOutput is the output of EC2 actions that answer only <return>true</return>.
type ReturnOutput struct {
	Return bool `xml:"return"`
}

// CreateTags adds or overwrites tags of the caller's instances, Dedicated Hosts and images,
// all or none. Keys are case-sensitive, 1 to 128 characters, not beginning with "aws:"; values
// at most 256 characters (a missing one is empty); a resource has at most 50 tags. Errors:
// MissingParameter, InvalidID, Invalid{Instance,Host,AMI}ID.Malformed and .NotFound,
// InvalidTagKey.Malformed, InvalidParameterValue, TagLimitExceeded, DryRunOperation.
func (s *Service) CreateTags(ctx context.Context, caller *identity.Principal, in *CreateTagsInput) (*ReturnOutput, error) {
	if err := checkTagResources(in.ResourceIDs); err != nil {
		return nil, err
	}
	if len(in.Tags) == 0 {
		return nil, missing("Tag")
	}
	tags, err := checkTags(in.Tags, "Tag")
	if err != nil {
		return nil, err
	}
	region := licenseconfig.RequestRegion(ctx)
	rs, err := resolveTagged(region, caller.AccountID, in.ResourceIDs)
	if err != nil {
		return nil, err
	}
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	out, err := store.Apply(ctx, s.DB, func(tx *store.Tx) (*ReturnOutput, error) {
		for _, r := range rs {
			if err := s.lockTagged(ctx, tx, caller, r); err != nil {
				return nil, err
			}
			err := tx.PutResourceTags(ctx, r.arn, tags)
			if isLimit(err) {
				return nil, awserr.New(ErrTagLimitExceeded, "The maximum number of tags for %s (%d) would be exceeded.", r.id, store.MaxResourceTags)
			}
			if err != nil {
				return nil, err
			}
		}
		return &ReturnOutput{Return: true}, nil
	})
	return out, wrap("CreateTags", err)
}

// DeleteTagsInput is the input of DeleteTags.
type DeleteTagsInput struct {
	ResourceIDs []string `query:"ResourceId"`
	Tags        []Tag    `query:"Tag"`
	DryRun      *bool
}

// DeleteTags deletes tags of the caller's instances, Dedicated Hosts and images, all or none:
// a tag named by key only goes whatever its value; by key and value (an empty value too), only
// with that value. Without Tag.N, every tag of the resources goes. Tags a resource does not
// have are ignored. Errors: MissingParameter, InvalidID, Invalid{Instance,Host,AMI}ID.Malformed
// and .NotFound, InvalidTagKey.Malformed, InvalidParameterValue, DryRunOperation.
func (s *Service) DeleteTags(ctx context.Context, caller *identity.Principal, in *DeleteTagsInput) (*ReturnOutput, error) {
	if err := checkTagResources(in.ResourceIDs); err != nil {
		return nil, err
	}
	if len(in.Tags) > maxDeleteTags {
		return nil, invalid("At most %d tags per call, not %d.", maxDeleteTags, len(in.Tags))
	}
	var matches []store.TagMatch
	for i, t := range in.Tags {
		if err := checkTagKey(t.Key, fmt.Sprintf("Tag.%d", i+1)); err != nil {
			return nil, err
		}
		matches = append(matches, store.TagMatch{Key: *t.Key, Value: t.Value})
	}
	region := licenseconfig.RequestRegion(ctx)
	rs, err := resolveTagged(region, caller.AccountID, in.ResourceIDs)
	if err != nil {
		return nil, err
	}
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	out, err := store.Apply(ctx, s.DB, func(tx *store.Tx) (*ReturnOutput, error) {
		for _, r := range rs {
			if err := s.lockTagged(ctx, tx, caller, r); err != nil {
				return nil, err
			}
			if err := tx.DeleteResourceTags(ctx, r.arn, matches); err != nil {
				return nil, err
			}
		}
		return &ReturnOutput{Return: true}, nil
	})
	return out, wrap("DeleteTags", err)
}

// DescribeTagsInput is the input of DescribeTags.
type DescribeTagsInput struct {
	Filters    []Filter `query:"Filter"`
	MaxResults *int32
	NextToken  *string
	DryRun     *bool
}

// TagDescription is one tag of one resource.
type TagDescription struct {
	Key          string `xml:"key"`
	ResourceID   string `xml:"resourceId"`
	ResourceType string `xml:"resourceType"`
	Value        string `xml:"value"`
}

// DescribeTagsOutput is the output of DescribeTags.
type DescribeTagsOutput struct {
	Tags      []TagDescription `xml:"tagSet>item"`
	NextToken *string          `xml:"nextToken"`
}

// DescribeTags lists the tags of the caller's instances (those DescribeInstances shows),
// Dedicated Hosts and available images in the request's region, in resource ID and key order,
// in pages of 5 to 1000. Filters, each any of its values: key, value, resource-id,
// resource-type (instance, dedicated-host, image; EC2's other types match nothing here),
// tag:<key>. Values match exactly (no wildcards). Errors: InvalidParameterValue,
// InvalidPaginationToken, DryRunOperation.
func (s *Service) DescribeTags(ctx context.Context, caller *identity.Principal, in *DescribeTagsInput) (*DescribeTagsOutput, error) {
	fs, err := filters(in.Filters, "key", "value", "resource-id", "resource-type", "tag:<key>")
	if err != nil {
		return nil, err
	}
	limit, after, err := page(in.MaxResults, in.NextToken, 5)
	if err != nil {
		return nil, err
	}
	afterID, afterKey, _ := strings.Cut(after, "\x00")
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	out := &DescribeTagsOutput{Tags: []TagDescription{}}
	var types []string
	for _, t := range fs["resource-type"] {
		if st := storeType(t); st != "" {
			types = append(types, st)
		}
	}
	if len(fs["resource-type"]) > 0 && len(types) == 0 {
		return out, nil // only types that do not exist here
	}
	q := store.ResourceTagQuery{AccountID: caller.AccountID, Region: licenseconfig.RequestRegion(ctx), Types: types,
		ResourceIDs: fs["resource-id"], Keys: fs["key"], Values: fs["value"], Tags: tagFilters(fs),
		ExcludeStates: []string{ImageDeregistered}, TerminatedSince: s.now().Add(-TerminatedVisibility),
		AfterID: afterID, AfterKey: afterKey, Limit: limit + 1}
	return store.Read(ctx, s.DB, func(tx *store.Tx) (*DescribeTagsOutput, error) {
		ts, err := tx.ListResourceTags(ctx, q)
		if err != nil {
			return nil, wrap("DescribeTags", err)
		}
		if len(ts) > limit {
			ts = ts[:limit]
			out.NextToken = nextToken(ts[limit-1].ResourceID + "\x00" + ts[limit-1].Key)
		}
		for _, t := range ts {
			out.Tags = append(out.Tags, TagDescription{Key: t.Key, ResourceID: t.ResourceID, ResourceType: ec2Type(t.ResourceType), Value: t.Value})
		}
		return out, nil
	})
}

// tagFilters returns the tag:<key> and tag-key filters of fs.
func tagFilters(fs map[string][]string) []store.TagFilter {
	var out []store.TagFilter
	for name, values := range fs {
		if key, ok := strings.CutPrefix(name, "tag:"); ok {
			out = append(out, store.TagFilter{Keys: []string{key}, Values: values})
		}
	}
	if keys := fs["tag-key"]; len(keys) > 0 {
		out = append(out, store.TagFilter{Keys: keys})
	}
	return out
}

// resourceTags returns the tags of resources, by ARN.
func resourceTags(ctx context.Context, tx *store.Tx, rs []*store.Resource) (map[string][]store.Tag, error) {
	arns := make([]string, len(rs))
	for i, r := range rs {
		arns[i] = r.ARN
	}
	return tx.ResourceTags(ctx, arns)
}
