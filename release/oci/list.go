package oci

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// pageSize is the number of tags asked for per listing request.
const pageSize = 1000

// lister lists a repository's tags completely. go-containerregistry's
// List follows Link headers only, and some registries (the in-process
// registry of go-containerregistry among them) answer a page of n tags
// without one although more follow; a ledger that missed tags would
// misnumber and misreport. So a full page without a Link continues with
// the last tag, as the distribution spec's "last" parameter allows.
type lister struct {
	client *http.Client
	err    error
}

func (l *Ledger) listTags(ctx context.Context) ([]string, error) {
	l.mu.Lock()
	if l.lister == nil {
		l.lister = &lister{}
		auth, err := authn.Resolve(ctx, l.keychain, l.repo)
		if err == nil {
			var rt http.RoundTripper
			rt, err = transport.NewWithContext(ctx, l.repo.Registry, auth, l.transport, []string{l.repo.Scope(transport.PullScope)})
			l.lister.client = &http.Client{Transport: rt}
		}
		l.lister.err = err
	}
	ls := l.lister
	if ls.err != nil && ctx.Err() == nil {
		// A failed ping or credential lookup is retried by the next call.
		l.lister = nil
	}
	l.mu.Unlock()
	if ls.err != nil {
		return nil, ls.err
	}
	base := url.URL{Scheme: l.repo.Scheme(), Host: l.repo.RegistryStr(), Path: fmt.Sprintf("/v2/%s/tags/list", l.repo.RepositoryStr())}
	var all []string
	next := ""
	last := ""
	for {
		u := base
		if next != "" {
			nu, err := base.Parse(next)
			if err != nil || nu.Host != base.Host {
				return nil, fmt.Errorf("the registry's next page %q is not on %s", next, base.Host)
			}
			u = *nu
		} else {
			q := url.Values{"n": {fmt.Sprint(pageSize)}}
			if last != "" {
				q.Set("last", last)
			}
			u.RawQuery = q.Encode()
		}
		page, link, err := ls.page(ctx, u.String())
		if err != nil {
			return nil, err
		}
		all = append(all, page...)
		switch {
		case link != "":
			next = link
		case len(page) >= pageSize && page[len(page)-1] != last:
			next, last = "", page[len(page)-1]
		default:
			return all, nil
		}
	}
}

func (ls *lister) page(ctx context.Context, u string) ([]string, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, "", err
	}
	resp, err := ls.client.Do(req)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	if err := transport.CheckError(resp, http.StatusOK); err != nil {
		return nil, "", err
	}
	var body struct {
		Tags []string `json:"tags"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return nil, "", fmt.Errorf("decoding the tag list: %w", err)
	}
	return body.Tags, nextLink(resp.Header.Get("Link")), nil
}

// nextLink reads `<url>; rel="next"` from a Link header.
func nextLink(h string) string {
	for _, part := range strings.Split(h, ",") {
		u, params, ok := strings.Cut(part, ";")
		if ok && strings.Contains(params, `rel="next"`) {
			return strings.Trim(strings.TrimSpace(u), "<>")
		}
	}
	return ""
}
