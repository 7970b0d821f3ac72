package kustomize_test

import (
	"fmt"

	"github.com/stet-dev/stet/scan/kustomize"
)

func ExampleScan() {
	data := []byte(`resources: [../base]
images:
- name: quay.io/argoproj/argocd
  newName: ghcr.io/acme/argocd
  newTag: v2.14.0
`)
	res, err := kustomize.Scan("kustomization.yaml", data)
	if err != nil {
		panic(err)
	}
	r := res.Refs[0]
	fmt.Printf("%s:%s, a pin inserts %q at byte %d\n", r.Name, r.Tag, r.Edit.Prefix+"sha256:…", r.Edit.Start)
	// Output:
	// ghcr.io/acme/argocd:v2.14.0, a pin inserts "\n  digest: sha256:…" at byte 109
}
