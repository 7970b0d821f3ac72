package cli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"time"

	"github.com/spf13/cobra"

	"github.com/stet-dev/stet/config"
	"github.com/stet-dev/stet/explain"
	"github.com/stet-dev/stet/image"
	"github.com/stet-dev/stet/inventory"
	"github.com/stet-dev/stet/lock"
	"github.com/stet-dev/stet/ref"
	"github.com/stet-dev/stet/registry"
)

// explainFlags are the flags of update and pin that explain moves and
// choose which to adopt.
type explainFlags struct {
	explain bool
	strict  bool
	noCache bool
	// only, exclude and minAge are update's.
	only, exclude []string
	minAge        time.Duration

	filter *explain.Filter
	ex     *explain.Explainer
	// stop ends the progress line, when one is drawn.
	stop func()
}

func addExplainFlags(cmd *cobra.Command, f *explainFlags, selection bool) {
	fl := cmd.Flags()
	fl.BoolVar(&f.explain, "explain", false, "say what each moved image changes: packages and config between the old and the new digest, on linux/amd64 or each --platform (--format markdown makes a pull-request body)")
	fl.BoolVar(&f.strict, "explain-strict", false, "with --explain: exit 3 and change nothing when a moved image cannot be compared (its old digest is gone, or it cannot be read)")
	fl.BoolVar(&f.noCache, "no-cache", false, "with --explain: read every layer, ignoring and not updating the layer cache")
	if selection {
		fl.StringArrayVar(&f.only, "only", nil, "update only references whose name matches (nginx, docker.io/library/nginx, ghcr.io/acme/*, actions/checkout; repeatable)")
		fl.StringArrayVar(&f.exclude, "exclude", nil, "leave references whose name matches alone (same patterns as --only; repeatable)")
		fl.DurationVar(&f.minAge, "min-age", 0, "leave a new digest alone until its image was created this long ago (72h), by the creation time in its config")
	}
}

// checkExplainFormat is checkFormat for update and pin, which also speak
// markdown when explaining.
func checkExplainFormat(format string, f *explainFlags) error {
	if f.strict && !f.explain {
		return usageErrorf("--explain-strict needs --explain")
	}
	if f.minAge < 0 {
		return usageErrorf("--min-age must not be negative")
	}
	var err error
	if f.filter, err = explain.NewFilter(f.only, f.exclude); err != nil {
		return usageErrorf("%v", err)
	}
	if format == explain.FormatMarkdown {
		if !f.explain {
			return usageErrorf("--format markdown needs --explain")
		}
		return nil
	}
	if err := checkFormat(format); err != nil {
		return usageErrorf("--format %q: want text, json or markdown (with --explain)", format)
	}
	return nil
}

// selectRefs keeps the references --only and --exclude select. Those
// left out are never looked up: an unreachable registry of an excluded
// image does not fail the run.
func (a *app) selectRefs(o rewriteOptions, todo []ref.Ref) []ref.Ref {
	if o.ex == nil || o.ex.filter.Empty() {
		return todo
	}
	var kept []ref.Ref
	left := 0
	for _, r := range todo {
		if o.ex.filter.Match(r.Kind, r.Name, r.Tag) {
			kept = append(kept, r)
		} else {
			left++
		}
	}
	if left > 0 {
		fmt.Fprintf(a.stderr, "stet: %d reference(s) not selected by --only/--exclude were left alone\n", left)
	}
	return kept
}

// explainer is the run's one Explainer: aging and explaining share the
// images it opened.
func (a *app) explainer(o rewriteOptions, client *registry.Client) *explain.Explainer {
	if o.ex.ex != nil {
		return o.ex.ex
	}
	eo := explain.Options{
		Open:      image.Options{Remote: client.Remote},
		Platforms: o.rf.platforms,
		Inventory: inventory.Options{Logger: a.logger},
		Logger:    a.logger,
	}
	if !o.ex.noCache {
		if dir, err := inventory.DefaultCacheDir(); err != nil {
			a.logger.Debug("no layer cache", "err", err)
		} else {
			eo.Inventory.Cache = inventory.NewCache(dir)
		}
	}
	o.ex.stop = func() {}
	if isTerminal(a.stderr) {
		p := &progress{w: a.stderr}
		eo.Inventory.Progress = p.update
		o.ex.stop = p.done
	}
	o.ex.ex = explain.New(eo)
	return o.ex.ex
}

// moveOf is the move a change makes. For a pin, the previous digest comes
// from the lock (prev), when it records one for the reference's name and
// tag; ok is false when there is nothing it moves from.
func moveOf(ch change, root string, prev *lock.Lock) (m explain.Move, ok bool) {
	m = explain.Move{Kind: ch.Kind, Reference: short(ch), Name: ch.Name, Tag: ch.Tag, From: ch.From, To: ch.To,
		Sites: []explain.Site{{File: relTo(root, ch.File), Line: ch.Line}}}
	if ch.Kind == ref.Action && ch.Version != ch.Tag {
		m.Version = ch.Version
	}
	if m.From == "" && prev != nil {
		m.From = lockedDigest(prev, ch.Kind, ch.Name, ch.Tag, m.Sites[0])
	}
	return m, m.From != "" && m.From != m.To
}

// lockedDigest is the digest a lock records for kind name:tag: the entry
// used at site when several are, else the only one.
func lockedDigest(lk *lock.Lock, kind ref.Kind, name, tag string, site explain.Site) string {
	var found []lock.Entry
	for _, e := range lk.References {
		if e.Kind == kind && e.Name == name && e.Tag == tag {
			found = append(found, e)
		}
	}
	for _, e := range found {
		for _, s := range e.Sites {
			if s.File == site.File && s.Line == site.Line {
				return e.Digest
			}
		}
	}
	if len(found) == 1 {
		return found[0].Digest
	}
	return ""
}

// explainRewrite applies --min-age to the decided changes (removing the
// held ones and reporting them as skipped) and, with --explain, compares
// the images of every move. It runs before any file is written, so that a
// failed age check, or with --explain-strict a move that cannot be
// explained, changes nothing.
func (a *app) explainRewrite(ctx context.Context, o rewriteOptions, c *config.Config, client *registry.Client, res *rewriteResult) error {
	if o.ex == nil || (!o.ex.explain && o.ex.minAge == 0) {
		return nil
	}
	root := repoRoot(c)
	var prev *lock.Lock
	if o.ex.explain && o.op == opPin {
		var err error
		prev, _, err = readLock(lockFile(c, ""))
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	var moves []explain.Move
	for _, ch := range res.Changes {
		if m, ok := moveOf(ch, root, prev); ok {
			moves = append(moves, m)
		}
	}
	var held []explain.Held
	if o.ex.minAge > 0 && len(moves) > 0 {
		var err error
		moves, held, err = a.explainer(o, client).Hold(ctx, moves, o.ex.minAge, time.Now())
		if err != nil {
			if ctx.Err() != nil {
				return withCode(ExitFailure, errors.New("interrupted; no file was changed"))
			}
			return withCode(ExitFailure, fmt.Errorf("--min-age: %w\nno file was changed", err))
		}
		heldKeys := map[string]explain.Held{}
		for _, h := range held {
			heldKeys[moveKey(h.Move)] = h
		}
		kept := res.Changes[:0]
		for _, ch := range res.Changes {
			m, _ := moveOf(ch, root, nil)
			if h, ok := heldKeys[moveKey(m)]; ok {
				res.Skipped = append(res.Skipped, skip{File: ch.File, Line: ch.Line, Reference: ch.Reference, Reason: h.Reason})
				continue
			}
			kept = append(kept, ch)
		}
		res.Changes = kept
	}
	if !o.ex.explain {
		return nil
	}
	rep := &explain.Report{Images: []explain.ImageMove{}, Actions: []explain.Move{}}
	if len(moves) > 0 {
		var err error
		rep, err = a.explainer(o, client).Explain(ctx, moves)
		o.ex.stop()
		if err != nil {
			return withCode(ExitFailure, errors.New("interrupted; no file was changed"))
		}
	}
	rep.Held = held
	if rep.Held == nil {
		rep.Held = []explain.Held{}
	}
	for _, m := range rep.Images {
		for _, p := range m.Platforms {
			if p.Diff == nil {
				fmt.Fprintf(a.stderr, "stet: warning: %s %s → %s: %s: %s\n", m.Reference, lock.Short(m.From), lock.Short(m.To), p.Platform, p.Note)
			}
		}
	}
	if bad := rep.Unexplained(); o.ex.strict && len(bad) > 0 {
		return withCode(ExitFailure, fmt.Errorf("--explain-strict: %d moved image(s) could not be compared; no file was changed", len(bad)))
	}
	res.Explain = rep
	return nil
}

// moveKey identifies a move for matching changes to held moves (sites
// left out).
func moveKey(m explain.Move) string {
	return string(m.Kind) + "\x00" + m.Name + "\x00" + m.Tag + "\x00" + m.From + "\x00" + m.To
}
