package yamlref

import (
	"fmt"
	"strings"

	"github.com/stet-dev/stet/ref"
)

// Unknown stands for the value of a variable that has no static value when a
// scanner expands a reference before reading it (see SetPartial).
const Unknown = "\x00"

// SetImage fills r's image fields from s, which has had its variables
// substituted. It wraps ref.SetImage with the reference text for messages.
func SetImage(r *ref.Ref, s string) error {
	if err := r.SetImage(s); err != nil {
		return fmt.Errorf("reading image %q: %w", s, err)
	}
	return nil
}

// SetPartial marks r as dynamic and fills what the static parts of s tell:
// s is a reference in which every variable without a static value was
// replaced by Unknown. postgres:<Unknown> gives Name docker.io/library/postgres
// and an empty Tag; <Unknown>/app:1 gives nothing but Dynamic.
func SetPartial(r *ref.Ref, s string) {
	r.Kind, r.Dynamic = ref.Image, true
	r.Name, r.Tag, r.Digest = "", "", ""
	base, digest := ref.SplitDigest(s)
	name, tag := base, ""
	if i := strings.LastIndexByte(base, ':'); i >= 0 && !strings.Contains(base[i+1:], "/") {
		name, tag = base[:i], base[i+1:]
	}
	if name == "" || strings.Contains(name, Unknown) {
		return
	}
	im, err := ref.ParseImage(name)
	if err != nil {
		return
	}
	r.Name = im.Name()
	if tag != "" && !strings.Contains(tag, Unknown) {
		if im, err := ref.ParseImage(name + ":" + tag); err == nil {
			r.Tag = im.Tag
		}
	}
	if ref.IsDigest(digest) {
		r.Digest = digest
	}
}

// StaticName returns the canonical image name that prefix, the text before
// the first variable or expression of a reference, spells out in full: the
// name of docker:${VERSION} or gcc:${{ matrix.v }}, and "" for a prefix that
// stops inside the name (${REGISTRY}/app, ghcr.io/${{ github.repository }}).
func StaticName(prefix string) string {
	i := strings.LastIndexAny(prefix, ":@")
	if i <= 0 || strings.Contains(prefix[i:], "/") {
		return ""
	}
	im, err := ref.ParseImage(prefix[:i])
	if err != nil {
		return ""
	}
	return im.Name()
}
