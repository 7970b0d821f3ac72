package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/tools/txtar"
)

// TestScripts runs the offline commands in-process over the cases in
// testdata/script/*.txtar. Each archive's comment holds the command line
// (one per line, run in order); its files form the work tree; the sections
// "stdout", "stderr" and "exit" hold the expected results of the last
// command and are rewritten by -update.
func TestScripts(t *testing.T) {
	cases, err := filepath.Glob(filepath.Join("testdata", "script", "*.txtar"))
	if err != nil || len(cases) == 0 {
		t.Fatalf("no script cases: %v", err)
	}
	for _, file := range cases {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txtar"), func(t *testing.T) {
			ar, err := txtar.ParseFile(file)
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			want := map[string]string{}
			for _, f := range ar.Files {
				switch f.Name {
				case "stdout", "stderr", "exit":
					want[f.Name] = string(f.Data)
					continue
				}
				p := filepath.Join(dir, filepath.FromSlash(f.Name))
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, f.Data, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			t.Chdir(dir)
			t.Setenv("NO_COLOR", "")
			t.Setenv("DOCKER_CONFIG", t.TempDir())
			var got map[string]string
			for _, line := range strings.Split(strings.TrimSpace(string(ar.Comment)), "\n") {
				args := strings.Fields(line)
				if len(args) == 0 || args[0] != "stet" {
					t.Fatalf("comment line %q: want a stet command", line)
				}
				var out, errb bytes.Buffer
				code := Run(context.Background(), args[1:], strings.NewReader(""), &out, &errb)
				got = map[string]string{"stdout": out.String(), "stderr": errb.String(), "exit": strconv.Itoa(code) + "\n"}
			}
			if *update {
				var files []txtar.File
				for _, f := range ar.Files {
					if _, ok := want[f.Name]; !ok {
						files = append(files, f)
					}
				}
				for _, name := range []string{"stdout", "stderr", "exit"} {
					if got[name] != "" {
						files = append(files, txtar.File{Name: name, Data: []byte(got[name])})
					}
				}
				ar.Files = files
				if err := os.WriteFile(filepath.Join(origDir, file), txtar.Format(ar), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			for _, name := range []string{"stdout", "stderr", "exit"} {
				if got[name] != want[name] {
					t.Errorf("%s:\n--- want\n%s--- got\n%s", name, want[name], got[name])
				}
			}
		})
	}
}

var origDir, _ = os.Getwd()
