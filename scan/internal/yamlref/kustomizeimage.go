package yamlref

import (
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/stet-dev/stet/ref"
)

// KustomizeImage reads one entry of a kustomize images list (name,
// newName, newTag, digest), as a kustomization file or a Flux Kustomization
// writes it. The reference is newName (or name) with newTag and/or digest;
// Text is that name at its position. An entry without newTag and digest
// keeps whatever tag the resources write, which the file does not say: it
// is Dynamic, and so is one whose field holds a YAML block that is not one
// word (see BlockLines). ok is false for an entry whose name is not an image
// name.
//
// A pin writes the digest value when the entry has a digest field
// (ref.FormDigest); otherwise it inserts a digest field under the entry
// (ref.FormInsert), so newTag stays as written.
func (f *File) KustomizeImage(m *yaml.Node, ctx string) (ref.Ref, bool) {
	nameNode := kField(m, "newName")
	if nameNode == nil {
		nameNode = kField(m, "name")
	}
	if nameNode == nil {
		for _, key := range []string{"newName", "name"} {
			if b, ok := f.BlockLines(Get(m, key), ctx); ok {
				// A block that is not one word where the name belongs:
				// reported, not read as the line it holds.
				return b, true
			}
		}
		return ref.Ref{}, false
	}
	if key, b := f.badBlock(m, "newTag", "digest"); b != nil {
		r, _, ok := f.Place(nameNode, ctx)
		if !ok {
			return r, false
		}
		name, _ := String(nameNode)
		SetPartial(&r, name+":"+Unknown)
		r.NotEditable = blockFieldReason(key, b)
		return r, true
	}
	name, _ := String(nameNode)
	tag, _ := Str(kField(m, "newTag"))
	digestNode := kField(m, "digest")
	digest, _ := Str(digestNode)

	r, _, ok := f.Place(nameNode, ctx)
	if !ok {
		return r, false
	}
	if im, err := ref.ParseImage(name); err != nil || im.Tag != "" || im.Digest != "" {
		return r, false
	}
	full := name
	if tag != "" {
		full += ":" + tag
	}
	if tag == "" && !ref.IsDigest(digest) {
		SetPartial(&r, name+":"+Unknown)
		return r, true
	}
	if ref.IsDigest(digest) {
		full += "@" + digest
	}
	if SetImage(&r, full) != nil {
		return r, false
	}
	if digestNode != nil {
		if sp, ok := f.Span(digestNode); ok {
			r.Edit = f.Edit(sp, ref.FormDigest)
		}
		return r, true
	}
	if k, v := Lookup(m, "digest"); k != nil {
		switch {
		case !IsNull(v):
		case v.Value == "":
			// "digest:" with nothing after it: the value goes after the colon.
			if off := f.AfterColon(k); off >= 0 {
				r.Edit = f.Insert(off, " ")
			}
		default: // ~ or null
			if sp, ok := f.Span(v); ok {
				r.Edit = f.Edit(sp, ref.FormDigest)
			}
		}
		return r, true
	}
	r.Edit = f.insertDigest(m)
	return r, true
}

// kField returns the value of key in m when it is a string scalar.
func kField(m *yaml.Node, key string) *yaml.Node {
	_, v := Lookup(m, key)
	v = Deref(v)
	if _, ok := Str(v); !ok {
		return nil
	}
	return v
}

// insertDigest returns where a digest field goes in an entry without one:
// after the last value of a block mapping, on a new line at the entry's
// indentation, or before the closing brace of a flow mapping.
func (f *File) insertDigest(m *yaml.Node) *ref.Span {
	if len(m.Content) < 2 {
		return nil
	}
	last := m.Content[len(m.Content)-1]
	if last.Kind != yaml.ScalarNode {
		return nil
	}
	sp, ok := f.Span(last)
	if !ok || !sp.Exact {
		return nil
	}
	end := sp.End
	if last.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0 {
		end++ // past the closing quote
	}
	if m.Style&yaml.FlowStyle != 0 {
		return f.Insert(end, ", digest: ")
	}
	first := m.Content[0]
	if first.Column < 1 || last.Line < first.Line {
		return nil
	}
	off, nl := f.LineEnd(end)
	return f.Insert(off, nl+strings.Repeat(" ", first.Column-1)+"digest: ")
}
