// Package ref defines Ref, the one value that flows through stet: a reference
// to an image or a GitHub Action at an exact place in a file. Scanners produce
// it, rules judge it, the resolver fills its digest, the editor patches its
// span and the lockfile stores it.
package ref

import (
	"cmp"
	"strings"
)

// Kind says what a reference points at.
type Kind string

const (
	// Image is a container image reference (name:tag@digest).
	Image Kind = "image"
	// Action is a GitHub Action or reusable workflow (owner/repo[/path]@ref).
	Action Kind = "action"
)

// Sources name the formats a reference can come from.
const (
	SourceDockerfile = "dockerfile"
	SourceCompose    = "compose"
	SourceKube       = "kubernetes"
	SourceHelm       = "helm"
	SourceKustomize  = "kustomize"
	SourceActions    = "github-actions"
	SourceGitLab     = "gitlab-ci"
)

// Ref is one reference found in a file.
//
// Line, Column, EndLine and EndColumn are 1-based and locate Text in the file;
// columns count bytes, and EndColumn is exclusive, so for a one-line Text
// EndColumn-Column == len(Text). Text is the reference exactly as written
// (without surrounding YAML quotes). Name, Tag and Digest are the canonical
// reading of Text after static variable defaults were substituted.
type Ref struct {
	File      string `json:"file"`
	Line      int    `json:"line"`
	Column    int    `json:"column"`
	EndLine   int    `json:"endLine"`
	EndColumn int    `json:"endColumn"`
	Kind      Kind   `json:"kind"`
	Source    string `json:"source"`
	Text      string `json:"text"`
	// Name is canonical: docker.io/library/nginx for images, owner/repo or
	// owner/repo/path for actions.
	Name string `json:"name"`
	// Tag is the tag after substitution (images default to "latest" when
	// neither tag nor digest is written). For an action pinned to a commit,
	// Tag is the version from its trailing "# v1.2.3" comment.
	Tag string `json:"tag"`
	// Digest is "sha256:…" for images and the 40-hex commit for actions.
	Digest string `json:"digest"`
	// Dynamic is true when the reference depends on a variable without a
	// static value: it cannot be resolved or pinned from the file alone.
	Dynamic bool `json:"dynamic"`
	// Context says where in the file the reference sits: FROM, COPY --from,
	// services.web.image, jobs.build.steps[0].uses …
	Context string `json:"context"`
	// Edit is the byte range a pin rewrites; nil when the reference cannot be
	// edited in place (dynamic, or not representable).
	Edit *Span `json:"-"`
	// NotEditable says why Edit is nil when the scanner knows a reason Text
	// does not show: the ARG default a pin would rewrite is also read
	// elsewhere as part of a larger value, a matrix value is also compared,
	// or (with Dynamic) a YAML block is not one reference. It is empty
	// otherwise, and always when Edit is set.
	NotEditable string `json:"notEditable,omitempty"`
}

// Pinned reports whether the reference is fixed to an immutable digest or commit.
func (r Ref) Pinned() bool { return r.Digest != "" }

// Key identifies what a reference resolves: the same Key always resolves to
// the same digest within one run. It is Name:Tag for images and Name@Tag for
// actions (the repository, not the path inside it, decides an action's commit).
func (r Ref) Key() string {
	if r.Kind == Action {
		// GitHub names are case-insensitive: Actions/Checkout is actions/checkout.
		return strings.ToLower(ActionRepo(r.Name)) + "@" + r.Tag
	}
	return r.Name + ":" + r.Tag
}

// Short is the reference as a person writes it: nginx:1-alpine, ghcr.io/a/b:1,
// actions/checkout@v4. It never includes the digest.
func (r Ref) Short() string {
	if r.Kind == Action {
		if r.Tag == "" {
			return r.Name
		}
		return r.Name + "@" + r.Tag
	}
	s := FamiliarName(r.Name)
	if r.Tag != "" {
		s += ":" + r.Tag
	}
	return s
}

// Compare orders references by file, position, then text, for deterministic output.
func Compare(a, b Ref) int {
	return cmp.Or(
		strings.Compare(a.File, b.File),
		cmp.Compare(a.Line, b.Line),
		cmp.Compare(a.Column, b.Column),
		strings.Compare(a.Text, b.Text),
	)
}

// Form says what the bytes of an edit span hold, and so how a pin rewrites them.
type Form int

const (
	// FormReference: the span holds a whole image reference; a pin writes
	// name:tag@digest (the tag stays; a digest-only reference stays digest-only).
	FormReference Form = iota
	// FormTag: the span holds only a tag (a Helm values tag field without a
	// digest field); a pin writes tag@digest.
	FormTag
	// FormDigest: the span holds only a digest value, possibly empty (Helm or
	// Kustomize digest field); a pin writes the digest.
	FormDigest
	// FormInsert: the span is empty (Start == End) and marks where a new
	// digest field goes; a pin writes Prefix followed by the digest.
	FormInsert
	// FormAction: the span holds owner/repo[/path]@ref; a pin writes the
	// commit SHA as the ref and sets a "# vX.Y.Z" comment at the end of the line.
	FormAction
)

// Span is the byte range [Start, End) in File that a pin rewrites. It may lie
// elsewhere than the reference itself: for FROM ${BASE} it is the default
// value of ARG BASE.
type Span struct {
	Start, End int
	// Line and Column are the 1-based position of Start, for messages.
	Line, Column int
	Form         Form
	// Prefix is written before the digest for FormInsert, e.g. "\n  digest: ".
	Prefix string
}

// SetImage fills Kind, Name, Tag and Digest from an image reference that has
// already had its variables substituted. It leaves the position fields alone.
func (r *Ref) SetImage(s string) error {
	im, err := ParseImage(s)
	if err != nil {
		return err
	}
	r.Kind, r.Name, r.Tag, r.Digest = Image, im.Name(), im.TagOrLatest(), im.Digest
	return nil
}

// SetAction fills Kind, Name, Tag and Digest from owner/repo[/path]@ref. A
// commit SHA goes to Digest (Tag stays for the caller to set from a version
// comment); anything else is the Tag.
func (r *Ref) SetAction(s string) error {
	a, err := ParseAction(s)
	if err != nil {
		return err
	}
	r.Kind, r.Name, r.Tag, r.Digest = Action, a.Name(), a.Ref, ""
	if a.Pinned() {
		r.Tag, r.Digest = "", a.Ref
	}
	return nil
}
