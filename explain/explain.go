// Package explain says what a digest move changes, so that a reviewer can
// merge an update knowing what is inside it: for every image whose pin moves
// from one digest to another, the OS packages upgraded, downgraded, added and
// removed and the config changes between the old and the new image (from
// imagediff), per platform; for actions, the commit and version moves.
//
// It also decides which moves to adopt: a Filter selects references by
// name (--only, --exclude), and Hold leaves a new digest alone until the
// image it names has existed for a minimum age, judged by the creation time
// its config records.
//
// Explanations are best effort by design: an old digest the registry no
// longer serves, or an image without a package database, is a note in the
// report rather than a failure, because the update itself does not depend on
// it. Callers that want every move explained check Report.Unexplained.
package explain

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"

	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	"github.com/stet-dev/stet/image"
	"github.com/stet-dev/stet/imagediff"
	"github.com/stet-dev/stet/inventory"
	"github.com/stet-dev/stet/ref"
	"github.com/stet-dev/stet/registry"
)

// DefaultConcurrency is how many moves are explained (or aged) at once when
// Options.Concurrency is zero. Each comparison already reads two layers at a
// time; four images keep a registry busy without flooding a small runner.
const DefaultConcurrency = 4

// Site is a place that uses a reference: a slash path and a 1-based line.
type Site struct {
	File string `json:"file"`
	Line int    `json:"line"`
}

func (s Site) String() string { return fmt.Sprintf("%s:%d", s.File, s.Line) }

// Move is one reference moving from one digest (or commit) to another, with
// every place that uses it.
type Move struct {
	Kind ref.Kind `json:"kind"`
	// Reference is how people write it: nginx:1-alpine, actions/checkout@v4.
	Reference string `json:"reference"`
	// Name is canonical: docker.io/library/nginx, actions/checkout.
	Name string `json:"name"`
	// Tag is the image tag, or for an action the version it was pinned at.
	Tag string `json:"tag"`
	// Version is, for an action, the version the new commit carries when it
	// differs from Tag (v4 → v4.2.2).
	Version string `json:"version,omitempty"`
	From    string `json:"from"`
	To      string `json:"to"`
	Sites   []Site `json:"sites"`
}

// key identifies a move regardless of where it is used.
func (m Move) key() string {
	return string(m.Kind) + "\x00" + m.Name + "\x00" + m.Tag + "\x00" + m.From + "\x00" + m.To
}

// Group merges moves of the same reference between the same digests into
// one, with all their sites, sorted by reference, then digests.
func Group(moves []Move) []Move {
	idx := map[string]int{}
	var out []Move
	for _, m := range moves {
		k := m.key()
		if i, ok := idx[k]; ok {
			out[i].Sites = append(out[i].Sites, m.Sites...)
			continue
		}
		idx[k] = len(out)
		m.Sites = slices.Clone(m.Sites)
		out = append(out, m)
	}
	for i := range out {
		slices.SortFunc(out[i].Sites, func(a, b Site) int {
			return cmp.Or(cmp.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line))
		})
		out[i].Sites = slices.Compact(out[i].Sites)
	}
	slices.SortFunc(out, func(a, b Move) int {
		return cmp.Or(cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Reference, b.Reference), cmp.Compare(a.From, b.From), cmp.Compare(a.To, b.To))
	})
	return out
}

// Options configure an Explainer.
type Options struct {
	// Open says how images are opened (the CLI passes the shared registry
	// client's Remote). Its Platform is ignored: see Platforms.
	Open image.Options
	// Platforms are the platforms explained and aged, os/arch[/variant].
	// Empty means image.DefaultPlatform, or, for an index without it, the
	// first platform the index offers.
	Platforms []string
	// Inventory configures layer reading: the per-layer cache, limits.
	Inventory inventory.Options
	// Concurrency bounds the moves handled at once (default
	// DefaultConcurrency).
	Concurrency int
	// Logger receives debug records; nil discards them.
	Logger *slog.Logger
}

// Explainer explains and ages moves. It opens each image at most once per
// platform for its lifetime, so aging and explaining the same move costs no
// second manifest fetch; use one per run.
type Explainer struct {
	o      Options
	mu     sync.Mutex
	opened map[string]*opening
}

type opening struct {
	done chan struct{}
	im   *image.Image
	err  error
}

// New returns an Explainer.
func New(o Options) *Explainer {
	if o.Concurrency <= 0 {
		o.Concurrency = DefaultConcurrency
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &Explainer{o: o, opened: map[string]*opening{}}
}

// Report is what a set of moves changes.
type Report struct {
	// Images are the image moves, sorted by reference.
	Images []ImageMove `json:"images"`
	// Actions are the action moves: a commit has no package database.
	Actions []Move `json:"actions"`
	// Held are the moves left alone, with the reason (see Hold).
	Held []Held `json:"held"`
}

// ImageMove is an image move and what it changes, per platform.
type ImageMove struct {
	Move
	// Platforms holds one comparison (or the reason there is none) per
	// platform explained.
	Platforms []Platform `json:"platforms"`
}

// Platform is the comparison of the old and the new image on one platform.
type Platform struct {
	Platform string `json:"platform"`
	// Diff is nil when the images could not be compared; Note says why.
	Diff *imagediff.Diff `json:"-"`
	// Gone is true when the old digest is no longer served.
	Gone bool `json:"gone,omitempty"`
	// Note says why there is no comparison, or what limits it.
	Note string `json:"note,omitempty"`
	// Err is the failure behind Note, for callers that want to stop on it.
	Err error `json:"-"`
}

// Explained reports whether every platform of the move was compared.
func (m ImageMove) Explained() bool {
	for _, p := range m.Platforms {
		if p.Diff == nil {
			return false
		}
	}
	return len(m.Platforms) > 0
}

// Packages reports whether a package database was read on either side of
// any platform: when not, the comparison can say nothing about packages.
func (m ImageMove) Packages() bool {
	for _, p := range m.Platforms {
		if p.Diff != nil && (p.Diff.A.Packages > 0 || p.Diff.B.Packages > 0) {
			return true
		}
	}
	return false
}

// Moved reports whether r has anything to say: a move or a held move. A
// nil Report has not.
func (r *Report) Moved() bool {
	return r != nil && len(r.Images)+len(r.Actions)+len(r.Held) > 0
}

// Unexplained returns the image moves that could not be compared on some
// platform (old digest gone, registry failure).
func (r *Report) Unexplained() []ImageMove {
	var out []ImageMove
	for _, m := range r.Images {
		if !m.Explained() {
			out = append(out, m)
		}
	}
	return out
}

// Explain compares the old and the new image of every image move, on each
// platform, and lists the action moves. Moves are grouped first (see Group).
// Failures to read an image are notes in the report, not errors; the error
// is the context's when it ends first.
func (e *Explainer) Explain(ctx context.Context, moves []Move) (*Report, error) {
	rep := &Report{Images: []ImageMove{}, Actions: []Move{}, Held: []Held{}}
	var images []Move
	for _, m := range Group(moves) {
		if m.Kind == ref.Action {
			rep.Actions = append(rep.Actions, m)
		} else {
			images = append(images, m)
		}
	}
	rep.Images = make([]ImageMove, len(images))
	e.each(len(images), func(i int) {
		rep.Images[i] = e.explainImage(ctx, images[i])
	})
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return rep, nil
}

// each runs f(0..n-1) with at most Concurrency at once.
func (e *Explainer) each(n int, f func(i int)) {
	sem := make(chan struct{}, e.o.Concurrency)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			f(i)
		}()
	}
	wg.Wait()
}

func (e *Explainer) explainImage(ctx context.Context, m Move) ImageMove {
	out := ImageMove{Move: m}
	seen := map[string]bool{}
	for _, want := range e.platforms() {
		p := Platform{Platform: want}
		b, err := e.open(ctx, m.Name, m.To, want)
		if err != nil {
			p.Err = err
			p.Note = "the new image could not be read: " + err.Error()
			out.Platforms = append(out.Platforms, p)
			continue
		}
		if seen[b.Digest] {
			continue // a single-platform image answers every platform asked
		}
		seen[b.Digest] = true
		p.Platform = b.Platform
		// The old image at the platform the new one was read at: a default
		// that fell back to another platform applies to both.
		a, err := e.open(ctx, m.Name, m.From, b.Platform)
		switch {
		case err != nil && gone(err):
			p.Err, p.Gone = err, true
			p.Note = fmt.Sprintf("%s is no longer in the registry: there is nothing to compare the new image with", shortDigest(m.From))
		case errors.Is(err, image.ErrNoPlatform):
			p.Err = err
			p.Note = fmt.Sprintf("the old image has no %s image: this platform is new", b.Platform)
		case err != nil:
			p.Err = err
			p.Note = "the old image could not be read: " + err.Error()
		}
		if err != nil {
			out.Platforms = append(out.Platforms, p)
			continue
		}
		scanner := inventory.NewScanner(e.o.Inventory)
		opts := imagediff.Options{Inventory: e.o.Inventory, Scanner: scanner,
			BaseA: e.baseLayers(ctx, scanner, a), BaseB: e.baseLayers(ctx, scanner, b)}
		d, err := imagediff.Compare(ctx, a, b, opts)
		if err != nil {
			p.Err = err
			p.Note = "comparing the images: " + err.Error()
		} else {
			p.Diff = d
		}
		out.Platforms = append(out.Platforms, p)
	}
	return out
}

// platforms is what to open: the requested platforms, or "" for the
// default with its fallback.
func (e *Explainer) platforms() []string {
	if len(e.o.Platforms) > 0 {
		return e.o.Platforms
	}
	return []string{""}
}

// open opens name@digest at a platform, once per Explainer. platform ""
// is image.DefaultPlatform, falling back to the first platform an index
// offers when it has none for the default.
func (e *Explainer) open(ctx context.Context, name, digest, platform string) (*image.Image, error) {
	key := name + "@" + digest + "\x00" + platform
	e.mu.Lock()
	op, ok := e.opened[key]
	if !ok {
		op = &opening{done: make(chan struct{})}
		e.opened[key] = op
	}
	e.mu.Unlock()
	if ok {
		select {
		case <-op.done:
			return op.im, op.err
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	op.im, op.err = e.openUncached(ctx, name+"@"+digest, platform)
	if op.err != nil && ctx.Err() != nil {
		// A cancelled open is not an answer to remember.
		e.mu.Lock()
		delete(e.opened, key)
		e.mu.Unlock()
	}
	close(op.done)
	return op.im, op.err
}

func (e *Explainer) openUncached(ctx context.Context, arg, platform string) (*image.Image, error) {
	o := e.o.Open
	o.Platform = platform
	im, err := image.Open(ctx, arg, o)
	if platform != "" || !errors.Is(err, image.ErrNoPlatform) {
		return im, err
	}
	ps, perr := image.Platforms(ctx, arg, o)
	if perr != nil || len(ps) == 0 {
		return nil, err
	}
	e.o.Logger.Debug("default platform missing, using the first", "image", arg, "platform", ps[0])
	o.Platform = ps[0]
	return image.Open(ctx, arg, o)
}

// baseLayers finds how many bottom layers of im belong to the base image
// its annotations name, when that base can be read and its layers check out
// (imagediff.CheckBaseLayers); 0 otherwise.
func (e *Explainer) baseLayers(ctx context.Context, s *inventory.Scanner, im *image.Image) int {
	bn, bd := im.BaseName(), im.BaseDigest()
	if bn == "" || bd == "" {
		return 0
	}
	if i := strings.IndexByte(bn, '@'); i >= 0 {
		bn = bn[:i]
	}
	if i := strings.LastIndexByte(bn, ':'); i > strings.LastIndexByte(bn, '/') {
		bn = bn[:i]
	}
	b, err := e.open(ctx, bn, bd, im.Platform)
	if err != nil {
		e.o.Logger.Debug("base image from annotations not available", "image", im.Name, "base", bn+"@"+bd, "err", err)
		return 0
	}
	n, err := imagediff.CheckBaseLayers(ctx, s, im, b)
	if err != nil {
		e.o.Logger.Debug("base image from annotations does not check out", "image", im.Name, "base", bn+"@"+bd, "err", err)
		return 0
	}
	return n
}

// gone reports whether err says the registry does not have the manifest.
func gone(err error) bool {
	if errors.Is(err, registry.ErrNotFound) {
		return true
	}
	var te *transport.Error
	if errors.As(err, &te) {
		if te.StatusCode == http.StatusNotFound {
			return true
		}
		for _, d := range te.Errors {
			if d.Code == transport.ManifestUnknownErrorCode || d.Code == transport.NameUnknownErrorCode {
				return true
			}
		}
	}
	return false
}

func shortDigest(d string) string {
	if i := strings.IndexByte(d, ':'); i >= 0 && len(d) > i+13 {
		return d[:i+13] + "…"
	}
	if len(d) == 40 { // a commit
		return d[:12] + "…"
	}
	return d
}
