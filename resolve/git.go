package resolve

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/stet-dev/stet/registry"
)

// maxAdvertisement caps a ref listing; the largest public repositories
// advertise a few MiB.
const maxAdvertisement = 64 << 20

func (r *Resolver) repoURL(repo string) string { return r.gitURL + "/" + repo }

// shownURL is repoURL for messages: credentials written into the git URL
// are sent (net/http does) but never shown.
func (r *Resolver) shownURL(repo string) string {
	u, err := url.Parse(r.repoURL(repo))
	if err != nil {
		return repo
	}
	return u.Redacted()
}

// hasCredentials reports whether listings carry credentials: a token, or a
// user written into the git URL.
func (r *Resolver) hasCredentials() bool {
	u, err := url.Parse(r.gitURL)
	return r.gitToken != "" || (err == nil && u.User != nil)
}

// listing fetches the refs of owner/repo once per Resolver.
func (r *Resolver) listing(ctx context.Context, repo string) (*gitRefs, error) {
	return doOnce(ctx, &r.mu, r.listings, repo, func() (*gitRefs, error) {
		return r.fetchListing(ctx, repo)
	})
}

// listingAttempts bounds how often a listing whose body broke off is
// fetched again; failed requests are already retried by the transport.
const listingAttempts = 3

func (r *Resolver) fetchListing(ctx context.Context, repo string) (*gitRefs, error) {
	var err error
	for range listingAttempts {
		var g *gitRefs
		var again bool
		g, again, err = r.fetchListingOnce(ctx, repo)
		if !again || ctx.Err() != nil {
			return g, err
		}
		r.logger.Info("ref listing broke off; fetching again", "repo", repo, "error", err)
	}
	return nil, err
}

// fetchListingOnce reports in again whether the failure was a body that
// broke off, worth another try.
func (r *Resolver) fetchListingOnce(ctx context.Context, repo string) (_ *gitRefs, again bool, _ error) {
	u := r.repoURL(repo) + ".git/info/refs?service=git-upload-pack"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, false, fmt.Errorf("listing refs of %s: %w", repo, err)
	}
	host := req.URL.Host
	if r.gitToken != "" && (req.URL.Scheme == "https" || isLoopback(req.URL.Hostname())) {
		req.SetBasicAuth("x-access-token", r.gitToken)
	}
	resp, err := r.http.Do(req)
	if err != nil {
		var ue *url.Error
		if asURLError(err, &ue) {
			err = ue.Err
		}
		return nil, false, &registry.Error{Ref: repo, Registry: host, Server: "git host", Err: fmt.Errorf("listing refs: %w", err)}
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotFound, resp.StatusCode == http.StatusUnauthorized:
		// GitHub answers 401 for repositories that do not exist or are private.
		why := "private, and no token was given"
		if r.hasCredentials() {
			why = "private, and the credentials given cannot read it"
		}
		return nil, false, &registry.Error{Ref: repo, Registry: host, Server: "git host", Status: resp.StatusCode,
			Err: fmt.Errorf("listing refs: %w: repository not found (or %s) at %s", registry.ErrNotFound, why, r.shownURL(repo))}
	case resp.StatusCode != http.StatusOK:
		return nil, false, &registry.Error{Ref: repo, Registry: host, Server: "git host", Status: resp.StatusCode, Err: fmt.Errorf("listing refs at %s", r.shownURL(repo))}
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/x-git-upload-pack-advertisement") {
		return nil, false, &registry.Error{Ref: repo, Registry: host, Server: "git host", Status: resp.StatusCode,
			Err: fmt.Errorf("listing refs at %s: %w: content type %q, not a smart-HTTP git server", r.shownURL(repo), ErrProtocol, ct)}
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxAdvertisement+1))
	if err != nil {
		return nil, true, &registry.Error{Ref: repo, Registry: host, Server: "git host", Err: fmt.Errorf("reading refs: %w", err)}
	}
	if len(data) > maxAdvertisement {
		return nil, false, fmt.Errorf("listing refs of %s: advertisement larger than %d bytes", repo, maxAdvertisement)
	}
	g, err := parseAdvertisement(data)
	if err != nil {
		return nil, false, fmt.Errorf("listing refs of %s at %s: %w", repo, r.shownURL(repo), err)
	}
	return g, false, nil
}

// isLoopback reports whether host (no port) names this machine, where a
// token may travel over plain HTTP.
func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
