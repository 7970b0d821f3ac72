// Package imagediff explains what changed between two container images: OS
// packages added, removed, upgraded and downgraded (each traced to the layer
// and build step that introduced it, and to the base image when that layer
// belongs to it), config changes, shared and differing layers, and with
// Files, the files themselves. Layers are compared by content (their
// DiffIDs), so the same image from a registry, an OCI layout and a docker
// archive compares identical. A DiffID is only what a config claims: layers
// count as shared without reading them when both are stored as the same
// blob, or when each is known to hold its DiffID (its blob was read before);
// otherwise they are read, which checks them. Shared layers are otherwise
// read only when a database the diff needs lies in them.
package imagediff

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/stet-dev/stet/image"
	"github.com/stet-dev/stet/inventory"
)

// Options configure a diff.
type Options struct {
	// Inventory configures layer reading: cache, limits, logger, progress.
	Inventory inventory.Options
	// BaseA and BaseB are how many bottom layers of each image belong to the
	// base image (see BaseLayers); 0 when unknown.
	BaseA, BaseB int
	// Files adds the file-level diff.
	Files bool
	// Scanner reads and checks layers; nil means a new one from Inventory.
	// Passing the Scanner that checked a base image (CheckBaseLayers)
	// spares reading its layers again.
	Scanner *inventory.Scanner
}

// Side describes one of the two images.
type Side struct {
	Image string `json:"image"`
	// Digest is the manifest's digest; for a docker archive, which has no
	// manifest, the config's.
	Digest      string `json:"digest"`
	IndexDigest string `json:"indexDigest,omitempty"`
	// ConfigDigest is the config's digest: the same wherever the image is
	// stored.
	ConfigDigest string `json:"configDigest"`
	Platform     string `json:"platform"`
	Layers       int    `json:"layers"`
	// Size is the sum of the layers' sizes as the source stores them
	// (compressed in a registry or layout, usually not in a docker archive).
	Size       int64         `json:"size"`
	OS         *inventory.OS `json:"os,omitempty"`
	BaseName   string        `json:"baseName,omitempty"`
	BaseDigest string        `json:"baseDigest,omitempty"`
	BaseLayers int           `json:"baseLayers,omitempty"`
	Packages   int           `json:"packages"`
}

// Package change kinds.
const (
	Added      = "added"
	Removed    = "removed"
	Upgraded   = "upgraded"
	Downgraded = "downgraded"
	// Changed is a version string that differs but orders equal.
	Changed = "changed"
)

// PackageChange is one package that differs.
type PackageChange struct {
	Change string `json:"change"`
	Type   string `json:"type"`
	Name   string `json:"name"`
	Arch   string `json:"arch,omitempty"`
	From   string `json:"from,omitempty"`
	To     string `json:"to,omitempty"`
	Source string `json:"source,omitempty"`
	// Layer is where the new version came from (in B), or for a removed
	// package where it was (in A).
	Layer *inventory.LayerRef `json:"layer"`
	// FromLayer is where the old version came from (in A).
	FromLayer *inventory.LayerRef `json:"fromLayer,omitempty"`
}

// ConfigChange is one config field (or env variable, label, port…) that
// differs. From or To is empty when the item is absent on that side.
type ConfigChange struct {
	Field string `json:"field"`
	Key   string `json:"key,omitempty"`
	From  string `json:"from,omitempty"`
	To    string `json:"to,omitempty"`
}

// LayerInfo is a layer in the layer comparison.
type LayerInfo struct {
	Index int `json:"index"`
	// Digest is the blob digest in the image's source (image.Layer.Digest).
	Digest string `json:"digest"`
	// DiffID is the digest of the uncompressed tar, which layers are
	// compared by.
	DiffID string `json:"diffID"`
	// Size is the size as the source stores the layer (see Compression).
	Size int64 `json:"size"`
	// Compression is how the source stores it: gzip, zstd or none.
	Compression string `json:"compression,omitempty"`
	CreatedBy   string `json:"createdBy,omitempty"`
	Base        bool   `json:"base,omitempty"`
}

// Layers compares the two layer stacks by content: a layer of B is shared
// when A has a layer with the same DiffID (image.Layer.ID), however each
// source stores it.
type Layers struct {
	// Shared is the number of B's layers also in A.
	Shared int `json:"shared"`
	// SharedBytes is what the shared layers take as B's source stores them,
	// SharedBytesA as A's does (left out when 0): the two differ when one
	// source keeps them compressed and the other does not.
	SharedBytes  int64       `json:"sharedBytes"`
	SharedBytesA int64       `json:"sharedBytesA,omitempty"`
	OnlyA        []LayerInfo `json:"onlyA"`
	OnlyB        []LayerInfo `json:"onlyB"`
}

// OSChange is a change of distribution or release.
type OSChange struct {
	From string `json:"from"`
	To   string `json:"to"`
}

// Diff is the comparison of two images.
type Diff struct {
	A, B Side `json:"-"`
	// Identical is true when nothing compared differs.
	Identical bool `json:"identical"`
	// SameDigest is true when both manifests are the same bytes (for a
	// docker archive, which has no manifest, both configs).
	SameDigest bool `json:"sameDigest"`
	// SameContent is true when both configs are the same bytes: the same
	// layers (by DiffID), runtime config and history, however each source
	// stores and names them (left out when false). A registry image and its
	// `docker save` or OCI layout copy have the same content but not the
	// same digest.
	SameContent bool            `json:"sameContent,omitempty"`
	Verdict     string          `json:"verdict"`
	OS          *OSChange       `json:"os,omitempty"`
	Packages    []PackageChange `json:"packages"`
	Config      []ConfigChange  `json:"config"`
	Layers      Layers          `json:"layers"`
	Files       *FileDiff       `json:"files,omitempty"`
	Warnings    []string        `json:"warnings,omitempty"`

	// baseUnknown is true when one side cannot name its base image: a
	// docker archive keeps no manifest annotations.
	baseUnknown bool
}

// BaseLayers returns how many bottom layers of im are the layers of base
// as their configs claim them: the longest prefix of the same layer IDs,
// or 0 when base is not im's base. The two may come from different
// sources. It reads nothing, so it checks nothing: CheckBaseLayers does.
func BaseLayers(im, base *image.Image) int {
	n := 0
	for n < len(im.Layers) && n < len(base.Layers) && im.Layers[n].ID() == base.Layers[n].ID() {
		n++
	}
	if n < len(base.Layers) {
		return 0 // im is not built on all of base
	}
	return n
}

// CheckBaseLayers is BaseLayers with each layer of the prefix checked: a
// layer of im and one of base are the same when both are stored as the same
// blob, or when each is known (to s) to hold its ID, reading it otherwise.
// A layer that does not hold the ID its config claims is an error.
func CheckBaseLayers(ctx context.Context, s *inventory.Scanner, im, base *image.Image) (int, error) {
	n := BaseLayers(im, base)
	if n == 0 {
		return 0, nil
	}
	if err := checkBlobs(im, base); err != nil {
		return 0, err
	}
	var idxIm, idxBase []int
	for i := range n {
		if im.Layers[i].Blob() != "" && im.Layers[i].Blob() == base.Layers[i].Blob() {
			continue
		}
		if !s.Verified(im, i) {
			idxIm = append(idxIm, i)
		}
		if !s.Verified(base, i) {
			idxBase = append(idxBase, i)
		}
	}
	if err := scanBoth(ctx, s, im, idxIm, make([]*inventory.LayerScan, len(im.Layers)), base, idxBase, make([]*inventory.LayerScan, len(base.Layers))); err != nil {
		return 0, err
	}
	return n, nil
}

// checkBlobs fails when one blob is given two DiffIDs: a blob digest names
// the bytes, so at least one config lies about them.
func checkBlobs(ims ...*image.Image) error {
	type at struct {
		im *image.Image
		l  image.Layer
	}
	seen := map[string]at{}
	for _, im := range ims {
		for _, l := range im.Layers {
			b := l.Blob()
			if b == "" {
				continue
			}
			if p, ok := seen[b]; ok && p.l.ID() != l.ID() {
				return fmt.Errorf("layer %d of %s and layer %d of %s are the same blob %s, but their configs give DiffIDs %s and %s: %w",
					p.l.Index, p.im.Name, l.Index, im.Name, image.ShortDigest(b), image.ShortDigest(p.l.ID()), image.ShortDigest(l.ID()), image.ErrDigestMismatch)
			}
			seen[b] = at{im, l}
		}
	}
	return nil
}

// Compare diffs two images.
func Compare(ctx context.Context, a, b *image.Image, opts Options) (*Diff, error) {
	d := &Diff{Packages: []PackageChange{}, Config: []ConfigChange{}}
	d.SameDigest = a.Digest == b.Digest
	d.SameContent = d.SameDigest || a.ConfigDigest != "" && a.ConfigDigest == b.ConfigDigest
	if err := checkBlobs(a, b); err != nil {
		return nil, err
	}
	d.Layers = compareLayers(a, b, opts)
	scanner := opts.Scanner
	if scanner == nil {
		scanner = inventory.NewScanner(opts.Inventory)
	}
	invA, invB, err := inventories(ctx, scanner, a, b, opts)
	if err != nil {
		return nil, err
	}
	d.A, d.B = side(a, invA, opts.BaseA), side(b, invB, opts.BaseB)
	d.Warnings = append(d.Warnings, prefixed("A: ", invA.Warnings)...)
	d.Warnings = append(d.Warnings, prefixed("B: ", invB.Warnings)...)
	d.OS = compareOS(invA.OS, invB.OS)
	d.Packages = comparePackages(invA.Packages, invB.Packages)
	d.Config = compareConfig(invA.Config, invB.Config, a, b)
	if w := unknownAnnotations(a, b); w != "" {
		d.Warnings = append(d.Warnings, w)
	}
	d.baseUnknown = noManifest(a) && a.BaseDigest() == "" || noManifest(b) && b.BaseDigest() == ""
	if opts.Files {
		d.Files, err = compareFiles(ctx, scanner, a, b, opts.Inventory)
		if err != nil {
			return nil, err
		}
	}
	d.Identical = d.OS == nil && len(d.Packages) == 0 && len(d.Config) == 0 &&
		len(d.Layers.OnlyA) == 0 && len(d.Layers.OnlyB) == 0 && (d.Files == nil || len(d.Files.Changes) == 0)
	d.Verdict = verdict(d)
	return d, nil
}

func prefixed(p string, ss []string) []string {
	var out []string
	for _, s := range ss {
		out = append(out, p+s)
	}
	return out
}

func side(im *image.Image, inv *inventory.Inventory, base int) Side {
	s := Side{Image: im.Name, Digest: im.Digest, IndexDigest: im.IndexDigest, ConfigDigest: im.ConfigDigest, Platform: im.Platform, Layers: len(im.Layers),
		OS: inv.OS, BaseName: im.BaseName(), BaseDigest: im.BaseDigest(), BaseLayers: base, Packages: len(inv.Packages)}
	for _, l := range im.Layers {
		if l.Size > 0 {
			s.Size += l.Size
		}
	}
	return s
}

// inventories builds both inventories reading as few layers as possible:
// first every layer unique to one image (or already cached) and every layer
// whose ID the other image claims too but that neither shares a blob with
// it nor is known to hold that ID (reading checks it), then shared layers
// only where a visible database lies in them.
func inventories(ctx context.Context, s *inventory.Scanner, a, b *image.Image, opts Options) (*inventory.Inventory, *inventory.Inventory, error) {
	inA, inB := ids(a), ids(b)
	blobsA, blobsB := blobs(a), blobs(b)
	scansA := make([]*inventory.LayerScan, len(a.Layers))
	scansB := make([]*inventory.LayerScan, len(b.Layers))
	pick := func(im *image.Image, other, otherBlobs map[string]bool, scans []*inventory.LayerScan) []int {
		var idx []int
		for i, l := range im.Layers {
			switch {
			case !other[l.ID()]:
				idx = append(idx, i)
			case !otherBlobs[l.Blob()+" "+l.ID()] && !s.Verified(im, i):
				// The same ID, but nothing shows this layer holds it.
				idx = append(idx, i)
			default:
				scans[i] = s.Cached(im, i)
			}
		}
		return idx
	}
	idxA, idxB := pick(a, inB, blobsB, scansA), pick(b, inA, blobsA, scansB)
	if err := scanBoth(ctx, s, a, idxA, scansA, b, idxB, scansB); err != nil {
		return nil, nil, err
	}
	build := func(im *image.Image, scans []*inventory.LayerScan, bo inventory.BuildOptions) (*inventory.Inventory, error) {
		for {
			inv, err := inventory.Build(im, scans, bo)
			var need *inventory.NeedLayersError
			if !errors.As(err, &need) {
				return inv, err
			}
			if err := s.ScanLayers(ctx, im, need.Indexes, scans); err != nil {
				return nil, err
			}
		}
	}
	invA, err := build(a, scansA, inventory.BuildOptions{BaseLayers: opts.BaseA, Lazy: true})
	if err != nil {
		return nil, nil, err
	}
	invB, err := build(b, scansB, inventory.BuildOptions{BaseLayers: opts.BaseB, Lazy: true})
	if err != nil {
		return nil, nil, err
	}
	// A database left unread is the same file in both images when both
	// lookups end in the same unread layer over the same layers below:
	// it cannot change the diff. Anything else needs the layers read.
	if !sameUnread(a, b, invA.Unread, invB.Unread) {
		if invA, err = build(a, scansA, inventory.BuildOptions{BaseLayers: opts.BaseA}); err != nil {
			return nil, nil, err
		}
		if invB, err = build(b, scansB, inventory.BuildOptions{BaseLayers: opts.BaseB}); err != nil {
			return nil, nil, err
		}
	}
	return invA, invB, nil
}

func sameUnread(a, b *image.Image, ua, ub []inventory.UnreadPath) bool {
	if len(ua) != len(ub) {
		return false
	}
	mb := map[string]int{}
	for _, u := range ub {
		mb[u.Path] = u.Layer
	}
	for _, u := range ua {
		k, ok := mb[u.Path]
		if !ok || k != u.Layer {
			return false
		}
		for i := 0; i <= k; i++ {
			if a.Layers[i].ID() != b.Layers[i].ID() {
				return false
			}
		}
	}
	return true
}

// scanBoth reads the layers idxA of a and idxB of b together, two at a
// time.
func scanBoth(ctx context.Context, s *inventory.Scanner, a *image.Image, idxA []int, scansA []*inventory.LayerScan, b *image.Image, idxB []int, scansB []*inventory.LayerScan) error {
	errc := make(chan error, 1)
	go func() { errc <- s.ScanLayers(ctx, a, idxA, scansA) }()
	errB := s.ScanLayers(ctx, b, idxB, scansB)
	if errA := <-errc; errA != nil {
		return errA
	}
	return errB
}

// blobs returns "blob ID" for each layer of an image stored under a blob
// digest: two layers with the same such pair are the same bytes.
func blobs(im *image.Image) map[string]bool {
	m := map[string]bool{}
	for _, l := range im.Layers {
		if b := l.Blob(); b != "" {
			m[b+" "+l.ID()] = true
		}
	}
	return m
}

// ids returns the layer IDs of an image: what layers are compared by.
func ids(im *image.Image) map[string]bool {
	m := map[string]bool{}
	for _, l := range im.Layers {
		m[l.ID()] = true
	}
	return m
}

func layerInfo(l image.Layer, base int) LayerInfo {
	return LayerInfo{Index: l.Index, Digest: l.Digest, DiffID: l.DiffID, Size: l.Size, Compression: l.Compression(), CreatedBy: l.CreatedBy, Base: l.Index < base}
}

func compareLayers(a, b *image.Image, opts Options) Layers {
	inA, inB := ids(a), ids(b)
	out := Layers{OnlyA: []LayerInfo{}, OnlyB: []LayerInfo{}}
	for _, l := range b.Layers {
		if inA[l.ID()] {
			out.Shared++
			if l.Size > 0 {
				out.SharedBytes += l.Size
			}
		} else {
			out.OnlyB = append(out.OnlyB, layerInfo(l, opts.BaseB))
		}
	}
	for _, l := range a.Layers {
		if !inB[l.ID()] {
			out.OnlyA = append(out.OnlyA, layerInfo(l, opts.BaseA))
		} else if l.Size > 0 {
			out.SharedBytesA += l.Size
		}
	}
	return out
}

func osString(o *inventory.OS) string {
	if o == nil {
		return "unknown"
	}
	s := o.ID
	if o.VersionID != "" {
		s += " " + o.VersionID
	}
	return s
}

func compareOS(a, b *inventory.OS) *OSChange {
	if osString(a) == osString(b) {
		return nil
	}
	return &OSChange{From: osString(a), To: osString(b)}
}

var changeOrder = map[string]int{Upgraded: 0, Downgraded: 1, Changed: 2, Added: 3, Removed: 4}

func comparePackages(a, b []inventory.Package) []PackageChange {
	ma, mb := map[string]inventory.Package{}, map[string]inventory.Package{}
	for _, p := range a {
		ma[p.Key()] = p
	}
	for _, p := range b {
		mb[p.Key()] = p
	}
	out := []PackageChange{}
	for k, pb := range mb {
		pa, ok := ma[k]
		if !ok {
			out = append(out, PackageChange{Change: Added, Type: pb.Type, Name: pb.Name, Arch: pb.Arch, To: pb.Version, Source: pb.Source, Layer: pb.Layer})
			continue
		}
		if pa.Version == pb.Version {
			continue
		}
		c := Changed
		switch inventory.CompareVersions(pb.Type, pa.Version, pb.Version) {
		case -1:
			c = Upgraded
		case 1:
			c = Downgraded
		}
		out = append(out, PackageChange{Change: c, Type: pb.Type, Name: pb.Name, Arch: pb.Arch, From: pa.Version, To: pb.Version, Source: pb.Source, Layer: pb.Layer, FromLayer: pa.Layer})
	}
	for k, pa := range ma {
		if _, ok := mb[k]; !ok {
			out = append(out, PackageChange{Change: Removed, Type: pa.Type, Name: pa.Name, Arch: pa.Arch, From: pa.Version, Source: pa.Source, Layer: pa.Layer})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if changeOrder[out[i].Change] != changeOrder[out[j].Change] {
			return changeOrder[out[i].Change] < changeOrder[out[j].Change]
		}
		if out[i].Name != out[j].Name {
			return out[i].Name < out[j].Name
		}
		return out[i].Arch < out[j].Arch
	})
	return out
}

func quoteList(l []string) string {
	if l == nil {
		return ""
	}
	q := make([]string, len(l))
	for i, s := range l {
		q[i] = fmt.Sprintf("%q", s)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

func compareConfig(a, b inventory.Config, ia, ib *image.Image) []ConfigChange {
	var out []ConfigChange
	scalar := func(field, x, y string) {
		if x != y {
			out = append(out, ConfigChange{Field: field, From: x, To: y})
		}
	}
	scalar("entrypoint", quoteList(a.Entrypoint), quoteList(b.Entrypoint))
	scalar("cmd", quoteList(a.Cmd), quoteList(b.Cmd))
	scalar("user", a.User, b.User)
	scalar("workingDir", a.WorkingDir, b.WorkingDir)
	scalar("stopSignal", a.StopSignal, b.StopSignal)
	keyed := func(field string, x, y map[string]string) {
		keys := map[string]bool{}
		for k := range x {
			keys[k] = true
		}
		for k := range y {
			keys[k] = true
		}
		sorted := make([]string, 0, len(keys))
		for k := range keys {
			sorted = append(sorted, k)
		}
		sort.Strings(sorted)
		for _, k := range sorted {
			vx, okx := x[k]
			vy, oky := y[k]
			if okx != oky || vx != vy {
				c := ConfigChange{Field: field, Key: k, From: vx, To: vy}
				if okx && vx == "" {
					c.From = `""`
				}
				if oky && vy == "" {
					c.To = `""`
				}
				out = append(out, c)
			}
		}
	}
	keyed("env", envMap(a.Env), envMap(b.Env))
	keyed("label", a.Labels, b.Labels)
	keyed("port", setMap(a.ExposedPorts), setMap(b.ExposedPorts))
	keyed("volume", setMap(a.Volumes), setMap(b.Volumes))
	if !noManifest(ia) && !noManifest(ib) {
		keyed("annotation", ia.Annotations, ib.Annotations)
	}
	if out == nil {
		out = []ConfigChange{}
	}
	return out
}

// noManifest reports an image read from a docker archive, which keeps the
// config and layers but not the manifest, so not its annotations: they are
// unknown rather than absent, and comparing them would call every saved
// image different from the one in the registry.
func noManifest(im *image.Image) bool { return im.Source == image.SourceDockerArchive }

// unknownAnnotations says that annotations were not compared, when one side
// has some and the other cannot.
func unknownAnnotations(a, b *image.Image) string {
	switch {
	case noManifest(a) && !noManifest(b) && len(b.Annotations) > 0:
		return "manifest annotations not compared: A is a docker archive, which does not keep them"
	case noManifest(b) && !noManifest(a) && len(a.Annotations) > 0:
		return "manifest annotations not compared: B is a docker archive, which does not keep them"
	}
	return ""
}

func envMap(env []string) map[string]string {
	m := map[string]string{}
	for _, e := range env {
		k, v, _ := strings.Cut(e, "=")
		m[k] = v
	}
	return m
}

func setMap(l []string) map[string]string {
	m := map[string]string{}
	for _, s := range l {
		m[s] = "present"
	}
	return m
}

func plural(n int, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}

// verdict is the one-line answer printed first.
func verdict(d *Diff) string {
	if d.SameDigest && d.Identical {
		return "same digest " + d.A.Digest
	}
	if d.SameContent && d.Identical {
		// The same image stored twice: say so, and that the digests (which
		// name how it is stored) differ.
		return fmt.Sprintf("identical content (config %s, %s), different digests", image.ShortDigest(d.B.ConfigDigest), plural(d.B.Layers, "layer", "layers"))
	}
	if d.Identical {
		return "no differences in packages, config or layers"
	}
	var parts []string
	counts := map[string]int{}
	for _, p := range d.Packages {
		counts[p.Change]++
	}
	first := true
	for _, c := range []string{Upgraded, Downgraded, Changed, Added, Removed} {
		if counts[c] == 0 {
			continue
		}
		if first {
			parts = append(parts, plural(counts[c], "package "+c, "packages "+c))
			first = false
		} else {
			parts = append(parts, fmt.Sprintf("%d %s", counts[c], c))
		}
	}
	if d.OS != nil {
		parts = append(parts, fmt.Sprintf("OS %s → %s", d.OS.From, d.OS.To))
	}
	var cfg, ann bool
	for _, c := range d.Config {
		if c.Field == "annotation" {
			ann = true
		} else {
			cfg = true
		}
	}
	if d.A.BaseDigest != d.B.BaseDigest && !d.baseUnknown {
		parts = append(parts, "base image changed")
		ann = false
		for _, c := range d.Config {
			if c.Field == "annotation" && c.Key != image.AnnotationBaseDigest && c.Key != image.AnnotationBaseName {
				ann = true
			}
		}
	}
	if cfg {
		parts = append(parts, "config changed")
	}
	if ann {
		parts = append(parts, "annotations changed")
	}
	if n := len(d.Layers.OnlyB); n > 0 || len(d.Layers.OnlyA) > 0 {
		parts = append(parts, fmt.Sprintf("%d of %d layers differ", max(n, len(d.Layers.OnlyA)), max(d.B.Layers, d.A.Layers)))
	}
	if d.Files != nil && len(d.Files.Changes) > 0 {
		parts = append(parts, plural(len(d.Files.Changes), "file changed", "files changed"))
	}
	return strings.Join(parts, ", ")
}
