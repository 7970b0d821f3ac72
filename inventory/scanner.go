package inventory

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/stet-dev/stet/image"
)

// Scanner reads layers into LayerScans. A layer's ID (its DiffID) is what
// its image's config claims; a result filed under an ID serves a layer
// without reading it only when that layer is known to hold the ID: its blob
// (image.Layer.Blob) was read before and found to produce it, in this
// Scanner or as recorded with a cache entry. Any other layer is read, which
// checks it. Results are remembered for the Scanner's lifetime (a layer
// shared by two images is read once) and, with a Cache, across runs.
type Scanner struct {
	opts Options
	lim  Limits
	log  *slog.Logger

	mu sync.Mutex
	// scans are results by layer ID, each made from content checked
	// against that ID (here, or before it was cached).
	scans map[string]*LayerScan
	// ok holds the pairs (see pairKey) found to hold: blob → ID.
	ok map[string]bool
	// flight are the reads in progress, by pair.
	flight map[string]*flight
	// cacheMu serialises read-modify-write of cache entries, so that two
	// sources of one layer checked at once both end up listed.
	cacheMu sync.Mutex
}

type flight struct {
	done chan struct{}
	scan *LayerScan
	err  error
}

// NewScanner returns a Scanner.
func NewScanner(opts Options) *Scanner {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Scanner{opts: opts, lim: opts.Limits.withDefaults(), log: log,
		scans: map[string]*LayerScan{}, ok: map[string]bool{}, flight: map[string]*flight{}}
}

// pairKey names what reading layer i of im checks: that its stored bytes
// produce its ID. A blob digest binds the bytes, so one check serves every
// layer stored as that blob; an archive layer without one is bound to
// nothing but its place in its archive.
func pairKey(im *image.Image, i int) string {
	l := im.Layers[i]
	if b := l.Blob(); b != "" {
		return b + " " + l.ID()
	}
	return fmt.Sprintf("%p %d %s", im, i, l.ID())
}

// ScanLayers scans the layers of im named by idx into out (indexed like
// im.Layers), two at a time.
func (s *Scanner) ScanLayers(ctx context.Context, im *image.Image, idx []int, out []*LayerScan) error {
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(2)
	// Top-down: the layers most likely to hold the current databases first.
	for k := len(idx) - 1; k >= 0; k-- {
		i := idx[k]
		g.Go(func() error {
			sc, err := s.ScanLayer(ctx, im, i)
			if err != nil {
				return err
			}
			out[i] = sc
			return nil
		})
	}
	return g.Wait()
}

// known returns the result for a layer ID from memory or the cache, or nil.
// It says nothing of whether a given layer holds that ID.
func (s *Scanner) known(id string) *LayerScan {
	s.mu.Lock()
	sc := s.scans[id]
	s.mu.Unlock()
	if sc != nil {
		return sc
	}
	if sc = s.opts.Cache.get(id); sc == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if old := s.scans[id]; old != nil {
		return old
	}
	s.scans[id] = sc
	return sc
}

// Verified reports whether layer i of im is known to hold the ID its
// config claims, without reading it: this Scanner read it (or its blob)
// and checked it, or a cache entry for the ID lists its blob. A docker
// archive layer that no blob digest names is known only once read here.
func (s *Scanner) Verified(im *image.Image, i int) bool {
	key := pairKey(im, i)
	s.mu.Lock()
	ok := s.ok[key]
	s.mu.Unlock()
	if ok {
		return true
	}
	l := im.Layers[i]
	blob, id := l.Blob(), l.ID()
	if blob == "" {
		return false
	}
	if sc := s.opts.Cache.get(id); sc != nil && slices.Contains(sc.Blobs, blob) {
		s.mu.Lock()
		s.ok[key] = true
		if s.scans[id] == nil {
			s.scans[id] = sc
		}
		s.mu.Unlock()
		return true
	}
	var fl FileList
	if s.opts.Cache.getNS(filesVersion, id, &fl) && fl.Digest == id && slices.Contains(fl.Blobs, blob) {
		s.mu.Lock()
		s.ok[key] = true
		s.mu.Unlock()
		return true
	}
	return false
}

// Cached returns the result for layer i of im if it is known without
// reading the layer: the layer is Verified and its ID's result is
// remembered or cached.
func (s *Scanner) Cached(im *image.Image, i int) *LayerScan {
	if !s.Verified(im, i) {
		return nil
	}
	return s.known(im.Layers[i].ID())
}

// ScanLayer returns the result for layer i of im, reading it unless it is
// Cached. A layer whose ID has a result but which is not known to hold
// that ID is read only to check it.
func (s *Scanner) ScanLayer(ctx context.Context, im *image.Image, i int) (*LayerScan, error) {
	if sc := s.Cached(im, i); sc != nil {
		return sc, nil
	}
	key := pairKey(im, i)
	s.mu.Lock()
	f := s.flight[key]
	if f == nil {
		f = &flight{done: make(chan struct{})}
		s.flight[key] = f
		s.mu.Unlock()
		f.scan, f.err = s.read(ctx, im, i)
		s.mu.Lock()
		delete(s.flight, key)
		s.mu.Unlock()
		close(f.done)
	} else {
		s.mu.Unlock()
		select {
		case <-f.done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return f.scan, f.err
}

func (s *Scanner) read(ctx context.Context, im *image.Image, i int) (*LayerScan, error) {
	l := im.Layers[i]
	if sc := s.known(l.ID()); sc != nil {
		// What the ID holds is known; that this layer holds it is not.
		if err := s.check(ctx, im, i); err != nil {
			return nil, err
		}
		s.verified(im, i, sc)
		return sc, nil
	}
	s.log.Debug("reading layer", "index", i, "digest", l.Digest, "size", l.Size)
	sc, links, err := s.pass(ctx, im, i, nil)
	if err != nil {
		return nil, err
	}
	if len(links) > 0 {
		// A database path is a hardlink to a file earlier in the same tar
		// that was not known to matter then: read the layer again for it.
		s.log.Debug("second pass for hardlinked database", "index", i)
		sc, _, err = s.pass(ctx, im, i, links)
		if err != nil {
			return nil, err
		}
	}
	// Filed under the ID: OpenLayer checked the tar against it.
	sc.Digest = l.ID()
	s.verified(im, i, sc)
	return sc, nil
}

// verified records that layer i of im was read and holds its ID, with the
// result sc for that ID (nil if none was made): remembered here, and when
// the layer has a blob digest, listed with the cache entry.
func (s *Scanner) verified(im *image.Image, i int, sc *LayerScan) {
	l := im.Layers[i]
	id, blob := l.ID(), l.Blob()
	s.mu.Lock()
	s.ok[pairKey(im, i)] = true
	if sc != nil && s.scans[id] == nil {
		s.scans[id] = sc
	}
	s.mu.Unlock()
	if sc == nil || sc.limited || s.opts.Cache == nil {
		return
	}
	s.cacheMu.Lock()
	defer s.cacheMu.Unlock()
	if cached := s.opts.Cache.get(id); cached != nil {
		if blob == "" || slices.Contains(cached.Blobs, blob) {
			return
		}
		sc = cached
	}
	entry := *sc
	entry.Blobs = withBlob(sc.Blobs, blob)
	if err := s.opts.Cache.put(&entry); err != nil {
		s.log.Debug("cache write failed", "err", err)
	}
}

// check reads layer i of im to its end only to check it against its
// digests.
func (s *Scanner) check(ctx context.Context, im *image.Image, i int) error {
	l := im.Layers[i]
	s.log.Debug("checking layer", "index", i, "digest", l.Digest, "size", l.Size)
	lr, err := im.OpenLayer(ctx, i)
	if err != nil {
		return err
	}
	lr.SetLimit(s.lim.MaxLayerBytes)
	var r io.Reader = lr
	if s.opts.Progress != nil {
		r = &progressReader{r: lr, lr: lr, fn: s.opts.Progress}
	}
	if _, err := io.Copy(io.Discard, r); err != nil {
		lr.Abort()
		return fmt.Errorf("layer %d (%s) of %s: %w", i, l.Digest, im.Name, asLimit(err))
	}
	if err := lr.Close(); err != nil {
		return fmt.Errorf("layer %d (%s) of %s: %w", i, l.Digest, im.Name, asLimit(err))
	}
	if s.opts.Progress != nil {
		s.opts.Progress(l, lr.Stored(), l.Size)
	}
	return nil
}

func (s *Scanner) pass(ctx context.Context, im *image.Image, i int, keep map[string][]string) (*LayerScan, map[string][]string, error) {
	l := im.Layers[i]
	lr, err := im.OpenLayer(ctx, i)
	if err != nil {
		return nil, nil, err
	}
	// Close decompresses what follows the tar's end to check the DiffID:
	// the decompression limit covers that too.
	lr.SetLimit(s.lim.MaxLayerBytes)
	var r io.Reader = lr
	if s.opts.Progress != nil {
		r = &progressReader{r: lr, lr: lr, fn: s.opts.Progress}
	}
	sc, links, err := scanTar(ctx, r, s.lim, keep)
	if err != nil {
		// Draining a layer that broke a limit could mean expanding the
		// whole decompression bomb; it is refused either way.
		lr.Abort()
		return nil, nil, fmt.Errorf("layer %d (%s) of %s: %w", i, l.Digest, im.Name, err)
	}
	// Close checks the digest over the whole blob, including what the tar
	// reader did not need: nothing read from a mismatching blob is used.
	if err := lr.Close(); err != nil {
		return nil, nil, fmt.Errorf("layer %d (%s) of %s: %w", i, l.Digest, im.Name, asLimit(err))
	}
	if s.opts.Progress != nil {
		s.opts.Progress(l, lr.Stored(), l.Size)
	}
	return sc, links, nil
}

// asLimit marks a layer that decompressed past the reader's limit as a
// broken limit, like one the tar walk caught.
func asLimit(err error) error {
	if errors.Is(err, image.ErrTooLarge) && !errors.Is(err, ErrLimit) {
		return fmt.Errorf("%w: %w", ErrLimit, err)
	}
	return err
}

type progressReader struct {
	r    io.Reader
	lr   *image.LayerReader
	fn   func(image.Layer, int64, int64)
	last int64
}

func (p *progressReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	if st := p.lr.Stored(); st-p.last >= 1<<20 {
		p.last = st
		p.fn(p.lr.Layer(), st, p.lr.Layer().Size)
	}
	return n, err
}
