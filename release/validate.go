package release

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/stet-dev/stet/ref"
)

// MaxNameLen bounds app and environment names, so that backends can build
// registry tags from them (at most 128 bytes) with room for a prefix and
// a sequence number.
const MaxNameLen = 64

// ValidName reports whether s may name an app or an environment:
// lowercase letters, digits, '.', '_' and '-', starting and ending with a
// letter or digit, at most MaxNameLen bytes.
func ValidName(s string) bool {
	if s == "" || len(s) > MaxNameLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		alnum := c >= 'a' && c <= 'z' || c >= '0' && c <= '9'
		if !alnum && ((c != '.' && c != '_' && c != '-') || i == 0 || i == len(s)-1) {
			return false
		}
	}
	return true
}

// ValidID reports whether s is a release or event ID: "sha256:" and 64
// lowercase hex digits.
func ValidID(s string) bool { return ref.IsDigest(s) && strings.HasPrefix(s, "sha256:") }

// Validate checks a release before it is recorded or after it is read: a
// valid app name, images that all carry a digest and a canonical
// reference, well-formed optional fields, and text that is valid UTF-8 so
// the canonical encoding is faithful. A zero Number is allowed (the
// ledger assigns it).
func (r Release) Validate() error {
	if err := r.validate(); err != nil {
		what := "release"
		if r.App != "" {
			what = "release of " + r.App
			if r.Number > 0 {
				what = r.Label()
			}
		}
		return fmt.Errorf("%w: %s: %w", ErrInvalid, what, err)
	}
	return nil
}

func (r Release) validate() error {
	if !ValidName(r.App) {
		return fmt.Errorf("app name %q: want lowercase letters, digits, '.', '_' or '-', at most %d bytes", r.App, MaxNameLen)
	}
	if r.Number < 0 {
		return fmt.Errorf("number %d is negative", r.Number)
	}
	if len(r.Images) == 0 {
		return errors.New("no images")
	}
	for _, k := range r.Names() {
		if !validKey(k, 256) {
			return fmt.Errorf("image name %q: want 1 to 256 printable characters without spaces", k)
		}
		if err := r.Images[k].validate(); err != nil {
			return fmt.Errorf("image %s: %w", k, err)
		}
	}
	if r.Git != nil && !validCommit(r.Git.Commit) {
		return fmt.Errorf("git commit %q: want a full lowercase hex commit ID", r.Git.Commit)
	}
	if r.LockDigest != "" && !ref.IsDigest(r.LockDigest) {
		return fmt.Errorf("lock digest %q is not a sha256 digest", r.LockDigest)
	}
	if r.Parent != "" && !ValidID(r.Parent) {
		return fmt.Errorf("parent %q is not a release ID", r.Parent)
	}
	if err := validTime(r.Created); err != nil {
		return fmt.Errorf("created: %w", err)
	}
	if err := r.Creator.validate(); err != nil {
		return err
	}
	for k, v := range r.Annotations {
		if !validKey(k, 256) {
			return fmt.Errorf("annotation key %q: want 1 to 256 printable characters without spaces", k)
		}
		if !utf8.ValidString(v) {
			return fmt.Errorf("annotation %s: value is not valid UTF-8", k)
		}
	}
	return nil
}

func (im Image) validate() error {
	if !ref.IsDigest(im.Digest) {
		return fmt.Errorf("digest %q: a release holds no tag without its digest", im.Digest)
	}
	p, err := ref.ParseImage(im.Reference)
	if err != nil {
		return fmt.Errorf("reference %q: %w", im.Reference, err)
	}
	if p.Digest != "" {
		return fmt.Errorf("reference %q: the digest belongs in the digest field", im.Reference)
	}
	if p.String() != im.Reference {
		return fmt.Errorf("reference %q is not canonical: want %s", im.Reference, p.String())
	}
	if im.MediaType != "" && !validMediaType(im.MediaType) {
		return fmt.Errorf("media type %q is malformed", im.MediaType)
	}
	if !slices.IsSorted(im.Platforms) || len(slices.Compact(slices.Clone(im.Platforms))) != len(im.Platforms) {
		return errors.New("platforms are not sorted and unique")
	}
	for _, p := range im.Platforms {
		if !validPlatform(p) {
			return fmt.Errorf("platform %q: want os/arch[/variant]", p)
		}
	}
	return nil
}

func (c Creator) validate() error {
	for _, s := range []string{c.User, c.Host} {
		if !utf8.ValidString(s) || strings.ContainsFunc(s, unicode.IsControl) {
			return fmt.Errorf("creator %q: control characters or invalid UTF-8", s)
		}
	}
	for k, v := range c.CI {
		if !validEnvName(k) {
			return fmt.Errorf("CI variable name %q: want an environment variable name", k)
		}
		if !utf8.ValidString(v) {
			return fmt.Errorf("CI variable %s: value is not valid UTF-8", k)
		}
	}
	return nil
}

func validTime(t time.Time) error {
	if t.IsZero() {
		return errors.New("time is not set")
	}
	if t.Location() != time.UTC || !t.Equal(Time(t)) {
		return fmt.Errorf("time %s is not UTC with millisecond precision", t.Format(time.RFC3339Nano))
	}
	if t.Year() < 1970 || t.Year() > 9999 {
		return fmt.Errorf("time %s is out of range", t.Format(time.RFC3339Nano))
	}
	return nil
}

// validKey: printable, no spaces, valid UTF-8, bounded.
func validKey(s string, maxLen int) bool {
	if s == "" || len(s) > maxLen || !utf8.ValidString(s) {
		return false
	}
	return !strings.ContainsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || !unicode.IsPrint(r) })
}

func validEnvName(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for i, c := range s {
		ok := c == '_' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || i > 0 && c >= '0' && c <= '9'
		if !ok {
			return false
		}
	}
	return true
}

func validCommit(s string) bool {
	if len(s) != 40 && len(s) != 64 {
		return false
	}
	return isLowerHex(s)
}

func isLowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// validMediaType: type/subtype with the characters RFC 6838 allows.
func validMediaType(s string) bool {
	typ, sub, ok := strings.Cut(s, "/")
	return ok && restrictedName(typ) && restrictedName(sub) && len(s) <= 255
}

func restrictedName(s string) bool {
	if s == "" || len(s) > 127 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			i > 0 && strings.IndexByte("!#$&-^_.+", c) >= 0
		if !ok {
			return false
		}
	}
	return true
}

func validPlatform(s string) bool {
	parts := strings.Split(s, "/")
	if len(parts) < 2 || len(parts) > 3 {
		return false
	}
	for _, p := range parts {
		if p == "" || len(p) > 64 {
			return false
		}
		for i := 0; i < len(p); i++ {
			c := p[i]
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.') {
				return false
			}
		}
	}
	return true
}
