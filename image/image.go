// Package image opens container images wherever they live — a registry, an
// OCI image layout directory or a `docker save` archive — picks one platform
// out of a multi-platform index, and streams each layer's tar decompressed in
// memory while checking the bytes against their digest. Nothing of an image's
// contents is ever written to disk.
package image

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Source kinds, as they prefix an image argument.
const (
	SourceRegistry      = "registry"
	SourceOCILayout     = "oci"
	SourceDockerArchive = "docker-archive"
)

// Annotation keys (and label keys, for builders that write labels) naming the
// base image an image was built from.
const (
	AnnotationBaseName   = "org.opencontainers.image.base.name"
	AnnotationBaseDigest = "org.opencontainers.image.base.digest"
)

// DefaultPlatform is the platform picked from a multi-platform index when the
// caller names none.
const DefaultPlatform = "linux/amd64"

// ErrNoPlatform is returned (wrapped) when an index has no manifest for the
// requested platform.
var ErrNoPlatform = errors.New("no manifest for platform")

// ErrDigestMismatch is returned (wrapped) when a blob's bytes do not match the
// digest that names them. Such a blob is never used.
var ErrDigestMismatch = errors.New("content does not match its digest")

// Image is one platform's image: its manifest facts, config and layers.
type Image struct {
	// Name is the image argument as given.
	Name string
	// Source is SourceRegistry, SourceOCILayout or SourceDockerArchive.
	Source string
	// Digest is the image manifest's digest; for a docker archive, which has
	// no manifest, the config digest.
	Digest string
	// IndexDigest is the digest of the index the manifest was picked from;
	// empty for a single-platform image.
	IndexDigest string
	// MediaType of the manifest.
	MediaType string
	// Platform is os/arch[/variant] from the config.
	Platform string
	// Annotations of the manifest (base image annotations live here).
	Annotations map[string]string
	// Config is the image configuration.
	Config *v1.ConfigFile
	// ConfigDigest is the config blob's digest.
	ConfigDigest string
	// Layers in order, base first.
	Layers []Layer

	blobs blobOpener
}

// Layer describes one layer of an image.
type Layer struct {
	// Index is the position in the image, 0 for the base layer.
	Index int
	// Digest is the digest of the stored blob, as the source names it: the
	// registry's or layout's blob digest. A docker archive records none,
	// so there it is the DiffID, unless the archive names its layers
	// blobs/sha256/<hex> (Docker 25 and later), in which case it is that.
	// The same content stored compressed in one place and uncompressed in
	// another has two different Digests: compare layers with ID.
	Digest string
	// Named is true when the source stores the layer under Digest: a
	// registry, an OCI layout, an archive that names its blobs
	// blobs/sha256/<hex>. Reading such a layer checks its stored bytes
	// against Digest, so two Named layers with the same Digest hold the
	// same bytes. A docker archive that does not name its blobs gives the
	// config's DiffID as Digest, which is only what the config claims.
	Named bool
	// DiffID is the digest of the uncompressed tar, from the config's
	// rootfs.diff_ids. It is what the config claims: only reading the
	// layer checks it.
	DiffID string
	// Size is the size in bytes of the layer as its source stores it:
	// compressed in a registry or OCI layout, usually uncompressed in a
	// docker archive (see Compression); -1 if unknown.
	Size int64
	// MediaType of the layer blob; for a docker archive, which records
	// none, the type of what the archive actually holds.
	MediaType string
	// CreatedBy is the history entry's created_by for this layer.
	CreatedBy string
}

// ID identifies the layer's content whatever its source and compression:
// the DiffID, or where the config gives no sha256 DiffID, the blob digest.
// Results about a layer are kept under its ID. The ID comes from the
// config, so two layers with the same ID hold the same tar only once each
// has been read (or its Blob was read before and found to produce that ID):
// see Blob.
func (l Layer) ID() string {
	if strings.HasPrefix(l.DiffID, "sha256:") {
		return l.DiffID
	}
	return l.Digest
}

// Blob returns the digest the source stores the layer under when it is a
// content address (Named), or "" for a docker archive layer that no name
// binds to its bytes. Reading a layer with a Blob checks its bytes against
// it, so once blob B has been read and found to decompress to ID D, any
// layer stored as B is D without reading it again.
func (l Layer) Blob() string {
	if l.Named {
		return l.Digest
	}
	return ""
}

// Compression says how the layer is stored, from its media type: "gzip",
// "zstd", "none" (a plain tar), or "" when the media type does not say.
func (l Layer) Compression() string {
	switch {
	case strings.HasSuffix(l.MediaType, "gzip"):
		return "gzip"
	case strings.HasSuffix(l.MediaType, "zstd"):
		return "zstd"
	case strings.HasSuffix(l.MediaType, ".tar"):
		return "none"
	}
	return ""
}

// Options configure how images are opened. The zero value opens registry
// images with the default keychain and picks linux/amd64.
type Options struct {
	// Platform is os/arch[/variant]; empty means DefaultPlatform.
	Platform string
	// Keychain resolves registry credentials; nil means authn.DefaultKeychain
	// (docker config files, DOCKER_CONFIG, credential helpers).
	Keychain authn.Keychain
	// Transport for registry requests; nil means remote.DefaultTransport.
	Transport http.RoundTripper
	// Insecure allows plain HTTP for registries named here (host[:port]).
	Insecure []string
	// Remote, when set, supplies the reference to send requests to (a
	// mirror's) and the registry options for it, replacing Keychain,
	// Transport and Insecure: the CLI passes the shared registry client's
	// Remote method (mirrors, retries, connection reuse) here.
	Remote func(ctx context.Context, ref name.Reference) (name.Reference, []remote.Option, error)
}

// storedCheck says who checks a layer's stored bytes against Digest.
type storedCheck int

const (
	// storedUnchecked: the source records no digest of the stored bytes
	// (a classic docker archive); only the DiffID is checked.
	storedUnchecked storedCheck = iota
	// storedHashed: the stored bytes are hashed as they are read.
	storedHashed
	// storedByOpener: the opener checks them itself (the registry client).
	storedByOpener
)

// blobOpener opens a layer's stored bytes and says how they are checked.
type blobOpener interface {
	// open returns the raw (possibly compressed) layer blob.
	open(ctx context.Context, l Layer) (io.ReadCloser, error)
	// storedCheck says how the stored bytes of l are checked against
	// l.Digest. The decompressed bytes are checked against l.DiffID
	// whatever the source.
	storedCheck(l Layer) storedCheck
}

// ParseSource splits an image argument into its source kind and the rest:
// "oci:DIR[:tag]", "docker-archive:FILE" or a registry reference.
func ParseSource(arg string) (kind, rest string) {
	switch {
	case strings.HasPrefix(arg, "oci:"):
		return SourceOCILayout, strings.TrimPrefix(arg, "oci:")
	case strings.HasPrefix(arg, "oci-layout:"):
		return SourceOCILayout, strings.TrimPrefix(arg, "oci-layout:")
	case strings.HasPrefix(arg, "docker-archive:"):
		return SourceDockerArchive, strings.TrimPrefix(arg, "docker-archive:")
	}
	return SourceRegistry, arg
}

// Open opens the image an argument names, picking opts.Platform (default
// linux/amd64) from a multi-platform index.
func Open(ctx context.Context, arg string, opts Options) (*Image, error) {
	p, err := parsePlatform(opts.Platform)
	if err != nil {
		return nil, err
	}
	s, err := openSource(ctx, arg, opts)
	if err != nil {
		return nil, err
	}
	return s.image(ctx, p)
}

// OpenAll opens every platform image an argument names: each image of a
// multi-platform index (attestation manifests left out), or the one image.
func OpenAll(ctx context.Context, arg string, opts Options) ([]*Image, error) {
	s, err := openSource(ctx, arg, opts)
	if err != nil {
		return nil, err
	}
	return s.all(ctx)
}

// Platforms lists the platforms an argument offers, os/arch[/variant].
func Platforms(ctx context.Context, arg string, opts Options) ([]string, error) {
	s, err := openSource(ctx, arg, opts)
	if err != nil {
		return nil, err
	}
	ims, err := s.all(ctx)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, im := range ims {
		out = append(out, im.Platform)
	}
	return out, nil
}

func openSource(ctx context.Context, arg string, opts Options) (source, error) {
	kind, rest := ParseSource(arg)
	if rest == "" {
		return nil, fmt.Errorf("image %q: empty %s location", arg, kind)
	}
	switch kind {
	case SourceOCILayout:
		return openLayout(arg, rest)
	case SourceDockerArchive:
		return openArchive(arg, rest)
	}
	return openRegistry(ctx, arg, rest, opts)
}

// source is an opened image argument: a root that is an index or an image.
type source interface {
	image(ctx context.Context, p *v1.Platform) (*Image, error)
	all(ctx context.Context) ([]*Image, error)
}

func parsePlatform(s string) (*v1.Platform, error) {
	if s == "" {
		s = DefaultPlatform
	}
	p, err := v1.ParsePlatform(s)
	if err != nil {
		return nil, fmt.Errorf("platform %q: %w", s, err)
	}
	if p.OS == "" || p.Architecture == "" {
		return nil, fmt.Errorf("platform %q: want os/arch[/variant]", s)
	}
	return p, nil
}

// platformString renders os/arch[/variant].
func platformString(os, arch, variant string) string {
	s := os + "/" + arch
	if variant != "" {
		s += "/" + variant
	}
	return s
}

// matches reports whether an index entry's platform satisfies the request. A
// request without a variant accepts any variant; arm64's v8 is its default.
func matches(want *v1.Platform, got *v1.Platform) bool {
	if got == nil {
		return false
	}
	if want.OS != got.OS || want.Architecture != got.Architecture {
		return false
	}
	if want.Variant == "" || want.Variant == got.Variant {
		return true
	}
	return want.Architecture == "arm64" && got.Variant == "" && want.Variant == "v8"
}

// isAttestation reports index entries that are not runnable images:
// buildkit's attestation manifests carry platform unknown/unknown.
func isAttestation(d v1.Descriptor) bool {
	if d.Platform != nil && d.Platform.OS == "unknown" {
		return true
	}
	return d.Annotations["vnd.docker.reference.type"] == "attestation-manifest"
}

func isIndex(mt types.MediaType) bool {
	return mt == types.OCIImageIndex || mt == types.DockerManifestList
}

// pick chooses the manifest for a platform from an index.
func pick(im *v1.IndexManifest, p *v1.Platform) (v1.Descriptor, error) {
	var seen []string
	for _, d := range im.Manifests {
		if isAttestation(d) || d.Platform == nil {
			continue
		}
		seen = append(seen, platformString(d.Platform.OS, d.Platform.Architecture, d.Platform.Variant))
		if matches(p, d.Platform) {
			return d, nil
		}
	}
	return v1.Descriptor{}, fmt.Errorf("%w %s (index offers %s)", ErrNoPlatform,
		platformString(p.OS, p.Architecture, p.Variant), strings.Join(seen, ", "))
}

// runnable lists an index's image entries, attestations left out.
func runnable(im *v1.IndexManifest) []v1.Descriptor {
	var out []v1.Descriptor
	for _, d := range im.Manifests {
		if isAttestation(d) || isIndex(d.MediaType) {
			continue
		}
		out = append(out, d)
	}
	return out
}

// fromV1 builds an Image from a go-containerregistry image.
// expect, when set, is the digest the manifest was named by.
func fromV1(arg, kind string, img v1.Image, indexDigest string, blobs blobOpener, expect string) (*Image, error) {
	dg, err := img.Digest()
	if err != nil {
		return nil, fmt.Errorf("digest of %s: %w", arg, err)
	}
	if expect == "" {
		expect = dg.String()
	}
	rawM, err := img.RawManifest()
	if err != nil {
		return nil, fmt.Errorf("reading manifest of %s: %w", arg, err)
	}
	if got := sha256Digest(rawM); got != expect || got != dg.String() {
		return nil, fmt.Errorf("manifest of %s: got %s, want %s: %w", arg, ShortDigest(got), ShortDigest(expect), ErrDigestMismatch)
	}
	m, err := img.Manifest()
	if err != nil {
		return nil, fmt.Errorf("reading manifest of %s: %w", arg, err)
	}
	rawC, err := img.RawConfigFile()
	if err != nil {
		return nil, fmt.Errorf("reading config of %s: %w", arg, err)
	}
	if got := sha256Digest(rawC); got != m.Config.Digest.String() {
		return nil, fmt.Errorf("config of %s: got %s, want %s: %w", arg, ShortDigest(got), ShortDigest(m.Config.Digest.String()), ErrDigestMismatch)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("reading config of %s: %w", arg, err)
	}
	im := &Image{
		Name:         arg,
		Source:       kind,
		Digest:       dg.String(),
		IndexDigest:  indexDigest,
		MediaType:    string(m.MediaType),
		Platform:     platformString(cf.OS, cf.Architecture, cf.Variant),
		Annotations:  m.Annotations,
		Config:       cf,
		ConfigDigest: m.Config.Digest.String(),
		blobs:        blobs,
	}
	if len(cf.RootFS.DiffIDs) != len(m.Layers) {
		return nil, fmt.Errorf("%s: manifest has %d layers but config lists %d diff_ids", arg, len(m.Layers), len(cf.RootFS.DiffIDs))
	}
	created := createdBy(cf, len(m.Layers))
	for i, d := range m.Layers {
		im.Layers = append(im.Layers, Layer{
			Index:     i,
			Digest:    d.Digest.String(),
			Named:     true,
			DiffID:    cf.RootFS.DiffIDs[i].String(),
			Size:      d.Size,
			MediaType: string(d.MediaType),
			CreatedBy: created[i],
		})
	}
	return im, nil
}

// createdBy maps history entries to layers: entries marked empty_layer have
// no layer. Images whose history does not add up get empty strings.
func createdBy(cf *v1.ConfigFile, n int) []string {
	out := make([]string, n)
	i := 0
	for _, h := range cf.History {
		if h.EmptyLayer {
			continue
		}
		if i >= n {
			break
		}
		out[i] = strings.TrimSpace(h.CreatedBy)
		i++
	}
	return out
}

// usePlatform takes the platform an index entry declares, which names the
// variant (arm64/v8, arm/v7) more often than the config does.
func (im *Image) usePlatform(p *v1.Platform) {
	if p != nil && p.OS != "" && p.Architecture != "" {
		im.Platform = platformString(p.OS, p.Architecture, p.Variant)
	}
}

// BaseName returns the base image name recorded in annotations or labels.
func (im *Image) BaseName() string {
	if v := im.Annotations[AnnotationBaseName]; v != "" {
		return v
	}
	if im.Config != nil {
		return im.Config.Config.Labels[AnnotationBaseName]
	}
	return ""
}

// BaseDigest returns the base image digest recorded in annotations or labels.
func (im *Image) BaseDigest() string {
	if v := im.Annotations[AnnotationBaseDigest]; v != "" {
		return v
	}
	if im.Config != nil {
		return im.Config.Config.Labels[AnnotationBaseDigest]
	}
	return ""
}

func sha256Digest(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
