package helm

import (
	"flag"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stet-dev/stet/ref"
	"github.com/stet-dev/stet/scan"
	"github.com/stet-dev/stet/scan/internal/yamlref/yamlreftest"
)

var update = flag.Bool("update", false, "rewrite golden files")

type brief = yamlreftest.Brief

var b = yamlreftest.NewBrief

const (
	digest = "sha256:0d39fcc8335d6d74d5502f6df2d30119ff4790ebbb60b364818d5112d9e3e932"
	hex    = "0d39fcc8335d6d74d5502f6df2d30119ff4790ebbb60b364818d5112d9e3e932"
)

func TestScan(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		in         string
		appVersion string
		want       []brief
	}{
		{
			name: "bitnami map with empty digest",
			in:   "image:\n  registry: docker.io\n  repository: bitnami/nginx\n  tag: 1.29.1-debian-12-r0\n  digest: \"\"\n",
			want: []brief{b(3, 15, "bitnami/nginx", "docker.io/bitnami/nginx", "1.29.1-debian-12-r0", "", false, "image", "digest:")},
		},
		{
			name: "digest written, single quotes",
			in:   "image:\n  repository: quay.io/a/b\n  tag: v1\n  digest: '" + digest + "'\n",
			want: []brief{b(2, 15, "quay.io/a/b", "quay.io/a/b", "v1", digest, false, "image", "digest:"+digest)},
		},
		{
			name: "plain empty digest is an insertion after the colon",
			in:   "image:\n  repository: a/b\n  tag: v1\n  digest:\n  pullPolicy: Always\n",
			want: []brief{b(2, 15, "a/b", "docker.io/a/b", "v1", "", false, "image", `insert:" "`)},
		},
		{
			name: "null digest is replaced",
			in:   "image:\n  repository: a/b\n  tag: v1\n  digest: ~\n",
			want: []brief{b(2, 15, "a/b", "docker.io/a/b", "v1", "", false, "image", "digest:~")},
		},
		{
			name: "block scalars: one line is the value, several lines are no image",
			in: "a:\n  image:\n    repository: >-\n      bitnami/redis\n    tag: |-\n      7.4\nb:\n  image: |-\n    nginx:1\n" +
				"c:\n  image: |\n    nginx:1\n    --debug\n",
			want: []brief{
				b(4, 7, "bitnami/redis", "docker.io/bitnami/redis", "7.4", "", false, "a.image", "tag:7.4"),
				b(9, 5, "nginx:1", "docker.io/library/nginx", "1", "", false, "b.image", "reference:nginx:1"),
				b(12, 5, "nginx:1\n    --debug", "", "", "", true, "c.image", ""),
			},
		},
		{
			// | keeps the line break, and a blank line before the line
			// is part of the value: no image, tag or repository.
			name: "block scalars whose value is not the word on their line",
			in: "a:\n  image:\n    repository: bitnami/redis\n    tag: |\n      7.4\nb:\n  image: |\n    nginx:1\n" +
				"c:\n  image:\n    repository: >-\n\n      bitnami/redis\n    tag: \"7\"\n" +
				"d:\n  initImage: |\n    busybox:1\n  vmImage: |\n    windows\n",
			want: []brief{
				b(3, 17, "bitnami/redis", "docker.io/bitnami/redis", "", "", true, "a.image", ""),
				b(8, 5, "nginx:1", "", "", "", true, "b.image", ""),
				b(13, 7, "bitnami/redis", "", "", "", true, "c.image", ""),
				b(17, 5, "busybox:1", "", "", "", true, "d.initImage", ""),
			},
		},
		{
			name: "no digest key: the tag is written, numbers as written",
			in:   "controller:\n  image:\n    repository: registry.k8s.io/kubectl\n    tag: 1.20\n",
			want: []brief{b(3, 17, "registry.k8s.io/kubectl", "registry.k8s.io/kubectl", "1.20", "", false, "controller.image", "tag:1.20")},
		},
		{
			name: "empty tag is the appVersion: dynamic without it",
			in:   "image:\n  registry: quay.io\n  repository: argoproj/argo-rollouts\n  tag: \"\"\n",
			want: []brief{b(3, 15, "argoproj/argo-rollouts", "quay.io/argoproj/argo-rollouts", "", "", true, "image", "")},
		},
		{
			name:       "empty tag is the appVersion when given",
			in:         "image:\n  registry: quay.io\n  repository: argoproj/argo-rollouts\n  tag: \"\"\n",
			appVersion: "v1.8.3",
			want:       []brief{b(3, 15, "argoproj/argo-rollouts", "quay.io/argoproj/argo-rollouts", "v1.8.3", "", false, "image", `insert:"v1.8.3@"`)},
		},
		{
			name:       "missing tag with appVersion has nowhere to write",
			in:         "image:\n  repository: nginx\n  pullPolicy: IfNotPresent\n",
			appVersion: "1.27",
			want:       []brief{b(2, 15, "nginx", "docker.io/library/nginx", "1.27", "", false, "image", "")},
		},
		{
			name:       "malformed digest is replaced, the appVersion is the tag",
			in:         "image:\n  repository: nginx\n  tag: \"\"\n  digest: sha256:25a0d4\n",
			appVersion: "1.27",
			want:       []brief{b(2, 15, "nginx", "docker.io/library/nginx", "1.27", "", false, "image", "digest:sha256:25a0d4")},
		},
		{
			name: "digest without tag is pinned, not dynamic",
			in:   "image:\n  repository: nginx\n  tag: \"\"\n  digest: " + digest + "\n",
			want: []brief{b(2, 15, "nginx", "docker.io/library/nginx", "", digest, false, "image", "digest:"+digest)},
		},
		{
			name:       "pinned with an empty tag keeps the appVersion as its tag",
			in:         "image:\n  repository: nginx\n  tag: \"\"\n  digest: " + digest + "\n",
			appVersion: "1.27",
			want:       []brief{b(2, 15, "nginx", "docker.io/library/nginx", "1.27", digest, false, "image", "digest:"+digest)},
		},
		{
			name: "global image registry and image.image (ingress-nginx)",
			in: "global:\n  image:\n    registry: registry.k8s.io\ncontroller:\n  image:\n    chroot: false\n    image: ingress-nginx/controller\n" +
				"    tag: \"v1.15.1\"\n    digest: " + digest + "\n    digestChroot: " + digest + "\n",
			want: []brief{b(7, 12, "ingress-nginx/controller", "registry.k8s.io/ingress-nginx/controller", "v1.15.1", digest, false, "controller.image", "digest:"+digest)},
		},
		{
			name: "global imageRegistry, own registry wins",
			in: "global:\n  imageRegistry: my.registry\na:\n  image: {repository: x/a, tag: '1'}\nb:\n  image: {registry: docker.io, repository: x/b, tag: '2'}\n" +
				"c:\n  image: {repository: quay.io/x/c, tag: '3'}\n",
			want: []brief{
				b(4, 23, "x/a", "my.registry/x/a", "1", "", false, "a.image", "tag:1"),
				b(6, 44, "x/b", "docker.io/x/b", "2", "", false, "b.image", "tag:2"),
				b(8, 23, "quay.io/x/c", "quay.io/x/c", "3", "", false, "c.image", "tag:3"),
			},
		},
		{
			name: "image.name and keys ending in Image",
			in:   "initImage:\n  name: busybox\n  tag: 1.36\nkubectlImage: bitnami/kubectl:1.31\nnodeImage: cos\nsidecarimage: {repository: envoyproxy/envoy, tag: v1.30.1}\n",
			want: []brief{
				b(2, 9, "busybox", "docker.io/library/busybox", "1.36", "", false, "initImage", "tag:1.36"),
				b(4, 15, "bitnami/kubectl:1.31", "docker.io/bitnami/kubectl", "1.31", "", false, "kubectlImage", "reference:bitnami/kubectl:1.31"),
				b(6, 28, "envoyproxy/envoy", "docker.io/envoyproxy/envoy", "v1.30.1", "", false, "sidecarimage", "tag:v1.30.1"),
			},
		},
		{
			name: "string images at any depth",
			in:   "extraContainers:\n  - name: sidecar\n    image: \"quay.io/x/y:2\"\n  - name: tpl\n    image: \"{{ .Values.x }}\"\nimage: nginx\n",
			want: []brief{
				b(3, 13, "quay.io/x/y:2", "quay.io/x/y", "2", "", false, "extraContainers[0].image", "reference:quay.io/x/y:2"),
				b(6, 8, "nginx", "docker.io/library/nginx", "latest", "", false, "image", "reference:nginx"),
			},
		},
		{
			name: "string image with a sibling imageTag",
			in:   "master:\n  image: jenkins/jenkins\n  imageTag: lts-jdk17\n  imagePullPolicy: Always\n",
			want: []brief{b(2, 10, "jenkins/jenkins", "docker.io/jenkins/jenkins", "lts-jdk17", "", false, "master.image", "tag:lts-jdk17")},
		},
		{
			name: "version instead of tag",
			in:   "image:\n  repository: some/dependency\n  version: v1.0.0\n",
			want: []brief{b(2, 15, "some/dependency", "docker.io/some/dependency", "v1.0.0", "", false, "image", "tag:v1.0.0")},
		},
		{
			name: "sha key holds the hex alone",
			in:   "a:\n  image: {repository: x/a, tag: v1, sha: \"\"}\nb:\n  image: {repository: x/b, tag: v1, sha: " + hex + "}\n",
			want: []brief{
				b(2, 23, "x/a", "docker.io/x/a", "v1", "", false, "a.image", "tag:v1"),
				b(4, 23, "x/b", "docker.io/x/b", "v1", digest, false, "b.image", ""),
			},
		},
		{
			name: "pin written into the tag",
			in:   "image:\n  repository: nginx\n  tag: 1.27@" + digest + "\n",
			want: []brief{b(2, 15, "nginx", "docker.io/library/nginx", "1.27", digest, false, "image", "tag:1.27@"+digest)},
		},
		{
			name: "anchored image map reported once",
			in:   "a:\n  image: &img\n    repository: nginx\n    tag: '1'\nb:\n  image: *img\nc:\n  <<: {image: {repository: x/c, tag: '2'}}\n",
			want: []brief{b(3, 17, "nginx", "docker.io/library/nginx", "1", "", false, "a.image", "tag:1")},
		},
		{
			name: "anchored and tagged scalars",
			in:   "a:\n  image: &i nginx:1\nb:\n  image: *i\nc:\n  image: {repository: !!str x/c, tag: &t 2}\n",
			want: []brief{
				b(2, 13, "nginx:1", "docker.io/library/nginx", "1", "", false, "a.image", "reference:nginx:1"),
				b(6, 29, "x/c", "docker.io/x/c", "2", "", false, "c.image", "tag:2"),
			},
		},
		{
			name:       "tag template of the appVersion",
			in:         "image:\n  repository: a/b\n  tag: \"{{ .Chart.AppVersion }}\"\nx:\n  image: {repository: a/c, tag: '{{- $.Chart.AppVersion | toString -}}', digest: \"\"}\n",
			appVersion: "2.3.4",
			want: []brief{
				b(2, 15, "a/b", "docker.io/a/b", "2.3.4", "", false, "image", ""),
				b(5, 23, "a/c", "docker.io/a/c", "2.3.4", "", false, "x.image", "digest:"),
			},
		},
		{
			name: "any other tag template is dynamic",
			in:   "image:\n  registry: ghcr.io\n  repository: a/b\n  tag: \"{{ .Values.global.tag }}\"\nx:\n  image: {repository: a/c, tag: '{{ .Chart.AppVersion }}'}\n",
			want: []brief{
				b(3, 15, "a/b", "ghcr.io/a/b", "", "", true, "image", ""),
				b(6, 23, "a/c", "docker.io/a/c", "", "", true, "x.image", ""),
			},
		},
		{
			name: "not images",
			in: "images:\n  repository: us-docker.pkg.dev/x/y\n  tag: \"\"\nimagePullSecrets: []\nglobal:\n  image:\n    registry: quay.io\n" +
				"image:\n  pullPolicy: Always\nx:\n  image: true\n  baseImage: \"ubuntu\"\n  tplImage: {repository: \"{{ .Values.r }}\", tag: 1}\n" +
				"  bad: {image: {repository: Not/Valid, tag: x}}\n  scalar: |\n    image: nginx\n",
		},
		{
			name: "a list is not a values file",
			in:   "- image: nginx\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			data := []byte(tt.in)
			res, err := ScanWithAppVersion("values.yaml", data, tt.appVersion)
			if err != nil {
				t.Fatal(err)
			}
			yamlreftest.Expect(t, "values.yaml", ref.SourceHelm, data, res, tt.want)
		})
	}
}

func TestScanError(t *testing.T) {
	t.Parallel()
	yamlreftest.ExpectError(t, Scan, "values.yaml", []byte("image:\n  repository: nginx\n tag: [1\n"))
}

func TestGolden(t *testing.T) {
	yamlreftest.Golden(t, "testdata/golden", *update, Scan)
}

var repoLineRE = regexp.MustCompile(`(?m)^[ \t]*(repository|image):[ \t]*["']?[a-z0-9]`)

func TestCorpus(t *testing.T) {
	files := yamlreftest.Corpus(t, "../../testdata/corpus", "helm-values", "testdata/corpus.golden", *update, Scan)
	total := 0
	for _, f := range files {
		total += len(f.Result.Refs)
		if lines := len(repoLineRE.FindAll(f.Data, -1)); len(f.Result.Refs) > lines {
			t.Errorf("%s: %d refs for %d repository or image lines", f.Path, len(f.Result.Refs), lines)
		}
	}
	if total < 20 {
		t.Errorf("%d refs in the helm corpus, want at least 20", total)
	}
}

func FuzzScan(f *testing.F) {
	f.Add([]byte("global: {imageRegistry: r.io}\nimage:\n  registry: docker.io\n  repository: bitnami/nginx\n  tag: 1.29\n  digest:\n"), "")
	f.Add([]byte("a:\n  initImage: &i {name: x, tag: \"\"}\n  b: *i\n  image: x/y:1\n  imageTag: 2\n"), "1.0")
	f.Add([]byte("image: {repository: x, tag: \"\"}\n"), "1/0:latest") // not a tag
	f.Add([]byte("image:\n  repository: |\n    x/y\n  tag: >-\n    1.2\n  digest: |\n\nb:\n  image: |-\n    a:1\n    b\n"), "")
	yamlreftest.Seeds(f, "../../testdata/corpus", "helm-values", "")
	f.Fuzz(func(t *testing.T, data []byte, appVersion string) {
		res, err := ScanWithAppVersion("values.yaml", data, appVersion)
		if err != nil {
			return
		}
		yamlreftest.Check(t, data, res)
		yamlreftest.RoundTrip(t, "values.yaml", data, res, func(path string, data []byte) (*scan.Result, error) {
			return ScanWithAppVersion(path, data, appVersion)
		})
	})
}

func BenchmarkScan(b *testing.B) {
	var sb strings.Builder
	sb.WriteString("global:\n  imageRegistry: \"\"\n")
	for i := range 150 {
		n := strconv.Itoa(i)
		sb.WriteString("component" + n + ":\n  enabled: true\n  image:\n    registry: docker.io\n    repository: bitnami/app" + n + "\n")
		sb.WriteString("    tag: 1.2." + n + "-debian-12-r0\n    digest: \"\"\n    pullPolicy: IfNotPresent\n")
		sb.WriteString("  resources:\n    limits: {cpu: 100m}\n  podAnnotations: {}\n  extraEnv:\n    - name: A\n      value: \"1\"\n")
	}
	data := []byte(sb.String())
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Scan("values.yaml", data); err != nil {
			b.Fatal(err)
		}
	}
}

// TestScanInvalidImage checks that a string image: written as a reference
// that is none is an error at its place, returned with the other
// references, and that values under other keys or without a tag are left
// out.
func TestScanInvalidImage(t *testing.T) {
	t.Parallel()
	const rest = "ok:\n  image: redis:7\nvm:\n  image: Windows-2022\n  baseImage: https://example.com/disk:1\n  bootImage: Disk:1\n"
	for _, tt := range []struct {
		in        string
		line, col int
		msg       string
	}{
		{"a:\n  image: node:20@sha256:abc\n", 2, 10, `a.image node:20@sha256:abc: its digest "sha256:abc" is invalid`},
		{"a:\n  image: Node:20\n", 2, 10, "a.image Node:20: its repository name must be lowercase: not an image reference"},
	} {
		res := yamlreftest.ExpectInvalid(t, Scan, "values.yaml", []byte(tt.in+rest), tt.line, tt.col, tt.msg)
		yamlreftest.Check(t, []byte(tt.in+rest), res)
		yamlreftest.RoundTrip(t, "values.yaml", []byte(tt.in+rest), res, Scan)
		if len(res.Refs) != 1 || res.Refs[0].Text != "redis:7" {
			t.Errorf("refs %+v, want redis:7 alone", res.Refs)
		}
	}
}
