package actions_test

import (
	"fmt"

	"github.com/stet-dev/stet/scan/actions"
)

func ExampleScan() {
	workflow := []byte(`on: push
jobs:
  build:
    runs-on: ubuntu-latest
    container: golang:1.23
    steps:
      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2
      - uses: docker://alpine:3.20
      - uses: ./local-action
      - run: go test ./...
`)
	res, err := actions.Scan(".github/workflows/ci.yml", workflow)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range res.Refs {
		fmt.Printf("%d:%d %s %s tag=%s pinned=%v (%s)\n", r.Line, r.Column, r.Kind, r.Name, r.Tag, r.Pinned(), r.Context)
	}
	for _, c := range res.Commands {
		fmt.Printf("%d:%d %s: %s\n", c.Line, c.Column, c.Instruction, c.Text)
	}
	// Output:
	// 5:16 image docker.io/library/golang tag=1.23 pinned=false (jobs.build.container)
	// 7:15 action actions/checkout tag=v4.2.2 pinned=true (jobs.build.steps[0].uses)
	// 8:24 image docker.io/library/alpine tag=3.20 pinned=false (jobs.build.steps[1].uses)
	// 10:14 run: go test ./...
}

func ExampleVersionComment() {
	for _, c := range []string{"# v4.2.2", "# ratchet:actions/checkout@v4", "# pin @v3.1.0", "# do not bump"} {
		fmt.Printf("%q\n", actions.VersionComment(c))
	}
	// Output:
	// "v4.2.2"
	// "v4"
	// "v3.1.0"
	// ""
}
