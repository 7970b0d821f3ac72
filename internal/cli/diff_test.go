package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/compression"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"

	it "github.com/stet-dev/stet/image/imagetest"
	"github.com/stet-dev/stet/internal/testregistry"
)

func apkInstalled(pkgs ...string) string {
	var b strings.Builder
	for _, p := range pkgs {
		name, ver, _ := strings.Cut(p, "=")
		fmt.Fprintf(&b, "C:Q1AAAA=\nP:%s\nV:%s\nA:x86_64\nS:1\nI:1\nT:%s\no:%s\n\n", name, ver, name, name)
	}
	return b.String()
}

// imageEnvTest isolates the layer cache and credentials of a test.
func imageEnvTest(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	t.Setenv("HOME", t.TempDir())
}

// nginxBase is the nginx:1-alpine base image at an nginx version.
func nginxBase(t *testing.T, nginx string) v1.Image {
	return it.Image(t, it.Step{
		Layer: it.Layer(t,
			it.File{Path: "etc/os-release", Data: "NAME=\"Alpine Linux\"\nID=alpine\nVERSION_ID=3.10.1\n"},
			it.File{Path: "lib/apk/db/installed", Data: apkInstalled("musl=1.1.22-r2", "busybox=1.30.1-r2", "nginx="+nginx)},
			it.File{Path: "usr/sbin/nginx", Data: "nginx " + nginx}),
		CreatedBy: "/bin/sh -c #(nop) ADD file:9a4f77dfaba7 in / ",
	})
}

// shop builds the application image on a base, annotated the way buildx
// annotates it.
func shop(t *testing.T, base v1.Image, baseName string) v1.Image {
	layers, err := base.Layers()
	if err != nil {
		t.Fatal(err)
	}
	cf, _ := base.ConfigFile()
	steps := []it.Step{{Layer: layers[0], CreatedBy: cf.History[0].CreatedBy},
		{Layer: it.Layer(t, it.File{Path: "usr/share/nginx/html/index.html", Data: "<h1>shop</h1>"}), CreatedBy: "COPY html/ /usr/share/nginx/html/ # buildkit"}}
	img := it.Image(t, steps...)
	img = it.WithConfig(t, img, func(c *v1.Config) { c.Cmd = []string{"nginx", "-g", "daemon off;"} })
	dg, err := base.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return mutate.Annotations(img, map[string]string{
		"org.opencontainers.image.base.name":   baseName,
		"org.opencontainers.image.base.digest": dg.String(),
	}).(v1.Image)
}

// pushStory pushes the nginx story to a registry: nginx:1-alpine moved
// from 1.17.1 to 1.17.2 between two builds of the same Dockerfile.
func pushStory(t *testing.T, host string) (a, b string) {
	oldBase, newBase := nginxBase(t, "1.17.1-r0"), nginxBase(t, "1.17.2-r0")
	testregistry.Push(t, host+"/library/nginx:1-alpine-old", oldBase)
	testregistry.Push(t, host+"/library/nginx:1-alpine", newBase)
	testregistry.Push(t, host+"/shop:good", shop(t, oldBase, host+"/library/nginx:1-alpine"))
	testregistry.Push(t, host+"/shop:bad", shop(t, newBase, host+"/library/nginx:1-alpine"))
	return host + "/shop:good", host + "/shop:bad"
}

func checkStory(t *testing.T, a, b string) {
	t.Helper()
	ctx := context.Background()
	code, out, errOut := stetRun(t, ctx, "diff", a, b)
	if code != ExitFindings {
		t.Fatalf("exit %d, want 1; stderr:\n%s\nstdout:\n%s", code, errOut, out)
	}
	lines := strings.Split(out, "\n")
	if want := "1 package upgraded, base image changed, 1 of 2 layers differ"; lines[0] != want {
		t.Errorf("verdict %q, want %q", lines[0], want)
	}
	found := false
	for _, l := range lines[:min(8, len(lines))] {
		if strings.Contains(l, "upgraded   nginx  1.17.1-r0 → 1.17.2-r0  base image, layer 0") {
			found = true
		}
	}
	if !found {
		t.Errorf("the nginx upgrade is not on the first screen:\n%s", out)
	}
	if strings.Contains(out, "musl") || strings.Contains(out, "busybox") {
		t.Errorf("unchanged packages listed:\n%s", out)
	}
	// JSON names exactly that upgrade.
	code, out, errOut = stetRun(t, ctx, "diff", "--format", "json", a, b)
	if code != ExitFindings {
		t.Fatalf("json: exit %d; %s", code, errOut)
	}
	var d struct {
		Identical bool `json:"identical"`
		Packages  []struct {
			Change, Name, From, To string
			Layer                  struct {
				Index int
				Base  bool
			}
		} `json:"packages"`
	}
	if err := json.Unmarshal([]byte(out), &d); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if len(d.Packages) != 1 || d.Packages[0].Name != "nginx" || d.Packages[0].Change != "upgraded" || d.Packages[0].From != "1.17.1-r0" || d.Packages[0].To != "1.17.2-r0" || !d.Packages[0].Layer.Base || d.Packages[0].Layer.Index != 0 {
		t.Errorf("packages %+v", d.Packages)
	}
}

func TestDiffNginxStory(t *testing.T) {
	imageEnvTest(t)
	a, b := pushStory(t, testregistry.New(t))
	checkStory(t, a, b)
	// Same image: exit 0.
	code, out, errOut := stetRun(t, context.Background(), "diff", a, a)
	if code != ExitOK || !strings.HasPrefix(out, "same digest sha256:") {
		t.Errorf("exit %d, out %q, err %q", code, out, errOut)
	}
}

func TestDiffNginxStoryDistribution(t *testing.T) {
	imageEnvTest(t)
	host := testregistry.Distribution(t, testregistry.Options{})
	a, b := pushStory(t, host)
	checkStory(t, a, b)
}

func TestDiffLocalSources(t *testing.T) {
	imageEnvTest(t)
	oldBase, newBase := nginxBase(t, "1.17.1-r0"), nginxBase(t, "1.17.2-r0")
	dir := it.Layout(t, t.TempDir(), map[string]v1.Image{"good": oldBase})
	archive := it.Archive(t, filepath.Join(t.TempDir(), "bad.tar"), newBase)
	ctx := context.Background()
	for _, args := range [][]string{
		{"diff", "oci:" + dir + ":good", "docker-archive:" + archive},
		{"diff", "--no-cache", "--format", "markdown", "oci:" + dir + ":good", "docker-archive:" + archive},
	} {
		code, out, errOut := stetRun(t, ctx, args...)
		if code != ExitFindings {
			t.Fatalf("%v: exit %d: %s", args, code, errOut)
		}
		if !strings.Contains(out, "nginx") || !strings.Contains(out, "1.17.1-r0 → 1.17.2-r0") {
			t.Errorf("%v:\n%s", args, out)
		}
	}
}

func TestDiffAllPlatforms(t *testing.T) {
	imageEnvTest(t)
	mk := func(nginx string, arch string) v1.Image {
		img := nginxBase(t, nginx)
		cf, _ := img.ConfigFile()
		cf = cf.DeepCopy()
		cf.Architecture = arch
		img, _ = mutate.ConfigFile(img, cf)
		return img
	}
	index := func(amd, arm string) v1.ImageIndex {
		return mutate.AppendManifests(mutate.IndexMediaType(emptyIndex(), "application/vnd.oci.image.index.v1+json"),
			mutate.IndexAddendum{Add: mk(amd, "amd64"), Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}}},
			mutate.IndexAddendum{Add: mk(arm, "arm64"), Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "arm64", Variant: "v8"}}},
		)
	}
	host := testregistry.New(t)
	testregistry.PushIndex(t, host+"/multi:a", index("1.17.1-r0", "1.17.1-r0"))
	testregistry.PushIndex(t, host+"/multi:b", index("1.17.1-r0", "1.17.2-r0"))
	ctx := context.Background()
	code, out, errOut := stetRun(t, ctx, "diff", "--all-platforms", host+"/multi:a", host+"/multi:b")
	if code != ExitFindings {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, "=== linux/amd64\nno differences") && !strings.Contains(out, "=== linux/amd64\nsame digest") {
		t.Errorf("amd64 should be identical:\n%s", out)
	}
	if !strings.Contains(out, "=== linux/arm64/v8\n1 package upgraded") {
		t.Errorf("arm64 should show the upgrade:\n%s", out)
	}
	// One platform: amd64 by default, identical.
	if code, out, errOut := stetRun(t, ctx, "diff", host+"/multi:a", host+"/multi:b"); code != ExitOK {
		t.Errorf("default platform: exit %d\n%s\n%s", code, out, errOut)
	}
	if code, _, _ := stetRun(t, ctx, "diff", "--platform", "linux/arm64", host+"/multi:a", host+"/multi:b"); code != ExitFindings {
		t.Errorf("arm64: exit %d, want 1", code)
	}
	if code, _, errOut := stetRun(t, ctx, "diff", "--platform", "linux/s390x", host+"/multi:a", host+"/multi:b"); code != ExitUsage || !strings.Contains(errOut, "no manifest for platform linux/s390x") {
		t.Errorf("missing platform: exit %d, %s", code, errOut)
	}
}

func TestDiffExitCodes(t *testing.T) {
	imageEnvTest(t)
	ctx := context.Background()
	tests := []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"diff", "oci:/nonexistent", "oci:/nonexistent"}, ExitUsage, "not an OCI image layout"},
		{[]string{"diff", "a"}, ExitUsage, "accepts 2 arg"},
		{[]string{"diff", "--format", "yaml", "a", "b"}, ExitUsage, "--format"},
		{[]string{"diff", "127.0.0.1:1/x:1", "127.0.0.1:1/y:1"}, ExitFailure, "127.0.0.1:1"},
		{[]string{"inventory", "docker-archive:/nonexistent.tar"}, ExitUsage, "nonexistent"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			code, _, errOut := stetRun(t, ctx, tt.args...)
			if code != tt.code || !strings.Contains(errOut, tt.msg) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, errOut, tt.code, tt.msg)
			}
		})
	}
}

// TestDiffWithAuth pulls from registries that require credentials, found in
// DOCKER_CONFIG; without them the diff is a runtime failure (3).
func TestDiffWithAuth(t *testing.T) {
	for name, start := range map[string]func(t *testing.T) string{
		"in-process": func(t *testing.T) string {
			return testregistry.New(t, testregistry.Options{User: "stet", Password: "s3cret"})
		},
		"distribution": func(t *testing.T) string {
			return testregistry.Distribution(t, testregistry.Options{User: "stet", Password: "s3cret"})
		},
	} {
		t.Run(name, func(t *testing.T) {
			imageEnvTest(t)
			host := start(t)
			auth := testregistry.Auth("stet", "s3cret")
			testregistry.Push(t, host+"/shop:good", nginxBase(t, "1.17.1-r0"), auth)
			testregistry.Push(t, host+"/shop:bad", nginxBase(t, "1.17.2-r0"), auth)
			ctx := context.Background()
			if code, _, errOut := stetRun(t, ctx, "diff", host+"/shop:good", host+"/shop:bad"); code != ExitFailure {
				t.Errorf("without credentials: exit %d, want 3; %s", code, errOut)
			}
			testregistry.DockerConfig(t, map[string][2]string{host: {"stet", "s3cret"}})
			code, out, errOut := stetRun(t, ctx, "diff", host+"/shop:good", host+"/shop:bad")
			if code != ExitFindings || !strings.Contains(out, "1.17.1-r0 → 1.17.2-r0") {
				t.Errorf("exit %d\n%s\n%s", code, out, errOut)
			}
		})
	}
}

// savedTwice builds an image from layer tars twice: gzip layers as a
// registry holds them, and plain tars as `docker save` writes them (the
// same config, so the same image).
func savedTwice(t *testing.T, nginx string) (gz, plain v1.Image) {
	tars := [][]byte{
		it.Tar(t, it.File{Path: "etc/os-release", Data: "NAME=\"Alpine Linux\"\nID=alpine\nVERSION_ID=3.10.1\n"},
			it.File{Path: "lib/apk/db/installed", Data: apkInstalled("musl=1.1.22-r2", "busybox=1.30.1-r2")}),
		it.Tar(t, it.File{Path: "lib/apk/db/installed", Data: apkInstalled("musl=1.1.22-r2", "busybox=1.30.1-r2", "nginx="+nginx)},
			it.File{Path: "usr/sbin/nginx", Data: "nginx " + nginx}),
	}
	var gzSteps, plainSteps []it.Step
	for i, tb := range tars {
		by := []string{"ADD rootfs.tar /", "RUN apk add nginx"}[i]
		gzSteps = append(gzSteps, it.Step{Layer: it.LayerFromTar(t, tb, compression.GZip), CreatedBy: by})
		plainSteps = append(plainSteps, it.Step{Layer: it.LayerFromTar(t, tb, compression.None), CreatedBy: by})
	}
	return it.Image(t, gzSteps...), it.Image(t, plainSteps...)
}

// TestDiffSameImageAcrossSources: an image pushed to a registry, written to
// an OCI layout, pulled into an archive (crane pull) and saved by docker
// (uncompressed layers) diffs identical, exit 0, in every pair of sources,
// with --files too; a real change still shows, whatever the sources.
func TestDiffSameImageAcrossSources(t *testing.T) {
	imageEnvTest(t)
	gz, plain := savedTwice(t, "1.17.1-r0")
	args := append(it.Sources(t, gz), "docker-archive:"+it.Archive(t, filepath.Join(t.TempDir(), "saved.tar"), plain))
	ctx := context.Background()
	for _, x := range args {
		for _, y := range args {
			for _, flags := range [][]string{nil, {"--files"}, {"--no-cache", "--format", "json"}} {
				cmd := append(append([]string{"diff"}, flags...), x, y)
				code, out, errOut := stetRun(t, ctx, cmd...)
				if code != ExitOK {
					t.Errorf("%v: exit %d, want 0\n%s%s", cmd, code, out, errOut)
					continue
				}
				first, _, _ := strings.Cut(out, "\n")
				switch {
				case len(flags) == 3:
					var d struct{ Identical, SameContent bool }
					if err := json.Unmarshal([]byte(out), &d); err != nil || !d.Identical || !d.SameContent {
						t.Errorf("%v: %+v %v\n%s", cmd, d, err, out)
					}
				case !strings.HasPrefix(first, "same digest sha256:") && !strings.HasPrefix(first, "identical content (config sha256:"):
					t.Errorf("%v: verdict %q", cmd, first)
				}
			}
		}
	}
	// The next build upgrades nginx in the top layer.
	gz2, plain2 := savedTwice(t, "1.17.2-r0")
	next := append(it.Sources(t, gz2), "docker-archive:"+it.Archive(t, filepath.Join(t.TempDir(), "saved2.tar"), plain2))
	for i, x := range args {
		y := next[(i+1)%len(next)]
		code, out, errOut := stetRun(t, ctx, "diff", "--files", x, y)
		if code != ExitFindings {
			t.Errorf("%s vs %s: exit %d, want 1\n%s%s", x, y, code, out, errOut)
			continue
		}
		if want := "1 package upgraded, 1 of 2 layers differ, 2 files changed\n"; !strings.HasPrefix(out, want) || !strings.Contains(out, "nginx  1.17.1-r0 → 1.17.2-r0") || !strings.Contains(out, "Layers: 1 shared") {
			t.Errorf("%s vs %s:\n%s", x, y, out)
		}
	}
}

// TestInventoryBaseFromAnotherSource: --base compares layers by content, so
// a base image saved by docker marks the layers of an image in a registry.
func TestInventoryBaseFromAnotherSource(t *testing.T) {
	imageEnvTest(t)
	gz, plain := savedTwice(t, "1.17.1-r0")
	host := testregistry.New(t)
	testregistry.Push(t, host+"/app:1", gz)
	layers, _ := plain.Layers()
	baseImg := it.Image(t, it.Step{Layer: layers[0], CreatedBy: "ADD rootfs.tar /"})
	saved := it.Archive(t, filepath.Join(t.TempDir(), "base.tar"), baseImg)
	code, out, errOut := stetRun(t, context.Background(), "inventory", "--format", "json", "--base", "docker-archive:"+saved, host+"/app:1")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var inv struct {
		Layers []struct {
			Base        bool
			DiffID      string
			Compression string
		}
		Packages []struct {
			Name  string
			Layer struct{ Base bool }
		}
	}
	if err := json.Unmarshal([]byte(out), &inv); err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, p := range inv.Packages {
		got[p.Name] = p.Layer.Base
	}
	if want := map[string]bool{"busybox": true, "musl": true, "nginx": false}; !equalMaps(want, got) {
		t.Errorf("base marks %v, want %v", got, want)
	}
	if len(inv.Layers) != 2 || !inv.Layers[0].Base || inv.Layers[1].Base || inv.Layers[0].DiffID == "" || inv.Layers[0].Compression != "gzip" {
		t.Errorf("layers %+v", inv.Layers)
	}
}

// TestDiffLyingImage: shop:lie stores image b's top layer under shop:a's
// config, so its diff_ids claim a's content. Against shop:a it is a read
// failure (exit 3) naming the image, never "identical": from a registry
// with a cold and a warm cache and --files, from docker archives with
// --no-cache, and for an archive of a whose manifest.json lists the layers
// swapped. An inventory of the lie fails even after shop:a filled the
// cache, and the honest cross-source copies still diff identical.
func TestDiffLyingImage(t *testing.T) {
	imageEnvTest(t)
	layers, _ := nginxBase(t, "1.17.1-r0").Layers()
	page := func(html string) it.Step {
		return it.Step{Layer: it.Layer(t, it.File{Path: "usr/share/nginx/html/index.html", Data: html}), CreatedBy: "COPY html/ /usr/share/nginx/html/"}
	}
	a := it.Image(t, it.Step{Layer: layers[0], CreatedBy: "ADD rootfs.tar /"}, page("<h1>shop</h1>"))
	// b: the same base under another page.
	b := it.Image(t, it.Step{Layer: layers[0], CreatedBy: "ADD rootfs.tar /"}, page("<h1>not the shop</h1>"))
	lie := it.Lie(t, a, b)
	host := testregistry.New(t)
	testregistry.Push(t, host+"/shop:a", a)
	testregistry.Push(t, host+"/shop:lie", lie)
	dir := t.TempDir()
	saveA := it.Archive(t, filepath.Join(dir, "save-a.tar"), a)
	saveLie := it.Archive(t, filepath.Join(dir, "save-lie.tar"), lie)
	swapped := it.SwapLayers(t, it.Archive(t, filepath.Join(dir, "swapped.tar"), a), 0, 1)
	ociLie := it.Layout(t, filepath.Join(dir, "oci-lie"), map[string]v1.Image{"1": lie})
	ctx := context.Background()
	for _, args := range [][]string{
		{"diff", host + "/shop:a", host + "/shop:lie"},
		{"diff", "--files", host + "/shop:a", host + "/shop:lie"},
		{"diff", "--files", host + "/shop:a", host + "/shop:lie"}, // warm cache
		{"diff", "--files", host + "/shop:lie", host + "/shop:a"},
		{"diff", "--files", "--no-cache", "docker-archive:" + saveA, "docker-archive:" + saveLie},
		{"diff", "docker-archive:" + saveA, "docker-archive:" + saveLie},
		{"diff", "--files", "docker-archive:" + saveA, "docker-archive:" + swapped},
		{"diff", host + "/shop:a", "docker-archive:" + swapped},
		{"diff", "--files", host + "/shop:a", "oci:" + ociLie + ":1"},
		{"diff", "--base", host + "/shop:lie", host + "/shop:a", host + "/shop:a"},
		{"inventory", "oci:" + ociLie + ":1"},
		{"inventory", "--base", "docker-archive:" + swapped, host + "/shop:a"},
	} {
		code, out, errOut := stetRun(t, ctx, args...)
		if code != ExitFailure || !strings.Contains(errOut, "content does not match its digest") {
			t.Errorf("%v: exit %d, want 3 and a digest mismatch\n%s%s", args, code, out, errOut)
		}
		if strings.Contains(out, "identical") || strings.Contains(out, "same digest") {
			t.Errorf("%v: a verdict was printed:\n%s", args, out)
		}
	}
	// The honest image still reads, and the cache serves it.
	if code, out, errOut := stetRun(t, ctx, "inventory", host+"/shop:a"); code != ExitOK || !strings.Contains(out, "nginx") {
		t.Errorf("inventory of shop:a: exit %d\n%s%s", code, out, errOut)
	}
	if code, out, errOut := stetRun(t, ctx, "inventory", "oci:"+ociLie+":1"); code != ExitFailure {
		t.Errorf("inventory of the lie after shop:a warmed the cache: exit %d, want 3\n%s%s", code, out, errOut)
	}
	for _, p := range [][2]string{{host + "/shop:a", "docker-archive:" + saveA}, {"docker-archive:" + saveA, "docker-archive:" + saveA}} {
		if code, out, errOut := stetRun(t, ctx, "diff", "--files", p[0], p[1]); code != ExitOK {
			t.Errorf("%v: exit %d, want 0\n%s%s", p, code, out, errOut)
		}
	}
}

// TestDiffAllPlatformsOneSided: an index against one of its own images is
// not "same digest": the platforms only the index offers are named, and the
// exit status is 1.
func TestDiffAllPlatformsOneSided(t *testing.T) {
	imageEnvTest(t)
	host := testregistry.New(t)
	idx := testregistry.Index(t, "linux/amd64", "linux/arm64/v8")
	testregistry.PushIndex(t, host+"/multi:1", idx)
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	var amd v1.Hash
	for _, d := range im.Manifests {
		if d.Platform != nil && d.Platform.Architecture == "amd64" {
			amd = d.Digest
		}
	}
	one, err := idx.Image(amd)
	if err != nil {
		t.Fatal(err)
	}
	testregistry.Push(t, host+"/single:1", one)
	ctx := context.Background()
	code, out, errOut := stetRun(t, ctx, "diff", "--all-platforms", host+"/multi:1", host+"/single:1")
	if code != ExitFindings || !strings.HasPrefix(out, "only in A: linux/arm64/v8\n") || !strings.Contains(out, "=== linux/amd64\nsame digest") {
		t.Errorf("exit %d, want 1\n%s%s", code, out, errOut)
	}
	code, out, errOut = stetRun(t, ctx, "diff", "--all-platforms", "--format", "json", host+"/single:1", host+"/multi:1")
	var doc struct {
		Platforms    []json.RawMessage
		OnlyA, OnlyB []string
	}
	if err := json.Unmarshal([]byte(out), &doc); code != ExitFindings || err != nil || len(doc.Platforms) != 1 || len(doc.OnlyA) != 0 || len(doc.OnlyB) != 1 || doc.OnlyB[0] != "linux/arm64/v8" {
		t.Errorf("exit %d, %v, %+v\n%s%s", code, err, doc, out, errOut)
	}
	if code, out, errOut := stetRun(t, ctx, "diff", "--all-platforms", host+"/multi:1", host+"/multi:1"); code != ExitOK || strings.Contains(out, "only in") {
		t.Errorf("the same index: exit %d\n%s%s", code, out, errOut)
	}
}
