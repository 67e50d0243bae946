package test

import (
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	lm "github.com/aws/aws-sdk-go-v2/service/licensemanager"
	lmtypes "github.com/aws/aws-sdk-go-v2/service/licensemanager/types"
	"github.com/go-jose/go-jose/v4"
)

// checkoutFingerprint is the KeyFingerprint of the issuer "Vendor" of the root account.
const checkoutFingerprint = "aws:" + rootAccount + ":Vendor:issuer-fingerprint"

// seatLicense returns a CreateLicense input for sku with seats Seats (AllowCheckIn) and an
// Edition, provisional with a 60-minute TTL, valid 2025–2030.
func seatLicense(sku string, seats int64, token string) *lm.CreateLicenseInput {
	return &lm.CreateLicenseInput{
		LicenseName: aws.String("Seats " + sku), ProductName: aws.String("DataMasque"), ProductSKU: aws.String(sku),
		Issuer: &lmtypes.Issuer{Name: aws.String("Vendor")}, HomeRegion: aws.String(region),
		Validity: &lmtypes.DatetimeRange{Begin: aws.String("2025-01-01T00:00:00Z"), End: aws.String("2030-01-01T00:00:00Z")},
		Entitlements: []lmtypes.Entitlement{
			{Name: aws.String("Seats"), Unit: lmtypes.EntitlementUnitCount, MaxCount: aws.Int64(seats), AllowCheckIn: aws.Bool(true)},
			{Name: aws.String("Edition"), Unit: lmtypes.EntitlementUnitNone, Value: aws.String("Enterprise")},
		},
		Beneficiary: aws.String("billing"),
		ConsumptionConfiguration: &lmtypes.ConsumptionConfiguration{
			ProvisionalConfiguration: &lmtypes.ProvisionalConfiguration{MaxTimeToLiveInMinutes: aws.Int32(60)},
		},
		ClientToken: aws.String(token),
	}
}

// seatCheckout asks for one seat of sku for customer cust-1.
func seatCheckout(sku, token string) *lm.CheckoutLicenseInput {
	return &lm.CheckoutLicenseInput{
		ProductSKU: aws.String(sku), CheckoutType: lmtypes.CheckoutTypeProvisional, KeyFingerprint: aws.String(checkoutFingerprint),
		Entitlements: []lmtypes.EntitlementData{{Name: aws.String("Seats"), Unit: lmtypes.EntitlementDataUnitCount, Value: aws.String("1")}},
		ClientToken:  aws.String(token), Beneficiary: aws.String("cust-1"), NodeId: aws.String("node-1"),
	}
}

// issuerLM returns a License Manager client of the server with the root credentials.
func issuerLM(s *server) *lm.Client { return lm.NewFromConfig(s.awsConfig(rootKeyID, rootSecret)) }

// createSeatLicense creates a license of seats seats and returns its ARN.
func createSeatLicense(t *testing.T, c *lm.Client, sku string, seats int64) string {
	t.Helper()
	out, err := c.CreateLicense(context.Background(), seatLicense(sku, seats, "create-"+sku))
	if err != nil {
		t.Fatalf("CreateLicense: %v", err)
	}
	return aws.ToString(out.LicenseArn)
}

// consumedSeats returns GetLicenseUsage's ConsumedValue and MaxCount of Seats.
func consumedSeats(t *testing.T, c *lm.Client, arn string) string {
	t.Helper()
	out, err := c.GetLicenseUsage(context.Background(), &lm.GetLicenseUsageInput{LicenseArn: aws.String(arn)})
	if err != nil {
		t.Fatalf("GetLicenseUsage: %v", err)
	}
	for _, u := range out.LicenseUsage.EntitlementUsages {
		if aws.ToString(u.Name) == "Seats" {
			if u.Unit != lmtypes.EntitlementDataUnitCount {
				t.Errorf("Seats usage unit = %q, want Count", u.Unit)
			}
			return aws.ToString(u.ConsumedValue) + "/" + aws.ToString(u.MaxCount)
		}
	}
	t.Fatalf("GetLicenseUsage has no Seats: %+v", out.LicenseUsage.EntitlementUsages)
	return ""
}

// TestCheckout_Lifecycle drives a product's runtime path with the AWS SDK for Go, as the
// issuing account checking out for a customer: checkout, extend, check in, with the usage
// going up and down, retries with the ClientToken, and the signed token verified offline.
func TestCheckout_Lifecycle(t *testing.T) {
	ctx := context.Background()
	s := startServer(t, serverOptions{})
	c := issuerLM(s)
	arn := createSeatLicense(t, c, "DM-LIFE", 3)
	if got := consumedSeats(t, c, arn); got != "0/3" {
		t.Errorf("usage of a new license = %s, want 0/3", got)
	}

	out, err := c.CheckoutLicense(ctx, seatCheckout("DM-LIFE", "life-1"))
	if err != nil {
		t.Fatalf("CheckoutLicense: %v", err)
	}
	token := aws.ToString(out.LicenseConsumptionToken)
	issued, err1 := time.Parse(time.RFC3339, aws.ToString(out.IssuedAt))
	expires, err2 := time.Parse(time.RFC3339, aws.ToString(out.Expiration))
	if token == "" || aws.ToString(out.LicenseArn) != arn || out.CheckoutType != lmtypes.CheckoutTypeProvisional || aws.ToString(out.NodeId) != "node-1" ||
		err1 != nil || err2 != nil || expires.Sub(issued) != time.Hour || len(out.EntitlementsAllowed) != 1 || aws.ToString(out.SignedToken) == "" {
		b, _ := json.Marshal(out)
		t.Fatalf("CheckoutLicense = %s", b)
	}
	if got := consumedSeats(t, c, arn); got != "1/3" {
		t.Errorf("usage after checkout = %s, want 1/3", got)
	}
	// A retry with the same ClientToken answers the first checkout and takes nothing.
	again, err := c.CheckoutLicense(ctx, seatCheckout("DM-LIFE", "life-1"))
	if err != nil || aws.ToString(again.LicenseConsumptionToken) != token || aws.ToString(again.Expiration) != aws.ToString(out.Expiration) {
		t.Errorf("CheckoutLicense(retry) = %v, %v; want token %s", again, err, token)
	}
	if got := consumedSeats(t, c, arn); got != "1/3" {
		t.Errorf("usage after a retry = %s, want 1/3", got)
	}
	other := seatCheckout("DM-LIFE", "life-1")
	other.NodeId = aws.String("node-2")
	_, err = c.CheckoutLicense(ctx, other)
	wantTyped[*lmtypes.ValidationException](t, "CheckoutLicense(same ClientToken, other request)", err)

	// The issuer must name the beneficiary.
	noBen := seatCheckout("DM-LIFE", "life-2")
	noBen.Beneficiary = nil
	_, err = c.CheckoutLicense(ctx, noBen)
	wantAPIError(t, "CheckoutLicense(no Beneficiary)", err, "ValidationException", "Beneficiary is required")
	unknown := seatCheckout("DM-NONE", "life-3")
	_, err = c.CheckoutLicense(ctx, unknown)
	wantTyped[*lmtypes.ResourceNotFoundException](t, "CheckoutLicense(unknown SKU)", err)

	verifyOffline(t, s, aws.ToString(out.SignedToken), token, arn)

	ext, err := c.ExtendLicenseConsumption(ctx, &lm.ExtendLicenseConsumptionInput{LicenseConsumptionToken: aws.String(token)})
	if err != nil || aws.ToString(ext.LicenseConsumptionToken) != token {
		t.Fatalf("ExtendLicenseConsumption = %v, %v", ext, err)
	}
	if newExp, err := time.Parse(time.RFC3339, aws.ToString(ext.Expiration)); err != nil || newExp.Before(expires) {
		t.Errorf("ExtendLicenseConsumption Expiration = %s, want at or after %s", aws.ToString(ext.Expiration), expires)
	}
	if _, err := c.ExtendLicenseConsumption(ctx, &lm.ExtendLicenseConsumptionInput{LicenseConsumptionToken: aws.String(token), DryRun: true}); err != nil {
		t.Errorf("ExtendLicenseConsumption(DryRun): %v", err)
	}
	if _, err := c.CheckInLicense(ctx, &lm.CheckInLicenseInput{LicenseConsumptionToken: aws.String(token), Beneficiary: aws.String("cust-1")}); err != nil {
		t.Fatalf("CheckInLicense: %v", err)
	}
	if got := consumedSeats(t, c, arn); got != "0/3" {
		t.Errorf("usage after check-in = %s, want 0/3", got)
	}
	_, err = c.ExtendLicenseConsumption(ctx, &lm.ExtendLicenseConsumptionInput{LicenseConsumptionToken: aws.String(token)})
	wantTyped[*lmtypes.ResourceNotFoundException](t, "ExtendLicenseConsumption(checked in)", err)
	_, err = c.CheckInLicense(ctx, &lm.CheckInLicenseInput{LicenseConsumptionToken: aws.String("no-such-token")})
	wantTyped[*lmtypes.ResourceNotFoundException](t, "CheckInLicense(unknown)", err)
	_, err = c.GetLicenseUsage(ctx, &lm.GetLicenseUsageInput{LicenseArn: aws.String("arn:aws:license-manager::" + rootAccount + ":license:l-00000000000000000000000000000000")})
	wantTyped[*lmtypes.InvalidParameterValueException](t, "GetLicenseUsage(unknown)", err)

	// The LicenseArn extension, sent in the JSON body, pins the license: another of the same SKU
	// (that ends first, so it would be used otherwise) is left alone.
	first := seatLicense("DM-LIFE", 3, "create-DM-LIFE-early")
	first.Validity.End = aws.String("2029-01-01T00:00:00Z")
	if _, err := c.CreateLicense(ctx, first); err != nil {
		t.Fatal(err)
	}
	body := `{"ProductSKU":"DM-LIFE","CheckoutType":"PROVISIONAL","KeyFingerprint":"` + checkoutFingerprint + `",` +
		`"Entitlements":[{"Name":"Seats","Unit":"Count","Value":"1"}],"ClientToken":"life-arn","Beneficiary":"cust-1","LicenseArn":"` + arn + `"}`
	resp, err := http.DefaultClient.Do(signedRequest(t, s, "license-manager", "AWSLicenseManager.CheckoutLicense", "application/x-amz-json-1.1", []byte(body)))
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var pinned struct{ LicenseArn, LicenseConsumptionToken string }
	if resp.StatusCode != http.StatusOK || json.Unmarshal(raw, &pinned) != nil || pinned.LicenseArn != arn {
		t.Errorf("CheckoutLicense with LicenseArn %s = %d %s", arn, resp.StatusCode, raw)
	}
	if _, err := c.CheckInLicense(ctx, &lm.CheckInLicenseInput{LicenseConsumptionToken: aws.String(pinned.LicenseConsumptionToken)}); err != nil {
		t.Errorf("CheckInLicense(pinned): %v", err)
	}

	// The audit trail records the checkout without its signed token.
	for _, ev := range lookupAll(t, s, "CheckoutLicense", 50) {
		if strings.Contains(string(ev.ResponseElements), aws.ToString(out.SignedToken)[:40]) {
			t.Errorf("CheckoutLicense event %s records the signed token: %s", ev.EventID, ev.ResponseElements)
		}
	}
}

// verifyOffline verifies a signed token as a product would offline: with the JWKS only,
// choosing the key by kid; then a token with a flipped payload byte must fail.
func verifyOffline(t *testing.T, s *server, signed, token, arn string) {
	t.Helper()
	resp, err := http.Get(s.url + "/.well-known/jwks.json")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(body, &set); err != nil {
		t.Fatalf("JWKS: %v\n%s", err, body)
	}
	verify := func(tok string) (map[string]any, error) {
		jws, err := jose.ParseSigned(tok, []jose.SignatureAlgorithm{jose.ES256, jose.PS384})
		if err != nil {
			return nil, err
		}
		h := jws.Signatures[0].Protected
		keys := set.Key(h.KeyID)
		if len(keys) != 1 || h.ExtraHeaders["typ"] != "JWT" {
			return nil, fmt.Errorf("header %+v: %d keys with its kid", h, len(keys))
		}
		payload, err := jws.Verify(keys[0].Key)
		if err != nil {
			return nil, err
		}
		var claims map[string]any
		return claims, json.Unmarshal(payload, &claims)
	}
	claims, err := verify(signed)
	if err != nil {
		t.Fatalf("verify the signed token with the JWKS: %v", err)
	}
	num := func(k string) int64 { f, _ := claims[k].(float64); return int64(f) }
	ents, _ := json.Marshal(claims["entitlements"])
	if claims["iss"] != checkoutFingerprint || claims["sub"] != "cust-1" || claims["jti"] != token || claims["licenseArn"] != arn ||
		claims["productSKU"] == "" || claims["checkoutType"] != "PROVISIONAL" || claims["nodeId"] != "node-1" || claims["issuerName"] != "Vendor" ||
		num("exp")-num("iat") != 3600 || num("nbf") != num("iat") || string(ents) != `[{"Name":"Seats","Unit":"Count","Value":"1"}]` {
		t.Errorf("claims = %v", claims)
	}
	parts := strings.Split(signed, ".")
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	payload[len(payload)/3] ^= 0x01
	if _, err := verify(parts[0] + "." + base64.RawURLEncoding.EncodeToString(payload) + "." + parts[2]); err == nil {
		t.Errorf("a token with a flipped payload byte verified")
	}
}

// checkoutStorm makes callers concurrent CheckoutLicense calls, each with its own ClientToken,
// spread over the clients, and returns the tokens of those that succeeded.
func checkoutStorm(t *testing.T, clients []*lm.Client, sku string, callers int) []string {
	t.Helper()
	var (
		mu      sync.Mutex
		tokens  []string
		refused atomic.Int64
		wg      sync.WaitGroup
	)
	start := make(chan struct{})
	for i := range callers {
		c := clients[i%len(clients)]
		wg.Go(func() {
			<-start
			out, err := c.CheckoutLicense(context.Background(), seatCheckout(sku, fmt.Sprintf("storm-%s-%d", sku, i)))
			var none *lmtypes.NoEntitlementsAllowedException
			switch {
			case err == nil:
				mu.Lock()
				tokens = append(tokens, aws.ToString(out.LicenseConsumptionToken))
				mu.Unlock()
			case errors.As(err, &none):
				refused.Add(1)
			default:
				t.Errorf("CheckoutLicense #%d: %v", i, err)
			}
		})
	}
	close(start)
	wg.Wait()
	if int(refused.Load())+len(tokens) != callers {
		t.Errorf("%d succeeded and %d were refused of %d", len(tokens), refused.Load(), callers)
	}
	return tokens
}

// checkInAll checks every token in, concurrently.
func checkInAll(t *testing.T, clients []*lm.Client, tokens []string) {
	t.Helper()
	var wg sync.WaitGroup
	for i, tok := range tokens {
		c := clients[i%len(clients)]
		wg.Go(func() {
			if _, err := c.CheckInLicense(context.Background(), &lm.CheckInLicenseInput{LicenseConsumptionToken: aws.String(tok)}); err != nil {
				t.Errorf("CheckInLicense(%s): %v", tok, err)
			}
		})
	}
	wg.Wait()
}

// TestCheckout_Concurrent makes 200 concurrent checkouts of a license of 10 seats: exactly 10
// succeed, the others are refused with NoEntitlementsAllowedException.
func TestCheckout_Concurrent(t *testing.T) {
	const seats, callers = 10, 200
	s := startServer(t, serverOptions{})
	c := issuerLM(s)
	arn := createSeatLicense(t, c, "DM-STORM", seats)
	tokens := checkoutStorm(t, []*lm.Client{c}, "DM-STORM", callers)
	if len(tokens) != seats {
		t.Fatalf("%d of %d concurrent checkouts succeeded, want exactly %d", len(tokens), callers, seats)
	}
	if got := consumedSeats(t, c, arn); got != "10/10" {
		t.Errorf("usage = %s, want 10/10", got)
	}
	checkInAll(t, []*lm.Client{c}, tokens)
	if got := consumedSeats(t, c, arn); got != "0/10" {
		t.Errorf("usage after checking all in = %s, want 0/10", got)
	}
}

// TestCheckout_TwoNodesPostgres makes the same 200 concurrent checkouts through two servers
// sharing one PostgreSQL database.
func TestCheckout_TwoNodesPostgres(t *testing.T) {
	const seats, callers = 10, 200
	dsn := postgresDatabase(t)
	key := "ALLOT_MASTER_KEY=" + "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="
	var nodes [2]*server
	var wg sync.WaitGroup
	for i := range nodes {
		wg.Go(func() {
			nodes[i] = startServer(t, serverOptions{database: dsn, env: []string{key, fmt.Sprintf("ALLOT_NODE_ID=checkout-%d", i)}})
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	clients := []*lm.Client{issuerLM(nodes[0]), issuerLM(nodes[1])}
	arn := createSeatLicense(t, clients[0], "DM-PG", seats)
	tokens := checkoutStorm(t, clients, "DM-PG", callers)
	if len(tokens) != seats {
		t.Fatalf("%d of %d concurrent checkouts on two nodes succeeded, want exactly %d", len(tokens), callers, seats)
	}
	for i, c := range clients {
		if got := consumedSeats(t, c, arn); got != "10/10" {
			t.Errorf("node %d: usage = %s, want 10/10", i, got)
		}
	}
	checkInAll(t, clients, tokens)
	if got := consumedSeats(t, clients[1], arn); got != "0/10" {
		t.Errorf("usage after checking all in = %s, want 0/10", got)
	}
}

// TestCheckout_ClientTokenRaceTwoNodesPostgres sends every checkout twice at once, with the
// same ClientToken, to two servers sharing one PostgreSQL database: a ClientToken never makes
// two checkouts, no more checkouts are made than seats, and the usage counts exactly the
// checkouts made. With seats for every ClientToken both answers name the same checkout; with
// fewer, one answer may be a refusal made before the other's checkout committed.
func TestCheckout_ClientTokenRaceTwoNodesPostgres(t *testing.T) {
	const clientTokens = 30
	dsn := postgresDatabase(t)
	key := "ALLOT_MASTER_KEY=" + "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="
	var nodes [2]*server
	var wg sync.WaitGroup
	for i := range nodes {
		wg.Go(func() {
			nodes[i] = startServer(t, serverOptions{database: dsn, env: []string{key, fmt.Sprintf("ALLOT_NODE_ID=retry-%d", i)}})
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	clients := []*lm.Client{issuerLM(nodes[0]), issuerLM(nodes[1])}
	for _, seats := range []int{40, 10} {
		sku := fmt.Sprintf("DM-RETRY-%d", seats)
		arn := createSeatLicense(t, clients[0], sku, int64(seats))
		var answers [clientTokens][2]string // LicenseConsumptionToken, "" when refused
		start := make(chan struct{})
		for i := range clientTokens {
			for n, c := range clients {
				wg.Go(func() {
					<-start
					out, err := c.CheckoutLicense(context.Background(), seatCheckout(sku, fmt.Sprintf("%s-%d", sku, i)))
					var none *lmtypes.NoEntitlementsAllowedException
					switch {
					case err == nil:
						answers[i][n] = aws.ToString(out.LicenseConsumptionToken)
					case !errors.As(err, &none):
						t.Errorf("%d seats: CheckoutLicense(%s-%d) on node %d: %v", seats, sku, i, n, err)
					}
				})
			}
		}
		close(start)
		wg.Wait()
		var made []string
		for i, a := range answers {
			if a[0] != a[1] && (a[0] != "" && a[1] != "" || seats >= clientTokens) || a[0] == "" && seats >= clientTokens {
				t.Errorf("%d seats: ClientToken %s-%d answered %q on node 0 and %q on node 1", seats, sku, i, a[0], a[1])
			}
			if tok := cmp.Or(a[0], a[1]); tok != "" {
				made = append(made, tok)
			}
		}
		// A refusal means every seat was taken by a committed checkout, none being checked in.
		if want := min(seats, clientTokens); len(made) != want {
			t.Fatalf("%d seats: %d checkouts made for %d client tokens, want %d", seats, len(made), clientTokens, want)
		}
		if got, want := consumedSeats(t, clients[1], arn), fmt.Sprintf("%d/%d", len(made), seats); got != want {
			t.Errorf("%d seats: usage = %s with %d checkouts made, want %s", seats, got, len(made), want)
		}
		checkInAll(t, clients, made)
		if got := consumedSeats(t, clients[0], arn); got != fmt.Sprintf("0/%d", seats) {
			t.Errorf("%d seats: usage after checking all in = %s, want 0/%d", seats, got, seats)
		}
	}
}

// TestCheckout_ClockOffset rehearses expiry: a provisional checkout (60 minutes) on a server
// restarted with its license clock two hours ahead has expired — its units are back, it
// cannot be extended — and a new checkout succeeds.
func TestCheckout_ClockOffset(t *testing.T) {
	ctx := context.Background()
	s := startServer(t, serverOptions{})
	c := issuerLM(s)
	arn := createSeatLicense(t, c, "DM-CLOCK", 1)
	out, err := c.CheckoutLicense(ctx, seatCheckout("DM-CLOCK", "clock-1"))
	if err != nil {
		t.Fatalf("CheckoutLicense: %v", err)
	}
	_, err = c.CheckoutLicense(ctx, seatCheckout("DM-CLOCK", "clock-2"))
	wantTyped[*lmtypes.NoEntitlementsAllowedException](t, "CheckoutLicense(no seat left)", err)
	if code := s.stop(); code != 0 {
		t.Fatalf("stop: exit %d", code)
	}

	s = startServer(t, serverOptions{dataDir: s.dataDir, args: []string{"--license-clock-offset", "2h"}})
	if !strings.Contains(s.stderr.String(), "license_clock_offset") || !strings.Contains(s.stderr.String(), `"level":"WARN"`) {
		t.Errorf("no WARN about the clock offset in the log:\n%s", s.stderr.String())
	}
	c = issuerLM(s)
	if got := consumedSeats(t, c, arn); got != "0/1" {
		t.Errorf("usage two hours later = %s, want 0/1", got)
	}
	_, err = c.ExtendLicenseConsumption(ctx, &lm.ExtendLicenseConsumptionInput{LicenseConsumptionToken: out.LicenseConsumptionToken})
	wantTyped[*lmtypes.ResourceNotFoundException](t, "ExtendLicenseConsumption(expired)", err)
	wantAPIError(t, "ExtendLicenseConsumption(expired)", err, "ResourceNotFoundException", "expired at "+aws.ToString(out.Expiration))
	next, err := c.CheckoutLicense(ctx, seatCheckout("DM-CLOCK", "clock-3"))
	if err != nil {
		t.Fatalf("CheckoutLicense after expiry: %v", err)
	}
	issued, _ := time.Parse(time.RFC3339, aws.ToString(next.IssuedAt))
	if ahead := time.Until(issued); ahead < 110*time.Minute || ahead > 130*time.Minute {
		t.Errorf("IssuedAt %s is %v ahead of wall time, want about 2h", aws.ToString(next.IssuedAt), ahead)
	}
}

// TestCheckout_CLI runs the runtime path with the AWS CLI v2: checkout-license,
// extend-license-consumption, get-license-usage and check-in-license.
func TestCheckout_CLI(t *testing.T) {
	cli := requireTool(t, "AWS CLI v2", awsCLIs(t)["v2"])
	s := startServer(t, serverOptions{})
	root := creds{keyID: rootKeyID, secret: rootSecret}
	arn := createSeatLicense(t, issuerLM(s), "DM-CLI", 2)

	var out struct {
		LicenseConsumptionToken, SignedToken, Expiration, LicenseArn, CheckoutType string
		EntitlementsAllowed                                                        []struct{ Name, Value, Unit string }
	}
	mustCLI(t, s, cli, root, &out, "license-manager", "checkout-license", "--product-sku", "DM-CLI", "--checkout-type", "PROVISIONAL",
		"--key-fingerprint", checkoutFingerprint, "--entitlements", "Name=Seats,Unit=Count,Value=2", "--client-token", "cli-1",
		"--beneficiary", "cust-1", "--node-id", "node-1")
	if out.LicenseConsumptionToken == "" || out.SignedToken == "" || out.LicenseArn != arn || out.CheckoutType != "PROVISIONAL" ||
		len(out.EntitlementsAllowed) != 1 || out.EntitlementsAllowed[0].Value != "2" {
		t.Fatalf("checkout-license = %+v", out)
	}
	var ext struct{ LicenseConsumptionToken, Expiration string }
	mustCLI(t, s, cli, root, &ext, "license-manager", "extend-license-consumption", "--license-consumption-token", out.LicenseConsumptionToken)
	if ext.LicenseConsumptionToken != out.LicenseConsumptionToken || ext.Expiration == "" {
		t.Errorf("extend-license-consumption = %+v", ext)
	}
	var usage struct {
		LicenseUsage struct {
			EntitlementUsages []struct{ Name, ConsumedValue, MaxCount, Unit string }
		}
	}
	mustCLI(t, s, cli, root, &usage, "license-manager", "get-license-usage", "--license-arn", arn)
	if u := usage.LicenseUsage.EntitlementUsages; len(u) != 1 || u[0].Name != "Seats" || u[0].ConsumedValue != "2" || u[0].MaxCount != "2" {
		t.Errorf("get-license-usage = %+v, want Seats 2 of 2", u)
	}
	_, stderr, code := s.cliAs(t, cli, root, "license-manager", "checkout-license", "--product-sku", "DM-CLI", "--checkout-type", "PROVISIONAL",
		"--key-fingerprint", checkoutFingerprint, "--entitlements", "Name=Seats,Unit=Count,Value=1", "--client-token", "cli-2", "--beneficiary", "cust-1")
	if code == 0 || !strings.Contains(stderr, "NoEntitlementsAllowedException") || !strings.Contains(stderr, "2 of 2 in use") {
		t.Errorf("checkout-license with no seat left: exit %d, %s", code, stderr)
	}
	mustCLI(t, s, cli, root, nil, "license-manager", "check-in-license", "--license-consumption-token", out.LicenseConsumptionToken, "--beneficiary", "cust-1")
	mustCLI(t, s, cli, root, &usage, "license-manager", "get-license-usage", "--license-arn", arn)
	if u := usage.LicenseUsage.EntitlementUsages; len(u) != 1 || u[0].ConsumedValue != "0" {
		t.Errorf("get-license-usage after check-in = %+v, want 0 consumed", u)
	}
	if n, err := strconv.Atoi(usage.LicenseUsage.EntitlementUsages[0].MaxCount); err != nil || n != 2 {
		t.Errorf("MaxCount = %q, want the string \"2\"", usage.LicenseUsage.EntitlementUsages[0].MaxCount)
	}
}
