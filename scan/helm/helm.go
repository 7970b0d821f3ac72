// Package helm finds image references in a chart's values files
// (values.yaml, values-*.yaml).
//
// Charts write images in two shapes, at any depth: a string (image:
// nginx:1.25) and a map of registry, repository (or image, or name), tag (or
// version) and digest. Both are read under the key image and under any key ending in
// Image or image (initImage, kubectlImage). A map without a registry takes the
// chart-wide default from global.imageRegistry or global.image.registry. A
// string image with a sibling <key>Tag (image: jenkins/jenkins beside
// imageTag: lts) takes its tag from there.
//
// For a map, Text is the repository value at its position. An empty or
// missing tag means the chart's appVersion, which only Chart.yaml knows:
// ScanWithAppVersion substitutes it; without it the reference is Dynamic.
//
// Which field a pin writes:
//   - a string image: the whole scalar (ref.FormReference);
//   - a map with a digest key: the digest value (ref.FormDigest), inside its
//     quotes when it is "" and, when nothing is written after "digest:", an
//     insertion just after the colon (ref.FormInsert with Prefix " ");
//   - a map without a digest key: the tag value (ref.FormTag), which becomes
//     tag@sha256:…: charts that render repository:tag accept it, and so do
//     charts that render a digest only when their digest field is set. An
//     empty tag left for the appVersion becomes appVersion@sha256:…
//     (ref.FormInsert with Prefix "<appVersion>@"), so the pin keeps the
//     version the chart ran;
//   - a map whose digest lives in a sha key (rendered as @sha256:{{ sha }},
//     the hex alone) while it is empty: the tag, as above. A set sha, a
//     missing or null tag, and dynamic references are not editable.
//
// A string under the key image that is written as a reference, with a tag
// or a digest, but is none (node:20@sha256:abc, Nginx:1) is a *scan.Error
// at its place, returned with the other references. Other values that do
// not parse are left out: under other keys, and without a tag or digest,
// a value may well be something else (a URL, a VM image name).
package helm

import (
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/stet-dev/stet/ref"
	"github.com/stet-dev/stet/scan"
	"github.com/stet-dev/stet/scan/internal/yamlref"
)

// Scan finds the image references of a values file without knowing the
// chart's appVersion. It satisfies scan.Scanner.
func Scan(path string, data []byte) (*scan.Result, error) {
	return ScanWithAppVersion(path, data, "")
}

// ScanWithAppVersion finds the image references of a values file of a chart
// whose Chart.yaml says appVersion: an empty or missing tag reads as it.
// An appVersion that is not a valid tag (1.0+build) cannot be an image's
// tag, so it counts as unknown.
func ScanWithAppVersion(path string, data []byte, appVersion string) (*scan.Result, error) {
	if !ref.IsTag(appVersion) {
		appVersion = ""
	}
	f := yamlref.New(path, ref.SourceHelm, data)
	docs, err := f.Documents()
	if err != nil {
		return nil, err
	}
	s := &scanner{f: f, res: &scan.Result{}, appVersion: appVersion}
	for _, doc := range docs {
		if doc.Kind != yaml.MappingNode {
			continue
		}
		s.registry = globalRegistry(doc)
		s.walk(doc, "", 0)
	}
	slices.SortStableFunc(s.res.Refs, ref.Compare)
	return s.res, f.Err()
}

type scanner struct {
	f          *yamlref.File
	res        *scan.Result
	appVersion string
	registry   string // the chart-wide default registry
}

// globalRegistry reads the registry that charts apply to images that name
// none: global.imageRegistry (Bitnami and many others) or global.image.registry.
func globalRegistry(root *yaml.Node) string {
	_, g := yamlref.Lookup(root, "global")
	if _, r := yamlref.Lookup(g, "imageRegistry"); r != nil {
		if v, ok := yamlref.String(r); ok && v != "" {
			return v
		}
	}
	_, im := yamlref.Lookup(g, "image")
	if _, r := yamlref.Lookup(im, "registry"); r != nil {
		if v, ok := yamlref.String(r); ok {
			return v
		}
	}
	return ""
}

// imageKey reports whether a key names an image: image, or a key ending in
// Image or image (initImage, sidecarimage).
func imageKey(k string) bool {
	return strings.HasSuffix(k, "image") || strings.HasSuffix(k, "Image")
}

func (s *scanner) walk(n *yaml.Node, ctx string, depth int) {
	if depth > 64 {
		return
	}
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			// Aliases and merge keys are reported where their anchor is written.
			if k.Kind != yaml.ScalarNode || yamlref.IsMerge(k) || v.Kind == yaml.AliasNode {
				continue
			}
			c := yamlref.Key(ctx, k.Value)
			if imageKey(k.Value) {
				switch v.Kind {
				case yaml.ScalarNode:
					s.stringImage(n, k, v, c)
					continue
				case yaml.MappingNode:
					if s.mapImage(v, c) {
						continue
					}
				}
			}
			s.walk(v, c, depth+1)
		}
	case yaml.SequenceNode:
		for i, v := range n.Content {
			s.walk(v, yamlref.Index(ctx, i), depth+1)
		}
	}
}

// stringImage reports image: name:tag, taking a missing tag from a sibling
// <key>Tag when the map has one.
func (s *scanner) stringImage(parent, k, v *yaml.Node, ctx string) {
	// A block of several lines is an image only under image itself; one
	// line shaped like a reference whose value holds more is one anywhere.
	if r, ok := s.f.BlockLines(v, ctx); ok && (k.Value == "image" || r.NotEditable != "" && strings.ContainsAny(r.Text, "/:@")) {
		s.res.Refs = append(s.res.Refs, r)
		return
	}
	val, ok := yamlref.String(v)
	if !ok || val == "" || strings.ContainsAny(val, "{$ ") {
		return
	}
	// Under keys other than image, a bare word is too often something else
	// (a node image type, a flag): require a path, a tag or a digest.
	if k.Value != "image" && !strings.ContainsAny(val, "/:@") {
		return
	}
	r, sp, ok := s.f.Place(v, ctx)
	if !ok {
		return
	}
	im, err := ref.ParseImage(val)
	if err != nil {
		if k.Value == "image" && strings.ContainsAny(val, ":@") && !strings.Contains(val, "://") {
			// A string image: with a tag or a digest is meant as a
			// reference, and renders as one that cannot be pulled.
			s.f.InvalidImage(r, val, false)
		}
		return
	}
	if im.Tag == "" && im.Digest == "" {
		if tk, tv := yamlref.Lookup(parent, k.Value+"Tag"); tk != nil {
			if tag, ok := yamlref.Str(tv); ok && tag != "" {
				if yamlref.SetImage(&r, val+":"+tag) != nil {
					return
				}
				if tsp, ok := s.f.Span(tv); ok {
					r.Edit = s.f.Edit(tsp, ref.FormTag)
				}
				s.res.Refs = append(s.res.Refs, r)
				return
			}
		}
	}
	if yamlref.SetImage(&r, val) != nil {
		return
	}
	r.Edit = s.f.Edit(sp, ref.FormReference)
	s.res.Refs = append(s.res.Refs, r)
}

// mapImage reports an image written as a map; it returns false when m is not
// one (no repository), so that the walk goes on inside it.
func (s *scanner) mapImage(m *yaml.Node, ctx string) bool {
	r, report, isImage := s.f.MapImage(m, ctx, s.registry, s.appVersion)
	if report {
		s.res.Refs = append(s.res.Refs, r)
	}
	return isImage
}
