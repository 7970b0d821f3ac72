package yamlnode

import (
	"gopkg.in/yaml.v3"

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
