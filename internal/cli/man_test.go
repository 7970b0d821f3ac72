package cli

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/spf13/cobra/doc"
)

// manDate is the date in the man pages' headers. It is fixed so that
// regenerating the pages gives the same bytes on any day; move it when a
// release changes the commands.
var manDate = time.Date(2026, time.November, 1, 0, 0, 0, 0, time.UTC)

// TestDocsManPages keeps docs/man, the man pages generated from the commands,
// in step with them. Regenerate with: go test ./internal/cli -run Docs -update
// (or make man).
func TestDocsManPages(t *testing.T) {
	dir := t.TempDir()
	root := newRootCmd(&app{})
	header := &doc.GenManHeader{
		Section: "1",
		Date:    &manDate,
		Source:  "stet",
		Manual:  "stet manual",
	}
	if err := doc.GenManTree(root, header, dir); err != nil {
		t.Fatal(err)
	}
	want := filepath.Join("..", "..", "docs", "man")
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
		t.Fatalf("only %d man pages generated", len(generated))
	}
	checked, _ := os.ReadDir(want)
	if len(generated) != len(checked) {
		t.Errorf("docs/man has %d files, the commands generate %d: run go test ./internal/cli -run Docs -update", len(checked), len(generated))
	}
	for _, e := range generated {
		got, _ := os.ReadFile(filepath.Join(dir, e.Name()))
		have, err := os.ReadFile(filepath.Join(want, e.Name()))
		if err != nil || string(have) != string(got) {
			t.Errorf("docs/man/%s is out of date: run go test ./internal/cli -run Docs -update", e.Name())
		}
	}
}
