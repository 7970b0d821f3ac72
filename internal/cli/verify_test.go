package cli

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/stet-dev/stet/internal/testregistry"
	"github.com/stet-dev/stet/rules"
)

func TestVerifyOffline(t *testing.T) {
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	ctx := context.Background()
	host := testregistry.New(t)
	nginx := testregistry.Push(t, host+"/library/nginx:1-alpine", testregistry.Image(t, ""))
	other := testregistry.Push(t, host+"/library/nginx:1.26", testregistry.Image(t, ""))
	dir := writeTree(t, map[string]string{
		".stet.yaml":     mirrorConfig(host),
		"web/Dockerfile": "FROM nginx:1-alpine\n",
		"api/Dockerfile": "FROM nginx:1-alpine@" + nginx + "\n",
	})
	if code, out, errOut := stetRun(t, ctx, "verify", dir); code != ExitUsage || !strings.Contains(errOut, "run stet lock first") {
		t.Fatalf("verify without a lock = %d, want 2\n%s%s", code, out, errOut)
	}
	if code, out, errOut := stetRun(t, ctx, "lock", dir); code != ExitOK {
		t.Fatalf("lock = %d\n%s%s", code, out, errOut)
	}
	if code, out, errOut := stetRun(t, ctx, "verify", "--offline", dir); code != ExitOK {
		t.Fatalf("verify --offline of a fresh lock = %d\n%s%s", code, out, errOut)
	}

	// Files drift from the lock: another digest, a new reference, a file gone.
	web := filepath.Join(dir, "web", "Dockerfile")
	os.WriteFile(web, []byte("FROM nginx:1-alpine@"+other+"\nFROM redis:7\n"), 0o644)
	os.Remove(filepath.Join(dir, "api", "Dockerfile"))
	code, out, errOut := stetRun(t, ctx, "verify", "--offline", "--format", "json", dir)
	if code != ExitFindings {
		t.Fatalf("verify --offline after drift = %d, want 1\n%s%s", code, out, errOut)
	}
	var rep struct {
		Findings []rules.Finding
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	var got []string
	for _, f := range rep.Findings {
		got = append(got, filepath.Base(f.File)+":"+itoa(f.Line)+" "+f.Rule+" "+f.Message)
	}
	want := []string{
		"Dockerfile:1 STET010 nginx:1-alpine is pinned to " + other[:19] + "… here but stet.lock has " + nginx[:19] + "…",
		"Dockerfile:2 STET010 redis:7 is not in stet.lock (run stet lock)",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("findings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	// A stale entry: the lock names a reference no file uses.
	os.WriteFile(web, []byte("FROM busybox:1\n"), 0o644)
	code, out, _ = stetRun(t, ctx, "verify", "--offline", dir)
	if code != ExitFindings || !strings.Contains(out, "stet.lock:4:1: STET010 stet.lock entry nginx:1-alpine@"+nginx+" is used by no file") {
		t.Errorf("stale entry = %d:\n%s", code, out)
	}
	// Verifying one directory does not call the rest stale.
	os.MkdirAll(filepath.Join(dir, "docs"), 0o755)
	os.WriteFile(filepath.Join(dir, "docs", "Dockerfile"), []byte("FROM nginx:1-alpine\n"), 0o644)
	if code, out, errOut := stetRun(t, ctx, "verify", "--offline", filepath.Join(dir, "docs")); code != ExitOK {
		t.Errorf("verify of a subdirectory = %d\n%s%s", code, out, errOut)
	}
	// Suppression works as for check.
	os.WriteFile(web, []byte("# stet:ignore STET010 trying busybox\nFROM busybox:1\n"), 0o644)
	os.Remove(filepath.Join(dir, "docs", "Dockerfile"))
	if code, out, _ := stetRun(t, ctx, "verify", "--offline", filepath.Join(dir, "web")); code != ExitOK {
		t.Errorf("suppressed finding still reported = %d\n%s", code, out)
	}
}

func itoa(i int) string {
	b, _ := json.Marshal(i)
	return string(b)
}

func TestVerifyOnline(t *testing.T) {
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	ctx := context.Background()
	host := testregistry.New(t)
	app := testregistry.Push(t, host+"/ghcr/org/app:2", testregistry.Image(t, ""))
	dir := writeTree(t, map[string]string{
		".stet.yaml": mirrorConfig(host),
		"Dockerfile": "FROM ghcr.io/org/app:2\n",
	})
	if code, out, errOut := stetRun(t, ctx, "lock", dir); code != ExitOK {
		t.Fatalf("lock = %d\n%s%s", code, out, errOut)
	}
	// The image is deleted upstream: the tag and the digest are gone.
	for _, r := range []string{host + "/ghcr/org/app@" + app, host + "/ghcr/org/app:2"} {
		ref, _ := name.ParseReference(r)
		if err := remote.Delete(ref); err != nil {
			t.Fatal(err)
		}
	}
	code, out, errOut := stetRun(t, ctx, "verify", "--format", "github", dir)
	if code != ExitFindings {
		t.Fatalf("verify after delete = %d, want 1\n%s%s", code, out, errOut)
	}
	for _, s := range []string{"STET012", "ghcr.io/org/app:2@" + app + " no longer exists", "STET011", "ghcr.io/org/app:2 no longer exists upstream", "::error file=", "(answered by the mirror " + host + "/ghcr/org/app)"} {
		if !strings.Contains(out, s) {
			t.Errorf("output lacks %q:\n%s", s, out)
		}
	}
}

func TestVerifyUnreachable(t *testing.T) {
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	ctx := context.Background()
	s := httptest.NewServer(nil)
	host := strings.TrimPrefix(s.URL, "http://")
	s.Close()
	d := "sha256:" + strings.Repeat("a", 64)
	dir := writeTree(t, map[string]string{
		".stet.yaml": mirrorConfig(host),
		"Dockerfile": "FROM nginx:1\n",
		"stet.lock": `{"version": 1, "references": [{"kind": "image", "name": "docker.io/library/nginx", "tag": "1",
 "digest": "` + d + `", "resolvedAt": "2026-11-02T10:00:00Z", "sites": [{"file": "Dockerfile", "line": 1}]}]}`,
	})
	code, out, errOut := stetRun(t, ctx, "verify", dir)
	if code != ExitFailure || !strings.Contains(errOut, host) {
		t.Errorf("verify against a closed port = %d, want 3 naming %s\n%s%s", code, host, out, errOut)
	}
	if code, out, errOut := stetRun(t, ctx, "verify", "--offline", dir); code != ExitOK {
		t.Errorf("verify --offline = %d, want 0\n%s%s", code, out, errOut)
	} // JSON readers get the unanswered question in errors, not only stderr.
	code, out, errOut = stetRun(t, ctx, "verify", "--format", "json", dir)
	var doc struct {
		Errors []struct {
			Message string `json:"message"`
		} `json:"errors"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("verify --format json: %v\n%s", err, out)
	}
	if code != ExitFailure || len(doc.Errors) == 0 {
		t.Errorf("verify --format json against a closed port = %d, errors %+v; want 3 and errors\n%s", code, doc.Errors, errOut)
	}
	seen := map[string]bool{}
	for _, e := range doc.Errors {
		if !strings.Contains(e.Message, host) {
			t.Errorf("error %q does not name the registry %s", e.Message, host)
		}
		if seen[e.Message] {
			t.Errorf("error %q listed twice", e.Message)
		}
		seen[e.Message] = true
	}
}
