package yamlreftest

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/stet-dev/stet/scan"
)

// NewBrief builds a Brief from its fields in order, so that a table row
// states a whole reference on one line.
func NewBrief(line, col int, text, name, tag, digest string, dynamic bool, ctx, edit string) Brief {
	return Brief{Line: line, Column: col, Text: text, Name: name, Tag: tag, Digest: digest, Dynamic: dynamic, Context: ctx, Edit: edit}
}

// Expect checks a table test's result: the positions and edit spans hold
// (Check), the references are want, and each names the file it was scanned
// as (path) and the scanner's source.
func Expect(t *testing.T, path, source string, data []byte, res *scan.Result, want []Brief) {
	t.Helper()
	Check(t, data, res)
	if diff := cmp.Diff(want, Briefs(data, res)); diff != "" {
		t.Errorf("refs (-want +got):\n%s", diff)
	}
	for _, r := range res.Refs {
		if r.File != path || r.Source != source {
			t.Errorf("ref %q: file %q source %q", r.Text, r.File, r.Source)
		}
	}
}

// ExpectError checks that scanning data, which is not valid YAML, fails with
// a *scan.Error that names path and a line.
func ExpectError(t *testing.T, scanner scan.Scanner, path string, data []byte) {
	t.Helper()
	_, err := scanner(path, data)
	var se *scan.Error
	if !errors.As(err, &se) {
		t.Fatalf("error %v is not a *scan.Error", err)
	}
	if se.File != path || se.Line == 0 {
		t.Errorf("error %v: want file %s and a line", se, path)
	}
}

// ExpectErrorAt checks that scanning data fails with a *scan.Error at
// path and the given line, the one yaml.v3 names.
func ExpectErrorAt(t *testing.T, scanner scan.Scanner, path string, data []byte, line int) {
	t.Helper()
	_, err := scanner(path, data)
	var se *scan.Error
	if !errors.As(err, &se) {
		t.Fatalf("Scan error = %v, want a *scan.Error", err)
	}
	if se.File != path || se.Line != line {
		t.Errorf("error at %s:%d, want %s:%d (%v)", se.File, se.Line, path, line, err)
	}
}
