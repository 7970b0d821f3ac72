package resolve_test

import (
	"fmt"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"

	"github.com/stet-dev/stet/internal/faultproxy"
	"github.com/stet-dev/stet/internal/testregistry"
	"github.com/stet-dev/stet/registry"
	"github.com/stet-dev/stet/resolve"
)

// BenchmarkResolve resolves 400 reference sites over 100 unique tags
// against the in-process registry through the counting proxy, each
// iteration with a fresh client (so the ping is included). It reports the
// requests per iteration; bench/resolve measures the full workload with
// network latency.
func BenchmarkResolve(b *testing.B) {
	host := testregistry.New(b)
	p := faultproxy.New(b, host)
	var texts []string
	for i := range 100 {
		ref := fmt.Sprintf("team/svc-%02d:1.%d", i/5, i%5)
		testregistry.Push(b, host+"/"+ref, testregistry.Image(b, ""))
		for range 4 {
			texts = append(texts, p.Host+"/"+ref)
		}
	}
	refs := images(b, texts...)
	p.ResetCounts()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		c, err := registry.New(registry.WithKeychain(authn.NewMultiKeychain()))
		if err != nil {
			b.Fatal(err)
		}
		r, err := resolve.New(c)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := r.Resolve(b.Context(), refs); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(p.Count("", ""))/float64(b.N), "requests/op")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/100, "ns/unique-ref")
}
