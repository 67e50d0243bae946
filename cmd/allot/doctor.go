package main

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/spf13/cobra"

	"github.com/allot-dev/allot/client"
)

func newDoctorCommand() *cobra.Command {
	var (
		endpoint, region, profile     string
		mode, roleARN, session, extID string
		sku, fingerprint, jwksURL     string
		entitlements                  []string
		skipCheckout                  bool
		output                        string
	)
	cmd := &cobra.Command{
		Use:   "doctor --mode MODE --product-sku SKU --key-fingerprint FINGERPRINT [--role-arn ARN]",
		Short: "Check a licensed product's setup: credentials, role, grant, checkout, permissions",
		Long: `Doctor runs the "Verifying the setup" steps of the cross-account licensing guide for one
configuration of a licensed product, against Allot or AWS License Manager, and prints a
checklist. Run it with the product's own credentials (its instance role): they come from the
usual AWS chain — AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/AWS_SESSION_TOKEN, AWS_PROFILE or
--profile, the shared files, the instance's role.

Modes (--mode), as in the guide:
  same-account  the product's identity holds the license itself
  assume-role   the product assumes --role-arn, a role in the billing account that holds
                the license (arn:aws:iam::<12-digit account>:role/<name>)
  grants        the product's account received the license through a grant it accepted

The checks, in order:
  credentials found          the SDK found credentials
  who am I                   sts get-caller-identity with them
  assume role                sts assume-role --role-arn (assume-role mode); AccessDenied names
                             the likely cause: the deployment account's policy or the role's
                             trust policy
  license visible            list-received-licenses shows the product's license, with its
                             grant ACTIVE (not accepted, not activated, or permission missing)
  checkout                   a REAL CheckoutLicense of --entitlement (default: one unit of the
                             license's first counted entitlement), checked in at once below.
                             CheckoutLicense has no dry run, so this is the only honest test;
                             it holds the units for about a second. --skip-checkout leaves it
                             out (and then doctor cannot say whether checkout works)
  signed token               the checkout's token verified offline with --jwks-url (Allot:
                             ENDPOINT/.well-known/jwks.json); skipped without it
  extend                     extend-license-consumption --dry-run on that checkout; optional:
                             without it the product renews with a new checkout instead
  check in                   check-in-license of that checkout (required)
  optional permissions       GetLicense (product name and contract expiry in the status
                             area), GetLicenseUsage (consumed and available counts),
                             ListReceivedLicenses (the products of specific checkout mode):
                             present, or what the product's user loses without each

Each failure names its cause and the fix, one per row of the guide's troubleshooting table.
Exit status: 0 when checkout works (warnings allowed), 1 when a check failed (checkout would
fail), 2 on a usage error.`,
		Example: `  # Assume-role mode, against a local Allot, with the instance role's credentials:
  allot doctor --endpoint-url http://127.0.0.1:7373 --mode assume-role \
      --role-arn arn:aws:iam::111122223333:role/DataMasqueLicenseRole \
      --product-sku DM-ENT --key-fingerprint aws:444455556666:DataMasque:issuer-fingerprint

  # Grants mode, for a script:
  allot doctor --mode grants --product-sku DM-ENT \
      --key-fingerprint aws:444455556666:DataMasque:issuer-fingerprint --output json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			usage := func(err error) error {
				fmt.Fprintln(cmd.ErrOrStderr(), "allot doctor:", err)
				return exitCode(2)
			}
			if err := checkOutput(output); err != nil {
				return usage(err)
			}
			m, err := client.ParseMode(mode)
			if err != nil {
				return usage(err)
			}
			ents, err := parseEntitlements(entitlements)
			if err != nil {
				return usage(err)
			}
			if m != client.ModeAssumeRole && roleARN != "" {
				return usage(fmt.Errorf("--role-arn is only used with --mode %s", client.ModeAssumeRole))
			}
			ctx := cmd.Context()
			opts := []func(*config.LoadOptions) error{}
			if region != "" {
				opts = append(opts, config.WithRegion(region))
			}
			if profile != "" {
				opts = append(opts, config.WithSharedConfigProfile(profile))
			}
			if endpoint != "" {
				opts = append(opts, config.WithBaseEndpoint(endpoint))
			}
			awsCfg, err := config.LoadDefaultConfig(ctx, opts...)
			if err != nil {
				return usage(fmt.Errorf("load the AWS configuration: %w", err))
			}
			if awsCfg.Region == "" {
				awsCfg.Region = "us-east-1" // AWS Marketplace licenses live there
			}
			cfg := client.Config{AWS: awsCfg, Mode: m, RoleARN: roleARN, RoleSessionName: session, ExternalID: extID,
				ProductSKU: sku, KeyFingerprint: fingerprint, Entitlements: ents, Logger: quietLogger(cmd)}
			if jwksURL != "" {
				if cfg.Verifier, err = client.NewVerifier(client.VerifierConfig{JWKSURL: jwksURL}); err != nil {
					return usage(err)
				}
			}
			var report *client.Report
			c, err := client.New(cfg)
			var bad *client.InvalidRoleARNError
			switch {
			case errors.As(err, &bad):
				report = &client.Report{Mode: m, RoleARN: roleARN, ProductSKU: sku, KeyFingerprint: fingerprint, Checks: []client.Check{{
					Name: "role-arn", Title: "role ARN", Status: client.CheckFail, Detail: "refused before any call",
					Cause: bad.Cause(), Fix: bad.Fix(), Error: bad.Error(),
				}}}
			case err != nil:
				return usage(err)
			default:
				report = c.Diagnose(ctx, client.DiagnoseOptions{SkipCheckout: skipCheckout})
			}
			if output == "json" {
				if err := writeJSON(cmd.OutOrStdout(), struct {
					*client.Report
					OK bool `json:"ok"`
				}{report, report.OK()}); err != nil {
					return err
				}
			} else {
				printReport(cmd.OutOrStdout(), report, endpoint)
			}
			if !report.OK() {
				return exitCode(1)
			}
			return nil
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&endpoint, "endpoint-url", "", "License Manager, STS endpoint, e.g. http://127.0.0.1:7373 for Allot; default AWS's (or AWS_ENDPOINT_URL)")
	fs.StringVar(&region, "region", "", "region to sign for; default from the environment or profile, else us-east-1")
	fs.StringVar(&profile, "profile", "", "shared-config profile to take credentials from (default AWS_PROFILE)")
	fs.StringVar(&mode, "mode", string(client.ModeSameAccount), "same-account, assume-role or grants")
	fs.StringVar(&roleARN, "role-arn", "", "the billing account role to assume (assume-role mode)")
	fs.StringVar(&session, "role-session-name", "allot-doctor", "session name for the assumed role")
	fs.StringVar(&extID, "external-id", "", "external ID the role's trust policy requires, if any")
	fs.StringVar(&sku, "product-sku", "", "the product's SKU (required for the checkout)")
	fs.StringVar(&fingerprint, "key-fingerprint", "", "the issuer's key fingerprint, aws:ACCOUNT:ISSUER:issuer-fingerprint (required for the checkout)")
	fs.StringArrayVar(&entitlements, "entitlement", nil, "entitlement to check out, Name=Seats,Unit=Count,Value=1 (repeatable); default one unit of the license's first counted entitlement")
	fs.StringVar(&jwksURL, "jwks-url", "", "verify the checkout's signed token offline with this JWKS (Allot: ENDPOINT/.well-known/jwks.json)")
	fs.BoolVar(&skipCheckout, "skip-checkout", false, "do not make the real checkout (doctor then cannot say whether checkout works)")
	fs.StringVarP(&output, "output", "o", "table", "output format: table or json")
	return cmd
}

// parseEntitlements reads --entitlement values: Name=…,Unit=…,Value=….
func parseEntitlements(specs []string) ([]client.Entitlement, error) {
	var out []client.Entitlement
	for _, spec := range specs {
		var e client.Entitlement
		for kv := range strings.SplitSeq(spec, ",") {
			k, v, ok := strings.Cut(kv, "=")
			switch {
			case !ok:
				return nil, fmt.Errorf("--entitlement %q: want Name=NAME,Unit=UNIT,Value=VALUE", spec)
			case k == "Name":
				e.Name = v
			case k == "Unit":
				e.Unit = v
			case k == "Value":
				e.Value = v
			default:
				return nil, fmt.Errorf("--entitlement %q: unknown key %q (want Name, Unit, Value)", spec, k)
			}
		}
		if e.Name == "" {
			return nil, fmt.Errorf("--entitlement %q: Name is required", spec)
		}
		out = append(out, e)
	}
	return out, nil
}

// printReport writes the checklist for people.
func printReport(w io.Writer, r *client.Report, endpoint string) {
	where := endpoint
	if where == "" {
		where = "the default AWS endpoints"
	}
	fmt.Fprintf(w, "allot doctor: %s mode, product %s from %s, at %s\n", r.Mode, orNone(r.ProductSKU), orNone(r.KeyFingerprint), where)
	if r.RoleARN != "" {
		fmt.Fprintf(w, "  role: %s\n", r.RoleARN)
	}
	fmt.Fprintln(w)
	width := 0
	for _, c := range r.Checks {
		width = max(width, len(c.Title))
	}
	warnings := 0
	for _, c := range r.Checks {
		mark := map[client.CheckStatus]string{client.CheckOK: "ok", client.CheckWarn: "warn", client.CheckFail: "FAIL", client.CheckSkip: "skip"}[c.Status]
		fmt.Fprintf(w, "  %-4s  %-*s  %s\n", mark, width, c.Title, c.Detail)
		if c.Status == client.CheckWarn || c.Status == client.CheckFail {
			pad := strings.Repeat(" ", 8)
			if c.Cause != "" {
				fmt.Fprintf(w, "%scause: %s\n", pad, c.Cause)
			}
			if c.Fix != "" {
				fmt.Fprintf(w, "%sfix:   %s\n", pad, c.Fix)
			}
			if c.Error != "" && c.Status == client.CheckFail {
				fmt.Fprintf(w, "%serror: %s\n", pad, c.Error)
			}
		}
		if c.Status == client.CheckWarn {
			warnings++
		}
	}
	fmt.Fprintln(w)
	switch {
	case !r.OK():
		fmt.Fprintln(w, "Checkout would fail: fix the FAIL lines above (causes first).")
	case r.Check(client.CheckCheckout) != nil && r.Check(client.CheckCheckout).Status == client.CheckOK:
		fmt.Fprintf(w, "Checkout works (%d warning(s)).\n", warnings)
	default:
		fmt.Fprintf(w, "Nothing failed, but checkout was not tried (%d warning(s)).\n", warnings)
	}
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}
