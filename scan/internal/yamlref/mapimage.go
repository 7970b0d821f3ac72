package yamlref

import (
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/stet-dev/stet/ref"
)

// MapImage reads an image written as a map, the way Helm charts write them:
// registry, repository (or image, or name), tag (or version), and digest (or
// sha, the hex alone). isImage is false when m has no repository, so that a
// caller walking the tree goes on inside it; report is false when m is an
// image map that names no usable reference (a template, a malformed name).
//
// Text is the repository value at its position. defaultRegistry applies when
// the map has no registry and its repository names none. An empty or missing
// tag, or one written {{ .Chart.AppVersion }}, is appVersion, or Dynamic when
// appVersion is ""; any other template in the tag is Dynamic. The edit span is the
// digest value (ref.FormDigest; an insertion after the colon of an empty
// "digest:"), else the tag value (ref.FormTag) unless a sha is set.
func (f *File) MapImage(m *yaml.Node, ctx, defaultRegistry, appVersion string) (r ref.Ref, report, isImage bool) {
	var repoNode *yaml.Node
	var repo string
	for _, key := range []string{"repository", "image", "name"} {
		if _, v := Lookup(m, key); v != nil {
			if val, ok := String(v); ok && val != "" {
				repoNode, repo = Deref(v), val
				break
			}
		}
	}
	if repoNode == nil {
		for _, key := range []string{"repository", "image", "name"} {
			if b, ok := f.BlockLines(Get(m, key), ctx); ok {
				// A block that is not one word where the repository
				// belongs: reported, not read as the line it holds.
				return b, true, true
			}
		}
		return r, false, false
	}
	if strings.ContainsAny(repo, "{$ ") {
		return r, false, true // a template: the values that fill it are elsewhere
	}
	if key, b := f.badBlock(m, "registry", "tag", "version", "digest", "sha"); b != nil {
		r, _, ok := f.Place(repoNode, ctx)
		if !ok {
			return r, false, true
		}
		SetPartial(&r, repo+":"+Unknown)
		r.NotEditable = blockFieldReason(key, b)
		return r, true, true
	}
	registry := defaultRegistry
	if hasRegistry(repo) {
		// The default is for short names: a repository that names its
		// registry is used as written (ingress-nginx renders it so).
		registry = ""
	}
	if _, v := Lookup(m, "registry"); v != nil {
		if val, ok := Str(v); ok && val != "" {
			registry = val
		}
	}
	tagKey, tagNode := Lookup(m, "tag")
	if tagKey == nil {
		tagKey, tagNode = Lookup(m, "version")
	}
	tag, _ := Str(tagNode)
	written := tag
	tagTemplate := false
	if strings.Contains(tag, "{{") {
		// Charts that tpl their values write the appVersion default out;
		// any other template's value is not in this file.
		if appVersionRE.MatchString(tag) {
			tag = ""
		} else {
			tag, tagTemplate = "", true
		}
	}
	digestKey, digestNode := Lookup(m, "digest")
	digest, _ := Str(digestNode)
	_, shaNode := Lookup(m, "sha")
	sha, _ := Str(shaNode)
	if digest == "" && sha != "" {
		digest = sha
		if !strings.Contains(sha, ":") {
			digest = "sha256:" + sha
		}
	}
	if t, d := ref.SplitDigest(tag); d != "" {
		// tag: 1.2@sha256:… – a pin already written into the tag field.
		tag = t
		if digest == "" {
			digest = d
		}
	}
	if digest != "" && !ref.IsDigest(digest) {
		digest = "" // malformed: not a pin; a pin may replace it
	}

	r, _, ok := f.Place(repoNode, ctx)
	if !ok {
		return r, false, true
	}
	name := repo
	if registry != "" {
		name = strings.TrimSuffix(registry, "/") + "/" + repo
	}
	if tagTemplate {
		SetPartial(&r, name+":"+Unknown)
		if r.Name == "" {
			return r, false, true
		}
		if ref.IsDigest(digest) {
			// tag: "{{ … }}" beside a digest: the digest decides.
			r.Digest = digest
		}
		return r, true, true
	}
	// An empty tag renders as the chart's appVersion, pinned or not: the tag
	// stays part of the reference so that unpin and update know it.
	if tag == "" && appVersion != "" {
		tag = appVersion
	}
	if tag == "" && digest == "" {
		SetPartial(&r, name+":"+Unknown)
		if r.Name == "" {
			return r, false, true
		}
		return r, true, true
	}
	full := name
	if tag != "" {
		full += ":" + tag
	}
	if digest != "" {
		full += "@" + digest
	}
	if SetImage(&r, full) != nil {
		return r, false, true
	}
	r.Edit = f.mapEdit(digestKey, digestNode, tagKey, tagNode, sha, written)
	if e := r.Edit; e != nil && e.Form == ref.FormTag && e.Start == e.End && written == "" && appVersion != "" {
		// tag: "" renders as the appVersion: a pin writes it out with the
		// digest, which charts that render repository:tag accept.
		e.Form, e.Prefix = ref.FormInsert, appVersion+"@"
	}
	return r, true, true
}

// appVersionRE matches a tag template that renders the chart's appVersion:
// {{ .Chart.AppVersion }}, {{ $.Chart.AppVersion }}, {{ .Chart.AppVersion | toString }}.
var appVersionRE = regexp.MustCompile(`^\{\{-?\s*\$?\.Chart\.AppVersion\s*(\|\s*(toString|quote|trim)\s*)?-?\}\}$`)

// hasRegistry reports whether a repository's first component is a registry
// host, the way image references are read: it holds a dot or a port, or is
// localhost.
func hasRegistry(repo string) bool {
	first, _, found := strings.Cut(repo, "/")
	return found && (strings.ContainsAny(first, ".:") || first == "localhost")
}

// mapEdit chooses the span a pin of a map image rewrites.
func (f *File) mapEdit(digestKey, digestNode, tagKey, tagNode *yaml.Node, sha, tag string) *ref.Span {
	switch {
	case digestKey != nil:
		if digestNode.Kind != yaml.ScalarNode {
			return nil
		}
		if IsNull(digestNode) && digestNode.Value == "" {
			if off := f.AfterColon(digestKey); off >= 0 {
				return f.Insert(off, " ")
			}
			return nil
		}
		sp, ok := f.Span(digestNode)
		if !ok {
			return nil
		}
		return f.Edit(sp, ref.FormDigest)
	case sha != "" || tagKey == nil || tagNode.Kind != yaml.ScalarNode || IsNull(tagNode):
		return nil
	case strings.Contains(tag, "{{"):
		// tag@sha256:… would only render where the chart passes its values
		// through tpl; the digest has no field of its own.
		return nil
	}
	sp, ok := f.Span(tagNode)
	if !ok {
		return nil
	}
	return f.Edit(sp, ref.FormTag)
}
