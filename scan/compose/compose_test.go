package compose

import (
	"flag"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/stet-dev/stet/ref"
	"github.com/stet-dev/stet/scan"
	"github.com/stet-dev/stet/scan/internal/yamlref"
	"github.com/stet-dev/stet/scan/internal/yamlref/yamlreftest"
)

var update = flag.Bool("update", false, "rewrite golden files")

// got is the part of a ref the table tests compare.
type got struct {
	Line, Column int
	Text         string
	Name, Tag    string
	Digest       string
	Dynamic      bool
	Context      string
	Edit         string // what the edit span holds now, "-" when there is none
}

func summarize(data []byte, res *scan.Result) []got {
	var out []got
	for _, r := range res.Refs {
		g := got{r.Line, r.Column, r.Text, r.Name, r.Tag, r.Digest, r.Dynamic, r.Context, "-"}
		if r.Edit != nil {
			g.Edit = string(data[r.Edit.Start:r.Edit.End])
			if r.Edit.Form != ref.FormReference {
				g.Edit = "form?"
			}
		}
		out = append(out, g)
	}
	return out
}

const digest = "sha256:0d39fcc8335d6d74d5502f6df2d30119ff4790ebbb60b364818d5112d9e3e932"

func TestScan(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want []got
	}{
		{
			name: "plain",
			in:   "services:\n  web:\n    image: nginx:1-alpine\n",
			want: []got{{3, 12, "nginx:1-alpine", "docker.io/library/nginx", "1-alpine", "", false, "services.web.image", "nginx:1-alpine"}},
		},
		{
			name: "quoted and pinned",
			in:   "services:\n  db:\n    image: \"ghcr.io/a/b:2@" + digest + "\"\n",
			want: []got{{3, 13, "ghcr.io/a/b:2@" + digest, "ghcr.io/a/b", "2", digest, false, "services.db.image", "ghcr.io/a/b:2@" + digest}},
		},
		{
			name: "no tag means latest",
			in:   "services:\n  r:\n    image: 'redis'\n",
			want: []got{{3, 13, "redis", "docker.io/library/redis", "latest", "", false, "services.r.image", "redis"}},
		},
		{
			name: "defaults substituted, no edit",
			in:   "services:\n  web:\n    image: ${REPO:-ghcr.io/jitsi}/web:${VERSION-unstable}\n",
			want: []got{{3, 12, "${REPO:-ghcr.io/jitsi}/web:${VERSION-unstable}", "ghcr.io/jitsi/web", "unstable", "", false, "services.web.image", "-"}},
		},
		{
			name: "build contexts taken from images, map form",
			in: "services:\n  app:\n    build:\n      context: .\n      additional_contexts:\n" +
				"        base: docker-image://alpine:3.20\n        src: ../src\n        tools: \"docker-image://ghcr.io/a/tools:1@" + digest + "\"\n" +
				"        other: oci-layout://./layout\n",
			want: []got{
				{6, 30, "alpine:3.20", "docker.io/library/alpine", "3.20", "", false, "services.app.build.additional_contexts.base", "alpine:3.20"},
				{8, 32, "ghcr.io/a/tools:1@" + digest, "ghcr.io/a/tools", "1", digest, false, "services.app.build.additional_contexts.tools", "ghcr.io/a/tools:1@" + digest},
			},
		},
		{
			name: "build contexts taken from images, list form, with a variable",
			in: "services:\n  app:\n    image: app:dev\n    build:\n      dockerfile_inline: FROM base\n      additional_contexts:\n" +
				"        - base=docker-image://golang:${GO:-1.22}\n        - src=.\n        - 'x=docker-image://${IMG}'\n",
			want: []got{
				{7, 31, "golang:${GO:-1.22}", "docker.io/library/golang", "1.22", "", false, "services.app.build.additional_contexts[0]", "-"},
				{9, 29, "${IMG}", "", "", "", true, "services.app.build.additional_contexts[2]", "-"},
			},
		},
		{
			name: "nested default",
			in:   "services:\n  web:\n    image: app:${A:-${B:-1.2}}\n",
			want: []got{{3, 12, "app:${A:-${B:-1.2}}", "docker.io/library/app", "1.2", "", false, "services.web.image", "-"}},
		},
		{
			name: "variable without default in tag",
			in:   "services:\n  db:\n    image: postgres:${PG_VERSION}\n",
			want: []got{{3, 12, "postgres:${PG_VERSION}", "docker.io/library/postgres", "", "", true, "services.db.image", "-"}},
		},
		{
			name: "bare variable",
			in:   "services:\n  db:\n    image: $IMAGE\n",
			want: []got{{3, 12, "$IMAGE", "", "", "", true, "services.db.image", "-"}},
		},
		{
			name: "required variable",
			in:   "services:\n  db:\n    image: ${IMAGE:?set IMAGE}\n",
			want: []got{{3, 12, "${IMAGE:?set IMAGE}", "", "", "", true, "services.db.image", "-"}},
		},
		{
			name: "alternative value is empty when unset",
			in:   "services:\n  db:\n    image: app${SUFFIX:+-$SUFFIX}:1\n",
			want: []got{{3, 12, "app${SUFFIX:+-$SUFFIX}:1", "docker.io/library/app", "1", "", false, "services.db.image", "-"}},
		},
		{
			name: "image beside build is the build output",
			in:   "services:\n  app:\n    build: .\n    image: me/app:dev\n",
		},
		{
			name: "anchor and merge key report once where written",
			in: "x-base: &base\n  image: busybox:1.36\n  restart: always\n" +
				"services:\n  a:\n    <<: *base\n  b:\n    <<: *base\n    command: x\n  c:\n    <<: *base\n    image: alpine:3\n",
			want: []got{
				{2, 10, "busybox:1.36", "docker.io/library/busybox", "1.36", "", false, "x-base.image", "busybox:1.36"},
				{12, 12, "alpine:3", "docker.io/library/alpine", "3", "", false, "services.c.image", "alpine:3"},
			},
		},
		{
			name: "merge list, first anchor wins",
			in: "x-a: &a {image: 'a:1'}\nx-b: &b {image: 'b:1'}\n" +
				"services:\n  s:\n    <<: [*a, *b]\n",
			want: []got{{1, 18, "a:1", "docker.io/library/a", "1", "", false, "x-a.image", "a:1"}},
		},
		{
			// Compose reads a mapping with yaml.v3, which follows merges
			// however deep they go and reads an alias key as the key it
			// names and !!merge on a key other than << as a tag.
			name: "merged 12 levels deep",
			in:   deepMerges(12) + "services:\n  s:\n    <<: *l11\n",
			want: []got{{1, 20, "a:1", "docker.io/library/a", "1", "", false, "x-l0.image", "a:1"}},
		},
		{
			name: "alias and !!merge keys",
			in: "x-k: {&k image: 'x:1'}\nx-f: &image foo\n" +
				"services:\n  a:\n    *k : a:1\n  b:\n    !!merge image: b:1\n  c:\n    *image : c:1\n    image: d:1\n",
			want: []got{
				{5, 10, "a:1", "docker.io/library/a", "1", "", false, "services.a.image", "a:1"},
				{7, 20, "b:1", "docker.io/library/b", "1", "", false, "services.b.image", "b:1"},
				{10, 12, "d:1", "docker.io/library/d", "1", "", false, "services.c.image", "d:1"},
			},
		},
		{
			name: "anchored scalar",
			in:   "services:\n  a:\n    image: &img nginx:1\n  b:\n    image: *img\n",
			want: []got{{3, 17, "nginx:1", "docker.io/library/nginx", "1", "", false, "services.a.image", "nginx:1"}},
		},
		{
			name: "build in an anchor hides the image",
			in:   "x-b: &b\n  build: ./app\nservices:\n  s:\n    <<: *b\n    image: me/app\n",
		},
		{
			name: "service is an alias",
			in:   "x-s: &s\n  image: nginx\nservices:\n  a: *s\n  b: *s\n",
			want: []got{{2, 10, "nginx", "docker.io/library/nginx", "latest", "", false, "x-s.image", "nginx"}},
		},
		{
			name: "extension fields and odd values",
			in:   "x-image: nginx:1\nservices:\n  a:\n    image: 12\n  b:\n    image:\n  c:\n  d: [1]\n",
		},
		{
			name: "block scalars: a stripped line is the value, several lines are no image",
			in: "services:\n  a:\n    image: |-\n      nginx:1\n  b:\n    image: >- # the database\n      mysql:8\n\n" +
				"  c:\n    image: |-\n      redis:7\n      -alpine\n",
			want: []got{
				{4, 7, "nginx:1", "docker.io/library/nginx", "1", "", false, "services.a.image", "nginx:1"},
				{7, 7, "mysql:8", "docker.io/library/mysql", "8", "", false, "services.b.image", "mysql:8"},
				{11, 7, "redis:7\n      -alpine", "", "", "", true, "services.c.image", "-"},
			},
		},
		{
			// The YAML value is not the line: a blank line before it,
			// indentation beyond the block's, the line break | keeps, a #
			// that is part of the value.
			name: "block scalars whose value is not the image on their line",
			in: "services:\n  a:\n    image: >-\n\n      python:3.12\n  b:\n    image: |2-\n        node:20\n" +
				"  c:\n    image: |\n      redis:7\n  d:\n    image: |-\n      nginx:1 # x\n",
			want: []got{
				{5, 7, "python:3.12", "", "", "", true, "services.a.image", "-"},
				{8, 9, "node:20", "", "", "", true, "services.b.image", "-"},
				{11, 7, "redis:7", "", "", "", true, "services.c.image", "-"},
				{14, 7, "nginx:1 # x", "", "", "", true, "services.d.image", "-"},
			},
		},
		{
			name: "version 1 layout",
			in:   "web:\n  image: nginx:1\n  links: [db]\ndb:\n  image: postgres:16\nversion: '1'\n",
			want: []got{
				{2, 10, "nginx:1", "docker.io/library/nginx", "1", "", false, "web.image", "nginx:1"},
				{5, 10, "postgres:16", "docker.io/library/postgres", "16", "", false, "db.image", "postgres:16"},
			},
		},
		{
			name: "a Kubernetes object is not a version 1 file",
			in:   "apiVersion: monitoring.coreos.com/v1\nkind: Prometheus\nspec:\n  image: quay.io/prometheus/prometheus:v3\n",
		},
		{
			name: "multibyte before the value and CRLF",
			in:   "services:\r\n  ü: {image: \"nginx:1\"}  # é\r\n",
			want: []got{{2, 16, "nginx:1", "docker.io/library/nginx", "1", "", false, "services.ü.image", "nginx:1"}},
		},
		{
			name: "byte order mark",
			in:   "\ufeffservices: {a: {image: nginx:1}}\n",
			want: []got{{1, 26, "nginx:1", "docker.io/library/nginx", "1", "", false, "services.a.image", "nginx:1"}},
		},
		{
			name: "escaped double quotes are reported as written, not editable",
			in:   "services:\n  a:\n    image: \"nginx:\\x31\"\n",
			want: []got{{3, 13, "nginx:\\x31", "docker.io/library/nginx", "1", "", false, "services.a.image", "-"}},
		},
		{
			name: "unterminated interpolation is skipped",
			in:   "services:\n  a:\n    image: nginx:${TAG\n",
		},
		{
			name: "multi-document",
			in:   "services: {a: {image: a}}\n---\nservices: {b: {image: b}}\n",
			want: []got{
				{1, 23, "a", "docker.io/library/a", "latest", "", false, "services.a.image", "a"},
				{3, 23, "b", "docker.io/library/b", "latest", "", false, "services.b.image", "b"},
			},
		},
		{
			name: "empty file",
			in:   "",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			data := []byte(tt.in)
			res, err := Scan("compose.yaml", data)
			if err != nil {
				t.Fatal(err)
			}
			yamlreftest.Check(t, data, res)
			yamlreftest.RoundTrip(t, "compose.yaml", data, res, Scan)
			if diff := cmp.Diff(tt.want, summarize(data, res)); diff != "" {
				t.Errorf("refs (-want +got):\n%s", diff)
			}
			for _, r := range res.Refs {
				if r.File != "compose.yaml" || r.Source != ref.SourceCompose || r.Kind != ref.Image {
					t.Errorf("ref %q: file %q source %q kind %q", r.Text, r.File, r.Source, r.Kind)
				}
			}
		})
	}
}

// deepMerges returns mappings x-l0 (image a:1) to x-l<n-1>, each merging
// the one before it.
func deepMerges(n int) string {
	var b strings.Builder
	b.WriteString("x-l0: &l0 {image: 'a:1'}\n")
	for i := 1; i < n; i++ {
		fmt.Fprintf(&b, "x-l%d: &l%d {<<: *l%d}\n", i, i, i-1)
	}
	return b.String()
}

func TestRelated(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		path string
		in   string
		want []scan.Related
	}{
		{
			name: "string context",
			path: "deploy/compose.yaml",
			in:   "services:\n  a:\n    build: ../app\n",
			want: []scan.Related{{Path: "app/Dockerfile", Source: ref.SourceDockerfile}},
		},
		{
			name: "map with context and dockerfile",
			path: "compose.yml",
			in:   "services:\n  a:\n    build:\n      context: .\n      dockerfile: backend/Dockerfile\n  b:\n    build: {context: ./web, dockerfile: Dockerfile.dev}\n",
			want: []scan.Related{
				{Path: "backend/Dockerfile", Source: ref.SourceDockerfile},
				{Path: "web/Dockerfile.dev", Source: ref.SourceDockerfile},
			},
		},
		{
			name: "default context, duplicate named once, absolute dockerfile",
			path: "x/compose.yaml",
			in:   "services:\n  a:\n    build: {}\n  b:\n    build: {dockerfile: Dockerfile}\n  c:\n    build: {context: /src, dockerfile: /etc/Dockerfile}\n  d:\n    build: {context: /src}\n",
			want: []scan.Related{
				{Path: "x/Dockerfile", Source: ref.SourceDockerfile},
				{Path: "/etc/Dockerfile", Source: ref.SourceDockerfile},
				{Path: "/src/Dockerfile", Source: ref.SourceDockerfile},
			},
		},
		{
			name: "remote, inline and unknown are skipped; defaults apply",
			path: "compose.yaml",
			in: "services:\n  a:\n    build: https://github.com/a/b.git#main\n  b:\n    build: git@github.com:a/b.git\n" +
				"  c:\n    build: {dockerfile_inline: 'FROM alpine'}\n  d:\n    build: {context: ., dockerfile: $DF}\n" +
				"  e:\n    build: {context: '${CTX:-svc}'}\n  f:\n    build: github.com/a/b\n",
			want: []scan.Related{{Path: "svc/Dockerfile", Source: ref.SourceDockerfile}},
		},
		{
			name: "include and extends name compose files",
			path: "a/compose.yaml",
			in: "include:\n  - other.yaml\n  - path: [../b/compose.yaml, c.yaml]\n  - path: oci://x/y\n" +
				"services:\n  s:\n    extends: {file: base.yaml, service: s}\n    image: nginx\n",
			want: []scan.Related{
				{Path: "a/other.yaml", Source: ref.SourceCompose},
				{Path: "b/compose.yaml", Source: ref.SourceCompose},
				{Path: "a/c.yaml", Source: ref.SourceCompose},
				{Path: "a/base.yaml", Source: ref.SourceCompose},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
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

func TestInterpolate(t *testing.T) {
	t.Parallel()
	u := yamlref.Unknown
	tests := []struct{ in, want string }{
		{"plain", "plain"},
		{"$$HOME", "$HOME"},
		{"$A-x", u + "-x"},
		{"${A}", u},
		{"${A:-x}", "x"},
		{"${A-}", ""},
		{"${A:-${B}}", u},
		{"${A:-$${B}}", "${B}"},
		{"${A:?e}${B?e}", u + u},
		{"${A:+x}${B+y}z", "z"},
		{"a$", "a$"},
		{"$1", "$1"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, err := interpolate(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("interpolate(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
	for _, bad := range []string{"${", "${A", "${}", "${A:x}", "${1}", "${A:-${B}"} {
		if _, err := interpolate(bad); err == nil {
			t.Errorf("interpolate(%q): no error", bad)
		}
	}
}

func TestScanError(t *testing.T) {
	t.Parallel()
	yamlreftest.ExpectError(t, Scan, "compose.yaml", []byte("services:\n  a:\n    image: [nginx\n"))
}

func TestGolden(t *testing.T) {
	yamlreftest.Golden(t, "testdata/golden", *update, Scan)
}

func TestCorpus(t *testing.T) {
	files := yamlreftest.Corpus(t, "../../testdata/corpus", "compose", "testdata/corpus.golden", *update, Scan)
	total := 0
	for _, f := range files {
		total += len(f.Result.Refs)
		// Every service with an image and no build is reported, so a file
		// never has more refs than image: lines.
		if n := strings.Count(string(f.Data), "image:"); len(f.Result.Refs) > n {
			t.Errorf("%s: %d refs for %d image: lines", f.Path, len(f.Result.Refs), n)
		}
	}
	if total < 70 {
		t.Errorf("%d refs in the compose corpus, want at least 70", total)
	}
}

func FuzzScan(f *testing.F) {
	f.Add([]byte("services:\n  web:\n    image: ${R:-ghcr.io/x}/web:${V:-1}\n    build: {context: ., dockerfile: D}\n"))
	f.Add([]byte("x: &a {image: nginx}\nservices: {a: {<<: *a}, b: *a}\n"))
	f.Add([]byte("\ufeffservices:\r\n  a:\r\n    image: \"n\\\n  ginx\"\r\n"))
	f.Add([]byte("services:\n  a:\n    build:\n      additional_contexts: {b: \"docker-image://\\x61lpine\", c: docker-image://}\n  d:\n    build: {additional_contexts: ['=docker-image://x', \"e=docker-image://n\\\n  ginx\"]}\n"))
	f.Add([]byte("services:\n  a:\n    image: |+ # c\n\n      nginx:1  \n\n  b:\n    image: >-\n      a\n      b\n"))
	yamlreftest.Seeds(f, "../../testdata/corpus", "compose")
	f.Fuzz(func(t *testing.T, data []byte) {
		res, err := Scan("compose.yaml", data)
		if err != nil {
			return
		}
		yamlreftest.Check(t, data, res)
		yamlreftest.RoundTrip(t, "compose.yaml", data, res, Scan)
	})
}

func BenchmarkScan(b *testing.B) {
	var sb strings.Builder
	sb.WriteString("x-log: &log\n  logging: {driver: json-file}\nservices:\n")
	for i := range 200 {
		sb.WriteString("  svc" + strconv.Itoa(i) + ":\n    <<: *log\n")
		sb.WriteString("    image: ${REPO:-ghcr.io/acme}/svc:${TAG:-1.2.3}\n    restart: unless-stopped\n")
		sb.WriteString("    environment:\n      - A=1\n      - B=2\n    ports: ['8080:80']\n")
	}
	data := []byte(sb.String())
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Scan("compose.yaml", data); err != nil {
			b.Fatal(err)
		}
	}
}

// TestScanBlockNotImage checks that a block scalar whose YAML value is not
// the image written on its one line says so in NotEditable, with the value.
func TestScanBlockNotImage(t *testing.T) {
	t.Parallel()
	for in, value := range map[string]string{
		"services:\n  a:\n    image: >-\n\n      python:3.12\n": `"\npython:3.12"`,
		"services:\n  a:\n    image: |2-\n        node:20\n":    `"  node:20"`,
		"services:\n  a:\n    image: |\n      redis:7\n":        `"redis:7\n"`,
		"services:\n  a:\n    image: |-\n      nginx:1 # x\n":   `"nginx:1 # x"`,
	} {
		res, err := Scan("compose.yaml", []byte(in))
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Refs) != 1 {
			t.Fatalf("%q: %d refs, want 1", in, len(res.Refs))
		}
		r := res.Refs[0]
		if !r.Dynamic || r.Edit != nil || !strings.Contains(r.NotEditable, value) {
			t.Errorf("%q: dynamic %v, edit %v, notEditable %q; want dynamic without an edit, the value %s in the reason", in, r.Dynamic, r.Edit, r.NotEditable, value)
		}
	}
}

// TestScanInvalidImage checks that a value in an image field that is no
// image reference is an error at its place, returned with the references
// the rest of the file holds.
func TestScanInvalidImage(t *testing.T) {
	t.Parallel()
	const rest = "  ok:\n    image: redis:7\n"
	tests := []struct {
		name, in  string
		line, col int
		msg       string
	}{
		{"short digest", "services:\n  a:\n    image: node:20@sha256:abc\n", 3, 12, `services.a.image node:20@sha256:abc: its digest "sha256:abc" is invalid`},
		{"upper case", "services:\n  a:\n    image: \"Node:20\"\n", 3, 13, "services.a.image Node:20: its repository name must be lowercase: not an image reference"},
		{"upper case path", "services:\n  a:\n    image: Not/Valid\n", 3, 12, "its repository name must be lowercase"},
		{"empty tag", "services:\n  a:\n    image: 'node:'\n", 3, 13, "its tag is empty"},
		{"dollar escape", "services:\n  db:\n    image: a$$b\n", 3, 12, `services.db.image a$$b reads as "a$b" with the defaults in this file: its name is invalid`},
		{"default", "services:\n  db:\n    image: ${IMG:-Node}:1\n", 3, 12, `reads as "Node:1"`},
		{"build context", "services:\n  a:\n    build:\n      context: .\n      additional_contexts:\n        base: docker-image://Alpine:3\n", 6, 30, "must be lowercase"},
		{"two", "services:\n  a:\n    image: A\n  b:\n    image: B\n", 3, 12, "(and 1 more in this file)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res := yamlreftest.ExpectInvalid(t, Scan, "compose.yaml", []byte(tt.in+rest), tt.line, tt.col, tt.msg)
			yamlreftest.Check(t, []byte(tt.in+rest), res)
			yamlreftest.RoundTrip(t, "compose.yaml", []byte(tt.in+rest), res, Scan)
			if len(res.Refs) != 1 || res.Refs[0].Text != "redis:7" {
				t.Errorf("refs %+v, want redis:7 alone", res.Refs)
			}
		})
	}
}
