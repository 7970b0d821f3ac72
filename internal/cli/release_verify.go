package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/stet-dev/stet/release"
	"github.com/stet-dev/stet/release/sqlite"
)

type verifyReport struct {
	OK           bool           `json:"ok"`
	Releases     int            `json:"releases"`
	Images       int            `json:"images"`
	Environments int            `json:"environments"`
	Missing      []missingImage `json:"missing"`
	Broken       []string       `json:"broken"`
	Forks        []release.Fork `json:"forks,omitempty"`
}

func newReleaseVerifyCmd(a *app, fl *releaseFlags) *cobra.Command {
	var last int
	cmd := &cobra.Command{
		Use:   "verify",
		Short: "Check that releases can still be deployed and the history is intact",
		Long: `Verify checks that every digest of the releases that matter still exists in
its registry — by default every release ever deployed to an environment, or
with -n N the newest N releases — so that a rollback to any of them can be
reproduced; and that the ledger is intact: every release's content matches
its ID and every environment's history is an unbroken hash chain (and, for
a SQLite ledger, that the database file is sound). Records that racing
writers left beside an OCI ledger's history are listed; they are not
failures.

Exit status 1 when a digest is gone or the history does not verify, 3 when
a registry or the ledger could not be read.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkLimit(last); err != nil {
				return err
			}
			return a.readLedger(cmd, fl, func(ctx context.Context, env *releaseEnv) error {
				rep := verifyReport{Missing: []missingImage{}, Broken: []string{}}
				if sl, ok := env.ledger.(*sqlite.Ledger); ok {
					if err := sl.Check(ctx); err != nil {
						rep.Broken = append(rep.Broken, err.Error())
					}
				}
				audit, err := release.Audit(ctx, env.ledger)
				if err != nil {
					return ledgerErr(err)
				}
				for _, p := range audit.Problems {
					rep.Broken = append(rep.Broken, strings.Split(p.Error(), "\n")...)
				}
				if fk, ok := env.ledger.(release.ForkLister); ok {
					forks, err := fk.Forks(ctx)
					if err != nil {
						return ledgerErr(err)
					}
					rep.Forks = forks
				}
				rep.Environments = audit.Envs
				// Every release whose record verifies is digest-checked,
				// whatever else is broken: the releases deployed anywhere
				// (a broken history's events included), or the newest N.
				var rels []release.Release
				if last > 0 {
					rels = audit.Releases[:min(last, len(audit.Releases))]
				} else {
					byID := make(map[string]release.Release, len(audit.Releases))
					for _, r := range audit.Releases {
						byID[r.ID] = r
					}
					for _, id := range audit.Deployed {
						rels = append(rels, byID[id])
					}
				}
				rep.Releases = len(rels)
				for _, r := range rels {
					rep.Images += len(r.Images)
				}
				missing, regErr := env.checkDigests(ctx, rels...)
				if missing != nil {
					rep.Missing = missing
				}
				rep.OK = len(rep.Missing) == 0 && len(rep.Broken) == 0 && regErr == nil
				out := cmd.OutOrStdout()
				if fl.format == "json" {
					if err := writeJSON(out, rep); err != nil {
						return err
					}
				} else {
					for _, m := range rep.Missing {
						fmt.Fprintf(out, "missing  %s %s: %s no longer exists in its registry\n", m.Release, m.Name, m.Image)
					}
					for _, b := range rep.Broken {
						fmt.Fprintf(out, "broken   %s\n", b)
					}
					for _, f := range rep.Forks {
						why := "withdrawn by a writer that lost a race"
						if !f.Withdrawn {
							why = "claimed, neither taken nor withdrawn: a writer at work, or one that stopped"
						}
						fmt.Fprintf(out, "fork     %s: %s (%s; kept for audit)\n", f.Place, f.ID, why)
					}
					fmt.Fprintf(a.stderr, "checked %d release(s), %d image digest(s), %d environment history(ies): %d missing, %d broken\n",
						rep.Releases, rep.Images, rep.Environments, len(rep.Missing), len(rep.Broken))
				}
				if regErr != nil {
					return withCode(ExitFailure, fmt.Errorf("checking digests: %w", regErr))
				}
				if !rep.OK {
					return withCode(ExitFindings, nil)
				}
				return nil
			})
		},
	}
	cmd.Flags().IntVarP(&last, "last", "n", 0, "check the newest N releases (default: every release ever deployed)")
	return cmd
}

func newReleaseSyncCmd(a *app, fl *releaseFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "sync FROM TO",
		Short: "Copy every release and event of one ledger into another",
		Long: `Sync copies a ledger into another — sqlite:PATH or oci://registry/repository
on either side — keeping numbers, times and IDs, so both end up holding
the same records. It is idempotent: records already there are skipped. It
verifies FROM's histories first and never merges: a release number or
history position holding different content in the two ledgers stops it
with exit 1.`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkFormat(fl.format); err != nil {
				return err
			}
			c, err := a.loadConfig(nil)
			if err != nil {
				return err
			}
			env := &releaseEnv{a: a, c: c, fl: fl}
			ctx := cmd.Context()
			if err := ledgerExists(args[0]); err != nil {
				return err
			}
			from, err := env.openLedger(ctx, args[0])
			if err != nil {
				return err
			}
			defer from.Close()
			to, err := env.openLedger(ctx, args[1])
			if err != nil {
				return err
			}
			defer to.Close()
			st, err := release.Sync(ctx, from, to)
			if err != nil {
				if errors.Is(err, release.ErrFork) || errors.Is(err, release.ErrBroken) {
					return withCode(ExitFindings, err)
				}
				return ledgerErr(err)
			}
			if fl.format == "json" {
				return writeJSON(cmd.OutOrStdout(), st)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "copied %d release(s) and %d event(s); %d release(s) and %d event(s) were already there\n",
				st.Releases, st.Events, st.SkippedReleases, st.SkippedEvents)
			return nil
		},
	}
	return cmd
}
