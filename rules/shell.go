package rules

import (
	"slices"
	"strings"
)

// This file is a POSIX-shell tokenizer precise enough to judge install
// commands: quotes and escapes, line continuations, comments, operators,
// redirections, heredocs, command and process substitutions, and enough of
// the compound-command grammar (if/for/case/while, groups, subshells) to find
// where each simple command starts. It never executes or expands anything:
// words keep their expansions as written and are marked as such.

// word is one shell word.
type word struct {
	// lit is the word with quotes and escapes removed; expansions ($X,
	// ${X}, $(…), `…`) are kept as written.
	lit string
	// pos and end are byte offsets of the word in the script.
	pos, end int
	// expand is set when the word contains an expansion or substitution.
	expand bool
	// quoted is set when any part of the word was quoted or escaped.
	quoted bool
	// subs are the command and process substitutions inside the word.
	subs []subst
	// whole is set when the word is exactly one substitution (ignoring
	// quotes): "$(curl …)" or <(curl …).
	whole bool
}

// subst is a $(…), `…`, <(…) or >(…) inside a word.
type subst struct {
	text string // the inner script
	pos  int    // offset of text in the script
	proc bool   // process substitution <(…) / >(…)
}

// heredoc is a here-document attached to a command.
type heredoc struct {
	delim  string
	body   string
	pos    int  // offset of body in the script
	quoted bool // delimiter was quoted: no expansions in the body
	strip  bool // <<- strips leading tabs
}

// simpleCmd is a command with its arguments. Leading variable assignments are
// split off; redirections are dropped (their targets are not arguments).
type simpleCmd struct {
	assigns  []word
	words    []word
	heredocs []*heredoc
	// stdin are the targets of "<" and "<<<" redirections: what the
	// command reads on standard input.
	stdin []word
	pos   int
	// pipe is the pipeline the command belongs to and idx its place in it.
	pipe *pipeline
	idx  int
}

type pipeline struct {
	cmds []*simpleCmd
}

type tokKind int

const (
	tEOF tokKind = iota
	tWord
	tOp
	tNewline
)

type token struct {
	kind tokKind
	op   string
	w    word
	pos  int
}

type lexer struct {
	src     string
	i       int
	pending []*heredoc
}

// isBlank reports the shell's field separators (carriage returns count, so
// CRLF files tokenize like LF files).
func isBlank(c byte) bool { return c == ' ' || c == '\t' || c == '\r' }

func isMeta(c byte) bool {
	switch c {
	case ' ', '\t', '\r', '\n', ';', '&', '|', '<', '>', '(', ')':
		return true
	}
	return false
}

var operators = []string{
	// Longest first.
	";;&", "&>>", "<<-", "<<<",
	"&&", "||", ";;", ";&", "|&", ">>", "<<", "<&", ">&", "<>", ">|", "&>",
	";", "&", "|", "<", ">", "(", ")",
}

func (lx *lexer) next() token {
	for {
		// Blanks and line continuations separate tokens.
		for lx.i < len(lx.src) {
			c := lx.src[lx.i]
			if isBlank(c) {
				lx.i++
				continue
			}
			if c == '\\' && lx.i+1 < len(lx.src) && lx.src[lx.i+1] == '\n' {
				lx.i += 2
				continue
			}
			if c == '\\' && strings.HasPrefix(lx.src[lx.i+1:], "\r\n") {
				lx.i += 3
				continue
			}
			break
		}
		if lx.i >= len(lx.src) {
			return token{kind: tEOF, pos: lx.i}
		}
		c := lx.src[lx.i]
		if c == '#' {
			// A comment runs to the end of the line; a continuation
			// backslash inside it does not continue it.
			for lx.i < len(lx.src) && lx.src[lx.i] != '\n' {
				lx.i++
			}
			continue
		}
		if c == '\n' {
			pos := lx.i
			lx.i++
			lx.readHeredocs()
			return token{kind: tNewline, pos: pos}
		}
		if (c == '<' || c == '>') && lx.i+1 < len(lx.src) && lx.src[lx.i+1] == '(' {
			return token{kind: tWord, w: lx.word(), pos: lx.i}
		}
		if isMeta(c) {
			for _, op := range operators {
				if strings.HasPrefix(lx.src[lx.i:], op) {
					pos := lx.i
					lx.i += len(op)
					return token{kind: tOp, op: op, pos: pos}
				}
			}
		}
		pos := lx.i
		w := lx.word()
		// A redirection's file descriptor prefix (2>&1, 1>/dev/null) is part
		// of the operator, not a word.
		if lx.i < len(lx.src) && (lx.src[lx.i] == '<' || lx.src[lx.i] == '>') && !w.quoted && isDigits(w.lit) && w.end == lx.i {
			continue
		}
		return token{kind: tWord, w: w, pos: pos}
	}
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// word reads one word starting at lx.i.
func (lx *lexer) word() word {
	w := word{pos: lx.i}
	var b strings.Builder
	parts := 0  // pieces that are not substitutions
	substs := 0 // top-level substitutions
	for lx.i < len(lx.src) {
		c := lx.src[lx.i]
		switch {
		case (c == '<' || c == '>') && lx.i+1 < len(lx.src) && lx.src[lx.i+1] == '(' && lx.i == w.pos:
			start := lx.i
			end, closed := matchParen(lx.src, lx.i+2)
			w.subs = append(w.subs, subst{text: lx.src[start+2 : innerEnd(end, closed)], pos: start + 2, proc: true})
			w.expand = true
			b.WriteString(lx.src[start:end])
			lx.i = end
			substs++
		case isMeta(c):
			w.lit = b.String()
			w.end = lx.i
			w.whole = substs == 1 && parts == 0
			return w
		case c == '\\':
			w.quoted = true
			if lx.i+1 < len(lx.src) {
				if lx.src[lx.i+1] == '\n' {
					lx.i += 2
					continue
				}
				b.WriteByte(lx.src[lx.i+1])
				lx.i += 2
			} else {
				lx.i++
			}
			parts++
		case c == '\'':
			w.quoted = true
			end := strings.IndexByte(lx.src[lx.i+1:], '\'')
			if end < 0 {
				b.WriteString(lx.src[lx.i+1:])
				lx.i = len(lx.src)
			} else {
				b.WriteString(lx.src[lx.i+1 : lx.i+1+end])
				lx.i += end + 2
			}
			if end != 0 {
				parts++
			}
		case c == '"':
			w.quoted = true
			lx.i++
			for lx.i < len(lx.src) && lx.src[lx.i] != '"' {
				d := lx.src[lx.i]
				switch {
				case d == '\\' && lx.i+1 < len(lx.src):
					e := lx.src[lx.i+1]
					switch e {
					case '\n':
					case '$', '`', '"', '\\':
						b.WriteByte(e)
					default:
						b.WriteByte(d)
						b.WriteByte(e)
					}
					lx.i += 2
					parts++
				case d == '$' || d == '`':
					if lx.dollar(&w, &b) {
						substs++
					} else {
						parts++
					}
				default:
					b.WriteByte(d)
					lx.i++
					parts++
				}
			}
			if lx.i < len(lx.src) {
				lx.i++
			}
		case c == '$' || c == '`':
			if lx.dollar(&w, &b) {
				substs++
			} else {
				parts++
			}
		default:
			b.WriteByte(c)
			lx.i++
			parts++
		}
	}
	w.lit = b.String()
	w.end = lx.i
	w.whole = substs == 1 && parts == 0
	return w
}

// dollar reads an expansion at lx.i ($X, ${…}, $(…), $((…)), `…`) into b,
// and reports whether it was a command substitution.
func (lx *lexer) dollar(w *word, b *strings.Builder) bool {
	start := lx.i
	src := lx.src
	if src[start] == '`' {
		end := start + 1
		for end < len(src) && src[end] != '`' {
			if src[end] == '\\' {
				end++
			}
			end++
		}
		inner := src[start+1 : min(end, len(src))]
		end = min(end+1, len(src))
		w.subs = append(w.subs, subst{text: inner, pos: start + 1})
		w.expand = true
		b.WriteString(src[start:end])
		lx.i = end
		return true
	}
	if start+1 >= len(src) {
		b.WriteByte('$')
		lx.i++
		return false
	}
	switch c := src[start+1]; {
	case c == '(':
		end, closed := matchParen(src, start+2)
		w.expand = true
		b.WriteString(src[start:end])
		lx.i = end
		if strings.HasPrefix(src[start:], "$((") {
			return false // arithmetic
		}
		w.subs = append(w.subs, subst{text: src[start+2 : innerEnd(end, closed)], pos: start + 2})
		return true
	case c == '{':
		end := start + 2
		depth := 1
		for end < len(src) && depth > 0 {
			switch src[end] {
			case '{':
				depth++
			case '}':
				depth--
			case '\\':
				end++
			case '\'':
				if q := strings.IndexByte(src[end+1:], '\''); q >= 0 {
					end += q + 1
				}
			}
			end++
		}
		end = min(end, len(src))
		w.expand = true
		b.WriteString(src[start:end])
		lx.i = end
		return false
	case c == '_' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z':
		end := start + 1
		for end < len(src) && (src[end] == '_' || src[end] >= 'A' && src[end] <= 'Z' || src[end] >= 'a' && src[end] <= 'z' || src[end] >= '0' && src[end] <= '9') {
			end++
		}
		w.expand = true
		b.WriteString(src[start:end])
		lx.i = end
		return false
	case c >= '0' && c <= '9' || strings.IndexByte("@*#?$!-", c) >= 0:
		w.expand = true
		b.WriteString(src[start : start+2])
		lx.i = start + 2
		return false
	}
	b.WriteByte('$')
	lx.i++
	return false
}

// matchParen returns the offset just past the ')' that closes a '(' whose
// contents start at i, skipping quoted text, nested parentheses and case
// patterns well enough for the scripts found in build files. An unclosed
// parenthesis runs to the end of src (closed is false).
func matchParen(src string, i int) (end int, closed bool) {
	depth := 1
	for i < len(src) {
		switch src[i] {
		case '\\':
			i++
		case '\'':
			q := strings.IndexByte(src[i+1:], '\'')
			if q < 0 {
				return len(src), false
			}
			i += q + 1
		case '"':
			i++
			for i < len(src) && src[i] != '"' {
				if src[i] == '\\' {
					i++
				} else if src[i] == '$' && i+1 < len(src) && src[i+1] == '(' {
					e, _ := matchParen(src, i+2)
					i = e - 1
				}
				i++
			}
		case '`':
			for i++; i < len(src) && src[i] != '`'; i++ {
				if src[i] == '\\' {
					i++
				}
			}
		case '#':
			// A comment only starts a word.
			if i == 0 || isMeta(src[i-1]) {
				for i < len(src) && src[i] != '\n' {
					i++
				}
				continue
			}
		case '(':
			depth++
		case ')':
			depth--
			if depth == 0 {
				return i + 1, true
			}
		}
		i++
	}
	return len(src), false
}

// innerEnd is where the text inside a substitution ends: before its closing
// parenthesis, or at the end of an unclosed one.
func innerEnd(end int, closed bool) int {
	if closed {
		return end - 1
	}
	return end
}

// readHeredocs reads the bodies of heredocs announced on the line that just
// ended, in the order they were announced.
func (lx *lexer) readHeredocs() {
	for _, h := range lx.pending {
		h.pos = lx.i
		h.body, lx.i = heredocBody(lx.src, lx.i, h)
	}
	lx.pending = nil
}

// heredocBody returns the body of h starting at offset i of src, and the
// offset after its delimiter line. An unterminated heredoc runs to the end.
func heredocBody(src string, i int, h *heredoc) (body string, next int) {
	for line := i; line < len(src); {
		end, after := len(src), len(src)
		if eol := strings.IndexByte(src[line:], '\n'); eol >= 0 {
			end, after = line+eol, line+eol+1
		}
		check := strings.TrimSuffix(src[line:end], "\r")
		if h.strip {
			check = strings.TrimLeft(check, "\t")
		}
		if check == h.delim {
			return src[i:line], after
		}
		line = after
	}
	return src[i:], len(src)
}

// reserved words that start or end compound commands; the next word starts
// a command.
var reserved = map[string]bool{
	"if": true, "then": true, "else": true, "elif": true, "fi": true,
	"do": true, "done": true, "while": true, "until": true, "!": true,
	"{": true, "}": true, "function": true,
}

// parseScript splits a script into simple commands in source order. Scripts
// nested in it (heredoc bodies fed to a shell, sh -c arguments, command and
// process substitutions) are parsed too and their commands follow the
// command that contains them. Offsets are relative to src plus base; when
// flat is set every command of the script is placed at base (used when the
// nested text is not a verbatim slice of the file).
func parseScript(src string, base int, flat bool) []*simpleCmd {
	return parseDepth(src, base, flat, 0)
}

// maxDepth bounds nesting so that hostile input cannot recurse without end.
const maxDepth = 8

func parseDepth(src string, base int, flat bool, depth int) []*simpleCmd {
	if depth > maxDepth {
		return nil
	}
	lx := &lexer{src: src}
	var (
		out         []*simpleCmd
		pl          *pipeline
		cur         *simpleCmd
		redir       string // operator whose target word comes next
		skipToSep   bool   // inside "for x in …" / "case x in" headers
		caseDepth   int
		casePattern bool
	)
	at := func(p int) int {
		if flat {
			return base
		}
		return base + p
	}
	endCmd := func() {
		if cur == nil {
			return
		}
		if len(cur.words) > 0 || len(cur.heredocs) > 0 || len(cur.assigns) > 0 || slices.ContainsFunc(cur.stdin, func(w word) bool { return len(w.subs) > 0 }) {
			if pl == nil {
				pl = &pipeline{}
			}
			cur.pipe, cur.idx = pl, len(pl.cmds)
			pl.cmds = append(pl.cmds, cur)
			out = append(out, cur)
		}
		cur = nil
	}
	endPipe := func() {
		endCmd()
		pl = nil
	}
	for {
		t := lx.next()
		if t.kind == tEOF {
			break
		}
		switch t.kind {
		case tNewline:
			redir = ""
			skipToSep = false
			endPipe()
		case tOp:
			if casePattern {
				if t.op == ")" {
					casePattern = false
				}
				continue
			}
			switch t.op {
			case "|", "|&":
				endCmd()
			case ">", ">>", "<", "<&", ">&", "<>", ">|", "&>", "&>>", "<<<", "<<", "<<-":
				redir = t.op
			default:
				skipToSep = false
				endPipe()
				if caseDepth > 0 && (t.op == ";;" || t.op == ";&" || t.op == ";;&") {
					casePattern = true
				}
			}
		case tWord:
			w := t.w
			w.pos, w.end = at(w.pos), at(w.end)
			if redir != "" {
				if cur == nil {
					cur = &simpleCmd{pos: at(t.pos)}
				}
				switch redir {
				case "<<", "<<-":
					h := &heredoc{delim: w.lit, quoted: w.quoted, strip: redir == "<<-"}
					cur.heredocs = append(cur.heredocs, h)
					lx.pending = append(lx.pending, h)
				case "<", "<<<":
					cur.stdin = append(cur.stdin, w)
				}
				redir = ""
				continue
			}
			if casePattern {
				continue
			}
			if skipToSep {
				if w.lit == "in" && caseDepth > 0 && !w.quoted {
					skipToSep = false
					casePattern = true
				}
				continue
			}
			if cur == nil || len(cur.words) == 0 {
				if !w.quoted {
					switch w.lit {
					case "for", "select":
						endPipe()
						skipToSep = true
						continue
					case "case":
						endPipe()
						caseDepth++
						skipToSep = true
						continue
					case "esac":
						endPipe()
						if caseDepth > 0 {
							caseDepth--
						}
						continue
					}
					if reserved[w.lit] {
						endPipe()
						continue
					}
				}
				if isAssignment(w) {
					if cur == nil {
						cur = &simpleCmd{pos: w.pos}
					}
					cur.assigns = append(cur.assigns, w)
					continue
				}
			}
			if cur == nil {
				cur = &simpleCmd{pos: w.pos}
			}
			cur.words = append(cur.words, w)
		}
	}
	endPipe()
	// Nested scripts, in order after their command.
	all := make([]*simpleCmd, 0, len(out))
	for _, c := range out {
		all = append(all, c)
		for _, ws := range [3][]word{c.assigns, c.words, c.stdin} {
			for _, w := range ws {
				for _, s := range w.subs {
					all = append(all, parseDepth(s.text, at(s.pos), flat, depth+1)...)
				}
			}
		}
		for _, h := range c.heredocs {
			if heredocIsScript(c) {
				all = append(all, parseDepth(h.body, at(h.pos), flat, depth+1)...)
			}
		}
		if script, w, ok := shellCommandString(c); ok {
			// A quoted script without escapes is a verbatim slice of src,
			// so its commands keep exact positions.
			if !flat && w.end-w.pos == len(script)+2 && src[w.pos-base+1:w.end-base-1] == script {
				all = append(all, parseDepth(script, w.pos+1, false, depth+1)...)
			} else {
				all = append(all, parseDepth(script, w.pos, true, depth+1)...)
			}
		}
	}
	return all
}

// isAssignment reports NAME=value (or NAME+=value, NAME[i]=value) before a
// command name.
func isAssignment(w word) bool {
	eq := strings.IndexByte(w.lit, '=')
	if eq <= 0 {
		return false
	}
	name := strings.TrimSuffix(w.lit[:eq], "+")
	if i := strings.IndexByte(name, '['); i > 0 && strings.HasSuffix(name, "]") {
		name = name[:i]
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c == '_' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || i > 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	return name != ""
}

// heredocIsScript reports whether a command's heredoc body is a shell script
// rather than file content: a Dockerfile "RUN <<EOF" (a heredoc with no
// command runs with the default shell) or a shell reading its script from
// standard input ("bash <<EOF", "sh -s <<EOF").
func heredocIsScript(c *simpleCmd) bool {
	args := unwrap(c.words)
	if len(args) == 0 {
		return true
	}
	name := cmdName(args[0])
	return shells[name] && readsStdinScript(name, args[1:])
}

// shellCommandString returns the script of "sh -c 'script'" (also bash, su
// -c, and wrapped in sudo/env), and the word that holds it.
func shellCommandString(c *simpleCmd) (string, word, bool) {
	args := unwrap(c.words)
	if len(args) == 0 {
		return "", word{}, false
	}
	name := cmdName(args[0])
	if !shells[name] && name != "su" {
		return "", word{}, false
	}
	for i := 1; i < len(args); i++ {
		a := args[i].lit
		if a == "--" || !strings.HasPrefix(a, "-") && !strings.HasPrefix(a, "+") {
			if name == "su" {
				continue // su's user name
			}
			return "", word{}, false
		}
		if a == "--command" || strings.HasPrefix(a, "-") && !strings.HasPrefix(a, "--") && strings.ContainsRune(a, 'c') {
			if i+1 < len(args) {
				return args[i+1].lit, args[i+1], true
			}
			return "", word{}, false
		}
		if strings.HasPrefix(a, "--command=") {
			return strings.TrimPrefix(a, "--command="), args[i], true
		}
		if name != "su" && (a == "-o" || a == "+o" || a == "-O" || a == "+O") {
			i++
		}
	}
	return "", word{}, false
}
