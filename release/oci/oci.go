// Package oci is the team release ledger: releases and deployment events
// stored as OCI artifacts in one repository of a registry the team already
// runs, which becomes the shared, replicated store.
//
// Each record is an image manifest with artifactType
// application/vnd.stet.release.v1+json (or …event.v1+json), the empty
// config, and one layer holding the record's canonical JSON, so the
// layer's digest is the record's ID. The manifest also carries the record
// in an annotation, so one manifest GET reads a record and checks it
// against that digest. Tags give order and lookup without reading
// content:
//
//	r-<app>-000042        release 42 of app
//	e-<env>-000017        event 17 of env
//	id-<64 hex>           the release with that ID (for ID-prefix lookup)
//
// so one tag listing answers "which releases and events exist" and a
// listing of the newest N reads only N manifests. Each event's manifest
// names the previous event's manifest as its subject, so registries with
// the referrers API (or go-containerregistry's fallback tag on those
// without) can show every writer's attempt after an event.
//
// Registries cannot refuse to overwrite a tag, so a write goes: manifest by
// digest, a claim tag unique to the content, one listing to see whether
// another writer claimed the same place, and only then the place's tag
// (checked free first, read back after). A writer that meets a rival backs
// off with a *release.ForkError naming both; its record stays in the
// registry under its claim, so nothing is lost and Forks reports it. No
// tag is ever moved, provided the registry shows a tag to listings once
// its PUT has returned, as a single registry does (a registry replicated
// with eventual consistency weakens this to "rarely").
package oci

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	"github.com/stet-dev/stet/registry"
	"github.com/stet-dev/stet/release"
)

// Scheme prefixes an OCI ledger location: oci://registry/repository.
const Scheme = "oci://"

// Option configures Open.
type Option func(*options)

type options struct {
	keychain  authn.Keychain
	transport http.RoundTripper
	insecure  []string
	userAgent string
	now       func() time.Time
	jobs      int
	client    *registry.Client
}

// WithKeychain sets where credentials come from (default
// authn.DefaultKeychain: the docker config and its credential helpers).
func WithKeychain(k authn.Keychain) Option { return func(o *options) { o.keychain = k } }

// WithTransport sets the HTTP transport (default http.DefaultTransport).
func WithTransport(rt http.RoundTripper) Option { return func(o *options) { o.transport = rt } }

// WithInsecure allows plain HTTP to the named registry hosts. Loopback
// hosts always may use it; every other host needs TLS.
func WithInsecure(hosts ...string) Option {
	return func(o *options) { o.insecure = append(o.insecure, hosts...) }
}

// WithRegistry sends requests through a shared registry client's HTTP
// stack: its retries, timeouts, per-host concurrency bound, user agent and
// logging. Credentials still come from the keychain (WithKeychain), since
// writing needs push-scoped tokens. Without it requests go straight to
// WithTransport's transport with go-containerregistry's own retries.
func WithRegistry(c *registry.Client) Option { return func(o *options) { o.client = c } }

// WithUserAgent sets the User-Agent header (default "stet").
func WithUserAgent(ua string) Option { return func(o *options) { o.userAgent = ua } }

// WithClock sets the clock that fills zero Created and Time fields
// (default time.Now).
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// WithJobs bounds the manifests read at once when listing (default 8).
func WithJobs(n int) Option { return func(o *options) { o.jobs = max(n, 1) } }

// Ledger is a release.Ledger in an OCI registry repository.
type Ledger struct {
	repo   name.Repository
	puller *remote.Puller
	pusher *remote.Pusher
	now    func() time.Time
	jobs   int

	// keychain and transport authenticate the tag listing (see listTags).
	keychain  authn.Keychain
	transport http.RoundTripper

	mu          sync.Mutex
	emptyPushed bool
	lister      *lister
}

var _ release.Ledger = (*Ledger)(nil)

// Open returns the ledger in the repository at location
// ("registry/repository", with or without the oci:// prefix). It does not
// contact the registry; the first operation does.
func Open(ctx context.Context, location string, opts ...Option) (*Ledger, error) {
	o := options{keychain: authn.DefaultKeychain, transport: http.DefaultTransport, userAgent: "stet", now: time.Now, jobs: 8}
	for _, opt := range opts {
		opt(&o)
	}
	loc := strings.TrimPrefix(location, Scheme)
	host, path, ok := strings.Cut(loc, "/")
	if !ok || path == "" || (!strings.ContainsAny(host, ".:") && host != "localhost") {
		return nil, fmt.Errorf("opening ledger %s: want %sregistry/repository, with the registry host first", location, Scheme)
	}
	var nopts []name.Option
	if insecureHost(host, o.insecure) {
		nopts = append(nopts, name.Insecure)
	}
	repo, err := name.NewRepository(loc, append(nopts, name.StrictValidation)...)
	if err != nil {
		return nil, fmt.Errorf("opening ledger %s: %w", location, err)
	}
	ropts := []remote.Option{
		remote.WithAuthFromKeychain(o.keychain),
		remote.WithUserAgent(o.userAgent),
		remote.WithContext(ctx),
		remote.WithJobs(o.jobs),
	}
	if o.client != nil {
		// The client's transport retries already; retrying again on top
		// would multiply the attempts.
		ropts = append(ropts, remote.WithTransport(o.client.HTTPClient().Transport),
			remote.WithRetryPredicate(func(error) bool { return false }))
	} else {
		ropts = append(ropts, remote.WithTransport(o.transport))
	}
	puller, err := remote.NewPuller(ropts...)
	if err != nil {
		return nil, fmt.Errorf("opening ledger %s: %w", location, err)
	}
	pusher, err := remote.NewPusher(ropts...)
	if err != nil {
		return nil, fmt.Errorf("opening ledger %s: %w", location, err)
	}
	base := o.transport
	if o.client != nil {
		base = o.client.HTTPClient().Transport
	} else {
		base = transport.NewRetry(base)
	}
	base = transport.NewUserAgent(base, o.userAgent)
	return &Ledger{repo: repo, puller: puller, pusher: pusher, now: o.now, jobs: o.jobs, keychain: o.keychain, transport: base}, nil
}

// Location is the ledger's oci:// location.
func (l *Ledger) Location() string { return Scheme + l.repo.Name() }

// Close releases nothing: the ledger holds no connections of its own
// beyond the transport's idle pool.
func (l *Ledger) Close() error { return nil }

func insecureHost(host string, allowed []string) bool {
	h := host
	if hn, _, err := net.SplitHostPort(host); err == nil {
		h = hn
	}
	h = strings.Trim(h, "[]")
	if strings.EqualFold(h, "localhost") {
		return true
	}
	if ip := net.ParseIP(h); ip != nil && ip.IsLoopback() {
		return true
	}
	for _, a := range allowed {
		if strings.EqualFold(a, host) || strings.EqualFold(a, h) {
			return true
		}
	}
	return false
}

// wrap names the repository in an error and keeps sentinel errors.
func (l *Ledger) wrap(doing string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s in %s: %w", doing, l.Location(), err)
}
