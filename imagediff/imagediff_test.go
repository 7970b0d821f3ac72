package imagediff

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"

	"github.com/stet-dev/stet/image"
	it "github.com/stet-dev/stet/image/imagetest"
	"github.com/stet-dev/stet/inventory"
)

var update = flag.Bool("update", false, "rewrite golden files")

func apkDB(pkgs ...string) string {
	var b strings.Builder
	for _, p := range pkgs {
		name, ver, _ := strings.Cut(p, "=")
		fmt.Fprintf(&b, "C:Q1AAAA=\nP:%s\nV:%s\nA:x86_64\nS:1\nI:1\nT:%s\no:%s\n\n", name, ver, name, name)
	}
	return b.String()
}

const alpineOS = "NAME=\"Alpine Linux\"\nID=alpine\nVERSION_ID=3.10.1\n"

// nginxBase is an alpine base layer carrying nginx at a version.
func nginxBase(t testing.TB, nginx string) v1.Layer {
	return it.Layer(t,
		it.Dir("etc/"), it.File{Path: "etc/os-release", Data: alpineOS},
		it.Dir("lib/apk/db/"), it.File{Path: "lib/apk/db/installed", Data: apkDB("musl=1.1.22-r2", "busybox=1.30.1-r2", "nginx="+nginx)},
		it.File{Path: "usr/sbin/nginx", Data: "nginx " + nginx},
	)
}

// story builds the two images of the nginx story: the same Dockerfile
// built twice, FROM nginx:1-alpine moved underneath in between.
func story(t testing.TB) (a, b v1.Image) {
	app := it.Layer(t, it.File{Path: "usr/share/nginx/html/index.html", Data: "<h1>shop</h1>"})
	conf := it.Layer(t, it.File{Path: "etc/nginx/conf.d/default.conf", Data: "server { listen 80; }"})
	build := func(nginx string) v1.Image {
		img := it.Image(t,
			it.Step{Layer: nginxBase(t, nginx), CreatedBy: "/bin/sh -c #(nop) ADD file:9a4f77dfaba7fd2aa78186e4ef0e7486ad55101cefc1fabbc1b385601bb38920 in / "},
			it.Step{Layer: conf, CreatedBy: "COPY default.conf /etc/nginx/conf.d/ # buildkit"},
			it.Step{Layer: app, CreatedBy: "COPY html/ /usr/share/nginx/html/ # buildkit"},
		)
		return it.WithConfig(t, img, func(c *v1.Config) {
			c.Env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "NGINX_VERSION=" + strings.TrimSuffix(nginx, "-r0")}
			c.Cmd = []string{"nginx", "-g", "daemon off;"}
			c.ExposedPorts = map[string]struct{}{"80/tcp": {}}
		})
	}
	return build("1.17.1-r0"), build("1.17.2-r0")
}

func openBoth(t testing.TB, a, b v1.Image) (*image.Image, *image.Image) {
	dir := it.Layout(t, t.TempDir(), map[string]v1.Image{"a": a, "b": b})
	ia, err := image.Open(context.Background(), "oci:"+dir+":a", image.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ib, err := image.Open(context.Background(), "oci:"+dir+":b", image.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ia.Name, ib.Name = "shop:a", "shop:b"
	return ia, ib
}

func TestNginxStory(t *testing.T) {
	a, b := story(t)
	ia, ib := openBoth(t, a, b)
	d, err := Compare(context.Background(), ia, ib, Options{BaseA: 1, BaseB: 1})
	if err != nil {
		t.Fatal(err)
	}
	if d.Identical {
		t.Fatal("identical")
	}
	want := []PackageChange{{
		Change: Upgraded, Type: "apk", Name: "nginx", Arch: "x86_64", From: "1.17.1-r0", To: "1.17.2-r0", Source: "nginx",
		Layer:     &inventory.LayerRef{Index: 0, Digest: ib.Layers[0].Digest, CreatedBy: ib.Layers[0].CreatedBy, Base: true},
		FromLayer: &inventory.LayerRef{Index: 0, Digest: ia.Layers[0].Digest, CreatedBy: ia.Layers[0].CreatedBy, Base: true},
	}}
	if diff := cmp.Diff(want, d.Packages); diff != "" {
		t.Errorf("packages (-want +got):\n%s", diff)
	}
	if want := "1 package upgraded, config changed, 1 of 3 layers differ"; d.Verdict != want {
		t.Errorf("verdict %q, want %q", d.Verdict, want)
	}
	wantCfg := []ConfigChange{{Field: "env", Key: "NGINX_VERSION", From: "1.17.1", To: "1.17.2"}}
	if diff := cmp.Diff(wantCfg, d.Config); diff != "" {
		t.Errorf("config (-want +got):\n%s", diff)
	}
	if d.Layers.Shared != 2 || len(d.Layers.OnlyA) != 1 || len(d.Layers.OnlyB) != 1 {
		t.Errorf("layers %+v", d.Layers)
	}
	for _, format := range []string{FormatText, FormatJSON, FormatMarkdown} {
		t.Run(format, func(t *testing.T) {
			var buf bytes.Buffer
			if err := Render(&buf, d, format); err != nil {
				t.Fatal(err)
			}
			golden(t, "nginx-story."+format, buf.Bytes())
			if format == FormatText {
				// The nginx line is on the first screen.
				lines := strings.Split(buf.String(), "\n")
				found := false
				for _, l := range lines[:min(len(lines), 10)] {
					if strings.Contains(l, "nginx") && strings.Contains(l, "1.17.1-r0 → 1.17.2-r0") && strings.Contains(l, "base image, layer 0") {
						found = true
					}
				}
				if !found {
					t.Errorf("nginx upgrade not in the first lines:\n%s", buf.String())
				}
			}
		})
	}
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	p := filepath.Join("testdata", name)
	// Layout digests depend only on content, so golden output is stable.
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
		t.Fatalf("%v (run with -update)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s (-want +got):\n%s", name, diff)
	}
}

func TestIdentical(t *testing.T) {
	a, _ := story(t)
	ia, ib := openBoth(t, a, a)
	d, err := Compare(context.Background(), ia, ib, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !d.Identical || !d.SameDigest || !strings.HasPrefix(d.Verdict, "same digest sha256:") {
		t.Errorf("identical=%v same=%v verdict %q", d.Identical, d.SameDigest, d.Verdict)
	}
}

// layerReads records, through the inventory's Progress hook, the layers
// read to their end.
type layerReads struct {
	mu   sync.Mutex
	read []int
}

func (r *layerReads) progress(l image.Layer, n, total int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if n == total {
		r.read = append(r.read, l.Index)
	}
}

// TestSharedLayersNotRead: layers in both images are not read when the
// databases lie in the differing layers.
func TestSharedLayersNotRead(t *testing.T) {
	base := it.Layer(t, it.File{Path: "etc/os-release", Data: alpineOS}, it.File{Path: "lib/apk/db/installed", Data: apkDB("musl=1.1.22-r2")})
	a := it.Image(t, it.Step{Layer: base}, it.Step{Layer: it.Layer(t, it.File{Path: "lib/apk/db/installed", Data: apkDB("musl=1.1.22-r2", "app=1.0-r0")})})
	b := it.Image(t, it.Step{Layer: base}, it.Step{Layer: it.Layer(t, it.File{Path: "lib/apk/db/installed", Data: apkDB("musl=1.1.22-r2", "app=1.1-r0")})})
	ia, ib := openBoth(t, a, b)
	var reads layerReads
	d, err := Compare(context.Background(), ia, ib, Options{Inventory: inventory.Options{Progress: reads.progress}})
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range reads.read {
		if i == 0 {
			t.Errorf("shared base layer was read")
		}
	}
	if len(d.Packages) != 1 || d.Packages[0].Name != "app" || d.Packages[0].Change != Upgraded {
		t.Fatalf("packages %+v", d.Packages)
	}
	if l := d.Packages[0].Layer; l.Index != 1 || !l.OrBelow {
		t.Errorf("attribution %+v, want layer 1 or below", l)
	}
	// os-release lies only in the shared layer: it was read for it? No:
	// both sides see the same unread layer, so the OS is unknown on both and
	// no OS change is reported.
	if d.OS != nil {
		t.Errorf("os change %+v", d.OS)
	}
}

// TestSharedLayerReadWhenNeeded: B's top layer does not touch the database,
// so B's packages come from the shared base, which must then be read.
func TestSharedLayerReadWhenNeeded(t *testing.T) {
	base := it.Layer(t, it.File{Path: "lib/apk/db/installed", Data: apkDB("musl=1.1.22-r2", "nginx=1.17.1-r0")})
	a := it.Image(t, it.Step{Layer: base}, it.Step{Layer: it.Layer(t, it.File{Path: "lib/apk/db/installed", Data: apkDB("musl=1.1.22-r2", "nginx=1.17.2-r0")})})
	b := it.Image(t, it.Step{Layer: base}, it.Step{Layer: it.Layer(t, it.File{Path: "app", Data: "x"})})
	ia, ib := openBoth(t, a, b)
	d, err := Compare(context.Background(), ia, ib, Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"downgraded nginx 1.17.2-r0 -> 1.17.1-r0 @0"}
	var got []string
	for _, p := range d.Packages {
		got = append(got, fmt.Sprintf("%s %s %s -> %s @%d", p.Change, p.Name, p.From, p.To, p.Layer.Index))
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestFiles(t *testing.T) {
	base := it.Layer(t, it.File{Path: "etc/keep", Data: "same"}, it.File{Path: "etc/mod", Data: "v1"}, it.File{Path: "etc/gone", Data: "x"}, it.File{Path: "etc/perm", Data: "p", Mode: 0o644})
	a := it.Image(t, it.Step{Layer: base})
	b := it.Image(t, it.Step{Layer: base}, it.Step{Layer: it.Layer(t,
		it.File{Path: "etc/mod", Data: "v22"}, it.Whiteout("etc/gone"), it.File{Path: "etc/new", Data: "n", UID: 101}, it.File{Path: "etc/perm", Data: "p", Mode: 0o600})})
	ia, ib := openBoth(t, a, b)
	d, err := Compare(context.Background(), ia, ib, Options{Files: true})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range d.Files.Changes {
		got = append(got, f.Change+" "+f.Path+" "+strings.Join(f.What, ","))
	}
	want := []string{"removed etc/gone ", "changed etc/mod size,content", "added etc/new ", "changed etc/perm mode"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if !strings.Contains(d.Verdict, "4 files changed") {
		t.Errorf("verdict %q", d.Verdict)
	}
}

// TestFilesSharedBaseNotRead: two rebuilds of a top layer over the same
// base set the same paths, so the base's file list is not needed.
func TestFilesSharedBaseNotRead(t *testing.T) {
	base := it.Layer(t, it.File{Path: "bin/sh", Data: "shell"}, it.File{Path: "etc/os-release", Data: alpineOS})
	a := it.Image(t, it.Step{Layer: base}, it.Step{Layer: it.Layer(t, it.File{Path: "app/main", Data: "v1"}, it.File{Path: "app/cfg", Data: "same"})})
	b := it.Image(t, it.Step{Layer: base}, it.Step{Layer: it.Layer(t, it.File{Path: "app/main", Data: "v2"}, it.File{Path: "app/cfg", Data: "same"})})
	ia, ib := openBoth(t, a, b)
	var reads layerReads
	d, err := Compare(context.Background(), ia, ib, Options{Files: true, Inventory: inventory.Options{Progress: reads.progress}})
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range reads.read {
		if i == 0 {
			t.Error("shared base layer was read")
		}
	}
	var got []string
	for _, f := range d.Files.Changes {
		got = append(got, f.Change+" "+f.Path+" "+strings.Join(f.What, ","))
	}
	if diff := cmp.Diff([]string{"changed app/main content"}, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestBaseLayers(t *testing.T) {
	l0, l1, l2 := it.Layer(t, it.File{Path: "a"}), it.Layer(t, it.File{Path: "b"}), it.Layer(t, it.File{Path: "c"})
	base := it.Image(t, it.Step{Layer: l0}, it.Step{Layer: l1})
	app := it.Image(t, it.Step{Layer: l0}, it.Step{Layer: l1}, it.Step{Layer: l2})
	other := it.Image(t, it.Step{Layer: l0}, it.Step{Layer: l2})
	dir := it.Layout(t, t.TempDir(), map[string]v1.Image{"base": base, "app": app, "other": other})
	open := func(tag string) *image.Image {
		im, err := image.Open(context.Background(), "oci:"+dir+":"+tag, image.Options{})
		if err != nil {
			t.Fatal(err)
		}
		return im
	}
	if n := BaseLayers(open("app"), open("base")); n != 2 {
		t.Errorf("app on base: %d, want 2", n)
	}
	if n := BaseLayers(open("other"), open("base")); n != 0 {
		t.Errorf("other on base: %d, want 0", n)
	}
	_ = mutate.Append
}

func TestRenderAllJSON(t *testing.T) {
	a, b := story(t)
	ia, ib := openBoth(t, a, b)
	d, err := Compare(context.Background(), ia, ib, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := RenderAll(&buf, []*Diff{d, d}, FormatJSON); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Platforms []struct {
			A       struct{ Platform string }
			Verdict string
		}
	}
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Platforms) != 2 || doc.Platforms[1].A.Platform != "linux/amd64" || doc.Platforms[0].Verdict != d.Verdict {
		t.Errorf("%+v", doc)
	}
}
