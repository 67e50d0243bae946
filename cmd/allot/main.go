// Command allot is the Allot license manager: the server and its operator commands.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	os.Exit(Run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv))
}

// Run runs the allot command line with args and returns the process exit code.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	root := &cobra.Command{
		Use:   "allot",
		Short: "Allot: a self-hosted license manager that speaks the AWS License Manager API",
		Long: `Allot is a self-hosted license manager. It speaks the AWS License Manager API, and the
parts of IAM, STS and Organizations that cross-account licensing needs, over the real AWS
wire protocols with SigV4 authentication: the AWS CLI and SDKs work against it with an
endpoint override (--endpoint-url, BaseEndpoint).`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.AddCommand(newServerCommand(getenv), newAuditCommand(getenv), newExplainCommand(getenv), newKeysCommand(getenv), newBenchCommand(getenv), newDoctorCommand(), newAgentCommand(getenv))
	root.AddCommand(newDashboardCommand(), newAlertsCommand())
	if err := root.ExecuteContext(ctx); err != nil {
		if code, ok := err.(exitCode); ok {
			return int(code)
		}
		fmt.Fprintln(stderr, "allot:", err)
		return 1
	}
	return 0
}

// exitCode is returned by commands that have already reported their outcome and only need
// the process to exit with a given code.
type exitCode int

func (e exitCode) Error() string { return fmt.Sprintf("exit status %d", int(e)) }
