package yamlreftest

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
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

// CheckCommands asserts what every Ref and Command of a CI scan must hold:
// the file's bytes at a Ref's position are its Text, an Edit covers exactly
// those bytes and is at its own line and column, a dynamic reference has no
// Edit, and every ref and command comes from source, the commands at a
// position inside the file and of the given instruction.
func CheckCommands(t testing.TB, data []byte, res *scan.Result, source, instruction string) {
	t.Helper()
	lines := strings.SplitAfter(string(data), "\n")
	offset := func(line, col int) int {
		if line < 1 || line > len(lines) || col < 1 {
			return -1
		}
		o := 0
		for _, l := range lines[:line-1] {
			o += len(l)
		}
		return o + col - 1
	}
	for _, r := range res.Refs {
		at := fmt.Sprintf("%d:%d-%d:%d %s %q @%s", r.Line, r.Column, r.EndLine, r.EndColumn, r.Kind, r.Text, r.Context)
		start, end := offset(r.Line, r.Column), offset(r.EndLine, r.EndColumn)
		if start < 0 || end < start || end > len(data) {
			t.Errorf("%s: position out of range", at)
			continue
		}
		if got := string(data[start:end]); got != r.Text {
			t.Errorf("%s: bytes at position are %q", at, got)
		}
		if r.File == "" || r.Source != source {
			t.Errorf("%s: file %q source %q", at, r.File, r.Source)
		}
		e := r.Edit
		if e == nil {
			continue
		}
		if r.Dynamic {
			t.Errorf("%s: dynamic reference with an edit", at)
		}
		if e.Start < 0 || e.End < e.Start || e.End > len(data) {
			t.Errorf("%s: edit %d-%d outside the file", at, e.Start, e.End)
			continue
		}
		if l := offset(e.Line, e.Column); l != e.Start || e.Line != r.Line || e.Column != r.Column {
			t.Errorf("%s: edit line/column %d:%d is offset %d, not %d", at, e.Line, e.Column, l, e.Start)
		}
		if got := string(data[e.Start:e.End]); e.Start != start || got != r.Text {
			t.Errorf("%s: edit at %d holds %q", at, e.Start, got)
		}
	}
	for _, c := range res.Commands {
		start, end := offset(c.Line, c.Column), offset(c.EndLine, c.EndColumn)
		if start < 0 || end < start || end > len(data) {
			t.Errorf("command %d:%d-%d:%d %q: position out of range", c.Line, c.Column, c.EndLine, c.EndColumn, c.Text)
		}
		if c.Instruction != instruction || c.Source != source {
			t.Errorf("command %q: instruction %q source %q", c.Text, c.Instruction, c.Source)
		}
	}
}
