package resolve

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
)

// WithCache keeps what was learnt about manifests (media type, platforms,
// an index's entries) in dir, keyed by digest. Content behind a digest
// never changes, so entries never expire; with a warm cache, recording
// platforms costs one HEAD per tag and no pull. The directory is created
// when needed; a corrupt entry is ignored and rewritten.
func WithCache(dir string) Option {
	return func(r *Resolver) { r.cacheDir = dir }
}

type cacheEntry struct {
	MediaType string            `json:"mediaType"`
	Platforms []string          `json:"platforms,omitempty"`
	Children  map[string]string `json:"children,omitempty"`
}

func (r *Resolver) cachePath(digest string) string {
	algo, hex, ok := strings.Cut(digest, ":")
	if !ok || r.cacheDir == "" || strings.ContainsAny(algo+hex, `/\.`) {
		return ""
	}
	return filepath.Join(r.cacheDir, "manifests", algo, hex+".json")
}

func (r *Resolver) cacheGet(digest string) *manifestInfo {
	p := r.cachePath(digest)
	if p == "" {
		return nil
	}
	data, err := os.ReadFile(p)
	if err != nil {
		return nil
	}
	var e cacheEntry
	if err := json.Unmarshal(data, &e); err != nil || e.MediaType == "" {
		return nil
	}
	if e.Children == nil {
		e.Children = map[string]string{}
	}
	return &manifestInfo{mediaType: e.MediaType, platforms: e.Platforms, children: e.Children}
}

// cachePut writes an entry atomically (temporary file and rename), so that
// concurrent runs never read half an entry. Failures only cost a refetch.
func (r *Resolver) cachePut(digest string, info *manifestInfo) {
	p := r.cachePath(digest)
	if p == "" {
		return
	}
	data, err := json.Marshal(cacheEntry{MediaType: info.mediaType, Platforms: info.platforms, Children: info.children})
	if err != nil {
		return
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		r.logger.Debug("manifest cache", "error", err)
		return
	}
	f, err := os.CreateTemp(filepath.Dir(p), ".tmp-*")
	if err != nil {
		r.logger.Debug("manifest cache", "error", err)
		return
	}
	_, werr := f.Write(data)
	cerr := f.Close()
	if werr != nil || cerr != nil || os.Rename(f.Name(), p) != nil {
		os.Remove(f.Name())
	}
}
