package main

import (
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/stet-dev/stet/internal/faultproxy"
	"github.com/stet-dev/stet/internal/testregistry"
)

func startRegistry(dist bool) (string, func(), error) {
	if !dist {
		host, stop := testregistry.Start()
		return host, stop, nil
	}
	bin, ok := testregistry.DistributionBinary()
	if !ok {
		return "", nil, fmt.Errorf("Distribution registry not installed: go install github.com/distribution/distribution/v3/cmd/registry@v3.1.2")
	}
	dir, err := os.MkdirTemp("", "stet-bench-registry-")
	if err != nil {
		return "", nil, err
	}
	host, stop, err := testregistry.StartDistribution(bin, dir, testregistry.Options{})
	if err != nil {
		os.RemoveAll(dir)
		return "", nil, err
	}
	return host, func() { stop(); os.RemoveAll(dir) }, nil
}

func startProxy(host string, latency time.Duration) (*faultproxy.Proxy, func(), error) {
	return faultproxy.Start(host, faultproxy.WithLatency(latency))
}

// pushImages pushes every unique reference under host/mirror/: random
// single-layer images, and a two-platform index for every tenth.
func pushImages(host string) error {
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
		sem  = make(chan struct{}, 16)
	)
	for i := range repos * tagsPerRepo {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			if err := pushOne(host, i); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(errs) > 0 {
		return fmt.Errorf("pushing %d images: %w (and %d more)", repos*tagsPerRepo, errs[0], len(errs)-1)
	}
	return nil
}

func pushOne(host string, i int) error {
	r, err := name.NewTag(host + "/mirror/" + imageName(i))
	if err != nil {
		return err
	}
	img, err := random.Image(256, 1)
	if err != nil {
		return err
	}
	if i%10 != 0 {
		return remote.Write(r, img)
	}
	arm, err := random.Image(256, 1)
	if err != nil {
		return err
	}
	idx := mutate.AppendManifests(mutate.IndexMediaType(empty.Index, types.OCIImageIndex),
		mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}}},
		mutate.IndexAddendum{Add: arm, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "arm64"}}})
	return remote.WriteIndex(r, idx)
}
