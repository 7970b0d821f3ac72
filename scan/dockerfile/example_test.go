package dockerfile_test

import (
	"fmt"

	"github.com/stet-dev/stet/scan/dockerfile"
)

func ExampleScan() {
	data := []byte(`# syntax=docker/dockerfile:1
ARG GO_VERSION=1.22
ARG BASE=nginx:1-alpine
FROM golang:${GO_VERSION}-alpine AS build
RUN go build -o /app .
FROM ${BASE}
COPY --from=build /app /app
`)
	res, err := dockerfile.Scan("Dockerfile", data)
	if err != nil {
		panic(err)
	}
	for _, r := range res.Refs {
		fmt.Printf("%d:%d %-9s %-28s %s:%s", r.Line, r.Column, r.Context, r.Text, r.Name, r.Tag)
		if r.Edit != nil {
			fmt.Printf(" (pin edits %q)", data[r.Edit.Start:r.Edit.End])
		}
		fmt.Println()
	}
	for _, c := range res.Commands {
		fmt.Printf("%d: %s %s\n", c.Line, c.Instruction, c.Text)
	}
	// Output:
	// 1:10 # syntax  docker/dockerfile:1          docker.io/docker/dockerfile:1 (pin edits "docker/dockerfile:1")
	// 4:6 FROM      golang:${GO_VERSION}-alpine  docker.io/library/golang:1.22-alpine
	// 6:6 FROM      ${BASE}                      docker.io/library/nginx:1-alpine (pin edits "nginx:1-alpine")
	// 5: RUN go build -o /app .
}
