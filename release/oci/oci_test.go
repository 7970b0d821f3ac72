package oci

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	ggcrregistry "github.com/google/go-containerregistry/pkg/registry"

	"github.com/stet-dev/stet/internal/testregistry"
	"github.com/stet-dev/stet/release"
	"github.com/stet-dev/stet/release/releasetest"
)

// inProcess starts go-containerregistry's registry with the referrers API.
func inProcess(t testing.TB) string {
	t.Helper()
	s := httptest.NewServer(ggcrregistry.New(ggcrregistry.Logger(log.New(io.Discard, "", 0)), ggcrregistry.WithReferrersSupport(true)))
	t.Cleanup(s.Close)
	return strings.TrimPrefix(s.URL, "http://")
}

var repoSeq atomic.Int64

// opener returns a function opening handles to a fresh repository on host.
func opener(t *testing.T, host string, opts ...Option) func() release.Ledger {
	loc := fmt.Sprintf("oci://%s/stet/ledger-%d", host, repoSeq.Add(1))
	return func() release.Ledger {
		l, err := Open(context.Background(), loc, opts...)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { l.Close() })
		return l
	}
}

func TestContract(t *testing.T) {
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	t.Run("referrers", func(t *testing.T) {
		host := inProcess(t)
		releasetest.Run(t, func(t *testing.T) func() release.Ledger { return opener(t, host) })
	})
	t.Run("no-referrers", func(t *testing.T) {
		host := testregistry.New(t)
		releasetest.Run(t, func(t *testing.T) func() release.Ledger { return opener(t, host) })
	})
	t.Run("distribution", func(t *testing.T) {
		host := testregistry.Distribution(t, testregistry.Options{})
		releasetest.Run(t, func(t *testing.T) func() release.Ledger { return opener(t, host) })
	})
	t.Run("distribution-auth", func(t *testing.T) {
		host := testregistry.Distribution(t, testregistry.Options{User: "stet", Password: "s3cret"})
		testregistry.DockerConfig(t, map[string][2]string{host: {"stet", "s3cret"}})
		releasetest.Run(t, func(t *testing.T) func() release.Ledger { return opener(t, host) })
	})
}

var _ http.RoundTripper = nil
