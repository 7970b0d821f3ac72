package registry

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"", 0, false},
		{"3", 3 * time.Second, true},
		{" 0 ", 0, true},
		{"-1", 0, false},
		{"Wed, 25 Nov 2026 12:00:30 GMT", 30 * time.Second, true},
		{"Wed, 25 Nov 2026 11:00:00 GMT", 0, true},
		{"soon", 0, false},
	} {
		got, ok := retryAfter(http.Header{"Retry-After": {tc.in}}, now)
		if got != tc.want || ok != tc.ok {
			t.Errorf("retryAfter(%q) = %v, %v; want %v, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestRateLimitExhausted(t *testing.T) {
	for in, want := range map[string]bool{"": false, "0;w=21600": true, "0": true, "12;w=21600": false, " 0 ; w=60": true} {
		if _, got := rateLimitExhausted(http.Header{"Ratelimit-Remaining": {in}}); got != want {
			t.Errorf("rateLimitExhausted(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestPaths(t *testing.T) {
	for _, tc := range []struct {
		path     string
		manifest bool
		scope    string
	}{
		{"/v2/", false, ""},
		{"/v2/library/nginx/manifests/1-alpine", true, "repository:library/nginx:pull"},
		{"/v2/a/manifests/b/manifests/sha256:00", true, "repository:a/manifests/b:pull"},
		{"/v2/team/app/blobs/sha256:00", false, "repository:team/app:pull"},
		{"/v2/team/app/tags/list", false, "repository:team/app:pull"},
		{"/v2/_catalog", false, ""},
		{"/token", false, ""},
	} {
		if got := isManifestPath(tc.path); got != tc.manifest {
			t.Errorf("isManifestPath(%q) = %v", tc.path, got)
		}
		if got := scopeFor(tc.path); got != tc.scope {
			t.Errorf("scopeFor(%q) = %q, want %q", tc.path, got, tc.scope)
		}
	}
}

func TestVerifyManifest(t *testing.T) {
	data := []byte(`{"schemaVersion":2}`)
	const good = "sha256:0a4cd2b1ee1d2bf01f6ee5e4bb3d4a6d4bc37b1b8a4cf8cbe4c4f22c4ce1b6e4"
	sum := "sha256:" + sha256Hex(data)
	for _, tc := range []struct {
		path, header string
		ok           bool
	}{
		{"/v2/a/manifests/1", sum, true},
		{"/v2/a/manifests/1", "", true}, // nothing announced: the caller hashes the bytes
		{"/v2/a/manifests/1", good, false},
		{"/v2/a/manifests/" + sum, "", true},
		{"/v2/a/manifests/" + good, sum, false}, // the requested digest wins over the header
		{"/v2/a/manifests/1", "md5:abc", false},
	} {
		err := verifyManifest(tc.path, tc.header, data)
		if (err == nil) != tc.ok {
			t.Errorf("verifyManifest(%q, %q) = %v, want ok=%v", tc.path, tc.header, err, tc.ok)
		}
	}
}

func TestInsecureHost(t *testing.T) {
	c, err := New(WithInsecure("registry.local:5000", "plain.internal"))
	if err != nil {
		t.Fatal(err)
	}
	for host, want := range map[string]bool{
		"127.0.0.1:5000": true, "127.3.4.5": true, "[::1]:5000": true, "localhost:5000": true, "localhost": true,
		"registry.local:5000": true, "registry.local:5001": false, "plain.internal:443": true,
		"10.0.0.1:5000": false, "192.168.1.2": false, "ghcr.io": false, "localhost.example.com": false,
	} {
		if got := c.insecureHost(host); got != want {
			t.Errorf("insecureHost(%q) = %v, want %v", host, got, want)
		}
	}
}

func sha256Hex(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// FuzzHeaders feeds registry-controlled strings (headers, paths) to the
// parsers that read them: none may panic, and a path's scope names the
// repository inside it.
func FuzzHeaders(f *testing.F) {
	f.Add("3", "0;w=21600", `Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/nginx:pull"`, "/v2/library/nginx/manifests/1")
	f.Add("Wed, 25 Nov 2026 12:00:30 GMT", "", `Basic realm="x"`, "/v2/a/blobs/sha256:00")
	f.Add("", "12", `scope="`, "/v2//manifests/")
	f.Fuzz(func(t *testing.T, retry, remaining, challenge, path string) {
		h := http.Header{}
		h.Set("Retry-After", retry)
		h.Set("RateLimit-Remaining", remaining)
		h.Set("WWW-Authenticate", challenge)
		if d, ok := retryAfter(h, time.Now()); ok && d < 0 {
			t.Fatalf("negative wait %v", d)
		}
		rateLimitExhausted(h)
		challengeScope(&http.Response{Header: h})
		if s := scopeFor(path); s != "" && !strings.HasPrefix(s, "repository:") {
			t.Fatalf("scopeFor(%q) = %q", path, s)
		}
		if isManifestPath(path) {
			verifyManifest(path, remaining, []byte(challenge))
		}
	})
}
