package cli

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
)

var update = flag.Bool("update", false, "rewrite golden files, docs/cli and docs/man")

// manDate is the date in the man pages' headers. It is fixed so that
// regenerating the pages gives the same bytes on any day; move it when a
// release changes the commands.
var manDate = time.Date(2026, time.November, 1, 0, 0, 0, 0, time.UTC)

// TestDocsCLI keeps docs/cli, the generated command reference, in step with
// the commands. Regenerate with: go test ./internal/cli -run Docs -update
func TestDocsCLI(t *testing.T) {
	checkGenerated(t, "cli", func(root *cobra.Command, dir string) error {
		return doc.GenMarkdownTree(root, dir)
	})
}

// TestDocsManPages does the same for docs/man, the man pages (make man).
func TestDocsManPages(t *testing.T) {
	checkGenerated(t, "man", func(root *cobra.Command, dir string) error {
		return doc.GenManTree(root, &doc.GenManHeader{Section: "1", Date: &manDate, Source: "stet", Manual: "stet manual"}, dir)
	})
}

// checkGenerated generates docs/<name> from the commands into a temporary
// directory and compares it with the checked-in copy, or replaces that copy
// with -update.
func checkGenerated(t *testing.T, name string, gen func(root *cobra.Command, dir string) error) {
	t.Helper()
	dir := t.TempDir()
	if err := gen(newRootCmd(&app{}), dir); err != nil {
		t.Fatal(err)
	}
	want := filepath.Join("..", "..", "docs", name)
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
	if len(generated) < 10 {
		t.Fatalf("only %d pages generated", len(generated))
	}
	checked, _ := os.ReadDir(want)
	if len(generated) != len(checked) {
		t.Errorf("docs/%s has %d files, the commands generate %d: run go test ./internal/cli -run Docs -update", name, len(checked), len(generated))
	}
	for _, e := range generated {
		got, _ := os.ReadFile(filepath.Join(dir, e.Name()))
		have, err := os.ReadFile(filepath.Join(want, e.Name()))
		if err != nil || string(have) != string(got) {
			t.Errorf("docs/%s/%s is out of date: run go test ./internal/cli -run Docs -update", name, e.Name())
		}
	}
}
