package actions

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
	// remoteUsesRE matches a line that uses an owner/repo@ref action or
	// reusable workflow, each of which must be reported.
	remoteUsesRE = regexp.MustCompile(`(?m)^[ \t]*(?:-[ \t]+)?uses:[ \t]*['"]?[A-Za-z0-9][A-Za-z0-9-]*/[^@\s'"]+@[^\s'"]+`)
	// candidateRE matches a line that could hold a reference.
	candidateRE = regexp.MustCompile(`(?m)^[^#\n]*(?:uses:|image:|container:|services:|[a-z_-]+:[ \t]*[^#\n]*docker://|^[ \t]+[A-Za-z0-9_-]+:[ \t]+\S+:\S+)`)
)

// TestCorpus scans every workflow and action file of the corpus: no error,
// every remote uses: line reported, no more references than candidate
// lines, and every position and edit span exact.
func TestCorpus(t *testing.T) {
	for _, file := range corpusFiles(t, "actions") {
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
			min := len(remoteUsesRE.FindAll(data, -1))
			max := len(candidateRE.FindAll(data, -1))
			if n := len(res.Refs); n < min || n > max {
				t.Errorf("%d references, want between %d and %d", n, min, max)
			}
			dynamic := 0
			for _, r := range res.Refs {
				if r.Dynamic {
					dynamic++
					if r.Edit != nil {
						t.Errorf("%s: dynamic reference with an edit", short(r))
					}
					continue
				}
				if r.Name == "" {
					t.Errorf("%s: no name", short(r))
				}
			}
			t.Logf("%d references (%d dynamic), %d commands, %d related", len(res.Refs), dynamic, len(res.Commands), len(res.Related))
		})
	}
}
