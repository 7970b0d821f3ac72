package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/stet-dev/stet/internal/testregistry"
	"github.com/stet-dev/stet/scan/dockerfile"
)

// checkJSONOutput is what the shared-default tests read of
// "stet check --format json".
type checkJSONOutput struct {
	Findings []struct {
		Rule, File string
		Line       int
	}
	Errors []struct {
		File         string
		Line, Column int
		Message      string
	}
}

// TestPinSharedArgDefault: an ARG default that one FROM uses whole and
// another as part of a larger value is left alone, with a warning naming
// both lines; a default every FROM uses whole is pinned. Afterwards every
// Dockerfile still parses, every reference in it is a valid image
// reference, and check reports each unpinned one.
func TestPinSharedArgDefault(t *testing.T) {
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	ctx := context.Background()
	host := testregistry.New(t)
	base := testregistry.Push(t, host+"/t/base:1", testregistry.Image(t, ""))
	alpine := testregistry.Push(t, host+"/t/base:1-alpine", testregistry.Image(t, ""))
	testregistry.Push(t, host+"/library/nginx:1", testregistry.Image(t, ""))
	testregistry.Push(t, host+"/library/nginx:latest", testregistry.Image(t, ""))
	files := map[string]string{
		".stet.yaml": mirrorConfig(host),
		// The two cases as reported: a suffix after the default, and a
		// tag variable after a name-only default.
		"suffix/Dockerfile": "ARG BASE=" + host + "/t/base:1\nFROM ${BASE} AS a\nFROM ${BASE}-alpine AS b\n",
		"tag/Dockerfile":    "ARG IMG=nginx\nARG V=1\nFROM ${IMG}:${V} AS a\nFROM ${IMG}\n",
		// Used whole everywhere: the default is the place to pin.
		"whole/Dockerfile": "ARG BASE=" + host + "/t/base:1\nFROM ${BASE} AS a\nFROM $BASE\n",
		// Quoted, and read through ${BASE:-…}.
		"quoted/Dockerfile": "ARG BASE=\"" + host + "/t/base:1\"\nFROM \"${BASE}\" AS a\nFROM ${BASE:-scratch}\n",
		// Re-declared in a stage that takes it with a suffix.
		"stage/Dockerfile": "ARG BASE=" + host + "/t/base:1\nFROM ${BASE} AS a\nFROM " + host + "/t/base:1-alpine\nARG BASE\nCOPY --from=${BASE}-alpine / /\n",
	}
	dir := writeTree(t, files)
	t.Chdir(dir)

	code, out, errOut := stetRun(t, ctx, "pin", ".")
	if code != ExitOK {
		t.Fatalf("stet pin = %d\n%s%s", code, out, errOut)
	}
	want := map[string]string{
		".stet.yaml":        files[".stet.yaml"],
		"suffix/Dockerfile": files["suffix/Dockerfile"],
		"tag/Dockerfile":    files["tag/Dockerfile"],
		"whole/Dockerfile":  "ARG BASE=" + host + "/t/base:1@" + base + "\nFROM ${BASE} AS a\nFROM $BASE\n",
		"quoted/Dockerfile": "ARG BASE=\"" + host + "/t/base:1@" + base + "\"\nFROM \"${BASE}\" AS a\nFROM ${BASE:-scratch}\n",
		"stage/Dockerfile":  "ARG BASE=" + host + "/t/base:1\nFROM ${BASE} AS a\nFROM " + host + "/t/base:1-alpine@" + alpine + "\nARG BASE\nCOPY --from=${BASE}-alpine / /\n",
	}
	if diff := cmp.Diff(want, readTree(t, dir)); diff != "" {
		t.Errorf("files after pin (-want +got):\n%s", diff)
	}
	for _, w := range []string{
		"suffix/Dockerfile:2: skipping " + host + "/t/base:1: its value, the default at line 1, is also used at line 3 in ${BASE}-alpine, which a digest appended to it would break",
		"suffix/Dockerfile:3: skipping " + host + "/t/base:1-alpine: it is assembled from variables",
		"tag/Dockerfile:3: skipping nginx:1: it is assembled from variables",
		"tag/Dockerfile:4: skipping nginx:latest: its value, the default at line 1, is also used at line 3 in ${IMG}:${V}",
		"stage/Dockerfile:2: skipping " + host + "/t/base:1: its value, the default at line 1, is also used at line 5 in ${BASE}-alpine",
		"stage/Dockerfile:5: skipping " + host + "/t/base:1-alpine: it is assembled from variables",
	} {
		if !strings.Contains(errOut, w) {
			t.Errorf("pin's warnings lack %q:\n%s", w, errOut)
		}
	}

	// Every FROM and COPY --from still expands to a valid reference.
	for p, content := range readTree(t, dir) {
		if !strings.HasSuffix(p, "Dockerfile") {
			continue
		}
		res, err := dockerfile.Scan(p, []byte(content))
		if err != nil {
			t.Errorf("%s no longer scans: %v", p, err)
			continue
		}
		if n := strings.Count(content, "FROM ") + strings.Count(content, "--from="); len(res.Refs) != n {
			t.Errorf("%s: %d references, want %d (one per FROM and --from)", p, len(res.Refs), n)
		}
		for _, r := range res.Refs {
			if r.Name == "" || r.Dynamic {
				t.Errorf("%s:%d: %s does not read as an image reference: %+v", p, r.Line, r.Text, r)
			}
		}
	}

	// check reports every reference left unpinned, and nothing else.
	code, out, errOut = stetRun(t, ctx, "check", "--format", "json", ".")
	if code != ExitFindings {
		t.Fatalf("stet check = %d, want %d\n%s%s", code, ExitFindings, out, errOut)
	}
	var res checkJSONOutput
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if len(res.Errors) != 0 {
		t.Errorf("check reports input errors: %+v", res.Errors)
	}
	var got []string
	for _, f := range res.Findings {
		got = append(got, fmt.Sprintf("%s:%d %s", f.File, f.Line, f.Rule))
	}
	slices.Sort(got)
	wantFindings := []string{
		"stage/Dockerfile:2 STET001",
		"stage/Dockerfile:5 STET001",
		"suffix/Dockerfile:2 STET001",
		"suffix/Dockerfile:3 STET001",
		"tag/Dockerfile:3 STET001",
		"tag/Dockerfile:4 STET001",
		"tag/Dockerfile:4 STET002",
	}
	if diff := cmp.Diff(wantFindings, got); diff != "" {
		t.Errorf("check findings (-want +got):\n%s", diff)
	}

	// A second pin finds nothing more to do.
	before := readTree(t, dir)
	if code, out, errOut := stetRun(t, ctx, "pin", "."); code != ExitOK {
		t.Fatalf("second pin = %d\n%s%s", code, out, errOut)
	}
	if diff := cmp.Diff(before, readTree(t, dir)); diff != "" {
		t.Errorf("second pin changed files:\n%s", diff)
	}
}

// TestCheckReferenceThatExpandsToNoImage: a Dockerfile whose ARG default
// already holds a digest that another FROM extends (what pinning the shared
// default used to write) is reported at that FROM by check and refs, which
// exit 2, and pin changes nothing in it.
func TestCheckReferenceThatExpandsToNoImage(t *testing.T) {
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	ctx := context.Background()
	const digest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	src := "ARG BASE=127.0.0.1:5555/t/base:1@" + digest + "\nFROM ${BASE} AS a\nFROM ${BASE}-alpine AS b\nFROM alpine:3\n"
	dir := writeTree(t, map[string]string{"Dockerfile": src})
	t.Chdir(dir)

	wantErr := "Dockerfile:3:6: error: FROM ${BASE}-alpine expands to \"127.0.0.1:5555/t/base:1@" + digest + "-alpine\" with the defaults in this file (a digest must end a reference): not an image reference"
	code, out, errOut := stetRun(t, ctx, "check", ".")
	if code != ExitUsage {
		t.Errorf("stet check = %d, want %d\n%s%s", code, ExitUsage, out, errOut)
	}
	if !strings.Contains(out, wantErr) {
		t.Errorf("check output lacks %q:\n%s", wantErr, out)
	}
	// The rest of the file is still judged.
	if !strings.Contains(out, "Dockerfile:4:6: STET001 image alpine:3 is not pinned by digest") {
		t.Errorf("check output lacks the finding on line 4:\n%s", out)
	}

	code, out, errOut = stetRun(t, ctx, "refs", ".")
	if code != ExitUsage {
		t.Errorf("stet refs = %d, want %d\n%s%s", code, ExitUsage, out, errOut)
	}
	if !strings.Contains(out+errOut, "Dockerfile:3:6") {
		t.Errorf("refs does not name line 3:\n%s%s", out, errOut)
	}

	code, out, errOut = stetRun(t, ctx, "pin", ".")
	if code != ExitUsage {
		t.Errorf("stet pin = %d, want %d\n%s%s", code, ExitUsage, out, errOut)
	}
	if !strings.Contains(errOut, "Dockerfile:3:6: FROM ${BASE}-alpine expands to") {
		t.Errorf("pin does not name line 3:\n%s", errOut)
	}
	if got := readTree(t, dir)["Dockerfile"]; got != src {
		t.Errorf("pin changed the file:\n%s", got)
	}
}

// TestUpdateSharedArgDefault: a default that already holds a digest is read
// with it on every line, so update moves it even when another line reads it
// as part of a larger value.
func TestUpdateSharedArgDefault(t *testing.T) {
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	ctx := context.Background()
	host := testregistry.New(t)
	current := testregistry.Push(t, host+"/t/base:1", testregistry.Image(t, ""))
	const old = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	rest := "\nARG DESC=\"built on ${BASE}\"\nFROM ${BASE}\n"
	dir := writeTree(t, map[string]string{"Dockerfile": "ARG BASE=" + host + "/t/base:1@" + old + rest})
	t.Chdir(dir)
	code, out, errOut := stetRun(t, ctx, "update", ".")
	if code != ExitOK {
		t.Fatalf("stet update = %d\n%s%s", code, out, errOut)
	}
	if got, want := readTree(t, dir)["Dockerfile"], "ARG BASE="+host+"/t/base:1@"+current+rest; got != want {
		t.Errorf("Dockerfile (-want +got):\n%s", cmp.Diff(want, got))
	}
}

// TestPinSkipsWithScannerReason: where the Dockerfile scanner knows why a
// reference cannot be pinned in place, pin says that and changes nothing,
// without asking a registry; refs --format json carries the same reason.
func TestPinSkipsWithScannerReason(t *testing.T) {
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	ctx := context.Background()
	files := map[string]string{
		"split/Dockerfile":    "FROM nginx:\\\n1\n",
		"composed/Dockerfile": "ARG REG=ghcr.io/acme\nARG BASE=${REG}/base:2\nFROM ${BASE}\n",
		"copy/Dockerfile":     "ARG BASE=nginx:1\nARG COPY=${BASE}\nFROM ${COPY}\n",
	}
	dir := writeTree(t, files)
	t.Chdir(dir)
	code, out, pinErr := stetRun(t, ctx, "pin", ".")
	if code != ExitOK {
		t.Fatalf("stet pin = %d\n%s%s", code, out, pinErr)
	}
	if diff := cmp.Diff(files, readTree(t, dir)); diff != "" {
		t.Errorf("pin changed files (-want +got):\n%s", diff)
	}
	reasons := []string{
		"split/Dockerfile:1: skipping ",
		": it is split across lines by a line continuation; join it on one line to pin it",
		"composed/Dockerfile:3: skipping ghcr.io/acme/base:2: its value, set by ARG BASE at line 2, is built from other variables",
		"copy/Dockerfile:3: skipping nginx:1: its value is copied from another variable, whose default at line 1 is where a digest would go",
	}
	for _, w := range reasons {
		if !strings.Contains(pinErr, w) {
			t.Errorf("pin's warnings lack %q:\n%s", w, pinErr)
		}
	}

	code, out, errOut := stetRun(t, ctx, "refs", "--format", "json", ".")
	if code != ExitOK {
		t.Fatalf("stet refs = %d\n%s%s", code, out, errOut)
	}
	var res struct {
		References []struct {
			File        string
			NotEditable string
		}
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if len(res.References) != len(files) {
		t.Fatalf("%d references, want %d:\n%s", len(res.References), len(files), out)
	}
	for _, r := range res.References {
		if r.NotEditable == "" || !strings.Contains(pinErr, r.NotEditable) {
			t.Errorf("%s: notEditable %q is not pin's reason", r.File, r.NotEditable)
		}
	}
}

// TestCheckInvalidLiteralReference: a reference written out in full that
// docker build would refuse is an input error at its place; the rest of
// the file is still judged, and pin changes nothing.
func TestCheckInvalidLiteralReference(t *testing.T) {
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	ctx := context.Background()
	src := "FROM alpine:3 AS build\nFROM NGINX:1\nCOPY --from=build / /\n"
	dir := writeTree(t, map[string]string{"Dockerfile": src})
	t.Chdir(dir)

	code, out, errOut := stetRun(t, ctx, "check", ".")
	if code != ExitUsage {
		t.Errorf("stet check = %d, want %d\n%s%s", code, ExitUsage, out, errOut)
	}
	for _, w := range []string{
		"Dockerfile:2:6: error: FROM NGINX:1: its repository name must be lowercase: not an image reference",
		"Dockerfile:1:6: STET001 image alpine:3 is not pinned by digest",
	} {
		if !strings.Contains(out, w) {
			t.Errorf("check output lacks %q:\n%s", w, out)
		}
	}
	code, out, errOut = stetRun(t, ctx, "pin", ".")
	if code != ExitUsage {
		t.Errorf("stet pin = %d, want %d\n%s%s", code, ExitUsage, out, errOut)
	}
	if got := readTree(t, dir)["Dockerfile"]; got != src {
		t.Errorf("pin changed the file:\n%s", got)
	}
}

// TestPinSharedArgDefaultInInstructions: a default re-declared in a stage
// and read there by RUN, a RUN heredoc or LABEL inside a longer value is
// left alone, with a warning naming that line; read whole, it is pinned.
func TestPinSharedArgDefaultInInstructions(t *testing.T) {
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	ctx := context.Background()
	host := testregistry.New(t)
	base := testregistry.Push(t, host+"/t/base:1", testregistry.Image(t, ""))
	head := "ARG B2=" + host + "/t/base:1\nFROM ${B2}\nARG B2\n"
	files := map[string]string{
		".stet.yaml":         mirrorConfig(host),
		"run/Dockerfile":     head + "RUN docker pull \"${B2}-alpine\"\n",
		"heredoc/Dockerfile": head + "RUN <<EOF\nset -e\necho ${B2}-alpine\nEOF\n",
		"label/Dockerfile":   head + "LABEL desc=\"built on ${B2}-alpine\"\n",
		"quoted/Dockerfile":  head + "RUN sh -c 'docker pull $B2-alpine'\n",
		"whole/Dockerfile":   head + "RUN docker pull \"$B2\"\nLABEL base=${B2}\n",
	}
	dir := writeTree(t, files)
	t.Chdir(dir)

	code, out, errOut := stetRun(t, ctx, "pin", ".")
	if code != ExitOK {
		t.Fatalf("stet pin = %d\n%s%s", code, out, errOut)
	}
	want := maps.Clone(files)
	want["whole/Dockerfile"] = "ARG B2=" + host + "/t/base:1@" + base + "\nFROM ${B2}\nARG B2\nRUN docker pull \"$B2\"\nLABEL base=${B2}\n"
	if diff := cmp.Diff(want, readTree(t, dir)); diff != "" {
		t.Errorf("files after pin (-want +got):\n%s", diff)
	}
	const because = ", which a digest appended to it would break; give this reference a variable of its own to pin it"
	for _, w := range []string{
		"run/Dockerfile:2: skipping " + host + "/t/base:1: its value, the default at line 1, is also used at line 4 in \"${B2}-alpine\"" + because,
		"heredoc/Dockerfile:2: skipping " + host + "/t/base:1: its value, the default at line 1, is also used at line 6 in ${B2}-alpine" + because,
		"label/Dockerfile:2: skipping " + host + "/t/base:1: its value, the default at line 1, is also used at line 4 in \"built on ${B2}-alpine\"" + because,
		"quoted/Dockerfile:2: skipping " + host + "/t/base:1: its value, the default at line 1, is also used at line 4 in 'docker pull $B2-alpine'" + because,
	} {
		if !strings.Contains(errOut, w) {
			t.Errorf("pin's warnings lack %q:\n%s", w, errOut)
		}
	}

	// A second pin finds nothing more to do.
	before := readTree(t, dir)
	if code, out, errOut := stetRun(t, ctx, "pin", "."); code != ExitOK {
		t.Fatalf("second pin = %d\n%s%s", code, out, errOut)
	}
	if diff := cmp.Diff(before, readTree(t, dir)); diff != "" {
		t.Errorf("second pin changed files:\n%s", diff)
	}
}
