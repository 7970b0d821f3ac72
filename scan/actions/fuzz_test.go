package actions

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stet-dev/stet/scan"
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
	})
}
