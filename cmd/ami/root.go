package main

import (
	"github.com/spf13/cobra"
)

func newRootCmd(a *app) *cobra.Command {
	root := &cobra.Command{
		Use:   "ami",
		Short: "Asterisk Manager Interface worker and toolbox",
		Long: `ami listens to Asterisk PBXs over the Manager Interface (AMI) and prints their
events, sends actions, and checks configurations. Logs go to stderr; events
and results to stdout.

Exit status: 0 success (graceful shutdown on SIGINT/SIGTERM included),
1 runtime failure, 2 usage or configuration error.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError(err) })
	root.CompletionOptions.DisableDefaultCmd = true
	root.AddCommand(newListenCmd(a), newActionCmd(a), newDemoCmd(a), newCheckCmd(a), newVersionCmd(a))
	return root
}
