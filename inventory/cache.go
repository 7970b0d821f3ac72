package inventory

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"
)

// cacheVersion changes whenever what a layer scan records, how databases
// are parsed or what entries are keyed by changes, so results of an older
// stet are never reused. v3: keyed by the layer's ID (its DiffID), no
// longer by the blob digest, so that one entry serves a layer from any
// source. v4: each entry lists the blobs found to hold that ID, since the
// ID alone is only what a config claims.
const cacheVersion = "layers-v4"

// maxBlobs bounds the blobs an entry lists (the most recent are kept): one
// layer is rarely stored more than a few ways.
const maxBlobs = 16

// Cache is a content-addressed store of per-layer results, keyed by the
// layer's ID (image.Layer.ID: the digest of its uncompressed tar), so an
// entry made from a registry blob serves the same layer read from an OCI
// layout or a docker archive. Entries are made only from layers whose
// content was checked against that ID, and each lists the blob digests
// (image.Layer.Blob) that were read and found to hold it: an entry serves a
// layer without reading it only when the layer's blob is listed, so a
// config that claims another layer's ID cannot borrow its results. Entries
// are written atomically; one that cannot be read is treated as missing
// and rewritten.
type Cache struct {
	dir string
}

// DefaultCacheDir is os.UserCacheDir()/stet.
func DefaultCacheDir() (string, error) {
	d, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("locating the user cache directory: %w", err)
	}
	return filepath.Join(d, "stet"), nil
}

// NewCache returns a cache rooted at dir (created on first write).
func NewCache(dir string) *Cache { return &Cache{dir: dir} }

var digestRE = regexp.MustCompile(`^sha256:[a-f0-9]{64}$`)

func (c *Cache) path(digest string) (string, bool) { return c.pathNS(cacheVersion, digest) }

func (c *Cache) pathNS(ns, digest string) (string, bool) {
	if c == nil || !digestRE.MatchString(digest) {
		return "", false
	}
	hex := strings.TrimPrefix(digest, "sha256:")
	return filepath.Join(c.dir, ns, "sha256", hex[:2], hex+".json"), true
}

// getNS decodes the entry for digest in a namespace into v.
func (c *Cache) getNS(ns, digest string, v any) bool {
	p, ok := c.pathNS(ns, digest)
	if !ok {
		return false
	}
	data, err := os.ReadFile(p)
	if err != nil {
		return false
	}
	touch(p)
	return json.Unmarshal(data, v) == nil
}

// get returns the cached scan of a layer, or nil.
func (c *Cache) get(digest string) *LayerScan {
	p, ok := c.path(digest)
	if !ok {
		return nil
	}
	data, err := os.ReadFile(p)
	if err != nil {
		return nil
	}
	var s LayerScan
	if err := json.Unmarshal(data, &s); err != nil || s.Digest != digest {
		return nil // corrupt or foreign: rescanned and rewritten
	}
	touch(p)
	if s.Entries == nil {
		s.Entries = map[string]*Entry{}
	}
	return &s
}

// put stores a scan: written to a temporary file in the same directory and
// renamed over the final name, so readers never see half an entry.
func (c *Cache) put(s *LayerScan) error { return c.putNS(cacheVersion, s.Digest, s) }

func (c *Cache) putNS(ns, digest string, v any) error {
	p, ok := c.pathNS(ns, digest)
	if !ok {
		return nil
	}
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encoding layer result: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return fmt.Errorf("writing cache: %w", err)
	}
	f, err := os.CreateTemp(filepath.Dir(p), ".tmp-*")
	if err != nil {
		return fmt.Errorf("writing cache: %w", err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(f.Name())
		return fmt.Errorf("writing cache: %w", err)
	}
	if err := f.Close(); err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("writing cache: %w", err)
	}
	if err := os.Rename(f.Name(), p); err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("writing cache: %w", err)
	}
	return nil
}

// withBlob returns blobs with b added (at the end, the oldest dropped past
// maxBlobs); blobs itself is not modified.
func withBlob(blobs []string, b string) []string {
	if b == "" || slices.Contains(blobs, b) {
		return blobs
	}
	out := append(slices.Clone(blobs), b)
	if len(out) > maxBlobs {
		out = out[len(out)-maxBlobs:]
	}
	return out
}

// touch marks an entry as used now: Prune removes the least recently used.
func touch(p string) {
	now := time.Now()
	_ = os.Chtimes(p, now, now)
}

// DefaultCacheLimit is how much disk the layer cache may take (see Prune).
const DefaultCacheLimit = 512 << 20

// namespaceRE matches the cache's own top-level directories, current and
// of earlier versions.
var namespaceRE = regexp.MustCompile(`^(layers|files)-v[0-9]+$`)

// Prune keeps the cache within limit bytes. Entries written by earlier
// versions of stet, which are never read again, go first; then, when the
// rest is over limit, the least recently used entries until it takes at
// most three quarters of limit, so that pruning is rare. Only the cache's
// own directories are touched.
func (c *Cache) Prune(limit int64) (removed int, err error) {
	if c == nil {
		return 0, nil
	}
	tops, err := os.ReadDir(c.dir)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("pruning cache: %w", err)
	}
	type entry struct {
		path string
		size int64
		used time.Time
	}
	var (
		entries []entry
		total   int64
	)
	for _, t := range tops {
		if !t.IsDir() || !namespaceRE.MatchString(t.Name()) {
			continue
		}
		dir := filepath.Join(c.dir, t.Name())
		if t.Name() != cacheVersion && t.Name() != filesVersion {
			if err := os.RemoveAll(dir); err != nil {
				return removed, fmt.Errorf("pruning cache: %w", err)
			}
			removed++
			continue
		}
		err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil || !d.Type().IsRegular() {
				return nil // vanished or not ours to judge: skip
			}
			info, err := d.Info()
			if err != nil {
				return nil
			}
			entries = append(entries, entry{p, info.Size(), info.ModTime()})
			total += info.Size()
			return nil
		})
		if err != nil {
			return removed, fmt.Errorf("pruning cache: %w", err)
		}
	}
	if total <= limit {
		return removed, nil
	}
	slices.SortFunc(entries, func(a, b entry) int { return a.used.Compare(b.used) })
	for _, e := range entries {
		if total <= limit/4*3 {
			break
		}
		if err := os.Remove(e.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return removed, fmt.Errorf("pruning cache: %w", err)
		}
		total -= e.size
		removed++
	}
	return removed, nil
}
