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
	"regexp"
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
	// members are the archive's entries by clean name, from one pass over
	// the tar headers.
	members map[string]archiveMember
}

// archiveMember is what the header pass records of an entry.
type archiveMember struct {
	typ   byte
	link  string
	size  int64
	magic []byte // the first bytes of a regular file
}

// maxArchiveMembers bounds the header pass: `docker save` writes a few
// entries per layer.
const maxArchiveMembers = 1 << 20

func openArchive(arg, file string) (*archiveSource, error) {
	if !exists(file) {
		return nil, fmt.Errorf("image %q: %w", arg, os.ErrNotExist)
	}
	s := &archiveSource{arg: arg, file: file}
	if err := s.indexMembers(); err != nil {
		return nil, fmt.Errorf("reading %s: %w", arg, err)
	}
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

// indexMembers records every entry's type, link, size and first bytes. The
// tar reader seeks over file contents, so this reads little more than the
// headers.
func (s *archiveSource) indexMembers() error {
	f, err := os.Open(s.file)
	if err != nil {
		return err
	}
	defer f.Close()
	s.members = map[string]archiveMember{}
	tr := tar.NewReader(f)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if len(s.members) >= maxArchiveMembers {
			return fmt.Errorf("more than %d entries: not a docker save archive", maxArchiveMembers)
		}
		m := archiveMember{typ: hdr.Typeflag, link: hdr.Linkname, size: hdr.Size}
		if hdr.Typeflag == tar.TypeReg || hdr.Typeflag == tar.TypeRegA {
			var b [4]byte
			n, _ := io.ReadFull(tr, b[:])
			m.magic = b[:n]
		}
		s.members[path.Clean(hdr.Name)] = m
	}
}

// resolve follows an entry's links to the regular file it stands for.
func (s *archiveSource) resolve(name string) (string, archiveMember, bool) {
	for hops := 0; hops < 16; hops++ {
		name = path.Clean(name)
		m, ok := s.members[name]
		if !ok {
			return "", archiveMember{}, false
		}
		switch m.typ {
		case tar.TypeSymlink:
			name = path.Join(path.Dir(name), m.link)
		case tar.TypeLink:
			name = m.link
		default:
			return name, m, true
		}
	}
	return "", archiveMember{}, false
}

// storedType names what a layer member holds, by its first bytes: an archive
// records no media types, and `docker save` stores layers uncompressed
// while other writers keep them compressed.
func storedType(magic []byte) types.MediaType {
	switch {
	case len(magic) >= 2 && magic[0] == 0x1f && magic[1] == 0x8b:
		return types.DockerLayer
	case len(magic) == 4 && magic[0] == 0x28 && magic[1] == 0xb5 && magic[2] == 0x2f && magic[3] == 0xfd:
		return types.OCILayerZStd
	}
	return types.DockerUncompressedLayer
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
	blobs := archiveBlobs{s: s, named: map[string]bool{}}
	for i, p := range d.Layers {
		diffID := cf.RootFS.DiffIDs[i].String()
		l := Layer{
			Index:     i,
			Digest:    diffID,
			DiffID:    diffID,
			Size:      -1,
			MediaType: string(types.DockerLayer),
			CreatedBy: created[i],
		}
		if name, m, ok := s.resolve(p); ok {
			l.Size = m.size
			l.MediaType = string(storedType(m.magic))
			// A blob named by its digest, as in an OCI layout, is checked
			// against that name and keeps the digest a registry gives it.
			if hex, ok := strings.CutPrefix(name, "blobs/sha256/"); ok && hexDigestRE.MatchString(hex) {
				l.Digest = "sha256:" + hex
				l.Named = true
				blobs.named[l.Digest] = true
			}
		}
		blobs.paths = append(blobs.paths, p)
		im.Layers = append(im.Layers, l)
	}
	im.blobs = blobs
	return im, nil
}

var hexDigestRE = regexp.MustCompile(`^[a-f0-9]{64}$`)

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
	s *archiveSource
	// paths are the members of the layers, by index.
	paths []string
	// named are the Digests taken from blob names, which the stored bytes
	// are checked against.
	named map[string]bool
}

func (a archiveBlobs) open(ctx context.Context, l Layer) (io.ReadCloser, error) {
	if l.Index < 0 || l.Index >= len(a.paths) {
		return nil, fmt.Errorf("layer %d not in archive manifest", l.Index)
	}
	return a.s.member(a.paths[l.Index])
}

func (a archiveBlobs) storedCheck(l Layer) storedCheck {
	if a.named[l.Digest] {
		return storedHashed
	}
	return storedUnchecked
}
