package edit

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/stet-dev/stet/ref"
)

var update = flag.Bool("update", false, "rewrite golden files")

const (
	testDigest = "sha256:9d1b7e1a4c3f2e5d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d"
	testCommit = "11bd71901bbe5b1630ceea73d27597364c9af683"
)

// parseSpec reads a case's edits file. Each line is
//
//	op form occurrence "text" [extra]
//
// op is pin or unpin; form is reference, tag, digest, insert or action;
// text is a Go-quoted string located in the input (its occurrence-th
// appearance); when it holds "[[]]" or "[[…]]" the span is the part between
// the brackets, otherwise the whole text. extra is the ImpliedTag for
// reference, the Prefix for insert and the Version for action.
func parseSpec(t *testing.T, data []byte, spec string) []Edit {
	t.Helper()
	var edits []Edit
	for n, line := range strings.Split(strings.TrimSpace(spec), "\n") {
		f := tokens(t, line)
		if len(f) < 4 {
			t.Fatalf("edits:%d: want op form occurrence text: %q", n+1, line)
		}
		e := Edit{Digest: testDigest}
		if f[0] == "unpin" {
			e.Op = Unpin
		}
		forms := map[string]ref.Form{"reference": ref.FormReference, "tag": ref.FormTag,
			"digest": ref.FormDigest, "insert": ref.FormInsert, "action": ref.FormAction}
		form, ok := forms[f[1]]
		if !ok {
			t.Fatalf("edits:%d: unknown form %q", n+1, f[1])
		}
		e.Span.Form = form
		occ, err := strconv.Atoi(f[2])
		if err != nil {
			t.Fatal(err)
		}
		text := f[3]
		lead, inner := 0, len(text)
		if i := strings.Index(text, "[["); i >= 0 {
			j := strings.Index(text, "]]")
			lead, inner = i, j-i-2
			text = text[:i] + text[i+2:j] + text[j+2:]
		}
		off := -1
		for k, from := 0, 0; k < occ; k++ {
			i := bytes.Index(data[from:], []byte(text))
			if i < 0 {
				t.Fatalf("edits:%d: %q occurrence %d not in input", n+1, text, k+1)
			}
			off, from = from+i, from+i+1
		}
		e.Span.Start, e.Span.End = off+lead, off+lead+inner
		e.Span.Line = bytes.Count(data[:e.Span.Start], []byte{'\n'}) + 1
		e.Span.Column = e.Span.Start - (bytes.LastIndexByte(data[:e.Span.Start], '\n') + 1) + 1
		if len(f) > 4 {
			switch form {
			case ref.FormReference:
				e.ImpliedTag = f[4]
			case ref.FormInsert:
				e.Span.Prefix = f[4]
			case ref.FormAction:
				e.Version = f[4]
			}
		}
		if form == ref.FormAction {
			e.Digest = testCommit
		}
		edits = append(edits, e)
	}
	return edits
}

func tokens(t *testing.T, line string) []string {
	t.Helper()
	var out []string
	for line = strings.TrimSpace(line); line != ""; line = strings.TrimSpace(line) {
		if line[0] == '"' {
			q, err := strconv.QuotedPrefix(line)
			if err != nil {
				t.Fatalf("%q: %v", line, err)
			}
			s, _ := strconv.Unquote(q)
			out = append(out, s)
			line = line[len(q):]
			continue
		}
		i := strings.IndexAny(line, " \t")
		if i < 0 {
			i = len(line)
		}
		out = append(out, line[:i])
		line = line[i:]
	}
	return out
}

func TestPatchGolden(t *testing.T) {
	dirs, err := filepath.Glob("testdata/*/edits")
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no cases: %v", err)
	}
	for _, p := range dirs {
		dir := filepath.Dir(p)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			t.Parallel()
			input := readFile(t, filepath.Join(dir, "input"))
			edits := parseSpec(t, input, string(readFile(t, p)))
			got, err := Patch("input", input, edits)
			if err != nil {
				t.Fatal(err)
			}
			wantPath := filepath.Join(dir, "want")
			if *update {
				if err := os.WriteFile(wantPath, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want := readFile(t, wantPath)
			if diff := cmp.Diff(string(want), string(got)); diff != "" {
				t.Errorf("Patch (-want +got):\n%s", diff)
			}
			// Outside the edited lines nothing moves: the patched file has
			// as many lines (no edit here adds one except inserts) and the
			// same line endings.
			if bytes.Count(input, []byte("\r\n")) != bytes.Count(got, []byte("\r\n")) {
				t.Errorf("CRLF count changed")
			}
			// Applying the same edits to the result is a no-op for pins of
			// the same digest: Patch is idempotent on spans re-found there.
			if bytes.HasPrefix(input, []byte("\xef\xbb\xbf")) != bytes.HasPrefix(got, []byte("\xef\xbb\xbf")) {
				t.Errorf("byte-order mark changed")
			}
		})
	}
}

func readFile(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func span(start, end int, f ref.Form) ref.Span {
	return ref.Span{Start: start, End: end, Line: 1, Column: start + 1, Form: f}
}

func TestPatchErrors(t *testing.T) {
	t.Parallel()
	data := []byte("FROM nginx:1-alpine\nFROM redis@sha256:1111111111111111111111111111111111111111111111111111111111111111\n")
	other := "sha256:2222222222222222222222222222222222222222222222222222222222222222"
	tests := []struct {
		name  string
		edits []Edit
		want  error
	}{
		{"out of range", []Edit{{Span: span(5, 500, ref.FormReference), Digest: testDigest}}, ErrSpan},
		{"negative", []Edit{{Span: span(-1, 3, ref.FormReference), Digest: testDigest}}, ErrSpan},
		{"reversed", []Edit{{Span: span(9, 5, ref.FormReference), Digest: testDigest}}, ErrSpan},
		{"overlap", []Edit{
			{Span: span(5, 19, ref.FormReference), Digest: testDigest},
			{Span: span(11, 19, ref.FormTag), Digest: testDigest},
		}, ErrOverlap},
		{"conflict", []Edit{
			{Span: span(5, 19, ref.FormReference), Digest: testDigest},
			{Span: span(5, 19, ref.FormReference), Digest: other},
		}, ErrConflict},
		{"two inserts at one point", []Edit{
			{Span: span(19, 19, ref.FormInsert), Digest: testDigest},
			{Span: span(19, 19, ref.FormInsert), Digest: other},
		}, ErrConflict},
		{"spans lines", []Edit{{Span: span(5, 25, ref.FormReference), Digest: testDigest}}, ErrSpan},
		{"digest span holds no digest", []Edit{{Span: span(5, 19, ref.FormDigest), Digest: testDigest}}, ErrSpan},
		{"insert not empty", []Edit{{Span: span(5, 19, ref.FormInsert), Digest: testDigest}}, ErrSpan},
		{"action without @", []Edit{{Span: span(5, 19, ref.FormAction), Digest: testCommit}}, ErrSpan},
		{"unpin digest-only", []Edit{{Span: span(25, 102, ref.FormReference), Op: Unpin}}, ErrNoTag},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := Patch("Dockerfile", data, tt.edits)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Patch = %q, %v; want %v", got, err, tt.want)
			}
			var e *Error
			if !errors.As(err, &e) || e.File != "Dockerfile" || e.Line != 1 {
				t.Errorf("error %v does not name Dockerfile:1", err)
			}
		})
	}
}

func TestPatchRejectsBadDigests(t *testing.T) {
	t.Parallel()
	data := []byte("FROM nginx:1\n")
	for _, d := range []string{"", "sha256:abc", "latest", testCommit} {
		if _, err := Patch("f", data, []Edit{{Span: span(5, 12, ref.FormReference), Digest: d}}); err == nil {
			t.Errorf("digest %q accepted", d)
		}
	}
	act := []byte("uses: a/b@v1\n")
	if _, err := Patch("f", act, []Edit{{Span: span(6, 12, ref.FormAction), Digest: testDigest}}); err == nil {
		t.Error("image digest accepted for an action")
	}
	if _, err := Patch("f", act, []Edit{{Span: span(6, 12, ref.FormAction), Digest: testCommit, Version: "v1 # x"}}); err == nil {
		t.Error("version with a comment accepted")
	}
}

func TestPatchSharedSpanOnce(t *testing.T) {
	t.Parallel()
	data := []byte("ARG BASE=nginx:1\nFROM ${BASE}\nFROM ${BASE} AS b\n")
	e := Edit{Span: span(9, 16, ref.FormReference), Digest: testDigest}
	got, err := Patch("Dockerfile", data, []Edit{e, e, e})
	if err != nil {
		t.Fatal(err)
	}
	want := "ARG BASE=nginx:1@" + testDigest + "\nFROM ${BASE}\nFROM ${BASE} AS b\n"
	if diff := cmp.Diff(want, string(got)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestPatchDoesNotModifyInput(t *testing.T) {
	t.Parallel()
	data := []byte("FROM nginx:1\n")
	orig := bytes.Clone(data)
	if _, err := Patch("f", data, []Edit{{Span: span(5, 12, ref.FormReference), Digest: testDigest}}); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(orig, data) {
		t.Error("input modified")
	}
}

func TestUpdateLeavesUnchangedPinsIdentical(t *testing.T) {
	t.Parallel()
	data := []byte("FROM nginx:1@" + testDigest + "\n")
	got, err := Patch("f", data, []Edit{{Span: span(5, len(data)-1, ref.FormReference), Digest: testDigest}})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, data) {
		t.Errorf("re-pinning to the same digest changed bytes: %q", got)
	}
}

func TestHasTag(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]bool{
		"nginx":                   false,
		"nginx:1":                 true,
		"localhost:5000/app":      false,
		"localhost:5000/app:dev":  true,
		"${IMAGE:-nginx}":         false,
		"golang:${V:-1.22}":       true,
		"reg/${NAME:-x}:${TAG}":   true,
		"ghcr.io/o/r":             false,
		"${REGISTRY}/app:${TAG}":  true,
		"${REGISTRY:-a:5000}/app": false,
	} {
		if got := hasTag(in); got != want {
			t.Errorf("hasTag(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestForPinAndUnpin(t *testing.T) {
	t.Parallel()
	s := span(6, 25, ref.FormAction)
	r := ref.Ref{Kind: ref.Action, Name: "actions/checkout", Tag: "v4.2.2", Digest: testCommit, Edit: &s}
	e, ok := ForUnpin(r)
	if !ok || e.Version != "v4.2.2" || e.Op != Unpin {
		t.Errorf("ForUnpin = %+v, %v", e, ok)
	}
	e, ok = ForPin(r, testCommit, "v4.2.3")
	if !ok || e.Digest != testCommit || e.Version != "v4.2.3" || e.Op != Pin {
		t.Errorf("ForPin = %+v, %v", e, ok)
	}
	r.Dynamic = true
	if _, ok := ForPin(r, testCommit, ""); ok {
		t.Error("dynamic reference is editable")
	}
	if _, ok := ForUnpin(ref.Ref{}); ok {
		t.Error("reference without a span is editable")
	}
}

func TestValidateDigestElsewhere(t *testing.T) {
	t.Parallel()
	d := "sha256:28bd5fe8b56d1bd048e5babf5b10710ebe0bae67db86916198a6eec434943f8b"
	data := []byte("ARG V=3.20@" + d + "\nFROM alpine:${V}\nFROM nginx:1@" + d + "\n")
	from := bytes.Index(data, []byte("alpine:${V}"))
	s1 := ref.Span{Start: from, End: from + len("alpine:${V}"), Line: 2, Column: 6}
	r := ref.Ref{File: "Dockerfile", Text: "alpine:${V}", Kind: ref.Image, Name: "docker.io/library/alpine", Tag: "3.20", Digest: d, Edit: &s1}
	if err := Validate(data, r); !errors.Is(err, ErrDigestElsewhere) {
		t.Errorf("Validate = %v, want ErrDigestElsewhere", err)
	}
	n := bytes.Index(data, []byte("nginx"))
	s2 := ref.Span{Start: n, End: len(data) - 1, Line: 3, Column: 6}
	r.Edit = &s2
	if err := Validate(data, r); err != nil {
		t.Errorf("Validate of a pin in its span = %v", err)
	}
}
