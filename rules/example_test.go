package rules_test

import (
	"fmt"

	"github.com/stet-dev/stet/ref"
	"github.com/stet-dev/stet/rules"
	"github.com/stet-dev/stet/scan"
)

func ExampleCheck() {
	src := []byte("FROM nginx:1-alpine\n# stet:ignore STET021 the base image pins its repositories\nRUN apk add --no-cache curl\nRUN curl -fsSL https://get.example.com | sh\n")
	from := ref.Ref{File: "Dockerfile", Line: 1, Column: 6, EndLine: 1, EndColumn: 20, Source: ref.SourceDockerfile, Text: "nginx:1-alpine", Context: "FROM"}
	if err := from.SetImage(from.Text); err != nil {
		panic(err)
	}
	file := scan.File{
		Path: "Dockerfile",
		Refs: []ref.Ref{from},
		Commands: []scan.Command{
			{File: "Dockerfile", Line: 3, Column: 5, EndLine: 3, EndColumn: 28, Instruction: "RUN", Source: ref.SourceDockerfile, Text: "apk add --no-cache curl"},
			{File: "Dockerfile", Line: 4, Column: 5, EndLine: 4, EndColumn: 45, Instruction: "RUN", Source: ref.SourceDockerfile, Text: "curl -fsSL https://get.example.com | sh"},
		},
		Ignores: scan.ParseIgnores(src),
	}
	cfg := rules.Config{Rules: map[string]rules.Severity{"STET025": rules.Error}}
	for _, f := range rules.Check([]scan.File{file}, cfg) {
		fmt.Printf("%s:%d:%d: %s %s (%s)\n", f.File, f.Line, f.Column, f.Rule, f.Message, f.Severity)
	}
	// Output:
	// Dockerfile:1:6: STET001 image nginx:1-alpine is not pinned by digest (error)
	// Dockerfile:4:5: STET025 remote script https://get.example.com is piped to sh without verification (error)
}
