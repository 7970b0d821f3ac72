package release

import (
	"slices"
	"strings"
)

// ChangeKind classifies what happened to one image between two releases.
type ChangeKind string

const (
	// Unchanged: the same digest (perhaps under another reference).
	Unchanged ChangeKind = "unchanged"
	// TagMoved: the same name and tag, another digest: the tag was pushed
	// again (an upstream update or a rebuild under the same tag).
	TagMoved ChangeKind = "tag moved"
	// Rebuilt: another tag (or repository) and another digest.
	Rebuilt ChangeKind = "rebuilt"
	// Added and Removed: the image exists in only one of the releases.
	Added   ChangeKind = "added"
	Removed ChangeKind = "removed"
)

// Change is one image's difference between two releases.
type Change struct {
	// Name is the image's name in the releases.
	Name string
	Kind ChangeKind
	// From and To are the image in the older and the newer release; nil
	// when it is absent there.
	From, To *Image
}

// Changed reports whether the image's bytes differ (or it came or went).
func (c Change) Changed() bool { return c.Kind != Unchanged }

// Compare lists the changes from release a to release b, one per image
// name in either, sorted by name.
func Compare(a, b Release) []Change {
	names := append(a.Names(), b.Names()...)
	slices.Sort(names)
	names = slices.Compact(names)
	out := make([]Change, 0, len(names))
	for _, n := range names {
		c := Change{Name: n}
		if im, ok := a.Images[n]; ok {
			c.From = &im
		}
		if im, ok := b.Images[n]; ok {
			c.To = &im
		}
		switch {
		case c.From == nil:
			c.Kind = Added
		case c.To == nil:
			c.Kind = Removed
		case c.From.Digest == c.To.Digest:
			c.Kind = Unchanged
		case c.From.Reference == c.To.Reference && hasTag(c.From.Reference):
			c.Kind = TagMoved
		default:
			c.Kind = Rebuilt
		}
		out = append(out, c)
	}
	return out
}

// hasTag reports whether a canonical reference names a tag: a ':' after
// the last '/' (a registry port comes before it).
func hasTag(reference string) bool {
	return strings.Contains(reference[strings.LastIndexByte(reference, '/')+1:], ":")
}
