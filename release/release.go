// Package release records releases as exact sets of image digests and the
// deployments of those releases to environments, so that a rollback
// redeploys the same bytes and never rebuilds.
//
// A Release is immutable: its ID is the sha256 of its canonical JSON
// encoding, and it never holds a tag without the digest the tag named when
// the release was recorded. An Event records one promotion or rollback in
// one environment; each event names the ID of the one before it, so the
// events of an environment form a hash chain that cannot be edited or
// reordered without VerifyChain noticing.
//
// A Ledger stores both. Two backends implement it: release/sqlite (one
// embedded database file) and release/oci (artifacts in an OCI registry, so
// that a team shares the registry it already runs). Sync copies one ledger
// into another; the contract both satisfy is tested by release/releasetest.
package release

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/stet-dev/stet/ref"
)

// Release is one recorded release of an app: the exact digests of its
// images and where they came from.
//
// Every field except ID is part of the canonical encoding (see Canonical)
// and so of the ID. Optional fields are left out of the encoding when
// empty, which keeps IDs stable when a field is added in a later version.
type Release struct {
	// ID is "sha256:<hex>" of the canonical encoding; set by the ledger.
	ID string
	// App names what is released: lowercase letters, digits, '.', '_' and
	// '-', starting and ending with a letter or digit, at most 64 bytes.
	App string
	// Number is the release's human sequence number within its app (r42),
	// assigned by the ledger when zero.
	Number int64
	// Images maps a name chosen by the user (api, worker, or a canonical
	// image name such as docker.io/library/nginx) to the image released
	// under it.
	Images map[string]Image
	// Git is the commit the release was built from; nil when unknown.
	Git *Git
	// LockDigest is the sha256 of the stet.lock the release was made from.
	LockDigest string
	// Parent is the ID of the release this one follows, usually the app's
	// previous release.
	Parent string
	// Created is when the release was recorded, UTC, millisecond precision.
	Created time.Time
	// Creator says who and where recorded it.
	Creator Creator
	// Annotations are free key-value pairs.
	Annotations map[string]string
}

// Image is one image of a release.
type Image struct {
	// Reference is the canonical name and tag the image was resolved from,
	// without a digest: docker.io/library/nginx:1-alpine. It may lack a tag
	// when the image was named by digest alone.
	Reference string
	// Digest is the manifest or index digest the reference resolved to.
	Digest string
	// MediaType of the manifest the digest names, when known.
	MediaType string
	// Platforms the digest serves (os/arch[/variant]), sorted; empty when
	// unknown or single-platform.
	Platforms []string
}

// Pinned is the reference with its digest: name:tag@sha256:…, the exact
// form a deployment uses.
func (im Image) Pinned() string { return im.Reference + "@" + im.Digest }

// Git locates the source of a release.
type Git struct {
	// Commit is the full lowercase hex commit ID (40 hex, or 64 in a
	// SHA-256 repository).
	Commit string
	// Dirty is true when the working tree had uncommitted changes.
	Dirty bool
}

// Creator says who recorded a release or an event, and where.
type Creator struct {
	User string
	Host string
	// CI holds the CI system's variables that identify the run, such as
	// GITHUB_RUN_ID or CI_PIPELINE_ID, when present.
	CI map[string]string
}

// ShortID is the first 12 hex digits of an ID, as people quote it.
func ShortID(id string) string {
	h := strings.TrimPrefix(id, "sha256:")
	if len(h) > 12 {
		h = h[:12]
	}
	return h
}

// Label is the release as people name it: web r42.
func (r Release) Label() string { return fmt.Sprintf("%s r%d", r.App, r.Number) }

// Names returns the image names of the release, sorted.
func (r Release) Names() []string { return slices.Sorted(maps.Keys(r.Images)) }

// Digests maps each image name to its digest, the form CD systems consume.
func (r Release) Digests() map[string]string {
	m := make(map[string]string, len(r.Images))
	for k, im := range r.Images {
		m[k] = im.Digest
	}
	return m
}

// NewImage builds an Image from a resolved reference: s may carry a tag,
// a digest or both; digest, when not empty, must agree with any digest in
// s. The reference is stored in canonical form without its digest.
func NewImage(s, digest, mediaType string, platforms []string) (Image, error) {
	im, err := ref.ParseImage(s)
	if err != nil {
		return Image{}, fmt.Errorf("%w: image %q: %w", ErrInvalid, s, err)
	}
	switch {
	case digest == "":
		digest = im.Digest
	case im.Digest != "" && im.Digest != digest:
		return Image{}, fmt.Errorf("%w: image %q names digest %s, not %s", ErrInvalid, s, im.Digest, digest)
	}
	im.Digest = ""
	out := Image{Reference: im.String(), Digest: digest, MediaType: mediaType}
	if len(platforms) > 0 {
		out.Platforms = slices.Compact(slices.Sorted(slices.Values(platforms)))
	}
	if err := out.validate(); err != nil {
		return Image{}, fmt.Errorf("%w: image %q: %w", ErrInvalid, s, err)
	}
	return out, nil
}

// Time is how the ledger stores times: UTC, truncated to milliseconds.
func Time(t time.Time) time.Time { return t.UTC().Truncate(time.Millisecond) }
