// Package actions finds the references that GitHub Actions runs: actions and
// reusable workflows (owner/repo[/path]@ref), docker:// step images, job
// containers and service containers, in workflow files
// (.github/workflows/*.yml) and in action metadata files (action.yml, with
// composite steps and docker actions). It also returns each step's run script
// so that the install rules can judge it.
//
// What is reported:
//
//   - jobs.<id>.steps[i].uses and runs.steps[i].uses: an action (Kind
//     ref.Action, Edit form ref.FormAction over owner/repo[/path]@ref), or
//     with docker:// an image (Kind ref.Image, Text and Edit over the part
//     after docker://). Local actions (./path) are files of the repository,
//     not references.
//   - jobs.<id>.uses: a reusable workflow, Kind ref.Action.
//   - jobs.<id>.container and jobs.<id>.services.<name>, as a string or as a
//     mapping with image:.
//   - runs.image of a docker action: docker://image is a reference; a
//     Dockerfile path is returned in Result.Related to be scanned.
//   - the images that docker/setup-qemu-action (with: image:) and
//     docker/setup-buildx-action (with: driver-opts: image=…) pull and run
//     privileged; their defaults, when the input is left out, are not
//     written in the file.
//
// A commit-pinned action keeps its version in a trailing comment
// (uses: actions/checkout@<sha> # v4.2.2): the SHA is the Ref's Digest and
// the comment's version its Tag; see VersionComment for the spellings read.
//
// A value containing a ${{ … }} expression is Dynamic: its Name is filled
// when the part before the expression names the repository, nothing is
// guessed and it has no Edit. One exception: an image written as one matrix
// property and nothing else (container: ${{ matrix.image }}, and likewise
// container.image, services.<name>[.image], a step's uses: docker://… and
// the image inputs above) is read from the job's strategy.matrix when every
// value it may take is written there: the axis items and the include
// entries' values (exclude only removes combinations; its values are
// reported too, so that pinned they still match). Each value is a
// reference of its own, at its place in the matrix and edited there, with
// the context of its use and its place in the matrix
// (jobs.test.container ← matrix.image[1]). They are edited only when
// every use of the property in the file, in any spelling (matrix.image,
// matrix['image']), is such a whole-value image use: in a condition, a
// script, a name or a cache key a digest would change what the job does,
// so the values are then reported without an edit, NotEditable naming that
// use's line. A matrix, axis, include list or
// value that is an expression keeps the use Dynamic, and so does a property
// inside a longer value (node:${{ matrix.version }}).
//
// A block scalar (container: >- on one line, the image on the next) is read
// as its one content line and edited there when its YAML value is exactly
// that line; a block of several lines, which no image name is, or one
// whose value is not its line (a line break that | keeps, a blank line or
// extra indentation before it) is reported Dynamic at its content. A value
// written out in full that is no reference (uses: actions/checkout without
// @ref, container: node:20@sha256:abc, a matrix value Node:22 that one of
// them takes) is a *scan.Error at its place, wrapping ref.ErrNotImage or
// yamlref.ErrNotAction, returned with the other references: GitHub rejects
// the workflow, or the job fails, there.
//
// A value written once behind a YAML anchor and reused by alias is reported
// once, where it is written.
package actions

import (
	"bytes"
	"fmt"
	"path"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/stet-dev/stet/ref"
	"github.com/stet-dev/stet/scan"
	"github.com/stet-dev/stet/scan/internal/yamlref"
	"github.com/stet-dev/stet/scan/yamlpos"
)

// dockerPrefix introduces an image in uses: and runs.image.
const dockerPrefix = "docker://"

// Scan reads a workflow or an action metadata file. It satisfies scan.Scanner.
// A file that is not valid YAML is a *scan.Error with the line of the
// problem; so is a value that is no reference, returned with the others.
func Scan(path string, data []byte) (*scan.Result, error) {
	f := yamlref.New(path, ref.SourceActions, data)
	docs, err := f.MappingDocuments()
	if err != nil {
		return nil, err
	}
	s := &scanner{
		f:         f,
		res:       &scan.Result{},
		seen:      make(map[*yaml.Node]bool),
		matrices:  make(map[matrixKey]matrixRead),
		imageUses: make(map[*yaml.Node]bool),
	}
	for _, doc := range docs {
		s.jobs(yamlref.Get(doc, "jobs"))
		s.runs(yamlref.Get(doc, "runs"))
	}
	s.protectMatrix(docs)
	s.res.Sort()
	return s.res, f.Err()
}

type scanner struct {
	f   *yamlref.File
	res *scan.Result
	// seen holds the scalars already reported, so that a value reached again
	// through an alias or a merge key is reported once.
	seen map[*yaml.Node]bool
	// matrix is the strategy.matrix of the job being read, or nil;
	// matrices holds the values of the matrix properties read so far,
	// imageUses the scalars that use one whole where an image belongs, and
	// groups the references read from their values (see protectMatrix).
	matrix    *yaml.Node
	matrices  map[matrixKey]matrixRead
	imageUses map[*yaml.Node]bool
	groups    []matrixGroup
}

func (s *scanner) jobs(jobs *yaml.Node) {
	for _, p := range yamlref.Entries(jobs) {
		job := p.Value
		if job == nil || job.Kind != yaml.MappingNode {
			continue
		}
		ctx := "jobs." + p.Name
		s.matrix = yamlref.Get(yamlref.Get(job, "strategy"), "matrix")
		if k, v := yamlref.Lookup(job, "uses"); yamlref.Deref(v) != nil {
			v = yamlref.Deref(v)
			s.uses(k, v, ctx+".uses", flowLine(job, v))
		}
		s.container(yamlref.Get(job, "container"), ctx+".container")
		for _, svc := range yamlref.Entries(yamlref.Get(job, "services")) {
			s.container(svc.Value, ctx+".services."+svc.Name)
		}
		s.steps(yamlref.Get(job, "steps"), ctx+".steps")
	}
	s.matrix = nil
}

// runs reads an action's runs: composite steps and a docker action's image.
func (s *scanner) runs(runs *yaml.Node) {
	if runs == nil || runs.Kind != yaml.MappingNode {
		return
	}
	s.steps(yamlref.Get(runs, "steps"), "runs.steps")
	img := yamlref.Get(runs, "image")
	v, ok := yamlref.Text(img)
	v = strings.TrimSpace(v)
	switch {
	case !ok || v == "":
	case strings.HasPrefix(v, dockerPrefix):
		s.image(img, "runs.image", len(dockerPrefix))
	case !strings.Contains(v, "${{") && !strings.Contains(v, "://"):
		// A path to the Dockerfile GitHub builds the action from, relative
		// to the action's directory.
		s.res.Related = append(s.res.Related, scan.Related{
			Path:   path.Join(path.Dir(s.f.Path), v),
			Source: ref.SourceDockerfile,
		})
	}
}

func (s *scanner) steps(steps *yaml.Node, ctx string) {
	if steps == nil || steps.Kind != yaml.SequenceNode || s.seen[steps] {
		return
	}
	// Steps reached again through an alias were read the first time.
	s.seen[steps] = true
	for i, st := range steps.Content {
		st = yamlref.Deref(st)
		if st == nil || st.Kind != yaml.MappingNode {
			continue
		}
		sctx := fmt.Sprintf("%s[%d]", ctx, i)
		if k, v := yamlref.Lookup(st, "uses"); yamlref.Deref(v) != nil {
			v = yamlref.Deref(v)
			s.uses(k, v, sctx+".uses", flowLine(st, v))
			s.inputImage(v, yamlref.Get(st, "with"), sctx+".with")
		}
		if run := yamlref.Get(st, "run"); run != nil {
			s.command(run)
		}
	}
}

// imageInputs names the inputs of well-known actions that pull an image and
// run it, both privileged: docker/setup-qemu-action's binfmt image (with:
// image:) and the BuildKit image of docker/setup-buildx-action's
// docker-container driver (with: driver-opts: image=…, one of a list of
// options separated by line breaks or commas).
var imageInputs = map[string]struct{ input, option string }{
	"docker/setup-qemu-action":   {input: "image"},
	"docker/setup-buildx-action": {input: "driver-opts", option: "image="},
}

// inputImage reports the image a step's with: passes to an action listed in
// imageInputs.
func (s *scanner) inputImage(uses, with *yaml.Node, ctx string) {
	v, ok := yamlref.Text(uses)
	if !ok || with == nil {
		return
	}
	name, _, _ := strings.Cut(strings.TrimSpace(v), "@")
	in, ok := imageInputs[strings.ToLower(name)]
	if !ok {
		return
	}
	n := yamlref.Get(with, in.input)
	if n == nil || n.Kind != yaml.ScalarNode {
		return
	}
	ctx += "." + in.input
	if in.option == "" {
		s.image(n, ctx, 0)
		return
	}
	s.optionImage(n, ctx, in.option)
}

// optionImage reports the image of the option named by prefix (image=) in a
// list of options. The options are read from the file's bytes, so a quoted
// value with escapes is left alone.
func (s *scanner) optionImage(n *yaml.Node, ctx, prefix string) {
	if s.seen[n] {
		return
	}
	start, end := s.f.Extent(n)
	data := s.f.Data
	if start >= end || end > len(data) || n.Style&yaml.DoubleQuotedStyle != 0 && bytes.IndexByte(data[start:end], '\\') >= 0 {
		return
	}
	raw := string(data[start:end])
	for off := 0; off < len(raw); {
		i := strings.IndexAny(raw[off:], ",\n")
		if i < 0 {
			i = len(raw) - off
		}
		opt := raw[off : off+i]
		lead := len(opt) - len(strings.TrimLeft(opt, " \t\r"))
		opt = strings.TrimRight(strings.TrimSpace(opt), "\r")
		if img, ok := strings.CutPrefix(opt, prefix); ok && img != "" {
			s.optionRef(n, ctx, img, start+off+lead+len(prefix))
			return
		}
		off += i + 1
	}
}

// optionRef reports the image img written at offset at.
func (s *scanner) optionRef(n *yaml.Node, ctx, img string, at int) {
	r := ref.Ref{File: s.f.Path, Source: ref.SourceActions, Kind: ref.Image, Text: img, Context: ctx}
	r.Line, r.Column = s.f.Index.Position(at)
	r.EndLine, r.EndColumn = s.f.Index.Position(at + len(img))
	if strings.Contains(img, "${{") {
		r.Dynamic = true
		r.Name = yamlref.StaticName(img[:strings.Index(img, "${{")])
		s.add(n, r)
		return
	}
	if err := r.SetImage(img); err != nil {
		s.f.InvalidImage(r, img, false)
		return
	}
	r.Edit = s.f.Edit(yamlpos.Span{Start: at, End: at + len(img), Exact: true}, ref.FormReference)
	s.add(n, r)
}

// container reads a job container or service: an image string, or a mapping
// with image:. The runner also accepts the docker:// prefix there.
func (s *scanner) container(c *yaml.Node, ctx string) {
	if c != nil && c.Kind == yaml.MappingNode {
		c, ctx = yamlref.Get(c, "image"), ctx+".image"
	}
	if c == nil || c.Kind != yaml.ScalarNode {
		return
	}
	skip := 0
	if strings.HasPrefix(strings.TrimSpace(c.Value), dockerPrefix) {
		skip = len(dockerPrefix)
	}
	s.image(c, ctx, skip)
}

// uses reads a step's or a job's uses:. flow is the flow mapping the value
// sits in on one line ({uses: a/b@c} # v1), which yaml.v3 gives the trailing
// comment to, or nil.
func (s *scanner) uses(key, n *yaml.Node, ctx string, flow *yaml.Node) {
	v, ok := yamlref.Text(n)
	v = strings.TrimSpace(v)
	switch {
	case !ok || v == "" || strings.HasPrefix(v, "."):
		// Absent, or a local action or workflow in this repository.
		return
	case strings.HasPrefix(v, dockerPrefix):
		s.image(n, ctx, len(dockerPrefix))
		return
	}
	r, value, sp, ok := s.newRef(n, ctx, 0)
	if !ok {
		return
	}
	if strings.Contains(value, "${{") {
		r.Kind, r.Dynamic = ref.Action, true
		if name, _, found := strings.Cut(value, "@"); found && !strings.Contains(name, "${{") {
			if a, err := ref.ParseAction(name + "@x"); err == nil {
				r.Name = a.Name()
			}
		}
		s.add(n, r)
		return
	}
	if err := r.SetAction(value); err != nil {
		s.f.InvalidAction(r, value)
		return
	}
	if r.Digest != "" {
		c := n.LineComment
		if c == "" && key != nil {
			c = key.LineComment
		}
		if c == "" && flow != nil {
			c = flow.LineComment
		}
		// The version belongs to this reference only when it ends this
		// reference's line; that is where a pin writes it too.
		if c = firstLine(c); c != "" && strings.Contains(s.restOfLine(sp.End), c) {
			r.Tag = VersionComment(c)
		}
	}
	if n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) == 0 {
		// A pin writes the version as a comment at the end of the line,
		// which inside a block scalar would be part of the value.
		r.Edit = s.f.Edit(sp, ref.FormAction)
	}
	s.add(n, r)
}

// image reads an image reference from scalar n, skipping skip bytes of
// prefix (docker://).
func (s *scanner) image(n *yaml.Node, ctx string, skip int) {
	if r, ok := s.f.BlockLines(n, ctx); ok && !s.seen[n] {
		s.add(n, r)
		return
	}
	r, value, sp, ok := s.newRef(n, ctx, skip)
	if !ok {
		return
	}
	r.Kind = ref.Image
	if strings.Contains(value, "${{") {
		if s.matrixImages(n, value, ctx, skip) {
			return
		}
		r.Dynamic = true
		r.Name = yamlref.StaticName(value[:strings.Index(value, "${{")])
		s.add(n, r)
		return
	}
	if err := r.SetImage(value); err != nil {
		s.f.InvalidImage(r, value, false)
		return
	}
	r.Edit = s.f.Edit(sp, ref.FormReference)
	s.add(n, r)
}

// newRef starts a Ref for the scalar n, past skip bytes of prefix. Text is
// the value as written in the file (it differs from the decoded value only
// for a quoted scalar with escapes); value is the decoded value to parse and
// sp the span of Text, exact when a pin may rewrite it. ok is false when the
// node holds no one-line value, or was reported already.
func (s *scanner) newRef(n *yaml.Node, ctx string, skip int) (r ref.Ref, value string, sp yamlpos.Span, ok bool) {
	v, isStr := yamlref.Text(n)
	value = strings.TrimSpace(v)
	if !isStr || s.seen[n] || len(value) <= skip {
		return r, "", sp, false
	}
	sp = s.f.Locate(n, value)
	raw := string(s.f.Data[sp.Start:sp.End])
	if raw != value {
		sp.Exact = false
	}
	if len(raw) >= skip && strings.EqualFold(raw[:skip], value[:skip]) {
		raw, sp.Start = raw[skip:], sp.Start+skip
		// docker:// image: the reference starts after the blanks.
		t := strings.TrimLeft(raw, " \t")
		raw, sp.Start = t, sp.Start+len(raw)-len(t)
	}
	value = strings.TrimSpace(value[skip:])
	if !yamlref.OneLine(value) {
		return r, "", yamlpos.Span{}, false
	}
	r = ref.Ref{File: s.f.Path, Source: ref.SourceActions, Text: raw, Context: ctx}
	r.Line, r.Column = s.f.Index.Position(sp.Start)
	r.EndLine, r.EndColumn = s.f.Index.Position(sp.End)
	return r, value, sp, true
}

func (s *scanner) add(n *yaml.Node, r ref.Ref) {
	s.seen[n] = true
	s.res.Refs = append(s.res.Refs, r)
}

// command records a step's run script.
func (s *scanner) command(n *yaml.Node) {
	if s.seen[n] {
		return
	}
	c, ok := s.f.Command(n, "run")
	if !ok {
		return
	}
	s.seen[n] = true
	s.res.Commands = append(s.res.Commands, c)
}

// restOfLine returns the file's bytes from off to the end of its line.
func (s *scanner) restOfLine(off int) string {
	data := s.f.Data
	rest := data[min(off, len(data)):]
	if i := bytes.IndexByte(rest, '\n'); i >= 0 {
		rest = rest[:i]
	}
	return string(rest)
}

// flowLine returns m when it is a flow mapping on the line of its value v.
func flowLine(m, v *yaml.Node) *yaml.Node {
	if m.Style&yaml.FlowStyle != 0 && m.Line == v.Line {
		return m
	}
	return nil
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}
