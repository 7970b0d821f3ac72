package actions

import (
	"testing"

	"github.com/stet-dev/stet/scan/internal/yamlref/yamlreftest"
)

// BenchmarkScan scans every workflow and action file of the corpus once per
// iteration.
func BenchmarkScan(b *testing.B) {
	yamlreftest.BenchmarkCorpus(b, corpusRoot, "actions", "wf.yml", Scan)
}
