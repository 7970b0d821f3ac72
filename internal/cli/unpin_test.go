package cli

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/stet-dev/stet/ref"
)

const (
	d1 = "sha256:1111111111111111111111111111111111111111111111111111111111111111"
	d2 = "sha256:2222222222222222222222222222222222222222222222222222222222222222"
)

func TestUnpin(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	files := map[string]string{
		"Dockerfile":                   "FROM nginx:1-alpine@" + d1 + " AS web\r\nFROM ghcr.io/org/base@" + d2 + "\r\nFROM redis:7",
		"compose.yaml":                 "services:\n  db:\n    image: 'postgres:16@" + d1 + "' # pinned\n",
		"kustomize/kustomization.yaml": "images:\n- name: nginx\n  newTag: \"1.27\"\n  digest: " + d2 + "\n",
	}
	want := map[string]string{
		"Dockerfile":   "FROM nginx:1-alpine AS web\r\nFROM ghcr.io/org/base@" + d2 + "\r\nFROM redis:7",
		"compose.yaml": "services:\n  db:\n    image: 'postgres:16' # pinned\n",
		// kustomize treats an empty digest as none; "" keeps the field a string.
		"kustomize/kustomization.yaml": "images:\n- name: nginx\n  newTag: \"1.27\"\n  digest: \"\"\n",
	}
	dir := writeTree(t, files)

	code, out, errOut := stetRun(t, ctx, "unpin", "--dry-run", "--format", "json", dir)
	if code != ExitOK {
		t.Fatalf("unpin --dry-run = %d\n%s%s", code, out, errOut)
	}
	var res rewriteResult
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatal(err)
	}
	if len(res.Changes) != 3 || len(res.Skipped) != 1 || !res.DryRun || res.Files != 3 {
		t.Errorf("dry run result = %+v", res)
	}
	if diff := cmp.Diff(files, readTree(t, dir)); diff != "" {
		t.Fatalf("--dry-run changed files:\n%s", diff)
	}

	code, out, errOut = stetRun(t, ctx, "unpin", dir)
	if code != ExitOK {
		t.Fatalf("unpin = %d\n%s%s", code, out, errOut)
	}
	if diff := cmp.Diff(want, readTree(t, dir)); diff != "" {
		t.Errorf("unpinned tree (-want +got):\n%s", diff)
	}
	if !strings.Contains(errOut, "Dockerfile:2: skipping ghcr.io/org/base@"+d2+": pinned by digest only: there is no tag to fall back on") {
		t.Errorf("no warning for the digest-only reference:\n%s", errOut)
	}
	if !strings.Contains(out, "Dockerfile:1: nginx:1-alpine unpinned (was "+d1+")") {
		t.Errorf("unpin output:\n%s", out)
	}
	// A second unpin has nothing to do.
	if code, _, _ := stetRun(t, ctx, "unpin", dir); code != ExitOK {
		t.Errorf("second unpin = %d", code)
	}
	if diff := cmp.Diff(want, readTree(t, dir)); diff != "" {
		t.Errorf("second unpin changed files:\n%s", diff)
	}
}

func TestDisplay(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		r    ref.Ref
		want string
	}{
		{ref.Ref{Kind: ref.Image, Text: "nginx:1-alpine", Name: "docker.io/library/nginx", Tag: "1-alpine"}, "nginx:1-alpine"},
		{ref.Ref{Kind: ref.Image, Text: "bitnami/nginx", Name: "docker.io/bitnami/nginx", Tag: "1.27"}, "bitnami/nginx:1.27"},
		{ref.Ref{Kind: ref.Image, Text: "bitnami/nginx", Name: "docker.io/bitnami/nginx", Digest: d1}, "bitnami/nginx@" + d1},
		{ref.Ref{Kind: ref.Image, Text: "golang:${GO}-alpine", Name: "docker.io/library/golang", Tag: "1.22-alpine"}, "golang:1.22-alpine"},
		{ref.Ref{Kind: ref.Image, Text: "localhost:5000/app", Name: "localhost:5000/app", Tag: "latest"}, "localhost:5000/app:latest"},
		{ref.Ref{Kind: ref.Action, Text: "actions/checkout@v4", Name: "actions/checkout", Tag: "v4"}, "actions/checkout@v4"},
		{ref.Ref{Kind: ref.Image, Text: "${IMAGE}", Dynamic: true}, "${IMAGE}"},
	} {
		if got := display(tt.r); got != tt.want {
			t.Errorf("display(%q) = %q, want %q", tt.r.Text, got, tt.want)
		}
	}
}
