package cli

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestPinMatrixOtherUse: the values of a matrix property that a condition
// also reads are not pinned, and pin says where that use is.
func TestPinMatrixOtherUse(t *testing.T) {
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	ctx := context.Background()
	files := map[string]string{".github/workflows/ci.yml": `on: push
jobs:
  test:
    runs-on: ubuntu-latest
    strategy:
      matrix:
        image: [node:20, node:22]
    container: ${{ matrix.image }}
    steps:
      - if: matrix['image'] == 'node:22'
        run: echo new
`}
	dir := writeTree(t, files)
	t.Chdir(dir)
	code, out, errOut := stetRun(t, ctx, "pin", ".")
	if code != ExitOK {
		t.Fatalf("stet pin = %d\n%s%s", code, out, errOut)
	}
	if diff := cmp.Diff(files, readTree(t, dir)); diff != "" {
		t.Errorf("pin changed files (-want +got):\n%s", diff)
	}
	for _, w := range []string{
		".github/workflows/ci.yml:7: skipping node:20: matrix.image is also used at line 10 (jobs.test.steps[0].if: matrix['image'] == 'node:22'), which a digest would change",
		".github/workflows/ci.yml:7: skipping node:22: matrix.image is also used at line 10",
	} {
		if !strings.Contains(errOut, w) {
			t.Errorf("pin's warnings lack %q:\n%s", w, errOut)
		}
	}
	if strings.Contains(errOut, "not written here literally") {
		t.Errorf("pin gives the generic reason:\n%s", errOut)
	}
}

// TestCheckBlockNotOneImage: a compose image written as a YAML block whose
// value is not the image on its line is reported, not read as that image,
// and pin leaves it alone.
func TestCheckBlockNotOneImage(t *testing.T) {
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	ctx := context.Background()
	files := map[string]string{"compose.yaml": "services:\n  a:\n    image: |\n      redis:7\n"}
	dir := writeTree(t, files)
	t.Chdir(dir)
	code, out, errOut := stetRun(t, ctx, "check", ".")
	if code != ExitFindings || !strings.Contains(out, "compose.yaml:4:7: STET004") || strings.Contains(out, "STET001") {
		t.Errorf("stet check = %d, want %d and STET004 only\n%s%s", code, ExitFindings, out, errOut)
	}
	code, out, errOut = stetRun(t, ctx, "refs", "--format", "json", ".")
	if code != ExitOK || !strings.Contains(out, `"notEditable": "the YAML block's value is \"redis:7\\n\"`) {
		t.Errorf("stet refs = %d, want the block's value in notEditable\n%s%s", code, out, errOut)
	}
	if code, out, errOut := stetRun(t, ctx, "pin", "."); code != ExitOK {
		t.Fatalf("stet pin = %d\n%s%s", code, out, errOut)
	}
	if diff := cmp.Diff(files, readTree(t, dir)); diff != "" {
		t.Errorf("pin changed files (-want +got):\n%s", diff)
	}
}

// TestCheckInvalidYAMLReference: a value in an image or uses: field that is
// no reference is an input error at its place; the rest of the file is
// still judged, and pin changes nothing there.
func TestCheckInvalidYAMLReference(t *testing.T) {
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	ctx := context.Background()
	files := map[string]string{
		"compose.yaml":             "services:\n  a:\n    image: node:20@sha256:abc\n  b:\n    image: redis:7\n",
		".github/workflows/ci.yml": "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout\n",
	}
	dir := writeTree(t, files)
	t.Chdir(dir)
	code, out, errOut := stetRun(t, ctx, "check", ".")
	if code != ExitUsage {
		t.Errorf("stet check = %d, want %d\n%s%s", code, ExitUsage, out, errOut)
	}
	for _, w := range []string{
		`compose.yaml:3:12: error: services.a.image node:20@sha256:abc: its digest "sha256:abc" is invalid`,
		".github/workflows/ci.yml:6:15: error: jobs.a.steps[0].uses actions/checkout: it has no @ref",
		"compose.yaml:5:12: STET001 image redis:7 is not pinned by digest",
	} {
		if !strings.Contains(out+errOut, w) {
			t.Errorf("check output lacks %q:\n%s%s", w, out, errOut)
		}
	}
	code, out, errOut = stetRun(t, ctx, "pin", ".")
	if code != ExitUsage {
		t.Errorf("stet pin = %d, want %d\n%s%s", code, ExitUsage, out, errOut)
	}
	if diff := cmp.Diff(files, readTree(t, dir)); diff != "" {
		t.Errorf("pin changed files (-want +got):\n%s", diff)
	}
}
