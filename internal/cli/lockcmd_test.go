package cli

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

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
		"ghcr.io/org/base@" + base: base + " application/vnd.oci.image.manifest.v1+json linux/amd64 web/Dockerfile",
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

// TestLockVanishedDigest: a file pins a digest the registry no longer has.
// Lock says so, locks what the file says and keeps what the previous lock
// knew of it (nothing is rewritten); verify then reports STET012.
func TestLockVanishedDigest(t *testing.T) {
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	ctx := context.Background()
	host := testregistry.New(t)
	app := testregistry.PushIndex(t, host+"/ghcr/org/app:1", testregistry.Index(t, "linux/amd64", "linux/arm64"))
	dir := writeTree(t, map[string]string{
		".stet.yaml":   mirrorConfig(host),
		"compose.yaml": "services:\n  app:\n    image: ghcr.io/org/app:1@" + app + "\n",
	})
	if code, out, errOut := stetRun(t, ctx, "lock", dir); code != ExitOK {
		t.Fatalf("lock = %d\n%s%s", code, out, errOut)
	}
	before := readTree(t, dir)["stet.lock"]
	if e := readLockFile(t, filepath.Join(dir, "stet.lock")).References[0]; len(e.Platforms) != 2 || e.MediaType == "" {
		t.Fatalf("first lock entry = %+v, want a media type and two platforms", e)
	}
	for _, r := range []string{host + "/ghcr/org/app@" + app, host + "/ghcr/org/app:1"} {
		ref, _ := name.ParseReference(r)
		if err := remote.Delete(ref); err != nil {
			t.Fatal(err)
		}
	}
	code, out, errOut := stetRun(t, ctx, "lock", dir)
	if code != ExitOK || !strings.Contains(errOut, "compose.yaml:3: ghcr.io/org/app@sha256:") || !strings.Contains(errOut, "STET012") {
		t.Fatalf("lock after delete = %d, want 0 with a warning naming the site and STET012\n%s%s", code, out, errOut)
	}
	if after := readTree(t, dir)["stet.lock"]; after != before {
		t.Errorf("lock rewrote the entry of a vanished digest (-before +after):\n%s", cmp.Diff(before, after))
	}
}

// TestLockPlatformsAfterTagMoved: a pin whose tag has moved on still gets
// its platforms recorded, from the pinned manifest itself.
func TestLockPlatformsAfterTagMoved(t *testing.T) {
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	ctx := context.Background()
	host := testregistry.New(t)
	old := testregistry.PushIndex(t, host+"/ghcr/org/app:1", testregistry.Index(t, "linux/amd64", "linux/arm64"))
	testregistry.Push(t, host+"/ghcr/org/app:1", testregistry.Image(t, ""))
	dir := writeTree(t, map[string]string{
		".stet.yaml": mirrorConfig(host),
		"Dockerfile": "FROM ghcr.io/org/app:1@" + old + "\n",
	})
	if code, out, errOut := stetRun(t, ctx, "lock", dir); code != ExitOK {
		t.Fatalf("lock = %d\n%s%s", code, out, errOut)
	}
	e := readLockFile(t, filepath.Join(dir, "stet.lock")).References[0]
	if diff := cmp.Diff([]string{"linux/amd64", "linux/arm64"}, e.Platforms); diff != "" || e.Digest != old {
		t.Errorf("entry %+v: platforms (-want +got):\n%s", e, diff)
	}
}

// TestLockSummary: the summary counts per name:tag, so a second digest of
// a tag is an addition and a replaced digest a change.
func TestLockSummary(t *testing.T) {
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	ctx := context.Background()
	host := testregistry.New(t)
	d1 := testregistry.Push(t, host+"/library/nginx:1", testregistry.Image(t, ""))
	d2 := testregistry.Push(t, host+"/library/nginx:1", testregistry.Image(t, ""))
	d3 := testregistry.Push(t, host+"/library/nginx:1", testregistry.Image(t, ""))
	dir := writeTree(t, map[string]string{
		".stet.yaml":   mirrorConfig(host),
		"a/Dockerfile": "FROM nginx:1@" + d1 + "\n",
	})
	summary := func() lockSummary {
		t.Helper()
		code, out, errOut := stetRun(t, ctx, "lock", "--format", "json", dir)
		if code != ExitOK {
			t.Fatalf("lock = %d\n%s%s", code, out, errOut)
		}
		var s lockSummary
		if err := json.Unmarshal([]byte(out), &s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	counts := func(s lockSummary) [3]int { return [3]int{len(s.Added), len(s.Changed), len(s.Removed)} }
	if got := counts(summary()); got != [3]int{1, 0, 0} {
		t.Errorf("first lock: added, changed, removed = %v", got)
	}
	writeFile := func(p, s string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, p)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, p), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	writeFile("b/Dockerfile", "FROM nginx:1@"+d2+"\n")
	if s := summary(); counts(s) != [3]int{1, 0, 0} || !strings.Contains(s.Added[0], lock.Short(d2)) {
		t.Errorf("a second digest of nginx:1: %+v, want it added", s)
	}
	writeFile("a/Dockerfile", "FROM nginx:1@"+d3+"\n")
	if s := summary(); counts(s) != [3]int{0, 1, 0} || !strings.Contains(s.Changed[0], lock.Short(d1)+" → "+lock.Short(d3)) {
		t.Errorf("d1 replaced by d3: %+v, want one change", s)
	}
	if err := os.Remove(filepath.Join(dir, "b/Dockerfile")); err != nil {
		t.Fatal(err)
	}
	if s := summary(); counts(s) != [3]int{0, 0, 1} {
		t.Errorf("b removed: %+v, want one removal", s)
	}
}

// TestLockConfigElsewhere: settings kept in a subdirectory of the
// repository (--config ci/stet.yaml) leave stet.lock at the repository root,
// with sites relative to it.
func TestLockConfigElsewhere(t *testing.T) {
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	ctx := context.Background()
	host := testregistry.New(t)
	testregistry.Push(t, host+"/library/nginx:1", testregistry.Image(t, ""))
	dir := writeTree(t, map[string]string{
		"ci/stet.yaml": mirrorConfig(host),
		"Dockerfile":   "FROM nginx:1\n",
	})
	if err := os.Mkdir(filepath.Join(dir, ".git"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	if code, out, errOut := stetRun(t, ctx, "--config", "ci/stet.yaml", "lock", "."); code != ExitOK {
		t.Fatalf("lock = %d\n%s%s", code, out, errOut)
	}
	tree := readTree(t, dir)
	if _, ok := tree["ci/stet.lock"]; ok {
		t.Error("stet.lock was written beside the settings, not at the repository root")
	}
	lk := readLockFile(t, filepath.Join(dir, "stet.lock"))
	if len(lk.References) != 1 || lk.References[0].Sites[0].File != "Dockerfile" {
		t.Errorf("lock = %+v, want one entry with site Dockerfile", lk.References)
	}
	if code, out, errOut := stetRun(t, ctx, "--config", "ci/stet.yaml", "verify", "--offline", "."); code != ExitOK {
		t.Errorf("verify --offline = %d\n%s%s", code, out, errOut)
	}
}
