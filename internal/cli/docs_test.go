package cli

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/spf13/cobra/doc"
)

var update = flag.Bool("update", false, "rewrite golden files and docs/cli")

// TestDocsCLI keeps docs/cli, the generated command reference, in step with
// the commands. Regenerate with: go test ./internal/cli -run Docs -update
func TestDocsCLI(t *testing.T) {
	dir := t.TempDir()
	root := newRootCmd(&app{})
	if err := doc.GenMarkdownTree(root, dir); err != nil {
		t.Fatal(err)
	}
	want := filepath.Join("..", "..", "docs", "cli")
	if *update {
		if err := os.RemoveAll(want); err != nil {
			t.Fatal(err)
		}
		if err := os.CopyFS(want, os.DirFS(dir)); err != nil {
			t.Fatal(err)
		}
		return
	}
	generated, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	checked, _ := os.ReadDir(want)
	if len(generated) != len(checked) {
		t.Errorf("docs/cli has %d files, the commands generate %d: run go test ./internal/cli -run Docs -update", len(checked), len(generated))
	}
	for _, e := range generated {
		got, _ := os.ReadFile(filepath.Join(dir, e.Name()))
		have, err := os.ReadFile(filepath.Join(want, e.Name()))
		if err != nil || string(have) != string(got) {
			t.Errorf("docs/cli/%s is out of date: run go test ./internal/cli -run Docs -update", e.Name())
		}
	}
}
