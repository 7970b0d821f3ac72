package actions

import (
	"regexp"
	"strings"
)

var (
	// versionRE matches a release version as tags spell it: v4, v4.2.2, 1.0,
	// v2.0.0-rc.1, release-v1.2 (Renovate's "(prefix-)(v)1.0.0").
	versionRE = regexp.MustCompile(`^(?:[A-Za-z][A-Za-z0-9_]*-)?[vV]?[0-9]+(?:\.[0-9]+)*(?:[-+][0-9A-Za-z.+-]*)?$`)
	// refNameRE is a git branch or tag name, conservatively: main, release/v1.
	refNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._/+-]*$`)
)

// VersionComment extracts the version that a comment after a commit-pinned
// action names, or "" when the comment names none. The comment may start with
// its '#'. Accepted spellings, as pinning tools write them:
//
//	# v4.2.2                 pinact, Renovate, Dependabot, stet
//	#v4                      hand-written
//	# tag=v4.2.2             Renovate's former format (also "# renovate: tag=v4.2.2")
//	# version: v4.2.2        hand-written (also version=v4.2.2, tag: v4.2.2)
//	# pin @v4.2.2, # pin@v4  pin-github-action
//	# ratchet:actions/checkout@v4   ratchet (ratchet:exclude names no version)
//	# main                   a branch, when it is the comment's only word
//
// Otherwise the comment's first word counts only when it looks like a
// version (v1, 1.2.3, v2.0.0-rc.1): "# v4.2.2 (2024-10-01)" names v4.2.2,
// "# TODO bump to v5" names nothing.
func VersionComment(c string) string {
	c = strings.TrimSpace(strings.TrimLeft(strings.TrimSpace(c), "#"))
	if rest, ok := cutPrefixFold(c, "ratchet:"); ok {
		_, v, found := strings.Cut(firstWord(rest), "@")
		if v = clean(v); !found || !isRefName(v) {
			return ""
		}
		return v
	}
	if rest, ok := cutPrefixFold(c, "renovate:"); ok {
		c = strings.TrimSpace(rest)
	}
	explicit := false
	for _, p := range []string{"tag=", "tag:", "version=", "version:", "pin @", "pin@", "@"} {
		if rest, ok := cutPrefixFold(c, p); ok {
			c, explicit = strings.TrimSpace(rest), true
			break
		}
	}
	words := strings.Fields(c)
	if len(words) == 0 {
		return ""
	}
	v := clean(words[0])
	switch {
	case versionRE.MatchString(v):
		return v
	case (explicit || len(words) == 1) && isRefName(v):
		return v
	}
	return ""
}

// isRefName reports whether s can name a git branch or tag.
func isRefName(s string) bool {
	return refNameRE.MatchString(s) && !strings.Contains(s, "..") && !strings.HasSuffix(s, ".lock") && !strings.HasSuffix(s, "/")
}

func firstWord(s string) string {
	if f := strings.Fields(s); len(f) > 0 {
		return f[0]
	}
	return ""
}

// clean drops punctuation that prose puts after a version: "v4.2.2," "(v4)".
func clean(s string) string {
	s = strings.TrimLeft(s, "([{'\"`")
	return strings.TrimRight(s, ".,;:)]}'\"`")
}

func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix) {
		return s[len(prefix):], true
	}
	return s, false
}
