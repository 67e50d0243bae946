// Package bootstrap creates the management account and its root credentials the first time a
// database is used, from the environment or freshly generated.
package bootstrap

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/allot-dev/allot/internal/identity"
	"github.com/allot-dev/allot/internal/store"
)

// Environment variables that set the root credentials.
const (
	EnvAccountID       = "ALLOT_ROOT_ACCOUNT_ID"
	EnvAccessKeyID     = "ALLOT_ROOT_ACCESS_KEY_ID"
	EnvSecretAccessKey = "ALLOT_ROOT_SECRET_ACCESS_KEY"
)

// CredentialsFile is the name of the shared-credentials file written to the data directory
// when root credentials are generated.
const CredentialsFile = "credentials"

const settingManagementAccount = "management_account_id"

// Root is the management account and one of its root access keys.
type Root struct {
	AccountID       string
	AccessKeyID     string
	SecretAccessKey string // empty when the key was not created by this call
}

// FromEnv reads root credentials from the environment. It returns nil when none are set and
// an error when only some are, or when they are malformed.
func FromEnv(getenv func(string) string) (*Root, error) {
	r := &Root{AccountID: getenv(EnvAccountID), AccessKeyID: getenv(EnvAccessKeyID), SecretAccessKey: getenv(EnvSecretAccessKey)}
	if r.AccountID == "" && r.AccessKeyID == "" && r.SecretAccessKey == "" {
		return nil, nil
	}
	if r.AccountID == "" || r.AccessKeyID == "" || r.SecretAccessKey == "" {
		return nil, fmt.Errorf("bootstrap: set all of %s, %s and %s, or none", EnvAccountID, EnvAccessKeyID, EnvSecretAccessKey)
	}
	if !identity.ValidAccountID(r.AccountID) {
		return nil, fmt.Errorf("bootstrap: %s=%q is not a 12-digit account ID", EnvAccountID, r.AccountID)
	}
	if !identity.ValidAccessKeyID(r.AccessKeyID) {
		return nil, fmt.Errorf("bootstrap: %s=%q is not an access key ID (16 to 128 letters, digits or _)", EnvAccessKeyID, r.AccessKeyID)
	}
	if len(r.SecretAccessKey) < 16 {
		return nil, fmt.Errorf("bootstrap: %s must be at least 16 characters", EnvSecretAccessKey)
	}
	return r, nil
}

// Ensure makes sure the management account exists, creating it with the given root
// credentials (or generated ones when given is nil) on first use. It reports whether it
// created the account; only then is Root.SecretAccessKey set. When the account exists, given
// credentials must name the same account; a given key that does not exist yet is added as a
// root key, and one that exists must have the same secret.
func Ensure(ctx context.Context, db *store.DB, given *Root) (*Root, bool, error) {
	want := given
	if want == nil {
		want = &Root{
			AccountID:       identity.NewAccountID(),
			AccessKeyID:     identity.NewAccessKeyID(identity.LongTermKeyPrefix),
			SecretAccessKey: identity.NewSecretAccessKey(),
		}
	}
	var (
		root    = &Root{}
		created bool
	)
	err := db.Update(ctx, func(tx *store.Tx) error {
		stored, err := tx.PutSettingIfAbsent(ctx, settingManagementAccount, want.AccountID)
		if err != nil {
			return err
		}
		root.AccountID = stored
		if stored == want.AccountID {
			if _, err := tx.Account(ctx, stored); errors.Is(err, store.ErrNotFound) {
				created = true
				if err := tx.CreateAccount(ctx, &store.Account{ID: stored, Name: "management", Status: "ACTIVE", CreatedAt: tx.Now()}); err != nil {
					return err
				}
			} else if err != nil {
				return err
			}
		}
		if given == nil && !created {
			return nil // restart with generated credentials: nothing to check
		}
		if given != nil && given.AccountID != stored {
			return fmt.Errorf("bootstrap: %s=%s but this database's management account is %s", EnvAccountID, given.AccountID, stored)
		}
		k, err := tx.AccessKey(ctx, want.AccessKeyID)
		switch {
		case errors.Is(err, store.ErrNotFound):
			root.AccessKeyID, root.SecretAccessKey = want.AccessKeyID, want.SecretAccessKey
			return tx.CreateAccessKey(ctx, &store.AccessKey{
				ID: want.AccessKeyID, AccountID: stored, Kind: identity.KindRoot,
				Secret: want.SecretAccessKey, Status: "Active", CreatedAt: tx.Now(),
			})
		case err != nil:
			return err
		case k.AccountID != stored || k.Kind != identity.KindRoot:
			return fmt.Errorf("bootstrap: access key %s exists but is not a root key of account %s", k.ID, stored)
		case k.Secret != want.SecretAccessKey:
			return fmt.Errorf("bootstrap: %s does not match the stored secret of access key %s", EnvSecretAccessKey, k.ID)
		}
		root.AccessKeyID = k.ID
		return nil
	})
	if err != nil {
		return nil, false, fmt.Errorf("bootstrap: %w", err)
	}
	return root, created, nil
}

// WriteCredentialsFile writes root credentials to DIR/credentials with mode 0600, in the AWS
// shared-credentials format under the [default] profile, and returns the file's path.
func WriteCredentialsFile(dataDir string, r *Root) (string, error) {
	path := filepath.Join(dataDir, CredentialsFile)
	content := fmt.Sprintf("# Allot root credentials of management account %s.\n"+
		"# Use them with: AWS_SHARED_CREDENTIALS_FILE=%s aws --endpoint-url http://… --region us-east-1 sts get-caller-identity\n"+
		"[default]\naws_access_key_id = %s\naws_secret_access_key = %s\n",
		r.AccountID, path, r.AccessKeyID, r.SecretAccessKey)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return "", fmt.Errorf("bootstrap: write credentials: %w", err)
	}
	if _, err := f.WriteString(content); err != nil {
		f.Close()
		return "", fmt.Errorf("bootstrap: write credentials: %w", err)
	}
	if err := f.Close(); err != nil {
		return "", fmt.Errorf("bootstrap: write credentials: %w", err)
	}
	return path, nil
}
