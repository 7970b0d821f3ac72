package gitlab_test

import (
	"fmt"

	"github.com/stet-dev/stet/scan/gitlab"
)

func ExampleScan() {
	config := []byte(`variables:
  GO_VERSION: "1.23"
default:
  image: golang:${GO_VERSION}
test:
  services:
    - name: postgres:16
      alias: db
  script:
    - go test ./...
deploy:
  image: $CI_REGISTRY_IMAGE/deployer:latest
  script: ./deploy.sh
`)
	res, err := gitlab.Scan(".gitlab-ci.yml", config)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range res.Refs {
		fmt.Printf("%d:%d %q name=%s tag=%s dynamic=%v editable=%v (%s)\n", r.Line, r.Column, r.Text, r.Name, r.Tag, r.Dynamic, r.Edit != nil, r.Context)
	}
	for _, c := range res.Commands {
		fmt.Printf("%d:%d %s: %s\n", c.Line, c.Column, c.Instruction, c.Text)
	}
	// Output:
	// 4:10 "golang:${GO_VERSION}" name=docker.io/library/golang tag=1.23 dynamic=false editable=false (default.image)
	// 7:13 "postgres:16" name=docker.io/library/postgres tag=16 dynamic=false editable=true (test.services[0].name)
	// 12:10 "$CI_REGISTRY_IMAGE/deployer:latest" name= tag= dynamic=true editable=false (deploy.image)
	// 10:7 script: go test ./...
	// 13:11 script: ./deploy.sh
}
