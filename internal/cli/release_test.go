package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
	ggcrregistry "github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/stet-dev/stet/config"
	"github.com/stet-dev/stet/internal/testregistry"
)

// storyRegistry is the in-process registry of the release tests, counting
// the writes that reach image repositories (a build would push there; the
// OCI ledger's own writes go to the ledger repository and do not count).
type storyRegistry struct {
	host   string
	writes atomic.Int64
}

func newStoryRegistry(t *testing.T) *storyRegistry {
	t.Helper()
	s := &storyRegistry{}
	reg := ggcrregistry.New(ggcrregistry.Logger(log.New(io.Discard, "", 0)), ggcrregistry.WithReferrersSupport(true))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead && !strings.HasPrefix(r.URL.Path, "/v2/team/ledger/") {
			s.writes.Add(1)
		}
		reg.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	s.host = strings.TrimPrefix(srv.URL, "http://")
	return s
}

// relStory is one replay of the nginx story against a registry and a ledger.
type relStory struct {
	t        *testing.T
	host     string
	dir      string
	ledger   string
	base1    v1.Image
	b1, b2   string
	s1, s2   string
	manifest string
}

const storyManifest = "# shop\r\napiVersion: apps/v1\r\nkind: Deployment\r\nmetadata:\r\n  name: shop\r\nspec:\r\n  template:\r\n    spec:\r\n      containers:\r\n" +
	"        - name: shop\r\n          image: \"registry.example.com/shop:1\"   # CD writes this\r\n        - name: proxy\r\n          image: envoyproxy/envoy:v1.30\r\n"

func newStory(t *testing.T, host, ledger string) *relStory {
	t.Helper()
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	s := &relStory{t: t, host: host, ledger: ledger}
	cfg := "registries:\n  mirrors:\n    docker.io: " + host + "\n    registry.example.com: " + host + "\n"
	if ledger != "" {
		cfg += "ledger: " + ledger + "\n"
	}
	s.dir = writeTree(t, map[string]string{
		".stet.yaml":       cfg,
		"Dockerfile":       "FROM nginx:1-alpine\nCOPY html/ /usr/share/nginx/html/\n",
		"deploy/shop.yaml": storyManifest,
	})
	s.manifest = filepath.Join(s.dir, "deploy", "shop.yaml")
	return s
}

func (s *relStory) push(repoTag string, img v1.Image) string {
	s.t.Helper()
	return testregistry.Push(s.t, s.host+"/"+repoTag, img)
}

// build pushes nginx:1-alpine at an nginx version and shop:1 built on it.
func (s *relStory) build(apk, nginx string) (base, app string) {
	s.t.Helper()
	b, err := demoBase(apk, nginx)
	if err != nil {
		s.t.Fatal(err)
	}
	base = s.push("library/nginx:1-alpine", b)
	a, err := demoApp(b, base)
	if err != nil {
		s.t.Fatal(err)
	}
	return base, s.push("shop:1", a)
}

// stet runs a command with the story's settings file.
func (s *relStory) stet(args ...string) (int, string, string) {
	s.t.Helper()
	return stetRun(s.t, context.Background(), append([]string{"--config", filepath.Join(s.dir, ".stet.yaml")}, args...)...)
}

func (s *relStory) must(args ...string) string {
	s.t.Helper()
	code, out, errOut := s.stet(args...)
	if code != ExitOK {
		s.t.Fatalf("stet %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

// upToR2 plays the story up to r2 deployed to production.
func (s *relStory) upToR2() {
	s.t.Helper()
	s.b1, s.s1 = s.build("1.17.1-r0", "1.17.1")
	s.must("release", "create", "--app", "shop", "--image", "shop=registry.example.com/shop:1")
	s.must("release", "promote", "r1", "--env", "production")
	s.b2, s.s2 = s.build("1.17.2-r0", "1.17.2")
	if s.s1 == s.s2 {
		s.t.Fatal("the rebuild gave the same digest")
	}
	s.must("release", "create", "--app", "shop", "--image", "shop=registry.example.com/shop:1")
	s.must("release", "promote", "r2", "--env", "production")
}

type backend struct {
	name string
	// ledger returns the ledger location for a registry host.
	ledger func(t *testing.T, host string) string
}

func backends() []backend {
	return []backend{
		{"sqlite", func(t *testing.T, _ string) string { return "sqlite:" + filepath.Join(t.TempDir(), "ledger.db") }},
		{"oci", func(_ *testing.T, host string) string { return "oci://" + host + "/team/ledger" }},
		// The CNCF Distribution registry has no referrers API; the images
		// stay in the in-process registry.
		{"distribution", func(t *testing.T, _ string) string {
			return "oci://" + testregistry.Distribution(t, testregistry.Options{}) + "/team/ledger"
		}},
	}
}

// TestReleaseStory is the nginx story end to end on each backend: the
// rollback redeploys r1's exact digests, writes nothing to any image
// repository (nothing is built or pushed), and the rendered manifest
// differs from the original only in the reference it names.
func TestReleaseStory(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			reg := newStoryRegistry(t)
			s := newStory(t, reg.host, b.ledger(t, reg.host))
			s.upToR2()
			checkStoryRollback(t, s, reg)
		})
	}
}

// TestReleaseStoryDistribution runs the story with the OCI ledger on the
// CNCF Distribution registry, which has no referrers API.
func TestReleaseStoryDistribution(t *testing.T) {
	host := testregistry.Distribution(t, testregistry.Options{})
	s := newStory(t, host, "oci://"+host+"/team/ledger")
	s.upToR2()
	checkStoryRollback(t, s, nil)
}

func checkStoryRollback(t *testing.T, s *relStory, reg *storyRegistry) {
	t.Helper()
	// The diff names the nginx upgrade that came with the base image.
	code, out, errOut := s.stet("release", "diff", "r1", "r2")
	if code != ExitFindings {
		t.Fatalf("release diff: exit %d\n%s%s", code, out, errOut)
	}
	golden(t, "story-diff.txt", out)
	if !strings.HasPrefix(out, "shop r1 → shop r2: 1 of 1 image(s) changed: 1 tag moved\n") {
		t.Errorf("release diff headline:\n%s", out)
	}
	if !strings.Contains(out, "upgraded  nginx  1.17.1-r0 → 1.17.2-r0  base image, layer 0") {
		t.Errorf("release diff does not name the nginx upgrade:\n%s", out)
	}

	// A reference to a release image built from a variable cannot be
	// rendered: the rollback stops before recording anything.
	compose := filepath.Join(s.dir, "deploy", "compose.yaml")
	os.WriteFile(compose, []byte("services:\n  shop:\n    image: registry.example.com/shop:${SHOP_TAG:-1}\n"), 0o644)
	code, out, errOut = s.stet("release", "rollback", "--env", "production", "--render", filepath.Join(s.dir, "deploy"))
	if code != ExitUsage || !strings.Contains(errOut, "compose.yaml:3:12: registry.example.com/shop:${SHOP_TAG:-1} cannot be rendered in place") || !strings.Contains(errOut, "nothing was recorded") {
		t.Errorf("rollback over an unrenderable file: exit %d\n%s%s", code, out, errOut)
	}
	if out := s.must("release", "history", "production"); strings.Contains(out, "rollback") {
		t.Errorf("a failed rollback was recorded:\n%s", out)
	}
	if got, _ := os.ReadFile(s.manifest); string(got) != storyManifest {
		t.Errorf("a failed rollback wrote the manifest:\n%s", got)
	}
	os.Remove(compose)

	code, out, errOut = s.stet("release", "rollback", "--env", "production", "--render", filepath.Join(s.dir, "deploy"), "--dry-run")
	if code != ExitOK {
		t.Fatalf("rollback --dry-run: exit %d\n%s%s", code, out, errOut)
	}
	golden(t, "story-rollback-dry-run.txt", strings.ReplaceAll(out, s.dir, "DIR"))

	var before int64
	if reg != nil {
		before = reg.writes.Load()
	}
	code, out, errOut = s.stet("release", "rollback", "--env", "production", "--render", filepath.Join(s.dir, "deploy"), "--format", "json")
	if code != ExitOK {
		t.Fatalf("rollback: exit %d\n%s%s", code, out, errOut)
	}
	var digests map[string]string
	if err := json.Unmarshal([]byte(out), &digests); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if diff := cmp.Diff(map[string]string{"shop": s.s1}, digests); diff != "" {
		t.Errorf("rollback digests (-want +got)\n%s", diff)
	}
	if reg != nil {
		if n := reg.writes.Load() - before; n != 0 {
			t.Errorf("%d write(s) reached image repositories during the rollback", n)
		}
	}
	got, err := os.ReadFile(s.manifest)
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Replace(storyManifest, `"registry.example.com/shop:1"`, `"registry.example.com/shop:1@`+s.s1+`"`, 1)
	if diff := cmp.Diff(want, string(got)); diff != "" {
		t.Errorf("rendered manifest (-want +got)\n%s", diff)
	}
	// The history records the rollback; production runs r1 again.
	out = s.must("release", "history", "production", "--format", "json")
	var h struct {
		Events []struct {
			Sequence int64
			Action   string
			Number   int64
		}
	}
	json.Unmarshal([]byte(out), &h)
	if len(h.Events) != 3 || h.Events[0].Action != "rollback" || h.Events[0].Number != 1 {
		t.Errorf("history after the rollback: %+v", h.Events)
	}
	out = s.must("release", "show", "production")
	if !strings.HasPrefix(out, "shop r1 ") || !strings.Contains(out, "registry.example.com/shop:1@"+s.s1) {
		t.Errorf("show production:\n%s", out)
	}
	// Rolling back again does not return to r2, which the rollback removed.
	if code, _, errOut := s.stet("release", "rollback", "--env", "production"); code != ExitUsage || !strings.Contains(errOut, "not found") {
		t.Errorf("second rollback: exit %d, %s", code, errOut)
	}
	// Every digest of every deployed release still exists; the chain holds.
	if code, out, errOut := s.stet("release", "verify"); code != ExitOK {
		t.Errorf("release verify: exit %d\n%s%s", code, out, errOut)
	}
}

// TestReleaseRollbackVanishedDigest: a digest deleted from its registry
// makes the rollback fail loudly, record nothing and write no file.
func TestReleaseRollbackVanishedDigest(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			reg := newStoryRegistry(t)
			s := newStory(t, reg.host, b.ledger(t, reg.host))
			s.upToR2()
			req, _ := http.NewRequest(http.MethodDelete, "http://"+reg.host+"/v2/shop/manifests/"+s.s1, nil)
			resp, err := http.DefaultClient.Do(req)
			if err != nil || resp.StatusCode/100 != 2 {
				t.Fatalf("deleting r1's manifest: %v %v", err, resp)
			}
			resp.Body.Close()
			code, out, errOut := s.stet("release", "rollback", "--env", "production", "--render", filepath.Join(s.dir, "deploy"))
			if code != ExitFindings || !strings.Contains(errOut, "shop r1 shop: registry.example.com/shop:1@"+s.s1+" no longer exists") ||
				!strings.Contains(errOut, "cannot be reproduced") || !strings.Contains(errOut, "nothing was recorded") {
				t.Errorf("rollback to a vanished digest: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
			}
			out = s.must("release", "history", "production", "--format", "json")
			if n := strings.Count(out, `"sequence"`); n != 2 {
				t.Errorf("%d events after a failed rollback, want 2:\n%s", n, out)
			}
			if got, _ := os.ReadFile(s.manifest); string(got) != storyManifest {
				t.Errorf("manifest changed by a failed rollback:\n%s", got)
			}
			// diff still classifies, names the image it could not read, exits 3.
			code, out, errOut = s.stet("release", "diff", "r1", "r2")
			if code != ExitFailure || !strings.Contains(out, "tag moved  shop") || !strings.Contains(out, "shop: could not be compared") || !strings.Contains(errOut, "could not compare the contents of shop") {
				t.Errorf("diff with a vanished image: exit %d\n%s%s", code, out, errOut)
			}
			// verify reports it too.
			code, out, _ = s.stet("release", "verify")
			if code != ExitFindings || !strings.Contains(out, "missing  shop r1 shop: registry.example.com/shop:1@"+s.s1) {
				t.Errorf("release verify: exit %d\n%s", code, out)
			}
			code, out, _ = s.stet("release", "verify", "--format", "json")
			var rep verifyReport
			if err := json.Unmarshal([]byte(out), &rep); err != nil || code != ExitFindings {
				t.Fatalf("verify --format json: exit %d, %v\n%s", code, err, out)
			}
			want := verifyReport{Releases: 2, Images: 2, Environments: 1, Broken: []string{},
				Missing: []missingImage{{Release: "shop r1", Name: "shop", Image: "registry.example.com/shop:1@" + s.s1}}}
			if diff := cmp.Diff(want, rep); diff != "" {
				t.Errorf("verify report (-want +got)\n%s", diff)
			}
		})
	}
}

func TestReleaseCommands(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			reg := newStoryRegistry(t)
			s := newStory(t, reg.host, b.ledger(t, reg.host))
			s.b1, s.s1 = s.build("1.17.1-r0", "1.17.1")
			tests := []struct {
				args []string
				code int
				msg  string
			}{
				{[]string{"release", "create", "--image", "shop=registry.example.com/shop:1"}, ExitUsage, `required flag(s) "app"`},
				{[]string{"release", "create", "--app", "shop"}, ExitUsage, "--from-lock stet.lock or --image"},
				{[]string{"release", "create", "--app", "Shop!", "--image", "a=b:1"}, ExitUsage, "--app"},
				{[]string{"release", "create", "--app", "shop", "--image", "noequals"}, ExitUsage, "want KEY=VALUE"},
				{[]string{"release", "create", "--app", "shop", "--image", "shop=registry.example.com/shop:nope"}, ExitUsage, "no release was recorded"},
				{[]string{"release", "create", "--app", "shop", "--image", "shop=registry.example.com/shop@sha256:" + strings.Repeat("0", 64)}, ExitUsage, "no release was recorded"},
				{[]string{"release", "create", "--app", "shop", "--from-lock", "/nonexistent/stet.lock"}, ExitUsage, "does not exist"},
				{[]string{"release", "show", "r1"}, ExitUsage, ""},
				{[]string{"release", "history", "Prod"}, ExitUsage, "environment"},
				{[]string{"release", "list", "--format", "yaml"}, ExitUsage, "--format"},
				{[]string{"release", "rollback", "--env", "production"}, ExitUsage, "nothing was deployed"},
				{[]string{"release", "list", "--ledger", "postgres://x"}, ExitUsage, "want sqlite:PATH or oci://"},
				{[]string{"release", "verify", "--ledger", "oci://" + reg.host + "/team/typo"}, ExitUsage, "no ledger at oci://" + reg.host + "/team/typo"},
			}
			for _, tt := range tests {
				code, out, errOut := s.stet(tt.args...)
				if code != tt.code || !strings.Contains(errOut, tt.msg) {
					t.Errorf("%v: exit %d, want %d with %q\n%s%s", tt.args, code, tt.code, tt.msg, out, errOut)
				}
			}

			// create: a digest reference is checked and kept; annotations.
			out := s.must("release", "create", "--app", "shop", "--image", "shop=registry.example.com/shop:1@"+s.s1,
				"--image", "base=nginx:1-alpine", "--annotate", "ticket=OPS-1", "--format", "json")
			var r1 struct {
				ID          string
				Number      int64
				Images      map[string]struct{ Reference, Digest, MediaType string }
				Annotations map[string]string
			}
			if err := json.Unmarshal([]byte(out), &r1); err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			if r1.Number != 1 || r1.Images["shop"].Digest != s.s1 || r1.Images["shop"].Reference != "registry.example.com/shop:1" ||
				r1.Images["base"].Digest != s.b1 || r1.Images["base"].Reference != "docker.io/library/nginx:1-alpine" || r1.Annotations["ticket"] != "OPS-1" {
				t.Errorf("r1: %s", out)
			}
			// show by number, by ID prefix, by environment.
			byNum := s.must("release", "show", "r1")
			prefix := strings.TrimPrefix(r1.ID, "sha256:")[:8]
			if byPrefix := s.must("release", "show", prefix); byPrefix != byNum || !strings.Contains(byNum, "ticket=OPS-1") {
				t.Errorf("show r1:\n%s\nshow %s:\n%s", byNum, prefix, byPrefix)
			}
			if code, _, errOut := s.stet("release", "show", "staging"); code != ExitUsage || !strings.Contains(errOut, "neither a release") {
				t.Errorf("show of an environment without deployments: exit %d, %s", code, errOut)
			}
			s.must("release", "promote", "r1", "--env", "staging", "--reason", "first")
			if code, _, errOut := s.stet("release", "promote", "r1", "--env", "staging"); code != ExitUsage || !strings.Contains(errOut, "already runs shop r1") {
				t.Errorf("promote twice: exit %d, %s", code, errOut)
			}
			if got := s.must("release", "show", "staging"); got != strings.Replace(byNum, "annotation", "annotation", 1) && !strings.Contains(got, "deployed to  staging") {
				t.Errorf("show staging:\n%s", got)
			}
			// promote what staging runs to production.
			s.must("release", "promote", "staging", "--env", "production")
			out = s.must("release", "list", "--format", "json")
			var list struct {
				Releases []struct{ Number int64 }
				Deployed map[string]string
			}
			json.Unmarshal([]byte(out), &list)
			if len(list.Releases) != 1 || list.Deployed["production"] != r1.ID || list.Deployed["staging"] != r1.ID {
				t.Errorf("list: %s", out)
			}
			if out := s.must("release", "history", "staging"); !strings.Contains(out, "promote  shop r1") || !strings.Contains(out, "first") {
				t.Errorf("history staging:\n%s", out)
			}
			// diff of a release with itself: identical, exit 0.
			if code, out, errOut := s.stet("release", "diff", "r1", "production"); code != ExitOK || !strings.HasPrefix(out, "shop r1 → shop r1: same digests") {
				t.Errorf("diff r1 production: exit %d\n%s%s", code, out, errOut)
			}
			// render, dry run then for real.
			code, out, errOut := s.stet("release", "render", "r1", filepath.Join(s.dir, "deploy"), "--dry-run")
			if code != ExitOK || !strings.Contains(out, "+          image: \"registry.example.com/shop:1@"+s.s1+"\"") || !strings.Contains(errOut, "no rendered file refers to base") {
				t.Errorf("render --dry-run: exit %d\n%s%s", code, out, errOut)
			}
			if got, _ := os.ReadFile(s.manifest); string(got) != storyManifest {
				t.Error("render --dry-run wrote the manifest")
			}
			s.must("release", "render", "r1", filepath.Join(s.dir, "deploy"))
			if got, _ := os.ReadFile(s.manifest); !strings.Contains(string(got), "shop:1@"+s.s1) {
				t.Errorf("render wrote:\n%s", got)
			}
			// sync into a fresh SQLite ledger, twice: the second copies nothing.
			other := "sqlite:" + filepath.Join(t.TempDir(), "copy.db")
			from := s.ledger
			if out := s.must("release", "sync", from, other); !strings.HasPrefix(out, "copied 1 release(s) and 2 event(s)") {
				t.Errorf("sync: %s", out)
			}
			if out := s.must("release", "sync", from, other); !strings.HasPrefix(out, "copied 0 release(s) and 0 event(s); 1 release(s) and 2 event(s)") {
				t.Errorf("second sync: %s", out)
			}
			if out := s.must("release", "history", "production", "--ledger", other); !strings.Contains(out, "shop r1") {
				t.Errorf("history in the copy:\n%s", out)
			}
			if code, out, errOut := s.stet("release", "verify", "-n", "5"); code != ExitOK {
				t.Errorf("verify -n 5: exit %d\n%s%s", code, out, errOut)
			}
		})
	}
}

// TestReleaseFromLockAndGit records a release from stet.lock in a git work
// tree: the commit, the dirty flag and the lock digest are recorded, and the
// diff of two releases lists the commits between them and the lock's changes.
func TestReleaseFromLockAndGit(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	reg := newStoryRegistry(t)
	s := newStory(t, reg.host, "")
	git := func(args ...string) string {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-C", s.dir, "-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false"}, args...)...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	git("init", "-q")
	s.push("envoyproxy/envoy:v1.30", testregistry.Image(t, ""))
	s.b1, s.s1 = s.build("1.17.1-r0", "1.17.1")
	s.must("lock", s.dir)
	git("add", ".")
	git("commit", "-qm", "first")
	c1 := git("rev-parse", "HEAD")
	t.Setenv("USER", "alice")
	t.Setenv("GITHUB_RUN_ID", "4242")
	out := s.must("release", "create", "--app", "shop", "--from-lock", filepath.Join(s.dir, "stet.lock"), "--format", "json")
	var r struct {
		Images map[string]struct{ Digest string }
		Git    struct {
			Commit string
			Dirty  bool
		}
		LockDigest string
		Creator    struct {
			User string
			CI   map[string]string
		}
	}
	json.Unmarshal([]byte(out), &r)
	if r.Creator.User != "alice" || r.Creator.CI["GITHUB_RUN_ID"] != "4242" {
		t.Errorf("creator: %s", out)
	}
	if r.Git.Commit != c1 || r.Git.Dirty || r.LockDigest == "" || r.Images["shop"].Digest != s.s1 || r.Images["nginx"].Digest != s.b1 || len(r.Images) != 3 {
		t.Errorf("release from the lock: %s", out)
	}
	if _, err := os.Stat(filepath.Join(s.dir, ".stet", "ledger.db")); err != nil {
		t.Errorf("default ledger: %v", err)
	}
	// The local ledger keeps itself out of git.
	if st := git("status", "--porcelain", "--untracked-files=all"); st != "" {
		t.Errorf("git status after the first release:\n%s", st)
	}

	s.b2, s.s2 = s.build("1.17.2-r0", "1.17.2")
	s.must("lock", s.dir)
	git("commit", "-qam", "relock after the nginx update")
	os.WriteFile(filepath.Join(s.dir, "Dockerfile"), []byte("FROM nginx:1-alpine\n# changed\n"), 0o644)
	out = s.must("release", "create", "--app", "shop", "--from-lock", filepath.Join(s.dir, "stet.lock"), "--format", "json")
	json.Unmarshal([]byte(out), &r)
	if !r.Git.Dirty {
		t.Errorf("a modified tracked file is not dirty: %s", out)
	}
	code, out, errOut := s.stet("release", "diff", "r1", "r2")
	if code != ExitFindings {
		t.Fatalf("diff: exit %d\n%s%s", code, out, errOut)
	}
	t.Logf("stet release diff r1 r2:\n%s", out)
	for _, want := range []string{
		"shop r1 → shop r2: 2 of 3 image(s) changed: 2 tag moved",
		"relock after the nginx update",
		"stet.lock changed",
		"~ nginx:1-alpine " + s.b1[:19] + "… → " + s.b2[:19] + "…",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("diff lacks %q:\n%s", want, out)
		}
	}
}

func TestDemo(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	t.Setenv("TMPDIR", t.TempDir())
	code, out, errOut := stetRun(t, context.Background(), "demo")
	if code != ExitOK {
		t.Fatalf("demo: exit %d\n%s%s", code, out, errOut)
	}
	for _, want := range []string{
		"1. Upstream publishes nginx:1-alpine with nginx 1.17.1-r0",
		"STET011 nginx:1-alpine moved",
		"shop: 1 package upgraded, base image changed",
		"upgraded nginx 1.17.1-r0 → 1.17.2-r0 (from the base image, layer 0)",
		"production rolled back: shop r2 → shop r1",
		"deploy/shop.yaml: image: registry.example.com/shop:1@sha256:",
		"Every step behaved as the story says",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("demo output lacks %q:\n%s", want, out)
		}
	}
	if left, _ := filepath.Glob(filepath.Join(os.Getenv("TMPDIR"), "stet-demo-*")); len(left) != 0 {
		t.Errorf("demo left %v behind", left)
	}
}

// golden compares got with testdata/release/NAME (rewritten by -update).
func golden(t *testing.T, name, got string) {
	t.Helper()
	p := filepath.Join(origDir, "testdata", "release", name)
	if *update {
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/cli -run Release -update)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s (-want +got)\n%s", name, diff)
	}
}

// TestReleaseNoLedger: only create makes the default ledger; reading a
// missing one is a usage error that says what to do, and creates nothing.
func TestReleaseNoLedger(t *testing.T) {
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	dir := writeTree(t, map[string]string{".stet.yaml": "rules: {}\n"})
	cfg := filepath.Join(dir, ".stet.yaml")
	ctx := context.Background()
	for _, args := range [][]string{
		{"release", "list"},
		{"release", "show", "production"},
		{"release", "history", "production"},
		{"release", "promote", "r1", "--env", "production"},
		{"release", "rollback", "--env", "production"},
		{"release", "verify"},
		{"release", "diff", "r1", "r2"},
		{"release", "render", "r1", dir},
		{"release", "sync", "sqlite:" + filepath.Join(dir, "none.db"), "sqlite:" + filepath.Join(dir, "copy.db")},
	} {
		code, _, errOut := stetRun(t, ctx, append([]string{"--config", cfg}, args...)...)
		if code != ExitUsage || !strings.Contains(errOut, "no ledger at") {
			t.Errorf("%v: exit %d, %s", args, code, errOut)
		}
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "*", "*.db")); len(left) > 0 {
		t.Errorf("reading commands created %v", left)
	}
	if _, err := os.Stat(filepath.Join(dir, ".stet")); err == nil {
		t.Error("reading commands created .stet/")
	}
}

// TestReleasePromoteConcurrent: two promotions of one environment at the
// same time both land, one after the other, in an unbroken chain.
func TestReleasePromoteConcurrent(t *testing.T) {
	for _, b := range backends()[:2] {
		t.Run(b.name, func(t *testing.T) {
			reg := newStoryRegistry(t)
			s := newStory(t, reg.host, b.ledger(t, reg.host))
			s.b1, s.s1 = s.build("1.17.1-r0", "1.17.1")
			s.must("release", "create", "--app", "shop", "--image", "shop=registry.example.com/shop:1")
			s.must("release", "create", "--app", "shop", "--image", "shop=registry.example.com/shop:1", "--annotate", "n=2")
			codes := make(chan string, 2)
			for _, rel := range []string{"r1", "r2"} {
				go func() {
					code, _, errOut := s.stet("release", "promote", rel, "--env", "qa")
					codes <- fmt.Sprintf("%s: exit %d %s", rel, code, errOut)
				}()
			}
			for range 2 {
				if got := <-codes; !strings.Contains(got, "exit 0") {
					t.Error(got)
				}
			}
			out := s.must("release", "history", "qa", "--format", "json")
			if n := strings.Count(out, `"sequence"`); n != 2 {
				t.Errorf("%d events, want 2:\n%s", n, out)
			}
			if code, out, errOut := s.stet("release", "verify"); code != ExitOK {
				t.Errorf("verify: exit %d\n%s%s", code, out, errOut)
			}
		})
	}
}

func TestLedgerLocation(t *testing.T) {
	dir := filepath.FromSlash("/repo")
	tests := []struct {
		name, config, flag, want string
	}{
		{"default", "", "", "sqlite:" + filepath.Join(dir, ".stet", "ledger.db")},
		{"config sqlite relative to the settings file", "sqlite:ledgers/main.db", "", "sqlite:" + filepath.Join(dir, "ledgers", "main.db")},
		{"config sqlite absolute", "sqlite:/var/lib/stet.db", "", "sqlite:/var/lib/stet.db"},
		{"config oci", "oci://registry.example.com/team/ledger", "", "oci://registry.example.com/team/ledger"},
		{"flag wins", "oci://registry.example.com/team/ledger", "sqlite:local.db", "sqlite:local.db"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := config.Default()
			c.Dir, c.Ledger = dir, tt.config
			if got := ledgerLocation(c, tt.flag); got != tt.want {
				t.Errorf("ledgerLocation = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestReleaseRollbackComparesDigests rebuilds shop:1 from a base it had
// before, so that two releases deploy the same digest. A rollback never
// picks a release that deploys what runs now, nor one that deploys what a
// rollback removed, whatever its number.
func TestReleaseRollbackComparesDigests(t *testing.T) {
	reg := newStoryRegistry(t)
	s := newStory(t, reg.host, "sqlite:"+filepath.Join(t.TempDir(), "ledger.db"))
	create := func(apk, nginx string) string {
		_, digest := s.build(apk, nginx)
		s.must("release", "create", "--app", "shop", "--image", "shop=registry.example.com/shop:1")
		return digest
	}
	a := create("1.17.1-r0", "1.17.1") // r1
	b := create("1.17.2-r0", "1.17.2") // r2
	if create("1.17.1-r0", "1.17.1") != a {
		t.Fatal("rebuilding r1's image gave another digest")
	}
	// r3 deploys r1's digest.
	for _, r := range []string{"r1", "r2", "r3"} {
		s.must("release", "promote", r, "--env", "production")
	}
	for _, r := range []string{"r2", "r1", "r3"} {
		s.must("release", "promote", r, "--env", "staging")
	}
	// staging runs r3 (= r1) after r1: the rollback goes to r2, not r1.
	if out := s.must("release", "rollback", "--env", "staging", "--dry-run"); !strings.Contains(out, "shop r3 → shop r2") || !strings.Contains(out, b) {
		t.Errorf("rollback of staging (r2, r1, r3 = r1):\n%s", out)
	}
	if code, out, errOut := s.stet("release", "rollback", "--env", "staging", "--to", "r1"); code != ExitUsage || !strings.Contains(errOut, "same digests") {
		t.Errorf("rollback --to r1 while r3 runs: exit %d\n%s%s", code, out, errOut)
	}
	// production: r1, r2, r3 (= r1). The first rollback removes r3's
	// digest; the second must not bring it back as r1.
	if out := s.must("release", "rollback", "--env", "production"); !strings.Contains(out, "shop r3 → shop r2") {
		t.Errorf("first rollback of production:\n%s", out)
	}
	code, out, errOut := s.stet("release", "rollback", "--env", "production", "--dry-run")
	if code != ExitUsage || strings.Contains(out, a) || !strings.Contains(errOut, "no earlier release") {
		t.Errorf("second rollback of production: exit %d, want %d and no target\n%s%s", code, ExitUsage, out, errOut)
	}
}
