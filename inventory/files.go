package inventory

import (
	"archive/tar"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/stet-dev/stet/image"
)

// filesVersion names the cache namespace of per-layer file lists (v2: keyed
// by layer ID; v3: with the blobs that hold it; see cacheVersion).
const filesVersion = "files-v3"

// FileInfo is one file of a layer as the file-level diff sees it.
type FileInfo struct {
	Path string `json:"path"`
	// Type is "file", "dir", "symlink", "hardlink" or "other".
	Type string `json:"type"`
	Size int64  `json:"size,omitempty"`
	Mode string `json:"mode"`
	UID  int    `json:"uid"`
	GID  int    `json:"gid"`
	// Digest is the sha256 of a regular file's content.
	Digest string `json:"digest,omitempty"`
	// Link is a symlink's or hardlink's target.
	Link string `json:"link,omitempty"`
}

// FileList is every file of one layer, with its whiteouts and opaque
// directories.
type FileList struct {
	// Digest is the ID of the layer listed (image.Layer.ID).
	Digest string `json:"digest"`
	// Blobs are the blob digests (image.Layer.Blob) read and found to
	// hold the layer with this ID.
	Blobs     []string   `json:"blobs,omitempty"`
	Files     []FileInfo `json:"files"`
	Whiteouts []string   `json:"whiteouts,omitempty"`
	Opaque    []string   `json:"opaque,omitempty"`
}

// ListTar reads a layer tar into a FileList, hashing each regular file.
func ListTar(ctx context.Context, r io.Reader, lim Limits) (*FileList, error) {
	lim = lim.withDefaults()
	cr := &countingReader{r: r, max: lim.MaxLayerBytes}
	tr := tar.NewReader(cr)
	fl := &FileList{}
	h := sha256.New()
	var n int64
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return fl, nil
		}
		if err != nil {
			return nil, fmt.Errorf("reading tar entry %d: %w", n+1, err)
		}
		n++
		p, err := entryPath(ctx, hdr, n, lim)
		if err != nil {
			return nil, err
		}
		if p == "" {
			continue
		}
		if kind, target := whiteout(p); kind != notWhiteout {
			switch kind {
			case opaqueDir:
				fl.Opaque = append(fl.Opaque, target)
			case hiddenPath:
				fl.Whiteouts = append(fl.Whiteouts, target)
			}
			continue
		}
		fi := FileInfo{Path: p, Mode: fmt.Sprintf("%04o", hdr.Mode&0o7777), UID: hdr.Uid, GID: hdr.Gid}
		switch hdr.Typeflag {
		case tar.TypeReg, tar.TypeRegA:
			fi.Type, fi.Size = "file", hdr.Size
			h.Reset()
			if _, err := io.Copy(h, tr); err != nil {
				return nil, fmt.Errorf("reading %s: %w", p, err)
			}
			fi.Digest = "sha256:" + hex.EncodeToString(h.Sum(nil))
		case tar.TypeDir:
			fi.Type = "dir"
		case tar.TypeSymlink:
			fi.Type, fi.Link = "symlink", hdr.Linkname
		case tar.TypeLink:
			fi.Type, fi.Link = "hardlink", hdr.Linkname
		default:
			fi.Type = "other"
		}
		fl.Files = append(fl.Files, fi)
	}
}

// FileList returns the file list of layer i of im, from the cache when it
// is there (under the layer's ID, whichever source filed it) and the layer
// is known to hold that ID: its blob is listed with an entry, or this
// Scanner checked it. Otherwise the layer is read, which checks it.
func (s *Scanner) FileList(ctx context.Context, im *image.Image, i int) (*FileList, error) {
	l := im.Layers[i]
	id, blob := l.ID(), l.Blob()
	var fl FileList
	if s.opts.Cache.getNS(filesVersion, id, &fl) && fl.Digest == id {
		if blob == "" || !slices.Contains(fl.Blobs, blob) {
			if !s.Verified(im, i) {
				if err := s.check(ctx, im, i); err != nil {
					return nil, err
				}
				s.verified(im, i, nil)
			}
			if blob != "" {
				s.addFileListBlob(id, &fl, blob)
			}
		}
		return &fl, nil
	}
	lr, err := im.OpenLayer(ctx, i)
	if err != nil {
		return nil, err
	}
	lr.SetLimit(s.lim.MaxLayerBytes)
	var r io.Reader = lr
	if s.opts.Progress != nil {
		r = &progressReader{r: lr, lr: lr, fn: s.opts.Progress}
	}
	got, err := ListTar(ctx, r, s.lim)
	if err != nil {
		lr.Abort()
		return nil, fmt.Errorf("layer %d (%s) of %s: %w", i, l.Digest, im.Name, err)
	}
	if err := lr.Close(); err != nil {
		return nil, fmt.Errorf("layer %d (%s) of %s: %w", i, l.Digest, im.Name, asLimit(err))
	}
	s.verified(im, i, nil)
	got.Digest = id
	s.addFileListBlob(id, got, blob)
	return got, nil
}

// addFileListBlob files fl under id with blob listed, keeping the blobs an
// entry written meanwhile (by another source of the layer) lists.
func (s *Scanner) addFileListBlob(id string, fl *FileList, blob string) {
	if s.opts.Cache == nil {
		return
	}
	s.cacheMu.Lock()
	defer s.cacheMu.Unlock()
	var cur FileList
	if s.opts.Cache.getNS(filesVersion, id, &cur) && cur.Digest == id {
		for _, b := range cur.Blobs {
			fl.Blobs = withBlob(fl.Blobs, b)
		}
	}
	fl.Blobs = withBlob(fl.Blobs, blob)
	if err := s.opts.Cache.putNS(filesVersion, id, fl); err != nil {
		s.log.Debug("cache write failed", "err", err)
	}
}

// MergeFiles applies file lists bottom-up with overlay rules and returns the
// files visible at the top, by path.
func MergeFiles(lists []*FileList) map[string]FileInfo {
	m := map[string]FileInfo{}
	deleteTree := func(dir string, self bool) {
		if self {
			delete(m, dir)
		}
		prefix := dir + "/"
		if dir == "" {
			prefix = ""
		}
		for p := range m {
			if strings.HasPrefix(p, prefix) {
				delete(m, p)
			}
		}
	}
	for _, fl := range lists {
		for _, o := range fl.Opaque {
			deleteTree(o, false)
		}
		for _, w := range fl.Whiteouts {
			deleteTree(w, true)
		}
		for _, f := range fl.Files {
			if old, ok := m[f.Path]; ok && old.Type == "dir" && f.Type != "dir" {
				deleteTree(f.Path, false)
			}
			m[f.Path] = f
		}
	}
	return m
}
