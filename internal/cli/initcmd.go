package cli

import (
	"bytes"
	"cmp"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/stet-dev/stet/config"
	"github.com/stet-dev/stet/edit"
	"github.com/stet-dev/stet/ref"
	"github.com/stet-dev/stet/rules"
	"github.com/stet-dev/stet/scan"
	"github.com/stet-dev/stet/scan/formats"
)

// Paths stet init writes, relative to the repository root.
const (
	initGitHubWorkflow = ".github/workflows/stet.yml"
	initGitLabJob      = ".gitlab/ci/stet.yml"
)

// Pinned dependencies of the generated CI jobs. They are the same commits
// and digests stet's own files use; `stet update` moves them like any other.
const (
	initCheckoutAction = "actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1 # v7.0.1"
	initGoImage        = "docker.io/library/golang:1.26.6@sha256:640a234f4bea3e399c056b7b8f9c667c4939befae8db2f14e9785e16eccd4205"
	stetRepository     = "stet-dev/stet"
	stetModule         = "github.com/stet-dev/stet"
)

func newInitCmd(a *app) *cobra.Command {
	var (
		ci            string
		force, dryRun bool
	)
	cmd := &cobra.Command{
		Use:   "init [DIR]",
		Short: "Write a commented .stet.yaml fitted to the repository, and a CI job",
		Long: `Init looks at the repository in DIR (default: the current directory), the
way stet check would, and writes a .stet.yaml that names the formats it uses,
proposes to ignore test fixtures and vendored trees that hold configuration
files, and shows every other setting commented with its default.

With --ci github it also writes .github/workflows/stet.yml, a workflow that
runs the stet GitHub Action on pull requests; with --ci gitlab,
.gitlab/ci/stet.yml, a job to include from .gitlab-ci.yml. Every action and
image they use is pinned, except the stet action itself when this stet was
built without a version: it is written as stet-dev/stet@main with a comment
to pin it (stet pin does).

DIR should be the root of the repository: that is where stet looks for
.stet.yaml and where GitHub and GitLab look for CI files.

Init is idempotent: a file whose content would not change is left alone and
reported as up to date. It never replaces a file that differs without
--force; --dry-run prints what it would write (a diff for files that exist)
and writes nothing. Files are written atomically.`,
		Example: `  stet init
  stet init --ci github
  stet init --ci gitlab --dry-run`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := "."
			if len(args) == 1 {
				dir = args[0]
			}
			if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
				return usageErrorf("init: %s is not a directory", dir)
			}
			var ciFile string
			switch ci {
			case "":
			case "github":
				ciFile = initGitHubWorkflow
			case "gitlab":
				ciFile = initGitLabJob
			default:
				return usageErrorf("--ci %q: want github or gitlab", ci)
			}
			s, err := surveyRepo(cmd, a, dir, []string{config.FileName, initGitHubWorkflow, initGitLabJob})
			if err != nil {
				return err
			}
			v := readVersion()
			files := []initFile{{Path: config.FileName, Data: renderSettings(s)}}
			switch ciFile {
			case initGitHubWorkflow:
				files = append(files, initFile{Path: ciFile, Data: renderGitHubWorkflow(v, s.branch)})
			case initGitLabJob:
				files = append(files, initFile{Path: ciFile, Data: renderGitLabJob(v)})
			}
			if err := writeInit(cmd.OutOrStdout(), dir, s, files, v, force, dryRun); err != nil {
				return err
			}
			if ci == "" && !dryRun {
				suggestCI(cmd.OutOrStdout(), dir)
			}
			return nil
		},
	}
	cmd.ValidArgsFunction = func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return nil, cobra.ShellCompDirectiveFilterDirs
	}
	cmd.Flags().StringVar(&ci, "ci", "", "also write a CI job: github or gitlab")
	_ = cmd.RegisterFlagCompletionFunc("ci", cobra.FixedCompletions([]string{"github", "gitlab"}, cobra.ShellCompDirectiveNoFileComp))
	cmd.Flags().BoolVar(&force, "force", false, "replace files that exist and differ")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "print what would be written; write nothing")
	return cmd
}

// initFile is one file init writes, relative to the repository root.
type initFile struct {
	Path string
	Data []byte
}

// survey is what init learned about a repository.
type survey struct {
	files, refs, pinned, unreadable int
	formats                         map[string]*formatStat
	// ignore are globs proposed for .stet.yaml; maybe are offered commented.
	ignore, maybe []ignoreHint
	// hosts counts image references per registry host.
	hosts map[string]int
	// errs and warnings are what stet check reports once ignore applies;
	// unpinned counts the references `stet pin` would pin.
	errs, warnings, unpinned int
	// broken are the files outside the ignores that do not parse.
	broken []string
	branch string
}

type formatStat struct{ files, refs, pinned int }

// ignoreHint proposes to ignore every directory with one name.
type ignoreHint struct {
	name, glob, why string
	files, refs     int
}

// Directories whose configuration files are test inputs or other people's
// code: proposed as ignores.
var fixtureDirs = map[string]string{
	"testdata":     "test fixtures",
	"test-data":    "test fixtures",
	"fixtures":     "test fixtures",
	"__fixtures__": "test fixtures",
	"testfiles":    "test fixtures",
	"third_party":  "vendored code",
	"third-party":  "vendored code",
}

// Directories that may or may not be deployed: offered commented out.
var exampleDirs = map[string]bool{
	"examples": true, "example": true, "samples": true, "sample": true, "demo": true, "demos": true,
}

// formatTitles name the formats for people, in the order they are listed.
var formatTitles = []struct{ source, title string }{
	{ref.SourceDockerfile, "Dockerfiles"},
	{ref.SourceCompose, "Compose files"},
	{ref.SourceKube, "Kubernetes manifests"},
	{ref.SourceHelm, "Helm values"},
	{ref.SourceKustomize, "Kustomize files"},
	{ref.SourceActions, "GitHub Actions workflows"},
	{ref.SourceGitLab, "GitLab CI files"},
}

// surveyRepo walks dir as stet check would, except that no .stet.yaml
// ignore applies (init is writing it) and the files init writes do not
// count, so that a second run sees what the first one saw.
func surveyRepo(cmd *cobra.Command, a *app, dir string, outputs []string) (*survey, error) {
	rep, err := scan.Walk(cmd.Context(), []string{dir}, scan.Options{
		Scanners:    formats.Default(),
		MaxFileSize: config.DefaultMaxFileSize,
		Logger:      a.logger,
	})
	if err != nil {
		return nil, fmt.Errorf("surveying %s: %w", dir, err)
	}
	for _, w := range rep.Warnings {
		fmt.Fprintf(a.stderr, "stet: warning: %s\n", w)
	}
	s := &survey{formats: map[string]*formatStat{}, hosts: map[string]int{}, branch: defaultBranch(dir)}
	hints := map[string]*ignoreHint{}
	var kept []scan.File
	for _, f := range rep.Files {
		rel := initRel(dir, f.Path)
		if slices.Contains(outputs, rel) || f.Source == "" {
			continue
		}
		s.files++
		st := s.formats[f.Source]
		if st == nil {
			st = &formatStat{}
			s.formats[f.Source] = st
		}
		st.files++
		if f.Err != nil {
			s.unreadable++
		}
		pinned := 0
		for _, r := range f.Refs {
			if r.Digest != "" {
				pinned++
			}
			if r.Kind == ref.Image && !r.Dynamic {
				if host, _, _ := strings.Cut(r.Name, "/"); host != "" {
					s.hosts[host]++
				}
			}
		}
		s.refs += len(f.Refs)
		s.pinned += pinned
		st.refs += len(f.Refs)
		st.pinned += pinned
		if h := hintFor(rel, hints); h != nil {
			h.files++
			h.refs += len(f.Refs)
			if h.why != "" {
				continue // ignored: not counted in what check will report
			}
		}
		if f.Err != nil {
			s.broken = append(s.broken, rel)
		}
		kept = append(kept, f)
	}
	for _, h := range hints {
		if h.why != "" {
			s.ignore = append(s.ignore, *h)
		} else {
			s.maybe = append(s.maybe, *h)
		}
	}
	byGlob := func(a, b ignoreHint) int { return cmp.Compare(a.glob, b.glob) }
	slices.SortFunc(s.ignore, byGlob)
	slices.SortFunc(s.maybe, byGlob)
	for _, f := range rules.Check(kept, rules.Config{}) {
		switch f.Severity {
		case rules.Error:
			s.errs++
		case rules.Warning:
			s.warnings++
		}
	}
	for _, f := range kept {
		for _, r := range f.Refs {
			if r.Digest == "" && !r.Dynamic {
				s.unpinned++
			}
		}
	}
	return s, nil
}

// hintFor records rel under the fixture or example directory it lies in,
// the outermost one, and returns that directory's hint (nil for none).
func hintFor(rel string, hints map[string]*ignoreHint) *ignoreHint {
	parts := strings.Split(path.Dir(rel), "/")
	for i, p := range parts {
		why, fixture := fixtureDirs[p]
		if !fixture && !exampleDirs[p] {
			continue
		}
		h := hints[p]
		if h == nil {
			h = &ignoreHint{name: p, why: why, glob: p + "/**"}
			hints[p] = h
		}
		if i > 0 {
			// One glob for every directory of that name, wherever it is.
			h.glob = "**/" + p + "/**"
		}
		return h
	}
	return nil
}

// initRel makes a walked path relative to the directory init surveys.
func initRel(dir, p string) string {
	if r, err := filepath.Rel(dir, filepath.FromSlash(p)); err == nil {
		return filepath.ToSlash(r)
	}
	return p
}

// defaultBranch reads the branch origin's HEAD names, the one pushes to
// which should run stet; "main" when the clone does not record it.
func defaultBranch(dir string) string {
	data, err := os.ReadFile(filepath.Join(dir, ".git", "refs", "remotes", "origin", "HEAD"))
	if err == nil {
		if b, ok := strings.CutPrefix(strings.TrimSpace(string(data)), "ref: refs/remotes/origin/"); ok && b != "" && !strings.ContainsAny(b, " \t'\"{}[]:#") {
			return b
		}
	}
	return "main"
}

// renderSettings writes .stet.yaml: what init found, as comments, the
// proposed ignores, and every other setting commented with its default.
func renderSettings(s *survey) []byte {
	var b bytes.Buffer
	b.WriteString(`# stet settings (https://github.com/stet-dev/stet), written by stet init.
# Every key is optional; commented lines show the defaults.
`)
	if len(s.formats) > 0 {
		b.WriteString("#\n# Formats stet reads in this repository:\n")
		for _, ft := range formatTitles {
			if _, ok := s.formats[ft.source]; ok {
				fmt.Fprintf(&b, "#   %s\n", ft.title)
			}
		}
	} else {
		b.WriteString("#\n# stet found no file it reads in this repository yet.\n")
	}

	b.WriteString(`
# Paths never scanned: gitignore-style globs relative to this file.
# Git-ignored files, .git, node_modules and vendor are skipped anyway.
`)
	// A bare "ignore:" (null, no globs) stays valid YAML whichever of the
	// commented items below are uncommented.
	b.WriteString("ignore:\n")
	if len(s.ignore) == 0 && len(s.maybe) == 0 {
		b.WriteString("  # - \"testdata/**\"\n")
	} else {
		for _, h := range s.ignore {
			fmt.Fprintf(&b, "  # %s/: %s\n  - %q\n", h.name, h.why, h.glob)
		}
		for _, h := range s.maybe {
			fmt.Fprintf(&b, "  # %s/: uncomment if nothing there is ever deployed\n  # - %q\n", h.name, h.glob)
		}
	}

	b.WriteString(`
# Rule severities: error, warning or off (docs/rules.md). One finding is
# silenced where it is with a "# stet:ignore STET001 reason" comment.
rules:
`)
	for _, r := range rules.Catalogue() {
		fmt.Fprintf(&b, "  # %s: %-8s # %s\n", r.ID, r.Severity, strings.ReplaceAll(r.Summary, "`", ""))
	}

	b.WriteString(`
# Files larger than this many bytes are skipped with a warning.
# maxFileSize: 4194304

# Registry access for pin, update, lock and verify. Credentials come from
# the Docker configuration (docker login, credential helpers).
`)
	if hosts := sortedHosts(s.hosts); len(hosts) > 0 {
		fmt.Fprintf(&b, "# The images here come from %s.\n", strings.Join(hosts, ", "))
	}
	b.WriteString(`# registries:
#   mirrors:          # serve a registry from a mirror, under an optional path
#     docker.io: mirror.internal:5000/dockerhub
#   insecure: []      # hosts reached over plain HTTP (loopback always is)
#   concurrency: 32   # requests in flight per registry

# Actions are resolved to commits with git's smart-HTTP protocol: no API
# token, no API rate limit. Private repositories need a token in
# STET_GIT_TOKEN (or GITHUB_TOKEN, sent only to github.com).
# actions:
#   gitURL: https://github.com

# Where stet release records releases: sqlite:PATH or oci://REGISTRY/REPOSITORY.
# ledger: oci://registry.example.com/team/releases
`)
	return b.Bytes()
}

// sortedHosts lists registry hosts, most used first.
func sortedHosts(m map[string]int) []string {
	hosts := make([]string, 0, len(m))
	for h := range m {
		hosts = append(hosts, h)
	}
	slices.SortFunc(hosts, func(a, b string) int {
		if c := cmp.Compare(m[b], m[a]); c != 0 {
			return c
		}
		return cmp.Compare(a, b)
	})
	return hosts
}

// stetRelease is the version stet was built as, when it is a release
// (v1.2.3); empty for development builds and pseudo-versions.
func stetRelease(v versionInfo) string {
	ver := v.Version
	if !strings.HasPrefix(ver, "v") || strings.Count(ver, "-") >= 2 || strings.ContainsAny(ver, "+ ") {
		return "" // (devel), a pseudo-version v0.0.0-2026…-abcdef, or +dirty
	}
	if strings.Count(strings.SplitN(ver, "-", 2)[0], ".") != 2 {
		return ""
	}
	return ver
}

// stetActionRef is how the generated workflow names the stet action: the
// commit this stet was built from, with its release as the version comment.
// pinned is false when no clean commit is known; the caller then says to
// run stet pin on the workflow.
func stetActionRef(v versionInfo) (uses string, pinned bool) {
	rel := stetRelease(v)
	if len(v.Commit) == 40 && !v.Modified {
		uses = stetRepository + "@" + v.Commit
		if rel != "" {
			uses += " # " + rel
		}
		return uses, true
	}
	if rel != "" {
		return stetRepository + "@" + rel, false
	}
	return stetRepository + "@main", false
}

// stetInstallVersion is what `go install` builds in the GitLab job: the
// release, else the commit (the go command accepts both), else main.
func stetInstallVersion(v versionInfo) (version string, pinned bool) {
	if rel := stetRelease(v); rel != "" {
		return rel, true
	}
	if len(v.Commit) == 40 && !v.Modified {
		return v.Commit, true
	}
	return "main", false
}

func renderGitHubWorkflow(v versionInfo, branch string) []byte {
	uses, pinned := stetActionRef(v)
	var b strings.Builder
	b.WriteString(`# stet refuses mutable container images and actions in pull requests and
# uploads its findings to code scanning. Written by stet init --ci github;
# see https://github.com/stet-dev/stet/blob/main/docs/ci.md.
name: stet

on:
  pull_request:
  push:
    branches: [` + branch + `]

permissions:
  contents: read

jobs:
  stet:
    runs-on: ubuntu-24.04
    permissions:
      contents: read
      security-events: write # upload SARIF to code scanning
    steps:
      - uses: ` + initCheckoutAction + `
        with:
          persist-credentials: false
`)
	if !pinned {
		b.WriteString("      # Pin this to a commit: stet pin " + initGitHubWorkflow + "\n")
	}
	b.WriteString(`      - uses: ` + uses + `
        with:
          paths: .
          verify: auto # stet verify runs when a stet.lock exists
`)
	return []byte(b.String())
}

func renderGitLabJob(v versionInfo) []byte {
	version, pinned := stetInstallVersion(v)
	var b strings.Builder
	b.WriteString(`# stet refuses mutable container images in merge requests. Written by
# stet init --ci gitlab; see https://github.com/stet-dev/stet/blob/main/docs/ci.md.
# Include it from .gitlab-ci.yml:
#
#   include:
#     - local: ` + initGitLabJob + `
#
# The job runs in the test stage, which GitLab's default stages have.
stet:
  stage: test
  image: ` + initGoImage + `
  variables:
`)
	if !pinned {
		b.WriteString("    # Name a release (v1.2.3) or a commit of stet here.\n")
	}
	b.WriteString(`    STET_VERSION: "` + version + `"
    # stet's go.mod may ask for a newer Go than the image has; the go command
    # then fetches that exact release, checked against the checksum database.
    GOTOOLCHAIN: auto
  rules:
    - if: $CI_PIPELINE_SOURCE == "merge_request_event"
    - if: $CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH
  script:
    - go install "` + stetModule + `/cmd/stet@${STET_VERSION}"
    - export PATH="$(go env GOPATH)/bin:$PATH"
    - stet version
    # The reports are written whatever the findings; the plain run decides.
    - stet check --format sarif > stet.sarif || true
    - stet check --format json > stet-check.json || true
    - stet check
    - if [ -f stet.lock ]; then stet verify; fi
  artifacts:
    when: always
    paths: [stet.sarif, stet-check.json]
    expire_in: 30 days
`)
	return []byte(b.String())
}

// writeInit writes files under dir (or, with dryRun, shows them) and tells
// what happened to each and what to do next.
func writeInit(w io.Writer, dir string, s *survey, files []initFile, v versionInfo, force, dryRun bool) error {
	fmt.Fprintf(w, "%s stet reads, %s (%d pinned)", count(s.files, "file"), count(s.refs, "reference"), s.pinned)
	if s.unreadable > 0 {
		fmt.Fprintf(w, ", %d could not be parsed", s.unreadable)
	}
	fmt.Fprintln(w)
	for _, ft := range formatTitles {
		if st, ok := s.formats[ft.source]; ok {
			fmt.Fprintf(w, "  %-26s %-10s %-15s (%d pinned)\n", ft.title, count(st.files, "file"), count(st.refs, "reference"), st.pinned)
		}
	}
	for _, h := range s.ignore {
		fmt.Fprintf(w, "  ignore %-19s %-10s %-15s (%s)\n", h.glob, count(h.files, "file"), count(h.refs, "reference"), h.why)
	}
	changed := 0
	for _, f := range files {
		target := filepath.Join(dir, filepath.FromSlash(f.Path))
		old, err := os.ReadFile(target)
		exists := err == nil
		if err != nil && !os.IsNotExist(err) {
			return fmt.Errorf("reading %s: %w", target, err)
		}
		switch {
		case exists && bytes.Equal(old, f.Data):
			fmt.Fprintf(w, "%s is up to date\n", f.Path)
			continue
		case exists && !force:
			if dryRun {
				fmt.Fprintf(w, "%s exists and differs: would be kept (--force replaces it)\n", f.Path)
				if err := edit.Diff(w, f.Path, old, f.Data); err != nil {
					return err
				}
			} else {
				fmt.Fprintf(w, "%s exists and differs: kept (--force replaces it)\n", f.Path)
			}
			continue
		}
		changed++
		if dryRun {
			if exists {
				fmt.Fprintf(w, "would replace %s:\n", f.Path)
			} else {
				fmt.Fprintf(w, "would create %s:\n", f.Path)
			}
			if exists {
				if err := edit.Diff(w, f.Path, old, f.Data); err != nil {
					return err
				}
			} else {
				w.Write(f.Data)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			return fmt.Errorf("writing %s: %w", f.Path, err)
		}
		if err := edit.CreateFile(target, f.Data); err != nil {
			return err
		}
		if exists {
			fmt.Fprintf(w, "replaced %s\n", f.Path)
		} else {
			fmt.Fprintf(w, "created %s\n", f.Path)
		}
	}
	if changed == 0 {
		fmt.Fprintln(w, "nothing to change")
	}
	if dryRun {
		return nil
	}
	errs, unpinned := s.errs, s.unpinned
	for _, f := range files {
		if f.Path == initGitHubWorkflow {
			if _, pinned := stetActionRef(v); !pinned {
				// The survey left the workflow out; its stet action is one
				// more finding until it is pinned.
				errs++
				unpinned++
				fmt.Fprintf(w, "next: pin the stet action of the workflow: stet pin %s\n", initGitHubWorkflow)
			}
		}
	}
	for _, p := range s.broken {
		fmt.Fprintf(w, "next: %s does not parse; stet check exits 2 until it is fixed or ignored\n", p)
	}
	switch {
	case s.refs == 0:
		fmt.Fprintln(w, "next: nothing references an image or an action yet; stet check keeps it that way")
	case errs == 0 && s.warnings == 0:
		fmt.Fprintln(w, "next: stet check is clean; stet lock records the digests")
	case unpinned > 0:
		fmt.Fprintf(w, "next: stet check reports %s and %s; stet pin pins %s\n", count(errs, "error"), count(s.warnings, "warning"), count(unpinned, "unpinned reference"))
	default:
		fmt.Fprintf(w, "next: stet check reports %s and %s\n", count(errs, "error"), count(s.warnings, "warning"))
	}
	return nil
}

// count writes n and noun, plural when n is not 1.
func count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// suggestCI points at --ci when the repository already runs a CI that init
// can write a job for.
func suggestCI(w io.Writer, dir string) {
	exists := func(p string) bool {
		_, err := os.Stat(filepath.Join(dir, filepath.FromSlash(p)))
		return err == nil
	}
	if exists(".github/workflows") && !exists(initGitHubWorkflow) {
		fmt.Fprintln(w, "next: stet init --ci github adds a workflow that runs stet on pull requests")
	}
	if exists(".gitlab-ci.yml") && !exists(initGitLabJob) {
		fmt.Fprintln(w, "next: stet init --ci gitlab adds a job to include from .gitlab-ci.yml")
	}
}
