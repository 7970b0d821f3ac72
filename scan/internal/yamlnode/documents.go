package yamlnode

import (
	"slices"

	"gopkg.in/yaml.v3"

	"github.com/stet-dev/stet/ref"
	"github.com/stet-dev/stet/scan"
	"github.com/stet-dev/stet/scan/yamlpos"
)

// MappingDocuments decodes every document of a CI file and keeps those whose
// root is a mapping (through an alias if need be): a workflow, an action or
// a pipeline is always a mapping, and any other document holds nothing a CI
// scanner reads. A file that is not YAML is a *scan.Error with its line.
func MappingDocuments(path string, data []byte) ([]*yaml.Node, error) {
	docs, err := yamlpos.Documents(path, data)
	if err != nil {
		return nil, err
	}
	var out []*yaml.Node
	for _, doc := range docs {
		doc = Deref(doc)
		if doc == nil || doc.Kind != yaml.MappingNode {
			continue
		}
		out = append(out, doc)
	}
	return out, nil
}

// SortResult puts a result's references and commands in file order. The CI
// scanners find them in the order of the keys they know (jobs, then
// services, then scripts), and a reader of the report expects the file's.
func SortResult(res *scan.Result) {
	slices.SortStableFunc(res.Refs, ref.Compare)
	slices.SortStableFunc(res.Commands, func(a, b scan.Command) int {
		if a.Line != b.Line {
			return a.Line - b.Line
		}
		return a.Column - b.Column
	})
}
