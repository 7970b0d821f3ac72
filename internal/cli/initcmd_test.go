package cli

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/spf13/cobra"
	"golang.org/x/tools/txtar"

	"github.com/stet-dev/stet/config"
	"github.com/stet-dev/stet/ref"
	"github.com/stet-dev/stet/rules"
	"github.com/stet-dev/stet/scan"
	"github.com/stet-dev/stet/scan/formats"
)

// initOutputs are every file stet init may write.
var initOutputs = []string{config.FileName, initGitHubWorkflow, initGitLabJob}

// TestInit runs stet init over the trees in testdata/init/*.txtar. The
// archive comment's first line is the command (its DIR argument is the
// tree); the files form the tree; "stdout" holds the expected output and
// "want/PATH" the expected content of each file init may write (absent:
// the file must not exist afterwards). -update rewrites both. Every case
// is then run a second time, which must change nothing.
func TestInit(t *testing.T) {
	cases, err := filepath.Glob(filepath.Join("testdata", "init", "*.txtar"))
	if err != nil || len(cases) == 0 {
		t.Fatalf("no init cases: %v", err)
	}
	for _, file := range cases {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txtar"), func(t *testing.T) {
			t.Parallel()
			ar, err := txtar.ParseFile(file)
			if err != nil {
				t.Fatal(err)
			}
			args := strings.Fields(strings.SplitN(string(ar.Comment), "\n", 2)[0])
			if len(args) < 2 || args[0] != "stet" || args[1] != "init" {
				t.Fatalf("first comment line %q: want a stet init command", args)
			}
			dir := t.TempDir()
			want := map[string]string{}
			var tree []txtar.File
			for _, f := range ar.Files {
				if f.Name == "stdout" || strings.HasPrefix(f.Name, "want/") {
					want[f.Name] = string(f.Data)
					continue
				}
				tree = append(tree, f)
				writeInitFile(t, dir, f.Name, f.Data)
			}
			before := readOutputs(t, dir)
			args = append(args[1:], dir)

			code, stdout, stderr := runStet(t, args...)
			if code != ExitOK || stderr != "" {
				t.Fatalf("stet %s: exit %d, stderr:\n%s", strings.Join(args, " "), code, stderr)
			}
			got := map[string]string{"stdout": stdout}
			after := readOutputs(t, dir)
			for p, data := range after {
				got["want/"+p] = data
			}
			if *update {
				files := tree
				names := make([]string, 0, len(got))
				for n := range got {
					names = append(names, n)
				}
				slices.Sort(names)
				for _, n := range names {
					files = append(files, txtar.File{Name: n, Data: []byte(got[n])})
				}
				ar.Files = files
				if err := os.WriteFile(file, txtar.Format(ar), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("stet %s (-want +got):\n%s", strings.Join(args[:len(args)-1], " "), diff)
			}

			// Whatever init wrote must be settings stet accepts.
			if data, ok := after[config.FileName]; ok {
				if _, err := config.Parse(config.FileName, []byte(data)); err != nil {
					t.Errorf("written %s does not parse: %v", config.FileName, err)
				}
				// Its advice is to uncomment proposed ignores: that must
				// parse too.
				uncommented := strings.ReplaceAll(data, "  # - ", "  - ")
				if _, err := config.Parse(config.FileName, []byte(uncommented)); err != nil {
					t.Errorf("%s with its proposed ignores uncommented does not parse: %v\n%s", config.FileName, err, uncommented)
				}
			}

			// A second run writes nothing and says so.
			code, stdout, stderr = runStet(t, args...)
			if code != ExitOK || stderr != "" {
				t.Fatalf("second run: exit %d, stderr:\n%s", code, stderr)
			}
			if diff := cmp.Diff(after, readOutputs(t, dir)); diff != "" {
				t.Errorf("second run changed files (-first +second):\n%s", diff)
			}
			if slices.Contains(args, "--dry-run") {
				if diff := cmp.Diff(before, after); diff != "" {
					t.Errorf("--dry-run wrote files (-before +after):\n%s", diff)
				}
			} else if !strings.Contains(stdout, "\nnothing to change\n") {
				t.Errorf("second run does not say it changed nothing:\n%s", stdout)
			}
		})
	}
}

// TestInitIgnoresMakeCheckClean: after stet init the fixtures it proposed
// to ignore no longer count, and what is left is exactly what init said
// stet check would report.
func TestInitIgnoresMakeCheckClean(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeInitFile(t, dir, "Dockerfile", []byte("FROM alpine:3.24.1@sha256:28bd5fe8b56d1bd048e5babf5b10710ebe0bae67db86916198a6eec434943f8b\n"))
	writeInitFile(t, dir, "testdata/Dockerfile", []byte("FROM nginx:1-alpine\n"))
	writeInitFile(t, dir, "pkg/scan/testdata/bad/compose.yaml", []byte("services: [\n"))
	writeInitFile(t, dir, "third_party/x/deploy.yaml", []byte("apiVersion: v1\nkind: Pod\nspec:\n  containers:\n    - image: busybox\n"))

	code, before, _ := runStet(t, "check", dir)
	if code != ExitUsage {
		t.Fatalf("check before init: exit %d, want %d (a fixture does not parse)\n%s", code, ExitUsage, before)
	}
	if code, out, errOut := runStet(t, "init", dir); code != ExitOK || !strings.Contains(out, "next: stet check is clean") {
		t.Fatalf("init: exit %d\n%s%s", code, out, errOut)
	}
	code, out, errOut := runStet(t, "check", "--config", filepath.Join(dir, config.FileName), dir)
	if code != ExitOK {
		t.Errorf("check after init: exit %d, want 0\n%s%s", code, out, errOut)
	}
}

// TestInitUsage covers the arguments init refuses.
func TestInitUsage(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeInitFile(t, dir, "file", []byte("x"))
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"unknown ci", []string{"init", "--ci", "jenkins", dir}, `--ci "jenkins": want github or gitlab`},
		{"not a directory", []string{"init", filepath.Join(dir, "file")}, "is not a directory"},
		{"missing", []string{"init", filepath.Join(dir, "nope")}, "is not a directory"},
		{"two dirs", []string{"init", dir, dir}, "accepts at most 1 arg"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := runStet(t, tc.args...)
			if code != ExitUsage || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d, stderr %q; want exit %d mentioning %q", code, stderr, ExitUsage, tc.want)
			}
			if _, err := os.Stat(filepath.Join(dir, config.FileName)); err == nil {
				t.Errorf("a refused init wrote %s", config.FileName)
			}
		})
	}
}

// TestInitCIFiles scans the generated CI files with stet's own scanners and
// rules: built from a known commit they have no finding; from a development
// build only the stet action is left to pin, and the workflow says how.
func TestInitCIFiles(t *testing.T) {
	t.Parallel()
	const sha = "0123456789abcdef0123456789abcdef01234567"
	for _, tc := range []struct {
		name     string
		v        versionInfo
		wantRefs []string // findings, as rule:reference
		wantUses string
		wantGo   string
	}{
		{"release", versionInfo{Version: "v1.4.0", Commit: sha}, nil, "stet-dev/stet@" + sha + " # v1.4.0", "v1.4.0"},
		{"checkout", versionInfo{Version: "(devel)", Commit: sha}, nil, "stet-dev/stet@" + sha, sha},
		{"modified checkout", versionInfo{Version: "(devel)", Commit: sha, Modified: true}, []string{"STET003:stet-dev/stet@main"}, "stet-dev/stet@main", "main"},
		{"go install", versionInfo{Version: "v1.4.0"}, []string{"STET003:stet-dev/stet@v1.4.0"}, "stet-dev/stet@v1.4.0", "v1.4.0"},
		{"pseudo-version", versionInfo{Version: "v0.0.0-20261125210000-0123456789ab"}, []string{"STET003:stet-dev/stet@main"}, "stet-dev/stet@main", "main"},
		{"prerelease", versionInfo{Version: "v1.5.0-rc.1", Commit: sha}, nil, "stet-dev/stet@" + sha + " # v1.5.0-rc.1", "v1.5.0-rc.1"},
		{"devel", versionInfo{Version: "(devel)"}, []string{"STET003:stet-dev/stet@main"}, "stet-dev/stet@main", "main"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			wf := renderGitHubWorkflow(tc.v, "main")
			job := renderGitLabJob(tc.v)
			writeInitFile(t, dir, initGitHubWorkflow, wf)
			writeInitFile(t, dir, initGitLabJob, job)
			rep, err := scan.Walk(context.Background(), []string{dir}, scan.Options{Scanners: formats.Default()})
			if err != nil {
				t.Fatal(err)
			}
			if len(rep.Files) != 2 {
				t.Fatalf("scanned %d files, want the workflow and the job", len(rep.Files))
			}
			var got []string
			for _, f := range rep.Files {
				if f.Err != nil {
					t.Errorf("%s: %v", f.Path, f.Err)
				}
			}
			for _, f := range rules.Check(rep.Files, rules.Config{}) {
				got = append(got, f.Rule+":"+f.Reference)
			}
			if diff := cmp.Diff(tc.wantRefs, got); diff != "" {
				t.Errorf("findings (-want +got):\n%s", diff)
			}
			if !strings.Contains(string(wf), "- uses: "+tc.wantUses+"\n") {
				t.Errorf("workflow does not use %s:\n%s", tc.wantUses, wf)
			}
			if pinned := tc.wantRefs == nil; pinned == strings.Contains(string(wf), "stet pin "+initGitHubWorkflow) {
				t.Errorf("workflow tells to run stet pin: %v, want %v", !pinned, pinned)
			}
			if !strings.Contains(string(job), `STET_VERSION: "`+tc.wantGo+`"`) {
				t.Errorf("GitLab job does not install %s:\n%s", tc.wantGo, job)
			}
		})
	}
}

// TestInitCorpus surveys the corpus of real repositories' files: the
// settings init writes for it must parse, and must ignore nothing the
// corpus needs (it has no fixture directory at its root).
func TestInitCorpus(t *testing.T) {
	t.Parallel()
	corpus := filepath.Join("..", "..", "testdata", "corpus")
	cmd := &cobra.Command{}
	cmd.SetContext(context.Background())
	s, err := surveyRepo(cmd, &app{stderr: io.Discard}, corpus, initOutputs)
	if err != nil {
		t.Fatal(err)
	}
	if s.files < 100 || s.refs < 500 {
		t.Errorf("surveyed %d files and %d references; the corpus has more", s.files, s.refs)
	}
	for _, ft := range formatTitles {
		if ft.source == ref.SourceHelm {
			continue // the corpus keeps values files without their Chart.yaml
		}
		if s.formats[ft.source] == nil {
			t.Errorf("no %s found in the corpus", ft.title)
		}
	}
	data := renderSettings(s)
	c, err := config.Parse("corpus/"+config.FileName, data)
	if err != nil {
		t.Fatalf("settings for the corpus do not parse: %v\n%s", err, data)
	}
	// buildkit's parser cases live in testfiles/ directories.
	if !slices.Contains(c.Ignore, "**/testfiles/**") {
		t.Errorf("ignore = %q, want **/testfiles/** for buildkit's parser cases", c.Ignore)
	}
}

func runStet(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = Run(context.Background(), args, strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

func writeInitFile(t *testing.T, dir, name string, data []byte) {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// readOutputs returns the content of each file init may write that exists.
func readOutputs(t *testing.T, dir string) map[string]string {
	t.Helper()
	m := map[string]string{}
	for _, p := range initOutputs {
		data, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(p)))
		if err == nil {
			m[p] = string(data)
		} else if !os.IsNotExist(err) {
			t.Fatal(err)
		}
	}
	return m
}

// TestInitCompletion: the shell completes --ci with the CI systems init
// writes jobs for.
func TestInitCompletion(t *testing.T) {
	t.Parallel()
	code, stdout, stderr := runStet(t, "__complete", "init", "--ci", "")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	got := strings.Split(strings.TrimSpace(stdout), "\n")
	want := []string{"github", "gitlab", ":4"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("completions (-want +got):\n%s", diff)
	}
}
