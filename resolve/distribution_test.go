package resolve_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/stet-dev/stet/internal/faultproxy"
	"github.com/stet-dev/stet/internal/testregistry"
	"github.com/stet-dev/stet/registry"
	"github.com/stet-dev/stet/resolve"
)

// TestDistribution resolves against the CNCF Distribution registry, plain
// and with htpasswd auth through a temporary DOCKER_CONFIG. Distribution
// answers 404 to a HEAD on an OCI manifest without an OCI Accept header,
// so this also checks the headers sent.
func TestDistribution(t *testing.T) {
	const user, pass = "ci", "distribution-Secret-1"
	for _, tc := range []struct {
		name string
		opts testregistry.Options
	}{
		{"plain", testregistry.Options{}},
		{"htpasswd", testregistry.Options{User: user, Password: pass}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			host := testregistry.Distribution(t, tc.opts)
			push := testregistry.Auth(tc.opts.User, tc.opts.Password)
			app := testregistry.Push(t, host+"/team/app:1.0", testregistry.Image(t, "linux/amd64"), push)
			idx := testregistry.PushIndex(t, host+"/hub/library/nginx:1-alpine", testregistry.Index(t, "linux/amd64", "linux/arm64"), push)
			if tc.opts.User != "" {
				testregistry.DockerConfig(t, map[string][2]string{host: {user, pass}})
			} else {
				testregistry.DockerConfig(t, nil)
			}
			p := faultproxy.New(t, host)
			c, err := registry.New(fastRetry, registry.WithMirrors(map[string]string{"docker.io": host + "/hub"}))
			if err != nil {
				t.Fatal(err)
			}
			r := newResolverWith(t, c, resolve.WithRequirePlatforms("linux/amd64"))
			res, err := r.Resolve(t.Context(), images(t, host+"/team/app:1.0", "nginx:1-alpine"))
			if err != nil {
				t.Fatal(err)
			}
			got := map[string][]string{}
			for k, v := range res.Results {
				got[k] = append([]string{v.Digest, v.MediaType}, v.Platforms...)
			}
			want := map[string][]string{
				host + "/team/app:1.0":             {app, "application/vnd.oci.image.manifest.v1+json", "linux/amd64"},
				"docker.io/library/nginx:1-alpine": {idx, "application/vnd.oci.image.index.v1+json", "linux/amd64", "linux/arm64"},
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("(-want +got)\n%s", diff)
			}

			// The same through the fault proxy: a 500 and a reset are retried.
			p.Add(faultproxy.Fault{Kind: faultproxy.Manifest, Status: 500, Times: 1}, faultproxy.Fault{Kind: faultproxy.Manifest, Reset: true, Times: 1})
			r = newResolverWith(t, newClientFor(t, tc.opts, p.Host))
			res, err = r.Resolve(t.Context(), images(t, p.Host+"/team/app:1.0", p.Host+"/team/app:nope"))
			if !errors.Is(err, registry.ErrNotFound) || !strings.Contains(err.Error(), p.Host+"/team/app:nope") {
				t.Errorf("missing tag: %v", err)
			}
			if d := res.Results[p.Host+"/team/app:1.0"].Digest; d != app {
				t.Errorf("through faults: %s, want %s", d, app)
			}
		})
	}
}

func newClientFor(t *testing.T, opts testregistry.Options, host string) *registry.Client {
	if opts.User != "" {
		testregistry.DockerConfig(t, map[string][2]string{host: {opts.User, opts.Password}})
	}
	c, err := registry.New(fastRetry)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
