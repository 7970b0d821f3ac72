package actions

import (
	"flag"
	"path/filepath"
	"testing"

	"github.com/stet-dev/stet/scan/internal/yamlref/yamlreftest"
)

var update = flag.Bool("update", false, "rewrite the golden refs.json files")

// TestGolden scans each testdata/golden/<case>/ input file (every file but
// refs.json) and compares the result with <case>/refs.json.
func TestGolden(t *testing.T) {
	yamlreftest.GoldenCommands(t, filepath.Join("testdata", "golden"), *update, Scan, checkPositions)
}
