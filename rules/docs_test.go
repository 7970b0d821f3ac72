package rules

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite docs/rules.md and golden files from the current code")

// TestRulesDoc keeps docs/rules.md equal to what the catalogue renders.
func TestRulesDoc(t *testing.T) {
	path := filepath.Join("..", "docs", "rules.md")
	got := Markdown()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading %s (regenerate with go test ./rules -update): %v", path, err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s is out of date; regenerate with go test ./rules -update (-want +got):\n%s", path, diff)
	}
}
