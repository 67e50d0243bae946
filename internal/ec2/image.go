package ec2

import (
	"context"
	"time"

	"github.com/allot-dev/allot/internal/awserr"
	"github.com/allot-dev/allot/internal/identity"
	"github.com/allot-dev/allot/internal/licenseconfig"
	"github.com/allot-dev/allot/internal/store"
)

// Image states.
const (
	ImageAvailable    = "available"
	ImageDeregistered = "deregistered"
)

// defaultPlatform is the platform of every image registered here (EC2's PlatformDetails).
const defaultPlatform = "Linux/UNIX"

// BlockDeviceMapping is accepted and not kept: images here have no storage.
type BlockDeviceMapping struct {
	DeviceName  string
	VirtualName string
	NoDevice    string
	Ebs         *struct {
		DeleteOnTermination *bool
		Encrypted           *bool
		Iops                *int32
		KmsKeyId            string
		SnapshotId          string
		Throughput          *int32
		VolumeSize          *int32
		VolumeType          string
	}
}

// RegisterImageInput is the input of RegisterImage.
type RegisterImageInput struct {
	Name                string
	Description         string
	Architecture        string
	ImageLocation       string
	RootDeviceName      string
	VirtualizationType  string
	EnaSupport          *bool
	SriovNetSupport     string
	BootMode            string
	BlockDeviceMappings []BlockDeviceMapping `query:"BlockDeviceMapping"`
	TagSpecifications   []TagSpecification   `query:"TagSpecification"`
	DryRun              *bool
}

// ImageIDOutput is the output of RegisterImage and CreateImage.
type ImageIDOutput struct {
	ImageID string `xml:"imageId"`
}

func checkImageName(name string) error {
	if name == "" {
		return missing("Name")
	}
	if len(name) < 3 || len(name) > 128 {
		return invalid("AMI names must be between 3 and 128 characters long, not %d.", len(name))
	}
	return nil
}

// addImage stores an image of the caller's with its tags.
func (s *Service) addImage(ctx context.Context, tx *store.Tx, caller *identity.Principal, region, id, name, description, arch string, tags []store.Tag) error {
	now := tx.Now()
	arn := licenseconfig.ImageARN(region, id)
	if err := tx.AddResource(ctx, &store.Resource{
		ARN: arn, ID: id, Type: store.ResourceImage, AccountID: caller.AccountID, Region: region,
		State: ImageAvailable, Platform: defaultPlatform, Architecture: arch, Name: name, Description: description,
		CreatedAt: now, UpdatedAt: now, LastSeenAt: now,
	}); err != nil {
		return err
	}
	return putTags(ctx, tx, tags, arn)
}

// RegisterImage registers an image (AMI) of the caller's, to launch instances from and to
// associate license configurations with. TagSpecification (resource type image) tags it in
// the same transaction, with ec2:CreateTags allowed too. Errors: MissingParameter,
// InvalidParameterValue, InvalidTagKey.Malformed, TagLimitExceeded, UnauthorizedOperation.
func (s *Service) RegisterImage(ctx context.Context, caller *identity.Principal, in *RegisterImageInput) (*ImageIDOutput, error) {
	if err := checkImageName(in.Name); err != nil {
		return nil, err
	}
	arch := in.Architecture
	switch arch {
	case "":
		arch = "x86_64"
	case "x86_64", "arm64", "i386", "x86_64_mac", "arm64_mac":
	default:
		return nil, invalid("Invalid value '%s' for Architecture.", in.Architecture)
	}
	tags, err := tagsOnCreate(in.TagSpecifications, TypeImage)
	if err != nil {
		return nil, err
	}
	region := licenseconfig.RequestRegion(ctx)
	id := newID("ami")
	if err := s.authorizeTagOnCreate(ctx, caller, "RegisterImage", []string{licenseconfig.ImageARN(region, id)}, tags); err != nil {
		return nil, err
	}
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	out, err := store.Apply(ctx, s.DB, func(tx *store.Tx) (*ImageIDOutput, error) {
		if err := s.addImage(ctx, tx, caller, region, id, in.Name, in.Description, arch, tags); err != nil {
			return nil, err
		}
		return &ImageIDOutput{ImageID: id}, nil
	})
	return out, wrap("RegisterImage", err)
}

// CreateImageInput is the input of CreateImage.
type CreateImageInput struct {
	InstanceID          string `query:"InstanceId"`
	Name                string
	Description         string
	NoReboot            *bool
	BlockDeviceMappings []BlockDeviceMapping `query:"BlockDeviceMapping"`
	TagSpecifications   []TagSpecification   `query:"TagSpecification"`
	DryRun              *bool
}

// CreateImage makes an image from an instance of the caller's, with the instance's platform
// and architecture. The instance's license configurations are not carried over: associate
// them with the image. TagSpecification tags the image (resource type image) in the same
// transaction, with ec2:CreateTags allowed too; tags for snapshot are checked and dropped, as
// images here have no snapshots. Errors: MissingParameter, InvalidParameterValue,
// InvalidInstanceID.*, InvalidTagKey.Malformed, TagLimitExceeded, UnauthorizedOperation.
func (s *Service) CreateImage(ctx context.Context, caller *identity.Principal, in *CreateImageInput) (*ImageIDOutput, error) {
	if in.InstanceID == "" {
		return nil, missing("InstanceId")
	}
	if err := checkIDs("InvalidInstanceID", instanceIDPattern, []string{in.InstanceID}); err != nil {
		return nil, err
	}
	if err := checkImageName(in.Name); err != nil {
		return nil, err
	}
	tags, err := tagsOnCreate(in.TagSpecifications, TypeImage, "snapshot")
	if err != nil {
		return nil, err
	}
	region := licenseconfig.RequestRegion(ctx)
	id := newID("ami")
	if err := s.authorizeTagOnCreate(ctx, caller, "CreateImage", []string{licenseconfig.ImageARN(region, id)}, tags); err != nil {
		return nil, err
	}
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	out, err := store.Apply(ctx, s.DB, func(tx *store.Tx) (*ImageIDOutput, error) {
		r, err := tx.Resource(ctx, licenseconfig.InstanceARN(region, caller.AccountID, in.InstanceID))
		if isNotFound(err) {
			return nil, awserr.New("InvalidInstanceID.NotFound", "The instance ID '%s' does not exist", in.InstanceID)
		}
		if err != nil {
			return nil, err
		}
		if r.State == StateTerminated || r.State == StateShuttingDown {
			return nil, awserr.New(ErrIncorrectInstanceState, "The instance '%s' is %s.", r.ID, r.State)
		}
		if err := s.addImage(ctx, tx, caller, region, id, in.Name, in.Description, r.Architecture, tags); err != nil {
			return nil, err
		}
		return &ImageIDOutput{ImageID: id}, nil
	})
	return out, wrap("CreateImage", err)
}

// DescribeImagesInput is the input of DescribeImages.
type DescribeImagesInput struct {
	ImageIDs          []string `query:"ImageId"`
	Owners            []string `query:"Owner"`
	ExecutableUsers   []string `query:"ExecutableBy"`
	Filters           []Filter `query:"Filter"`
	IncludeDeprecated *bool
	IncludeDisabled   *bool
	MaxResults        *int32
	NextToken         *string
	DryRun            *bool
}

// Image is an image as EC2 describes it.
type Image struct {
	ImageID            string     `xml:"imageId"`
	ImageLocation      string     `xml:"imageLocation"`
	ImageState         string     `xml:"imageState"`
	ImageOwnerID       string     `xml:"imageOwnerId"`
	CreationDate       time.Time  `xml:"creationDate"`
	IsPublic           bool       `xml:"isPublic"`
	Architecture       string     `xml:"architecture"`
	ImageType          string     `xml:"imageType"`
	Name               string     `xml:"name"`
	Description        string     `xml:"description,omitempty"`
	RootDeviceType     string     `xml:"rootDeviceType"`
	VirtualizationType string     `xml:"virtualizationType"`
	Hypervisor         string     `xml:"hypervisor"`
	PlatformDetails    string     `xml:"platformDetails"`
	UsageOperation     string     `xml:"usageOperation"`
	BlockDeviceMapping []struct{} `xml:"blockDeviceMapping>item"`
	Tags               []TagXML   `xml:"tagSet>item,omitempty"`
}

// DescribeImagesOutput is the output of DescribeImages.
type DescribeImagesOutput struct {
	Images    []Image `xml:"imagesSet>item"`
	NextToken *string `xml:"nextToken"`
}

// DescribeImages describes the caller's available images (those named, or all); Owner may be
// self or the caller's account ID. Filters: state, tag:<key>, tag-key (values match exactly).
// Errors: InvalidAMIID.*, InvalidParameterValue.
func (s *Service) DescribeImages(ctx context.Context, caller *identity.Principal, in *DescribeImagesInput) (*DescribeImagesOutput, error) {
	if err := checkIDs("InvalidAMIID", imageIDPattern, in.ImageIDs); err != nil {
		return nil, err
	}
	for _, o := range in.Owners {
		if o != "self" && o != caller.AccountID {
			return &DescribeImagesOutput{Images: []Image{}}, nil // only the caller's images exist here
		}
	}
	fs, err := filters(in.Filters, "state", "tag:<key>", "tag-key")
	if err != nil {
		return nil, err
	}
	states := fs["state"]
	if len(states) == 0 {
		states = []string{ImageAvailable}
	}
	limit, after, err := page(in.MaxResults, in.NextToken, 5)
	if err != nil {
		return nil, err
	}
	region := licenseconfig.RequestRegion(ctx)
	out, err := store.Read(ctx, s.DB, func(tx *store.Tx) (*DescribeImagesOutput, error) {
		rs, err := tx.Resources(ctx, store.ResourceQuery{AccountID: caller.AccountID, Region: region, Types: []string{store.ResourceImage},
			IDs: in.ImageIDs, States: states, Tags: tagFilters(fs), After: after, Limit: limit + 1})
		if err != nil {
			return nil, err
		}
		out := &DescribeImagesOutput{Images: []Image{}}
		if len(rs) > limit {
			rs = rs[:limit]
			out.NextToken = nextToken(rs[limit-1].ID)
		}
		tags, err := resourceTags(ctx, tx, rs)
		if err != nil {
			return nil, err
		}
		for _, r := range rs {
			out.Images = append(out.Images, Image{
				ImageID: r.ID, ImageLocation: r.AccountID + "/" + r.Name, ImageState: r.State, ImageOwnerID: r.AccountID, CreationDate: r.CreatedAt,
				Architecture: r.Architecture, ImageType: "machine", Name: r.Name, Description: r.Description, RootDeviceType: "ebs",
				VirtualizationType: "hvm", Hypervisor: "xen", PlatformDetails: r.Platform, UsageOperation: "RunInstances",
				BlockDeviceMapping: []struct{}{}, Tags: tagSet(tags[r.ARN]),
			})
		}
		return out, nil
	})
	return out, wrap("DescribeImages", err)
}

// DeregisterImageInput is the input of DeregisterImage.
type DeregisterImageInput struct {
	ImageID                   string `query:"ImageId"`
	DeleteAssociatedSnapshots *bool
	DryRun                    *bool
}

// DeregisterImageOutput is the output of DeregisterImage.
type DeregisterImageOutput struct {
	Return bool `xml:"return"`
}

// DeregisterImage deregisters an image of the caller's; its license associations go with it
// (instances launched from it keep theirs). Errors: MissingParameter, InvalidAMIID.*.
func (s *Service) DeregisterImage(ctx context.Context, caller *identity.Principal, in *DeregisterImageInput) (*DeregisterImageOutput, error) {
	if in.ImageID == "" {
		return nil, missing("ImageId")
	}
	if err := checkIDs("InvalidAMIID", imageIDPattern, []string{in.ImageID}); err != nil {
		return nil, err
	}
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	region := licenseconfig.RequestRegion(ctx)
	out, err := store.Apply(ctx, s.DB, func(tx *store.Tx) (*DeregisterImageOutput, error) {
		r, err := tx.LockResource(ctx, licenseconfig.ImageARN(region, in.ImageID))
		if isNotFound(err) || err == nil && (r.AccountID != caller.AccountID || r.State != ImageAvailable) {
			return nil, awserr.New("InvalidAMIID.NotFound", "The image id '[%s]' does not exist", in.ImageID)
		}
		if err != nil {
			return nil, err
		}
		if _, err := tx.SetResourceState(ctx, r.ARN, []string{ImageAvailable}, ImageDeregistered, tx.Now()); err != nil {
			return nil, err
		}
		if err := s.Licenses.Release(ctx, tx, r, true); err != nil {
			return nil, err
		}
		return &DeregisterImageOutput{Return: true}, nil
	})
	return out, wrap("DeregisterImage", err)
}
