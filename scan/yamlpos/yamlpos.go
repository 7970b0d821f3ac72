// Package yamlpos turns yaml.v3 nodes into exact byte spans. yaml.v3 reports
// 1-based lines and columns counted in characters; stet edits bytes, so every
// YAML scanner goes through this package to find where a scalar's value
// starts and ends in the file.
package yamlpos

import (
	"bytes"
	"errors"
	"io"
	"regexp"
	"strconv"
	"unicode/utf8"

	"gopkg.in/yaml.v3"

	"github.com/stet-dev/stet/scan"
)

// Index maps positions in one file.
type Index struct {
	data  []byte
	lines []int // byte offset of the start of each line; lines[0] == 0
}

// NewIndex indexes data's line starts.
func NewIndex(data []byte) *Index {
	lines := make([]int, 1, 64)
	for i, b := range data {
		if b == '\n' {
			lines = append(lines, i+1)
		}
	}
	return &Index{data: data, lines: lines}
}

// Data returns the indexed bytes.
func (ix *Index) Data() []byte { return ix.data }

// Offset converts a 1-based line and 1-based character column (as yaml.v3
// reports them) into a byte offset. It returns -1 when out of range.
func (ix *Index) Offset(line, col int) int {
	if line < 1 || line > len(ix.lines) || col < 1 {
		return -1
	}
	off := ix.lines[line-1]
	for c := 1; c < col; c++ {
		if off >= len(ix.data) || ix.data[off] == '\n' {
			return -1
		}
		_, w := utf8.DecodeRune(ix.data[off:])
		off += w
	}
	return off
}

// Position converts a byte offset into a 1-based line and 1-based byte column.
func (ix *Index) Position(off int) (line, col int) {
	lo, hi := 0, len(ix.lines)-1
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if ix.lines[mid] <= off {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	return lo + 1, off - ix.lines[lo] + 1
}

// Span is the byte range of a scalar's value, without its quotes.
type Span struct {
	Start, End int
	// Exact is true when data[Start:End] equals the node's value: a plain or
	// quoted scalar on one line without escapes. Only exact spans may be edited.
	Exact bool
}

// Scalar returns where a scalar node's value lies in the file. Block scalars
// (| and >) and aliases are never exact.
func (ix *Index) Scalar(n *yaml.Node) (Span, bool) {
	if n == nil || n.Kind != yaml.ScalarNode {
		return Span{}, false
	}
	if n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
		return Span{}, false
	}
	start := ix.Offset(n.Line, n.Column)
	if start < 0 || start > len(ix.data) {
		return Span{}, false
	}
	// yaml.v3 places a node with an anchor (&a) or an explicit tag (!!str)
	// at that property, not at its value: step over the properties.
	for start < len(ix.data) && (ix.data[start] == '&' || ix.data[start] == '!') {
		for start < len(ix.data) && !isBlank(ix.data[start]) {
			start++
		}
		for start < len(ix.data) && isBlank(ix.data[start]) {
			start++
		}
	}
	if n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0 {
		start++ // past the opening quote
	}
	end := start + len(n.Value)
	if end > len(ix.data) {
		return Span{Start: start, End: start}, true
	}
	raw := ix.data[start:end]
	exact := string(raw) == n.Value && bytes.IndexByte(raw, '\n') < 0
	if exact && n.Style&yaml.DoubleQuotedStyle != 0 && (end >= len(ix.data) || ix.data[end] != '"') {
		exact = false
	}
	if exact && n.Style&yaml.SingleQuotedStyle != 0 && (end >= len(ix.data) || ix.data[end] != '\'') {
		exact = false
	}
	return Span{Start: start, End: end, Exact: exact}, true
}

func isBlank(b byte) bool { return b == ' ' || b == '\t' || b == '\r' || b == '\n' }

// Documents decodes every document of a YAML stream. Empty documents are
// skipped. A syntax error becomes a *scan.Error carrying the line yaml.v3 names.
func Documents(file string, data []byte) ([]*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var docs []*yaml.Node
	for {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return docs, AsError(file, err)
		}
		if n.Kind == yaml.DocumentNode && len(n.Content) == 1 {
			docs = append(docs, n.Content[0])
		}
	}
}

var lineRE = regexp.MustCompile(`^yaml: (?:line (\d+): )?(.*)$`)

// AsError converts a yaml.v3 error into a *scan.Error with its line.
func AsError(file string, err error) *scan.Error {
	msg := err.Error()
	if m := lineRE.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return scan.Errorf(file, line, 0, "invalid YAML: %s", m[2])
	}
	return scan.Errorf(file, 0, 0, "invalid YAML: %s", msg)
}

// Get returns the value node for key in a mapping node, or nil. Merge keys
// (<<) are not followed: their values live elsewhere in the file.
func Get(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

// String returns the value of a plain or quoted string scalar at key, if any.
func String(m *yaml.Node, key string) (*yaml.Node, string, bool) {
	n := Get(m, key)
	if n == nil || n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		return nil, "", false
	}
	return n, n.Value, true
}
