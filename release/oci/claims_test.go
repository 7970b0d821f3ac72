package oci

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/stet-dev/stet/internal/testregistry"
	"github.com/stet-dev/stet/release"
	"github.com/stet-dev/stet/release/releasetest"
)

// TestDeadClaim: a writer killed between claiming the next event and
// taking it blocks that place until ClaimTimeout, then no longer.
func TestDeadClaim(t *testing.T) {
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	ctx := context.Background()
	open := opener(t, inProcess(t))
	l := open().(*Ledger)
	r, err := l.PutRelease(ctx, releasetest.Fixture("web", 1))
	if err != nil {
		t.Fatal(err)
	}
	first, err := l.AppendEvent(ctx, release.NewEvent("production", release.Promote, r, release.Event{}, release.Creator{}, ""))
	if err != nil {
		t.Fatal(err)
	}
	// The dead writer's claim on event 2.
	dead := release.NewEvent("production", release.Promote, r, first, release.Creator{User: "killed"}, "")
	dead.Sequence, dead.Time = 2, release.Time(time.Now())
	dead.ID = dead.ComputeID()
	a, err := newArtifact(release.MediaTypeEvent, dead.Canonical(), map[string]string{AnnotationClaimed: dead.Time.Format(release.TimeFormat)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	deadTag := ClaimTag(EventTag("production", 2), dead.ID)
	if err := remote.Put(l.repo.Tag(deadTag), rawManifest{b: a.manifest, mt: types.OCIManifestSchema1}); err != nil {
		t.Fatal(err)
	}
	ev := release.NewEvent("production", release.Rollback, r, first, release.Creator{User: "alice"}, "")
	if _, err := l.AppendEvent(ctx, ev); !errors.Is(err, release.ErrFork) {
		t.Fatalf("appending beside a live claim: err = %v, want ErrFork", err)
	}
	later, err := Open(ctx, l.Location(), WithClock(func() time.Time { return time.Now().Add(ClaimTimeout + time.Minute) }))
	if err != nil {
		t.Fatal(err)
	}
	got, err := later.AppendEvent(ctx, ev)
	if err != nil {
		t.Fatalf("appending after the claim went stale: %v", err)
	}
	if got.Sequence != 2 || got.Prev != first.ID {
		t.Errorf("event took #%d after %s, want #2 after the first event", got.Sequence, release.ShortID(got.Prev))
	}
	h, err := later.History(ctx, "production", release.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	slices.Reverse(h)
	if err := release.VerifyChain("production", h); err != nil {
		t.Error(err)
	}
	forks, err := later.Forks(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// alice's first attempt withdrew; the killed writer's claim did not.
	var gotDead bool
	withdrawn := 0
	for _, f := range forks {
		if f.Place != EventTag("production", 2) {
			t.Errorf("fork at %s", f.Place)
		}
		if f.ID == deadTag[len(deadTag)-claimLen:] && !f.Withdrawn {
			gotDead = true
		}
		if f.Withdrawn {
			withdrawn++
		}
	}
	if !gotDead || withdrawn != 1 || len(forks) != 2 {
		t.Errorf("Forks = %+v, want the dead claim and one withdrawn attempt", forks)
	}
}

func TestTagsRoundTrip(t *testing.T) {
	id := releasetest.Digest("x")
	tags := []string{
		ReleaseTag("web", 42), ReleaseTag("web-r", 7), ReleaseTag("a.b_c-d", 1_000_001),
		EventTag("production", 17), EventTag("eu-west-1", 3),
		ClaimTag(ReleaseTag("web", 43), id), ClaimTag(EventTag("production", 18), id) + withdrawnSuffix,
		"latest", "sha256-" + id[7:], "r-web-42", "r--000001", "e-Prod-000001", "r-web-00000x",
	}
	ix := parseTags(tags)
	want := index{
		releases: map[string]map[int64]*slot{
			"web":     {42: {taken: true}, 43: {claims: []string{id[7:19]}}},
			"web-r":   {7: {taken: true}},
			"a.b_c-d": {1_000_001: {taken: true}},
		},
		events: map[string]map[int64]*slot{
			"production": {17: {taken: true}, 18: {withdrawn: map[string]bool{id[7:19]: true}}},
			"eu-west-1":  {3: {taken: true}},
		},
	}
	if diff := cmp.Diff(want, ix, cmp.AllowUnexported(index{}, slot{})); diff != "" {
		t.Errorf("parseTags (-want +got):\n%s", diff)
	}
}

func FuzzParseTags(f *testing.F) {
	f.Add("r-web-000042", "e-prod-000001.0123456789ab", "e-prod-000001.0123456789ab.w")
	f.Fuzz(func(t *testing.T, a, b, c string) {
		ix := parseTags([]string{a, b, c})
		for name, slots := range ix.releases {
			for n := range slots {
				if !release.ValidName(name) || n < 1 {
					t.Fatalf("parsed release %q #%d", name, n)
				}
			}
		}
		for name, slots := range ix.events {
			for n := range slots {
				if !release.ValidName(name) || n < 1 {
					t.Fatalf("parsed event %q #%d", name, n)
				}
			}
		}
	})
}

// TestUnclaimedAttempt: a writer that stopped after writing its event
// manifest, before any tag, is still found through the referrers of the
// event it followed, with and without the referrers API.
func TestUnclaimedAttempt(t *testing.T) {
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	for name, host := range map[string]string{"referrers": inProcess(t), "fallback-tag": testregistry.New(t)} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			l := opener(t, host)().(*Ledger)
			r, err := l.PutRelease(ctx, releasetest.Fixture("web", 1))
			if err != nil {
				t.Fatal(err)
			}
			first, err := l.AppendEvent(ctx, release.NewEvent("production", release.Promote, r, release.Event{}, release.Creator{}, ""))
			if err != nil {
				t.Fatal(err)
			}
			second, err := l.AppendEvent(ctx, release.NewEvent("production", release.Promote, r, first, release.Creator{}, ""))
			if err != nil {
				t.Fatal(err)
			}
			d, err := l.puller.Head(ctx, l.repo.Tag(EventTag("production", 1)))
			if err != nil {
				t.Fatal(err)
			}
			lost := release.NewEvent("production", release.Rollback, r, first, release.Creator{User: "gone"}, "")
			lost.Sequence, lost.Time = 2, release.Time(time.Now())
			lost.ID = lost.ComputeID()
			a, err := newArtifact(release.MediaTypeEvent, lost.Canonical(), map[string]string{AnnotationEnv: "production"}, &v1.Descriptor{MediaType: d.MediaType, Digest: d.Digest, Size: d.Size})
			if err != nil {
				t.Fatal(err)
			}
			if err := l.pusher.Put(ctx, l.repo.Digest(a.digest.String()), rawManifest{b: a.manifest, mt: types.OCIManifestSchema1}); err != nil {
				t.Fatal(err)
			}
			forks, err := l.Forks(ctx)
			if err != nil {
				t.Fatal(err)
			}
			want := []release.Fork{{Place: EventTag("production", 2), ID: lost.ID[len("sha256:"):]}}
			if diff := cmp.Diff(want, forks); diff != "" {
				t.Errorf("Forks (-want +got):\n%s", diff)
			}
			_ = second
		})
	}
}
