package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/stet-dev/stet/release"
)

func newReleaseListCmd(a *app, fl *releaseFlags) *cobra.Command {
	var (
		app   string
		limit int
	)
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List releases, newest first",
		Long: `List prints the releases of an app (--app), or of every app, newest first,
with their ID, creation time, git commit, image count and the environments
that run each now.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkLimit(limit); err != nil {
				return err
			}
			return a.readLedger(cmd, fl, func(ctx context.Context, env *releaseEnv) error {
				rels, err := env.ledger.ListReleases(ctx, app, release.ListOptions{Limit: limit})
				if err != nil {
					return ledgerErr(err)
				}
				deployed, broken, err := deployedTo(ctx, env.ledger)
				if err != nil {
					return ledgerErr(err)
				}
				out := cmd.OutOrStdout()
				if fl.format == "json" {
					if rels == nil {
						rels = []release.Release{}
					}
					dep := map[string]string{}
					for id, envs := range deployed {
						for _, e := range envs {
							dep[e] = id
						}
					}
					if err := writeJSON(out, struct {
						Releases []release.Release `json:"releases"`
						Deployed map[string]string `json:"deployed"`
					}{rels, dep}); err != nil {
						return err
					}
					return brokenHistories(broken)
				}
				if len(rels) == 0 {
					fmt.Fprintf(a.stderr, "no releases in %s\n", env.location)
					return brokenHistories(broken)
				}
				tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
				for _, r := range rels {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%d image(s)\t%s\t%s\n", r.Label(), release.ShortID(r.ID), r.Created.Format("2006-01-02 15:04"),
						len(r.Images), gitLabel(r.Git), strings.Join(deployed[r.ID], ","))
				}
				if err := tw.Flush(); err != nil {
					return err
				}
				return brokenHistories(broken)
			})
		},
	}
	cmd.Flags().StringVar(&app, "app", "", "only this app's releases")
	cmd.Flags().IntVarP(&limit, "limit", "n", 0, "at most this many releases (0: all)")
	return cmd
}

func gitLabel(g *release.Git) string {
	if g == nil {
		return "-"
	}
	s := shortCommit(g.Commit)
	if g.Dirty {
		s += "+dirty"
	}
	return s
}

func newReleaseShowCmd(a *app, fl *releaseFlags) *cobra.Command {
	var app string
	cmd := &cobra.Command{
		Use:   "show REL",
		Short: "Show one release: its digests and where it came from",
		Long: `Show prints a release: its ID, images with their exact digests, media types
and platforms, git commit, lockfile digest, parent, creator and
annotations, and the environments that run it now. REL is r42, a prefix of
the release's ID, or an environment's name for what is deployed there.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.readLedger(cmd, fl, func(ctx context.Context, env *releaseEnv) error {
				r, err := env.find(ctx, app, args[0])
				if err != nil {
					return err
				}
				out := cmd.OutOrStdout()
				if fl.format == "json" {
					return writeJSON(out, r)
				}
				deployed, broken, err := deployedTo(ctx, env.ledger)
				if err != nil {
					return ledgerErr(err)
				}
				printRelease(out, r, deployed[r.ID])
				return brokenHistories(broken)
			})
		},
	}
	cmd.Flags().StringVar(&app, "app", "", "the app whose r42 is meant (needed when the ledger holds several)")
	return cmd
}

func printRelease(w io.Writer, r release.Release, envs []string) {
	fmt.Fprintf(w, "%s  %s\n", r.Label(), r.ID)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "created\t%s by %s\n", r.Created.Format(release.TimeFormat), actorLabel(r.Creator))
	if len(r.Creator.CI) > 0 {
		keys := make([]string, 0, len(r.Creator.CI))
		for k := range r.Creator.CI {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var parts []string
		for _, k := range keys {
			parts = append(parts, k+"="+r.Creator.CI[k])
		}
		fmt.Fprintf(tw, "ci\t%s\n", strings.Join(parts, " "))
	}
	if r.Git != nil {
		fmt.Fprintf(tw, "git\t%s\n", gitLabel(&release.Git{Commit: r.Git.Commit, Dirty: r.Git.Dirty}))
	}
	if r.LockDigest != "" {
		fmt.Fprintf(tw, "lock\t%s\n", r.LockDigest)
	}
	if r.Parent != "" {
		fmt.Fprintf(tw, "parent\t%s\n", r.Parent)
	}
	for _, k := range slices.Sorted(maps.Keys(r.Annotations)) {
		fmt.Fprintf(tw, "annotation\t%s=%s\n", k, r.Annotations[k])
	}
	if len(envs) > 0 {
		fmt.Fprintf(tw, "deployed to\t%s\n", strings.Join(envs, ", "))
	}
	tw.Flush()
	fmt.Fprintf(w, "images (%d)\n", len(r.Images))
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, k := range r.Names() {
		im := r.Images[k]
		extra := ""
		if len(im.Platforms) > 0 {
			extra = strings.Join(im.Platforms, ",")
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", k, im.Pinned(), extra)
	}
	tw.Flush()
}

func actorLabel(c release.Creator) string {
	switch {
	case c.User != "" && c.Host != "":
		return c.User + "@" + c.Host
	case c.User != "":
		return c.User
	case c.Host != "":
		return "@" + c.Host
	}
	return "unknown"
}

func newReleaseHistoryCmd(a *app, fl *releaseFlags) *cobra.Command {
	var limit int
	cmd := &cobra.Command{
		Use:   "history ENV",
		Short: "List an environment's deployments, newest first",
		Long: `History prints the promotions and rollbacks of an environment, newest first:
sequence number, time, action, release, who and why.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkLimit(limit); err != nil {
				return err
			}
			if err := checkEnvName("environment", args[0]); err != nil {
				return err
			}
			return a.readLedger(cmd, fl, func(ctx context.Context, env *releaseEnv) error {
				evs, err := env.ledger.History(ctx, args[0], release.ListOptions{Limit: limit})
				if err != nil {
					return ledgerErr(err)
				}
				// The events are shown as recorded, and a break among them
				// is named: the whole chain when all of it was read.
				var broken error
				if limit == 0 || len(evs) < limit {
					oldestFirst := slices.Clone(evs)
					slices.Reverse(oldestFirst)
					broken = release.VerifyChain(args[0], oldestFirst)
				} else {
					broken = release.VerifySegment(evs)
				}
				if broken == nil {
					if broken, err = eventReleases(ctx, env.ledger, evs); err != nil {
						return ledgerErr(err)
					}
				}
				if broken != nil {
					broken = withCode(ExitFindings, fmt.Errorf("%w\nrun stet release verify", broken))
				}
				out := cmd.OutOrStdout()
				if fl.format == "json" {
					if evs == nil {
						evs = []release.Event{}
					}
					if err := writeJSON(out, struct {
						Env    string          `json:"env"`
						Events []release.Event `json:"events"`
					}{args[0], evs}); err != nil {
						return err
					}
					return broken
				}
				if len(evs) == 0 {
					fmt.Fprintf(a.stderr, "nothing was deployed to %s\n", args[0])
					return nil
				}
				printEvents(out, evs)
				return broken
			})
		},
	}
	cmd.Flags().IntVarP(&limit, "limit", "n", 0, "at most this many events (0: all)")
	return cmd
}

// eventReleases checks that every event names a release the ledger holds,
// with its app and number, as show ENV checks the newest one: broken is
// the first event that does not (a *release.ChainError, or the error
// matching release.ErrBroken that reading its release gave); err is set
// when the ledger could not be read.
func eventReleases(ctx context.Context, l release.Ledger, evs []release.Event) (broken, err error) {
	checked := map[string]release.Release{}
	for _, ev := range evs {
		r, ok := checked[ev.Release]
		if !ok {
			r, err = l.GetRelease(ctx, "", ev.Release)
			switch {
			case errors.Is(err, release.ErrNotFound):
				return &release.ChainError{Env: ev.Env, Sequence: ev.Sequence, ID: ev.ID, Reason: "names release " + release.ShortID(ev.Release) + ", which the ledger does not hold"}, nil
			case errors.Is(err, release.ErrBroken), errors.Is(err, release.ErrInvalid), errors.Is(err, release.ErrAmbiguous):
				return &release.ChainError{Env: ev.Env, Sequence: ev.Sequence, ID: ev.ID, Reason: "names release " + release.ShortID(ev.Release) + ": " + err.Error()}, nil
			case err != nil:
				return nil, err
			}
			checked[ev.Release] = r
		}
		if err := release.CheckEventRelease(ev, r); err != nil {
			return &release.ChainError{Env: ev.Env, Sequence: ev.Sequence, ID: ev.ID, Reason: err.Error()}, nil
		}
	}
	return nil, nil
}

func printEvents(w io.Writer, evs []release.Event) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, ev := range evs {
		reason := ev.Reason
		if reason != "" {
			reason = "  " + reason
		}
		fmt.Fprintf(tw, "#%d\t%s\t%s\t%s r%d\t%s\t%s%s\n", ev.Sequence, ev.Time.Format("2006-01-02 15:04:05"), ev.Action,
			ev.App, ev.Number, release.ShortID(ev.Release), actorLabel(ev.Actor), reason)
	}
	tw.Flush()
}
