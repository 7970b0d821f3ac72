package cli

import "github.com/spf13/cobra"

func newUnpinCmd(a *app) *cobra.Command {
	var (
		dryRun bool
		format string
	)
	cmd := &cobra.Command{
		Use:   "unpin [PATH...]",
		Short: "Remove digests from references, keeping their tags",
		Long: `Unpin removes the digest of every pinned reference and keeps its tag:
nginx:1-alpine@sha256:… becomes nginx:1-alpine; an action pinned to a commit
with a version comment (actions/checkout@<commit> # v4.2.2) becomes
actions/checkout@v4.2.2. A Helm or Kustomize digest field becomes "".
References pinned by digest alone, and actions without a version comment,
have nothing to fall back on: they are left as they are, with a warning.
No network access.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkFormat(format); err != nil {
				return err
			}
			return a.rewrite(cmd, args, rewriteOptions{op: opUnpin, dryRun: dryRun, format: format})
		},
	}
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "print a unified diff of the changes and write nothing")
	cmd.Flags().StringVar(&format, "format", "text", "output format: text or json")
	return cmd
}
