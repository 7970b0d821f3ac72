package integration

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stet-dev/stet/internal/cli"
)

// stetBin is a stet binary built from this module for the test run, the
// way the action builds it (CGO off, -trimpath); moduleRoot is the
// directory holding action.yml.
var stetBin, moduleRoot string

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	moduleRoot = root
	dir, err := os.MkdirTemp("", "stet-integration-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	stetBin = filepath.Join(dir, "stet")
	build := exec.Command("go", "build", "-trimpath", "-o", stetBin, "./cmd/stet")
	build.Dir = moduleRoot
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building stet: %v\n%s", err, out)
		return 1
	}
	return m.Run()
}

// runBinary runs the built stet (or another program) in dir and returns its
// exit status and combined output.
func runBinary(t *testing.T, dir string, env []string, name string, args ...string) (int, string) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0, out.String()
	case errors.As(err, &ee):
		return ee.ExitCode(), out.String()
	}
	t.Fatalf("running %s: %v", name, err)
	return -1, ""
}

// stetInProcess runs stet's command line in this process.
func stetInProcess(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = cli.Run(context.Background(), args, strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

// fixture writes files into a new git work tree and returns its directory.
// A work tree of its own keeps stet from finding this repository's
// .stet.yaml above it.
func fixture(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, data := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if code, out := runBinary(t, dir, nil, "git", "init", "-q"); code != 0 {
		t.Fatalf("git init: %s", out)
	}
	return dir
}

// corpusText is every file of testdata/corpus, concatenated: the public
// files that pinned commits and digests must come from.
func corpusText(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	err := filepath.WalkDir(filepath.Join(moduleRoot, "testdata", "corpus"), func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		b.Write(data)
		b.WriteByte('\n')
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}
