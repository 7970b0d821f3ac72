// Package resolve turns mutable references into immutable ones: image tags
// into manifest digests through the registry client, action tags and
// branches into commit SHAs through git's smart-HTTP protocol (what git
// ls-remote does: no API token, no API rate limit).
//
// Each unique reference (ref.Ref.Key) is resolved exactly once per
// Resolver. The request budget, per registry host, is:
//
//   - one /v2/ ping, plus, on registries that use bearer tokens, one token
//     exchange per 25 repositories;
//   - one HEAD per unique name:tag (a GET only when the registry does not
//     answer HEAD with a digest). Docker Hub does not count HEADs against
//     its pull limit, so pin, update and verify spend no pulls;
//   - with platforms requested (WithPlatforms, WithRequirePlatforms, what
//     the lockfile wants): one GET per unique name:tag instead of the HEAD
//     (it brings digest and body at once; a pull on Docker Hub, as a HEAD
//     followed by a GET by digest would be), plus one GET of the config
//     blob for a single-platform image, whose platform is only there;
//   - one GET by digest per index that a file pins to a different digest,
//     to tell a platform-specific pin from a moved tag;
//   - with WithCache, a manifest already described (by digest) is never
//     fetched again: a warm run records platforms with HEADs alone.
//
// For actions: one GET of info/refs per repository, shared by all its refs.
package resolve

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/stet-dev/stet/ref"
	"github.com/stet-dev/stet/registry"
)

// DefaultGitURL is where actions are resolved unless WithGitURL says otherwise.
const DefaultGitURL = "https://github.com"

// maxWorkers bounds goroutines; the registry client bounds requests per host.
const maxWorkers = 256

var (
	// ErrUnknownRef: an action repository has no tag or branch of that name.
	ErrUnknownRef = errors.New("no such tag or branch")
	// ErrPlatformMissing: an image lacks a platform WithRequirePlatforms asked for.
	ErrPlatformMissing = errors.New("platform missing")
)

// Option configures a Resolver.
type Option func(*Resolver)

// WithGitURL sets the git server actions are resolved against (default
// DefaultGitURL); owner/repo is fetched from <url>/owner/repo.git.
func WithGitURL(u string) Option {
	return func(r *Resolver) { r.gitURL = strings.TrimRight(u, "/") }
}

// WithGitToken authenticates ref listings with token, for actions in
// private repositories: it is sent as HTTP basic credentials
// (x-access-token:<token>, which GitHub accepts for personal, fine-grained
// and app installation tokens), only over HTTPS or to a loopback host, and
// never appears in errors or logs.
func WithGitToken(token string) Option {
	return func(r *Resolver) { r.gitToken = token }
}

// WithPlatforms records each image's platforms in Result.Platforms, at the
// request cost described in the package documentation.
func WithPlatforms() Option {
	return func(r *Resolver) { r.platforms = true }
}

// WithRequirePlatforms fails an image (ErrPlatformMissing) that lacks any of
// the given platforms, written os/arch[/variant] ("linux/arm64"); a
// platform without variant matches any variant. It implies WithPlatforms.
func WithRequirePlatforms(platforms ...string) Option {
	return func(r *Resolver) {
		r.platforms = true
		r.require = append(r.require, platforms...)
	}
}

// WithProgress is called with the number of unique references resolved so
// far and the total, once at the start and after each one. Calls are
// serialised.
func WithProgress(f func(done, total int)) Option {
	return func(r *Resolver) { r.progress = f }
}

// WithLogger receives debug records about resolutions; the default discards.
func WithLogger(l *slog.Logger) Option {
	return func(r *Resolver) { r.logger = l }
}

// Resolver resolves references. It caches every answer (tags, repository
// listings, manifests by digest) for its lifetime; use one per run.
type Resolver struct {
	reg       *registry.Client
	http      *http.Client
	gitURL    string
	gitToken  string
	platforms bool
	require   []string
	progress  func(done, total int)
	logger    *slog.Logger
	cacheDir  string

	mu        sync.Mutex
	results   map[string]*call[*Result]
	listings  map[string]*call[*gitRefs]
	manifests map[string]*call[*manifestInfo]
}

// New returns a Resolver that reaches registries through c and git servers
// through c.HTTPClient().
func New(c *registry.Client, opts ...Option) (*Resolver, error) {
	r := &Resolver{
		reg:       c,
		http:      c.HTTPClient(),
		gitURL:    DefaultGitURL,
		results:   map[string]*call[*Result]{},
		listings:  map[string]*call[*gitRefs]{},
		manifests: map[string]*call[*manifestInfo]{},
	}
	for _, o := range opts {
		o(r)
	}
	if r.logger == nil {
		r.logger = slog.New(slog.DiscardHandler)
	}
	for _, p := range r.require {
		if _, err := v1.ParsePlatform(p); err != nil || !strings.Contains(p, "/") {
			return nil, fmt.Errorf("parsing platform %q: want os/arch[/variant]", p)
		}
	}
	return r, nil
}

// Result is what one unique reference resolved to.
type Result struct {
	// Key is ref.Ref.Key(): name:tag for images, owner/repo@tag for actions.
	Key  string
	Kind ref.Kind
	// Name and Tag are what was resolved (for actions, Name is owner/repo).
	Name, Tag string
	// Digest is the manifest digest the tag points to (the multi-platform
	// index when there is one) or the 40-hex commit of an action.
	Digest string
	// MediaType of the manifest (images).
	MediaType string
	// Platforms present, os/arch[/variant], sorted; only when asked for.
	// Attestation entries (unknown/unknown) are left out.
	Platforms []string
	// Version is, for actions, the most specific version tag at Digest that
	// Tag abbreviates (v4 → v4.2.2), else Tag itself: the pin's comment.
	Version string
	// Err is why the reference could not be resolved; the other fields
	// except Key, Kind, Name and Tag are then empty.
	Err error
}

// Index reports whether the digest is a multi-platform index.
func (res *Result) Index() bool {
	return isIndex(res.MediaType)
}

// Warning is something worth telling about a reference that is not an error.
type Warning struct {
	Ref     ref.Ref
	Message string
}

// Resolution is the outcome of Resolve.
type Resolution struct {
	// Results by ref.Ref.Key.
	Results  map[string]*Result
	Warnings []Warning
}

// For returns the result for a reference, nil when it was not resolved
// (dynamic, digest-only, already a commit).
func (s *Resolution) For(r ref.Ref) *Result {
	return s.Results[r.Key()]
}

// Resolvable reports whether Resolve looks r up: a static image with a
// tag, or an action whose Tag names a tag or branch.
func Resolvable(r ref.Ref) bool {
	if r.Dynamic || r.Tag == "" || r.Name == "" {
		return false
	}
	if r.Kind == ref.Action {
		return !ref.IsCommit(r.Tag)
	}
	return r.Kind == ref.Image
}

// Resolve looks up every resolvable reference of refs, each unique key
// once. The error joins every failure (each also in its Result.Err), so a
// run with any failed lookup never looks successful; it is ctx.Err() when
// the context ended first.
func (r *Resolver) Resolve(ctx context.Context, refs []ref.Ref) (*Resolution, error) {
	type job struct {
		key       string
		kind      ref.Kind
		name, tag string
	}
	var jobs []job
	seen := map[string]bool{}
	for _, rf := range refs {
		if !Resolvable(rf) || seen[rf.Key()] {
			continue
		}
		seen[rf.Key()] = true
		n := rf.Name
		if rf.Kind == ref.Action {
			n = ref.ActionRepo(rf.Name)
		}
		jobs = append(jobs, job{rf.Key(), rf.Kind, n, rf.Tag})
	}
	var names []name.Reference
	for _, j := range jobs {
		if t, err := name.NewTag(j.key); err == nil && j.kind == ref.Image {
			names = append(names, t)
		}
	}
	// One token exchange for many repositories, where tokens are used.
	r.reg.Prepare(names)
	out := &Resolution{Results: make(map[string]*Result, len(jobs))}
	var (
		mu   sync.Mutex
		done int
		wg   sync.WaitGroup
		sem  = make(chan struct{}, maxWorkers)
	)
	report := func() {
		if r.progress != nil {
			r.progress(done, len(jobs))
		}
	}
	report()
	for _, j := range jobs {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			var res *Result
			if j.kind == ref.Action {
				res = r.Action(ctx, j.name, j.tag)
			} else {
				res = r.Image(ctx, j.name, j.tag)
			}
			mu.Lock()
			out.Results[j.key] = res
			done++
			report()
			mu.Unlock()
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return out, fmt.Errorf("resolving references: %w", err)
	}
	out.Warnings = r.warnings(ctx, refs, out)
	var errs []error
	for _, j := range jobs {
		if res := out.Results[j.key]; res.Err != nil {
			errs = append(errs, res.Err)
		}
	}
	return out, errors.Join(errs...)
}

// Image resolves name:tag (name canonical, docker.io/library/nginx).
func (r *Resolver) Image(ctx context.Context, imageName, tag string) *Result {
	key := imageName + ":" + tag
	return r.once(ctx, key, func() *Result {
		res := &Result{Key: key, Kind: ref.Image, Name: imageName, Tag: tag}
		t, err := name.NewTag(key)
		if err != nil {
			res.Err = fmt.Errorf("resolving %s: %w", key, err)
			return res
		}
		if !r.platforms || r.cacheDir != "" {
			d, err := r.reg.Head(ctx, t)
			if err != nil {
				res.Err = err
				return res
			}
			if !r.platforms {
				res.Digest, res.MediaType = d.Digest.String(), string(d.MediaType)
				r.logger.Debug("resolved image", "ref", key, "digest", res.Digest, "mediaType", res.MediaType)
				return res
			}
			// With a cache, the HEAD's digest may already be known: then no GET.
			return r.withPlatforms(ctx, res, t.Context(), d.Digest.String(), nil)
		}
		// Platforms need the body: one GET of the tag gives digest and body
		// together. On Docker Hub it costs the same one pull as HEAD plus
		// GET by digest, with one round trip less.
		d, err := r.reg.Get(ctx, t)
		if err != nil {
			res.Err = err
			return res
		}
		return r.withPlatforms(ctx, res, t.Context(), d.Digest.String(), d)
	})
}

// withPlatforms completes an image result with the platforms of digest,
// checking the required ones.
func (r *Resolver) withPlatforms(ctx context.Context, res *Result, repo name.Repository, digest string, d *remote.Descriptor) *Result {
	info, err := r.manifestFrom(ctx, repo, digest, res.Key, d)
	if err != nil {
		res.Err = err
		return res
	}
	if missing := missingPlatforms(r.require, info.platforms); len(missing) > 0 {
		res.Err = fmt.Errorf("%s: %w: %s (it has %s)", ref.FamiliarName(res.Name)+":"+res.Tag, ErrPlatformMissing,
			strings.Join(missing, ", "), cmp.Or(strings.Join(info.platforms, ", "), "no platform information"))
		return res
	}
	res.Digest, res.MediaType, res.Platforms = digest, info.mediaType, info.platforms
	r.logger.Debug("resolved image", "ref", res.Key, "digest", digest, "mediaType", info.mediaType, "platforms", info.platforms)
	return res
}

// Exists reports whether the manifest imageName@digest still exists in its
// registry (one HEAD): the check behind "pinned digest no longer exists".
func (r *Resolver) Exists(ctx context.Context, imageName, digest string) (bool, error) {
	d, err := name.NewDigest(imageName + "@" + digest)
	if err != nil {
		return false, fmt.Errorf("checking %s@%s: %w", imageName, digest, err)
	}
	return r.reg.Exists(ctx, d)
}

// Describe reports what the pinned manifest imageName@digest is: its
// media type with one HEAD, and its platforms (from the cache when another
// reference already fetched them) when the Resolver records platforms. A
// digest the registry does not have is an error matching registry.ErrNotFound.
func (r *Resolver) Describe(ctx context.Context, imageName, digest string) *Result {
	key := imageName + "@" + digest
	return r.once(ctx, key, func() *Result {
		res := &Result{Key: key, Kind: ref.Image, Name: imageName}
		d, err := name.NewDigest(key)
		if err != nil {
			res.Err = fmt.Errorf("describing %s: %w", key, err)
			return res
		}
		desc, err := r.reg.Head(ctx, d)
		if err != nil {
			res.Err = err
			return res
		}
		mediaType := string(desc.MediaType)
		if r.platforms {
			info, err := r.manifest(ctx, d.Context(), digest, key)
			if err != nil {
				res.Err = err
				return res
			}
			res.Platforms = info.platforms
		}
		res.Digest, res.MediaType = desc.Digest.String(), mediaType
		return res
	})
}

// Action resolves owner/repo at a tag or branch to its commit. A tag wins
// over a branch of the same name, as in git.
func (r *Resolver) Action(ctx context.Context, repo, tag string) *Result {
	repo = ref.ActionRepo(repo)
	key := repo + "@" + tag
	return r.once(ctx, key, func() *Result {
		res := &Result{Key: key, Kind: ref.Action, Name: repo, Tag: tag}
		g, err := r.listing(ctx, repo)
		if err != nil {
			res.Err = err
			return res
		}
		oid, full, ok := g.lookup(tag)
		if !ok {
			res.Err = fmt.Errorf("resolving action %s: %w %q in %s", key, ErrUnknownRef, tag, r.shownURL(repo))
			return res
		}
		res.Digest, res.Version = oid, tag
		if strings.HasPrefix(full, "refs/tags/") {
			res.Version = mostSpecific(tag, g.tagsAt(oid))
		}
		r.logger.Debug("resolved action", "ref", key, "commit", oid, "version", res.Version)
		return res
	})
}

// VerifyAction reports whether version (a tag or branch, as in a
// "# v4.2.2" comment) currently points at commit sha in repo, and what it
// points at: the check behind "action SHA does not match its version comment".
func (r *Resolver) VerifyAction(ctx context.Context, repo, version, sha string) (ok bool, current string, err error) {
	res := r.Action(ctx, repo, version)
	if res.Err != nil {
		return false, "", res.Err
	}
	return res.Digest == sha, res.Digest, nil
}

// once runs f for key at most once per Resolver; concurrent callers share
// the result. A result that failed because ctx ended is not kept.
func (r *Resolver) once(ctx context.Context, key string, f func() *Result) *Result {
	res, _ := doOnce(ctx, &r.mu, r.results, key, func() (*Result, error) {
		res := f()
		return res, res.Err
	})
	if res == nil {
		return &Result{Key: key, Err: fmt.Errorf("resolving %s: %w", key, ctx.Err())}
	}
	return res
}

// call is one shared computation.
type call[T any] struct {
	done chan struct{}
	val  T
	err  error
}

func doOnce[T any](ctx context.Context, mu *sync.Mutex, m map[string]*call[T], key string, f func() (T, error)) (T, error) {
	mu.Lock()
	c, ok := m[key]
	if !ok {
		c = &call[T]{done: make(chan struct{})}
		m[key] = c
		mu.Unlock()
		c.val, c.err = f()
		if c.err != nil && ctx.Err() != nil {
			mu.Lock()
			delete(m, key)
			mu.Unlock()
		}
		close(c.done)
	} else {
		mu.Unlock()
		select {
		case <-c.done:
		case <-ctx.Done():
			var zero T
			return zero, ctx.Err()
		}
	}
	return c.val, c.err
}

// warnings finds pins to one platform's manifest of a multi-platform tag:
// such a pin gives every other architecture the wrong image.
func (r *Resolver) warnings(ctx context.Context, refs []ref.Ref, s *Resolution) []Warning {
	var out []Warning
	for _, rf := range refs {
		if rf.Kind != ref.Image || rf.Digest == "" || !Resolvable(rf) {
			continue
		}
		res := s.Results[rf.Key()]
		if res == nil || res.Err != nil || res.Digest == rf.Digest || !res.Index() {
			continue
		}
		t, err := name.NewTag(res.Key)
		if err != nil {
			continue
		}
		info, err := r.manifest(ctx, t.Context(), res.Digest, res.Key)
		if err != nil {
			continue
		}
		if p, ok := info.children[rf.Digest]; ok {
			out = append(out, Warning{Ref: rf, Message: fmt.Sprintf(
				"%s is pinned to the %s manifest of a multi-platform image; other platforms would run the wrong image (pin %s instead)",
				rf.Short(), cmp.Or(p, "single-platform"), res.Digest)})
		}
	}
	slices.SortFunc(out, func(a, b Warning) int { return ref.Compare(a.Ref, b.Ref) })
	return out
}

func asURLError(err error, target **url.Error) bool { return errors.As(err, target) }
