package explain_test

import (
	"strings"
	"testing"

	"github.com/stet-dev/stet/explain"
	"github.com/stet-dev/stet/ref"
)

func TestFilter(t *testing.T) {
	type target struct {
		kind      ref.Kind
		name, tag string
	}
	nginx := target{ref.Image, "docker.io/library/nginx", "1-alpine"}
	grafana := target{ref.Image, "docker.io/grafana/grafana", "11.2.0"}
	acme := target{ref.Image, "ghcr.io/acme/team/api", "1"}
	local := target{ref.Image, "registry.local:5000/base", "3"}
	checkout := target{ref.Action, "actions/checkout", "v4"}
	codeql := target{ref.Action, "github/codeql-action/init", "v3"}
	all := []target{nginx, grafana, acme, local, checkout, codeql}
	for _, tc := range []struct {
		name          string
		only, exclude []string
		want          []target
	}{
		{name: "no patterns", want: all},
		{name: "familiar name", only: []string{"nginx"}, want: []target{nginx}},
		{name: "canonical name", only: []string{"docker.io/library/nginx"}, want: []target{nginx}},
		{name: "another spelling", only: []string{"docker.io/nginx"}, want: []target{nginx}},
		{name: "index.docker.io", only: []string{"index.docker.io/library/nginx"}, want: []target{nginx}},
		{name: "name and tag", only: []string{"nginx:1-alpine"}, want: []target{nginx}},
		{name: "other tag", only: []string{"nginx:1.27"}, want: nil},
		{name: "glob crosses slashes", only: []string{"ghcr.io/acme/*"}, want: []target{acme}},
		{name: "glob of a prefix", only: []string{"ghcr.io/acme/te?m/*"}, want: []target{acme}},
		{name: "registry with port", only: []string{"registry.local:5000/*"}, want: []target{local}},
		{name: "action", only: []string{"actions/checkout"}, want: []target{checkout}},
		{name: "action at version", only: []string{"actions/checkout@v4"}, want: []target{checkout}},
		{name: "action path glob", only: []string{"github/codeql-action/*"}, want: []target{codeql}},
		{name: "several only", only: []string{"nginx", "grafana/*"}, want: []target{nginx, grafana}},
		{name: "exclude", exclude: []string{"nginx", "actions/*"}, want: []target{grafana, acme, local, codeql}},
		{name: "exclude wins", only: []string{"docker.io/*"}, exclude: []string{"grafana/grafana"}, want: []target{nginx}},
		{name: "nothing", only: []string{"*"}, exclude: []string{"*"}, want: nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := explain.NewFilter(tc.only, tc.exclude)
			if err != nil {
				t.Fatal(err)
			}
			var got []target
			for _, x := range all {
				if f.Match(x.kind, x.name, x.tag) {
					got = append(got, x)
				}
			}
			if len(got) != len(tc.want) {
				t.Fatalf("kept %v, want %v", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Fatalf("kept %v, want %v", got, tc.want)
				}
			}
		})
	}
	if _, err := explain.NewFilter([]string{" "}, nil); err == nil || !strings.Contains(err.Error(), "--only") {
		t.Errorf("empty pattern: err = %v", err)
	}
}

func TestGlob(t *testing.T) {
	for _, tc := range []struct {
		pattern, s string
		want       bool
	}{
		{"", "", true},
		{"", "a", false},
		{"*", "", true},
		{"*", "a/b/c", true},
		{"a*", "a", true},
		{"a*c", "abbbc", true},
		{"a*c", "abbbcd", false},
		{"a?c", "abc", true},
		{"a?c", "ac", false},
		{"*a*b*", "xxaxxbxx", true},
		{"*a*b*", "xxbxxaxx", false},
		{"ü?", "üé", true},
		{"*", "*0000", true},
		{"a*", "a*b", true},
		{strings.Repeat("*a", 20) + "b", strings.Repeat("a", 60), false},
	} {
		if got := explain.Glob(tc.pattern, tc.s); got != tc.want {
			t.Errorf("Glob(%q, %q) = %v, want %v", tc.pattern, tc.s, got, tc.want)
		}
	}
}

// FuzzGlob checks the matcher against a regular-expression-free oracle:
// a pattern without metacharacters matches only itself, and * alone
// matches everything.
func FuzzGlob(f *testing.F) {
	f.Add("ghcr.io/acme/*", "ghcr.io/acme/api")
	f.Add("a?c*", "abcdef")
	f.Add("**??", "x")
	f.Fuzz(func(t *testing.T, pattern, s string) {
		got := explain.Glob(pattern, s)
		if !strings.ContainsAny(pattern, "*?") && got != (pattern == s) {
			t.Fatalf("Glob(%q, %q) = %v for a literal pattern", pattern, s, got)
		}
		if !explain.Glob("*", s) || got && !explain.Glob(pattern+"*", s) {
			t.Fatalf("Glob(%q, %q): * does not extend a match", pattern, s)
		}
		if got && !explain.Glob("*"+pattern, "x"+s) {
			t.Fatalf("Glob(%q, %q): a leading * does not absorb a prefix", pattern, s)
		}
		// Filters built from any pattern never panic.
		if fl, err := explain.NewFilter([]string{pattern}, []string{s}); err == nil {
			fl.Match(ref.Image, "docker.io/library/"+s, pattern)
			fl.Match(ref.Action, s, pattern)
		}
	})
}
