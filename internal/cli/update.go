package cli

import "github.com/spf13/cobra"

func newUpdateCmd(a *app) *cobra.Command {
	var (
		rf     resolveFlags
		dryRun bool
		format string
	)
	cmd := &cobra.Command{
		Use:   "update [PATH...]",
		Short: "Move pinned references to the current digest of their tag",
		Long: `Update resolves the tag of every pinned reference (for actions, the version in
the comment) and moves the pin to the digest or commit the tag points to now,
reporting each move as "nginx:1-alpine sha256:old → sha256:new". Pins that
are current are left byte-identical; unpinned references are left to
"stet pin". If any tag cannot be resolved, no file is changed and stet
exits 3.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkFormat(format); err != nil {
				return err
			}
			return a.rewrite(cmd, args, rewriteOptions{op: opUpdate, rf: &rf, dryRun: dryRun, format: format})
		},
	}
	addResolveFlags(cmd, &rf)
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "print a unified diff of the changes and write nothing")
	cmd.Flags().StringVar(&format, "format", "text", "output format: text or json")
	return cmd
}
