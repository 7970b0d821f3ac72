// Package compose finds image references in Docker Compose files: the
// services.*.image fields (or top-level services in a version 1 file) and
// the build contexts taken from images (build.additional_contexts entries
// written docker-image://alpine:3.20, which the build pulls). The
// Dockerfiles that services.*.build names, and the compose files that
// include and extends.file name, are returned as related files, relative to
// the compose file's directory; remote build contexts and dockerfile_inline
// name nothing to read.
//
// Variables are interpolated as `docker compose` does with an empty
// environment: ${VAR:-default} and ${VAR-default} read as their default, $$ is
// a literal $, and a variable without a static value ($VAR, ${VAR},
// ${VAR:?err}) makes the reference Dynamic. The .env file is not read: what
// the file itself says is what is reported.
//
// A pin rewrites the whole image scalar (ref.FormReference), and only when it
// holds no variable at all. When a default supplies part of the reference, a
// pin would have to choose between rewriting the default (which other
// services and the environment may share) and replacing the interpolation
// with a literal (which silently drops the override); neither is safe, so such
// references are reported with their substituted Name and Tag but no Edit.
//
// An image beside build names the build's output, not something pulled: it is
// not reported. YAML anchors and merge keys (<<: *base) are followed; an image
// written once in an anchor is reported once, at the place it is written and
// with that place as its context (x-base.image).
package compose

import (
	"path"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/stet-dev/stet/ref"
	"github.com/stet-dev/stet/scan"
	"github.com/stet-dev/stet/scan/internal/yamlref"
)

// Scan finds the image references of a compose file. path is the
// slash-separated path reported in refs; related paths are joined to its
// directory. It satisfies scan.Scanner.
func Scan(path string, data []byte) (*scan.Result, error) {
	f := yamlref.New(path, ref.SourceCompose, data)
	docs, err := f.Documents()
	if err != nil {
		return nil, err
	}
	s := &scanner{f: f, res: &scan.Result{}, seen: map[*yaml.Node]bool{}, related: map[string]bool{}}
	for _, doc := range docs {
		s.document(doc)
	}
	slices.SortStableFunc(s.res.Refs, ref.Compare)
	return s.res, f.Err()
}

type scanner struct {
	f       *yamlref.File
	root    *yaml.Node // the document being scanned
	res     *scan.Result
	seen    map[*yaml.Node]bool // image scalars already reported (anchors)
	related map[string]bool
}

// topLevel are the compose keys that are not services in a legacy (version 1)
// file, which lists services at the top level.
var topLevel = map[string]bool{
	"version": true, "services": true, "networks": true, "volumes": true, "configs": true,
	"secrets": true, "name": true, "include": true, "models": true,
}

func (s *scanner) document(doc *yaml.Node) {
	root := yamlref.Deref(doc)
	if root == nil || root.Kind != yaml.MappingNode {
		return
	}
	s.root = root
	s.include(root)
	if _, services := yamlref.Lookup(root, "services"); services != nil {
		services = yamlref.Deref(services)
		if services == nil || services.Kind != yaml.MappingNode {
			return
		}
		for i := 0; i+1 < len(services.Content); i += 2 {
			k := services.Content[i]
			if yamlref.IsMerge(k) {
				continue
			}
			s.service(services.Content[i+1], yamlref.Key("services", k.Value))
		}
		return
	}
	// Version 1 files: every top-level mapping with an image or a build is a
	// service. A Kubernetes object is not a compose file.
	if k, _ := yamlref.Lookup(root, "apiVersion"); k != nil {
		return
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k := root.Content[i]
		if yamlref.IsMerge(k) || topLevel[k.Value] || strings.HasPrefix(k.Value, "x-") {
			continue
		}
		svc := root.Content[i+1]
		if ik, _ := yamlref.Lookup(svc, "image"); ik == nil {
			if bk, _ := yamlref.Lookup(svc, "build"); bk == nil {
				continue
			}
		}
		s.service(svc, k.Value)
	}
}

func (s *scanner) service(written *yaml.Node, ctx string) {
	svc := yamlref.Deref(written)
	if svc == nil || svc.Kind != yaml.MappingNode {
		return
	}
	if _, ext := yamlref.Lookup(svc, "extends"); ext != nil {
		if _, file := yamlref.Lookup(yamlref.Deref(ext), "file"); file != nil {
			s.relate(file, ref.SourceCompose)
		}
	}
	if _, build := yamlref.Lookup(svc, "build"); build != nil && !yamlref.IsNull(build) {
		s.build(yamlref.Deref(build), ctx+".build")
		return
	}
	_, raw := yamlref.Lookup(svc, "image")
	img := yamlref.Deref(raw)
	if img == nil || s.seen[img] {
		return
	}
	s.seen[img] = true
	ctx += ".image"
	if written != svc || raw != img || !s.direct(svc, img) {
		// Written in an anchor: name the place it is written.
		if p := yamlref.PathOf(s.root, img); p != "" {
			ctx = p
		}
	}
	s.image(img, ctx, 0)
}

// direct reports whether v is a value written in mapping m itself.
func (s *scanner) direct(m, v *yaml.Node) bool {
	for i := 1; i < len(m.Content); i += 2 {
		if m.Content[i] == v {
			return true
		}
	}
	return false
}

// image reports the image reference in scalar n. skip is the length of a
// prefix of the value that is not part of the reference (the name= and
// docker-image:// of a build context).
func (s *scanner) image(n *yaml.Node, ctx string, skip int) {
	if r, ok := s.f.BlockLines(n, ctx); ok {
		s.res.Refs = append(s.res.Refs, r)
		return
	}
	val, ok := yamlref.String(n)
	if !ok || len(val) <= skip {
		return
	}
	r, sp, ok := s.f.Place(n, ctx)
	if !ok {
		return
	}
	if skip > 0 {
		// The prefix must stand in the file as it reads, escapes aside.
		if !strings.HasPrefix(r.Text, val[:skip]) {
			return
		}
		r.Text = r.Text[skip:]
		sp.Start += skip
		r.Line, r.Column = s.f.Index.Position(sp.Start)
		val = val[skip:]
	}
	expanded, err := interpolate(val)
	if err != nil {
		return
	}
	switch {
	case strings.Contains(expanded, yamlref.Unknown):
		yamlref.SetPartial(&r, expanded)
	case yamlref.SetImage(&r, expanded) != nil:
		s.f.InvalidImage(r, expanded, expanded != val)
		return
	case !strings.Contains(val, "$"):
		r.Edit = s.f.Edit(sp, ref.FormReference)
	}
	s.res.Refs = append(s.res.Refs, r)
}

// build adds the Dockerfile a build section uses to the related files and
// reports the images its additional contexts name.
func (s *scanner) build(b *yaml.Node, ctx string) {
	if b == nil {
		return
	}
	context, dockerfile := ".", "Dockerfile"
	switch b.Kind {
	case yaml.ScalarNode:
		v, ok := yamlref.Str(b)
		if !ok {
			return
		}
		context = v
	case yaml.MappingNode:
		s.contexts(b, ctx)
		if _, inline := yamlref.Lookup(b, "dockerfile_inline"); inline != nil && !yamlref.IsNull(inline) {
			return
		}
		if _, c := yamlref.Lookup(b, "context"); c != nil && !yamlref.IsNull(c) {
			v, ok := yamlref.Str(c)
			if !ok {
				return
			}
			context = v
		}
		if _, d := yamlref.Lookup(b, "dockerfile"); d != nil && !yamlref.IsNull(d) {
			v, ok := yamlref.Str(d)
			if !ok {
				return
			}
			dockerfile = v
		}
	default:
		return
	}
	context, ok := static(context)
	if !ok || remote(context) {
		return
	}
	dockerfile, ok = static(dockerfile)
	if !ok || dockerfile == "" {
		return
	}
	if context == "" {
		context = "."
	}
	p := dockerfile
	if !path.IsAbs(dockerfile) {
		p = path.Join(context, dockerfile)
		if !path.IsAbs(context) {
			p = path.Join(path.Dir(s.f.Path), p)
		}
	}
	s.add(p, ref.SourceDockerfile)
}

// imageContext is the scheme of a build context taken from an image: the
// build pulls it, so it is a reference like any image: field.
const imageContext = "docker-image://"

// contexts reports the images named by build.additional_contexts, a
// mapping (base: docker-image://alpine:3) or a list (- base=docker-image://…).
// Other contexts (directories, git URLs, service:name, oci-layout://) name
// nothing to pin.
func (s *scanner) contexts(b *yaml.Node, ctx string) {
	_, ac := yamlref.Lookup(b, "additional_contexts")
	ac = yamlref.Deref(ac)
	if ac == nil {
		return
	}
	ctx += ".additional_contexts"
	switch ac.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(ac.Content); i += 2 {
			k, v := ac.Content[i], ac.Content[i+1]
			if yamlref.IsMerge(k) || v.Kind != yaml.ScalarNode || s.seen[v] {
				continue
			}
			if val, ok := yamlref.String(v); ok && strings.HasPrefix(val, imageContext) {
				s.seen[v] = true
				s.image(v, yamlref.Key(ctx, k.Value), len(imageContext))
			}
		}
	case yaml.SequenceNode:
		for i, v := range ac.Content {
			if v.Kind != yaml.ScalarNode || s.seen[v] {
				continue
			}
			val, ok := yamlref.String(v)
			if !ok {
				continue
			}
			name, target, found := strings.Cut(val, "=")
			if found && strings.HasPrefix(target, imageContext) {
				s.seen[v] = true
				s.image(v, yamlref.Index(ctx, i), len(name)+1+len(imageContext))
			}
		}
	}
}

// include adds the compose files a top-level include names.
func (s *scanner) include(root *yaml.Node) {
	_, inc := yamlref.Lookup(root, "include")
	inc = yamlref.Deref(inc)
	if inc == nil || inc.Kind != yaml.SequenceNode {
		return
	}
	for _, item := range inc.Content {
		item = yamlref.Deref(item)
		if item == nil {
			continue
		}
		if item.Kind == yaml.ScalarNode {
			s.relate(item, ref.SourceCompose)
			continue
		}
		_, p := yamlref.Lookup(item, "path")
		if p = yamlref.Deref(p); p == nil {
			continue
		}
		if p.Kind == yaml.SequenceNode {
			for _, e := range p.Content {
				s.relate(e, ref.SourceCompose)
			}
			continue
		}
		s.relate(p, ref.SourceCompose)
	}
}

// relate adds the file a scalar names, relative to the compose file.
func (s *scanner) relate(n *yaml.Node, source string) {
	v, ok := yamlref.Str(n)
	if !ok {
		return
	}
	v, ok = static(v)
	if !ok || v == "" || remote(v) {
		return
	}
	if !path.IsAbs(v) {
		v = path.Join(path.Dir(s.f.Path), v)
	}
	s.add(v, source)
}

func (s *scanner) add(p, source string) {
	if s.related[source+"\x00"+p] {
		return
	}
	s.related[source+"\x00"+p] = true
	s.res.Related = append(s.res.Related, scan.Related{Path: p, Source: source})
}

// static interpolates a path; ok is false when a variable leaves it unknown.
func static(v string) (string, bool) {
	v, err := interpolate(v)
	if err != nil || strings.Contains(v, yamlref.Unknown) {
		return "", false
	}
	return v, true
}

// remote reports whether a build context or include is fetched rather than
// read from disk: a URL, a git remote or an OCI artifact.
func remote(v string) bool {
	return strings.Contains(v, "://") || strings.HasPrefix(v, "git@") || strings.HasPrefix(v, "github.com/")
}
