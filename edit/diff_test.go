package edit

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestDiff(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		old, new string
		want     string
	}{
		{"equal", "a\nb\n", "a\nb\n", ""},
		{"one line", "FROM nginx:1\nRUN x\n", "FROM nginx:1@sha256:aa\nRUN x\n",
			"--- a/f\n+++ b/f\n@@ -1,2 +1,2 @@\n-FROM nginx:1\n+FROM nginx:1@sha256:aa\n RUN x\n"},
		{"no final newline", "a\nb", "a\nc",
			"--- a/f\n+++ b/f\n@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n+c\n\\ No newline at end of file\n"},
		{"newline added", "a", "a\n",
			"--- a/f\n+++ b/f\n@@ -1 +1 @@\n-a\n\\ No newline at end of file\n+a\n"},
		{"insert into empty", "", "a\n", "--- a/f\n+++ b/f\n@@ -0,0 +1 @@\n+a\n"},
		{"two hunks", "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n", "x\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\ny\n",
			"--- a/f\n+++ b/f\n@@ -1,4 +1,4 @@\n-1\n+x\n 2\n 3\n 4\n@@ -9,4 +9,4 @@\n 9\n 10\n 11\n-12\n+y\n"},
		{"merged hunk", "1\n2\n3\n4\n5\n6\n7\n8\n", "x\n2\n3\n4\n5\n6\n7\ny\n",
			"--- a/f\n+++ b/f\n@@ -1,8 +1,8 @@\n-1\n+x\n 2\n 3\n 4\n 5\n 6\n 7\n-8\n+y\n"},
		{"inserted line", "a\nb\nc\n", "a\nb\nnew\nc\n", "--- a/f\n+++ b/f\n@@ -1,3 +1,4 @@\n a\n b\n+new\n c\n"},
		{"crlf kept", "a\r\nb\r\n", "a\r\nc\r\n", "--- a/f\n+++ b/f\n@@ -1,2 +1,2 @@\n a\r\n-b\r\n+c\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			if err := Diff(&buf, "f", []byte(tt.old), []byte(tt.new)); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, buf.String()); diff != "" {
				t.Errorf("Diff (-want +got):\n%s", diff)
			}
			if tt.want != "" {
				checkApplies(t, tt.old, tt.new, buf.String())
			}
		})
	}
}

// applyUnified applies a unified diff made by Diff to old; it is the
// independent check that a diff says what it claims.
func applyUnified(old, patch string) (string, error) {
	oldLines := strings.SplitAfter(old, "\n")
	if oldLines[len(oldLines)-1] == "" {
		oldLines = oldLines[:len(oldLines)-1]
	}
	lines := strings.SplitAfter(patch, "\n")
	var out []string
	pos := 0
	i := 2 // past --- and +++
	for i < len(lines) && lines[i] != "" {
		h := lines[i]
		var as, al, bs, bl int
		if _, err := fmt.Sscanf(rangeNorm(h), "@@ -%d,%d +%d,%d @@\n", &as, &al, &bs, &bl); err != nil {
			return "", fmt.Errorf("hunk header %q: %v", h, err)
		}
		start := as - 1
		if al == 0 {
			start = as
		}
		if start < pos {
			return "", fmt.Errorf("hunk %q goes backwards", h)
		}
		out = append(out, oldLines[pos:start]...)
		pos = start
		i++
		for i < len(lines) && lines[i] != "" && !strings.HasPrefix(lines[i], "@@") {
			l := lines[i]
			body := l[1:]
			if i+1 < len(lines) && strings.HasPrefix(lines[i+1], "\\ No newline") {
				body = strings.TrimSuffix(body, "\n")
				i++
			}
			switch l[0] {
			case ' ', '-':
				if pos >= len(oldLines) || oldLines[pos] != body {
					return "", fmt.Errorf("context %q does not match line %d", body, pos+1)
				}
				if l[0] == ' ' {
					out = append(out, body)
				}
				pos++
			case '+':
				out = append(out, body)
			default:
				return "", fmt.Errorf("bad line %q", l)
			}
			i++
		}
	}
	out = append(out, oldLines[pos:]...)
	return strings.Join(out, ""), nil
}

// rangeNorm writes "-3" as "-3,1" so one Sscanf format reads every header.
func rangeNorm(h string) string {
	f := strings.Fields(h)
	for i := 1; i <= 2 && i < len(f); i++ {
		if !strings.Contains(f[i], ",") {
			f[i] += ",1"
		}
	}
	return strings.Join(f, " ") + "\n"
}

func checkApplies(t *testing.T, old, new, patch string) {
	t.Helper()
	got, err := applyUnified(old, patch)
	if err != nil {
		t.Fatalf("applying diff: %v\n%s", err, patch)
	}
	if got != new {
		t.Fatalf("diff does not turn old into new:\n%s\ngot %q\nwant %q", patch, got, new)
	}
}

func TestDiffRandomEditsApply(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	for n := 0; n < 300; n++ {
		var a []string
		for i := 0; i < r.IntN(60); i++ {
			a = append(a, strconv.Itoa(r.IntN(8))+"\n")
		}
		b := append([]string(nil), a...)
		for k := 0; k < r.IntN(6); k++ {
			switch i := r.IntN(len(b) + 1); r.IntN(3) {
			case 0:
				b = append(b[:i], append([]string{"new\n"}, b[i:]...)...)
			case 1:
				if i < len(b) {
					b = append(b[:i], b[i+1:]...)
				}
			case 2:
				if i < len(b) {
					b[i] = "changed\n"
				}
			}
		}
		old, new := strings.Join(a, ""), strings.Join(b, "")
		if r.IntN(4) == 0 && len(new) > 0 {
			new = strings.TrimSuffix(new, "\n")
		}
		var buf bytes.Buffer
		if err := Diff(&buf, "f", []byte(old), []byte(new)); err != nil {
			t.Fatal(err)
		}
		if old == new {
			if buf.Len() != 0 {
				t.Fatalf("diff of equal inputs: %q", buf.String())
			}
			continue
		}
		checkApplies(t, old, new, buf.String())
	}
}

func TestDiffMinimal(t *testing.T) {
	t.Parallel()
	a := splitLines([]byte("a\nb\nc\na\nb\nb\na\n"))
	b := splitLines([]byte("c\nb\na\nb\na\nc\n"))
	changes := 0
	for _, o := range diffLines(a, b) {
		if o.kind != opEqual {
			changes++
		}
	}
	// Myers' paper example: the shortest edit script has 5 steps.
	if changes != 5 {
		t.Errorf("edit script has %d changes, want 5", changes)
	}
}

func TestDiffPastCostBoundStaysCorrect(t *testing.T) {
	t.Parallel()
	var a, b strings.Builder
	for i := 0; i < 2*maxEditCost+10; i++ {
		fmt.Fprintf(&a, "a%d\n", i)
		fmt.Fprintf(&b, "b%d\n", i)
	}
	var buf bytes.Buffer
	if err := Diff(&buf, "f", []byte(a.String()), []byte(b.String())); err != nil {
		t.Fatal(err)
	}
	checkApplies(t, a.String(), b.String(), buf.String())
}

func FuzzDiff(f *testing.F) {
	f.Add("a\nb\nc\n", "a\nc\nd")
	f.Add("", "x")
	f.Add("FROM nginx:1\r\n", "FROM nginx:1@sha256:aa\r\n")
	f.Fuzz(func(t *testing.T, old, new string) {
		var buf bytes.Buffer
		if err := Diff(&buf, "f", []byte(old), []byte(new)); err != nil {
			t.Fatal(err)
		}
		if old == new {
			return
		}
		checkApplies(t, old, new, buf.String())
	})
}
