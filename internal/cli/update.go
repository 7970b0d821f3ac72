package cli

import "github.com/spf13/cobra"

func newUpdateCmd(a *app) *cobra.Command {
	var (
		rf     resolveFlags
		ef     explainFlags
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
exits 3. When stet.lock exists, it is refreshed afterwards, as with pin.

--explain compares the old and the new image of every move and says what
changed inside: OS packages upgraded, downgraded, added and removed (with the
layer they came from) and config changes, on linux/amd64 or each --platform.
--format markdown writes it as a pull-request body: a title line, one
section per image with the verdict first, and the images that moved without
a readable package database. An old digest the registry no longer serves is
a note, not a failure (--explain-strict makes it one).

--only and --exclude select references by name: nginx, docker.io/library/nginx,
nginx:1-alpine, ghcr.io/acme/* (* matches across slashes), actions/checkout.
--min-age 72h leaves a new digest alone until its image was created that long
ago, by the creation time its config records (the youngest platform of an
index); an image without a creation time, and an action, whose commit's age
git does not record, are held back too. Each held reference is reported with
the reason.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkExplainFormat(format, &ef); err != nil {
				return err
			}
			return a.rewrite(cmd, args, rewriteOptions{op: opUpdate, rf: &rf, ex: &ef, dryRun: dryRun, format: format})
		},
	}
	addResolveFlags(cmd, &rf)
	addExplainFlags(cmd, &ef, true)
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "print a unified diff of the changes and write nothing")
	cmd.Flags().StringVar(&format, "format", "text", "output format: text, json, or markdown with --explain")
	return cmd
}
