package yamlref

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"gopkg.in/yaml.v3"
)

func TestGetAndEntries(t *testing.T) {
	t.Parallel()
	const doc = `base: &base {image: alpine:3, tag: a}
more: &more {services: [db]}
job:
  <<: [*base, *more]
  tag: b
quoted:
  "<<": *base
  image: ruby:3
alias: *base
`
	var root yaml.Node
	if err := yaml.Unmarshal([]byte(doc), &root); err != nil {
		t.Fatal(err)
	}
	top := root.Content[0]
	tests := []struct {
		name, mapping, key string
		want               string // the scalar found, "" when none, "seq" for a sequence
		keys               []string
	}{
		{name: "own key wins over a merged one", mapping: "job", key: "tag", want: "b", keys: []string{"tag", "image", "services"}},
		{name: "merged from the first anchor", mapping: "job", key: "image", want: "alpine:3", keys: []string{"tag", "image", "services"}},
		{name: "merged from the second anchor", mapping: "job", key: "services", want: "seq", keys: []string{"tag", "image", "services"}},
		{name: "a quoted << is an ordinary key", mapping: "quoted", key: "tag", want: "", keys: []string{"<<", "image"}},
		{name: "an alias of a mapping is read through", mapping: "alias", key: "image", want: "alpine:3", keys: []string{"image", "tag"}},
		{name: "missing key", mapping: "job", key: "script", want: "", keys: []string{"tag", "image", "services"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := Get(top, tt.mapping)
			got := ""
			switch v := Get(m, tt.key); {
			case v == nil:
			case v.Kind == yaml.SequenceNode:
				got = "seq"
			default:
				got, _ = Text(v)
			}
			if got != tt.want {
				t.Errorf("Get(%s, %s) = %q, want %q", tt.mapping, tt.key, got, tt.want)
			}
			var keys []string
			for _, p := range Entries(m) {
				keys = append(keys, p.Key.Value)
			}
			if diff := cmp.Diff(tt.keys, keys); diff != "" {
				t.Errorf("Entries(%s) keys (-want +got):\n%s", tt.mapping, diff)
			}
		})
	}
}

func TestIsMerge(t *testing.T) {
	t.Parallel()
	var root yaml.Node
	if err := yaml.Unmarshal([]byte("a: &a {x: 1}\nb: {<<: *a, '<<': 2, \"<<\": 3, c: 4}\n"), &root); err != nil {
		t.Fatal(err)
	}
	b := root.Content[0].Content[3]
	var got []bool
	for i := 0; i < len(b.Content); i += 2 {
		got = append(got, IsMerge(b.Content[i]))
	}
	if diff := cmp.Diff([]bool{true, false, false, false}, got); diff != "" {
		t.Errorf("IsMerge (-want +got):\n%s", diff)
	}
}

func TestTextStrString(t *testing.T) {
	t.Parallel()
	const doc = `plain: nginx
number: 1.20
null: ~
block: |
  echo hi
binary: !!binary aGk=
anchor: &a alpine
alias: *a
`
	var root yaml.Node
	if err := yaml.Unmarshal([]byte(doc), &root); err != nil {
		t.Fatal(err)
	}
	type reading struct {
		Text, Str, String string // "-" when the reader refuses the node
	}
	read := func(f func(*yaml.Node) (string, bool), n *yaml.Node) string {
		if v, ok := f(n); ok {
			return v
		}
		return "-"
	}
	got := map[string]reading{}
	for _, key := range []string{"plain", "number", "null", "block", "binary", "alias", "missing"} {
		_, n := Lookup(root.Content[0], key) // as written: the alias is read through
		got[key] = reading{read(Text, n), read(Str, n), read(String, n)}
	}
	want := map[string]reading{
		"plain":   {"nginx", "nginx", "nginx"},
		"number":  {"1.20", "1.20", "-"},
		"null":    {"-", "-", "-"},
		"block":   {"echo hi\n", "-", "-"},
		"binary":  {"aGk=", "-", "-"},
		"alias":   {"alpine", "alpine", "alpine"},
		"missing": {"-", "-", "-"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("readings (-want +got):\n%s", diff)
	}
}
