package resolve_test

import (
	"context"
	"fmt"
	"log"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/stet-dev/stet/internal/testregistry"
	"github.com/stet-dev/stet/ref"
	"github.com/stet-dev/stet/registry"
	"github.com/stet-dev/stet/resolve"
)

// Resolve references found in files, through a mirror for Docker Hub: the
// file says nginx:1-alpine, the request goes to the local registry.
func ExampleResolver_Resolve() {
	host, stop := testregistry.Start()
	defer stop()
	tag, _ := name.NewTag(host + "/dockerhub/library/nginx:1-alpine")
	if err := remote.Write(tag, empty.Image); err != nil {
		log.Fatal(err)
	}
	want, _ := empty.Image.Digest()

	var r ref.Ref
	r.SetImage("nginx:1-alpine")

	client, err := registry.New(registry.WithMirrors(map[string]string{"docker.io": host + "/dockerhub"}))
	if err != nil {
		log.Fatal(err)
	}
	resolver, err := resolve.New(client)
	if err != nil {
		log.Fatal(err)
	}
	res, err := resolver.Resolve(context.Background(), []ref.Ref{r})
	if err != nil {
		log.Fatal(err)
	}
	got := res.For(r)
	fmt.Println(got.Key)
	fmt.Println(got.Digest == want.String())
	// Output:
	// docker.io/library/nginx:1-alpine
	// true
}
