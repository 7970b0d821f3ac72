package dockerfile

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/moby/buildkit/frontend/dockerfile/parser"

	"github.com/stet-dev/stet/edit"
	"github.com/stet-dev/stet/internal/corpus"
	"github.com/stet-dev/stet/ref"
	"github.com/stet-dev/stet/scan"
)

const corpusDir = "../../testdata/corpus"

// corpusFiles lists the Dockerfiles of the reference corpus, each joined
// to the corpus directory.
func corpusFiles(tb testing.TB) []string {
	tb.Helper()
	var out []string
	for _, p := range corpus.Paths(tb, corpusDir, corpus.Dockerfile) {
		out = append(out, filepath.Join(corpusDir, p))
	}
	return out
}

// checkResult asserts what must hold for any input: positions lie inside
// the data and locate Text exactly, edit spans are inside the data.
func checkResult(t *testing.T, data []byte, res *scan.Result) {
	t.Helper()
	src := newSource(data)
	for _, r := range res.Refs {
		if r.Line < 1 || r.Column < 1 || r.Line > len(src.lineStart) {
			t.Fatalf("%+v: position out of range", r)
		}
		start := src.lineStart[r.Line-1] + r.Column - 1
		if r.EndLine < r.Line || r.EndLine > len(src.lineStart) {
			t.Fatalf("%+v: end line out of range", r)
		}
		end := src.lineStart[r.EndLine-1] + r.EndColumn - 1
		if start < 0 || end > len(data) || start >= end {
			t.Fatalf("%+v: span [%d,%d) outside data of %d bytes", r, start, end, len(data))
		}
		if got := string(data[start:end]); got != r.Text {
			t.Fatalf("%+v: bytes at position are %q, Text is %q", r, got, r.Text)
		}
		if r.Source != ref.SourceDockerfile || r.Kind != ref.Image {
			t.Fatalf("%+v: wrong source or kind", r)
		}
		if r.NotEditable != "" && (r.Edit != nil || r.Dynamic) {
			t.Fatalf("%+v: a reason for no edit span beside an edit span or Dynamic", r)
		}
		if r.Edit != nil {
			if r.Dynamic {
				t.Fatalf("%+v: dynamic reference with an edit span", r)
			}
			e := r.Edit
			if e.Start < 0 || e.End > len(data) || e.Start >= e.End {
				t.Fatalf("%+v: edit span [%d,%d) outside data", r, e.Start, e.End)
			}
			if l, c := src.pos(e.Start); l != e.Line || c != e.Column {
				t.Fatalf("%+v: edit span at %d:%d, says %d:%d", r, l, c, e.Line, e.Column)
			}
			if _, err := ref.ParseImage(withoutVars(string(data[e.Start:e.End]))); err != nil {
				t.Fatalf("%+v: edit span %q is not a reference: %v", r, data[e.Start:e.End], err)
			}
		}
	}
	for _, c := range res.Commands {
		if c.Line < 1 || c.EndLine < c.Line || c.EndLine > len(src.lineStart) || c.Column < 1 {
			t.Fatalf("%+v: command position out of range", c)
		}
		if c.Instruction != "RUN" && c.Instruction != "ADD" {
			t.Fatalf("%+v: unexpected instruction", c)
		}
	}
}

// withoutVars replaces each variable expression with a letter, so that a
// templated reference such as golang:${V}-alpine can be judged as one.
func withoutVars(s string) string {
	p := varParser{s: s, esc: '\\'}
	refs, ok := p.refs(0, len(s))
	if !ok {
		return s
	}
	var b strings.Builder
	last := 0
	for _, r := range refs {
		b.WriteString(s[last:r.start])
		b.WriteString("x")
		last = r.end
	}
	b.WriteString(s[last:])
	return b.String()
}

func TestCorpus(t *testing.T) {
	t.Parallel()
	varRE := regexp.MustCompile(`\$`)
	for _, path := range corpusFiles(t) {
		t.Run(strings.TrimPrefix(path, corpusDir+"/"), func(t *testing.T) {
			t.Parallel()
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			res, err := Scan(path, data)
			if err != nil {
				t.Fatalf("Scan: %v", err)
			}
			checkResult(t, data, res)
			for _, r := range res.Refs {
				if r.Edit == nil || r.Edit.Form != ref.FormReference {
					continue
				}
				edit := string(data[r.Edit.Start:r.Edit.End])
				if !varRE.MatchString(r.Text) && edit != r.Text {
					t.Errorf("%s:%d: edit span %q differs from literal reference %q", path, r.Line, edit, r.Text)
				}
				im, err := ref.ParseImage(edit)
				if err == nil && !varRE.MatchString(r.Text) && im.Name() != r.Name {
					t.Errorf("%s:%d: edit span names %s, reference %s", path, r.Line, im.Name(), r.Name)
				}
			}
		})
	}
}

func FuzzScan(f *testing.F) {
	for _, path := range corpusFiles(f) {
		data, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	cases, _ := filepath.Glob("testdata/*/Dockerfile")
	for _, path := range cases {
		data, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, s := range []string{
		"", "\ufeffFROM a", "FROM a\\\n\n#c\n  b", "# escape=`\nFROM a`\n b", "RUN <<EOF\nFROM x\nEOF\n",
		"ONBUILD COPY --from=x a b", "ARG A=\"x:1\" B='y'\nFROM ${A:-z}", "FROM \"$X\"", "RUN --mount=\"from=a\",\"type=bind\" x",
		"ARG B=nginx:1\nFROM ${B} AS a\nFROM ${B}-alpine\nFROM b\nARG B\nCOPY --from=$B / /\n",
		"ARG B=nginx:1\nFROM ${B}\nARG B\nENV E=$B\nRUN docker pull \"${B}-alpine\" '$E'x\nLABEL d=\"on ${B}\" ${B}k=v\n" +
			"RUN <<EOF\necho ${B%:*} \"a\\\"b $B\"\nEOF\nCMD [\"sh\", \"-c\", \"$B-x\"]\nONBUILD RUN x $E-y\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		res, err := Scan("Dockerfile", data)
		if err != nil {
			var se *scan.Error
			if !errors.As(err, &se) {
				t.Fatalf("error is not a *scan.Error: %v", err)
			}
			if errors.Is(err, errLocate) {
				t.Fatalf("instruction not located: %v", err)
			}
			if se.Line < 1 {
				t.Fatalf("error without a line: %v", err)
			}
			if errors.Is(err, ref.ErrNotImage) {
				if res == nil {
					t.Fatalf("no result beside %v", err)
				}
				checkResult(t, data, res)
			}
			return
		}
		checkResult(t, data, res)
		checkPinKeepsReferences(t, data, res)
	})
}

// checkPinKeepsReferences pins every reference that has an edit span, as
// stet pin does, and scans the result: no reference may stop being one (a
// digest appended to an ARG default that another line extends), and each
// pinned one must now read with the digest.
func checkPinKeepsReferences(t *testing.T, data []byte, res *scan.Result) {
	t.Helper()
	const digest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	var edits []edit.Edit
	var pinned []ref.Ref
	for _, r := range res.Refs {
		if r.Edit == nil || r.Digest != "" {
			continue
		}
		e, ok := edit.ForPin(r, digest, "")
		if !ok {
			continue
		}
		edits = append(edits, e)
		pinned = append(pinned, r)
	}
	if len(edits) == 0 {
		return
	}
	out, err := edit.Patch("Dockerfile", data, edits)
	if err != nil {
		return
	}
	after, err := Scan("Dockerfile", out)
	if err != nil {
		t.Fatalf("pinning %d reference(s) broke the file: %v\n%s", len(edits), err, out)
	}
	if len(after.Refs) != len(res.Refs) {
		t.Fatalf("pinning changed the references from %d to %d:\n%s", len(res.Refs), len(after.Refs), out)
	}
	for _, p := range pinned {
		i := slices.IndexFunc(after.Refs, func(a ref.Ref) bool { return a.Line == p.Line && a.Context == p.Context && a.Name == p.Name })
		if i < 0 {
			t.Fatalf("%d: %s is gone after pinning:\n%s", p.Line, p.Text, out)
		}
		if a := after.Refs[i]; a.Digest != digest && !slices.ContainsFunc(after.Refs, func(b ref.Ref) bool { return b.Line == p.Line && b.Digest == digest }) {
			t.Fatalf("%d: %s reads %+v after pinning:\n%s", p.Line, p.Text, a, out)
		}
	}
}

func BenchmarkScan(b *testing.B) {
	var files [][]byte
	total := 0
	for _, path := range corpusFiles(b) {
		data, err := os.ReadFile(path)
		if err != nil {
			b.Fatal(err)
		}
		files = append(files, data)
		total += len(data)
	}
	b.SetBytes(int64(total))
	b.ReportAllocs()
	for b.Loop() {
		for _, data := range files {
			if _, err := Scan("Dockerfile", data); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// TestBuildkitTestfiles runs the scanner over the parser's own test inputs:
// Scan fails exactly when BuildKit's parser does, and what it reports holds.
func TestBuildkitTestfiles(t *testing.T) {
	t.Parallel()
	dir, err := buildkitTestfiles()
	if err != nil {
		t.Skip("buildkit parser test files not in the module cache")
	}
	var paths []string
	for _, d := range []string{dir, dir + "-negative"} {
		m, _ := filepath.Glob(filepath.Join(d, "*", "Dockerfile"))
		paths = append(paths, m...)
	}
	if len(paths) == 0 {
		t.Skip("no test files")
	}
	for _, path := range paths {
		t.Run(filepath.Base(filepath.Dir(path)), func(t *testing.T) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			_, perr := parser.Parse(bytes.NewReader(data))
			if perr != nil && strings.Contains(perr.Error(), "file with no instructions") {
				perr = nil
			}
			res, err := Scan(path, data)
			if perr == nil && errors.Is(err, ref.ErrNotImage) {
				// The parser reads no references; the build fails on
				// this one later.
				checkResult(t, data, res)
				return
			}
			if (err != nil) != (perr != nil) {
				t.Fatalf("Scan error %v, buildkit parser error %v", err, perr)
			}
			if err == nil {
				checkResult(t, data, res)
			}
		})
	}
}
