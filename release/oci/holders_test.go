package oci

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/stet-dev/stet/release"
	"github.com/stet-dev/stet/release/releasetest"
)

// twoEvents writes web r1 and r2 and promotes them to production (#1, #2).
func twoEvents(t *testing.T) (*Ledger, []release.Release, []release.Event) {
	t.Helper()
	ctx := context.Background()
	l := opener(t, inProcess(t))().(*Ledger)
	var rs []release.Release
	for i := 1; i <= 2; i++ {
		r, err := l.PutRelease(ctx, releasetest.Fixture("web", i))
		if err != nil {
			t.Fatal(err)
		}
		rs = append(rs, r)
	}
	promoteAll(t, l, "production", rs)
	h, err := l.History(ctx, "production", release.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := release.Verify(ctx, l); err != nil {
		t.Fatal(err)
	}
	return l, rs, []release.Event{h[1], h[0]}
}

// manifestOf reads the manifest a tag names.
func manifestOf(t *testing.T, l *Ledger, tag string) (v1.Manifest, *remote.Descriptor) {
	t.Helper()
	d, err := remote.Get(l.repo.Tag(tag))
	if err != nil {
		t.Fatal(err)
	}
	var m v1.Manifest
	if err := json.Unmarshal(d.Manifest, &m); err != nil {
		t.Fatal(err)
	}
	return m, d
}

// forge writes a self-consistent event record (layer, record annotation and
// subject agree, and it extends the chain) under the given tags, as anyone
// with push access could. It copies the annotations of the manifest at
// like, so that only the record differs.
func forge(t *testing.T, l *Ledger, e release.Event, like string, subject *v1.Descriptor, tags ...string) release.Event {
	t.Helper()
	e.ID = e.ComputeID()
	m, _ := manifestOf(t, l, like)
	ann := map[string]string{}
	for k, v := range m.Annotations {
		ann[k] = v
	}
	a, err := newArtifact(release.MediaTypeEvent, e.Canonical(), ann, subject)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.WriteLayer(l.repo, static.NewLayer(a.record, types.MediaType(release.MediaTypeEvent))); err != nil {
		t.Fatal(err)
	}
	for _, tag := range tags {
		if err := remote.Put(l.repo.Tag(tag), rawManifest{b: a.manifest, mt: types.OCIManifestSchema1}); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

// checkRefused checks that Verify reports a break naming want, that what
// production runs is not answered, and that nothing is appended after it.
func checkRefused(t *testing.T, l *Ledger, rs []release.Release, want ...string) {
	t.Helper()
	ctx := context.Background()
	err := release.Verify(ctx, l)
	if !errors.Is(err, release.ErrBroken) {
		t.Fatalf("Verify = %v, want ErrBroken", err)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("Verify reports\n%v\nwant it to mention %q", err, w)
		}
	}
	if r, err := l.Current(ctx, "production"); !errors.Is(err, release.ErrBroken) {
		t.Errorf("Current = %s, %v; want ErrBroken", r.Label(), err)
	}
	for _, limit := range []int{0, 1, 2} {
		if h, err := l.History(ctx, "production", release.ListOptions{Limit: limit}); !errors.Is(err, release.ErrBroken) {
			t.Errorf("History(-n %d) = %d events, %v; want ErrBroken", limit, len(h), err)
		}
	}
}

// TestReplacedEvent: the newest event's tag is pointed at a forged record
// that extends the chain. The genuine event's claim still stands, which no
// lost race leaves behind.
func TestReplacedEvent(t *testing.T) {
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	ctx := context.Background()
	place := EventTag("production", 2)
	for _, tc := range []struct {
		name string
		// ownClaim also tags the forged record's claim, with the
		// genuine manifest's claim time.
		ownClaim bool
		want     string
	}{
		{"without a claim", false, place + " holds an event that never claimed the place"},
		{"with a claim of its own", true, "was never withdrawn although it stood when the holder claimed " + place},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l, rs, evs := twoEvents(t)
			genuine := evs[1]
			_, d1 := manifestOf(t, l, EventTag("production", 1))
			fake := genuine
			fake.Release, fake.Number, fake.Reason = rs[0].ID, rs[0].Number, "forged"
			fake.ID = fake.ComputeID()
			tags := []string{place}
			if tc.ownClaim {
				tags = append(tags, ClaimTag(place, fake.ID))
			}
			forge(t, l, fake, place, &v1.Descriptor{MediaType: d1.MediaType, Digest: d1.Digest, Size: d1.Size}, tags...)
			if h, err := l.History(ctx, "production", release.ListOptions{}); err == nil {
				// The chain itself verifies: only the claims tell.
				if err := release.VerifyChain("production", []release.Event{h[1], h[0]}); err != nil {
					t.Fatalf("the forged event does not extend the chain: %v", err)
				}
			}
			if tc.ownClaim {
				// Until the genuine claim is stale, it may be a writer's
				// at work; the reader is read minutes later.
				var err error
				if l, err = Open(ctx, l.Location(), WithClock(func() time.Time { return time.Now().Add(ClaimTimeout + time.Minute) })); err != nil {
					t.Fatal(err)
				}
			}
			checkRefused(t, l, rs, "history of production breaks at event 2", tc.want, ClaimTag(place, genuine.ID))
			if _, err := l.AppendEvent(ctx, release.NewEvent("production", release.Promote, rs[1], fake, release.Creator{User: "ci"}, "")); !errors.Is(err, release.ErrBroken) {
				t.Errorf("AppendEvent after the forged event = %v; want ErrBroken", err)
			}
			forks, err := l.Forks(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range forks {
				if strings.HasPrefix(strings.TrimPrefix(genuine.ID, "sha256:"), f.ID) {
					t.Errorf("the replaced event is listed as a fork: %+v", f)
				}
			}
		})
	}
}

// TestReplacedEventTimes: a claim that stood beside the holder's is a break
// only when a writer following the protocol cannot have left it: one that
// stopped before the holder claimed the place long enough ago, or after
// the holder's claim, left a fork.
func TestReplacedEventTimes(t *testing.T) {
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	ctx := context.Background()
	place := EventTag("production", 2)
	for _, tc := range []struct {
		name string
		// offset is when the other claim was made, from the holder's.
		offset time.Duration
		broken bool
	}{
		{"stale when the holder claimed", -ClaimTimeout - time.Second, false},
		{"live when the holder claimed", -time.Minute, true},
		{"made after the holder's", time.Second, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l, _, evs := twoEvents(t)
			m, _ := manifestOf(t, l, place)
			held, err := time.Parse(release.TimeFormat, m.Annotations[AnnotationClaimed])
			if err != nil {
				t.Fatal(err)
			}
			other := evs[1]
			other.Reason = "another writer"
			other.ID = other.ComputeID()
			a, err := newArtifact(release.MediaTypeEvent, other.Canonical(), map[string]string{AnnotationClaimed: held.Add(tc.offset).Format(release.TimeFormat)}, nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := remote.Put(l.repo.Tag(ClaimTag(place, other.ID)), rawManifest{b: a.manifest, mt: types.OCIManifestSchema1}); err != nil {
				t.Fatal(err)
			}
			// Read once every claim is stale.
			later, err := Open(ctx, l.Location(), WithClock(func() time.Time { return time.Now().Add(2*ClaimTimeout + time.Minute) }))
			if err != nil {
				t.Fatal(err)
			}
			err = release.Verify(ctx, later)
			if tc.broken != errors.Is(err, release.ErrBroken) {
				t.Fatalf("Verify = %v, want broken: %v", err, tc.broken)
			}
			_, err = later.Current(ctx, "production")
			if tc.broken != errors.Is(err, release.ErrBroken) {
				t.Errorf("Current: %v, want broken: %v", err, tc.broken)
			}
			forks, err := later.Forks(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if listed := len(forks) == 1 && forks[0].ID == claimID(other.ID); listed == tc.broken {
				t.Errorf("Forks = %+v; the other claim listed: %v, want %v", forks, listed, !tc.broken)
			}
		})
	}
}

// TestRemovedEvent: the newest event's tag is deleted, which leaves a
// shorter chain that verifies; its claim, never withdrawn, still stands.
func TestRemovedEvent(t *testing.T) {
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		// remove lists the sequence numbers whose tags are deleted.
		remove []int64
	}{
		{"newest", []int64{2}},
		{"every event", []int64{1, 2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l, rs, evs := twoEvents(t)
			for _, n := range tc.remove {
				if err := remote.Delete(l.repo.Tag(EventTag("production", n))); err != nil {
					t.Fatal(err)
				}
			}
			// Within ClaimTimeout the claim may be a writer's at work, and
			// what production ran before is the answer.
			if _, err := l.History(ctx, "production", release.ListOptions{}); err != nil {
				t.Errorf("History while the claim is live: %v", err)
			}
			later, err := Open(ctx, l.Location(), WithClock(func() time.Time { return time.Now().Add(ClaimTimeout + time.Minute) }))
			if err != nil {
				t.Fatal(err)
			}
			n := tc.remove[0]
			place := EventTag("production", n)
			checkRefused(t, later, rs, fmt.Sprintf("history of production breaks at event %d", n),
				"claim "+ClaimTag(place, evs[n-1].ID)+" stands, but "+place+" does not exist: the event was removed")
			forks, err := later.Forks(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(forks) != 0 {
				t.Errorf("Forks = %+v, want none: the removed events are breaks", forks)
			}
			// Withdrawing the claims (as after a writer that stopped)
			// leaves the shorter history.
			for _, n := range tc.remove {
				retag(t, later, ClaimTag(EventTag("production", n), evs[n-1].ID), ClaimTag(EventTag("production", n), evs[n-1].ID)+withdrawnSuffix)
			}
			if err := release.Verify(ctx, later); err != nil {
				t.Errorf("Verify after withdrawing the claims: %v", err)
			}
		})
	}
}

// TestWrongArtifactType: a ledger tag naming a manifest of the other kind
// is a break (exit 1 in the CLI), not an invalid input.
func TestWrongArtifactType(t *testing.T) {
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	ctx := context.Background()
	t.Run("release under an event tag", func(t *testing.T) {
		l, rs, _ := twoEvents(t)
		retag(t, l, ReleaseTag("web", 1), EventTag("production", 3))
		checkRefused(t, l, rs, "history of production breaks at event 3",
			"e-production-000003 holds an artifact of type "+release.MediaTypeRelease+", not an event record")
		for name, err := range map[string]error{
			"Verify":  release.Verify(ctx, l),
			"History": func() error { _, err := l.History(ctx, "production", release.ListOptions{}); return err }(),
			"Current": func() error { _, err := l.Current(ctx, "production"); return err }(),
		} {
			if errors.Is(err, release.ErrInvalid) {
				t.Errorf("%s = %v; want only ErrBroken, not ErrInvalid", name, err)
			}
		}
		if _, err := l.Forks(ctx); err != nil {
			t.Errorf("Forks: %v", err)
		}
	})
	t.Run("event under a release tag", func(t *testing.T) {
		l, _, _ := twoEvents(t)
		retag(t, l, EventTag("production", 1), ReleaseTag("web", 2))
		_, err := l.GetRelease(ctx, "web", "r2")
		if !errors.Is(err, release.ErrBroken) || errors.Is(err, release.ErrInvalid) {
			t.Errorf("GetRelease(r2) = %v; want ErrBroken, not ErrInvalid", err)
		}
		_, err = l.ListReleases(ctx, "web", release.ListOptions{})
		if !errors.Is(err, release.ErrBroken) || errors.Is(err, release.ErrInvalid) {
			t.Errorf("ListReleases = %v; want ErrBroken, not ErrInvalid", err)
		}
		if err := release.Verify(ctx, l); !errors.Is(err, release.ErrBroken) || !strings.Contains(err.Error(), "r-web-000002 holds an artifact of type "+release.MediaTypeEvent+", not a release record") {
			t.Errorf("Verify = %v; want a break naming r-web-000002", err)
		}
	})
}

// TestForksAreForks: Forks lists only records that racing or stopped
// writers left beside the history, at the place their record names; a
// moved tag is a break, and no fork is reported at a place past the head.
func TestForksAreForks(t *testing.T) {
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	ctx := context.Background()
	for _, from := range []int64{1, 2} {
		t.Run(fmt.Sprintf("e-production-000003 moved to event %d", from), func(t *testing.T) {
			l, rs, _ := twoEvents(t)
			h, err := l.History(ctx, "production", release.ListOptions{Limit: 1})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := l.AppendEvent(ctx, release.NewEvent("production", release.Promote, rs[0], h[0], release.Creator{User: "ci"}, "")); err != nil {
				t.Fatal(err)
			}
			retag(t, l, EventTag("production", from), EventTag("production", 3))
			if err := release.Verify(ctx, l); !errors.Is(err, release.ErrBroken) || !strings.Contains(err.Error(), "history of production breaks at event 3") {
				t.Errorf("Verify = %v; want a break at event 3", err)
			}
			forks, err := l.Forks(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(forks) != 0 {
				t.Errorf("Forks = %+v, want none: no writer raced", forks)
			}
		})
	}
}
