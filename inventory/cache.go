package inventory

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// cacheVersion changes whenever what a layer scan records or how databases
// are parsed changes, so results of an older stet are never reused.
const cacheVersion = "layers-v2"

// Cache is a content-addressed store of per-layer results, keyed by layer
// digest. Entries are written atomically; one that cannot be read is treated
// as missing and rewritten.
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
