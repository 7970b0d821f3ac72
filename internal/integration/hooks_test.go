package integration

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"gopkg.in/yaml.v3"

	"github.com/stet-dev/stet/internal/testregistry"
	"github.com/stet-dev/stet/scan"
)

// hook is one entry of .pre-commit-hooks.yaml, with the keys pre-commit
// documents for hook definitions that this file uses.
type hook struct {
	ID                     string   `yaml:"id"`
	Name                   string   `yaml:"name"`
	Description            string   `yaml:"description"`
	Entry                  string   `yaml:"entry"`
	Language               string   `yaml:"language"`
	PassFilenames          *bool    `yaml:"pass_filenames"`
	Files                  string   `yaml:"files"`
	RequireSerial          bool     `yaml:"require_serial"`
	MinimumPreCommit       string   `yaml:"minimum_pre_commit_version"`
	Args                   []string `yaml:"args"`
	AlwaysRun              bool     `yaml:"always_run"`
	AdditionalDependencies []string `yaml:"additional_dependencies"`
}

func loadHooks(t *testing.T) map[string]hook {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(moduleRoot, ".pre-commit-hooks.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	dec.KnownFields(true)
	var hooks []hook
	if err := dec.Decode(&hooks); err != nil {
		t.Fatalf(".pre-commit-hooks.yaml: %v", err)
	}
	m := map[string]hook{}
	for _, h := range hooks {
		if _, dup := m[h.ID]; dup {
			t.Errorf("hook %s defined twice", h.ID)
		}
		m[h.ID] = h
	}
	return m
}

// TestHooksDefinition checks the hook definitions: the two hooks, built
// with Go, checking the whole repository (pass_filenames: false, the
// documented decision), with a files pattern pre-commit's Python and Go
// agree on.
func TestHooksDefinition(t *testing.T) {
	hooks := loadHooks(t)
	want := map[string]string{"stet-check": "stet check", "stet-verify-offline": "stet verify --offline"}
	got := map[string]string{}
	for id, h := range hooks {
		got[id] = h.Entry
		if h.Language != "golang" {
			t.Errorf("%s: language %q, want golang (pre-commit builds stet with go install)", id, h.Language)
		}
		if h.PassFilenames == nil || *h.PassFilenames {
			t.Errorf("%s: pass_filenames must be false: named files bypass .stet.yaml's ignores", id)
		}
		if h.Name == "" || h.Description == "" {
			t.Errorf("%s: needs a name and a description", id)
		}
		if _, err := regexp.Compile(h.Files); err != nil || h.Files == "" {
			t.Errorf("%s: files %q: %v", id, h.Files, err)
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("hooks and entries (-want +got):\n%s", diff)
	}
}

// TestHooksFilesPattern: the hooks must run whenever a file stet reads
// changes. Every file of the corpus (by its path in its own repository and
// in the corpus) and every name stet recognises must match the pattern;
// files stet never reads should not.
func TestHooksFilesPattern(t *testing.T) {
	tsv, err := os.ReadFile(filepath.Join(moduleRoot, "testdata", "corpus", "SOURCES.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for i, line := range strings.Split(strings.TrimSpace(string(tsv)), "\n") {
		f := strings.Split(line, "\t")
		if i == 0 || len(f) < 4 {
			continue
		}
		paths = append(paths, f[0], f[3])
	}
	if len(paths) < 200 {
		t.Fatalf("only %d corpus paths", len(paths))
	}
	paths = append(paths, "Dockerfile", "dockerfile", "svc/Containerfile", "build/app.Dockerfile", "build/app.containerfile", "Containerfile.dev", "Dockerfile.prod",
		"deploy/app.YML", "chart/values-prod.yaml", ".gitlab/ci/build.yml", ".stet.yaml", "stet.lock", "sub/stet.lock")
	never := []string{"README.md", "main.go", "go.sum", "Dockerfile.d/notes", "docs/stet.lock.md", "yaml.go"}
	for id, h := range loadHooks(t) {
		re := regexp.MustCompile(h.Files)
		for _, p := range paths {
			// Detect says which paths stet reads; stet.lock it reads itself.
			reads := scan.Detect(p, true) != "" || filepath.Base(p) == "stet.lock"
			if reads && !re.MatchString(p) {
				t.Errorf("%s: files pattern misses %s, which stet reads", id, p)
			}
		}
		for _, p := range never {
			if re.MatchString(p) {
				t.Errorf("%s: files pattern matches %s, which stet never reads", id, p)
			}
		}
	}
}

// TestHooksRun runs each hook's entry as pre-commit does (in the root of
// the repository, no file names) with the stet binary pre-commit would have
// built, against fixture repositories.
func TestHooksRun(t *testing.T) {
	host := testregistry.New(t)
	digest := testregistry.Push(t, host+"/library/nginx:1-alpine", testregistry.Image(t, ""))
	mirror := "registries:\n  mirrors:\n    docker.io: " + host + "\n"
	env := []string{"DOCKER_CONFIG=" + t.TempDir(), "NO_COLOR=1"}

	// A repository locked against the registry; its copies then drift.
	locked := func(t *testing.T, dockerfile string) string {
		dir := fixture(t, map[string]string{
			".stet.yaml": mirror,
			"Dockerfile": "FROM nginx:1-alpine@" + digest + "\n",
		})
		if code, out := runBinary(t, dir, env, stetBin, "lock"); code != 0 {
			t.Fatalf("stet lock: exit %d\n%s", code, out)
		}
		if dockerfile != "" {
			if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(dockerfile), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return dir
	}
	other := "sha256:" + strings.Repeat("ab", 32)

	hooks := loadHooks(t)
	for _, tc := range []struct {
		name, hook string
		repo       func(t *testing.T) string
		exit       int
		contains   string
	}{
		{"check clean", "stet-check", func(t *testing.T) string {
			return fixture(t, map[string]string{"Dockerfile": pinnedDockerfile, "testdata/Dockerfile": incident, ".stet.yaml": "ignore: [testdata/**]\n"})
		}, 0, "0 errors, 0 warnings in 1 file"},
		{"check incident", "stet-check", func(t *testing.T) string {
			return fixture(t, map[string]string{"Dockerfile": incident})
		}, 1, "Dockerfile:2:6: STET001 image nginx:1-alpine is not pinned by digest (error)"},
		{"check broken file", "stet-check", func(t *testing.T) string {
			return fixture(t, map[string]string{"compose.yaml": "services: [\n"})
		}, 2, "compose.yaml:"},
		{"verify agrees", "stet-verify-offline", func(t *testing.T) string { return locked(t, "") }, 0, ""},
		{"verify other digest", "stet-verify-offline", func(t *testing.T) string {
			return locked(t, "FROM nginx:1-alpine@"+other+"\n")
		}, 1, "STET010"},
		{"verify new reference", "stet-verify-offline", func(t *testing.T) string {
			return locked(t, "FROM nginx:1-alpine@"+digest+"\nFROM "+pinnedDockerfile[len("FROM "):])
		}, 1, "STET010"},
		{"verify without lock", "stet-verify-offline", func(t *testing.T) string {
			return fixture(t, map[string]string{"Dockerfile": pinnedDockerfile})
		}, 2, "no lock at stet.lock"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, ok := hooks[tc.hook]
			if !ok {
				t.Fatalf("no hook %s", tc.hook)
			}
			args := append(strings.Fields(h.Entry), h.Args...)
			if args[0] != "stet" {
				t.Fatalf("%s: entry %q does not run stet", tc.hook, h.Entry)
			}
			code, out := runBinary(t, tc.repo(t), env, stetBin, args[1:]...)
			if code != tc.exit || !strings.Contains(out, tc.contains) {
				t.Errorf("%s: exit %d, want %d with %q\n%s", h.Entry, code, tc.exit, tc.contains, out)
			}
		})
	}
}
