package dockerfile

import (
	"bytes"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// source is the file being scanned with its line table, computed once so
// that every position lookup is a binary search instead of a rescan.
type source struct {
	data []byte
	// lineStart[i] is the byte offset where line i+1 starts.
	lineStart []int
	escape    byte
}

func newSource(data []byte) *source {
	n := bytes.Count(data, []byte{'\n'}) + 1
	starts := make([]int, 1, n)
	for i := 0; ; {
		j := bytes.IndexByte(data[i:], '\n')
		if j < 0 {
			break
		}
		i += j + 1
		starts = append(starts, i)
	}
	return &source{data: data, lineStart: starts, escape: '\\'}
}

// lines is the number of lines, counting a final line without a newline.
func (s *source) lines() int {
	if len(s.lineStart) > 1 && s.lineStart[len(s.lineStart)-1] == len(s.data) {
		return len(s.lineStart) - 1
	}
	return len(s.lineStart)
}

// line returns the bytes of 1-based line n with its newline, and its offset.
func (s *source) line(n int) ([]byte, int) {
	if n < 1 || n > len(s.lineStart) {
		return nil, len(s.data)
	}
	start := s.lineStart[n-1]
	end := len(s.data)
	if n < len(s.lineStart) {
		end = s.lineStart[n]
	}
	return s.data[start:end], start
}

// pos converts a byte offset into a 1-based line and byte column.
func (s *source) pos(off int) (line, col int) {
	i := sort.Search(len(s.lineStart), func(i int) bool { return s.lineStart[i] > off }) - 1
	if i < 0 {
		i = 0
	}
	return i + 1, off - s.lineStart[i] + 1
}

// segment is a piece of a logical line copied from the file.
type segment struct{ log, file, n int }

// logical is one instruction as buildkit sees it: its physical lines joined,
// with continuation characters and interleaved comment or blank lines
// removed. segs map every byte back to its offset in the file.
type logical struct {
	text string
	segs []segment
	// last is the last physical line of the instruction before any heredoc body.
	last int
}

// fileOff maps an offset in the logical text to a file offset. An offset equal
// to len(text) maps just past the last byte.
func (l *logical) fileOff(i int) int {
	for k := len(l.segs) - 1; k >= 0; k-- {
		sg := l.segs[k]
		if i >= sg.log {
			return sg.file + (i - sg.log)
		}
	}
	return 0
}

// offsets maps the logical byte range [a, b) to file offsets, one per byte.
func (l *logical) offsets(a, b int) []int {
	offs := make([]int, b-a)
	for i := range offs {
		offs[i] = l.fileOff(a + i)
	}
	return offs
}

// trimNewline mirrors the parser: every trailing CR and LF goes.
func trimNewline(b []byte) []byte { return bytes.TrimRight(b, "\r\n") }

func isCommentLine(b []byte) bool {
	b = bytes.TrimLeftFunc(b, unicode.IsSpace)
	return len(b) > 0 && b[0] == '#'
}

// trimContinuation reports whether b ends with the escape token used as a
// line continuation and returns b without it. It is the parser's regular
// expression `([^E])E[ \t]*$|^E[ \t]*$` written out by hand: an escape
// token that is itself escaped does not continue the line.
func trimContinuation(b []byte, esc byte) ([]byte, bool) {
	i := len(b)
	for i > 0 && (b[i-1] == ' ' || b[i-1] == '\t') {
		i--
	}
	if i == 0 || b[i-1] != esc {
		return b, false
	}
	if i == 1 {
		return b[:0], true
	}
	if b[i-2] == esc {
		return b, false
	}
	return b[:i-1], true
}

// instruction rebuilds the logical line of the instruction starting on
// physical line start, the way the buildkit parser joins it.
func (s *source) instruction(start int) logical {
	var l logical
	var buf []byte
	n := start
	raw, off := s.line(n)
	if n == 1 {
		if rest, ok := bytes.CutPrefix(raw, []byte{0xEF, 0xBB, 0xBF}); ok {
			raw, off = rest, off+3
		}
	}
	b := trimNewline(raw)
	t := bytes.TrimLeftFunc(b, unicode.IsSpace)
	off += len(b) - len(t)
	b, cont := trimContinuation(t, s.escape)
	l.segs = append(l.segs, segment{log: 0, file: off, n: len(b)})
	buf = append(buf, b...)
	for cont && n < s.lines() {
		n++
		raw, off = s.line(n)
		b = trimNewline(raw)
		if isCommentLine(b) || len(bytes.TrimLeftFunc(b, unicode.IsSpace)) == 0 {
			continue
		}
		b, cont = trimContinuation(b, s.escape)
		l.segs = append(l.segs, segment{log: len(buf), file: off, n: len(b)})
		buf = append(buf, b...)
	}
	l.text = string(buf)
	l.last = n
	return l
}

// located is a string with the file offset of each of its bytes: a word after
// the parser removed quotes, escapes and continuations from it.
type located struct {
	s    string
	offs []int
}

func (w located) slice(i, j int) located { return located{w.s[i:j], w.offs[i:j]} }

// span is the file range the word was written in.
func (w located) span() (start, end int) {
	if len(w.offs) == 0 {
		return 0, 0
	}
	return w.offs[0], w.offs[len(w.offs)-1] + 1
}

// contiguous reports whether the word's bytes are one unbroken run in the file.
func (w located) contiguous() bool {
	a, b := w.span()
	return b-a == len(w.s)
}

func isASCIISpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\v' || c == '\f' || c == '\r'
}

// instr is an instruction split the way the parser's splitCommand does it,
// with logical offsets kept.
type instr struct {
	cmd      string
	cmdStart int
	flags    []located
	args     string
	argStart int
}

// split mirrors splitCommand and extractBuilderFlags on text (a logical line,
// or the rest of an ONBUILD line starting at logical offset base).
func split(l *logical, text string, base int, esc byte) instr {
	lead := len(text) - len(strings.TrimLeftFunc(text, unicode.IsSpace))
	trimmed := strings.TrimSpace(text)
	in := instr{cmdStart: base + lead}
	i := 0
	for i < len(trimmed) && !isASCIISpace(trimmed[i]) {
		i++
	}
	in.cmd = trimmed[:i]
	if i == len(trimmed) {
		in.argStart = base + lead + i
		return in
	}
	for i < len(trimmed) && isASCIISpace(trimmed[i]) {
		i++
	}
	rest := trimmed[i:]
	restBase := base + lead + i
	flags, argsAt := extractFlags(l, rest, restBase, esc)
	in.flags = flags
	args := rest[argsAt:]
	alead := len(args) - len(strings.TrimLeftFunc(args, unicode.IsSpace))
	in.args = strings.TrimSpace(args)
	in.argStart = restBase + argsAt + alead
	return in
}

// extractFlags mirrors the parser's extractBuilderFlags, recording where each
// byte of each flag word came from. It returns the flags and the offset in
// line where the arguments start.
func extractFlags(l *logical, line string, base int, esc byte) ([]located, int) {
	const (
		inSpaces = iota
		inWord
		inQuote
	)
	var words []located
	phase := inSpaces
	var cur []byte
	var offs []int
	quote := byte(0)
	blankOK := false
	add := func(pos int) {
		ch := line[pos]
		fo := l.fileOff(base + pos)
		if ch < utf8.RuneSelf {
			cur = append(cur, ch)
			offs = append(offs, fo)
			return
		}
		// The parser writes each byte as a rune, so a byte of a
		// multi-byte character becomes two bytes; do the same.
		n := len(cur)
		cur = utf8.AppendRune(cur, rune(ch))
		for range len(cur) - n {
			offs = append(offs, fo)
		}
	}
	emit := func() {
		words = append(words, located{s: string(cur), offs: offs})
		cur, offs = nil, nil
	}
	for pos := 0; pos <= len(line); pos++ {
		var ch byte
		if pos != len(line) {
			ch = line[pos]
		}
		if phase == inSpaces {
			if pos == len(line) {
				break
			}
			if unicode.IsSpace(rune(ch)) {
				continue
			}
			if ch != '-' || pos+1 == len(line) || line[pos+1] != '-' {
				return words, pos
			}
			phase = inWord
		}
		if (phase == inWord || phase == inQuote) && pos == len(line) {
			if w := string(cur); w != "--" && (blankOK || len(w) > 0) {
				emit()
			}
			break
		}
		if phase == inWord {
			if unicode.IsSpace(rune(ch)) {
				phase = inSpaces
				if string(cur) == "--" {
					return words, pos
				}
				if blankOK || len(cur) > 0 {
					emit()
				}
				cur, offs = nil, nil
				blankOK = false
				continue
			}
			if ch == '\'' || ch == '"' {
				quote = ch
				blankOK = true
				phase = inQuote
				continue
			}
			if ch == esc {
				if pos+1 == len(line) {
					continue
				}
				pos++
			}
			add(pos)
			continue
		}
		if phase == inQuote {
			if ch == quote {
				phase = inWord
				continue
			}
			if ch == esc {
				if pos+1 == len(line) {
					phase = inWord
					continue
				}
				pos++
			}
			add(pos)
		}
	}
	return words, len(line)
}

// fields splits FROM and COPY arguments on ASCII whitespace as the parser's
// parseStringsWhitespaceDelimited does; it returns logical [start, end) pairs.
func fields(args string, base int) [][2]int {
	var out [][2]int
	i := 0
	for i < len(args) {
		for i < len(args) && isASCIISpace(args[i]) {
			i++
		}
		if i == len(args) {
			break
		}
		j := i
		for j < len(args) && !isASCIISpace(args[j]) {
			j++
		}
		out = append(out, [2]int{base + i, base + j})
		i = j
	}
	return out
}

// words splits ARG and ENV arguments as the parser's parseWords does:
// whitespace outside quotes separates words, quotes and escapes stay in the
// word. Each word is a contiguous logical range [start, end).
func words(args string, base int, esc byte) [][2]int {
	const (
		inSpaces = iota
		inWord
		inQuote
	)
	var out [][2]int
	phase := inSpaces
	quote := rune(0)
	start, end := 0, 0
	blankOK := false
	var ch rune
	var w int
	for pos := 0; pos <= len(args); pos += w {
		if pos != len(args) {
			ch, w = utf8.DecodeRuneInString(args[pos:])
		}
		if phase == inSpaces {
			if pos == len(args) {
				break
			}
			if unicode.IsSpace(ch) {
				continue
			}
			phase = inWord
			start, end = pos, pos
		}
		if (phase == inWord || phase == inQuote) && pos == len(args) {
			if blankOK || end > start {
				out = append(out, [2]int{base + start, base + end})
			}
			break
		}
		if phase == inWord {
			if unicode.IsSpace(ch) {
				phase = inSpaces
				if blankOK || end > start {
					out = append(out, [2]int{base + start, base + end})
				}
				blankOK = false
				continue
			}
			if ch == '\'' || ch == '"' {
				quote = ch
				blankOK = true
				phase = inQuote
			}
			if ch == rune(esc) {
				if pos+w == len(args) {
					continue
				}
				pos += w
				ch, w = utf8.DecodeRuneInString(args[pos:])
			}
			end = pos + w
			continue
		}
		if phase == inQuote {
			if ch == quote {
				phase = inWord
			}
			if ch == rune(esc) && quote != '\'' {
				if pos+w == len(args) {
					phase = inWord
					continue
				}
				pos += w
				ch, w = utf8.DecodeRuneInString(args[pos:])
			}
			end = pos + w
		}
	}
	return out
}
