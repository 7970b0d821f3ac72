// Package inventory lists what is inside a container image: the OS packages
// its package databases (apk, dpkg, rpm) record, the distribution from
// os-release, and the runtime config. Layers are streamed once each, in
// memory, keeping only the few files that matter; overlay rules (whiteouts,
// opaque directories, hardlinks, directory symlinks) decide which database
// is visible; every package is attributed to the layer that introduced it.
// Per-layer results are cached by layer ID (the DiffID) with the blobs found
// to hold it, so a layer is read once per way it is stored, and a config
// that claims another layer's ID gets nothing from the cache.
package inventory

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sort"

	"github.com/stet-dev/stet/image"
)

// Package is one installed OS package.
type Package struct {
	// Type is TypeAPK, TypeDeb or TypeRPM.
	Type    string `json:"type"`
	Name    string `json:"name"`
	Version string `json:"version"`
	Arch    string `json:"arch,omitempty"`
	// Source is the source package: dpkg Source, apk origin, rpm SOURCERPM.
	Source        string `json:"source,omitempty"`
	SourceVersion string `json:"sourceVersion,omitempty"`
	// Layer is the layer that introduced this version (nil inside per-layer
	// results, where it is implied).
	Layer *LayerRef `json:"layer,omitempty"`
}

// Key identifies a package across images and versions: type, name and, where
// several architectures can be installed side by side, architecture.
func (p Package) Key() string {
	switch p.Type {
	case TypeDeb, TypeRPM:
		if p.Arch != "" && p.Arch != "all" && p.Arch != "noarch" {
			return p.Type + ":" + p.Name + ":" + p.Arch
		}
	}
	return p.Type + ":" + p.Name
}

// LayerRef names the layer a package came from.
type LayerRef struct {
	Index int `json:"index"`
	// Digest is the layer's blob digest in its source (image.Layer.Digest);
	// the inventory's Layers give its DiffID.
	Digest    string `json:"digest"`
	CreatedBy string `json:"createdBy,omitempty"`
	// Base is true when the layer belongs to the base image.
	Base bool `json:"base,omitempty"`
	// OrBelow is true when layers below Index were not read (they are shared
	// with the image compared against), so the version may be older still.
	OrBelow bool `json:"orBelow,omitempty"`
}

// Config is the runtime configuration of an image.
type Config struct {
	Entrypoint   []string          `json:"entrypoint,omitempty"`
	Cmd          []string          `json:"cmd,omitempty"`
	Env          []string          `json:"env,omitempty"`
	User         string            `json:"user,omitempty"`
	WorkingDir   string            `json:"workingDir,omitempty"`
	ExposedPorts []string          `json:"exposedPorts,omitempty"`
	Volumes      []string          `json:"volumes,omitempty"`
	Labels       map[string]string `json:"labels,omitempty"`
	StopSignal   string            `json:"stopSignal,omitempty"`
}

// Layer describes a layer in an inventory.
type Layer struct {
	Index int `json:"index"`
	// Digest is the blob digest in the image's source (image.Layer.Digest).
	Digest string `json:"digest"`
	// DiffID is the digest of the uncompressed tar, the same from every
	// source.
	DiffID string `json:"diffID,omitempty"`
	// Size is the size as the source stores the layer (see Compression);
	// -1 if unknown.
	Size int64 `json:"size"`
	// Compression is how the source stores the layer: gzip, zstd or none.
	Compression string `json:"compression,omitempty"`
	CreatedBy   string `json:"createdBy,omitempty"`
	Base        bool   `json:"base,omitempty"`
	// Read is false when the layer was skipped (shared with the other image
	// of a diff and not needed).
	Read bool `json:"read"`
}

// Database is a package database found in the image.
type Database struct {
	Type  string `json:"type"`
	Path  string `json:"path"`
	Layer int    `json:"layer"`
	// Packages is the number of packages it lists.
	Packages int `json:"packages"`
}

// Inventory is what an image contains.
type Inventory struct {
	Image       string `json:"image"`
	Digest      string `json:"digest"`
	IndexDigest string `json:"indexDigest,omitempty"`
	Platform    string `json:"platform"`
	// BaseName and BaseDigest identify the base image when known.
	BaseName   string     `json:"baseName,omitempty"`
	BaseDigest string     `json:"baseDigest,omitempty"`
	OS         *OS        `json:"os,omitempty"`
	Config     Config     `json:"config"`
	Layers     []Layer    `json:"layers"`
	Databases  []Database `json:"databases"`
	Packages   []Package  `json:"packages"`
	// Unread lists, with BuildOptions.Lazy, the database paths left out
	// because they lie in layers that were not read.
	Unread []UnreadPath `json:"-"`
	// Warnings are things the inventory could not see (an rpm Berkeley DB,
	// a database behind a symlink leading out of the known locations).
	Warnings []string `json:"warnings,omitempty"`
}

// Options configure an inventory.
type Options struct {
	// Cache stores per-layer results; nil reads every layer.
	Cache *Cache
	// Limits bound what a hostile layer can cost; the zero value means
	// DefaultLimits.
	Limits Limits
	// Logger receives debug messages; nil discards them.
	Logger *slog.Logger
	// Progress, when set, is called as layers are read with the stored
	// bytes read so far and the layer's size (-1 if unknown). Layers are
	// read in parallel: it may be called from several goroutines at once.
	Progress func(layer image.Layer, read, total int64)
	// BaseLayers is the number of bottom layers that belong to the base
	// image (from a --base image); 0 means use the base annotations only.
	BaseLayers int
}

// Take inventories an image, reading (or recalling from the cache) every
// layer.
func Take(ctx context.Context, im *image.Image, opts Options) (*Inventory, error) {
	return NewScanner(opts).Take(ctx, im, opts.BaseLayers)
}

// Take inventories an image with this Scanner, so that layers it has read
// and checked already (for a base image comparison, say) are not read
// again; baseLayers is as Options.BaseLayers.
func (s *Scanner) Take(ctx context.Context, im *image.Image, baseLayers int) (*Inventory, error) {
	scans := make([]*LayerScan, len(im.Layers))
	if err := s.ScanLayers(ctx, im, allIndexes(len(im.Layers)), scans); err != nil {
		return nil, err
	}
	return Build(im, scans, BuildOptions{BaseLayers: baseLayers})
}

func allIndexes(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

// ConfigOf extracts the runtime config of an image.
func ConfigOf(im *image.Image) Config {
	c := im.Config.Config
	out := Config{
		Entrypoint: c.Entrypoint,
		Cmd:        c.Cmd,
		Env:        c.Env,
		User:       c.User,
		WorkingDir: c.WorkingDir,
		Labels:     c.Labels,
		StopSignal: c.StopSignal,
	}
	for p := range c.ExposedPorts {
		out.ExposedPorts = append(out.ExposedPorts, p)
	}
	sort.Strings(out.ExposedPorts)
	for v := range c.Volumes {
		out.Volumes = append(out.Volumes, v)
	}
	sort.Strings(out.Volumes)
	return out
}

// NeedLayersError reports that building an inventory needs layers that were
// not read.
type NeedLayersError struct{ Indexes []int }

func (e *NeedLayersError) Error() string {
	return fmt.Sprintf("layers %v are needed", e.Indexes)
}

// BuildOptions tune Build.
type BuildOptions struct {
	// BaseLayers is the number of bottom layers known to belong to the base
	// image.
	BaseLayers int
	// Lazy leaves out databases (and os-release) that lie in layers that
	// were not read, listing them in Unread, instead of asking for those
	// layers.
	Lazy bool
}

// Build assembles an inventory from per-layer results. A nil entry in scans
// is a layer that was not read; if the visible databases depend on one,
// Build returns a *NeedLayersError naming the layers to read (unless
// bo.Lazy).
func Build(im *image.Image, scans []*LayerScan, bo BuildOptions) (*Inventory, error) {
	baseLayers := bo.BaseLayers
	if len(scans) != len(im.Layers) {
		return nil, fmt.Errorf("have %d layer results for %d layers", len(scans), len(im.Layers))
	}
	inv := &Inventory{
		Image:       im.Name,
		Digest:      im.Digest,
		IndexDigest: im.IndexDigest,
		Platform:    im.Platform,
		BaseName:    im.BaseName(),
		BaseDigest:  im.BaseDigest(),
		Config:      ConfigOf(im),
		Databases:   []Database{},
		Packages:    []Package{},
	}
	top := len(scans) - 1
	v := newView(scans)
	need := map[int]bool{}
	snap, err := v.snapshot(top, need, true, bo.Lazy)
	if err != nil {
		return nil, err
	}
	if len(need) > 0 {
		var idx []int
		for i := range need {
			idx = append(idx, i)
		}
		slices.Sort(idx)
		return nil, &NeedLayersError{Indexes: idx}
	}
	for i, l := range im.Layers {
		inv.Layers = append(inv.Layers, Layer{Index: i, Digest: l.Digest, DiffID: l.DiffID, Size: l.Size, Compression: l.Compression(),
			CreatedBy: l.CreatedBy, Base: i < baseLayers, Read: scans[i] != nil})
	}
	inv.OS = snap.os
	inv.Unread = snap.unread
	inv.Warnings = append(inv.Warnings, snap.warnings...)
	for _, db := range snap.dbs {
		inv.Databases = append(inv.Databases, Database{Type: db.kind, Path: db.path, Layer: db.layer, Packages: len(db.pkgs)})
	}
	// Attribution: walk down while the view still holds the package at the
	// same version; the lowest such layer introduced it.
	intro := map[string]int{}
	alive := map[string]bool{}
	orBelow := map[string]bool{}
	for k := range snap.pkgs {
		intro[k] = top
		alive[k] = true
	}
	for j := top - 1; j >= 0 && len(alive) > 0; j-- {
		if !v.touches(j + 1) {
			for k := range alive {
				intro[k] = j
			}
			continue
		}
		sub := map[int]bool{}
		below, err := v.snapshot(j, sub, false, true)
		if err != nil {
			return nil, err
		}
		if len(sub) > 0 {
			for k := range alive {
				orBelow[k] = true
			}
			break
		}
		for k := range alive {
			if q, ok := below.pkgs[k]; ok && q.Version == snap.pkgs[k].Version {
				intro[k] = j
			} else {
				// Absent below, unless a database there was not read.
				orBelow[k] = len(below.unread) > 0
				delete(alive, k)
			}
		}
	}
	for k, p := range snap.pkgs {
		i := intro[k]
		p.Layer = &LayerRef{Index: i, Digest: im.Layers[i].Digest, CreatedBy: im.Layers[i].CreatedBy, Base: i < baseLayers, OrBelow: orBelow[k]}
		inv.Packages = append(inv.Packages, p)
	}
	sort.Slice(inv.Packages, func(a, b int) bool {
		pa, pb := inv.Packages[a], inv.Packages[b]
		if pa.Name != pb.Name {
			return pa.Name < pb.Name
		}
		return pa.Key() < pb.Key()
	})
	return inv, nil
}

// sortedKeys returns a map's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
