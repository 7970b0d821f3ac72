package yamlref

import (
	"bytes"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"gopkg.in/yaml.v3"

	"github.com/stet-dev/stet/ref"
	"github.com/stet-dev/stet/scan"
	"github.com/stet-dev/stet/scan/yamlpos"
)

// Span is where a scalar node's value lies (see yamlpos.Span): false for an
// alias, a node that is not in the file, and a block scalar (| or >) that
// holds no content or several lines.
//
// A block scalar with one content line is located at that line: the span
// covers it without its blanks, and is exact only when it holds the
// block's value exactly, as a stripped block (|- or >-) of that one line
// without blank lines before it or extra indentation has it. Text written
// there is then the block's value (mysql:8 becomes mysql:8@sha256:…).
// Where | or > keeps a line break, or a blank line or indentation is part
// of the value, the line is not the value (see BlockLines).
func (f *File) Span(n *yaml.Node) (yamlpos.Span, bool) {
	if n == nil {
		return yamlpos.Span{}, false
	}
	if isBlock(n) {
		s, e, ok := f.blockContent(n)
		if !ok || bytes.IndexByte(f.Data[s:e], '\n') >= 0 {
			return yamlpos.Span{}, false
		}
		return yamlpos.Span{Start: s, End: e, Exact: string(f.Data[s:e]) == n.Value}, true
	}
	off := f.valueStart(n)
	if off < 0 {
		return yamlpos.Span{}, false
	}
	// yamlpos counts columns in characters from the line start, a byte
	// order mark included.
	c := *n
	line, bytecol := f.Index.Position(off)
	c.Line, c.Column = line, utf8.RuneCount(f.Data[off-(bytecol-1):off])+1
	return f.Index.Scalar(&c)
}

// valueStart returns the offset of a node's first value character (a plain
// scalar's first character, the opening quote of a quoted one, the
// indicator of a block scalar), or -1. It is the one place that turns
// yaml.v3's position of a node into bytes:
//
//   - yaml.v3 does not count a byte order mark at the start of the file as
//     a column of line 1;
//   - it places a node with an anchor or a tag (&img nginx, !!str 1.0, or
//     the bare tag ! x) at its first property, and the value follows the
//     properties and any comment after them (&img # base image, then the
//     value on the next line).
func (f *File) valueStart(n *yaml.Node) int {
	col := n.Column
	if f.bom && n.Line == 1 {
		col++
	}
	off := f.Index.Offset(n.Line, col)
	if off >= 0 && off < len(f.Data) && (f.Data[off] == '&' || f.Data[off] == '!') {
		off = f.skipProperties(off)
	}
	return off
}

// skipProperties returns the offset of the first byte after the anchors,
// tags, blanks and comments that start at off.
func (f *File) skipProperties(off int) int {
	d := f.Data
	for off < len(d) {
		switch d[off] {
		case '&', '!':
			for off < len(d) && !isSpace(d[off]) {
				off++
			}
		case ' ', '\t', '\n', '\r':
			off++
		case '#':
			for off < len(d) && d[off] != '\n' {
				off++
			}
		default:
			return off
		}
	}
	return off
}

// Extent returns the byte range [start, end) that a scalar's value occupies in
// the file: inside the quotes of a quoted scalar, from the first to the last
// content character of a block scalar (which starts on the line after its
// "|" or ">" indicator), across the folded lines of a multi-line plain scalar.
// Where Span is exact, the extent is its span.
func (f *File) Extent(n *yaml.Node) (start, end int) {
	if n == nil || n.Kind != yaml.ScalarNode {
		return 0, 0
	}
	if sp, ok := f.Span(n); ok && sp.Exact {
		return sp.Start, sp.End
	}
	pos := f.valueStart(n)
	if pos < 0 {
		return 0, 0
	}
	switch {
	case n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0:
		return blockExtent(f.Data, pos)
	case n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0:
		start = min(pos+1, len(f.Data))
		end, _ := quotedEnd(f.Data, start, n.Style)
		return start, min(end, len(f.Data))
	}
	return pos, plainEnd(f.Data, pos, n.Value)
}

// isBlock reports whether n is a block scalar, literal (|) or folded (>).
func isBlock(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0
}

// blockContent returns the bytes from the first to the last content
// character of a block scalar; ok is false for a block without content.
func (f *File) blockContent(n *yaml.Node) (start, end int, ok bool) {
	pos := f.valueStart(n)
	if pos < 0 || pos >= len(f.Data) {
		return 0, 0, false
	}
	start, end = blockExtent(f.Data, pos)
	for start < end && isSpace(f.Data[start]) {
		start++
	}
	for end > start && isSpace(f.Data[end-1]) {
		end--
	}
	return start, end, start < end
}

// BlockLines returns a dynamic image reference for a block scalar written
// where an image belongs whose value is not one image alone: several
// content lines (no image name spans lines, so what runs is not what the
// file reads as a reference), or one line that is not the block's whole
// value, because | or > keeps the line break after it, a blank line before
// it or indentation beyond the block's is part of the value, or the line
// holds blanks (a # in a block starts no comment). Such a value is
// reported rather than dropped or read as the image on its line. Text is
// the content from its first to its last character, line breaks included;
// the reference has no Name and no Edit, and for one line NotEditable
// gives the block's value. ok is false for any other node, the blocks Str
// reads included.
func (f *File) BlockLines(n *yaml.Node, ctx string) (r ref.Ref, ok bool) {
	if n == nil || !isBlock(n) || n.Tag == "!!null" {
		return r, false
	}
	s, e, ok := f.blockContent(n)
	if !ok {
		return r, false
	}
	text := string(f.Data[s:e])
	several := strings.Contains(text, "\n")
	if !several && text == n.Value && !strings.ContainsFunc(text, unicode.IsSpace) {
		return r, false
	}
	r = ref.Ref{File: f.Path, Kind: ref.Image, Source: f.Source, Text: text, Context: ctx, Dynamic: true}
	r.Line, r.Column = f.Index.Position(s)
	r.EndLine, r.EndColumn = f.Index.Position(e)
	if !several {
		r.NotEditable = fmt.Sprintf("the YAML block's value is %q, not one image reference; write it as a plain value to read and pin it", n.Value)
	}
	return r, true
}

// badBlock returns the first of keys in mapping m whose value is a block
// scalar that BlockLines reports, and that value; key is "" when none is.
func (f *File) badBlock(m *yaml.Node, keys ...string) (key string, n *yaml.Node) {
	for _, k := range keys {
		if v := Get(m, k); v != nil {
			if _, ok := f.BlockLines(v, ""); ok {
				return k, v
			}
		}
	}
	return "", nil
}

// blockFieldReason says why a reference whose field key holds the block n
// is not read.
func blockFieldReason(key string, n *yaml.Node) string {
	return fmt.Sprintf("its %s is a YAML block whose value is %q, not one word; write it as a plain value to read and pin it", key, n.Value)
}

// quotedEnd returns the offset of the quote that closes a scalar quoted in
// style whose content starts at start, skipping escapes (\" in double
// quotes, a doubled quote in single quotes); found is false when the file
// ends first.
func quotedEnd(data []byte, start int, style yaml.Style) (end int, found bool) {
	i := start
	if style&yaml.DoubleQuotedStyle != 0 {
		for i < len(data) && data[i] != '"' {
			if data[i] == '\\' {
				i++
			}
			i++
		}
		return i, i < len(data)
	}
	for i < len(data) {
		if data[i] == '\'' {
			if i+1 < len(data) && data[i+1] == '\'' {
				i += 2
				continue
			}
			break
		}
		i++
	}
	return i, i < len(data)
}

// plainEnd walks a plain scalar's value through the file from start: the bytes
// match the value except where line folding turned a run of whitespace and
// line breaks into one space or newline.
func plainEnd(data []byte, start int, value string) int {
	i, j := start, 0
	for j < len(value) && i < len(data) {
		c := value[j]
		if data[i] == c {
			i++
			j++
			continue
		}
		if c != ' ' && c != '\n' || !isSpace(data[i]) {
			break
		}
		for i < len(data) && isSpace(data[i]) {
			i++
		}
		for j < len(value) && (value[j] == ' ' || value[j] == '\n') {
			j++
		}
	}
	return i
}

func isSpace(b byte) bool { return b == ' ' || b == '\t' || b == '\r' || b == '\n' }

// blockExtent finds the content of a block scalar whose indicator is at hdr:
// the lines after the header that are blank or indented at least as deep as
// the first non-blank one.
func blockExtent(data []byte, hdr int) (start, end int) {
	nl := bytes.IndexByte(data[hdr:], '\n')
	if nl < 0 {
		return len(data), len(data)
	}
	line := hdr + nl + 1
	indent := -1
	start, end = line, line
	for line < len(data) {
		next := len(data)
		if k := bytes.IndexByte(data[line:], '\n'); k >= 0 {
			next = line + k + 1
		}
		text := bytes.TrimRight(data[line:next], "\r\n")
		sp := 0
		for sp < len(text) && text[sp] == ' ' {
			sp++
		}
		if sp == len(text) { // blank line: part of the block, no content
			line = next
			continue
		}
		if indent < 0 {
			indent = sp
			start = line + sp
		} else if sp < indent {
			break
		}
		end = line + len(text)
		line = next
	}
	if indent < 0 {
		return start, start
	}
	return start, end
}

// Locate finds text (a trimmed scalar value) inside the node's extent. The
// span is exact, and may be edited in place, when it is the node's exact
// Span: the value needed no trimming.
func (f *File) Locate(n *yaml.Node, text string) yamlpos.Span {
	if sp, ok := f.Span(n); ok && sp.Exact && string(f.Data[sp.Start:sp.End]) == text {
		return sp
	}
	s, e := f.Extent(n)
	if i := bytes.Index(f.Data[s:e], []byte(text)); i >= 0 {
		return yamlpos.Span{Start: s + i, End: s + i + len(text)}
	}
	return yamlpos.Span{Start: s, End: e}
}

// OneLine reports whether a trimmed scalar fits on one line, the only shape
// a reference can take.
func OneLine(s string) bool {
	return s != "" && !strings.ContainsAny(s, "\r\n")
}

// Command is the script a scalar node holds (a step's run:, a job's script
// line), as a scan.Command of the file's source at the extent of its value;
// ok is false for a node that holds no text to judge.
func (f *File) Command(n *yaml.Node, instruction string) (c scan.Command, ok bool) {
	n = Deref(n)
	v, ok := Text(n)
	if !ok || strings.TrimSpace(v) == "" {
		return scan.Command{}, false
	}
	start, end := f.Extent(n)
	c = scan.Command{File: f.Path, Instruction: instruction, Text: v, Source: f.Source}
	c.Line, c.Column = f.Index.Position(start)
	c.EndLine, c.EndColumn = f.Index.Position(end)
	return c, true
}
