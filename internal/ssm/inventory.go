package ssm

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/allot-dev/allot/internal/audit"
	"github.com/allot-dev/allot/internal/awserr"
	"github.com/allot-dev/allot/internal/identity"
	"github.com/allot-dev/allot/internal/licenseconfig"
	"github.com/allot-dev/allot/internal/store"
)

// Limits of PutInventory, from SSM's model, and the sizes Allot allows.
const (
	maxItems          = 30
	maxTypeNameLen    = 100
	maxContentHashLen = 256
	maxEntries        = 10000
	maxEntryKeys      = 50
	maxKeyLen         = 64
	maxValueLen       = 4096
	// MaxItemSize is the largest content of one Custom: item, in bytes of its JSON encoding:
	// the size of a custom inventory item SSM allows. Items of SSM's own types (an
	// AWS:Application list of thousands of packages) are bounded by MaxTotalSize alone.
	MaxItemSize = 200_000
	// MaxTotalSize is the largest content of one PutInventory call, in bytes of JSON.
	MaxTotalSize = 1_000_000
)

var (
	typeNamePattern      = regexp.MustCompile(`^(AWS|Custom):.*$`)
	schemaVersionPattern = regexp.MustCompile(`^([0-9]{1,6})(\.[0-9]{1,6})$`)
	captureTimePattern   = regexp.MustCompile(`^(20)[0-9][0-9]-(0[1-9]|1[012])-([12][0-9]|3[01]|0[1-9])(T)(2[0-3]|[0-1][0-9])(:[0-5][0-9])(:[0-5][0-9])(Z)$`)
)

// item is a checked InventoryItem.
type item struct {
	InventoryItem
	schema  *schema // nil: a Custom: type stored as it is
	hash    string
	content string // the entries as JSON; "" when none were sent
}

// hashOnly reports whether the item names its content by hash alone: how an agent reports
// inventory that has not changed since its last report.
func (it *item) hashOnly() bool { return it.hash != "" && len(it.Content) == 0 }

// checkTypeName checks a TypeName member: ValidationException for a missing or malformed
// one, InvalidTypeNameException for an AWS: type Allot does not accept.
func checkTypeName(member, name string) (*schema, error) {
	switch {
	case name == "":
		return nil, validation("%s is required.", member)
	case utf8.RuneCountInString(name) > maxTypeNameLen:
		return nil, validation("%s must have at most %d characters.", member, maxTypeNameLen)
	case !typeNamePattern.MatchString(name):
		return nil, validation("%s must start with AWS: or Custom:, not %q.", member, clip(name))
	}
	sc, ok := schemaOf(name)
	if !ok {
		return nil, awserr.New(ErrInvalidTypeName, "The inventory type %s is not supported: this server accepts %s.", clip(name), acceptedTypes)
	}
	return sc, nil
}

// checkItems checks PutInventory's items: the model's constraints, then each type's schema
// and the sizes (MaxItemSize for a Custom: item, MaxTotalSize for all).
func checkItems(instanceID string, items []InventoryItem) ([]*item, error) {
	if len(items) == 0 {
		return nil, validation("Items is required: at least one inventory item.")
	}
	if len(items) > maxItems {
		return nil, validation("Items may have at most %d items, not %d.", maxItems, len(items))
	}
	out := make([]*item, 0, len(items))
	seen := map[string]bool{}
	total := 0
	for i, in := range items {
		m := fmt.Sprintf("Items[%d]", i)
		sc, err := checkTypeName(m+".TypeName", in.TypeName)
		if err != nil {
			return nil, err
		}
		if seen[in.TypeName] {
			return nil, validation("Items has more than one item of type %s.", in.TypeName)
		}
		seen[in.TypeName] = true
		if !schemaVersionPattern.MatchString(in.SchemaVersion) {
			if in.SchemaVersion == "" {
				return nil, validation("%s.SchemaVersion is required.", m)
			}
			return nil, validation("%s.SchemaVersion must be a version such as 1.0, not %q.", m, clip(in.SchemaVersion))
		}
		if !captureTimePattern.MatchString(in.CaptureTime) {
			if in.CaptureTime == "" {
				return nil, validation("%s.CaptureTime is required.", m)
			}
			return nil, validation("%s.CaptureTime must be a UTC time such as 2026-01-02T15:04:05Z, not %q.", m, clip(in.CaptureTime))
		}
		it := &item{InventoryItem: in, schema: sc}
		if in.ContentHash != nil {
			it.hash = *in.ContentHash
			if len(it.hash) > maxContentHashLen {
				return nil, validation("%s.ContentHash must have at most %d characters.", m, maxContentHashLen)
			}
		}
		if err := checkEntries(m, in.Content); err != nil {
			return nil, err
		}
		if len(in.Context) > 0 {
			return nil, typed(ErrUnsupportedItemContext, in.TypeName, "%s: the type %s takes no Context.", m, in.TypeName)
		}
		if sc != nil && in.SchemaVersion != sc.version {
			return nil, awserr.New(ErrUnsupportedSchemaVersion, "%s: the type %s has schema version %s, not %s.", m, in.TypeName, sc.version, in.SchemaVersion)
		}
		if sc != nil && !it.hashOnly() {
			if msg := sc.checkContent(instanceID, in.Content); msg != "" {
				return nil, typed(ErrInvalidItemContent, in.TypeName, "%s (%s): %s.", m, in.TypeName, msg)
			}
		}
		if in.Content != nil {
			b, err := json.Marshal(in.Content)
			if err != nil {
				return nil, fmt.Errorf("ssm: encode %s: %w", in.TypeName, err)
			}
			if strings.HasPrefix(in.TypeName, "Custom:") && len(b) > MaxItemSize {
				return nil, typed(ErrItemSizeLimitExceeded, in.TypeName, "%s (%s): the content is %d bytes; a custom inventory item may have at most %d.", m, in.TypeName, len(b), MaxItemSize)
			}
			total += len(b)
			it.content = string(b)
		}
		out = append(out, it)
	}
	if total > MaxTotalSize {
		return nil, awserr.New(ErrTotalSizeLimitExceeded, "The items' content is %d bytes; one call may send at most %d.", total, MaxTotalSize)
	}
	return out, nil
}

// checkEntries checks Content against the model's limits.
func checkEntries(m string, content []map[string]string) error {
	if len(content) > maxEntries {
		return validation("%s.Content may have at most %d entries, not %d.", m, maxEntries, len(content))
	}
	for j, e := range content {
		if len(e) > maxEntryKeys {
			return validation("%s.Content[%d] may have at most %d attributes, not %d.", m, j, maxEntryKeys, len(e))
		}
		for k, v := range e {
			if n := utf8.RuneCountInString(k); n < 1 || n > maxKeyLen {
				return validation("%s.Content[%d] has an attribute name of %d characters; names have 1 to %d.", m, j, n, maxKeyLen)
			}
			if utf8.RuneCountInString(v) > maxValueLen {
				return validation("%s.Content[%d].%s must have at most %d characters.", m, j, clip(k), maxValueLen)
			}
		}
	}
	return nil
}

// auditItem is what the audit trail records of an item: everything but its content.
type auditItem struct {
	TypeName      string
	SchemaVersion string
	CaptureTime   string
	ContentHash   string `json:",omitempty"`
	Entries       int
}

// PutInventory stores the inventory a managed instance reports, registering the instance
// when its ID is new: the first report of a well-formed mi- ID that does not exist makes it
// a managed instance of the caller's account in the request's region. Each report (a
// heartbeat too) marks the instance active and seen now, updates what it says of itself
// (AWS:InstanceInformation, AWS:InstanceDetailedInformation, Custom:AllotAgent) and its
// installed applications (AWS:Application), and runs automated discovery, all in one
// transaction. An item whose ContentHash equals the stored one keeps the stored content;
// one with a hash and no content is a heartbeat for that type.
//
// Errors: InvalidInstanceId (malformed, another account's or region's, deregistered),
// InvalidTypeNameException, InvalidItemContentException, ItemContentMismatchException (a
// hash without content that is not the stored one), ItemSizeLimitExceededException,
// TotalSizeLimitExceededException, UnsupportedInventorySchemaVersionException,
// UnsupportedInventoryItemContextException, ValidationException.
func (s *Service) PutInventory(ctx context.Context, caller *identity.Principal, in *PutInventoryInput) (*PutInventoryOutput, error) {
	if err := checkInstanceID(in.InstanceId); err != nil {
		return nil, err
	}
	items, err := checkItems(in.InstanceId, in.Items)
	if err != nil {
		return nil, err
	}
	// The trail records what was reported, not the inventory itself (up to a megabyte per
	// heartbeat): ListInventoryEntries shows that.
	summary := struct {
		InstanceId string
		Items      []auditItem
	}{InstanceId: in.InstanceId}
	for _, it := range items {
		summary.Items = append(summary.Items, auditItem{TypeName: it.TypeName, SchemaVersion: it.SchemaVersion,
			CaptureTime: it.CaptureTime, ContentHash: it.hash, Entries: len(it.Content)})
	}
	audit.PendingFrom(ctx).SetRequest(summary)

	registered := false
	out, err := store.Apply(ctx, s.DB, func(tx *store.Tx) (*PutInventoryOutput, error) {
		now := tx.Now()
		r, isNew, err := s.register(ctx, tx, caller, in.InstanceId)
		if err != nil {
			return nil, err
		}
		registered = isNew
		stored, err := tx.InventoryItems(ctx, r.ARN, "")
		if err != nil {
			return nil, err
		}
		byType := make(map[string]*store.InventoryItem, len(stored))
		for _, st := range stored {
			byType[st.TypeName] = st
		}
		next := *r
		var apps []store.Application
		appsChanged := false
		for _, it := range items {
			old := byType[it.TypeName]
			if it.hash != "" && old != nil && old.ContentHash == it.hash {
				// Unchanged since the last report: the stored content stays.
				refreshed := *old
				refreshed.SchemaVersion, refreshed.CaptureTime, refreshed.UpdatedAt = it.SchemaVersion, it.CaptureTime, now
				if err := tx.PutInventoryItem(ctx, &refreshed); err != nil {
					return nil, err
				}
				continue
			}
			if it.hashOnly() && (it.Content == nil || it.schema != nil && it.schema.single) {
				return nil, typed(ErrItemContentMismatch, it.TypeName,
					"The content hash of %s does not match the inventory stored for %s: send the item with its content.", it.TypeName, r.ID)
			}
			content := it.content
			if content == "" {
				content = "[]"
			}
			err := tx.PutInventoryItem(ctx, &store.InventoryItem{ResourceARN: r.ARN, TypeName: it.TypeName, SchemaVersion: it.SchemaVersion,
				CaptureTime: it.CaptureTime, ContentHash: it.hash, Content: content, UpdatedAt: now})
			if err != nil {
				return nil, err
			}
			if it.schema != nil && it.schema.single {
				applyFacts(&next, it.TypeName, it.Content[0])
			}
			if it.TypeName == TypeApplication {
				appsChanged = true
				for _, e := range it.Content {
					apps = append(apps, store.Application{Name: e["Name"], Architecture: e["Architecture"], Version: e["Version"], Publisher: e["Publisher"]})
				}
			}
		}
		next.State = store.ManagedActive // an inactive instance that reports again is active again
		if next != *r {
			next.UpdatedAt = now
		}
		next.LastSeenAt = now
		if err := tx.UpdateManagedInstance(ctx, &next); err != nil {
			return nil, err
		}
		if appsChanged {
			if err := tx.ReplaceApplications(ctx, r.ARN, apps); err != nil {
				return nil, err
			}
		}
		if err := s.Licenses.Discover(ctx, tx, &next); err != nil {
			return nil, err
		}
		return &PutInventoryOutput{}, nil
	})
	if err == nil && registered {
		s.logger().Info("registered a managed instance", "instance", in.InstanceId, "account", caller.AccountID,
			"region", licenseconfig.RequestRegion(ctx))
	}
	return out, err
}

// register returns the managed instance id of the caller's account in the request's region,
// locked for the rest of the transaction, registering it if the ID is new (isNew). An ID
// another account or region holds, and a deregistered instance, are InvalidInstanceId.
func (s *Service) register(ctx context.Context, tx *store.Tx, caller *identity.Principal, id string) (r *store.Resource, isNew bool, err error) {
	arn := InstanceARN(ctx, caller, id)
	r, err = tx.LockResource(ctx, arn)
	if errors.Is(err, store.ErrNotFound) {
		now := tx.Now()
		r = &store.Resource{ARN: arn, ID: id, Type: store.ResourceManaged, AccountID: caller.AccountID,
			Region: licenseconfig.RequestRegion(ctx), State: store.ManagedActive, ThreadsPerCore: 1,
			CreatedAt: now, UpdatedAt: now, LastSeenAt: now}
		err = tx.AddResource(ctx, r)
		isNew = err == nil
		if errors.Is(err, store.ErrConflict) {
			// Either a concurrent first report registered it (then it is the caller's now) or
			// another account or region holds the ID.
			r, err = tx.LockResource(ctx, arn)
		}
	}
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, false, awserr.New(ErrInvalidInstanceID, "Instance %s is registered to another account or region: it cannot report to account %s in %s.",
			id, caller.AccountID, licenseconfig.RequestRegion(ctx))
	case err != nil:
		return nil, false, err
	case r.Type != store.ResourceManaged:
		return nil, false, unknownInstance(ctx, caller, id)
	case r.State == store.ManagedDeregistered:
		return nil, false, awserr.New(ErrInvalidInstanceID, "Instance %s was deregistered: it cannot report again. Register the machine under a new ID.", id)
	}
	return r, isNew, nil
}

// Inventory filter types of ListInventoryEntries.
const (
	filterEqual       = "Equal"
	filterNotEqual    = "NotEqual"
	filterBeginWith   = "BeginWith"
	filterLessThan    = "LessThan"
	filterGreaterThan = "GreaterThan"
	filterExists      = "Exists"
)

const (
	maxEntryFilters      = 5
	maxEntryFilterValues = 40
	maxEntryFilterKeyLen = 200
	defaultEntriesPage   = 50
)

// entryFilter is a checked InventoryFilter.
type entryFilter struct {
	key, typ string
	values   []string
}

func (f *entryFilter) match(e map[string]string) bool {
	v, ok := e[f.key]
	if f.typ == filterExists {
		return ok
	}
	if f.typ == filterNotEqual {
		for _, w := range f.values {
			if v == w {
				return false
			}
		}
		return true
	}
	for _, w := range f.values {
		switch f.typ {
		case filterEqual:
			if v == w {
				return true
			}
		case filterBeginWith:
			if strings.HasPrefix(v, w) {
				return true
			}
		case filterLessThan, filterGreaterThan:
			if !ok {
				return false
			}
			c := compareValues(v, w)
			if f.typ == filterLessThan && c < 0 || f.typ == filterGreaterThan && c > 0 {
				return true
			}
		}
	}
	return false
}

// compareValues compares two attribute values as numbers when both are, else as text.
func compareValues(a, b string) int {
	x, errA := strconv.ParseFloat(a, 64)
	y, errB := strconv.ParseFloat(b, 64)
	if errA == nil && errB == nil {
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		}
		return 0
	}
	return strings.Compare(a, b)
}

// checkEntryFilters checks ListInventoryEntries' filters: a key is one of the type's
// attributes (any for a Custom: type), with or without the type name before it.
func checkEntryFilters(typeName string, sc *schema, in []InventoryFilter) ([]entryFilter, error) {
	if len(in) > maxEntryFilters {
		return nil, validation("Filters may have at most %d filters, not %d.", maxEntryFilters, len(in))
	}
	out := make([]entryFilter, 0, len(in))
	for i, f := range in {
		key := strings.TrimPrefix(f.Key, typeName+".")
		if key == "" || len(f.Key) > maxEntryFilterKeyLen {
			return nil, validation("Filters[%d].Key is required, with at most %d characters.", i, maxEntryFilterKeyLen)
		}
		if sc != nil && !slices.Contains(sc.keys, key) {
			return nil, awserr.New(ErrInvalidFilter, "Filters[%d].Key %q is not an attribute of %s; its attributes are %s.", i, clip(f.Key), typeName, strings.Join(sc.keys, ", "))
		}
		typ := filterEqual
		if f.Type != nil {
			typ = *f.Type
		}
		switch typ {
		case filterEqual, filterNotEqual, filterBeginWith, filterLessThan, filterGreaterThan, filterExists:
		default:
			return nil, validation("Filters[%d].Type must be Equal, NotEqual, BeginWith, LessThan, GreaterThan or Exists, not %q.", i, clip(typ))
		}
		if len(f.Values) == 0 || len(f.Values) > maxEntryFilterValues {
			return nil, validation("Filters[%d].Values must have 1 to %d values, not %d.", i, maxEntryFilterValues, len(f.Values))
		}
		out = append(out, entryFilter{key: key, typ: typ, values: f.Values})
	}
	return out, nil
}

// ListInventoryEntries lists the entries of one inventory type that a managed instance of
// the caller's reported last, optionally filtered, in the order reported; an instance that
// has not reported the type has none. Pages hold 1 to 50 entries (50 by default).
//
// Errors: InvalidInstanceId, InvalidTypeNameException, InvalidFilter, InvalidNextToken,
// ValidationException.
func (s *Service) ListInventoryEntries(ctx context.Context, caller *identity.Principal, in *ListInventoryEntriesInput) (*ListInventoryEntriesOutput, error) {
	if in.InstanceId == "" {
		return nil, validation("InstanceId is required.")
	}
	if !managedIDPattern.MatchString(in.InstanceId) {
		if nodeIDPattern.MatchString(in.InstanceId) {
			return nil, unknownInstance(ctx, caller, in.InstanceId)
		}
		return nil, awserr.New(ErrInvalidInstanceID, "InstanceId %q is not a managed instance ID (mi- and 17 hex digits).", clip(in.InstanceId))
	}
	sc, err := checkTypeName("TypeName", in.TypeName)
	if err != nil {
		return nil, err
	}
	filters, err := checkEntryFilters(in.TypeName, sc, in.Filters)
	if err != nil {
		return nil, err
	}
	limit := defaultEntriesPage
	if in.MaxResults != nil {
		if *in.MaxResults < 1 || *in.MaxResults > 50 {
			return nil, validation("MaxResults must be from 1 to 50, not %d.", *in.MaxResults)
		}
		limit = int(*in.MaxResults)
	}
	key := digest(in.InstanceId, in.TypeName, in.Filters)
	after, err := readToken("ListInventoryEntries", key, in.NextToken)
	if err != nil {
		return nil, err
	}
	start := 0
	if after != "" {
		if start, err = strconv.Atoi(after); err != nil || start < 0 {
			return nil, awserr.New(ErrInvalidNextToken, "NextToken was not returned by a previous ListInventoryEntries call with these parameters.")
		}
	}
	return store.Read(ctx, s.DB, func(tx *store.Tx) (*ListInventoryEntriesOutput, error) {
		r, err := ownInstance(ctx, tx, caller, in.InstanceId, false)
		if err != nil {
			return nil, err
		}
		out := &ListInventoryEntriesOutput{TypeName: in.TypeName, InstanceId: r.ID, Entries: []map[string]string{}}
		items, err := tx.InventoryItems(ctx, r.ARN, in.TypeName)
		if err != nil || len(items) == 0 {
			return out, err
		}
		it := items[0]
		out.SchemaVersion, out.CaptureTime = it.SchemaVersion, it.CaptureTime
		var entries []map[string]string
		if err := json.Unmarshal([]byte(it.Content), &entries); err != nil {
			return nil, fmt.Errorf("ssm: stored %s of %s: %w", it.TypeName, r.ARN, err)
		}
		i := start
		for ; i < len(entries) && len(out.Entries) < limit; i++ {
			if matchAll(filters, entries[i]) {
				out.Entries = append(out.Entries, entries[i])
			}
		}
		for ; i < len(entries); i++ { // is there a next page?
			if matchAll(filters, entries[i]) {
				out.NextToken = makeToken("ListInventoryEntries", key, strconv.Itoa(i))
				break
			}
		}
		return out, nil
	})
}

func matchAll(filters []entryFilter, e map[string]string) bool {
	for i := range filters {
		if !filters[i].match(e) {
			return false
		}
	}
	return true
}

// digest names what a list call lists, for its NextToken.
func digest(parts ...any) string {
	b, _ := json.Marshal(parts) // plain values: always encodes
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:8])
}
