package cli

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/stet-dev/stet/internal/testregistry"
)

func TestUpdate(t *testing.T) {
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	ctx := context.Background()
	host := testregistry.New(t)
	oldNginx := testregistry.Push(t, host+"/library/nginx:1-alpine", testregistry.Image(t, ""))
	newNginx := testregistry.Push(t, host+"/library/nginx:1-alpine", testregistry.Image(t, ""))
	redis := testregistry.Push(t, host+"/library/redis:7", testregistry.Image(t, ""))
	files := map[string]string{
		".stet.yaml":  mirrorConfig(host),
		"Dockerfile":  "FROM nginx:1-alpine@" + oldNginx + "\nFROM redis:7@" + redis + "\nFROM busybox:1\n",
		"deploy.yaml": "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: c\n    image: \"redis:7@" + redis + "\"\n",
	}
	dir := writeTree(t, files)

	code, out, errOut := stetRun(t, ctx, "update", dir)
	if code != ExitOK {
		t.Fatalf("update = %d\n%s%s", code, out, errOut)
	}
	if want := "Dockerfile:1: nginx:1-alpine " + oldNginx + " → " + newNginx + "\n"; !strings.HasSuffix(out, want) || strings.Count(out, "\n") != 1 {
		t.Errorf("update output = %q, want one line ending %q", out, want)
	}
	want := map[string]string{
		".stet.yaml":  files[".stet.yaml"],
		"Dockerfile":  "FROM nginx:1-alpine@" + newNginx + "\nFROM redis:7@" + redis + "\nFROM busybox:1\n",
		"deploy.yaml": files["deploy.yaml"],
	}
	if diff := cmp.Diff(want, readTree(t, dir)); diff != "" {
		t.Errorf("updated tree (-want +got):\n%s", diff)
	}
	// Nothing moved since: nothing to do, nothing written.
	code, out, _ = stetRun(t, ctx, "update", dir)
	if code != ExitOK || out != "" {
		t.Errorf("second update = %d %q", code, out)
	}
}

func TestUpdateFailureChangesNothing(t *testing.T) {
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	host := testregistry.New(t)
	old := testregistry.Push(t, host+"/library/nginx:1", testregistry.Image(t, ""))
	testregistry.Push(t, host+"/library/nginx:1", testregistry.Image(t, ""))
	files := map[string]string{
		".stet.yaml": mirrorConfig(host),
		"Dockerfile": "FROM nginx:1@" + old + "\nFROM nginx:gone@" + old + "\n",
	}
	dir := writeTree(t, files)
	code, _, errOut := stetRun(t, context.Background(), "update", dir)
	if code != ExitFailure || !strings.Contains(errOut, "nginx:gone") {
		t.Fatalf("update with a missing tag = %d, want 3 naming it:\n%s", code, errOut)
	}
	if diff := cmp.Diff(files, readTree(t, dir)); diff != "" {
		t.Errorf("failed update changed files:\n%s", diff)
	}
}

// TestUpdateNamesStaleLock: after moving pins, a stet.lock still holds the
// previous digests; update says so (and leaves the lock to stet lock).
func TestUpdateNamesStaleLock(t *testing.T) {
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	ctx := context.Background()
	host := testregistry.New(t)
	oldNginx := testregistry.Push(t, host+"/library/nginx:1-alpine", testregistry.Image(t, ""))
	dir := writeTree(t, map[string]string{
		".stet.yaml": mirrorConfig(host),
		"Dockerfile": "FROM nginx:1-alpine@" + oldNginx + "\n",
	})
	if code, out, errOut := stetRun(t, ctx, "lock", dir); code != ExitOK {
		t.Fatalf("lock = %d\n%s%s", code, out, errOut)
	}
	lockBefore := readTree(t, dir)["stet.lock"]
	testregistry.Push(t, host+"/library/nginx:1-alpine", testregistry.Image(t, ""))
	code, out, errOut := stetRun(t, ctx, "update", dir)
	if code != ExitOK || !strings.Contains(errOut, "still records the previous digests: run 'stet lock'") {
		t.Fatalf("update = %d, stderr lacks the stale-lock note\n%s%s", code, out, errOut)
	}
	if readTree(t, dir)["stet.lock"] != lockBefore {
		t.Error("update rewrote stet.lock")
	}
	// With nothing moved there is no note.
	if _, _, errOut = stetRun(t, ctx, "update", dir); strings.Contains(errOut, "previous digests") {
		t.Errorf("second update still names the lock:\n%s", errOut)
	}
}
