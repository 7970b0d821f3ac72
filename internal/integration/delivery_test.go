package integration

import (
	"encoding/json"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/stet-dev/stet/config"
	"github.com/stet-dev/stet/ref"
)

// TestDockerfile reads stet's own Dockerfile with stet's scanner: two
// stages, both bases pinned by digest, digests taken from the corpus of
// public files, and a static, trimmed, unprivileged build.
func TestDockerfile(t *testing.T) {
	p := filepath.Join(moduleRoot, "Dockerfile")
	code, stdout, stderr := stetInProcess("check", p)
	if code != 0 {
		t.Fatalf("stet check Dockerfile: exit %d\n%s%s", code, stdout, stderr)
	}
	refs := scanFile(t, p)
	corpus := corpusText(t)
	var names []string
	for _, r := range refs {
		names = append(names, r.Name)
		if r.Kind != ref.Image || r.Context != "FROM" || !strings.HasPrefix(r.Digest, "sha256:") || r.Tag == "" || r.Dynamic {
			t.Errorf("%s: want a FROM pinned by digest with its tag kept", r.Text)
		}
		if !strings.Contains(corpus, r.Text) {
			t.Errorf("%s appears nowhere in testdata/corpus", r.Text)
		}
	}
	if diff := cmp.Diff([]string{"docker.io/library/golang", "gcr.io/distroless/static-debian13"}, names); diff != "" {
		t.Errorf("stages (-want +got):\n%s", diff)
	}
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"CGO_ENABLED=0", "-trimpath", "-buildid=", "USER 65532:65532", "--platform=$BUILDPLATFORM", "internal/cli.commit="} {
		if !strings.Contains(string(data), want) {
			t.Errorf("Dockerfile lacks %q", want)
		}
	}
}

// TestDockerignore: the build context keeps what go build needs and drops
// the rest.
func TestDockerignore(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(moduleRoot, ".dockerignore"))
	if err != nil {
		t.Fatal(err)
	}
	var rules []string
	for _, l := range strings.Split(string(data), "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			rules = append(rules, l)
		}
	}
	for _, want := range []string{".git", "dist", "**/testdata"} {
		if !slices.Contains(rules, want) {
			t.Errorf(".dockerignore lacks %s", want)
		}
	}
	for _, keep := range []string{"go.mod", "go.sum", "cmd", "internal", "*.go", "**/*.go"} {
		if slices.Contains(rules, keep) {
			t.Errorf(".dockerignore drops %s, which the build needs", keep)
		}
	}
}

// TestDockerContextBuilds copies the module as docker build sends it,
// without what .dockerignore excludes, and builds stet from the copy the
// way the Dockerfile does: the context holds everything the build needs.
func TestDockerContextBuilds(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(moduleRoot, ".dockerignore"))
	if err != nil {
		t.Fatal(err)
	}
	var excludes []*regexp.Regexp
	for _, l := range strings.Split(string(data), "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			if strings.HasPrefix(l, "!") {
				t.Fatalf(".dockerignore exception %q: this test reads exclusions only", l)
			}
			excludes = append(excludes, dockerignoreRE(l))
		}
	}
	excluded := func(rel string) bool {
		// Docker excludes a path when a pattern matches it or a parent.
		for p := rel; p != "."; p = filepath.ToSlash(filepath.Dir(p)) {
			for _, re := range excludes {
				if re.MatchString(p) {
					return true
				}
			}
		}
		return false
	}
	ctx := filepath.Join(t.TempDir(), "context")
	sent := 0
	err = filepath.WalkDir(moduleRoot, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(moduleRoot, p)
		rel = filepath.ToSlash(rel)
		if rel == "." {
			return nil
		}
		if excluded(rel) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		target := filepath.Join(ctx, filepath.FromSlash(rel))
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		sent++
		return os.WriteFile(target, b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, gone := range []string{"testdata/corpus/SOURCES.tsv", "examples/incident/Dockerfile", ".git/HEAD", "scan/dockerfile/testdata"} {
		if _, err := os.Stat(filepath.Join(ctx, gone)); err == nil {
			t.Errorf("%s is in the build context", gone)
		}
	}
	cmd := exec.Command("go", "build", "-trimpath", "-buildvcs=false", "-o", filepath.Join(t.TempDir(), "stet"), "./cmd/stet")
	cmd.Dir = ctx
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=-mod=readonly", "GOWORK=off")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building from the %d files of the Docker context: %v\n%s", sent, err, out)
	}
}

// dockerignoreRE translates a .dockerignore pattern (Go filepath.Match
// syntax plus ** for any number of directories) into a regular expression
// over slash paths relative to the context.
func dockerignoreRE(pattern string) *regexp.Regexp {
	pattern = strings.TrimPrefix(filepath.ToSlash(filepath.Clean(pattern)), "/")
	var b strings.Builder
	b.WriteString("^")
	for i := 0; i < len(pattern); i++ {
		switch c := pattern[i]; {
		case strings.HasPrefix(pattern[i:], "**/"):
			b.WriteString("(.*/)?")
			i += 2
		case strings.HasPrefix(pattern[i:], "**"):
			b.WriteString(".*")
			i++
		case c == '*':
			b.WriteString("[^/]*")
		case c == '?':
			b.WriteString("[^/]")
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	b.WriteString("$")
	return regexp.MustCompile(b.String())
}

// TestOwnRepositoryClean is what .ci/run enforces: stet check on stet's own
// repository, with its .stet.yaml, finds nothing, and the settings ignore
// only fixtures and examples.
func TestOwnRepositoryClean(t *testing.T) {
	c, err := config.Load(filepath.Join(moduleRoot, config.FileName))
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range c.Ignore {
		if !strings.Contains(g, "testdata") && !strings.HasPrefix(g, "examples/") && !strings.HasPrefix(g, "bench/") {
			t.Errorf("ignore %q: stet's own settings ignore fixtures, examples and benchmark output only", g)
		}
	}
	if len(c.Rules) != 0 {
		t.Errorf("rules %v: stet's own repository keeps every rule at its default", c.Rules)
	}
	code, out := runBinary(t, moduleRoot, []string{"NO_COLOR=1"}, stetBin, "check", "--format", "json", ".")
	var res struct {
		Findings []json.RawMessage `json:"findings"`
		Summary  struct {
			Files int `json:"files"`
		} `json:"summary"`
	}
	if err := json.Unmarshal([]byte(out[strings.Index(out, "{"):]), &res); err != nil {
		t.Fatalf("stet check .: %v\n%s", err, out)
	}
	if code != 0 || len(res.Findings) != 0 {
		t.Errorf("stet check . on stet: exit %d, %d findings\n%s", code, len(res.Findings), out)
	}
	// The delivery files are checked, not ignored.
	if res.Summary.Files < 2 {
		t.Errorf("stet check . read %d files; want at least the Dockerfile and action.yml", res.Summary.Files)
	}
	// A directory named on the command line is checked even though the
	// settings ignore it, so the story still fails.
	code, out = runBinary(t, moduleRoot, []string{"NO_COLOR=1"}, stetBin, "check", "examples/incident")
	if code != 1 || !strings.Contains(out, "STET001 image nginx:1-alpine is not pinned by digest") {
		t.Errorf("stet check examples/incident: exit %d, want 1 with STET001\n%s", code, out)
	}
}

// TestInitPinsFromCorpus: the workflow and job stet init writes pin
// actions and images to commits and digests found in the corpus.
func TestInitPinsFromCorpus(t *testing.T) {
	corpus := corpusText(t)
	for _, ci := range []string{"github", "gitlab"} {
		t.Run(ci, func(t *testing.T) {
			dir := fixture(t, map[string]string{"Dockerfile": pinnedDockerfile})
			if code, out, errOut := stetInProcess("init", "--ci", ci, dir); code != 0 {
				t.Fatalf("stet init --ci %s: exit %d\n%s%s", ci, code, out, errOut)
			}
			file := map[string]string{"github": ".github/workflows/stet.yml", "gitlab": ".gitlab/ci/stet.yml"}[ci]
			refs := scanFile(t, filepath.Join(dir, file))
			if len(refs) == 0 {
				t.Fatalf("%s: no references", file)
			}
			for _, r := range refs {
				if r.Name == "stet-dev/stet" {
					continue // stet itself: the commit of the build, or a pin to make
				}
				text := r.Text
				if r.Kind == ref.Action {
					text = r.Name + "@" + r.Digest + " # " + r.Tag
				}
				if r.Digest == "" || !strings.Contains(corpus, text) {
					t.Errorf("%s: %s is not a pin found in testdata/corpus", file, text)
				}
			}
		})
	}
}

// TestReleaseStamp builds stet as scripts/dist does and checks that
// `stet version` reports the stamped version, commit and date, and that
// building again gives the same bytes. (The second build shares the build
// cache; scripts/dist --reproduce, run by .ci/run, rebuilds from nothing in
// another directory.)
func TestReleaseStamp(t *testing.T) {
	if testing.Short() {
		t.Skip("builds stet twice")
	}
	const (
		version = "v1.2.3"
		commit  = "0123456789abcdef0123456789abcdef01234567"
		date    = "2026-11-25T19:00:00Z"
	)
	pkg := "github.com/stet-dev/stet/internal/cli"
	ldflags := "-s -w -buildid= -X " + pkg + ".version=" + version + " -X " + pkg + ".commit=" + commit + " -X " + pkg + ".buildDate=" + date
	dir := t.TempDir()
	var sums []string
	for _, out := range []string{"a", "b"} {
		bin := filepath.Join(dir, out)
		cmd := exec.Command("go", "build", "-trimpath", "-buildvcs=false", "-ldflags", ldflags, "-o", bin, "./cmd/stet")
		cmd.Dir = moduleRoot
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go build: %v\n%s", err, b)
		}
		data, err := os.ReadFile(bin)
		if err != nil {
			t.Fatal(err)
		}
		sums = append(sums, string(data))
	}
	if sums[0] != sums[1] {
		t.Error("two builds with the release flags differ")
	}
	code, out := runBinary(t, dir, nil, filepath.Join(dir, "a"), "version", "--format", "json")
	var v struct {
		Version, Commit, BuildDate string
		Modified                   bool
	}
	if err := json.Unmarshal([]byte(out), &v); code != 0 || err != nil {
		t.Fatalf("stet version: exit %d, %v\n%s", code, err, out)
	}
	if v.Version != version || v.Commit != commit || v.BuildDate != date || v.Modified {
		t.Errorf("stet version = %+v, want %s, %s, %s", v, version, commit, date)
	}
}
