package inventory

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
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
// source read it first, serves the same layer from every other source that
// stores it as a blob already read (a registry and an OCI layout share
// blobs); a layer of an archive that names no blobs is read to check it,
// each time. The inventories agree on everything but how each source
// stores layers.
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
			named := false // a source with blob digests filled the cache
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
				archive := strings.HasPrefix(arg, image.SourceDockerArchive+":")
				switch {
				case k == 0 && len(got) != 2:
					t.Fatalf("cold cache: read %v, want both layers", got)
				case k > 0 && archive && len(got) != 2:
					t.Errorf("%s: read %v: an archive that names no blobs is read to check it", arg, got)
				case k > 0 && !archive && named && len(got) != 0:
					t.Errorf("%s: read %v although the cache holds every layer with its blob", arg, got)
				case k > 0 && !archive && !named && len(got) != 2:
					t.Errorf("%s: read %v: the cache was filled from an archive, which names no blobs", arg, got)
				}
				named = named || !archive
				if k == 0 {
					first = inv
					continue
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

// lieSources writes honest (a: base + top layer) and lie (b's blobs under
// a's config) everywhere images live and returns the arguments: the honest
// ones, then the lying ones (registry, OCI layout, archive, an archive of
// a with its two layers swapped in manifest.json, a Docker 25 style
// archive of the lie).
func lieSources(t *testing.T) (honest, lies []string) {
	t.Helper()
	base := it.Layer(t, it.File{Path: "etc/os-release", Data: "ID=alpine\nVERSION_ID=3.20.0\n"}, it.File{Path: "lib/apk/db/installed", Data: apkDB("musl=1.2.5-r0")})
	a := it.Image(t, it.Step{Layer: base}, it.Step{Layer: it.Layer(t, it.File{Path: "lib/apk/db/installed", Data: apkDB("musl=1.2.5-r0", "curl=8.9.0-r0")})})
	b := it.Image(t, it.Step{Layer: base}, it.Step{Layer: it.Layer(t, it.File{Path: "lib/apk/db/installed", Data: apkDB("musl=1.2.5-r0", "curl=6.6.6-r0")})})
	lie := it.Lie(t, a, b)
	honest = it.Sources(t, a)
	lies = it.Sources(t, lie)
	swapped := it.SwapLayers(t, it.Archive(t, filepath.Join(t.TempDir(), "swapped.tar"), a), 0, 1)
	lies = append(lies, "docker-archive:"+swapped, "docker-archive:"+it.OCIArchive(t, filepath.Join(t.TempDir(), "oci-lie.tar"), lie))
	return honest, lies
}

// TestCacheCannotHideALie: an image whose config claims the DiffIDs of
// another image's layers, read from any source, is a digest mismatch with a
// cold cache and with a cache that every honest copy of the claimed layers
// filled first; it never borrows their results. The honest image still
// reads from the cache afterwards.
func TestCacheCannotHideALie(t *testing.T) {
	honest, lies := lieSources(t)
	ctx := context.Background()
	open := func(arg string) *image.Image {
		im, err := image.Open(ctx, arg, image.Options{})
		if err != nil {
			t.Fatal(err)
		}
		return im
	}
	for _, lie := range lies {
		t.Run(lie, func(t *testing.T) {
			cache := NewCache(t.TempDir())
			if inv, err := Take(ctx, open(lie), Options{Cache: cache}); !errors.Is(err, image.ErrDigestMismatch) {
				t.Errorf("cold cache: err %v, want a digest mismatch (inventory %+v)", err, inv)
			}
			for _, h := range honest {
				him := open(h)
				if _, err := Take(ctx, him, Options{Cache: cache}); err != nil {
					t.Fatalf("%s: %v", h, err)
				}
				for i := range him.Layers {
					if _, err := NewScanner(Options{Cache: cache}).FileList(ctx, him, i); err != nil {
						t.Fatalf("%s: %v", h, err)
					}
				}
			}
			im := open(lie)
			s := NewScanner(Options{Cache: cache})
			if s.Verified(im, 1) {
				t.Errorf("layer 1 of the lie counts as checked")
			}
			if inv, err := s.Take(ctx, im, 0); !errors.Is(err, image.ErrDigestMismatch) {
				t.Errorf("warm cache: err %v, want a digest mismatch (inventory %+v)", err, inv)
			}
			if _, err := s.FileList(ctx, im, 1); !errors.Is(err, image.ErrDigestMismatch) {
				t.Errorf("warm cache, file list: err %v, want a digest mismatch", err)
			}
			var r reads
			inv, err := Take(ctx, open(honest[0]), Options{Cache: cache, Progress: r.progress})
			if err != nil || len(inv.Packages) != 2 {
				t.Fatalf("honest image after the lie: %v, %+v", err, inv)
			}
			if got := r.take(); len(got) != 0 {
				t.Errorf("honest image read %v although the cache holds its layers", got)
			}
		})
	}
}
