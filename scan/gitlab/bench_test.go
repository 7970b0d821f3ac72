package gitlab

import (
	"testing"

	"github.com/stet-dev/stet/scan/internal/yamlref/yamlreftest"
)

// BenchmarkScan scans every GitLab CI file of the corpus once per
// iteration.
func BenchmarkScan(b *testing.B) {
	yamlreftest.BenchmarkCorpus(b, corpusRoot, "gitlab", ".gitlab-ci.yml", Scan)
}
