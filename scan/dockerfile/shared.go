package dockerfile

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/stet-dev/stet/ref"
	"github.com/stet-dev/stet/scan"
)

// A reference that is exactly one variable (FROM ${BASE}) is pinned at the
// variable's literal default, and every other reading of that default then
// sees the digest too: FROM ${BASE}-alpine would become
// base:1@sha256:…-alpine, which no builder accepts, and ARG
// DESC="on ${BASE}" would change. So a default is an edit span only when
// every use of it in the file takes it whole, as an image reference; the
// uses are followed through ARG and ENV values that copy it and through
// ARGs re-declared in a stage. The other instructions that read it are in
// uses.go.

// sharedUse is a use of a literal default that a digest appended to the
// default would change.
type sharedUse struct {
	line int
	// stage is set when the use names a stage; word is where it is read.
	stage bool
	word  string
}

// defaultEdit is a reported reference (index i into the result) whose edit
// span is the literal default src.
type defaultEdit struct {
	i   int
	src *[2]int
}

// useKind says what a word's value is used as.
type useKind int8

const (
	// useImage: the word is an image reference (FROM, COPY --from, RUN
	// --mount from).
	useImage useKind = iota
	// useStage: the word names a stage, which a digest would turn into an
	// image.
	useStage
	// useValue: the word is the value of an ARG or ENV.
	useValue
	// useText: the word is substituted into some other instruction
	// (LABEL, WORKDIR, a COPY source…): used whole, it takes the digest
	// along; only a use inside a longer value counts.
	useText
)

// trackUses records how the word w, read in scope sc, uses the literal
// defaults behind its variables. For a value (useValue) that is exactly one
// variable read whole, it returns that variable's default, which the new
// binding then holds unchanged; otherwise nil.
func (s *scanner) trackUses(sc *scope, w located, use useKind) *[2]int {
	if strings.IndexByte(w.s, '$') < 0 {
		return nil
	}
	p := varParser{s: w.s, esc: s.src.escape}
	refs, ok := p.refs(0, len(w.s))
	if !ok {
		return nil
	}
	var whole *[2]int
	for _, r := range refs {
		v := sc.lookup(r.name)
		alone := len(refs) == 1 && onlyQuotes(w.s[:r.start]) && onlyQuotes(w.s[r.end:])
		switch r.op {
		case "", "-", ":-", "?", ":?":
			// The value is the variable's (when it has one, which a
			// variable with a literal default does).
			if v.src == nil {
				break
			}
			switch {
			case !alone:
				s.block(v.src, w, false)
			case use == useStage:
				s.block(v.src, w, true)
			case use == useValue:
				whole = v.src
			}
		case "+", ":+":
			// Only whether the variable is empty counts, not its value.
		default:
			// Pattern removal and replacement read the value's bytes.
			if v.src != nil {
				s.block(v.src, w, false)
			}
		}
		if r.op != "?" && r.op != ":?" {
			s.blockNested(sc, &p, r.argStart, r.argEnd, w)
		}
	}
	return whole
}

// blockNested blocks the defaults of the variables inside an operator's
// word (${X:-${BASE}}, ${X/a/${B}}): whether they are read whole depends
// on X, so they are treated as part of a larger value.
func (s *scanner) blockNested(sc *scope, p *varParser, i, j int, w located) {
	if i >= j {
		return
	}
	refs, ok := p.refs(i, j)
	if !ok {
		return
	}
	for _, r := range refs {
		if v := sc.lookup(r.name); v.src != nil && r.op != "+" && r.op != ":+" {
			s.block(v.src, w, false)
		}
		s.blockNested(sc, p, r.argStart, r.argEnd, w)
	}
}

func onlyQuotes(s string) bool {
	return strings.Trim(s, `"`) == ""
}

// block records the first use of the default src that a digest would change.
// stage says it names a stage.
func (s *scanner) block(src *[2]int, w located, stage bool) {
	if _, ok := s.blocked[src]; ok {
		return
	}
	s.blockAt(src, w.l.fileOff(w.at(0)), sharedUse{stage: stage, word: w.s})
}

// blockAt is block for the use u at file offset off.
func (s *scanner) blockAt(src *[2]int, off int, u sharedUse) {
	if _, ok := s.blocked[src]; ok {
		return
	}
	if s.blocked == nil {
		s.blocked = map[*[2]int]sharedUse{}
	}
	u.line, _ = s.src.pos(off)
	s.blocked[src] = u
}

// finish takes the edit span away from every reference whose default
// another use shares, noting why, and turns the references that expand to
// something that is not an image reference into the scan's error.
func (s *scanner) finish() error {
	for _, d := range s.defaultEdits {
		u, ok := s.blocked[d.src]
		r := &s.res.Refs[d.i]
		if !ok || r.Digest != "" {
			// A default that holds a digest already is read with it
			// everywhere; an update only puts another in its place.
			continue
		}
		r.Edit = nil
		argLine, _ := s.src.pos(d.src[0])
		how := "in"
		if u.stage {
			how = "as the stage name"
		}
		r.NotEditable = fmt.Sprintf("its value, the default at line %d, is also used at line %d %s %s, which a digest appended to it would break; "+
			"give this reference a variable of its own to pin it", argLine, u.line, how, u.word)
	}
	if len(s.invalid) == 0 {
		return nil
	}
	e := s.invalid[0]
	if n := len(s.invalid) - 1; n > 0 {
		e.Err = fmt.Errorf("%w (and %d more in this file)", e.Err, n)
	}
	return e
}

// invalidRef records a reference whose value, with the file's defaults
// substituted, is not an image reference: the build fails there unless it
// is given other values, and it must not go unreported.
func (s *scanner) invalidRef(r ref.Ref, value string) {
	hint := ""
	if _, d := ref.SplitDigest(value); d != "" && !ref.IsDigest(d) {
		hint = " (a digest must end a reference)"
	}
	s.invalid = append(s.invalid, &scan.Error{File: s.path, Line: r.Line, Column: r.Column,
		Err: fmt.Errorf("%s %s expands to %q with the defaults in this file%s: %w", r.Context, r.Text, value, hint, ref.ErrNotImage)})
}

// validStageName is BuildKit's rule for a stage name, after it lowered it.
var validStageName = regexp.MustCompile(`^[a-z][a-z0-9-_.]*$`)

// invalidLiteral records a reference written out in full that is no image
// reference. BuildKit reads every FROM, COPY --from and RUN --mount from=
// that names no stage (nor scratch, nor a stage index) as an image, and
// fails the build on it, so it must not go unreported.
func (s *scanner) invalidLiteral(r ref.Ref, value string) {
	why := "its name is invalid"
	base, d := ref.SplitDigest(value)
	tag := ""
	if i := strings.LastIndexByte(base, ':'); i >= 0 && !strings.Contains(base[i+1:], "/") {
		tag = base[i+1:]
	}
	switch {
	case d != "" && !ref.IsDigest(d):
		why = fmt.Sprintf("its digest %q is invalid (a digest is sha256: and 64 lowercase hex digits)", d)
	case strings.IndexByte(value, '@') >= 0 && d == "":
		why = "its digest is empty"
	case strings.HasSuffix(base, ":"):
		why = "its tag is empty"
	case tag != "" && !ref.IsTag(tag):
		why = fmt.Sprintf("its tag %q is invalid", tag)
	case value != strings.ToLower(value) && isImage(strings.ToLower(value)):
		why = "its repository name must be lowercase"
	}
	lower := strings.ToLower(value)
	switch {
	case r.Context == ContextFrom && s.names[lower]:
		why = "a FROM can only name an earlier stage, and " + lower + " comes later; as an image, " + why
	case r.Context != ContextFrom && validStageName.MatchString(lower):
		why = "it names no stage of this file; as an image, " + why
	}
	s.invalid = append(s.invalid, &scan.Error{File: s.path, Line: r.Line, Column: r.Column,
		Err: fmt.Errorf("%s %s: %s: %w", r.Context, r.Text, why, ref.ErrNotImage)})
}

func isImage(s string) bool {
	_, err := ref.ParseImage(s)
	return err == nil
}
