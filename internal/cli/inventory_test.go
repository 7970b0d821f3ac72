package cli

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"

	"github.com/stet-dev/stet/image"
	it "github.com/stet-dev/stet/image/imagetest"
	"github.com/stet-dev/stet/internal/testregistry"
)

func emptyIndex() v1.ImageIndex { return empty.Index }

func TestInventory(t *testing.T) {
	imageEnvTest(t)
	host := testregistry.New(t)
	base := nginxBase(t, "1.17.1-r0")
	testregistry.Push(t, host+"/library/nginx:1-alpine", base)
	app := shop(t, base, host+"/library/nginx:1-alpine")
	testregistry.Push(t, host+"/shop:1", app)
	ctx := context.Background()
	code, out, errOut := stetRun(t, ctx, "inventory", host+"/shop:1")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"OS: Alpine Linux (alpine 3.10.1)", "Packages (3)", "nginx    1.17.1-r0", "base, layer 0", `cmd         ["nginx","-g","daemon off;"]`} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in:\n%s", want, out)
		}
	}
	code, out, errOut = stetRun(t, ctx, "inventory", "--format", "json", host+"/shop:1")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var inv struct {
		Platform string
		OS       struct{ ID string }
		Packages []struct {
			Name, Version, Type string
			Layer               struct {
				Index int
				Base  bool
			}
		}
		Layers []struct{ Base bool }
	}
	if err := json.Unmarshal([]byte(out), &inv); err != nil {
		t.Fatal(err)
	}
	if inv.Platform != "linux/amd64" || inv.OS.ID != "alpine" || len(inv.Packages) != 3 || len(inv.Layers) != 2 || !inv.Layers[0].Base || inv.Layers[1].Base {
		t.Errorf("%+v", inv)
	}
	// The same image from an OCI layout and a docker archive.
	dir := it.Layout(t, t.TempDir(), map[string]v1.Image{"1": app})
	arch := it.Archive(t, t.TempDir()+"/shop.tar", app)
	for _, arg := range []string{"oci:" + dir + ":1", "oci:" + dir, "docker-archive:" + arch} {
		code, out, errOut := stetRun(t, ctx, "inventory", "--no-cache", arg)
		if code != ExitOK || !strings.Contains(out, "Packages (3)") {
			t.Errorf("%s: exit %d\n%s\n%s", arg, code, out, errOut)
		}
	}
}

// TestInventoryBaseFlag marks the base image's layers from --base when the
// image carries no base annotations.
func TestInventoryBaseFlag(t *testing.T) {
	imageEnvTest(t)
	host := testregistry.New(t)
	base := nginxBase(t, "1.17.1-r0")
	testregistry.Push(t, host+"/library/nginx:1-alpine", base)
	layers, _ := base.Layers()
	app := it.Image(t, it.Step{Layer: layers[0], CreatedBy: "FROM"}, it.Step{Layer: it.Layer(t, it.File{Path: "var/lib/dpkg/status", Data: "Package: x\nVersion: 1\n"}), CreatedBy: "RUN install"})
	dir := it.Layout(t, t.TempDir(), map[string]v1.Image{"1": app})
	ctx := context.Background()
	code, out, errOut := stetRun(t, ctx, "inventory", "--format", "json", "--base", host+"/library/nginx:1-alpine", "oci:"+dir+":1")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var inv struct {
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
	if want := map[string]bool{"busybox": true, "musl": true, "nginx": true, "x": false}; !equalMaps(want, got) {
		t.Errorf("base marks %v, want %v", got, want)
	}
	// Without --base, nothing is known to come from a base image.
	if code, out, _ := stetRun(t, ctx, "inventory", "oci:"+dir+":1"); code != ExitOK || strings.Contains(out, "base, layer") {
		t.Errorf("exit %d:\n%s", code, out)
	}
}

func equalMaps(a, b map[string]bool) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func TestProgressLine(t *testing.T) {
	var buf strings.Builder
	p := &progress{w: &buf}
	l := image.Layer{Digest: "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", Size: 10_000_000}
	p.update(l, 2_000_000, l.Size)
	if want := "\r\x1b[Kreading sha256:0123456789ab 2.0 MB/10.0 MB"; buf.String() != want {
		t.Errorf("got %q, want %q", buf.String(), want)
	}
	buf.Reset()
	p.update(l, l.Size, l.Size)
	p.done()
	if buf.String() != "\r\x1b[K" {
		t.Errorf("finished layer: got %q, want the line cleared once", buf.String())
	}
}

// TestInventoryMirror reads a Docker Hub image through a mirror: the name
// stays docker.io's, the bytes come from the mirror.
func TestInventoryMirror(t *testing.T) {
	imageEnvTest(t)
	host := testregistry.New(t)
	testregistry.Push(t, host+"/dockerhub/library/nginx:1-alpine", nginxBase(t, "1.17.1-r0"))
	code, out, errOut := stetRun(t, context.Background(), "inventory", "--mirror", "docker.io="+host+"/dockerhub", "nginx:1-alpine")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.HasPrefix(out, "nginx:1-alpine  sha256:") || !strings.Contains(out, "nginx    1.17.1-r0") {
		t.Errorf("%s", out)
	}
}
