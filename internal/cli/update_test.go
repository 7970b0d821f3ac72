package cli

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
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

// TestUpdateRelocks: moving pins refreshes an existing stet.lock, so that
// stet verify --offline agrees straight after; a repository without a lock
// does not get one.
func TestUpdateRelocks(t *testing.T) {
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
	newNginx := testregistry.Push(t, host+"/library/nginx:1-alpine", testregistry.Image(t, ""))
	lockBefore := readTree(t, dir)["stet.lock"]
	if code, out, errOut := stetRun(t, ctx, "update", "--dry-run", dir); code != ExitOK || !strings.Contains(errOut, "stet.lock would be refreshed too") ||
		readTree(t, dir)["stet.lock"] != lockBefore {
		t.Errorf("update --dry-run = %d, want 0 naming the lock refresh and writing nothing\n%s%s", code, out, errOut)
	}
	code, out, errOut := stetRun(t, ctx, "update", "--format", "json", dir)
	if code != ExitOK {
		t.Fatalf("update = %d\n%s%s", code, out, errOut)
	}
	var res struct {
		Lock *struct {
			Changed []string `json:"changed"`
			Written bool     `json:"written"`
		} `json:"lock"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatal(err)
	}
	if res.Lock == nil || !res.Lock.Written || len(res.Lock.Changed) != 1 || !strings.Contains(res.Lock.Changed[0], "nginx:1-alpine") {
		t.Errorf("update's lock summary = %+v, want nginx:1-alpine changed and written\n%s", res.Lock, out)
	}
	lk := readTree(t, dir)["stet.lock"]
	if !strings.Contains(lk, newNginx) || strings.Contains(lk, oldNginx) {
		t.Errorf("stet.lock after update does not hold only the new digest %s:\n%s", newNginx, lk)
	}
	if code, out, errOut := stetRun(t, ctx, "verify", "--offline", dir); code != ExitOK {
		t.Errorf("verify --offline after update = %d\n%s%s", code, out, errOut)
	}
	// Nothing moved: neither the files nor the lock are touched.
	before := readTree(t, dir)
	if code, out, errOut := stetRun(t, ctx, "update", dir); code != ExitOK || strings.Contains(errOut, "stet.lock") {
		t.Errorf("second update = %d, stderr names the lock\n%s%s", code, out, errOut)
	}
	if diff := cmp.Diff(before, readTree(t, dir)); diff != "" {
		t.Errorf("an update with nothing to move changed files:\n%s", diff)
	}

	// Without a stet.lock, pin writes none.
	bare := writeTree(t, map[string]string{
		".stet.yaml": mirrorConfig(host),
		"Dockerfile": "FROM nginx:1-alpine\n",
	})
	if code, out, errOut := stetRun(t, ctx, "pin", bare); code != ExitOK {
		t.Fatalf("pin = %d\n%s%s", code, out, errOut)
	}
	if _, ok := readTree(t, bare)["stet.lock"]; ok {
		t.Error("pin created a stet.lock")
	}
}

// TestUpdateRelockFailure: when the lock cannot be refreshed after the
// files were rewritten (here a tag added since the last lock is not in the
// registry), stet exits 3, says the lock is stale and leaves it as it was.
func TestUpdateRelockFailure(t *testing.T) {
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
	if err := os.WriteFile(filepath.Join(dir, "tools.Dockerfile"), []byte("FROM missing:1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	newNginx := testregistry.Push(t, host+"/library/nginx:1-alpine", testregistry.Image(t, ""))
	code, out, errOut := stetRun(t, ctx, "update", dir)
	if code != ExitFailure || !strings.Contains(errOut, "missing:1") || !strings.Contains(errOut, "until 'stet lock' succeeds") {
		t.Fatalf("update = %d, want 3 naming missing:1 and the stale lock\n%s%s", code, out, errOut)
	}
	after := readTree(t, dir)
	if !strings.Contains(after["Dockerfile"], newNginx) {
		t.Errorf("Dockerfile was not updated:\n%s", after["Dockerfile"])
	}
	if after["stet.lock"] != lockBefore {
		t.Error("a failed relock changed stet.lock")
	}
}
