package gitlab

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/stet-dev/stet/internal/corpus"
)

const corpusRoot = "../../testdata/corpus"

// corpusFiles lists the corpus files of a kind, from SOURCES.tsv.
func corpusFiles(tb testing.TB, kind string) []string {
	tb.Helper()
	return corpus.Paths(tb, corpusRoot, kind)
}

var (
	// imageLineRE matches a line with a string image: (or a map form's
	// name:) that must be reported.
	imageLineRE = regexp.MustCompile(`(?m)^[ \t]+image:[ \t]*['"]?[a-z0-9$]`)
	// candidateRE matches a line that could hold a reference: image:,
	// name:, or a list item.
	candidateRE = regexp.MustCompile(`(?m)^[^#\n]*(?:image:|name:|^[ \t]*-[ \t]+\S)`)
)

// TestCorpus scans every GitLab CI file of the corpus: no error, every
// image: line reported, no more references than candidate lines, and every
// position and edit span exact.
func TestCorpus(t *testing.T) {
	for _, file := range corpusFiles(t, "gitlab") {
		t.Run(file, func(t *testing.T) {
			t.Parallel()
			data, err := os.ReadFile(filepath.Join(corpusRoot, file))
			if err != nil {
				t.Fatal(err)
			}
			res, err := Scan(file, data)
			if err != nil {
				t.Fatalf("Scan: %v", err)
			}
			checkPositions(t, data, res)
			min := len(imageLineRE.FindAll(data, -1))
			max := len(candidateRE.FindAll(data, -1))
			if n := len(res.Refs); n < min || n > max {
				t.Errorf("%d references, want between %d and %d", n, min, max)
			}
			dynamic := 0
			for _, r := range res.Refs {
				if r.Dynamic {
					dynamic++
				} else if r.Name == "" {
					t.Errorf("%s: no name", short(r))
				}
			}
			t.Logf("%d references (%d dynamic), %d commands, %d related", len(res.Refs), dynamic, len(res.Commands), len(res.Related))
		})
	}
}
