package dockerfile

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

// nodeView is what the scanner reads from a parse tree node.
type nodeView struct {
	Value, Original    string
	Flags              []string
	StartLine, EndLine int
	Heredocs           []parser.Heredoc
	JSON               bool
	Next               []string
	Child              *nodeView
}

func view(n *parser.Node, top bool) nodeView {
	v := nodeView{Value: n.Value, Original: n.Original, Flags: n.Flags, Heredocs: n.Heredocs, JSON: n.Attributes["json"]}
	if top {
		v.StartLine, v.EndLine = n.StartLine, n.EndLine
	}
	switch strings.ToLower(n.Value) {
	case "from", "run", "add":
		for a := n.Next; a != nil; a = a.Next {
			v.Next = append(v.Next, a.Value)
		}
	case "onbuild":
		if n.Next != nil && len(n.Next.Children) > 0 {
			c := view(n.Next.Children[0], false)
			v.Child = &c
		}
	}
	return v
}

// compareParsers checks fastParse against parser.Parse on data: whenever the
// fast path answers, it must agree with BuildKit, and it must never accept
// what BuildKit rejects.
func compareParsers(t *testing.T, data []byte) (fastOK bool) {
	t.Helper()
	src := newSource(data)
	children, lines, ok := fastParse(src)
	res, err := parser.Parse(bytes.NewReader(data))
	if src.longLine() > 0 {
		// The fast path reads on where BuildKit stops; the scanner
		// reports the line.
		if err == nil {
			t.Fatalf("buildkit read line %d, longer than %d bytes", src.longLine(), maxLine)
		}
		return ok
	}
	if !ok {
		return false
	}
	if err != nil {
		if len(children) == 0 && strings.Contains(err.Error(), "file with no instructions") {
			return true
		}
		t.Fatalf("fast parser accepted what buildkit rejects (%v)\n%q", err, data)
	}
	if got, want := src.escape, byte(res.EscapeToken); got != want {
		t.Fatalf("escape token %q, buildkit %q", got, want)
	}
	var want, got []nodeView
	for _, n := range res.AST.Children {
		want = append(want, view(n, true))
	}
	for i, n := range children {
		got = append(got, view(n, true))
		if lines[i].l.text != n.Original {
			t.Fatalf("logical line %q, node %q", lines[i].l.text, n.Original)
		}
	}
	if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
		t.Fatalf("parse trees differ (-buildkit +fast):\n%s\ninput %q", diff, data)
	}
	return true
}

func TestFastParseMatchesBuildkit(t *testing.T) {
	t.Parallel()
	inputs := map[string][]byte{}
	for _, path := range corpusFiles(t) {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		inputs[path] = data
	}
	// BuildKit's own parser test files, the hardest real inputs there are.
	if dir, err := buildkitTestfiles(); err == nil {
		paths, _ := filepath.Glob(filepath.Join(dir, "*", "Dockerfile"))
		for _, path := range paths {
			data, err := os.ReadFile(path)
			if err == nil {
				inputs[path] = data
			}
		}
	}
	for name, data := range inputs {
		t.Run(filepath.Base(filepath.Dir(name))+"/"+filepath.Base(name), func(t *testing.T) {
			if !compareParsers(t, data) && !strings.Contains(name, "testfiles") {
				t.Errorf("fast parser gave up on a corpus file")
			}
		})
	}
}

// buildkitTestfiles finds the parser's test inputs in the module cache;
// the test skips them when the cache is elsewhere.
func buildkitTestfiles() (string, error) {
	cache := os.Getenv("GOMODCACHE")
	if cache == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", err
		}
		cache = filepath.Join(home, "go", "pkg", "mod")
	}
	matches, _ := filepath.Glob(filepath.Join(cache, "github.com", "moby", "buildkit@*", "frontend", "dockerfile", "parser", "testfiles"))
	if len(matches) == 0 {
		return "", os.ErrNotExist
	}
	return matches[len(matches)-1], nil
}

func TestTrimContinuationMatchesRegexp(t *testing.T) {
	t.Parallel()
	for _, esc := range []byte{'\\', '`'} {
		re := regexp.MustCompile(`([^\` + string(esc) + `])\` + string(esc) + `[ \t]*$|^\` + string(esc) + `[ \t]*$`)
		for _, line := range []string{"", "a", `\`, "`", `a\`, "a`", `a\\`, "a``", `a \ `, "a ` \t", `\ `, `a\b`, `a\	`, "\\\r", `a\\\`} {
			gotB, gotCont := trimContinuation([]byte(line), esc)
			wantCont := re.MatchString(line)
			want := line
			if wantCont {
				want = re.ReplaceAllString(line, "$1")
			}
			if gotCont != wantCont || string(gotB) != want {
				t.Errorf("escape %q, line %q: got (%q, %v), want (%q, %v)", esc, line, gotB, gotCont, want, wantCont)
			}
		}
	}
}

func FuzzFastParse(f *testing.F) {
	for _, s := range []string{
		"FROM a\nRUN b", "# escape=`\nFROM a`\n  b", "FROM a\\\n#c\n\n b", "RUN <<EOF\nx\nEOF\n", "RUN <<-EOF\n\tx\n\tEOF\n",
		"ONBUILD RUN <<A cat <<B\na\nA\nb\nB\n", "ENV a b", "ENV a", "ENV a=b c", "CMD [1]", "RUN [\"a\", 1]", "HEALTHCHECK CMD [1]",
		"# syntax=x\n# syntax=y\nFROM a", "# escape=x\nFROM a", "\ufeffFROM a", "FROM a \\ \r\n b\r\n", "COPY --from=\"a b\" c d",
		"RUN <<EOF", "ONBUILD", "FROM", "LABEL a", "ADD [\"a\", \"b\"]",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		compareParsers(t, data)
	})
}
