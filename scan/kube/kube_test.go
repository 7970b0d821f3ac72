package kube

import (
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stet-dev/stet/internal/corpus"
	"github.com/stet-dev/stet/ref"
	"github.com/stet-dev/stet/scan/internal/yamlref/yamlreftest"
)

var update = flag.Bool("update", false, "rewrite golden files")

type brief = yamlreftest.Brief

var b = yamlreftest.NewBrief

const digest = "sha256:0d39fcc8335d6d74d5502f6df2d30119ff4790ebbb60b364818d5112d9e3e932"

func TestScan(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want []brief
	}{
		{
			name: "pod",
			in:   "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - name: a\n    image: nginx:1.25\n",
			want: []brief{b(6, 12, "nginx:1.25", "docker.io/library/nginx", "1.25", "", false, "spec.containers[0].image", "reference:nginx:1.25")},
		},
		{
			name: "deployment with init and ephemeral containers",
			in: "apiVersion: apps/v1\nkind: Deployment\nspec:\n  template:\n    spec:\n" +
				"      containers:\n        - image: \"ghcr.io/a/app:2@" + digest + "\"\n" +
				"      initContainers:\n        - image: 'busybox'\n" +
				"      ephemeralContainers:\n        - {name: dbg, image: alpine:3}\n",
			want: []brief{
				b(7, 19, "ghcr.io/a/app:2@"+digest, "ghcr.io/a/app", "2", digest, false, "spec.template.spec.containers[0].image", "reference:ghcr.io/a/app:2@"+digest),
				b(9, 19, "busybox", "docker.io/library/busybox", "latest", "", false, "spec.template.spec.initContainers[0].image", "reference:busybox"),
				b(11, 30, "alpine:3", "docker.io/library/alpine", "3", "", false, "spec.template.spec.ephemeralContainers[0].image", "reference:alpine:3"),
			},
		},
		{
			name: "image volume",
			in:   "apiVersion: v1\nkind: Pod\nspec:\n  volumes:\n  - name: models\n    image:\n      reference: quay.io/crio/artifact:v2\n      pullPolicy: IfNotPresent\n  - name: tmp\n    emptyDir: {}\n",
			want: []brief{b(7, 18, "quay.io/crio/artifact:v2", "quay.io/crio/artifact", "v2", "", false, "spec.volumes[0].image.reference", "reference:quay.io/crio/artifact:v2")},
		},
		{
			name: "cronjob",
			in: "apiVersion: batch/v1\nkind: CronJob\nspec:\n  jobTemplate:\n    spec:\n      template:\n        spec:\n" +
				"          containers:\n          - image: registry.k8s.io/descheduler/descheduler:v0.34.0\n",
			want: []brief{b(9, 20, "registry.k8s.io/descheduler/descheduler:v0.34.0", "registry.k8s.io/descheduler/descheduler", "v0.34.0", "", false,
				"spec.jobTemplate.spec.template.spec.containers[0].image", "reference:registry.k8s.io/descheduler/descheduler:v0.34.0")},
		},
		{
			name: "list items and multi-document",
			in: "apiVersion: v1\nkind: List\nitems:\n- apiVersion: apps/v1\n  kind: StatefulSet\n  spec:\n    template:\n      spec:\n        containers: [{image: cassandra:3.11}]\n" +
				"- apiVersion: v1\n  kind: Service\n  spec: {image: not-here}\n" +
				"---\n---\napiVersion: v1\nkind: ReplicationController\nspec:\n  template:\n    spec:\n      containers:\n      - image: redis\n",
			want: []brief{
				b(9, 30, "cassandra:3.11", "docker.io/library/cassandra", "3.11", "", false, "items[0].spec.template.spec.containers[0].image", "reference:cassandra:3.11"),
				b(21, 16, "redis", "docker.io/library/redis", "latest", "", false, "spec.template.spec.containers[0].image", "reference:redis"),
			},
		},
		{
			name: "openshift template objects",
			in:   "apiVersion: v1\nkind: Template\nobjects:\n- apiVersion: v1\n  kind: Pod\n  spec:\n    containers:\n    - image: ${IMAGE}:${VERSION}\n",
			want: []brief{b(8, 14, "${IMAGE}:${VERSION}", "", "", "", true, "objects[0].spec.containers[0].image", "")},
		},
		{
			name: "envsubst variables make it dynamic",
			in:   "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - image: gcr.io/proj/app:$TAG\n  - image: $(REGISTRY)/x\n",
			want: []brief{
				b(5, 12, "gcr.io/proj/app:$TAG", "gcr.io/proj/app", "", "", true, "spec.containers[0].image", ""),
				b(6, 12, "$(REGISTRY)/x", "", "", "", true, "spec.containers[1].image", ""),
			},
		},
		{
			name: "template expressions and junk are skipped",
			in:   "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - image: \"{{ .Values.image }}\"\n  - image: 7\n  - image:\n",
		},
		{
			name: "block scalars: one line is the value, several lines are no image",
			in: "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - image: |\n      nginx\n  - image: >-\n      mysql:8\n" +
				"  initContainers:\n  - image: |-\n      busybox:1\n      --help\n",
			want: []brief{
				// | keeps the line break: the value is "nginx\n".
				b(6, 7, "nginx", "", "", "", true, "spec.containers[0].image", ""),
				b(8, 7, "mysql:8", "docker.io/library/mysql", "8", "", false, "spec.containers[1].image", "reference:mysql:8"),
				b(11, 7, "busybox:1\n      --help", "", "", "", true, "spec.initContainers[0].image", ""),
			},
		},
		{
			name: "configmap and secret data are not images",
			in: "apiVersion: v1\nkind: ConfigMap\ndata:\n  image: nginx:1\n  spec: |\n    image: nginx\n---\n" +
				"apiVersion: v1\nkind: Secret\nstringData:\n  image: nginx:1\n",
		},
		{
			name: "custom resource image fields",
			in: "apiVersion: monitoring.coreos.com/v1\nkind: Prometheus\nmetadata: {name: k8s}\nspec:\n  image: quay.io/prometheus/prometheus:v3.5.0 # pinned by the operator\n" +
				"  version: 3.5.0\n  containers:\n  - name: sidecar\n    image: quay.io/thanos/thanos:v0.39.2\n  baseImage: quay.io/prometheus/prometheus\n" +
				"  extra:\n    image: \"{{inputs.parameters.image}}\"\n    other: {image: true}\n",
			want: []brief{
				b(5, 10, "quay.io/prometheus/prometheus:v3.5.0", "quay.io/prometheus/prometheus", "v3.5.0", "", false, "spec.image", "reference:quay.io/prometheus/prometheus:v3.5.0"),
				b(9, 12, "quay.io/thanos/thanos:v0.39.2", "quay.io/thanos/thanos", "v0.39.2", "", false, "spec.containers[0].image", "reference:quay.io/thanos/thanos:v0.39.2"),
			},
		},
		{
			name: "argo workflow templates",
			in: "apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nspec:\n  templates:\n  - name: a\n    container:\n      image: docker/whalesay:latest\n" +
				"  - name: b\n    script:\n      image: python:alpine3.6\n      source: |\n        image: not-this\n",
			want: []brief{
				b(7, 14, "docker/whalesay:latest", "docker.io/docker/whalesay", "latest", "", false, "spec.templates[0].container.image", "reference:docker/whalesay:latest"),
				b(10, 14, "python:alpine3.6", "docker.io/library/python", "alpine3.6", "", false, "spec.templates[1].script.image", "reference:python:alpine3.6"),
			},
		},
		{
			name: "helm values in a HelmRelease",
			in: "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nspec:\n  values:\n    controller:\n      image:\n        registry: registry.k8s.io\n" +
				"        image: ingress-nginx/controller\n        tag: v1.15.1\n        digest: \"\"\n    initImage: {repository: busybox, tag: '1.36'}\n    server:\n      image: {repository: x/y, tag: \"\"}\n  valuesFrom: []\n" +
				"  disk:\n    sourceImage: {name: ubuntu-2204}\n",
			want: []brief{
				b(8, 16, "ingress-nginx/controller", "registry.k8s.io/ingress-nginx/controller", "v1.15.1", "", false, "spec.values.controller.image", "digest:"),
				b(11, 29, "busybox", "docker.io/library/busybox", "1.36", "", false, "spec.values.initImage", "tag:1.36"),
				b(13, 27, "x/y", "docker.io/x/y", "", "", true, "spec.values.server.image", ""),
			},
		},
		{
			name: "cluster api groups are custom resources",
			in:   "apiVersion: kind.x-k8s.io/v1alpha4\nkind: Cluster\nnodes:\n- role: control-plane\n  image: kindest/node:v1.31.0\n",
			want: []brief{b(5, 10, "kindest/node:v1.31.0", "docker.io/kindest/node", "v1.31.0", "", false, "nodes[0].image", "reference:kindest/node:v1.31.0")},
		},
		{
			name: "built-in kinds outside pod specs are not read",
			in:   "apiVersion: networking.k8s.io/v1\nkind: Ingress\nspec:\n  image: nginx\n",
		},
		{
			name: "anchored container reported once",
			in:   "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - &c {name: a, image: nginx}\n  initContainers:\n  - *c\n",
			want: []brief{b(5, 25, "nginx", "docker.io/library/nginx", "latest", "", false, "spec.containers[0].image", "reference:nginx")},
		},
		{
			name: "not kubernetes",
			in:   "containers:\n- image: nginx\n---\nkind: Pod\nspec: {containers: [{image: nginx}]}\n",
		},
		{
			name: "template that does not parse",
			in:   "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  {{- range .Values.x }}\n  - image: {{ . }}\n  {{- end }}\n",
		},
		{
			name: "argo cd application kustomize images",
			in: "apiVersion: argoproj.io/v1alpha1\nkind: Application\nspec:\n  source:\n    kustomize:\n      images:\n" +
				"      - quay.io/argoproj/argocd:v2.1.0\n      - 'old/app=ghcr.io/acme/app@" + digest + "'\n      - web=ghcr.io/acme/web\n" +
				"      - api=ghcr.io/acme/api:{{ .tag }}\n  sources:\n  - kustomize: {images: [\"x=redis:7\"]}\n  other:\n    images: [nginx:1]\n",
			want: []brief{
				b(7, 9, "quay.io/argoproj/argocd:v2.1.0", "quay.io/argoproj/argocd", "v2.1.0", "", false, "spec.source.kustomize.images[0]", "reference:quay.io/argoproj/argocd:v2.1.0"),
				b(8, 18, "ghcr.io/acme/app@"+digest, "ghcr.io/acme/app", "", digest, false, "spec.source.kustomize.images[1]", "reference:ghcr.io/acme/app@"+digest),
				b(9, 13, "ghcr.io/acme/web", "ghcr.io/acme/web", "", "", true, "spec.source.kustomize.images[2]", ""),
				b(12, 29, "redis:7", "docker.io/library/redis", "7", "", false, "spec.sources[0].kustomize.images[0]", "reference:redis:7"),
			},
		},
		{
			name: "flux kustomization images",
			in: "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nspec:\n  path: ./apps\n  images:\n" +
				"    - name: podinfo\n      newName: ghcr.io/stefanprodan/podinfo\n      newTag: 6.7.0\n" +
				"    - name: redis\n      digest: \"" + digest + "\"\n    - name: web\n      newName: ghcr.io/acme/web\n",
			want: []brief{
				b(7, 16, "ghcr.io/stefanprodan/podinfo", "ghcr.io/stefanprodan/podinfo", "6.7.0", "", false, "spec.images[0]", `insert:"\n      digest: "`),
				b(9, 13, "redis", "docker.io/library/redis", "", digest, false, "spec.images[1]", "digest:"+digest),
				b(12, 16, "ghcr.io/acme/web", "ghcr.io/acme/web", "", "", true, "spec.images[2]", ""),
			},
		},
		{
			name: "flux image automation watches repositories",
			in:   "apiVersion: image.toolkit.fluxcd.io/v1beta2\nkind: ImageRepository\nspec:\n  image: ghcr.io/stefanprodan/podinfo\n  interval: 5m\n",
		},
		{
			name: "skaffold artifacts are what it builds",
			in: "apiVersion: skaffold/v4beta11\nkind: Config\nbuild:\n  artifacts:\n  - image: my-app\n    docker: {dockerfile: Dockerfile}\n" +
				"profiles:\n- name: ci\n  build:\n    artifacts:\n    - image: my-app-ci\nverify:\n- name: smoke\n  container:\n    name: smoke\n    image: curlimages/curl:8.10.1\n",
			want: []brief{b(16, 12, "curlimages/curl:8.10.1", "docker.io/curlimages/curl", "8.10.1", "", false, "verify[0].container.image", "reference:curlimages/curl:8.10.1")},
		},
		{
			name: "a build's output image is what it pushes",
			in:   "apiVersion: shipwright.io/v1beta1\nkind: Build\nspec:\n  strategy: {name: buildah, kind: ClusterBuildStrategy}\n  output:\n    image: ghcr.io/acme/app\n",
		},
		{
			name: "variables in custom resources are dynamic, as in containers",
			in: "apiVersion: tekton.dev/v1\nkind: Task\nspec:\n  steps:\n  - image: $(params.builderImage)\n  - image: gcr.io/kaniko-project/executor:${KANIKO_VERSION}\n" +
				"  - image: \"{{inputs.parameters.image}}\"\n  - image: costs $5 a month\n",
			want: []brief{
				b(5, 12, "$(params.builderImage)", "", "", "", true, "spec.steps[0].image", ""),
				b(6, 12, "gcr.io/kaniko-project/executor:${KANIKO_VERSION}", "gcr.io/kaniko-project/executor", "", "", true, "spec.steps[1].image", ""),
			},
		},
		{
			name: "crossplane packages",
			in:   "apiVersion: pkg.crossplane.io/v1\nkind: Provider\nmetadata: {name: aws}\nspec:\n  package: xpkg.upbound.io/crossplane-contrib/provider-aws:v0.40.0\n",
			want: []brief{b(5, 12, "xpkg.upbound.io/crossplane-contrib/provider-aws:v0.40.0", "xpkg.upbound.io/crossplane-contrib/provider-aws", "v0.40.0", "", false, "spec.package", "reference:xpkg.upbound.io/crossplane-contrib/provider-aws:v0.40.0")},
		},
		{
			name: "broken yaml without apiVersion",
			in:   "a: [b\n",
		},
		{
			// Nothing here can be a reference, so the file is not decoded
			// and its broken flow sequence is not an error.
			name: "broken manifest without an image key",
			in:   "apiVersion: v1\nkind: Service\nspec:\n  ports: [80\n",
		},
		{
			name: "image word only in a value",
			in:   "apiVersion: v1\nkind: ConfigMap\ndata:\n  note: an image is built elsewhere\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			data := []byte(tt.in)
			res, err := Scan("k8s.yaml", data)
			if err != nil {
				t.Fatal(err)
			}
			yamlreftest.Expect(t, "k8s.yaml", ref.SourceKube, data, res, tt.want)
			yamlreftest.RoundTrip(t, "k8s.yaml", data, res, Scan)
		})
	}
}

func TestScanError(t *testing.T) {
	t.Parallel()
	yamlreftest.ExpectError(t, Scan, "deploy.yaml", []byte("apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - image: [nginx\n"))
}

func TestGolden(t *testing.T) {
	yamlreftest.Golden(t, "testdata/golden", *update, Scan)
}

var imageLineRE = regexp.MustCompile(`(?m)^[ \t-]*image:[ \t]*["']?[a-z0-9]`)

func TestCorpus(t *testing.T) {
	files := yamlreftest.Corpus(t, "../../testdata/corpus", "k8s", "testdata/corpus.golden", *update, Scan)
	total := 0
	for _, f := range files {
		total += len(f.Result.Refs)
		lines := len(imageLineRE.FindAll(f.Data, -1))
		if len(f.Result.Refs) > lines {
			t.Errorf("%s: %d refs for %d image: lines", f.Path, len(f.Result.Refs), lines)
		}
		if lines > 0 && len(f.Result.Refs) == 0 {
			t.Errorf("%s: no refs, %d image: lines", f.Path, lines)
		}
	}
	if total < 60 {
		t.Errorf("%d refs in the k8s corpus, want at least 60", total)
	}
}

// TestOtherFormats runs the scanner over the corpus's compose, Helm values,
// workflow and GitLab files: none of them is Kubernetes.
func TestOtherFormats(t *testing.T) {
	t.Parallel()
	root := "../../testdata/corpus"
	files, err := corpus.List(root)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, cf := range files {
		if !strings.Contains(" compose helm-values actions gitlab ", " "+cf.Kind+" ") {
			continue
		}
		data, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(cf.Path)))
		if err != nil {
			t.Fatal(err)
		}
		res, err := Scan(cf.Path, data)
		if err != nil {
			t.Errorf("%s: %v", cf.Path, err)
			continue
		}
		if len(res.Refs) != 0 {
			t.Errorf("%s (%s): %d refs, want none; first %q at %d:%d", cf.Path, cf.Kind, len(res.Refs), res.Refs[0].Text, res.Refs[0].Line, res.Refs[0].Column)
		}
		n++
	}
	if n < 50 {
		t.Errorf("only %d files checked", n)
	}
}

func FuzzScan(f *testing.F) {
	f.Add([]byte("apiVersion: v1\nkind: List\nitems:\n- apiVersion: apps/v1\n  kind: Deployment\n  spec: {template: {spec: {containers: [{image: nginx}]}}}\n"))
	f.Add([]byte("apiVersion: a.io/v1\nkind: X\nspec:\n  image: \"a\\\n  b:1\"\n  x: [{image: $(A)}]\n"))
	f.Add([]byte("apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - &c {image: nginx}\n  initContainers: [*c]\n"))
	f.Add([]byte("apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - image: !!str &i |2-\n       nginx:1\n  - image: >\n      a\n\n      b\n"))
	yamlreftest.Seeds(f, "../../testdata/corpus", "k8s")
	f.Fuzz(func(t *testing.T, data []byte) {
		res, err := Scan("k8s.yaml", data)
		if err != nil {
			return
		}
		yamlreftest.Check(t, data, res)
		yamlreftest.RoundTrip(t, "k8s.yaml", data, res, Scan)
	})
}

func BenchmarkScan(b *testing.B) {
	var sb strings.Builder
	for i := range 100 {
		n := strconv.Itoa(i)
		sb.WriteString("---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app" + n + "\n  labels: {app: app" + n + "}\n")
		sb.WriteString("spec:\n  replicas: 2\n  template:\n    metadata:\n      labels: {app: app" + n + "}\n    spec:\n      containers:\n")
		sb.WriteString("      - name: app\n        image: ghcr.io/acme/app" + n + ":1.2." + n + "\n        ports: [{containerPort: 8080}]\n")
		sb.WriteString("        env:\n        - {name: A, value: \"1\"}\n        resources: {limits: {cpu: 100m, memory: 64Mi}}\n")
		sb.WriteString("---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg" + n + "}\ndata:\n  config.yaml: |\n    image: nope\n")
	}
	data := []byte(sb.String())
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Scan("k8s.yaml", data); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkScanOtherYAML measures the common case of a YAML file that is not
// a manifest (a lock file, a tool's settings): it must cost next to nothing.
func BenchmarkScanOtherYAML(b *testing.B) {
	var sb strings.Builder
	sb.WriteString("lockfileVersion: '9.0'\npackages:\n")
	for i := range 5000 {
		n := strconv.Itoa(i)
		sb.WriteString("  /pkg-" + n + "@1.0." + n + ":\n    resolution: {integrity: sha512-abc" + n + "}\n    engines: {node: '>=18'}\n")
	}
	data := []byte(sb.String())
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Scan("pnpm-lock.yaml", data); err != nil {
			b.Fatal(err)
		}
	}
}

// TestScanInvalidImage checks that a container image that is no image
// reference is an error at its place, returned with the other references,
// and that a custom resource's image field holding one is left out.
func TestScanInvalidImage(t *testing.T) {
	t.Parallel()
	const pod = "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - image: redis:7\n"
	tests := []struct {
		name, in  string
		line, col int
		msg       string
	}{
		{"short digest", pod + "  - image: node:20@sha256:abc\n", 6, 12, `spec.containers[1].image node:20@sha256:abc: its digest "sha256:abc" is invalid`},
		{"upper case", pod + "  initContainers:\n  - {image: Node:20}\n", 7, 13, "must be lowercase"},
		{"blanks", pod + "  - image: Bad Image\n", 6, 12, "it holds blanks"},
		{"image volume", pod + "  volumes:\n  - name: v\n    image: {reference: 'x@'}\n", 8, 25, "its digest is empty"},
		{"deployment", "apiVersion: apps/v1\nkind: Deployment\nspec:\n  template:\n    spec:\n      containers:\n      - image: redis:7\n      - image: Nginx\n", 8, 16, "must be lowercase"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res := yamlreftest.ExpectInvalid(t, Scan, "pod.yaml", []byte(tt.in), tt.line, tt.col, tt.msg)
			yamlreftest.Check(t, []byte(tt.in), res)
			yamlreftest.RoundTrip(t, "pod.yaml", []byte(tt.in), res, Scan)
			if len(res.Refs) != 1 || res.Refs[0].Text != "redis:7" {
				t.Errorf("refs %+v, want redis:7 alone", res.Refs)
			}
		})
	}
	cr := "apiVersion: example.com/v1\nkind: Thing\nspec:\n  image: Ubuntu 22.04\n  other:\n    image: Not:valid:at all\n  vm: {image: Windows}\n"
	res, err := Scan("cr.yaml", []byte(cr))
	if err != nil || len(res.Refs) != 0 {
		t.Errorf("custom resource: refs %+v, error %v; want neither", res.Refs, err)
	}
}
