package edit_test

import (
	"fmt"
	"os"

	"github.com/stet-dev/stet/edit"
	"github.com/stet-dev/stet/ref"
)

func ExamplePatch() {
	data := []byte("FROM nginx:1-alpine AS web\n")
	// The span a scanner reports for the FROM image.
	span := ref.Span{Start: 5, End: 19, Line: 1, Column: 6, Form: ref.FormReference}
	digest := "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	out, err := edit.Patch("Dockerfile", data, []edit.Edit{{Span: span, Digest: digest}})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%q\n", out)
	if err := edit.Diff(os.Stdout, "Dockerfile", data, out); err != nil {
		fmt.Println(err)
	}
	// Output:
	// "FROM nginx:1-alpine@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef AS web\n"
	// --- a/Dockerfile
	// +++ b/Dockerfile
	// @@ -1 +1 @@
	// -FROM nginx:1-alpine AS web
	// +FROM nginx:1-alpine@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef AS web
}

func ExamplePatch_action() {
	data := []byte("- uses: actions/checkout@v4\n")
	span := ref.Span{Start: 8, End: 27, Line: 1, Column: 9, Form: ref.FormAction}
	out, _ := edit.Patch("ci.yml", data, []edit.Edit{{Span: span, Digest: "11bd71901bbe5b1630ceea73d27597364c9af683", Version: "v4.2.2"}})
	fmt.Print(string(out))
	// Output:
	// - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2
}
