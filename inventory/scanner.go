package inventory

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/stet-dev/stet/image"
)

// Scanner reads layers into LayerScans, once per layer ID: results are
// remembered for the Scanner's lifetime (so a layer shared by two images is
// read once, even when one is a registry's and the other an archive's) and,
// with a Cache, across runs.
type Scanner struct {
	opts Options
	lim  Limits
	log  *slog.Logger

	mu   sync.Mutex
	memo map[string]*memoEntry
}

type memoEntry struct {
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
	return &Scanner{opts: opts, lim: opts.Limits.withDefaults(), log: log, memo: map[string]*memoEntry{}}
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

// Cached returns the result for a layer if it is already known (remembered
// or in the cache) without reading the layer.
func (s *Scanner) Cached(l image.Layer) *LayerScan {
	id := l.ID()
	s.mu.Lock()
	e := s.memo[id]
	s.mu.Unlock()
	if e != nil {
		select {
		case <-e.done:
			if e.err == nil {
				return e.scan
			}
		default:
		}
		return nil
	}
	if sc := s.opts.Cache.get(id); sc != nil {
		s.mu.Lock()
		if s.memo[id] == nil {
			d := make(chan struct{})
			close(d)
			s.memo[id] = &memoEntry{done: d, scan: sc}
		}
		s.mu.Unlock()
		return sc
	}
	return nil
}

// ScanLayer returns the result for layer i of im, reading it only if neither
// this Scanner nor the cache knows it.
func (s *Scanner) ScanLayer(ctx context.Context, im *image.Image, i int) (*LayerScan, error) {
	l := im.Layers[i]
	if sc := s.Cached(l); sc != nil {
		return sc, nil
	}
	id := l.ID()
	s.mu.Lock()
	e := s.memo[id]
	if e == nil {
		e = &memoEntry{done: make(chan struct{})}
		s.memo[id] = e
		s.mu.Unlock()
		e.scan, e.err = s.read(ctx, im, i)
		if e.err != nil {
			// Forget failures so that a later call may try again.
			s.mu.Lock()
			delete(s.memo, id)
			s.mu.Unlock()
		}
		close(e.done)
	} else {
		s.mu.Unlock()
		select {
		case <-e.done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return e.scan, e.err
}

func (s *Scanner) read(ctx context.Context, im *image.Image, i int) (*LayerScan, error) {
	l := im.Layers[i]
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
	if !sc.limited {
		if err := s.opts.Cache.put(sc); err != nil {
			s.log.Debug("cache write failed", "err", err)
		}
	}
	return sc, nil
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
