package yamlref

import (
	"errors"
	"fmt"
	"strings"

	"github.com/stet-dev/stet/ref"
	"github.com/stet-dev/stet/scan"
)

// ErrNotAction is wrapped by the errors Invalid records for a value in a
// field that holds an action (uses:) that is not owner/repo[/path]@ref.
var ErrNotAction = errors.New("not an action reference")

// InvalidImage records that value, written at r in a field that holds an
// image (r.Context names it), is not an image reference: whatever reads the
// file (docker compose, the kubelet, the runner) fails there, so it must
// not go unreported. expanded says that value is r.Text with the file's
// variable defaults substituted. The error wraps ref.ErrNotImage; Err
// returns it.
func (f *File) InvalidImage(r ref.Ref, value string, expanded bool) {
	what := r.Text
	if expanded {
		what = fmt.Sprintf("%s reads as %q with the defaults in this file", r.Text, value)
	}
	f.invalid = append(f.invalid, &scan.Error{File: f.Path, Line: r.Line, Column: r.Column,
		Err: fmt.Errorf("%s %s: %s: %w", r.Context, what, NotImageReason(value), ref.ErrNotImage)})
}

// InvalidAction records that value, written at r in a uses: field, is
// not an action reference; the error wraps ErrNotAction.
func (f *File) InvalidAction(r ref.Ref, value string) {
	why := "it is not owner/repo[/path]@ref"
	switch name, at, found := strings.Cut(value, "@"); {
	case !found:
		why = "it has no @ref (a tag, a branch or a commit)"
	case at == "":
		why = "its @ref is empty"
	case strings.Count(name, "/") == 0:
		why = "it names no repository (owner/repo)"
	}
	f.invalid = append(f.invalid, &scan.Error{File: f.Path, Line: r.Line, Column: r.Column,
		Err: fmt.Errorf("%s %s: %s: %w", r.Context, r.Text, why, ErrNotAction)})
}

// Err returns the first value Invalid recorded, as a *scan.Error at its
// place that counts the others, or nil. A scanner returns it with the
// references it found.
func (f *File) Err() error {
	if len(f.invalid) == 0 {
		return nil
	}
	e := *f.invalid[0]
	if n := len(f.invalid) - 1; n > 0 {
		e.Err = fmt.Errorf("%w (and %d more in this file)", e.Err, n)
	}
	return &e
}

// NotImageReason says why value is not an image reference, as a person
// would fix it.
func NotImageReason(value string) string {
	base, d := ref.SplitDigest(value)
	tag := ""
	if i := strings.LastIndexByte(base, ':'); i >= 0 && !strings.Contains(base[i+1:], "/") {
		tag = base[i+1:]
	}
	lower := strings.ToLower(value)
	switch {
	case strings.TrimSpace(value) != value || strings.ContainsAny(value, " \t\r\n"):
		return "it holds blanks"
	case d != "" && !ref.IsDigest(d):
		return fmt.Sprintf("its digest %q is invalid (a digest is sha256: and 64 lowercase hex digits)", d)
	case strings.IndexByte(value, '@') >= 0 && d == "":
		return "its digest is empty"
	case strings.HasSuffix(base, ":"):
		return "its tag is empty"
	case tag != "" && !ref.IsTag(tag):
		return fmt.Sprintf("its tag %q is invalid", tag)
	case lower != value && isImage(lower):
		return "its repository name must be lowercase"
	}
	return "its name is invalid"
}

func isImage(s string) bool {
	_, err := ref.ParseImage(s)
	return err == nil
}
