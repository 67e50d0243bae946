package main

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/allot-dev/allot/internal/audit"
	"github.com/allot-dev/allot/internal/store"
)

func newAuditCommand(getenv func(string) string) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "Inspect the audit trail",
		Long: `Inspect Allot's audit trail. Every authenticated API call (allowed, denied or failed) is
recorded as a CloudTrail-shaped event; read events with "aws cloudtrail lookup-events".`,
	}
	cmd.AddCommand(newAuditVerifyCommand(getenv))
	return cmd
}

func newAuditVerifyCommand(getenv func(string) string) *cobra.Command {
	var (
		storage storageFlags
		output  string
	)
	cmd := &cobra.Command{
		Use:   "verify",
		Short: "Check that no audit event was changed or removed",
		Long: `Check every audit chain in the database. Each server writer (the SQLite writer, or each
writer of each node on PostgreSQL) links its events into a chain: every event carries the
SHA-256 hash of its content and of the event before it. verify recomputes the chains and
reports, per chain, whether it is intact or the first event that was edited, removed or
reordered.

It reads the same database as the server (same --data-dir, --database and master key) and
may run while the server runs. Exit status: 0 when every chain is intact, 1 when one is not,
2 when the database cannot be read.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			log := slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: slog.LevelWarn}))
			db, err := storage.open(ctx, log, store.Options{ReadOnly: true})
			if err != nil {
				fmt.Fprintln(cmd.ErrOrStderr(), "allot:", err)
				return exitCode(2)
			}
			defer db.Close()
			chains, err := db.AuditChains(ctx)
			if err != nil {
				fmt.Fprintln(cmd.ErrOrStderr(), "allot:", err)
				return exitCode(2)
			}
			reports := make([]chainResult, 0, len(chains))
			for _, ch := range chains {
				v := audit.NewChainVerifier(ch.ID)
				err := db.ScanAuditChain(ctx, ch.ID, func(r *audit.Record) error {
					v.Add(r)
					return nil
				})
				if err != nil {
					fmt.Fprintln(cmd.ErrOrStderr(), "allot:", err)
					return exitCode(2)
				}
				reports = append(reports, chainResult{ChainReport: v.Report(), NodeID: ch.NodeID, Writer: ch.Writer, StartedAt: ch.StartedAt.UTC().Format("2006-01-02T15:04:05Z")})
			}
			if err := printVerify(cmd.OutOrStdout(), output, reports); err != nil {
				return err
			}
			for _, r := range reports {
				if !r.Intact {
					return exitCode(1)
				}
			}
			return nil
		},
	}
	storage.register(cmd.Flags(), getenv)
	cmd.Flags().StringVarP(&output, "output", "o", "table", "output format: table or json")
	return cmd
}

type chainResult struct {
	audit.ChainReport
	NodeID    string `json:"nodeId"`
	Writer    int    `json:"writer"`
	StartedAt string `json:"startedAt"`
}

func printVerify(w io.Writer, format string, reports []chainResult) error {
	switch format {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(map[string]any{"chains": reports})
	case "table":
	default:
		return fmt.Errorf("--output %q: want table or json", format)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CHAIN\tNODE\tWRITER\tSTARTED\tEVENTS\tSTATUS")
	broken := 0
	var total int64
	for _, r := range reports {
		status := "intact"
		if !r.Intact {
			broken++
			status = "BROKEN: " + r.Problem
		}
		total += r.Records
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%d\t%s\n", r.ChainID, r.NodeID, r.Writer, r.StartedAt, r.Records, status)
	}
	tw.Flush()
	if broken == 0 {
		fmt.Fprintf(w, "\nAll %d chains intact (%d events).\n", len(reports), total)
	} else {
		fmt.Fprintf(w, "\n%d of %d chains BROKEN.\n", broken, len(reports))
	}
	return nil
}
