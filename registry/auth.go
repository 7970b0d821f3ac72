package registry

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// regState is what a Client knows about one registry host: the outcome of
// its ping, its credentials, and the puller that shares them.
type regState struct {
	done chan struct{}
	err  error

	puller *remote.Puller
	auth   *authTransport
}

// registry returns the state of reg, pinging it on first use. Concurrent
// callers wait for the one ping; a failure is remembered so that a dead
// registry is not pinged (with retries) once per reference, except when the
// failure was the caller's cancellation.
func (c *Client) registry(ctx context.Context, reg name.Registry) (*regState, error) {
	key := reg.RegistryStr()
	c.mu.Lock()
	st, ok := c.regs[key]
	if !ok {
		st = &regState{done: make(chan struct{})}
		c.regs[key] = st
		c.mu.Unlock()
		st.err = st.init(ctx, c, reg)
		if st.err != nil && ctx.Err() != nil {
			c.mu.Lock()
			delete(c.regs, key)
			c.mu.Unlock()
		}
		close(st.done)
	} else {
		c.mu.Unlock()
		select {
		case <-st.done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if st.err != nil {
		return nil, st.err
	}
	return st, nil
}

func (st *regState) init(ctx context.Context, c *Client, reg name.Registry) error {
	auth, err := authn.Resolve(ctx, c.o.keychain, reg)
	if err != nil {
		return fmt.Errorf("looking up credentials for %s: %w", reg.RegistryStr(), err)
	}
	if auth != authn.Anonymous {
		cfg, err := authn.Authorization(ctx, auth)
		if err != nil {
			return fmt.Errorf("reading credentials for %s: %w", reg.RegistryStr(), err)
		}
		c.addSecrets(cfg)
	}
	ch, err := transport.Ping(ctx, reg, c.http)
	if err != nil {
		return fmt.Errorf("pinging %s: %w", reg.RegistryStr(), err)
	}
	at := &authTransport{c: c, reg: reg, auth: auth, challenge: ch, scheme: "https", tokens: map[string]*token{}}
	if ch.Insecure {
		at.scheme = "http"
	}
	// A transport.Wrapper tells go-containerregistry that authentication is
	// handled: it neither pings per repository nor adds its own retries.
	// FromToken with a non-bearer challenge and anonymous credentials is the
	// exported way to obtain one around our transport.
	w, err := transport.FromToken(reg, authn.Anonymous, at, &transport.Challenge{Scheme: "none"}, nil)
	if err != nil {
		return err
	}
	p, err := remote.NewPuller(remote.WithTransport(w), remote.WithJobs(c.o.concurrency))
	if err != nil {
		return err
	}
	st.puller, st.auth = p, at
	c.mu.Lock()
	scopes := c.hints[reg.RegistryStr()]
	delete(c.hints, reg.RegistryStr())
	c.mu.Unlock()
	if at.bearer() {
		at.prefetch(ctx, scopes)
	}
	return nil
}

// authTransport authenticates requests to one registry host: basic
// credentials when the ping asked for them, otherwise a bearer token per
// repository, exchanged once and renewed when the registry rejects it.
type authTransport struct {
	c         *Client
	reg       name.Registry
	auth      authn.Authenticator
	challenge *transport.Challenge
	scheme    string

	mu     sync.Mutex
	tokens map[string]*token // by repository scope
}

type token struct {
	done  chan struct{}
	value string
	err   error
	batch bool // prefetched for several repositories
}

func (a *authTransport) bearer() bool { return strings.EqualFold(a.challenge.Scheme, "bearer") }

func (a *authTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Host != a.reg.RegistryStr() {
		return a.c.http.RoundTrip(req)
	}
	// The ping decided the scheme (a loopback registry may speak TLS).
	req.URL.Scheme = a.scheme
	if !a.bearer() {
		if err := a.setBasic(req); err != nil {
			return nil, err
		}
		return a.c.http.RoundTrip(req)
	}
	scope := scopeFor(req.URL.Path)
	tok, err := a.token(req.Context(), scope, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+tok.value)
	resp, err := a.c.http.RoundTrip(req)
	if err != nil || resp.StatusCode != http.StatusUnauthorized {
		return resp, err
	}
	// Expired token or a scope the registry wants differently: exchange
	// again once, for the scope it names.
	if s := challengeScope(resp); s != "" {
		scope = s
	}
	drain(resp)
	tok, err = a.token(req.Context(), scope, tok)
	if err != nil {
		return nil, err
	}
	if req.Body != nil && req.Body != http.NoBody {
		if req.GetBody == nil {
			return nil, fmt.Errorf("%s %s: authentication renewed but the request body cannot be replayed", req.Method, req.URL.Host)
		}
		b, err := req.GetBody()
		if err != nil {
			return nil, err
		}
		req.Body = b
	}
	req.Header.Set("Authorization", "Bearer "+tok.value)
	return a.c.http.RoundTrip(req)
}

func (a *authTransport) setBasic(req *http.Request) error {
	if a.auth == authn.Anonymous {
		return nil
	}
	cfg, err := authn.Authorization(req.Context(), a.auth)
	if err != nil {
		return fmt.Errorf("reading credentials for %s: %w", a.reg.RegistryStr(), err)
	}
	switch {
	case cfg.RegistryToken != "":
		req.Header.Set("Authorization", "Bearer "+cfg.RegistryToken)
	case cfg.Username != "" && cfg.Password != "":
		req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(cfg.Username+":"+cfg.Password)))
	case cfg.Auth != "":
		req.Header.Set("Authorization", "Basic "+cfg.Auth)
	}
	return nil
}

// token returns the bearer token for scope, exchanging it when there is
// none or when stale is the one the registry just refused. Concurrent
// requests for one scope share a single exchange.
func (a *authTransport) token(ctx context.Context, scope string, stale *token) (*token, error) {
	a.mu.Lock()
	t, ok := a.tokens[scope]
	if !ok || (stale != nil && t == stale) || (t.isDone() && t.err != nil) {
		t = &token{done: make(chan struct{})}
		a.tokens[scope] = t
		a.mu.Unlock()
		t.value, t.err = a.exchange(ctx, scope)
		close(t.done)
	} else {
		a.mu.Unlock()
	}
	select {
	case <-t.done:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if t.err != nil && t.batch && ctx.Err() == nil {
		// A token server may refuse several scopes at once: ask for this
		// repository alone.
		return a.token(ctx, scope, t)
	}
	if t.err != nil {
		return nil, t.err
	}
	return t, nil
}

// tokenBatch is how many repository scopes one prefetched token covers:
// enough to turn hundreds of exchanges into a few, few enough that the
// token stays well under common 8 KiB header limits.
const tokenBatch = 25

// prefetch exchanges tokens for the announced scopes in batches. Entries
// are registered before it returns, so that requests for those
// repositories wait for their batch instead of exchanging on their own; a
// registry that ignores extra scopes answers 401, and that repository then
// gets a token of its own.
func (a *authTransport) prefetch(ctx context.Context, scopes []string) {
	a.mu.Lock()
	var todo []string
	for _, s := range scopes {
		if _, ok := a.tokens[s]; !ok && !slices.Contains(todo, s) {
			todo = append(todo, s)
		}
	}
	var batches [][]string
	var toks []*token
	for len(todo) > 0 {
		n := min(tokenBatch, len(todo))
		t := &token{done: make(chan struct{}), batch: n > 1}
		for _, s := range todo[:n] {
			a.tokens[s] = t
		}
		batches, toks = append(batches, todo[:n]), append(toks, t)
		todo = todo[n:]
	}
	a.mu.Unlock()
	for i, b := range batches {
		go func() {
			t := toks[i]
			t.value, t.err = a.exchangeScopes(ctx, b)
			close(t.done)
		}()
	}
}

func (t *token) isDone() bool {
	select {
	case <-t.done:
		return true
	default:
		return false
	}
}

func (a *authTransport) exchange(ctx context.Context, scope string) (string, error) {
	var scopes []string
	if scope != "" {
		scopes = []string{scope}
	}
	return a.exchangeScopes(ctx, scopes)
}

func (a *authTransport) exchangeScopes(ctx context.Context, scopes []string) (string, error) {
	scope := strings.Join(scopes, " ")
	tok, err := transport.Exchange(ctx, a.reg, a.auth, a.c.http, scopes, a.challenge)
	if err != nil {
		var te *transport.Error
		if errors.As(err, &te) {
			return "", &statusError{status: te.StatusCode, err: fmt.Errorf("exchanging a token for %s: %s", scopeOrRegistry(scope, a.reg), diagnosticsOrStatus(te))}
		}
		return "", fmt.Errorf("exchanging a token for %s: %w", scopeOrRegistry(scope, a.reg), err)
	}
	v := tok.Token
	if v == "" {
		v = tok.AccessToken
	}
	if v == "" {
		return "", fmt.Errorf("exchanging a token for %s: the token server returned no token", scopeOrRegistry(scope, a.reg))
	}
	a.c.addSecret(v)
	if tok.RefreshToken != "" {
		a.c.addSecret(tok.RefreshToken)
	}
	return v, nil
}

func diagnosticsOrStatus(te *transport.Error) string {
	if d := diagnostics(te); d != "" {
		return d
	}
	return fmt.Sprintf("%d %s", te.StatusCode, http.StatusText(te.StatusCode))
}

func scopeOrRegistry(scope string, reg name.Registry) string {
	if scope == "" {
		return reg.RegistryStr()
	}
	if n := strings.Count(scope, " "); n > 0 {
		first, _, _ := strings.Cut(scope, " ")
		return fmt.Sprintf("%s and %d more repositories", first, n)
	}
	return scope
}

// scopeFor is the pull scope of a registry API path /v2/<name>/(manifests|
// blobs|tags|referrers)/…; empty for /v2/ itself and the catalog.
func scopeFor(path string) string {
	p, ok := strings.CutPrefix(path, "/v2/")
	if !ok {
		return ""
	}
	for _, kind := range []string{"/manifests/", "/blobs/", "/tags/", "/referrers/"} {
		if i := strings.LastIndex(p, kind); i > 0 {
			return "repository:" + p[:i] + ":pull"
		}
	}
	return ""
}

// challengeScope reads the scope a 401's bearer challenge asks for.
func challengeScope(resp *http.Response) string {
	for _, h := range resp.Header.Values("WWW-Authenticate") {
		if i := strings.Index(h, `scope="`); i >= 0 {
			rest := h[i+len(`scope="`):]
			if j := strings.IndexByte(rest, '"'); j >= 0 {
				return rest[:j]
			}
		}
	}
	return ""
}

// Prepare announces the references about to be fetched. On registries
// with token authentication, one token exchange then covers up to 25
// repositories instead of one each. It does no I/O and is only an
// optimisation: requests work the same without it.
func (c *Client) Prepare(refs []name.Reference) {
	byReg := map[string][]string{}
	for _, r := range refs {
		t := c.Mirror(r).Context()
		byReg[t.RegistryStr()] = append(byReg[t.RegistryStr()], t.Scope(transport.PullScope))
	}
	for host, scopes := range byReg {
		c.mu.Lock()
		st, ok := c.regs[host]
		done := ok && isClosed(st.done)
		if !done {
			c.hints[host] = append(c.hints[host], scopes...)
		}
		c.mu.Unlock()
		if done && st.err == nil && st.auth.bearer() {
			// Pinged by an earlier run: the batches are registered now and
			// exchanged in the background, bounded by the request timeouts.
			st.auth.prefetch(context.Background(), scopes)
		}
	}
}

func isClosed(ch chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// addSecrets records credentials so that no message can carry them.
func (c *Client) addSecrets(cfg *authn.AuthConfig) {
	for _, s := range []string{cfg.Password, cfg.Auth, cfg.IdentityToken, cfg.RegistryToken} {
		c.addSecret(s)
	}
	if cfg.Username != "" && cfg.Password != "" {
		c.addSecret(base64.StdEncoding.EncodeToString([]byte(cfg.Username + ":" + cfg.Password)))
	}
}

func (c *Client) addSecret(s string) {
	// Very short values would redact ordinary words; no real secret is that short.
	if len(s) < 4 {
		return
	}
	c.secretsMu.Lock()
	c.secrets = append(c.secrets, s)
	c.secretsMu.Unlock()
}

func (c *Client) redact(s string) string {
	c.secretsMu.RLock()
	defer c.secretsMu.RUnlock()
	for _, sec := range c.secrets {
		s = strings.ReplaceAll(s, sec, "[redacted]")
	}
	return s
}
