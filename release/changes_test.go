package release_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/stet-dev/stet/release"
	"github.com/stet-dev/stet/release/releasetest"
)

func TestCompare(t *testing.T) {
	d := releasetest.Digest
	im := func(ref, digest string) release.Image { return release.Image{Reference: ref, Digest: d(digest)} }
	a := release.Release{Images: map[string]release.Image{
		"same":     im("docker.io/library/redis:7", "redis"),
		"moved":    im("docker.io/library/nginx:1-alpine", "nginx-1.17.1"),
		"rebuilt":  im("ghcr.io/acme/api:v1.3", "api-1.3"),
		"retagged": im("ghcr.io/acme/web:v1", "web"),
		"byDigest": im("localhost:5000/acme/job", "job-1"),
		"gone":     im("docker.io/library/busybox:1", "busybox"),
	}}
	b := release.Release{Images: map[string]release.Image{
		"same":     im("docker.io/library/redis:7", "redis"),
		"moved":    im("docker.io/library/nginx:1-alpine", "nginx-1.17.2"),
		"rebuilt":  im("ghcr.io/acme/api:v1.4", "api-1.4"),
		"retagged": im("ghcr.io/acme/web:v1.0.0", "web"),
		"byDigest": im("localhost:5000/acme/job", "job-2"),
		"new":      im("docker.io/library/postgres:16", "pg"),
	}}
	got := map[string]release.ChangeKind{}
	for _, c := range release.Compare(a, b) {
		got[c.Name] = c.Kind
	}
	want := map[string]release.ChangeKind{
		"same": release.Unchanged, "moved": release.TagMoved, "rebuilt": release.Rebuilt,
		"retagged": release.Unchanged, "byDigest": release.Rebuilt, "gone": release.Removed, "new": release.Added,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Compare (-want +got):\n%s", diff)
	}
}
