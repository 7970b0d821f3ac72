package explain_test

import (
	"fmt"
	"os"

	"github.com/stet-dev/stet/explain"
	"github.com/stet-dev/stet/ref"
)

// A filter built from --only and --exclude: patterns match familiar and
// canonical names, with or without the tag, and * crosses slashes.
func ExampleFilter() {
	f, err := explain.NewFilter([]string{"nginx", "ghcr.io/acme/*"}, []string{"ghcr.io/acme/legacy/*"})
	if err != nil {
		panic(err)
	}
	for _, name := range []string{"docker.io/library/nginx", "docker.io/library/redis", "ghcr.io/acme/team/api", "ghcr.io/acme/legacy/api"} {
		fmt.Println(name, f.Match(ref.Image, name, "1"))
	}
	// Output:
	// docker.io/library/nginx true
	// docker.io/library/redis false
	// ghcr.io/acme/team/api true
	// ghcr.io/acme/legacy/api false
}

// Rendering a report of moves that were held back by a minimum age, as
// the pull-request body's last section.
func ExampleRender() {
	rep := &explain.Report{Held: []explain.Held{{
		Move: explain.Move{Kind: ref.Image, Reference: "redis:7", Name: "docker.io/library/redis", Tag: "7",
			From:  "sha256:1111111111111111111111111111111111111111111111111111111111111111",
			To:    "sha256:2222222222222222222222222222222222222222222222222222222222222222",
			Sites: []explain.Site{{File: "compose.yaml", Line: 14}}},
		Reason: "--min-age 72h: created 5h ago (2026-11-25T07:00:00Z)",
	}}}
	if err := explain.Render(os.Stdout, rep, explain.FormatMarkdown); err != nil {
		panic(err)
	}
	// Output:
	// # No digest adopted: 1 reference held back
	//
	// 1 reference held back.
	//
	// ## Held back
	//
	// - redis:7 `sha256:111111111111…` → `sha256:222222222222…`: --min-age 72h: created 5h ago (2026-11-25T07:00:00Z). Used in: `compose.yaml:14`
}
