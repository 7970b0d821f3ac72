package image_test

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/compression"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/stet-dev/stet/image"
	it "github.com/stet-dev/stet/image/imagetest"
	"github.com/stet-dev/stet/internal/faultproxy"
)

func sample(t *testing.T) v1.Image {
	tb := it.Tar(t, it.File{Path: "etc/os-release", Data: "ID=alpine\n"})
	return it.Image(t,
		it.Step{Layer: it.LayerFromTar(t, tb, compression.GZip), CreatedBy: "ADD rootfs.tar /"},
		it.Step{Layer: it.LayerFromTar(t, it.Tar(t, it.File{Path: "app", Data: "zstd"}), compression.ZStd), CreatedBy: "COPY app /"},
		it.Step{Layer: it.LayerFromTar(t, it.Tar(t, it.File{Path: "plain", Data: "none"}), compression.None), CreatedBy: "COPY plain /"},
	)
}

// readAll streams every layer and returns the tar sizes.
func readAll(t *testing.T, im *image.Image) []int64 {
	t.Helper()
	var sizes []int64
	for i := range im.Layers {
		r, err := im.OpenLayer(context.Background(), i)
		if err != nil {
			t.Fatal(err)
		}
		n, err := io.Copy(io.Discard, r)
		if err != nil {
			t.Fatal(err)
		}
		if err := r.Close(); err != nil {
			t.Fatalf("layer %d: %v", i, err)
		}
		sizes = append(sizes, n)
	}
	return sizes
}

func TestSources(t *testing.T) {
	img := sample(t)
	host := it.Registry(t)
	it.Push(t, host+"/app:1", img)
	dir := it.Layout(t, t.TempDir(), map[string]v1.Image{"1": img})
	archive := it.Archive(t, filepath.Join(t.TempDir(), "app.tar"), img)
	ctx := context.Background()
	var want []int64
	for _, arg := range []string{host + "/app:1", "oci:" + dir + ":1", "oci:" + dir, "docker-archive:" + archive} {
		t.Run(arg, func(t *testing.T) {
			im, err := image.Open(ctx, arg, image.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if im.Platform != "linux/amd64" || len(im.Layers) != 3 {
				t.Fatalf("platform %s, %d layers", im.Platform, len(im.Layers))
			}
			var created []string
			for _, l := range im.Layers {
				created = append(created, l.CreatedBy)
			}
			if diff := cmp.Diff([]string{"ADD rootfs.tar /", "COPY app /", "COPY plain /"}, created); diff != "" {
				t.Errorf("created_by (-want +got):\n%s", diff)
			}
			sizes := readAll(t, im)
			if want == nil {
				want = sizes
			} else if diff := cmp.Diff(want, sizes); diff != "" {
				t.Errorf("tar sizes differ between sources (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPlatforms(t *testing.T) {
	mk := func(arch, variant string) v1.Image {
		img := it.Image(t, it.Step{Layer: it.Layer(t, it.File{Path: "arch", Data: arch})})
		cf, _ := img.ConfigFile()
		cf = cf.DeepCopy()
		cf.Architecture, cf.Variant = arch, variant
		img, _ = mutate.ConfigFile(img, cf)
		return img
	}
	att := it.Image(t, it.Step{Layer: it.Layer(t, it.File{Path: "sbom.json", Data: "{}"})})
	idx := mutate.AppendManifests(mutate.IndexMediaType(empty.Index, types.OCIImageIndex),
		mutate.IndexAddendum{Add: mk("amd64", ""), Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}}},
		mutate.IndexAddendum{Add: mk("arm64", "v8"), Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "arm64", Variant: "v8"}}},
		mutate.IndexAddendum{Add: att, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "unknown", Architecture: "unknown"}, Annotations: map[string]string{"vnd.docker.reference.type": "attestation-manifest"}}},
	)
	host := it.Registry(t)
	it.Push(t, host+"/multi:1", idx)
	dir := it.LayoutIndex(t, t.TempDir(), "1", idx)
	ctx := context.Background()
	for _, arg := range []string{host + "/multi:1", "oci:" + dir + ":1"} {
		t.Run(arg, func(t *testing.T) {
			for _, tc := range []struct{ platform, want string }{{"", "linux/amd64"}, {"linux/arm64", "linux/arm64/v8"}, {"linux/arm64/v8", "linux/arm64/v8"}} {
				im, err := image.Open(ctx, arg, image.Options{Platform: tc.platform})
				if err != nil {
					t.Fatal(err)
				}
				if im.Platform != tc.want || im.IndexDigest == "" {
					t.Errorf("--platform %q picked %s (index %q)", tc.platform, im.Platform, im.IndexDigest)
				}
			}
			if _, err := image.Open(ctx, arg, image.Options{Platform: "linux/s390x"}); !errors.Is(err, image.ErrNoPlatform) {
				t.Errorf("s390x: err = %v", err)
			}
			all, err := image.OpenAll(ctx, arg, image.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if len(all) != 2 {
				t.Errorf("OpenAll: %d images, want 2 (attestation left out)", len(all))
			}
		})
	}
}

func TestRegistryCorruptBlob(t *testing.T) {
	img := sample(t)
	host := it.Registry(t)
	it.Push(t, host+"/app:1", img)
	p := faultproxy.New(t, "http://"+host)
	layers, _ := img.Layers()
	ld, _ := layers[0].Digest()
	p.Add(faultproxy.Fault{Method: "GET", Kind: faultproxy.Blob, PathContains: ld.Hex, Corrupt: true})
	im, err := image.Open(context.Background(), p.Host+"/app:1", image.Options{})
	if err != nil {
		t.Fatal(err)
	}
	r, err := im.OpenLayer(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	_, rerr := io.Copy(io.Discard, r)
	cerr := r.Close()
	if !errors.Is(rerr, image.ErrDigestMismatch) && !errors.Is(cerr, image.ErrDigestMismatch) {
		t.Errorf("read err %v, close err %v: want a digest mismatch", rerr, cerr)
	}
}

func TestLayoutTampered(t *testing.T) {
	img := sample(t)
	dir := it.Layout(t, t.TempDir(), map[string]v1.Image{"1": img})
	dg, _ := img.Digest()
	p := filepath.Join(dir, "blobs", "sha256", dg.Hex)
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(strings.Replace(string(b), "layers", "layers ", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := image.Open(context.Background(), "oci:"+dir+":1", image.Options{}); !errors.Is(err, image.ErrDigestMismatch) {
		t.Errorf("err = %v, want a digest mismatch", err)
	}
}

func TestArchiveTamperedLayer(t *testing.T) {
	img := it.Image(t, it.Step{Layer: it.LayerFromTar(t, it.Tar(t, it.File{Path: "a", Data: "original"}), compression.None)})
	path := it.Archive(t, filepath.Join(t.TempDir(), "x.tar"), img)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	i := strings.Index(string(b), "original")
	if i < 0 {
		t.Fatal("layer content not found in the archive")
	}
	copy(b[i:], "0riginal")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	im, err := image.Open(context.Background(), "docker-archive:"+path, image.Options{})
	if err != nil {
		t.Fatal(err)
	}
	r, err := im.OpenLayer(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, r)
	if err := r.Close(); !errors.Is(err, image.ErrDigestMismatch) {
		t.Errorf("err = %v, want a digest mismatch", err)
	}
}

func TestOpenErrors(t *testing.T) {
	ctx := context.Background()
	for _, arg := range []string{"oci:", "oci:/nonexistent/dir", "docker-archive:/nonexistent.tar", "UPPER/Case:bad tag"} {
		if _, err := image.Open(ctx, arg, image.Options{}); err == nil {
			t.Errorf("%s: want an error", arg)
		}
	}
	if _, err := image.Open(ctx, "x", image.Options{Platform: "linux"}); err == nil || !strings.Contains(err.Error(), "os/arch") {
		t.Errorf("bad platform: %v", err)
	}
}

func ociStyleArchive(t *testing.T, img v1.Image) string {
	return it.OCIArchive(t, filepath.Join(t.TempDir(), "app.tar"), img)
}

func TestOCIStyleDockerArchive(t *testing.T) {
	img := sample(t)
	im, err := image.Open(context.Background(), "docker-archive:"+ociStyleArchive(t, img), image.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(im.Layers) != 3 || im.Layers[1].CreatedBy != "COPY app /" {
		t.Fatalf("%+v", im.Layers)
	}
	readAll(t, im) // gzip and zstd blobs checked against the config's DiffIDs
}

// TestLayerIdentityAcrossSources: the same image read from a registry, an
// OCI layout and both kinds of docker archive has the same layer IDs (the
// DiffIDs), whatever digests and sizes each source stores its layers under.
func TestLayerIdentityAcrossSources(t *testing.T) {
	img := sample(t)
	host := it.Registry(t)
	it.Push(t, host+"/app:1", img)
	dir := it.Layout(t, t.TempDir(), map[string]v1.Image{"1": img})
	archive := it.Archive(t, filepath.Join(t.TempDir(), "app.tar"), img)
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	m, err := img.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	var wantIDs, blobDigests []string
	for i, d := range cf.RootFS.DiffIDs {
		wantIDs = append(wantIDs, d.String())
		blobDigests = append(blobDigests, m.Layers[i].Digest.String())
	}
	ctx := context.Background()
	for _, tc := range []struct {
		arg         string
		digests     []string
		blobs       []string
		compression []string
	}{
		{host + "/app:1", blobDigests, blobDigests, []string{"gzip", "zstd", "none"}},
		{"oci:" + dir + ":1", blobDigests, blobDigests, []string{"gzip", "zstd", "none"}},
		// go-containerregistry's archives keep layers as they are stored;
		// their names say nothing, so the DiffIDs stand for their digests,
		// and no blob digest binds their bytes.
		{"docker-archive:" + archive, wantIDs, []string{"", "", ""}, []string{"gzip", "zstd", "none"}},
		{"docker-archive:" + ociStyleArchive(t, img), blobDigests, blobDigests, []string{"gzip", "zstd", "none"}},
	} {
		t.Run(tc.arg, func(t *testing.T) {
			im, err := image.Open(ctx, tc.arg, image.Options{})
			if err != nil {
				t.Fatal(err)
			}
			var ids, digests, blobs, compression []string
			for _, l := range im.Layers {
				ids = append(ids, l.ID())
				digests = append(digests, l.Digest)
				blobs = append(blobs, l.Blob())
				compression = append(compression, l.Compression())
				if l.Size <= 0 {
					t.Errorf("layer %d: size %d, want the stored size", l.Index, l.Size)
				}
			}
			if diff := cmp.Diff(wantIDs, ids); diff != "" {
				t.Errorf("IDs (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.digests, digests); diff != "" {
				t.Errorf("digests (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.blobs, blobs); diff != "" {
				t.Errorf("blobs (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.compression, compression); diff != "" {
				t.Errorf("compression (-want +got):\n%s", diff)
			}
			readAll(t, im)
		})
	}
}

// TestConfigLyingAboutDiffID: a config whose diff_ids do not name its
// layers' content is found out when the layer is read, from every source,
// so nothing read from such a layer is ever filed under the claimed ID.
func TestConfigLyingAboutDiffID(t *testing.T) {
	honest := sample(t)
	other := it.Image(t, it.Step{Layer: it.Layer(t, it.File{Path: "etc/os-release", Data: "ID=debian\n"})})
	ocf, _ := other.ConfigFile()
	cf, err := honest.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf = cf.DeepCopy()
	cf.RootFS.DiffIDs[0] = ocf.RootFS.DiffIDs[0]
	liar, err := mutate.ConfigFile(honest, cf)
	if err != nil {
		t.Fatal(err)
	}
	host := it.Registry(t)
	it.Push(t, host+"/liar:1", liar)
	dir := it.Layout(t, t.TempDir(), map[string]v1.Image{"1": liar})
	ctx := context.Background()
	for _, arg := range []string{host + "/liar:1", "oci:" + dir + ":1", "docker-archive:" + it.Archive(t, filepath.Join(t.TempDir(), "liar.tar"), liar)} {
		t.Run(arg, func(t *testing.T) {
			im, err := image.Open(ctx, arg, image.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if im.Layers[0].ID() != ocf.RootFS.DiffIDs[0].String() {
				t.Fatalf("ID %s, want the claimed DiffID", im.Layers[0].ID())
			}
			r, err := im.OpenLayer(ctx, 0)
			if err != nil {
				t.Fatal(err)
			}
			_, rerr := io.Copy(io.Discard, r)
			cerr := r.Close()
			if !errors.Is(rerr, image.ErrDigestMismatch) && !errors.Is(cerr, image.ErrDigestMismatch) {
				t.Errorf("read err %v, close err %v: want a digest mismatch", rerr, cerr)
			}
			// The honest layers above read fine.
			r, err = im.OpenLayer(ctx, 1)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, r)
			if err := r.Close(); err != nil {
				t.Errorf("layer 1: %v", err)
			}
		})
	}
}

// TestArchiveLayersSwapped: an archive whose manifest.json lists its layers
// in another order than its config's diff_ids opens (nothing is read), but
// reading a misplaced layer is a digest mismatch, whether the archive names
// its blobs by digest or not.
func TestArchiveLayersSwapped(t *testing.T) {
	img := sample(t)
	for _, path := range []string{
		it.Archive(t, filepath.Join(t.TempDir(), "app.tar"), img),
		ociStyleArchive(t, img),
	} {
		it.SwapLayers(t, path, 0, 1)
		im, err := image.Open(context.Background(), "docker-archive:"+path, image.Options{})
		if err != nil {
			t.Fatal(err)
		}
		for _, i := range []int{0, 1} {
			r, err := im.OpenLayer(context.Background(), i)
			if err != nil {
				t.Fatal(err)
			}
			_, rerr := io.Copy(io.Discard, r)
			cerr := r.Close()
			if !errors.Is(rerr, image.ErrDigestMismatch) && !errors.Is(cerr, image.ErrDigestMismatch) {
				t.Errorf("%s: layer %d: read err %v, close err %v: want a digest mismatch", path, i, rerr, cerr)
			}
		}
	}
}
