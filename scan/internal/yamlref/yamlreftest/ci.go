package yamlreftest

import (
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/stet-dev/stet/internal/corpus"
	"github.com/stet-dev/stet/ref"
	"github.com/stet-dev/stet/scan"
)

// BenchmarkCorpus scans every corpus file of a kind once per iteration,
// each under the name path, reporting bytes per second and allocations.
func BenchmarkCorpus(b *testing.B, root, kind, path string, scanner scan.Scanner) {
	var inputs [][]byte
	var size int64
	for _, file := range corpus.Paths(b, root, kind) {
		data, err := os.ReadFile(filepath.Join(root, file))
		if err != nil {
			b.Fatal(err)
		}
		inputs = append(inputs, data)
		size += int64(len(data))
	}
	b.SetBytes(size)
	b.ReportAllocs()
	for b.Loop() {
		for _, data := range inputs {
			if _, err := scanner(path, data); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// commandRef is a Ref with its Edit, which Ref's own JSON leaves out.
type commandRef struct {
	ref.Ref
	Edit *ref.Span `json:"edit,omitempty"`
}

// commandRecord is the golden record of a CI scan: unlike Record it keeps
// the commands, which the CI scanners report and the manifest ones do not.
type commandRecord struct {
	Refs     []commandRef   `json:"refs"`
	Commands []scan.Command `json:"commands"`
	Related  []scan.Related `json:"related"`
}

// GoldenCommands runs scanner over each case directory under dir, as
// Golden does, for the CI scanners: the case's input file (any file but
// refs.json, which may lie in subdirectories so that its path matters) is
// scanned under its path inside the case, check is applied to the result,
// and refs.json holds the references with their edits, the commands and
// the related files. With update set, refs.json is rewritten instead.
func GoldenCommands(t *testing.T, dir string, update bool, scanner scan.Scanner, check func(t *testing.T, data []byte, res *scan.Result)) {
	t.Helper()
	dirs, err := filepath.Glob(filepath.Join(dir, "*"))
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
			res, err := scanner(filepath.ToSlash(rel), data)
			if err != nil {
				t.Fatal(err)
			}
			check(t, data, res)
			g := commandRecord{Refs: []commandRef{}, Commands: res.Commands, Related: res.Related}
			for _, r := range res.Refs {
				g.Refs = append(g.Refs, commandRef{r, r.Edit})
			}
			got, err := json.MarshalIndent(g, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			compareGolden(t, filepath.Join(dir, "refs.json"), got, update)
		})
	}
}
