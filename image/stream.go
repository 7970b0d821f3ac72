package image

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"strings"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// zstdMaxWindow bounds the memory a zstd frame may ask for (the format lets
// a frame claim up to 3.75 TB of window).
const zstdMaxWindow = 128 << 20

// ErrTooLarge is returned (wrapped) when a layer decompresses to more bytes
// than the limit set with LayerReader.SetLimit.
var ErrTooLarge = errors.New("layer decompresses to more than the limit")

// LayerReader streams a layer's tar, decompressed, from its stored bytes.
// Every byte read is hashed: the decompressed tar against the layer's DiffID
// (whatever the source, so that what is read is the content the layer's ID
// names), and the stored bytes against their blob digest where the source
// has one. Close reads whatever the caller left unread and fails with
// ErrDigestMismatch if the layer is not what its digests say, so a caller
// that acts on what it read must check Close's error.
type LayerReader struct {
	layer  Layer
	raw    io.ReadCloser
	stored *countingHash // the stored bytes; hashed only when checked here
	plain  *countingHash // the decompressed bytes, checked against the DiffID
	tar    *capReader
	dec    io.Closer
	closed bool
	err    error
}

// SetLimit bounds the decompressed bytes of the layer, counting those Close
// reads to check the DiffID after the tar's end: past n, reading and Close
// fail with ErrTooLarge. 0 (the default) means no limit.
func (r *LayerReader) SetLimit(n int64) { r.tar.max = n }

// capReader counts what it passes and fails once past max.
type capReader struct {
	r      io.Reader
	n, max int64
}

func (c *capReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	if c.max > 0 && c.n > c.max {
		return n, fmt.Errorf("%w (%d bytes)", ErrTooLarge, c.max)
	}
	return n, err
}

// Stored returns the number of stored (compressed) bytes read so far.
func (r *LayerReader) Stored() int64 { return r.stored.n }

// Layer returns the layer being read.
func (r *LayerReader) Layer() Layer { return r.layer }

// OpenLayer starts streaming layer i. The caller must Close the reader.
func (im *Image) OpenLayer(ctx context.Context, i int) (*LayerReader, error) {
	if i < 0 || i >= len(im.Layers) {
		return nil, fmt.Errorf("layer %d out of range (image has %d)", i, len(im.Layers))
	}
	l := im.Layers[i]
	raw, err := im.blobs.open(ctx, l)
	if err != nil {
		return nil, fmt.Errorf("opening layer %d (%s) of %s: %w", i, ShortDigest(l.Digest), im.Name, err)
	}
	r := &LayerReader{layer: l, raw: raw}
	check := im.blobs.storedCheck(l)
	if check == storedHashed {
		r.stored, err = newCountingHash(ctxReader{ctx, raw}, l.Digest)
		if err != nil {
			raw.Close()
			return nil, err
		}
	} else {
		r.stored = &countingHash{r: ctxReader{ctx, raw}}
	}
	br := bufio.NewReaderSize(r.stored, 1<<16)
	magic, _ := br.Peek(4)
	var plain io.Reader
	switch {
	case len(magic) >= 2 && magic[0] == 0x1f && magic[1] == 0x8b:
		gz, err := gzip.NewReader(br)
		if err != nil {
			raw.Close()
			return nil, fmt.Errorf("layer %d (%s): gzip: %w", i, ShortDigest(l.Digest), err)
		}
		gz.Multistream(true)
		plain, r.dec = gz, gz
	case len(magic) == 4 && magic[0] == 0x28 && magic[1] == 0xb5 && magic[2] == 0x2f && magic[3] == 0xfd:
		zr, err := zstd.NewReader(br, zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(true), zstd.WithDecoderMaxWindow(zstdMaxWindow))
		if err != nil {
			raw.Close()
			return nil, fmt.Errorf("layer %d (%s): zstd: %w", i, ShortDigest(l.Digest), err)
		}
		plain, r.dec = zr, zstdCloser{zr}
	default:
		plain = br
	}
	switch {
	case r.dec == nil && check != storedUnchecked && l.DiffID == l.Digest:
		// An uncompressed blob whose digest is checked already is its
		// DiffID: hashing it twice would only cost time.
	case check != storedUnchecked && !strings.HasPrefix(l.DiffID, "sha256:"):
		// No DiffID to check (ID falls back to the checked blob digest).
	default:
		r.plain, err = newCountingHash(plain, l.DiffID)
		if err != nil {
			raw.Close()
			return nil, err
		}
		plain = r.plain
	}
	r.tar = &capReader{r: plain}
	return r, nil
}

// Read reads decompressed tar bytes.
func (r *LayerReader) Read(p []byte) (int, error) {
	if r.err != nil {
		return 0, r.err
	}
	n, err := r.tar.Read(p)
	if err != nil && !errors.Is(err, io.EOF) {
		// Bytes that do not decompress may simply not be the layer: say so
		// when the digest shows it.
		if errors.Is(err, ErrTooLarge) {
			r.err = fmt.Errorf("reading layer %s: %w", ShortDigest(r.layer.Digest), err)
			return n, r.err
		}
		if merr := r.mismatch(); merr != nil {
			err = merr
		}
		r.err = fmt.Errorf("reading layer %s: %w", ShortDigest(r.layer.Digest), err)
		return n, r.err
	}
	return n, err
}

// mismatch drains the stored bytes and returns an ErrDigestMismatch error if
// they do not match the layer's digest.
func (r *LayerReader) mismatch() error {
	_, err := io.Copy(io.Discard, r.stored)
	if err != nil {
		if strings.Contains(err.Error(), "error verifying") {
			return fmt.Errorf("%w: %v", ErrDigestMismatch, err)
		}
		return nil
	}
	return r.stored.check(r.layer.Index, "")
}

// Close drains the unread rest of the layer through the digest checks and
// reports a mismatch. Only the stored bytes are drained when no DiffID is
// checked, which skips decompressing what nobody needs.
func (r *LayerReader) Close() error {
	if r.closed {
		return r.err
	}
	r.closed = true
	defer r.raw.Close()
	if r.dec != nil {
		defer r.dec.Close()
	}
	if r.err != nil {
		return r.err
	}
	var err error
	if r.plain != nil {
		_, err = io.Copy(io.Discard, r.tar)
		if err == nil {
			// The decompressor may stop at the end of its stream: what
			// follows in the blob is still part of the stored digest.
			_, err = io.Copy(io.Discard, r.stored)
		}
	} else {
		_, err = io.Copy(io.Discard, r.stored)
	}
	if err != nil {
		if strings.Contains(err.Error(), "error verifying") {
			// go-containerregistry's check of a registry blob.
			err = fmt.Errorf("%w: %v", ErrDigestMismatch, err)
		}
		r.err = fmt.Errorf("reading layer %s: %w", ShortDigest(r.layer.Digest), err)
		return r.err
	}
	if err := r.stored.check(r.layer.Index, ""); err != nil {
		r.err = err
		return err
	}
	if r.plain != nil {
		r.err = r.plain.check(r.layer.Index, "uncompressed ")
	}
	return r.err
}

// Abort closes the reader without reading the rest or checking the digest,
// for a caller that already failed and will not use what it read.
func (r *LayerReader) Abort() {
	if r.closed {
		return
	}
	r.closed = true
	if r.dec != nil {
		r.dec.Close()
	}
	r.raw.Close()
}

type countingHash struct {
	r    io.Reader
	h    hash.Hash
	n    int64
	want string
}

func newCountingHash(r io.Reader, want string) (*countingHash, error) {
	if !strings.HasPrefix(want, "sha256:") {
		return nil, fmt.Errorf("unsupported digest algorithm in %q", want)
	}
	return &countingHash{r: r, h: sha256.New(), want: want}, nil
}

func (c *countingHash) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if c.h != nil {
		c.h.Write(p[:n])
	}
	c.n += int64(n)
	return n, err
}

func (c *countingHash) sum() string { return "sha256:" + hex.EncodeToString(c.h.Sum(nil)) }

// check returns an ErrDigestMismatch error when the bytes hashed so far are
// not what they should be; nil when nothing was hashed.
func (c *countingHash) check(index int, what string) error {
	if c.h == nil {
		return nil
	}
	if got := c.sum(); got != c.want {
		return fmt.Errorf("layer %d: %scontent is %s, want %s: %w", index, what, ShortDigest(got), ShortDigest(c.want), ErrDigestMismatch)
	}
	return nil
}

type zstdCloser struct{ d *zstd.Decoder }

func (z zstdCloser) Close() error { z.d.Close(); return nil }

// ctxReader stops a stream when its context ends.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
