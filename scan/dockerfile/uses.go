package dockerfile

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

// A literal default is read by more than FROM, COPY --from, RUN --mount and
// the ARGs and ENVs that copy it. BuildKit substitutes variables in LABEL,
// ADD and COPY (sources, destination, flags, heredoc files), WORKDIR, USER,
// VOLUME, EXPOSE, STOPSIGNAL and the RUN flags; RUN itself gets the ARGs and
// ENVs of its stage as environment variables, and CMD, ENTRYPOINT and
// HEALTHCHECK see the ENVs at run time (their ARG uses count too, the
// stricter reading). Each of those reads is a use: used
// whole, the value just carries the digest too; used inside a longer value
// (LABEL desc="on ${BASE}", RUN docker pull ${BASE}-alpine), a digest
// appended to the default would change it, so the default is not pinned.

// instructionUses records the uses of the literal defaults in the stage
// scope sc by an instruction other than FROM, ARG and ENV, whose own uses
// are followed where they are read. endLine is the instruction's last line,
// its heredoc bodies included.
func (s *scanner) instructionUses(n *parser.Node, l *logical, in instr, endLine int, sc *scope) {
	k := keyword(in.cmd)
	if k == "onbuild" {
		// See onbuildUses.
		return
	}
	if len(n.Heredocs) > 0 && endLine > l.last {
		// Heredoc bodies: a RUN script, or a COPY/ADD file that BuildKit
		// substitutes unless the delimiter is quoted and that a shell may
		// run later. Both are read as shell text.
		_, a := s.src.line(l.last + 1)
		_, b := s.src.line(endLine + 1)
		s.shellUses(sc, s.src.str[a:b], nil, a, false)
	}
	if !mentions(sc, l.text) {
		return
	}
	args := l.text[in.argStart : in.argStart+len(in.args)]
	switch k {
	case "run", "cmd", "entrypoint", "healthcheck", "shell":
		if k == "run" {
			s.flagUses(sc, in)
		}
		if elems, ok := jsonArgs(n, args); ok {
			off := l.fileOff(in.argStart)
			for _, e := range elems {
				s.shellUses(sc, e, nil, off, false)
			}
			return
		}
		s.shellUses(sc, args, l, in.argStart, false)
	case "add", "copy", "volume", "expose":
		s.flagUses(sc, in)
		if elems, ok := jsonArgs(n, args); ok {
			for _, e := range elems {
				s.trackUses(sc, located{s: e, l: l, start: in.argStart}, useText)
			}
			return
		}
		for _, f := range fields(args, in.argStart) {
			s.trackUses(sc, s.word(l, f[0], f[1]), useText)
		}
	case "workdir", "user", "stopsignal":
		s.trackUses(sc, s.word(l, in.argStart, in.argStart+len(in.args)), useText)
	case "label":
		s.labelUses(l, in, sc)
	}
}

// onbuildUses records the uses by an ONBUILD trigger. It runs in the
// downstream build, which sees none of this file's ARGs but the ENVs the
// image carries, in whatever instruction the trigger is; its whole text is
// read as shell text, the stricter reading.
func (s *scanner) onbuildUses(n *parser.Node, l *logical, in instr, endLine int, sc *scope) {
	if len(n.Heredocs) > 0 && endLine > l.last {
		_, a := s.src.line(l.last + 1)
		_, b := s.src.line(endLine + 1)
		s.shellUses(sc, s.src.str[a:b], nil, a, true)
	}
	s.shellUses(sc, l.text[in.argStart:in.argStart+len(in.args)], l, in.argStart, true)
}

// jsonArgs returns the strings of an exec-form (JSON) argument list.
func jsonArgs(n *parser.Node, args string) ([]string, bool) {
	if !n.Attributes["json"] || !strings.HasPrefix(args, "[") {
		return nil, false
	}
	next, isJSON, ok := maybeJSON(args)
	if !isJSON || !ok {
		return nil, false
	}
	var out []string
	for e := next; e != nil; e = e.Next {
		out = append(out, e.Value)
	}
	return out, true
}

// flagUses records the uses in the flags of RUN, ADD and COPY, which
// BuildKit substitutes (--chown, --chmod, the fields of --mount). --from
// and --mount's from are references, followed where they are read.
func (s *scanner) flagUses(sc *scope, in instr) {
	for _, f := range in.flags {
		if strings.IndexByte(f.s, '$') < 0 || strings.HasPrefix(f.s, "--from=") {
			continue
		}
		k, _, found := strings.Cut(f.s, "=")
		if !found {
			continue
		}
		w := f.slice(len(k)+1, len(f.s))
		if k != "--mount" {
			s.trackUses(sc, w, useText)
			continue
		}
		fs, ok := csvFields(w)
		if !ok {
			// BuildKit fails on it; nothing is read.
			continue
		}
		for _, fl := range fs {
			name, _, found := strings.Cut(fl.s, "=")
			if found && !strings.EqualFold(name, "from") {
				s.trackUses(sc, fl.slice(len(name)+1, len(fl.s)), useText)
			}
		}
	}
}

// labelUses records the uses in LABEL keys and values, which BuildKit
// substitutes; the old "LABEL key value" form takes the rest of the line
// as the value.
func (s *scanner) labelUses(l *logical, in instr, sc *scope) {
	ws := words(in.args, in.argStart, s.src.escape)
	if len(ws) == 0 {
		return
	}
	if first := l.text[ws[0][0]:ws[0][1]]; !strings.Contains(first, "=") {
		s.trackUses(sc, s.word(l, ws[0][0], ws[0][1]), useText)
		i := ws[0][1]
		end := in.argStart + len(in.args)
		for i < end && isASCIISpace(l.text[i]) {
			i++
		}
		s.trackUses(sc, s.word(l, i, end), useText)
		return
	}
	for _, wd := range ws {
		raw := l.text[wd[0]:wd[1]]
		key, _, _ := strings.Cut(raw, "=")
		s.trackUses(sc, s.word(l, wd[0], wd[0]+len(key)), useText)
		s.trackUses(sc, s.word(l, wd[0]+len(key)+1, wd[1]), useText)
	}
}

// shellUses records the uses of the literal defaults in scope sc by shell
// text: a RUN, CMD, ENTRYPOINT or HEALTHCHECK command, an element of its
// exec form, a heredoc body. text starts at logical offset base of l, or at
// file offset base when l is nil. With envOnly, only ENV values count.
//
// BuildKit does not substitute here; a shell expands the variables, and
// quoting cannot be trusted to stop it: 'echo $B-x' and \$B may be handed
// to another shell (sh -c, a generated script) that expands them after
// all. So every $NAME and ${NAME…} counts, whatever surrounds it, and only
// a whole shell word, $NAME, ${NAME} or either in double quotes, between
// blanks or shell operators, is taken as the whole value. Anything else
// (text or quotes around it, an operator such as ${NAME%:*} or
// ${NAME:-x}) blocks the pin; ${NAME:+x} and ${NAME+x} only ask whether it
// is set.
func (s *scanner) shellUses(sc *scope, text string, l *logical, base int, envOnly bool) {
	for i := 0; ; {
		k := strings.IndexByte(text[i:], '$')
		if k < 0 {
			return
		}
		i += k
		start := i
		i++
		braced := i < len(text) && text[i] == '{'
		if braced {
			i++
		}
		prefixOp := braced && i < len(text) && (text[i] == '#' || text[i] == '!')
		if prefixOp {
			i++
		}
		nameEnd := shellName(text, i)
		if nameEnd == i {
			continue
		}
		v, ok := sc.vars[text[i:nameEnd]]
		i = nameEnd
		if !ok || v.src == nil || (envOnly && !v.env) {
			continue
		}
		if _, done := s.blocked[v.src]; done {
			continue
		}
		end, plain := i, true
		if braced {
			switch {
			case prefixOp:
				plain = false
			case i < len(text) && text[i] == '}':
				end = i + 1
			case strings.HasPrefix(text[i:], "+") || strings.HasPrefix(text[i:], ":+"):
				// Only whether it is set counts; the word after the
				// operator is read on.
				continue
			default:
				plain = false
			}
		}
		if plain && shellWord(text, start, end) {
			continue
		}
		a, b := wordAround(text, start)
		off := base + start
		if l != nil {
			off = l.fileOff(off)
		}
		s.blockAt(v.src, off, sharedUse{word: text[a:b]})
	}
}

// mentions reports whether text may read a variable of sc that holds a
// literal default, without the cost of parsing it.
func mentions(sc *scope, text string) bool {
	for i := 0; ; {
		k := strings.IndexByte(text[i:], '$')
		if k < 0 {
			return false
		}
		i += k + 1
		if i < len(text) && text[i] == '{' {
			i++
			if i < len(text) && (text[i] == '#' || text[i] == '!') {
				i++
			}
		}
		e := shellName(text, i)
		if v, ok := sc.vars[text[i:e]]; ok && v.src != nil {
			return true
		}
	}
}

// shellName returns the end of the shell variable name starting at i.
func shellName(text string, i int) int {
	j := i
	for j < len(text) {
		r, w := utf8.DecodeRuneInString(text[j:])
		if r != '_' && !unicode.IsLetter(r) && (j == i || !unicode.IsDigit(r)) {
			break
		}
		j += w
	}
	return j
}

// shellWord reports whether text[a:b], or "text[a:b]", is a whole word.
func shellWord(text string, a, b int) bool {
	if a > 0 && b < len(text) && text[a-1] == '"' && text[b] == '"' {
		a, b = a-1, b+1
	}
	return (a == 0 || shellSep(text[a-1])) && (b == len(text) || shellSep(text[b]))
}

// shellSep reports whether c ends a shell word: a blank or an operator.
func shellSep(c byte) bool {
	switch c {
	case ' ', '\t', '\n', '\r', ';', '&', '|', '(', ')', '<', '>':
		return true
	}
	return false
}

// wordAround returns the shell word, quotes included, that holds byte i of
// text, for messages. Quotes do not reach past the line.
func wordAround(text string, i int) (a, b int) {
	ls := strings.LastIndexByte(text[:i], '\n') + 1
	le := len(text)
	if k := strings.IndexByte(text[i:], '\n'); k >= 0 {
		le = i + k
	}
	for j := ls; j < le; {
		if shellSep(text[j]) {
			j++
			continue
		}
		a = j
		for j < le && !shellSep(text[j]) {
			switch text[j] {
			case '\'', '"':
				k := strings.IndexByte(text[j+1:le], text[j])
				for text[j] == '"' && k > 0 && text[j+k] == '\\' {
					k2 := strings.IndexByte(text[j+k+2:le], '"')
					if k2 < 0 {
						k = -1
						break
					}
					k += k2 + 1
				}
				if k < 0 {
					j = le
				} else {
					j += k + 2
				}
			case '\\':
				j = min(j+2, le)
			default:
				j++
			}
		}
		if j > i {
			return a, j
		}
	}
	return i, le
}
