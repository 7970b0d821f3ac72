package rules

import (
	"net/url"
	"path"
	"regexp"
	"slices"
	"strings"

	"github.com/stet-dev/stet/ref"
	"github.com/stet-dev/stet/scan"
)

// Check runs the rules this package owns over what the scanners found and
// returns the findings sorted by file and position, with "# stet:ignore"
// suppressions and the configured severities applied (rules set to Off are
// dropped). Files with a parse error are still judged on what was found in
// them.
func Check(files []scan.File, cfg Config) []Finding {
	var out []Finding
	// anchors holds, per finding inside a multi-line command, the command's
	// first line: a suppression comment above the command covers it too.
	anchors := map[int]int{}
	for _, f := range files {
		for _, r := range f.Refs {
			out = append(out, checkRef(r)...)
		}
		// A clone in one command may be pinned by a checkout in a later
		// one: the next RUN, workflow step or script line of the file.
		found := make([][]Finding, len(f.Commands))
		checkoutLater := make([]bool, len(f.Commands)+1)
		for i, c := range f.Commands {
			var checkout bool
			found[i], checkout = checkCommand(c)
			checkoutLater[i] = checkout
		}
		for i := len(f.Commands) - 1; i >= 0; i-- {
			checkoutLater[i] = checkoutLater[i] || checkoutLater[i+1]
		}
		for i, c := range f.Commands {
			for _, fd := range found[i] {
				if fd.Rule == "STET027" && checkoutLater[i+1] {
					continue
				}
				if fd.Line != c.Line {
					anchors[len(out)] = c.Line
				}
				out = append(out, fd)
			}
		}
	}
	return apply(out, anchors, files, cfg)
}

// Apply sets each finding's severity from cfg, drops findings of rules set to
// Off and findings suppressed by a "# stet:ignore" comment covering their
// line (as recorded in the matching file's Ignores), and sorts the
// rest. Use it for findings produced outside this package.
func Apply(findings []Finding, files []scan.File, cfg Config) []Finding {
	return apply(findings, nil, files, cfg)
}

func apply(findings []Finding, anchors map[int]int, files []scan.File, cfg Config) []Finding {
	ignores := make(map[string]map[int][]string, len(files))
	for _, f := range files {
		if len(f.Ignores) > 0 {
			ignores[cleanPath(f.Path)] = f.Ignores
		}
	}
	out := make([]Finding, 0, len(findings))
	for i, f := range findings {
		sev := cfg.Severity(f.Rule)
		if sev == Off || suppressed(f, anchors[i], ignores[cleanPath(f.File)]) {
			continue
		}
		f.Severity = sev
		out = append(out, f)
	}
	slices.SortStableFunc(out, Compare)
	return slices.CompactFunc(out, func(a, b Finding) bool {
		return Compare(a, b) == 0 && a.EndLine == b.EndLine && a.EndColumn == b.EndColumn
	})
}

// cleanPath lets "./Dockerfile" from one producer match "Dockerfile" from
// another.
func cleanPath(p string) string {
	return path.Clean(strings.ReplaceAll(p, "\\", "/"))
}

// suppressed reports a stet:ignore comment naming the finding's rule (or
// no rule) that covers its line or the line of its command (anchor); see
// scan.ParseIgnores for which lines a comment covers.
func suppressed(f Finding, anchor int, ign map[int][]string) bool {
	if ign == nil {
		return false
	}
	lines := []int{f.Line}
	if anchor > 0 {
		lines = append(lines, anchor)
	}
	for _, l := range lines {
		ids, ok := ign[l]
		if !ok {
			continue
		}
		if len(ids) == 0 || slices.Contains(ids, f.Rule) {
			return true
		}
	}
	return false
}

// checkRef runs STET001–STET004 on one reference.
func checkRef(r ref.Ref) []Finding {
	at := func(rule, msg, reference string) Finding {
		return Finding{
			Rule: rule, File: r.File,
			Line: r.Line, Column: r.Column, EndLine: r.EndLine, EndColumn: r.EndColumn,
			Message: msg, Reference: reference,
		}
	}
	if r.Dynamic {
		if r.NotEditable != "" {
			// The scanner knows why it cannot read the value.
			return []Finding{at("STET004", string(r.Kind)+" "+oneLineText(r.Text)+" cannot be read as one reference: "+r.NotEditable, oneLineText(r.Text))}
		}
		if text := strings.TrimSpace(r.Text); strings.Contains(text, "\n") {
			// A YAML block of several lines: no single reference to read.
			first, _, _ := strings.Cut(text, "\n")
			return []Finding{at("STET004", string(r.Kind)+" value written over several lines ("+strings.TrimSpace(first)+" …) is not one reference stet can read or pin", first)}
		}
		return []Finding{at("STET004", string(r.Kind)+" "+r.Text+" depends on a value that is not set in the file", r.Text)}
	}
	var out []Finding
	switch r.Kind {
	case ref.Image:
		if r.Name == "docker.io/library/scratch" || r.Pinned() {
			return nil
		}
		short := r.Short()
		out = append(out, at("STET001", "image "+short+" is not pinned by digest", short))
		if r.Tag == "latest" || r.Tag == "" {
			msg := "image " + short + " uses the latest tag"
			if !writesLatest(r) {
				msg = "image " + ref.FamiliarName(r.Name) + " has no tag (it means latest)"
			}
			out = append(out, at("STET002", msg, short))
		}
	case ref.Action:
		if r.Pinned() {
			return nil
		}
		short := r.Short()
		out = append(out, at("STET003", "action "+short+" is not pinned to a full commit SHA", short))
	}
	return out
}

// writesLatest reports whether the reference as written names the latest
// tag (directly, or through a variable whose default is latest) rather than
// leaving the tag out. Helm and Kustomize keep the tag in a field of its
// own, so a reference from them with the tag latest wrote it.
func writesLatest(r ref.Ref) bool {
	if r.Source == ref.SourceHelm || r.Source == ref.SourceKustomize {
		return true
	}
	if im, err := ref.ParseImage(r.Text); err == nil {
		return im.Tag != ""
	}
	return strings.Contains(r.Text, "latest") || strings.Contains(r.Text, ":")
}

// checkCommand runs the command rules on one build or CI command and places
// each finding on the line of the command it concerns. checkout reports
// whether the command checks out a commit (which pins a clone before it).
func checkCommand(c scan.Command) (out []Finding, checkout bool) {
	if strings.EqualFold(c.Instruction, "ADD") {
		return checkAdd(c), false
	}
	text := c.Text
	if c.Source == ref.SourceDockerfile {
		text = blankDockerfileComments(text)
	}
	found, checkout := analyze(text)
	for _, cf := range found {
		f := Finding{Rule: cf.rule, File: c.File, Message: cf.message, Reference: cf.reference}
		f.Line, f.Column, f.EndLine, f.EndColumn = commandPosition(c, text, cf.pos, cf.end)
		out = append(out, f)
	}
	return out, checkout
}

// commandPosition maps a byte range of a command's text to file positions.
// Text maps line for line onto the file when its line count matches the
// command's span (a Dockerfile RUN with its continuations kept, a YAML
// literal block); otherwise the whole command's span is used.
func commandPosition(c scan.Command, text string, pos, end int) (line, col, endLine, endCol int) {
	// A YAML literal block's value ends with a newline the span does not
	// cover.
	if strings.Count(strings.TrimRight(text, "\n"), "\n") != c.EndLine-c.Line || c.Line == 0 {
		return c.Line, c.Column, c.EndLine, c.EndColumn
	}
	// On lines after the first, a Dockerfile's text starts at column 1; a
	// YAML block's lines start at the block's indentation, which is where
	// the scanner placed Column.
	indent := 1
	if c.Source != ref.SourceDockerfile {
		indent = c.Column
	}
	at := func(off int) (int, int) {
		off = min(max(off, 0), len(text))
		nl := strings.Count(text[:off], "\n")
		if nl == 0 {
			return c.Line, c.Column + off
		}
		return c.Line + nl, indent + off - strings.LastIndexByte(text[:off], '\n') - 1
	}
	line, col = at(pos)
	endLine, endCol = at(end)
	return line, col, endLine, endCol
}

// blankDockerfileComments removes comment lines inside a RUN's continuation
// lines, as BuildKit does before the shell sees the command, while keeping
// every other byte where it was so that positions still map onto the file.
func blankDockerfileComments(text string) string {
	if !strings.Contains(text, "#") {
		return text
	}
	lines := strings.SplitAfter(text, "\n")
	for i := 1; i < len(lines); i++ {
		t := strings.TrimLeft(lines[i], " \t")
		prev := strings.TrimRight(lines[i-1], " \t\r\n")
		if !strings.HasPrefix(t, "#") || !strings.HasSuffix(prev, "\\") {
			continue
		}
		nl := ""
		body := strings.TrimSuffix(lines[i], "\n")
		if len(body) < len(lines[i]) {
			nl = "\n"
		}
		// Keep the continuation going past the blanked line.
		if body != "" {
			body = strings.Repeat(" ", len(body)-1) + "\\"
		}
		lines[i] = body + nl
	}
	return strings.Join(lines, "")
}

var (
	gitHashFragRE = regexp.MustCompile(`^([0-9a-f]{40}|[0-9a-f]{64})(:|$)`)
)

// checkAdd runs STET026 on an ADD instruction's sources.
func checkAdd(c scan.Command) []Finding {
	if slices.ContainsFunc(c.Flags, func(f string) bool { return strings.HasPrefix(f, "--checksum") }) {
		return nil
	}
	var out []Finding
	for _, src := range strings.Fields(c.Text) {
		kind, pinned := remoteSource(src)
		if kind == "" || pinned {
			continue
		}
		msg := "ADD of " + src + " without --checksum"
		if kind == "git" {
			msg = "ADD of git repository " + src + " without a commit (add #<commit> or --checksum)"
		}
		out = append(out, Finding{
			Rule: "STET026", File: c.File,
			Line: c.Line, Column: c.Column, EndLine: c.EndLine, EndColumn: c.EndColumn,
			Message: msg, Reference: src,
		})
	}
	return out
}

// remoteSource classifies an ADD source the way BuildKit does: "git" for git
// repositories (git@, git://, ssh://, or an http(s) URL whose path ends in
// .git), "http" for other URLs, "" for local paths. pinned is set for a git
// source that names a full commit.
func remoteSource(src string) (kind string, pinned bool) {
	lower := strings.ToLower(src)
	switch {
	case strings.HasPrefix(lower, "git@"), strings.HasPrefix(lower, "git://"), strings.HasPrefix(lower, "ssh://"):
		kind = "git"
	case strings.HasPrefix(lower, "http://"), strings.HasPrefix(lower, "https://"):
		kind = "http"
		base, _, _ := strings.Cut(src, "#")
		base, _, _ = strings.Cut(base, "?")
		if strings.HasSuffix(base, ".git") {
			kind = "git"
		}
	default:
		return "", false
	}
	if kind != "git" {
		return kind, false
	}
	if _, frag, ok := strings.Cut(src, "#"); ok && gitHashFragRE.MatchString(frag) {
		return kind, true
	}
	if _, q, ok := strings.Cut(src, "?"); ok {
		q, _, _ = strings.Cut(q, "#")
		if v, err := url.ParseQuery(q); err == nil && (v.Get("checksum") != "" || gitHashFragRE.MatchString(v.Get("ref"))) {
			return kind, true
		}
	}
	return kind, false
}

// oneLineText is a reference's text on one line, however it was written.
func oneLineText(s string) string { return strings.Join(strings.Fields(s), " ") }
