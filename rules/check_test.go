package rules

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/stet-dev/stet/ref"
	"github.com/stet-dev/stet/scan"
)

const digest = "sha256:4ff102c5d78d254a6f0da062b3cf39eaf07f01eec0927fd21e219d0af8bc0591"

// image builds an image Ref the way a scanner does.
func image(t *testing.T, file string, line, col int, text string) ref.Ref {
	t.Helper()
	r := ref.Ref{File: file, Line: line, Column: col, EndLine: line, EndColumn: col + len(text), Source: ref.SourceDockerfile, Text: text, Context: "FROM"}
	if err := r.SetImage(text); err != nil {
		t.Fatalf("SetImage(%q): %v", text, err)
	}
	return r
}

func action(t *testing.T, file string, line, col int, text, comment string) ref.Ref {
	t.Helper()
	r := ref.Ref{File: file, Line: line, Column: col, EndLine: line, EndColumn: col + len(text), Source: ref.SourceActions, Text: text, Context: "jobs.build.steps[0].uses"}
	if err := r.SetAction(text); err != nil {
		t.Fatalf("SetAction(%q): %v", text, err)
	}
	if r.Pinned() {
		r.Tag = comment
	}
	return r
}

func TestCheckRefs(t *testing.T) {
	t.Parallel()
	dynamic := ref.Ref{File: "Dockerfile", Line: 2, Column: 6, EndLine: 2, EndColumn: 13, Kind: ref.Image, Text: "${BASE}", Dynamic: true}
	tests := []struct {
		name string
		refs func(t *testing.T) []ref.Ref
		want []Finding
	}{
		{"unpinned tag", func(t *testing.T) []ref.Ref { return []ref.Ref{image(t, "Dockerfile", 1, 6, "nginx:1-alpine")} },
			[]Finding{{Rule: "STET001", Severity: Error, File: "Dockerfile", Line: 1, Column: 6, EndLine: 1, EndColumn: 20,
				Message: "image nginx:1-alpine is not pinned by digest", Reference: "nginx:1-alpine"}}},
		{"pinned", func(t *testing.T) []ref.Ref { return []ref.Ref{image(t, "Dockerfile", 1, 6, "nginx:1-alpine@"+digest)} }, nil},
		{"digest only", func(t *testing.T) []ref.Ref { return []ref.Ref{image(t, "Dockerfile", 1, 6, "nginx@"+digest)} }, nil},
		{"no tag", func(t *testing.T) []ref.Ref { return []ref.Ref{image(t, "Dockerfile", 1, 6, "ghcr.io/a/b")} },
			[]Finding{
				{Rule: "STET001", Severity: Error, File: "Dockerfile", Line: 1, Column: 6, EndLine: 1, EndColumn: 17,
					Message: "image ghcr.io/a/b:latest is not pinned by digest", Reference: "ghcr.io/a/b:latest"},
				{Rule: "STET002", Severity: Error, File: "Dockerfile", Line: 1, Column: 6, EndLine: 1, EndColumn: 17,
					Message: "image ghcr.io/a/b has no tag (it means latest)", Reference: "ghcr.io/a/b:latest"},
			}},
		{"latest", func(t *testing.T) []ref.Ref { return []ref.Ref{image(t, "Dockerfile", 3, 6, "redis:latest")} },
			[]Finding{
				{Rule: "STET001", Severity: Error, File: "Dockerfile", Line: 3, Column: 6, EndLine: 3, EndColumn: 18,
					Message: "image redis:latest is not pinned by digest", Reference: "redis:latest"},
				{Rule: "STET002", Severity: Error, File: "Dockerfile", Line: 3, Column: 6, EndLine: 3, EndColumn: 18,
					Message: "image redis:latest uses the latest tag", Reference: "redis:latest"},
			}},
		{"latest from a variable default", func(t *testing.T) []ref.Ref {
			r := image(t, "Dockerfile", 3, 6, "redis:latest")
			r.Text, r.EndColumn = "redis:${V}", 16
			return []ref.Ref{r}
		},
			[]Finding{
				{Rule: "STET001", Severity: Error, File: "Dockerfile", Line: 3, Column: 6, EndLine: 3, EndColumn: 16,
					Message: "image redis:latest is not pinned by digest", Reference: "redis:latest"},
				{Rule: "STET002", Severity: Error, File: "Dockerfile", Line: 3, Column: 6, EndLine: 3, EndColumn: 16,
					Message: "image redis:latest uses the latest tag", Reference: "redis:latest"},
			}},
		{"helm tag field", func(t *testing.T) []ref.Ref {
			r := image(t, "values.yaml", 5, 17, "quay.io/prometheus/busybox:latest")
			r.Source, r.Text, r.EndColumn = ref.SourceHelm, "prometheus/busybox", 35
			return []ref.Ref{r}
		},
			[]Finding{
				{Rule: "STET001", Severity: Error, File: "values.yaml", Line: 5, Column: 17, EndLine: 5, EndColumn: 35,
					Message: "image quay.io/prometheus/busybox:latest is not pinned by digest", Reference: "quay.io/prometheus/busybox:latest"},
				{Rule: "STET002", Severity: Error, File: "values.yaml", Line: 5, Column: 17, EndLine: 5, EndColumn: 35,
					Message: "image quay.io/prometheus/busybox:latest uses the latest tag", Reference: "quay.io/prometheus/busybox:latest"},
			}},
		{"scratch", func(t *testing.T) []ref.Ref { return []ref.Ref{image(t, "Dockerfile", 1, 6, "scratch")} }, nil},
		{"dynamic", func(t *testing.T) []ref.Ref { return []ref.Ref{dynamic} },
			[]Finding{{Rule: "STET004", Severity: Error, File: "Dockerfile", Line: 2, Column: 6, EndLine: 2, EndColumn: 13,
				Message: "image ${BASE} depends on a value that is not set in the file", Reference: "${BASE}"}}},
		{"action tag", func(t *testing.T) []ref.Ref {
			return []ref.Ref{action(t, ".github/workflows/ci.yml", 9, 15, "actions/checkout@v4", "")}
		},
			[]Finding{{Rule: "STET003", Severity: Error, File: ".github/workflows/ci.yml", Line: 9, Column: 15, EndLine: 9, EndColumn: 34,
				Message: "action actions/checkout@v4 is not pinned to a full commit SHA", Reference: "actions/checkout@v4"}}},
		{"action pinned", func(t *testing.T) []ref.Ref {
			return []ref.Ref{action(t, ".github/workflows/ci.yml", 9, 15, "actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683", "v4.2.2")}
		}, nil},
		{"action short sha", func(t *testing.T) []ref.Ref {
			return []ref.Ref{action(t, "action.yml", 4, 13, "github/codeql-action/init@11bd719", "")}
		},
			[]Finding{{Rule: "STET003", Severity: Error, File: "action.yml", Line: 4, Column: 13, EndLine: 4, EndColumn: 46,
				Message: "action github/codeql-action/init@11bd719 is not pinned to a full commit SHA", Reference: "github/codeql-action/init@11bd719"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			refs := tt.refs(t)
			got := Check([]scan.File{{Path: refs[0].File, Refs: refs}}, Config{})
			if diff := cmp.Diff(tt.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("Check (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCheckCommands(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		cmd  scan.Command
		want []Finding
	}{
		{"one-line RUN", scan.Command{File: "Dockerfile", Line: 4, Column: 5, EndLine: 4, EndColumn: 44, Instruction: "RUN", Source: ref.SourceDockerfile,
			Text: "apt-get update && apt-get install -y curl"},
			[]Finding{{Rule: "STET020", Severity: Warning, File: "Dockerfile", Line: 4, Column: 23, EndLine: 4, EndColumn: 46,
				Message: "apt-get install of curl without a version (pin with pkg=version)", Reference: "curl"}}},
		{"joined continuation lines", scan.Command{File: "Dockerfile", Line: 4, Column: 5, EndLine: 6, EndColumn: 12, Instruction: "RUN", Source: ref.SourceDockerfile,
			Text: "apt-get update     && apt-get install -y         curl"},
			[]Finding{{Rule: "STET020", Severity: Warning, File: "Dockerfile", Line: 4, Column: 5, EndLine: 6, EndColumn: 12,
				Message: "apt-get install of curl without a version (pin with pkg=version)", Reference: "curl"}}},
		{"RUN heredoc", scan.Command{File: "Dockerfile", Line: 2, Column: 5, EndLine: 5, EndColumn: 4, Instruction: "RUN", Source: ref.SourceDockerfile,
			Text: "<<EOF\nset -e\ncurl -fsSL https://x.example/i.sh | sh\nEOF"},
			[]Finding{{Rule: "STET025", Severity: Warning, File: "Dockerfile", Line: 4, Column: 1, EndLine: 4, EndColumn: 34,
				Message: "remote script https://x.example/i.sh is piped to sh without verification", Reference: "https://x.example/i.sh"}}},
		{"workflow literal block", scan.Command{File: ".github/workflows/ci.yml", Line: 12, Column: 11, EndLine: 13, EndColumn: 56, Instruction: "run", Source: ref.SourceActions,
			Text: "go build ./...\ngo install golang.org/x/tools/cmd/goimports@latest\n"},
			[]Finding{{Rule: "STET024", Severity: Warning, File: ".github/workflows/ci.yml", Line: 13, Column: 11, EndLine: 13, EndColumn: 61,
				Message: "go install golang.org/x/tools/cmd/goimports@latest builds a moving version (@latest); name a full version such as @v1.2.3", Reference: "golang.org/x/tools/cmd/goimports@latest"}}},
		{"ADD remote", scan.Command{File: "Dockerfile", Line: 7, Column: 5, EndLine: 7, EndColumn: 80, Instruction: "ADD", Source: ref.SourceDockerfile,
			Text: "https://github.com/tianon/gosu/releases/download/1.17/gosu-amd64 ./local"},
			[]Finding{{Rule: "STET026", Severity: Warning, File: "Dockerfile", Line: 7, Column: 5, EndLine: 7, EndColumn: 80,
				Message: "ADD of https://github.com/tianon/gosu/releases/download/1.17/gosu-amd64 without --checksum", Reference: "https://github.com/tianon/gosu/releases/download/1.17/gosu-amd64"}}},
		{"ADD remote with checksum", scan.Command{File: "Dockerfile", Line: 7, Column: 5, EndLine: 7, EndColumn: 80, Instruction: "ADD", Source: ref.SourceDockerfile,
			Text: "https://example.com/a.tgz", Flags: []string{"--checksum=" + digest}}, nil},
		{"ADD git branch", scan.Command{File: "Dockerfile", Line: 7, Column: 5, EndLine: 7, EndColumn: 50, Instruction: "ADD", Source: ref.SourceDockerfile,
			Text: "https://github.com/moby/buildkit.git#v0.12.0"},
			[]Finding{{Rule: "STET026", Severity: Warning, File: "Dockerfile", Line: 7, Column: 5, EndLine: 7, EndColumn: 50,
				Message: "ADD of git repository https://github.com/moby/buildkit.git#v0.12.0 without a commit (add #<commit> or --checksum)", Reference: "https://github.com/moby/buildkit.git#v0.12.0"}}},
		{"ADD git commit", scan.Command{File: "Dockerfile", Line: 7, Column: 5, EndLine: 7, EndColumn: 50, Instruction: "ADD", Source: ref.SourceDockerfile,
			Text: "git@github.com:moby/buildkit.git#3f1c8e9d6b2a4c7e8f9a0b1c2d3e4f5a6b7c8d9e:docs https://github.com/a/b.git?ref=3f1c8e9d6b2a4c7e8f9a0b1c2d3e4f5a6b7c8d9e"}, nil},
		{"ADD local", scan.Command{File: "Dockerfile", Line: 7, Column: 5, EndLine: 7, EndColumn: 50, Instruction: "ADD", Source: ref.SourceDockerfile,
			Text: "rootfs.tar.xz ./src"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := Check([]scan.File{{Path: tt.cmd.File, Commands: []scan.Command{tt.cmd}}}, Config{})
			if diff := cmp.Diff(tt.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("Check (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCloneCheckedOutLater(t *testing.T) {
	t.Parallel()
	cmd := func(line int, text string) scan.Command {
		return scan.Command{File: ".gitlab-ci.yml", Line: line, Column: 7, EndLine: line, EndColumn: 7 + len(text), Instruction: "script", Source: ref.SourceGitLab, Text: text}
	}
	tests := []struct {
		name string
		cmds []scan.Command
		want []int // lines with STET027
	}{
		{"checkout in a later line", []scan.Command{cmd(3, "git clone https://x/y.git"), cmd(4, "cd y"), cmd(5, "git checkout 3f1c8e9d")}, nil},
		{"checkout before the clone", []scan.Command{cmd(3, "git checkout 3f1c8e9d"), cmd(4, "git clone https://x/y.git")}, []int{4}},
		{"no checkout", []scan.Command{cmd(3, "git clone https://x/y.git"), cmd(4, "make -C y")}, []int{3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var got []int
			for _, f := range Check([]scan.File{{Path: ".gitlab-ci.yml", Commands: tt.cmds}}, Config{}) {
				if f.Rule == "STET027" {
					got = append(got, f.Line)
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("STET027 lines (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDockerfileCommentLines(t *testing.T) {
	t.Parallel()
	// BuildKit drops comment lines inside a RUN before the shell sees it: the
	// package after the comment still belongs to the install.
	text := "apt-get install -y \\\n    # the client\n    curl \\\n    wget=1"
	c := scan.Command{File: "Dockerfile", Line: 1, Column: 5, EndLine: 4, EndColumn: 11, Instruction: "RUN", Source: ref.SourceDockerfile, Text: text}
	got := Check([]scan.File{{Path: "Dockerfile", Commands: []scan.Command{c}}}, Config{})
	want := []Finding{{Rule: "STET020", Severity: Warning, File: "Dockerfile", Line: 1, Column: 5, EndLine: 4, EndColumn: 11,
		Message: "apt-get install of curl without a version (pin with pkg=version)", Reference: "curl"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Check (-want +got):\n%s", diff)
	}
}

func TestSuppressionAndSeverity(t *testing.T) {
	t.Parallel()
	src := strings.Join([]string{
		"FROM nginx:1-alpine",                    // 1: reported
		"# stet:ignore STET001 rebuilt nightly",  // 2
		"FROM redis:7",                           // 3: suppressed by line 2
		"FROM ghcr.io/a/b # stet:ignore STET002", // 4: STET001 stays, STET002 suppressed
		"# stet:ignore",                          // 5
		"FROM postgres",                          // 6: everything suppressed
		"# stet:ignore STET020 snapshot mirror",  // 7
		"RUN apt-get install -y a \\",            // 8
		"  && apt-get install -y b",              // 9: anchored to line 8
	}, "\n")
	data := []byte(src)
	f := scan.File{Path: "Dockerfile", Ignores: scan.ParseIgnores(data), Refs: []ref.Ref{
		image(t, "Dockerfile", 1, 6, "nginx:1-alpine"),
		image(t, "Dockerfile", 3, 6, "redis:7"),
		image(t, "Dockerfile", 4, 6, "ghcr.io/a/b"),
		image(t, "Dockerfile", 6, 6, "postgres"),
	}, Commands: []scan.Command{{File: "Dockerfile", Line: 8, Column: 5, EndLine: 9, EndColumn: 26, Instruction: "RUN", Source: ref.SourceDockerfile,
		Text: "apt-get install -y a \\\n  && apt-get install -y b"}}}

	type short struct {
		Rule     string
		Severity Severity
		Line     int
	}
	reduce := func(fs []Finding) []short {
		var out []short
		for _, f := range fs {
			out = append(out, short{f.Rule, f.Severity, f.Line})
		}
		return out
	}
	tests := []struct {
		name string
		cfg  Config
		want []short
	}{
		{"defaults", Config{}, []short{{"STET001", Error, 1}, {"STET001", Error, 4}}},
		{"STET001 as warning", Config{Rules: map[string]Severity{"STET001": Warning}}, []short{{"STET001", Warning, 1}, {"STET001", Warning, 4}}},
		{"STET001 off", Config{Rules: map[string]Severity{"STET001": Off}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := reduce(Check([]scan.File{f}, tt.cfg))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Check (-want +got):\n%s", diff)
			}
		})
	}

	t.Run("without ignores", func(t *testing.T) {
		t.Parallel()
		g := f
		g.Ignores = nil
		got := reduce(Check([]scan.File{g}, Config{}))
		want := []short{
			{"STET001", Error, 1}, {"STET001", Error, 3}, {"STET001", Error, 4}, {"STET002", Error, 4},
			{"STET001", Error, 6}, {"STET002", Error, 6}, {"STET020", Warning, 8}, {"STET020", Warning, 9},
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("Check (-want +got):\n%s", diff)
		}
	})
}

// TestSTET004Block: a dynamic reference written over several lines gets a
// one-line message that says why, not the block pasted in.
func TestSTET004Block(t *testing.T) {
	t.Parallel()
	r := ref.Ref{File: "compose.yaml", Line: 3, Column: 7, EndLine: 4, EndColumn: 18, Kind: ref.Image, Dynamic: true,
		Source: ref.SourceCompose, Text: "mysql:8\n      mariadb:11\n"}
	got := Check([]scan.File{{Path: "compose.yaml", Refs: []ref.Ref{r}}}, Config{})
	if len(got) != 1 || got[0].Rule != "STET004" || strings.Contains(got[0].Message, "\n") ||
		!strings.Contains(got[0].Message, "written over several lines (mysql:8 …)") {
		t.Errorf("findings = %+v", got)
	} // A reason the scanner gave comes first.
	r.Text, r.NotEditable = "redis:7\n", `the YAML block's value is "redis:7\n", not one image`
	got = Check([]scan.File{{Path: "compose.yaml", Refs: []ref.Ref{r}}}, Config{})
	if len(got) != 1 || got[0].Message != `image redis:7 cannot be read as one reference: the YAML block's value is "redis:7\n", not one image` {
		t.Errorf("findings = %+v", got)
	}
}

// TestEndOfLineIgnore: a comment after code silences its own line only,
// never the line below (a second service, a second step, a second FROM).
func TestEndOfLineIgnore(t *testing.T) {
	t.Parallel()
	src := "services:\n  dev: {image: \"redis:7\"} # stet:ignore STET001 local only\n  prod: {image: \"postgres:16\"}\n"
	f := scan.File{Path: "compose.yaml", Ignores: scan.ParseIgnores([]byte(src)), Refs: []ref.Ref{
		image(t, "compose.yaml", 2, 17, "redis:7"),
		image(t, "compose.yaml", 3, 18, "postgres:16"),
	}}
	var got []string
	for _, fd := range Check([]scan.File{f}, Config{}) {
		got = append(got, fmt.Sprintf("%s:%d", fd.Rule, fd.Line))
	}
	if diff := cmp.Diff([]string{"STET001:3"}, got); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
}

func TestApply(t *testing.T) {
	t.Parallel()
	src := strings.Repeat("\n", 8) + "# stet:ignore STET011 moved on purpose\nFROM x\n"
	files := []scan.File{{Path: "./b/Dockerfile", Ignores: scan.ParseIgnores([]byte(src))}}
	in := []Finding{
		{Rule: "STET011", File: "b/Dockerfile", Line: 10, Message: "tag moved"},
		{Rule: "STET010", File: "b/Dockerfile", Line: 10, Message: "lock disagrees"},
		{Rule: "STET012", File: "a/compose.yaml", Line: 3, Message: "digest gone"},
		{Rule: "STET012", File: "a/compose.yaml", Line: 3, Message: "digest gone"},
		{Rule: "STET999", File: "a/compose.yaml", Line: 1, Message: "from a newer producer"},
	}
	got := Apply(in, files, Config{Rules: map[string]Severity{"STET012": Warning}})
	want := []Finding{
		{Rule: "STET999", Severity: Error, File: "a/compose.yaml", Line: 1, Message: "from a newer producer"},
		{Rule: "STET012", Severity: Warning, File: "a/compose.yaml", Line: 3, Message: "digest gone"},
		{Rule: "STET010", Severity: Error, File: "b/Dockerfile", Line: 10, Message: "lock disagrees"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Apply (-want +got):\n%s", diff)
	}
}

func TestConfig(t *testing.T) {
	t.Parallel()
	if err := (Config{Rules: map[string]Severity{"STET020": "warning", "STET027": "off"}}).Validate(); err != nil {
		t.Errorf("Validate of a valid config: %v", err)
	}
	err := (Config{Rules: map[string]Severity{"STET02": "warning", "STET001": "fatal"}}).Validate()
	want := `rules configuration: rule STET001: severity "fatal": want error, warning or off; unknown rule "STET02"`
	if err == nil || err.Error() != want {
		t.Errorf("Validate = %v, want %s", err, want)
	}
	c, err := ConfigFrom(map[string]string{"STET020": "Error", "STET027": "off"})
	if err != nil || c.Severity("STET020") != Error || c.Severity("STET027") != Off || c.Severity("STET001") != Error {
		t.Errorf("ConfigFrom = %+v, %v", c, err)
	}
	if _, err := ConfigFrom(map[string]string{"STET1": "off"}); err == nil {
		t.Errorf("ConfigFrom accepted an unknown rule")
	}
	var s Severity
	if err := s.UnmarshalText([]byte("Warning")); err != nil || s != Warning {
		t.Errorf("UnmarshalText(Warning) = %q, %v", s, err)
	}
	if err := s.UnmarshalText([]byte("loud")); err == nil {
		t.Errorf("UnmarshalText(loud) succeeded")
	}
	if got := (Config{}).Severity("STET020"); got != Warning {
		t.Errorf("default severity of STET020 = %s, want warning", got)
	}
}

func TestCatalogue(t *testing.T) {
	t.Parallel()
	ids := []string{"STET001", "STET002", "STET003", "STET004", "STET010", "STET011", "STET012", "STET013",
		"STET020", "STET021", "STET022", "STET023", "STET024", "STET025", "STET026", "STET027"}
	cat := Catalogue()
	var got []string
	for i, r := range cat {
		got = append(got, r.ID)
		want := Error
		if r.ID >= "STET020" {
			want = Warning
		}
		if r.Severity != want {
			t.Errorf("%s default severity = %s, want %s", r.ID, r.Severity, want)
		}
		if r.Name == "" || r.Summary == "" || r.Help == "" || r.Bad.Code == "" || r.Good.Code == "" || len(r.Tags) == 0 {
			t.Errorf("%s has empty metadata: %+v", r.ID, r)
		}
		if Index(r.ID) != i {
			t.Errorf("Index(%s) = %d, want %d", r.ID, Index(r.ID), i)
		}
		if l, ok := Lookup(r.ID); !ok || l.ID != r.ID {
			t.Errorf("Lookup(%s) = %v, %v", r.ID, l.ID, ok)
		}
	}
	if diff := cmp.Diff(ids, got); diff != "" {
		t.Errorf("catalogue IDs (-want +got):\n%s", diff)
	}
	if Index("STET999") != -1 {
		t.Errorf("Index of an unknown rule is not -1")
	}
	cat[0].ID = "changed"
	if Catalogue()[0].ID != "STET001" {
		t.Errorf("Catalogue returns shared storage")
	}
}

// TestCatalogueExamples runs each rule's own examples through Check: the bad
// example must produce the rule, the good one must not.
func TestCatalogueExamples(t *testing.T) {
	t.Parallel()
	for _, r := range Catalogue() {
		if r.Owner != ownerCheck || r.ID < "STET020" {
			continue
		}
		t.Run(r.ID, func(t *testing.T) {
			t.Parallel()
			for _, ex := range []struct {
				code string
				want bool
			}{{r.Bad.Code, true}, {r.Good.Code, false}} {
				instr, text, _ := strings.Cut(strings.TrimSpace(ex.code), " ")
				c := scan.Command{File: "Dockerfile", Line: 1, Column: 5, EndLine: 1 + strings.Count(text, "\n"), EndColumn: 2, Instruction: instr, Source: ref.SourceDockerfile, Text: text}
				if instr == "ADD" {
					fields := strings.Fields(strings.ReplaceAll(text, "\\\n", ""))
					c.Flags, c.Text = nil, ""
					for _, f := range fields[:len(fields)-1] {
						if strings.HasPrefix(f, "--") {
							c.Flags = append(c.Flags, f)
						} else {
							c.Text = strings.TrimSpace(c.Text + " " + f)
						}
					}
				}
				found := false
				for _, f := range Check([]scan.File{{Path: "Dockerfile", Commands: []scan.Command{c}}}, Config{}) {
					found = found || f.Rule == r.ID
				}
				if found != ex.want {
					t.Errorf("%s example %q: reported = %v, want %v", r.ID, ex.code, found, ex.want)
				}
			}
		})
	}
}

func TestSuppressionInsideYAMLBlock(t *testing.T) {
	t.Parallel()
	src := "jobs:\n  b:\n    steps:\n      - run: |\n          apt-get install -y jq\n          # stet:ignore STET020 the runner image is pinned\n          apt-get install -y yq\n"
	text := "apt-get install -y jq\n# stet:ignore STET020 the runner image is pinned\napt-get install -y yq\n"
	c := scan.Command{File: "ci.yml", Line: 5, Column: 11, EndLine: 7, EndColumn: 32, Instruction: "run", Source: ref.SourceActions, Text: text}
	got := Check([]scan.File{{Path: "ci.yml", Commands: []scan.Command{c}, Ignores: scan.ParseIgnores([]byte(src))}}, Config{})
	want := []Finding{{Rule: "STET020", Severity: Warning, File: "ci.yml", Line: 5, Column: 11, EndLine: 5, EndColumn: 32,
		Message: "apt-get install of jq without a version (pin with pkg=version)", Reference: "jq"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Check (-want +got):\n%s", diff)
	}
}
