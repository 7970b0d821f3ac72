package gitlab

import (
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkScan scans every GitLab CI file of the corpus once per
// iteration.
func BenchmarkScan(b *testing.B) {
	var inputs [][]byte
	var size int64
	for _, file := range corpusFiles(b, "gitlab") {
		data, err := os.ReadFile(filepath.Join(corpus, file))
		if err != nil {
			b.Fatal(err)
		}
		inputs = append(inputs, data)
		size += int64(len(data))
	}
	b.SetBytes(size)
	b.ReportAllocs()
	for b.Loop() {
		for _, data := range inputs {
			if _, err := Scan(".gitlab-ci.yml", data); err != nil {
				b.Fatal(err)
			}
		}
	}
}
