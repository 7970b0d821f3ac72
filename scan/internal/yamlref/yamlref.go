// Package yamlref holds the yaml.v3 helpers that the YAML scanners share
// (compose, kube, helm, kustomize, actions, gitlab): reading nodes through
// aliases and merge keys, finding the exact bytes of a scalar's value on top
// of scan/yamlpos, and making references, edit spans and commands of them,
// so that a pin rewrites a reference without touching another byte.
//
// A File is the file being scanned, its documents decoded by Documents (or
// MappingDocuments, for the CI scanners). Its locators find a scalar's value
// from one start: yaml.v3's position of the node, moved past what that
// position does not count or does not skip (a byte order mark before line
// 1; anchors, tags, the bare ! included, and a comment after them). Span
// finds the bytes of a one-line value and Place makes an image ref.Ref of a
// scalar; Extent and Locate find the text of any scalar, block scalars and
// folded lines included, where the CI scanners read references and Command
// reads scripts. Edit, Insert and AfterColon build the edit spans.
//
// Lookup, Get and Entries read a mapping the way YAML decoders do: through
// aliases, keys included, and through merge keys however deep they go.
// Text, Str and String read a scalar's value ever more strictly; Key, Index
// and PathOf build context paths. SetImage, SetPartial and StaticName read
// image references, partial ones with variables included, and MapImage and
// KustomizeImage the image maps of Helm values and kustomizations.
package yamlref

import (
	"bytes"

	"gopkg.in/yaml.v3"

	"github.com/stet-dev/stet/ref"
	"github.com/stet-dev/stet/scan"
	"github.com/stet-dev/stet/scan/yamlpos"
)

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
	// invalid holds the values that are no references in fields that hold
	// them (see InvalidImage).
	invalid []*scan.Error
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

// MappingDocuments decodes every document of a CI file, as Documents does,
// and keeps those whose root is a mapping (through an alias if need be): a
// workflow, an action or a pipeline is always a mapping, and any other
// document holds nothing a CI scanner reads.
func (f *File) MappingDocuments() ([]*yaml.Node, error) {
	docs, err := f.Documents()
	if err != nil {
		return nil, err
	}
	var out []*yaml.Node
	for _, doc := range docs {
		doc = Deref(doc)
		if doc == nil || doc.Kind != yaml.MappingNode {
			continue
		}
		out = append(out, doc)
	}
	return out, nil
}

// Place returns an image Ref located at the scalar n: File, Source, Kind,
// Context, Text and the four position fields are set; Name, Tag and Digest
// are left for the caller. Text is the value as written. When the value is
// exact (see yamlpos.Span) Text is the value itself; a quoted value with
// escapes or line folding is reported by its raw source text between the
// quotes; a block scalar of one content line is that line (see Span). ok is
// false for other block scalars, aliases and anything that cannot be
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
	if sp.Exact {
		text = string(f.Data[sp.Start:sp.End])
	} else {
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
	var quote byte
	switch {
	case n.Style&yaml.DoubleQuotedStyle != 0:
		quote = '"'
	case n.Style&yaml.SingleQuotedStyle != 0:
		quote = '\''
	default:
		return 0, false
	}
	if start < 1 || f.Data[start-1] != quote {
		return 0, false
	}
	return quotedEnd(f.Data, start, n.Style)
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
