// Package yamlnode holds the yaml.v3 node helpers the CI scanners share:
// choosing a file's mapping documents, following aliases and merge keys,
// reading mapping entries, and locating a node's value (or a whole block) as
// exact byte offsets.
package yamlnode

import (
	"bytes"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/stet-dev/stet/scan/yamlpos"
)

// Deref follows aliases (*anchor) to the node they name, so that a value
// written once and reused by alias is read like any other.
func Deref(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 16; i++ {
		n = n.Alias
	}
	if n != nil && n.Kind == yaml.AliasNode {
		return nil
	}
	return n
}

// IsMerge reports whether a mapping key is the YAML merge key <<: the parser
// tags a plain << as !!merge, while a quoted "<<" is an ordinary key.
func IsMerge(k *yaml.Node) bool {
	return k.Kind == yaml.ScalarNode && (k.Tag == "!!merge" || (k.Value == "<<" && k.Style == 0))
}

// Pair is one key and its (dereferenced) value in a mapping.
type Pair struct {
	Key, Value *yaml.Node
}

// Entries lists a mapping's keys in file order, followed by the keys it merges
// in with "<<: *anchor" that it does not set itself. Values are dereferenced.
func Entries(m *yaml.Node) []Pair {
	return entriesDepth(m, 0, nil)
}

// maxMerge bounds how deeply merged mappings may merge others in turn.
const maxMerge = 64

// entriesDepth is Entries for a mapping merged depth levels down. A mapping
// merged more than once adds nothing the first time did not: visited keeps
// it from being expanded again.
func entriesDepth(m *yaml.Node, depth int, visited map[*yaml.Node]bool) []Pair {
	m = Deref(m)
	if m == nil || m.Kind != yaml.MappingNode || visited[m] {
		return nil
	}
	var out []Pair
	var merges []*yaml.Node
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		if IsMerge(k) {
			v = Deref(v)
			switch {
			case v == nil:
			case v.Kind == yaml.MappingNode:
				merges = append(merges, v)
			case v.Kind == yaml.SequenceNode:
				for _, e := range v.Content {
					if e = Deref(e); e != nil && e.Kind == yaml.MappingNode {
						merges = append(merges, e)
					}
				}
			}
			continue
		}
		out = append(out, Pair{k, Deref(v)})
	}
	if len(merges) == 0 || depth >= maxMerge {
		return out
	}
	if visited == nil {
		visited = make(map[*yaml.Node]bool)
	}
	visited[m] = true
	have := make(map[string]bool, len(out))
	for _, p := range out {
		have[p.Key.Value] = true
	}
	for _, mm := range merges {
		for _, p := range entriesDepth(mm, depth+1, visited) {
			if !have[p.Key.Value] {
				have[p.Key.Value] = true
				out = append(out, p)
			}
		}
	}
	return out
}

// Get returns the dereferenced value of key in mapping m, following merge keys.
func Get(m *yaml.Node, key string) *yaml.Node {
	m = Deref(m)
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	merges := false
	for i := 0; i+1 < len(m.Content); i += 2 {
		switch k := m.Content[i]; {
		case k.Value == key:
			return Deref(m.Content[i+1])
		case IsMerge(k):
			merges = true
		}
	}
	if !merges {
		return nil
	}
	for _, p := range Entries(m) {
		if p.Key.Value == key {
			return p.Value
		}
	}
	return nil
}

// GetPair is Get that also returns the key node (its comments matter).
func GetPair(m *yaml.Node, key string) (k, v *yaml.Node) {
	for _, p := range Entries(m) {
		if p.Key.Value == key {
			return p.Key, p.Value
		}
	}
	return nil, nil
}

// Str returns a node's string value when it is a non-null scalar.
func Str(n *yaml.Node) (string, bool) {
	if n == nil || n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		return "", false
	}
	return n.Value, true
}

// Extent returns the byte range [start, end) that a scalar's value occupies in
// the file: inside the quotes of a quoted scalar, from the first to the last
// content character of a block Scalar (which starts on the line after its
// "|" or ">" indicator), across the folded lines of a multi-line plain scalar.
func Extent(ix *yamlpos.Index, n *yaml.Node) (start, end int) {
	data := ix.Data()
	if sp, ok := ix.Scalar(n); ok && sp.Exact {
		return sp.Start, sp.End
	}
	pos := ValueOffset(ix, n)
	if pos < 0 {
		return 0, 0
	}
	switch {
	case n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0:
		return blockExtent(data, pos)
	case n.Style&yaml.DoubleQuotedStyle != 0:
		i := pos + 1
		for i < len(data) && data[i] != '"' {
			if data[i] == '\\' {
				i++
			}
			i++
		}
		return pos + 1, min(i, len(data))
	case n.Style&yaml.SingleQuotedStyle != 0:
		i := pos + 1
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
		return pos + 1, min(i, len(data))
	}
	return pos, plainEnd(data, pos, n.Value)
}

// ValueOffset is the offset of a node's first value character (its opening
// quote or block indicator). yaml.v3 places an anchored or tagged node at its
// first property (&anchor, !tag); the value follows the properties.
func ValueOffset(ix *yamlpos.Index, n *yaml.Node) int {
	pos := ix.Offset(n.Line, n.Column)
	if pos < 0 || n.Anchor == "" && n.Style&yaml.TaggedStyle == 0 {
		return pos
	}
	data := ix.Data()
	for pos < len(data) && (data[pos] == '&' || data[pos] == '!') {
		for pos < len(data) && !isSpace(data[pos]) {
			pos++
		}
		for pos < len(data) && isSpace(data[pos]) {
			pos++
		}
	}
	return pos
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

// blockExtent finds the content of a block Scalar whose indicator is at hdr:
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

// Locate finds text (a trimmed Scalar value) inside the node's extent.
// exact reports whether the value may be edited in place: yamlpos found its
// bytes equal to the value and the value needed no trimming.
func Locate(ix *yamlpos.Index, n *yaml.Node, text string) (start, end int, exact bool) {
	if sp, ok := ix.Scalar(n); ok && sp.Exact && n.Value == text {
		return sp.Start, sp.End, true
	}
	s, e := Extent(ix, n)
	if i := bytes.Index(ix.Data()[s:e], []byte(text)); i >= 0 {
		return s + i, s + i + len(text), false
	}
	return s, e, false
}

// OneLine reports whether a trimmed Scalar fits on one line, the only shape
// a reference can take.
func OneLine(s string) bool {
	return s != "" && !strings.ContainsAny(s, "\r\n")
}
