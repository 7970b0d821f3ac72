package edit

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stet-dev/stet/internal/corpus"
	"github.com/stet-dev/stet/ref"
	"github.com/stet-dev/stet/scan/formats"
)

type corpusFile struct{ path, source string }

func corpusFiles(t *testing.T) []corpusFile {
	t.Helper()
	root := filepath.Join("..", "testdata", "corpus")
	files, err := corpus.List(root)
	if err != nil {
		t.Skipf("no corpus: %v", err)
	}
	var out []corpusFile
	for _, f := range files {
		src, ok := f.Source()
		if !ok {
			t.Fatalf("unknown kind %q", f.Kind)
		}
		out = append(out, corpusFile{filepath.ToSlash(filepath.Join(root, f.Path)), src})
	}
	return out
}

// TestCorpusPinChangesOnlySpans pins every editable reference of every
// corpus file and checks that (1) lines without an edit are byte-identical
// and in order, (2) on edited lines the bytes before the first span and,
// except for actions, after the last one are unchanged, and (3) scanning
// the result finds the same references, now pinned to the digest written.
func TestCorpusPinChangesOnlySpans(t *testing.T) {
	t.Parallel()
	scanners := formats.Default()
	total := 0
	for _, cf := range corpusFiles(t) {
		t.Run(strings.TrimPrefix(cf.path, "../testdata/corpus/"), func(t *testing.T) {
			data, err := os.ReadFile(cf.path)
			if err != nil {
				t.Fatal(err)
			}
			scanner := scanners[cf.source]
			res, err := scanner(cf.path, data)
			if err != nil {
				t.Skipf("scanner rejects the file: %v", err)
			}
			var edits []Edit
			var pinned []ref.Ref
			for i, r := range res.Refs {
				digest, version := fakeDigest(i), ""
				if r.Kind == ref.Action {
					digest, version = fakeCommit(i), "v1.2."+fmt.Sprint(i)
				}
				// Refs sharing a span (an ARG default) must agree.
				for _, p := range pinned {
					if p.Edit != nil && r.Edit != nil && p.Edit.Start == r.Edit.Start && p.Edit.End == r.Edit.End {
						digest = edits[slices.IndexFunc(pinned, func(q ref.Ref) bool { return q.Edit == p.Edit })].Digest
						break
					}
				}
				e, ok := ForPin(r, digest, version)
				if !ok {
					continue
				}
				if err := Validate(data, r); err != nil {
					t.Logf("not editable: %v", err)
					continue
				}
				if err := Check(data, e); err != nil {
					t.Errorf("%s:%d: %s: %v", r.File, r.Line, r.Text, err)
					continue
				}
				edits = append(edits, e)
				pinned = append(pinned, r)
			}
			if len(edits) == 0 {
				return
			}
			total += len(edits)
			got, err := Patch(cf.path, data, edits)
			if err != nil {
				t.Fatal(err)
			}
			checkOnlySpans(t, data, got, edits)

			again, err := scanner(cf.path, got)
			if err != nil {
				t.Fatalf("pinned file no longer scans: %v", err)
			}
			for i, r := range pinned {
				want := edits[i]
				// Inserted lines before the reference move it down.
				line := r.Line
				for _, e := range edits {
					if e.Span.Form == ref.FormInsert && e.Span.Start < r.Edit.Start {
						line += strings.Count(e.Span.Prefix, "\n")
					}
				}
				found := slices.ContainsFunc(again.Refs, func(a ref.Ref) bool {
					return a.Line == line && a.Name == r.Name && a.Context == r.Context && a.Digest == want.Digest &&
						(r.Kind != ref.Action || a.Tag == want.Version)
				})
				if !found {
					t.Errorf("%s:%d: %s (%s) not found pinned to %s after pinning", r.File, r.Line, r.Text, r.Context, want.Digest)
				}
			}
		})
	}
	t.Logf("pinned %d references", total)
}

func fakeDigest(i int) string {
	return fmt.Sprintf("sha256:%064x", i+0xabc)
}

func fakeCommit(i int) string {
	return fmt.Sprintf("%040x", i+0xdef)
}

func checkOnlySpans(t *testing.T, old, new []byte, edits []Edit) {
	t.Helper()
	lineOf := func(off int) int { return bytes.Count(old[:off], []byte{'\n'}) }
	type lineEdit struct {
		first, last int // byte offsets within the line of the first span start and last span end
		action      bool
		inserted    int // lines the edit adds
	}
	edited := map[int]*lineEdit{}
	for _, e := range edits {
		l := lineOf(e.Span.Start)
		ls := bytes.LastIndexByte(old[:e.Span.Start], '\n') + 1
		le := edited[l]
		if le == nil {
			le = &lineEdit{first: e.Span.Start - ls, last: e.Span.End - ls}
			edited[l] = le
		}
		le.first = min(le.first, e.Span.Start-ls)
		le.last = max(le.last, e.Span.End-ls)
		le.action = le.action || e.Span.Form == ref.FormAction
		if e.Span.Form == ref.FormInsert {
			le.inserted += strings.Count(e.Span.Prefix, "\n")
		}
	}
	a, b := strings.SplitAfter(string(old), "\n"), strings.SplitAfter(string(new), "\n")
	j := 0
	for i, la := range a {
		if j >= len(b) {
			t.Fatalf("pinned file is shorter: line %d missing", j+1)
		}
		le := edited[i]
		if le == nil {
			if la != b[j] {
				t.Fatalf("line %d changed without an edit:\n-%q\n+%q", i+1, la, b[j])
			}
			j++
			continue
		}
		lb := strings.Join(b[j:j+1+le.inserted], "")
		if !strings.HasPrefix(lb, la[:le.first]) {
			t.Fatalf("line %d: bytes before the span changed:\n-%q\n+%q", i+1, la, lb)
		}
		if !le.action && !strings.HasSuffix(lb, la[le.last:]) {
			t.Fatalf("line %d: bytes after the span changed:\n-%q\n+%q", i+1, la, lb)
		}
		if strings.HasSuffix(la, "\r\n") != strings.HasSuffix(lb, "\r\n") {
			t.Fatalf("line %d: line ending changed", i+1)
		}
		j += 1 + le.inserted
	}
	if j != len(b) {
		t.Fatalf("pinned file has %d extra lines", len(b)-j)
	}
}
