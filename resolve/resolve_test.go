package resolve_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/authn"

	"github.com/stet-dev/stet/internal/faultproxy"
	"github.com/stet-dev/stet/internal/testregistry"
	"github.com/stet-dev/stet/ref"
	"github.com/stet-dev/stet/registry"
	"github.com/stet-dev/stet/resolve"
)

var fastRetry = registry.WithRetry(registry.RetryPolicy{Attempts: 3, Backoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond})

func newClient(t testing.TB, opts ...registry.Option) *registry.Client {
	t.Helper()
	c, err := registry.New(append([]registry.Option{fastRetry, registry.WithKeychain(authn.NewMultiKeychain())}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func newResolver(t testing.TB, opts ...resolve.Option) *resolve.Resolver {
	t.Helper()
	return newResolverWith(t, newClient(t), opts...)
}

func newResolverWith(t testing.TB, c *registry.Client, opts ...resolve.Option) *resolve.Resolver {
	t.Helper()
	r, err := resolve.New(c, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// images builds Refs as a scanner would, at distinct lines of one file.
func images(t testing.TB, texts ...string) []ref.Ref {
	t.Helper()
	var out []ref.Ref
	for i, s := range texts {
		rf := ref.Ref{File: "Dockerfile", Line: i + 1, Column: 6, Source: ref.SourceDockerfile, Text: s, Context: "FROM"}
		if err := rf.SetImage(s); err != nil {
			t.Fatal(err)
		}
		out = append(out, rf)
	}
	return out
}

type fixture struct {
	host, proxy      string
	p                *faultproxy.Proxy
	app, idx, arm    string // digests
	amd64Child       string
	appName, idxName string
}

func newFixture(t *testing.T) fixture {
	t.Helper()
	host := testregistry.New(t)
	p := faultproxy.New(t, host)
	f := fixture{host: host, proxy: p.Host, p: p}
	f.app = testregistry.Push(t, host+"/team/app:1.0", testregistry.Image(t, "linux/amd64"))
	idx := testregistry.Index(t, "linux/amd64", "linux/arm64/v8")
	f.idx = testregistry.PushIndex(t, host+"/library/nginx:1-alpine", idx)
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	f.amd64Child = im.Manifests[0].Digest.String()
	f.arm = testregistry.Push(t, host+"/team/arm:2", testregistry.Image(t, "linux/arm/v7"))
	f.appName, f.idxName = p.Host+"/team/app", p.Host+"/library/nginx"
	return f
}

func TestResolveImages(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	refs := images(t,
		f.proxy+"/team/app:1.0",
		f.proxy+"/library/nginx:1-alpine",
		f.proxy+"/team/app:1.0", // the same key again
		f.proxy+"/team/app:1.0@sha256:"+strings.Repeat("a", 64),
		f.proxy+"/library/nginx@"+f.idx, // digest-only: nothing to resolve
	)
	refs = append(refs, ref.Ref{Kind: ref.Image, Dynamic: true, Text: "${IMAGE}"})
	var mu sync.Mutex
	var progress [][2]int
	r := newResolver(t, resolve.WithProgress(func(done, total int) {
		mu.Lock()
		progress = append(progress, [2]int{done, total})
		mu.Unlock()
	}))
	res, err := r.Resolve(t.Context(), refs)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][2]string{}
	for k, v := range res.Results {
		got[k] = [2]string{v.Digest, v.MediaType}
	}
	want := map[string][2]string{
		f.appName + ":1.0":      {f.app, "application/vnd.oci.image.manifest.v1+json"},
		f.idxName + ":1-alpine": {f.idx, "application/vnd.oci.image.index.v1+json"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got)\n%s", diff)
	}
	if diff := cmp.Diff([][2]int{{0, 2}, {1, 2}, {2, 2}}, progress); diff != "" {
		t.Errorf("progress (-want +got)\n%s", diff)
	}
	if res.For(refs[0]).Platforms != nil {
		t.Errorf("platforms recorded without being asked for")
	}
	// The request budget: one ping for the registry, one HEAD per unique
	// name:tag, nothing else.
	wantCounts := map[string]int{"GET ping": 1, "HEAD manifest": 2}
	if diff := cmp.Diff(wantCounts, f.p.Counts()); diff != "" {
		t.Errorf("requests (-want +got)\n%s", diff)
	}
	// Resolving again with the same Resolver costs nothing.
	if _, err := r.Resolve(t.Context(), refs); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(wantCounts, f.p.Counts()); diff != "" {
		t.Errorf("requests after a second Resolve (-want +got)\n%s", diff)
	}
}

func TestPlatforms(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	refs := images(t, f.proxy+"/team/app:1.0", f.proxy+"/library/nginx:1-alpine", f.proxy+"/team/arm:2")
	r := newResolver(t, resolve.WithPlatforms())
	res, err := r.Resolve(t.Context(), refs)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]string{}
	for k, v := range res.Results {
		got[k] = v.Platforms
	}
	want := map[string][]string{
		f.appName + ":1.0":      {"linux/amd64"},
		f.idxName + ":1-alpine": {"linux/amd64", "linux/arm64/v8"},
		f.proxy + "/team/arm:2": {"linux/arm/v7"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got)\n%s", diff)
	}
	// Per unique reference one GET of the tag; single-platform images also
	// need their config blob.
	wantCounts := map[string]int{"GET ping": 1, "GET manifest": 3, "GET blob": 2}
	if diff := cmp.Diff(wantCounts, f.p.Counts()); diff != "" {
		t.Errorf("requests (-want +got)\n%s", diff)
	}
}

func TestRequirePlatforms(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	for _, tc := range []struct {
		platforms []string
		ref       string
		wantErr   string
	}{
		{[]string{"linux/amd64", "linux/arm64"}, "/library/nginx:1-alpine", ""},
		{[]string{"linux/arm64/v8"}, "/library/nginx:1-alpine", ""},
		{[]string{"linux/amd64", "linux/s390x"}, "/library/nginx:1-alpine", "platform missing: linux/s390x (it has linux/amd64, linux/arm64/v8)"},
		{[]string{"linux/arm64"}, "/team/app:1.0", "platform missing: linux/arm64 (it has linux/amd64)"},
		{[]string{"linux/arm/v6"}, "/team/arm:2", "platform missing: linux/arm/v6"},
	} {
		t.Run(strings.Join(tc.platforms, ",")+tc.ref, func(t *testing.T) {
			t.Parallel()
			r := newResolver(t, resolve.WithRequirePlatforms(tc.platforms...))
			res, err := r.Resolve(t.Context(), images(t, f.proxy+tc.ref))
			if tc.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, resolve.ErrPlatformMissing) || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("got %v, want ErrPlatformMissing saying %q", err, tc.wantErr)
			}
			for _, v := range res.Results {
				if v.Digest != "" {
					t.Errorf("a failed result carries digest %s", v.Digest)
				}
			}
		})
	}
	if _, err := resolve.New(newClient(t), resolve.WithRequirePlatforms("amd64")); err == nil {
		t.Errorf("platform without os accepted")
	}
}

func TestMissingTag(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	r := newResolver(t)
	refs := images(t, f.proxy+"/team/app:1.0", f.proxy+"/team/app:9.9", f.proxy+"/team/nope:1")
	res, err := r.Resolve(t.Context(), refs)
	if !errors.Is(err, registry.ErrNotFound) {
		t.Fatalf("got %v, want ErrNotFound", err)
	}
	for _, want := range []string{f.appName + ":9.9", f.proxy + "/team/nope:1", "404"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %q", err, want)
		}
	}
	if res.For(refs[0]).Digest != f.app {
		t.Errorf("the good reference was not resolved alongside the failures")
	}
}

func TestSinglePlatformPinWarning(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	refs := images(t,
		f.proxy+"/library/nginx:1-alpine@"+f.amd64Child, // pinned to the amd64 manifest
		f.proxy+"/library/nginx:1-alpine@"+f.idx,        // pinned right
	)
	r := newResolver(t)
	res, err := r.Resolve(t.Context(), refs)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Warnings) != 1 || res.Warnings[0].Ref.Line != 1 || !strings.Contains(res.Warnings[0].Message, "linux/amd64 manifest of a multi-platform image") {
		t.Errorf("warnings = %+v", res.Warnings)
	}
}

func TestExists(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	r := newResolver(t)
	for d, want := range map[string]bool{f.app: true, "sha256:" + strings.Repeat("1", 64): false} {
		got, err := r.Exists(t.Context(), f.appName, d)
		if err != nil || got != want {
			t.Errorf("Exists(%s) = %v, %v; want %v", d, got, err, want)
		}
	}
}

func TestCancel(t *testing.T) {
	t.Parallel()
	host := testregistry.New(t)
	testregistry.Push(t, host+"/app:1", testregistry.Image(t, ""))
	p := faultproxy.New(t, host)
	p.Add(faultproxy.Fault{Kind: faultproxy.Manifest, Delay: time.Minute})
	var texts []string
	for i := range 50 {
		texts = append(texts, fmt.Sprintf("%s/app:%d", p.Host, i))
	}
	ctx, cancel := context.WithCancel(t.Context())
	go func() {
		// Cancel once requests are in flight, as Ctrl-C would.
		for p.Count("HEAD", faultproxy.Manifest) == 0 {
			time.Sleep(time.Millisecond)
		}
		cancel()
	}()
	res, err := newResolver(t).Resolve(ctx, images(t, texts...))
	if !errors.Is(err, context.Canceled) {
		t.Errorf("got %v, want context.Canceled", err)
	}
	for k, v := range res.Results {
		if v.Digest != "" {
			t.Errorf("%s resolved to %s after cancellation", k, v.Digest)
		}
	}
}

func TestMirrors(t *testing.T) {
	t.Parallel()
	host := testregistry.New(t)
	p := faultproxy.New(t, host)
	nginx := testregistry.Push(t, host+"/hub/library/nginx:1-alpine", testregistry.Image(t, ""))
	app := testregistry.Push(t, host+"/ghcr/org/app:2", testregistry.Image(t, ""))
	c := newClient(t, registry.WithMirrors(map[string]string{"docker.io": p.Host + "/hub", "ghcr.io": p.Host + "/ghcr"}))
	r := newResolverWith(t, c)
	refs := images(t, "nginx:1-alpine", "docker.io/library/nginx:1-alpine", "ghcr.io/org/app:2")
	res, err := r.Resolve(t.Context(), refs)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for k, v := range res.Results {
		got[k] = v.Digest
	}
	want := map[string]string{"docker.io/library/nginx:1-alpine": nginx, "ghcr.io/org/app:2": app}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got)\n%s", diff)
	}
	if diff := cmp.Diff(map[string]int{"GET ping": 1, "HEAD manifest": 2}, p.Counts()); diff != "" {
		t.Errorf("requests (-want +got)\n%s", diff)
	}
}

func TestDescribe(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	r := newResolver(t, resolve.WithPlatforms())
	res := r.Describe(t.Context(), f.idxName, f.idx)
	got := append([]string{res.Digest, res.MediaType}, res.Platforms...)
	if diff := cmp.Diff([]string{f.idx, "application/vnd.oci.image.index.v1+json", "linux/amd64", "linux/arm64/v8"}, got); diff != "" || res.Err != nil {
		t.Errorf("(-want +got)\n%s%v", diff, res.Err)
	}
	if res := r.Describe(t.Context(), f.idxName, "sha256:"+strings.Repeat("2", 64)); !errors.Is(res.Err, registry.ErrNotFound) {
		t.Errorf("missing digest: %v, want ErrNotFound", res.Err)
	}
}

// TestWrongManifestBytes: with platforms asked for, the index body is
// fetched; bytes that do not match the digest fail the reference, they
// never produce a result.
func TestWrongManifestBytes(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.p.Add(faultproxy.Fault{Method: "GET", Kind: faultproxy.Manifest, Corrupt: true})
	r := newResolver(t, resolve.WithPlatforms())
	res, err := r.Resolve(t.Context(), images(t, f.proxy+"/library/nginx:1-alpine"))
	if !errors.Is(err, registry.ErrDigestMismatch) {
		t.Fatalf("got %v, want ErrDigestMismatch", err)
	}
	if d := res.Results[f.idxName+":1-alpine"].Digest; d != "" {
		t.Errorf("result carries digest %s despite the mismatch", d)
	}
}

// TestConcurrencyBound: never more requests in flight to one registry
// than the client allows.
func TestConcurrencyBound(t *testing.T) {
	t.Parallel()
	host := testregistry.New(t)
	var texts []string
	for i := range 24 {
		texts = append(texts, fmt.Sprintf("%s/app:%d", host, i))
		testregistry.Push(t, texts[i], testregistry.Image(t, ""))
	}
	p := faultproxy.New(t, host, faultproxy.WithLatency(10*time.Millisecond))
	for i := range texts {
		texts[i] = strings.Replace(texts[i], host, p.Host, 1)
	}
	r := newResolverWith(t, newClient(t, registry.WithConcurrency(4)))
	if _, err := r.Resolve(t.Context(), images(t, texts...)); err != nil {
		t.Fatal(err)
	}
	if n := p.MaxInFlight(); n > 4 {
		t.Errorf("%d requests in flight, bound is 4", n)
	}
	if n := p.Count("HEAD", faultproxy.Manifest); n != 24 {
		t.Errorf("HEADs = %d, want 24", n)
	}
}

// TestCache: with a warm manifest cache, recording platforms costs one
// HEAD per tag and no GET; a corrupt entry is refetched.
func TestCache(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	dir := t.TempDir()
	refs := images(t, f.proxy+"/team/app:1.0", f.proxy+"/library/nginx:1-alpine")
	resolveAll := func() map[string][]string {
		t.Helper()
		f.p.ResetCounts()
		res, err := newResolver(t, resolve.WithPlatforms(), resolve.WithCache(dir)).Resolve(t.Context(), refs)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string][]string{}
		for k, v := range res.Results {
			got[k] = append([]string{v.Digest, v.MediaType}, v.Platforms...)
		}
		return got
	}
	want := map[string][]string{
		f.appName + ":1.0":      {f.app, "application/vnd.oci.image.manifest.v1+json", "linux/amd64"},
		f.idxName + ":1-alpine": {f.idx, "application/vnd.oci.image.index.v1+json", "linux/amd64", "linux/arm64/v8"},
	}
	for i, wantCounts := range []map[string]int{
		{"GET ping": 1, "HEAD manifest": 2, "GET manifest": 2, "GET blob": 1}, // cold
		{"GET ping": 1, "HEAD manifest": 2},                                   // warm
	} {
		if diff := cmp.Diff(want, resolveAll()); diff != "" {
			t.Errorf("run %d (-want +got)\n%s", i, diff)
		}
		if diff := cmp.Diff(wantCounts, f.p.Counts()); diff != "" {
			t.Errorf("run %d requests (-want +got)\n%s", i, diff)
		}
	}
	entry := filepath.Join(dir, "manifests", "sha256", strings.TrimPrefix(f.idx, "sha256:")+".json")
	if err := os.WriteFile(entry, []byte("{not json"), 0o644); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, resolveAll()); diff != "" {
		t.Errorf("corrupt entry (-want +got)\n%s", diff)
	}
	if diff := cmp.Diff(map[string]int{"GET ping": 1, "HEAD manifest": 2, "GET manifest": 1}, f.p.Counts()); diff != "" {
		t.Errorf("corrupt entry requests (-want +got)\n%s", diff)
	}
}

// TestRegistryDown: a registry that fails its ping is asked once (with
// retries), not once per reference, and every reference fails clearly.
func TestRegistryDown(t *testing.T) {
	t.Parallel()
	host := testregistry.New(t)
	p := faultproxy.New(t, host)
	p.Add(faultproxy.Fault{Kind: faultproxy.Ping, Status: 503})
	var texts []string
	for i := range 10 {
		texts = append(texts, fmt.Sprintf("%s/app:%d", p.Host, i))
	}
	res, err := newResolver(t).Resolve(t.Context(), images(t, texts...))
	if !errors.Is(err, registry.ErrUnavailable) {
		t.Fatalf("got %v, want ErrUnavailable", err)
	}
	for k, v := range res.Results {
		if v.Err == nil || !strings.Contains(v.Err.Error(), k) || !strings.Contains(v.Err.Error(), "503") {
			t.Errorf("%s: %v; want an error naming the reference and the status", k, v.Err)
		}
	}
	if diff := cmp.Diff(map[string]int{"GET ping": 3}, p.Counts()); diff != "" {
		t.Errorf("requests (-want +got)\n%s", diff)
	}
}
