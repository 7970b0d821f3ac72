// Package formats assembles the scanner of every file format stet reads into
// the registry the walker uses.
package formats

import (
	"os"
	"path/filepath"

	"gopkg.in/yaml.v3"

	"github.com/stet-dev/stet/ref"
	"github.com/stet-dev/stet/scan"
	"github.com/stet-dev/stet/scan/actions"
	"github.com/stet-dev/stet/scan/compose"
	"github.com/stet-dev/stet/scan/dockerfile"
	"github.com/stet-dev/stet/scan/gitlab"
	"github.com/stet-dev/stet/scan/helm"
	"github.com/stet-dev/stet/scan/kube"
	"github.com/stet-dev/stet/scan/kustomize"
)

// Default returns a scanner for every supported source (ref.Source*).
func Default() map[string]scan.Scanner {
	return map[string]scan.Scanner{
		ref.SourceDockerfile: dockerfile.Scan,
		ref.SourceCompose:    compose.Scan,
		ref.SourceKube:       kube.Scan,
		ref.SourceHelm:       helmValues,
		ref.SourceKustomize:  kustomize.Scan,
		ref.SourceActions:    actions.Scan,
		ref.SourceGitLab:     gitlab.Scan,
	}
}

// helmValues scans a chart's values file with the chart's appVersion, which
// charts use as the image tag when values leave it empty.
func helmValues(p string, data []byte) (*scan.Result, error) {
	return helm.ScanWithAppVersion(p, data, appVersion(filepath.Join(filepath.Dir(filepath.FromSlash(p)), "Chart.yaml")))
}

// appVersion reads Chart.yaml's appVersion; "" when absent or unreadable
// (the values scanner then reports tagless images as dynamic).
func appVersion(chart string) string {
	data, err := os.ReadFile(chart)
	if err != nil || len(data) > 1<<20 {
		return ""
	}
	var c struct {
		AppVersion string `yaml:"appVersion"`
	}
	if yaml.Unmarshal(data, &c) != nil {
		return ""
	}
	return c.AppVersion
}
