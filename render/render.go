// Package render rewrites deployment files — Kubernetes manifests, compose
// files, Kustomize kustomizations and Helm values — so that every image of a
// release is named by the exact digest the release recorded. It is how a
// rollback redeploys the same bytes without building anything: the files are
// pinned to the release's digests, nothing else.
//
// References are found with the scanners of package scan and rewritten with
// package edit, so every byte outside the edited spans (comments, quoting,
// indentation, CRLF line endings, a byte-order mark) stays as it was. A
// reference is matched to a release image by its canonical repository name;
// when the release's tag for that image differs from the tag the file writes
// (app:1.5.0 in the file, app:1.4.2 in the release), the tag is rewritten
// too, so that the file never shows one version's tag beside another's
// digest. A Helm tag field left empty for the chart's appVersion receives
// the release's tag and digest. Dockerfiles and CI files are build inputs,
// not deployments, and are never touched.
package render

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/stet-dev/stet/edit"
	"github.com/stet-dev/stet/ref"
	"github.com/stet-dev/stet/release"
	"github.com/stet-dev/stet/scan"
	"github.com/stet-dev/stet/scan/formats"
	"github.com/stet-dev/stet/scan/yamlpos"
)

// Sources are the formats render rewrites: the files that deploy images.
var Sources = []string{ref.SourceKube, ref.SourceCompose, ref.SourceKustomize, ref.SourceHelm}

// ErrUnrenderable matches a Skip's error: a reference to a release image
// that cannot be rewritten in place (built from variables, or written
// somewhere its file does not hold literally).
var ErrUnrenderable = errors.New("cannot be rendered in place")

// Options tune a rendering.
type Options struct {
	// From is the release the files describe now, when known (the one
	// deployed before a rollback). It tells apart several images of the
	// release that share one repository: a reference written with From's
	// tag or digest for image "worker" is rewritten to the target's
	// "worker".
	From *release.Release
	// Scan configures the walk of Paths; its Scanners default to
	// formats.Default().
	Scan scan.Options
}

// Change is one reference rewritten.
type Change struct {
	File   string `json:"file"`
	Line   int    `json:"line"`
	Column int    `json:"column"`
	// Image is the release's name for the image (api, worker, or a
	// canonical image name).
	Image string `json:"image"`
	// Reference is the reference as written before.
	Reference string `json:"reference"`
	// FromDigest is the digest written before ("" when none); Digest the
	// release's.
	FromDigest string `json:"fromDigest"`
	Digest     string `json:"digest"`
	// Written is the reference as the file says it now.
	Written string `json:"written"`
	// FromTag and Tag are set when the tag was rewritten too.
	FromTag string `json:"fromTag,omitempty"`
	Tag     string `json:"tag,omitempty"`
}

// Skip is a reference to a release image that could not be rewritten.
type Skip struct {
	File      string `json:"file"`
	Line      int    `json:"line"`
	Column    int    `json:"column"`
	Image     string `json:"image,omitempty"`
	Reference string `json:"reference"`
	Reason    string `json:"reason"`
}

func (s Skip) Error() string {
	return fmt.Sprintf("%s:%d:%d: %s %s: %s", s.File, s.Line, s.Column, s.Reference, ErrUnrenderable, s.Reason)
}

// Unwrap lets errors.Is match ErrUnrenderable.
func (s Skip) Unwrap() error { return ErrUnrenderable }

// Note is something worth telling that does not stop a rendering: a tag
// left as written because it lives where render does not write.
type Note struct {
	File    string `json:"file"`
	Line    int    `json:"line"`
	Message string `json:"message"`
}

// Result is a rendering of a set of files.
type Result struct {
	Changes []Change `json:"changes"`
	// Unchanged counts references that already name the release's digests.
	Unchanged int `json:"unchanged"`
	// Skipped are references to release images that could not be rewritten:
	// a rendering with any is incomplete and must not be deployed.
	Skipped []Skip `json:"skipped"`
	Notes   []Note `json:"notes"`
	// Unused names the release images that no rendered file refers to.
	Unused []string `json:"unused"`
	// Files holds the new content of every file that changes, by path as
	// scanned; Old the content it replaces.
	Files map[string][]byte `json:"-"`
	Old   map[string][]byte `json:"-"`

	used map[string]bool
}

// Err is nil when every reference to a release image could be rendered,
// else every Skip, joined.
func (r *Result) Err() error {
	errs := make([]error, len(r.Skipped))
	for i, s := range r.Skipped {
		errs[i] = s
	}
	return errors.Join(errs...)
}

// Paths walks paths (files or directories) and renders every Kubernetes,
// compose, Kustomize and Helm values file found to rel's digests, in
// memory: nothing is written (see Write). A file that cannot be parsed is
// an error, since what it deploys is unknown.
func Paths(ctx context.Context, paths []string, rel release.Release, opts Options) (*Result, error) {
	so := opts.Scan
	if so.Scanners == nil {
		so.Scanners = formats.Default()
	}
	rep, err := scan.Walk(ctx, paths, so)
	if err != nil {
		return nil, fmt.Errorf("finding files to render: %w", err)
	}
	return Files(ctx, rep.Files, rel, opts)
}

// Files renders the files of a walk: each is read again, checked to still
// hold its references where the walk found them, and rewritten in memory.
func Files(ctx context.Context, files []scan.File, rel release.Release, opts Options) (*Result, error) {
	res := &Result{Changes: []Change{}, Skipped: []Skip{}, Notes: []Note{}, Unused: []string{}, Files: map[string][]byte{}, Old: map[string][]byte{}}
	var errs []error
	for _, f := range files {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if !slices.Contains(Sources, f.Source) {
			continue
		}
		if f.Err != nil {
			errs = append(errs, f.Err)
			continue
		}
		if !slices.ContainsFunc(f.Refs, func(r ref.Ref) bool { return r.Kind == ref.Image }) {
			continue
		}
		data, err := os.ReadFile(filepath.FromSlash(f.Path))
		if err != nil {
			errs = append(errs, fmt.Errorf("reading %s: %w", f.Path, err))
			continue
		}
		fr, err := Data(f.Path, data, f.Refs, rel, opts)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		res.merge(f.Path, data, fr)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	res.finish(rel)
	return res, nil
}

// FileResult is the rendering of one file.
type FileResult struct {
	// Data is the file's new content (the same bytes when nothing changed).
	Data      []byte
	Changes   []Change
	Unchanged int
	Skipped   []Skip
	Notes     []Note
	// Used names the release images the file refers to.
	Used []string
}

// Data renders one file's bytes, given the references its scanner found in
// them. Only references of Sources are considered. It fails when the bytes
// no longer hold a reference where refs say (the file changed since it was
// scanned) or when two references ask for conflicting bytes.
func Data(path string, data []byte, refs []ref.Ref, rel release.Release, opts Options) (*FileResult, error) {
	m := newMatcher(rel, opts.From)
	fr := &FileResult{}
	type job struct {
		r    ref.Ref
		key  string
		img  release.Image
		tag  string // release tag, when the written one must change
		span *tagSpan
	}
	var jobs []job
	var lazy *yamlIndex
	for _, r := range refs {
		if r.Kind != ref.Image || !slices.Contains(Sources, r.Source) || r.Name == "" {
			continue
		}
		if !textAt(data, r) {
			return nil, fmt.Errorf("rendering %s: %s:%d:%d: %s changed since it was scanned", path, r.File, r.Line, r.Column, r.Text)
		}
		if e := r.Edit; e != nil && e.Form == ref.FormInsert && strings.HasSuffix(e.Prefix, "@") {
			// An empty Helm tag that a pin fills with the appVersion: a
			// render writes the release's own tag there instead.
			sp := *e
			sp.Form, sp.Prefix = ref.FormTag, ""
			r.Edit = &sp
		}
		key, img, ok, why := m.match(r)
		if !ok {
			if why != "" {
				fr.Skipped = append(fr.Skipped, skipOf(r, "", why))
			} else if k := m.fromOnly(r); k != "" {
				fr.Notes = append(fr.Notes, Note{File: r.File, Line: r.Line,
					Message: fmt.Sprintf("%s is image %s of %s, which %s does not hold; left as it is", display(r), k, opts.From.Label(), rel.Label())})
			}
			continue
		}
		fr.Used = append(fr.Used, key)
		relTag := tagOf(img.Reference)
		var tspan *tagSpan
		var note string
		emptyTag := r.Edit != nil && r.Edit.Form == ref.FormTag && edit.Current(data, *r.Edit) == "" && !r.Dynamic
		if emptyTag {
			// A Helm tag field left empty for the chart's appVersion: the
			// release's tag goes there, with the digest after it.
			if relTag == "" {
				relTag = r.Tag
			}
			if relTag != "" {
				tspan = &tagSpan{r.Edit.Start, r.Edit.Start}
			}
		} else if relTag != "" && r.Tag != relTag && r.Edit != nil && !r.Dynamic {
			if lazy == nil {
				lazy = &yamlIndex{path: path, data: data}
			}
			tspan, note = findTag(data, r, lazy)
		}
		if note != "" {
			fr.Notes = append(fr.Notes, Note{File: r.File, Line: r.Line, Message: note})
		}
		if r.Digest == img.Digest && tspan == nil {
			fr.Unchanged++
			continue
		}
		if r.Dynamic {
			fr.Skipped = append(fr.Skipped, skipOf(r, key, "built from a variable with no static value"))
			continue
		}
		if r.Edit == nil {
			why := "its value is not written here literally"
			if strings.Contains(r.Text, "$") {
				why = "it is assembled from variables; write the reference literally (or set the variables to the release's digests) to deploy the release"
			}
			fr.Skipped = append(fr.Skipped, skipOf(r, key, why))
			continue
		}
		if err := edit.Validate(data, r); err != nil {
			fr.Skipped = append(fr.Skipped, skipOf(r, key, unwrapped(err)))
			continue
		}
		if emptyTag && tspan == nil {
			fr.Skipped = append(fr.Skipped, skipOf(r, key, "its tag field is empty and the release names the image by digest alone"))
			continue
		}
		j := job{r: r, key: key, img: img}
		if tspan != nil {
			j.tag, j.span = relTag, tspan
		}
		jobs = append(jobs, j)
	}

	// A reference whose digest cannot be written is skipped whole, its tag
	// included. An empty span (a tag field to fill) is checked once the tag
	// is in it.
	kept := jobs[:0]
	for _, j := range jobs {
		e, ok := edit.ForPin(j.r, j.img.Digest, "")
		if !ok {
			fr.Skipped = append(fr.Skipped, skipOf(j.r, j.key, "its value is not written here literally"))
			continue
		}
		if e.Span.Form != ref.FormTag || e.Span.Start != e.Span.End {
			if err := edit.Check(data, e); err != nil {
				fr.Skipped = append(fr.Skipped, skipOf(j.r, j.key, unwrapped(err)))
				continue
			}
		}
		kept = append(kept, j)
	}
	jobs = kept

	// Tags first, as plain span replacements; then the digests through
	// edit, on spans moved by the tags' change of length.
	var tags []splice
	for _, j := range jobs {
		if j.span != nil {
			tags = append(tags, splice{j.span.start, j.span.end, j.tag})
		}
	}
	mid, err := apply(path, data, tags)
	if err != nil {
		return nil, err
	}
	edits := make([]edit.Edit, 0, len(jobs))
	for _, j := range jobs {
		e, _ := edit.ForPin(j.r, j.img.Digest, "")
		e.ImpliedTag = "" // a reference without a tag keeps none: the digest decides
		e.Span.Start, e.Span.End = shift(e.Span.Start, tags, false), shift(e.Span.End, tags, true)
		if err := edit.Check(mid, e); err != nil {
			return nil, fmt.Errorf("rendering %s: %w", path, err)
		}
		edits = append(edits, e)
		ch := Change{File: j.r.File, Line: j.r.Line, Column: j.r.Column, Image: j.key, Reference: display(j.r),
			FromDigest: j.r.Digest, Digest: j.img.Digest}
		if j.span != nil {
			ch.FromTag, ch.Tag = j.r.Tag, j.tag
		}
		ch.Written = writtenAs(mid, e, j.r, ch.Tag)
		fr.Changes = append(fr.Changes, ch)
	}
	out, err := edit.Patch(path, mid, edits)
	if err != nil {
		return nil, fmt.Errorf("rendering %s: %w", path, err)
	}
	fr.Data = out
	return fr, nil
}

func (res *Result) merge(path string, old []byte, fr *FileResult) {
	res.Changes = append(res.Changes, fr.Changes...)
	res.Unchanged += fr.Unchanged
	res.Skipped = append(res.Skipped, fr.Skipped...)
	res.Notes = append(res.Notes, fr.Notes...)
	if res.used == nil {
		res.used = map[string]bool{}
	}
	for _, k := range fr.Used {
		res.used[k] = true
	}
	if !bytes.Equal(fr.Data, old) {
		res.Files[path] = fr.Data
		res.Old[path] = old
	}
}

// finish lists the release images no file used.
func (res *Result) finish(rel release.Release) {
	for _, k := range rel.Names() {
		if !res.used[k] {
			res.Unused = append(res.Unused, k)
		}
	}
}

// Write replaces the changed files, each atomically and as a set as far as
// the file system allows (edit.WriteFiles).
func (res *Result) Write() error {
	files := make(map[string][]byte, len(res.Files))
	for p, d := range res.Files {
		files[filepath.FromSlash(p)] = d
	}
	return edit.WriteFiles(files)
}

// Diff writes a unified diff of every changed file, in path order.
func (res *Result) Diff(w io.Writer) error {
	paths := make([]string, 0, len(res.Files))
	for p := range res.Files {
		paths = append(paths, p)
	}
	slices.Sort(paths)
	for _, p := range paths {
		if err := edit.Diff(w, p, res.Old[p], res.Files[p]); err != nil {
			return err
		}
	}
	return nil
}

// matcher finds the release image a reference names.
type matcher struct {
	byName map[string][]string // canonical repository → release image names
	rel    release.Release
	from   *release.Release
}

func newMatcher(rel release.Release, from *release.Release) *matcher {
	m := &matcher{byName: map[string][]string{}, rel: rel, from: from}
	for _, k := range rel.Names() {
		n := nameOf(rel.Images[k].Reference)
		m.byName[n] = append(m.byName[n], k)
	}
	return m
}

// match returns the release image r refers to. ok is false for a
// reference to no release image; why is set when it could be one of
// several and nothing tells which.
func (m *matcher) match(r ref.Ref) (key string, img release.Image, ok bool, why string) {
	keys := m.byName[r.Name]
	switch len(keys) {
	case 0:
		return "", img, false, ""
	case 1:
		return keys[0], m.rel.Images[keys[0]], true, ""
	}
	var hits []string
	for _, k := range keys {
		im := m.rel.Images[k]
		if (r.Digest != "" && r.Digest == im.Digest) || (!r.Dynamic && r.Tag != "" && tagOf(im.Reference) == r.Tag) {
			hits = append(hits, k)
		}
	}
	if len(hits) != 1 && m.from != nil {
		hits = hits[:0]
		for _, k := range keys {
			im, ok := m.from.Images[k]
			if ok && nameOf(im.Reference) == r.Name && ((r.Digest != "" && r.Digest == im.Digest) || (!r.Dynamic && r.Tag != "" && tagOf(im.Reference) == r.Tag)) {
				hits = append(hits, k)
			}
		}
	}
	if len(hits) == 1 {
		return hits[0], m.rel.Images[hits[0]], true, ""
	}
	return "", img, false, fmt.Sprintf("the release has several images of %s (%s) and neither the tag nor the digest written here tells which", ref.FamiliarName(r.Name), strings.Join(keys, ", "))
}

// fromOnly names the image of the From release that r refers to when the
// target release has none of its repository: an image added since, which
// a rendering leaves at whatever the file says.
func (m *matcher) fromOnly(r ref.Ref) string {
	if m.from == nil {
		return ""
	}
	for _, k := range m.from.Names() {
		if nameOf(m.from.Images[k].Reference) == r.Name {
			return k
		}
	}
	return ""
}

// nameOf is the canonical repository of a canonical reference.
func nameOf(reference string) string {
	im, err := ref.ParseImage(reference)
	if err != nil {
		return reference
	}
	return im.Name()
}

// tagOf is the tag of a canonical reference, "" for digest-only.
func tagOf(reference string) string {
	im, err := ref.ParseImage(reference)
	if err != nil {
		return ""
	}
	return im.Tag
}

func skipOf(r ref.Ref, key, why string) Skip {
	shown := display(r)
	if strings.Contains(r.Text, "$") {
		shown = r.Text
	}
	return Skip{File: r.File, Line: r.Line, Column: r.Column, Image: key, Reference: shown, Reason: why}
}

// display is a reference as written, or its short form when the text is
// only a part of it (a Helm map's repository).
func display(r ref.Ref) string {
	last := r.Text[strings.LastIndexByte(r.Text, '/')+1:]
	if r.Text != "" && !strings.Contains(r.Text, "$") && strings.ContainsAny(last, ":@") {
		return r.Text
	}
	return r.Short()
}

func unwrapped(err error) string {
	var e *edit.Error
	if errors.As(err, &e) {
		return e.Err.Error()
	}
	return err.Error()
}

// splice replaces data[start:end] with text.
type splice struct {
	start, end int
	text       string
}

// apply performs non-overlapping splices; identical ones are applied once.
func apply(path string, data []byte, ps []splice) ([]byte, error) {
	if len(ps) == 0 {
		return data, nil
	}
	slices.SortFunc(ps, func(a, b splice) int { return a.start - b.start })
	var buf bytes.Buffer
	last := 0
	for i, p := range ps {
		if i > 0 && p == ps[i-1] {
			continue
		}
		if p.start < last || p.end > len(data) || p.start > p.end {
			return nil, fmt.Errorf("rendering %s: tag edits overlap at byte %d", path, p.start)
		}
		buf.Write(data[last:p.start])
		buf.WriteString(p.text)
		last = p.end
	}
	buf.Write(data[last:])
	return buf.Bytes(), nil
}

// shift moves an offset of the original bytes past the splices before it.
// A splice that starts at an end offset belongs after it; one that ends at
// it (inside the span) moves it.
func shift(off int, ps []splice, isEnd bool) int {
	d := 0
	seen := map[splice]bool{}
	for _, p := range ps {
		if seen[p] {
			continue
		}
		seen[p] = true
		if p.end < off || (p.end == off && (isEnd || p.start < off)) {
			d += len(p.text) - (p.end - p.start)
		}
	}
	return off + d
}

// tagSpan is where a reference's tag is written.
type tagSpan struct{ start, end int }

// yamlIndex parses a file's YAML documents once, when a tag outside the
// reference's own span must be found.
type yamlIndex struct {
	path   string
	data   []byte
	parsed bool
	ix     *yamlpos.Index
	docs   []*yaml.Node
}

func (y *yamlIndex) load() {
	if y.parsed {
		return
	}
	y.parsed = true
	y.ix = yamlpos.NewIndex(y.data)
	y.docs, _ = yamlpos.Documents(y.path, y.data)
}

// findTag locates the tag text of r in data: inside its span for a whole
// reference or a tag field, or in the sibling tag field of a Helm image map
// or a Kustomize images entry. A nil span with a note means the tag is
// written where it cannot be rewritten; nil without a note means no tag is
// written at all (kustomize without newTag, a digest-only reference).
func findTag(data []byte, r ref.Ref, y *yamlIndex) (*tagSpan, string) {
	s := r.Edit
	cur := edit.Current(data, *s)
	switch s.Form {
	case ref.FormReference:
		base, _ := ref.SplitDigest(cur)
		slash := strings.LastIndexByte(base, '/')
		colon := strings.LastIndexByte(base, ':')
		if colon <= slash {
			if r.Tag != "" && r.Tag != "latest" {
				return nil, fmt.Sprintf("the tag %s is written elsewhere and was left as it is; the digest decides what runs", r.Tag)
			}
			return nil, ""
		}
		tag := base[colon+1:]
		if tag != r.Tag || strings.ContainsAny(tag, "${}") {
			return nil, fmt.Sprintf("the tag %s is not written literally and was left as it is; the digest decides what runs", tag)
		}
		return &tagSpan{s.Start + colon + 1, s.Start + len(base)}, ""
	case ref.FormTag:
		base, _ := ref.SplitDigest(cur)
		if base != r.Tag {
			return nil, fmt.Sprintf("the tag %s is not written literally and was left as it is; the digest decides what runs", r.Tag)
		}
		return &tagSpan{s.Start, s.Start + len(base)}, ""
	}
	// A map: the tag is a sibling field of the scalar Text is at.
	y.load()
	start := y.ix.Offset(r.Line, 1)
	if start < 0 {
		return nil, ""
	}
	start += r.Column - 1
	keys := []string{"tag", "version"}
	if r.Source == ref.SourceKustomize {
		keys = []string{"newTag"}
	}
	var found *yaml.Node
	for _, d := range y.docs {
		if found = mapAt(d, y.ix, start); found != nil {
			break
		}
	}
	if found == nil {
		return nil, ""
	}
	for _, k := range keys {
		v := yamlpos.Get(found, k)
		if v == nil || v.Kind != yaml.ScalarNode || v.Tag == "!!null" {
			continue
		}
		sp, ok := y.ix.Scalar(v)
		if !ok || !sp.Exact || v.Value != r.Tag {
			return nil, fmt.Sprintf("the tag %s is not written literally and was left as it is; the digest decides what runs", v.Value)
		}
		return &tagSpan{sp.Start, sp.End}, ""
	}
	if r.Tag != "" && r.Source == ref.SourceHelm {
		return nil, fmt.Sprintf("the tag %s comes from the chart and was left as it is; the digest decides what runs", r.Tag)
	}
	return nil, ""
}

// mapAt finds the mapping node one of whose values is the scalar that
// starts at byte off.
func mapAt(n *yaml.Node, ix *yamlpos.Index, off int) *yaml.Node {
	switch n.Kind {
	case yaml.DocumentNode, yaml.SequenceNode:
		for _, c := range n.Content {
			if m := mapAt(c, ix, off); m != nil {
				return m
			}
		}
	case yaml.MappingNode:
		for i := 1; i < len(n.Content); i += 2 {
			v := n.Content[i]
			if v.Kind == yaml.ScalarNode {
				if sp, ok := ix.Scalar(v); ok && sp.Start == off {
					return n
				}
				continue
			}
			if m := mapAt(v, ix, off); m != nil {
				return m
			}
		}
	}
	return nil
}

// textAt reports whether r.Text is still at r's position in data.
// References written over several lines are checked by the editor alone.
func textAt(data []byte, r ref.Ref) bool {
	if r.EndLine != r.Line || r.Line < 1 || r.Column < 1 {
		return true
	}
	off := 0
	for line := 1; line < r.Line; line++ {
		i := bytes.IndexByte(data[off:], '\n')
		if i < 0 {
			return false
		}
		off += i + 1
	}
	start := off + r.Column - 1
	end := start + len(r.Text)
	return end <= len(data) && string(data[start:end]) == r.Text
}

// writtenAs is the reference a pin edit leaves in the file: the bytes of a
// reference span with their digest replaced, or, for an image spread over
// map fields (Helm), name[:tag]@digest.
func writtenAs(data []byte, e edit.Edit, r ref.Ref, newTag string) string {
	if e.Span.Form == ref.FormReference && e.Span.Start >= 0 && e.Span.End <= len(data) && e.Span.Start <= e.Span.End {
		base, _ := ref.SplitDigest(string(data[e.Span.Start:e.Span.End]))
		return base + "@" + e.Digest
	}
	s := ref.FamiliarName(r.Name)
	if tag := cmp.Or(newTag, r.Tag); tag != "" {
		s += ":" + tag
	}
	return s + "@" + e.Digest
}
