package actions

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/stet-dev/stet/ref"
	"github.com/stet-dev/stet/scan/internal/yamlref/yamlreftest"
)

// TestScanMatrix checks that ${{ matrix.X }}, used whole where an image
// belongs, is read as the literal values of the job's matrix, each reported
// and edited where the matrix writes it, and stays dynamic whenever a value
// may come from outside the file.
func TestScanMatrix(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{
			name: "axis and include values, an undefined property stays dynamic",
			in: `jobs:
  test:
    strategy:
      matrix:
        image: ["node:18", "node:20-alpine"]
        include: [{image: "postgres:16"}]
    container: ${{ matrix.image }}
    services:
      db: {image: "${{ matrix.db }}"}
`,
			want: []string{
				`5:18-5:25 image "node:18" name=docker.io/library/node tag=18 @jobs.test.container ← matrix.image[0] edit=reference`,
				`5:29-5:43 image "node:20-alpine" name=docker.io/library/node tag=20-alpine @jobs.test.container ← matrix.image[1] edit=reference`,
				`6:28-6:39 image "postgres:16" name=docker.io/library/postgres tag=16 @jobs.test.container ← matrix.include[0].image edit=reference`,
				`9:20-9:36 image "${{ matrix.db }}" name= tag= dynamic @jobs.test.services.db.image noedit`,
			},
		},
		{
			name: "block lists, exclude, services, docker:// steps, a value used twice is reported once",
			in: `jobs:
  test:
    strategy:
      fail-fast: false
      matrix:
        db:
          - postgres:16
          - 'mysql:8.4'
        tool: [alpine:3.20]
        exclude:
          - db: mysql:8.4
        include:
          - db: mariadb:11
            experimental: true
          - os: windows
    container:
      image: ${{matrix.db}}
    services:
      again: ${{ matrix.db }}
    steps:
      - uses: docker://${{ matrix.tool }}
`,
			want: []string{
				`7:13-7:24 image "postgres:16" name=docker.io/library/postgres tag=16 @jobs.test.container.image ← matrix.db[0] edit=reference`,
				`8:14-8:23 image "mysql:8.4" name=docker.io/library/mysql tag=8.4 @jobs.test.container.image ← matrix.db[1] edit=reference`,
				`9:16-9:27 image "alpine:3.20" name=docker.io/library/alpine tag=3.20 @jobs.test.steps[0].uses ← matrix.tool[0] edit=reference`,
				`11:17-11:26 image "mysql:8.4" name=docker.io/library/mysql tag=8.4 @jobs.test.container.image ← matrix.exclude[0].db edit=reference`,
				`13:17-13:27 image "mariadb:11" name=docker.io/library/mariadb tag=11 @jobs.test.container.image ← matrix.include[0].db edit=reference`,
			},
		},
		{
			name: "values only in include, docker:// values, names regardless of case",
			in: `jobs:
  a:
    strategy:
      matrix:
        include:
          - {Image: "docker://redis:7", v: 1}
          - {image: nginx:1}
    container: ${{ matrix.IMAGE }}
`,
			want: []string{
				`6:31-6:38 image "redis:7" name=docker.io/library/redis tag=7 @jobs.a.container ← matrix.include[0].Image edit=reference`,
				`7:21-7:28 image "nginx:1" name=docker.io/library/nginx tag=1 @jobs.a.container ← matrix.include[1].image edit=reference`,
			},
		},
		{
			name: "a matrix written behind an anchor is reported once, where it is written",
			in: `x: &m
  image: [golang:1.26]
jobs:
  a:
    strategy: {matrix: *m}
    container: ${{ matrix.image }}
  b:
    strategy:
      matrix:
        <<: *m
    container: ${{ matrix.image }}
`,
			want: []string{
				`2:11-2:22 image "golang:1.26" name=docker.io/library/golang tag=1.26 @jobs.a.container ← matrix.image[0] edit=reference`,
			},
		},
		{
			name: "a property compared in an expression is read but not edited",
			in: `jobs:
  a:
    strategy: {matrix: {image: [node:18, node:20], db: [postgres:16]}}
    container: ${{ matrix.image }}
    services: {db: "${{ matrix.db }}"}
    steps:
      - if: ${{ matrix.Image == 'node:18' }}
        run: echo old
`,
			want: []string{
				`3:33-3:40 image "node:18" name=docker.io/library/node tag=18 @jobs.a.container ← matrix.image[0] noedit`,
				`3:42-3:49 image "node:20" name=docker.io/library/node tag=20 @jobs.a.container ← matrix.image[1] noedit`,
				`3:57-3:68 image "postgres:16" name=docker.io/library/postgres tag=16 @jobs.a.services.db ← matrix.db[0] edit=reference`,
			},
		},
		{
			name: "any value from outside the file keeps the reference dynamic",
			in: `jobs:
  expression-axis:
    strategy: {matrix: {image: "${{ fromJSON(inputs.images) }}"}}
    container: ${{ matrix.image }}
  expression-matrix:
    strategy: {matrix: "${{ fromJSON(needs.a.outputs.m) }}"}
    container: ${{ matrix.image }}
  expression-value:
    strategy: {matrix: {image: [node:20, "${{ inputs.image }}"]}}
    container: ${{ matrix.image }}
  expression-include:
    strategy: {matrix: {image: [node:20], include: "${{ fromJSON(inputs.extra) }}"}}
    container: ${{ matrix.image }}
  expression-include-entry:
    strategy: {matrix: {image: [node:20], include: ["${{ fromJSON(inputs.one) }}"]}}
    container: ${{ matrix.image }}
  object-values:
    strategy: {matrix: {image: [{name: node, tag: 20}]}}
    container: ${{ matrix.image }}
  no-matrix:
    container: ${{ matrix.image }}
  exclude-only:
    strategy: {matrix: {v: [1], exclude: [{image: node:20}]}}
    container: ${{ matrix.image }}
  partial:
    strategy: {matrix: {v: ["18", "20"]}}
    container: node:${{ matrix.v }}
`,
			want: []string{
				`4:16-4:35 image "${{ matrix.image }}" name= tag= dynamic @jobs.expression-axis.container noedit`,
				`7:16-7:35 image "${{ matrix.image }}" name= tag= dynamic @jobs.expression-matrix.container noedit`,
				`10:16-10:35 image "${{ matrix.image }}" name= tag= dynamic @jobs.expression-value.container noedit`,
				`13:16-13:35 image "${{ matrix.image }}" name= tag= dynamic @jobs.expression-include.container noedit`,
				`16:16-16:35 image "${{ matrix.image }}" name= tag= dynamic @jobs.expression-include-entry.container noedit`,
				`19:16-19:35 image "${{ matrix.image }}" name= tag= dynamic @jobs.object-values.container noedit`,
				`21:16-21:35 image "${{ matrix.image }}" name= tag= dynamic @jobs.no-matrix.container noedit`,
				`24:16-24:35 image "${{ matrix.image }}" name= tag= dynamic @jobs.exclude-only.container noedit`,
				`27:16-27:36 image "node:${{ matrix.v }}" name=docker.io/library/node tag= dynamic @jobs.partial.container noedit`,
			},
		},
		{
			name: "block scalars, escapes and values that are not images",
			in: `jobs:
  a:
    strategy:
      matrix:
        image:
          - >-
            node:22
          - "node:\x32\x30"
    container: ${{ matrix.image }}
`,
			want: []string{
				`7:13-7:20 image "node:22" name=docker.io/library/node tag=22 @jobs.a.container ← matrix.image[0] edit=reference`,
				`8:14-8:27 image "node:\\x32\\x30" name=docker.io/library/node tag=20 @jobs.a.container ← matrix.image[1] noedit`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			data := []byte(tt.in)
			res, err := Scan("wf.yml", data)
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
			checkPositions(t, data, res)
			// Every image reference is pinned where it is written, and
			// reads the same with the digest after a new scan.
			yamlreftest.RoundTrip(t, "wf.yml", data, res, Scan)
		})
	}
}

// TestScanMatrixPin checks the bytes a pin of matrix values writes.
func TestScanMatrixPin(t *testing.T) {
	t.Parallel()
	in := "jobs:\n  t:\n    strategy:\n      matrix:\n        image: [\"node:18\", node:20]\n        include:\n          - image: |-\n              postgres:16\n    container: ${{ matrix.image }}\n"
	res, err := Scan("wf.yml", []byte(in))
	if err != nil {
		t.Fatal(err)
	}
	d := yamlreftest.PinDigest
	want := "jobs:\n  t:\n    strategy:\n      matrix:\n        image: [\"node:18@" + d + "\", node:20@" + d + "]\n        include:\n          - image: |-\n              postgres:16@" + d + "\n    container: ${{ matrix.image }}\n"
	if got := string(yamlreftest.Pin([]byte(in), res)); got != want {
		t.Errorf("pinned:\n%s\nwant:\n%s", got, want)
	}
	for _, r := range res.Refs {
		if r.Kind != ref.Image || r.Edit == nil {
			t.Errorf("ref %q: kind %s, edit %v", r.Text, r.Kind, r.Edit)
		}
	}
}

// TestScanMatrixOtherUses checks that the values of a matrix property are
// edited only when every use of it is a whole-value image use: any other
// use, in any spelling, leaves them without an edit, NotEditable naming it.
func TestScanMatrixOtherUses(t *testing.T) {
	t.Parallel()
	const head = "jobs:\n  a:\n    strategy:\n      matrix:\n        image: [node:20, node:22]\n    container: ${{ matrix.image }}\n"
	tests := []struct {
		name, rest string
		line       int // of the other use; 0 when the values stay editable
		why        string
	}{
		{"bracket spelling in if", "    steps:\n      - if: matrix['image'] == 'node:22'\n        run: echo\n", 8, "(jobs.a.steps[0].if: matrix['image'] == 'node:22')"},
		{"double-quoted bracket", "    steps:\n      - if: ${{ matrix[\"image\"] == 'node:22' }}\n", 8, "jobs.a.steps[0].if"},
		{"endsWith", "    steps:\n      - if: endsWith(matrix.image, ':20')\n", 8, "endsWith(matrix.image, ':20')"},
		{"contains fromJSON", "    if: contains(fromJSON('[\"node:22\"]'), matrix.image)\n", 7, "jobs.a.if"},
		{"run script", "    steps:\n      - run: '[ \"${{ matrix.image }}\" = \"node:22\" ] && echo new'\n", 8, "(jobs.a.steps[0].run: ${{ matrix.image }})"},
		{"name", "    name: test on ${{ Matrix.IMAGE }}\n", 7, "jobs.a.name"},
		{"cache key", "    steps:\n      - uses: actions/cache@v4\n        with:\n          path: x\n          key: ${{ runner.os }}-\n            ${{ matrix.image }}\n", 12, "jobs.a.steps[0].with.key"},
		{"another job", "  b:\n    runs-on: ${{ matrix.image }}\n", 8, "jobs.b.runs-on"},
		{"whole matrix", "    steps:\n      - run: echo '${{ toJSON(matrix) }}'\n", 8, "the whole matrix is read at line 8"},
		{"computed index", "    env: {X: \"${{ matrix[inputs.k] }}\"}\n", 7, "jobs.a.env.X"},
		{"if behind an alias", "    env: {C: &c \"matrix.image != 'node:20'\"}\n    steps:\n      - if: *c\n", 7, "(jobs.a.steps[0].if: matrix.image != 'node:20')"},
		{"compared with ==", "    steps:\n      - if: ${{ matrix.Image == 'node:20' }}\n", 8, "jobs.a.steps[0].if"},
		{"image uses only", "    services:\n      db: ${{ matrix['image'] }}\n    steps:\n      - uses: docker://${{ matrix.image }}\n      - run: echo ${{ matrix.other }} matrix.image\n        if: matrix.images\n", 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			data := []byte(head + tt.rest)
			res, err := Scan("wf.yml", data)
			if err != nil {
				t.Fatal(err)
			}
			var n int
			for _, r := range res.Refs {
				if r.Kind != ref.Image || r.Context == "" || r.Dynamic {
					continue
				}
				n++
				if tt.line == 0 {
					if r.Edit == nil || r.NotEditable != "" {
						t.Errorf("%s: edit %v, notEditable %q; want an edit", short(r), r.Edit, r.NotEditable)
					}
					continue
				}
				if r.Edit != nil {
					t.Errorf("%s: has an edit", short(r))
				}
				if !strings.Contains(r.NotEditable, fmt.Sprintf("at line %d ", tt.line)) || !strings.Contains(r.NotEditable, tt.why) {
					t.Errorf("%s: notEditable %q, want line %d and %q", short(r), r.NotEditable, tt.line, tt.why)
				}
			}
			if n != 2 {
				t.Errorf("%d matrix references, want 2", n)
			}
			checkPositions(t, data, res)
		})
	}
}
