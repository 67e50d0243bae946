// Package client licenses a product with AWS License Manager, or with Allot, which speaks
// the same API: it checks out the product's license at start-up, keeps the checkout current
// while the product runs, checks it in at shutdown, and says why when any of it fails.
//
// It uses only the AWS API (License Manager and STS, through the AWS SDK for Go v2), so the
// same product works against AWS itself and against an Allot server, which a vendor can
// run locally to test its integration, cross-account cases included. The guide it follows
// is the vendor's cross-account licensing guide that Allot's docs/vendors.md walks through.
//
// # Modes
//
// A license belongs to the account that bought it (the billing account); the product may
// run in another (the deployment account). Config.Mode says how the product reaches it:
//
//   - ModeSameAccount: the product's own credentials, in the account that holds the license.
//   - ModeAssumeRole (recommended across accounts): the product assumes a role in the billing
//     account, Config.RoleARN, for every license call; the license stays there. The role ARN
//     must be arn:aws:iam::<12-digit account>:role/<name>: New refuses anything else with an
//     *InvalidRoleARNError before any call, as a configure panel disables its Save button.
//   - ModeGrants: the billing account granted the license to the deployment account, which
//     accepted and activated the grant; the product uses its own credentials, no role.
//
// # Walkthrough
//
// Load the product's own AWS configuration (its instance role), make a Client and check out:
//
//	awsCfg, err := config.LoadDefaultConfig(ctx, config.WithRegion("us-east-1"))
//	// Against Allot: awsCfg.BaseEndpoint = aws.String("http://127.0.0.1:7373")
//	c, err := client.New(client.Config{
//		AWS:            awsCfg,
//		Mode:           client.ModeAssumeRole,
//		RoleARN:        "arn:aws:iam::111122223333:role/DataMasqueLicenseRole",
//		ProductSKU:     "DM-ENT",
//		KeyFingerprint: "aws:444455556666:DataMasque:issuer-fingerprint",
//		Entitlements:   []client.Entitlement{{Name: "Seats", Value: "1"}},
//		Grace:          client.GraceContinue, GracePeriod: 30 * time.Minute,
//		OnEvent:        func(ev client.Event) { log.Print("license ", ev.Type, ": ", ev.Err) },
//	})
//	lease, err := c.Checkout(ctx) // "automatic" checkout, by SKU and issuer
//	if err != nil {
//		log.Fatal(err) // says the cause and the fix; see Errors
//	}
//	defer lease.Close(context.Background()) // checks in: the seat is free at once
//
// Checkout returns a Lease that a goroutine keeps current: it extends the checkout
// (ExtendLicenseConsumption) when half its lifetime has passed (Config.ExtendBefore), a
// little earlier at random so copies started together spread out; retries throttled,
// failed or unanswered calls with exponential backoff (Config.RetryMax); and, when the
// role may not extend (the guide's own role policy lacks ExtendLicenseConsumption), renews
// with a new checkout before the old one expires. Lease.Licensed says whether the product
// may run; Config.OnEvent is told when the license is held, extended, about to expire,
// lost or regained. Lease.Close stops the goroutine and checks in; Lease.CloseOnSignal does
// so on SIGTERM or SIGINT for products that want nothing more.
//
// "Specific checkout" lists the products the caller may check out, for a user to choose
// one; it needs only license-manager:ListReceivedLicenses:
//
//	products, err := c.Products(ctx)
//	lease, err := c.CheckoutProduct(ctx, products[i])
//
// # When the server cannot be reached
//
// Each checkout expires (60 minutes for AWS Marketplace) unless extended. When extending
// keeps failing because the server cannot be reached, Config.Grace decides what happens at
// expiry: GraceStop loses the license; GraceWarn keeps it, reporting EventUnreachable after
// each failed attempt from then on; GraceContinue keeps it for Config.GracePeriod. A refusal is
// not covered by grace: when the server answers no (a grant deactivated, a permission
// removed) the license is lost when the checkout expires. A lost lease keeps trying, and
// reports EventRegained when it holds a checkout again.
//
// Expiry is measured on the product's clock from when each request was sent, so it never
// runs later than the server's whatever the two clocks' skew. Config.Clock replaces the
// clock in tests, so a test can drive extensions, expiry and grace without waiting.
//
// # Status
//
// Lease.Status (or Client.LicenseStatus for any license) gives what a status area shows:
// the product name and the contract's end (GetLicense) and the consumed and available
// units (GetLicenseUsage). Those permissions are optional: without them the status lists
// what is unavailable and why, and the checkout is not affected.
//
// # Errors
//
// Each row of the guide's troubleshooting table is a typed error, found with errors.As,
// whose message says the cause and the fix; each implements Diagnosis (Cause and Fix) and
// wraps the AWS error:
//
//   - *PermissionDeniedError: AccessDeniedException checking out, extending or checking in.
//     Names the product's role, or in assume-role mode the billing account role, that lacks
//     the permission (or the SCP that denies it).
//   - *AssumeRoleDeniedError: AccessDenied assuming the billing account role: the deployment
//     account's policy or the role's trust policy, as the server's message says.
//   - *ScopedPolicyError: AuthorizationException: a policy scoped to a license ARN, which
//     grants nothing for CheckoutLicense, CheckInLicense or ExtendLicenseConsumption; use
//     "Resource": "*".
//   - *ProductListDeniedError: no products in specific checkout mode: the role lacks
//     license-manager:ListReceivedLicenses.
//   - *GrantNotActiveError and *LicenseNotFoundError: the grant is not accepted or not
//     active, or no license for the SKU reached the account.
//   - *NoEntitlementsError: every unit is in use (by other copies of the product).
//   - *InvalidRoleARNError: the role ARN is malformed.
//
// # Offline verification
//
// Each checkout carries a token signed by the license issuer's key. A Verifier checks it
// offline with the issuer's public keys, fetched from a JWKS URL (Allot serves
// /.well-known/jwks.json), cached, and fetched again when a token names a key it has not
// seen (after a key rotation). It allows some clock skew and refuses tampered tokens,
// tokens of retired keys and expired tokens (ErrTokenSignature, ErrTokenUnknownKey,
// ErrTokenExpired). Set Config.Verifier to verify every checkout before the license counts
// as held.
//
// # Checking a setup
//
// Client.Diagnose runs the guide's "Verifying the setup" steps — credentials, caller
// identity, role assumption, the license visible with an active grant, a real checkout
// checked in at once, the optional permissions — and returns a checklist with the cause
// and fix of each failure. The allot doctor command prints it for a configuration given on
// its command line.
package client
