package explain

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/stet-dev/stet/ref"
)

// Filter selects references by name, as --only and --exclude do.
//
// A pattern matches an image by its familiar name (nginx, grafana/grafana),
// its canonical name (docker.io/library/nginx), or either followed by
// ":tag"; an action by its name (actions/checkout,
// github/codeql-action/init) or "name@version". In a pattern, * matches any
// run of characters, slashes included (ghcr.io/acme/* is everything under
// acme), and ? one character; a pattern without them that names an image
// another way (docker.io/nginx, index.docker.io/library/nginx) is read as
// that image's canonical name too.
type Filter struct {
	only, exclude [][]string
}

// NewFilter returns a filter that keeps references matching any of only
// (everything when only is empty) and none of exclude. An empty pattern is
// an error.
func NewFilter(only, exclude []string) (*Filter, error) {
	f := &Filter{}
	for _, set := range []struct {
		flag string
		in   []string
		out  *[][]string
	}{{"--only", only, &f.only}, {"--exclude", exclude, &f.exclude}} {
		for _, p := range set.in {
			p = strings.TrimSpace(p)
			if p == "" {
				return nil, fmt.Errorf("%s: empty pattern", set.flag)
			}
			*set.out = append(*set.out, alternatives(p))
		}
	}
	return f, nil
}

// alternatives is a pattern and, for a literal image name written another
// way, its canonical form.
func alternatives(p string) []string {
	alts := []string{p}
	if strings.ContainsAny(p, "*?") {
		return alts
	}
	if im, err := ref.ParseImage(p); err == nil && im.Digest == "" {
		n := im.Name()
		if im.Tag != "" {
			n += ":" + im.Tag
		}
		if n != p {
			alts = append(alts, n)
		}
	}
	return alts
}

// Empty reports whether the filter keeps everything.
func (f *Filter) Empty() bool { return f == nil || len(f.only)+len(f.exclude) == 0 }

// Match reports whether the filter keeps a reference of kind named name
// (canonical) at tag (an action's version).
func (f *Filter) Match(kind ref.Kind, name, tag string) bool {
	if f.Empty() {
		return true
	}
	names := candidates(kind, name, tag)
	if len(f.only) > 0 && !anyMatch(f.only, names) {
		return false
	}
	return !anyMatch(f.exclude, names)
}

func candidates(kind ref.Kind, name, tag string) []string {
	if kind == ref.Action {
		out := []string{name}
		if tag != "" {
			out = append(out, name+"@"+tag)
		}
		return out
	}
	fam := ref.FamiliarName(name)
	out := []string{fam}
	if fam != name {
		out = append(out, name)
	}
	if tag != "" {
		out = append(out, fam+":"+tag)
		if fam != name {
			out = append(out, name+":"+tag)
		}
	}
	return out
}

func anyMatch(patterns [][]string, names []string) bool {
	for _, alts := range patterns {
		for _, p := range alts {
			for _, n := range names {
				if Glob(p, n) {
					return true
				}
			}
		}
	}
	return false
}

// Glob reports whether s matches pattern, where * matches any run of
// characters (slashes included) and ? any one character; other bytes match
// themselves. It runs in time proportional to len(pattern)·len(s), whatever
// the pattern.
func Glob(pattern, s string) bool {
	pi, ti := 0, 0
	star, mark := -1, 0
	for ti < len(s) {
		switch {
		case pi < len(pattern) && pattern[pi] == '*':
			star, mark = pi, ti
			pi++
		case pi < len(pattern) && pattern[pi] == '?':
			_, n := utf8.DecodeRuneInString(s[ti:])
			pi++
			ti += n
		case pi < len(pattern) && pattern[pi] == s[ti]:
			pi++
			ti++
		case star >= 0:
			_, n := utf8.DecodeRuneInString(s[mark:])
			pi = star + 1
			mark += n
			ti = mark
		default:
			return false
		}
	}
	for pi < len(pattern) && pattern[pi] == '*' {
		pi++
	}
	return pi == len(pattern)
}
