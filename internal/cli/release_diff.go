package cli

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"strings"
	"sync"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/stet-dev/stet/image"
	"github.com/stet-dev/stet/imagediff"
	"github.com/stet-dev/stet/lock"
	"github.com/stet-dev/stet/ref"
	"github.com/stet-dev/stet/release"
)

// maxCommits and maxPackages keep a release diff on one screen.
const (
	maxCommits  = 10
	maxPackages = 6
)

func newReleaseDiffCmd(a *app, fl *releaseFlags) *cobra.Command {
	var (
		app      string
		platform string
		noCache  bool
	)
	cmd := &cobra.Command{
		Use:   "diff A B",
		Short: "Explain what changed between two releases",
		Long: `Diff says, for each image of two releases, whether it is unchanged, rebuilt
(another tag and digest), tag moved (the same tag now names another
digest), added or removed; for every changed image the verdict and the OS
package and config changes from comparing the two images (the nginx
upgrade that came with a moved base image shows here, with the layer that
brought it); then the commits between the two releases (git log --oneline
A..B, when the repository holding them is at hand) and what changed in
stet.lock. The headline verdict comes first.

A and B are r42, ID prefixes, or environment names (diff production
staging). Exit status 0 when the releases hold the same digests, 1 when
they differ, 2 for an unknown release, 3 when an image could not be read.`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.readLedger(cmd, fl, func(ctx context.Context, env *releaseEnv) error {
				ra, err := env.find(ctx, app, args[0])
				if err != nil {
					return err
				}
				rb, err := env.find(ctx, app, args[1])
				if err != nil {
					return err
				}
				ienv, err := a.imageEnv(&imageFlags{platform: platform, mirrors: fl.rf.mirrors, concurrency: fl.rf.concurrency, noCache: noCache})
				if err != nil {
					return err
				}
				d, err := diffReleases(ctx, a, ienv, ra, rb, repoRoot(env.c))
				ienv.stop()
				if err != nil {
					return err
				}
				out := cmd.OutOrStdout()
				if fl.format == "json" {
					err = writeJSON(out, d)
				} else {
					err = renderReleaseDiff(out, d)
				}
				if err != nil {
					return err
				}
				// The classification holds even when an image could not be
				// read; it is printed, and the failure decides the status.
				var unread []string
				for _, ic := range d.Images {
					if ic.Error != "" {
						unread = append(unread, ic.Name)
					}
				}
				if len(unread) > 0 {
					return withCode(ExitFailure, fmt.Errorf("could not compare the contents of %s", strings.Join(unread, ", ")))
				}
				if !d.Identical {
					return withCode(ExitFindings, nil)
				}
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&app, "app", "", "the app whose r42 is meant (needed when the ledger holds several)")
	cmd.Flags().StringVar(&platform, "platform", "", "platform to compare in multi-platform images, os/arch[/variant] (default linux/amd64)")
	cmd.Flags().BoolVar(&noCache, "no-cache", false, "read every layer, ignoring and not updating the layer cache")
	return cmd
}

type releaseSide struct {
	Release string `json:"release"`
	ID      string `json:"id"`
	Commit  string `json:"commit,omitempty"`
	Lock    string `json:"lock,omitempty"`
}

type imageChange struct {
	Name   string             `json:"name"`
	Change release.ChangeKind `json:"change"`
	From   string             `json:"from,omitempty"`
	To     string             `json:"to,omitempty"`
	Diff   *imagediff.Diff    `json:"diff,omitempty"`
	// Error says why the images could not be compared.
	Error string `json:"error,omitempty"`
}

type lockChanges struct {
	Changed bool     `json:"changed"`
	Added   []string `json:"added,omitempty"`
	Updated []string `json:"updated,omitempty"`
	Removed []string `json:"removed,omitempty"`
	// Note says why entries are not listed.
	Note string `json:"note,omitempty"`
}

type releaseDiff struct {
	From      releaseSide   `json:"from"`
	To        releaseSide   `json:"to"`
	Identical bool          `json:"identical"`
	Verdict   string        `json:"verdict"`
	Images    []imageChange `json:"images"`
	Commits   []string      `json:"commits,omitempty"`
	// MoreCommits counts commits not listed.
	MoreCommits int          `json:"moreCommits,omitempty"`
	CommitsNote string       `json:"commitsNote,omitempty"`
	Lock        *lockChanges `json:"lock,omitempty"`
}

// diffReleases compares two releases image by image; changed images are
// opened and diffed in parallel (their layers are read once each and
// cached by digest).
func diffReleases(ctx context.Context, a *app, ienv *imageEnv, ra, rb release.Release, root string) (*releaseDiff, error) {
	d := &releaseDiff{
		From: releaseSide{Release: ra.Label(), ID: ra.ID, Lock: ra.LockDigest},
		To:   releaseSide{Release: rb.Label(), ID: rb.ID, Lock: rb.LockDigest},
	}
	if ra.Git != nil {
		d.From.Commit = ra.Git.Commit
	}
	if rb.Git != nil {
		d.To.Commit = rb.Git.Commit
	}
	changes := release.Compare(ra, rb)
	d.Images = make([]imageChange, len(changes))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 4)
	counts := map[release.ChangeKind]int{}
	d.Identical = true
	for i, c := range changes {
		ic := imageChange{Name: c.Name, Change: c.Kind}
		if c.From != nil {
			ic.From = c.From.Pinned()
		}
		if c.To != nil {
			ic.To = c.To.Pinned()
		}
		d.Images[i] = ic
		counts[c.Kind]++
		if c.Changed() {
			d.Identical = false
		}
		if !c.Changed() || c.From == nil || c.To == nil {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			diff, err := diffImages(ctx, a, ienv, c.From.Pinned(), c.To.Pinned())
			if err != nil {
				d.Images[i].Error = err.Error()
				return
			}
			d.Images[i].Diff = diff
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, withCode(ExitFailure, err)
	}
	d.Verdict = verdictOf(len(changes), counts)
	commitRange(ctx, d, ra, rb, root)
	d.Lock = lockRange(ctx, ra, rb, root)
	if d.Lock != nil && d.Lock.Changed {
		d.Identical = false
	}
	return d, nil
}

func diffImages(ctx context.Context, a *app, ienv *imageEnv, from, to string) (*imagediff.Diff, error) {
	ia, err := image.Open(ctx, from, ienv.open)
	if err != nil {
		return nil, err
	}
	ib, err := image.Open(ctx, to, ienv.open)
	if err != nil {
		return nil, err
	}
	opts := imagediff.Options{Inventory: ienv.inv}
	if opts.BaseA, err = a.baseLayers(ctx, ia, "", ienv.open); err != nil {
		return nil, err
	}
	if opts.BaseB, err = a.baseLayers(ctx, ib, "", ienv.open); err != nil {
		return nil, err
	}
	return imagediff.Compare(ctx, ia, ib, opts)
}

// verdictOf is the headline: how many images changed, and how.
func verdictOf(total int, counts map[release.ChangeKind]int) string {
	changed := total - counts[release.Unchanged]
	if changed == 0 {
		return fmt.Sprintf("same digests: %d image(s) unchanged", total)
	}
	var parts []string
	for _, k := range []release.ChangeKind{release.TagMoved, release.Rebuilt, release.Added, release.Removed} {
		if counts[k] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[k], k))
		}
	}
	return fmt.Sprintf("%d of %d image(s) changed: %s", changed, total, strings.Join(parts, ", "))
}

// commitRange lists git log --oneline A..B when the repository at root
// holds both commits.
func commitRange(ctx context.Context, d *releaseDiff, ra, rb release.Release, root string) {
	switch {
	case ra.Git == nil || rb.Git == nil:
		if ra.Git != nil || rb.Git != nil {
			d.CommitsNote = "only one of the releases records its git commit"
		}
		return
	case ra.Git.Commit == rb.Git.Commit:
		d.CommitsNote = "same commit " + shortCommit(ra.Git.Commit)
		return
	}
	out, err := gitCmd(ctx, root, "log", "--oneline", "--no-decorate", "--no-color", ra.Git.Commit+".."+rb.Git.Commit)
	if err != nil {
		d.CommitsNote = fmt.Sprintf("commits %s..%s are not in the repository at hand", shortCommit(ra.Git.Commit), shortCommit(rb.Git.Commit))
		return
	}
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if len(lines) == 1 && lines[0] == "" {
		d.CommitsNote = fmt.Sprintf("%s is not an ancestor-to-descendant range (git log %s..%s is empty)", shortCommit(ra.Git.Commit)+".."+shortCommit(rb.Git.Commit), shortCommit(ra.Git.Commit), shortCommit(rb.Git.Commit))
		return
	}
	if len(lines) > maxCommits {
		d.MoreCommits = len(lines) - maxCommits
		lines = lines[:maxCommits]
	}
	d.Commits = lines
}

func shortCommit(c string) string {
	if len(c) > 12 {
		return c[:12]
	}
	return c
}

// lockRange compares the stet.lock digests of two releases and, when the
// repository holds both locks at the releases' commits (and they are the
// ones recorded), lists the entries that changed.
func lockRange(ctx context.Context, ra, rb release.Release, root string) *lockChanges {
	if ra.LockDigest == "" && rb.LockDigest == "" {
		return nil
	}
	lc := &lockChanges{Changed: ra.LockDigest != rb.LockDigest}
	if !lc.Changed {
		return lc
	}
	if ra.LockDigest == "" || rb.LockDigest == "" || ra.Git == nil || rb.Git == nil {
		lc.Note = "the lock entries are not at hand"
		return lc
	}
	read := func(r release.Release) *lock.Lock {
		out, err := gitCmd(ctx, root, "show", r.Git.Commit+":"+lock.FileName)
		if err != nil || fmt.Sprintf("sha256:%x", sha256.Sum256([]byte(out))) != r.LockDigest {
			return nil
		}
		lk, err := lock.Parse(lock.FileName, []byte(out))
		if err != nil {
			return nil
		}
		return lk
	}
	la, lb := read(ra), read(rb)
	if la == nil || lb == nil {
		lc.Note = "the recorded stet.lock files are not committed at the releases' commits"
		return lc
	}
	var sum lockSummary
	diffLocks(la, lb, &sum)
	lc.Added, lc.Updated, lc.Removed = sum.Added, sum.Changed, sum.Removed
	return lc
}

func renderReleaseDiff(w io.Writer, d *releaseDiff) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s → %s: %s\n", d.From.Release, d.To.Release, d.Verdict)
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	for _, ic := range d.Images {
		switch ic.Change {
		case release.Unchanged, release.Added:
			to := splitPinned(ic.To)
			fmt.Fprintf(tw, "  %s\t%s\t%s %s\n", ic.Change, ic.Name, to[0], shortDigest(to[1]))
		case release.Removed:
			from := splitPinned(ic.From)
			fmt.Fprintf(tw, "  %s\t%s\t%s %s\n", ic.Change, ic.Name, from[0], shortDigest(from[1]))
		default:
			from, to := splitPinned(ic.From), splitPinned(ic.To)
			what := from[0] + " " + shortDigest(from[1]) + " → " + shortDigest(to[1])
			if from[0] != to[0] {
				what = from[0] + " " + shortDigest(from[1]) + " → " + to[0] + " " + shortDigest(to[1])
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\n", ic.Change, ic.Name, what)
		}
	}
	tw.Flush()
	// Details share one screen: the more images changed, the fewer lines
	// each gets; what is left out is counted, with the command that shows it.
	nDiffs := 0
	for _, ic := range d.Images {
		if ic.Diff != nil {
			nDiffs++
		}
	}
	pkgLimit, cfgLimit := maxPackages, maxPackages
	if nDiffs > 0 {
		pkgLimit = max(1, min(maxPackages, 24/nDiffs))
		cfgLimit = max(0, min(maxPackages, 12/nDiffs))
	}
	for _, ic := range d.Images {
		if ic.Error != "" {
			fmt.Fprintf(&b, "\n%s: could not be compared: %s\n", ic.Name, ic.Error)
			continue
		}
		if ic.Diff == nil {
			continue
		}
		fmt.Fprintf(&b, "\n%s: %s\n", ic.Name, ic.Diff.Verdict)
		tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
		for i, p := range ic.Diff.Packages {
			if i == pkgLimit {
				break
			}
			ver := p.To
			if p.From != "" && p.To != "" {
				ver = p.From + " → " + p.To
			} else if p.From != "" {
				ver = p.From
			}
			where := ""
			if p.Layer != nil {
				where = fmt.Sprintf("layer %d", p.Layer.Index)
				if p.Layer.Base {
					where = "base image, " + where
				}
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", p.Change, p.Name, ver, where)
		}
		tw.Flush()
		for i, c := range ic.Diff.Config {
			if i == cfgLimit {
				break
			}
			field := c.Field
			if c.Key != "" {
				field += " " + c.Key
			}
			fmt.Fprintf(&b, "  %s: %s → %s\n", field, orNone(shortDigest(c.From)), orNone(shortDigest(c.To)))
		}
		morePkgs, moreCfg := max(0, len(ic.Diff.Packages)-pkgLimit), max(0, len(ic.Diff.Config)-cfgLimit)
		if morePkgs > 0 || moreCfg > 0 {
			var parts []string
			if morePkgs > 0 {
				parts = append(parts, fmt.Sprintf("%d package change(s)", morePkgs))
			}
			if moreCfg > 0 {
				parts = append(parts, fmt.Sprintf("%d config change(s)", moreCfg))
			}
			fmt.Fprintf(&b, "  … %s more: stet diff %s %s\n", strings.Join(parts, " and "), ic.From, ic.To)
		}
	}
	if len(d.Commits) > 0 || d.CommitsNote != "" {
		b.WriteString("\n")
		if len(d.Commits) > 0 {
			fmt.Fprintf(&b, "commits %s..%s\n", shortCommit(d.From.Commit), shortCommit(d.To.Commit))
			for _, c := range d.Commits {
				fmt.Fprintf(&b, "  %s\n", c)
			}
			if d.MoreCommits > 0 {
				fmt.Fprintf(&b, "  … %d more\n", d.MoreCommits)
			}
		} else {
			fmt.Fprintf(&b, "commits: %s\n", d.CommitsNote)
		}
	}
	if d.Lock != nil {
		b.WriteString("\n")
		switch {
		case !d.Lock.Changed:
			b.WriteString("stet.lock unchanged\n")
		case d.Lock.Note != "":
			fmt.Fprintf(&b, "stet.lock changed (%s → %s); %s\n", shortDigest(d.From.Lock), shortDigest(d.To.Lock), d.Lock.Note)
		default:
			b.WriteString("stet.lock changed\n")
			for _, s := range d.Lock.Added {
				fmt.Fprintf(&b, "  + %s\n", s)
			}
			for _, s := range d.Lock.Updated {
				fmt.Fprintf(&b, "  ~ %s\n", s)
			}
			for _, s := range d.Lock.Removed {
				fmt.Fprintf(&b, "  - %s\n", s)
			}
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// splitPinned cuts name:tag@digest into the reference, in the short form
// people write (nginx:1-alpine), and the digest.
func splitPinned(p string) [2]string {
	base, digest := ref.SplitDigest(p)
	if im, err := ref.ParseImage(base); err == nil {
		short := ref.FamiliarName(im.Name())
		if im.Tag != "" {
			short += ":" + im.Tag
		}
		base = short
	}
	return [2]string{base, digest}
}
