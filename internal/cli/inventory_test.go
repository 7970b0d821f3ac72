package cli

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"

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
