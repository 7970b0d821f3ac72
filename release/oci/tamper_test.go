package oci

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/stet-dev/stet/internal/testregistry"
	"github.com/stet-dev/stet/release"
	"github.com/stet-dev/stet/release/releasetest"
)

// retag points tag dst at the manifest tag src names, as anyone with push
// access to the repository can: registries let tags move.
func retag(t *testing.T, l *Ledger, src, dst string) {
	t.Helper()
	d, err := remote.Get(l.repo.Tag(src))
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Put(l.repo.Tag(dst), rawManifest{b: d.Manifest, mt: types.OCIManifestSchema1}); err != nil {
		t.Fatal(err)
	}
}

// TestTamperedPlacesRefused moves tags and rewrites the newest event's
// record annotation, and checks that what an environment runs, or what
// "r1" names, is never answered from them, and that Verify names the
// break.
func TestTamperedPlacesRefused(t *testing.T) {
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	host := testregistry.New(t)
	for _, tc := range []struct {
		name   string
		tamper func(t *testing.T, l *Ledger, rs []release.Release)
		// env is the environment whose head is affected.
		env    string
		get    string
		verify []string
	}{{
		// production ran r1, r2, r1 (#3): its head tag now names #2.
		name: "head tag moved to an earlier event",
		tamper: func(t *testing.T, l *Ledger, _ []release.Release) {
			retag(t, l, EventTag("production", 2), EventTag("production", 3))
		},
		env:    "production",
		verify: []string{"history of production breaks at event 3", "e-production-000003 holds event 2 of production: the tag was moved"},
	}, {
		name: "head tag moved to another environment's event",
		tamper: func(t *testing.T, l *Ledger, _ []release.Release) {
			retag(t, l, EventTag("qa", 1), EventTag("production", 3))
		},
		env:    "production",
		verify: []string{"history of production breaks at event 3", "holds event 1 of qa"},
	}, {
		name: "newest record annotation rewritten",
		tamper: func(t *testing.T, l *Ledger, rs []release.Release) {
			tag := l.repo.Tag(EventTag("production", 3))
			d, err := remote.Get(tag)
			if err != nil {
				t.Fatal(err)
			}
			var m v1.Manifest
			if err := json.Unmarshal(d.Manifest, &m); err != nil {
				t.Fatal(err)
			}
			e, err := release.ParseEvent([]byte(m.Annotations[AnnotationRecord]))
			if err != nil {
				t.Fatal(err)
			}
			e.Release, e.Number, e.ID = rs[1].ID, rs[1].Number, ""
			m.Annotations[AnnotationRecord] = string(e.Canonical())
			b, err := json.Marshal(m)
			if err != nil {
				t.Fatal(err)
			}
			if err := remote.Put(tag, rawManifest{b: b, mt: types.OCIManifestSchema1}); err != nil {
				t.Fatal(err)
			}
		},
		env:    "production",
		verify: []string{"history of production breaks at event 3", "content does not match its ID"},
	}, {
		name: "release tag moved",
		tamper: func(t *testing.T, l *Ledger, _ []release.Release) {
			retag(t, l, ReleaseTag("web", 2), ReleaseTag("web", 1))
		},
		env:    "production",
		get:    "r1",
		verify: []string{"reading releases of web", "r-web-000001 holds web r2"},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			l := opener(t, host)().(*Ledger)
			var rs []release.Release
			for i := 1; i <= 2; i++ {
				r, err := l.PutRelease(ctx, releasetest.Fixture("web", i))
				if err != nil {
					t.Fatal(err)
				}
				rs = append(rs, r)
			}
			promoteAll(t, l, "production", []release.Release{rs[0], rs[1], rs[0]})
			promoteAll(t, l, "qa", rs[1:])
			if err := release.Verify(ctx, l); err != nil {
				t.Fatal(err)
			}
			tc.tamper(t, l, rs)

			err := release.Verify(ctx, l)
			if !errors.Is(err, release.ErrBroken) {
				t.Fatalf("Verify = %v, want ErrBroken", err)
			}
			for _, want := range tc.verify {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("Verify reports\n%v\nwant it to mention %q", err, want)
				}
			}
			if r, err := l.Current(ctx, tc.env); !errors.Is(err, release.ErrBroken) {
				t.Errorf("Current(%s) = %s, %v; want ErrBroken", tc.env, r.Label(), err)
			}
			if tc.get != "" {
				if r, err := l.GetRelease(ctx, "web", tc.get); !errors.Is(err, release.ErrBroken) {
					t.Errorf("GetRelease(%s) = %s %s, %v; want ErrBroken", tc.get, r.Label(), release.ShortID(r.ID), err)
				}
				return
			}
			h, _ := l.History(ctx, tc.env, release.ListOptions{Limit: 1})
			var head release.Event
			if len(h) > 0 {
				head = h[0]
			}
			if _, err := l.AppendEvent(ctx, release.NewEvent(tc.env, release.Promote, rs[1], head, release.Creator{User: "ci"}, "")); !errors.Is(err, release.ErrBroken) {
				t.Errorf("AppendEvent to %s = %v; want ErrBroken", tc.env, err)
			}
		})
	}
}
