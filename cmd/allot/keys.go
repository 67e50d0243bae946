package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/allot-dev/allot/internal/licensemanager"
	"github.com/allot-dev/allot/internal/secrets"
	"github.com/allot-dev/allot/internal/store"
)

func newKeysCommand(getenv func(string) string) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "keys",
		Short: "List, rotate and retire the license issuers' signing keys",
		Long: `List, rotate and retire the signing keys of license issuers.

Each issuer (an issuer name in an account, as CreateLicense's Issuer.Name gives it) has a
current key per algorithm (ES256, or PS384 for Issuer.SignKey RSA), made when a license
first names it. The current key signs new tokens (checkouts' SignedToken). Every key that is
not retired is published in GET /.well-known/jwks.json, where products verify tokens offline
by the token's kid. A key is in one of three states:

  current   signs new tokens; published
  previous  was current before a rotation; still published, so the tokens it signed still
            verify until they expire; signs nothing new
  retired   no longer published: tokens it signed no longer verify

To rotate safely: "allot keys rotate", wait until the tokens the previous key signed have
expired (and products have fetched the JWKS again, which they do on meeting an unknown kid),
then "allot keys retire" the previous key.

These commands work on the database directly, like "allot audit verify": give them the
server's --data-dir (or --database) and master key. They may run beside a running server:
on SQLite a second process writes safely (WAL, with a busy timeout; a write waits for the
server's current transaction), and on PostgreSQL any number of processes may write. The
server signs each token with the key that is current when it signs, so a rotation takes
effect from the next token. Use the same allot version as the server.`,
	}
	cmd.AddCommand(newKeysListCommand(getenv), newKeysRotateCommand(getenv), newKeysRetireCommand(getenv))
	return cmd
}

func newKeysListCommand(getenv func(string) string) *cobra.Command {
	var (
		storage         storageFlags
		output          string
		account, issuer string
	)
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List issuer keys: current, previous and retired",
		Long: `List the license issuers' signing keys with their state (current, previous or retired), in
a table with the columns KID, ACCOUNT, ISSUER, ALG, STATE and CREATED, or as JSON with
--output json. --account and --issuer narrow the list. It only reads the database.`,
		Example: `  allot keys list --data-dir allot-data
  allot keys list --data-dir allot-data --account 111122223333 --issuer DataMasque --output json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkOutput(output); err != nil {
				return err
			}
			ctx := cmd.Context()
			db, err := storage.open(ctx, quietLogger(cmd), store.Options{ReadOnly: true})
			if err != nil {
				return err
			}
			defer db.Close()
			keys, err := (&licensemanager.Service{DB: db}).IssuerKeys(ctx, account, issuer)
			if err != nil {
				return err
			}
			return printKeys(cmd.OutOrStdout(), output, keys)
		},
	}
	storage.register(cmd.Flags(), getenv)
	cmd.Flags().StringVarP(&output, "output", "o", "table", "output format: table or json")
	cmd.Flags().StringVar(&account, "account", "", "only the keys of this account (12 digits)")
	cmd.Flags().StringVar(&issuer, "issuer", "", "only the keys of this issuer name")
	return cmd
}

func newKeysRotateCommand(getenv func(string) string) *cobra.Command {
	var (
		storage              storageFlags
		output               string
		account, issuer, alg string
	)
	cmd := &cobra.Command{
		Use:   "rotate",
		Short: "Give an issuer a new current key; the old one stays published",
		Long: `Give an issuer a new current signing key. New tokens are signed with it from the next
one on; the key that was current becomes a previous key, still published in the JWKS so
the tokens it signed keep verifying, until "allot keys retire" retires it.

--alg chooses which of the issuer's keys to rotate (ES256 or PS384); it may be left out
when the issuer has keys of one algorithm only. An issuer that has no key yet (no license
names it) has nothing to rotate.`,
		Example: `  allot keys rotate --data-dir allot-data --account 111122223333 --issuer DataMasque
  allot keys rotate --data-dir allot-data --account 111122223333 --issuer DataMasque --alg PS384`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkOutput(output); err != nil {
				return err
			}
			if account == "" || issuer == "" {
				return fmt.Errorf("--account and --issuer are required: the account ID and the issuer name (Issuer.Name) whose key to rotate")
			}
			ctx := cmd.Context()
			db, err := storage.openForWrite(ctx, quietLogger(cmd))
			if err != nil {
				return err
			}
			defer db.Close()
			cur, prev, err := (&licensemanager.Service{DB: db}).RotateIssuerKey(ctx, account, issuer, alg)
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if output == "json" {
				return writeJSON(w, map[string]any{"current": cur, "previous": prev})
			}
			fmt.Fprintf(w, "Rotated the %s key of issuer %q in account %s.\n", cur.Alg, cur.IssuerName, cur.AccountID)
			fmt.Fprintf(w, "  current:  %s (signs new tokens)\n", cur.KID)
			fmt.Fprintf(w, "  previous: %s (still published; retire it once the tokens it signed have expired:\n"+
				"            allot keys retire --kid %s)\n", prev.KID, prev.KID)
			return nil
		},
	}
	storage.register(cmd.Flags(), getenv)
	cmd.Flags().StringVarP(&output, "output", "o", "table", "output format: table (text) or json")
	cmd.Flags().StringVar(&account, "account", "", "the issuer's account ID (12 digits) (required)")
	cmd.Flags().StringVar(&issuer, "issuer", "", "the issuer name, as licenses' Issuer.Name has it (required)")
	cmd.Flags().StringVar(&alg, "alg", "", "the key to rotate: ES256 or PS384; may be left out when the issuer has one")
	return cmd
}

func newKeysRetireCommand(getenv func(string) string) *cobra.Command {
	var (
		storage storageFlags
		output  string
		kid     string
	)
	cmd := &cobra.Command{
		Use:   "retire",
		Short: "Stop publishing a previous key: tokens it signed no longer verify",
		Long: `Retire a previous issuer key: it leaves GET /.well-known/jwks.json, so the tokens it signed
no longer verify for products that fetch the JWKS again. The current key of an issuer
cannot be retired (rotate first). Retiring a retired key changes nothing.`,
		Example: `  allot keys retire --data-dir allot-data --kid 3pHXm3p0Wm0…`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkOutput(output); err != nil {
				return err
			}
			if kid == "" {
				return fmt.Errorf("--kid is required: the key ID to retire (allot keys list shows them)")
			}
			ctx := cmd.Context()
			db, err := storage.openForWrite(ctx, quietLogger(cmd))
			if err != nil {
				return err
			}
			defer db.Close()
			k, err := (&licensemanager.Service{DB: db}).RetireIssuerKey(ctx, kid)
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if output == "json" {
				return writeJSON(w, k)
			}
			fmt.Fprintf(w, "Retired key %s (%s, issuer %q in account %s): it is no longer published.\n", k.KID, k.Alg, k.IssuerName, k.AccountID)
			return nil
		},
	}
	storage.register(cmd.Flags(), getenv)
	cmd.Flags().StringVarP(&output, "output", "o", "table", "output format: table (text) or json")
	cmd.Flags().StringVar(&kid, "kid", "", "the key ID to retire (required)")
	return cmd
}

// openForWrite opens an existing database to change it, beside a running server or not. Unlike
// the server's open it creates nothing: no data directory, master key or database.
func (f *storageFlags) openForWrite(ctx context.Context, log *slog.Logger) (*store.DB, error) {
	if !f.postgres() {
		if _, err := os.Stat(f.dsn()); err != nil {
			return nil, fmt.Errorf("no database at %s (give the server's --data-dir or --database): %w", f.dsn(), err)
		}
	}
	key, err := secrets.ReadKey(f.dataDir, f.masterKeyFile, f.masterKey)
	if err != nil {
		return nil, err
	}
	box, err := secrets.New(key)
	if err != nil {
		return nil, err
	}
	// One writer: this process makes one small change. It claims an audit chain of its own,
	// as every writer does, and records no event in it.
	return store.Open(ctx, f.dsn(), store.Options{Box: box, Logger: log, Writers: 1})
}

func quietLogger(cmd *cobra.Command) *slog.Logger {
	return slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: slog.LevelWarn}))
}

func checkOutput(format string) error {
	if format != "table" && format != "json" {
		return fmt.Errorf("--output %q: want table or json", format)
	}
	return nil
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func printKeys(w io.Writer, format string, keys []licensemanager.KeyInfo) error {
	if format == "json" {
		return writeJSON(w, map[string]any{"keys": keys})
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "KID\tACCOUNT\tISSUER\tALG\tSTATE\tCREATED")
	for _, k := range keys {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", k.KID, k.AccountID, k.IssuerName, k.Alg, k.State, k.CreatedAt.UTC().Format(time.RFC3339))
	}
	return tw.Flush()
}
