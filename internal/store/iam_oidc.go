package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// MaxOIDCProviders is how many OpenID Connect providers one account may have, AWS's default
// quota.
const MaxOIDCProviders = 100

// OIDCProvider is an IAM OpenID Connect identity provider.
type OIDCProvider struct {
	ARN       string // arn:aws:iam::ACCOUNT:oidc-provider/URL
	AccountID string
	URL       string // host and path without the scheme, as in the ARN and the tokens' iss
	Issuer    string // the URL as registered, with its scheme: where the discovery document is
	ClientIDs []string
	// Thumbprints are the 40-digit hex SHA-1 thumbprints of the issuer's certificates, kept
	// for compatibility; Allot verifies tokens against the issuer's keys (JWKS) and the
	// system's trusted CAs.
	Thumbprints []string
	CreatedAt   time.Time
	Tags        []Tag
}

// OIDCProviderARN returns arn:aws:iam::ACCOUNT:oidc-provider/URL, url being the host and path
// without the scheme.
func OIDCProviderARN(accountID, url string) string {
	return "arn:aws:iam::" + accountID + ":oidc-provider/" + url
}

// CreateOIDCProvider stores a new provider with its tags; p.ARN is set. It returns an error
// wrapping ErrConflict when the account has a provider for that URL, and ErrLimitExceeded when
// the account has MaxOIDCProviders already or for more than MaxTags tags.
func (tx *Tx) CreateOIDCProvider(ctx context.Context, p *OIDCProvider) error {
	if err := tx.createOIDCProvider(ctx, p); err != nil {
		return fmt.Errorf("store: create OIDC provider %s: %w", p.URL, err)
	}
	return nil
}

func (tx *Tx) createOIDCProvider(ctx context.Context, p *OIDCProvider) error {
	if len(p.Tags) > MaxTags {
		return fmt.Errorf("%d tags: %w", len(p.Tags), ErrLimitExceeded)
	}
	n, err := tx.count(ctx, `SELECT COUNT(*) FROM iam_oidc_providers WHERE account_id = ?`, p.AccountID)
	if err != nil {
		return err
	}
	if n >= MaxOIDCProviders {
		return fmt.Errorf("%d providers: %w", n, ErrLimitExceeded)
	}
	clientIDs, thumbprints, err := oidcLists(p)
	if err != nil {
		return err
	}
	p.ARN = OIDCProviderARN(p.AccountID, p.URL)
	err = tx.insertOnce(ctx, `INSERT INTO iam_oidc_providers (arn, account_id, url, issuer, client_ids, thumbprints, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
		p.ARN, p.AccountID, p.URL, p.Issuer, clientIDs, thumbprints, p.CreatedAt)
	if err != nil {
		return err
	}
	return tx.putTags(ctx, p.ARN, p.Tags)
}

func oidcLists(p *OIDCProvider) (clientIDs, thumbprints string, err error) {
	c, err := json.Marshal(nonNil(p.ClientIDs))
	if err != nil {
		return "", "", err
	}
	t, err := json.Marshal(nonNil(p.Thumbprints))
	if err != nil {
		return "", "", err
	}
	return string(c), string(t), nil
}

const oidcColumns = `arn, account_id, url, issuer, client_ids, thumbprints, created_at`

func scanOIDCProvider(sc interface{ Scan(...any) error }) (*OIDCProvider, error) {
	p := &OIDCProvider{}
	var clientIDs, thumbprints string
	if err := sc.Scan(&p.ARN, &p.AccountID, &p.URL, &p.Issuer, &clientIDs, &thumbprints, ScanTime(&p.CreatedAt)); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(clientIDs), &p.ClientIDs); err != nil {
		return nil, fmt.Errorf("client IDs: %w", err)
	}
	if err := json.Unmarshal([]byte(thumbprints), &p.Thumbprints); err != nil {
		return nil, fmt.Errorf("thumbprints: %w", err)
	}
	return p, nil
}

// OIDCProvider returns a provider with its tags, or an error wrapping ErrNotFound. In an
// Update it locks the provider's row first, so that a read-modify-write of its client IDs
// (followed by UpdateOIDCProvider) does not race another writer.
func (tx *Tx) OIDCProvider(ctx context.Context, arn string) (*OIDCProvider, error) {
	p, err := tx.oidcProvider(ctx, arn)
	if err != nil {
		return nil, fmt.Errorf("store: OIDC provider %s: %w", arn, err)
	}
	return p, nil
}

func (tx *Tx) oidcProvider(ctx context.Context, arn string) (*OIDCProvider, error) {
	if tx.write {
		if err := tx.affected(ctx, `UPDATE iam_oidc_providers SET url = url WHERE arn = ?`, arn); err != nil {
			return nil, err
		}
	}
	p, err := scanOIDCProvider(tx.QueryRow(ctx, `SELECT `+oidcColumns+` FROM iam_oidc_providers WHERE arn = ?`, arn))
	if err != nil {
		return nil, tx.noRows(err)
	}
	if p.Tags, err = tx.tags(ctx, p.ARN); err != nil {
		return nil, err
	}
	return p, nil
}

// OIDCProviders returns an account's providers in order of their ARNs, without tags.
func (tx *Tx) OIDCProviders(ctx context.Context, accountID string) ([]*OIDCProvider, error) {
	rows, err := tx.Query(ctx, `SELECT `+oidcColumns+` FROM iam_oidc_providers WHERE account_id = ? ORDER BY arn`, accountID)
	if err != nil {
		return nil, fmt.Errorf("store: list OIDC providers: %w", err)
	}
	defer rows.Close()
	var out []*OIDCProvider
	for rows.Next() {
		p, err := scanOIDCProvider(rows)
		if err != nil {
			return nil, fmt.Errorf("store: list OIDC providers: %w", err)
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		tx.noteErr(err)
		return nil, fmt.Errorf("store: list OIDC providers: %w", err)
	}
	return out, nil
}

// UpdateOIDCProvider writes the client IDs and thumbprints of the provider p.ARN. It returns
// an error wrapping ErrNotFound.
func (tx *Tx) UpdateOIDCProvider(ctx context.Context, p *OIDCProvider) error {
	clientIDs, thumbprints, err := oidcLists(p)
	if err == nil {
		err = tx.affected(ctx, `UPDATE iam_oidc_providers SET client_ids = ?, thumbprints = ? WHERE arn = ?`,
			clientIDs, thumbprints, p.ARN)
	}
	if err != nil {
		return fmt.Errorf("store: update OIDC provider %s: %w", p.ARN, err)
	}
	return nil
}

// DeleteOIDCProvider deletes a provider and its tags. It returns an error wrapping
// ErrNotFound. Roles that trust the provider keep their trust policies, as in AWS; tokens of
// the provider are refused from then on.
func (tx *Tx) DeleteOIDCProvider(ctx context.Context, arn string) error {
	err := tx.affected(ctx, `DELETE FROM iam_oidc_providers WHERE arn = ?`, arn)
	if err == nil {
		_, err = tx.Exec(ctx, `DELETE FROM iam_tags WHERE entity_id = ?`, arn)
	}
	if err != nil {
		return fmt.Errorf("store: delete OIDC provider %s: %w", arn, err)
	}
	return nil
}
