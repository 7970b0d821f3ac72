package report

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/stet-dev/stet/ref"
	"github.com/stet-dev/stet/rules"
)

// ANSI styles; used only when Options.Color is set.
const (
	ansiReset  = "\x1b[0m"
	ansiBold   = "\x1b[1m"
	ansiRed    = "\x1b[31m"
	ansiGreen  = "\x1b[32m"
	ansiYellow = "\x1b[33m"
	ansiCyan   = "\x1b[36m"
	ansiDim    = "\x1b[2m"
)

type painter bool

func (p painter) paint(style, s string) string {
	if !p || s == "" {
		return s
	}
	return style + s + ansiReset
}

// writeInputErrors writes one line per input that could not be read,
// "file:line:col: error: message", as compilers do, so that editors and
// terminals can jump to it.
func writeInputErrors(w io.Writer, p painter, errs []inputError) {
	for _, e := range errs {
		loc := e.location()
		if loc != "" {
			loc = p.paint(ansiBold, loc) + ": "
		}
		fmt.Fprintf(w, "%s%s %s\n", loc, p.paint(ansiRed, "error:"), oneLine(e.Message))
	}
}

func severityStyle(s rules.Severity) string {
	if s == rules.Error {
		return ansiRed
	}
	return ansiYellow
}

// checkText writes one line per input error and finding, then the summary:
//
//	Dockerfile:1:6: STET001 image nginx:1-alpine is not pinned by digest (error)
//	compose.yaml:3:1: error: yaml: line 3: did not find expected key
//	1 error, 0 warnings in 2 files (1 reference); 1 file could not be parsed
func checkText(w io.Writer, c Check, o Options) error {
	p := painter(o.Color)
	bw := bufio.NewWriter(w)
	errs := describeAll(c.Errors)
	writeInputErrors(bw, p, errs)
	for _, f := range c.Findings {
		loc := fmt.Sprintf("%s:%d:%d", f.File, f.Line, f.Column)
		sev := string(f.Severity)
		fmt.Fprintf(bw, "%s: %s %s (%s)\n",
			p.paint(ansiBold, loc), p.paint(severityStyle(f.Severity), f.Rule), oneLine(f.Message), p.paint(severityStyle(f.Severity), sev))
	}
	ne, nw := c.Counts()
	summary := fmt.Sprintf("%s, %s in %s (%s)",
		plural(ne, "error", "errors"), plural(nw, "warning", "warnings"),
		plural(c.Files, "file", "files"), plural(c.References, "reference", "references"))
	if len(errs) > 0 {
		summary += fmt.Sprintf("; %s could not be parsed", plural(len(errs), "input", "inputs"))
	}
	style := ansiGreen
	switch {
	case ne > 0 || len(errs) > 0:
		style = ansiRed
	case nw > 0:
		style = ansiYellow
	}
	fmt.Fprintln(bw, p.paint(style, summary))
	return bw.Flush()
}

// refsText writes an aligned table of references, the input errors and a
// summary:
//
//	Dockerfile:1:6        image   nginx:1-alpine            unpinned  FROM
//	.github/ci.yml:9:15   action  actions/checkout@v4       unpinned  jobs.build.steps[0].uses
//	3 references in 2 files: 1 pinned, 2 unpinned, 0 dynamic
func refsText(w io.Writer, r Refs, o Options) error {
	p := painter(o.Color)
	bw := bufio.NewWriter(w)
	rows := make([][5]string, len(r.Refs))
	var widths [5]int
	counts := map[string]int{}
	files := map[string]bool{}
	for i, x := range r.Refs {
		st := state(x)
		counts[st]++
		files[x.File] = true
		rows[i] = [5]string{fmt.Sprintf("%s:%d:%d", x.File, x.Line, x.Column), string(x.Kind), display(x), st, x.Context}
		for j, cell := range rows[i] {
			widths[j] = max(widths[j], utf8.RuneCountInString(cell))
		}
	}
	for i, row := range rows {
		var line strings.Builder
		for j, cell := range row {
			if j == len(row)-1 {
				line.WriteString(p.paint(ansiDim, cell))
				break
			}
			styled := cell
			switch j {
			case 0:
				styled = p.paint(ansiBold, cell)
			case 3:
				styled = p.paint(stateStyle(rows[i][3]), cell)
			}
			line.WriteString(styled)
			line.WriteString(strings.Repeat(" ", widths[j]-utf8.RuneCountInString(cell)+2))
		}
		fmt.Fprintln(bw, strings.TrimRight(line.String(), " "))
	}
	errs := describeAll(r.Errors)
	writeInputErrors(bw, p, errs)
	nfiles := max(r.Files, len(files))
	summary := fmt.Sprintf("%s in %s: %d pinned, %d unpinned, %d dynamic",
		plural(len(r.Refs), "reference", "references"), plural(nfiles, "file", "files"),
		counts["pinned"], counts["unpinned"], counts["dynamic"])
	if len(errs) > 0 {
		summary += fmt.Sprintf("; %s could not be parsed", plural(len(errs), "input", "inputs"))
	}
	fmt.Fprintln(bw, summary)
	return bw.Flush()
}

func stateStyle(s string) string {
	switch s {
	case "pinned":
		return ansiGreen
	case "dynamic":
		return ansiCyan
	}
	return ansiYellow
}

// display is a reference as a person reads it: the short name and tag, with
// the start of the digest when pinned (docker's 12 hex digits); a dynamic
// reference as written.
func display(r ref.Ref) string {
	if r.Dynamic || r.Name == "" {
		return r.Text
	}
	if r.Kind == ref.Action && r.Digest != "" {
		s := r.Name + "@" + r.Digest[:min(12, len(r.Digest))]
		if r.Tag != "" {
			s += " (" + r.Tag + ")"
		}
		return s
	}
	s := r.Short()
	if r.Digest != "" {
		d := r.Digest
		if algo, hex, ok := strings.Cut(d, ":"); ok && len(hex) > 12 {
			d = algo + ":" + hex[:12]
		}
		s += "@" + d
	}
	return s
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// oneLine keeps a message on its line: a multi-line parser message would
// break the one-finding-per-line contract that editors and grep rely on.
func oneLine(s string) string {
	s = strings.TrimSpace(s)
	if !strings.ContainsAny(s, "\r\n") {
		return s
	}
	return strings.Join(strings.Fields(s), " ")
}
