// Package edit rewrites references in place. It turns pins, unpins and
// updates into byte-range patches over a file's original bytes, so that
// everything outside the patched spans — quoting, comments, indentation, line
// endings, a missing final newline, YAML anchors, a byte-order mark — stays
// exactly as it was. It also writes files atomically and renders unified
// diffs for dry runs.
package edit

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/stet-dev/stet/ref"
)

// Op says what an Edit does to its span.
type Op int

const (
	// Pin writes Digest into the span (replacing a digest already there), and
	// for actions sets the "# version" comment to Version.
	Pin Op = iota
	// Unpin removes the digest from the span. For actions it writes Version
	// back as the ref and drops the version comment.
	Unpin
)

func (o Op) String() string {
	if o == Unpin {
		return "unpin"
	}
	return "pin"
}

// Edit is one change to a file: a span (as the scanner found it) and what
// to write there.
type Edit struct {
	Span ref.Span
	Op   Op
	// Digest is the image digest ("sha256:…") or the action's 40-hex commit
	// to write. Unused by Unpin.
	Digest string
	// Version is, for FormAction, the version the trailing comment names
	// after a pin ("v4.2.2"), or the ref written back by an unpin. Empty
	// leaves an existing comment alone on a pin.
	Version string
	// ImpliedTag, on a pin of an image reference that names neither tag nor
	// digest, is written before the digest: stet pin writes nginx as
	// nginx:latest@sha256:…, so that update and unpin still know the tag.
	// Empty writes the digest alone (a render writes a release's digest).
	ImpliedTag string
}

// Sentinel errors, wrapped by *Error.
var (
	// ErrOverlap: two edits touch overlapping bytes and cannot both apply.
	ErrOverlap = errors.New("overlapping edits")
	// ErrConflict: two edits share one span but would write different bytes
	// (an ARG default used by two FROMs that resolved differently).
	ErrConflict = errors.New("conflicting edits of one span")
	// ErrSpan: a span lies outside the file or its bytes are not what its
	// Form says (the file changed since it was scanned).
	ErrSpan = errors.New("invalid edit span")
	// ErrNoTag: an unpin of a digest-only image reference, which has no tag
	// to fall back on; the reference is left as it is.
	ErrNoTag = errors.New("digest-only reference has no tag to unpin to")
	// ErrDigestElsewhere: a reference's digest is not in its edit span (it
	// comes from a variable), so the span cannot be pinned again.
	ErrDigestElsewhere = errors.New("digest lies outside the edit span")
	// ErrNoVersion: an unpin of an action pinned to a commit without a
	// version to write back.
	ErrNoVersion = errors.New("action pinned to a commit has no version to unpin to")
)

// Error is an edit that cannot be applied, at the 1-based position of its span.
type Error struct {
	File         string
	Line, Column int
	Err          error
}

func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d:%d: %v", e.File, e.Line, e.Column, e.Err)
	}
	return fmt.Sprintf("%s: %v", e.File, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// patch replaces data[start:end] with text.
type patch struct {
	start, end int
	text       string
	line, col  int // of the edit that produced it, for messages
}

// Patch applies edits to data and returns the new bytes; data is not
// modified. Only the bytes of the spans (and, for actions, of the trailing
// comment on the span's line) change. Edits with identical spans that write
// identical bytes are applied once; anything else that overlaps is an error.
// path only names the file in errors. An unpin that cannot apply (ErrNoTag,
// ErrNoVersion) is an error too: callers that want to skip such references
// check them first with Check.
func Patch(path string, data []byte, edits []Edit) ([]byte, error) {
	patches := make([]patch, 0, len(edits)+4)
	for _, e := range edits {
		ps, err := plan(data, e)
		if err != nil {
			return nil, &Error{File: path, Line: e.Span.Line, Column: e.Span.Column, Err: err}
		}
		patches = append(patches, ps...)
	}
	slices.SortStableFunc(patches, func(a, b patch) int {
		if a.start != b.start {
			return a.start - b.start
		}
		return a.end - b.end
	})
	// Merge identical patches; reject overlaps. Two empty patches at one
	// offset overlap unless identical; an empty patch at the start of a
	// non-empty one does not.
	out := patches[:0]
	for _, p := range patches {
		if n := len(out); n > 0 {
			q := out[n-1]
			if q.start == p.start && q.end == p.end {
				if q.text == p.text {
					continue
				}
				return nil, &Error{File: path, Line: p.line, Column: p.col,
					Err: fmt.Errorf("%w: %q and %q (first at line %d)", ErrConflict, q.text, p.text, q.line)}
			}
			if p.start < q.end {
				return nil, &Error{File: path, Line: p.line, Column: p.col,
					Err: fmt.Errorf("%w: bytes %d-%d and %d-%d (line %d)", ErrOverlap, q.start, q.end, p.start, p.end, q.line)}
			}
		}
		out = append(out, p)
	}
	size := len(data)
	for _, p := range out {
		size += len(p.text) - (p.end - p.start)
	}
	buf := make([]byte, 0, size)
	last := 0
	for _, p := range out {
		buf = append(buf, data[last:p.start]...)
		buf = append(buf, p.text...)
		last = p.end
	}
	buf = append(buf, data[last:]...)
	return buf, nil
}

// Check reports whether e can apply to data, returning the error Patch
// would give for it alone (nil when it applies).
func Check(data []byte, e Edit) error {
	_, err := plan(data, e)
	return err
}

// Current returns the bytes an edit's span holds now, or "" when the span is
// outside data.
func Current(data []byte, s ref.Span) string {
	if s.Start < 0 || s.End > len(data) || s.Start > s.End {
		return ""
	}
	return string(data[s.Start:s.End])
}

// plan turns one edit into the byte patches it needs.
func plan(data []byte, e Edit) ([]patch, error) {
	s := e.Span
	if s.Start < 0 || s.End > len(data) || s.Start > s.End {
		return nil, fmt.Errorf("%w: bytes %d-%d outside a file of %d bytes", ErrSpan, s.Start, s.End, len(data))
	}
	cur := string(data[s.Start:s.End])
	if strings.ContainsAny(cur, "\r\n") {
		return nil, fmt.Errorf("%w: %q spans lines", ErrSpan, cur)
	}
	if e.Op == Pin {
		if err := checkDigest(s.Form, e.Digest); err != nil {
			return nil, err
		}
	}
	at := func(start, end int, text string) patch {
		return patch{start: start, end: end, text: text, line: s.Line, col: s.Column}
	}
	switch s.Form {
	case ref.FormReference, ref.FormTag:
		if cur == "" {
			return nil, fmt.Errorf("%w: empty reference", ErrSpan)
		}
		base, dg := ref.SplitDigest(cur)
		if dg != "" && !ref.IsDigest(dg) {
			return nil, fmt.Errorf("%w: %q has a malformed digest", ErrSpan, cur)
		}
		if e.Op == Pin {
			if e.ImpliedTag != "" && s.Form == ref.FormReference && dg == "" && !hasTag(base) {
				base += ":" + e.ImpliedTag // a digest-only reference stays digest-only
			}
			return []patch{at(s.Start, s.End, base+"@"+e.Digest)}, nil
		}
		if dg == "" {
			return nil, nil
		}
		if s.Form == ref.FormReference && !hasTag(base) {
			return nil, fmt.Errorf("%q: %w", cur, ErrNoTag)
		}
		if base == "" {
			return nil, fmt.Errorf("%q: %w", cur, ErrNoTag)
		}
		return []patch{at(s.Start, s.End, base)}, nil
	case ref.FormDigest:
		if cur != "" && !ref.IsDigest(cur) {
			return nil, fmt.Errorf("%w: %q is not a digest", ErrSpan, cur)
		}
		if e.Op == Pin {
			return []patch{at(s.Start, s.End, e.Digest)}, nil
		}
		if cur == "" {
			return nil, nil
		}
		return []patch{at(s.Start, s.End, emptyValue(data, s))}, nil
	case ref.FormInsert:
		if s.Start != s.End {
			return nil, fmt.Errorf("%w: an insertion point must be empty", ErrSpan)
		}
		if e.Op == Unpin {
			return nil, nil
		}
		return []patch{at(s.Start, s.End, s.Prefix+e.Digest)}, nil
	case ref.FormAction:
		return planAction(data, e, cur, at)
	}
	return nil, fmt.Errorf("%w: unknown form %d", ErrSpan, s.Form)
}

func checkDigest(f ref.Form, d string) error {
	if f == ref.FormAction {
		if !ref.IsCommit(d) {
			return fmt.Errorf("%q is not a full commit SHA", d)
		}
		return nil
	}
	if !ref.IsDigest(d) {
		return fmt.Errorf("%q is not a digest", d)
	}
	return nil
}

// hasTag reports whether an image reference without its digest carries a
// tag: a colon after the last slash, outside any ${…} expression.
func hasTag(base string) bool {
	depth := 0
	last := base
	if i := strings.LastIndexByte(base, '/'); i >= 0 {
		last = base[i+1:]
	}
	for i := 0; i < len(last); i++ {
		switch {
		case last[i] == '$' && i+1 < len(last) && last[i+1] == '{':
			depth++
			i++
		case last[i] == '}' && depth > 0:
			depth--
		case last[i] == ':' && depth == 0:
			return true
		}
	}
	return false
}

// emptyValue is what an unpin writes in place of a digest value: an empty
// string. Inside quotes that is nothing; a plain YAML scalar becomes "" so
// the field stays an empty string rather than turning into null (Helm
// templates test `.digest` for emptiness, kustomize ignores an empty digest).
func emptyValue(data []byte, s ref.Span) string {
	if s.Start > 0 && s.End < len(data) {
		q := data[s.Start-1]
		if (q == '"' || q == '\'') && data[s.End] == q {
			return ""
		}
	}
	return `""`
}

// versionRE matches a word that names a version, as tools write after a
// pinned commit: v4, v4.2.2, 1.2.3, v1.0.0-rc.1.
var versionRE = regexp.MustCompile(`^v?[0-9][0-9A-Za-z.+_-]*$`)

func planAction(data []byte, e Edit, cur string, at func(int, int, string) patch) ([]patch, error) {
	s := e.Span
	i := strings.LastIndexByte(cur, '@')
	if i <= 0 || i == len(cur)-1 {
		return nil, fmt.Errorf("%w: %q is not owner/repo@ref", ErrSpan, cur)
	}
	name, old := cur[:i], cur[i+1:]
	c := findComment(data, s.End)
	if e.Op == Unpin {
		if !ref.IsCommit(old) {
			return nil, nil
		}
		if e.Version == "" || strings.ContainsAny(e.Version, " \t#\r\n") {
			return nil, fmt.Errorf("%s: %w", cur, ErrNoVersion)
		}
		ps := []patch{at(s.Start, s.End, name+"@"+e.Version)}
		if c.ok {
			if c.word != "" && versionRE.MatchString(c.word) {
				if strings.HasPrefix(c.rest, "#") {
					// "# v4.2.2 # note" keeps "# note".
					ps = append(ps, at(c.hash, c.restStart, ""))
				} else if c.rest == "" {
					ps = append(ps, at(c.lead, c.end, ""))
				} else {
					ps = append(ps, at(c.wordStart, c.restStart, ""))
				}
			}
		}
		return ps, nil
	}
	if strings.ContainsAny(e.Version, " \t#\r\n") {
		return nil, fmt.Errorf("version %q: must be one word", e.Version)
	}
	ps := []patch{at(s.Start, s.End, name+"@"+e.Digest)}
	switch {
	case e.Version == "":
	case !c.ok:
		ps = append(ps, at(c.end, c.end, " # "+e.Version))
	case c.word == "":
		ps = append(ps, at(c.hash, c.end, "# "+e.Version))
	case versionRE.MatchString(c.word) || c.word == old:
		ps = append(ps, at(c.wordStart, c.wordEnd, e.Version))
	default:
		// Keep someone's note: "# note" becomes "# v4.2.2 # note".
		ps = append(ps, at(c.wordStart, c.wordStart, e.Version+" # "))
	}
	return ps, nil
}

// comment locates the trailing comment of a line.
type comment struct {
	ok bool
	// lead is where the whitespace before '#' starts; hash is the '#'.
	lead, hash int
	// word is the comment's first word, at [wordStart, wordEnd).
	word               string
	wordStart, wordEnd int
	// rest is what follows the first word and its spaces, from restStart.
	rest      string
	restStart int
	// end is the end of the line's content: before "\r\n" or "\n", and
	// before trailing blanks when there is no comment.
	end int
}

// findComment finds the YAML comment after offset from on its line: a '#'
// preceded by a blank and outside quotes.
func findComment(data []byte, from int) comment {
	eol := bytes.IndexByte(data[from:], '\n')
	if eol < 0 {
		eol = len(data)
	} else {
		eol += from
	}
	if eol > from && data[eol-1] == '\r' {
		eol--
	}
	var quote byte
	for i := from; i < eol; i++ {
		b := data[i]
		switch {
		case quote != 0:
			if b == quote {
				quote = 0
			}
		case b == '#' && i > 0 && (data[i-1] == ' ' || data[i-1] == '\t'):
			c := comment{ok: true, hash: i, end: eol}
			c.lead = i
			for c.lead > from && (data[c.lead-1] == ' ' || data[c.lead-1] == '\t') {
				c.lead--
			}
			j := i + 1
			for j < eol && (data[j] == ' ' || data[j] == '\t') {
				j++
			}
			c.wordStart = j
			for j < eol && data[j] != ' ' && data[j] != '\t' {
				j++
			}
			c.wordEnd = j
			c.word = string(data[c.wordStart:c.wordEnd])
			for j < eol && (data[j] == ' ' || data[j] == '\t') {
				j++
			}
			c.restStart = j
			c.rest = string(data[j:eol])
			return c
		case b == '"' || b == '\'':
			// A quote only opens a string at the start of a flow value; a
			// closing quote of the span's own scalar sits right at from.
			if i > from && (data[i-1] == ' ' || data[i-1] == ',' || data[i-1] == '{' || data[i-1] == '[' || data[i-1] == ':') {
				quote = b
			}
		}
	}
	end := eol
	for end > from && (data[end-1] == ' ' || data[end-1] == '\t') {
		end--
	}
	return comment{end: end}
}
