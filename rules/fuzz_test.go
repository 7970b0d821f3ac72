package rules

import (
	"strings"
	"testing"

	"github.com/stet-dev/stet/ref"
	"github.com/stet-dev/stet/scan"
)

// FuzzParseScript feeds arbitrary text to the shell tokenizer and the command
// rules: they must not panic, and every word and finding must lie inside the
// text.
func FuzzParseScript(f *testing.F) {
	for _, s := range []string{
		"apt-get update && apt-get install -y curl \\\n  wget=1",
		"curl -fsSL https://x | sudo -E bash -s -- -y",
		"bash <(curl -s https://x) && sh -c \"$(wget -qO- https://y)\"",
		"cat <<'EOF' > /f\nbody $(x)\nEOF\n<<-A\n\tapk add x\n\tA",
		"case \"$a\" in amd64|arm64) go install x@latest ;; *) exit 1;; esac",
		"echo ${x:-$(y \"z\" 'w')} `a` $((1+2)) 2>&1 >(tee) # c",
		"git clone -b v1 https://x/y.git && git -C y checkout 0123456",
		"pip install -r r.txt 'a>=1' && npm i -g b@^1 && yarn global add c",
		"\"unterminated 'quote $(sub",
		"<<",
		"$(",
		"\\",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, c := range parseScript(s, 0, false) {
			for _, w := range append(c.assigns, c.words...) {
				if w.pos < 0 || w.end > len(s) || w.pos > w.end {
					t.Fatalf("word %q at [%d,%d) outside text of length %d", w.lit, w.pos, w.end, len(s))
				}
			}
		}
		for _, cf := range checkScript(s) {
			if cf.pos < 0 || cf.end > len(s) || cf.pos > cf.end {
				t.Fatalf("finding %s at [%d,%d) outside text of length %d", cf.rule, cf.pos, cf.end, len(s))
			}
		}
		lines := strings.Count(s, "\n")
		c := scan.Command{File: "Dockerfile", Line: 3, Column: 5, EndLine: 3 + lines, EndColumn: 9, Instruction: "RUN", Source: ref.SourceDockerfile, Text: s}
		add := c
		add.Instruction, add.Text = "ADD", strings.ReplaceAll(s, "\n", " ")
		for _, fd := range Check([]scan.File{{Path: "Dockerfile", Commands: []scan.Command{c, add}}}, Config{}) {
			if fd.Line < c.Line || fd.EndLine > c.EndLine || fd.Line > fd.EndLine || fd.Column < 1 {
				t.Fatalf("finding %s at %d:%d-%d:%d outside command %d-%d", fd.Rule, fd.Line, fd.Column, fd.EndLine, fd.EndColumn, c.Line, c.EndLine)
			}
		}
	})
}
