package yamlref

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"gopkg.in/yaml.v3"

	"github.com/stet-dev/stet/ref"
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
				keys = append(keys, p.Name)
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
	const doc = "a: &a {x: 1}\nb: {<<: *a, '<<': 2, \"<<\": 3, c: 4, !!merge d: 5, ! <<: *a, !!merge <<: *a, !!str <<: 6}\n"
	if err := yaml.Unmarshal([]byte(doc), &root); err != nil {
		t.Fatal(err)
	}
	b := root.Content[0].Content[3]
	var got []bool
	for i := 0; i < len(b.Content); i += 2 {
		got = append(got, IsMerge(b.Content[i]))
	}
	if diff := cmp.Diff([]bool{true, false, false, false, false, true, true, false}, got); diff != "" {
		t.Errorf("IsMerge (-want +got):\n%s", diff)
	}
}

// TestLookupAsDecoders checks Lookup, Get and Entries against yaml.v3's own
// decoding of the same document into Go maps, the reading that compose-go,
// Helm and Kubernetes tools get, where the package's choices show: an alias
// used as a key, a key tagged !!merge, merges deeper than any limit.
func TestLookupAsDecoders(t *testing.T) {
	t.Parallel()
	deep := func(n int) string {
		var b strings.Builder
		b.WriteString("l0: &l0 {image: alpine:3}\n")
		for i := 1; i < n; i++ {
			fmt.Fprintf(&b, "l%d: &l%d {<<: *l%d, n%d: x}\n", i, i, i-1, i)
		}
		fmt.Fprintf(&b, "job: {<<: *l%d}\n", n-1)
		return b.String()
	}
	tests := []struct {
		name, doc string
		key       string
		want      string // the scalar the job's key holds, "" for none
	}{
		// The anchor's name means nothing: *image is the key foo.
		{"alias key names its scalar", "x: &image foo\njob:\n  *image : alpine:3\n", "image", ""},
		{"alias key read as the key it names", "x: &image foo\njob:\n  *image : alpine:3\n", "foo", "alpine:3"},
		{"alias key of an image key", "x: {&k image: busybox}\njob:\n  *k : alpine:3\n", "image", "alpine:3"},
		// !!merge on a key that is not << is only a tag.
		{"key tagged !!merge", "job:\n  !!merge image: alpine:3\n", "image", "alpine:3"},
		{"<< tagged !!merge merges", "a: &a {image: alpine:3}\njob:\n  !!merge <<: *a\n", "image", "alpine:3"},
		{"quoted << does not merge", "a: &a {image: alpine:3}\njob:\n  \"<<\": *a\n", "image", ""},
		{"own key wins", "a: &a {image: alpine:3}\njob:\n  image: ruby:3\n  <<: *a\n", "image", "ruby:3"},
		{"earlier merge wins", "a: &a {image: alpine:3}\nb: &b {image: ruby:3}\njob: {<<: [*b, *a]}\n", "image", "ruby:3"},
		{"merge of a merge wins over a later merge", "a: &a {image: alpine:3}\nb: &b {<<: *a}\nc: &c {image: ruby:3}\njob: {<<: [*b, *c]}\n", "image", "alpine:3"},
		{"merged 9 levels deep", deep(10), "image", "alpine:3"},
		{"merged 100 levels deep", deep(101), "image", "alpine:3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var decoded map[string]any
			if err := yaml.Unmarshal([]byte(tt.doc), &decoded); err != nil {
				t.Fatal(err)
			}
			decodedJob, _ := decoded["job"].(map[string]any)
			if want, _ := decodedJob[tt.key].(string); want != tt.want {
				t.Fatalf("yaml.v3 reads job.%s as %q, the test says %q", tt.key, want, tt.want)
			}
			var root yaml.Node
			if err := yaml.Unmarshal([]byte(tt.doc), &root); err != nil {
				t.Fatal(err)
			}
			job := Get(root.Content[0], "job")
			got, _ := Text(Get(job, tt.key))
			if got != tt.want {
				t.Errorf("Get(job, %s) = %q, want %q", tt.key, got, tt.want)
			}
			k, v := Lookup(job, tt.key)
			if lv, _ := Text(v); lv != tt.want || (k == nil) != (tt.want == "") {
				t.Errorf("Lookup(job, %s) = %v, %q", tt.key, k, lv)
			}
			var keys []string
			for _, p := range Entries(job) {
				keys = append(keys, p.Name)
				if p.Name == tt.key {
					if ev, _ := Text(p.Value); ev != tt.want {
						t.Errorf("Entries(job) has %s: %q, want %q", tt.key, ev, tt.want)
					}
				}
			}
			var want []string
			for name := range decodedJob {
				want = append(want, name)
			}
			slices.Sort(keys)
			slices.Sort(want)
			if diff := cmp.Diff(want, keys); diff != "" {
				t.Errorf("Entries(job) names (-want +got):\n%s", diff)
			}
		})
	}
}

// TestLookupKeyAsWritten checks that Lookup returns an alias key as
// written: its comments are this entry's, and AfterColon finds no colon to
// write after in a key that is not where its text is.
func TestLookupKeyAsWritten(t *testing.T) {
	t.Parallel()
	f := New("x.yaml", ref.SourceHelm, []byte("x: {&d digest: 1}\nimg:\n  *d :\n"))
	k, v := Lookup(Get(decode(t, f), "img"), "digest")
	if k == nil || k.Kind != yaml.AliasNode || !IsNull(v) {
		t.Fatalf("Lookup(img, digest) = %v, %v; want the alias key and a null value", k, v)
	}
	if off := f.AfterColon(k); off != -1 {
		t.Errorf("AfterColon(alias key) = %d, want -1", off)
	}
}

// TestLookupMergedManyTimes checks that mappings merged many times over are
// read once: read naively, the last mapping merges 2^60 others, and a key it
// does not have would never be found missing.
func TestLookupMergedManyTimes(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	b.WriteString("x0: &x0 {V: \"0\"}\n")
	for i := 1; i <= 60; i++ {
		fmt.Fprintf(&b, "x%d: &x%d {<<: [*x%d, *x%d], K%d: k}\n", i, i, i-1, i-1, i)
	}
	b.WriteString("self: &self {<<: *self, own: 1}\n")
	var root yaml.Node
	if err := yaml.Unmarshal([]byte(b.String()), &root); err != nil {
		t.Fatal(err)
	}
	top := root.Content[0]
	x := Get(top, "x60")
	if v, _ := Text(Get(x, "V")); v != "0" {
		t.Errorf("x60.V = %q, want 0", v)
	}
	if k, _ := Lookup(x, "missing"); k != nil {
		t.Errorf("x60.missing found")
	}
	if n := len(Entries(x)); n != 61 {
		t.Errorf("x60 has %d entries, want 61", n)
	}
	self := Get(top, "self")
	if k, _ := Lookup(self, "missing"); k != nil || len(Entries(self)) != 1 {
		t.Errorf("a mapping that merges itself: %v, %d entries", k, len(Entries(self)))
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
