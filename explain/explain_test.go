package explain_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/stet-dev/stet/explain"
	"github.com/stet-dev/stet/image"
	it "github.com/stet-dev/stet/image/imagetest"
	"github.com/stet-dev/stet/internal/testregistry"
	"github.com/stet-dev/stet/inventory"
	"github.com/stet-dev/stet/ref"
	"github.com/stet-dev/stet/registry"
)

var update = flag.Bool("update", false, "rewrite golden files")

// built is when the story's images say they were built: a fixed time keeps
// digests, and so golden files, stable.
var built = time.Date(2019, 7, 23, 10, 0, 0, 0, time.UTC)

func apkDB(arch string, pkgs ...string) string {
	var b strings.Builder
	for _, p := range pkgs {
		name, ver, _ := strings.Cut(p, "=")
		fmt.Fprintf(&b, "C:Q1AAAA=\nP:%s\nV:%s\nA:%s\nS:1\nI:1\nT:%s\no:%s\n\n", name, ver, arch, name, name)
	}
	return b.String()
}

// nginx is nginx:1-alpine at an nginx version: one base layer with the apk
// database, as the official image's first layer carries it.
func nginx(t testing.TB, version, platform string, created time.Time) v1.Image {
	p, err := v1.ParsePlatform(platform)
	if err != nil {
		t.Fatal(err)
	}
	arch := map[string]string{"amd64": "x86_64", "arm64": "aarch64"}[p.Architecture]
	img := it.Image(t, it.Step{
		Layer: it.Layer(t,
			it.Dir("etc/"), it.File{Path: "etc/os-release", Data: "NAME=\"Alpine Linux\"\nID=alpine\nVERSION_ID=3.10.1\n"},
			it.Dir("lib/apk/db/"), it.File{Path: "lib/apk/db/installed", Data: apkDB(arch, "musl=1.1.22-r2", "busybox=1.30.1-r2", "nginx="+version)},
			it.File{Path: "usr/sbin/nginx", Data: "nginx " + version + " " + p.Architecture}),
		CreatedBy: "/bin/sh -c #(nop) ADD file:9a4f77dfaba7fd2aa78186e4ef0e7486ad55101cefc1fabbc1b385601bb38920 in / ",
	})
	img = it.WithConfig(t, img, func(c *v1.Config) {
		c.Env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "NGINX_VERSION=" + strings.TrimSuffix(version, "-r0")}
		c.Cmd = []string{"nginx", "-g", "daemon off;"}
	})
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture, cf.Variant = p.OS, p.Architecture, p.Variant
	if img, err = mutate.ConfigFile(img, cf); err != nil {
		t.Fatal(err)
	}
	return createdAt(t, img, created)
}

// static is an image without any package database (a Go binary on
// scratch).
func static(t testing.TB, binary string, created time.Time) v1.Image {
	img := it.Image(t, it.Step{Layer: it.Layer(t, it.File{Path: "app", Data: binary, Mode: 0o755}), CreatedBy: "COPY app /app # buildkit"})
	img = it.WithConfig(t, img, func(c *v1.Config) { c.Entrypoint = []string{"/app"} })
	return createdAt(t, img, created)
}

func createdAt(t testing.TB, img v1.Image, created time.Time) v1.Image {
	img, err := mutate.CreatedAt(img, v1.Time{Time: created})
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func index(t testing.TB, imgs ...v1.Image) v1.ImageIndex {
	idx := mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	for _, img := range imgs {
		cf, err := img.ConfigFile()
		if err != nil {
			t.Fatal(err)
		}
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{Add: img,
			Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: cf.OS, Architecture: cf.Architecture, Variant: cf.Variant}}})
	}
	return idx
}

func digest(t testing.TB, x interface{ Digest() (v1.Hash, error) }) string {
	d, err := x.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return d.String()
}

// env is a registry on 127.0.0.1 that Docker Hub names are mirrored to,
// and options to open images through it.
func env(t testing.TB) (host string, o explain.Options) {
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	host = testregistry.New(t)
	c, err := registry.New(registry.WithMirrors(map[string]string{"docker.io": host}))
	if err != nil {
		t.Fatal(err)
	}
	return host, explain.Options{Open: image.Options{Remote: c.Remote},
		Inventory: inventory.Options{Cache: inventory.NewCache(t.TempDir())}}
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	p := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (go test ./explain -update writes it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s (-want +got):\n%s", name, diff)
	}
}

func imageMove(reference, from, to string, sites ...explain.Site) explain.Move {
	im, _ := ref.ParseImage(reference)
	return explain.Move{Kind: ref.Image, Reference: reference, Name: im.Name(), Tag: im.Tag, From: from, To: to, Sites: sites}
}

// story pushes what a repository sees on update day: nginx moved from
// 1.17.1 to 1.17.2 in its base layer; a multi-platform redis index moved;
// an application image without package database moved; and a pin whose
// old digest the registry no longer has.
func story(t testing.TB, host string) []explain.Move {
	oldNginx, newNginx := nginx(t, "1.17.1-r0", "linux/amd64", built), nginx(t, "1.17.2-r0", "linux/amd64", built.Add(48*time.Hour))
	testregistry.Push(t, host+"/library/nginx:1-alpine", oldNginx)
	testregistry.Push(t, host+"/library/nginx:1-alpine", newNginx)

	oldRedis := index(t, nginx(t, "1.17.1-r0", "linux/amd64", built), nginx(t, "1.17.1-r0", "linux/arm64", built))
	newRedis := index(t, nginx(t, "1.17.2-r0", "linux/amd64", built.Add(time.Hour)), nginx(t, "1.17.3-r0", "linux/arm64", built.Add(time.Hour)))
	testregistry.PushIndex(t, host+"/library/web:1", oldRedis)
	testregistry.PushIndex(t, host+"/library/web:1", newRedis)

	oldApp, newApp := static(t, "v1", built), static(t, "v2", built.Add(time.Hour))
	testregistry.Push(t, host+"/acme/api:1", oldApp)
	testregistry.Push(t, host+"/acme/api:1", newApp)

	vanished := nginx(t, "1.16.0-r0", "linux/amd64", built) // never pushed
	return []explain.Move{
		imageMove("nginx:1-alpine", digest(t, oldNginx), digest(t, newNginx), explain.Site{File: "web/Dockerfile", Line: 1}),
		imageMove("nginx:1-alpine", digest(t, oldNginx), digest(t, newNginx), explain.Site{File: "deploy/web.yaml", Line: 12}),
		imageMove("web:1", digest(t, oldRedis), digest(t, newRedis), explain.Site{File: "compose.yaml", Line: 4}),
		imageMove("acme/api:1", digest(t, oldApp), digest(t, newApp), explain.Site{File: "compose.yaml", Line: 9}),
		imageMove("nginx:1-alpine", digest(t, vanished), digest(t, newNginx), explain.Site{File: "legacy/Dockerfile", Line: 3}),
		{Kind: ref.Action, Reference: "actions/checkout@v4", Name: "actions/checkout", Tag: "v4", Version: "v4.2.2",
			From: strings.Repeat("a", 40), To: strings.Repeat("b", 40), Sites: []explain.Site{{File: ".github/workflows/ci.yml", Line: 8}}},
	}
}

func TestExplainStory(t *testing.T) {
	host, o := env(t)
	moves := story(t, host)
	o.Platforms = []string{"linux/amd64", "linux/arm64"}
	rep, err := explain.New(o).Explain(context.Background(), moves)
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		Reference, Platform string
		Explained, Gone     bool
		Packages            []string
	}
	var got []row
	for _, m := range rep.Images {
		for _, p := range m.Platforms {
			r := row{Reference: m.Reference + " " + fmt.Sprint(m.Sites), Platform: p.Platform, Explained: p.Diff != nil, Gone: p.Gone}
			if p.Diff != nil {
				for _, pc := range p.Diff.Packages {
					r.Packages = append(r.Packages, pc.Change+" "+pc.Name+" "+pc.From+" "+pc.To)
				}
			}
			got = append(got, r)
		}
	}
	slices.SortStableFunc(got, func(a, b row) int { return strings.Compare(a.Reference, b.Reference) })
	up := []string{"upgraded nginx 1.17.1-r0 1.17.2-r0"}
	want := []row{
		// A single-platform image answers both platforms asked, and is
		// compared once.
		{Reference: "acme/api:1 [compose.yaml:9]", Platform: "linux/amd64", Explained: true},
		{Reference: "nginx:1-alpine [deploy/web.yaml:12 web/Dockerfile:1]", Platform: "linux/amd64", Explained: true, Packages: up},
		{Reference: "nginx:1-alpine [legacy/Dockerfile:3]", Platform: "linux/amd64", Gone: true},
		{Reference: "web:1 [compose.yaml:4]", Platform: "linux/amd64", Explained: true, Packages: up},
		{Reference: "web:1 [compose.yaml:4]", Platform: "linux/arm64", Explained: true, Packages: []string{"upgraded nginx 1.17.1-r0 1.17.3-r0"}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("explained (-want +got):\n%s", diff)
	}
	if n := len(rep.Unexplained()); n != 1 {
		t.Errorf("%d unexplained moves, want 1 (the vanished digest)", n)
	}
	if len(rep.Actions) != 1 || rep.Actions[0].Version != "v4.2.2" {
		t.Errorf("actions %+v", rep.Actions)
	}
}

// TestExplainGolden renders the story on the default platform in each
// format.
func TestExplainGolden(t *testing.T) {
	host, o := env(t)
	moves := story(t, host)
	rep, err := explain.New(o).Explain(context.Background(), moves)
	if err != nil {
		t.Fatal(err)
	}
	rep.Held = []explain.Held{{Move: imageMove("redis:7", "sha256:"+strings.Repeat("1", 64), "sha256:"+strings.Repeat("2", 64), explain.Site{File: "compose.yaml", Line: 14}),
		Created: built, Reason: "--min-age 72h: created 5h ago (2019-07-23T10:00:00Z)"}}
	for _, format := range []string{"text", "json", "markdown"} {
		t.Run(format, func(t *testing.T) {
			var buf bytes.Buffer
			if err := explain.Render(&buf, rep, format); err != nil {
				t.Fatal(err)
			}
			golden(t, "story."+format, buf.Bytes())
			if format == "json" && !json.Valid(buf.Bytes()) {
				t.Errorf("invalid JSON:\n%s", buf.String())
			}
		})
	}
	// The reviewer's first screen: title, then the nginx section with the
	// verdict and the upgrade.
	var buf bytes.Buffer
	if err := explain.Render(&buf, rep, "markdown"); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(buf.String(), "\n")
	if want := "# Update acme/api:1, nginx:1-alpine and 2 more"; lines[0] != want {
		t.Errorf("title %q, want %q", lines[0], want)
	}
	first := strings.Join(lines[:min(14, len(lines))], "\n")
	for _, want := range []string{"## nginx:1-alpine `sha256:", "**1 package upgraded", "| upgraded | nginx | 1.17.1-r0 → 1.17.2-r0 | layer 0: ADD file:"} {
		if !strings.Contains(first, want) {
			t.Errorf("first screen lacks %q:\n%s", want, first)
		}
	}
}

func TestExplainNoPlatformFallsBack(t *testing.T) {
	host, o := env(t)
	old := index(t, nginx(t, "1.17.1-r0", "linux/arm64", built))
	nu := index(t, nginx(t, "1.17.2-r0", "linux/arm64", built))
	testregistry.PushIndex(t, host+"/library/nginx:arm", old)
	testregistry.PushIndex(t, host+"/library/nginx:arm", nu)
	rep, err := explain.New(o).Explain(context.Background(), []explain.Move{imageMove("nginx:arm", digest(t, old), digest(t, nu))})
	if err != nil {
		t.Fatal(err)
	}
	p := rep.Images[0].Platforms[0]
	if p.Diff == nil || p.Platform != "linux/arm64" || len(p.Diff.Packages) != 1 {
		t.Fatalf("arm64-only index: %+v", p)
	}
}

func TestExplainCancelled(t *testing.T) {
	host, o := env(t)
	moves := story(t, host)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := explain.New(o).Explain(ctx, moves); err == nil {
		t.Fatal("a cancelled explanation succeeded")
	}
}

func TestHold(t *testing.T) {
	host, o := env(t)
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	push := func(tag string, img v1.Image) string {
		testregistry.Push(t, host+"/library/app:"+tag, img)
		return digest(t, img)
	}
	old := push("old", static(t, "old", now.Add(-30*24*time.Hour)))
	mature := push("mature", static(t, "mature", now.Add(-100*time.Hour)))
	fresh := push("fresh", static(t, "fresh", now.Add(-5*time.Hour)))
	future := push("future", static(t, "future", now.Add(time.Hour)))
	unknown := push("unknown", static(t, "unknown", time.Time{}))
	epoch := push("epoch", static(t, "epoch", time.Unix(0, 0)))
	idxYoung := index(t, nginx(t, "1.17.2-r0", "linux/amd64", now.Add(-100*time.Hour)), nginx(t, "1.17.2-r0", "linux/arm64", now.Add(-2*time.Hour)))
	testregistry.PushIndex(t, host+"/library/app:index", idxYoung)

	moves := []explain.Move{
		imageMove("app:mature", old, mature),
		imageMove("app:fresh", old, fresh),
		imageMove("app:future", old, future),
		imageMove("app:unknown", old, unknown),
		imageMove("app:epoch", old, epoch),
		imageMove("app:index", old, digest(t, idxYoung)),
		{Kind: ref.Action, Reference: "actions/checkout@v4", Name: "actions/checkout", Tag: "v4", From: strings.Repeat("a", 40), To: strings.Repeat("b", 40)},
	}
	for _, tc := range []struct {
		name      string
		platforms []string
		adopt     []string
		held      map[string]string
	}{
		{
			name:  "default platform",
			adopt: []string{"app:index", "app:mature"},
			held: map[string]string{
				"actions/checkout@v4": "--min-age: the age of a commit is unknown (git keeps no record of when a tag moved)",
				"app:epoch":           "--min-age: the image records no creation time, so its age is unknown",
				"app:fresh":           "--min-age 72h: created 5h ago (2026-11-25T07:00:00Z)",
				"app:future":          "--min-age 72h: the image says it was created at 2026-11-25T13:00:00Z, in the future",
				"app:unknown":         "--min-age: the image records no creation time, so its age is unknown",
			},
		},
		{
			// The youngest platform decides.
			name:      "all platforms",
			platforms: []string{"linux/amd64", "linux/arm64"},
			adopt:     []string{"app:mature"},
			held: map[string]string{
				"actions/checkout@v4": "--min-age: the age of a commit is unknown (git keeps no record of when a tag moved)",
				"app:epoch":           "--min-age: the image records no creation time, so its age is unknown",
				"app:fresh":           "--min-age 72h: created 5h ago (2026-11-25T07:00:00Z)",
				"app:future":          "--min-age 72h: the image says it was created at 2026-11-25T13:00:00Z, in the future",
				"app:index":           "--min-age 72h: created 2h ago (2026-11-25T10:00:00Z)",
				"app:unknown":         "--min-age: the image records no creation time, so its age is unknown",
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := o
			o.Platforms = tc.platforms
			adopt, held, err := explain.New(o).Hold(context.Background(), moves, 72*time.Hour, now)
			if err != nil {
				t.Fatal(err)
			}
			gotAdopt := []string{}
			for _, m := range adopt {
				gotAdopt = append(gotAdopt, m.Reference)
			}
			gotHeld := map[string]string{}
			for _, h := range held {
				gotHeld[h.Reference] = h.Reason
			}
			if diff := cmp.Diff(tc.adopt, gotAdopt); diff != "" {
				t.Errorf("adopted (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.held, gotHeld); diff != "" {
				t.Errorf("held (-want +got):\n%s", diff)
			}
		})
	}

	// A new digest the registry does not serve is an error, not an age.
	_, _, err := explain.New(o).Hold(context.Background(), []explain.Move{imageMove("app:gone", old, "sha256:"+strings.Repeat("0", 64))}, time.Hour, now)
	if err == nil || !strings.Contains(err.Error(), "app:gone") && !strings.Contains(err.Error(), "library/app") {
		t.Errorf("unreadable config: err = %v", err)
	}
}

func TestDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		72 * time.Hour:                 "3d",
		50 * time.Hour:                 "2d2h",
		5 * time.Hour:                  "5h",
		90 * time.Minute:               "1h30m",
		30 * time.Minute:               "30m",
		45 * time.Second:               "45s",
		47*time.Hour + 59*time.Minute:  "47h59m",
		24*time.Hour + 30*time.Minute:  "24h30m",
		100*24*time.Hour + time.Minute: "100d",
	} {
		if got := explain.Duration(d); got != want {
			t.Errorf("Duration(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestGroup(t *testing.T) {
	a := imageMove("nginx:1", "sha256:a", "sha256:b", explain.Site{File: "b", Line: 2})
	b := imageMove("nginx:1", "sha256:a", "sha256:b", explain.Site{File: "a", Line: 9}, explain.Site{File: "b", Line: 2})
	c := imageMove("nginx:1", "sha256:c", "sha256:b", explain.Site{File: "c", Line: 1})
	got := explain.Group([]explain.Move{c, a, b})
	want := []explain.Move{
		imageMove("nginx:1", "sha256:a", "sha256:b", explain.Site{File: "a", Line: 9}, explain.Site{File: "b", Line: 2}),
		c,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Group (-want +got):\n%s", diff)
	}
}

// BenchmarkExplain explains the story's moves (three images, one of them
// an index on two platforms, one vanished digest) with a warm layer cache:
// the cost of an update run's --explain once the layers were read before.
func BenchmarkExplain(b *testing.B) {
	host, o := env(b)
	moves := story(b, host)
	o.Platforms = []string{"linux/amd64", "linux/arm64"}
	if _, err := explain.New(o).Explain(context.Background(), moves); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := explain.New(o).Explain(context.Background(), moves); err != nil {
			b.Fatal(err)
		}
	}
}
