package helm_test

import (
	"fmt"

	"github.com/stet-dev/stet/scan/helm"
)

func ExampleScanWithAppVersion() {
	data := []byte(`image:
  registry: quay.io
  repository: argoproj/argo-rollouts
  # Defaults to the chart's appVersion.
  tag: ""
  digest: ""
`)
	for _, appVersion := range []string{"", "v1.8.3"} {
		res, err := helm.ScanWithAppVersion("values.yaml", data, appVersion)
		if err != nil {
			panic(err)
		}
		r := res.Refs[0]
		fmt.Printf("%q at %d:%d -> %s tag=%q dynamic=%v editable=%v\n", r.Text, r.Line, r.Column, r.Name, r.Tag, r.Dynamic, r.Edit != nil)
	}
	// Output:
	// "argoproj/argo-rollouts" at 3:15 -> quay.io/argoproj/argo-rollouts tag="" dynamic=true editable=false
	// "argoproj/argo-rollouts" at 3:15 -> quay.io/argoproj/argo-rollouts tag="v1.8.3" dynamic=false editable=true
}
