package actions

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/stet-dev/stet/ref"
	"github.com/stet-dev/stet/scan"
	"github.com/stet-dev/stet/scan/internal/yamlref/yamlreftest"
)

// FuzzScan checks that any input either fails with a *scan.Error or yields
// references whose positions and edit spans hold their text.
func FuzzScan(f *testing.F) {
	for _, file := range corpusFiles(f, "actions")[:8] {
		if data, err := os.ReadFile(filepath.Join(corpusRoot, file)); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte("jobs:\n  a:\n    container: {image: &x alpine}\n    steps:\n      - uses: a/b@" + sha + " # v1\n      - uses: docker://\"x\"\n"))
	f.Add([]byte("runs:\n  image: >-\n    docker://alpine\n  steps: [{uses: \"a/b@\\x76\"}, {run: |2\n     x\n}]\n"))
	f.Add([]byte("\ufeffruns: {using: docker, image: ! \"docker://alp\\x69ne\"}\njobs:\n  a:\n    container: ! \"alp\\x69ne\"\n    steps:\n      - uses: &u # c\n          a/b@v1\n        run: !!str # c\n          |\n            echo\n"))
	f.Add([]byte("x: &m {image: [\"node:18\", &n node:20], include: [{image: |-\n    postgres:16\n  }]}\njobs:\n  a:\n    strategy: {matrix: *m}\n    container: ${{ matrix.image }}\n    services: {b: *n, c: {image: \"${{matrix.Image}}\"}}\n  b:\n    strategy:\n      matrix:\n        <<: *m\n        exclude: [{image: node:18}]\n    steps: [{uses: \"docker://${{ matrix.image }}\"}]\n"))
	f.Add([]byte("jobs:\n  a:\n    strategy:\n      matrix:\n        image:\n          - >-\n            node:22\n          - |\n            a\n            b\n        include: [{image: docker://x}]\n    container: {image: ${{ matrix.image }}}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		res, err := Scan("wf.yml", data)
		if err != nil {
			var se *scan.Error
			if !errors.As(err, &se) {
				t.Fatalf("error %v is not a *scan.Error", err)
			}
			return
		}
		checkPositions(t, data, res)
		// Images pin and read back as every YAML scanner's do; actions
		// are pinned with a comment that yamlreftest.Pin does not write.
		images := *res
		images.Refs = slices.Clone(res.Refs)
		for i := range images.Refs {
			if images.Refs[i].Kind == ref.Action {
				images.Refs[i].Edit = nil
			}
		}
		yamlreftest.RoundTrip(t, "wf.yml", data, &images, Scan)
	})
}
