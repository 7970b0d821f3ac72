package yamlref

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"gopkg.in/yaml.v3"

	"github.com/stet-dev/stet/ref"
)

func decode(t *testing.T, f *File) *yaml.Node {
	t.Helper()
	docs, err := f.Documents()
	if err != nil {
		t.Fatal(err)
	}
	if len(docs) == 0 {
		t.Fatal("no document")
	}
	return docs[0]
}

func TestSetPartial(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in                string
		name, tag, digest string
	}{
		{"postgres:" + Unknown, "docker.io/library/postgres", "", ""},
		{"postgres:" + Unknown + "-alpine", "docker.io/library/postgres", "", ""},
		{Unknown + "/app:1", "", "", ""},
		{"ghcr.io/a/" + Unknown + ":1", "", "", ""},
		{"registry:5000/app" + Unknown, "", "", ""},
		{"registry:5000/app:" + Unknown, "registry:5000/app", "", ""},
		{"app:1@" + Unknown, "docker.io/library/app", "1", ""},
		{"app:" + Unknown + "@sha256:0d39fcc8335d6d74d5502f6df2d30119ff4790ebbb60b364818d5112d9e3e932", "docker.io/library/app", "", "sha256:0d39fcc8335d6d74d5502f6df2d30119ff4790ebbb60b364818d5112d9e3e932"},
		{"Bad:" + Unknown, "", "", ""},
		{"", "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			r := ref.Ref{Name: "stale", Tag: "stale"}
			SetPartial(&r, tt.in)
			want := ref.Ref{Kind: ref.Image, Dynamic: true, Name: tt.name, Tag: tt.tag, Digest: tt.digest}
			if diff := cmp.Diff(want, r); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestLookup(t *testing.T) {
	t.Parallel()
	f := New("x.yaml", ref.SourceCompose, []byte(
		"a: &a {k: 1, only-a: 2}\nb: &b {k: 3, only-b: 4}\n"+
			"m1: {<<: *a, k: 5}\nm2: {<<: [*a, *b]}\nm3: {<<: [*b, *a]}\nm4: {<<: {k: 6}}\nloop: &l {<<: *l}\n"))
	root := decode(t, f)
	tests := []struct{ m, key, want string }{
		{"m1", "k", "5"},
		{"m1", "only-a", "2"},
		{"m2", "k", "1"},
		{"m2", "only-b", "4"},
		{"m3", "k", "3"},
		{"m4", "k", "6"},
		{"m1", "missing", ""},
		{"loop", "k", ""},
	}
	for _, tt := range tests {
		_, m := Lookup(root, tt.m)
		_, v := Lookup(m, tt.key)
		got, _ := Str(v)
		if got != tt.want {
			t.Errorf("%s.%s = %q, want %q", tt.m, tt.key, got, tt.want)
		}
	}
}

func TestPlace(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in string
		want     ref.Ref // position and Text only
		exact    bool
		ok       bool
	}{
		{"plain", "k: nginx:1\n", ref.Ref{Line: 1, Column: 4, EndLine: 1, EndColumn: 11, Text: "nginx:1"}, true, true},
		{"double quoted", "k: \"nginx:1\"\n", ref.Ref{Line: 1, Column: 5, EndLine: 1, EndColumn: 12, Text: "nginx:1"}, true, true},
		{"escape", "k: \"a\\x3a1\"\n", ref.Ref{Line: 1, Column: 5, EndLine: 1, EndColumn: 11, Text: `a\x3a1`}, false, true},
		{"folded quote", "k: \"a\\\n  b\"\n", ref.Ref{Line: 1, Column: 5, EndLine: 2, EndColumn: 4, Text: "a\\\n  b"}, false, true},
		{"single quote escape", "k: 'it''s'\n", ref.Ref{Line: 1, Column: 5, EndLine: 1, EndColumn: 10, Text: "it''s"}, false, true},
		{"multibyte before", "{é: 1, k: x}\n", ref.Ref{Line: 1, Column: 12, EndLine: 1, EndColumn: 13, Text: "x"}, true, true},
		{"bom", "\ufeffk: x\n", ref.Ref{Line: 1, Column: 7, EndLine: 1, EndColumn: 8, Text: "x"}, true, true},
		{"anchor", "k: &a nginx:1\n", ref.Ref{Line: 1, Column: 7, EndLine: 1, EndColumn: 14, Text: "nginx:1"}, true, true},
		{"tag", "k: !!str 1.0\n", ref.Ref{Line: 1, Column: 10, EndLine: 1, EndColumn: 13, Text: "1.0"}, true, true},
		{"anchor, tag, comment, next line", "k: &a !!str # c\n  \"x\"\n", ref.Ref{Line: 2, Column: 4, EndLine: 2, EndColumn: 5, Text: "x"}, true, true},
		{"bare tag", "k: ! \"a\\x3a1\"\n", ref.Ref{Line: 1, Column: 7, EndLine: 1, EndColumn: 13, Text: `a\x3a1`}, false, true},
		{"anchor, comment, escape", "k: &a # c\n  \"a\\x3a1\"\n", ref.Ref{Line: 2, Column: 4, EndLine: 2, EndColumn: 10, Text: `a\x3a1`}, false, true},
		{"bom and anchor", "\ufeffk: &a é\n", ref.Ref{Line: 1, Column: 10, EndLine: 1, EndColumn: 12, Text: "é"}, true, true},
		{"block, strip", "k: |-\n  x\n", ref.Ref{Line: 2, Column: 3, EndLine: 2, EndColumn: 4, Text: "x"}, true, true},
		{"folded block, strip, comment", "k: >- # c\n    nginx:1\n", ref.Ref{Line: 2, Column: 5, EndLine: 2, EndColumn: 12, Text: "nginx:1"}, true, true},
		{"block, anchor, indentation indicator", "k: &a |2-\n  nginx:1\n", ref.Ref{Line: 2, Column: 3, EndLine: 2, EndColumn: 10, Text: "nginx:1"}, true, true},
		// The value is not the line: a kept line break, a blank line
		// before it, indentation beyond the block's.
		{"block, clip", "k: |\n  x\n", ref.Ref{}, false, false},
		{"folded block, strip, blank line", "k: >- # c\n\n    nginx:1  \n", ref.Ref{}, false, false},
		{"block, indentation indicator, extra indentation", "k: &a |2-\n    nginx:1\n", ref.Ref{}, false, false},
		{"block, several lines", "k: |\n  x\n  y\n", ref.Ref{}, false, false},
		{"block, empty", "k: |\nj: 1\n", ref.Ref{}, false, false},
		{"multi-line plain", "k: a\n  b\n", ref.Ref{}, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := New("x.yaml", ref.SourceHelm, []byte(tt.in))
			_, v := Lookup(decode(t, f), "k")
			r, sp, ok := f.Place(v, "k")
			if ok != tt.ok {
				t.Fatalf("ok = %v, want %v", ok, tt.ok)
			}
			if !ok {
				return
			}
			if sp.Exact != tt.exact {
				t.Errorf("exact = %v, want %v", sp.Exact, tt.exact)
			}
			got := ref.Ref{Line: r.Line, Column: r.Column, EndLine: r.EndLine, EndColumn: r.EndColumn, Text: r.Text}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if string(f.Data[sp.Start:sp.End]) != r.Text {
				t.Errorf("span holds %q, Text is %q", f.Data[sp.Start:sp.End], r.Text)
			}
			if r.File != "x.yaml" || r.Source != ref.SourceHelm || r.Kind != ref.Image || r.Context != "k" {
				t.Errorf("ref fields: %+v", r)
			}
			if e := f.Edit(sp, ref.FormTag); (e != nil) != tt.exact {
				t.Errorf("edit %+v for exact=%v", e, tt.exact)
			}
		})
	}
}

func TestAfterColonAndLineEnd(t *testing.T) {
	t.Parallel()
	// The last line has no break: LineEnd matches the one before it.
	data := "a:\n  digest:\r\n  \"q\" :   # c\n  last: x"
	f := New("x.yaml", ref.SourceHelm, []byte(data))
	root := decode(t, f)
	_, a := Lookup(root, "a")
	for _, tt := range []struct {
		key  string
		want int
	}{{"digest", 12}, {"q", 21}} {
		k, _ := Lookup(a, tt.key)
		if got := f.AfterColon(k); got != tt.want {
			t.Errorf("AfterColon(%s) = %d, want %d", tt.key, got, tt.want)
		}
	}
	for _, tt := range []struct {
		off, want int
		nl        string
	}{{0, 2, "\n"}, {5, 12, "\r\n"}, {len(data) - 1, len(data), "\n"}} {
		got, nl := f.LineEnd(tt.off)
		if got != tt.want || nl != tt.nl {
			t.Errorf("LineEnd(%d) = %d %q, want %d %q", tt.off, got, nl, tt.want, tt.nl)
		}
	}
}

func TestStaticName(t *testing.T) {
	t.Parallel()
	for prefix, want := range map[string]string{
		"docker:":                 "docker.io/library/docker",
		"gcc:":                    "docker.io/library/gcc",
		"ghcr.io/acme/app:":       "ghcr.io/acme/app",
		"localhost:5000/app:":     "localhost:5000/app",
		"registry.local:5000/a:":  "registry.local:5000/a",
		"ghcr.io/acme/app@":       "ghcr.io/acme/app",
		"":                        "",
		"ghcr.io/":                "",
		"ghcr.io/acme/app":        "",
		"registry.local:5000/":    "",
		"Not An Image:":           "",
		"localhost:5000/app:1.2-": "localhost:5000/app", // the variable is inside the tag
	} {
		if got := StaticName(prefix); got != want {
			t.Errorf("StaticName(%q) = %q, want %q", prefix, got, want)
		}
	}
}

// TestBlockScalarPin checks that a block scalar whose value is exactly its
// one content line is read as that line, and that a pin written over its
// span leaves the block's value the pinned reference, whatever its style,
// indentation indicator and line breaks.
func TestBlockScalarPin(t *testing.T) {
	t.Parallel()
	const digest = "sha256:a3ed95caeb02ffe68cdd9fd84406680ae93d633cb16422d00e8a7c22955b46d4"
	tests := []struct{ name, in string }{
		{"literal strip", "k: |-\n  mysql:8\nz: 1\n"},
		{"folded strip", "k: >-\n  mysql:8\nz: 1\n"},
		{"folded keep, no final break", "k: >+\n  mysql:8"},
		{"indentation indicator", "k: |2-\n  mysql:8\n"},
		{"comment, blank after", "k: >- # the database\n  mysql:8\n\nz: 1\n"},
		{"crlf", "k: |-\r\n  mysql:8\r\nz: 1\r\n"},
		{"tag and anchor", "k: !!str &db |-\n  mysql:8\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := New("x.yaml", ref.SourceCompose, []byte(tt.in))
			n := Get(decode(t, f), "k")
			if n.Value != "mysql:8" {
				t.Fatalf("value %q, want mysql:8", n.Value)
			}
			if v, ok := Str(n); !ok || v != "mysql:8" {
				t.Fatalf("Str = %q, %v; want mysql:8", v, ok)
			}
			if r, ok := f.BlockLines(n, "k"); ok {
				t.Fatalf("BlockLines = %+v", r)
			}
			r, sp, ok := f.Place(n, "k")
			if !ok || !sp.Exact || r.Text != "mysql:8" {
				t.Fatalf("Place = %+v %+v %v", r, sp, ok)
			}
			e := f.Edit(sp, ref.FormReference)
			pinned := string(f.Data[:e.Start]) + "mysql:8@" + digest + string(f.Data[e.End:])
			var doc struct{ K string }
			if err := yaml.Unmarshal([]byte(pinned), &doc); err != nil {
				t.Fatalf("pinned file: %v\n%s", err, pinned)
			}
			if want := "mysql:8@" + digest; doc.K != want {
				t.Errorf("pinned value %q, want %q", doc.K, want)
			}
			g := New("x.yaml", ref.SourceCompose, []byte(pinned))
			if v, ok := Str(Get(decode(t, g), "k")); !ok || v != "mysql:8@"+digest {
				t.Errorf("pinned Str = %q, %v", v, ok)
			}
		})
	}
}

// TestBlockNotOneImage checks that a block scalar of one content line whose
// value is not that line (a line break | or > keeps, a blank line before
// it, indentation beyond the block's, a # that is part of the value) is
// not read as the line: Str refuses it, its span is not exact, and
// BlockLines reports it dynamic with its value in NotEditable.
func TestBlockNotOneImage(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, in, value, text string }{
		{"literal", "k: |\n  mysql:8\nz: 1\n", "mysql:8\n", "mysql:8"},
		{"literal keep", "k: |+\n  mysql:8\n\nz: 1\n", "mysql:8\n\n", "mysql:8"},
		{"folded", "k: >\n  mysql:8\nz: 1\n", "mysql:8\n", "mysql:8"},
		{"blank line before", "k: >-\n\n  python:3.12\n", "\npython:3.12", "python:3.12"},
		{"indentation indicator", "k: |2-\n        node:20\n", "      node:20", "node:20"},
		{"comment in the value", "k: |-\n  nginx:1 # x\n", "nginx:1 # x", "nginx:1 # x"},
		{"blanks after", "k: >-\n  mysql:8  \n", "mysql:8  ", "mysql:8"},
		{"tag and anchor", "k: !!str &db |\n  mysql:8\n", "mysql:8\n", "mysql:8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := New("x.yaml", ref.SourceCompose, []byte(tt.in))
			n := Get(decode(t, f), "k")
			if n.Value != tt.value {
				t.Fatalf("value %q, want %q", n.Value, tt.value)
			}
			if v, ok := Str(n); ok {
				t.Errorf("Str = %q, want none", v)
			}
			if sp, ok := f.Span(n); ok && sp.Exact && string(f.Data[sp.Start:sp.End]) != n.Value {
				t.Errorf("Span %+v is exact", sp)
			}
			r, ok := f.BlockLines(n, "k")
			if !ok || !r.Dynamic || r.Edit != nil || r.Name != "" || r.Text != tt.text {
				t.Fatalf("BlockLines = %+v, %v", r, ok)
			}
			if want := fmt.Sprintf("%q", tt.value); !strings.Contains(r.NotEditable, want) {
				t.Errorf("NotEditable %q lacks %s", r.NotEditable, want)
			}
		})
	}
}

// TestBlockLines checks the reference a block of several lines gives.
func TestBlockLines(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in string
		want     ref.Ref
		ok       bool
	}{
		{"literal", "k: |\n  mysql:8\n  extra\n", ref.Ref{Line: 2, Column: 3, EndLine: 3, EndColumn: 8, Text: "mysql:8\n  extra", Dynamic: true, Kind: ref.Image, Context: "k"}, true},
		{"folded, blank between", "k: >-\n   a\n\n   b  \n", ref.Ref{Line: 2, Column: 4, EndLine: 4, EndColumn: 5, Text: "a\n\n   b", Dynamic: true, Kind: ref.Image, Context: "k"}, true},
		{"one line", "k: |-\n  mysql:8\n", ref.Ref{}, false},
		{"one line, clip", "k: |\n  mysql:8\n", ref.Ref{Line: 2, Column: 3, EndLine: 2, EndColumn: 10, Text: "mysql:8", Dynamic: true, Kind: ref.Image, Context: "k",
			NotEditable: `the YAML block's value is "mysql:8\n", not one image reference; write it as a plain value to read and pin it`}, true},
		{"plain", "k: mysql:8\n", ref.Ref{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := New("x.yaml", "", []byte(tt.in))
			r, ok := f.BlockLines(Get(decode(t, f), "k"), "k")
			r.File = ""
			if ok != tt.ok {
				t.Fatalf("ok = %v, want %v", ok, tt.ok)
			}
			if diff := cmp.Diff(tt.want, r); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
