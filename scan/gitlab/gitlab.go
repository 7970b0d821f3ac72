// Package gitlab finds the container images that GitLab CI pulls, in
// .gitlab-ci.yml and in the CI files it includes, and returns the jobs'
// script lines so that the install rules can judge them.
//
// What is reported: image: and services: at the top level (the deprecated
// global form), under default: and in every job, hidden jobs (.template:)
// included, in string form and in {name: …} form (entrypoint, alias,
// pull_policy and the other keys beside name are not references). Top-level
// keywords that are not jobs (stages, variables, include, workflow, cache,
// spec, …) are skipped. A !reference [...] tag is a pointer to another part
// of the configuration, never a reference itself.
//
// GitLab expands variables in image names. A $NAME or ${NAME} with a literal
// value in the job's variables:, in those of the templates it extends: in
// this file, or in the top-level variables: (in that order, as GitLab
// resolves them; inherit: variables: honoured; values that name other
// variables expanded unless expand: false) is substituted into Name and Tag.
// Any other variable (predefined CI_ variables, project or group variables,
// parallel:matrix values) and any $[[ inputs.x ]] interpolation make the
// reference Dynamic: nothing is guessed and it has no Edit.
//
// A value written without variables that is no image reference
// (node:20@sha256:abc, Alpine:3) is a *scan.Error at its place, returned
// with the other references.
//
// Only a reference written without variables has an Edit. A substituted one
// is not edited, not even at its variables: entry: top-level variables reach
// every included file, and a pin written into the value would also change
// the other places that use it ($BASE:dind, scripts).
//
// For a .gitlab-ci.yml, include: local files (and trigger: include: child
// pipelines) are returned in Result.Related, relative to its directory, the
// project root that GitLab resolves them against; paths with wildcards or
// variables are not. A value written once behind a YAML anchor and reused by
// alias or merge key (<<: *x) is reported once, where it is written. extends:
// is followed for variables only: the image of the template it names is
// reported where the template writes it.
package gitlab

import (
	"fmt"
	"path"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/stet-dev/stet/ref"
	"github.com/stet-dev/stet/scan"
	"github.com/stet-dev/stet/scan/internal/yamlref"
)

// keywords are the top-level keys that are not jobs.
var keywords = map[string]bool{
	"image": true, "services": true, "default": true, "stages": true,
	"types": true, "variables": true, "include": true, "workflow": true,
	"cache": true, "before_script": true, "after_script": true, "spec": true,
}

// scriptKeys are the job keys that hold shell commands.
var scriptKeys = []string{"before_script", "script", "after_script"}

// Scan reads a GitLab CI configuration file. It satisfies scan.Scanner.
// A file that is not valid YAML is a *scan.Error with the line of the problem.
func Scan(path string, data []byte) (*scan.Result, error) {
	f := yamlref.New(path, ref.SourceGitLab, data)
	docs, err := f.MappingDocuments()
	if err != nil {
		return nil, err
	}
	s := &scanner{
		f:       f,
		res:     &scan.Result{},
		seen:    make(map[*yaml.Node]bool),
		scripts: make(map[*yaml.Node]bool),
	}
	for _, doc := range docs {
		s.document(doc)
	}
	s.res.Sort()
	return s.res, s.f.Err()
}

type scanner struct {
	f   *yamlref.File
	res *scan.Result
	// seen holds the nodes already read for references, and scripts those
	// read for commands, so that a value reached again through an alias or
	// a merge key is reported once.
	seen, scripts map[*yaml.Node]bool
}

func (s *scanner) document(doc *yaml.Node) {
	global := &scope{vars: variables(yamlref.Get(doc, "variables"))}
	s.imageField(yamlref.Get(doc, "image"), "image", global)
	s.services(yamlref.Get(doc, "services"), "services", global)
	for _, k := range scriptKeys {
		s.script(yamlref.Get(doc, k), 0)
	}
	if def := yamlref.Get(doc, "default"); def != nil && def.Kind == yaml.MappingNode {
		s.job(def, "default", global)
	}
	if path.Base(s.f.Path) == ".gitlab-ci.yml" {
		s.includes(yamlref.Get(doc, "include"))
	}
	tmpl := newTemplates(doc)
	for _, p := range yamlref.Entries(doc) {
		if keywords[p.Name] || p.Value == nil || p.Value.Kind != yaml.MappingNode {
			continue
		}
		s.job(p.Value, p.Name, global.child(tmpl, p.Value))
		if path.Base(s.f.Path) == ".gitlab-ci.yml" {
			if tr := yamlref.Get(p.Value, "trigger"); tr != nil && tr.Kind == yaml.MappingNode {
				s.includes(yamlref.Get(tr, "include"))
			}
		}
	}
}

// job reads a job, a hidden job or the default: section.
func (s *scanner) job(job *yaml.Node, ctx string, sc *scope) {
	s.imageField(yamlref.Get(job, "image"), ctx+".image", sc)
	s.services(yamlref.Get(job, "services"), ctx+".services", sc)
	for _, k := range scriptKeys {
		s.script(yamlref.Get(job, k), 0)
	}
	s.script(yamlref.Get(yamlref.Get(job, "hooks"), "pre_get_sources_script"), 0)
}

// imageField reads image: as a string or as a mapping with name:.
func (s *scanner) imageField(n *yaml.Node, ctx string, sc *scope) {
	switch {
	case n == nil || n.Tag == "!reference":
	case n.Kind == yaml.ScalarNode:
		s.image(n, ctx, sc)
	case n.Kind == yaml.MappingNode:
		s.image(yamlref.Get(n, "name"), ctx+".name", sc)
	}
}

// services reads services:, a list of strings and {name: …} mappings.
func (s *scanner) services(n *yaml.Node, ctx string, sc *scope) {
	if n == nil || n.Kind != yaml.SequenceNode || n.Tag == "!reference" || s.seen[n] {
		return
	}
	s.seen[n] = true
	for i, item := range n.Content {
		s.imageField(yamlref.Deref(item), fmt.Sprintf("%s[%d]", ctx, i), sc)
	}
}

// script records each line of a script: a string or a list, nested lists
// (as anchors and !reference produce them) flattened.
func (s *scanner) script(n *yaml.Node, depth int) {
	n = yamlref.Deref(n)
	if n == nil || n.Tag == "!reference" || depth > 8 {
		return
	}
	switch n.Kind {
	case yaml.SequenceNode:
		// A list reached again through an alias holds nothing new; skipping
		// it keeps lists of aliases of lists from multiplying the work.
		if s.scripts[n] {
			return
		}
		s.scripts[n] = true
		for _, item := range n.Content {
			s.script(item, depth+1)
		}
	case yaml.ScalarNode:
		if s.scripts[n] {
			return
		}
		c, ok := s.f.Command(n, "script")
		if !ok {
			return
		}
		s.scripts[n] = true
		s.res.Commands = append(s.res.Commands, c)
	}
}

// image reports the image reference in scalar n.
func (s *scanner) image(n *yaml.Node, ctx string, sc *scope) {
	if r, ok := s.f.BlockLines(n, ctx); ok && !s.seen[n] {
		s.add(n, r)
		return
	}
	v, ok := yamlref.Text(n)
	value := strings.TrimSpace(v)
	if !ok || !yamlref.OneLine(value) || s.seen[n] {
		return
	}
	sp := s.f.Locate(n, value)
	raw := string(s.f.Data[sp.Start:sp.End])
	if raw != value {
		sp.Exact = false
	}
	r := ref.Ref{File: s.f.Path, Kind: ref.Image, Source: ref.SourceGitLab, Text: raw, Context: ctx}
	r.Line, r.Column = s.f.Index.Position(sp.Start)
	r.EndLine, r.EndColumn = s.f.Index.Position(sp.End)
	expanded, used, static := sc.expand(value)
	if !static {
		r.Dynamic = true
		r.Name = yamlref.StaticName(value[:strings.IndexByte(value, '$')])
		s.add(n, r)
		return
	}
	if err := r.SetImage(expanded); err != nil {
		if !strings.Contains(value, "$") {
			// Written out in full, and the runner cannot pull it. What
			// variables make of a value is left to GitLab.
			s.f.InvalidImage(r, value, false)
		}
		return
	}
	if !used {
		r.Edit = s.f.Edit(sp, ref.FormReference)
	}
	s.add(n, r)
}

func (s *scanner) add(n *yaml.Node, r ref.Ref) {
	s.seen[n] = true
	s.res.Refs = append(s.res.Refs, r)
}

// includes adds the local files that include: names to Result.Related.
func (s *scanner) includes(n *yaml.Node) {
	n = yamlref.Deref(n)
	if n == nil {
		return
	}
	switch n.Kind {
	case yaml.SequenceNode:
		for _, item := range n.Content {
			if item = yamlref.Deref(item); item != nil && item.Kind != yaml.SequenceNode {
				s.includes(item)
			}
		}
	case yaml.ScalarNode:
		// A bare string is a local file, or a remote one when it is a URL.
		if v, ok := yamlref.Text(n); ok && !strings.Contains(v, "://") {
			s.related(v)
		}
	case yaml.MappingNode:
		if v, ok := yamlref.Text(yamlref.Get(n, "local")); ok {
			s.related(v)
		}
	}
}

func (s *scanner) related(p string) {
	p = strings.TrimSpace(p)
	if p == "" || strings.ContainsAny(p, "$*?[") {
		return
	}
	s.res.Related = append(s.res.Related, scan.Related{
		Path:   path.Join(path.Dir(s.f.Path), strings.TrimLeft(p, "/")),
		Source: ref.SourceGitLab,
	})
}
