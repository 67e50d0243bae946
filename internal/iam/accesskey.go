package iam

import (
	"context"

	"github.com/allot-dev/allot/internal/awserr"
	"github.com/allot-dev/allot/internal/identity"
	"github.com/allot-dev/allot/internal/store"
)

// Access key statuses.
const (
	StatusActive   = "Active"
	StatusInactive = "Inactive"
)

// keyOwner is whose long-term access keys an operation acts on: an IAM user, or the root user
// of the caller's account.
type keyOwner struct {
	kind     identity.Kind
	userName string // the user's name as stored; "" for root
}

// keyOwnerOf resolves the optional UserName of an access key operation: without it, the
// caller's own keys (an IAM user's, or root's).
func keyOwnerOf(ctx context.Context, tx *store.Tx, caller *identity.Principal, userName string) (keyOwner, error) {
	if userName == "" {
		switch caller.Kind {
		case identity.KindRoot:
			return keyOwner{kind: identity.KindRoot}, nil
		case identity.KindIAMUser:
			userName = caller.UserName
		default:
			return keyOwner{}, awserr.New(ErrValidation, "Must specify userName when calling with non-User credentials")
		}
	}
	u, err := tx.User(ctx, caller.AccountID, userName)
	if is(err, store.ErrNotFound) {
		return keyOwner{}, noSuchUser(userName)
	}
	if err != nil {
		return keyOwner{}, err
	}
	return keyOwner{kind: identity.KindIAMUser, userName: u.Name}, nil
}

// owns reports whether k is one of the owner's keys in the account.
func (o keyOwner) owns(accountID string, k *store.AccessKey) bool {
	return k.AccountID == accountID && k.Kind == o.kind && k.UserName == o.userName
}

// checkOptionalUserName checks the optional UserName of access key operations.
func checkOptionalUserName(v string) error {
	if v == "" {
		return nil
	}
	return checkName("userName", v, 128)
}

// CreateAccessKeyInput is the input of CreateAccessKey.
type CreateAccessKeyInput struct {
	UserName string `json:",omitempty"`
}

// CreateAccessKeyOutput is the output of CreateAccessKey; the only time the secret is shown.
type CreateAccessKeyOutput struct {
	AccessKey *AccessKey
}

// CreateAccessKey creates an active long-term access key (AKIA…) for a user, or without
// UserName for the caller: an IAM user's own key, or a root key for the root user. Each user
// (and root) has at most two. Errors: NoSuchEntity, LimitExceeded, ValidationError.
func (s *Service) CreateAccessKey(ctx context.Context, caller *identity.Principal, in *CreateAccessKeyInput) (*CreateAccessKeyOutput, error) {
	if err := checkOptionalUserName(in.UserName); err != nil {
		return nil, err
	}
	return store.Apply(ctx, s.DB, func(tx *store.Tx) (*CreateAccessKeyOutput, error) {
		owner, err := keyOwnerOf(ctx, tx, caller, in.UserName)
		if err != nil {
			return nil, err
		}
		k := &store.AccessKey{
			ID: identity.NewAccessKeyID(identity.LongTermKeyPrefix), AccountID: caller.AccountID,
			Kind: owner.kind, UserName: owner.userName, Secret: identity.NewSecretAccessKey(),
			Status: StatusActive, CreatedAt: tx.Now(),
		}
		err = tx.AddAccessKey(ctx, k)
		switch {
		case is(err, store.ErrLimitExceeded):
			return nil, awserr.New(ErrLimitExceeded, "Cannot exceed quota for AccessKeysPerUser: %d", store.MaxAccessKeys)
		case is(err, store.ErrNotFound):
			return nil, noSuchUser(in.UserName)
		case err != nil:
			return nil, err
		}
		return &CreateAccessKeyOutput{AccessKey: &AccessKey{
			UserName: k.UserName, AccessKeyID: k.ID, Status: k.Status, SecretAccessKey: k.Secret, CreateDate: seconds(k.CreatedAt),
		}}, nil
	})
}

// ListAccessKeysInput is the input of ListAccessKeys.
type ListAccessKeysInput struct {
	UserName string `json:",omitempty"`
	Marker   string `json:",omitempty"`
	MaxItems *int32 `json:",omitempty"`
}

// ListAccessKeysOutput is the output of ListAccessKeys.
type ListAccessKeysOutput struct {
	AccessKeyMetadata []AccessKeyMetadata
	IsTruncated       bool
	Marker            string `xml:",omitempty" json:",omitempty"`
}

// ListAccessKeys returns the access keys of a user, or without UserName the caller's own,
// oldest first, without secrets. Errors: NoSuchEntity, ValidationError, InvalidInput (Marker).
func (s *Service) ListAccessKeys(ctx context.Context, caller *identity.Principal, in *ListAccessKeysInput) (*ListAccessKeysOutput, error) {
	if err := checkOptionalUserName(in.UserName); err != nil {
		return nil, err
	}
	p, err := readPage("ListAccessKeys", in.MaxItems, in.Marker)
	if err != nil {
		return nil, err
	}
	return store.Read(ctx, s.DB, func(tx *store.Tx) (*ListAccessKeysOutput, error) {
		owner, err := keyOwnerOf(ctx, tx, caller, in.UserName)
		if err != nil {
			return nil, err
		}
		keys, err := tx.AccessKeys(ctx, caller.AccountID, owner.kind, owner.userName)
		if err != nil {
			return nil, err
		}
		items, truncated, next := pageOf(p, keys)
		out := &ListAccessKeysOutput{AccessKeyMetadata: make([]AccessKeyMetadata, 0, len(items)), IsTruncated: truncated, Marker: next}
		for _, k := range items {
			out.AccessKeyMetadata = append(out.AccessKeyMetadata, AccessKeyMetadata{
				UserName: k.UserName, AccessKeyID: k.ID, Status: k.Status, CreateDate: seconds(k.CreatedAt),
			})
		}
		return out, nil
	})
}

// UpdateAccessKeyInput is the input of UpdateAccessKey.
type UpdateAccessKeyInput struct {
	UserName    string `json:",omitempty"`
	AccessKeyID string `query:"AccessKeyId" json:"AccessKeyId"`
	Status      string
}

// UpdateAccessKey makes an access key of a user (or of the caller) Active or Inactive; an
// inactive key no longer authenticates requests. Errors: NoSuchEntity, ValidationError,
// InvalidInput.
func (s *Service) UpdateAccessKey(ctx context.Context, caller *identity.Principal, in *UpdateAccessKeyInput) (*Empty, error) {
	if err := checkOptionalUserName(in.UserName); err != nil {
		return nil, err
	}
	if err := checkAccessKeyID("accessKeyId", in.AccessKeyID); err != nil {
		return nil, err
	}
	switch in.Status {
	case StatusActive, StatusInactive:
	case "":
		return nil, missing("status")
	case "Expired":
		return nil, awserr.New(ErrInvalidInput, "Status of an access key can be set to Active or Inactive, not Expired.")
	default:
		return nil, invalid("status", in.Status, "Member must satisfy enum value set: [Active, Expired, Inactive]")
	}
	return store.Apply(ctx, s.DB, func(tx *store.Tx) (*Empty, error) {
		if err := ownedKey(ctx, tx, caller, in.UserName, in.AccessKeyID); err != nil {
			return nil, err
		}
		if err := tx.SetAccessKeyStatus(ctx, in.AccessKeyID, in.Status); err != nil {
			return nil, err
		}
		return &Empty{}, nil
	})
}

// ownedKey checks that an access key belongs to the user named (or to the caller).
func ownedKey(ctx context.Context, tx *store.Tx, caller *identity.Principal, userName, id string) error {
	owner, err := keyOwnerOf(ctx, tx, caller, userName)
	if err != nil {
		return err
	}
	k, err := tx.AccessKey(ctx, id)
	if is(err, store.ErrNotFound) || err == nil && !owner.owns(caller.AccountID, k) {
		return noSuchAccessKey(id)
	}
	return err
}

// DeleteAccessKeyInput is the input of DeleteAccessKey.
type DeleteAccessKeyInput struct {
	UserName    string `json:",omitempty"`
	AccessKeyID string `query:"AccessKeyId" json:"AccessKeyId"`
}

// DeleteAccessKey deletes an access key of a user (or of the caller). Errors: NoSuchEntity,
// ValidationError.
func (s *Service) DeleteAccessKey(ctx context.Context, caller *identity.Principal, in *DeleteAccessKeyInput) (*Empty, error) {
	if err := checkOptionalUserName(in.UserName); err != nil {
		return nil, err
	}
	if err := checkAccessKeyID("accessKeyId", in.AccessKeyID); err != nil {
		return nil, err
	}
	return store.Apply(ctx, s.DB, func(tx *store.Tx) (*Empty, error) {
		if err := ownedKey(ctx, tx, caller, in.UserName, in.AccessKeyID); err != nil {
			return nil, err
		}
		if err := tx.DeleteAccessKey(ctx, in.AccessKeyID); err != nil {
			return nil, err
		}
		return &Empty{}, nil
	})
}
