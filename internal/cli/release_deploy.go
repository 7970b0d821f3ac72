package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/stet-dev/stet/release"
	"github.com/stet-dev/stet/render"
)

func newReleasePromoteCmd(a *app, fl *releaseFlags) *cobra.Command {
	var envName, app, reason string
	cmd := &cobra.Command{
		Use:   "promote REL --env ENV",
		Short: "Deploy a release to an environment: record the event",
		Long: `Promote records that a release is deployed to an environment, after checking
that every one of its digests still exists in its registry (a missing one
fails with exit 1 and records nothing). The event joins the environment's
hash-chained history. REL is r42, an ID prefix, or another environment's
name (promote staging --env production promotes what staging runs).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkEnvName("--env", envName); err != nil {
				return err
			}
			return a.readLedger(cmd, fl, func(ctx context.Context, env *releaseEnv) error {
				r, err := env.find(ctx, app, args[0])
				if err != nil {
					return err
				}
				missing, err := env.checkDigests(ctx, r)
				if err != nil {
					return withCode(codeOf(err), fmt.Errorf("%w\nnothing was recorded", err))
				}
				if len(missing) > 0 {
					printMissing(a.stderr, missing)
					return withCode(ExitFindings, fmt.Errorf("%s cannot be deployed: %d image(s) no longer exist; nothing was recorded", r.Label(), len(missing)))
				}
				ev, err := env.appendEvent(ctx, envName, release.Promote, r, reason)
				if err != nil {
					return err
				}
				if fl.format == "json" {
					return writeJSON(cmd.OutOrStdout(), ev)
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s: %s promoted (#%d)\n", envName, r.Label(), ev.Sequence)
				printImages(cmd.OutOrStdout(), r)
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&envName, "env", "", "the environment deployed to (required)")
	cmd.Flags().StringVar(&app, "app", "", "the app whose r42 is meant (needed when the ledger holds several)")
	cmd.Flags().StringVar(&reason, "reason", "", "why, recorded with the event")
	cmd.MarkFlagRequired("env")
	return cmd
}

// promoteAttempts bounds how often a promotion re-reads the head after
// another writer took the environment's next place.
const promoteAttempts = 8

// appendEvent records a promotion after the environment's newest event,
// reading the head again, after a random pause that grows with each
// attempt, when another writer got there first.
func (e *releaseEnv) appendEvent(ctx context.Context, envName string, action release.Action, r release.Release, reason string) (release.Event, error) {
	var last error
	for attempt := 0; attempt < promoteAttempts; attempt++ {
		if attempt > 0 {
			pause := time.Duration(rand.Int64N(int64(25*time.Millisecond) << min(attempt, 5)))
			select {
			case <-ctx.Done():
				return release.Event{}, withCode(ExitFailure, ctx.Err())
			case <-time.After(pause):
			}
		}
		head, err := e.ledger.History(ctx, envName, release.ListOptions{Limit: 2})
		if err != nil {
			return release.Event{}, ledgerErr(fmt.Errorf("%w\nnothing was recorded", err))
		}
		if err := release.VerifyHead(envName, head); err != nil {
			return release.Event{}, ledgerErr(fmt.Errorf("%w\nnothing was recorded", err))
		}
		var h release.Event
		if len(head) > 0 {
			h = head[0]
			if h.Release == r.ID {
				return release.Event{}, usageErrorf("%s already runs %s", envName, r.Label())
			}
		}
		ev, err := e.ledger.AppendEvent(ctx, release.NewEvent(envName, action, r, h, creator(), reason))
		if err == nil {
			return ev, nil
		}
		if !errors.Is(err, release.ErrConflict) {
			return release.Event{}, ledgerErr(fmt.Errorf("recording the %s: %w", action, err))
		}
		last = err
	}
	return release.Event{}, withCode(ExitFailure, fmt.Errorf("recording the %s: %w", action, last))
}

func printMissing(w io.Writer, missing []missingImage) {
	for _, m := range missing {
		who := m.Name
		if m.Release != "" {
			who = m.Release + " " + m.Name
		}
		fmt.Fprintf(w, "stet: %s: %s no longer exists in its registry\n", who, m.Image)
	}
}

func newReleaseRollbackCmd(a *app, fl *releaseFlags) *cobra.Command {
	var (
		envName, to, reason string
		paths               []string
		dryRun              bool
	)
	cmd := &cobra.Command{
		Use:   "rollback --env ENV [--to REL] [--render PATH...] [--dry-run]",
		Short: "Redeploy an earlier release's exact digests; never rebuild",
		Long: `Rollback redeploys the release an environment ran before the current one (or
--to REL): the newest earlier release of the same app whose image digests
differ from the current one's and from every release a rollback in this
history removed, so rolling back twice never returns to what the first
rollback removed. Releases are compared by their digests, not their numbers:
a rebuild with the same digests is the same release. --to refuses a release
with the current digests.

Before recording anything it checks that every digest of that release still
exists in its registry: a missing one means the rollback cannot be
reproduced, and stet exits 1 having recorded nothing (3 when a registry
cannot be asked). With --render it rewrites the Kubernetes, compose,
Kustomize and Helm values files under the paths to those digests (and
tags), byte for byte outside the references; a reference to a release image
that cannot be rewritten in place stops the rollback (exit 2) before
anything is recorded. Then it records the rollback event and prints the
digests: as text, or with --format json as a name → digest map for CD
systems. --dry-run prints what would be deployed and the file changes, and
records and writes nothing.

Nothing is ever built: the digests are the ones recorded when the release
was created.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkEnvName("--env", envName); err != nil {
				return err
			}
			return a.readLedger(cmd, fl, func(ctx context.Context, env *releaseEnv) error {
				return env.rollback(cmd, envName, to, paths, dryRun, reason)
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&envName, "env", "", "the environment to roll back (required)")
	f.StringVar(&to, "to", "", "the release to redeploy (default: the one deployed before the current one)")
	f.StringArrayVar(&paths, "render", nil, "rewrite the deployment files under PATH to the release's digests (repeatable)")
	f.BoolVar(&dryRun, "dry-run", false, "print what would be deployed and the file changes; record and write nothing")
	f.StringVar(&reason, "reason", "", "why, recorded with the event")
	cmd.MarkFlagRequired("env")
	return cmd
}

func (e *releaseEnv) rollback(cmd *cobra.Command, envName, to string, paths []string, dryRun bool, reason string) error {
	ctx := cmd.Context()
	out := cmd.OutOrStdout()
	hist, err := e.ledger.History(ctx, envName, release.ListOptions{})
	if err != nil {
		return ledgerErr(err)
	}
	if len(hist) == 0 {
		return usageErrorf("nothing was deployed to %s, so nothing can be rolled back", envName)
	}
	// The whole history chooses the target, so the whole chain is checked,
	// not only the events PlanRollback looks at.
	oldestFirst := slices.Clone(hist)
	slices.Reverse(oldestFirst)
	if err := release.VerifyChain(envName, oldestFirst); err != nil {
		return ledgerErr(fmt.Errorf("rolling back %s: %w\nnothing was recorded", envName, err))
	}
	cur, err := e.ledger.GetRelease(ctx, "", hist[0].Release)
	if err != nil {
		return ledgerErr(err)
	}
	if err := release.CheckEventRelease(hist[0], cur); err != nil {
		return ledgerErr(fmt.Errorf("rolling back %s: %w", envName, &release.ChainError{Env: envName, Sequence: hist[0].Sequence, ID: hist[0].ID, Reason: err.Error()}))
	}
	target := ""
	if to != "" {
		r, err := e.find(ctx, cur.App, to)
		if err != nil {
			return err
		}
		target = r.ID
	}
	plan, err := release.PlanRollback(hist, target, func(id string) (release.Release, error) {
		return e.ledger.GetRelease(ctx, "", id)
	})
	if err != nil {
		return ledgerErr(fmt.Errorf("rolling back %s: %w", envName, err))
	}
	rel, err := e.ledger.GetRelease(ctx, "", plan.Target)
	if err != nil {
		return ledgerErr(err)
	}
	missing, err := e.checkDigests(ctx, rel)
	if err != nil {
		return withCode(codeOf(err), fmt.Errorf("%w\nnothing was recorded", err))
	}
	if len(missing) > 0 {
		printMissing(e.a.stderr, missing)
		return withCode(ExitFindings, fmt.Errorf("the rollback of %s to %s cannot be reproduced: %d image(s) no longer exist; nothing was recorded", envName, rel.Label(), len(missing)))
	}
	var rendered *render.Result
	if len(paths) > 0 {
		if rendered, err = e.render(cmd, paths, rel, &cur); err != nil {
			return withCode(codeOf(err), fmt.Errorf("%w\nnothing was recorded", err))
		}
	}
	if dryRun {
		if e.fl.format == "json" {
			return writeJSON(out, rel.Digests())
		}
		fmt.Fprintf(out, "would roll back %s: %s → %s\n", envName, cur.Label(), rel.Label())
		printImages(out, rel)
		if rendered != nil {
			return rendered.Diff(out)
		}
		return nil
	}
	ev, err := e.ledger.AppendEvent(ctx, release.NewEvent(envName, release.Rollback, rel, hist[0], creator(), reason))
	if err != nil {
		if errors.Is(err, release.ErrConflict) {
			return withCode(ExitFailure, fmt.Errorf("%s changed while rolling back (another deployment was recorded): %w\nnothing was recorded; run the rollback again", envName, err))
		}
		return ledgerErr(fmt.Errorf("recording the rollback: %w\nnothing was recorded", err))
	}
	if rendered != nil && len(rendered.Files) > 0 {
		if err := rendered.Write(); err != nil {
			return withCode(ExitFailure, fmt.Errorf("the rollback was recorded (#%d) but the files were not written: %w\nrun: stet release render %s %s", ev.Sequence, err, release.ShortID(rel.ID), strings.Join(paths, " ")))
		}
	}
	if e.fl.format == "json" {
		return writeJSON(out, rel.Digests())
	}
	fmt.Fprintf(out, "%s rolled back: %s → %s (#%d)\n", envName, cur.Label(), rel.Label(), ev.Sequence)
	printImages(out, rel)
	if rendered != nil {
		e.printRendered(rendered, true)
	}
	return nil
}

// render rewrites the deployment files under paths to rel's digests, in
// memory. A file that cannot be parsed, or a reference to a release image
// that cannot be rewritten, is an input error.
func (e *releaseEnv) render(cmd *cobra.Command, paths []string, rel release.Release, from *release.Release) (*render.Result, error) {
	rep, err := e.a.walk(cmd, paths, e.c)
	if err != nil {
		return nil, err
	}
	res, err := render.Files(cmd.Context(), rep.Files, rel, render.Options{From: from})
	if err != nil {
		if cmd.Context().Err() != nil {
			return nil, withCode(ExitFailure, errors.New("interrupted"))
		}
		return nil, withCode(ExitUsage, err)
	}
	if len(res.Skipped) > 0 {
		for _, s := range res.Skipped {
			fmt.Fprintf(e.a.stderr, "stet: %v\n", s)
		}
		return nil, withCode(ExitUsage, fmt.Errorf("%d reference(s) to %s's images cannot be rendered; no file was written", len(res.Skipped), rel.Label()))
	}
	return res, nil
}

// printRendered reports a rendering on stderr (stdout carries the
// digests, for scripts).
func (e *releaseEnv) printRendered(res *render.Result, written bool) {
	w := e.a.stderr
	for _, n := range res.Notes {
		fmt.Fprintf(w, "stet: note: %s:%d: %s\n", n.File, n.Line, n.Message)
	}
	if len(res.Unused) > 0 {
		fmt.Fprintf(w, "stet: note: no rendered file refers to %s\n", strings.Join(res.Unused, ", "))
	}
	verb := "rendered"
	if !written {
		verb = "would render"
	}
	fmt.Fprintf(w, "%s %d reference(s) in %d file(s); %d already at the release's digests\n", verb, len(res.Changes), len(res.Files), res.Unchanged)
}

func newReleaseRenderCmd(a *app, fl *releaseFlags) *cobra.Command {
	var (
		app    string
		dryRun bool
	)
	cmd := &cobra.Command{
		Use:   "render REL PATH...",
		Short: "Rewrite deployment files to a release's exact digests",
		Long: `Render rewrites the Kubernetes manifests, compose files, Kustomize
kustomizations and Helm values files under the paths so that every image of
the release is named by its recorded digest (and tag), changing no byte
outside those references. References to images that are not in the release
are left alone; a reference to a release image that cannot be rewritten in
place (built from variables) fails the rendering with exit 2 and nothing is
written. Files are replaced atomically. --dry-run prints a unified diff.

REL is r42, an ID prefix, or an environment's name for what runs there.`,
		Args: cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.readLedger(cmd, fl, func(ctx context.Context, env *releaseEnv) error {
				rel, err := env.find(ctx, app, args[0])
				if err != nil {
					return err
				}
				res, err := env.render(cmd, args[1:], rel, nil)
				if err != nil {
					return err
				}
				out := cmd.OutOrStdout()
				if dryRun {
					if fl.format == "json" {
						return writeJSON(out, res)
					}
					env.printRendered(res, false)
					return res.Diff(out)
				}
				if err := res.Write(); err != nil {
					return withCode(ExitFailure, err)
				}
				if fl.format == "json" {
					return writeJSON(out, res)
				}
				for _, c := range res.Changes {
					fmt.Fprintf(out, "%s:%d: %s → %s\n", c.File, c.Line, c.Reference, c.Written)
				}
				env.printRendered(res, true)
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&app, "app", "", "the app whose r42 is meant (needed when the ledger holds several)")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "print a unified diff of the changes and write nothing")
	return cmd
}
