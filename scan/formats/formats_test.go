package formats

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stet-dev/stet/internal/corpus"
	"github.com/stet-dev/stet/scan"
)

const corpusRoot = "../../testdata/corpus"

// readSources lists the corpus files.
func readSources(tb testing.TB) []corpus.File {
	tb.Helper()
	files, err := corpus.List(corpusRoot)
	if err != nil {
		tb.Fatal(err)
	}
	return files
}

// TestCorpus runs every scanner over the real files of its kind: no file may
// fail, and every reference's position and edit span must hold exactly the
// bytes it claims.
func TestCorpus(t *testing.T) {
	t.Parallel()
	scanners := Default()
	perKind := map[string]int{}
	for _, cf := range readSources(t) {
		source, ok := cf.Source()
		if !ok {
			continue
		}
		data, err := os.ReadFile(filepath.Join(corpusRoot, cf.Path))
		if err != nil {
			t.Fatal(err)
		}
		res, err := scanners[source](cf.Path, data)
		if err != nil {
			t.Errorf("%s: %v", cf.Path, err)
			continue
		}
		lines := lineStarts(data)
		for _, r := range res.Refs {
			perKind[cf.Kind]++
			if r.File != cf.Path || r.Source != source {
				t.Errorf("%s: ref %q has file %q source %q", cf.Path, r.Text, r.File, r.Source)
			}
			if r.Line < 1 || r.Line > len(lines) || r.EndLine < r.Line || r.EndLine > len(lines) {
				t.Errorf("%s: ref %q at bad lines %d-%d", cf.Path, r.Text, r.Line, r.EndLine)
				continue
			}
			start := lines[r.Line-1] + r.Column - 1
			end := lines[r.EndLine-1] + r.EndColumn - 1
			if start < 0 || end > len(data) || start > end || string(data[start:end]) != r.Text {
				t.Errorf("%s:%d:%d: bytes at the position are not the text %q", cf.Path, r.Line, r.Column, r.Text)
			}
			if r.Name == "" && !r.Dynamic {
				t.Errorf("%s:%d: static ref %q without a name", cf.Path, r.Line, r.Text)
			}
			if e := r.Edit; e != nil {
				if e.Start < 0 || e.End > len(data) || e.Start > e.End {
					t.Errorf("%s:%d: edit span [%d,%d) outside the file", cf.Path, r.Line, e.Start, e.End)
				}
				if r.Dynamic {
					t.Errorf("%s:%d: dynamic ref %q is editable", cf.Path, r.Line, r.Text)
				}
			}
		}
	}
	for _, kind := range corpus.Kinds() {
		if perKind[kind] == 0 {
			t.Errorf("no references found in any %s file of the corpus", kind)
		}
	}
	t.Logf("references per kind: %v", perKind)
}

// TestWalkCorpus walks the whole corpus the way `stet refs` does: no file may
// fail to parse.
func TestWalkCorpus(t *testing.T) {
	t.Parallel()
	rep, err := scan.Walk(context.Background(), []string{corpusRoot}, scan.Options{Scanners: Default()})
	if err != nil {
		t.Fatal(err)
	}
	refs := 0
	for _, f := range rep.Files {
		if f.Err != nil {
			t.Errorf("%v", f.Err)
		}
		refs += len(f.Refs)
	}
	if len(rep.Files) < 100 || refs < 500 {
		t.Errorf("walk found %d files with %d references; the corpus has far more", len(rep.Files), refs)
	}
}

func lineStarts(data []byte) []int {
	out := []int{0}
	for i, b := range data {
		if b == '\n' {
			out = append(out, i+1)
		}
	}
	return out
}

func BenchmarkCorpus(b *testing.B) {
	scanners := Default()
	type file struct {
		path, source string
		data         []byte
	}
	var files []file
	var size int64
	for _, cf := range readSources(b) {
		data, err := os.ReadFile(filepath.Join(corpusRoot, cf.Path))
		if err != nil {
			b.Fatal(err)
		}
		source, _ := cf.Source()
		files = append(files, file{cf.Path, source, data})
		size += int64(len(data))
	}
	b.SetBytes(size)
	b.ResetTimer()
	for b.Loop() {
		for _, f := range files {
			if s := scanners[f.source]; s != nil {
				_, _ = s(f.path, f.data)
			}
		}
	}
}

// BenchmarkWalk walks twenty copies of the corpus (about 3,600 files, 52 MB)
// with every scanner, the way `stet refs` does.
func BenchmarkWalk(b *testing.B) {
	dir := b.TempDir()
	var size int64
	for i := range 20 {
		err := filepath.WalkDir(corpusRoot, func(p string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			rel, _ := filepath.Rel(corpusRoot, p)
			dst := filepath.Join(dir, fmt.Sprint(i), rel)
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			size += int64(len(data))
			if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
				return err
			}
			return os.WriteFile(dst, data, 0o644)
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(size)
	b.ResetTimer()
	for b.Loop() {
		if _, err := scan.Walk(context.Background(), []string{dir}, scan.Options{Scanners: Default()}); err != nil {
			b.Fatal(err)
		}
	}
}
