package image

import (
	"archive/tar"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// maxArchiveJSON caps manifest.json and config blobs read from an archive.
const maxArchiveJSON = 8 << 20

// archiveSource is a `docker save` tarball. It records no manifest digest and
// often stores layers uncompressed, so layers are checked against the DiffIDs
// of the (content-addressed) config.
type archiveSource struct {
	arg, file string
	manifest  tarball.Manifest
}

func openArchive(arg, file string) (*archiveSource, error) {
	if !exists(file) {
		return nil, fmt.Errorf("image %q: %w", arg, os.ErrNotExist)
	}
	s := &archiveSource{arg: arg, file: file}
	rc, err := s.member("manifest.json")
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", arg, err)
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, maxArchiveJSON+1))
	if err != nil {
		return nil, fmt.Errorf("reading manifest.json of %s: %w", arg, err)
	}
	if len(data) > maxArchiveJSON {
		return nil, fmt.Errorf("%s: manifest.json larger than %d bytes", arg, maxArchiveJSON)
	}
	if err := json.Unmarshal(data, &s.manifest); err != nil {
		return nil, fmt.Errorf("parsing manifest.json of %s: %w", arg, err)
	}
	if len(s.manifest) == 0 {
		return nil, fmt.Errorf("%s: archive holds no image", arg)
	}
	return s, nil
}

// member opens a file inside the archive, following the symlinks `docker
// save` uses for repeated layers.
func (s *archiveSource) member(name string) (io.ReadCloser, error) {
	seen := map[string]bool{}
	for hops := 0; hops < 16; hops++ {
		name = path.Clean(name)
		if seen[name] {
			return nil, fmt.Errorf("link cycle at %s", name)
		}
		seen[name] = true
		f, err := os.Open(s.file)
		if err != nil {
			return nil, err
		}
		tr := tar.NewReader(f)
		next := ""
		for {
			hdr, err := tr.Next()
			if errors.Is(err, io.EOF) {
				f.Close()
				return nil, fmt.Errorf("%s not found in archive", name)
			}
			if err != nil {
				f.Close()
				return nil, err
			}
			if path.Clean(hdr.Name) != name {
				continue
			}
			switch hdr.Typeflag {
			case tar.TypeSymlink:
				next = path.Join(path.Dir(name), hdr.Linkname)
			case tar.TypeLink:
				next = hdr.Linkname
			default:
				return struct {
					io.Reader
					io.Closer
				}{tr, f}, nil
			}
			break
		}
		f.Close()
		name = next
	}
	return nil, fmt.Errorf("too many links resolving %s", name)
}

func (s *archiveSource) readJSON(name string, v any) ([]byte, error) {
	rc, err := s.member(name)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, maxArchiveJSON+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxArchiveJSON {
		return nil, fmt.Errorf("%s larger than %d bytes", name, maxArchiveJSON)
	}
	return data, json.Unmarshal(data, v)
}

func (s *archiveSource) load(d tarball.Descriptor) (*Image, error) {
	var cf v1.ConfigFile
	raw, err := s.readJSON(d.Config, &cf)
	if err != nil {
		return nil, fmt.Errorf("reading config of %s: %w", s.arg, err)
	}
	sum := sha256.Sum256(raw)
	cd := "sha256:" + hex.EncodeToString(sum[:])
	// The config of an OCI-layout style archive is named by its digest.
	if strings.HasPrefix(d.Config, "blobs/sha256/") && strings.TrimPrefix(d.Config, "blobs/sha256/") != hex.EncodeToString(sum[:]) {
		return nil, fmt.Errorf("%s: config %s: %w", s.arg, d.Config, ErrDigestMismatch)
	}
	if len(cf.RootFS.DiffIDs) != len(d.Layers) {
		return nil, fmt.Errorf("%s: manifest.json lists %d layers but config lists %d diff_ids", s.arg, len(d.Layers), len(cf.RootFS.DiffIDs))
	}
	im := &Image{
		Name:         s.arg,
		Source:       SourceDockerArchive,
		Digest:       cd,
		MediaType:    string(types.DockerManifestSchema2),
		Platform:     platformString(cf.OS, cf.Architecture, cf.Variant),
		Config:       &cf,
		ConfigDigest: cd,
	}
	created := createdBy(&cf, len(d.Layers))
	paths := map[string]string{}
	for i, p := range d.Layers {
		dg := cf.RootFS.DiffIDs[i].String()
		paths[dg] = p
		im.Layers = append(im.Layers, Layer{
			Index:     i,
			Digest:    dg,
			DiffID:    dg,
			Size:      -1,
			MediaType: string(types.DockerLayer),
			CreatedBy: created[i],
		})
	}
	im.blobs = archiveBlobs{s: s, paths: paths}
	return im, nil
}

func (s *archiveSource) image(ctx context.Context, p *v1.Platform) (*Image, error) {
	if len(s.manifest) > 1 {
		return nil, fmt.Errorf("%s: archive holds %d images; save one image per archive", s.arg, len(s.manifest))
	}
	return s.load(s.manifest[0])
}

func (s *archiveSource) all(ctx context.Context) ([]*Image, error) {
	im, err := s.image(ctx, nil)
	if err != nil {
		return nil, err
	}
	return []*Image{im}, nil
}

type archiveBlobs struct {
	s     *archiveSource
	paths map[string]string
}

func (a archiveBlobs) open(ctx context.Context, l Layer) (io.ReadCloser, error) {
	p, ok := a.paths[l.Digest]
	if !ok {
		return nil, fmt.Errorf("layer %s not in archive manifest", l.Digest)
	}
	return a.s.member(p)
}

func (archiveBlobs) verifiesUncompressed() bool { return true }

func (archiveBlobs) verifiesItself() bool { return false }
