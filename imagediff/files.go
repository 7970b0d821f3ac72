package imagediff

import (
	"context"
	"path"
	"sort"

	"github.com/stet-dev/stet/image"
	"github.com/stet-dev/stet/inventory"
)

// FileDiff is the file-level comparison.
type FileDiff struct {
	Added   int          `json:"added"`
	Removed int          `json:"removed"`
	Changed int          `json:"changed"`
	Changes []FileChange `json:"changes"`
}

// FileChange is one path that differs. What lists the attributes that
// changed: type, size, mode, owner, content, link.
type FileChange struct {
	Path   string              `json:"path"`
	Change string              `json:"change"`
	What   []string            `json:"what,omitempty"`
	From   *inventory.FileInfo `json:"from,omitempty"`
	To     *inventory.FileInfo `json:"to,omitempty"`
}

// compareFiles compares the visible file trees. Layers the two images share
// as a common base (same content, by layer ID, from the bottom up) give both
// the same files, so only the layers above it are read — unless one image
// deletes or replaces part of the base that the other keeps, which needs the
// base's own list. File lists are cached by layer ID like package results.
func compareFiles(ctx context.Context, s *inventory.Scanner, a, b *image.Image, opts inventory.Options) (*FileDiff, error) {
	lists := func(im *image.Image, from int) ([]*inventory.FileList, error) {
		out := make([]*inventory.FileList, 0, len(im.Layers)-from)
		for i := from; i < len(im.Layers); i++ {
			fl, err := s.FileList(ctx, im, i)
			if err != nil {
				return nil, err
			}
			out = append(out, fl)
		}
		return out, nil
	}
	k := 0
	for k < len(a.Layers) && k < len(b.Layers) && a.Layers[k].ID() == b.Layers[k].ID() {
		k++
	}
	la, err := lists(a, k)
	if err != nil {
		return nil, err
	}
	lb, err := lists(b, k)
	if err != nil {
		return nil, err
	}
	ea, eb := suffixEffect(la), suffixEffect(lb)
	var ma, mb map[string]inventory.FileInfo
	if k > 0 && needsBase(ea, eb) {
		base, err := lists(a, 0)
		if err != nil {
			return nil, err
		}
		ma = inventory.MergeFiles(base)
		mb = inventory.MergeFiles(append(base[:k:k], lb...))
	} else {
		// Only the files the upper layers set differ; a path neither
		// sets is the base's in both.
		ma, mb = ea.files, eb.files
	}
	fd := &FileDiff{Changes: []FileChange{}}
	for p, fb := range mb {
		fa, ok := ma[p]
		if !ok {
			fb := fb
			fd.Added++
			fd.Changes = append(fd.Changes, FileChange{Path: p, Change: Added, To: &fb})
			continue
		}
		var what []string
		if fa.Type != fb.Type {
			what = append(what, "type")
		}
		if fa.Size != fb.Size {
			what = append(what, "size")
		}
		if fa.Mode != fb.Mode {
			what = append(what, "mode")
		}
		if fa.UID != fb.UID || fa.GID != fb.GID {
			what = append(what, "owner")
		}
		if fa.Digest != fb.Digest {
			what = append(what, "content")
		}
		if fa.Link != fb.Link {
			what = append(what, "link")
		}
		if len(what) > 0 {
			fa, fb := fa, fb
			fd.Changed++
			fd.Changes = append(fd.Changes, FileChange{Path: p, Change: Changed, What: what, From: &fa, To: &fb})
		}
	}
	for p, fa := range ma {
		if _, ok := mb[p]; !ok {
			fa := fa
			fd.Removed++
			fd.Changes = append(fd.Changes, FileChange{Path: p, Change: Removed, From: &fa})
		}
	}
	sort.Slice(fd.Changes, func(i, j int) bool { return fd.Changes[i].Path < fd.Changes[j].Path })
	return fd, nil
}

// effect is what a stack of upper layers does to whatever base lies below:
// the files it sets, and the base paths it deletes.
type effect struct {
	files map[string]inventory.FileInfo
	// gone are whited-out paths (with their subtrees); emptied are opaque
	// directories (their base children hidden).
	gone, emptied map[string]bool
}

func suffixEffect(lists []*inventory.FileList) *effect {
	e := &effect{files: inventory.MergeFiles(lists), gone: map[string]bool{}, emptied: map[string]bool{}}
	for _, fl := range lists {
		for _, w := range fl.Whiteouts {
			e.gone[w] = true
		}
		for _, o := range fl.Opaque {
			e.emptied[o] = true
		}
		for _, f := range fl.Files {
			if f.Type != "dir" {
				// A non-directory replaces whatever base directory was there.
				e.emptied[f.Path] = true
			}
		}
	}
	return e
}

// hides reports whether the effect deletes base path p.
func (e *effect) hides(p string) bool {
	if e.gone[p] {
		return true
	}
	for d := path.Dir(p); ; d = path.Dir(d) {
		if d == "." {
			d = ""
		}
		if e.gone[d] || e.emptied[d] {
			return true
		}
		if d == "" {
			return false
		}
	}
}

// needsBase reports whether comparing two effects needs the base's files: a
// path set or deleted on one side only, whose other side is the base's.
func needsBase(a, b *effect) bool {
	for p := range a.files {
		if _, ok := b.files[p]; !ok && !b.hides(p) {
			return true
		}
	}
	for p := range b.files {
		if _, ok := a.files[p]; !ok && !a.hides(p) {
			return true
		}
	}
	if len(a.gone) != len(b.gone) || len(a.emptied) != len(b.emptied) {
		return true
	}
	for p := range a.gone {
		if !b.gone[p] {
			return true
		}
	}
	for p := range a.emptied {
		if !b.emptied[p] {
			return true
		}
	}
	return false
}
