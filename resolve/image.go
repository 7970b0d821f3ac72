package resolve

import (
	"bytes"
	"context"
	"fmt"
	"slices"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// manifestInfo is what stet needs from a manifest's content. Content is
// addressed by digest, so it is cached by digest across tags and repositories.
type manifestInfo struct {
	mediaType string
	platforms []string
	// children maps each manifest digest of an index to its platform.
	children map[string]string
}

func isIndex(mt string) bool { return types.MediaType(mt).IsIndex() }

// manifest fetches repo@digest (verified against the digest) and reads its
// platforms: from the index entries, or from the config blob of a
// single-platform image.
func (r *Resolver) manifest(ctx context.Context, repo name.Repository, digest, key string) (*manifestInfo, error) {
	return r.manifestFrom(ctx, repo, digest, key, nil)
}

// manifestFrom is manifest with the descriptor already fetched (by tag),
// or nil to fetch it by digest.
func (r *Resolver) manifestFrom(ctx context.Context, repo name.Repository, digest, key string, d *remote.Descriptor) (*manifestInfo, error) {
	return doOnce(ctx, &r.mu, r.manifests, repo.Name()+"@"+digest, func() (*manifestInfo, error) {
		if info := r.cacheGet(digest); info != nil {
			return info, nil
		}
		info, err := r.readManifest(ctx, repo, digest, key, d)
		if err == nil {
			r.cachePut(digest, info)
		}
		return info, err
	})
}

func (r *Resolver) readManifest(ctx context.Context, repo name.Repository, digest, key string, d *remote.Descriptor) (*manifestInfo, error) {
	if d == nil {
		var err error
		if d, err = r.reg.Get(ctx, repo.Digest(digest)); err != nil {
			return nil, err
		}
	}
	info := &manifestInfo{mediaType: string(d.MediaType), children: map[string]string{}}
	switch {
	case d.MediaType.IsIndex():
		idx, err := v1.ParseIndexManifest(bytes.NewReader(d.Manifest))
		if err != nil {
			return nil, fmt.Errorf("resolving %s: reading index %s: %w", key, digest, err)
		}
		for _, m := range idx.Manifests {
			p := ""
			if m.Platform != nil && m.Platform.OS != "unknown" && m.Platform.Architecture != "unknown" {
				p = platformString(*m.Platform)
				info.platforms = append(info.platforms, p)
			}
			info.children[m.Digest.String()] = p
		}
	case d.MediaType.IsImage():
		img, err := d.Image()
		if err != nil {
			return nil, fmt.Errorf("resolving %s: reading image %s: %w", key, digest, err)
		}
		cf, err := img.ConfigFile()
		if err != nil {
			return nil, fmt.Errorf("resolving %s: reading the config of %s: %w", key, digest, err)
		}
		if cf.OS != "" && cf.Architecture != "" {
			info.platforms = append(info.platforms, platformString(v1.Platform{OS: cf.OS, Architecture: cf.Architecture, Variant: cf.Variant}))
		}
	}
	slices.Sort(info.platforms)
	info.platforms = slices.Compact(info.platforms)
	return info, nil
}

func platformString(p v1.Platform) string {
	s := p.OS + "/" + p.Architecture
	if p.Variant != "" {
		s += "/" + p.Variant
	}
	return s
}

// missingPlatforms lists the wanted platforms that none of have matches;
// a wanted platform without variant matches any variant.
func missingPlatforms(want, have []string) []string {
	var missing []string
	for _, w := range want {
		wp, err := v1.ParsePlatform(w)
		if err != nil {
			missing = append(missing, w)
			continue
		}
		found := false
		for _, h := range have {
			hp, err := v1.ParsePlatform(h)
			if err != nil {
				continue
			}
			if hp.OS == wp.OS && hp.Architecture == wp.Architecture && (wp.Variant == "" || wp.Variant == hp.Variant ||
				(hp.Variant == "" && defaultVariant(hp.Architecture) == wp.Variant)) {
				found = true
				break
			}
		}
		if !found {
			missing = append(missing, w)
		}
	}
	return missing
}

// defaultVariant is the variant an index entry without one implies.
func defaultVariant(arch string) string {
	if arch == "arm64" {
		return "v8"
	}
	return ""
}
