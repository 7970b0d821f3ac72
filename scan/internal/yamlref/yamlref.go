// Package yamlref holds what the YAML-based image scanners (compose,
// Kubernetes, Helm values, Kustomize) share: placing a scalar node as a
// ref.Ref with exact byte positions, building edit spans, following aliases
// and merge keys, context paths, and the partial reading of references that
// contain variables.
package yamlref

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"

	"github.com/stet-dev/stet/ref"
	"github.com/stet-dev/stet/scan"
	"github.com/stet-dev/stet/scan/internal/yamlnode"
	"github.com/stet-dev/stet/scan/yamlpos"
)

// Unknown stands for the value of a variable that has no static value when a
// scanner expands a reference before reading it (see SetPartial).
const Unknown = "\x00"

var bom = []byte("\ufeff")

// File is one YAML file being scanned.
type File struct {
	Path   string
	Source string
	Data   []byte
	Index  *yamlpos.Index
	// bom is set when the file starts with a UTF-8 byte order mark: yaml.v3
	// does not count it as a column, so line 1 is shifted by one character.
	bom bool
}

// New indexes data for scanning.
func New(path, source string, data []byte) *File {
	return &File{Path: path, Source: source, Data: data, Index: yamlpos.NewIndex(data), bom: bytes.HasPrefix(data, bom)}
}

// Documents decodes every document of the file (see yamlpos.Documents). A
// panic inside the YAML decoder on hostile input becomes an error at line 0
// rather than taking the whole scan down.
func (f *File) Documents() (docs []*yaml.Node, err error) {
	defer func() {
		if p := recover(); p != nil {
			docs, err = nil, scan.Errorf(f.Path, 0, 0, "invalid YAML: %v", p)
		}
	}()
	return yamlpos.Documents(f.Path, f.Data)
}

// Span is where a scalar node's value lies, corrected for a leading byte
// order mark.
//
// yaml.v3 places a node with an anchor or an explicit tag (&img nginx,
// !!str 1.0) at its first property; the value is found after them.
func (f *File) Span(n *yaml.Node) (yamlpos.Span, bool) {
	if n == nil {
		return yamlpos.Span{}, false
	}
	c := *n
	if f.bom && c.Line == 1 {
		c.Column++
	}
	if off := f.Index.Offset(c.Line, c.Column); off >= 0 && off < len(f.Data) && (f.Data[off] == '&' || f.Data[off] == '!') {
		off = f.skipProperties(off)
		line, bytecol := f.Index.Position(off)
		c.Line = line
		// Index columns count characters from the line start, a BOM included.
		c.Column = utf8.RuneCount(f.Data[off-(bytecol-1):off]) + 1
	}
	return f.Index.Scalar(&c)
}

// skipProperties returns the offset of the first byte after the anchors,
// tags, blanks and comments that start at off.
func (f *File) skipProperties(off int) int {
	d := f.Data
	for off < len(d) {
		switch d[off] {
		case '&', '!':
			for off < len(d) && d[off] != ' ' && d[off] != '\t' && d[off] != '\n' && d[off] != '\r' {
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

// Place returns an image Ref located at the scalar n: File, Source, Kind,
// Context, Text and the four position fields are set; Name, Tag and Digest
// are left for the caller. Text is the value as written. When the value is
// exact (see yamlpos.Span) Text is the value itself; a quoted value with
// escapes or line folding is reported by its raw source text between the
// quotes. ok is false for block scalars, aliases and anything that cannot be
// located in the file.
func (f *File) Place(n *yaml.Node, context string) (r ref.Ref, sp yamlpos.Span, ok bool) {
	if n == nil || n.Kind != yaml.ScalarNode {
		return r, sp, false
	}
	sp, ok = f.Span(n)
	if !ok || sp.Start < 0 || sp.End > len(f.Data) || sp.Start > sp.End {
		return r, sp, false
	}
	text := n.Value
	if !sp.Exact {
		end, found := f.rawEnd(n, sp.Start)
		if !found {
			return r, sp, false
		}
		sp.End = end
		text = string(f.Data[sp.Start:end])
	}
	r = ref.Ref{File: f.Path, Kind: ref.Image, Source: f.Source, Text: text, Context: context}
	r.Line, r.Column = f.Index.Position(sp.Start)
	r.EndLine, r.EndColumn = f.Index.Position(sp.End)
	return r, sp, true
}

// rawEnd finds the closing quote of a quoted scalar whose value starts at
// start, for values that yaml.v3 unescaped or folded. Plain scalars spanning
// lines are not located: they cannot hold an image reference anyway.
func (f *File) rawEnd(n *yaml.Node, start int) (int, bool) {
	d := f.Data
	switch {
	case n.Style&yaml.DoubleQuotedStyle != 0:
		if start < 1 || d[start-1] != '"' {
			return 0, false
		}
		for i := start; i < len(d); i++ {
			switch d[i] {
			case '\\':
				i++
			case '"':
				return i, true
			}
		}
	case n.Style&yaml.SingleQuotedStyle != 0:
		if start < 1 || d[start-1] != '\'' {
			return 0, false
		}
		for i := start; i < len(d); i++ {
			if d[i] == '\'' {
				if i+1 < len(d) && d[i+1] == '\'' {
					i++
					continue
				}
				return i, true
			}
		}
	}
	return 0, false
}

// Edit returns the edit span for an exact value span, or nil.
func (f *File) Edit(sp yamlpos.Span, form ref.Form) *ref.Span {
	if !sp.Exact {
		return nil
	}
	line, col := f.Index.Position(sp.Start)
	return &ref.Span{Start: sp.Start, End: sp.End, Line: line, Column: col, Form: form}
}

// Insert returns an empty FormInsert span at off that writes prefix before
// the digest.
func (f *File) Insert(off int, prefix string) *ref.Span {
	line, col := f.Index.Position(off)
	return &ref.Span{Start: off, End: off, Line: line, Column: col, Form: ref.FormInsert, Prefix: prefix}
}

// AfterColon returns the byte offset just past the ':' that follows the
// plain or quoted key node k, or -1. It locates values that are absent
// ("digest:" with nothing after it), which have no position of their own.
func (f *File) AfterColon(k *yaml.Node) int {
	sp, ok := f.Span(k)
	if !ok || !sp.Exact {
		return -1
	}
	i := sp.End
	if k.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0 {
		i++
	}
	for i < len(f.Data) && (f.Data[i] == ' ' || f.Data[i] == '\t') {
		i++
	}
	if i >= len(f.Data) || f.Data[i] != ':' {
		return -1
	}
	return i + 1
}

// LineEnd returns the offset of the line break (the '\r' of a CRLF) that ends
// the line holding off, or len(data), and the line break the file uses there.
func (f *File) LineEnd(off int) (int, string) {
	i := bytes.IndexByte(f.Data[off:], '\n')
	if i < 0 {
		// The last line has no break: match the one before it, if any.
		nl := "\n"
		if j := bytes.LastIndexByte(f.Data[:off], '\n'); j > 0 && f.Data[j-1] == '\r' {
			nl = "\r\n"
		}
		return len(f.Data), nl
	}
	end := off + i
	if end > off && f.Data[end-1] == '\r' {
		return end - 1, "\r\n"
	}
	return end, "\n"
}

// Deref follows alias nodes to the node they name (yamlnode.Deref: the CI
// scanners and these share one definition).
func Deref(n *yaml.Node) *yaml.Node { return yamlnode.Deref(n) }

// Lookup returns the key and value nodes for key in mapping m, looking
// through merge keys (<<: *anchor, or a list of anchors, earlier ones first)
// when m does not hold key itself, as YAML merge semantics say. The value is
// returned as written (it may be an alias).
func Lookup(m *yaml.Node, key string) (k, v *yaml.Node) {
	return lookup(Deref(m), key, 0)
}

func lookup(m *yaml.Node, key string, depth int) (k, v *yaml.Node) {
	if m == nil || m.Kind != yaml.MappingNode || depth > 8 {
		return nil, nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if c := m.Content[i]; c.Kind == yaml.ScalarNode && c.Value == key && c.Tag != "!!merge" {
			return c, m.Content[i+1]
		}
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if !IsMerge(m.Content[i]) {
			continue
		}
		src := Deref(m.Content[i+1])
		if src == nil {
			continue
		}
		if src.Kind == yaml.SequenceNode {
			for _, s := range src.Content {
				if k, v := lookup(Deref(s), key, depth+1); k != nil {
					return k, v
				}
			}
			continue
		}
		if k, v := lookup(src, key, depth+1); k != nil {
			return k, v
		}
	}
	return nil, nil
}

// IsMerge reports whether a mapping key is the YAML merge key << (yamlnode.IsMerge).
func IsMerge(k *yaml.Node) bool { return yamlnode.IsMerge(k) }

// Str returns the value of a scalar that is not null and not a block scalar.
// Numbers and booleans count, as written: tag: 1.20 is "1.20".
func Str(n *yaml.Node) (string, bool) {
	n = Deref(n)
	if n == nil || n.Kind != yaml.ScalarNode || n.Tag == "!!null" || n.Tag == "!!binary" {
		return "", false
	}
	if n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
		return "", false
	}
	return n.Value, true
}

// IsNull reports whether n is an absent value (nothing written, ~ or null).
func IsNull(n *yaml.Node) bool {
	return n == nil || (n.Kind == yaml.ScalarNode && n.Tag == "!!null")
}

// Key extends a context path with a mapping key.
func Key(ctx, key string) string {
	if ctx == "" {
		return key
	}
	return ctx + "." + key
}

// Index extends a context path with a sequence index.
func Index(ctx string, i int) string {
	return ctx + "[" + strconv.Itoa(i) + "]"
}

// SetImage fills r's image fields from s, which has had its variables
// substituted. It wraps ref.SetImage with the reference text for messages.
func SetImage(r *ref.Ref, s string) error {
	if err := r.SetImage(s); err != nil {
		return fmt.Errorf("reading image %q: %w", s, err)
	}
	return nil
}

// SetPartial marks r as dynamic and fills what the static parts of s tell:
// s is a reference in which every variable without a static value was
// replaced by Unknown. postgres:<Unknown> gives Name docker.io/library/postgres
// and an empty Tag; <Unknown>/app:1 gives nothing but Dynamic.
func SetPartial(r *ref.Ref, s string) {
	r.Kind, r.Dynamic = ref.Image, true
	r.Name, r.Tag, r.Digest = "", "", ""
	base, digest := ref.SplitDigest(s)
	name, tag := base, ""
	if i := strings.LastIndexByte(base, ':'); i >= 0 && !strings.Contains(base[i+1:], "/") {
		name, tag = base[:i], base[i+1:]
	}
	if name == "" || strings.Contains(name, Unknown) {
		return
	}
	im, err := ref.ParseImage(name)
	if err != nil {
		return
	}
	r.Name = im.Name()
	if tag != "" && !strings.Contains(tag, Unknown) {
		if im, err := ref.ParseImage(name + ":" + tag); err == nil {
			r.Tag = im.Tag
		}
	}
	if ref.IsDigest(digest) {
		r.Digest = digest
	}
}

// StaticName returns the canonical image name that prefix, the text before
// the first variable or expression of a reference, spells out in full: the
// name of docker:${VERSION} or gcc:${{ matrix.v }}, and "" for a prefix that
// stops inside the name (${REGISTRY}/app, ghcr.io/${{ github.repository }}).
func StaticName(prefix string) string {
	i := strings.LastIndexAny(prefix, ":@")
	if i <= 0 || strings.Contains(prefix[i:], "/") {
		return ""
	}
	im, err := ref.ParseImage(prefix[:i])
	if err != nil {
		return ""
	}
	return im.Name()
}

// String returns the value of a string scalar (tag !!str, not a block
// scalar): an image field holding 12 or true is not an image.
func String(n *yaml.Node) (string, bool) {
	n = Deref(n)
	if n == nil || n.Tag != "!!str" {
		return "", false
	}
	return Str(n)
}

// PathOf returns the context path at which target is written inside root
// (aliases are not followed), or "" when it is not there.
func PathOf(root, target *yaml.Node) string {
	p, _ := pathOf(root, target, "", 0)
	return p
}

func pathOf(n, target *yaml.Node, ctx string, depth int) (string, bool) {
	if n == target {
		return ctx, true
	}
	if n == nil || depth > 64 {
		return "", false
	}
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			if p, ok := pathOf(c, target, ctx, depth+1); ok {
				return p, true
			}
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			c := Key(ctx, k.Value)
			if IsMerge(k) {
				c = ctx // an inline merged mapping reads as part of this one
			}
			if p, ok := pathOf(n.Content[i+1], target, c, depth+1); ok {
				return p, true
			}
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			if p, ok := pathOf(c, target, Index(ctx, i), depth+1); ok {
				return p, true
			}
		}
	}
	return "", false
}
