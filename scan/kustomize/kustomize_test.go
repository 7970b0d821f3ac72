package kustomize

import (
	"flag"
	"strconv"
	"strings"
	"testing"

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
			name: "newName and newTag: a digest line is inserted",
			in:   "images:\n- name: quay.io/argoproj/argocd\n  newName: ghcr.io/me/argocd\n  newTag: v2.14.0\nresources: [a.yaml]\n",
			want: []brief{b(3, 12, "ghcr.io/me/argocd", "ghcr.io/me/argocd", "v2.14.0", "", false, "images[0]", `insert:"\n  digest: "`)},
		},
		{
			name: "block scalars of one line: the digest line goes after the block",
			in:   "images:\n- name: >-\n    nginx\n  newTag: |-\n    1.27\nresources: [a.yaml]\n",
			want: []brief{b(3, 5, "nginx", "docker.io/library/nginx", "1.27", "", false, "images[0]", `insert:"\n  digest: "`)},
		},
		{
			// | keeps the line break: "1.27\n" is no tag, "nginx\n" no name.
			name: "block scalars whose value is not the word on their line",
			in:   "images:\n- name: nginx\n  newTag: |\n    1.27\n- name: |\n    redis\n  newTag: \"7\"\n",
			want: []brief{
				b(2, 9, "nginx", "docker.io/library/nginx", "", "", true, "images[0]", ""),
				b(6, 5, "redis", "", "", "", true, "images[1]", ""),
			},
		},
		{
			name: "name and newTag",
			in:   "images:\n  - name: quay.io/argoproj/argo-rollouts\n    newTag: latest # moving\n",
			want: []brief{b(2, 11, "quay.io/argoproj/argo-rollouts", "quay.io/argoproj/argo-rollouts", "latest", "", false, "images[0]", `insert:"\n    digest: "`)},
		},
		{
			name: "digest field is rewritten",
			in:   "images:\n- name: nginx\n  newTag: \"1.27\"\n  digest: " + digest + "\n",
			want: []brief{b(2, 9, "nginx", "docker.io/library/nginx", "1.27", digest, false, "images[0]", "digest:"+digest)},
		},
		{
			name: "digest only",
			in:   "images:\n- name: postgres\n  digest: '" + digest + "'\n",
			want: []brief{b(2, 9, "postgres", "docker.io/library/postgres", "", digest, false, "images[0]", "digest:"+digest)},
		},
		{
			name: "malformed digest with a tag is replaced",
			in:   "images:\n- name: docker\n  newName: my-docker2\n  newTag: v1\n  digest: sha256:25a0d4\n",
			want: []brief{b(3, 12, "my-docker2", "docker.io/library/my-docker2", "v1", "", false, "images[0]", "digest:sha256:25a0d4")},
		},
		{
			name: "malformed digest without a tag is dynamic",
			in:   "images:\n- name: docker\n  newName: my-docker2\n  digest: sha256:25a0d4\n",
			want: []brief{b(3, 12, "my-docker2", "docker.io/library/my-docker2", "", "", true, "images[0]", "")},
		},
		{
			name: "no newTag and no digest: the resources decide the tag",
			in:   "images:\n- name: prom/prometheus\n- name: a\n  tagSuffix: X\n",
			want: []brief{
				b(2, 9, "prom/prometheus", "docker.io/prom/prometheus", "", "", true, "images[0]", ""),
				b(3, 9, "a", "docker.io/library/a", "", "", true, "images[1]", ""),
			},
		},
		{
			name: "placeholders are not images",
			in:   "images:\n- name: us-docker.pkg.dev/x/adservice\n  newName: CONTAINER_IMAGES_REGISTRY/adservice\n- newTag: v1\n- name: x:1\n  newTag: v2\n- 12\n",
		},
		{
			name: "flow mapping: the field goes before the brace",
			in:   "images: [{name: nginx, newTag: \"1.27\"}, {name: redis, newTag: 7 }]\n",
			want: []brief{
				b(1, 17, "nginx", "docker.io/library/nginx", "1.27", "", false, "images[0]", `insert:", digest: "`),
				b(1, 48, "redis", "docker.io/library/redis", "7", "", false, "images[1]", `insert:", digest: "`),
			},
		},
		{
			name: "CRLF line breaks are kept",
			in:   "images:\r\n- name: nginx\r\n  newTag: \"1.27\"\r\n",
			want: []brief{b(2, 9, "nginx", "docker.io/library/nginx", "1.27", "", false, "images[0]", `insert:"\r\n  digest: "`)},
		},
		{
			name: "last line without a line break",
			in:   "images:\r\n- name: nginx\r\n  newTag: '1.27'",
			want: []brief{b(2, 9, "nginx", "docker.io/library/nginx", "1.27", "", false, "images[0]", `insert:"\r\n  digest: "`)},
		},
		{
			name: "registry with a port",
			in:   "images:\n- name: app\n  newName: localhost:5000/team/app\n  newTag: dev\n",
			want: []brief{b(3, 12, "localhost:5000/team/app", "localhost:5000/team/app", "dev", "", false, "images[0]", `insert:"\n  digest: "`)},
		},
		{
			name: "empty digest field is filled, not duplicated",
			in:   "images:\n- name: nginx\n  digest:\n  newTag: \"1.27\"\n- name: redis\n  newTag: '7'\n  digest: ~\n",
			want: []brief{
				b(2, 9, "nginx", "docker.io/library/nginx", "1.27", "", false, "images[0]", `insert:" "`),
				b(5, 9, "redis", "docker.io/library/redis", "7", "", false, "images[1]", "digest:~"),
			},
		},
		{
			name: "no images",
			in:   "resources:\n- deployment.yaml\nimages: {}\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			data := []byte(tt.in)
			res, err := Scan("kustomization.yaml", data)
			if err != nil {
				t.Fatal(err)
			}
			yamlreftest.Expect(t, "kustomization.yaml", ref.SourceKustomize, data, res, tt.want)
			yamlreftest.RoundTrip(t, "kustomization.yaml", data, res, Scan)
		})
	}
}

// TestPinRoundTrip applies every edit span with a digest, as a pin does, and
// checks that the result reads back as the same image, now pinned, with
// newTag kept.
func TestPinRoundTrip(t *testing.T) {
	t.Parallel()
	for _, in := range []string{
		"images:\n- name: nginx\n  newTag: \"1.27\"  # keep\n- name: redis\n  newTag: '7'\nresources: [a.yaml]\n",
		"images:\r\n  - newName: ghcr.io/a/b\r\n    name: b\r\n    newTag: v1",
		"images: [{name: nginx, newTag: \"1.27\"}, {name: redis, newTag: 7 }]\n",
		"kind: Kustomization\nimages:\n-   name: nginx\n    newTag: v1\n\n# trailing comment\n",
		"images:\n- name: nginx\n  digest:\n  newTag: v1\n- name: redis\n  newTag: v2\n  digest: null\n",
	} {
		t.Run(in, func(t *testing.T) {
			t.Parallel()
			data := []byte(in)
			res, err := Scan("kustomization.yaml", data)
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Refs) == 0 {
				t.Fatal("no refs")
			}
			out := []byte(in)
			// Apply from the end so earlier offsets stay valid.
			for i := len(res.Refs) - 1; i >= 0; i-- {
				e := res.Refs[i].Edit
				if e == nil || (e.Form != ref.FormInsert && e.Form != ref.FormDigest) {
					t.Fatalf("ref %d: edit %+v, want a digest edit", i, e)
				}
				out = append(out[:e.Start:e.Start], append([]byte(e.Prefix+digest), out[e.End:]...)...)
			}
			pinned, err := Scan("kustomization.yaml", out)
			if err != nil {
				t.Fatalf("pinned file does not parse: %v\n%s", err, out)
			}
			if len(pinned.Refs) != len(res.Refs) {
				t.Fatalf("%d refs after pinning, %d before:\n%s", len(pinned.Refs), len(res.Refs), out)
			}
			for i, r := range pinned.Refs {
				if r.Digest != digest || r.Tag != res.Refs[i].Tag || r.Name != res.Refs[i].Name {
					t.Errorf("after pinning %s:%s@%s, want %s:%s@%s\n%s", r.Name, r.Tag, r.Digest, res.Refs[i].Name, res.Refs[i].Tag, digest, out)
				}
			}
			if strings.Contains(in, "\r\n") && strings.Count(string(out), "\n") != strings.Count(string(out), "\r\n") {
				t.Errorf("line breaks mixed after pinning: %q", out)
			}
		})
	}
}

func TestScanError(t *testing.T) {
	t.Parallel()
	yamlreftest.ExpectError(t, Scan, "kustomization.yaml", []byte("images:\n- name: a\n  newTag: [v1\n"))
}

func TestGolden(t *testing.T) {
	yamlreftest.Golden(t, "testdata/golden", *update, Scan)
}

func TestCorpus(t *testing.T) {
	files := yamlreftest.Corpus(t, "../../testdata/corpus", "kustomize", "testdata/corpus.golden", *update, Scan)
	total := 0
	for _, f := range files {
		total += len(f.Result.Refs)
		if n := strings.Count(string(f.Data), "- name:"); len(f.Result.Refs) > n {
			t.Errorf("%s: %d refs for %d entries", f.Path, len(f.Result.Refs), n)
		}
	}
	if total < 20 {
		t.Errorf("%d refs in the kustomize corpus, want at least 20", total)
	}
}

func FuzzScan(f *testing.F) {
	f.Add([]byte("images:\n- name: a\n  newName: b/c\n  newTag: v1\n- name: d\n  digest: " + digest + "\n"))
	f.Add([]byte("images: [{name: n, newTag: '1'}]\r\n"))
	f.Add([]byte("x: &e {name: a, newTag: '1'}\nimages:\n- *e\n- <<: *e\n  newTag: 2\n"))
	f.Add([]byte("images:\n- name: >-\n    nginx\n  newTag: |\n    1.27\n- name: a\n  newTag: |+\n    1\n\n  digest: |\n"))
	yamlreftest.Seeds(f, "../../testdata/corpus", "kustomize")
	f.Fuzz(func(t *testing.T, data []byte) {
		res, err := Scan("kustomization.yaml", data)
		if err != nil {
			return
		}
		yamlreftest.Check(t, data, res)
		yamlreftest.RoundTrip(t, "kustomization.yaml", data, res, Scan)
	})
}

func BenchmarkScan(b *testing.B) {
	var sb strings.Builder
	sb.WriteString("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n")
	for i := range 200 {
		sb.WriteString("- service" + strconv.Itoa(i) + ".yaml\n")
	}
	sb.WriteString("images:\n")
	for i := range 200 {
		n := strconv.Itoa(i)
		sb.WriteString("- name: us-docker.pkg.dev/proj/repo/svc" + n + "\n  newName: ghcr.io/acme/svc" + n + "\n  newTag: v1.2." + n + "\n")
	}
	data := []byte(sb.String())
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Scan("kustomization.yaml", data); err != nil {
			b.Fatal(err)
		}
	}
}
