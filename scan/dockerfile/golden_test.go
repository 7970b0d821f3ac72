package dockerfile

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/stet-dev/stet/ref"
	"github.com/stet-dev/stet/scan"
)

var update = flag.Bool("update", false, "rewrite the golden refs.json files")

// goldenEdit is an edit span with the bytes it covers, for review.
type goldenEdit struct {
	Start  int    `json:"start"`
	End    int    `json:"end"`
	Line   int    `json:"line"`
	Column int    `json:"column"`
	Form   int    `json:"form"`
	Bytes  string `json:"bytes"`
}

type goldenRef struct {
	ref.Ref
	EditSpan *goldenEdit `json:"edit"`
}

type golden struct {
	References []goldenRef    `json:"references"`
	Commands   []scan.Command `json:"commands"`
}

// TestGolden scans testdata/<case>/Dockerfile and compares with
// testdata/<case>/refs.json; go test -update rewrites the latter.
func TestGolden(t *testing.T) {
	t.Parallel()
	dirs, err := filepath.Glob("testdata/*/Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	if len(dirs) == 0 {
		t.Fatal("no golden cases")
	}
	for _, path := range dirs {
		dir := filepath.Dir(path)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			t.Parallel()
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			res, err := Scan("Dockerfile", data)
			if err != nil {
				t.Fatalf("Scan: %v", err)
			}
			checkResult(t, data, res)
			g := golden{References: []goldenRef{}, Commands: res.Commands}
			for _, r := range res.Refs {
				gr := goldenRef{Ref: r}
				if e := r.Edit; e != nil {
					gr.EditSpan = &goldenEdit{e.Start, e.End, e.Line, e.Column, int(e.Form), string(data[e.Start:e.End])}
				}
				g.References = append(g.References, gr)
			}
			if g.Commands == nil {
				g.Commands = []scan.Command{}
			}
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			enc.SetIndent("", "  ")
			enc.SetEscapeHTML(false)
			if err := enc.Encode(g); err != nil {
				t.Fatal(err)
			}
			goldenPath := filepath.Join(dir, "refs.json")
			if *update {
				if err := os.WriteFile(goldenPath, buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(goldenPath)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if diff := cmp.Diff(string(want), buf.String()); diff != "" {
				t.Errorf("%s (-want +got):\n%s", goldenPath, diff)
			}
		})
	}
}
