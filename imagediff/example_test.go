package imagediff_test

import (
	"context"
	"fmt"
	"os"

	"github.com/stet-dev/stet/image"
	"github.com/stet-dev/stet/imagediff"
	"github.com/stet-dev/stet/inventory"
)

// The nginx story: the same Dockerfile built twice, with nginx:1-alpine
// moved underneath in between. testdata/shop is an OCI layout holding both
// builds.
func ExampleCompare() {
	ctx := context.Background()
	good, err := image.Open(ctx, "oci:testdata/shop:good", image.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	bad, err := image.Open(ctx, "oci:testdata/shop:bad", image.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	// The first layer of both is their nginx:1-alpine base.
	d, err := imagediff.Compare(ctx, good, bad, imagediff.Options{BaseA: 1, BaseB: 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(d.Verdict)
	for _, p := range d.Packages {
		fmt.Printf("%s %s %s -> %s (base image: %v, layer %d)\n", p.Change, p.Name, p.From, p.To, p.Layer.Base, p.Layer.Index)
	}
	// Output:
	// 1 package upgraded, config changed, 1 of 3 layers differ
	// upgraded nginx 1.17.1-r0 -> 1.17.2-r0 (base image: true, layer 0)
}

func ExampleRender() {
	ctx := context.Background()
	good, _ := image.Open(ctx, "oci:testdata/shop:good", image.Options{})
	bad, _ := image.Open(ctx, "oci:testdata/shop:bad", image.Options{})
	good.Name, bad.Name = "shop:good", "shop:bad"
	d, err := imagediff.Compare(ctx, good, bad, imagediff.Options{Inventory: inventory.Options{}})
	if err != nil {
		fmt.Println(err)
		return
	}
	imagediff.Render(os.Stdout, d, imagediff.FormatText)
	// Output:
	// 1 package upgraded, config changed, 1 of 3 layers differ
	// A  shop:good  sha256:8024147d952e  linux/amd64  alpine 3.10.1
	// B  shop:bad  sha256:2b9d8d5f5c3d  linux/amd64  alpine 3.10.1
	//
	// Packages (1)
	//   upgraded   nginx  1.17.1-r0 → 1.17.2-r0  layer 0: ADD file:9a4f77dfaba7fd2aa78186e4ef0e7486ad55101cefc1fabbc1…
	//
	// Config (1)
	//   env NGINX_VERSION: 1.17.1 → 1.17.2
	//
	// Layers: 2 shared (284 B), 1 only in A, 1 only in B
	//   A 0   sha256:51ec5791e946      371 B gzip  ADD file:9a4f77dfaba7fd2aa78186e4ef0e7486ad55101cefc1fabbc1b385601bb3…
	//   B 0   sha256:d9f93de97037      372 B gzip  ADD file:9a4f77dfaba7fd2aa78186e4ef0e7486ad55101cefc1fabbc1b385601bb3…
}
