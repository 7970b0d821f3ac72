package inventory_test

import (
	"context"
	"fmt"

	"github.com/stet-dev/stet/image"
	"github.com/stet-dev/stet/inventory"
)

func ExampleTake() {
	ctx := context.Background()
	im, err := image.Open(ctx, "oci:../imagediff/testdata/shop:good", image.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	inv, err := inventory.Take(ctx, im, inventory.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(inv.OS.ID, inv.OS.VersionID)
	for _, p := range inv.Packages {
		fmt.Printf("%s %s %s layer %d\n", p.Type, p.Name, p.Version, p.Layer.Index)
	}
	// Output:
	// alpine 3.10.1
	// apk busybox 1.30.1-r2 layer 0
	// apk musl 1.1.22-r2 layer 0
	// apk nginx 1.17.1-r0 layer 0
}
