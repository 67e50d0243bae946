package client_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/allot-dev/allot/client"
)

// A licensed product checks out its license at start-up in assume-role mode, serves only
// while licensed, and checks the license in when it is told to stop.
func Example() {
	ctx := context.Background()
	awsCfg, err := config.LoadDefaultConfig(ctx, config.WithRegion("us-east-1"))
	if err != nil {
		log.Fatal(err)
	}
	awsCfg.BaseEndpoint = aws.String("http://127.0.0.1:7373") // Allot; leave unset for AWS

	c, err := client.New(client.Config{
		AWS:            awsCfg,
		Mode:           client.ModeAssumeRole,
		RoleARN:        "arn:aws:iam::111122223333:role/DataMasqueLicenseRole",
		ProductSKU:     "DM-ENT",
		KeyFingerprint: "aws:444455556666:DataMasque:issuer-fingerprint",
		Entitlements:   []client.Entitlement{{Name: "Seats", Value: "1"}},
		Grace:          client.GraceContinue,
		GracePeriod:    30 * time.Minute,
		OnEvent: func(ev client.Event) {
			if ev.Type == client.EventLost || ev.Type == client.EventAboutToExpire {
				log.Printf("license %s: %v", ev.Type, ev.Err)
			}
		},
	})
	if err != nil {
		log.Fatal(err) // an *client.InvalidRoleARNError for a malformed role ARN
	}
	lease, err := c.Checkout(ctx)
	if err != nil {
		log.Fatal(err) // the cause and the fix, e.g. a *client.PermissionDeniedError
	}
	// Check in on SIGTERM or SIGINT; ctx ends once the license is checked in.
	ctx, stop := lease.CloseOnSignal(ctx)
	defer stop()

	srv := &http.Server{Addr: ":8080", Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !lease.Licensed() {
			http.Error(w, "not licensed", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "hello, licensed world")
	})}
	go srv.ListenAndServe()
	<-ctx.Done()
	srv.Shutdown(context.Background())
}

// An invalid role ARN is refused before any call, with what is wrong.
func ExampleValidateRoleARN() {
	for _, arn := range []string{
		"arn:aws:iam::111122223333:role/DataMasqueLicenseRole",
		"arn:aws:iam::<billing-account-id>:role/DataMasqueLicenseRole",
		"arn:aws:iam::111122223333:user/admin",
	} {
		var bad *client.InvalidRoleARNError
		if err := client.ValidateRoleARN(arn); errors.As(err, &bad) {
			fmt.Println("refused:", bad.Reason)
		} else {
			fmt.Println("ok")
		}
	}
	// Output:
	// ok
	// refused: account "<billing-account-id>" is not 12 digits
	// refused: resource "user/admin" is not a role (role/<name>)
}

// Each row of the troubleshooting table is a typed error; a product shows the cause and the
// fix, or acts on the type.
func ExampleClient_Checkout_errors() {
	ctx := context.Background()
	var c *client.Client // from client.New
	_, err := c.Checkout(ctx)
	var (
		seats   *client.NoEntitlementsError
		role    *client.AssumeRoleDeniedError
		denied  *client.PermissionDeniedError
		scoped  *client.ScopedPolicyError
		pending *client.GrantNotActiveError
	)
	switch {
	case errors.As(err, &seats):
		fmt.Println("all seats are in use: stop another copy, or buy more")
	case errors.As(err, &role):
		fmt.Println("cannot assume", role.RoleARN, "- denied by the", role.DeniedBy)
	case errors.As(err, &denied):
		fmt.Println(denied.Action, "is missing:", denied.Fix())
	case errors.As(err, &scoped), errors.As(err, &pending):
		fmt.Println(err)
	case err != nil:
		var d client.Diagnosis
		if errors.As(err, &d) {
			fmt.Println("cause:", d.Cause(), "fix:", d.Fix())
		}
	}
}

// Specific checkout: list the products the caller received, let the user choose, check out
// the choice.
func ExampleClient_Products() {
	ctx := context.Background()
	var c *client.Client // from client.New, without ProductSKU and KeyFingerprint
	products, err := c.Products(ctx)
	var denied *client.ProductListDeniedError
	if errors.As(err, &denied) {
		fmt.Println(denied.Fix()) // add license-manager:ListReceivedLicenses to the role
		return
	}
	for i, p := range products {
		fmt.Printf("%d. %s (%s) from %s, %s, until %s\n", i+1, p.Name, p.SKU, p.IssuerName, p.ReceivedStatus, p.End.Format(time.DateOnly))
	}
	lease, err := c.CheckoutProduct(ctx, products[0])
	if err != nil {
		log.Fatal(err)
	}
	defer lease.Close(ctx)
}

// The status area: product name, contract end and seats, as far as permissions allow.
func ExampleLease_Status() {
	ctx := context.Background()
	var lease *client.Lease // from Checkout
	st := lease.Status(ctx)
	fmt.Printf("%s (%s): %s, contract ends %s\n", st.ProductName, st.ProductSKU, st.State, st.End.Format(time.DateOnly))
	for _, u := range st.Entitlements {
		fmt.Printf("%s: %d in use, %d available\n", u.Name, u.Consumed, u.Available())
	}
	for _, u := range st.Unavailable {
		fmt.Printf("not shown: %s (needs %s)\n", u.Lost, u.Action)
	}
}

// Verify a checkout's signed token offline with the issuer's published keys.
func ExampleVerifier() {
	ctx := context.Background()
	v, err := client.NewVerifier(client.VerifierConfig{
		JWKSURL: "http://127.0.0.1:7373/.well-known/jwks.json",
		Issuer:  "aws:444455556666:DataMasque:issuer-fingerprint",
	})
	if err != nil {
		log.Fatal(err)
	}
	var lease *client.Lease // from Checkout
	claims, err := v.Verify(ctx, lease.Info().SignedToken)
	switch {
	case errors.Is(err, client.ErrTokenSignature), errors.Is(err, client.ErrTokenUnknownKey):
		log.Fatal("not a license from this issuer: ", err)
	case errors.Is(err, client.ErrTokenExpired):
		log.Fatal("expired: check out again")
	case err != nil:
		log.Fatal(err)
	}
	fmt.Println(claims.ProductSKU, claims.LicenseARN, claims.Entitlements, claims.Expiry)
}

// Check a customer's setup and show the failures with their causes and fixes, as
// allot doctor does.
func ExampleClient_Diagnose() {
	ctx := context.Background()
	var c *client.Client // from client.New with the customer's configuration
	r := c.Diagnose(ctx, client.DiagnoseOptions{})
	for _, ch := range r.Checks {
		fmt.Printf("%-4s %s: %s\n", ch.Status, ch.Title, ch.Detail)
		if ch.Status == client.CheckFail {
			fmt.Printf("     cause: %s\n     fix: %s\n", ch.Cause, ch.Fix)
		}
	}
	if !r.OK() {
		fmt.Println("checkout would fail")
	}
}
