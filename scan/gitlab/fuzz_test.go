package gitlab

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
	for _, file := range corpusFiles(f, "gitlab") {
		if data, err := os.ReadFile(filepath.Join(corpusRoot, file)); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte("variables:\n  A: &a $B\n  B: ${A}x\njob:\n  <<: *j\n  image: {name: &n \"$A\"}\n  services: [!reference [x, y], *n, $$C]\n"))
	f.Add([]byte("a:\n  image: >-\n    alpine\n  script: [|2\n     x\n, [\"y\\x20\"]]\n"))
	f.Add([]byte("\ufeffimage: &a # c\n  \"alp\\x69ne:3\"\njob: {*a : x, !!merge image: ! \"y\", script: ! \"echo\\x20hi\"}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		res, err := Scan(".gitlab-ci.yml", data)
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
