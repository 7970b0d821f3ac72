package dockerfile

import (
	"bytes"
	"encoding/json"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/buildkit/frontend/dockerfile/shell"
)

// fastParse builds the parts of BuildKit's parse tree the scanner reads,
// following parser.Parse line for line but without its per-line regular
// expressions, which cost four times more than everything else the scanner
// does. It gives up (ok false) on anything parser.Parse could reject, so
// the caller then asks the real parser, which stays the judge of what a
// valid Dockerfile is. A differential fuzz test holds the two together.
// The one exception is a line longer than parser.Parse reads (see
// source.longLine): the caller checks for it, and the fast path reads past
// it so that what follows keeps its place.
//
// The nodes carry Value, Original, Flags, StartLine, EndLine, Heredocs and
// the json attribute; Next is filled for FROM, RUN and ADD, and Children for
// ONBUILD. PrevComment is not.
func fastParse(src *source) (children []*parser.Node, lines []parsed, ok bool) {
	var dp parser.DirectiveParser
	var lex *shell.Lex
	n := src.lines()
	children = make([]*parser.Node, 0, n/3+1)
	lines = make([]parsed, 0, n/3+1)
	for i := 1; i <= n; {
		raw, _ := src.line(i)
		if i == 1 {
			raw = bytes.TrimPrefix(raw, []byte{0xEF, 0xBB, 0xBF})
		}
		tok := bytes.TrimLeftFunc(trimNewline(raw), unicode.IsSpace)
		d, err := dp.ParseLine(tok)
		if err != nil {
			return nil, nil, false
		}
		if d != nil && d.Name == "escape" {
			if d.Value != "`" && d.Value != `\` {
				return nil, nil, false
			}
			src.escape = d.Value[0]
		}
		if isCommentLine(tok) {
			i++
			continue
		}
		if t, cont := trimContinuation(tok, src.escape); !cont && len(t) == 0 {
			i++
			continue
		}
		l := src.instruction(i)
		node, in, ok := fastNode(&l, l.text, 0, src.escape)
		if !ok {
			return nil, nil, false
		}
		lines = append(lines, parsed{l: l, in: in})
		end := l.last
		if canContainHeredoc(node) && strings.Contains(l.text, "<<") {
			if lex == nil {
				lex = shell.NewLex('\\')
				lex.RawQuotes = true
				lex.RawEscapes = true
				lex.SkipUnsetEnv = true
			}
			docs, ok := heredocs(lex, l.text)
			if !ok {
				return nil, nil, false
			}
			for _, h := range docs {
				var content strings.Builder
				terminated := false
				for end < n {
					end++
					body, _ := src.line(end)
					t := trimNewline(body)
					if h.Chomp {
						t = bytes.TrimLeft(t, "\t")
					}
					if string(t) == h.Name {
						terminated = true
						break
					}
					content.Write(body)
				}
				if !terminated {
					return nil, nil, false
				}
				h.Content = content.String()
				node.Heredocs = append(node.Heredocs, h)
			}
		}
		node.StartLine, node.EndLine = i, end
		children = append(children, node)
		i = end + 1
	}
	return children, lines, true
}

// parsed is an instruction's logical line and its split into parts.
type parsed struct {
	l  logical
	in instr
}

// fastNode mirrors the parser's newNodeFromLine for text, a logical line or
// the rest of an ONBUILD line at offset base.
func fastNode(l *logical, text string, base int, esc byte) (*parser.Node, instr, bool) {
	in := split(l, text, base, esc)
	node := &parser.Node{Value: in.cmd, Original: text}
	for _, f := range in.flags {
		node.Flags = append(node.Flags, f.s)
	}
	switch keyword(in.cmd) {
	case "from":
		node.Next = wordList(in.args)
	case "run":
		if next, isJSON, ok := maybeJSON(in.args); !ok {
			return nil, in, false
		} else if isJSON {
			node.Next, node.Attributes = next, map[string]bool{"json": true}
		} else if in.args != "" {
			node.Next = &parser.Node{Value: in.args}
		}
	case "add", "copy", "volume":
		next, isJSON, ok := maybeJSON(in.args)
		if !ok {
			return nil, in, false
		}
		if isJSON {
			node.Next, node.Attributes = next, map[string]bool{"json": true}
		} else if strings.EqualFold(in.cmd, "add") {
			node.Next = wordList(in.args)
		}
	case "cmd", "entrypoint", "shell":
		_, isJSON, ok := maybeJSON(in.args)
		if !ok {
			return nil, in, false
		}
		if isJSON {
			node.Attributes = map[string]bool{"json": true}
		}
	case "healthcheck":
		i := 0
		for i < len(in.args) && !unicode.IsSpace(rune(in.args[i])) {
			i++
		}
		for i < len(in.args) && unicode.IsSpace(rune(in.args[i])) {
			i++
		}
		_, isJSON, ok := maybeJSON(in.args[i:])
		if !ok {
			return nil, in, false
		}
		if isJSON && i > 0 {
			node.Attributes = map[string]bool{"json": true}
		}
	case "env", "label":
		if !nameValOK(in.args, esc) {
			return nil, in, false
		}
	case "onbuild":
		if in.args == "" {
			break
		}
		child, _, ok := fastNode(l, in.args, in.argStart, esc)
		if !ok {
			return nil, in, false
		}
		node.Next = &parser.Node{Children: []*parser.Node{child}}
	}
	return node, in, true
}

// wordList is parseStringsWhitespaceDelimited.
func wordList(args string) *parser.Node {
	var first, prev *parser.Node
	for _, f := range fields(args, 0) {
		n := &parser.Node{Value: args[f[0]:f[1]]}
		if prev == nil {
			first = n
		} else {
			prev.Next = n
		}
		prev = n
	}
	return first
}

// maybeJSON is parseJSON's judgement: a JSON array of strings is the exec
// form; a JSON array holding anything else is an error (ok false);
// everything else is the shell form.
func maybeJSON(args string) (next *parser.Node, isJSON, ok bool) {
	rest := strings.TrimLeftFunc(args, unicode.IsSpace)
	if !strings.HasPrefix(rest, "[") {
		return nil, false, true
	}
	var arr []any
	if err := json.Unmarshal([]byte(rest), &arr); err != nil {
		return nil, false, true
	}
	var prev *parser.Node
	for _, v := range arr {
		s, isString := v.(string)
		if !isString {
			return nil, false, false
		}
		n := &parser.Node{Value: s}
		if prev == nil {
			next = n
		} else {
			prev.Next = n
		}
		prev = n
	}
	return next, true, true
}

// nameValOK reports whether parseNameVal accepts an ENV or LABEL line.
func nameValOK(args string, esc byte) bool {
	ws := words(args, 0, esc)
	if len(ws) == 0 {
		return true
	}
	if !strings.Contains(args[ws[0][0]:ws[0][1]], "=") {
		return strings.IndexFunc(args, func(r rune) bool { return r < 0x80 && isASCIISpace(byte(r)) }) >= 0
	}
	for _, w := range ws {
		if !strings.Contains(args[w[0]:w[1]], "=") {
			return false
		}
	}
	return true
}

func canContainHeredoc(n *parser.Node) bool {
	if strings.EqualFold(n.Value, "onbuild") && n.Next != nil && len(n.Next.Children) > 0 {
		n = n.Next.Children[0]
	}
	switch keyword(n.Value) {
	case "add", "copy", "run":
		return !n.Attributes["json"]
	}
	return false
}

// heredocs is the parser's heredocsFromLine; lex must be set up as it
// sets up its own (raw quotes and escapes, unset variables kept).
func heredocs(lex *shell.Lex, line string) ([]parser.Heredoc, bool) {
	if !utf8.ValidString(line) {
		// The lexer reads each invalid byte as U+FFFD, and its scanner
		// prints a complaint about it on stderr; do the former only.
		var b strings.Builder
		for i := 0; i < len(line); {
			r, w := utf8.DecodeRuneInString(line[i:])
			if r == utf8.RuneError && w == 1 {
				b.WriteRune(utf8.RuneError)
			} else {
				b.WriteString(line[i : i+w])
			}
			i += w
		}
		line = b.String()
	}
	ws, _ := lex.ProcessWords(line, noEnv{})
	var docs []parser.Heredoc
	for _, w := range ws {
		h, err := parser.ParseHeredoc(w)
		if err != nil {
			return nil, false
		}
		if h != nil {
			docs = append(docs, *h)
		}
	}
	return docs, true
}

type noEnv struct{}

func (noEnv) Get(string) (string, bool) { return "", false }
func (noEnv) Keys() []string            { return nil }

// keywords are the instructions whose handling differs.
var keywords = []string{"add", "arg", "cmd", "copy", "entrypoint", "env", "expose", "from", "healthcheck", "label", "onbuild", "run", "shell", "stopsignal", "user", "volume", "workdir"}

// keyword is the lower-case form of a known instruction name, without the
// allocation of strings.ToLower; other names give "".
func keyword(cmd string) string {
	for _, k := range keywords {
		if len(k) == len(cmd) && strings.EqualFold(k, cmd) {
			return k
		}
	}
	return ""
}
