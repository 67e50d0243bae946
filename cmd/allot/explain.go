package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"regexp"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/allot-dev/allot/internal/authz"
	"github.com/allot-dev/allot/internal/identity"
	"github.com/allot-dev/allot/internal/policy"
	"github.com/allot-dev/allot/internal/store"
)

func newExplainCommand(getenv func(string) string) *cobra.Command {
	var (
		storage   storageFlags
		principal string
		action    string
		resource  string
		owner     string
		context   []string
		output    string
	)
	cmd := &cobra.Command{
		Use:   "explain --principal ARN --action SERVICE:ACTION [--resource ARN]",
		Short: "Explain whether a principal may perform an action, statement by statement",
		Long: `Explain decides one request the way the server would and says why: the decision, the policy
type that decided it, AWS's denial message, and every statement that was evaluated with
whether it matched and, if not, which element did not.

The principal is a user (arn:aws:iam::ACCOUNT:user/NAME), a role (arn:aws:iam::ACCOUNT:role/NAME,
explained as a session of the role without session policies), an assumed-role session
(arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION) or an account's root
(arn:aws:iam::ACCOUNT:root). For sts:AssumeRole on a role, the role's trust policy takes part as
it does in a real call. Condition keys the server would fill from the request (aws:SourceIp,
aws:SecureTransport, …) can be given with --context KEY=VALUE, repeated for several values.

License Manager's CheckoutLicense, CheckInLicense and ExtendLicenseConsumption have no
resource type: they are always decided against "*", so a statement naming a license ARN
grants nothing for them.

It reads the same database as the server (same --data-dir, --database and master key) and can
run beside it. Exit status: 0 when allowed, 1 when denied, 2 on error.`,
		Example: `  allot explain --principal arn:aws:iam::123456789012:role/DataMasqueLicenseRole \
      --action license-manager:CheckoutLicense
  allot explain --principal arn:aws:iam::123456789012:user/ci --action sts:AssumeRole \
      --resource arn:aws:iam::210987654321:role/LicenseConsumer --context sts:ExternalId=partner-7`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			log := slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: slog.LevelWarn}))
			fail := func(err error) error {
				fmt.Fprintln(cmd.ErrOrStderr(), "allot:", err)
				return exitCode(2)
			}
			if principal == "" || action == "" {
				return fail(errors.New("--principal and --action are required"))
			}
			if output != "table" && output != "json" {
				return fail(fmt.Errorf("--output %q: want table or json", output))
			}
			db, err := storage.open(ctx, log, store.Options{ReadOnly: true})
			if err != nil {
				return fail(err)
			}
			defer db.Close()
			az := authz.New(db, nil)
			req, err := explainRequest(ctx, db, az, principal, action, resource, owner, context)
			if err != nil {
				return fail(err)
			}
			res, preq, err := az.Decide(ctx, req)
			if err != nil {
				return fail(err)
			}
			if err := printExplanation(cmd.OutOrStdout(), output, res, preq); err != nil {
				return fail(err)
			}
			if res.Decision != policy.Allow {
				return exitCode(1)
			}
			return nil
		},
	}
	fs := cmd.Flags()
	storage.register(fs, getenv)
	fs.StringVar(&principal, "principal", "", "ARN of the user, role, assumed-role session or root to explain for (required)")
	fs.StringVar(&action, "action", "", "the action, SERVICE:OPERATION, e.g. license-manager:CheckoutLicense (required)")
	fs.StringVar(&resource, "resource", "*", "ARN of the resource acted on")
	fs.StringVar(&owner, "resource-account", "", "account that owns the resource; default the account in the resource ARN, else the principal's")
	fs.StringArrayVar(&context, "context", nil, "condition key and value, KEY=VALUE (repeatable)")
	fs.StringVarP(&output, "output", "o", "table", "output format: table or json")
	return cmd
}

var (
	roleARNRe    = regexp.MustCompile(`^arn:aws:iam::(\d{12}):role/(?:.*/)?([\w+=,.@-]+)$`)
	userARNRe    = regexp.MustCompile(`^arn:aws:iam::(\d{12}):user/(?:.*/)?([\w+=,.@-]+)$`)
	sessionARNRe = regexp.MustCompile(`^arn:aws:sts::(\d{12}):assumed-role/([\w+=,.@-]+)/([\w+=,.@-]+)$`)
	rootARNRe    = regexp.MustCompile(`^arn:aws:iam::(\d{12}):root$`)
	accountInARN = regexp.MustCompile(`^arn:[^:]*:[^:]*:[^:]*:(\d{12}):`)
)

// explainRequest builds the authorization request for a principal given by ARN.
func explainRequest(ctx context.Context, db *store.DB, az *authz.Authorizer, principalARN, action, resource, owner string, kvs []string) (*authz.Request, error) {
	p, err := principalByARN(ctx, db, principalARN)
	if err != nil {
		return nil, err
	}
	if policy.WildcardOnly(action) {
		resource = "*"
	}
	req := &authz.Request{Principal: p, Action: action, Resource: resource, ResourceAccount: owner, Context: map[string][]string{}}
	if owner == "" {
		if m := accountInARN.FindStringSubmatch(resource); m != nil {
			req.ResourceAccount = m[1]
		}
	}
	for _, kv := range kvs {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("--context %q: want KEY=VALUE", kv)
		}
		req.Context[k] = append(req.Context[k], v)
	}
	if m := roleARNRe.FindStringSubmatch(resource); m != nil && strings.HasPrefix(strings.ToLower(action), "sts:") {
		var role *store.Role
		err := db.View(ctx, func(tx *store.Tx) error {
			var err error
			role, err = tx.Role(ctx, m[1], m[2])
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("role %s: %w", resource, err)
		}
		trust, err := az.Parse(role.AssumeRolePolicy, policy.KindTrust)
		if err != nil {
			return nil, fmt.Errorf("trust policy of %s: %w", resource, err)
		}
		req.ResourcePolicy = trust
	}
	return req, nil
}

// principalByARN resolves a principal ARN against the database.
func principalByARN(ctx context.Context, db *store.DB, arn string) (*identity.Principal, error) {
	if m := rootARNRe.FindStringSubmatch(arn); m != nil {
		return identity.Root(m[1], ""), nil
	}
	var p *identity.Principal
	err := db.View(ctx, func(tx *store.Tx) error {
		switch m := userARNRe.FindStringSubmatch(arn); {
		case m != nil:
			u, err := tx.User(ctx, m[1], m[2])
			if err != nil {
				return err
			}
			p = &identity.Principal{Kind: identity.KindIAMUser, AccountID: u.AccountID, ARN: u.ARN, PrincipalID: u.ID, UserName: u.Name}
			return nil
		}
		session := "explain"
		m := roleARNRe.FindStringSubmatch(arn)
		if s := sessionARNRe.FindStringSubmatch(arn); s != nil {
			m, session = s[:3], s[3]
		}
		if m == nil {
			return fmt.Errorf("%q is not the ARN of a user, role, assumed-role session or root", arn)
		}
		r, err := tx.Role(ctx, m[1], m[2])
		if err != nil {
			return err
		}
		p = &identity.Principal{
			Kind: identity.KindAssumedRole, AccountID: r.AccountID, PrincipalID: r.ID + ":" + session,
			ARN:     "arn:aws:sts::" + r.AccountID + ":assumed-role/" + r.Name + "/" + session,
			RoleARN: r.ARN, RoleName: r.Name, SessionName: session,
		}
		return nil
	})
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("principal %s does not exist", arn)
	}
	return p, err
}

func printExplanation(w io.Writer, format string, res *policy.Result, req *policy.Request) error {
	if format == "json" {
		type step struct {
			Type      string `json:"type"`
			Policy    string `json:"policy"`
			Statement int    `json:"statement"`
			Sid       string `json:"sid,omitempty"`
			Effect    string `json:"effect"`
			Matched   bool   `json:"matched"`
			Why       string `json:"whyNot,omitempty"`
		}
		out := struct {
			Decision           string   `json:"decision"`
			DecidedBy          string   `json:"decidedBy,omitempty"`
			Message            string   `json:"message,omitempty"`
			Action             string   `json:"action"`
			Resource           string   `json:"resource"`
			Trace              []step   `json:"trace"`
			MissingContextKeys []string `json:"missingContextKeys,omitempty"`
		}{Decision: res.Decision.String(), DecidedBy: string(res.DecidedBy), Message: res.Message(req),
			Action: req.Action, Resource: req.Resource, Trace: []step{}, MissingContextKeys: res.MissingContextKeys}
		for _, s := range res.Trace {
			out.Trace = append(out.Trace, step{string(s.Type), s.Policy, s.Statement, s.Sid, s.Effect, s.Matched, s.Why})
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	verdict := map[policy.Decision]string{policy.Allow: "ALLOWED", policy.ImplicitDeny: "DENIED (implicitly: nothing allows it)",
		policy.ExplicitDeny: "DENIED (explicitly: a statement denies it)"}[res.Decision]
	fmt.Fprintf(w, "%s\n  principal: %s\n  action:    %s\n  resource:  %s\n\n", verdict, req.Principal.ARN, req.Action, req.Resource)
	if msg := res.Message(req); msg != "" {
		fmt.Fprintln(w, msg)
	} else if res.DecidedBy != "" {
		fmt.Fprintf(w, "Allowed by the %s.\n", res.DecidedBy)
	}
	if len(res.Trace) == 0 {
		fmt.Fprintln(w, "\nNo policy statement was evaluated.")
	} else {
		fmt.Fprintln(w)
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "POLICY TYPE\tPOLICY\tSTATEMENT\tEFFECT\tMATCHED\tWHY NOT")
		for _, s := range res.Trace {
			stmt := fmt.Sprintf("#%d", s.Statement)
			if s.Sid != "" {
				stmt += " " + s.Sid
			}
			matched := "no"
			if s.Matched {
				matched = "yes"
			}
			why := s.Why
			if why != "" {
				why = "the " + why + " does not match"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", s.Type, s.Policy, stmt, s.Effect, matched, why)
		}
		tw.Flush()
	}
	if len(res.MissingContextKeys) > 0 {
		fmt.Fprintf(w, "\nCondition keys the request lacked (give them with --context): %s\n", strings.Join(res.MissingContextKeys, ", "))
	}
	return nil
}
