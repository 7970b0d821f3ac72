package imagediff

import (
	"context"
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

// compareFiles lists both images' files and compares the visible trees.
// Each layer is read once (layers in both images once in all), and file
// lists are cached by layer digest like package results.
func compareFiles(ctx context.Context, s *inventory.Scanner, a, b *image.Image, opts inventory.Options) (*FileDiff, error) {
	lists := func(im *image.Image) ([]*inventory.FileList, error) {
		out := make([]*inventory.FileList, len(im.Layers))
		for i := range im.Layers {
			fl, err := s.FileList(ctx, im, i)
			if err != nil {
				return nil, err
			}
			out[i] = fl
		}
		return out, nil
	}
	la, err := lists(a)
	if err != nil {
		return nil, err
	}
	lb, err := lists(b)
	if err != nil {
		return nil, err
	}
	ma, mb := inventory.MergeFiles(la), inventory.MergeFiles(lb)
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
