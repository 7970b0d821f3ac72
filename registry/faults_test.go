package registry_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/stet-dev/stet/internal/faultproxy"
	"github.com/stet-dev/stet/internal/testregistry"
	"github.com/stet-dev/stet/registry"
)

// TestFaults puts the fault proxy in front of a real registry: every fault
// ends in a retry that returns the right digest, or in a clear typed error;
// never in a wrong digest.
func TestFaults(t *testing.T) {
	t.Parallel()
	host := testregistry.New(t)
	want := testregistry.Push(t, host+"/app:1", testregistry.Image(t, ""))
	hdr := func(kv ...string) http.Header {
		h := http.Header{}
		for i := 0; i < len(kv); i += 2 {
			h.Set(kv[i], kv[i+1])
		}
		return h
	}
	for _, tc := range []struct {
		name  string
		fault faultproxy.Fault
		// get fetches the manifest body (GET) instead of HEAD.
		get     bool
		timeout time.Duration
		wantErr error
		// requests is the number of manifest requests the proxy must see.
		requests int
	}{
		{name: "intermittent 500", fault: faultproxy.Fault{Kind: faultproxy.Manifest, Status: 500, Times: 2}, requests: 3},
		{name: "503 with Retry-After", fault: faultproxy.Fault{Kind: faultproxy.Manifest, Status: 503, Times: 1, Header: hdr("Retry-After", "0")}, requests: 2},
		{name: "503 on GET", get: true, fault: faultproxy.Fault{Kind: faultproxy.Manifest, Status: 503, Times: 1}, requests: 2},
		{name: "persistent 500", fault: faultproxy.Fault{Kind: faultproxy.Manifest, Status: 500}, wantErr: registry.ErrUnavailable, requests: 4},
		{name: "429 with Retry-After", fault: faultproxy.Fault{Kind: faultproxy.Manifest, Status: 429, Times: 1, Header: hdr("Retry-After", "1")}, requests: 2},
		{name: "429 without headers", fault: faultproxy.Fault{Kind: faultproxy.Manifest, Status: 429, Times: 2}, requests: 3},
		{name: "429 Retry-After too long", fault: faultproxy.Fault{Kind: faultproxy.Manifest, Status: 429, Header: hdr("Retry-After", "3600")}, wantErr: registry.ErrRateLimited, requests: 1},
		{name: "429 pull limit exhausted", fault: faultproxy.Fault{Kind: faultproxy.Manifest, Status: 429, Header: hdr("RateLimit-Limit", "100;w=21600", "RateLimit-Remaining", "0;w=21600")}, wantErr: registry.ErrRateLimited, requests: 1},
		{name: "connection reset", fault: faultproxy.Fault{Kind: faultproxy.Manifest, Reset: true, Times: 1}},
		{name: "persistent reset", fault: faultproxy.Fault{Kind: faultproxy.Manifest, Reset: true}, wantErr: registry.ErrUnavailable},
		{name: "truncated body", get: true, fault: faultproxy.Fault{Kind: faultproxy.Manifest, Truncate: true, Times: 2}},
		{name: "slow body within timeout", get: true, timeout: 5 * time.Second, fault: faultproxy.Fault{Kind: faultproxy.Manifest, SlowBody: time.Millisecond}, requests: 1},
		{name: "stalled body", get: true, timeout: 400 * time.Millisecond, fault: faultproxy.Fault{Kind: faultproxy.Manifest, SlowBody: 2 * time.Second}, wantErr: registry.ErrTimeout, requests: 4},
		{name: "stalled body once", get: true, timeout: 400 * time.Millisecond, fault: faultproxy.Fault{Kind: faultproxy.Manifest, SlowBody: 2 * time.Second, Times: 1}, requests: 2},
		{name: "no answer once", timeout: 400 * time.Millisecond, fault: faultproxy.Fault{Kind: faultproxy.Manifest, Delay: 2 * time.Second, Times: 1}, requests: 2},
		{name: "wrong manifest bytes once", get: true, fault: faultproxy.Fault{Kind: faultproxy.Manifest, Corrupt: true, Times: 1}, requests: 2},
		{name: "wrong manifest bytes", get: true, fault: faultproxy.Fault{Kind: faultproxy.Manifest, Corrupt: true}, wantErr: registry.ErrDigestMismatch, requests: 4},
		{name: "HEAD without digest falls back to GET", fault: faultproxy.Fault{Method: http.MethodHead, Kind: faultproxy.Manifest, StripDigest: true}, requests: 2},
		{name: "HEAD without digest, wrong GET bytes", fault: faultproxy.Fault{Method: http.MethodHead, Kind: faultproxy.Manifest, StripDigest: true}, wantErr: registry.ErrDigestMismatch},
		{name: "404", fault: faultproxy.Fault{Kind: faultproxy.Manifest, Status: 404}, wantErr: registry.ErrNotFound, requests: 1},
		{name: "ping 500 then success", fault: faultproxy.Fault{Kind: faultproxy.Ping, Status: 500, Times: 1}, requests: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := faultproxy.New(t, host)
			p.Add(tc.fault)
			if tc.name == "HEAD without digest, wrong GET bytes" {
				p.Add(faultproxy.Fault{Method: http.MethodGet, Kind: faultproxy.Manifest, Corrupt: true})
			}
			opts := []registry.Option{}
			if tc.timeout > 0 {
				opts = append(opts, registry.WithTimeout(tc.timeout))
			}
			c := newClient(t, opts...)
			var got string
			var err error
			if tc.get {
				d, e := c.Get(t.Context(), tag(t, p.Host+"/app:1"))
				if e == nil {
					got = d.Digest.String()
				}
				err = e
			} else {
				d, e := c.Head(t.Context(), tag(t, p.Host+"/app:1"))
				if e == nil {
					got = d.Digest.String()
				}
				err = e
			}
			if tc.wantErr != nil {
				var re *registry.Error
				if !errors.Is(err, tc.wantErr) || !errors.As(err, &re) {
					t.Fatalf("got digest %q, error %v; want a *registry.Error matching %v", got, err, tc.wantErr)
				}
				if re.Ref == "" || re.Registry != p.Host {
					t.Errorf("error %+v does not name the reference and registry", re)
				}
				t.Logf("error: %v", err)
			} else {
				if err != nil {
					t.Fatal(err)
				}
				if got != want {
					t.Fatalf("digest %s, want %s", got, want)
				}
			}
			if n := p.Count("", faultproxy.Manifest); tc.requests != 0 && n != tc.requests {
				t.Errorf("manifest requests = %d, want %d (%v)", n, tc.requests, p.Counts())
			}
		})
	}
}

// TestRetryAfterPausesHost checks that a Retry-After holds back every
// request to that host, not only the one that was refused.
func TestRetryAfterPausesHost(t *testing.T) {
	t.Parallel()
	host := testregistry.New(t)
	for _, tg := range []string{"a", "b", "c"} {
		testregistry.Push(t, host+"/app:"+tg, testregistry.Image(t, ""))
	}
	p := faultproxy.New(t, host)
	p.Add(faultproxy.Fault{Kind: faultproxy.Manifest, PathContains: "/a", Status: 429, Times: 1, Header: http.Header{"Retry-After": {"1"}}})
	c := newClient(t, registry.WithConcurrency(1))
	for _, tg := range []string{"a", "b", "c"} {
		if _, err := c.Head(t.Context(), tag(t, p.Host+"/app:"+tg)); err != nil {
			t.Fatal(err)
		}
	}
	if n := p.Count(http.MethodHead, faultproxy.Manifest); n != 4 {
		t.Errorf("HEAD requests = %d, want 4", n)
	}
}

func TestCancel(t *testing.T) {
	t.Parallel()
	host := testregistry.New(t)
	testregistry.Push(t, host+"/app:1", testregistry.Image(t, ""))
	p := faultproxy.New(t, host, faultproxy.WithLatency(time.Minute))
	c := newClient(t)
	ctx, cancel := context.WithCancel(t.Context())
	errc := make(chan error, 1)
	go func() {
		_, err := c.Head(ctx, tag(t, p.Host+"/app:1"))
		errc <- err
	}()
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Errorf("got %v, want context.Canceled", err)
	}
	// Cancelled while the HEAD is in flight, after the ping.
	p3 := faultproxy.New(t, host)
	p3.Add(faultproxy.Fault{Kind: faultproxy.Manifest, Delay: time.Minute})
	ctx, cancel = context.WithCancel(t.Context())
	go func() {
		_, err := c.Head(ctx, tag(t, p3.Host+"/app:1"))
		errc <- err
	}()
	for p3.Count(http.MethodHead, faultproxy.Manifest) == 0 {
		time.Sleep(time.Millisecond)
	}
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Errorf("HEAD in flight: got %v, want context.Canceled", err)
	}
	// A cancelled ping is not remembered: the next caller pings again.
	p2 := faultproxy.New(t, host)
	c = newClient(t, registry.WithMirrors(map[string]string{"docker.io": p2.Host}))
	ctx, cancel = context.WithCancel(t.Context())
	cancel()
	if _, err := c.Head(ctx, tag(t, "docker.io/library/app:1")); !errors.Is(err, context.Canceled) {
		t.Errorf("got %v, want context.Canceled", err)
	}
	if _, err := c.Head(t.Context(), tag(t, "docker.io/library/app:1")); err == nil || errors.Is(err, context.Canceled) {
		t.Errorf("after a cancelled call: %v, want a real lookup (not found)", err)
	}
}
