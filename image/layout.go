package image

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
)

// refNameAnnotation tags a manifest in an OCI layout's index.json.
const refNameAnnotation = "org.opencontainers.image.ref.name"

// layoutSource is an OCI image layout directory, optionally narrowed to the
// index.json entry carrying a tag.
type layoutSource struct {
	arg  string
	path layout.Path
	root v1.Descriptor
}

func openLayout(arg, rest string) (*layoutSource, error) {
	dir, tag := rest, ""
	if !exists(filepath.Join(dir, "index.json")) {
		if i := strings.LastIndexByte(rest, ':'); i > 0 {
			dir, tag = rest[:i], rest[i+1:]
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "oci-layout")); err != nil {
		return nil, fmt.Errorf("image %q: %s is not an OCI image layout: %w", arg, dir, err)
	}
	p, err := layout.FromPath(dir)
	if err != nil {
		return nil, fmt.Errorf("image %q: %w", arg, err)
	}
	idx, err := p.ImageIndex()
	if err != nil {
		return nil, fmt.Errorf("reading index.json of %s: %w", arg, err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return nil, fmt.Errorf("reading index.json of %s: %w", arg, err)
	}
	var cands []v1.Descriptor
	for _, d := range im.Manifests {
		name := d.Annotations[refNameAnnotation]
		if tag == "" || name == tag || strings.HasSuffix(name, ":"+tag) {
			cands = append(cands, d)
		}
	}
	switch {
	case len(cands) == 0 && tag != "":
		return nil, fmt.Errorf("image %q: no manifest tagged %q in %s", arg, tag, dir)
	case len(cands) == 0:
		return nil, fmt.Errorf("image %q: %s holds no manifest", arg, dir)
	case len(cands) > 1:
		var names []string
		for _, d := range cands {
			names = append(names, d.Annotations[refNameAnnotation])
		}
		return nil, fmt.Errorf("image %q: %s holds %d manifests (%s); name one as oci:DIR:tag", arg, dir, len(cands), strings.Join(names, ", "))
	}
	return &layoutSource{arg: arg, path: p, root: cands[0]}, nil
}

func (s *layoutSource) open(d v1.Descriptor, indexDigest string) (*Image, error) {
	var img v1.Image
	var err error
	if indexDigest == "" {
		img, err = s.path.Image(d.Digest)
	} else {
		var idx v1.ImageIndex
		if idx, err = s.path.ImageIndex(); err == nil {
			var sub v1.ImageIndex
			if sub, err = idx.ImageIndex(s.root.Digest); err == nil {
				img, err = sub.Image(d.Digest)
			}
		}
	}
	if err != nil {
		return nil, fmt.Errorf("reading %s@%s: %w", s.arg, d.Digest, err)
	}
	im, err := fromV1(s.arg, SourceOCILayout, img, indexDigest, layoutBlobs{s.path}, d.Digest.String())
	if err != nil {
		return nil, err
	}
	if indexDigest != "" {
		im.usePlatform(d.Platform)
	}
	return im, nil
}

func (s *layoutSource) index() (*v1.IndexManifest, error) {
	idx, err := s.path.ImageIndex()
	if err != nil {
		return nil, err
	}
	sub, err := idx.ImageIndex(s.root.Digest)
	if err != nil {
		return nil, fmt.Errorf("reading index %s of %s: %w", s.root.Digest, s.arg, err)
	}
	return sub.IndexManifest()
}

func (s *layoutSource) image(ctx context.Context, p *v1.Platform) (*Image, error) {
	if !isIndex(s.root.MediaType) {
		return s.open(s.root, "")
	}
	im, err := s.index()
	if err != nil {
		return nil, err
	}
	d, err := pick(im, p)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", s.arg, err)
	}
	return s.open(d, s.root.Digest.String())
}

func (s *layoutSource) all(ctx context.Context) ([]*Image, error) {
	if !isIndex(s.root.MediaType) {
		im, err := s.open(s.root, "")
		if err != nil {
			return nil, err
		}
		return []*Image{im}, nil
	}
	im, err := s.index()
	if err != nil {
		return nil, err
	}
	var out []*Image
	for _, d := range runnable(im) {
		one, err := s.open(d, s.root.Digest.String())
		if err != nil {
			return nil, err
		}
		out = append(out, one)
	}
	return out, nil
}

type layoutBlobs struct{ p layout.Path }

func (b layoutBlobs) open(ctx context.Context, l Layer) (io.ReadCloser, error) {
	h, err := v1.NewHash(l.Digest)
	if err != nil {
		return nil, err
	}
	return b.p.Blob(h)
}

func (layoutBlobs) storedCheck(Layer) storedCheck { return storedHashed }
