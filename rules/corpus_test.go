package rules

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/stet-dev/stet/internal/corpus"
	"github.com/stet-dev/stet/scan"
	"github.com/stet-dev/stet/scan/actions"
	"github.com/stet-dev/stet/scan/dockerfile"
	"github.com/stet-dev/stet/scan/gitlab"
)

// TestCorpus runs the command rules over every Dockerfile, workflow and
// GitLab CI file of the corpus of real projects (testdata/corpus at the
// module root) and compares the findings with a reviewed golden list, so
// that a change in what the rules report is seen and judged.
func TestCorpus(t *testing.T) {
	root := filepath.Join("..", "testdata", "corpus")
	list, err := corpus.List(root)
	if err != nil {
		t.Fatal(err)
	}
	scanners := map[string]scan.Scanner{corpus.Dockerfile: dockerfile.Scan, corpus.Actions: actions.Scan, corpus.GitLab: gitlab.Scan}
	var out bytes.Buffer
	files, commands := 0, 0
	for _, cf := range list {
		path, kind := cf.Path, cf.Kind
		s := scanners[kind]
		if s == nil {
			continue
		}
		data, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(path)))
		if err != nil {
			t.Fatal(err)
		}
		res, err := s(path, data)
		if err != nil {
			t.Errorf("%s: %v", path, err)
			continue
		}
		files++
		commands += len(res.Commands)
		f := scan.File{Path: path, Source: kind, Commands: res.Commands, Ignores: scan.ParseIgnores(data)}
		lines := bytes.Count(data, []byte("\n")) + 1
		for _, fd := range Check([]scan.File{f}, Config{}) {
			if fd.Line < 1 || fd.EndLine > lines || fd.Line > fd.EndLine || fd.Column < 1 || fd.EndColumn < 1 {
				t.Errorf("%s: finding %s at %d:%d-%d:%d outside the file", path, fd.Rule, fd.Line, fd.Column, fd.EndLine, fd.EndColumn)
			}
			fmt.Fprintf(&out, "%s:%d:%d: %s %s\n", fd.File, fd.Line, fd.Column, fd.Rule, fd.Message)
		}
	}
	if files < 90 || commands < 500 {
		t.Errorf("scanned %d files with %d commands; the corpus or its scanners went missing", files, commands)
	}
	golden := filepath.Join("testdata", "corpus.golden")
	if *update {
		if err := os.WriteFile(golden, out.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("reading %s (create it with -update): %v", golden, err)
	}
	if diff := cmp.Diff(string(want), out.String()); diff != "" {
		t.Errorf("findings over the corpus changed; review them and run go test ./rules -run TestCorpus -update (-want +got):\n%s", diff)
	}
}

// BenchmarkCheckCorpus measures the rules over every command of the corpus's
// Dockerfiles, workflows and GitLab files (scanning excluded).
func BenchmarkCheckCorpus(b *testing.B) {
	root := filepath.Join("..", "testdata", "corpus")
	list, err := corpus.List(root)
	if err != nil {
		b.Fatal(err)
	}
	scanners := map[string]scan.Scanner{corpus.Dockerfile: dockerfile.Scan, corpus.Actions: actions.Scan, corpus.GitLab: gitlab.Scan}
	var files []scan.File
	size := 0
	for _, cf := range list {
		if scanners[cf.Kind] == nil {
			continue
		}
		data, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(cf.Path)))
		if err != nil {
			b.Fatal(err)
		}
		res, err := scanners[cf.Kind](cf.Path, data)
		if err != nil {
			b.Fatal(err)
		}
		for _, c := range res.Commands {
			size += len(c.Text)
		}
		files = append(files, scan.File{Path: cf.Path, Refs: res.Refs, Commands: res.Commands})
	}
	b.SetBytes(int64(size))
	b.ResetTimer()
	for b.Loop() {
		Check(files, Config{})
	}
}
