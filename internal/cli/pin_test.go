package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/stet-dev/stet/internal/faultproxy"
	"github.com/stet-dev/stet/internal/testgit"
	"github.com/stet-dev/stet/internal/testregistry"
	"github.com/stet-dev/stet/ref"
)

// stetRun runs stet in-process and returns its exit code and output.
func stetRun(t *testing.T, ctx context.Context, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = Run(ctx, args, strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

// writeTree creates files (slash paths → content) under a new directory.
func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for p, content := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func readTree(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		out[filepath.ToSlash(rel)] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// mirrorConfig is a .stet.yaml sending Docker Hub and ghcr.io to host.
func mirrorConfig(host string, extra ...string) string {
	return "registries:\n  mirrors:\n    docker.io: " + host + "\n    ghcr.io: " + host + "/ghcr\n" + strings.Join(extra, "")
}

func TestPinStory(t *testing.T) {
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	host := testregistry.New(t)
	story(t, host)
}

func TestPinStoryDistribution(t *testing.T) {
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	host := testregistry.Distribution(t, testregistry.Options{})
	story(t, host)
}

func TestPinStoryDistributionAuth(t *testing.T) {
	host := testregistry.Distribution(t, testregistry.Options{User: "stet", Password: "s3cret"})
	testregistry.DockerConfig(t, map[string][2]string{host: {"stet", "s3cret"}})
	story(t, host, testregistry.Auth("stet", "s3cret"))
}

// story is the incident stet exists for: nginx:1-alpine pinned and locked,
// then the tag moves upstream.
func story(t *testing.T, host string, push ...remote.Option) {
	t.Helper()
	ctx := context.Background()
	first := testregistry.PushIndex(t, host+"/library/nginx:1-alpine", testregistry.Index(t, "linux/amd64", "linux/arm64"), push...)
	dir := writeTree(t, map[string]string{
		".stet.yaml": mirrorConfig(host),
		"Dockerfile": "# the web tier\nFROM nginx:1-alpine\nCOPY site /usr/share/nginx/html\n",
	})

	code, out, errOut := stetRun(t, ctx, "pin", dir)
	if code != ExitOK {
		t.Fatalf("stet pin = %d\n%s%s", code, out, errOut)
	}
	want := "# the web tier\nFROM nginx:1-alpine@" + first + "\nCOPY site /usr/share/nginx/html\n"
	if got := readTree(t, dir)["Dockerfile"]; got != want {
		t.Fatalf("pinned Dockerfile (-want +got):\n%s", cmp.Diff(want, got))
	}
	if !strings.Contains(out, "nginx:1-alpine → "+first) {
		t.Errorf("pin output does not report the pin:\n%s", out)
	}

	if code, out, errOut := stetRun(t, ctx, "lock", dir); code != ExitOK {
		t.Fatalf("stet lock = %d\n%s%s", code, out, errOut)
	}
	lockData := readTree(t, dir)["stet.lock"]
	for _, s := range []string{`"name": "docker.io/library/nginx"`, `"tag": "1-alpine"`, `"digest": "` + first + `"`,
		`"mediaType": "application/vnd.oci.image.index.v1+json"`, `"platforms": ["linux/amd64", "linux/arm64"]`,
		`{"file": "Dockerfile", "line": 2}`} {
		if !strings.Contains(lockData, s) {
			t.Errorf("stet.lock lacks %s:\n%s", s, lockData)
		}
	}
	if code, out, errOut := stetRun(t, ctx, "verify", dir); code != ExitOK {
		t.Fatalf("stet verify before the move = %d\n%s%s", code, out, errOut)
	}

	// Upstream moves the tag.
	second := testregistry.PushIndex(t, host+"/library/nginx:1-alpine", testregistry.Index(t, "linux/amd64", "linux/arm64"), push...)
	code, out, errOut = stetRun(t, ctx, "verify", dir)
	if code != ExitFindings {
		t.Fatalf("stet verify after the move = %d, want 1\n%s%s", code, out, errOut)
	}
	wantMsg := fmt.Sprintf("STET011 nginx:1-alpine moved: %s… → %s…, locked ", first[:19], second[:19])
	if !strings.Contains(out, "Dockerfile:2:6: "+wantMsg) {
		t.Errorf("verify output lacks %q:\n%s", wantMsg, out)
	}
	if code, out, errOut := stetRun(t, ctx, "verify", "--offline", dir); code != ExitOK {
		t.Errorf("stet verify --offline = %d, want 0\n%s%s", code, out, errOut)
	}
	// The files still name the digest that was reviewed.
	if got := readTree(t, dir)["Dockerfile"]; got != want {
		t.Errorf("verify changed the Dockerfile")
	}
	// update moves the pin and says so.
	code, out, errOut = stetRun(t, ctx, "update", dir)
	if code != ExitOK || !strings.Contains(out, "nginx:1-alpine "+first+" → "+second) {
		t.Fatalf("stet update = %d\n%s%s", code, out, errOut)
	}
}

func TestPinFormatsDryRunAndJSON(t *testing.T) {
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	ctx := context.Background()
	host := testregistry.New(t)
	nginx := testregistry.Push(t, host+"/library/nginx:1.27", testregistry.Image(t, ""))
	redis := testregistry.Push(t, host+"/library/redis:7", testregistry.Image(t, ""))
	app := testregistry.Push(t, host+"/ghcr/org/app:2.1.0", testregistry.Image(t, ""))
	files := map[string]string{
		".stet.yaml":        mirrorConfig(host),
		"Dockerfile":        "ARG BASE=nginx:1.27\r\nFROM ${BASE} AS one\r\nFROM ${BASE}\r\nFROM ${UNSET}\r\n",
		"compose.yaml":      "services:\n  cache:\n    image: \"redis:7\"  # cache\n  web:\n    build: .\n    image: example/web:dev\n",
		"chart/Chart.yaml":  "apiVersion: v2\nname: app\nversion: 1.0.0\nappVersion: 2.1.0\n",
		"chart/values.yaml": "image:\n  registry: ghcr.io\n  repository: org/app\n  tag: \"\"\n  digest: \"\"\n",
	}
	dir := writeTree(t, files)

	code, out, errOut := stetRun(t, ctx, "pin", "--dry-run", dir)
	if code != ExitOK {
		t.Fatalf("pin --dry-run = %d\n%s%s", code, out, errOut)
	}
	if diff := cmp.Diff(files, readTree(t, dir)); diff != "" {
		t.Fatalf("--dry-run changed files:\n%s", diff)
	}
	for _, s := range []string{
		"--- a/" + filepath.ToSlash(filepath.Join(dir, "Dockerfile")),
		"-ARG BASE=nginx:1.27\r\n+ARG BASE=nginx:1.27@" + nginx + "\r\n",
		"-    image: \"redis:7\"  # cache\n+    image: \"redis:7@" + redis + "\"  # cache\n",
		"-  digest: \"\"\n+  digest: \"" + app + "\"\n",
	} {
		if !strings.Contains(out, s) {
			t.Errorf("diff lacks %q:\n%s", s, out)
		}
	}
	if !regexp.MustCompile(`Dockerfile:4: skipping \$\{UNSET\}: built from a variable`).MatchString(errOut) {
		t.Errorf("no warning naming the dynamic FROM:\n%s", errOut)
	}

	code, out, errOut = stetRun(t, ctx, "pin", "--format", "json", dir)
	if code != ExitOK {
		t.Fatalf("pin --format json = %d\n%s%s", code, out, errOut)
	}
	var res struct {
		Changes []struct {
			File, Reference, To string
			Line, EditLine      int
		}
		Skipped []struct {
			File   string
			Line   int
			Reason string
		}
		Files int
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if res.Files != 3 || len(res.Changes) != 4 || len(res.Skipped) != 1 {
		t.Errorf("json result = %+v", res)
	}
	got := readTree(t, dir)
	if want := "ARG BASE=nginx:1.27@" + nginx + "\r\nFROM ${BASE} AS one\r\nFROM ${BASE}\r\nFROM ${UNSET}\r\n"; got["Dockerfile"] != want {
		t.Errorf("Dockerfile (-want +got):\n%s", cmp.Diff(want, got["Dockerfile"]))
	}
	if !strings.Contains(got["compose.yaml"], "image: example/web:dev\n") {
		t.Errorf("build output was pinned:\n%s", got["compose.yaml"])
	}
	// Pinning again changes nothing.
	before := readTree(t, dir)
	if code, out, errOut := stetRun(t, ctx, "pin", dir); code != ExitOK {
		t.Fatalf("second pin = %d\n%s%s", code, out, errOut)
	}
	if diff := cmp.Diff(before, readTree(t, dir)); diff != "" {
		t.Errorf("second pin changed files:\n%s", diff)
	}
}

func TestPinFailureChangesNothing(t *testing.T) {
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	host := testregistry.New(t)
	testregistry.Push(t, host+"/library/nginx:1.27", testregistry.Image(t, ""))
	files := map[string]string{
		".stet.yaml":                 mirrorConfig(host),
		"a/Dockerfile":               "FROM nginx:1.27\n",
		"b/Dockerfile":               "FROM nginx:1.27\nFROM nginx:does-not-exist\n",
		"c/compose.yaml":             "services:\n  web:\n    image: nginx:1.27\n",
		"d/.github/workflows/ci.yml": "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - run: true\n",
	}
	dir := writeTree(t, files)
	code, out, errOut := stetRun(t, context.Background(), "pin", dir)
	if code != ExitFailure {
		t.Fatalf("pin with an unresolvable tag = %d, want 3\n%s%s", code, out, errOut)
	}
	if !strings.Contains(errOut, "nginx:does-not-exist") || !strings.Contains(errOut, "no file was changed") {
		t.Errorf("error does not name the reference:\n%s", errOut)
	}
	if diff := cmp.Diff(files, readTree(t, dir)); diff != "" {
		t.Errorf("a failed run changed files:\n%s", diff)
	}

	// An interrupted run changes nothing either.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	code, out, errOut = stetRun(t, ctx, "pin", filepath.Join(dir, "a"))
	if code != ExitFailure {
		t.Fatalf("interrupted pin = %d, want 3\n%s%s", code, out, errOut)
	}
	if diff := cmp.Diff(files, readTree(t, dir)); diff != "" {
		t.Errorf("an interrupted run changed files:\n%s", diff)
	}
}

func TestPinUnreachableRegistry(t *testing.T) {
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	s := httptest.NewServer(nil)
	host := strings.TrimPrefix(s.URL, "http://")
	s.Close()
	files := map[string]string{".stet.yaml": mirrorConfig(host), "Dockerfile": "FROM nginx:1\n"}
	dir := writeTree(t, files)
	code, _, errOut := stetRun(t, context.Background(), "pin", dir)
	if code != ExitFailure || !strings.Contains(errOut, host) {
		t.Errorf("pin against a closed port = %d, want 3 naming %s:\n%s", code, host, errOut)
	}
	if diff := cmp.Diff(files, readTree(t, dir)); diff != "" {
		t.Errorf("files changed:\n%s", diff)
	}
}

// actionsRepo creates owner/repo.git under root: v4 and the annotated
// v4.2.2 on one commit, main one commit later. It returns both commits.
func actionsRepo(t *testing.T, root, repo string) (tagged, head string) {
	t.Helper()
	work := t.TempDir()
	testgit.Run(t, work, "init", "-q", "-b", "main")
	testgit.Run(t, work, "commit", "-q", "--allow-empty", "-m", "one")
	tagged = testgit.Run(t, work, "rev-parse", "HEAD")
	testgit.Run(t, work, "tag", "-a", "-m", "release", "v4.2.2")
	testgit.Run(t, work, "tag", "v4")
	testgit.Run(t, work, "commit", "-q", "--allow-empty", "-m", "two")
	head = testgit.Run(t, work, "rev-parse", "HEAD")
	bare := filepath.Join(root, repo+".git")
	os.MkdirAll(filepath.Dir(bare), 0o755)
	testgit.Run(t, work, "clone", "-q", "--bare", work, bare)
	return tagged, head
}

func TestPinUnpinActions(t *testing.T) {
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	ctx := context.Background()
	root := t.TempDir()
	tagged, _ := actionsRepo(t, root, "actions/checkout")
	gitURL := testgit.Server(t, root)
	wf := "on: push\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n      - uses: \"actions/checkout@v4\"  # first checkout\n"
	dir := writeTree(t, map[string]string{
		".stet.yaml":               "actions:\n  gitURL: " + gitURL + "\n",
		".github/workflows/ci.yml": wf,
	})
	code, out, errOut := stetRun(t, ctx, "pin", dir)
	if code != ExitOK {
		t.Fatalf("pin = %d\n%s%s", code, out, errOut)
	}
	want := "on: push\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n" +
		"      - uses: actions/checkout@" + tagged + " # v4.2.2\n" +
		"      - uses: \"actions/checkout@" + tagged + "\"  # v4.2.2 # first checkout\n"
	if got := readTree(t, dir)[".github/workflows/ci.yml"]; got != want {
		t.Fatalf("pinned workflow (-want +got):\n%s", cmp.Diff(want, got))
	}
	code, out, errOut = stetRun(t, ctx, "unpin", dir)
	if code != ExitOK {
		t.Fatalf("unpin = %d\n%s%s", code, out, errOut)
	}
	want = strings.ReplaceAll(wf, "@v4", "@v4.2.2")
	if got := readTree(t, dir)[".github/workflows/ci.yml"]; got != want {
		t.Errorf("unpinned workflow (-want +got):\n%s", cmp.Diff(want, got))
	}
}

// TestPinPrivateAction: STET_GIT_TOKEN reaches a private repository;
// GITHUB_TOKEN is kept for github.com, so it is not sent to another host.
func TestPinPrivateAction(t *testing.T) {
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	ctx := context.Background()
	root := t.TempDir()
	tagged, _ := actionsRepo(t, root, "acme/deploy")
	const token = "ghp_private0123456789"
	gitURL := testgit.PrivateServer(t, root, token)
	files := map[string]string{
		".stet.yaml":               "actions:\n  gitURL: " + gitURL + "\n",
		".github/workflows/ci.yml": "on: push\njobs:\n  d:\n    runs-on: x\n    steps:\n      - uses: acme/deploy@v4\n",
	}

	t.Setenv("STET_GIT_TOKEN", "")
	t.Setenv("GITHUB_TOKEN", token)
	dir := writeTree(t, files)
	code, out, errOut := stetRun(t, ctx, "pin", dir)
	if code != ExitFailure || !strings.Contains(errOut, "no token was given") || strings.Contains(out+errOut, token) {
		t.Errorf("pin with GITHUB_TOKEN against another host = %d, want 3 saying no token was given\n%s%s", code, out, errOut)
	}

	t.Setenv("STET_GIT_TOKEN", token)
	code, out, errOut = stetRun(t, ctx, "pin", dir)
	if code != ExitOK {
		t.Fatalf("pin with STET_GIT_TOKEN = %d\n%s%s", code, out, errOut)
	}
	if got := readTree(t, dir)[".github/workflows/ci.yml"]; !strings.Contains(got, "acme/deploy@"+tagged+" # v4.2.2") {
		t.Errorf("private action not pinned:\n%s", got)
	}
	if strings.Contains(out+errOut, token) {
		t.Error("the token was printed")
	}
}

func TestPinUsage(t *testing.T) {
	ctx := context.Background()
	dir := writeTree(t, map[string]string{"Dockerfile": "FROM nginx:1\n"})
	for _, args := range [][]string{
		{"pin", "--format", "yaml", dir},
		{"pin", "--mirror", "docker.io", dir},
	} {
		if code, _, errOut := stetRun(t, ctx, args...); code != ExitUsage {
			t.Errorf("stet %v = %d, want 2\n%s", args, code, errOut)
		}
	}
	bad := writeTree(t, map[string]string{"compose.yaml": "services: [\n"})
	if code, _, errOut := stetRun(t, ctx, "pin", bad); code != ExitUsage || !strings.Contains(errOut, "compose.yaml:") {
		t.Errorf("pin of an unparsable file = %d, want 2 naming it\n%s", code, errOut)
	}
}

func TestPinFileChangedDuringRun(t *testing.T) {
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	dir := t.TempDir()
	dockerfile := filepath.Join(dir, "Dockerfile")
	edited := "# edited meanwhile\nFROM nginx:1.27\n"
	// The registry answers normally, but someone edits the Dockerfile while
	// stet waits for it.
	var (
		once  sync.Once
		armed atomic.Bool
	)
	reg := registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if armed.Load() && strings.Contains(r.URL.Path, "/manifests/") {
			once.Do(func() { os.WriteFile(dockerfile, []byte(edited), 0o644) })
		}
		reg.ServeHTTP(w, r)
	}))
	t.Cleanup(s.Close)
	host := strings.TrimPrefix(s.URL, "http://")
	testregistry.Push(t, host+"/library/nginx:1.27", testregistry.Image(t, ""))
	os.WriteFile(filepath.Join(dir, ".stet.yaml"), []byte(mirrorConfig(host)), 0o644)
	os.WriteFile(dockerfile, []byte("FROM nginx:1.27\n"), 0o644)
	armed.Store(true)

	code, out, errOut := stetRun(t, context.Background(), "pin", dir)
	if code != ExitFailure || !strings.Contains(errOut, "changed since it was scanned") {
		t.Fatalf("pin of a file edited meanwhile = %d, want 3\n%s%s", code, out, errOut)
	}
	if got, _ := os.ReadFile(dockerfile); string(got) != edited {
		t.Errorf("the concurrent edit was overwritten: %q", got)
	}
}

func TestPinPlatforms(t *testing.T) {
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	ctx := context.Background()
	host := testregistry.New(t)
	multi := testregistry.PushIndex(t, host+"/library/nginx:1", testregistry.Index(t, "linux/amd64", "linux/arm64"))
	testregistry.Push(t, host+"/library/redis:7", testregistry.Image(t, "linux/amd64"))
	files := map[string]string{
		".stet.yaml": mirrorConfig(host),
		"Dockerfile": "FROM nginx:1\nFROM redis:7\n",
	}
	dir := writeTree(t, files)
	code, _, errOut := stetRun(t, ctx, "pin", "--platform", "linux/amd64,linux/arm64", dir)
	if code != ExitFailure || !strings.Contains(errOut, "redis:7") || !strings.Contains(errOut, "linux/arm64") {
		t.Fatalf("pin with a missing platform = %d, want 3 naming redis:7 and linux/arm64\n%s", code, errOut)
	}
	if diff := cmp.Diff(files, readTree(t, dir)); diff != "" {
		t.Errorf("files changed:\n%s", diff)
	}
	os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM nginx:1\n"), 0o644)
	if code, out, errOut := stetRun(t, ctx, "pin", "--platform", "linux/arm64", dir); code != ExitOK || !strings.Contains(out, multi) {
		t.Errorf("pin with present platforms = %d\n%s%s", code, out, errOut)
	}
}

// TestPinThroughFaults runs pin against a registry behind a fault-injecting
// proxy: a fault either ends in a retry that succeeds, with the right pin,
// or in exit 3 with every file untouched. Never a wrong pin.
func TestPinThroughFaults(t *testing.T) {
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	host := testregistry.New(t)
	digest := testregistry.Push(t, host+"/library/nginx:1-alpine", testregistry.Image(t, ""))
	tests := []struct {
		name   string
		faults []faultproxy.Fault
		ok     bool
	}{
		{"500 twice then fine", []faultproxy.Fault{{Kind: faultproxy.Manifest, Status: 500, Times: 2}}, true},
		{"429 with Retry-After", []faultproxy.Fault{{Kind: faultproxy.Manifest, Status: 429, Times: 1,
			Header: http.Header{"Retry-After": {"1"}}}}, true},
		{"connection reset once", []faultproxy.Fault{{Kind: faultproxy.Manifest, Reset: true, Times: 1}}, true},
		{"always 503", []faultproxy.Fault{{Kind: faultproxy.Manifest, Status: 503}}, false},
		{"unauthorized", []faultproxy.Fault{{Kind: faultproxy.Manifest, Status: 401}}, false},
		{"manifest bytes do not match the digest", []faultproxy.Fault{
			{Method: http.MethodHead, Kind: faultproxy.Manifest, StripDigest: true},
			{Method: http.MethodGet, Kind: faultproxy.Manifest, Corrupt: true},
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := faultproxy.New(t, host)
			p.Add(tt.faults...)
			files := map[string]string{".stet.yaml": mirrorConfig(p.Host), "Dockerfile": "FROM nginx:1-alpine\n"}
			dir := writeTree(t, files)
			code, out, errOut := stetRun(t, context.Background(), "pin", dir)
			got := readTree(t, dir)["Dockerfile"]
			if tt.ok {
				if code != ExitOK || got != "FROM nginx:1-alpine@"+digest+"\n" {
					t.Fatalf("pin = %d, Dockerfile %q\n%s%s", code, got, out, errOut)
				}
				return
			}
			if code != ExitFailure {
				t.Fatalf("pin = %d, want 3\n%s%s", code, out, errOut)
			}
			if got != files["Dockerfile"] {
				t.Errorf("a failed pin changed the Dockerfile: %q", got)
			}
			if !strings.Contains(errOut, "nginx") {
				t.Errorf("error does not name the reference:\n%s", errOut)
			}
		})
	}
}

// TestPinSkipsVariableReference: an image that is one variable is skipped
// with a reason that says so and where to pin instead.
func TestPinSkipsVariableReference(t *testing.T) {
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	src := "services:\n  web:\n    image: ${WEB_IMAGE:-nginx:1}\n"
	dir := writeTree(t, map[string]string{"compose.yaml": src})
	t.Chdir(dir)
	code, _, stderr := stetRun(t, context.Background(), "pin", ".")
	if code != ExitOK {
		t.Fatalf("exit %d, want 0 (nothing to pin); stderr:\n%s", code, stderr)
	}
	want := "its value comes from the variable ${WEB_IMAGE:-nginx:1} (read as nginx:1)"
	if !strings.Contains(stderr, want) || strings.Contains(stderr, "assembled from variables") {
		t.Errorf("stderr lacks %q:\n%s", want, stderr)
	}
	if got := readTree(t, dir)["compose.yaml"]; got != src {
		t.Errorf("compose.yaml changed:\n%s", got)
	}
}

func TestPinSkipsTemplatedReference(t *testing.T) {
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	src := "ARG GO_VERSION=1.26\nFROM golang:${GO_VERSION}-alpine\n"
	dir := writeTree(t, map[string]string{"Dockerfile": src})
	t.Chdir(dir)
	code, _, stderr := stetRun(t, context.Background(), "pin", ".")
	if code != ExitOK {
		t.Fatalf("exit %d, want 0 (nothing to pin); stderr:\n%s", code, stderr)
	}
	for _, want := range []string{"Dockerfile:2: skipping golang:1.26-alpine", "assembled from variables (golang:${GO_VERSION}-alpine)", "ARG BASE=golang:1.26-alpine"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	if got := readTree(t, dir)["Dockerfile"]; got != src {
		t.Errorf("Dockerfile changed:\n%s", got)
	}
}

// TestPinHelmAppVersionTag: a chart whose values leave the tag empty for the
// appVersion, with no digest field, is pinned by writing appVersion@digest
// into the tag; unpin keeps the appVersion.
func TestPinHelmAppVersionTag(t *testing.T) {
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	ctx := context.Background()
	host := testregistry.New(t)
	d := testregistry.Push(t, host+"/library/nginx:1.27", testregistry.Image(t, ""))
	values := "image:\n  repository: nginx\n  tag: \"\"\n  pullPolicy: IfNotPresent\n"
	dir := writeTree(t, map[string]string{
		".stet.yaml":        mirrorConfig(host),
		"chart/Chart.yaml":  "apiVersion: v2\nname: web\nversion: 0.1.0\nappVersion: \"1.27\"\n",
		"chart/values.yaml": values,
	})
	if code, out, errOut := stetRun(t, ctx, "pin", dir); code != ExitOK {
		t.Fatalf("pin = %d\n%s%s", code, out, errOut)
	}
	want := "image:\n  repository: nginx\n  tag: \"1.27@" + d + "\"\n  pullPolicy: IfNotPresent\n"
	if got := readTree(t, dir)["chart/values.yaml"]; got != want {
		t.Errorf("pinned values:\n%s\nwant:\n%s", got, want)
	}
	if code, out, errOut := stetRun(t, ctx, "unpin", dir); code != ExitOK {
		t.Fatalf("unpin = %d\n%s%s", code, out, errOut)
	}
	if got := readTree(t, dir)["chart/values.yaml"]; got != "image:\n  repository: nginx\n  tag: \"1.27\"\n  pullPolicy: IfNotPresent\n" {
		t.Errorf("unpinned values:\n%s", got)
	}
}

// TestPinTaglessRoundTrip: an image named without a tag is pinned with the
// latest it stands for, so update can move it and unpin can restore it.
func TestPinTaglessRoundTrip(t *testing.T) {
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	ctx := context.Background()
	host := testregistry.New(t)
	d1 := testregistry.Push(t, host+"/ghcr/org/tool:latest", testregistry.Image(t, ""))
	dir := writeTree(t, map[string]string{
		".stet.yaml": mirrorConfig(host),
		"Dockerfile": "FROM ghcr.io/org/tool\n",
	})
	step := func(verb, want string) {
		t.Helper()
		if code, out, errOut := stetRun(t, ctx, verb, dir); code != ExitOK {
			t.Fatalf("%s = %d\n%s%s", verb, code, out, errOut)
		}
		if got := readTree(t, dir)["Dockerfile"]; got != want {
			t.Errorf("after %s (-want +got):\n%s", verb, cmp.Diff(want, got))
		}
	}
	step("pin", "FROM ghcr.io/org/tool:latest@"+d1+"\n")
	d2 := testregistry.Push(t, host+"/ghcr/org/tool:latest", testregistry.Image(t, ""))
	step("update", "FROM ghcr.io/org/tool:latest@"+d2+"\n")
	step("unpin", "FROM ghcr.io/org/tool:latest\n")
}

// TestDisplayOneLine: a reference written over several lines is shown on
// one, in skip lines and reports.
func TestDisplayOneLine(t *testing.T) {
	for _, tc := range []struct {
		r    ref.Ref
		want string
	}{
		{ref.Ref{Kind: ref.Image, Name: "docker.io/library/nginx", Tag: "1", Text: "nginx:\\\n  1"}, "nginx:1"},
		{ref.Ref{Kind: ref.Image, Text: "mysql:8\n  mariadb:11\n"}, "mysql:8 mariadb:11"},
		{ref.Ref{Kind: ref.Image, Name: "docker.io/library/nginx", Tag: "1", Text: "nginx:1"}, "nginx:1"},
	} {
		if got := display(tc.r); got != tc.want {
			t.Errorf("display(%q) = %q, want %q", tc.r.Text, got, tc.want)
		}
	}
}
