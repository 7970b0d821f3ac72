package inventory

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/google/go-containerregistry/pkg/v1/mutate"

	"github.com/stet-dev/stet/image"
	it "github.com/stet-dev/stet/image/imagetest"
)

// reads records the layers read to their end, through Progress.
type reads struct {
	mu  sync.Mutex
	ids []string
}

func (r *reads) progress(l image.Layer, n, total int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if n == total {
		r.ids = append(r.ids, l.ID())
	}
}

func (r *reads) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.ids
	r.ids = nil
	return out
}

// TestCacheAcrossSources: a layer's cached result, filed by whichever
// source read it first, serves the same layer from every other source, and
// the inventories agree on everything but how each source stores layers.
func TestCacheAcrossSources(t *testing.T) {
	img := it.Image(t,
		it.Step{Layer: it.Layer(t, it.File{Path: "etc/os-release", Data: "ID=alpine\nVERSION_ID=3.20.0\n"}, it.File{Path: "lib/apk/db/installed", Data: apkDB("musl=1.2.5-r0")})},
		it.Step{Layer: it.Layer(t, it.File{Path: "lib/apk/db/installed", Data: apkDB("musl=1.2.5-r0", "curl=8.9.0-r0")})},
	)
	ctx := context.Background()
	for i, args := range [][]string{it.Sources(t, img), it.Sources(t, img), it.Sources(t, img)} {
		// Each source in turn fills the cache first.
		args = append(args[i:], args[:i]...)
		t.Run(args[0], func(t *testing.T) {
			var r reads
			opts := Options{Cache: NewCache(t.TempDir()), Progress: r.progress}
			var first *Inventory
			for k, arg := range args {
				im, err := image.Open(ctx, arg, image.Options{})
				if err != nil {
					t.Fatal(err)
				}
				inv, err := Take(ctx, im, opts)
				if err != nil {
					t.Fatal(err)
				}
				got := r.take()
				if k == 0 {
					if len(got) != 2 {
						t.Fatalf("cold cache: read %v, want both layers", got)
					}
					first = inv
					continue
				}
				if len(got) != 0 {
					t.Errorf("%s: read %v although the cache holds every layer", arg, got)
				}
				ignore := cmpopts.IgnoreFields(Inventory{}, "Image", "Digest")
				stored := cmpopts.IgnoreFields(Layer{}, "Digest", "Size", "Compression")
				ref := cmpopts.IgnoreFields(LayerRef{}, "Digest")
				if diff := cmp.Diff(first, inv, ignore, stored, ref); diff != "" {
					t.Errorf("%s: inventory differs from %s's (-first +got):\n%s", arg, args[0], diff)
				}
			}
		})
	}
}

// TestCacheNotPoisoned: an image whose config claims another layer's DiffID
// fails to read, and the real owner of that DiffID is inventoried from its
// own content, not from anything the impostor left in the cache.
func TestCacheNotPoisoned(t *testing.T) {
	real := it.Image(t, it.Step{Layer: it.Layer(t, it.File{Path: "lib/apk/db/installed", Data: apkDB("openssl=3.3.2-r0")})})
	fake := it.Image(t, it.Step{Layer: it.Layer(t, it.File{Path: "lib/apk/db/installed", Data: apkDB("openssl=9.9.9-r0")})})
	rcf, _ := real.ConfigFile()
	cf, _ := fake.ConfigFile()
	cf = cf.DeepCopy()
	cf.RootFS.DiffIDs = rcf.RootFS.DiffIDs
	impostor, err := mutate.ConfigFile(fake, cf)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	cache := NewCache(t.TempDir())
	for _, arg := range it.Sources(t, impostor) {
		im, err := image.Open(ctx, arg, image.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Take(ctx, im, Options{Cache: cache}); !errors.Is(err, image.ErrDigestMismatch) {
			t.Errorf("%s: err %v, want a digest mismatch", arg, err)
		}
	}
	for _, arg := range it.Sources(t, real) {
		im, err := image.Open(ctx, arg, image.Options{})
		if err != nil {
			t.Fatal(err)
		}
		inv, err := Take(ctx, im, Options{Cache: cache})
		if err != nil {
			t.Fatal(err)
		}
		if len(inv.Packages) != 1 || inv.Packages[0].Version != "3.3.2-r0" {
			t.Errorf("%s: packages %+v, want openssl 3.3.2-r0", arg, inv.Packages)
		}
	}
}
