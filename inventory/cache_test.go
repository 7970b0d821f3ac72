package inventory

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestCachePrune: entries of earlier cache versions go first; over the
// limit, the least recently used entries go until three quarters of it
// remain; a read marks an entry as used; files that are not the cache's own
// are never touched.
func TestCachePrune(t *testing.T) {
	dir := t.TempDir()
	c := NewCache(dir)
	base := time.Now().Add(-time.Hour)
	var digests []string
	for i := range 8 {
		d := "sha256:" + strings.Repeat(string("0123456789abcdef"[i]), 64)
		digests = append(digests, d)
		if err := c.put(&LayerScan{Digest: d, Entries: map[string]*Entry{"x": {Target: strings.Repeat("p", 1000)}}}); err != nil {
			t.Fatal(err)
		}
		p, _ := c.path(d)
		// Oldest first: a written entry counts as used when it was written.
		if err := os.Chtimes(p, base.Add(time.Duration(i)*time.Minute), base.Add(time.Duration(i)*time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	old := filepath.Join(dir, "layers-v1", "sha256", "aa", "x.json")
	foreign := filepath.Join(dir, "notes.txt")
	for _, p := range []string{old, foreign} {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("{}"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// Reading the oldest entry makes it the most recently used.
	if c.get(digests[0]) == nil {
		t.Fatal("entry 0 not readable")
	}
	size := entrySize(t, c, digests[0])

	// Within the limit only the earlier version goes.
	n, err := c.Prune(100 * size)
	if err != nil || n != 1 {
		t.Fatalf("Prune(large) = %d, %v; want 1 (the old namespace)", n, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "layers-v1")); !os.IsNotExist(err) {
		t.Error("an earlier cache version survived pruning")
	}
	if got := cached(c, digests); len(got) != 8 {
		t.Fatalf("within the limit, entries were removed: %v left", got)
	}

	// A limit of 4 entries leaves 3 (three quarters), the most recently used.
	if n, err := c.Prune(4 * size); err != nil || n != 5 {
		t.Fatalf("Prune(4 entries) = %d, %v; want 5 removed", n, err)
	}
	want := []string{digests[0], digests[6], digests[7]}
	if diff := cmp.Diff(want, cached(c, digests)); diff != "" {
		t.Errorf("entries kept (-want +got):\n%s", diff)
	}
	if _, err := os.Stat(foreign); err != nil {
		t.Errorf("a file that is not the cache's own was removed: %v", err)
	}
	// A cache that was never written is nothing to prune.
	if n, err := NewCache(filepath.Join(dir, "none")).Prune(0); n != 0 || err != nil {
		t.Errorf("Prune of a missing cache = %d, %v", n, err)
	}
}

func entrySize(t *testing.T, c *Cache, digest string) int64 {
	t.Helper()
	p, _ := c.path(digest)
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

// cached lists which of digests the cache holds, without marking them used.
func cached(c *Cache, digests []string) []string {
	var out []string
	for _, d := range digests {
		p, _ := c.path(d)
		if _, err := os.Stat(p); err == nil {
			out = append(out, d)
		}
	}
	return out
}
