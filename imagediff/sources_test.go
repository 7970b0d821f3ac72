package imagediff

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/compression"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"

	"github.com/stet-dev/stet/image"
	it "github.com/stet-dev/stet/image/imagetest"
	"github.com/stet-dev/stet/inventory"
)

// storedTwice builds one image twice from the same layer tars: gzip layers
// as a registry holds them, and plain tars as `docker save` writes them.
// Both have the same config, so the same content.
func storedTwice(t *testing.T, tars ...[]byte) (gz, plain v1.Image) {
	t.Helper()
	var gzSteps, plainSteps []it.Step
	for i, tb := range tars {
		by := fmt.Sprintf("RUN step %d", i)
		gzSteps = append(gzSteps, it.Step{Layer: it.LayerFromTar(t, tb, compression.GZip), CreatedBy: by})
		plainSteps = append(plainSteps, it.Step{Layer: it.LayerFromTar(t, tb, compression.None), CreatedBy: by})
	}
	gz, plain = it.Image(t, gzSteps...), it.Image(t, plainSteps...)
	a, _ := gz.ConfigName()
	b, _ := plain.ConfigName()
	if a != b {
		t.Fatalf("configs differ: %s and %s", a, b)
	}
	return gz, plain
}

// places builds an image from layer tars, writes it everywhere stet reads
// images from (registry, OCI layout, go-containerregistry archive, `docker
// save` archive) and returns the arguments naming it.
func places(t *testing.T, tars ...[]byte) []string {
	t.Helper()
	gz, plain := storedTwice(t, tars...)
	args := it.Sources(t, gz)
	return append(args, "docker-archive:"+it.Archive(t, filepath.Join(t.TempDir(), "saved.tar"), plain))
}

// named reports a source that stores layers under blob digests: not an
// archive from go-containerregistry or `docker save` before Docker 25.
func named(arg string) bool { return !strings.HasPrefix(arg, image.SourceDockerArchive+":") }

func open(t *testing.T, arg string) *image.Image {
	t.Helper()
	im, err := image.Open(context.Background(), arg, image.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return im
}

func storyTars(t *testing.T, nginx string) [][]byte {
	return [][]byte{
		it.Tar(t, it.Dir("etc/"), it.File{Path: "etc/os-release", Data: alpineOS},
			it.Dir("lib/apk/db/"), it.File{Path: "lib/apk/db/installed", Data: apkDB("musl=1.1.22-r2", "busybox=1.30.1-r2")}),
		it.Tar(t, it.File{Path: "lib/apk/db/installed", Data: apkDB("musl=1.1.22-r2", "busybox=1.30.1-r2", "nginx="+nginx)},
			it.File{Path: "usr/sbin/nginx", Data: "nginx " + nginx}),
	}
}

// TestSameImageAcrossSources: one image read from a registry, an OCI
// layout, a go-containerregistry archive (layers kept compressed) and a
// `docker save` archive (layers uncompressed) compares identical in every
// pair, packages and files included; between a registry and a layout,
// which store the same blobs, without reading a single layer. An archive
// names no blobs, so its layers are read to check the DiffIDs its config
// claims.
func TestSameImageAcrossSources(t *testing.T) {
	args := places(t, storyTars(t, "1.17.1-r0")...)
	for _, x := range args {
		for _, y := range args {
			t.Run(x+" vs "+y, func(t *testing.T) {
				var reads layerReads
				a, b := open(t, x), open(t, y)
				d, err := Compare(context.Background(), a, b, Options{Files: true, Inventory: inventory.Options{Progress: reads.progress}})
				if err != nil {
					t.Fatal(err)
				}
				if !d.Identical || !d.SameContent {
					var buf bytes.Buffer
					Render(&buf, d, FormatText)
					t.Fatalf("identical=%v sameContent=%v:\n%s", d.Identical, d.SameContent, buf.String())
				}
				if d.Layers.Shared != 2 || len(d.Layers.OnlyA)+len(d.Layers.OnlyB) != 0 || len(d.Files.Changes) != 0 {
					t.Errorf("layers %+v, files %+v", d.Layers, d.Files)
				}
				want := "identical content (config " + image.ShortDigest(a.ConfigDigest) + ", 2 layers), different digests"
				if d.SameDigest {
					want = "same digest " + a.Digest
				}
				if d.Verdict != want {
					t.Errorf("verdict %q, want %q", d.Verdict, want)
				}
				// A registry and an OCI layout hold the same manifest; an
				// archive has none and goes by its config's digest (the
				// image ID docker shows).
				wantSame := strings.HasPrefix(x, "docker-archive:") == strings.HasPrefix(y, "docker-archive:")
				if d.SameDigest != wantSame {
					t.Errorf("sameDigest %v, want %v", d.SameDigest, wantSame)
				}
				if named(x) && named(y) && len(reads.read) != 0 {
					t.Errorf("layers %v read although both images store the same blobs", reads.read)
				}
				// Sizes are each source's own: say so when they differ.
				// The identical text shows no layer lines; the shared sizes
				// are in the JSON document and the layer summary.
				plainA, plainB := a.Layers[0].Compression() == "none", b.Layers[0].Compression() == "none"
				if (d.Layers.SharedBytesA == d.Layers.SharedBytes) != (plainA == plainB) {
					t.Errorf("shared bytes %d in A, %d in B: want them to differ exactly when one side is uncompressed", d.Layers.SharedBytesA, d.Layers.SharedBytes)
				}
				if got := sharedSize(d.Layers); (plainA != plainB) != strings.Contains(got, " as stored in A, ") {
					t.Errorf("shared sizes %q", got)
				}
			})
		}
	}
}

// TestChangeAcrossSources: a rebuild that upgrades a package shows the
// upgrade, and only the changed layer, whichever sources the two images
// come from; the shared base layer is neither listed as different nor read,
// and it is the base image's by --base from yet another source.
func TestChangeAcrossSources(t *testing.T) {
	good := places(t, storyTars(t, "1.17.1-r0")...)
	bad := places(t, storyTars(t, "1.17.2-r0")...)
	for i, x := range good {
		for _, y := range bad {
			t.Run(x+" vs "+y, func(t *testing.T) {
				var reads layerReads
				a, b := open(t, x), open(t, y)
				base := open(t, good[(i+1)%len(good)])
				base.Layers = base.Layers[:1] // the base image: the bottom layer
				opts := Options{Files: true, Inventory: inventory.Options{Progress: reads.progress}}
				var err error
				s := inventory.NewScanner(inventory.Options{})
				if opts.BaseA, err = CheckBaseLayers(context.Background(), s, a, base); err != nil {
					t.Fatal(err)
				}
				if opts.BaseB, err = CheckBaseLayers(context.Background(), s, b, base); err != nil {
					t.Fatal(err)
				}
				if opts.BaseA != 1 || opts.BaseB != 1 {
					t.Errorf("base layers %d and %d, want 1", opts.BaseA, opts.BaseB)
				}
				d, err := Compare(context.Background(), a, b, opts)
				if err != nil {
					t.Fatal(err)
				}
				if d.Identical || d.SameContent || d.SameDigest {
					t.Fatalf("identical=%v sameContent=%v sameDigest=%v", d.Identical, d.SameContent, d.SameDigest)
				}
				if want := "1 package upgraded, 1 of 2 layers differ, 2 files changed"; d.Verdict != want {
					t.Errorf("verdict %q, want %q", d.Verdict, want)
				}
				if len(d.Packages) != 1 || d.Packages[0].Name != "nginx" || d.Packages[0].Change != Upgraded || d.Packages[0].Layer.Index != 1 || d.Packages[0].Layer.Base {
					t.Errorf("packages %+v", d.Packages)
				}
				if d.Layers.Shared != 1 || len(d.Layers.OnlyA) != 1 || len(d.Layers.OnlyB) != 1 || d.Layers.OnlyB[0].Index != 1 {
					t.Errorf("layers %+v", d.Layers)
				}
				for _, k := range reads.read {
					if k == 0 && named(x) && named(y) {
						t.Errorf("the shared base layer was read")
					}
				}
			})
		}
	}
}

// TestArchiveKeepsNoAnnotations: a docker archive has no manifest, so the
// base annotations of the registry's copy are unknown on the archive's
// side, not removed: the two are still identical, with a warning saying
// what was not compared, and no base image change is claimed.
func TestArchiveKeepsNoAnnotations(t *testing.T) {
	gz, plain := storedTwice(t, storyTars(t, "1.17.1-r0")...)
	annotated := mutate.Annotations(gz, map[string]string{
		image.AnnotationBaseName:   "docker.io/library/alpine:3.10",
		image.AnnotationBaseDigest: "sha256:6a92cd1fcdc8d8cdec60f33dda4db2cb1fcdcacf3410a8e05b3741f44a9b5998",
	}).(v1.Image)
	reg := it.Sources(t, annotated)[0]
	saved := "docker-archive:" + it.Archive(t, filepath.Join(t.TempDir(), "saved.tar"), plain)
	for _, p := range [][2]string{{reg, saved}, {saved, reg}} {
		d, err := Compare(context.Background(), open(t, p[0]), open(t, p[1]), Options{})
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if err := Render(&buf, d, FormatText); err != nil {
			t.Fatal(err)
		}
		if !d.Identical || !strings.HasPrefix(d.Verdict, "identical content") || len(d.Config) != 0 {
			t.Errorf("%s vs %s:\n%s", p[0], p[1], buf.String())
		}
		if !strings.Contains(buf.String(), "warning: manifest annotations not compared: ") {
			t.Errorf("no warning about annotations:\n%s", buf.String())
		}
	}
	// Between two manifests, annotations still count.
	d, err := Compare(context.Background(), open(t, reg), open(t, it.Sources(t, gz)[1]), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if d.Identical || !strings.Contains(d.Verdict, "base image changed") {
		t.Errorf("annotations dropped between registry and layout: %q", d.Verdict)
	}
}

// lies builds the story's good image (A) and a rebuild (B) that upgrades
// nginx in its top layer, and an image that stores B's layers under A's
// config, its diff_ids claiming A's content. It returns the honest A
// everywhere images live and the lying image everywhere too, with an
// archive of A whose manifest.json lists its layers swapped, and the honest
// B in a registry.
func lies(t *testing.T) (honest, lying []string, b string) {
	t.Helper()
	good, _ := storedTwice(t, storyTars(t, "1.17.1-r0")...)
	bad, _ := storedTwice(t, storyTars(t, "1.17.2-r0")...)
	lie := it.Lie(t, good, bad)
	honest = places(t, storyTars(t, "1.17.1-r0")...)
	lying = it.Sources(t, lie)
	lying = append(lying,
		"docker-archive:"+it.SwapLayers(t, it.Archive(t, filepath.Join(t.TempDir(), "swapped.tar"), good), 0, 1),
		"docker-archive:"+it.OCIArchive(t, filepath.Join(t.TempDir(), "oci-lie.tar"), lie))
	return honest, lying, it.Sources(t, bad)[0]
}

// TestLyingImageAcrossSources: an image whose config claims another
// image's layers compares as an error against the honest image from every
// source, with or without --files, with a cold cache and with one that the
// honest image filled from every source first: never as identical.
func TestLyingImageAcrossSources(t *testing.T) {
	honest, lying, _ := lies(t)
	ctx := context.Background()
	for _, l := range lying {
		for _, h := range honest {
			t.Run(l+" vs "+h, func(t *testing.T) {
				cache := inventory.NewCache(t.TempDir())
				for _, warm := range []bool{false, true} {
					if warm {
						for _, w := range honest {
							if _, err := Compare(ctx, open(t, h), open(t, w), Options{Files: true, Inventory: inventory.Options{Cache: cache}}); err != nil {
								t.Fatalf("warming with %s: %v", w, err)
							}
						}
					}
					for _, files := range []bool{false, true} {
						for _, p := range [][2]string{{h, l}, {l, h}} {
							d, err := Compare(ctx, open(t, p[0]), open(t, p[1]), Options{Files: files, Inventory: inventory.Options{Cache: cache}})
							if !errors.Is(err, image.ErrDigestMismatch) {
								verdict := ""
								if d != nil {
									verdict = d.Verdict
								}
								t.Errorf("warm=%v files=%v %s vs %s: err %v, verdict %q; want a digest mismatch", warm, files, p[0], p[1], err, verdict)
							}
						}
					}
				}
			})
		}
	}
}

// TestSameBlobTwoDiffIDs: two images that store a layer as the same blob
// but whose configs give it different DiffIDs cannot both be honest: an
// error before anything is read.
func TestSameBlobTwoDiffIDs(t *testing.T) {
	_, lying, b := lies(t)
	var reads layerReads
	_, err := Compare(context.Background(), open(t, lying[0]), open(t, b), Options{Inventory: inventory.Options{Progress: reads.progress}})
	if !errors.Is(err, image.ErrDigestMismatch) || !strings.Contains(err.Error(), "same blob") {
		t.Errorf("err %v, want a digest mismatch naming the blob", err)
	}
	if len(reads.read) != 0 {
		t.Errorf("layers %v read", reads.read)
	}
}

// TestCheckBaseLayers: a base image from another source marks the layers it
// shares with the image once they are checked; a base whose config claims
// layers it does not hold is an error, not a base.
func TestCheckBaseLayers(t *testing.T) {
	honest, lying, _ := lies(t)
	ctx := context.Background()
	s := inventory.NewScanner(inventory.Options{})
	for _, h := range honest {
		if n, err := CheckBaseLayers(ctx, s, open(t, honest[0]), open(t, h)); n != 2 || err != nil {
			t.Errorf("%s as the base of %s: %d, %v; want 2", h, honest[0], n, err)
		}
	}
	for _, l := range lying {
		for _, h := range honest {
			if n, err := CheckBaseLayers(ctx, inventory.NewScanner(inventory.Options{}), open(t, h), open(t, l)); !errors.Is(err, image.ErrDigestMismatch) {
				t.Errorf("%s as the base of %s: %d, %v; want a digest mismatch", l, h, n, err)
			}
		}
	}
}

// TestCrossSourceReadOnce: the same image stored as different blobs (gzip
// in a registry, plain tars in an OCI layout) is identical; the first
// comparison reads both sides to check the DiffIDs, and once the cache
// records both blobs, the next reads nothing.
func TestCrossSourceReadOnce(t *testing.T) {
	gz, plain := storedTwice(t, storyTars(t, "1.17.1-r0")...)
	reg := it.Sources(t, gz)[0]
	dir := it.Layout(t, t.TempDir(), map[string]v1.Image{"1": plain})
	cache := inventory.NewCache(t.TempDir())
	for run, want := range []int{4, 0} {
		var reads layerReads
		d, err := Compare(context.Background(), open(t, reg), open(t, "oci:"+dir+":1"), Options{Files: true, Inventory: inventory.Options{Cache: cache, Progress: reads.progress}})
		if err != nil {
			t.Fatal(err)
		}
		if !d.Identical || !strings.HasPrefix(d.Verdict, "identical content") {
			t.Errorf("run %d: verdict %q", run, d.Verdict)
		}
		if len(reads.read) != want {
			t.Errorf("run %d: layers %v read, want %d", run, reads.read, want)
		}
	}
}
