package registry_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"

	"github.com/stet-dev/stet/internal/faultproxy"
	"github.com/stet-dev/stet/internal/testregistry"
	"github.com/stet-dev/stet/registry"
)

var fastRetry = registry.WithRetry(registry.RetryPolicy{Attempts: 4, Backoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond, MaxRetryAfter: 5 * time.Second})

func newClient(t *testing.T, opts ...registry.Option) *registry.Client {
	t.Helper()
	c, err := registry.New(append([]registry.Option{fastRetry, registry.WithKeychain(authn.NewMultiKeychain())}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func tag(t *testing.T, s string) name.Tag {
	t.Helper()
	r, err := name.NewTag(s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestHead(t *testing.T) {
	t.Parallel()
	host := testregistry.New(t)
	img := testregistry.Push(t, host+"/app:1", testregistry.Image(t, ""))
	idx := testregistry.PushIndex(t, host+"/multi:2", testregistry.Index(t, "linux/amd64", "linux/arm64"))
	c := newClient(t)
	for _, tc := range []struct {
		ref, digest, mediaType string
	}{
		{host + "/app:1", img, "application/vnd.oci.image.manifest.v1+json"},
		{host + "/multi:2", idx, "application/vnd.oci.image.index.v1+json"},
	} {
		t.Run(tc.ref, func(t *testing.T) {
			d, err := c.Head(t.Context(), tag(t, tc.ref))
			if err != nil {
				t.Fatal(err)
			}
			got := []string{d.Digest.String(), string(d.MediaType)}
			if diff := cmp.Diff([]string{tc.digest, tc.mediaType}, got); diff != "" {
				t.Errorf("(-want +got)\n%s", diff)
			}
		})
	}
}

func TestNotFound(t *testing.T) {
	t.Parallel()
	host := testregistry.New(t)
	testregistry.Push(t, host+"/app:1", testregistry.Image(t, ""))
	c := newClient(t)
	_, err := c.Head(t.Context(), tag(t, host+"/app:nope"))
	var re *registry.Error
	if !errors.As(err, &re) || !errors.Is(err, registry.ErrNotFound) {
		t.Fatalf("Head of a missing tag: got %v, want a *registry.Error matching ErrNotFound", err)
	}
	for _, want := range []string{host + "/app:nope", "registry " + host, "404"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %q", err, want)
		}
	}
	missing, err := name.NewDigest(host + "/app@sha256:" + strings.Repeat("0", 64))
	if err != nil {
		t.Fatal(err)
	}
	ok, err := c.Exists(t.Context(), missing)
	if err != nil || ok {
		t.Errorf("Exists(missing digest) = %v, %v; want false, nil", ok, err)
	}
}

// TestMirrors resolves docker.io and ghcr.io references through a local
// registry while errors keep naming the original reference.
func TestMirrors(t *testing.T) {
	t.Parallel()
	host := testregistry.New(t)
	p := faultproxy.New(t, host)
	nginx := testregistry.Push(t, host+"/dockerhub/library/nginx:1-alpine", testregistry.Image(t, ""))
	app := testregistry.Push(t, host+"/ghcr/org/app:2", testregistry.Image(t, ""))
	c := newClient(t, registry.WithMirrors(map[string]string{
		"docker.io": p.Host + "/dockerhub",
		"ghcr.io":   p.Host + "/ghcr/",
	}))
	for ref, want := range map[string]string{
		"docker.io/library/nginx:1-alpine":       nginx,
		"nginx:1-alpine":                         nginx,
		"index.docker.io/library/nginx:1-alpine": nginx,
		"ghcr.io/org/app:2":                      app,
	} {
		d, err := c.Head(t.Context(), tag(t, ref))
		if err != nil {
			t.Fatalf("%s: %v", ref, err)
		}
		if d.Digest.String() != want {
			t.Errorf("%s: digest %s, want %s", ref, d.Digest, want)
		}
	}
	_, err := c.Head(t.Context(), tag(t, "docker.io/library/nginx:missing"))
	if !errors.Is(err, registry.ErrNotFound) || !strings.Contains(err.Error(), "docker.io/library/nginx:missing") || !strings.Contains(err.Error(), p.Host) {
		t.Errorf("missing tag through a mirror: %v; want ErrNotFound naming the original reference and the mirror", err)
	}
	if got := c.Mirror(tag(t, "ghcr.io/org/app:2")).String(); got != p.Host+"/ghcr/org/app:2" {
		t.Errorf("Mirror = %s", got)
	}
	if n := p.Count(http.MethodGet, faultproxy.Ping); n != 1 {
		t.Errorf("pings = %d, want 1 for two mirrored registries on one host", n)
	}
}

// dialTo sends every connection to addr whatever the host, so that tests
// can use non-loopback names without leaving the machine.
func dialTo(addr string) http.RoundTripper {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}
	return t
}

func TestPlainHTTPPolicy(t *testing.T) {
	t.Parallel()
	host := testregistry.New(t)
	testregistry.Push(t, host+"/app:1", testregistry.Image(t, ""))
	// 10.0.0.0/8 is one of the ranges go-containerregistry would try over
	// plain HTTP; stet allows it only when listed as insecure.
	const private = "10.1.2.3:5000"
	c := newClient(t, registry.WithTransport(dialTo(host)))
	_, err := c.Head(t.Context(), tag(t, private+"/app:1"))
	if !errors.Is(err, registry.ErrInsecure) {
		t.Errorf("plain HTTP to an unlisted private host: %v, want ErrInsecure", err)
	}
	c = newClient(t, registry.WithTransport(dialTo(host)), registry.WithInsecure("10.1.2.3"))
	if _, err := c.Head(t.Context(), tag(t, private+"/app:1")); err != nil {
		t.Errorf("plain HTTP to a host listed as insecure: %v", err)
	}
	c = newClient(t, registry.WithTransport(dialTo(host)), registry.WithInsecure("registry.internal:5000"))
	if _, err := c.Head(t.Context(), tag(t, "registry.internal:5000/app:1")); err != nil {
		t.Errorf("plain HTTP to a named insecure host: %v", err)
	}
	c = newClient(t, registry.WithTransport(dialTo(host)))
	if _, err := c.Head(t.Context(), tag(t, "registry.internal:5000/app:1")); err == nil {
		t.Errorf("a public name over plain HTTP succeeded; want TLS required")
	}
}

func TestBasicAuth(t *testing.T) {
	const user, pass = "stet-user", "s3cret-Passw0rd"
	host := testregistry.New(t, testregistry.Options{User: user, Password: pass})
	digest := testregistry.Push(t, host+"/private:1", testregistry.Image(t, ""), testregistry.Auth(user, pass))

	t.Run("docker config", func(t *testing.T) {
		testregistry.DockerConfig(t, map[string][2]string{host: {user, pass}})
		c, err := registry.New(fastRetry)
		if err != nil {
			t.Fatal(err)
		}
		d, err := c.Head(t.Context(), tag(t, host+"/private:1"))
		if err != nil {
			t.Fatal(err)
		}
		if d.Digest.String() != digest {
			t.Errorf("digest %s, want %s", d.Digest, digest)
		}
	})
	t.Run("no credentials", func(t *testing.T) {
		testregistry.DockerConfig(t, nil)
		c, err := registry.New(fastRetry)
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.Head(t.Context(), tag(t, host+"/private:1"))
		if !errors.Is(err, registry.ErrUnauthorized) {
			t.Errorf("got %v, want ErrUnauthorized", err)
		}
	})
	t.Run("wrong password never printed", func(t *testing.T) {
		const wrong = "wr0ng-Secret-value"
		testregistry.DockerConfig(t, map[string][2]string{host: {user, wrong}})
		var logs bytes.Buffer
		c, err := registry.New(fastRetry, registry.WithLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.Head(t.Context(), tag(t, host+"/private:1"))
		if !errors.Is(err, registry.ErrUnauthorized) || !strings.Contains(err.Error(), "401") {
			t.Fatalf("got %v, want ErrUnauthorized naming 401", err)
		}
		encoded := base64.StdEncoding.EncodeToString([]byte(user + ":" + wrong))
		for _, out := range []string{err.Error(), logs.String()} {
			if strings.Contains(out, wrong) || strings.Contains(out, encoded) {
				t.Errorf("credentials leaked: %s", out)
			}
		}
		if logs.Len() == 0 {
			t.Errorf("debug logger received nothing")
		}
	})
}

func TestBlob(t *testing.T) {
	t.Parallel()
	host := testregistry.New(t)
	img := testregistry.Image(t, "")
	testregistry.Push(t, host+"/app:1", img)
	cfg, err := img.ConfigName()
	if err != nil {
		t.Fatal(err)
	}
	want, err := img.RawConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	p := faultproxy.New(t, host)
	c := newClient(t)
	d, err := name.NewDigest(p.Host + "/app@" + cfg.String())
	if err != nil {
		t.Fatal(err)
	}
	read := func() ([]byte, error) {
		rc, err := c.Blob(t.Context(), d)
		if err != nil {
			return nil, err
		}
		defer rc.Close()
		return io.ReadAll(rc)
	}
	got, err := read()
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("Blob = %q, %v; want the config", got, err)
	}
	p.Add(faultproxy.Fault{Kind: faultproxy.Blob, Corrupt: true})
	if got, err := read(); err == nil {
		t.Errorf("corrupt blob read without error: %q", got)
	}
}

// TestCredentialHelper: credentials from a docker credential helper named
// in the docker config, for the host the request goes to (a mirror here).
func TestCredentialHelper(t *testing.T) {
	const user, pass = "helper-user", "helper-Secret-42"
	host := testregistry.New(t, testregistry.Options{User: user, Password: pass})
	want := testregistry.Push(t, host+"/hub/library/nginx:1-alpine", testregistry.Image(t, ""), testregistry.Auth(user, pass))

	bin := t.TempDir()
	script := "#!/bin/sh\nread server\n[ \"$server\" = \"" + host + "\" ] || { echo 'credentials not found in native keychain'; exit 1; }\n" +
		"printf '{\"ServerURL\":\"%s\",\"Username\":\"" + user + "\",\"Secret\":\"" + pass + "\"}' \"$server\"\n"
	if err := os.WriteFile(filepath.Join(bin, "docker-credential-stettest"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	dir := t.TempDir()
	cfg := `{"credHelpers": {"` + host + `": "stettest"}}`
	if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("DOCKER_CONFIG", dir)

	var logs bytes.Buffer
	c, err := registry.New(fastRetry, registry.WithMirrors(map[string]string{"docker.io": host + "/hub"}),
		registry.WithLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	if err != nil {
		t.Fatal(err)
	}
	d, err := c.Head(t.Context(), tag(t, "nginx:1-alpine"))
	if err != nil {
		t.Fatal(err)
	}
	if d.Digest.String() != want {
		t.Errorf("digest %s, want %s", d.Digest, want)
	}
	_, err = c.Head(t.Context(), tag(t, "nginx:missing"))
	if !errors.Is(err, registry.ErrNotFound) || strings.Contains(err.Error(), pass) || strings.Contains(logs.String(), pass) {
		t.Errorf("missing tag: %v (or the secret leaked into logs)", err)
	}
}
