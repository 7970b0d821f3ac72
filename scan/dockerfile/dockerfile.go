// Package dockerfile finds the image references in Dockerfiles and
// Containerfiles: FROM lines, COPY/ADD --from, RUN --mount=…,from=, ONBUILD
// triggers and the "# syntax=" frontend directive, each at the exact bytes
// it was written, with ARG defaults substituted. It also collects RUN
// commands and ADD sources for the install rules.
//
// The file is parsed by BuildKit's own parser, so continuations, heredocs,
// directives and JSON arguments mean exactly what they mean to docker build.
// The parser keeps no columns, so each instruction's physical lines are
// joined again here with a map from every byte back to its file offset.
//
// Variables follow BuildKit: global ARGs (before the first FROM) apply to
// FROM; ARGs re-declared inside a stage (inheriting the global default when
// they have none) and ENV apply to the stage's COPY --from and RUN --mount.
// BuildKit itself refuses variables in those two places while Buildah
// expands them, so both readings are covered. A value the file does not
// determine (an ARG without default, the platform arguments such as
// TARGETPLATFORM, the base image's environment) makes the reference
// Dynamic: it is reported, never guessed.
package dockerfile

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/buildkit/frontend/dockerfile/shell"

	"github.com/stet-dev/stet/ref"
	"github.com/stet-dev/stet/scan"
)

// Contexts of the references this scanner reports.
const (
	ContextFrom   = "FROM"
	ContextCopy   = "COPY --from"
	ContextMount  = "RUN --mount from"
	ContextSyntax = "# syntax"
)

var _ scan.Scanner = Scan

// Scan finds the references and commands of one Dockerfile. path is only
// used for reporting. An empty file, or one with only comments, has none. A
// file BuildKit cannot parse is a *scan.Error with its line. A reference
// that is not an image reference, as written (FROM NGINX:1, COPY
// --from=nginx@sha256:short) or with the file's defaults substituted (FROM
// ${BASE}-alpine where BASE holds a digest), is a *scan.Error at that
// reference, wrapping ref.ErrNotImage, returned with everything else found:
// docker build fails on it. Stage names, stage indexes and scratch are no
// references, nor is a name in an ONBUILD trigger that may be a stage of
// the downstream build. A reference whose variable has an empty default is
// Dynamic.
//
// Each reference's Edit is the reference itself (FormReference), or, when
// the reference is exactly one variable such as FROM ${BASE}, the literal
// default of that ARG (or the default inside ${BASE:-default}), so a pin
// rewrites the value where it is defined. Edit is nil for dynamic
// references, for references split by quotes, escapes or line
// continuations, and for values assembled from variables and text, such as
// golang:${GO_VERSION}-alpine: a digest written there would belong to the
// default, a build that sets GO_VERSION would still get the default's image
// (the digest wins over the tag), and rewriting the ARG default would give
// it a digest it cannot carry. Name and Tag are still those of the defaults.
// Compose and GitLab CI references with variables are treated the same way.
//
// For the same reason an ARG default is an edit span only when no other line
// reads it as part of a larger value or as a stage name (ARG B=${BASE}-slim,
// COPY --from=${BASE}-alpine, LABEL desc="on ${BASE}", RUN docker pull
// ${BASE}-alpine in a stage that re-declares BASE): the digest would land
// there too. Every instruction BuildKit substitutes counts, and RUN, CMD,
// ENTRYPOINT, HEALTHCHECK and heredoc bodies count as shell text, where
// any $BASE other than a whole word blocks, quoted or not; ONBUILD triggers
// count only through the ENVs the image carries. NotEditable then
// names that line, and says why wherever else Edit is nil and Text or
// Dynamic does not show it.
//
// ONBUILD triggers run in a downstream build whose variables are unknown, so
// every variable in them is dynamic.
func Scan(path string, data []byte) (*scan.Result, error) {
	s, err := scanFile(path, data)
	if s == nil {
		return nil, err
	}
	return s.res, err
}

// scanFile scans data; the scanner is nil when the file cannot be parsed.
func scanFile(path string, data []byte) (*scanner, error) {
	s := &scanner{
		path:    path,
		src:     newSource(data),
		res:     &scan.Result{},
		global:  newScope(unset),
		onbuild: newScope(dynamic),
	}
	s.syntax()
	long := s.src.longLine()
	children, lines, ok := fastParse(s.src)
	if ok && len(children) == 0 {
		return s, nil
	}
	if !ok && long > 0 {
		return nil, s.longLineError(long)
	}
	if !ok {
		tree, err := parser.Parse(bytes.NewReader(data))
		if err != nil {
			if strings.Contains(err.Error(), "file with no instructions") {
				return s, nil
			}
			return nil, parseError(path, err)
		}
		s.src.escape = byte(tree.EscapeToken)
		children = tree.AST.Children
		lines = make([]parsed, len(children))
		for i, n := range children {
			l := s.src.instruction(n.StartLine)
			lines[i] = parsed{l: l, in: split(&l, l.text, 0, s.src.escape)}
		}
	}
	s.lex = shell.NewLex(rune(s.src.escape))
	s.collectStages(children)
	for i, n := range children {
		if err := s.node(n, &lines[i]); err != nil {
			return nil, err
		}
	}
	if long > 0 {
		// The fast path read past the line BuildKit stops at, so what
		// follows it is reported in its place, beside the error.
		s.invalid = append(s.invalid, tooLong(path, long, s.src))
		slices.SortStableFunc(s.invalid, func(a, b *scan.Error) int { return a.Line - b.Line })
	}
	return s, s.finish()
}

// tooLong is the error for line n, which BuildKit's parser cannot read.
func tooLong(path string, n int, src *source) *scan.Error {
	raw, _ := src.line(n)
	return &scan.Error{File: path, Line: n, Column: 1,
		Err: fmt.Errorf("parsing Dockerfile: line is %d bytes long; BuildKit's parser, and so docker build, reads at most %d", len(trimNewline(raw)), maxLine-1)}
}

// longLineError is the error of a file that the fast path cannot read and
// that holds line long, too long for BuildKit's parser, which stops there.
// An error the parser finds in the instructions before that line comes
// first, as it does for docker build; one in the instruction that runs into
// the long line (a continuation, a heredoc) would only be the effect of
// the cut, and the long line is reported instead.
func (s *scanner) longLineError(long int) error {
	_, err := parser.Parse(bytes.NewReader(s.src.data[:s.src.lineStart[long-1]]))
	var le *parser.LocationError
	if err != nil && errors.As(err, &le) && len(le.Locations) > 0 && len(le.Locations[0]) > 0 {
		r := le.Locations[0]
		if last := r[len(r)-1].End.Line; last > 0 && last < long-1 && !strings.Contains(err.Error(), "file with no instructions") {
			return parseError(s.path, err)
		}
	}
	return tooLong(s.path, long, s.src)
}

func parseError(path string, err error) error {
	line := 0
	var le *parser.LocationError
	if errors.As(err, &le) && len(le.Locations) > 0 && len(le.Locations[0]) > 0 {
		line = le.Locations[0][0].Start.Line
		// The parser numbers an error in a directive with the count of
		// the lines before it.
		if msg := le.Error(); strings.Contains(msg, "parser directive can be used") || strings.Contains(msg, "invalid escape token") {
			line++
		}
	}
	return &scan.Error{File: path, Line: max(line, 1), Err: fmt.Errorf("parsing Dockerfile: %w", err)}
}

type stage struct {
	name  string
	scope *scope
}

type scanner struct {
	path    string
	src     *source
	lex     *shell.Lex
	res     *scan.Result
	global  *scope
	onbuild *scope
	// stages are the stages so far, in order; FROM may only name those.
	stages []stage
	// names holds every stage name in the file: COPY --from may name any.
	names map[string]bool
	// stageVars is set when some COPY --from or RUN --mount uses a
	// variable, or some ARG or ENV inside a stage reads one; otherwise ARG
	// and ENV inside stages need no evaluation.
	stageVars bool
	// blocked holds, per literal default, the first use that a digest
	// appended to it would change (see shared.go).
	blocked map[*[2]int]sharedUse
	// defaultEdits are the references whose edit span is a default.
	defaultEdits []defaultEdit
	// invalid are the references whose value is no image reference.
	invalid []*scan.Error
	// inOnbuild is set while an ONBUILD trigger is read.
	inOnbuild bool
}

func (s *scanner) nameList() []string {
	out := make([]string, 0, len(s.names))
	for n := range s.names {
		out = append(out, n)
	}
	return out
}

func (s *scanner) collectStages(children []*parser.Node) {
	s.names = map[string]bool{}
	inStage := false
	var globals []string
	for _, n := range children {
		if !s.stageVars {
			s.stageVars = usesStageVars(n) || inStage && readsGlobal(n, globals)
		}
		if !inStage && keyword(n.Value) == "arg" {
			// The keyword and words of quoted values with spaces add names that
			// are none, which only has stage variables evaluated.
			for _, w := range strings.Fields(n.Original) {
				if name, _, _ := strings.Cut(w, "="); name != "" {
					globals = append(globals, name)
				}
			}
		}
		inStage = inStage || strings.EqualFold(n.Value, "from")
		if !strings.EqualFold(n.Value, "from") || n.Next == nil || n.Next.Next == nil || n.Next.Next.Next == nil {
			continue
		}
		if strings.EqualFold(n.Next.Next.Value, "as") {
			s.names[strings.ToLower(n.Next.Next.Next.Value)] = true
		}
	}
}

// usesStageVars reports whether a COPY --from or RUN --mount flag of n
// holds a variable, the only use of stage variables.
func usesStageVars(n *parser.Node) bool {
	if keyword(n.Value) == "onbuild" {
		return false
	}
	for _, f := range n.Flags {
		if (strings.HasPrefix(f, "--from=") || strings.HasPrefix(f, "--mount=")) && strings.IndexByte(f, '$') >= 0 {
			return true
		}
	}
	return false
}

// readsGlobal reports whether n is an ARG or ENV that may read one of the
// global ARGs, or an ARG that may re-declare one: inside a stage, a value
// may then carry a global default, whose uses count (see shared.go and
// uses.go).
func readsGlobal(n *parser.Node, globals []string) bool {
	k := keyword(n.Value)
	if k != "arg" && k != "env" {
		return false
	}
	if k == "arg" {
		for _, g := range globals {
			if declares(n.Original, g) {
				return true
			}
		}
	}
	if strings.IndexByte(n.Original, '$') < 0 {
		return false
	}
	for _, g := range globals {
		if strings.Contains(n.Original, "$"+g) || strings.Contains(n.Original, "${"+g) {
			return true
		}
	}
	return false
}

// declares reports whether the ARG line may declare name: whether name
// stands there as a word of its own or before an "=".
func declares(line, name string) bool {
	for i := 0; ; {
		k := strings.Index(line[i:], name)
		if k < 0 || name == "" {
			return false
		}
		a, b := i+k, i+k+len(name)
		if a > 0 && isASCIISpace(line[a-1]) && (b == len(line) || line[b] == '=' || isASCIISpace(line[b])) {
			return true
		}
		i = a + 1
	}
}

// scope is the scope of instructions inside the current stage; before the
// first FROM only global ARGs exist.
func (s *scanner) scope() *scope {
	if len(s.stages) == 0 {
		return s.global
	}
	return s.stages[len(s.stages)-1].scope
}

// node handles one top-level instruction of the parsed file.
func (s *scanner) node(n *parser.Node, p *parsed) error {
	l := &p.l
	if l.text != n.Original {
		return s.internalError(n.StartLine, "instruction text %q, parser has %q", l.text, n.Original)
	}
	return s.instruction(n, l, p.in, n.EndLine, false)
}

// errLocate means the instruction's bytes could not be matched to what the
// parser read; positions would be wrong, so the file is not reported.
var errLocate = errors.New("locating instruction")

func (s *scanner) internalError(line int, format string, args ...any) error {
	return &scan.Error{File: s.path, Line: line, Err: fmt.Errorf("%w: "+format, append([]any{errLocate}, args...)...)}
}

func (s *scanner) instruction(n *parser.Node, l *logical, in instr, endLine int, onbuild bool) error {
	if len(in.flags) != len(n.Flags) {
		return s.internalError(n.StartLine, "flags %d, parser has %d", len(in.flags), len(n.Flags))
	}
	for i, f := range in.flags {
		if f.s != n.Flags[i] {
			return s.internalError(n.StartLine, "flag %q, parser has %q", f.s, n.Flags[i])
		}
	}
	sc := s.scope()
	if !onbuild && sc.shared && len(s.stages) > 0 {
		s.instructionUses(n, l, in, endLine, sc)
	}
	if onbuild {
		sc = s.onbuild
	}
	switch keyword(in.cmd) {
	case "from":
		s.from(l, in, onbuild)
	case "arg":
		if !onbuild && (len(s.stages) == 0 || s.stageVars) {
			s.arg(l, in)
		}
	case "env":
		if !onbuild && len(s.stages) > 0 && s.stageVars {
			s.env(l, in)
		}
	case "copy":
		s.copyFrom(l, in, sc)
	case "add":
		s.copyFrom(l, in, sc)
		s.command(n, l, in, endLine, "ADD")
	case "run":
		s.mounts(in, sc)
		s.command(n, l, in, endLine, "RUN")
	case "onbuild":
		if n.Next == nil || len(n.Next.Children) == 0 {
			return nil
		}
		if st := s.scope(); st.shared && len(s.stages) > 0 {
			s.onbuildUses(n, l, in, endLine, st)
		}
		child := n.Next.Children[0]
		sub := split(l, in.args, in.argStart, s.src.escape)
		s.inOnbuild = true
		defer func() { s.inOnbuild = false }()
		return s.instruction(child, l, sub, endLine, true)
	}
	return nil
}

func (s *scanner) word(l *logical, a, b int) located {
	return located{s: l.text[a:b], l: l, start: a}
}

func (s *scanner) from(l *logical, in instr, onbuild bool) {
	f := fields(l.text[in.argStart:in.argStart+len(in.args)], in.argStart)
	name := ""
	if len(f) >= 3 && strings.EqualFold(l.text[f[1][0]:f[1][1]], "as") {
		name = strings.ToLower(l.text[f[2][0]:f[2][1]])
	}
	sc := s.global
	if onbuild {
		sc = s.onbuild
	}
	var parent *stage
	if len(f) > 0 {
		w := s.word(l, f[0][0], f[0][1])
		x, ok := s.expandWord(sc, w, true)
		if ok && x.dynamic {
			var earlier []string
			for _, st := range s.stages {
				earlier = append(earlier, st.name)
			}
			ok = !s.mayNameStage(x.value, earlier)
		}
		if ok && !x.dynamic {
			v := strings.ToLower(x.value)
			for i := range s.stages {
				if v != "" && s.stages[i].name == v {
					parent = &s.stages[i]
				}
			}
			if v == "scratch" || parent != nil {
				ok = false
			}
		}
		if !onbuild {
			use := useImage
			if parent != nil {
				use = useStage
			}
			s.trackUses(sc, unquote(w, s.src.escape), use)
		}
		if ok {
			s.addRef(w, x, ContextFrom, true)
		}
	}
	if onbuild {
		return
	}
	st := stage{name: name, scope: newScope(dynamic)}
	if parent != nil {
		for k, v := range parent.scope.vars {
			if v.env {
				st.scope.set(k, v)
			}
		}
	}
	s.stages = append(s.stages, st)
}

// expandWord substitutes the variables of w (a word as the lexer reads it,
// quotes included). ok is false when the lexer rejects it.
func (s *scanner) expandWord(sc *scope, w located, quoted bool) (expansion, bool) {
	if quoted {
		w = unquote(w, s.src.escape)
	}
	if w.s == "" {
		return expansion{}, false
	}
	x, err := sc.expand(s.lex, s.src.escape, w)
	return x, err == nil
}

// unquote drops double quotes around a whole word, which the lexer would
// remove without changing the value, so that "${BASE}" is still exactly one
// variable. Single quotes stay: they stop expansion.
func unquote(w located, esc byte) located {
	if n := len(w.s); n >= 2 && w.s[0] == '"' && w.s[n-1] == '"' && !strings.Contains(w.s[1:n-1], `"`) && w.s[n-2] != esc {
		return w.slice(1, n-1)
	}
	return w
}

// textSpan is where the reference is written: the word, without quotes
// wrapped around all of it.
func textSpan(w located, quoted bool) located {
	if n := len(w.s); quoted && n >= 2 && (w.s[0] == '"' || w.s[0] == '\'') && w.s[n-1] == w.s[0] &&
		!strings.Contains(w.s[1:n-1], w.s[:1]) {
		return w.slice(1, n-1)
	}
	return w
}

func (s *scanner) span(a, b int, form ref.Form) *ref.Span {
	line, col := s.src.pos(a)
	return &ref.Span{Start: a, End: b, Line: line, Column: col, Form: form}
}

// addRef reports the reference written as w with expansion x.
func (s *scanner) addRef(w located, x expansion, context string, quoted bool) {
	t := textSpan(w, quoted)
	if len(t.s) == 0 {
		return
	}
	a, b := t.span()
	r := ref.Ref{File: s.path, Kind: ref.Image, Source: ref.SourceDockerfile, Text: string(s.src.data[a:b]), Context: context}
	r.Line, r.Column = s.src.pos(a)
	r.EndLine, r.EndColumn = s.src.pos(b - 1)
	r.EndColumn++
	if x.dynamic {
		r.Dynamic = true
		bestEffort(&r, x.value)
		s.res.Refs = append(s.res.Refs, r)
		return
	}
	if err := r.SetImage(x.value); err != nil {
		switch {
		case x.empty:
			// ARG TAG="" then FROM app:${TAG}: the value is left to
			// --build-arg, as if the ARG had no default.
			r.Dynamic = true
			bestEffort(&r, x.value)
			s.res.Refs = append(s.res.Refs, r)
		case x.vars:
			s.invalidRef(r, x.value)
		case s.inOnbuild && validStageName.MatchString(strings.ToLower(x.value)):
			// ONBUILD COPY --from=Builder may name a stage of the
			// downstream Dockerfile, which this one cannot know.
		default:
			s.invalidLiteral(r, x.value)
		}
		return
	}
	switch {
	case x.whole:
		if x.origin != nil {
			r.Edit = s.span(x.origin[0], x.origin[1], ref.FormReference)
			s.defaultEdits = append(s.defaultEdits, defaultEdit{i: len(s.res.Refs), src: x.origin})
		} else {
			r.NotEditable = x.noOrigin.message(s.src)
		}
	case x.vars:
		// Only a reference written out literally is pinned where it
		// stands. golang:${GO_VERSION}-alpine@sha256:… would hold the
		// digest of the default while --build-arg GO_VERSION=… names
		// another tag, and the digest wins: the build would silently
		// run the default's image. Text shows why.
	case strings.IndexByte(r.Text, '\n') >= 0:
		r.NotEditable = "it is split across lines by a line continuation; join it on one line to pin it"
	case !t.contiguous() || r.Text != t.s || strings.ContainsAny(t.s, `"'`) || strings.IndexByte(t.s, s.src.escape) >= 0:
		r.NotEditable = "it is written with quotes or escape characters inside it; write it plainly to pin it"
	default:
		r.Edit = s.span(a, b, ref.FormReference)
	}
	s.res.Refs = append(s.res.Refs, r)
}

// bestEffort fills what can be read from a reference whose value is partly
// unknown: v keeps the unknown variables as written. The name counts only
// when every variable sits after it (in the tag or digest); a digest counts
// when it is written out.
func bestEffort(r *ref.Ref, v string) {
	r.Kind = ref.Image
	base, digest := ref.SplitDigest(v)
	if ref.IsDigest(digest) {
		r.Digest = digest
	}
	i := strings.IndexByte(base, '$')
	if i < 0 {
		if im, err := ref.ParseImage(base); err == nil {
			r.Name, r.Tag = im.Name(), im.Tag
		}
		return
	}
	if strings.Contains(base[i:], "/") {
		return
	}
	prefix := base[:i]
	c := strings.LastIndexByte(prefix, ':')
	if c < 0 || strings.Contains(prefix[c:], "/") {
		return
	}
	if im, err := ref.ParseImage(prefix[:c]); err == nil && im.Tag == "" {
		r.Name = im.Name()
	}
}

// mayNameStage reports whether a dynamic value (unknown variables kept as
// written) can only be meant as one of the stage names: FROM
// binaries-$TARGETOS next to stages binaries-linux and binaries-darwin
// selects a stage, it does not pull an image.
func (s *scanner) mayNameStage(v string, names []string) bool {
	if len(names) == 0 {
		return false
	}
	p := varParser{s: v, esc: s.src.escape}
	refs, ok := p.refs(0, len(v))
	if !ok || len(refs) == 0 {
		return false
	}
	var re, lit strings.Builder
	re.WriteString("^(?i:")
	last := 0
	for _, r := range refs {
		re.WriteString(regexp.QuoteMeta(v[last:r.start]))
		lit.WriteString(v[last:r.start])
		re.WriteString(".*")
		last = r.end
	}
	re.WriteString(regexp.QuoteMeta(v[last:]))
	lit.WriteString(v[last:])
	re.WriteString(")$")
	// A value that is nothing but variables could name anything.
	if !strings.ContainsFunc(lit.String(), func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }) {
		return false
	}
	rx, err := regexp.Compile(re.String())
	if err != nil {
		return false
	}
	for _, n := range names {
		if n != "" && rx.MatchString(n) {
			return true
		}
	}
	return false
}

// isStage reports whether a --from value names a stage rather than an image.
func (s *scanner) isStage(v string, index bool) bool {
	if index {
		if _, err := strconv.Atoi(v); err == nil {
			return true
		}
	}
	v = strings.ToLower(v)
	return v == "scratch" || s.names[v]
}

func (s *scanner) copyFrom(l *logical, in instr, sc *scope) {
	for _, f := range in.flags {
		if !strings.HasPrefix(f.s, "--from=") {
			continue
		}
		w := f.slice(len("--from="), len(f.s))
		x, ok := s.expandWord(sc, w, false)
		if ok && !x.dynamic && s.isStage(x.value, true) {
			s.trackUses(sc, w, useStage)
			continue
		}
		if !ok || (x.dynamic && s.mayNameStage(x.value, s.nameList())) {
			continue
		}
		s.trackUses(sc, w, useImage)
		s.addRef(w, x, ContextCopy, false)
	}
}

func (s *scanner) mounts(in instr, sc *scope) {
	for _, f := range in.flags {
		if !strings.HasPrefix(f.s, "--mount=") {
			continue
		}
		fs, ok := csvFields(f.slice(len("--mount="), len(f.s)))
		if !ok {
			continue
		}
		for _, fl := range fs {
			k, _, found := strings.Cut(fl.s, "=")
			if !found || !strings.EqualFold(k, "from") {
				continue
			}
			w := fl.slice(len(k)+1, len(fl.s))
			x, ok := s.expandWord(sc, w, false)
			if ok && !x.dynamic && s.isStage(x.value, false) {
				s.trackUses(sc, w, useStage)
				continue
			}
			if !ok || (x.dynamic && s.mayNameStage(x.value, s.nameList())) {
				continue
			}
			s.trackUses(sc, w, useImage)
			s.addRef(w, x, ContextMount, false)
		}
	}
}

// csvFields splits a --mount value into its comma-separated fields with the
// quoting rules of encoding/csv, which BuildKit uses for it.
func csvFields(w located) ([]located, bool) {
	var out []located
	i := 0
	for {
		if i < len(w.s) && w.s[i] == '"' {
			var sb []byte
			var log []int
			i++
			for {
				if i >= len(w.s) {
					return nil, false
				}
				if w.s[i] == '"' {
					if i+1 < len(w.s) && w.s[i+1] == '"' {
						sb, log = append(sb, '"'), append(log, w.at(i))
						i += 2
						continue
					}
					i++
					break
				}
				sb, log = append(sb, w.s[i]), append(log, w.at(i))
				i++
			}
			out = append(out, located{s: string(sb), l: w.l, log: log})
			if i == len(w.s) {
				return out, true
			}
			if w.s[i] != ',' {
				return nil, false
			}
			i++
			continue
		}
		j := strings.IndexByte(w.s[i:], ',')
		end := len(w.s)
		if j >= 0 {
			end = i + j
		}
		if strings.IndexByte(w.s[i:end], '"') >= 0 {
			return nil, false
		}
		out = append(out, w.slice(i, end))
		if j < 0 {
			return out, true
		}
		i = end + 1
	}
}

// arg declares ARG variables in the global scope or the current stage.
func (s *scanner) arg(l *logical, in instr) {
	sc := s.scope()
	stageScope := len(s.stages) > 0
	for _, wd := range words(in.args, in.argStart, s.src.escape) {
		raw := l.text[wd[0]:wd[1]]
		name, _, hasValue := strings.Cut(raw, "=")
		if old, ok := sc.vars[name]; ok && old.env {
			continue
		}
		if !hasValue {
			switch {
			case platformArgs[name]:
				sc.vars[name] = &variable{state: dynamic}
			case stageScope:
				if g, ok := s.global.vars[name]; ok {
					cp := *g
					sc.set(name, &cp)
				} else {
					sc.vars[name] = &variable{state: unset}
				}
			default:
				if _, ok := sc.vars[name]; !ok {
					sc.vars[name] = &variable{state: unset}
				}
			}
			continue
		}
		start := wd[0] + len(name) + 1
		v := s.assign(sc, name, s.word(l, start, wd[1]))
		if platformArgs[name] {
			v.state, v.origin, v.src = dynamic, nil, nil
		}
		sc.set(name, v)
	}
}

// env declares ENV variables in the current stage; the old "ENV key value"
// form takes the rest of the line as the value.
func (s *scanner) env(l *logical, in instr) {
	sc := s.scope()
	ws := words(in.args, in.argStart, s.src.escape)
	if len(ws) == 0 {
		return
	}
	if first := l.text[ws[0][0]:ws[0][1]]; !strings.Contains(first, "=") {
		args := in.args
		i := 0
		for i < len(args) && !isASCIISpace(args[i]) {
			i++
		}
		name := args[:i]
		for i < len(args) && isASCIISpace(args[i]) {
			i++
		}
		v := s.assign(sc, name, s.word(l, in.argStart+i, in.argStart+len(args)))
		v.env = true
		sc.set(name, v)
		return
	}
	for _, wd := range ws {
		raw := l.text[wd[0]:wd[1]]
		name, _, _ := strings.Cut(raw, "=")
		v := s.assign(sc, name, s.word(l, wd[0]+len(name)+1, wd[1]))
		v.env = true
		sc.set(name, v)
	}
}

// assign evaluates the value word of an ARG or ENV called name in scope sc.
func (s *scanner) assign(sc *scope, name string, w located) *variable {
	src := s.trackUses(sc, w, useValue)
	x, err := sc.expand(s.lex, s.src.escape, w)
	if err != nil || x.dynamic {
		return &variable{state: dynamic}
	}
	v := &variable{state: static, value: x.value, src: src}
	lit := textSpan(w, true)
	how := plain
	switch {
	case strings.IndexByte(lit.s, '$') >= 0:
		how = fromVariables
	case strings.ContainsAny(lit.s, `"'`) || strings.IndexByte(lit.s, s.src.escape) >= 0 || !lit.contiguous():
		// Escapes and quotes are gone from a word the parser copied
		// byte by byte; its bytes in the file are then not contiguous.
		how = quotedInside
		if a, b := lit.span(); bytes.IndexByte(s.src.data[a:b], '\n') >= 0 {
			how = continued
		}
	case lit.s != "":
		a, b := lit.span()
		v.origin = &[2]int{a, b}
		v.src = v.origin
		return v
	}
	if how != plain {
		v.how, v.name, v.at = how, name, w.l.fileOff(w.at(0))
	}
	return v
}

// command records a RUN command or ADD sources for the install rules.
func (s *scanner) command(n *parser.Node, l *logical, in instr, endLine int, instruction string) {
	c := scan.Command{File: s.path, Instruction: instruction, Source: ref.SourceDockerfile}
	c.Line, c.Column = s.src.pos(l.fileOff(in.cmdStart))
	c.EndLine = max(endLine, c.Line)
	last, _ := s.src.line(c.EndLine)
	c.EndColumn = len(trimNewline(last)) + 1
	if len(n.Flags) > 0 {
		c.Flags = slices.Clone(n.Flags)
	}
	var args []string
	for a := n.Next; a != nil; a = a.Next {
		args = append(args, a.Value)
	}
	if instruction == "ADD" {
		if len(args) > 1 {
			args = args[:len(args)-1]
		}
		c.Text = strings.Join(args, " ")
	} else {
		var sb strings.Builder
		sb.WriteString(strings.Join(args, " "))
		for _, h := range n.Heredocs {
			sb.WriteByte('\n')
			sb.WriteString(strings.ReplaceAll(h.Content, "\r\n", "\n"))
			sb.WriteString(h.Name)
		}
		c.Text = sb.String()
	}
	s.res.Commands = append(s.res.Commands, c)
}

// directiveRE is the parser's directive syntax.
var directiveRE = regexp.MustCompile(`^([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$`)

// syntax reports the frontend image of a "# syntax=" directive, found the
// way BuildKit's DetectSyntax finds it: in the leading block of directive
// comments (after an optional shebang line), or else in "//" comments.
func (s *scanner) syntax() {
	data := s.src.data
	start := 0
	if bytes.HasPrefix(data, []byte{0xEF, 0xBB, 0xBF}) {
		start = 3
	}
	if bytes.HasPrefix(data[start:], []byte("#!")) {
		if i := bytes.IndexByte(data[start:], '\n'); i >= 0 {
			start += i + 1
		} else {
			return
		}
	}
	for _, prefix := range []string{"#", "//"} {
		if s.directive(start, prefix) {
			return
		}
	}
}

func (s *scanner) directive(off int, prefix string) bool {
	data := s.src.data
	seen := map[string]bool{}
	for off < len(data) {
		end := len(data)
		next := len(data)
		if i := bytes.IndexByte(data[off:], '\n'); i >= 0 {
			end, next = off+i, off+i+1
		}
		line := data[off:end]
		line = bytes.TrimSuffix(line, []byte("\r"))
		rest, ok := bytes.CutPrefix(line, []byte(prefix))
		if !ok {
			return false
		}
		trimmed := bytes.TrimLeftFunc(rest, unicode.IsSpace)
		m := directiveRE.FindSubmatchIndex(trimmed)
		if m == nil {
			return false
		}
		key := strings.ToLower(string(trimmed[m[2]:m[3]]))
		if key != "syntax" && key != "escape" && key != "check" {
			return false
		}
		if seen[key] {
			return false
		}
		seen[key] = true
		if key == "syntax" {
			vstart := off + len(prefix) + (len(rest) - len(trimmed)) + m[4]
			value := string(trimmed[m[4]:m[5]])
			img, _, _ := strings.Cut(value, " ")
			r := ref.Ref{File: s.path, Source: ref.SourceDockerfile, Text: img, Context: ContextSyntax}
			if r.SetImage(img) != nil {
				return true
			}
			r.Line, r.Column = s.src.pos(vstart)
			r.EndLine, r.EndColumn = r.Line, r.Column+len(img)
			r.Edit = s.span(vstart, vstart+len(img), ref.FormReference)
			s.res.Refs = append(s.res.Refs, r)
			return true
		}
		off = next
	}
	return false
}
