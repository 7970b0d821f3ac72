package inventory

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"path"
	"strings"
)

// Limits bound what one layer may cost. Zero fields take the defaults.
type Limits struct {
	// MaxEntries is the most tar entries a layer may hold (default 4,000,000;
	// the largest real layers hold a few hundred thousand).
	MaxEntries int64
	// MaxLayerBytes is the most decompressed bytes a layer may expand to
	// (default 64 GiB), which stops decompression bombs.
	MaxLayerBytes int64
	// MaxDBBytes is the largest package database file read (default 512 MiB).
	MaxDBBytes int64
	// MaxPathBytes is the longest entry name or link target (default 4096,
	// Linux's PATH_MAX).
	MaxPathBytes int
	// MaxRecorded is the most whiteouts, opaque markers and database-path
	// entries kept per layer (default 1,000,000).
	MaxRecorded int
}

// DefaultLimits are the limits used when none are given.
var DefaultLimits = Limits{
	MaxEntries:    4_000_000,
	MaxLayerBytes: 64 << 30,
	MaxDBBytes:    512 << 20,
	MaxPathBytes:  4096,
	MaxRecorded:   1_000_000,
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits
	if l.MaxEntries > 0 {
		d.MaxEntries = l.MaxEntries
	}
	if l.MaxLayerBytes > 0 {
		d.MaxLayerBytes = l.MaxLayerBytes
	}
	if l.MaxDBBytes > 0 {
		d.MaxDBBytes = l.MaxDBBytes
	}
	if l.MaxPathBytes > 0 {
		d.MaxPathBytes = l.MaxPathBytes
	}
	if l.MaxRecorded > 0 {
		d.MaxRecorded = l.MaxRecorded
	}
	return d
}

// ErrLimit is returned (wrapped) when a layer exceeds a limit.
var ErrLimit = errors.New("limit exceeded")

// ErrUnsafePath is returned (wrapped) for a tar entry whose name climbs out
// of the root with "..".
var ErrUnsafePath = errors.New("path escapes the image root")

// cleanPath turns a tar entry name into a root-relative path: leading "/"
// and "./" go (absolute names are relative to the root); ".." that would
// leave the root is an error, as container runtimes refuse such layers.
func cleanPath(name string) (string, error) {
	n := strings.TrimLeft(name, "/")
	c := path.Clean(n)
	if c == ".." || strings.HasPrefix(c, "../") {
		return "", fmt.Errorf("%q: %w", name, ErrUnsafePath)
	}
	c = strings.TrimLeft(c, "/")
	if c == "." {
		c = ""
	}
	return c, nil
}

// entryPath applies the limits every walk over a layer shares to the n-th
// tar entry (1-based) and returns its root-relative path, "" for the root
// itself. It looks at the context only every 4096 entries: a layer of tiny
// files would otherwise spend its time there.
func entryPath(ctx context.Context, hdr *tar.Header, n int64, lim Limits) (string, error) {
	if n > lim.MaxEntries {
		return "", fmt.Errorf("more than %d entries: %w", lim.MaxEntries, ErrLimit)
	}
	if n&0xfff == 0 {
		if err := ctx.Err(); err != nil {
			return "", err
		}
	}
	if len(hdr.Name) > lim.MaxPathBytes || len(hdr.Linkname) > lim.MaxPathBytes {
		return "", fmt.Errorf("entry %d: name or link target longer than %d bytes: %w", n, lim.MaxPathBytes, ErrLimit)
	}
	p, err := cleanPath(hdr.Name)
	if err != nil {
		return "", fmt.Errorf("entry %d: %w", n, err)
	}
	return p, nil
}

// whiteoutKind is what a layer entry named by the whiteout convention
// (OCI image spec, "Whiteouts") does to the layers below it.
type whiteoutKind int

const (
	notWhiteout whiteoutKind = iota // an ordinary entry
	opaqueDir                       // .wh..wh..opq: the directory's lower contents are hidden
	hiddenPath                      // .wh.NAME: NAME is hidden
	aufsMeta                        // other .wh..wh.* names: aufs bookkeeping, hides nothing
)

// whiteout classifies an entry path and returns what it applies to: the
// directory for opaqueDir, the hidden path for hiddenPath.
func whiteout(p string) (whiteoutKind, string) {
	dir, base := path.Dir(p), path.Base(p)
	if dir == "." {
		dir = ""
	}
	switch {
	case !strings.HasPrefix(base, ".wh."):
		return notWhiteout, ""
	case base == ".wh..wh..opq":
		return opaqueDir, dir
	case strings.HasPrefix(base, ".wh..wh."):
		return aufsMeta, ""
	}
	return hiddenPath, path.Join(dir, strings.TrimPrefix(base, ".wh."))
}

// countingReader fails once more than max bytes were read.
type countingReader struct {
	r   io.Reader
	n   int64
	max int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	if c.n > c.max {
		return n, fmt.Errorf("layer expands beyond %d bytes: %w", c.max, ErrLimit)
	}
	return n, err
}

// walkState is the per-pass state of a layer walk.
type walkState struct {
	ctx  context.Context
	lim  Limits
	scan *LayerScan
	// regular remembers (hashed) the regular files seen, to tell a hardlink
	// to a file of this layer from one to a lower layer.
	regular map[uint64]bool
	seed    maphash.Seed
	// keepLink maps hardlink targets to read on a second pass to the
	// database paths linking to them.
	keepLink map[string][]string
	// kept holds, on a second pass, the parsed hardlink targets.
	kept map[string]*DBFile
}

// ScanTar reads one layer's tar stream and records what matters to an
// inventory. It is exported for fuzzing and tools; Scanner.ScanLayer adds
// caching and digest checks around it.
func ScanTar(ctx context.Context, r io.Reader, lim Limits) (*LayerScan, error) {
	s, _, err := scanTar(ctx, r, lim.withDefaults(), nil)
	return s, err
}

// scanTar walks a tar. keep (second pass only) names hardlink targets to
// parse on behalf of the database paths that link to them. It returns the
// hardlinks whose targets are regular files of this layer that were not
// read, for a second pass.
func scanTar(ctx context.Context, r io.Reader, lim Limits, keep map[string][]string) (*LayerScan, map[string][]string, error) {
	cr := &countingReader{r: r, max: lim.MaxLayerBytes}
	tr := tar.NewReader(cr)
	st := &walkState{ctx: ctx, lim: lim, scan: &LayerScan{Entries: map[string]*Entry{}}, regular: map[uint64]bool{}, seed: maphash.MakeSeed()}
	s := st.scan
	recordedN := 0
	record := func() error {
		recordedN++
		if recordedN > lim.MaxRecorded {
			return fmt.Errorf("more than %d whiteouts and database entries: %w", lim.MaxRecorded, ErrLimit)
		}
		return nil
	}
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, nil, fmt.Errorf("reading tar entry %d: %w", s.Count+1, err)
		}
		s.Count++
		p, err := entryPath(ctx, hdr, s.Count, lim)
		if err != nil {
			return nil, nil, err
		}
		if p == "" {
			continue
		}
		if kind, target := whiteout(p); kind != notWhiteout {
			switch kind {
			case opaqueDir:
				if err := record(); err != nil {
					return nil, nil, err
				}
				s.Opaque = append(s.Opaque, target)
			case hiddenPath:
				if err := record(); err != nil {
					return nil, nil, err
				}
				s.Whiteouts = append(s.Whiteouts, target)
			}
			continue
		}
		if links, ok := keep[p]; ok && (hdr.Typeflag == tar.TypeReg || hdr.Typeflag == tar.TypeRegA) {
			if st.kept == nil {
				st.kept = map[string]*DBFile{}
			}
			db, err := st.readDB(tr, hdr, dbKind(links[0]), links[0])
			if err != nil {
				return nil, nil, err
			}
			st.kept[p] = db
		}
		kind := dbKind(p)
		switch hdr.Typeflag {
		case tar.TypeReg, tar.TypeRegA:
			if kind == "" {
				st.regular[maphash.String(st.seed, p)] = true
				if recorded(p) {
					// A plain file where a directory on the way to a
					// database would be: it hides what lower layers have
					// there.
					if err := record(); err != nil {
						return nil, nil, err
					}
					s.Entries[p] = &Entry{Type: entryFile}
				}
				continue
			}
			if err := record(); err != nil {
				return nil, nil, err
			}
			db, err := st.readDB(tr, hdr, kind, p)
			if err != nil {
				return nil, nil, err
			}
			s.Entries[p] = &Entry{Type: entryFile, DB: db}
		case tar.TypeSymlink:
			if !recorded(p) {
				continue
			}
			if err := record(); err != nil {
				return nil, nil, err
			}
			s.Entries[p] = &Entry{Type: entrySymlink, Target: hdr.Linkname}
		case tar.TypeLink:
			if kind == "" {
				continue
			}
			if err := record(); err != nil {
				return nil, nil, err
			}
			t, err := cleanPath(hdr.Linkname)
			if err != nil {
				return nil, nil, fmt.Errorf("entry %d (%s): link %w", s.Count, p, err)
			}
			e := &Entry{Type: entryHardlink, Target: t}
			if te := s.Entries[t]; te != nil && te.Type == entryFile && te.DB != nil && dbKind(t) == kind {
				e.DB = te.DB
			} else if st.regular[maphash.String(st.seed, t)] {
				if st.keepLink == nil {
					st.keepLink = map[string][]string{}
				}
				st.keepLink[t] = append(st.keepLink[t], p)
			}
			if db := st.kept[t]; db != nil && e.DB == nil {
				e.DB = db
			}
			s.Entries[p] = e
		case tar.TypeDir:
			if recorded(p) {
				if err := record(); err != nil {
					return nil, nil, err
				}
				s.Entries[p] = &Entry{Type: entryDir}
			}
		}
	}
	s.Bytes = cr.n
	return s, st.keepLink, nil
}

// readDB reads and parses a database file of a known kind.
func (st *walkState) readDB(r io.Reader, hdr *tar.Header, kind, p string) (*DBFile, error) {
	db := &DBFile{Kind: kind, Size: hdr.Size}
	if hdr.Size > st.lim.MaxDBBytes {
		db.Err = fmt.Sprintf("%d bytes, more than the %d-byte limit: %v", hdr.Size, st.lim.MaxDBBytes, ErrLimit)
		st.scan.limited = true
		return db, nil
	}
	data, err := io.ReadAll(io.LimitReader(r, hdr.Size))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", p, err)
	}
	if int64(len(data)) != hdr.Size {
		return nil, fmt.Errorf("reading %s: %w (%d of %d bytes)", p, io.ErrUnexpectedEOF, len(data), hdr.Size)
	}
	parseDB(st.ctx, db, "/"+p, data)
	return db, nil
}

// parseDB fills db from a file's bytes.
func parseDB(ctx context.Context, db *DBFile, name string, data []byte) {
	var err error
	switch db.Kind {
	case kindAPK:
		db.Packages, err = ParseAPKInstalled(name, data)
	case kindDpkg:
		db.Packages, err = ParseDpkgStatus(name, data)
	case kindRPMSQLite:
		db.Packages, err = ParseRPMSQLite(ctx, name, data)
	case kindOSRelease:
		db.OS, err = ParseOSRelease(name, data)
	case kindRPMBDB:
		db.Packages, err = ParseRPMBerkeleyDB(name, data)
	case kindRPMNDB:
		db.Packages, err = ParseRPMNDB(name, data)
	}
	if err != nil {
		db.Err = err.Error()
	}
}
