package render_test

import (
	"fmt"

	"github.com/stet-dev/stet/ref"
	"github.com/stet-dev/stet/release"
	"github.com/stet-dev/stet/render"
	"github.com/stet-dev/stet/scan/formats"
)

// A rollback to r1: the manifest names r2's tag and digest; rendering
// writes r1's, and nothing else in the file changes.
func ExampleData() {
	r1 := release.Release{App: "shop", Number: 1, Images: map[string]release.Image{
		"shop": {Reference: "registry.example.com/shop:1.4.2", Digest: "sha256:" + fmt.Sprintf("%064x", 1)},
	}}
	manifest := []byte(`apiVersion: v1
kind: Pod
metadata: {name: shop}
spec:
  containers:
    - name: shop
      image: "registry.example.com/shop:1.5.0@sha256:` + fmt.Sprintf("%064x", 2) + `"  # set by CD
    - name: proxy
      image: envoyproxy/envoy:v1.30
`)
	found, err := formats.Default()[ref.SourceKube]("pod.yaml", manifest)
	if err != nil {
		fmt.Println(err)
		return
	}
	res, err := render.Data("pod.yaml", manifest, found.Refs, r1, render.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(string(res.Data))
	for _, c := range res.Changes {
		fmt.Printf("%s:%d: %s tag %s → %s\n", c.File, c.Line, c.Image, c.FromTag, c.Tag)
	}
	// Output:
	// apiVersion: v1
	// kind: Pod
	// metadata: {name: shop}
	// spec:
	//   containers:
	//     - name: shop
	//       image: "registry.example.com/shop:1.4.2@sha256:0000000000000000000000000000000000000000000000000000000000000001"  # set by CD
	//     - name: proxy
	//       image: envoyproxy/envoy:v1.30
	// pod.yaml:7: shop tag 1.5.0 → 1.4.2
}
