package dockerfile

import (
	"bufio"
	"bytes"
	"slices"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// source is the file being scanned with its line table, computed once so
// that every position lookup is a binary search instead of a rescan.
type source struct {
	data []byte
	// str is data as a string, so that instructions on one line are
	// substrings of it rather than copies.
	str string
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
	return &source{data: data, str: string(data), lineStart: starts, escape: '\\'}
}

// maxLine is the longest physical line, its newline included, that
// BuildKit's parser reads: it splits the file with a bufio.Scanner of the
// default size, and fails on a longer line, so docker build does too.
const maxLine = bufio.MaxScanTokenSize

// longLine returns the first 1-based line that BuildKit's parser cannot
// read, or 0. A last line without a newline may be one byte shorter: the
// scanner's buffer must have room left to see the end of the file.
func (s *source) longLine() int {
	for i, start := range s.lineStart {
		end, limit := len(s.data), maxLine-1
		if i+1 < len(s.lineStart) {
			end, limit = s.lineStart[i+1], maxLine
		}
		if end-start > limit {
			return i + 1
		}
	}
	return 0
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
// removed. first and segs map every byte back to its offset in the file.
type logical struct {
	text string
	// first is where the text starts in the file; segs, for an instruction
	// continued over several lines, holds the later pieces.
	first int
	segs  []segment
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
	return l.first + i
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
	l.first = off
	if !cont || n >= s.lines() {
		l.text, l.last = s.str[off:off+len(b)], n
		return l
	}
	buf := make([]byte, 0, 2*len(b)+64)
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

// located is a string with the origin of each of its bytes: a word after
// the parser removed quotes, escapes and continuations from it.
type located struct {
	s string
	l *logical
	// log holds the logical offset of each byte of s; when nil, s is the
	// logical text at start.
	log   []int
	start int
}

// at is the logical offset of byte i.
func (w located) at(i int) int {
	if w.log == nil {
		return w.start + i
	}
	return w.log[i]
}

func (w located) slice(i, j int) located {
	if w.log == nil {
		return located{s: w.s[i:j], l: w.l, start: w.start + i}
	}
	return located{s: w.s[i:j], l: w.l, log: w.log[i:j]}
}

// span is the file range the word was written in.
func (w located) span() (start, end int) {
	if len(w.s) == 0 {
		return 0, 0
	}
	return w.l.fileOff(w.at(0)), w.l.fileOff(w.at(len(w.s)-1)) + 1
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
	// A word without quotes, escapes or multi-byte characters is a plain
	// substring of line; only the others are copied byte by byte.
	var cur []byte
	var log []int
	plain := true
	wstart := 0
	quote := byte(0)
	blankOK := false
	toCopy := func(pos int) {
		plain = false
		cur = append(cur[:0], line[wstart:pos]...)
		log = log[:0]
		for i := wstart; i < pos; i++ {
			log = append(log, base+i)
		}
	}
	add := func(pos int) {
		ch := line[pos]
		if plain {
			if ch < utf8.RuneSelf {
				return
			}
			toCopy(pos)
		}
		if ch < utf8.RuneSelf {
			cur = append(cur, ch)
			log = append(log, base+pos)
			return
		}
		// The parser writes each byte as a rune, so a byte of a
		// multi-byte character becomes two bytes; do the same.
		n := len(cur)
		cur = utf8.AppendRune(cur, rune(ch))
		for range len(cur) - n {
			log = append(log, base+pos)
		}
	}
	word := func(end int) located {
		if plain {
			return located{s: line[wstart:end], l: l, start: base + wstart}
		}
		return located{s: string(cur), l: l, log: slices.Clone(log)}
	}
	length := func(end int) int {
		if plain {
			return end - wstart
		}
		return len(cur)
	}
	reset := func(pos int) {
		plain, wstart = true, pos
		cur, log = cur[:0], log[:0]
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
			reset(pos)
		}
		if (phase == inWord || phase == inQuote) && pos == len(line) {
			if w := word(pos); w.s != "--" && (blankOK || len(w.s) > 0) {
				words = append(words, w)
			}
			break
		}
		if phase == inWord {
			if unicode.IsSpace(rune(ch)) {
				phase = inSpaces
				w := word(pos)
				if w.s == "--" {
					return words, pos
				}
				if blankOK || length(pos) > 0 {
					words = append(words, w)
				}
				blankOK = false
				continue
			}
			if ch == '\'' || ch == '"' {
				if plain {
					toCopy(pos)
				}
				quote = ch
				blankOK = true
				phase = inQuote
				continue
			}
			if ch == esc {
				if plain {
					toCopy(pos)
				}
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
