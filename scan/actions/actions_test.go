package actions

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/stet-dev/stet/ref"
	"github.com/stet-dev/stet/scan"
	"github.com/stet-dev/stet/scan/internal/yamlref/yamlreftest"
)

const sha = "11bd71901bbe5b1630ceea73d27597364c9af683"

// short renders a Ref on one line: position, kind, text, reading, context
// and edit form, so that a table states every field compactly.
func short(r ref.Ref) string {
	s := fmt.Sprintf("%d:%d-%d:%d %s %q name=%s tag=%s", r.Line, r.Column, r.EndLine, r.EndColumn, r.Kind, r.Text, r.Name, r.Tag)
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
	case r.Edit.Form == ref.FormAction:
		s += " edit=action"
	case r.Edit.Form == ref.FormReference:
		s += " edit=reference"
	default:
		s += fmt.Sprintf(" edit=%d", r.Edit.Form)
	}
	return s
}

// checkPositions asserts the invariants every Ref and Command of a workflow
// or action file must hold (see yamlreftest.CheckCommands).
func checkPositions(t *testing.T, data []byte, res *scan.Result) {
	t.Helper()
	yamlreftest.CheckCommands(t, data, res, ref.SourceActions, "run")
}

func TestScan(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{
			name: "step actions",
			in: `on: push
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - name: setup
        uses: actions/setup-go@v5.0.1
      - uses: ./local/action
      - uses: ./
      - uses: github/codeql-action/init@v3
`,
			want: []string{
				`6:15-6:34 action "actions/checkout@v4" name=actions/checkout tag=v4 @jobs.build.steps[0].uses edit=action`,
				`8:15-8:38 action "actions/setup-go@v5.0.1" name=actions/setup-go tag=v5.0.1 @jobs.build.steps[1].uses edit=action`,
				`11:15-11:43 action "github/codeql-action/init@v3" name=github/codeql-action/init tag=v3 @jobs.build.steps[4].uses edit=action`,
			},
		},
		{
			name: "sha pins with version comments",
			in: `jobs:
  a:
    steps:
      - uses: actions/checkout@` + sha + ` # v4.2.2
      - uses: actions/cache@` + sha + `  #v4
      - uses: actions/setup-node@` + sha + ` # tag=v4.0.3
      - uses: actions/setup-python@` + sha + ` # pin @v5.1.0
      - uses: 'actions/upload-artifact@` + sha + `' # ratchet:actions/upload-artifact@v4
      - uses: actions/download-artifact@` + sha + `
      - uses: actions/labeler@` + sha + ` # do not upgrade
      - uses: actions/stale@` + sha + ` # main
      - uses: actions/cache@v4 # v4.2.2
`,
			want: []string{
				`4:15-4:72 action "actions/checkout@` + sha + `" name=actions/checkout tag=v4.2.2 digest=` + sha + ` @jobs.a.steps[0].uses edit=action`,
				`5:15-5:69 action "actions/cache@` + sha + `" name=actions/cache tag=v4 digest=` + sha + ` @jobs.a.steps[1].uses edit=action`,
				`6:15-6:74 action "actions/setup-node@` + sha + `" name=actions/setup-node tag=v4.0.3 digest=` + sha + ` @jobs.a.steps[2].uses edit=action`,
				`7:15-7:76 action "actions/setup-python@` + sha + `" name=actions/setup-python tag=v5.1.0 digest=` + sha + ` @jobs.a.steps[3].uses edit=action`,
				`8:16-8:80 action "actions/upload-artifact@` + sha + `" name=actions/upload-artifact tag=v4 digest=` + sha + ` @jobs.a.steps[4].uses edit=action`,
				`9:15-9:81 action "actions/download-artifact@` + sha + `" name=actions/download-artifact tag= digest=` + sha + ` @jobs.a.steps[5].uses edit=action`,
				`10:15-10:71 action "actions/labeler@` + sha + `" name=actions/labeler tag= digest=` + sha + ` @jobs.a.steps[6].uses edit=action`,
				`11:15-11:69 action "actions/stale@` + sha + `" name=actions/stale tag=main digest=` + sha + ` @jobs.a.steps[7].uses edit=action`,
				`12:15-12:31 action "actions/cache@v4" name=actions/cache tag=v4 @jobs.a.steps[8].uses edit=action`,
			},
		},
		{
			name: "image input of setup-qemu-action",
			in: `jobs:
  a:
    steps:
      - uses: docker/setup-qemu-action@v3
        with:
          image: tonistiigi/binfmt:qemu-v9.2.2
      - uses: Docker/Setup-QEMU-Action@v3
        with: {image: "${{ vars.BINFMT }}"}
      - uses: docker/setup-qemu-action@v3
      - uses: docker/setup-buildx-action@v3
        with:
          image: not/read:1
`,
			want: []string{
				`4:15-4:42 action "docker/setup-qemu-action@v3" name=docker/setup-qemu-action tag=v3 @jobs.a.steps[0].uses edit=action`,
				`6:18-6:47 image "tonistiigi/binfmt:qemu-v9.2.2" name=docker.io/tonistiigi/binfmt tag=qemu-v9.2.2 @jobs.a.steps[0].with.image edit=reference`,
				`7:15-7:42 action "Docker/Setup-QEMU-Action@v3" name=Docker/Setup-QEMU-Action tag=v3 @jobs.a.steps[1].uses edit=action`,
				`8:24-8:42 image "${{ vars.BINFMT }}" name= tag= dynamic @jobs.a.steps[1].with.image noedit`,
				`9:15-9:42 action "docker/setup-qemu-action@v3" name=docker/setup-qemu-action tag=v3 @jobs.a.steps[2].uses edit=action`,
				`10:15-10:44 action "docker/setup-buildx-action@v3" name=docker/setup-buildx-action tag=v3 @jobs.a.steps[3].uses edit=action`,
			},
		},
		{
			name: "buildkit image of setup-buildx-action",
			in: `jobs:
  a:
    steps:
      - uses: docker/setup-buildx-action@v3
        with:
          driver-opts: |
            network=host
            image=moby/buildkit:v0.18.2
      - uses: docker/setup-buildx-action@v3
        with:
          driver-opts: "network=host, image=moby/buildkit:${{ env.BK }}"
      - uses: docker/setup-buildx-action@v3
        with: {driver-opts: network=host}
`,
			want: []string{
				`4:15-4:44 action "docker/setup-buildx-action@v3" name=docker/setup-buildx-action tag=v3 @jobs.a.steps[0].uses edit=action`,
				`8:19-8:40 image "moby/buildkit:v0.18.2" name=docker.io/moby/buildkit tag=v0.18.2 @jobs.a.steps[0].with.driver-opts edit=reference`,
				`9:15-9:44 action "docker/setup-buildx-action@v3" name=docker/setup-buildx-action tag=v3 @jobs.a.steps[1].uses edit=action`,
				`11:45-11:72 image "moby/buildkit:${{ env.BK }}" name=docker.io/moby/buildkit tag= dynamic @jobs.a.steps[1].with.driver-opts noedit`,
				`12:15-12:44 action "docker/setup-buildx-action@v3" name=docker/setup-buildx-action tag=v3 @jobs.a.steps[2].uses edit=action`,
			},
		},
		{
			name: "docker steps",
			in: `jobs:
  a:
    steps:
      - uses: docker://alpine:3.19
      - uses: "docker://ghcr.io/sudo-bmitch/version-bump:edge"
      - uses: docker://k8slt/labeler@sha256:69b376b059806729c25c7d1f6cb0c88e1547eae6f57451414d108915bf4ddffd
      - uses: docker://alpine
`,
			want: []string{
				`4:24-4:35 image "alpine:3.19" name=docker.io/library/alpine tag=3.19 @jobs.a.steps[0].uses edit=reference`,
				`5:25-5:62 image "ghcr.io/sudo-bmitch/version-bump:edge" name=ghcr.io/sudo-bmitch/version-bump tag=edge @jobs.a.steps[1].uses edit=reference`,
				`6:24-6:109 image "k8slt/labeler@sha256:69b376b059806729c25c7d1f6cb0c88e1547eae6f57451414d108915bf4ddffd" name=docker.io/k8slt/labeler tag= digest=sha256:69b376b059806729c25c7d1f6cb0c88e1547eae6f57451414d108915bf4ddffd @jobs.a.steps[2].uses edit=reference`,
				`7:24-7:30 image "alpine" name=docker.io/library/alpine tag=latest @jobs.a.steps[3].uses edit=reference`,
			},
		},
		{
			name: "reusable workflows",
			in: `jobs:
  call:
    uses: octo-org/example-repo/.github/workflows/reusable.yml@v1
    with: {x: 1}
  pinned:
    uses: tektoncd/plumbing/.github/workflows/_chatops_retest.yml@` + sha + `  # main
  local:
    uses: ./.github/workflows/local.yml
`,
			want: []string{
				`3:11-3:66 action "octo-org/example-repo/.github/workflows/reusable.yml@v1" name=octo-org/example-repo/.github/workflows/reusable.yml tag=v1 @jobs.call.uses edit=action`,
				`6:11-6:107 action "tektoncd/plumbing/.github/workflows/_chatops_retest.yml@` + sha + `" name=tektoncd/plumbing/.github/workflows/_chatops_retest.yml tag=main digest=` + sha + ` @jobs.pinned.uses edit=action`,
			},
		},
		{
			name: "containers and services",
			in: `jobs:
  str:
    container: node:20-bookworm
    services:
      redis: redis:7
  map:
    container:
      image: 'ghcr.io/actions/test-ubuntu-git:main.20240221.114913.703z'
      options: --user root
    services:
      squid:
        image: ubuntu/squid:latest
        ports: ['3128:3128']
      pg:
        image: postgres@sha256:0dcd21d8b6464a526e3225f44c50f34687e861dcf010f566b3caa4f0e5cd898a
  prefixed:
    container: docker://node:22
  empty:
    container: ''
    services:
      none: {ports: [80]}
`,
			want: []string{
				`3:16-3:32 image "node:20-bookworm" name=docker.io/library/node tag=20-bookworm @jobs.str.container edit=reference`,
				`5:14-5:21 image "redis:7" name=docker.io/library/redis tag=7 @jobs.str.services.redis edit=reference`,
				`8:15-8:72 image "ghcr.io/actions/test-ubuntu-git:main.20240221.114913.703z" name=ghcr.io/actions/test-ubuntu-git tag=main.20240221.114913.703z @jobs.map.container.image edit=reference`,
				`12:16-12:35 image "ubuntu/squid:latest" name=docker.io/ubuntu/squid tag=latest @jobs.map.services.squid.image edit=reference`,
				`15:16-15:96 image "postgres@sha256:0dcd21d8b6464a526e3225f44c50f34687e861dcf010f566b3caa4f0e5cd898a" name=docker.io/library/postgres tag= digest=sha256:0dcd21d8b6464a526e3225f44c50f34687e861dcf010f566b3caa4f0e5cd898a @jobs.map.services.pg.image edit=reference`,
				`17:25-17:32 image "node:22" name=docker.io/library/node tag=22 @jobs.prefixed.container edit=reference`,
			},
		},
		{
			name: "expressions are dynamic",
			in: `jobs:
  a:
    container: ${{ matrix.image }}
    services:
      db:
        image: gcc:${{ matrix.compiler }}
    steps:
      - uses: owner/repo@${{ inputs.ref }}
      - uses: ${{ matrix.action }}
      - uses: docker://ghcr.io/x/y:${{ env.TAG }}
  b:
    container:
      image: registry://${{ env.REPO_SLUG }}:master
`,
			want: []string{
				`3:16-3:35 image "${{ matrix.image }}" name= tag= dynamic @jobs.a.container noedit`,
				`6:16-6:42 image "gcc:${{ matrix.compiler }}" name=docker.io/library/gcc tag= dynamic @jobs.a.services.db.image noedit`,
				`8:15-8:43 action "owner/repo@${{ inputs.ref }}" name=owner/repo tag= dynamic @jobs.a.steps[0].uses noedit`,
				`9:15-9:35 action "${{ matrix.action }}" name= tag= dynamic @jobs.a.steps[1].uses noedit`,
				`10:24-10:50 image "ghcr.io/x/y:${{ env.TAG }}" name=ghcr.io/x/y tag= dynamic @jobs.a.steps[2].uses noedit`,
				`13:14-13:52 image "registry://${{ env.REPO_SLUG }}:master" name= tag= dynamic @jobs.b.container.image noedit`,
			},
		},
		{
			name: "composite action",
			in: `name: x
runs:
  using: composite
  steps:
    - uses: actions/setup-go@v5
    - run: echo hi
      shell: bash
    - uses: "docker://busybox:1.36"
`,
			want: []string{
				`5:13-5:32 action "actions/setup-go@v5" name=actions/setup-go tag=v5 @runs.steps[0].uses edit=action`,
				`8:23-8:35 image "busybox:1.36" name=docker.io/library/busybox tag=1.36 @runs.steps[2].uses edit=reference`,
			},
		},
		{
			name: "docker action",
			in: `runs:
  using: docker
  image: "docker://ghcr.io/super-linter/super-linter:v8.7.0" # x-release-please-version
`,
			want: []string{
				`3:20-3:60 image "ghcr.io/super-linter/super-linter:v8.7.0" name=ghcr.io/super-linter/super-linter tag=v8.7.0 @runs.image edit=reference`,
			},
		},
		{
			name: "flow mappings",
			in: `jobs: {a: {runs-on: x, container: {image: "alpine:3"}, steps: [{uses: actions/checkout@v4}, {uses: "a/b@` + sha + `"}]}} # v1
runs:
  steps:
    - {uses: actions/cache@` + sha + `} # v4.1.0
    - {uses: actions/cache@` + sha + `,
       with: {path: x}} # v4.1.0
`,
			want: []string{
				`1:44-1:52 image "alpine:3" name=docker.io/library/alpine tag=3 @jobs.a.container.image edit=reference`,
				`1:71-1:90 action "actions/checkout@v4" name=actions/checkout tag=v4 @jobs.a.steps[0].uses edit=action`,
				`1:101-1:145 action "a/b@` + sha + `" name=a/b tag= digest=` + sha + ` @jobs.a.steps[1].uses edit=action`,
				`4:14-4:68 action "actions/cache@` + sha + `" name=actions/cache tag=v4.1.0 digest=` + sha + ` @runs.steps[0].uses edit=action`,
				`5:14-5:68 action "actions/cache@` + sha + `" name=actions/cache tag= digest=` + sha + ` @runs.steps[1].uses edit=action`,
			},
		},
		{
			name: "anchors and aliases",
			in: `jobs:
  a:
    container:
      image: &img golang:1.26.7-trixie
  b:
    container:
      image: *img
  c:
    container: &ctr
      image: !!str redis:7
  d:
    container: *ctr
`,
			want: []string{
				`4:19-4:39 image "golang:1.26.7-trixie" name=docker.io/library/golang tag=1.26.7-trixie @jobs.a.container.image edit=reference`,
				`10:20-10:27 image "redis:7" name=docker.io/library/redis tag=7 @jobs.c.container.image edit=reference`,
			},
		},
		{
			name: "a block of one line is edited there, escaped scalars are located but not edited",
			in: `jobs:
  a:
    container: >-
      alpine:3.20
    steps:
      - uses: "actions/checkout@\x76\x34"
`,
			want: []string{
				`4:7-4:18 image "alpine:3.20" name=docker.io/library/alpine tag=3.20 @jobs.a.container edit=reference`,
				`6:16-6:41 action "actions/checkout@\\x76\\x34" name=actions/checkout tag=v4 @jobs.a.steps[0].uses noedit`,
			},
		},
		{
			name: "not references",
			in: `jobs:
  a:
    steps:
      - uses: ''
      - uses: [a, b]
      - run: echo
  b: [x]
  c: "y"
runs: plain
`,
			want: nil,
		},
		{
			name: "crlf line endings",
			in:   "jobs:\r\n  a:\r\n    steps:\r\n      - uses: actions/checkout@v4 # v4\r\n      - uses: 'actions/cache@" + sha + "' # v4.1.0\r\n",
			want: []string{
				`4:15-4:34 action "actions/checkout@v4" name=actions/checkout tag=v4 @jobs.a.steps[0].uses edit=action`,
				`5:16-5:70 action "actions/cache@` + sha + `" name=actions/cache tag=v4.1.0 digest=` + sha + ` @jobs.a.steps[1].uses edit=action`,
			},
		},
		{
			name: "block scalars: one line is the value, several lines are no image, an action is not edited",
			in: `jobs:
  a:
    container:
      image: |
        node:20
    services:
      db:
        image: >-
          postgres:16
          -alpine
      cache: |- # the cache
        redis:7
    steps:
      - uses: >-
          actions/checkout@v4
`,
			want: []string{
				// | keeps the line break: the value is not the image.
				`5:9-5:16 image "node:20" name= tag= dynamic @jobs.a.container.image noedit`,
				"9:11-10:18 image \"postgres:16\\n          -alpine\" name= tag= dynamic @jobs.a.services.db.image noedit",
				`12:9-12:16 image "redis:7" name=docker.io/library/redis tag=7 @jobs.a.services.cache edit=reference`,
				// The version comment a pin writes would be part of the block.
				`15:11-15:30 action "actions/checkout@v4" name=actions/checkout tag=v4 @jobs.a.steps[0].uses noedit`,
			},
		},
		{
			name: "multi-byte characters before a value",
			in: `jobs:
  ünïcödé:
    name: "étape ✓"
    container: { image: nginx:1-alpine, options: "ü" }
`,
			want: []string{
				`4:25-4:39 image "nginx:1-alpine" name=docker.io/library/nginx tag=1-alpine @jobs.ünïcödé.container.image edit=reference`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res, err := Scan("wf.yml", []byte(tt.in))
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
	in := `jobs:
  a:
    steps:
      - run: go install golang.org/x/tools/cmd/stringer@latest
      - name: multi
        run: |
          curl -fsSL https://example.com/install.sh | sh
          echo done

      - run: "echo \"quoted\""
      - run: >-
          folded
          line
runs:
  using: composite
  steps:
    - run: make
      shell: bash
    - run: ''
`
	type cmd struct {
		Line, Column, EndLine, EndColumn int
		Text                             string
	}
	want := []cmd{
		{4, 14, 4, 63, "go install golang.org/x/tools/cmd/stringer@latest"},
		{7, 11, 8, 20, "curl -fsSL https://example.com/install.sh | sh\necho done\n"},
		{10, 15, 10, 30, `echo "quoted"`},
		{12, 11, 13, 15, "folded line"},
		{17, 12, 17, 16, "make"},
	}
	res, err := Scan("wf.yml", []byte(in))
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

func TestScanRelated(t *testing.T) {
	tests := []struct {
		path, in string
		want     []scan.Related
	}{
		{"action.yml", "runs:\n  using: docker\n  image: Dockerfile\n", []scan.Related{{Path: "Dockerfile", Source: ref.SourceDockerfile}}},
		{".github/actions/mkdocs/action.yml", "runs:\n  using: docker\n  image: 'docker/Dockerfile'\n", []scan.Related{{Path: ".github/actions/mkdocs/docker/Dockerfile", Source: ref.SourceDockerfile}}},
		{"action.yml", "runs:\n  using: docker\n  image: docker://alpine:3\n", nil},
		{"action.yml", "runs:\n  using: node20\n  main: dist/index.js\n", nil},
	}
	for _, tt := range tests {
		t.Run(tt.path+" "+tt.in, func(t *testing.T) {
			res, err := Scan(tt.path, []byte(tt.in))
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
		// yaml.v3 names the line of the mapping it could not finish.
		{"bad indentation", "jobs:\n  a:\n    steps:\n      - uses: a/b@v1\n     - uses: c/d@v2\n", 2},
		{"unclosed quote", "jobs:\n  a:\n    container: \"alpine\n", 3},
		{"tab indentation", "jobs:\n\ta: 1\n", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			yamlreftest.ExpectErrorAt(t, Scan, "wf.yml", []byte(tt.in), tt.line)
		})
	}
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
		pinned   string   // the file once its images are pinned, "" when none may be
	}{
		{
			name:   "byte order mark",
			in:     bom + "runs: {using: docker, image: docker://alpine:3}\n",
			refs:   []string{`1:42-1:50 image "alpine:3" name=docker.io/library/alpine tag=3 @runs.image edit=reference`},
			pinned: bom + "runs: {using: docker, image: docker://alpine:3@" + yamlreftest.PinDigest + "}\n",
		},
		{
			name:     "byte order mark, script",
			in:       bom + "runs: {using: composite, steps: [{run: \"echo\\x20hi\", shell: bash}]}\n",
			commands: []string{`1:44-1:54 "echo hi"`},
		},
		{
			name: "comment after an anchor",
			in:   "jobs:\n  a:\n    container: &c # c\n      \"alpine:3\"\n    steps:\n      - uses: &u # c\n          actions/checkout@v4\n",
			refs: []string{
				`4:8-4:16 image "alpine:3" name=docker.io/library/alpine tag=3 @jobs.a.container edit=reference`,
				`7:11-7:30 action "actions/checkout@v4" name=actions/checkout tag=v4 @jobs.a.steps[0].uses edit=action`,
			},
			pinned: "jobs:\n  a:\n    container: &c # c\n      \"alpine:3@" + yamlreftest.PinDigest + "\"\n    steps:\n      - uses: &u # c\n          actions/checkout@v4\n",
		},
		{
			name: "comment after an anchor, escaped value",
			in:   "jobs:\n  a:\n    container: &c # c\n      \"alp\\x69ne:3\"\n",
			refs: []string{`4:8-4:19 image "alp\\x69ne:3" name=docker.io/library/alpine tag=3 @jobs.a.container noedit`},
		},
		{
			name:     "bare ! tag",
			in:       "jobs:\n  a:\n    container: ! \"alp\\x69ne:3\"\n    steps:\n      - run: ! \"echo\\x20hi\"\n",
			refs:     []string{`3:19-3:30 image "alp\\x69ne:3" name=docker.io/library/alpine tag=3 @jobs.a.container noedit`},
			commands: []string{`5:17-5:27 "echo hi"`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			data := []byte(tt.in)
			res, err := Scan("action.yml", data)
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
			if tt.pinned == "" {
				tt.pinned = tt.in
			}
			if diff := cmp.Diff(tt.pinned, string(yamlreftest.Pin(data, res))); diff != "" {
				t.Errorf("pinned (-want +got):\n%s", diff)
			}
		})
	}
}

// TestScanInvalid checks that a value written out in full that is no
// reference, where an image or an action belongs, is an error at its place,
// returned with the other references.
func TestScanInvalid(t *testing.T) {
	t.Parallel()
	const rest = "  ok:\n    container: redis:7\n"
	for _, tt := range []struct {
		in        string
		line, col int
		msg       string
	}{
		{"jobs:\n  a:\n    container: node:20@sha256:abc\n", 3, 16, `jobs.a.container node:20@sha256:abc: its digest "sha256:abc" is invalid`},
		{"jobs:\n  a:\n    container: {image: \"Not An Image\"}\n", 3, 25, "it holds blanks: not an image reference"},
		{"jobs:\n  a:\n    services: {db: Postgres:16}\n", 3, 20, "jobs.a.services.db Postgres:16: its repository name must be lowercase"},
		{"jobs:\n  a:\n    steps:\n      - uses: actions/checkout\n", 4, 15, "jobs.a.steps[0].uses actions/checkout: it has no @ref (a tag, a branch or a commit): not an action reference"},
		{"jobs:\n  a:\n    steps:\n      - uses: actions/checkout@\n", 4, 15, "its @ref is empty"},
		{"jobs:\n  a:\n    uses: checkout@v4\n", 3, 11, "it names no repository"},
		{"jobs:\n  a:\n    steps:\n      - uses: docker://Node:20\n", 4, 24, "jobs.a.steps[0].uses Node:20: its repository name must be lowercase"},
		{"jobs:\n  a:\n    steps:\n      - uses: docker/setup-qemu-action@v3\n        with: {image: 'binfmt:'}\n", 5, 24, "its tag is empty"},
		{"jobs:\n  a:\n    steps:\n      - uses: docker/setup-buildx-action@v3\n        with: {driver-opts: 'network=host,image=Moby/buildkit:1'}\n", 5, 49, "must be lowercase"},
		{"jobs:\n  a:\n    strategy: {matrix: {image: [node:20, Node:22]}}\n    container: ${{ matrix.image }}\n", 3, 42, "jobs.a.container ← matrix.image[1] Node:22: its repository name must be lowercase"},
	} {
		res := yamlreftest.ExpectInvalid(t, Scan, "wf.yml", []byte(tt.in+rest), tt.line, tt.col, tt.msg)
		checkPositions(t, []byte(tt.in+rest), res)
		var texts []string
		for _, r := range res.Refs {
			if r.Kind == ref.Image {
				texts = append(texts, r.Text)
			}
		}
		if n := len(texts); n == 0 || texts[n-1] != "redis:7" {
			t.Errorf("%q: images %q, want redis:7 last", tt.in, texts)
		}
	}
}
