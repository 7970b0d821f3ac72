package registry_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/stet-dev/stet/internal/testregistry"
	"github.com/stet-dev/stet/registry"
)

// One HEAD request gives the digest a tag points to; failures are typed.
func ExampleClient_Head() {
	host, stop := testregistry.Start()
	defer stop()
	tag, _ := name.NewTag(host + "/team/app:1.0")
	if err := remote.Write(tag, empty.Image); err != nil {
		log.Fatal(err)
	}
	want, _ := empty.Image.Digest()

	c, err := registry.New(registry.WithUserAgent("stet/example"))
	if err != nil {
		log.Fatal(err)
	}
	d, err := c.Head(context.Background(), tag)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(d.Digest == want)

	missing, _ := name.NewTag(host + "/team/app:9.9")
	_, err = c.Head(context.Background(), missing)
	fmt.Println(errors.Is(err, registry.ErrNotFound))
	// Output:
	// true
	// true
}
