package integration

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/linter"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

// TestDockerfileBuildChecks parses stet's Dockerfile with BuildKit, the
// parser docker build uses, and runs the build checks BuildKit applies
// while parsing, the default set of docker build --check: no warning,
// two stages.
func TestDockerfileBuildChecks(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(moduleRoot, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	res, err := parser.Parse(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("Dockerfile: %v", err)
	}
	var warnings []string
	for _, w := range res.Warnings {
		warnings = append(warnings, w.Short)
	}
	lint := linter.New(&linter.Config{Warn: func(rule, _, _, msg string, loc []parser.Range) {
		line := 0
		if len(loc) > 0 {
			line = loc[0].Start.Line
		}
		warnings = append(warnings, fmt.Sprintf("Dockerfile:%d: %s: %s", line, rule, msg))
	}})
	stages, _, err := instructions.Parse(res.AST, lint)
	if err != nil {
		t.Fatalf("Dockerfile: %v", err)
	}
	for _, w := range warnings {
		t.Errorf("build check: %s", w)
	}
	if len(stages) != 2 || stages[0].Name != "build" {
		t.Errorf("want a build stage and an unnamed final stage, got %d stages", len(stages))
	}
}
