// Package registry is stet's one way to talk to container registries. Every
// network feature (tag resolution, image pulls for inventory and diff, the
// OCI release ledger) goes through a Client, so that mirrors, plain-HTTP
// policy, credentials, retries, rate limits and bounded concurrency behave
// the same everywhere.
//
// A Client keeps one authenticated transport and one remote.Puller per
// registry host: the /v2/ ping happens once per registry however many
// references are resolved, and on registries with token authentication one
// token exchange covers up to 25 repositories announced with Prepare (one
// per repository otherwise). Requests to a
// mirrored registry go to the mirror while the references keep their
// original names in results and errors.
package registry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// Defaults of a Client.
const (
	// DefaultConcurrency is the number of requests in flight per registry
	// host. With 20 ms per request, 16 in flight cannot resolve 500 tags in
	// under 0.64 s; 32 halves that while staying far below what registries
	// serving HTTP/2 accept on one connection.
	DefaultConcurrency = 32
	// DefaultTimeout bounds the wait for response headers and any pause
	// between two reads of a body.
	DefaultTimeout = 30 * time.Second
	// DefaultUserAgent is sent when WithUserAgent is not given.
	DefaultUserAgent = "stet/dev"
)

// DefaultRetry is the retry policy of a Client without WithRetry.
var DefaultRetry = RetryPolicy{
	Attempts:      4,
	Backoff:       250 * time.Millisecond,
	MaxBackoff:    4 * time.Second,
	MaxRetryAfter: 60 * time.Second,
}

// RetryPolicy says how failed requests are retried. Only requests that can
// be replayed (GET, HEAD, and bodies with GetBody) are retried, on
// connection errors, timeouts, 408, 429 and 5xx answers, and manifest bytes
// that do not match their digest.
type RetryPolicy struct {
	// Attempts is the total number of tries of one request, the first
	// included; 1 disables retries.
	Attempts int
	// Backoff is the wait before the first retry; it doubles for each
	// further retry up to MaxBackoff, with ±20% jitter.
	Backoff, MaxBackoff time.Duration
	// MaxRetryAfter is the longest Retry-After a 429 answer may ask for;
	// a longer one fails at once with ErrRateLimited. While a Retry-After
	// runs, no request goes to that host.
	MaxRetryAfter time.Duration
}

// Option configures a Client.
type Option func(*options)

type options struct {
	mirrors     map[string]string
	insecure    []string
	keychain    authn.Keychain
	concurrency int
	timeout     time.Duration
	retry       RetryPolicy
	userAgent   string
	logger      *slog.Logger
	base        http.RoundTripper
}

// WithMirrors sends requests for a registry to a mirror: {"docker.io":
// "mirror.internal:5000/dockerhub"} fetches docker.io/library/nginx from
// mirror.internal:5000/dockerhub/library/nginx. Keys are registry hosts
// (docker.io, index.docker.io and registry-1.docker.io are the same);
// values are host[:port] with an optional path prefix. There is no fallback
// to the original registry: a mirrored reference is looked up on the mirror
// only, which is what air-gapped and policy-enforcing setups rely on.
func WithMirrors(m map[string]string) Option {
	return func(o *options) {
		for k, v := range m {
			o.mirrors[k] = v
		}
	}
}

// WithInsecure allows plain HTTP to the named hosts (host or host:port).
// Loopback hosts (127.0.0.0/8, ::1, localhost) always may use plain HTTP;
// every other host must use TLS.
func WithInsecure(hosts ...string) Option {
	return func(o *options) { o.insecure = append(o.insecure, hosts...) }
}

// WithKeychain sets where credentials come from. The default is
// authn.DefaultKeychain: the docker config ($DOCKER_CONFIG or ~/.docker)
// and its credential helpers.
func WithKeychain(k authn.Keychain) Option {
	return func(o *options) { o.keychain = k }
}

// WithConcurrency bounds the requests in flight per registry host
// (default DefaultConcurrency). Values below 1 mean 1.
func WithConcurrency(n int) Option {
	return func(o *options) { o.concurrency = max(n, 1) }
}

// WithTimeout bounds the wait for response headers and any stall while
// reading a body, per attempt (default DefaultTimeout).
func WithTimeout(d time.Duration) Option {
	return func(o *options) { o.timeout = d }
}

// WithRetry replaces DefaultRetry. Zero fields keep their default.
func WithRetry(p RetryPolicy) Option {
	return func(o *options) {
		if p.Attempts > 0 {
			o.retry.Attempts = p.Attempts
		}
		if p.Backoff > 0 {
			o.retry.Backoff = p.Backoff
		}
		if p.MaxBackoff > 0 {
			o.retry.MaxBackoff = p.MaxBackoff
		}
		if p.MaxRetryAfter > 0 {
			o.retry.MaxRetryAfter = p.MaxRetryAfter
		}
	}
}

// WithUserAgent sets the User-Agent header, conventionally "stet/<version>"
// (default DefaultUserAgent).
func WithUserAgent(ua string) Option {
	return func(o *options) { o.userAgent = ua }
}

// WithLogger receives one debug record per request (method, host, path,
// status, attempt, duration) and info records for retries and rate-limit
// waits. Headers and credentials are never logged. The default discards.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) { o.logger = l }
}

// WithTransport replaces the underlying HTTP transport (default: a clone of
// http.DefaultTransport sized for the concurrency). Retries, timeouts,
// concurrency bounds and the plain-HTTP policy still apply on top of it.
func WithTransport(rt http.RoundTripper) Option {
	return func(o *options) { o.base = rt }
}

// Client talks to registries. It is safe for concurrent use; create one per
// run and share it, so that pings, tokens and connections are reused. A
// response body holds its host's concurrency slot until it is closed or
// read to the end: close every body, and do not hold more bodies of one host
// open at once than the concurrency allows.
type Client struct {
	o       options
	mirrors map[string]mirror // by registry host as go-containerregistry names it
	http    *httpTransport

	mu    sync.Mutex
	regs  map[string]*regState // by request registry host
	hints map[string][]string  // request registry host → pull scopes announced by Prepare

	secretsMu sync.RWMutex
	secrets   []string
}

type mirror struct {
	reg    name.Registry
	prefix string // repository path prefix, no slashes around
}

// New returns a Client. It fails on a malformed mirror.
func New(opts ...Option) (*Client, error) {
	o := options{
		mirrors:     map[string]string{},
		keychain:    authn.DefaultKeychain,
		concurrency: DefaultConcurrency,
		timeout:     DefaultTimeout,
		retry:       DefaultRetry,
		userAgent:   DefaultUserAgent,
	}
	for _, opt := range opts {
		opt(&o)
	}
	if o.logger == nil {
		o.logger = slog.New(slog.DiscardHandler)
	}
	if o.base == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConnsPerHost = max(o.concurrency, 16)
		t.MaxIdleConns = 4 * t.MaxIdleConnsPerHost
		o.base = t
	}
	c := &Client{o: o, mirrors: map[string]mirror{}, regs: map[string]*regState{}, hints: map[string][]string{}}
	for from, to := range o.mirrors {
		fromReg, err := name.NewRegistry(strings.TrimSuffix(from, "/"))
		if err != nil {
			return nil, fmt.Errorf("parsing mirror key %q: %w", from, err)
		}
		host, prefix, _ := strings.Cut(strings.Trim(to, "/"), "/")
		toReg, err := name.NewRegistry(host, c.nameOpts(host)...)
		if err != nil {
			return nil, fmt.Errorf("parsing mirror %q for %s: %w", to, from, err)
		}
		if prefix != "" {
			if _, err := name.NewRepository(toReg.RegistryStr() + "/" + prefix + "/x"); err != nil {
				return nil, fmt.Errorf("parsing mirror %q for %s: %w", to, from, err)
			}
		}
		c.mirrors[dockerHubAlias(fromReg.RegistryStr())] = mirror{reg: toReg, prefix: prefix}
	}
	c.http = &httpTransport{c: c, next: o.base, hosts: map[string]*hostState{}}
	return c, nil
}

// HTTPClient returns an http.Client with the Client's retries, timeouts,
// per-host concurrency bound, user agent and logging, for protocols other
// than the registry API (git smart HTTP for actions). It adds no
// credentials and, unlike registry requests, allows plain HTTP to any host
// the caller names explicitly.
func (c *Client) HTTPClient() *http.Client {
	return &http.Client{Transport: &plainTransport{c.http}}
}

// Mirror returns the reference requests for r are sent to: r itself, or r
// rewritten onto its registry's mirror. Hosts that may use plain HTTP are
// marked insecure so that go-containerregistry tries http.
func (c *Client) Mirror(r name.Reference) name.Reference {
	repo := r.Context()
	reg := repo.Registry
	path := repo.RepositoryStr()
	if m, ok := c.mirrors[dockerHubAlias(reg.RegistryStr())]; ok {
		reg = m.reg
		if m.prefix != "" {
			path = m.prefix + "/" + path
		}
	}
	s := reg.RegistryStr() + "/" + path
	opts := c.nameOpts(reg.RegistryStr())
	var out name.Reference
	var err error
	switch r := r.(type) {
	case name.Digest:
		out, err = name.NewDigest(s+"@"+r.DigestStr(), opts...)
	default:
		out, err = name.NewTag(s+":"+r.Identifier(), opts...)
	}
	if err != nil {
		// The parts came from valid references and a validated mirror.
		return r
	}
	return out
}

// dockerHubAlias folds Docker Hub's other host names onto the one
// go-containerregistry uses, so a mirror for docker.io applies to all.
func dockerHubAlias(host string) string {
	switch host {
	case "docker.io", "registry-1.docker.io", "registry.hub.docker.com":
		return name.DefaultRegistry
	}
	return host
}

func (c *Client) nameOpts(host string) []name.Option {
	if c.insecureHost(host) {
		return []name.Option{name.Insecure}
	}
	return nil
}

// Remote returns the reference to send requests to (see Mirror) and the
// remote options that make go-containerregistry's remote package reuse
// this Client's per-registry puller: its transport, ping, tokens, retries
// and bounds. Pass both to remote.Image, remote.Index, remote.Get and so on.
func (c *Client) Remote(ctx context.Context, r name.Reference) (name.Reference, []remote.Option, error) {
	target, p, err := c.puller(ctx, r)
	if err != nil {
		return nil, nil, err
	}
	return target, []remote.Option{remote.Reuse(p), remote.WithContext(ctx)}, nil
}

// Puller returns the shared puller for a registry host requests go to
// (after mirroring). The first call pings the registry; later calls reuse
// the outcome, a failure included (except cancellation).
func (c *Client) Puller(ctx context.Context, reg name.Registry) (*remote.Puller, error) {
	st, err := c.registry(ctx, reg)
	if err != nil {
		return nil, err
	}
	return st.puller, nil
}

// Head returns the descriptor (digest, media type, size) of what r points
// to with one HEAD request. r names the reference as files do; mirrors
// apply. When the registry answers HEAD without a digest it falls back to
// one GET, whose bytes are checked against the digest the registry sends.
func (c *Client) Head(ctx context.Context, r name.Reference) (*v1.Descriptor, error) {
	target, p, err := c.puller(ctx, r)
	if err != nil {
		return nil, err
	}
	d, err := p.Head(ctx, target)
	if err == nil {
		return d, nil
	}
	if !missingDigestHeader(err) {
		return nil, c.wrap(r.String(), target.Context().RegistryStr(), err)
	}
	g, err := c.Get(ctx, r)
	if err != nil {
		return nil, err
	}
	desc := g.Descriptor
	return &desc, nil
}

// puller mirrors r and returns the target with its registry's puller.
func (c *Client) puller(ctx context.Context, r name.Reference) (name.Reference, *remote.Puller, error) {
	target := c.Mirror(r)
	p, err := c.Puller(ctx, target.Context().Registry)
	if err != nil {
		return nil, nil, c.wrap(r.String(), target.Context().RegistryStr(), err)
	}
	return target, p, nil
}

// missingDigestHeader reports whether a HEAD failed only because the
// registry did not say what it answered about (some registries omit
// Docker-Content-Digest or Content-Type on HEAD).
func missingDigestHeader(err error) bool {
	s := err.Error()
	return strings.Contains(s, "did not include Docker-Content-Digest") ||
		strings.Contains(s, "did not include Content-Type") ||
		strings.Contains(s, "did not include Content-Length") ||
		strings.Contains(s, "405 Method Not Allowed")
}

// Get fetches the manifest r points to. The bytes are verified: against
// the digest when r is a digest reference, against the registry's
// Docker-Content-Digest header when r is a tag; a mismatch is
// ErrDigestMismatch, never a result.
func (c *Client) Get(ctx context.Context, r name.Reference) (*remote.Descriptor, error) {
	target, p, err := c.puller(ctx, r)
	if err != nil {
		return nil, err
	}
	d, err := p.Get(ctx, target)
	if err != nil {
		return nil, c.wrap(r.String(), target.Context().RegistryStr(), err)
	}
	return d, nil
}

// Blob opens the blob with the given digest in r's repository. The caller
// closes it; the content is verified against the digest while it is read.
func (c *Client) Blob(ctx context.Context, r name.Digest) (io.ReadCloser, error) {
	target, p, err := c.puller(ctx, r)
	if err != nil {
		return nil, err
	}
	l, err := p.Layer(ctx, target.(name.Digest))
	if err != nil {
		return nil, c.wrap(r.String(), target.Context().RegistryStr(), err)
	}
	rc, err := l.Compressed()
	if err != nil {
		return nil, c.wrap(r.String(), target.Context().RegistryStr(), err)
	}
	return rc, nil
}

// Exists reports whether the manifest r (normally a digest reference)
// still exists, with one HEAD request: false without error on 404, an
// error for anything else that is not a 200.
func (c *Client) Exists(ctx context.Context, r name.Reference) (bool, error) {
	_, err := c.Head(ctx, r)
	switch {
	case err == nil:
		return true, nil
	case isNotFound(err):
		return false, nil
	}
	return false, err
}

func isNotFound(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Status == http.StatusNotFound
}

// insecureHost reports whether plain HTTP may be used with host: loopback
// addresses, localhost, and the hosts given to WithInsecure.
func (c *Client) insecureHost(host string) bool {
	if isLoopback(host) {
		return true
	}
	for _, h := range c.o.insecure {
		if strings.EqualFold(h, host) {
			return true
		}
		if hn, _, err := net.SplitHostPort(host); err == nil && strings.EqualFold(h, hn) {
			return true
		}
	}
	return false
}

func isLoopback(host string) bool {
	h := host
	if hn, _, err := net.SplitHostPort(host); err == nil {
		h = hn
	}
	h = strings.Trim(h, "[]")
	if strings.EqualFold(h, "localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}
