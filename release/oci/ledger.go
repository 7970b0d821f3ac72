package oci

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"golang.org/x/sync/errgroup"

	"github.com/stet-dev/stet/release"
)

// maxRaces bounds how often PutRelease takes the next number after losing
// a race for one.
const maxRaces = 16

// PutRelease records r; see release.Ledger. With a zero Number it takes
// the app's next number and, when another writer takes the same number at
// the same moment, the one after.
func (l *Ledger) PutRelease(ctx context.Context, r release.Release) (release.Release, error) {
	r, err := release.PrepareRelease(r, l.now())
	if err != nil {
		return release.Release{}, err
	}
	assign := r.Number == 0
	for race := 0; ; race++ {
		ix, err := l.tags(ctx)
		if err != nil {
			return release.Release{}, err
		}
		try := r
		if assign {
			try.Number = last(ix.releases[r.App]) + 1
		} else if slices.Contains(ix.releases[r.App], r.Number) {
			have, _, err := l.getRelease(ctx, l.repo.Tag(ReleaseTag(r.App, r.Number)))
			if err != nil {
				return release.Release{}, err
			}
			if have.ID != try.ComputeID() {
				return release.Release{}, &release.ForkError{Place: try.Label(), Ours: try.ComputeID(), Theirs: have.ID}
			}
			return have, nil
		}
		out, err := l.putRelease(ctx, try)
		var fe *release.ForkError
		if assign && errors.As(err, &fe) && race < maxRaces {
			continue
		}
		return out, err
	}
}

func (l *Ledger) putRelease(ctx context.Context, r release.Release) (release.Release, error) {
	r.ID = r.ComputeID()
	ann := map[string]string{
		AnnotationApp:     r.App,
		AnnotationNumber:  strconv.FormatInt(r.Number, 10),
		AnnotationCreated: r.Created.Format(release.TimeFormat),
	}
	a, err := newArtifact(release.MediaTypeRelease, r.Canonical(), ann, nil)
	if err != nil {
		return release.Release{}, err
	}
	// The ID tag first: from here on the record can be found, even if this
	// writer dies or loses the race for the number.
	if err := l.write(ctx, a, release.MediaTypeRelease, IDTag(r.ID), "release "+release.ShortID(r.ID)); err != nil {
		return release.Release{}, fmt.Errorf("recording %s: %w", r.Label(), err)
	}
	raw := rawManifest{b: a.manifest, mt: types.OCIManifestSchema1}
	if err := l.tag(ctx, a.digest, raw, ReleaseTag(r.App, r.Number), r.Label()); err != nil {
		return release.Release{}, fmt.Errorf("recording %s: %w", r.Label(), err)
	}
	return r, nil
}

// GetRelease finds one release; see release.Ledger.
func (l *Ledger) GetRelease(ctx context.Context, app, selector string) (release.Release, error) {
	sel, err := release.ParseSelector(selector)
	if err != nil {
		return release.Release{}, err
	}
	ix, err := l.tags(ctx)
	if err != nil {
		return release.Release{}, err
	}
	notFound := func() error {
		if app != "" {
			return fmt.Errorf("release %s of %s: %w", selector, app, release.ErrNotFound)
		}
		return fmt.Errorf("release %s: %w", selector, release.ErrNotFound)
	}
	if sel.Number > 0 {
		var apps []string
		for _, a := range sortedKeys(ix.releases) {
			if (app == "" || a == app) && slices.Contains(ix.releases[a], sel.Number) {
				apps = append(apps, a)
			}
		}
		switch len(apps) {
		case 0:
			return release.Release{}, notFound()
		case 1:
			r, _, err := l.getRelease(ctx, l.repo.Tag(ReleaseTag(apps[0], sel.Number)))
			return r, err
		}
		ae := &release.AmbiguousError{Selector: selector}
		for _, a := range apps {
			ae.Matches = append(ae.Matches, fmt.Sprintf("%s r%d", a, sel.Number))
		}
		return release.Release{}, ae
	}
	var found []release.Release
	for _, id := range ix.ids {
		if !sel.MatchPrefix(id) {
			continue
		}
		r, err := l.releaseByID(ctx, ix, id)
		if err != nil {
			return release.Release{}, err
		}
		if app == "" || r.App == app {
			found = append(found, r)
		}
		if len(found) > 10 {
			break
		}
	}
	switch len(found) {
	case 0:
		return release.Release{}, notFound()
	case 1:
		return found[0], nil
	}
	ae := &release.AmbiguousError{Selector: selector}
	for _, r := range found {
		ae.Matches = append(ae.Matches, r.Label()+" ("+release.ShortID(r.ID)+")")
	}
	return release.Release{}, ae
}

// releaseByID reads the release with an id- tag and checks that its number
// is its own: a record whose writer lost the race for its number stays
// findable by ID but is reported as the fork it is.
func (l *Ledger) releaseByID(ctx context.Context, ix index, id string) (release.Release, error) {
	r, s, err := l.getRelease(ctx, l.repo.Tag(IDTag(id)))
	if err != nil {
		return release.Release{}, err
	}
	if !slices.Contains(ix.releases[r.App], r.Number) {
		// Written up to its ID tag by a writer that stopped before tagging
		// the number: the number is still free, the record stands alone.
		return r, nil
	}
	d, err := l.puller.Head(ctx, l.repo.Tag(ReleaseTag(r.App, r.Number)))
	if err != nil {
		return release.Release{}, l.wrap("reading "+ReleaseTag(r.App, r.Number), err)
	}
	if d.Digest != s.desc.Digest {
		return release.Release{}, &release.ForkError{Place: r.Label(), Ours: s.desc.Digest.String(), Theirs: d.Digest.String()}
	}
	return r, nil
}

// ListReleases lists releases newest first; see release.Ledger. It reads
// one manifest per release returned (per app, when app is empty).
func (l *Ledger) ListReleases(ctx context.Context, app string, opts release.ListOptions) ([]release.Release, error) {
	ix, err := l.tags(ctx)
	if err != nil {
		return nil, err
	}
	var tags []string
	apps := []string{app}
	if app == "" {
		apps = sortedKeys(ix.releases)
	}
	for _, a := range apps {
		for _, n := range newest(ix.releases[a], opts.Limit) {
			tags = append(tags, ReleaseTag(a, n))
		}
	}
	out := make([]release.Release, len(tags))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(l.jobs)
	for i, t := range tags {
		g.Go(func() error {
			r, _, err := l.getRelease(gctx, l.repo.Tag(t))
			out[i] = r
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, fmt.Errorf("listing releases: %w", err)
	}
	if app == "" {
		slices.SortStableFunc(out, func(a, b release.Release) int {
			return cmp.Or(b.Created.Compare(a.Created), cmp.Compare(b.App, a.App), cmp.Compare(b.Number, a.Number))
		})
		if opts.Limit > 0 && len(out) > opts.Limit {
			out = out[:opts.Limit]
		}
	}
	return out, nil
}

// Apps lists the apps with releases.
func (l *Ledger) Apps(ctx context.Context) ([]string, error) {
	ix, err := l.tags(ctx)
	if err != nil {
		return nil, err
	}
	return sortedKeys(ix.releases), nil
}

// Envs lists the environments with events.
func (l *Ledger) Envs(ctx context.Context) ([]string, error) {
	ix, err := l.tags(ctx)
	if err != nil {
		return nil, err
	}
	return sortedKeys(ix.events), nil
}

// AppendEvent appends ev to its environment's chain; see release.Ledger.
// The new event's manifest names the previous one as its subject.
func (l *Ledger) AppendEvent(ctx context.Context, ev release.Event) (release.Event, error) {
	if err := ev.Validate(); err != nil {
		return release.Event{}, err
	}
	fail := func(err error) (release.Event, error) {
		return release.Event{}, fmt.Errorf("recording %s of %s r%d to %s: %w", ev.Action, ev.App, ev.Number, ev.Env, err)
	}
	ix, err := l.tags(ctx)
	if err != nil {
		return fail(err)
	}
	if !slices.Contains(ix.ids, ev.Release) {
		return fail(fmt.Errorf("release %s: %w", release.ShortID(ev.Release), release.ErrNotFound))
	}
	r, err := l.releaseByID(ctx, ix, ev.Release)
	if err != nil {
		return fail(err)
	}
	if err := release.CheckEventRelease(ev, r); err != nil {
		return fail(err)
	}
	var head string
	var subject *v1.Descriptor
	seq := last(ix.events[ev.Env])
	if seq > 0 {
		h, s, err := l.getEvent(ctx, l.repo.Tag(EventTag(ev.Env, seq)))
		if err != nil {
			return fail(err)
		}
		head = h.ID
		subject = &v1.Descriptor{MediaType: s.desc.MediaType, Digest: s.desc.Digest, Size: s.desc.Size}
	}
	e, err := release.PrepareEvent(ev, head, seq+1, l.now())
	if err != nil {
		return fail(err)
	}
	e.ID = e.ComputeID()
	ann := map[string]string{
		AnnotationEnv:      e.Env,
		AnnotationSequence: strconv.FormatInt(e.Sequence, 10),
		AnnotationRelease:  e.Release,
		AnnotationApp:      e.App,
		AnnotationNumber:   strconv.FormatInt(e.Number, 10),
		AnnotationCreated:  e.Time.Format(release.TimeFormat),
	}
	a, err := newArtifact(release.MediaTypeEvent, e.Canonical(), ann, subject)
	if err != nil {
		return fail(err)
	}
	if err := l.write(ctx, a, release.MediaTypeEvent, EventTag(e.Env, e.Sequence), fmt.Sprintf("%s #%d", e.Env, e.Sequence)); err != nil {
		return fail(err)
	}
	return e, nil
}

// History lists env's events newest first; see release.Ledger. It lists
// tags once and reads one manifest per event returned.
func (l *Ledger) History(ctx context.Context, env string, opts release.ListOptions) ([]release.Event, error) {
	ix, err := l.tags(ctx)
	if err != nil {
		return nil, err
	}
	seqs := newest(ix.events[env], opts.Limit)
	out := make([]release.Event, len(seqs))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(l.jobs)
	for i, n := range seqs {
		g.Go(func() error {
			e, _, err := l.getEvent(gctx, l.repo.Tag(EventTag(env, n)))
			out[i] = e
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, fmt.Errorf("reading history of %s: %w", env, err)
	}
	return out, nil
}

// Current returns the release deployed to env now; see release.Ledger.
func (l *Ledger) Current(ctx context.Context, env string) (release.Release, error) {
	ix, err := l.tags(ctx)
	if err != nil {
		return release.Release{}, err
	}
	seq := last(ix.events[env])
	if seq == 0 {
		return release.Release{}, fmt.Errorf("nothing deployed to %s: %w", env, release.ErrNotFound)
	}
	e, _, err := l.getEvent(ctx, l.repo.Tag(EventTag(env, seq)))
	if err != nil {
		return release.Release{}, fmt.Errorf("reading what is deployed to %s: %w", env, err)
	}
	r, _, err := l.getRelease(ctx, l.repo.Tag(IDTag(e.Release)))
	if err != nil {
		return release.Release{}, fmt.Errorf("reading what is deployed to %s: %w", env, err)
	}
	return r, nil
}
