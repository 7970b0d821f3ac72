package compose_test

import (
	"fmt"

	"github.com/stet-dev/stet/scan/compose"
)

func ExampleScan() {
	data := []byte(`services:
  web:
    image: ${REGISTRY:-ghcr.io/acme}/web:${TAG:-1.4}
  cache:
    image: redis:7-alpine
  api:
    build: ./api
    image: acme/api:dev
`)
	res, err := compose.Scan("deploy/compose.yaml", data)
	if err != nil {
		panic(err)
	}
	for _, r := range res.Refs {
		fmt.Printf("%d:%d %s -> %s:%s editable=%v\n", r.Line, r.Column, r.Context, r.Name, r.Tag, r.Edit != nil)
	}
	for _, rel := range res.Related {
		fmt.Println("related:", rel.Source, rel.Path)
	}
	// Output:
	// 3:12 services.web.image -> ghcr.io/acme/web:1.4 editable=false
	// 5:12 services.cache.image -> docker.io/library/redis:7-alpine editable=true
	// related: dockerfile deploy/api/Dockerfile
}
