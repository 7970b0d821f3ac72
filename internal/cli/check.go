package cli

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/stet-dev/stet/config"
	"github.com/stet-dev/stet/lock"
	"github.com/stet-dev/stet/report"
	"github.com/stet-dev/stet/rules"
)

func newCheckCmd(a *app) *cobra.Command {
	var format, lockPath string
	cmd := &cobra.Command{
		Use:   "check [PATH…]",
		Short: "Lint references offline: unpinned images and actions, unpinned installs, lock agreement",
		Long: `Check lints every file under the paths (default: the current directory)
without touching the network: images and actions not pinned by digest,
references built from variables without a value, installs without versions
in RUN lines and CI scripts, and, when a stet.lock exists, files that
disagree with it. Rules and their severities are in docs/rules.md; change a
severity in .stet.yaml (rules: {STET020: off}) or suppress one finding with a
"# stet:ignore STET001 reason" comment at the end of its line or alone on the
line above.

Exit status: 0 when no finding has error severity, 1 when one does, 2 when a
file could not be parsed (after every other file was checked).`,
		Example: `  stet check
  stet check examples/incident
  stet check --format sarif > stet.sarif
  stet check --format github   # annotations in a GitHub Actions job`,
		RunE: func(cmd *cobra.Command, args []string) error {
			f, err := report.ParseFormat(format, report.CheckFormats())
			if err != nil {
				return withCode(ExitUsage, err)
			}
			c, err := a.loadConfig(args)
			if err != nil {
				return err
			}
			if lockPath != "" && !fileExists(lockPath) {
				// A lock named on the command line must be there; only the
				// default one is optional.
				return usageErrorf("--lock: no lock at %s", lockPath)
			}
			rc, err := rulesConfig(c)
			if err != nil {
				return err
			}
			rep, err := a.walk(cmd, args, c)
			if err != nil {
				return err
			}
			out := report.Check{Files: len(rep.Files), Errors: inputErrors(rep)}
			var refs = refsOf(rep)
			out.References = len(refs)
			out.Findings = rules.Check(rep.Files, rc)
			lockFindings, err := lock.Check(lockFile(c, lockPath), refs, false)
			if err != nil {
				out.Errors = append(out.Errors, err)
			}
			if len(lockFindings) > 0 {
				out.Findings = rules.Apply(append(out.Findings, lockFindings...), rep.Files, rc)
			}
			base, _ := filepath.Abs(repoRoot(c))
			if err := report.WriteCheck(cmd.OutOrStdout(), f, out, report.Options{
				Color:       a.color(cmd.OutOrStdout()),
				ToolVersion: readVersion().Version,
				BaseDir:     base,
				ReadFile:    os.ReadFile,
			}); err != nil {
				return err
			}
			if len(out.Errors) > 0 {
				return withCode(ExitUsage, nil)
			}
			if errs, _ := out.Counts(); errs > 0 {
				return withCode(ExitFindings, nil)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&format, "format", "text", "output format: text, json, sarif or github")
	cmd.Flags().StringVar(&lockPath, "lock", "", "lock file to check against (default: stet.lock at the repository root, when it exists)")
	return cmd
}

// rulesConfig turns .stet.yaml's rule severities into the rules package's
// configuration; an unknown rule or severity is a usage error.
func rulesConfig(c *config.Config) (rules.Config, error) {
	rc, err := rules.ConfigFrom(c.Rules)
	if err != nil {
		return rc, withCode(ExitUsage, fmt.Errorf("%s: %w", c.Path, err))
	}
	return rc, nil
}
