// Package testregistry starts real registries on 127.0.0.1 for tests:
// go-containerregistry's in-process registry, and the CNCF Distribution
// registry binary (plain or with htpasswd basic auth). It also pushes
// random images and indexes, and writes a temporary docker config with
// credentials.
package testregistry

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"golang.org/x/crypto/bcrypt"
)

// Options configure a registry started by New or Distribution.
type Options struct {
	// User and Password, when set, require HTTP basic auth on every request.
	User, Password string
}

// New starts go-containerregistry's in-process registry (its log
// silenced) on 127.0.0.1 and returns its host:port. With opts.User set, a
// basic-auth check sits in front of it, answering 401 with a Basic
// challenge, as a registry with htpasswd auth does. It stops at cleanup.
func New(t testing.TB, opts ...Options) string {
	t.Helper()
	host, stop := Start(opts...)
	t.Cleanup(stop)
	return host
}

// Start is New for programs that are not tests: it returns the host and a
// function that stops the server.
func Start(opts ...Options) (host string, stop func()) {
	var h http.Handler = registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	if len(opts) > 0 && opts[0].User != "" {
		h = basicAuth(h, opts[0].User, opts[0].Password)
	}
	s := httptest.NewServer(h)
	return strings.TrimPrefix(s.URL, "http://"), s.Close
}

func basicAuth(next http.Handler, user, pass string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, p, ok := r.BasicAuth()
		if !ok || u != user || p != pass {
			w.Header().Set("WWW-Authenticate", `Basic realm="testregistry"`)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// DistributionBinary finds the Distribution registry binary: $STET_DISTRIBUTION,
// then "registry" on PATH, then $GOBIN or $GOPATH/bin (where go install puts it).
func DistributionBinary() (string, bool) {
	if p := os.Getenv("STET_DISTRIBUTION"); p != "" {
		if _, err := os.Stat(p); err == nil {
			return p, true
		}
	}
	if p, err := exec.LookPath("registry"); err == nil {
		return p, true
	}
	var dirs []string
	if d := os.Getenv("GOBIN"); d != "" {
		dirs = append(dirs, d)
	}
	if d := os.Getenv("GOPATH"); d != "" {
		dirs = append(dirs, filepath.Join(filepath.SplitList(d)[0], "bin"))
	}
	if home, err := os.UserHomeDir(); err == nil {
		dirs = append(dirs, filepath.Join(home, "go", "bin"))
	}
	for _, d := range dirs {
		p := filepath.Join(d, "registry")
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			return p, true
		}
	}
	return "", false
}

// Distribution starts the CNCF Distribution registry with filesystem
// storage in a temporary directory on a free 127.0.0.1 port, optionally with
// htpasswd basic auth (bcrypt at minimum cost, so requests stay fast), waits
// until it answers, and returns its host:port. It skips the test when the
// binary is not installed.
func Distribution(t testing.TB, opts Options) string {
	t.Helper()
	bin, ok := DistributionBinary()
	if !ok {
		t.Skip("Distribution registry not installed: go install github.com/distribution/distribution/v3/cmd/registry@v3.1.2 (or set STET_DISTRIBUTION)")
	}
	host, stop, err := StartDistribution(bin, t.TempDir(), opts)
	if err != nil {
		t.Fatalf("starting Distribution registry: %v", err)
	}
	t.Cleanup(stop)
	return host
}

// StartDistribution is Distribution for programs that are not tests (the
// benchmarks): it runs bin with its storage under dir; call stop when done.
func StartDistribution(bin, dir string, opts Options) (host string, stop func(), err error) {
	for try := 0; try < 3; try++ {
		host, stop, err = startDistribution(bin, dir, opts)
		if err == nil {
			return host, stop, nil
		}
	}
	return "", nil, err
}

func startDistribution(bin, dir string, opts Options) (string, func(), error) {
	port, err := freePort()
	if err != nil {
		return "", nil, err
	}
	host := fmt.Sprintf("127.0.0.1:%d", port)
	auth := ""
	if opts.User != "" {
		hash, err := bcrypt.GenerateFromPassword([]byte(opts.Password), bcrypt.MinCost)
		if err != nil {
			return "", nil, err
		}
		htpasswd := filepath.Join(dir, "htpasswd")
		if err := os.WriteFile(htpasswd, []byte(opts.User+":"+string(hash)+"\n"), 0o600); err != nil {
			return "", nil, err
		}
		auth = fmt.Sprintf("auth:\n  htpasswd:\n    realm: testregistry\n    path: %s\n", htpasswd)
	}
	cfg := fmt.Sprintf(`version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: %s
  delete:
    enabled: true
http:
  addr: %s
  secret: stet-test-secret
%s`, filepath.Join(dir, "data"), host, auth)
	cfgPath := filepath.Join(dir, fmt.Sprintf("config-%d.yml", port))
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		return "", nil, err
	}
	var out bytes.Buffer
	cmd := exec.Command(bin, "serve", cfgPath)
	cmd.Env = append(os.Environ(), "OTEL_TRACES_EXPORTER=none", "OTEL_METRICS_EXPORTER=none", "OTEL_LOGS_EXPORTER=none")
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		return "", nil, err
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	stop := func() {
		cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case <-exited:
			return "", nil, fmt.Errorf("registry exited: %s", out.String())
		default:
		}
		resp, err := http.Get("http://" + host + "/v2/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusUnauthorized {
				return host, stop, nil
			}
		}
		if time.Now().After(deadline) {
			stop()
			return "", nil, fmt.Errorf("registry on %s not ready after 30s: %s", host, out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// DockerConfig writes a docker config.json holding basic credentials for
// each host (host → [user, password]) into a temporary directory and points
// DOCKER_CONFIG at it for the rest of the test. It returns the directory.
func DockerConfig(t testing.TB, creds map[string][2]string) string {
	t.Helper()
	dir := t.TempDir()
	auths := map[string]map[string]string{}
	for host, c := range creds {
		auths[host] = map[string]string{"auth": base64.StdEncoding.EncodeToString([]byte(c[0] + ":" + c[1]))}
	}
	data, err := json.Marshal(map[string]any{"auths": auths})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "config.json"), data, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("DOCKER_CONFIG", dir)
	return dir
}

// Image returns a random single-layer OCI image whose config names the
// platform ("linux/arm64/v8"; empty means linux/amd64).
func Image(t testing.TB, platform string) v1.Image {
	t.Helper()
	img, err := random.Image(512, 1)
	if err != nil {
		t.Fatal(err)
	}
	img = mutate.MediaType(img, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	p := parsePlatform(t, platform)
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture, cf.Variant = p.OS, p.Architecture, p.Variant
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// Index returns an OCI index with one random image per platform, each
// entry carrying its platform.
func Index(t testing.TB, platforms ...string) v1.ImageIndex {
	t.Helper()
	idx := mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	for _, p := range platforms {
		pl := parsePlatform(t, p)
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{
			Add:        Image(t, p),
			Descriptor: v1.Descriptor{Platform: &pl},
		})
	}
	return idx
}

func parsePlatform(t testing.TB, s string) v1.Platform {
	if s == "" {
		s = "linux/amd64"
	}
	p, err := v1.ParsePlatform(s)
	if err != nil {
		t.Fatal(err)
	}
	return *p
}

// Push writes img to ref and returns its digest.
func Push(t testing.TB, ref string, img v1.Image, opts ...remote.Option) string {
	t.Helper()
	r, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(r, img, withDefaults(opts)...); err != nil {
		t.Fatalf("pushing %s: %v", ref, err)
	}
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return d.String()
}

// PushIndex writes idx (and its images) to ref and returns its digest.
func PushIndex(t testing.TB, ref string, idx v1.ImageIndex, opts ...remote.Option) string {
	t.Helper()
	r, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.WriteIndex(r, idx, withDefaults(opts)...); err != nil {
		t.Fatalf("pushing %s: %v", ref, err)
	}
	d, err := idx.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return d.String()
}

// Auth is a remote option with basic credentials, for pushing to a
// registry started with Options.User.
func Auth(user, password string) remote.Option {
	return remote.WithAuth(&authn.Basic{Username: user, Password: password})
}

func withDefaults(opts []remote.Option) []remote.Option {
	return append([]remote.Option{remote.WithContext(context.Background())}, opts...)
}
