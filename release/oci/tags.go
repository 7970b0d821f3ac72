package oci

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/stet-dev/stet/release"
)

// Tag prefixes. App and environment names never contain a prefix's
// meaning: the prefix comes first and the number last, so "r-web-000042"
// is release 42 of web whatever '-' the name holds.
const (
	releasePrefix = "r-"
	eventPrefix   = "e-"
	idPrefix      = "id-"
)

// ReleaseTag is the tag of release number n of app: r-web-000042.
func ReleaseTag(app string, n int64) string { return fmt.Sprintf("%s%s-%06d", releasePrefix, app, n) }

// EventTag is the tag of event number n of env: e-production-000017.
func EventTag(env string, n int64) string { return fmt.Sprintf("%s%s-%06d", eventPrefix, env, n) }

// IDTag is the tag that finds a release by ID: id-<hex>.
func IDTag(id string) string { return idPrefix + strings.TrimPrefix(id, "sha256:") }

// index is what one tag listing says about the ledger.
type index struct {
	releases map[string][]int64 // app → numbers, ascending
	events   map[string][]int64 // env → sequences, ascending
	ids      []string           // release IDs with an id- tag, sorted
}

func parseTags(tags []string) index {
	ix := index{releases: map[string][]int64{}, events: map[string][]int64{}}
	for _, t := range tags {
		switch {
		case strings.HasPrefix(t, idPrefix):
			if h := t[len(idPrefix):]; len(h) == 64 && release.ValidID("sha256:"+h) {
				ix.ids = append(ix.ids, "sha256:"+h)
			}
		case strings.HasPrefix(t, releasePrefix):
			if app, n, ok := splitNumbered(t[len(releasePrefix):]); ok {
				ix.releases[app] = append(ix.releases[app], n)
			}
		case strings.HasPrefix(t, eventPrefix):
			if env, n, ok := splitNumbered(t[len(eventPrefix):]); ok {
				ix.events[env] = append(ix.events[env], n)
			}
		}
	}
	for _, m := range []map[string][]int64{ix.releases, ix.events} {
		for k, v := range m {
			slices.Sort(v)
			m[k] = slices.Compact(v)
		}
	}
	slices.Sort(ix.ids)
	return ix
}

// splitNumbered cuts "name-000042" into name and 42. Numbers have at least
// six digits and no sign; anything else is some other tool's tag.
func splitNumbered(s string) (string, int64, bool) {
	i := strings.LastIndexByte(s, '-')
	if i <= 0 || len(s)-i-1 < 6 {
		return "", 0, false
	}
	name, num := s[:i], s[i+1:]
	for j := 0; j < len(num); j++ {
		if num[j] < '0' || num[j] > '9' {
			return "", 0, false
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n < 1 || !release.ValidName(name) {
		return "", 0, false
	}
	return name, n, true
}

func last(ns []int64) int64 {
	if len(ns) == 0 {
		return 0
	}
	return ns[len(ns)-1]
}

// newest returns up to limit of ns (ascending), newest first.
func newest(ns []int64, limit int) []int64 {
	out := slices.Clone(ns)
	slices.Reverse(out)
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out
}

func sortedKeys(m map[string][]int64) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, cmp.Compare)
	return keys
}
