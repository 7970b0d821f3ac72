package actions

import (
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkScan scans every workflow and action file of the corpus once per
// iteration.
func BenchmarkScan(b *testing.B) {
	var inputs [][]byte
	var size int64
	for _, file := range corpusFiles(b, "actions") {
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
			if _, err := Scan("wf.yml", data); err != nil {
				b.Fatal(err)
			}
		}
	}
}
