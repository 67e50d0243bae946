package organizations

import (
	"context"
	"errors"

	"github.com/allot-dev/allot/internal/awserr"
	"github.com/allot-dev/allot/internal/identity"
	"github.com/allot-dev/allot/internal/store"
)

// CreateOrganizationalUnitInput is the input of CreateOrganizationalUnit.
type CreateOrganizationalUnitInput struct {
	ParentID string `json:"ParentId"`
	Name     string
	Tags     []Tag `json:",omitempty"`
}

// OrganizationalUnitOutput is the output of CreateOrganizationalUnit,
// DescribeOrganizationalUnit and UpdateOrganizationalUnit.
type OrganizationalUnitOutput struct {
	OrganizationalUnit *OrganizationalUnit
}

// CreateOrganizationalUnit creates an OU under a root or OU (at most five deep); when SCPs are
// enabled it gets FullAWSAccess, as in AWS. Errors: AWSOrganizationsNotInUseException,
// AccessDeniedException, ParentNotFoundException, DuplicateOrganizationalUnitException,
// ConstraintViolationException (OU_DEPTH_LIMIT_EXCEEDED, OU_NUMBER_LIMIT_EXCEEDED, tags),
// InvalidInputException.
func (s *Service) CreateOrganizationalUnit(ctx context.Context, caller *identity.Principal, in *CreateOrganizationalUnitInput) (*OrganizationalUnitOutput, error) {
	if err := checkTargetID("ParentId", in.ParentID, parentIDPattern); err != nil {
		return nil, err
	}
	if err := checkString("Name", in.Name, true, 1, 128, nil); err != nil {
		return nil, err
	}
	tags, err := checkTags("Tags", in.Tags)
	if err != nil {
		return nil, err
	}
	return store.Apply(ctx, s.DB, func(tx *store.Tx) (*OrganizationalUnitOutput, error) {
		o, err := managed(ctx, tx, caller, "CreateOrganizationalUnit", true)
		if err != nil {
			return nil, err
		}
		if err := checkParent(ctx, tx, o, in.ParentID, ErrParentNotFound); err != nil {
			return nil, err
		}
		u := &store.OrganizationalUnit{ID: newOUID(o.RootID), OrgID: o.ID, ParentID: in.ParentID, Name: in.Name, CreatedAt: tx.Now()}
		err = tx.CreateOrganizationalUnit(ctx, u)
		switch {
		case errors.Is(err, store.ErrConflict):
			return nil, duplicateOU(in.Name)
		case errors.Is(err, store.ErrLimitExceeded):
			if chain, cerr := tx.OUChain(ctx, o.ID, in.ParentID); cerr == nil && len(chain) >= store.MaxOUDepth {
				return nil, constraint(ReasonOUDepthLimit, "You attempted to create an OU tree that is too many levels deep: OUs can be nested %d deep.", store.MaxOUDepth)
			}
			return nil, constraint(ReasonOUNumberLimit, "You attempted to exceed the number of OUs that you can have in an organization (%d).", store.MaxOUs)
		case err != nil:
			return nil, err
		}
		if err := tx.PutOrgTags(ctx, u.ID, tags); err != nil {
			return nil, err
		}
		if o.SCPsEnabled() {
			if err := tx.AttachOrgPolicy(ctx, o.ID, store.FullAWSAccessID, u.ID); err != nil {
				return nil, err
			}
		}
		return &OrganizationalUnitOutput{OrganizationalUnit: ouOf(o, u)}, nil
	})
}

func duplicateOU(name string) error {
	return awserr.New(ErrDuplicateOU, "An OU with the same name %q already exists in the parent.", name)
}

func ouNotFound(id string) error {
	return awserr.New(ErrOUNotFound, "We can't find an OU with the OrganizationalUnitId %s.", id)
}

// DescribeOrganizationalUnitInput is the input of DescribeOrganizationalUnit.
type DescribeOrganizationalUnitInput struct {
	OrganizationalUnitID string `json:"OrganizationalUnitId"`
}

// DescribeOrganizationalUnit returns an OU. Errors: AWSOrganizationsNotInUseException,
// AccessDeniedException, OrganizationalUnitNotFoundException, InvalidInputException.
func (s *Service) DescribeOrganizationalUnit(ctx context.Context, caller *identity.Principal, in *DescribeOrganizationalUnitInput) (*OrganizationalUnitOutput, error) {
	if err := checkTargetID("OrganizationalUnitId", in.OrganizationalUnitID, ouIDPattern); err != nil {
		return nil, err
	}
	var out *OrganizationalUnitOutput
	err := s.readManaged(ctx, caller, "DescribeOrganizationalUnit", func(tx *store.Tx, o *store.Organization) error {
		u, err := tx.OrganizationalUnit(ctx, o.ID, in.OrganizationalUnitID)
		if errors.Is(err, store.ErrNotFound) {
			return ouNotFound(in.OrganizationalUnitID)
		}
		if err != nil {
			return err
		}
		out = &OrganizationalUnitOutput{OrganizationalUnit: ouOf(o, u)}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// UpdateOrganizationalUnitInput is the input of UpdateOrganizationalUnit.
type UpdateOrganizationalUnitInput struct {
	OrganizationalUnitID string `json:"OrganizationalUnitId"`
	Name                 string `json:",omitempty"`
}

// UpdateOrganizationalUnit renames an OU. Errors: AWSOrganizationsNotInUseException,
// AccessDeniedException, OrganizationalUnitNotFoundException,
// DuplicateOrganizationalUnitException, InvalidInputException.
func (s *Service) UpdateOrganizationalUnit(ctx context.Context, caller *identity.Principal, in *UpdateOrganizationalUnitInput) (*OrganizationalUnitOutput, error) {
	if err := checkTargetID("OrganizationalUnitId", in.OrganizationalUnitID, ouIDPattern); err != nil {
		return nil, err
	}
	if err := checkString("Name", in.Name, false, 1, 128, nil); err != nil {
		return nil, err
	}
	return store.Apply(ctx, s.DB, func(tx *store.Tx) (*OrganizationalUnitOutput, error) {
		o, err := managed(ctx, tx, caller, "UpdateOrganizationalUnit", true)
		if err != nil {
			return nil, err
		}
		if in.Name != "" {
			err = tx.RenameOrganizationalUnit(ctx, o.ID, in.OrganizationalUnitID, in.Name)
			switch {
			case errors.Is(err, store.ErrNotFound):
				return nil, ouNotFound(in.OrganizationalUnitID)
			case errors.Is(err, store.ErrConflict):
				return nil, duplicateOU(in.Name)
			case err != nil:
				return nil, err
			}
		}
		u, err := tx.OrganizationalUnit(ctx, o.ID, in.OrganizationalUnitID)
		if errors.Is(err, store.ErrNotFound) {
			return nil, ouNotFound(in.OrganizationalUnitID)
		}
		if err != nil {
			return nil, err
		}
		return &OrganizationalUnitOutput{OrganizationalUnit: ouOf(o, u)}, nil
	})
}

// DeleteOrganizationalUnitInput is the input of DeleteOrganizationalUnit.
type DeleteOrganizationalUnitInput struct {
	OrganizationalUnitID string `json:"OrganizationalUnitId"`
}

// DeleteOrganizationalUnit deletes an empty OU. Errors: AWSOrganizationsNotInUseException,
// AccessDeniedException, OrganizationalUnitNotFoundException,
// OrganizationalUnitNotEmptyException, InvalidInputException.
func (s *Service) DeleteOrganizationalUnit(ctx context.Context, caller *identity.Principal, in *DeleteOrganizationalUnitInput) (*Empty, error) {
	if err := checkTargetID("OrganizationalUnitId", in.OrganizationalUnitID, ouIDPattern); err != nil {
		return nil, err
	}
	return store.Apply(ctx, s.DB, func(tx *store.Tx) (*Empty, error) {
		o, err := managed(ctx, tx, caller, "DeleteOrganizationalUnit", true)
		if err != nil {
			return nil, err
		}
		err = tx.DeleteOrganizationalUnit(ctx, o.ID, in.OrganizationalUnitID)
		switch {
		case errors.Is(err, store.ErrNotFound):
			return nil, ouNotFound(in.OrganizationalUnitID)
		case errors.Is(err, store.ErrInUse):
			return nil, awserr.New(ErrOUNotEmpty, "The specified OU is not empty. Move all accounts to another root or to other OUs, remove all child OUs, and try the operation again.")
		case err != nil:
			return nil, err
		}
		return &Empty{}, nil
	})
}

// ListOrganizationalUnitsForParentInput is the input of ListOrganizationalUnitsForParent.
type ListOrganizationalUnitsForParentInput struct {
	ParentID   string  `json:"ParentId"`
	MaxResults *int32  `json:",omitempty"`
	NextToken  *string `json:",omitempty"`
}

// ListOrganizationalUnitsForParentOutput is the output of ListOrganizationalUnitsForParent.
type ListOrganizationalUnitsForParentOutput struct {
	OrganizationalUnits []OrganizationalUnit
	NextToken           *string `json:",omitempty"`
}

// ListOrganizationalUnitsForParent returns the OUs directly under a root or OU. Errors:
// AWSOrganizationsNotInUseException, AccessDeniedException, ParentNotFoundException,
// InvalidInputException.
func (s *Service) ListOrganizationalUnitsForParent(ctx context.Context, caller *identity.Principal, in *ListOrganizationalUnitsForParentInput) (*ListOrganizationalUnitsForParentOutput, error) {
	if err := checkTargetID("ParentId", in.ParentID, parentIDPattern); err != nil {
		return nil, err
	}
	p, err := readPage("ListOrganizationalUnitsForParent", in.MaxResults, in.NextToken)
	if err != nil {
		return nil, err
	}
	out := &ListOrganizationalUnitsForParentOutput{OrganizationalUnits: []OrganizationalUnit{}}
	err = s.readManaged(ctx, caller, "ListOrganizationalUnitsForParent", func(tx *store.Tx, o *store.Organization) error {
		if err := checkParent(ctx, tx, o, in.ParentID, ErrParentNotFound); err != nil {
			return err
		}
		ous, err := tx.OrganizationalUnits(ctx, o.ID, p.query(in.ParentID))
		if err != nil {
			return err
		}
		ous, out.NextToken = cut(p, ous, func(u *store.OrganizationalUnit) (string, int64) { return u.ID, 0 })
		for _, u := range ous {
			out.OrganizationalUnits = append(out.OrganizationalUnits, *ouOf(o, u))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ListChildrenInput is the input of ListChildren.
type ListChildrenInput struct {
	ParentID   string  `json:"ParentId"`
	ChildType  string  //
	MaxResults *int32  `json:",omitempty"`
	NextToken  *string `json:",omitempty"`
}

// ListChildrenOutput is the output of ListChildren.
type ListChildrenOutput struct {
	Children  []Child
	NextToken *string `json:",omitempty"`
}

// ListChildren returns the accounts or the OUs directly under a root or OU. Errors:
// AWSOrganizationsNotInUseException, AccessDeniedException, ParentNotFoundException,
// InvalidInputException.
func (s *Service) ListChildren(ctx context.Context, caller *identity.Principal, in *ListChildrenInput) (*ListChildrenOutput, error) {
	if err := checkTargetID("ParentId", in.ParentID, parentIDPattern); err != nil {
		return nil, err
	}
	if err := checkEnum("ChildType", in.ChildType, true, TypeAccount, TypeOU); err != nil {
		return nil, err
	}
	p, err := readPage("ListChildren", in.MaxResults, in.NextToken)
	if err != nil {
		return nil, err
	}
	out := &ListChildrenOutput{Children: []Child{}}
	err = s.readManaged(ctx, caller, "ListChildren", func(tx *store.Tx, o *store.Organization) error {
		if err := checkParent(ctx, tx, o, in.ParentID, ErrParentNotFound); err != nil {
			return err
		}
		var ids []string
		if in.ChildType == TypeAccount {
			accts, err := tx.OrgAccounts(ctx, o.ID, p.query(in.ParentID))
			if err != nil {
				return err
			}
			for _, a := range accts {
				ids = append(ids, a.ID)
			}
		} else {
			ous, err := tx.OrganizationalUnits(ctx, o.ID, p.query(in.ParentID))
			if err != nil {
				return err
			}
			for _, u := range ous {
				ids = append(ids, u.ID)
			}
		}
		ids, out.NextToken = cut(p, ids, func(id string) (string, int64) { return id, 0 })
		for _, id := range ids {
			out.Children = append(out.Children, Child{ID: id, Type: in.ChildType})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ListParentsInput is the input of ListParents.
type ListParentsInput struct {
	ChildID    string  `json:"ChildId"`
	MaxResults *int32  `json:",omitempty"`
	NextToken  *string `json:",omitempty"`
}

// ListParentsOutput is the output of ListParents.
type ListParentsOutput struct {
	Parents   []Parent
	NextToken *string `json:",omitempty"`
}

// ListParents returns the root or OU directly above an account or OU. Errors:
// AWSOrganizationsNotInUseException, AccessDeniedException, ChildNotFoundException,
// InvalidInputException.
func (s *Service) ListParents(ctx context.Context, caller *identity.Principal, in *ListParentsInput) (*ListParentsOutput, error) {
	if err := checkTargetID("ChildId", in.ChildID, childIDPattern); err != nil {
		return nil, err
	}
	p, err := readPage("ListParents", in.MaxResults, in.NextToken)
	if err != nil {
		return nil, err
	}
	out := &ListParentsOutput{Parents: []Parent{}}
	err = s.readManaged(ctx, caller, "ListParents", func(tx *store.Tx, o *store.Organization) error {
		var parent string
		if ouIDPattern.MatchString(in.ChildID) {
			u, err := tx.OrganizationalUnit(ctx, o.ID, in.ChildID)
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
			if u != nil {
				parent = u.ParentID
			}
		} else {
			a, err := tx.OrgAccount(ctx, o.ID, in.ChildID)
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
			if a != nil {
				parent = a.ParentID
			}
		}
		if parent == "" {
			return awserr.New(ErrChildNotFound, "We can't find an organizational unit (OU) or AWS account with the ChildId %s.", in.ChildID)
		}
		if p.pos.After == "" {
			out.Parents = append(out.Parents, Parent{ID: parent, Type: targetType(parent)})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
