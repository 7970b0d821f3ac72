package oci

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"golang.org/x/sync/errgroup"

	"github.com/stet-dev/stet/release"
)

// maxRaces bounds how often PutRelease takes the next number after losing
// a race for one.
const maxRaces = 32

// PutRelease records r; see release.Ledger. With a zero Number it takes
// the app's next number and, when another writer contends for the same
// number, backs off and takes a later one.
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
			try.Number = highestLive(ix.releases[r.App]) + 1
			// A claim, once withdrawn, stays withdrawn: an earlier attempt
			// with this very content at this number cannot be taken up again.
			for withdrawnClaim(ix.releases[r.App][try.Number], try.ComputeID()) {
				try.Number++
			}
		} else if s := ix.releases[r.App][r.Number]; s != nil && s.taken {
			have, _, err := l.releaseAt(ctx, r.App, r.Number)
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
			if err := backoff(ctx, race); err != nil {
				return release.Release{}, err
			}
			continue
		}
		return out, err
	}
}

// backoff waits a random while that grows with the number of races lost,
// so that writers that keep meeting each other spread out.
func backoff(ctx context.Context, race int) error {
	d := time.Duration(rand.Int64N(int64(5*time.Millisecond) << min(race, 6)))
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (l *Ledger) putRelease(ctx context.Context, r release.Release) (release.Release, error) {
	r.ID = r.ComputeID()
	ann := map[string]string{
		AnnotationApp:     r.App,
		AnnotationNumber:  strconv.FormatInt(r.Number, 10),
		AnnotationCreated: r.Created.Format(release.TimeFormat),
		AnnotationClaimed: release.Time(l.now()).Format(release.TimeFormat),
	}
	a, err := newArtifact(release.MediaTypeRelease, r.Canonical(), ann, nil)
	if err != nil {
		return release.Release{}, err
	}
	slotOf := func(ix index) *slot { return ix.releases[r.App][r.Number] }
	if err := l.claim(ctx, a, release.MediaTypeRelease, ReleaseTag(r.App, r.Number), r.Label(), r.ID, slotOf); err != nil {
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
	var found []release.Release
	if sel.Number > 0 {
		var apps []string
		for _, a := range names(ix.releases) {
			if s := ix.releases[a][sel.Number]; (app == "" || a == app) && s != nil && s.taken {
				apps = append(apps, a)
			}
		}
		switch len(apps) {
		case 0:
			return release.Release{}, release.NoMatch(app, selector)
		case 1:
			r, _, err := l.releaseAt(ctx, apps[0], sel.Number)
			return r, err
		}
		ae := &release.AmbiguousError{Selector: selector}
		for _, a := range apps {
			ae.Matches = append(ae.Matches, fmt.Sprintf("%s r%d", a, sel.Number))
		}
		return release.Release{}, ae
	}
	found, err = l.releasesByPrefix(ctx, ix, sel.IDPrefix)
	if err != nil {
		return release.Release{}, err
	}
	found = slices.DeleteFunc(found, func(r release.Release) bool { return app != "" && r.App != app })
	return release.OnlyMatch(app, selector, found)
}

// releasesByPrefix finds the releases whose ID starts with the hex prefix
// p: the claims that match name the places to read, and a claim counts
// only where its place's tag holds that very record (a writer that backed
// off left its claim behind).
func (l *Ledger) releasesByPrefix(ctx context.Context, ix index, p string) ([]release.Release, error) {
	var out []release.Release
	for _, pl := range claimsOf(ix.releases, p) {
		n, _ := strconv.ParseInt(pl[1], 10, 64)
		if s := ix.releases[pl[0]][n]; s == nil || !s.taken {
			continue
		}
		r, _, err := l.releaseAt(ctx, pl[0], n)
		if err != nil {
			return nil, err
		}
		if strings.HasPrefix(strings.TrimPrefix(r.ID, "sha256:"), p) && !slices.ContainsFunc(out, func(o release.Release) bool { return o.ID == r.ID }) {
			out = append(out, r)
		}
		if len(out) > 10 {
			break
		}
	}
	return out, nil
}

// releaseByID reads the release with exactly this ID.
func (l *Ledger) releaseByID(ctx context.Context, ix index, id string) (release.Release, error) {
	rs, err := l.releasesByPrefix(ctx, ix, strings.TrimPrefix(id, "sha256:"))
	if err != nil {
		return release.Release{}, err
	}
	if len(rs) == 0 {
		return release.Release{}, fmt.Errorf("release %s: %w", release.ShortID(id), release.ErrNotFound)
	}
	return rs[0], nil
}

// ListReleases lists releases newest first; see release.Ledger. It reads
// one manifest per release returned (per app, when app is empty).
func (l *Ledger) ListReleases(ctx context.Context, app string, opts release.ListOptions) ([]release.Release, error) {
	ix, err := l.tags(ctx)
	if err != nil {
		return nil, err
	}
	type place struct {
		app string
		n   int64
	}
	var places []place
	apps := []string{app}
	if app == "" {
		apps = names(ix.releases)
	}
	for _, a := range apps {
		for _, n := range newest(taken(ix.releases[a]), opts.Limit) {
			places = append(places, place{a, n})
		}
	}
	out := make([]release.Release, len(places))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(l.jobs)
	for i, p := range places {
		g.Go(func() error {
			r, _, err := l.releaseAt(gctx, p.app, p.n)
			if errors.Is(err, release.ErrNotFound) {
				return nil // listed while its writer's PUT is in flight
			}
			out[i] = r
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, fmt.Errorf("listing releases: %w", err)
	}
	out = slices.DeleteFunc(out, func(r release.Release) bool { return r.ID == "" })
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
	return names(ix.releases), nil
}

// Envs lists the environments with events, and those with only a claim
// standing (a first event being written, or one whose tag was removed, which
// History then reports).
func (l *Ledger) Envs(ctx context.Context) ([]string, error) {
	ix, err := l.tags(ctx)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, env := range slices.Sorted(maps.Keys(ix.events)) {
		if len(taken(ix.events[env])) > 0 || slices.ContainsFunc(slices.Collect(maps.Values(ix.events[env])), standing) {
			out = append(out, env)
		}
	}
	return out, nil
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
	r, err := l.releaseByID(ctx, ix, ev.Release)
	if err != nil {
		return fail(err)
	}
	if err := release.CheckEventRelease(ev, r); err != nil {
		return fail(err)
	}
	var head string
	var subject *v1.Descriptor
	seq := last(taken(ix.events[ev.Env]))
	if seq > 0 {
		h, s, err := l.eventAt(ctx, ev.Env, seq)
		if errors.Is(err, release.ErrNotFound) {
			// Listed while another writer's PUT is in flight: the head moved.
			return fail(&release.ConflictError{Env: ev.Env, Expected: ev.Prev, Actual: EventTag(ev.Env, seq) + " (being written)"})
		}
		if err != nil {
			return fail(err)
		}
		if h.ID != h.ComputeID() {
			// A rewritten record annotation: the chain would go on from
			// an event that was not recorded.
			return fail(fmt.Errorf("refusing to extend the history of %s: %w", ev.Env, &release.ChainError{Env: ev.Env, Sequence: h.Sequence, ID: h.ID,
				Reason: fmt.Sprintf("content does not match its ID (hash %s): the event was altered", release.ShortID(h.ComputeID()))}))
		}
		if err := l.checkHolder(ctx, ix, ev.Env, seq, h, s); err != nil {
			return fail(fmt.Errorf("refusing to extend the history of %s: %w", ev.Env, err))
		}
		head = h.ID
		subject = &v1.Descriptor{MediaType: s.desc.MediaType, Digest: s.desc.Digest, Size: s.desc.Size}
	}
	e, err := release.PrepareEvent(ev, head, seq, seq+1, l.now())
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
		AnnotationClaimed:  release.Time(l.now()).Format(release.TimeFormat),
	}
	a, err := newArtifact(release.MediaTypeEvent, e.Canonical(), ann, subject)
	if err != nil {
		return fail(err)
	}
	slotOf := func(ix index) *slot { return ix.events[e.Env][e.Sequence] }
	if err := l.claim(ctx, a, release.MediaTypeEvent, EventTag(e.Env, e.Sequence), fmt.Sprintf("%s #%d", e.Env, e.Sequence), e.ID, slotOf); err != nil {
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
	seqs := newest(taken(ix.events[env]), opts.Limit)
	out := make([]release.Event, len(seqs))
	sts := make([]stored, len(seqs))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(l.jobs)
	for i, n := range seqs {
		g.Go(func() error {
			e, st, err := l.eventAt(gctx, env, n)
			if errors.Is(err, release.ErrNotFound) {
				// Listed while its writer's PUT is still in flight.
				return nil
			}
			out[i], sts[i] = e, st
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, fmt.Errorf("reading history of %s: %w", env, err)
	}
	for i, e := range out {
		if e.ID == "" {
			continue
		}
		if err := l.checkHolder(ctx, ix, env, seqs[i], e, sts[i]); err != nil {
			return nil, fmt.Errorf("reading history of %s: %w", env, err)
		}
	}
	// The places above the oldest event shown whose tag does not exist.
	var above int64
	if opts.Limit > 0 && len(seqs) > 0 {
		above = seqs[len(seqs)-1]
	}
	if err := l.checkFree(ctx, ix, env, above); err != nil {
		return nil, fmt.Errorf("reading history of %s: %w", env, err)
	}
	return slices.DeleteFunc(out, func(e release.Event) bool { return e.ID == "" }), nil
}

// Current returns the release deployed to env now; see release.Ledger. It
// reads the newest event and the one before it, and answers only when the
// newest one hashes to its ID and names the other (release.VerifyHead).
func (l *Ledger) Current(ctx context.Context, env string) (release.Release, error) {
	ix, err := l.tags(ctx)
	if err != nil {
		return release.Release{}, err
	}
	seqs := newest(taken(ix.events[env]), 2)
	// An event removed from the top leaves its claim above the head.
	if err := l.checkFree(ctx, ix, env, last(seqs)); err != nil {
		return release.Release{}, fmt.Errorf("reading what is deployed to %s: %w", env, err)
	}
	if len(seqs) == 0 {
		return release.Release{}, fmt.Errorf("nothing deployed to %s: %w", env, release.ErrNotFound)
	}
	top := make([]release.Event, len(seqs))
	var head stored
	g, gctx := errgroup.WithContext(ctx)
	for i, n := range seqs {
		g.Go(func() (err error) {
			var st stored
			top[i], st, err = l.eventAt(gctx, env, n)
			if i == 0 {
				head = st
			}
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return release.Release{}, fmt.Errorf("reading what is deployed to %s: %w", env, err)
	}
	if err := release.VerifyHead(env, top); err != nil {
		return release.Release{}, fmt.Errorf("reading what is deployed to %s: %w", env, err)
	}
	if err := l.checkHolder(ctx, ix, env, seqs[0], top[0], head); err != nil {
		return release.Release{}, fmt.Errorf("reading what is deployed to %s: %w", env, err)
	}
	e := top[0]
	r, err := l.releaseByID(ctx, ix, e.Release)
	if errors.Is(err, release.ErrNotFound) {
		err = &release.ChainError{Env: env, Sequence: e.Sequence, ID: e.ID, Reason: "names release " + release.ShortID(e.Release) + ", which the ledger does not hold"}
	} else if err == nil {
		if cerr := release.CheckEventRelease(e, r); cerr != nil {
			err = &release.ChainError{Env: env, Sequence: e.Sequence, ID: e.ID, Reason: cerr.Error()}
		}
	}
	if err != nil {
		return release.Release{}, fmt.Errorf("reading what is deployed to %s: %w", env, err)
	}
	return r, nil
}

// Forks lists the records that did not become the record of their place:
// claims withdrawn by a writer that met a rival or left by a writer that
// stopped before taking the place, and event manifests that name a
// history event as their subject without following it (see
// referredForks). It reads one manifest per contended place and two
// requests per event: it is meant for verification, not for every command.
func (l *Ledger) Forks(ctx context.Context) ([]release.Fork, error) {
	ix, err := l.tags(ctx)
	if err != nil {
		return nil, err
	}
	var out []release.Fork
	for _, kind := range []struct {
		m    map[string]map[int64]*slot
		tag  func(string, int64) string
		kind string
	}{{ix.releases, ReleaseTag, release.MediaTypeRelease}, {ix.events, EventTag, release.MediaTypeEvent}} {
		for _, name := range slices.Sorted(maps.Keys(kind.m)) {
			for _, n := range slices.Sorted(maps.Keys(kind.m[name])) {
				s := kind.m[name][n]
				if len(s.claims) == 0 {
					continue
				}
				place := kind.tag(name, n)
				var held stored
				if s.taken {
					st, err := l.get(ctx, l.repo.Tag(place), kind.kind)
					switch {
					case errors.Is(err, release.ErrBroken):
						// Not a record: reading the history reports it.
						st = stored{id: "unreadable"}
					case err != nil && !errors.Is(err, release.ErrNotFound):
						return nil, err
					}
					held = st
				}
				holder := claimID(held.id)
				// Event claims that the history's checks report as a
				// break (see checkHolder) are not forks.
				broken := map[string]bool{}
				if kind.kind == release.MediaTypeEvent && !s.taken {
					stray, err := l.strayClaims(ctx, place, s, "", time.Time{})
					if err != nil {
						return nil, err
					}
					for _, t := range stray {
						broken[t[len(t)-claimLen:]] = true
					}
				}
				if kind.kind == release.MediaTypeEvent && holder != "" {
					if !slices.Contains(s.claims, holder) || s.withdrawn[holder] {
						for _, c := range s.claims {
							broken[c] = !s.withdrawn[c]
						}
					} else {
						stray, err := l.strayClaims(ctx, place, s, holder, held.claimed)
						if err != nil {
							return nil, err
						}
						for _, t := range stray {
							broken[t[len(t)-claimLen:]] = true
						}
					}
				}
				for _, c := range s.claims {
					if c == holder || broken[c] {
						continue
					}
					out = append(out, release.Fork{Place: place, ID: c, Withdrawn: s.withdrawn[c]})
				}
			}
		}
	}
	for _, env := range names(ix.events) {
		more, err := l.referredForks(ctx, env, ix.events[env])
		if err != nil {
			return nil, err
		}
		out = append(out, more...)
	}
	return out, nil
}

// referredForks finds, through the referrers API (or go-containerregistry's
// fallback tag on registries without it), the event manifests that name an
// event of env's history as their subject without being in the history or
// claiming a place: attempts that no tag shows, such as a writer's that
// stopped between writing its manifest and claiming a place. Records with a
// claim are left to the claims (Forks reports them, or the history's checks
// as a break). Each is placed where its record says it was meant to go. It
// costs two requests per event.
func (l *Ledger) referredForks(ctx context.Context, env string, slots map[int64]*slot) ([]release.Fork, error) {
	seqs := taken(slots)
	chain := make([]v1.Hash, len(seqs))
	inChain := map[v1.Hash]bool{}
	for i, n := range seqs {
		d, err := l.puller.Head(ctx, l.repo.Tag(EventTag(env, n)))
		if err != nil {
			return nil, l.wrap("reading "+EventTag(env, n), err)
		}
		chain[i] = d.Digest
		inChain[d.Digest] = true
	}
	claimed := map[string]bool{}
	for _, s := range slots {
		for _, c := range s.claims {
			claimed[c] = true
		}
	}
	var out []release.Fork
	done := map[v1.Hash]bool{}
	for i, d := range chain {
		if done[d] {
			continue // a tag moved to an earlier event: its referrers are listed
		}
		done[d] = true
		// No artifactType filter: some registries report the config's
		// media type (the empty one) as every artifact's type.
		idx, err := remote.Referrers(l.repo.Digest(d.String()), remote.Reuse(l.puller), remote.WithContext(ctx))
		if err != nil {
			return nil, l.wrap("listing referrers of "+EventTag(env, seqs[i]), err)
		}
		im, err := idx.IndexManifest()
		if err != nil {
			return nil, l.wrap("listing referrers of "+EventTag(env, seqs[i]), err)
		}
		for _, m := range im.Manifests {
			if inChain[m.Digest] {
				continue
			}
			if m.ArtifactType != release.MediaTypeEvent && m.Annotations[AnnotationEnv] != env {
				continue
			}
			id := strings.TrimPrefix(m.Digest.String(), "sha256:")
			place := EventTag(env, seqs[i]+1)
			if rec, ok := m.Annotations[AnnotationRecord]; ok {
				id = strings.TrimPrefix(digestOf([]byte(rec)), "sha256:")
				if e, err := release.ParseEvent([]byte(rec)); err == nil && e.Env == env && e.Sequence > 0 {
					place = EventTag(env, e.Sequence)
				}
			}
			if claimed[claimID(id)] || slices.ContainsFunc(out, func(f release.Fork) bool { return f.ID == id }) {
				continue
			}
			out = append(out, release.Fork{Place: place, ID: id})
		}
	}
	return out, nil
}

var _ release.ForkLister = (*Ledger)(nil)
