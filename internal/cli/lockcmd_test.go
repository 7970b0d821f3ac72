package cli

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stet-dev/stet/internal/testgit"
	"github.com/stet-dev/stet/internal/testregistry"
	"github.com/stet-dev/stet/lock"
)

func readLockFile(t *testing.T, p string) *lock.Lock {
	t.Helper()
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	lk, err := lock.Parse(p, data)
	if err != nil {
		t.Fatal(err)
	}
	return lk
}

func TestLock(t *testing.T) {
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	ctx := context.Background()
	host := testregistry.New(t)
	nginx := testregistry.PushIndex(t, host+"/library/nginx:1-alpine", testregistry.Index(t, "linux/amd64", "linux/arm64/v8"))
	redis := testregistry.Push(t, host+"/library/redis:7", testregistry.Image(t, ""))
	base := testregistry.Push(t, host+"/ghcr/org/base:1", testregistry.Image(t, ""))
	root := t.TempDir()
	tagged, _ := actionsRepo(t, root, "actions/checkout")
	gitURL := testgit.Server(t, root)
	dir := writeTree(t, map[string]string{
		".stet.yaml":               mirrorConfig(host, "actions:\n  gitURL: "+gitURL+"\n"),
		"web/Dockerfile":           "FROM nginx:1-alpine\nFROM ghcr.io/org/base@" + base + "\n",
		"api/Dockerfile":           "FROM nginx:1-alpine AS build\nFROM redis:7@" + redis + "\n",
		"compose.yaml":             "services:\n  web:\n    image: ${WEB_IMAGE}\n",
		".github/workflows/ci.yml": "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - uses: actions/checkout@v4\n",
	})
	lockPath := filepath.Join(dir, "stet.lock")

	code, out, errOut := stetRun(t, ctx, "lock", dir)
	if code != ExitOK {
		t.Fatalf("lock = %d\n%s%s", code, out, errOut)
	}
	if !strings.Contains(errOut, "compose.yaml:3: ${WEB_IMAGE} is not locked") {
		t.Errorf("no warning for the dynamic reference:\n%s", errOut)
	}
	first, _ := os.ReadFile(lockPath)
	lk := readLockFile(t, lockPath)
	got := map[string]string{}
	for _, e := range lk.References {
		got[e.Short()] = e.Digest + " " + e.MediaType + " " + strings.Join(e.Platforms, ",")
		for _, s := range e.Sites {
			got[e.Short()] += " " + s.File
		}
	}
	want := map[string]string{
		"actions/checkout@v4":      tagged + "   .github/workflows/ci.yml",
		"nginx:1-alpine":           nginx + " application/vnd.oci.image.index.v1+json linux/amd64,linux/arm64/v8 api/Dockerfile web/Dockerfile",
		"redis:7":                  redis + " application/vnd.oci.image.manifest.v1+json linux/amd64 api/Dockerfile",
		"ghcr.io/org/base@" + base: base + " application/vnd.oci.image.manifest.v1+json  web/Dockerfile",
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("entry %s = %q, want %q", k, got[k], w)
		}
	}
	if len(got) != len(want) {
		t.Errorf("lock has %d entries, want %d: %v", len(got), len(want), got)
	}

	// Nothing changed: byte-identical, not rewritten.
	st, _ := os.Stat(lockPath)
	code, out, errOut = stetRun(t, ctx, "lock", dir)
	if code != ExitOK || !strings.Contains(errOut, "up to date") {
		t.Fatalf("second lock = %d\n%s%s", code, out, errOut)
	}
	if again, _ := os.ReadFile(lockPath); string(again) != string(first) {
		t.Errorf("re-locking changed the lock:\n%s", again)
	}
	if st2, _ := os.Stat(lockPath); !st2.ModTime().Equal(st.ModTime()) {
		t.Errorf("an unchanged lock was rewritten")
	}

	// The tag moves: only that entry changes, with a new resolvedAt.
	moved := testregistry.PushIndex(t, host+"/library/nginx:1-alpine", testregistry.Index(t, "linux/amd64"))
	code, out, errOut = stetRun(t, ctx, "lock", "--format", "json", dir)
	if code != ExitOK {
		t.Fatalf("lock after move = %d\n%s%s", code, out, errOut)
	}
	var sum lockSummary
	if err := json.Unmarshal([]byte(out), &sum); err != nil {
		t.Fatal(err)
	}
	if len(sum.Changed) != 1 || !strings.HasPrefix(sum.Changed[0], "nginx:1-alpine ") || !sum.Written || len(sum.Added)+len(sum.Removed) != 0 {
		t.Errorf("summary = %+v", sum)
	}
	next := readLockFile(t, lockPath)
	for i, e := range next.References {
		old := lk.References[i]
		if e.Name == old.Name && e.Digest == old.Digest && !e.ResolvedAt.Equal(old.ResolvedAt) {
			t.Errorf("%s: resolvedAt changed without a digest change", e.Short())
		}
		if e.Short() == "nginx:1-alpine" && e.Digest != moved {
			t.Errorf("nginx locked to %s, want %s", e.Digest, moved)
		}
	}

	// Locking one directory keeps the entries of the others.
	os.WriteFile(filepath.Join(dir, "api", "Dockerfile"), []byte("FROM busybox:1\n"), 0o644)
	testregistry.Push(t, host+"/library/busybox:1", testregistry.Image(t, ""))
	if code, out, errOut := stetRun(t, ctx, "lock", filepath.Join(dir, "web")); code != ExitOK {
		t.Fatalf("partial lock = %d\n%s%s", code, out, errOut)
	}
	partial := readLockFile(t, lockPath)
	names := []string{}
	for _, e := range partial.References {
		names = append(names, e.Short())
	}
	if strings.Join(names, " ") != "actions/checkout@v4 nginx:1-alpine redis:7 ghcr.io/org/base@"+base {
		t.Errorf("partial lock entries = %v", names)
	}
}

func TestLockErrors(t *testing.T) {
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	ctx := context.Background()
	host := testregistry.New(t)
	dir := writeTree(t, map[string]string{
		".stet.yaml": mirrorConfig(host),
		"Dockerfile": "FROM nginx:missing\n",
		"stet.lock":  "{\n  \"version\": 1,\n  \"references\": [,]\n}\n",
	})
	code, _, errOut := stetRun(t, ctx, "lock", dir)
	if code != ExitUsage || !strings.Contains(errOut, "stet.lock:3:18: invalid JSON") {
		t.Errorf("corrupt lock = %d, want 2 with its position:\n%s", code, errOut)
	}
	os.WriteFile(filepath.Join(dir, "stet.lock"), []byte("{\"version\": 7}\n"), 0o644)
	code, _, errOut = stetRun(t, ctx, "lock", dir)
	if code != ExitUsage || !strings.Contains(errOut, "newer stet") {
		t.Errorf("future lock = %d, want 2:\n%s", code, errOut)
	}
	os.Remove(filepath.Join(dir, "stet.lock"))
	code, _, errOut = stetRun(t, ctx, "lock", dir)
	if code != ExitFailure || !strings.Contains(errOut, "nginx:missing") {
		t.Errorf("unresolvable tag = %d, want 3:\n%s", code, errOut)
	}
	if _, err := os.Stat(filepath.Join(dir, "stet.lock")); err == nil {
		t.Errorf("a failed lock run wrote stet.lock")
	}
	custom := filepath.Join(t.TempDir(), "custom.lock")
	testregistry.Push(t, host+"/library/nginx:missing", testregistry.Image(t, ""))
	if code, _, errOut := stetRun(t, ctx, "lock", "--lock", custom, dir); code != ExitOK {
		t.Fatalf("--lock = %d:\n%s", code, errOut)
	}
	if lk := readLockFile(t, custom); len(lk.References) != 1 || lk.References[0].Sites[0].File == "Dockerfile" {
		// Sites are relative to the lock's directory, which is elsewhere.
		t.Errorf("custom lock = %+v", lk.References)
	}
}
