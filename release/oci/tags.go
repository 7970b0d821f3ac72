package oci

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/stet-dev/stet/release"
)

// Tag prefixes. The prefix comes first and the number last, so
// "r-web-000042" is release 42 of web whatever '-' the name holds.
const (
	releasePrefix = "r-"
	eventPrefix   = "e-"
	// claimLen is the number of hex digits of a record ID in a claim tag.
	claimLen = 12
)

// ReleaseTag is the tag of release number n of app: r-web-000042.
func ReleaseTag(app string, n int64) string { return fmt.Sprintf("%s%s-%06d", releasePrefix, app, n) }

// EventTag is the tag of event number n of env: e-production-000017.
func EventTag(env string, n int64) string { return fmt.Sprintf("%s%s-%06d", eventPrefix, env, n) }

// ClaimTag is the tag a writer puts on its record before it takes a place:
// the place's tag, a dot and the first 12 hex digits of the record's ID:
// r-web-000042.0123456789ab. Claims are never overwritten (their names
// depend on content), so every record ever written stays reachable.
func ClaimTag(place, id string) string {
	return place + "." + strings.TrimPrefix(id, "sha256:")[:claimLen]
}

// withdrawn marks a claim its writer gave up: the claim tag plus ".w".
const withdrawnSuffix = ".w"

// slot is one numbered place: whether its tag exists, and the claims on it.
type slot struct {
	taken     bool
	claims    []string // ID prefixes, sorted
	withdrawn map[string]bool
}

// index is what one tag listing says about the ledger.
type index struct {
	releases map[string]map[int64]*slot // app → number → slot
	events   map[string]map[int64]*slot // env → sequence → slot
}

func parseTags(tags []string) index {
	ix := index{releases: map[string]map[int64]*slot{}, events: map[string]map[int64]*slot{}}
	for _, t := range tags {
		place, claim := t, ""
		gaveUp := strings.HasSuffix(t, withdrawnSuffix)
		if gaveUp {
			place = strings.TrimSuffix(t, withdrawnSuffix)
		}
		if i := strings.LastIndexByte(place, '.'); i > 0 && len(place)-i-1 == claimLen && isHex(place[i+1:]) {
			place, claim = place[:i], place[i+1:]
		} else if gaveUp {
			continue
		}
		var m map[string]map[int64]*slot
		switch {
		case strings.HasPrefix(place, releasePrefix):
			m, place = ix.releases, place[len(releasePrefix):]
		case strings.HasPrefix(place, eventPrefix):
			m, place = ix.events, place[len(eventPrefix):]
		default:
			continue
		}
		name, n, ok := splitNumbered(place)
		if !ok {
			continue
		}
		if m[name] == nil {
			m[name] = map[int64]*slot{}
		}
		s := m[name][n]
		if s == nil {
			s = &slot{}
			m[name][n] = s
		}
		switch {
		case claim == "":
			s.taken = true
		case gaveUp:
			if s.withdrawn == nil {
				s.withdrawn = map[string]bool{}
			}
			s.withdrawn[claim] = true
		default:
			s.claims = append(s.claims, claim)
		}
	}
	for _, m := range []map[string]map[int64]*slot{ix.releases, ix.events} {
		for _, slots := range m {
			for _, s := range slots {
				slices.Sort(s.claims)
				s.claims = slices.Compact(s.claims)
			}
		}
	}
	return ix
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
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

// taken lists the numbers whose tag exists, ascending.
func taken(slots map[int64]*slot) []int64 {
	var out []int64
	for n, s := range slots {
		if s.taken {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out
}

// highestLive is the highest number that is taken or claimed by a claim
// not withdrawn: a new release takes the one after, so that it never waits
// for a writer that is about to take its number.
func highestLive(slots map[int64]*slot) int64 {
	var h int64
	for n, s := range slots {
		live := s.taken
		for _, c := range s.claims {
			live = live || !s.withdrawn[c]
		}
		if live {
			h = max(h, n)
		}
	}
	return h
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

// names lists the apps or environments with at least one taken number.
func names(m map[string]map[int64]*slot) []string {
	var out []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if len(taken(m[k])) > 0 {
			out = append(out, k)
		}
	}
	return out
}

// claimsOf lists the (name, number) places with a claim matching the
// ID prefix p (at most claimLen hex digits are compared).
func claimsOf(m map[string]map[int64]*slot, p string) [][2]string {
	p = p[:min(len(p), claimLen)]
	var out [][2]string
	for _, name := range slices.Sorted(maps.Keys(m)) {
		for _, n := range slices.Sorted(maps.Keys(m[name])) {
			for _, c := range m[name][n].claims {
				if strings.HasPrefix(c, p) {
					out = append(out, [2]string{name, strconv.FormatInt(n, 10)})
				}
			}
		}
	}
	return out
}
