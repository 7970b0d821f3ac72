package gitlab

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/stet-dev/stet/ref"
	"github.com/stet-dev/stet/scan"
	"github.com/stet-dev/stet/scan/internal/yamlref/yamlreftest"
)

const digest = "sha256:eae18d032e8d7be3caa97d2e5754ae2b7196d7a3d375b7b4d1ba9034f1229317"

// short renders a Ref on one line: position, text, reading, context and
// edit, so that a table states every field compactly.
func short(r ref.Ref) string {
	s := fmt.Sprintf("%d:%d-%d:%d %q name=%s tag=%s", r.Line, r.Column, r.EndLine, r.EndColumn, r.Text, r.Name, r.Tag)
	if r.Digest != "" {
		s += " digest=" + r.Digest
	}
	if r.Dynamic {
		s += " dynamic"
	}
	s += " @" + r.Context
	switch {
	case r.Edit == nil:
		s += " noedit"
	case r.Edit.Form != ref.FormReference:
		s += fmt.Sprintf(" edit=form%d", r.Edit.Form)
	default:
		s += " edit"
	}
	return s
}

// checkPositions asserts the invariants every Ref and Command of a GitLab CI
// file must hold (see yamlreftest.CheckCommands); its references are images.
func checkPositions(t *testing.T, data []byte, res *scan.Result) {
	t.Helper()
	yamlreftest.CheckCommands(t, data, res, ref.SourceGitLab, "script")
	for _, r := range res.Refs {
		if r.Kind != ref.Image {
			t.Errorf("%s: kind %q", short(r), r.Kind)
		}
	}
}

func TestScan(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{
			name: "string and map forms everywhere",
			in: `image: ruby:3.3
services:
  - postgres:16
default:
  image:
    name: alpine:3.20
    entrypoint: [""]
    pull_policy: if-not-present
  services:
    - redis:7
    - name: docker:27-dind
      alias: docker
      command: ["--tls=false"]
build:
  stage: build
  image: "golang:1.23@` + digest + `"
  services: [{name: 'mysql:8', alias: db}, 'memcached:1.6']
.template:
  image: {name: node:20-slim, docker: {platform: linux/arm64}}
`,
			want: []string{
				`1:8-1:16 "ruby:3.3" name=docker.io/library/ruby tag=3.3 @image edit`,
				`3:5-3:16 "postgres:16" name=docker.io/library/postgres tag=16 @services[0] edit`,
				`6:11-6:22 "alpine:3.20" name=docker.io/library/alpine tag=3.20 @default.image.name edit`,
				`10:7-10:14 "redis:7" name=docker.io/library/redis tag=7 @default.services[0] edit`,
				`11:13-11:27 "docker:27-dind" name=docker.io/library/docker tag=27-dind @default.services[1].name edit`,
				`16:11-16:94 "golang:1.23@` + digest + `" name=docker.io/library/golang tag=1.23 digest=` + digest + ` @build.image edit`,
				`17:22-17:29 "mysql:8" name=docker.io/library/mysql tag=8 @build.services[0].name edit`,
				`17:45-17:58 "memcached:1.6" name=docker.io/library/memcached tag=1.6 @build.services[1] edit`,
				`19:17-19:29 "node:20-slim" name=docker.io/library/node tag=20-slim @.template.image.name edit`,
			},
		},
		{
			name: "keywords are not jobs",
			in: `stages: [build]
variables:
  image: not-an-image:1
workflow:
  rules:
    - if: $CI_COMMIT_BRANCH
cache:
  key: x
  paths: [image]
include:
  - local: ci/image.yml
spec:
  inputs:
    image:
      default: alpine:3
job:
  script: echo
`,
			want: nil,
		},
		{
			name: "variables substituted",
			in: `variables:
  DOCKER_VERSION: "27.3"
  REGISTRY: registry.example.com
  BASE: $REGISTRY/base
  TAG:
    value: "1.2.3"
    description: the release
  GO: 1.20
test:
  image: docker:${DOCKER_VERSION}
  services:
    - docker:$DOCKER_VERSION-dind
build:
  variables:
    TAG: "2.0.0"
  image: ${BASE}:$TAG
lint:
  image: golang:$GO
escaped:
  image: alpine$$x
`,
			want: []string{
				`10:10-10:34 "docker:${DOCKER_VERSION}" name=docker.io/library/docker tag=27.3 @test.image noedit`,
				`12:7-12:34 "docker:$DOCKER_VERSION-dind" name=docker.io/library/docker tag=27.3-dind @test.services[0] noedit`,
				`16:10-16:22 "${BASE}:$TAG" name=registry.example.com/base tag=2.0.0 @build.image noedit`,
				`18:10-18:20 "golang:$GO" name=docker.io/library/golang tag=1.20 @lint.image noedit`,
			},
		},
		{
			name: "a substituted reference is never edited",
			in: `variables:
  IMAGE: "ghcr.io/org/ci:1.4"
  LIST: &img registry.example.com/tools:2
  NESTED: ${IMAGE}
  RAW:
    value: $NOPE
    expand: false
a:
  image: $IMAGE
b:
  image:
    name: ${LIST}
c:
  variables:
    IMAGE: alpine:3.20
  services:
    - name: $IMAGE
d:
  image: $NESTED
`,
			want: []string{
				`9:10-9:16 "$IMAGE" name=ghcr.io/org/ci tag=1.4 @a.image noedit`,
				`12:11-12:18 "${LIST}" name=registry.example.com/tools tag=2 @b.image.name noedit`,
				`17:13-17:19 "$IMAGE" name=docker.io/library/alpine tag=3.20 @c.services[0].name noedit`,
				`19:10-19:17 "$NESTED" name=ghcr.io/org/ci tag=1.4 @d.image noedit`,
			},
		},
		{
			name: "dynamic",
			in: `variables:
  CYCLE: $CYCLE
a:
  image: $CI_REGISTRY_IMAGE/builder:latest
b:
  image: docker:${DOCKER_VERSION}
c:
  image: ruby:$RUBY_VERSION
  parallel:
    matrix:
      - RUBY_VERSION: ["3.2", "3.3"]
d:
  image: $[[ inputs.image ]]
e:
  image: $CYCLE
f:
  image: node:${VERSION:-20}
g:
  variables:
    RAW:
      value: alpine:$TAG
      expand: false
  image: $RAW
`,
			want: []string{
				`4:10-4:43 "$CI_REGISTRY_IMAGE/builder:latest" name= tag= dynamic @a.image noedit`,
				`6:10-6:34 "docker:${DOCKER_VERSION}" name=docker.io/library/docker tag= dynamic @b.image noedit`,
				`8:10-8:28 "ruby:$RUBY_VERSION" name=docker.io/library/ruby tag= dynamic @c.image noedit`,
				`13:10-13:29 "$[[ inputs.image ]]" name= tag= dynamic @d.image noedit`,
				`15:10-15:16 "$CYCLE" name= tag= dynamic @e.image noedit`,
				`17:10-17:29 "node:${VERSION:-20}" name=docker.io/library/node tag= dynamic @f.image noedit`,
			},
		},
		{
			name: "variables of extended templates",
			in: `variables:
  V: "1"
  W: "1"
.a:
  variables:
    V: "2"
    W: "2"
.b:
  extends: .a
  variables:
    W: "3"
job1:
  extends: [.b]
  image: alpine:$V.$W
job2:
  extends: [.b, .a]
  variables:
    V: "4"
  image: alpine:$V.$W
job3:
  extends: [.elsewhere, .a]
  image: alpine:$V.$W
.loop:
  extends: .loop
  image: alpine:$V
.c1:
  extends: [.c2]
  variables: {V: c1}
.c2:
  extends: [.c1]
  variables: {V: c2}
job4:
  extends: .c1
  image: alpine:$V
`,
			want: []string{
				`14:10-14:22 "alpine:$V.$W" name=docker.io/library/alpine tag=2.3 @job1.image noedit`,
				`19:10-19:22 "alpine:$V.$W" name=docker.io/library/alpine tag=4.2 @job2.image noedit`,
				`22:10-22:22 "alpine:$V.$W" name=docker.io/library/alpine tag=2.2 @job3.image noedit`,
				`25:10-25:19 "alpine:$V" name=docker.io/library/alpine tag=1 @.loop.image noedit`,
				`34:10-34:19 "alpine:$V" name=docker.io/library/alpine tag=c1 @job4.image noedit`,
			},
		},
		{
			name: "variables that multiply",
			in: `variables:
  A: "aaaaaaaaaaaaaaaa"
  B: "$A$A$A$A$A$A$A$A$A$A$A$A$A$A$A$A"
  C: "$B$B$B$B$B$B$B$B$B$B$B$B$B$B$B$B"
  D: "$C$C$C$C$C$C$C$C$C$C$C$C$C$C$C$C"
  E: "$D$D$D$D$D$D$D$D$D$D$D$D$D$D$D$D"
  F: "$E$E$E$E$E$E$E$E$E$E$E$E$E$E$E$E"
  G: "$F$F$F$F$F$F$F$F$F$F$F$F$F$F$F$F"
job:
  image: x:$G
`,
			want: []string{
				`10:10-10:14 "x:$G" name=docker.io/library/x tag= dynamic @job.image noedit`,
			},
		},
		{
			name: "variables through merge keys",
			in: `.vars: &vars
  V: "1"
  W: "1"
.more: &more
  V: "9"
  X: "3"
variables:
  <<: [*vars, *more]
  W: "2"
job:
  image: alpine:$V.$W.$X
`,
			want: []string{
				`11:10-11:25 "alpine:$V.$W.$X" name=docker.io/library/alpine tag=1.2.3 @job.image noedit`,
			},
		},
		{
			name: "merge keys that multiply",
			in:   mergeBomb(40) + "job:\n  variables: {<<: *x40}\n  image: alpine:$V\n",
			want: []string{
				`44:10-44:19 "alpine:$V" name=docker.io/library/alpine tag=0 @job.image noedit`,
			},
		},
		{
			name: "inherit variables",
			in: `variables:
  V: "1"
  W: "2"
none:
  inherit:
    variables: false
  image: alpine:$V
some:
  inherit:
    variables: [W]
  image: alpine:$W
  services: [alpine:$V]
`,
			want: []string{
				`7:10-7:19 "alpine:$V" name=docker.io/library/alpine tag= dynamic @none.image noedit`,
				`11:10-11:19 "alpine:$W" name=docker.io/library/alpine tag=2 @some.image noedit`,
				`12:14-12:23 "alpine:$V" name=docker.io/library/alpine tag= dynamic @some.services[0] noedit`,
			},
		},
		{
			name: "references, anchors and merge keys",
			in: `.base: &base
  image: &img python:3.12-slim
  services:
    - !reference [.db, services]
.db:
  services: [postgres:16]
job1:
  <<: *base
  script: [pytest]
job2:
  image: *img
job3:
  image: !reference [.base, image]
  services: !reference [.db, services]
`,
			want: []string{
				`2:15-2:31 "python:3.12-slim" name=docker.io/library/python tag=3.12-slim @.base.image edit`,
				`6:14-6:25 "postgres:16" name=docker.io/library/postgres tag=16 @.db.services[0] edit`,
			},
		},
		{
			// GitLab's YAML reader, like yaml.v3, reads an alias used as a
			// key as the key it names, and !!merge on any key but << as a
			// tag only; merges are followed however deep they go.
			name: "keys as YAML decoders read them",
			in: `x: &image foo
.keys: {&img image: busybox:1}
a:
  *image : ruby:3
b:
  *img : alpine:3
c:
  !!merge image: node:20
.l0: &l0 {variables: {V: "1"}}
` + deepMerges(70) + `d:
  <<: *l69
  image: alpine:$V
`,
			want: []string{
				`2:21-2:30 "busybox:1" name=docker.io/library/busybox tag=1 @.keys.image edit`,
				`6:10-6:18 "alpine:3" name=docker.io/library/alpine tag=3 @b.image edit`,
				`8:18-8:25 "node:20" name=docker.io/library/node tag=20 @c.image edit`,
				`81:10-81:19 "alpine:$V" name=docker.io/library/alpine tag=1 @d.image noedit`,
			},
		},
		{
			name: "block scalars: one line is the value, several lines are no image",
			in: `a:
  image: |
    node:20
  services:
    - name: >-
        postgres:16
        -alpine
    - |+
      redis:7

`,
			want: []string{
				// | and |+ keep the line break: the value is not the image.
				`3:5-3:12 "node:20" name= tag= dynamic @a.image noedit`,
				"6:9-7:16 \"postgres:16\\n        -alpine\" name= tag= dynamic @a.services[0].name noedit",
				`9:7-9:14 "redis:7" name= tag= dynamic @a.services[1] noedit`,
			},
		},
		{
			name: "a block of one line is edited there, escaped scalars are located but not edited",
			in: `a:
  image: >-
    alpine:3.20
b:
  image: "alpine:\x33"
`,
			want: []string{
				`3:5-3:16 "alpine:3.20" name=docker.io/library/alpine tag=3.20 @a.image edit`,
				`5:11-5:22 "alpine:\\x33" name=docker.io/library/alpine tag=3 @b.image noedit`,
			},
		},
		{
			name: "not references",
			in: `a:
  image: ""
  services: [{alias: x}, ~, [nested]]
b: [x]
c: text
`,
			want: nil,
		},
		{
			name: "component header document",
			in: `spec:
  inputs:
    image:
      default: alpine:3
---
build:
  image: $[[ inputs.image ]]
test:
  image: alpine:3.20
`,
			want: []string{
				`7:10-7:29 "$[[ inputs.image ]]" name= tag= dynamic @build.image noedit`,
				`9:10-9:21 "alpine:3.20" name=docker.io/library/alpine tag=3.20 @test.image edit`,
			},
		},
		{
			name: "crlf line endings",
			in:   "variables:\r\n  IMG: 'alpine:3.20'\r\njob:\r\n  image: ${IMG}\r\n  services:\r\n    - \"redis:7\"\r\n",
			want: []string{
				`4:10-4:16 "${IMG}" name=docker.io/library/alpine tag=3.20 @job.image noedit`,
				`6:8-6:15 "redis:7" name=docker.io/library/redis tag=7 @job.services[0] edit`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res, err := Scan(".gitlab-ci.yml", []byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range res.Refs {
				got = append(got, short(r))
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("refs (-want +got):\n%s", diff)
				for _, g := range got {
					t.Logf("GOT %s", g)
				}
			}
			checkPositions(t, []byte(tt.in), res)
		})
	}
}

func TestScanCommands(t *testing.T) {
	in := `.snippets:
  prep: &prep
    - apt-get update
    - apt-get install -y curl
before_script:
  - echo global
default:
  after_script: ["echo after"]
job:
  before_script:
    - *prep
    - !reference [.other, before_script]
  script:
    - curl -fsSL https://get.example.com | sh
    - |
      go install example.com/tool@latest
      tool run
    - - nested
  hooks:
    pre_get_sources_script: git config --global x y
other:
  script: "echo \"single\""
`
	type cmd struct {
		Line, Column, EndLine, EndColumn int
		Text                             string
	}
	want := []cmd{
		{3, 7, 3, 21, "apt-get update"},
		{4, 7, 4, 30, "apt-get install -y curl"},
		{6, 5, 6, 16, "echo global"},
		{8, 19, 8, 29, "echo after"},
		{14, 7, 14, 46, "curl -fsSL https://get.example.com | sh"},
		{16, 7, 17, 15, "go install example.com/tool@latest\ntool run\n"},
		{18, 9, 18, 15, "nested"},
		{20, 29, 20, 52, "git config --global x y"},
		{22, 12, 22, 27, `echo "single"`},
	}
	res, err := Scan(".gitlab-ci.yml", []byte(in))
	if err != nil {
		t.Fatal(err)
	}
	var got []cmd
	for _, c := range res.Commands {
		got = append(got, cmd{c.Line, c.Column, c.EndLine, c.EndColumn, c.Text})
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("commands (-want +got):\n%s", diff)
	}
	checkPositions(t, []byte(in), res)
}

// TestScanAliasedLists checks that lists of aliases of lists are read once:
// expanded naively, this script holds 20^7 lines.
func TestScanAliasedLists(t *testing.T) {
	var b strings.Builder
	b.WriteString(".l0: &l0 [echo hi]\n")
	for i := 1; i <= 7; i++ {
		fmt.Fprintf(&b, ".l%d: &l%d [%s]\n", i, i, strings.TrimSuffix(strings.Repeat(fmt.Sprintf("*l%d, ", i-1), 20), ", "))
	}
	b.WriteString("job:\n  script: *l7\n  services: *l7\n")
	res, err := Scan(".gitlab-ci.yml", []byte(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Commands) != 1 || len(res.Refs) != 0 {
		t.Errorf("got %d commands and %d refs, want 1 command (echo hi) and no refs", len(res.Commands), len(res.Refs))
	}
}

func TestScanRelated(t *testing.T) {
	in := `include:
  - local: '/ci/build.yml'
  - local: ci/test.yml
  - 'ci/string.yml'
  - project: other/repo
    file: /templates/x.yml
  - remote: https://example.com/ci.yml
  - https://example.com/bare.yml
  - template: Auto-DevOps.gitlab-ci.yml
  - component: gitlab.com/org/comp@1.0
  - local: 'ci/*.yml'
  - local: $FILE
child:
  trigger:
    include: child/pipeline.yml
child2:
  trigger:
    include:
      - local: child/two.yml
      - artifact: generated.yml
        job: gen
`
	tests := []struct {
		path string
		want []scan.Related
	}{
		{".gitlab-ci.yml", []scan.Related{
			{Path: "ci/build.yml", Source: ref.SourceGitLab},
			{Path: "ci/test.yml", Source: ref.SourceGitLab},
			{Path: "ci/string.yml", Source: ref.SourceGitLab},
			{Path: "child/pipeline.yml", Source: ref.SourceGitLab},
			{Path: "child/two.yml", Source: ref.SourceGitLab},
		}},
		{"project/.gitlab-ci.yml", []scan.Related{
			{Path: "project/ci/build.yml", Source: ref.SourceGitLab},
			{Path: "project/ci/test.yml", Source: ref.SourceGitLab},
			{Path: "project/ci/string.yml", Source: ref.SourceGitLab},
			{Path: "project/child/pipeline.yml", Source: ref.SourceGitLab},
			{Path: "project/child/two.yml", Source: ref.SourceGitLab},
		}},
		// An included file does not know the project root its own
		// includes are relative to.
		{"ci/build.yml", nil},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			res, err := Scan(tt.path, []byte(in))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, res.Related); diff != "" {
				t.Errorf("related (-want +got):\n%s", diff)
			}
		})
	}
}

func TestScanInvalidYAML(t *testing.T) {
	tests := []struct {
		name, in string
		line     int
	}{
		// The lines are those yaml.v3 names.
		{"bad indentation", "job:\n  image: alpine\n    services: [x]\n", 3},
		{"unclosed flow", "job:\n  services: [a, b\n", 1},
		{"unclosed quote", "job:\n  script:\n    - \"echo\n", 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			yamlreftest.ExpectErrorAt(t, Scan, ".gitlab-ci.yml", []byte(tt.in), tt.line)
		})
	}
}

// deepMerges returns mappings .l1 to .l<n-1>, each merging the one before
// it; .l0 is the caller's.
func deepMerges(n int) string {
	var b strings.Builder
	for i := 1; i < n; i++ {
		fmt.Fprintf(&b, ".l%d: &l%d {<<: *l%d}\n", i, i, i-1)
	}
	return b.String()
}

// mergeBomb returns n+1 anchored mappings, each merging the one before it
// twice: expanded naively, the last one holds 2^n merges.
func mergeBomb(n int) string {
	var b strings.Builder
	b.WriteString(".x0: &x0 {V: \"0\"}\n")
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, ".x%d: &x%d {<<: [*x%d, *x%d]}\n", i, i, i-1, i-1)
	}
	return b.String()
}

// TestScanValueStart checks that a value is found where yaml.v3's position
// of its node is not: on the first line after a byte order mark, which
// yaml.v3 does not count as a column; after an anchor and a comment, with
// the value on the next line; after the bare tag !. Each reference's
// position holds its text and, when it has an edit, a pin rewrites exactly
// that text.
func TestScanValueStart(t *testing.T) {
	const bom = "\ufeff"
	tests := []struct {
		name     string
		in       string
		refs     []string
		commands []string // line:column-line:column text
		pinned   string   // the file once pinned, "" when nothing may be
	}{
		{
			name:     "byte order mark",
			in:       bom + "image: alpine:3\njob:\n  script: [echo]\n",
			refs:     []string{`1:11-1:19 "alpine:3" name=docker.io/library/alpine tag=3 @image edit`},
			commands: []string{`3:12-3:16 "echo"`},
			pinned:   bom + "image: alpine:3@" + yamlreftest.PinDigest + "\njob:\n  script: [echo]\n",
		},
		{
			name:     "byte order mark, flow mapping",
			in:       bom + "{job: {image: 'alpine:3', script: \"echo\\x20hi\"}}\n",
			refs:     []string{`1:19-1:27 "alpine:3" name=docker.io/library/alpine tag=3 @job.image edit`},
			commands: []string{`1:39-1:49 "echo hi"`},
			pinned:   bom + "{job: {image: 'alpine:3@" + yamlreftest.PinDigest + "', script: \"echo\\x20hi\"}}\n",
		},
		{
			name:   "comment after an anchor",
			in:     "job:\n  image: &a # c\n    \"alpine:3\"\n",
			refs:   []string{`3:6-3:14 "alpine:3" name=docker.io/library/alpine tag=3 @job.image edit`},
			pinned: "job:\n  image: &a # c\n    \"alpine:3@" + yamlreftest.PinDigest + "\"\n",
		},
		{
			name: "comment after an anchor, escaped value",
			in:   "job:\n  image: &a # c\n    \"alp\\x69ne:3\"\n",
			refs: []string{`3:6-3:17 "alp\\x69ne:3" name=docker.io/library/alpine tag=3 @job.image noedit`},
		},
		{
			name:     "comment after a tag, script",
			in:       "job:\n  script: !!str # c\n    \"echo\\x20hi\"\n",
			commands: []string{`3:6-3:16 "echo hi"`},
		},
		{
			name:     "bare ! tag",
			in:       "job:\n  image: ! \"alp\\x69ne:3\"\n  script: ! \"echo\\x20hi\"\n  after_script: ! |\n    echo bye\n",
			refs:     []string{`2:13-2:24 "alp\\x69ne:3" name=docker.io/library/alpine tag=3 @job.image noedit`},
			commands: []string{`3:14-3:24 "echo hi"`, `5:5-5:13 "echo bye\n"`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			data := []byte(tt.in)
			res, err := Scan(".gitlab-ci.yml", data)
			if err != nil {
				t.Fatal(err)
			}
			checkPositions(t, data, res)
			var refs, commands []string
			for _, r := range res.Refs {
				refs = append(refs, short(r))
			}
			for _, c := range res.Commands {
				commands = append(commands, fmt.Sprintf("%d:%d-%d:%d %q", c.Line, c.Column, c.EndLine, c.EndColumn, c.Text))
			}
			if diff := cmp.Diff(tt.refs, refs); diff != "" {
				t.Errorf("refs (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.commands, commands); diff != "" {
				t.Errorf("commands (-want +got):\n%s", diff)
			}
			pinned := string(yamlreftest.Pin(data, res))
			if tt.pinned == "" {
				tt.pinned = tt.in
			}
			if diff := cmp.Diff(tt.pinned, pinned); diff != "" {
				t.Errorf("pinned (-want +got):\n%s", diff)
			}
			yamlreftest.RoundTrip(t, ".gitlab-ci.yml", data, res, Scan)
		})
	}
}

// TestScanInvalidImage checks that an image written without variables that
// is no image reference is an error at its place, returned with the other
// references, and that values with variables are left to GitLab.
func TestScanInvalidImage(t *testing.T) {
	t.Parallel()
	const rest = "ok:\n  image: redis:7\nvars:\n  variables: {RAW: {value: 'alpine:$TAG', expand: false}}\n  image: $RAW\n"
	for _, tt := range []struct {
		in        string
		line, col int
		msg       string
	}{
		{"a:\n  image: node:20@sha256:abc\n", 2, 10, `a.image node:20@sha256:abc: its digest "sha256:abc" is invalid`},
		{"a:\n  image: {name: Alpine:3}\n", 2, 17, "a.image.name Alpine:3: its repository name must be lowercase"},
		{"a:\n  services: [\"Not An Image\"]\n", 2, 15, "it holds blanks"},
	} {
		res := yamlreftest.ExpectInvalid(t, Scan, ".gitlab-ci.yml", []byte(tt.in+rest), tt.line, tt.col, tt.msg)
		yamlreftest.CheckCommands(t, []byte(tt.in+rest), res, ref.SourceGitLab, "script")
		yamlreftest.RoundTrip(t, ".gitlab-ci.yml", []byte(tt.in+rest), res, Scan)
		var texts []string
		for _, r := range res.Refs {
			texts = append(texts, r.Text)
		}
		if diff := cmp.Diff([]string{"redis:7"}, texts); diff != "" {
			t.Errorf("refs (-want +got):\n%s", diff)
		}
	}
}
