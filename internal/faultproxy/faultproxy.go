// Package faultproxy is a reverse proxy for tests that sits in front of a
// real registry (or git server) on 127.0.0.1. It counts requests by method
// and kind (ping, token, manifest, blob), can add a fixed latency to every
// request, and injects faults: error statuses with headers (429 with
// Retry-After, intermittent 500s), connection resets, truncated and slow
// bodies, manifest bytes that do not match their digest, and HEAD answers
// without a digest.
package faultproxy

import (
	"bytes"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Kind classifies a request by what it asks for.
type Kind string

const (
	Ping     Kind = "ping"     // GET /v2/
	Token    Kind = "token"    // anything outside /v2/ (a token realm)
	Manifest Kind = "manifest" // /v2/<name>/manifests/<ref>
	Blob     Kind = "blob"     // /v2/<name>/blobs/<digest>
	Git      Kind = "git"      // …/info/refs and other git smart-HTTP paths
	Other    Kind = "other"    // uploads, tag lists, catalog
)

// Classify returns the Kind of a request path.
func Classify(path string) Kind {
	switch {
	case path == "/v2/" || path == "/v2":
		return Ping
	case strings.HasSuffix(path, "/info/refs") || strings.HasSuffix(path, "/git-upload-pack"):
		return Git
	case !strings.HasPrefix(path, "/v2/"):
		return Token
	case strings.Contains(path, "/manifests/"):
		return Manifest
	case strings.Contains(path, "/blobs/uploads"):
		return Other
	case strings.Contains(path, "/blobs/"):
		return Blob
	}
	return Other
}

// Fault is one misbehaviour. A request matches when Method and Kind match
// (empty means any) and PathContains is in its path; the first matching
// fault with uses left applies.
type Fault struct {
	Method       string
	Kind         Kind
	PathContains string
	// Times is how many matching requests get the fault; 0 means all.
	Times int

	// Delay holds the request this long (or until the client gives up)
	// before the rest of the fault, or forwarding, applies.
	Delay time.Duration
	// Status answers with this status instead of forwarding, with Header
	// and a registry-style JSON error body.
	Status int
	Header http.Header
	// Reset closes the connection without an answer.
	Reset bool
	// Truncate forwards, sends the headers and half the body, then closes
	// the connection.
	Truncate bool
	// SlowBody forwards and waits this long before every 64-byte chunk of the body.
	SlowBody time.Duration
	// Corrupt forwards with one byte of the body changed and the headers
	// (Docker-Content-Digest, Content-Length) kept.
	Corrupt bool
	// StripDigest forwards without the Docker-Content-Digest header.
	StripDigest bool
}

// Proxy is a running fault-injecting reverse proxy.
type Proxy struct {
	// URL is http://127.0.0.1:port; Host is 127.0.0.1:port.
	URL, Host string

	target  *url.URL
	latency time.Duration
	rp      *httputil.ReverseProxy

	mu          sync.Mutex
	faults      []*faultState
	counts      map[string]int
	inFlight    int
	maxInFlight int
}

type faultState struct {
	Fault
	used int
}

// Option configures a Proxy.
type Option func(*Proxy)

// WithLatency delays every request by d before it is handled.
func WithLatency(d time.Duration) Option { return func(p *Proxy) { p.latency = d } }

// New starts a proxy on 127.0.0.1 in front of target (host:port or a URL)
// and stops it at cleanup.
func New(t testing.TB, target string, opts ...Option) *Proxy {
	t.Helper()
	p, stop, err := Start(target, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	return p
}

// Start is New for programs that are not tests; call stop when done.
func Start(target string, opts ...Option) (p *Proxy, stop func(), err error) {
	if !strings.Contains(target, "://") {
		target = "http://" + target
	}
	u, err := url.Parse(target)
	if err != nil {
		return nil, nil, fmt.Errorf("parsing proxy target %q: %w", target, err)
	}
	p = &Proxy{target: u, counts: map[string]int{}}
	for _, o := range opts {
		o(p)
	}
	p.rp = &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(u)
			// Keep the client's Host so that registries build Location
			// URLs that come back through the proxy.
			pr.Out.Host = pr.In.Host
		},
		// Keep enough idle upstream connections for the concurrency tests
		// and benchmarks use; the default of 2 per host would make the proxy
		// open and close connections all the time.
		Transport: &http.Transport{MaxIdleConns: 512, MaxIdleConnsPerHost: 512, IdleConnTimeout: 30 * time.Second},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			w.WriteHeader(http.StatusBadGateway)
		},
	}
	s := httptest.NewServer(p)
	p.URL = s.URL
	p.Host = strings.TrimPrefix(s.URL, "http://")
	return p, s.Close, nil
}

// Add appends faults.
func (p *Proxy) Add(faults ...Fault) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, f := range faults {
		p.faults = append(p.faults, &faultState{Fault: f})
	}
}

// Clear removes all faults.
func (p *Proxy) Clear() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.faults = nil
}

// Count returns how many requests with method (empty: any) and kind
// (empty: any) the proxy received.
func (p *Proxy) Count(method string, kind Kind) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for k, v := range p.counts {
		m, kd, _ := strings.Cut(k, " ")
		if (method == "" || m == method) && (kind == "" || Kind(kd) == kind) {
			n += v
		}
	}
	return n
}

// Counts returns the request counts keyed "METHOD kind" ("HEAD manifest").
func (p *Proxy) Counts() map[string]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return maps.Clone(p.counts)
}

// ResetCounts sets every count (and the in-flight maximum) back to zero.
func (p *Proxy) ResetCounts() {
	p.mu.Lock()
	defer p.mu.Unlock()
	clear(p.counts)
	p.maxInFlight = 0
}

// MaxInFlight is the largest number of requests the proxy was handling at
// the same time.
func (p *Proxy) MaxInFlight() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.maxInFlight
}

func (p *Proxy) match(r *http.Request, kind Kind) *Fault {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.counts[r.Method+" "+string(kind)]++
	p.inFlight++
	p.maxInFlight = max(p.maxInFlight, p.inFlight)
	for _, f := range p.faults {
		if (f.Method != "" && f.Method != r.Method) || (f.Kind != "" && f.Kind != kind) ||
			!strings.Contains(r.URL.Path, f.PathContains) {
			continue
		}
		if f.Times > 0 && f.used >= f.Times {
			continue
		}
		f.used++
		c := f.Fault
		return &c
	}
	return nil
}

func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	kind := Classify(r.URL.Path)
	f := p.match(r, kind)
	defer func() {
		p.mu.Lock()
		p.inFlight--
		p.mu.Unlock()
	}()
	if p.latency > 0 {
		select {
		case <-time.After(p.latency):
		case <-r.Context().Done():
			return
		}
	}
	if f != nil && f.Delay > 0 {
		select {
		case <-time.After(f.Delay):
		case <-r.Context().Done():
			return
		}
	}
	switch {
	case f == nil, f.Delay > 0 && f.Status == 0 && !f.Reset && !f.Truncate && f.SlowBody == 0 && !f.Corrupt && !f.StripDigest:
		p.rp.ServeHTTP(w, r)
	case f.Status != 0:
		maps.Copy(w.Header(), f.Header)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(f.Status)
		if r.Method != http.MethodHead {
			fmt.Fprintf(w, `{"errors":[{"code":"%s","message":"injected by faultproxy"}]}`, codeFor(f.Status))
		}
	case f.Reset:
		panic(http.ErrAbortHandler)
	default:
		rec := &recorder{header: http.Header{}, status: http.StatusOK}
		p.rp.ServeHTTP(rec, r)
		p.replay(w, r, rec, f)
	}
}

func codeFor(status int) string {
	switch status {
	case http.StatusTooManyRequests:
		return "TOOMANYREQUESTS"
	case http.StatusUnauthorized:
		return "UNAUTHORIZED"
	case http.StatusNotFound:
		return "MANIFEST_UNKNOWN"
	}
	return "UNKNOWN"
}

// replay writes a recorded upstream answer with the fault applied.
func (p *Proxy) replay(w http.ResponseWriter, r *http.Request, rec *recorder, f *Fault) {
	body := rec.body.Bytes()
	maps.Copy(w.Header(), rec.header)
	if f.StripDigest {
		w.Header().Del("Docker-Content-Digest")
	}
	if f.Corrupt && len(body) > 0 {
		body = bytes.Clone(body)
		i := len(body) / 2
		if body[i] == 'a' {
			body[i] = 'b'
		} else {
			body[i] = 'a'
		}
	}
	if r.Method != http.MethodHead {
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	}
	w.WriteHeader(rec.status)
	switch {
	case f.Truncate:
		w.Write(body[:len(body)/2])
		http.NewResponseController(w).Flush()
		panic(http.ErrAbortHandler)
	case f.SlowBody > 0:
		http.NewResponseController(w).Flush()
		for len(body) > 0 {
			n := min(64, len(body))
			select {
			case <-time.After(f.SlowBody):
			case <-r.Context().Done():
				return
			}
			if _, err := w.Write(body[:n]); err != nil {
				return
			}
			http.NewResponseController(w).Flush()
			body = body[n:]
		}
	default:
		w.Write(body)
	}
}

// recorder captures an upstream answer so a fault can rewrite it.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
	wrote  bool
}

func (r *recorder) Header() http.Header { return r.header }
func (r *recorder) WriteHeader(s int) {
	if !r.wrote {
		r.status, r.wrote = s, true
	}
}
func (r *recorder) Write(b []byte) (int, error) {
	r.wrote = true
	return r.body.Write(b)
}

var _ io.Writer = (*recorder)(nil)
