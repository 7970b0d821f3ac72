package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParse(t *testing.T) {
	t.Parallel()
	c, err := Parse(".stet.yaml", []byte(`ignore: ["testdata/**"]
rules: {STET020: warning, STET027: off}
registries:
  mirrors: {docker.io: "mirror.internal:5000/dockerhub"}
  insecure: ["registry.local:5000"]
  concurrency: 8
actions:
  gitURL: http://127.0.0.1:8080
`))
	if err != nil {
		t.Fatal(err)
	}
	want := &Config{
		Ignore:      []string{"testdata/**"},
		Rules:       map[string]string{"STET020": "warning", "STET027": "off"},
		MaxFileSize: DefaultMaxFileSize,
		Registries: Registries{
			Mirrors:     map[string]string{"docker.io": "mirror.internal:5000/dockerhub"},
			Insecure:    []string{"registry.local:5000"},
			Concurrency: 8,
		},
		Actions: Actions{GitURL: "http://127.0.0.1:8080"},
	}
	if diff := cmp.Diff(want, c); diff != "" {
		t.Errorf("(-want +got)\n%s", diff)
	}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"rule: {STET001: off}\n", `x.yaml:1: unknown key "rule"`},
		{"rules: {STET001: fatal}\n", `severity "fatal"`},
		{"ignore: [\n", "x.yaml:1: did not find expected node content"},
		{"maxFileSize: -1\n", "maxFileSize"},
	} {
		_, err := Parse("x.yaml", []byte(tc.in))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Parse(%q) = %v, want error containing %q", tc.in, err, tc.want)
		}
	}
}

func TestFind(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	sub := filepath.Join(root, "a", "b")
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(root, ".git"), 0o755); err != nil {
		t.Fatal(err)
	}
	c, err := Find(sub)
	if err != nil {
		t.Fatal(err)
	}
	if c.Path != "" || c.Dir != root {
		t.Errorf("without a file: Path=%q Dir=%q, want defaults at %q", c.Path, c.Dir, root)
	}
	if err := os.WriteFile(filepath.Join(root, FileName), []byte("ignore: [x]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err = Find(sub)
	if err != nil {
		t.Fatal(err)
	}
	if c.Path != filepath.Join(root, FileName) || len(c.Ignore) != 1 {
		t.Errorf("Find = %+v, want the root's file", c)
	}
}
