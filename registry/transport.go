package registry

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// maxManifestBytes caps a manifest body; real ones are a few KiB, the
// distribution spec recommends accepting at least 4 MiB.
const maxManifestBytes = 16 << 20

// httpTransport is the bottom of every request stet sends: plain-HTTP
// policy, the per-host concurrency bound, per-attempt timeouts, retries with
// backoff, Retry-After, and verification of manifest bytes.
type httpTransport struct {
	c    *Client
	next http.RoundTripper

	mu    sync.Mutex
	hosts map[string]*hostState
}

type hostState struct {
	sem chan struct{}

	mu         sync.Mutex
	pauseUntil time.Time // set by a 429 with Retry-After
}

// plainTransport is httpTransport without the plain-HTTP policy, for URLs a
// user configured explicitly (the actions git URL).
type plainTransport struct{ t *httpTransport }

func (p *plainTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	return p.t.roundTrip(req, false)
}

func (t *httpTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	return t.roundTrip(req, true)
}

func (t *httpTransport) host(h string) *hostState {
	t.mu.Lock()
	defer t.mu.Unlock()
	s, ok := t.hosts[h]
	if !ok {
		s = &hostState{sem: make(chan struct{}, t.c.o.concurrency)}
		t.hosts[h] = s
	}
	return s
}

var errTimeout = fmt.Errorf("%w", ErrTimeout)

func (t *httpTransport) roundTrip(req *http.Request, policy bool) (*http.Response, error) {
	ctx := req.Context()
	if policy && req.URL.Scheme == "http" && !t.c.insecureHost(req.URL.Host) {
		return nil, fmt.Errorf("%w to %s: not a loopback host and not listed as insecure", ErrInsecure, req.URL.Host)
	}
	hs := t.host(req.URL.Host)
	select {
	case hs.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	var once sync.Once
	release := func() { once.Do(func() { <-hs.sem }) }

	resp, err := t.retry(req, hs)
	if err != nil || resp.Body == nil || resp.Body == http.NoBody {
		release()
		return resp, err
	}
	resp.Body = &releaseBody{ReadCloser: resp.Body, release: release}
	return resp, nil
}

func (t *httpTransport) retry(req *http.Request, hs *hostState) (*http.Response, error) {
	ctx := req.Context()
	p := t.c.o.retry
	replayable := req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
	for attempt := 1; ; attempt++ {
		if err := hs.wait(ctx); err != nil {
			return nil, err
		}
		start := time.Now()
		resp, err := t.attempt(req)
		t.log(req, resp, err, attempt, time.Since(start))
		if ctx.Err() != nil {
			if resp != nil {
				resp.Body.Close()
			}
			return nil, ctx.Err()
		}
		last := attempt >= p.Attempts || !replayable
		if err != nil {
			if last || !retryableError(err) {
				return nil, err
			}
			if err := t.sleep(ctx, req, attempt, 0, err.Error()); err != nil {
				return nil, err
			}
			continue
		}
		switch {
		case resp.StatusCode == http.StatusTooManyRequests:
			wait, ok := retryAfter(resp.Header, time.Now())
			if remaining, exhausted := rateLimitExhausted(resp.Header); exhausted && !ok {
				// Docker Hub: the window is hours long; waiting is pointless.
				drain(resp)
				return nil, &statusError{status: http.StatusTooManyRequests, err: fmt.Errorf("%w: pull limit exhausted (RateLimit-Remaining: %s)", ErrRateLimited, remaining)}
			}
			if ok && wait > p.MaxRetryAfter {
				drain(resp)
				return nil, &statusError{status: http.StatusTooManyRequests, err: fmt.Errorf("%w: Retry-After %s exceeds the %s the client waits", ErrRateLimited, wait.Round(time.Second), p.MaxRetryAfter)}
			}
			if last {
				return resp, nil
			}
			drain(resp)
			if ok {
				hs.pause(wait)
				t.c.o.logger.Info("registry rate limit: waiting", "host", req.URL.Host, "retryAfter", wait)
				continue
			}
			if err := t.sleep(ctx, req, attempt, resp.StatusCode, "429"); err != nil {
				return nil, err
			}
		case retryableStatus(resp.StatusCode):
			if last {
				return resp, nil
			}
			drain(resp)
			// A 503 may say when to come back; believe it within reason.
			if wait, ok := retryAfter(resp.Header, time.Now()); ok && wait <= p.MaxRetryAfter {
				hs.pause(wait)
				t.c.o.logger.Info("registry unavailable: waiting", "host", req.URL.Host, "status", resp.StatusCode, "retryAfter", wait)
				continue
			}
			if err := t.sleep(ctx, req, attempt, resp.StatusCode, resp.Status); err != nil {
				return nil, err
			}
		default:
			return resp, nil
		}
	}
}

// attempt sends one try with its own timeout, which covers the response
// headers and then every pause between body reads. Manifest bodies are
// read here in full and verified, so that a short or wrong body is retried
// like any other failure.
func (t *httpTransport) attempt(orig *http.Request) (*http.Response, error) {
	parent := orig.Context()
	ctx, cancel := context.WithCancelCause(parent)
	timeout := t.c.o.timeout
	timer := time.AfterFunc(timeout, func() { cancel(errTimeout) })
	stop := func() {
		timer.Stop()
		cancel(nil)
	}
	req := orig.Clone(ctx)
	if orig.Body != nil && orig.Body != http.NoBody && orig.GetBody != nil {
		b, err := orig.GetBody()
		if err != nil {
			stop()
			return nil, err
		}
		req.Body = b
	}
	if t.c.o.userAgent != "" {
		req.Header.Set("User-Agent", t.c.o.userAgent)
	}
	resp, err := t.next.RoundTrip(req)
	if err != nil {
		stop()
		if context.Cause(ctx) == errTimeout && parent.Err() == nil {
			return nil, fmt.Errorf("%s %s: no response within %s: %w", orig.Method, orig.URL.Host, timeout, errTimeout)
		}
		return nil, err
	}
	if orig.Method == http.MethodHead || resp.Body == nil || resp.Body == http.NoBody {
		stop()
		return resp, nil
	}
	timer.Reset(timeout)
	body := &timeoutBody{ReadCloser: resp.Body, timer: timer, timeout: timeout, stop: stop, ctx: ctx, parent: parent}
	resp.Body = body
	if orig.Method == http.MethodGet && resp.StatusCode == http.StatusOK && isManifestPath(orig.URL.Path) {
		defer body.Close()
		data, err := io.ReadAll(io.LimitReader(body, maxManifestBytes+1))
		if err != nil {
			return nil, fmt.Errorf("reading manifest from %s: %w", orig.URL.Host, err)
		}
		if len(data) > maxManifestBytes {
			return nil, fmt.Errorf("manifest from %s larger than %d bytes", orig.URL.Host, maxManifestBytes)
		}
		if err := verifyManifest(orig.URL.Path, resp.Header.Get("Docker-Content-Digest"), data); err != nil {
			return nil, err
		}
		resp.Body = io.NopCloser(bytes.NewReader(data))
		resp.ContentLength = int64(len(data))
	}
	return resp, nil
}

// isManifestPath reports whether p is /v2/<name>/manifests/<reference>.
func isManifestPath(p string) bool {
	i := strings.LastIndex(p, "/manifests/")
	return strings.HasPrefix(p, "/v2/") && i > len("/v2") && !strings.Contains(p[i+len("/manifests/"):], "/")
}

// verifyManifest checks data against the digest in the path (a request by
// digest) or else the Docker-Content-Digest header. Without either there is
// nothing to check against: the caller computes the digest from the bytes.
func verifyManifest(path, header string, data []byte) error {
	want := path[strings.LastIndex(path, "/")+1:]
	if !strings.Contains(want, ":") {
		want = header
	}
	if want == "" {
		return nil
	}
	algo, hexPart, ok := strings.Cut(want, ":")
	if !ok {
		return fmt.Errorf("%w: malformed digest %q", ErrDigestMismatch, want)
	}
	var h hash.Hash
	switch algo {
	case "sha256":
		h = sha256.New()
	case "sha384":
		h = sha512.New384()
	case "sha512":
		h = sha512.New()
	default:
		return fmt.Errorf("%w: unsupported digest algorithm %q", ErrDigestMismatch, algo)
	}
	h.Write(data)
	if got := hex.EncodeToString(h.Sum(nil)); got != hexPart {
		return fmt.Errorf("%w: announced %s, content is %s:%s", ErrDigestMismatch, want, algo, got)
	}
	return nil
}

func retryableStatus(code int) bool {
	switch code {
	case http.StatusRequestTimeout, http.StatusInternalServerError, http.StatusBadGateway,
		http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// retryableError: connection failures, resets, truncated bodies, timeouts
// and wrong manifest bytes are worth another try; certificate problems, a
// TLS handshake with a plain-HTTP server, and policy refusals are not.
func retryableError(err error) bool {
	var (
		rh   tls.RecordHeaderError
		cert *tls.CertificateVerificationError
		ua   x509.UnknownAuthorityError
		hn   x509.HostnameError
		ci   x509.CertificateInvalidError
	)
	switch {
	case errors.Is(err, ErrInsecure), errors.As(err, &rh), errors.As(err, &cert),
		errors.As(err, &ua), errors.As(err, &hn), errors.As(err, &ci):
		return false
	case errors.Is(err, context.Canceled):
		return false
	}
	if strings.Contains(err.Error(), "server gave HTTP response to HTTPS client") {
		return false
	}
	return true
}

// isNetworkError: no HTTP answer at all.
func isNetworkError(err error) bool {
	var ne net.Error
	var oe *net.OpError
	return errors.As(err, &ne) || errors.As(err, &oe) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, io.EOF) || errors.Is(err, ErrTimeout)
}

func (t *httpTransport) sleep(ctx context.Context, req *http.Request, attempt, status int, why string) error {
	p := t.c.o.retry
	d := p.Backoff << (attempt - 1)
	if d > p.MaxBackoff || d <= 0 {
		d = p.MaxBackoff
	}
	d = time.Duration(float64(d) * (0.8 + 0.4*rand.Float64()))
	t.c.o.logger.Info("registry request failed; retrying", "method", req.Method, "host", req.URL.Host,
		"path", req.URL.Path, "status", status, "attempt", attempt, "wait", d, "reason", t.c.redact(why))
	return sleepContext(ctx, d)
}

func (t *httpTransport) log(req *http.Request, resp *http.Response, err error, attempt int, d time.Duration) {
	l := t.c.o.logger
	if !l.Enabled(req.Context(), -4) {
		return
	}
	if err != nil {
		l.Debug("registry request", "method", req.Method, "host", req.URL.Host, "path", req.URL.Path,
			"attempt", attempt, "duration", d, "error", t.c.redact(err.Error()))
		return
	}
	l.Debug("registry request", "method", req.Method, "host", req.URL.Host, "path", req.URL.Path,
		"status", resp.StatusCode, "attempt", attempt, "duration", d)
}

// sleepContext waits d or until ctx is done, whichever comes first.
func sleepContext(ctx context.Context, d time.Duration) error {
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-tm.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (hs *hostState) pause(d time.Duration) {
	hs.mu.Lock()
	defer hs.mu.Unlock()
	if until := time.Now().Add(d); until.After(hs.pauseUntil) {
		hs.pauseUntil = until
	}
}

func (hs *hostState) wait(ctx context.Context) error {
	hs.mu.Lock()
	d := time.Until(hs.pauseUntil)
	hs.mu.Unlock()
	if d <= 0 {
		return nil
	}
	return sleepContext(ctx, d)
}

// retryAfter reads Retry-After as seconds or an HTTP date.
func retryAfter(h http.Header, now time.Time) (time.Duration, bool) {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	if n, err := strconv.Atoi(v); err == nil && n >= 0 {
		return time.Duration(n) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

// rateLimitExhausted reads Docker Hub's "RateLimit-Remaining: 0;w=21600".
func rateLimitExhausted(h http.Header) (string, bool) {
	v := strings.TrimSpace(h.Get("RateLimit-Remaining"))
	if v == "" {
		return "", false
	}
	n, _, _ := strings.Cut(v, ";")
	return v, strings.TrimSpace(n) == "0"
}

func drain(resp *http.Response) {
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
}

// timeoutBody restarts the attempt's timer on every read, so a body that
// keeps flowing may take as long as it needs and a stalled one fails.
type timeoutBody struct {
	io.ReadCloser
	timer       *time.Timer
	timeout     time.Duration
	stop        func()
	ctx, parent context.Context
	closeOnce   sync.Once
}

func (b *timeoutBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.timer.Reset(b.timeout)
	if err != nil && err != io.EOF && context.Cause(b.ctx) == errTimeout && b.parent.Err() == nil {
		err = fmt.Errorf("body stalled for %s: %w", b.timeout, errTimeout)
	}
	return n, err
}

func (b *timeoutBody) Close() error {
	err := b.ReadCloser.Close()
	b.closeOnce.Do(b.stop)
	return err
}

// releaseBody frees the host's concurrency slot when the body is closed or
// fully read.
type releaseBody struct {
	io.ReadCloser
	release func()
}

func (b *releaseBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err == io.EOF {
		b.release()
	}
	return n, err
}

func (b *releaseBody) Close() error {
	err := b.ReadCloser.Close()
	b.release()
	return err
}
