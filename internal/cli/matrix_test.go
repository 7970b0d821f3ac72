package cli

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/stet-dev/stet/internal/testregistry"
)

// TestPinMatrixAndBlockScalars pins a workflow whose job container and
// service come from its matrix, and a compose file whose image is a block
// scalar: each value is pinned where it is written (the include and exclude
// entries too, so that they still match the values they name), no other
// byte changes, and check is clean afterwards.
func TestPinMatrixAndBlockScalars(t *testing.T) {
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	ctx := context.Background()
	host := testregistry.New(t)
	node18 := testregistry.Push(t, host+"/library/node:18", testregistry.Image(t, ""))
	node20 := testregistry.Push(t, host+"/library/node:20-alpine", testregistry.Image(t, ""))
	pg := testregistry.Push(t, host+"/library/postgres:16", testregistry.Image(t, ""))
	mysql := testregistry.Push(t, host+"/library/mysql:8", testregistry.Image(t, ""))

	const workflow = `name: test
on: push
jobs:
  test:
    runs-on: ubuntu-latest
    strategy:
      matrix:
        image: ["node:18", "node:20-alpine"]   # runtimes
        db:
          - postgres:16
        include: [{image: "node:18", experimental: true}]
        exclude:
          - {image: "node:20-alpine", db: postgres:16, os: linux}
    container: ${{ matrix.image }}
    services:
      db:
        image: ${{ matrix.db }}
`
	const compose = "services:\n  db:\n    image: >-\n      mysql:8\n    restart: always\n"
	dir := writeTree(t, map[string]string{
		".stet.yaml":               mirrorConfig(host),
		".github/workflows/ci.yml": workflow,
		"compose.yaml":             compose,
	})

	if code, out, errOut := stetRun(t, ctx, "check", dir); code != ExitFindings {
		t.Fatalf("check before pin = %d, want %d\n%s%s", code, ExitFindings, out, errOut)
	}
	if code, out, errOut := stetRun(t, ctx, "pin", dir); code != ExitOK {
		t.Fatalf("pin = %d\n%s%s", code, out, errOut)
	}
	want := map[string]string{
		".stet.yaml": mirrorConfig(host),
		".github/workflows/ci.yml": `name: test
on: push
jobs:
  test:
    runs-on: ubuntu-latest
    strategy:
      matrix:
        image: ["node:18@` + node18 + `", "node:20-alpine@` + node20 + `"]   # runtimes
        db:
          - postgres:16@` + pg + `
        include: [{image: "node:18@` + node18 + `", experimental: true}]
        exclude:
          - {image: "node:20-alpine@` + node20 + `", db: postgres:16@` + pg + `, os: linux}
    container: ${{ matrix.image }}
    services:
      db:
        image: ${{ matrix.db }}
`,
		"compose.yaml": "services:\n  db:\n    image: >-\n      mysql:8@" + mysql + "\n    restart: always\n",
	}
	if diff := cmp.Diff(want, readTree(t, dir)); diff != "" {
		t.Errorf("pinned files (-want +got):\n%s", diff)
	}
	if code, out, errOut := stetRun(t, ctx, "check", dir); code != ExitOK {
		t.Errorf("check after pin = %d\n%s%s", code, out, errOut)
	}
}
