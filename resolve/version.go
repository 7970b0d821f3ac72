package resolve

import (
	"slices"
	"strconv"
	"strings"
)

// mostSpecific picks, among the tags at the same commit as tag, the most
// specific version that tag abbreviates: v4 → v4.2.2 (not v4.2, not
// v4.2.2-rc.1 unless nothing else fits). It returns tag itself when no
// longer version extends it, and for branches and non-version tags.
func mostSpecific(tag string, candidates []string) string {
	base, ok := parseVersion(tag)
	if !ok {
		return tag
	}
	if base.pre != "" {
		return tag
	}
	best, bestV := tag, base
	for _, c := range candidates {
		v, ok := parseVersion(c)
		if !ok || c == tag || v.prefix != base.prefix || len(v.nums) < len(base.nums) ||
			!slices.Equal(v.nums[:len(base.nums)], base.nums) {
			continue
		}
		if better(v, bestV) {
			best, bestV = c, v
		}
	}
	return best
}

type version struct {
	prefix string // "v" or ""
	nums   []int
	pre    string
}

// parseVersion reads v1, 1.2, v1.2.3, v1.2.3-rc.1 (and + build metadata).
func parseVersion(s string) (version, bool) {
	var v version
	if strings.HasPrefix(s, "v") || strings.HasPrefix(s, "V") {
		v.prefix, s = s[:1], s[1:]
	}
	if i := strings.IndexByte(s, '+'); i >= 0 {
		s = s[:i]
	}
	if i := strings.IndexByte(s, '-'); i >= 0 {
		v.pre, s = s[i+1:], s[:i]
		if v.pre == "" {
			return version{}, false
		}
	}
	if s == "" {
		return version{}, false
	}
	for _, p := range strings.Split(s, ".") {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 || p == "" || p[0] == '+' {
			return version{}, false
		}
		v.nums = append(v.nums, n)
	}
	return v, true
}

// better prefers more components, then a release over a pre-release, then
// the higher version (v4.2.3 over v4.2.2 at one commit: a later pin of v4
// then follows the newest name), so the choice never depends on the order
// the server lists tags in.
func better(a, b version) bool {
	if len(a.nums) != len(b.nums) {
		return len(a.nums) > len(b.nums)
	}
	if (a.pre == "") != (b.pre == "") {
		return a.pre == ""
	}
	if c := slices.Compare(a.nums, b.nums); c != 0 {
		return c > 0
	}
	return a.pre > b.pre
}
