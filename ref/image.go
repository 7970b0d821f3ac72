package ref

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
)

// DockerHub is the canonical registry name stet writes for Docker Hub images.
// The registry client calls it index.docker.io; people and lockfiles say docker.io.
const DockerHub = "docker.io"

// ErrNotImage is returned (wrapped) by ParseImage for text that is not an image reference.
var ErrNotImage = errors.New("not an image reference")

var (
	tagRE = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)
	// pathRE is the distribution reference grammar for [host[:port]/]path:
	// lowercase components separated by '.', '_', '__' or '-'s.
	pathRE   = regexp.MustCompile(`^(?:(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*|\[[0-9A-Fa-f:]+\])(?::[0-9]+)?/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$`)
	digestRE = regexp.MustCompile(`^(sha256:[a-f0-9]{64}|sha384:[a-f0-9]{96}|sha512:[a-f0-9]{128})$`)
)

// ImageRef is a parsed image reference.
type ImageRef struct {
	// Registry is the registry host[:port]; docker.io for Docker Hub.
	Registry string
	// Repository is the path inside the registry: library/nginx.
	Repository string
	// Tag as written; empty when absent (see TagOrLatest).
	Tag string
	// Digest as written ("sha256:…"); empty when absent.
	Digest string
}

// ParseImage parses an image reference the way the registry client does:
// nginx means docker.io/library/nginx; a first path component with a dot or a
// colon, or "localhost", is a registry. It accepts name:tag@digest.
func ParseImage(s string) (ImageRef, error) {
	if s == "" || strings.TrimSpace(s) != s {
		return ImageRef{}, fmt.Errorf("%q: %w", s, ErrNotImage)
	}
	var im ImageRef
	rest := s
	if i := strings.IndexByte(rest, '@'); i >= 0 {
		im.Digest = rest[i+1:]
		rest = rest[:i]
		if !digestRE.MatchString(im.Digest) {
			return ImageRef{}, fmt.Errorf("%q: invalid digest %q: %w", s, im.Digest, ErrNotImage)
		}
	}
	if i := strings.LastIndexByte(rest, ':'); i >= 0 && !strings.Contains(rest[i+1:], "/") {
		im.Tag = rest[i+1:]
		rest = rest[:i]
		if !tagRE.MatchString(im.Tag) {
			return ImageRef{}, fmt.Errorf("%q: invalid tag %q: %w", s, im.Tag, ErrNotImage)
		}
	}
	if rest == "" {
		return ImageRef{}, fmt.Errorf("%q: empty name: %w", s, ErrNotImage)
	}
	if !pathRE.MatchString(rest) {
		return ImageRef{}, fmt.Errorf("%q: invalid name: %w", s, ErrNotImage)
	}
	repo, err := name.NewRepository(rest)
	if err != nil {
		return ImageRef{}, fmt.Errorf("%q: %w: %v", s, ErrNotImage, err)
	}
	im.Registry = repo.RegistryStr()
	if im.Registry == name.DefaultRegistry {
		im.Registry = DockerHub
	}
	im.Repository = repo.RepositoryStr()
	return im, nil
}

// Name is the canonical repository name: docker.io/library/nginx.
func (im ImageRef) Name() string { return im.Registry + "/" + im.Repository }

// TagOrLatest is the tag, or "latest" when neither a tag nor a digest is written
// (a digest-only reference has no tag).
func (im ImageRef) TagOrLatest() string {
	if im.Tag == "" && im.Digest == "" {
		return "latest"
	}
	return im.Tag
}

// String is the canonical form: docker.io/library/nginx:1@sha256:….
func (im ImageRef) String() string {
	s := im.Name()
	if im.Tag != "" {
		s += ":" + im.Tag
	}
	if im.Digest != "" {
		s += "@" + im.Digest
	}
	return s
}

// FamiliarName shortens a canonical name the way docker prints it:
// docker.io/library/nginx → nginx, docker.io/grafana/grafana → grafana/grafana.
func FamiliarName(canonical string) string {
	if rest, ok := strings.CutPrefix(canonical, DockerHub+"/"); ok {
		return strings.TrimPrefix(rest, "library/")
	}
	return canonical
}

// IsTag reports whether s is a valid image tag.
func IsTag(s string) bool { return tagRE.MatchString(s) }

// IsDigest reports whether s is a well-formed content digest ("sha256:<64 hex>").
func IsDigest(s string) bool { return digestRE.MatchString(s) }

// SplitDigest cuts "name:tag@sha256:…" into the part before '@' and the digest.
func SplitDigest(s string) (base, digest string) {
	if i := strings.IndexByte(s, '@'); i >= 0 {
		return s[:i], s[i+1:]
	}
	return s, ""
}
