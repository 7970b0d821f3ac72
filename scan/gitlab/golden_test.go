package gitlab

import (
	"bytes"
	"encoding/json"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/stet-dev/stet/ref"
	"github.com/stet-dev/stet/scan"
)

var update = flag.Bool("update", false, "rewrite the golden refs.json files")

// goldenRef is a Ref with its Edit, which Ref's own JSON leaves out.
type goldenRef struct {
	ref.Ref
	Edit *ref.Span `json:"edit,omitempty"`
}

type golden struct {
	Refs     []goldenRef    `json:"refs"`
	Commands []scan.Command `json:"commands"`
	Related  []scan.Related `json:"related"`
}

// TestGolden scans each testdata/golden/<case>/ input file (every file but
// refs.json) and compares the result with <case>/refs.json.
func TestGolden(t *testing.T) {
	dirs, err := filepath.Glob(filepath.Join("testdata", "golden", "*"))
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no golden cases: %v", err)
	}
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			var input string
			err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
				if err == nil && !d.IsDir() && d.Name() != "refs.json" {
					input = p
				}
				return err
			})
			if err != nil || input == "" {
				t.Fatalf("no input in %s: %v", dir, err)
			}
			data, err := os.ReadFile(input)
			if err != nil {
				t.Fatal(err)
			}
			rel, _ := filepath.Rel(dir, input)
			res, err := Scan(filepath.ToSlash(rel), data)
			if err != nil {
				t.Fatal(err)
			}
			checkPositions(t, data, res)
			g := golden{Refs: []goldenRef{}, Commands: res.Commands, Related: res.Related}
			for _, r := range res.Refs {
				g.Refs = append(g.Refs, goldenRef{r, r.Edit})
			}
			got, err := json.MarshalIndent(g, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			file := filepath.Join(dir, "refs.json")
			if *update {
				if err := os.WriteFile(file, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(file)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(want, got) {
				t.Errorf("%s (-want +got):\n%s", file, cmp.Diff(strings.Split(string(want), "\n"), strings.Split(string(got), "\n")))
			}
		})
	}
}
