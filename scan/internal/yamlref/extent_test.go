package yamlref

import (
	"testing"

	"github.com/stet-dev/stet/ref"
)

// TestExtentAndLocate checks Extent and Locate, which find any scalar's
// text where Span finds those that may be edited: all three start where
// yaml.v3's position of the node says, corrected for a byte order mark,
// anchors, tags (the bare ! included) and comments before the value.
func TestExtentAndLocate(t *testing.T) {
	t.Parallel()
	const bom = "\ufeff"
	tests := []struct {
		name, in string
		extent   string // the bytes of the value's extent
		locate   string // Locate(n, locate) ...
		located  string // ... covers these bytes
		exact    bool   // and may be edited
	}{
		{"plain", "k: alpine:3\n", "alpine:3", "alpine:3", "alpine:3", true},
		{"quoted, trimmed", "k: ' alpine:3 '\n", " alpine:3 ", "alpine:3", "alpine:3", false},
		{"escape", "k: \"alp\\x69ne:3\"\n", `alp\x69ne:3`, "alpine:3", `alp\x69ne:3`, false},
		{"folded plain", "k: echo\n  hi\n", "echo\n  hi", "echo hi", "echo\n  hi", false},
		{"block", "k: |\n  echo hi\n  echo bye\n", "echo hi\n  echo bye", "echo hi", "echo hi", false},
		{"bom", bom + "k: alpine:3\n", "alpine:3", "alpine:3", "alpine:3", true},
		{"bom, quoted", bom + "{k: \"alp\\x69ne:3\"}\n", `alp\x69ne:3`, "alpine:3", `alp\x69ne:3`, false},
		{"bom, multibyte before", bom + "{é: 1, k: 'x'}\n", "x", "x", "x", true},
		{"anchor, comment", "k: &a # c\n  \"alpine:3\"\n", "alpine:3", "alpine:3", "alpine:3", true},
		{"anchor, comment, escape", "k: &a # c\n  \"alp\\x69ne:3\"\n", `alp\x69ne:3`, "alpine:3", `alp\x69ne:3`, false},
		{"tag, comment, block", "k: !!str # c\n  |\n    echo hi\n", "echo hi", "echo hi", "echo hi", false},
		{"tag, comment, block, strip", "k: !!str # c\n  |-\n    echo hi\n", "echo hi", "echo hi", "echo hi", true},
		{"block, one line, blanks", "k: |+ # c\n\n   alpine:3  \n\n", "alpine:3  ", "alpine:3", "alpine:3", false},
		{"bare !", "k: ! alpine:3\n", "alpine:3", "alpine:3", "alpine:3", true},
		{"bare !, escape", "k: ! \"echo\\x20hi\"\n", `echo\x20hi`, "echo hi", `echo\x20hi`, false},
		{"bare !, block", "k: ! >\n  echo\n  hi\n", "echo\n  hi", "echo hi", "echo\n  hi", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := New("x.yaml", ref.SourceGitLab, []byte(tt.in))
			n := Get(decode(t, f), "k")
			start, end := f.Extent(n)
			if got := string(f.Data[start:end]); got != tt.extent {
				t.Errorf("Extent holds %q, want %q", got, tt.extent)
			}
			sp := f.Locate(n, tt.locate)
			if got := string(f.Data[sp.Start:sp.End]); got != tt.located || sp.Exact != tt.exact {
				t.Errorf("Locate(%q) holds %q exact=%v, want %q exact=%v", tt.locate, got, sp.Exact, tt.located, tt.exact)
			}
			if ssp, ok := f.Span(n); ok && ssp.Exact && (ssp.Start != start || ssp.End != end) {
				t.Errorf("Span %d-%d, Extent %d-%d", ssp.Start, ssp.End, start, end)
			}
		})
	}
}
