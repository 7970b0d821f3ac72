package lock_test

import (
	"fmt"
	"time"

	"github.com/stet-dev/stet/lock"
	"github.com/stet-dev/stet/ref"
)

func ExampleBuild() {
	refs := []ref.Ref{
		{File: "Dockerfile", Line: 1, Kind: ref.Image, Name: "docker.io/library/nginx", Tag: "1-alpine"},
		{File: "deploy/web.yaml", Line: 17, Kind: ref.Image, Name: "docker.io/library/nginx", Tag: "1-alpine"},
	}
	resolved := func(ref.Ref) (lock.Resolved, bool) {
		return lock.Resolved{
			Digest:    "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
			MediaType: "application/vnd.oci.image.index.v1+json",
			Platforms: []string{"linux/arm64", "linux/amd64"},
		}, true
	}
	lk := lock.Build(nil, refs, resolved, time.Date(2026, 11, 2, 9, 30, 0, 0, time.UTC))
	fmt.Print(string(lk.Marshal()))
	// Output:
	// {
	//   "version": 1,
	//   "references": [
	//     {
	//       "kind": "image",
	//       "name": "docker.io/library/nginx",
	//       "tag": "1-alpine",
	//       "digest": "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	//       "mediaType": "application/vnd.oci.image.index.v1+json",
	//       "platforms": ["linux/amd64", "linux/arm64"],
	//       "resolvedAt": "2026-11-02T09:30:00Z",
	//       "sites": [
	//         {"file": "Dockerfile", "line": 1},
	//         {"file": "deploy/web.yaml", "line": 17}
	//       ]
	//     }
	//   ]
	// }
}

func ExampleVerifyFiles() {
	lk := &lock.Lock{Version: 1, References: []lock.Entry{{
		Kind: ref.Image, Name: "docker.io/library/nginx", Tag: "1-alpine",
		Digest: "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	}}}
	refs := []ref.Ref{{File: "Dockerfile", Line: 1, Column: 6, Kind: ref.Image, Name: "docker.io/library/nginx", Tag: "1-alpine",
		Digest: "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"}}
	for _, f := range lock.VerifyFiles(lk, "stet.lock", refs, lock.FilesOptions{}) {
		fmt.Printf("%s:%d:%d: %s %s\n", f.File, f.Line, f.Column, f.Rule, f.Message)
	}
	// Output:
	// Dockerfile:1:6: STET010 nginx:1-alpine is pinned to sha256:bbbbbbbbbbbb… here but stet.lock has sha256:aaaaaaaaaaaa…
}
