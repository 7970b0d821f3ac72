package dockerfile

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/moby/buildkit/frontend/dockerfile/shell"
)

// state says what is statically known about a variable.
type state int8

const (
	// unset: declared without a value (or, in the global scope, not
	// declared at all). Only a --build-arg could give it one.
	unset state = iota
	// static: the file gives it a value.
	static
	// dynamic: it has a value the file does not determine (BuildKit's
	// platform arguments, a value built from those, or whatever the base
	// image's environment holds).
	dynamic
)

// variable is an ARG or ENV binding.
type variable struct {
	state state
	value string
	// origin is the file range of the literal value that gave the variable
	// its value, so a pin can rewrite it; nil when the value is not a plain
	// literal (built from variables, escaped, split across lines).
	origin *[2]int
	// src is the literal default whose value the variable holds unchanged:
	// its own (origin), or that of the variable it copies (ARG B=${A}, or
	// ARG A re-declared in a stage). A pin of src changes this variable too.
	src *[2]int
	env bool // set by ENV, which ARG cannot override
	// Why a static value has no origin, for messages: how it is written,
	// the name it was declared with, and the file offset of the value.
	how  writing
	name string
	at   int
}

// writing is how a value that is no plain literal is written.
type writing int8

const (
	plain writing = iota
	fromVariables
	quotedInside
	continued
)

var writings = [...]string{
	fromVariables: "is built from other variables",
	quotedInside:  "is written with quotes or escape characters inside it",
	continued:     "is split across lines by a line continuation",
}

// platformArgs are the arguments BuildKit defines from the build and target
// platforms; their values are never known from the file.
var platformArgs = map[string]bool{
	"BUILDPLATFORM": true, "BUILDOS": true, "BUILDOSVERSION": true, "BUILDARCH": true, "BUILDVARIANT": true,
	"TARGETPLATFORM": true, "TARGETOS": true, "TARGETOSVERSION": true, "TARGETARCH": true, "TARGETVARIANT": true,
	"TARGETSTAGE": true,
}

// scope is the set of variables visible to an instruction.
type scope struct {
	vars map[string]*variable
	// undeclared is the state of a name the scope does not hold: unset in
	// the global scope, dynamic inside a stage (the base image's
	// environment is unknown) and in ONBUILD triggers.
	undeclared state
	// shared is set once a variable holds a literal default (src): only
	// then can an instruction's use of it matter.
	shared bool
}

// set binds name to v.
func (sc *scope) set(name string, v *variable) {
	sc.vars[name] = v
	if v.src != nil {
		sc.shared = true
	}
}

func newScope(undeclared state) *scope {
	return &scope{vars: map[string]*variable{}, undeclared: undeclared}
}

func (sc *scope) lookup(name string) *variable {
	if v, ok := sc.vars[name]; ok {
		return v
	}
	if sc.undeclared == unset && platformArgs[name] {
		return &variable{state: dynamic}
	}
	return &variable{state: sc.undeclared}
}

// Get implements shell.EnvGetter with the variables that have a static value.
func (sc *scope) Get(name string) (string, bool) {
	if v, ok := sc.vars[name]; ok && v.state == static {
		return v.value, true
	}
	return "", false
}

// Keys implements shell.EnvGetter.
func (sc *scope) Keys() []string {
	keys := make([]string, 0, len(sc.vars))
	for k, v := range sc.vars {
		if v.state == static {
			keys = append(keys, k)
		}
	}
	return keys
}

// errSubstitution is a word the shell lexer would reject, such as "${X".
var errSubstitution = errors.New("bad substitution")

// expansion is the result of substituting the variables of a word.
type expansion struct {
	value   string
	dynamic bool
	// whole is set when the word is exactly one variable expression; its
	// value's origin (the ARG default, or the inline ${X:-default}) is then
	// where a pin must write.
	whole  bool
	origin *[2]int
	// noOrigin says why origin is nil for a whole, static word.
	noOrigin noOrigin
	// vars is set when the word holds a variable expression at all.
	vars bool
	// empty is set when a variable the word reads has an empty default:
	// the value is meant to come from the build.
	empty bool
}

// expand substitutes w's variables the way BuildKit's shell lexer does and
// works out whether the result depends on something the file does not fix.
func (sc *scope) expand(lex *shell.Lex, esc byte, w located) (expansion, error) {
	var x expansion
	if !utf8.ValidString(w.s) {
		// Not a reference; and the lexer's scanner would print about it.
		return x, errSubstitution
	}
	if !strings.ContainsAny(w.s, `$"'`) && strings.IndexByte(w.s, esc) < 0 {
		// Nothing for the lexer to do.
		x.value = w.s
		return x, nil
	}
	p := varParser{s: w.s, esc: esc}
	refs, ok := p.refs(0, len(w.s))
	if !ok {
		return x, errSubstitution
	}
	x.vars = len(refs) > 0
	for _, r := range refs {
		if sc.refDynamic(&p, r) {
			x.dynamic = true
		}
		if v := sc.lookup(r.name); v.state == static && v.value == "" && (r.op == "" || r.op == "-" || r.op == "?") {
			x.empty = true
		}
	}
	if !x.dynamic {
		res, err := lex.ProcessWordWithMatches(w.s, sc)
		if err != nil {
			return x, err
		}
		x.value = res.Result
		if len(refs) == 1 && refs[0].start == 0 && refs[0].end == len(w.s) {
			x.whole = true
			x.origin, x.noOrigin = sc.origin(&p, refs[0], w)
		}
		return x, nil
	}
	// Best effort for a dynamic word: keep what cannot be substituted as
	// written so the static parts (a registry, a digest) stay readable.
	lex.SkipUnsetEnv = true
	res, err := lex.ProcessWordWithMatches(w.s, sc)
	lex.SkipUnsetEnv = false
	if err != nil {
		return x, nil
	}
	x.value = res.Result
	return x, nil
}

// refDynamic reports whether the value of r depends on a variable the file
// does not fix.
func (sc *scope) refDynamic(p *varParser, r varRef) bool {
	v := sc.lookup(r.name)
	argDynamic := func() bool {
		refs, ok := p.refs(r.argStart, r.argEnd)
		if !ok {
			return true
		}
		for _, a := range refs {
			if sc.refDynamic(p, a) {
				return true
			}
		}
		return false
	}
	switch v.state {
	case dynamic:
		return true
	case unset:
		switch r.op {
		case "-", ":-":
			return argDynamic()
		case "+", ":+":
			return false
		}
		return true
	}
	switch r.op {
	case "", "-", "?":
		return false
	case ":?":
		return v.value == ""
	case ":-":
		return v.value == "" && argDynamic()
	case ":+":
		return v.value != "" && argDynamic()
	}
	// "+", and the pattern operators whose pattern may be dynamic.
	return argDynamic()
}

// origin finds where the value of a word that is exactly the variable
// expression r was written: the literal default of its ARG (or ENV), or the
// literal default inside ${X:-default}. When there is none, why says why.
func (sc *scope) origin(p *varParser, r varRef, w located) (origin *[2]int, why noOrigin) {
	v := sc.lookup(r.name)
	useDefault := false
	switch r.op {
	case "":
		if v.state != static {
			return nil, noOrigin{}
		}
	case "-":
		useDefault = v.state != static
	case ":-":
		useDefault = v.state != static || v.value == ""
	default:
		return nil, noOrigin{word: w.s, name: r.name, op: r.op}
	}
	if !useDefault {
		if v.origin == nil {
			return nil, noOrigin{v: v}
		}
		return v.origin, noOrigin{}
	}
	def := w.slice(r.argStart, r.argEnd)
	if def.s == "" || strings.ContainsAny(def.s, `$"'`) || strings.IndexByte(def.s, p.esc) >= 0 || !def.contiguous() {
		return nil, noOrigin{word: w.s, inline: true}
	}
	a, b := def.span()
	return &[2]int{a, b}, noOrigin{}
}

// noOrigin is why a word that is one variable has no literal to pin; its
// message is only written for the references that need it.
type noOrigin struct {
	// v is the variable whose value is no literal.
	v *variable
	// word is the variable expression; name and op the operator that
	// reads it, or inline the default inside it, when that is the reason.
	word, name, op string
	inline         bool
}

// message says why in words; "" when there is nothing to say.
func (n noOrigin) message(src *source) string {
	switch {
	case n.op != "":
		return "it reads " + n.name + " through the " + n.op + " operator of " + n.word + ", so its value is written nowhere as it is; " +
			"write the reference as one ARG default (ARG " + n.name + "=…, FROM ${" + n.name + "}) to pin it"
	case n.inline:
		return "its value, the default inside " + n.word + ", is not one plain literal " +
			"(it is built from variables, or quoted, escaped or split across lines), so there is no one place for a digest"
	case n.v == nil:
		return ""
	case n.v.src != nil:
		line, _ := src.pos(n.v.src[0])
		return fmt.Sprintf("its value is copied from another variable, whose default at line %d is where a digest would go; "+
			"read that variable here to pin it", line)
	case n.v.how != plain:
		kind := "ARG"
		if n.v.env {
			kind = "ENV"
		}
		line, _ := src.pos(n.v.at)
		return fmt.Sprintf("its value, set by %s %s at line %d, %s, so there is no one place for a digest; "+
			"write the whole reference as one literal default to pin it", kind, n.v.name, line, writings[n.v.how])
	}
	return ""
}

// varRef is one $NAME or ${NAME…} expression in a word.
type varRef struct {
	name             string
	op               string // "", "-", ":-", "+", ":+", "?", ":?", "#", "%", "/"
	start, end       int    // the whole expression
	argStart, argEnd int    // the word after the operator
}

// varParser finds the variable expressions of a word with the quoting rules
// of BuildKit's shell lexer: nothing expands inside single quotes, the
// escape token protects the next character.
type varParser struct {
	s   string
	esc byte
}

// refs returns the top-level expressions in s[i:j]; ok is false when the
// word is malformed (the lexer would reject it).
func (p *varParser) refs(i, j int) ([]varRef, bool) {
	var out []varRef
	inDouble := false
	for i < j {
		c := p.s[i]
		switch {
		case c == p.esc:
			if inDouble {
				if i+1 < j && (p.s[i+1] == '"' || p.s[i+1] == '$' || p.s[i+1] == p.esc) {
					i += 2
				} else {
					i++
				}
				continue
			}
			i += 2
		case c == '\'' && !inDouble:
			k := strings.IndexByte(p.s[i+1:j], '\'')
			if k < 0 {
				return out, false
			}
			i += k + 2
		case c == '"':
			inDouble = !inDouble
			i++
		case c == '$':
			r, next, ok := p.dollar(i, j)
			if !ok {
				return out, false
			}
			if r.name != "" {
				out = append(out, r)
			}
			i = next
		default:
			i++
		}
	}
	return out, !inDouble
}

// name reads a variable name at i the way the lexer's processName does.
func (p *varParser) name(i, j int) int {
	if i >= j {
		return i
	}
	if c := p.s[i]; c >= '0' && c <= '9' {
		for i < j && p.s[i] >= '0' && p.s[i] <= '9' {
			i++
		}
		return i
	}
	switch p.s[i] {
	case '@', '*', '#', '?', '-', '$', '!', '0':
		return i + 1
	}
	for i < j {
		r, w := utf8.DecodeRuneInString(p.s[i:j])
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '_' {
			break
		}
		i += w
	}
	return i
}

// dollar parses the expression starting at the '$' at i.
func (p *varParser) dollar(i, j int) (varRef, int, bool) {
	r := varRef{start: i}
	i++
	if i >= j || p.s[i] != '{' {
		k := p.name(i, j)
		r.name, r.end = p.s[i:k], k
		return r, k, true
	}
	i++
	if i >= j {
		return r, j, false
	}
	switch p.s[i] {
	case '{', '}', ':':
		return r, j, false
	}
	k := p.name(i, j)
	r.name = p.s[i:k]
	if k >= j {
		return r, j, false
	}
	i = k
	switch c := p.s[i]; c {
	case '}':
		r.end = i + 1
		return r, r.end, true
	case ':':
		// The lexer rejects ${X:=y}, ${X:#y} and the like.
		if i+1 >= j || (p.s[i+1] != '-' && p.s[i+1] != '+' && p.s[i+1] != '?') {
			return r, j, false
		}
		r.op = p.s[i : i+2]
		i += 2
	case '+', '-', '?', '#', '%', '/':
		r.op = string(c)
		i++
	default:
		return r, j, false
	}
	r.argStart = i
	end, ok := p.closing(i, j)
	if !ok {
		return r, j, false
	}
	r.argEnd, r.end = end, end+1
	return r, r.end, true
}

// closing finds the '}' that ends an expression's word starting at i.
func (p *varParser) closing(i, j int) (int, bool) {
	for i < j {
		c := p.s[i]
		switch {
		case c == '}':
			return i, true
		case c == p.esc:
			i += 2
		case c == '\'':
			k := strings.IndexByte(p.s[i+1:j], '\'')
			if k < 0 {
				return j, false
			}
			i += k + 2
		case c == '"':
			k := i + 1
			for k < j && p.s[k] != '"' {
				if p.s[k] == p.esc {
					k++
				}
				k++
			}
			if k >= j {
				return j, false
			}
			i = k + 1
		case c == '$':
			_, next, ok := p.dollar(i, j)
			if !ok {
				return j, false
			}
			i = next
		default:
			i++
		}
	}
	return j, false
}
