// Package yamlreftest checks scanner results against the file they came
// from, and runs the table, golden, corpus and benchmark tests the YAML
// scanners share (the image scanners and the CI ones), so that every
// scanner is held to the same invariants: a reference's position holds its
// text, and its edit span pins it without touching another byte.
package yamlreftest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/stet-dev/stet/internal/corpus"
	"github.com/stet-dev/stet/ref"
	"github.com/stet-dev/stet/scan"
	"github.com/stet-dev/stet/scan/internal/yamlref"
)

// Check reports every ref whose position does not hold its Text, or whose
// edit span lies outside data or disagrees with its own line and column.
func Check(t testing.TB, data []byte, res *scan.Result) {
	t.Helper()
	if res == nil {
		return
	}
	for _, r := range res.Refs {
		got, err := At(data, r.Line, r.Column, r.EndLine, r.EndColumn)
		if err != nil {
			t.Errorf("%s:%d:%d %q: %v", r.File, r.Line, r.Column, r.Text, err)
			continue
		}
		if got != r.Text {
			t.Errorf("%s:%d:%d: bytes at position are %q, Text is %q", r.File, r.Line, r.Column, got, r.Text)
		}
		if r.Kind != ref.Image {
			t.Errorf("%s:%d:%d: kind %q, want image", r.File, r.Line, r.Column, r.Kind)
		}
		if !r.Dynamic && r.Name == "" {
			t.Errorf("%s:%d:%d %q: static reference without a name", r.File, r.Line, r.Column, r.Text)
		}
		if e := r.Edit; e != nil {
			if r.Dynamic {
				t.Errorf("%s:%d:%d %q: dynamic reference with an edit span", r.File, r.Line, r.Column, r.Text)
			}
			if e.Start < 0 || e.End < e.Start || e.End > len(data) {
				t.Errorf("%s:%d:%d %q: edit span [%d,%d) outside the file (%d bytes)", r.File, r.Line, r.Column, r.Text, e.Start, e.End, len(data))
				continue
			}
			if l, c := position(data, e.Start); l != e.Line || c != e.Column {
				t.Errorf("%s:%d:%d %q: edit span at %d:%d, its offset is at %d:%d", r.File, r.Line, r.Column, r.Text, e.Line, e.Column, l, c)
			}
			if e.Form == ref.FormInsert && e.Start != e.End {
				t.Errorf("%s:%d:%d %q: insert span is not empty", r.File, r.Line, r.Column, r.Text)
			}
		}
	}
}

// At returns the bytes between two 1-based positions (columns in bytes,
// end exclusive).
func At(data []byte, line, col, endLine, endCol int) (string, error) {
	start, err := offset(data, line, col)
	if err != nil {
		return "", err
	}
	end, err := offset(data, endLine, endCol)
	if err != nil {
		return "", err
	}
	if end < start {
		return "", fmt.Errorf("end %d:%d before start %d:%d", endLine, endCol, line, col)
	}
	return string(data[start:end]), nil
}

func offset(data []byte, line, col int) (int, error) {
	if line < 1 || col < 1 {
		return 0, fmt.Errorf("position %d:%d is not 1-based", line, col)
	}
	off := 0
	for l := 1; l < line; l++ {
		i := bytes.IndexByte(data[off:], '\n')
		if i < 0 {
			return 0, fmt.Errorf("line %d past the end of the file", line)
		}
		off += i + 1
	}
	lineEnd := len(data)
	if i := bytes.IndexByte(data[off:], '\n'); i >= 0 {
		lineEnd = off + i
	}
	if off+col-1 > lineEnd {
		return 0, fmt.Errorf("column %d past the end of line %d", col, line)
	}
	return off + col - 1, nil
}

func position(data []byte, off int) (line, col int) {
	before := data[:off]
	line = bytes.Count(before, []byte{'\n'}) + 1
	return line, off - (bytes.LastIndexByte(before, '\n') + 1) + 1
}

// Record is the golden form of a result: the refs with their edit spans
// (which ref.Ref does not marshal) and what each span currently holds.
type Record struct {
	Refs    []RefRecord    `json:"refs"`
	Related []scan.Related `json:"related,omitempty"`
	Error   string         `json:"error,omitempty"`
}

// RefRecord is a ref with its edit span.
type RefRecord struct {
	ref.Ref
	Edit *EditRecord `json:"edit,omitempty"`
}

// EditRecord is an edit span as golden files show it.
type EditRecord struct {
	Start  int    `json:"start"`
	End    int    `json:"end"`
	Line   int    `json:"line"`
	Column int    `json:"column"`
	Form   string `json:"form"`
	Prefix string `json:"prefix,omitempty"`
	// Holds is what the span covers now.
	Holds string `json:"holds"`
}

var forms = map[ref.Form]string{
	ref.FormReference: "reference", ref.FormTag: "tag", ref.FormDigest: "digest",
	ref.FormInsert: "insert", ref.FormAction: "action",
}

// NewRecord builds the golden record of a scan.
func NewRecord(data []byte, res *scan.Result, err error) Record {
	rec := Record{Refs: []RefRecord{}}
	if err != nil {
		rec.Error = err.Error()
	}
	if res == nil {
		return rec
	}
	rec.Related = res.Related
	for _, r := range res.Refs {
		rr := RefRecord{Ref: r}
		if e := r.Edit; e != nil {
			er := &EditRecord{Start: e.Start, End: e.End, Line: e.Line, Column: e.Column, Form: forms[e.Form], Prefix: e.Prefix}
			if e.Start >= 0 && e.End <= len(data) && e.Start <= e.End {
				er.Holds = string(data[e.Start:e.End])
			}
			rr.Edit = er
		}
		rec.Refs = append(rec.Refs, rr)
	}
	return rec
}

// Golden runs scanner over every case directory under dir: each holds one
// input file and refs.json, the expected record. The input is scanned under
// its base name. With update set, refs.json is rewritten instead.
func Golden(t *testing.T, dir string, update bool, scanner scan.Scanner) {
	t.Helper()
	cases, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(cases) == 0 {
		t.Fatalf("no golden cases in %s", dir)
	}
	for _, c := range cases {
		if !c.IsDir() {
			continue
		}
		t.Run(c.Name(), func(t *testing.T) {
			caseDir := filepath.Join(dir, c.Name())
			files, err := os.ReadDir(caseDir)
			if err != nil {
				t.Fatal(err)
			}
			var input string
			for _, f := range files {
				if f.Name() != "refs.json" && !f.IsDir() {
					if input != "" {
						t.Fatalf("%s holds more than one input file", caseDir)
					}
					input = f.Name()
				}
			}
			if input == "" {
				t.Fatalf("%s holds no input file", caseDir)
			}
			data, err := os.ReadFile(filepath.Join(caseDir, input))
			if err != nil {
				t.Fatal(err)
			}
			res, err := scanner(input, data)
			Check(t, data, res)
			if err == nil {
				RoundTrip(t, input, data, res, scanner)
			}
			got, jerr := json.MarshalIndent(NewRecord(data, res, err), "", "  ")
			if jerr != nil {
				t.Fatal(jerr)
			}
			got = append(got, '\n')
			compareGolden(t, filepath.Join(caseDir, "refs.json"), got, update)
		})
	}
}

// CorpusFile is one corpus file and what the scanner found in it.
type CorpusFile struct {
	Path   string
	Data   []byte
	Result *scan.Result
}

// Corpus scans every file of the given kind listed in root/SOURCES.tsv,
// failing on any error and on any ref whose position does not hold its text.
// It returns the files with their results for the caller's own checks, and
// compares a one-line-per-ref summary with golden (rewritten with update).
func Corpus(t *testing.T, root, kind, golden string, update bool, scanner scan.Scanner) []CorpusFile {
	t.Helper()
	files, err := corpus.List(root)
	if err != nil {
		t.Fatal(err)
	}
	var out []CorpusFile
	var summary strings.Builder
	for _, cf := range files {
		if cf.Kind != kind {
			continue
		}
		p := cf.Path
		data, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(p)))
		if err != nil {
			t.Fatal(err)
		}
		res, err := scanner(p, data)
		if err != nil {
			t.Errorf("%s: %v", p, err)
			continue
		}
		if res == nil {
			t.Errorf("%s: nil result without an error", p)
			continue
		}
		Check(t, data, res)
		RoundTrip(t, p, data, res, scanner)
		out = append(out, CorpusFile{Path: p, Data: data, Result: res})
		for _, r := range res.Refs {
			fmt.Fprintf(&summary, "%s:%d:%d %s %q -> %s", p, r.Line, r.Column, r.Context, r.Text, r.Name)
			if r.Tag != "" {
				fmt.Fprintf(&summary, ":%s", r.Tag)
			}
			if r.Digest != "" {
				fmt.Fprintf(&summary, "@%s", r.Digest)
			}
			if r.Dynamic {
				summary.WriteString(" dynamic")
			}
			if e := r.Edit; e != nil && e.Start >= 0 && e.Start <= e.End && e.End <= len(data) {
				fmt.Fprintf(&summary, " edit=%s:%q", forms[e.Form], data[e.Start:e.End])
				if e.Form == ref.FormInsert {
					fmt.Fprintf(&summary, "+%q", e.Prefix)
				}
			}
			summary.WriteByte('\n')
		}
		for _, rel := range res.Related {
			fmt.Fprintf(&summary, "%s related %s %s\n", p, rel.Source, rel.Path)
		}
	}
	if len(out) == 0 {
		t.Fatalf("no %s files in %s", kind, root)
	}
	compareGolden(t, golden, []byte(summary.String()), update)
	return out
}

// compareGolden compares got with the golden file, or with update set
// rewrites the file instead.
func compareGolden(t *testing.T, golden string, got []byte, update bool) {
	t.Helper()
	if update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s (-want +got):\n%s", golden, diff)
	}
}

// Brief is the part of a ref that table tests compare.
type Brief struct {
	Line, Column int
	Text         string
	Name, Tag    string
	Digest       string
	Dynamic      bool
	Context      string
	// Edit is "form:what the span holds" ("insert:" plus the prefix for an
	// insertion), or "" when the ref has no edit span.
	Edit string
}

// Briefs summarizes a result for table tests.
func Briefs(data []byte, res *scan.Result) []Brief {
	if res == nil {
		return nil
	}
	var out []Brief
	for _, r := range res.Refs {
		b := Brief{r.Line, r.Column, r.Text, r.Name, r.Tag, r.Digest, r.Dynamic, r.Context, ""}
		if e := r.Edit; e != nil && e.Start >= 0 && e.Start <= e.End && e.End <= len(data) {
			b.Edit = forms[e.Form] + ":" + string(data[e.Start:e.End])
			if e.Form == ref.FormInsert {
				b.Edit += fmt.Sprintf("%q", e.Prefix)
			}
		}
		out = append(out, b)
	}
	return out
}

// Seeds adds every corpus file of the given kind to a fuzz test's seeds.
func Seeds(f *testing.F, root, kind string, args ...any) {
	f.Helper()
	files, err := corpus.List(root)
	if err != nil {
		f.Fatal(err)
	}
	for _, cf := range files {
		if cf.Kind != kind {
			continue
		}
		data, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(cf.Path)))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(append([]any{data}, args...)...)
	}
}

// PinDigest is the digest RoundTrip writes.
const PinDigest = "sha256:a3ed95caeb02ffe68cdd9fd84406680ae93d633cb16422d00e8a7c22955b46d4"

// Pin applies every edit span of res to data as a pin to PinDigest does:
// a reference keeps its name and tag, a tag field becomes tag@digest, a
// digest field or an insertion receives the digest.
func Pin(data []byte, res *scan.Result) []byte {
	type patch struct {
		start, end int
		text       string
	}
	var patches []patch
	for _, r := range res.Refs {
		e := r.Edit
		if e == nil {
			continue
		}
		holds := string(data[e.Start:e.End])
		var text string
		switch e.Form {
		case ref.FormReference:
			base, _ := ref.SplitDigest(holds)
			if im, err := ref.ParseImage(base); err == nil && im.Tag == "" && r.Tag != "" {
				base += ":" + r.Tag // nginx is nginx:latest: the pin says so
			}
			text = base + "@" + PinDigest
		case ref.FormTag:
			base, _ := ref.SplitDigest(holds)
			if base == "" {
				base = r.Tag
			}
			text = base + "@" + PinDigest
		case ref.FormDigest:
			text = PinDigest
		case ref.FormInsert:
			text = e.Prefix + PinDigest
		default:
			continue
		}
		patches = append(patches, patch{e.Start, e.End, text})
	}
	out := make([]byte, 0, len(data)+len(patches)*80)
	last := 0
	// Spans come in file order; apply them front to back.
	slices.SortFunc(patches, func(a, b patch) int { return a.start - b.start })
	for _, p := range patches {
		if p.start < last {
			continue // overlapping spans: the first one wins
		}
		out = append(out, data[last:p.start]...)
		out = append(out, p.text...)
		last = p.end
	}
	return append(out, data[last:]...)
}

// RoundTrip pins data with Pin, scans the result again and checks that it
// still parses, that every editable ref now carries PinDigest with its name
// and tag unchanged, and that the other refs are untouched.
func RoundTrip(t testing.TB, path string, data []byte, res *scan.Result, scanner scan.Scanner) {
	t.Helper()
	if res == nil {
		return
	}
	pinned := Pin(data, res)
	after, err := scanner(path, pinned)
	if err != nil && (after == nil || !invalidValue(err)) {
		// A value that is no reference stays one after a pin, which
		// leaves it alone.
		t.Errorf("%s: pinned file does not scan: %v\n%s", path, err, pinned)
		return
	}
	if len(after.Refs) != len(res.Refs) {
		t.Errorf("%s: %d refs after pinning, %d before", path, len(after.Refs), len(res.Refs))
		return
	}
	for i, b := range res.Refs {
		a := after.Refs[i]
		want := b.Digest
		if b.Edit != nil {
			want = PinDigest
		}
		if a.Name != b.Name || a.Tag != b.Tag || a.Digest != want || a.Dynamic != b.Dynamic {
			t.Errorf("%s: ref %q (%s:%s@%s) reads %s:%s@%s after pinning, want digest %s",
				path, b.Text, b.Name, b.Tag, b.Digest, a.Name, a.Tag, a.Digest, want)
		}
	}
}

// invalidValue reports whether err is a value that is no reference, which a
// scanner returns with the rest of what it found.
func invalidValue(err error) bool {
	return errors.Is(err, ref.ErrNotImage) || errors.Is(err, yamlref.ErrNotAction)
}

// ExpectInvalid checks that scanning data returns the references found
// with a *scan.Error at path:line:col that says msg, for a value that is no
// reference in a field that holds one. It returns the result, for the
// caller to check as any other (see Check and RoundTrip, which accept such
// an error from the pinned file).
func ExpectInvalid(t *testing.T, scanner scan.Scanner, path string, data []byte, line, col int, msg string) *scan.Result {
	t.Helper()
	res, err := scanner(path, data)
	var se *scan.Error
	if !errors.As(err, &se) || !invalidValue(err) {
		t.Fatalf("error %v, want a *scan.Error for a value that is no reference", err)
	}
	if se.File != path || se.Line != line || se.Column != col || !strings.Contains(se.Error(), msg) {
		t.Errorf("error %q, want it at %s:%d:%d saying %q", se, path, line, col, msg)
	}
	if res == nil {
		t.Fatal("no result beside the error")
	}
	return res
}
