// Package cli implements stet's command line: one file per verb. Commands
// parse flags, call the library packages, and hand the data to a formatter;
// they hold no logic of their own beyond wiring.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
)

// Run executes stet with args and returns the process exit code.
func Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	a := &app{stdin: stdin, stdout: stdout, stderr: stderr}
	root := newRootCmd(a)
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	code := codeOf(err)
	var e *exitError
	if !errors.As(err, &e) {
		if isUsage(err) {
			code = ExitUsage
		} else if errors.Is(err, context.Canceled) {
			err = errors.New("interrupted")
		}
	}
	if msg := err.Error(); msg != "" && !(errors.As(err, &e) && e.err == nil) {
		fmt.Fprintf(stderr, "stet: %s\n", msg)
		if code == ExitUsage && isUsage(err) {
			fmt.Fprintf(stderr, "Run 'stet --help' for usage.\n")
		}
	}
	return code
}

// isUsage recognises cobra's own argument and flag errors.
func isUsage(err error) bool {
	msg := err.Error()
	for _, s := range []string{"unknown command", "unknown flag", "unknown shorthand flag", "flag needs an argument", "invalid argument", "accepts ", "requires at least", "required flag", "if any flags in the group"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

func newRootCmd(a *app) *cobra.Command {
	root := &cobra.Command{
		Use:   "stet",
		Short: "Make container delivery immutable",
		Long: `stet finds every mutable reference in a repository (image tags in Dockerfiles,
compose, Kubernetes, Helm values and Kustomize files; GitHub Actions and GitLab
CI), pins them to digests without disturbing a byte around them, keeps a
lockfile, catches a tag that moved upstream, and explains what changed inside
an image down to the OS package.

Exit codes: 0 clean, 1 findings or differences, 2 usage or input error,
3 runtime failure (registry unreachable, authentication).

Environment:
  DOCKER_CONFIG    where registry credentials are read (default ~/.docker)
  STET_GIT_TOKEN   token for actions in private repositories, sent to the
                   actions.gitURL host over HTTPS
  GITHUB_TOKEN     the same, used when STET_GIT_TOKEN is unset, and only
                   for https://github.com
  XDG_CACHE_HOME   the layer cache lives in its stet directory
  NO_COLOR         no colours in output`,
		SilenceUsage:      true,
		SilenceErrors:     true,
		DisableAutoGenTag: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error { return a.setup(cmd) },
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return withCode(ExitUsage, err) })
	a.addGlobalFlags(root)
	root.AddCommand(
		newVersionCmd(a),
		newRefsCmd(a),
		newCheckCmd(a),
		newPinCmd(a),
		newUnpinCmd(a),
		newUpdateCmd(a),
		newLockCmd(a),
		newVerifyCmd(a),
		newInventoryCmd(a),
		newDiffCmd(a),
		newInitCmd(a),
		newReleaseCmd(a),
		newDemoCmd(a),
	)
	// Added here rather than lazily by cobra so the generated reference lists it.
	root.InitDefaultCompletionCmd()
	return root
}
