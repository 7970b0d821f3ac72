// Package kube finds image references in Kubernetes manifests.
//
// What is reported:
//   - the containers, initContainers and ephemeralContainers of every
//     pod-spec shape (Pod, the workloads' spec.template, CronJob's
//     jobTemplate, PodTemplate, List items, multi-document files), and image
//     volumes (volumes[].image.reference);
//   - string image: fields anywhere in custom resources (Prometheus.spec.image,
//     Argo Workflows templates, Tekton steps) when the value parses as an
//     image reference, and Helm-style image maps (repository, tag, digest: the
//     values of a Flux HelmRelease or an Argo CD Application), read and pinned
//     as the helm package does, without a chart's appVersion or global
//     registry;
//   - the image overrides of an Argo CD Application's kustomize source
//     (spec.source.kustomize.images: [name=]newName:tag) and of a Flux
//     Kustomization (spec.images, read as a kustomization's);
//   - the packages of Crossplane Providers, Functions and Configurations
//     (spec.package, an image Crossplane pulls and runs).
//
// Image fields that name what is built or watched rather than pulled are not
// references: an output.image (Shipwright's Build and BuildRun), a Skaffold
// config's build.artifacts[].image, and Flux's image automation objects
// (ImageRepository.spec.image).
//
// Built-in kinds (the core group, apps, batch, extensions, policy,
// autoscaling and the *.k8s.io groups other than *.x-k8s.io) are read only
// where the API puts images, so values inside a ConfigMap's or Secret's data
// are never taken for references; block scalars and comments never are
// either. Every other group is a custom resource. A document without
// apiVersion and kind is not Kubernetes and is ignored. A file holding Go or
// Helm template syntax ({{ … }}) that does not parse as YAML is a template,
// not a manifest: it yields nothing and no error. A pin rewrites the image
// scalar (ref.FormReference).
//
// A container's image (and an image volume's reference) that is no image
// reference (node:20@sha256:abc, Nginx:1) is a *scan.Error at its place,
// returned with the other references: the kubelet cannot pull it. A custom
// resource's image field may hold anything, so there such a value is only
// left out.
//
// In a container, and in a custom resource's image field when the rest of
// the value reads as an image, an image written with envsubst-style or
// Tekton variables (${VAR}, $VAR, $(params.x)) is reported as Dynamic; one
// holding {{ … }} is skipped, since the values that fill it are scanned
// where they are written.
//
// Every reference sits under an image key (image:, images:, or a key ending
// in image or Image) or a Crossplane package:, in a document with apiVersion
// and kind. A file whose bytes lack those words cannot hold a reference, so
// it is not decoded: most YAML in a repository is not a manifest, and
// decoding is nearly all of the cost of scanning. Such a file yields no error
// even when its YAML is broken; stet reads references, it does not validate
// manifests.
package kube

import (
	"bytes"
	"regexp"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/stet-dev/stet/ref"
	"github.com/stet-dev/stet/scan"
	"github.com/stet-dev/stet/scan/internal/yamlref"
	"github.com/stet-dev/stet/scan/yamlpos"
)

// Scan finds the image references of a Kubernetes manifest file. It
// satisfies scan.Scanner.
func Scan(path string, data []byte) (*scan.Result, error) {
	if !mayHoldRefs(data) {
		return &scan.Result{}, nil
	}
	f := yamlref.New(path, ref.SourceKube, data)
	docs, err := f.Documents()
	if err != nil {
		if bytes.Contains(data, []byte("{{")) || !looksLikeKube(data) {
			return &scan.Result{}, nil
		}
		return nil, err
	}
	s := &scanner{f: f, res: &scan.Result{}, seen: map[*yaml.Node]bool{}}
	for _, doc := range docs {
		s.object(doc, "", 0)
	}
	slices.SortStableFunc(s.res.Refs, ref.Compare)
	return s.res, f.Err()
}

// mayHoldRefs reports whether data has the words every reference needs: an
// apiVersion, a kind, and an image key ("mage" matches image, images and
// the …Image keys of Helm-style maps) or a Crossplane package.
func mayHoldRefs(data []byte) bool {
	return (bytes.Contains(data, []byte("mage")) || bytes.Contains(data, []byte("package"))) &&
		bytes.Contains(data, []byte("apiVersion")) && bytes.Contains(data, []byte("kind"))
}

var apiVersionRE = regexp.MustCompile(`(?m)^[ \t-]*apiVersion:`)
var kindRE = regexp.MustCompile(`(?m)^[ \t-]*kind:`)

// looksLikeKube reports whether a file that failed to parse was meant to be a
// manifest, so that its syntax error is worth reporting.
func looksLikeKube(data []byte) bool {
	return apiVersionRE.Match(data) && kindRE.Match(data)
}

type scanner struct {
	f    *yamlref.File
	res  *scan.Result
	seen map[*yaml.Node]bool // image scalars reported, for containers reached through aliases
	// output, when set, says which image: fields of the custom resource
	// being read name images it builds rather than images it pulls.
	output func(ctx string) bool
}

// skaffoldOutputRE matches the artifacts of a Skaffold config's build
// section (also inside profiles): their image is the name Skaffold gives
// what it builds.
var skaffoldOutputRE = regexp.MustCompile(`(^|\.)build\.artifacts\[\d+\]\.image$`)

func skaffoldOutput(ctx string) bool { return skaffoldOutputRE.MatchString(ctx) }

// object scans one Kubernetes object; ctx is its path inside the document
// ("" at the top, "items[2]" in a List).
func (s *scanner) object(n *yaml.Node, ctx string, depth int) {
	n = yamlref.Deref(n)
	if n == nil || n.Kind != yaml.MappingNode || depth > 8 {
		return
	}
	_, av := yamlref.Lookup(n, "apiVersion")
	_, k := yamlref.Lookup(n, "kind")
	apiVersion, ok1 := yamlref.String(av)
	kind, ok2 := yamlref.String(k)
	if !ok1 || !ok2 || apiVersion == "" || kind == "" {
		return
	}
	// Lists, and OpenShift templates, hold whole objects.
	switch {
	case strings.HasSuffix(kind, "List"):
		s.items(n, "items", ctx, depth)
		return
	case kind == "Template" && (apiVersion == "v1" || strings.HasPrefix(apiVersion, "template.openshift.io/")):
		s.items(n, "objects", ctx, depth)
		return
	}
	if watchesImages(apiVersion) {
		return
	}
	if !builtin(apiVersion) {
		if kind == "Kustomization" && strings.HasPrefix(apiVersion, "kustomize.toolkit.fluxcd.io/") {
			s.fluxImages(n, ctx)
		}
		if strings.HasPrefix(apiVersion, "pkg.crossplane.io/") {
			// Providers, Functions and Configurations are OCI images
			// that Crossplane pulls and runs: spec.package.
			_, spec := yamlref.Lookup(n, "spec")
			if _, pkg := yamlref.Lookup(yamlref.Deref(spec), "package"); pkg != nil && pkg.Kind == yaml.ScalarNode {
				s.customImage(pkg, yamlref.Key(yamlref.Key(ctx, "spec"), "package"))
			}
		}
		s.output = nil
		if strings.HasPrefix(apiVersion, "skaffold/") {
			s.output = skaffoldOutput
		}
		s.custom(n, ctx, 0)
		return
	}
	var path []string
	switch kind {
	case "Pod":
		path = []string{"spec"}
	case "CronJob":
		path = []string{"spec", "jobTemplate", "spec", "template", "spec"}
	case "PodTemplate":
		path = []string{"template", "spec"}
	default:
		// Deployment, StatefulSet, DaemonSet, ReplicaSet, ReplicationController, Job.
		path = []string{"spec", "template", "spec"}
	}
	spec, sctx := n, ctx
	for _, p := range path {
		_, spec = yamlref.Lookup(spec, p)
		if spec = yamlref.Deref(spec); spec == nil {
			return
		}
		sctx = yamlref.Key(sctx, p)
	}
	s.podSpec(spec, sctx)
}

func (s *scanner) items(n *yaml.Node, key, ctx string, depth int) {
	_, items := yamlref.Lookup(n, key)
	if items = yamlref.Deref(items); items == nil || items.Kind != yaml.SequenceNode {
		return
	}
	for i, it := range items.Content {
		s.object(it, yamlref.Index(yamlref.Key(ctx, key), i), depth+1)
	}
}

// watchesImages reports whether apiVersion is an image automation API whose
// image fields name repositories to watch for new tags (Flux's
// ImageRepository spec.image), not images anything runs.
func watchesImages(apiVersion string) bool {
	return strings.HasPrefix(apiVersion, "image.toolkit.fluxcd.io/")
}

// builtin reports whether apiVersion names a Kubernetes API group, whose
// kinds hold images only in pod specs. Everything else is a custom resource.
func builtin(apiVersion string) bool {
	group, _, found := strings.Cut(apiVersion, "/")
	if !found {
		return true // the core group: v1
	}
	switch group {
	case "apps", "batch", "extensions", "policy", "autoscaling":
		return true
	}
	return strings.HasSuffix(group, ".k8s.io") && !strings.HasSuffix(group, ".x-k8s.io")
}

func (s *scanner) podSpec(spec *yaml.Node, ctx string) {
	if spec.Kind != yaml.MappingNode {
		return
	}
	for _, key := range []string{"containers", "initContainers", "ephemeralContainers"} {
		_, list := yamlref.Lookup(spec, key)
		if list = yamlref.Deref(list); list == nil || list.Kind != yaml.SequenceNode {
			continue
		}
		for i, c := range list.Content {
			_, img := yamlref.Lookup(yamlref.Deref(c), "image")
			s.container(img, yamlref.Key(yamlref.Index(yamlref.Key(ctx, key), i), "image"))
		}
	}
	// Image volumes (volumes[].image.reference) mount an image's contents.
	_, vols := yamlref.Lookup(spec, "volumes")
	if vols = yamlref.Deref(vols); vols != nil && vols.Kind == yaml.SequenceNode {
		for i, v := range vols.Content {
			_, img := yamlref.Lookup(yamlref.Deref(v), "image")
			_, r := yamlref.Lookup(yamlref.Deref(img), "reference")
			s.container(r, yamlref.Key(yamlref.Index(yamlref.Key(ctx, "volumes"), i), "image.reference"))
		}
	}
}

var varRE = regexp.MustCompile(`\$\{[^}]*\}|\$\([^)]*\)|\$[A-Za-z_][A-Za-z0-9_]*`)

// container reports a container's image field.
func (s *scanner) container(n *yaml.Node, ctx string) {
	if n == nil || n.Kind != yaml.ScalarNode || s.seen[n] {
		return // an alias is reported where its anchor is written, if there
	}
	s.seen[n] = true
	if r, ok := s.f.BlockLines(n, ctx); ok {
		s.res.Refs = append(s.res.Refs, r)
		return
	}
	val, ok := yamlref.String(n)
	if !ok || val == "" || strings.Contains(val, "{{") {
		return
	}
	r, sp, ok := s.f.Place(n, ctx)
	if !ok {
		return
	}
	s.add(r, sp, val, false)
}

// add reports the image val written at r. A value with variables in it (a
// Tekton $(params.image), an envsubst ${TAG}) is a partial reference with
// no edit: only the file's renderer knows what it becomes. A custom
// resource's image field is looser than a container's, so there such a
// value is reported only when its expansion still reads as an image
// (mustParse), and any other value that does not parse is left out; in a
// container it is an error at its place (see yamlref.File.InvalidImage).
func (s *scanner) add(r ref.Ref, sp yamlpos.Span, val string, mustParse bool) {
	if strings.Contains(val, "$") && !strings.Contains(val, "{{") {
		expanded := varRE.ReplaceAllLiteralString(val, yamlref.Unknown)
		if expanded == val {
			return
		}
		if mustParse {
			if _, err := ref.ParseImage(strings.ReplaceAll(expanded, yamlref.Unknown, "x")); err != nil {
				return
			}
		}
		yamlref.SetPartial(&r, expanded)
		s.res.Refs = append(s.res.Refs, r)
		return
	}
	if yamlref.SetImage(&r, val) != nil {
		if !mustParse {
			// A container's image: the kubelet cannot pull it.
			s.f.InvalidImage(r, val, false)
		}
		return
	}
	r.Edit = s.f.Edit(sp, ref.FormReference)
	s.res.Refs = append(s.res.Refs, r)
}

// custom reports every string image: field of a custom resource whose value
// parses as an image reference.
func (s *scanner) custom(n *yaml.Node, ctx string, depth int) {
	if depth > 64 {
		return
	}
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if yamlref.IsMerge(k) || k.Kind != yaml.ScalarNode {
				continue
			}
			c := yamlref.Key(ctx, k.Value)
			if k.Value == "image" && v.Kind == yaml.ScalarNode {
				if !strings.HasSuffix(c, "output.image") && (s.output == nil || !s.output(c)) {
					s.customImage(v, c)
				}
				continue
			}
			if k.Value == "images" && v.Kind == yaml.SequenceNode && strings.HasSuffix(ctx, "kustomize") {
				s.kustomizeImages(v, c)
				continue
			}
			if v.Kind == yaml.MappingNode && (strings.HasSuffix(k.Value, "image") || strings.HasSuffix(k.Value, "Image")) && helmStyle(v) {
				// Helm values embedded in a HelmRelease or an Argo CD
				// Application write images as maps.
				r, report, isImage := s.f.MapImage(v, c, "", "")
				if report {
					s.res.Refs = append(s.res.Refs, r)
				}
				if isImage {
					continue
				}
			}
			s.custom(v, c, depth+1)
		}
	case yaml.SequenceNode:
		for i, v := range n.Content {
			s.custom(v, yamlref.Index(ctx, i), depth+1)
		}
	}
}

// kustomizeImages reports the image overrides of an Argo CD Application's
// kustomize source (spec.source.kustomize.images), written as kustomize
// edit set image takes them: [name=]newName[:tag|@digest]. As in a
// kustomization, an override without a tag or digest keeps the tag the
// manifests write, which this file does not say: it is Dynamic.
func (s *scanner) kustomizeImages(seq *yaml.Node, ctx string) {
	for i, item := range seq.Content {
		if item.Kind != yaml.ScalarNode || s.seen[item] {
			continue
		}
		val, ok := yamlref.String(item)
		if !ok || val == "" || strings.ContainsAny(val, "${") {
			continue
		}
		skip := 0
		if j := strings.IndexByte(val, '='); j >= 0 {
			skip = j + 1
		}
		img := val[skip:]
		im, err := ref.ParseImage(img)
		if err != nil {
			continue
		}
		r, sp, ok := s.f.Place(item, yamlref.Index(ctx, i))
		if !ok || !strings.HasPrefix(r.Text, val[:skip]) {
			continue
		}
		s.seen[item] = true
		r.Text = r.Text[skip:]
		sp.Start += skip
		r.Line, r.Column = s.f.Index.Position(sp.Start)
		if im.Tag == "" && im.Digest == "" {
			yamlref.SetPartial(&r, img+":"+yamlref.Unknown)
			s.res.Refs = append(s.res.Refs, r)
			continue
		}
		if yamlref.SetImage(&r, img) != nil {
			continue
		}
		r.Edit = s.f.Edit(sp, ref.FormReference)
		s.res.Refs = append(s.res.Refs, r)
	}
}

// fluxImages reports the images list of a Flux Kustomization (spec.images:
// name, newName, newTag, digest), which Flux applies as a kustomization's
// images transformer: it is read and pinned as the kustomize package does.
func (s *scanner) fluxImages(n *yaml.Node, ctx string) {
	_, spec := yamlref.Lookup(n, "spec")
	_, images := yamlref.Lookup(yamlref.Deref(spec), "images")
	if images = yamlref.Deref(images); images == nil || images.Kind != yaml.SequenceNode {
		return
	}
	c := yamlref.Key(yamlref.Key(ctx, "spec"), "images")
	for i, item := range images.Content {
		if item.Kind != yaml.MappingNode {
			continue // aliases are reported where their anchor is written
		}
		if r, ok := s.f.KustomizeImage(item, yamlref.Index(c, i)); ok {
			s.res.Refs = append(s.res.Refs, r)
		}
	}
}

// helmStyle reports whether a map under an image key looks like a Helm
// values image: it has a repository, or an image beside a tag. A bare name
// (a cloud disk image, an image stream) is something else.
func helmStyle(m *yaml.Node) bool {
	if k, _ := yamlref.Lookup(m, "repository"); k != nil {
		return true
	}
	k, _ := yamlref.Lookup(m, "image")
	t, _ := yamlref.Lookup(m, "tag")
	return k != nil && t != nil
}

func (s *scanner) customImage(n *yaml.Node, ctx string) {
	val, ok := yamlref.String(n)
	if !ok || val == "" {
		return
	}
	r, sp, ok := s.f.Place(n, ctx)
	if !ok {
		return
	}
	s.add(r, sp, val, true)
}
