package yamlref

import (
	"testing"

	"gopkg.in/yaml.v3"
)

func BenchmarkLookup(b *testing.B) {
	var root yaml.Node
	if err := yaml.Unmarshal([]byte("a: &a {x: 1, y: 2}\nplain: {p: 1, q: 2, image: x}\nmerged: {<<: *a, z: 3}\n"), &root); err != nil {
		b.Fatal(err)
	}
	top := root.Content[0]
	plain, merged := Get(top, "plain"), Get(top, "merged")
	b.Run("plain", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			Lookup(plain, "image")
			Lookup(plain, "missing")
		}
	})
	b.Run("merged", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			Lookup(merged, "y")
			Lookup(merged, "missing")
		}
	})
}
