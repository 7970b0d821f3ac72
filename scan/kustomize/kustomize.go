// Package kustomize finds image references in kustomization files: the
// images[] transformer entries with name, newName, newTag and digest.
//
// An entry names the image that the kustomization's resources will run:
// newName (or name when there is no newName) with newTag and/or digest. Text
// is that name at its position. An entry without newTag and digest keeps
// whatever tag the base resources write, which this file does not say: it is
// reported as Dynamic. Entries whose name is not an image reference (a
// placeholder such as CONTAINER_IMAGES_REGISTRY/app) are skipped.
//
// A pin writes the digest value when the entry has a digest field
// (ref.FormDigest); otherwise it inserts a digest field under the entry
// (ref.FormInsert at the end of the entry's last line, Prefix a line break
// matching the file's, the entry's indentation and "digest: "), so newTag
// stays as written: kustomize then sets name:newTag@digest.
package kustomize

import (
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/stet-dev/stet/ref"
	"github.com/stet-dev/stet/scan"
	"github.com/stet-dev/stet/scan/internal/yamlref"
)

// Scan finds the image references of a kustomization file. It satisfies
// scan.Scanner.
func Scan(path string, data []byte) (*scan.Result, error) {
	f := yamlref.New(path, ref.SourceKustomize, data)
	docs, err := f.Documents()
	if err != nil {
		return nil, err
	}
	res := &scan.Result{}
	for _, doc := range docs {
		_, images := yamlref.Lookup(doc, "images")
		if images = yamlref.Deref(images); images == nil || images.Kind != yaml.SequenceNode {
			continue
		}
		for i, item := range images.Content {
			if item.Kind != yaml.MappingNode {
				continue // aliases are reported where their anchor is written
			}
			if r, ok := entry(f, item, yamlref.Index("images", i)); ok {
				res.Refs = append(res.Refs, r)
			}
		}
	}
	return res, nil
}

func entry(f *yamlref.File, m *yaml.Node, ctx string) (ref.Ref, bool) {
	nameNode := field(m, "newName")
	if nameNode == nil {
		nameNode = field(m, "name")
	}
	if nameNode == nil {
		return ref.Ref{}, false
	}
	name, _ := yamlref.String(nameNode)
	tag, _ := yamlref.Str(field(m, "newTag"))
	digestNode := field(m, "digest")
	digest, _ := yamlref.Str(digestNode)

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
		yamlref.SetPartial(&r, name+":"+yamlref.Unknown)
		return r, true
	}
	if ref.IsDigest(digest) {
		full += "@" + digest
	}
	if yamlref.SetImage(&r, full) != nil {
		return r, false
	}
	if digestNode != nil {
		if sp, ok := f.Span(digestNode); ok {
			r.Edit = f.Edit(sp, ref.FormDigest)
		}
		return r, true
	}
	if k, v := yamlref.Lookup(m, "digest"); k != nil {
		switch {
		case !yamlref.IsNull(v):
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
	r.Edit = insertDigest(f, m)
	return r, true
}

// field returns the value of key in m when it is a string scalar.
func field(m *yaml.Node, key string) *yaml.Node {
	_, v := yamlref.Lookup(m, key)
	v = yamlref.Deref(v)
	if _, ok := yamlref.Str(v); !ok {
		return nil
	}
	return v
}

// insertDigest returns where a digest field goes in an entry without one:
// after the last value of a block mapping, on a new line at the entry's
// indentation, or before the closing brace of a flow mapping.
func insertDigest(f *yamlref.File, m *yaml.Node) *ref.Span {
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
