// Package kustomize finds image references in kustomization files: the
// images[] transformer entries with name, newName, newTag and digest.
//
// An entry names the image that the kustomization's resources will run:
// newName (or name when there is no newName) with newTag and/or digest. Text
// is that name at its position. An entry without newTag and digest keeps
// whatever tag the base resources write, which this file does not say: it is
// reported as Dynamic. Entries whose name is not an image reference (a
// placeholder such as CONTAINER_IMAGES_REGISTRY/app) are skipped.
//
// A pin writes the digest value when the entry has a digest field
// (ref.FormDigest); otherwise it inserts a digest field under the entry
// (ref.FormInsert at the end of the entry's last line, Prefix a line break
// matching the file's, the entry's indentation and "digest: "), so newTag
// stays as written: kustomize then sets name:newTag@digest.
package kustomize

import (
	"gopkg.in/yaml.v3"

	"github.com/stet-dev/stet/ref"
	"github.com/stet-dev/stet/scan"
	"github.com/stet-dev/stet/scan/internal/yamlref"
)

// Scan finds the image references of a kustomization file. It satisfies
// scan.Scanner.
func Scan(path string, data []byte) (*scan.Result, error) {
	f := yamlref.New(path, ref.SourceKustomize, data)
	docs, err := f.Documents()
	if err != nil {
		return nil, err
	}
	res := &scan.Result{}
	for _, doc := range docs {
		_, images := yamlref.Lookup(doc, "images")
		if images = yamlref.Deref(images); images == nil || images.Kind != yaml.SequenceNode {
			continue
		}
		for i, item := range images.Content {
			if item.Kind != yaml.MappingNode {
				continue // aliases are reported where their anchor is written
			}
			if r, ok := f.KustomizeImage(item, yamlref.Index("images", i)); ok {
				res.Refs = append(res.Refs, r)
			}
		}
	}
	return res, nil
}
