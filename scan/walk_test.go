package scan

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/stet-dev/stet/ref"
)

// lineScanner reports one reference per line that starts with "FROM ",
// enough to see which files the walker hands to scanners.
func lineScanner(source string) Scanner {
	return func(p string, data []byte) (*Result, error) {
		res := &Result{}
		for i, line := range bytes.Split(data, []byte("\n")) {
			if t, ok := bytes.CutPrefix(line, []byte("FROM ")); ok {
				res.Refs = append(res.Refs, ref.Ref{File: p, Line: i + 1, Column: 6, Source: source, Text: string(t)})
			}
			if t, ok := bytes.CutPrefix(line, []byte("BUILD ")); ok {
				res.Related = append(res.Related, Related{Path: string(t), Source: ref.SourceDockerfile})
			}
			if bytes.HasPrefix(line, []byte("BROKEN")) {
				return res, Errorf(p, i+1, 1, "broken on purpose")
			}
		}
		return res, nil
	}
}

func testScanners() map[string]Scanner {
	m := map[string]Scanner{}
	for _, s := range []string{ref.SourceDockerfile, ref.SourceCompose, ref.SourceKube, ref.SourceHelm, ref.SourceKustomize, ref.SourceActions, ref.SourceGitLab} {
		m[s] = lineScanner(s)
	}
	return m
}

func writeTree(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func chdir(t *testing.T, dir string) {
	t.Helper()
	t.Chdir(dir)
}

func paths(r *Report) []string {
	var out []string
	for _, f := range r.Files {
		out = append(out, f.Path+"="+f.Source)
	}
	return out
}

func TestWalkGitignoreAndSkips(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, map[string]string{
		"Dockerfile":                         "FROM a\n",
		"app/Dockerfile.dev":                 "FROM b\n",
		"app/README.md":                      "FROM not-read\n",
		"app/Dockerfile.md":                  "FROM not-read\n",
		"build/Dockerfile":                   "FROM ignored-by-gitignore\n",
		"keep/.gitignore":                    "*.yaml\n!wanted.yaml\n",
		"keep/skip.yaml":                     "FROM no\n",
		"keep/wanted.yaml":                   "FROM yes\n",
		"node_modules/x/Dockerfile":          "FROM no\n",
		"vendor/Dockerfile":                  "FROM no\n",
		"excluded/Dockerfile":                "FROM no\n",
		"docs/notes.yaml":                    "just: yaml\n",
		"chart/Chart.yaml":                   "name: c\n",
		"chart/values.yaml":                  "FROM helm\n",
		"chart/templates/deploy.yaml":        "FROM {{ template }}\n",
		".github/workflows/ci.yml":           "FROM wf\n",
		"ci/.gitlab-ci.yml":                  "FROM gl\n",
		"deploy/kustomization.yaml":          "FROM k\n",
		"compose.yaml":                       "FROM c\n",
		"testdata/Dockerfile":                "FROM ignored-by-config\n",
		"broken/Dockerfile":                  "FROM x\nBROKEN\n",
		".gitignore":                         "/build/\n",
		"sub/.stet-not-config/Containerfile": "FROM d\n",
	})
	if err := os.MkdirAll(filepath.Join(root, ".git", "info"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeTree(t, root, map[string]string{".git/info/exclude": "excluded/\n", ".git/Dockerfile": "FROM no\n"})
	chdir(t, root)
	rep, err := Walk(context.Background(), nil, Options{Scanners: testScanners(), Ignore: []string{"testdata/**"}, IgnoreDir: root})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		".github/workflows/ci.yml=github-actions",
		"Dockerfile=dockerfile",
		"app/Dockerfile.dev=dockerfile",
		"broken/Dockerfile=dockerfile",
		"chart/values.yaml=helm",
		"ci/.gitlab-ci.yml=gitlab-ci",
		"compose.yaml=compose",
		"deploy/kustomization.yaml=kustomize",
		"keep/wanted.yaml=kubernetes",
		"sub/.stet-not-config/Containerfile=dockerfile",
	}
	if diff := cmp.Diff(want, paths(rep)); diff != "" {
		t.Errorf("files (-want +got)\n%s", diff)
	}
	for _, f := range rep.Files {
		if f.Path == "broken/Dockerfile" {
			if f.Err == nil || !strings.Contains(f.Err.Error(), "broken/Dockerfile:2:1: broken on purpose") {
				t.Errorf("broken file error = %v", f.Err)
			}
			if len(f.Refs) != 1 {
				t.Errorf("refs before the error are kept: got %d", len(f.Refs))
			}
		}
	}
}

func TestWalkSubdirectoryHonoursParentGitignore(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, map[string]string{
		".gitignore":         "gen/\n",
		"svc/gen/Dockerfile": "FROM no\n",
		"svc/Dockerfile":     "FROM yes\n",
	})
	if err := os.Mkdir(filepath.Join(root, ".git"), 0o755); err != nil {
		t.Fatal(err)
	}
	chdir(t, root)
	rep, err := Walk(context.Background(), []string{"svc"}, Options{Scanners: testScanners()})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"svc/Dockerfile=dockerfile"}, paths(rep)); diff != "" {
		t.Errorf("(-want +got)\n%s", diff)
	}
}

func TestWalkOutsideGitIgnoresNoGitignore(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, map[string]string{".gitignore": "*\n", "Dockerfile": "FROM a\n"})
	chdir(t, root)
	rep, err := Walk(context.Background(), []string{"."}, Options{Scanners: testScanners()})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Files) != 1 {
		t.Errorf("outside a git work tree .gitignore does not apply; got %v", paths(rep))
	}
}

func TestWalkSymlinksBinaryAndSize(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, map[string]string{
		"a/Dockerfile":   "FROM a\n",
		"big/Dockerfile": "FROM " + strings.Repeat("x", 2000) + "\n",
	})
	if err := os.WriteFile(filepath.Join(root, "a", "Containerfile"), []byte("FROM \x00binary\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// a/loop -> .. makes a cycle; a/again -> a duplicates a directory; link is a file symlink.
	for link, target := range map[string]string{"a/loop": "..", "again": "a", "Dockerfile": "a/Dockerfile", "dangling.yaml": "nowhere.yaml"} {
		if err := os.Symlink(target, filepath.Join(root, link)); err != nil {
			t.Fatal(err)
		}
	}
	chdir(t, root)
	rep, err := Walk(context.Background(), []string{"."}, Options{Scanners: testScanners(), MaxFileSize: 1000})
	if err != nil {
		t.Fatal(err)
	}
	// The first path in walk order wins for a file reached twice.
	if diff := cmp.Diff([]string{"Dockerfile=dockerfile"}, paths(rep)); diff != "" {
		t.Errorf("files (-want +got)\n%s", diff)
	}
	var reasons []string
	for _, w := range rep.Warnings {
		reasons = append(reasons, w.String())
	}
	got := strings.Join(reasons, "\n")
	for _, want := range []string{"a/Containerfile: binary file; skipped", "big/Dockerfile: larger than 1000 B", "dangling.yaml: broken symbolic link", "not followed"} {
		if !strings.Contains(got, want) {
			t.Errorf("warnings %q lack %q", got, want)
		}
	}
}

func TestWalkExplicitFilesAndRelated(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, map[string]string{
		"compose.yaml":          "FROM c\nBUILD docker/app.df\nBUILD missing.df\n",
		"docker/app.df":         "FROM related\n",
		"notes.txt":             "x",
		"ignored/manifest.yaml": "FROM explicit\n",
	})
	if err := os.Mkdir(filepath.Join(root, ".git"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeTree(t, root, map[string]string{".gitignore": "ignored/\n"})
	chdir(t, root)
	rep, err := Walk(context.Background(), []string{"compose.yaml", "ignored/manifest.yaml", "notes.txt"}, Options{Scanners: testScanners()})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"compose.yaml=compose", "docker/app.df=dockerfile", "ignored/manifest.yaml=kubernetes"}
	if diff := cmp.Diff(want, paths(rep)); diff != "" {
		t.Errorf("(-want +got)\n%s", diff)
	}
	if len(rep.Warnings) != 1 || rep.Warnings[0].Path != "notes.txt" {
		t.Errorf("warnings = %v, want one for notes.txt", rep.Warnings)
	}
	if _, err := Walk(context.Background(), []string{"nope"}, Options{Scanners: testScanners()}); err == nil {
		t.Error("a missing path must be an error")
	}
}

func TestWalkRealGitCheckIgnore(t *testing.T) {
	git, err := exec.LookPath("git")
	if err != nil {
		t.Skip("git not installed")
	}
	root := t.TempDir()
	files := map[string]string{
		".gitignore":                 "*.yml\n!keep.yml\n**/out/**\n/top-only/\n",
		"a/keep.yml":                 "FROM k\n",
		"a/drop.yml":                 "FROM d\n",
		"a/out/x/Dockerfile":         "FROM o\n",
		"top-only/Dockerfile":        "FROM t\n",
		"nested/top-only/Dockerfile": "FROM n\n",
		"b/.gitignore":               "Dockerfile.*\n",
		"b/Dockerfile.dev":           "FROM b\n",
		"b/Dockerfile":               "FROM b2\n",
	}
	writeTree(t, root, files)
	cmd := exec.Command(git, "init", "-q", root)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("git init: %v %s", err, out)
	}
	chdir(t, root)
	rep, err := Walk(context.Background(), nil, Options{Scanners: testScanners()})
	if err != nil {
		t.Fatal(err)
	}
	// Ask git which of the candidate files it would track, and compare.
	out, err := exec.Command(git, "ls-files", "--others", "--exclude-standard").Output()
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, p := range strings.Fields(string(out)) {
		if s := Detect(p, false); s != "" {
			want = append(want, p+"="+s)
		}
	}
	if diff := cmp.Diff(want, paths(rep)); diff != "" {
		t.Errorf("walker vs git ls-files (-want +got)\n%s", diff)
	}
}

func TestWalkCancelled(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, map[string]string{"Dockerfile": "FROM a\n"})
	chdir(t, root)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Walk(ctx, nil, Options{Scanners: testScanners()}); err == nil {
		t.Error("a cancelled walk must fail")
	}
}

// TestSniffCompose: YAML named like nothing stet knows is read as compose
// when it is shaped like compose (a stack file, an override), and stays a
// Kubernetes candidate otherwise.
func TestSniffCompose(t *testing.T) {
	for _, tc := range []struct {
		name, src, want string
	}{
		{"stack file", "version: \"3.8\"\nservices:\n  web:\n    image: nginx:1\n", ref.SourceCompose},
		{"services with a comment", "services:   # the app\r\n  db: {image: postgres}\r\n", ref.SourceCompose},
		{"kubernetes", "apiVersion: v1\nkind: List\nservices:\n  x: 1\n", ""},
		{"nested services key", "app:\n  services:\n    web: {}\n", ""},
		{"services in a string", "notes: |\n  services:\n", ""},
		{"gitlab fragment: services is a list", "image: node:20\nservices:\n  - docker:24-dind\nscript: [make]\n", ""},
		{"services then a comment then a key", "services:\n\n  # the app\n  web:\n    image: nginx\n", ref.SourceCompose},
		{"empty services", "services:\nother: 1\n", ""},
	} {
		if got := Sniff([]byte(tc.src)); got != tc.want {
			t.Errorf("%s: Sniff = %q, want %q", tc.name, got, tc.want)
		}
	}
	root := t.TempDir()
	writeTree(t, root, map[string]string{
		"deploy/stack.yml":  "services:\n  web:\n    image: nginx:1\n",
		"deploy/notes.yaml": "just: yaml\n",
	})
	chdir(t, root)
	rep, err := Walk(context.Background(), nil, Options{Scanners: testScanners()})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"deploy/stack.yml=compose"}, paths(rep)); diff != "" {
		t.Errorf("files (-want +got):\n%s", diff)
	}
}

func TestDetect(t *testing.T) {
	t.Parallel()
	for p, want := range map[string]string{
		"Dockerfile":                  ref.SourceDockerfile,
		"x/Containerfile":             ref.SourceDockerfile,
		"x/app.Dockerfile":            ref.SourceDockerfile,
		"x/app.containerfile":         ref.SourceDockerfile,
		"Dockerfile.prod":             ref.SourceDockerfile,
		"dockerfile":                  ref.SourceDockerfile,
		"Dockerfile.md":               "",
		"Dockerfile.dockerignore":     "",
		"compose.yaml":                ref.SourceCompose,
		"compose.override.yml":        ref.SourceCompose,
		"docker-compose.prod.yml":     ref.SourceCompose,
		".github/workflows/ci.yaml":   ref.SourceActions,
		"x/.github/workflows/ci.yml":  ref.SourceActions,
		"action.yml":                  ref.SourceActions,
		"sub/action.yaml":             ref.SourceActions,
		".gitlab-ci.yml":              ref.SourceGitLab,
		"ci/build.gitlab-ci.yml":      ref.SourceGitLab,
		".gitlab/ci/jobs.yml":         ref.SourceGitLab,
		"kustomization.yaml":          ref.SourceKustomize,
		"overlays/kustomization.yml":  ref.SourceKustomize,
		"values.yaml":                 Candidate, // not in a chart
		"deploy.yaml":                 Candidate,
		"main.go":                     "",
		"README.md":                   "",
		".github/workflows/README.md": "",
	} {
		if got := Detect(p, false); got != want {
			t.Errorf("Detect(%q) = %q, want %q", p, got, want)
		}
	}
	if got := Detect("chart/values-prod.yaml", true); got != ref.SourceHelm {
		t.Errorf("values in a chart = %q", got)
	}
	if got := Detect("chart/Chart.yaml", true); got != "" {
		t.Errorf("Chart.yaml = %q", got)
	}
}

func TestIgnored(t *testing.T) {
	t.Parallel()
	got := ParseIgnores([]byte("FROM a # stet:ignore STET001 vendored\n# stet:ignore STET002,STET003 why\nx: y\n  # stet:ignore\nurl: http://x/#stet:ignore-me\n"))
	want := map[int][]string{1: {"STET001"}, 2: {"STET002", "STET003"}, 3: {"STET002", "STET003"}, 4: {}, 5: {}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got)\n%s", diff)
	}
	f := File{Ignores: got}
	for _, tc := range []struct {
		rule string
		line int
		want bool
	}{{"STET001", 1, true}, {"STET001", 2, false}, {"STET002", 2, true}, {"STET004", 2, false}, {"STET002", 3, true}, {"STET009", 5, true}, {"STET001", 6, false}} {
		if f.Ignored(tc.rule, tc.line) != tc.want {
			t.Errorf("Ignored(%s, %d) = %v", tc.rule, tc.line, !tc.want)
		}
	}
}

func TestWalkNamedDirectoryInsideIgnores(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, map[string]string{
		".gitignore":               "generated/\n",
		"generated/Dockerfile":     "FROM gen\n",
		"third_party/Dockerfile":   "FROM vendored\n",
		"third_party/x/.gitignore": "skip.yaml\n",
		"third_party/x/skip.yaml":  "FROM no\n",
		"Dockerfile":               "FROM top\n",
	})
	if err := os.Mkdir(filepath.Join(root, ".git"), 0o755); err != nil {
		t.Fatal(err)
	}
	chdir(t, root)
	opts := Options{Scanners: testScanners(), Ignore: []string{"third_party/**"}, IgnoreDir: root}
	rep, err := Walk(context.Background(), []string{"third_party", "generated"}, opts)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"generated/Dockerfile=dockerfile", "third_party/Dockerfile=dockerfile"}
	if diff := cmp.Diff(want, paths(rep)); diff != "" {
		t.Errorf("named ignored directories are scanned, rules below them still apply (-want +got)\n%s", diff)
	}
	rep, err = Walk(context.Background(), nil, opts)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"Dockerfile=dockerfile"}, paths(rep)); diff != "" {
		t.Errorf("from the root, ignores apply (-want +got)\n%s", diff)
	}
}
