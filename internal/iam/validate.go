package iam

import (
	"errors"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/allot-dev/allot/internal/awserr"
	"github.com/allot-dev/allot/internal/policy"
	"github.com/allot-dev/allot/internal/store"
)

// Limits on IAM input, from the service model and AWS's default quotas.
const (
	maxUserName       = 64
	maxRoleName       = 64
	maxPolicyName     = 128
	maxPath           = 512
	maxDescription    = 1000
	maxDocument       = 131072
	maxManagedPolicy  = 6144  // characters of a managed policy, white space not counted
	maxUserInline     = 2048  // characters of all of a user's inline policies together
	maxRoleInline     = 10240 // characters of all of a role's inline policies together
	maxTrustPolicy    = 2048  // characters of a role's trust policy
	minSessionSeconds = 3600
	maxSessionSeconds = 43200
)

// Regular expressions quoted in validation messages.
const (
	namePattern       = `[\w+=,.@-]+`
	pathPattern       = `(\u002F)|(\u002F[\u0021-\u007E]+\u002F)`
	policyPathPattern = `((/[A-Za-z0-9\.,\+@=_-]+)*)/`
	prefixPattern     = `\u002F[\u0021-\u007F]*`
	documentPattern   = `[\u0009\u000A\u000D\u0020-\u00FF]+`
	tagKeyPattern     = `[\p{L}\p{Z}\p{N}_.:/=+\-@]+`
	tagValuePattern   = `[\p{L}\p{Z}\p{N}_.:/=+\-@]*`
	versionPattern    = `v[1-9][0-9]*(\.[A-Za-z0-9-]*)?`
	accessKeyPattern  = `[\w]+`
)

// invalid reports a value that breaks a constraint of the model, in AWS's words.
func invalid(member, value, constraint string) error {
	return awserr.New(ErrValidation, "1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: %s",
		clip(value), member, constraint)
}

// missing reports a required member that was not given.
func missing(member string) error {
	return awserr.New(ErrValidation, "1 validation error detected: Value null at '%s' failed to satisfy constraint: Member must not be null", member)
}

func clip(s string) string {
	if len(s) <= 256 {
		return s
	}
	cut := 256
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

func itoa(i int) string { return strconv.Itoa(i) }

// checkLength checks the length in characters of a present value.
func checkLength(member, v string, lo, hi int) error {
	n := utf8.RuneCountInString(v)
	switch {
	case n < lo:
		return invalid(member, v, "Member must have length greater than or equal to "+itoa(lo))
	case n > hi:
		return invalid(member, v, "Member must have length less than or equal to "+itoa(hi))
	}
	return nil
}

func isNameChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		c == '_' || c == '+' || c == '=' || c == ',' || c == '.' || c == '@' || c == '-'
}

// checkName checks a required user, role or policy name: 1 to max characters of [\w+=,.@-].
func checkName(member, v string, max int) error {
	if v == "" {
		return missing(member)
	}
	if err := checkLength(member, v, 1, max); err != nil {
		return err
	}
	for i := 0; i < len(v); i++ {
		if !isNameChar(v[i]) {
			return invalid(member, v, "Member must satisfy regular expression pattern: "+namePattern)
		}
	}
	return nil
}

// checkPath checks an optional user or role path and returns it, "/" when absent.
func checkPath(member, v string) (string, error) {
	if v == "" {
		return "/", nil
	}
	if err := checkLength(member, v, 1, maxPath); err != nil {
		return "", err
	}
	ok := v == "/" || len(v) >= 3 && v[0] == '/' && v[len(v)-1] == '/'
	for i := 0; ok && i < len(v); i++ {
		ok = v[i] >= 0x21 && v[i] <= 0x7E
	}
	if !ok {
		return "", invalid(member, v, "Member must satisfy regular expression pattern: "+pathPattern)
	}
	return v, nil
}

// checkPolicyPath checks an optional managed policy path and returns it, "/" when absent.
func checkPolicyPath(member, v string) (string, error) {
	if v == "" {
		return "/", nil
	}
	if err := checkLength(member, v, 1, maxPath); err != nil {
		return "", err
	}
	ok := v[0] == '/' && v[len(v)-1] == '/' && !strings.Contains(v, "//")
	for i := 0; ok && i < len(v); i++ {
		ok = v[i] == '/' || isNameChar(v[i])
	}
	if !ok {
		return "", invalid(member, v, "Member must satisfy regular expression pattern: "+policyPathPattern)
	}
	return v, nil
}

// checkPathPrefix checks an optional PathPrefix of a list operation.
func checkPathPrefix(member, v string) error {
	if v == "" {
		return nil
	}
	if err := checkLength(member, v, 1, maxPath); err != nil {
		return err
	}
	ok := v[0] == '/'
	for i := 0; ok && i < len(v); i++ {
		ok = v[i] >= 0x21 && v[i] <= 0x7F
	}
	if !ok {
		return invalid(member, v, "Member must satisfy regular expression pattern: "+prefixPattern)
	}
	return nil
}

// checkDescription checks an optional description.
func checkDescription(member, v string) error {
	if utf8.RuneCountInString(v) > maxDescription {
		return invalid(member, v, "Member must have length less than or equal to "+itoa(maxDescription))
	}
	for _, r := range v {
		if !(r == '\t' || r == '\n' || r == '\r' || r >= 0x20 && r <= 0x7E || r >= 0xA1 && r <= 0xFF) {
			return invalid(member, v, `Member must satisfy regular expression pattern: [\u0009\u000A\u000D\u0020-\u007E\u00A1-\u00FF]*`)
		}
	}
	return nil
}

// checkDocument checks a required policy document against the model and parses it as a
// policy of the given kind: a malformed policy is MalformedPolicyDocument. It returns the
// document's size as IAM's quotas count it (characters other than white space).
func checkDocument(member, doc string, kind policy.Kind) (int, error) {
	if doc == "" {
		return 0, missing(member)
	}
	if err := checkLength(member, doc, 1, maxDocument); err != nil {
		return 0, err
	}
	for _, r := range doc {
		if !(r == '\t' || r == '\n' || r == '\r' || r >= 0x20 && r <= 0xFF) {
			return 0, invalid(member, doc, "Member must satisfy regular expression pattern: "+documentPattern)
		}
	}
	if _, err := policy.Parse(doc, kind); err != nil {
		var pe *policy.Error
		if errors.As(err, &pe) {
			return 0, awserr.New(ErrMalformedPolicyDocument, "%s", pe.Reason)
		}
		return 0, err
	}
	return policySize(doc), nil
}

// policySize returns the size of a document as IAM's quotas count it: white space is free.
func policySize(doc string) int {
	n := 0
	for _, r := range doc {
		if !unicode.IsSpace(r) {
			n++
		}
	}
	return n
}

// checkPolicyARN checks a required managed policy ARN that the caller's account may use: its
// own policies and AWS's. It returns InvalidInput for something that is no policy ARN and
// NoSuchEntity for another account's policy.
func checkPolicyARN(member, arn, accountID string) error {
	if arn == "" {
		return missing(member)
	}
	if err := checkLength(member, arn, 20, 2048); err != nil {
		return err
	}
	rest, ok := strings.CutPrefix(arn, "arn:aws:iam::")
	owner, resource, ok2 := strings.Cut(rest, ":")
	if !ok || !ok2 || !strings.HasPrefix(resource, "policy/") || len(resource) == len("policy/") || strings.HasSuffix(resource, "/") {
		return awserr.New(ErrInvalidInput, "ARN %s is not valid.", arn)
	}
	if owner != accountID && owner != store.AWSAccount {
		return noSuchPolicy(arn)
	}
	return nil
}

// isAWSManaged reports whether arn names an AWS managed policy.
func isAWSManaged(arn string) bool { return strings.HasPrefix(arn, "arn:aws:iam::aws:") }

// checkBoundary checks an optional permissions boundary: a managed policy ARN.
func checkBoundary(member, arn, accountID string) error {
	if arn == "" {
		return nil
	}
	return checkPolicyARN(member, arn, accountID)
}

// checkMaxSession checks an optional MaxSessionDuration.
func checkMaxSession(v *int32) error {
	if v == nil {
		return nil
	}
	if *v < minSessionSeconds {
		return invalid("maxSessionDuration", itoa(int(*v)), "Member must have value greater than or equal to "+itoa(minSessionSeconds))
	}
	if *v > maxSessionSeconds {
		return invalid("maxSessionDuration", itoa(int(*v)), "Member must have value less than or equal to "+itoa(maxSessionSeconds))
	}
	return nil
}

// checkVersionID checks a required policy version ID.
func checkVersionID(member, v string) error {
	if v == "" {
		return missing(member)
	}
	rest, ok := strings.CutPrefix(v, "v")
	if ok && rest != "" && rest[0] != '0' {
		num, suffix, _ := strings.Cut(rest, ".")
		ok = num != ""
		for i := 0; ok && i < len(num); i++ {
			ok = num[i] >= '0' && num[i] <= '9'
		}
		for i := 0; ok && i < len(suffix); i++ {
			c := suffix[i]
			ok = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-'
		}
	} else {
		ok = false
	}
	if !ok {
		return invalid(member, v, "Member must satisfy regular expression pattern: "+versionPattern)
	}
	return nil
}

// checkAccessKeyID checks a required access key ID.
func checkAccessKeyID(member, v string) error {
	if v == "" {
		return missing(member)
	}
	if err := checkLength(member, v, 16, 128); err != nil {
		return err
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return invalid(member, v, "Member must satisfy regular expression pattern: "+accessKeyPattern)
		}
	}
	return nil
}

func isTagChar(r rune) bool {
	return unicode.IsLetter(r) || unicode.In(r, unicode.Zs, unicode.Zl, unicode.Zp) || unicode.IsNumber(r) ||
		strings.ContainsRune("_.:/=+-@", r)
}

// checkTags checks the tags of a create or tag operation and returns them for the store.
func checkTags(member string, tags []Tag, required bool) ([]store.Tag, error) {
	if required && len(tags) == 0 {
		return nil, missing(member)
	}
	if len(tags) > store.MaxTags {
		return nil, invalid(member, itoa(len(tags))+" tags", "Member must have length less than or equal to "+itoa(store.MaxTags))
	}
	seen := make(map[string]bool, len(tags))
	out := make([]store.Tag, 0, len(tags))
	for i, t := range tags {
		m := member + "." + itoa(i+1) + ".member"
		if t.Key == "" {
			return nil, missing(m + ".key")
		}
		if err := checkLength(m+".key", t.Key, 1, 128); err != nil {
			return nil, err
		}
		if err := checkLength(m+".value", t.Value, 0, 256); err != nil {
			return nil, err
		}
		for _, r := range t.Key {
			if !isTagChar(r) {
				return nil, invalid(m+".key", t.Key, "Member must satisfy regular expression pattern: "+tagKeyPattern)
			}
		}
		for _, r := range t.Value {
			if !isTagChar(r) {
				return nil, invalid(m+".value", t.Value, "Member must satisfy regular expression pattern: "+tagValuePattern)
			}
		}
		if strings.HasPrefix(strings.ToLower(t.Key), "aws:") {
			return nil, awserr.New(ErrInvalidInput, "Tag key %s is not valid: keys beginning with aws: are reserved for AWS use.", t.Key)
		}
		k := strings.ToLower(t.Key)
		if seen[k] {
			return nil, awserr.New(ErrInvalidInput, "Duplicate tag keys found. Please note that Tag keys are case insensitive.")
		}
		seen[k] = true
		out = append(out, store.Tag{Key: t.Key, Value: t.Value})
	}
	return out, nil
}

// checkTagKeys checks the keys of an untag operation.
func checkTagKeys(member string, keys []string) error {
	if len(keys) == 0 {
		return missing(member)
	}
	if len(keys) > store.MaxTags {
		return invalid(member, itoa(len(keys))+" keys", "Member must have length less than or equal to "+itoa(store.MaxTags))
	}
	for i, k := range keys {
		if err := checkLength(member+".member."+itoa(i+1), k, 1, 128); err != nil {
			return err
		}
	}
	return nil
}
