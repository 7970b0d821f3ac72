package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/spf13/cobra"

	"github.com/stet-dev/stet/lock"
	"github.com/stet-dev/stet/report"
	"github.com/stet-dev/stet/rules"
)

func newVerifyCmd(a *app) *cobra.Command {
	var (
		rf       resolveFlags
		offline  bool
		lockPath string
		format   string
	)
	cmd := &cobra.Command{
		Use:   "verify [PATH...]",
		Short: "Check files against stet.lock, and stet.lock against registries",
		Long: `Verify compares the references in the files with stet.lock (STET010: a
reference missing from the lock, pinned to another digest than the lock
records, or a lock entry no file uses any more when the whole repository is
verified), then, unless --offline, the lock with the registries and git
hosts: STET011 when a tag moved since it was locked ("nginx:1-alpine moved:
sha256:aaa… → sha256:bbb…, locked 2026-11-02"), STET012 when a locked digest
no longer exists, STET013 when an action's commit does not match its
version comment.

Exit status 1 on any finding, 3 when a registry or git host could not be
asked (the findings obtained are still printed), 2 without a stet.lock.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			f, err := report.ParseFormat(format, report.CheckFormats())
			if err != nil {
				return withCode(ExitUsage, err)
			}
			return a.runVerify(cmd, args, &rf, offline, lockPath, f)
		},
	}
	addResolveFlags(cmd, &rf)
	cmd.Flags().BoolVar(&offline, "offline", false, "compare files with stet.lock only; ask no registry")
	cmd.Flags().StringVar(&lockPath, "lock", "", "lock file to verify against (default: stet.lock at the repository root)")
	cmd.Flags().StringVar(&format, "format", "text", "output format: text, json, sarif or github")
	return cmd
}

func (a *app) runVerify(cmd *cobra.Command, paths []string, rf *resolveFlags, offline bool, lockPath string, format report.Format) error {
	ctx := cmd.Context()
	c, rep, refs, err := a.scanFiles(cmd, paths)
	if err != nil {
		return err
	}
	lockPath = lockFile(c, lockPath)
	lk, _, err := readLock(lockPath)
	if errors.Is(err, fs.ErrNotExist) {
		return usageErrorf("no lock at %s (run stet lock first)", relPath(lockPath))
	}
	if err != nil {
		return err
	}
	ruleCfg, err := rules.ConfigFrom(c.Rules)
	if err != nil {
		return withCode(ExitUsage, err)
	}
	// Findings name files as the walk does (relative to the working
	// directory); lock sites are relative to the lock's directory.
	lockDir := filepath.Dir(lockPath)
	shown := relPath(lockPath)
	for i := range lk.References {
		for j := range lk.References[i].Sites {
			s := &lk.References[i].Sites[j]
			s.File = fromLock(lockDir, s.File)
		}
	}
	whole := under(lockDir, absPaths(paths))
	findings := lock.VerifyFiles(lk, shown, refs, lock.FilesOptions{Stale: whole})
	var remoteErr error
	if !offline {
		res, client, err := a.newResolver(c, rf)
		if err != nil {
			return err
		}
		askedAt := func(image string) string {
			r, err := name.ParseReference(image)
			if err != nil {
				return ""
			}
			if m := client.Mirror(r).Context(); m.String() != r.Context().String() {
				return m.String()
			}
			return ""
		}
		remote, err := lock.VerifyRemote(ctx, lk, shown, refs, lock.ResolverRemote(res), lock.RemoteOptions{Concurrency: rf.concurrency, AskedAt: askedAt})
		findings = append(findings, remote...)
		remoteErr = err
	}
	findings = rules.Apply(findings, rep.Files, ruleCfg)

	rc := report.Check{Findings: findings, Files: len(rep.Files), References: len(refs)}
	if remoteErr != nil && (format == report.JSON || format == report.SARIF) {
		// Machine readers see the unanswered questions too (text readers
		// get them on stderr below).
		rc.Errors = append(rc.Errors, dedupe(unjoin(remoteErr))...)
	}
	base, _ := filepath.Abs(repoRoot(c))
	if err := report.WriteCheck(cmd.OutOrStdout(), format, rc, report.Options{
		Color:       a.color(cmd.OutOrStdout()),
		ToolVersion: readVersion().Version,
		BaseDir:     base,
		ReadFile:    os.ReadFile,
	}); err != nil {
		return err
	}
	if remoteErr != nil {
		if ctx.Err() != nil {
			return withCode(ExitFailure, errors.New("interrupted"))
		}
		return withCode(ExitFailure, fmt.Errorf("verifying against registries: %w", remoteErr))
	}
	if errs, _ := rc.Counts(); errs > 0 {
		return withCode(ExitFindings, nil)
	}
	return nil
}

// unjoin splits an errors.Join into its errors.
func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}
