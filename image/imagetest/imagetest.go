// Package imagetest builds real container images for tests: tar layers from
// file lists, images with history, and the three places images live — an
// in-process registry on 127.0.0.1, an OCI layout directory and a docker
// archive.
package imagetest

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"io"
	"log"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/compression"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// File is one tar entry. Type defaults to a regular file (a directory when
// Path ends in "/").
type File struct {
	Path string
	Data string
	Type byte
	Link string
	Mode int64
	UID  int
	GID  int
}

// Dir, Symlink, Hardlink, Whiteout and Opaque build the entries their names
// say.
func Dir(p string) File              { return File{Path: p, Type: tar.TypeDir} }
func Symlink(p, target string) File  { return File{Path: p, Type: tar.TypeSymlink, Link: target} }
func Hardlink(p, target string) File { return File{Path: p, Type: tar.TypeLink, Link: target} }
func Whiteout(p string) File {
	return File{Path: filepath.ToSlash(filepath.Join(filepath.Dir(p), ".wh."+filepath.Base(p)))}
}
func Opaque(dir string) File { return File{Path: strings.TrimSuffix(dir, "/") + "/.wh..wh..opq"} }

// Tar returns a tar stream of the files, in order.
func Tar(t testing.TB, files ...File) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	mt := time.Unix(1700000000, 0)
	for _, f := range files {
		h := &tar.Header{Name: f.Path, Mode: f.Mode, Uid: f.UID, Gid: f.GID, ModTime: mt, Typeflag: f.Type, Linkname: f.Link, Format: tar.FormatPAX}
		if h.Typeflag == 0 {
			h.Typeflag = tar.TypeReg
			if strings.HasSuffix(f.Path, "/") {
				h.Typeflag = tar.TypeDir
			}
		}
		if h.Mode == 0 {
			h.Mode = 0o644
			if h.Typeflag == tar.TypeDir {
				h.Mode = 0o755
			}
		}
		if h.Typeflag == tar.TypeReg {
			h.Size = int64(len(f.Data))
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatalf("tar header %s: %v", f.Path, err)
		}
		if h.Typeflag == tar.TypeReg {
			if _, err := io.WriteString(tw, f.Data); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// Layer returns a gzip-compressed layer of the files.
func Layer(t testing.TB, files ...File) v1.Layer {
	t.Helper()
	return LayerFromTar(t, Tar(t, files...), compression.GZip)
}

// LayerFromTar wraps a tar stream as a layer compressed with c (or stored
// uncompressed with compression.None).
func LayerFromTar(t testing.TB, tb []byte, c compression.Compression) v1.Layer {
	t.Helper()
	if c == compression.None {
		return static.NewLayer(tb, types.OCIUncompressedLayer)
	}
	opts := []tarball.LayerOption{tarball.WithCompressedCaching}
	if c == compression.ZStd {
		opts = append(opts, tarball.WithCompression(compression.ZStd), tarball.WithMediaType(types.OCILayerZStd))
	}
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(tb)), nil }, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// Step is a layer with the history line that made it.
type Step struct {
	Layer     v1.Layer
	CreatedBy string
}

// Image stacks layers into a linux/amd64 OCI image.
func Image(t testing.TB, steps ...Step) v1.Image {
	t.Helper()
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	for _, s := range steps {
		var err error
		img, err = mutate.Append(img, mutate.Addendum{Layer: s.Layer, History: v1.History{CreatedBy: s.CreatedBy, Created: v1.Time{Time: time.Unix(1700000000, 0)}}, MediaType: mustMT(t, s.Layer)})
		if err != nil {
			t.Fatal(err)
		}
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", "amd64"
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func mustMT(t testing.TB, l v1.Layer) types.MediaType {
	mt, err := l.MediaType()
	if err != nil {
		t.Fatal(err)
	}
	return mt
}

// WithConfig edits an image's config.
func WithConfig(t testing.TB, img v1.Image, edit func(*v1.Config)) v1.Image {
	t.Helper()
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf = cf.DeepCopy()
	edit(&cf.Config)
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// Registry starts an in-process registry on 127.0.0.1 and returns its host.
func Registry(t testing.TB) string {
	t.Helper()
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

// Push writes an image (or index) to ref in a registry started by Registry.
func Push(t testing.TB, ref string, img any) {
	t.Helper()
	r, err := name.ParseReference(ref, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	switch v := img.(type) {
	case v1.Image:
		err = remote.Write(r, v)
	case v1.ImageIndex:
		err = remote.WriteIndex(r, v)
	}
	if err != nil {
		t.Fatalf("pushing %s: %v", ref, err)
	}
}

// Layout writes images to an OCI layout in dir, each tagged, and returns
// the dir.
func Layout(t testing.TB, dir string, tagged map[string]v1.Image) string {
	t.Helper()
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	for tag, img := range tagged {
		if err := p.AppendImage(img, layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": tag})); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// LayoutIndex writes an index to an OCI layout in dir under tag.
func LayoutIndex(t testing.TB, dir, tag string, idx v1.ImageIndex) string {
	t.Helper()
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.AppendIndex(idx, layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": tag})); err != nil {
		t.Fatal(err)
	}
	return dir
}

// Archive writes an image as a `docker save` tarball at path.
func Archive(t testing.TB, path string, img v1.Image) string {
	t.Helper()
	tag, err := name.NewTag("example.test/app:1")
	if err != nil {
		t.Fatal(err)
	}
	if err := tarball.WriteToFile(path, tag, img); err != nil {
		t.Fatal(err)
	}
	return path
}

// Sources writes img to a new in-process registry, an OCI layout and a
// docker archive, and returns the three image arguments that name it there,
// in that order.
func Sources(t testing.TB, img v1.Image) []string {
	t.Helper()
	host := Registry(t)
	Push(t, host+"/img:1", img)
	dir := Layout(t, t.TempDir(), map[string]v1.Image{"1": img})
	archive := Archive(t, filepath.Join(t.TempDir(), "img.tar"), img)
	return []string{host + "/img:1", "oci:" + dir + ":1", "docker-archive:" + archive}
}

// Lie returns an image that stores the layers of layers under the config
// of cfg: its config's diff_ids (and history) claim cfg's content while its
// manifest names the other image's blobs.
func Lie(t testing.TB, cfg, layers v1.Image) v1.Image {
	t.Helper()
	cf, err := cfg.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	img, err := mutate.ConfigFile(layers, cf.DeepCopy())
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// OCIArchive writes an image as Docker 25 and later `docker save` it: an
// OCI layout (blobs/sha256/…, index.json) plus a manifest.json naming the
// blobs, layers kept as they are stored.
func OCIArchive(t testing.TB, path string, img v1.Image) string {
	t.Helper()
	dir := Layout(t, t.TempDir(), map[string]v1.Image{"docker.io/library/app:1": img})
	cfg, err := img.ConfigName()
	if err != nil {
		t.Fatal(err)
	}
	m, err := img.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	var layers []string
	for _, l := range m.Layers {
		layers = append(layers, "blobs/sha256/"+l.Digest.Hex)
	}
	mj, err := json.Marshal(tarball.Manifest{{Config: "blobs/sha256/" + cfg.Hex, RepoTags: []string{"app:1"}, Layers: layers}})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "manifest.json"), mj, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	tw := tar.NewWriter(f)
	if err := tw.AddFS(os.DirFS(dir)); err != nil {
		t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// SwapLayers rewrites the manifest.json of the docker archive at path with
// the image's layers i and j listed in each other's place, the config left
// as it is, and returns path.
func SwapLayers(t testing.TB, path string, i, j int) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	tr, tw := tar.NewReader(bytes.NewReader(data)), tar.NewWriter(&out)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		if hdr.Name == "manifest.json" {
			var m tarball.Manifest
			if err := json.Unmarshal(body, &m); err != nil {
				t.Fatal(err)
			}
			m[0].Layers[i], m[0].Layers[j] = m[0].Layers[j], m[0].Layers[i]
			if body, err = json.Marshal(m); err != nil {
				t.Fatal(err)
			}
			hdr.Size = int64(len(body))
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(body); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}
