package image

import (
	"context"
	"fmt"
	"io"
	"slices"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

type registrySource struct {
	arg  string
	ref  name.Reference
	desc *remote.Descriptor
	opts []remote.Option
}

func openRegistry(ctx context.Context, arg, rest string, o Options) (*registrySource, error) {
	var nopts []name.Option
	if r, err := name.ParseReference(rest); err == nil && slices.Contains(o.Insecure, r.Context().RegistryStr()) {
		nopts = append(nopts, name.Insecure)
	}
	ref, err := name.ParseReference(rest, nopts...)
	if err != nil {
		return nil, fmt.Errorf("image %q: %w", arg, err)
	}
	var ropts []remote.Option
	if o.Remote != nil {
		ref, ropts, err = o.Remote(ctx, ref)
		if err != nil {
			return nil, fmt.Errorf("registry options for %s: %w", arg, err)
		}
	} else {
		kc := o.Keychain
		if kc == nil {
			kc = authn.DefaultKeychain
		}
		ropts = append(ropts, remote.WithAuthFromKeychain(kc))
		if o.Transport != nil {
			ropts = append(ropts, remote.WithTransport(o.Transport))
		}
	}
	ropts = append(ropts, remote.WithContext(ctx))
	desc, err := remote.Get(ref, ropts...)
	if err != nil {
		return nil, fmt.Errorf("fetching manifest of %s: %w", arg, err)
	}
	return &registrySource{arg: arg, ref: ref, desc: desc, opts: ropts}, nil
}

func (s *registrySource) image(ctx context.Context, p *v1.Platform) (*Image, error) {
	if !isIndex(s.desc.MediaType) {
		img, err := s.desc.Image()
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", s.arg, err)
		}
		return fromV1(s.arg, SourceRegistry, img, "", remoteBlobs{img}, "")
	}
	idx, im, err := s.index()
	if err != nil {
		return nil, err
	}
	d, err := pick(im, p)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", s.arg, err)
	}
	return s.child(idx, d)
}

func (s *registrySource) all(ctx context.Context) ([]*Image, error) {
	if !isIndex(s.desc.MediaType) {
		im, err := s.image(ctx, nil)
		if err != nil {
			return nil, err
		}
		return []*Image{im}, nil
	}
	idx, im, err := s.index()
	if err != nil {
		return nil, err
	}
	var out []*Image
	for _, d := range runnable(im) {
		one, err := s.child(idx, d)
		if err != nil {
			return nil, err
		}
		out = append(out, one)
	}
	return out, nil
}

// index reads the root, known to be an index, and its manifest.
func (s *registrySource) index() (v1.ImageIndex, *v1.IndexManifest, error) {
	idx, err := s.desc.ImageIndex()
	if err != nil {
		return nil, nil, fmt.Errorf("reading index of %s: %w", s.arg, err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return nil, nil, fmt.Errorf("reading index of %s: %w", s.arg, err)
	}
	return idx, im, nil
}

// child opens the image d of the root index; it keeps the index digest, as
// that is what a user pins, and takes its platform from the index entry.
func (s *registrySource) child(idx v1.ImageIndex, d v1.Descriptor) (*Image, error) {
	img, err := idx.Image(d.Digest)
	if err != nil {
		return nil, fmt.Errorf("reading %s@%s: %w", s.arg, d.Digest, err)
	}
	im, err := fromV1(s.arg, SourceRegistry, img, s.desc.Digest.String(), remoteBlobs{img}, "")
	if err != nil {
		return nil, err
	}
	im.usePlatform(d.Platform)
	return im, nil
}

type remoteBlobs struct{ img v1.Image }

func (r remoteBlobs) open(ctx context.Context, l Layer) (io.ReadCloser, error) {
	h, err := v1.NewHash(l.Digest)
	if err != nil {
		return nil, err
	}
	layer, err := r.img.LayerByDigest(h)
	if err != nil {
		return nil, err
	}
	return layer.Compressed()
}

// The registry client checks the digest as the blob is read and fails the
// read at the end on a mismatch; hashing twice would only cost time.
func (remoteBlobs) storedCheck(Layer) storedCheck { return storedByOpener }
