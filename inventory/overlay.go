package inventory

import (
	"fmt"
	"path"
	"sort"
	"strings"
)

// Entry types recorded for a layer.
const (
	entryFile     = "f"
	entrySymlink  = "l"
	entryHardlink = "h"
	entryDir      = "d"
)

// LayerScan is what one layer holds of interest: its package databases and
// os-release (already parsed), the symlinks and directories on the paths to
// them, and every whiteout and opaque marker. It depends only on the layer's
// uncompressed tar, which is what makes it cacheable by the layer's ID.
type LayerScan struct {
	// Digest is the ID of the layer scanned (image.Layer.ID).
	Digest string `json:"digest"`
	// Blobs are the blob digests (image.Layer.Blob) read and found to
	// hold the layer with this ID.
	Blobs []string `json:"blobs,omitempty"`
	// Entries by cleaned path (no leading slash); a later tar entry for the
	// same path replaces an earlier one, as extraction would.
	Entries map[string]*Entry `json:"entries,omitempty"`
	// Whiteouts are paths deleted from the layers below.
	Whiteouts []string `json:"whiteouts,omitempty"`
	// Opaque are directories whose lower-layer contents are hidden.
	Opaque []string `json:"opaque,omitempty"`
	// Entries counts every tar entry in the layer.
	Count int64 `json:"count"`
	// Bytes is the decompressed size of the layer's tar.
	Bytes int64 `json:"bytes"`

	// limited marks a result shaped by a limit (a database too large to
	// read): it depends on the limits, not only the layer, so it is not
	// cached.
	limited bool
}

// Entry is one recorded tar entry.
type Entry struct {
	Type   string `json:"t"`
	Target string `json:"l,omitempty"`
	// DB is the parsed content of a database or os-release file.
	DB *DBFile `json:"db,omitempty"`
}

// DBFile is a parsed package database or os-release file.
type DBFile struct {
	Kind     string    `json:"kind"`
	Size     int64     `json:"size"`
	Packages []Package `json:"packages,omitempty"`
	OS       *OS       `json:"os,omitempty"`
	// Err is why the file could not be read; the inventory reports it.
	Err string `json:"err,omitempty"`
}

// Database kinds (also Entry.DB.Kind).
const (
	kindAPK       = "apk"
	kindDpkg      = "dpkg"
	kindRPMSQLite = "rpm-sqlite"
	kindRPMBDB    = "rpm-bdb"
	kindRPMNDB    = "rpm-ndb"
	kindOSRelease = "os-release"
)

// The places package databases live, relative to the root.
var dbPaths = map[string]string{
	"lib/apk/db/installed":              kindAPK,
	"usr/lib/apk/db/installed":          kindAPK,
	"var/lib/dpkg/status":               kindDpkg,
	"var/lib/rpm/rpmdb.sqlite":          kindRPMSQLite,
	"var/lib/rpm/Packages":              kindRPMBDB,
	"var/lib/rpm/Packages.db":           kindRPMNDB,
	"usr/lib/sysimage/rpm/rpmdb.sqlite": kindRPMSQLite,
	"usr/lib/sysimage/rpm/Packages":     kindRPMBDB,
	"usr/lib/sysimage/rpm/Packages.db":  kindRPMNDB,
	"etc/os-release":                    kindOSRelease,
	"usr/lib/os-release":                kindOSRelease,
}

// statusD is distroless's one-file-per-package dpkg database.
const statusD = "var/lib/dpkg/status.d"

// dbOrder lists database paths in the order they are consulted.
var dbOrder = func() []string {
	var out []string
	for p := range dbPaths {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}()

// ancestors holds every directory on the way to a database path: symlinks
// and directories there decide where a database path leads.
var ancestors = func() map[string]bool {
	m := map[string]bool{statusD: true}
	for p := range dbPaths {
		for d := path.Dir(p); d != "."; d = path.Dir(d) {
			m[d] = true
		}
	}
	for d := path.Dir(statusD); d != "."; d = path.Dir(d) {
		m[d] = true
	}
	return m
}()

// dbKind says which database a (cleaned) path is, if any.
func dbKind(p string) string {
	if k, ok := dbPaths[p]; ok {
		return k
	}
	if path.Dir(p) == statusD {
		b := path.Base(p)
		// status.d also holds <pkg>.md5sums (and sometimes .list) files.
		if !strings.HasSuffix(b, ".md5sums") && !strings.HasSuffix(b, ".list") && !strings.HasPrefix(b, ".") {
			return kindDpkg
		}
	}
	return ""
}

// recorded reports whether a non-file entry at p matters.
func recorded(p string) bool {
	return ancestors[p] || dbKind(p) != ""
}

// view answers overlay lookups over a stack of layer scans, base first.
// Entry paths are canonicalised as extraction would place them: a tar entry
// "lib/apk/db/installed" over a lower layer's symlink lib -> usr/lib lands in
// usr/lib/apk/db/installed.
type view struct {
	scans []*LayerScan
	canon []*layerIndex
	// lazyAncestors treats unread layers as holding plain directories on
	// the way to a path (see snapshot's lazy).
	lazyAncestors bool
}

type layerIndex struct {
	entries   map[string]*Entry
	whiteouts map[string]bool
	opaque    map[string]bool
}

func newView(scans []*LayerScan) *view {
	v := &view{scans: scans, canon: make([]*layerIndex, len(scans))}
	for i, s := range scans {
		if s == nil {
			continue
		}
		li := &layerIndex{entries: make(map[string]*Entry, len(s.Entries)), whiteouts: map[string]bool{}, opaque: map[string]bool{}}
		place := func(p string) string {
			d := path.Dir(p)
			if d == "." || i == 0 {
				return p
			}
			need := map[int]bool{}
			_, _, at, err := v.resolve(d, i-1, need)
			if err != nil || len(need) > 0 || at == "" {
				return p
			}
			return path.Join(at, path.Base(p))
		}
		for p, e := range s.Entries {
			c := place(p)
			// An entry at its own canonical place wins over one that got
			// there through a symlink.
			if _, dup := li.entries[c]; !dup || c == p {
				li.entries[c] = e
			}
		}
		for _, w := range s.Whiteouts {
			li.whiteouts[place(w)] = true
		}
		for _, o := range s.Opaque {
			li.opaque[place(o)] = true
		}
		v.canon[i] = li
	}
	return v
}

// maxHops caps symlink resolution, as the kernel's ELOOP does.
const maxHops = 40

// find returns the topmost entry at exactly p among layers 0..top, honouring
// whiteouts and opaque directories. A layer that was not read is added to
// need and ends the search.
func (v *view) find(p string, top int, need map[int]bool) (*Entry, int) {
	for i := top; i >= 0; i-- {
		s := v.canon[i]
		if s == nil {
			need[i] = true
			return nil, -1
		}
		if e := s.entries[p]; e != nil {
			return e, i
		}
		if s.whiteouts[p] {
			return nil, -1
		}
		for d := path.Dir(p); d != "."; d = path.Dir(d) {
			if s.whiteouts[d] || s.opaque[d] {
				return nil, -1
			}
		}
	}
	return nil, -1
}

// resolve follows symlinks in p (and in p itself) as of layer top, returning
// the entry p leads to, its layer and its path.
func (v *view) resolve(p string, top int, need map[int]bool) (*Entry, int, string, error) {
	parts := strings.Split(p, "/")
	cur := ""
	hops := 0
	for i := 0; i < len(parts); i++ {
		next := path.Join(cur, parts[i])
		look := need
		if v.lazyAncestors && i < len(parts)-1 {
			look = map[int]bool{}
		}
		e, layer := v.find(next, top, look)
		if e == nil {
			if len(look) > 0 && i < len(parts)-1 && v.lazyAncestors {
				// An unread (shared) layer is taken to hold a plain
				// directory here; both images share that assumption.
				cur = next
				continue
			}
			if len(need) > 0 {
				return nil, -1, "", nil
			}
			// Directories are recorded only where they matter; an absent
			// record of an ancestor is not an absent directory.
			if i == len(parts)-1 {
				return nil, -1, next, nil
			}
			cur = next
			continue
		}
		switch e.Type {
		case entrySymlink:
			hops++
			if hops > maxHops {
				return nil, -1, "", fmt.Errorf("%s: more than %d symlinks", p, maxHops)
			}
			var target string
			if strings.HasPrefix(e.Target, "/") {
				target = e.Target
			} else {
				target = path.Join("/", cur, e.Target)
			}
			// ".." at the root stays at the root, as in a chroot.
			target = strings.TrimPrefix(path.Clean("/"+target), "/")
			rest := append(strings.Split(target, "/"), parts[i+1:]...)
			if target == "" {
				rest = parts[i+1:]
			}
			parts, cur, i = rest, "", -1
			continue
		case entryHardlink:
			if i == len(parts)-1 {
				if e.DB != nil {
					return e, layer, next, nil
				}
				// A hardlink to a file of a lower layer.
				hops++
				if hops > maxHops {
					return nil, -1, "", fmt.Errorf("%s: more than %d links", p, maxHops)
				}
				t := strings.TrimPrefix(path.Clean("/"+e.Target), "/")
				te, tl := v.find(t, layer-1, need)
				if te == nil || te.Type != entryFile {
					return nil, -1, next, nil
				}
				return te, tl, next, nil
			}
			return nil, -1, next, nil
		case entryFile:
			if i == len(parts)-1 {
				return e, layer, next, nil
			}
			return nil, -1, next, nil // a file where a directory should be
		}
		if i == len(parts)-1 {
			return nil, -1, next, nil // a directory, not a file
		}
		cur = next
	}
	return nil, -1, cur, nil
}

// touches reports whether layer i recorded anything that can change a view.
func (v *view) touches(i int) bool {
	s := v.scans[i]
	return s == nil || len(s.Entries) > 0 || len(s.Whiteouts) > 0 || len(s.Opaque) > 0
}

// foundDB is one database visible in a view.
type foundDB struct {
	kind, path string
	format     string
	layer      int
	pkgs       []Package
}

// snapshotResult is the view of the databases as of one layer.
type snapshotResult struct {
	dbs      []foundDB
	pkgs     map[string]Package
	os       *OS
	warnings []string
	unread   []UnreadPath
}

// UnreadPath is a database path whose lookup reached a layer that was not
// read.
type UnreadPath struct {
	Path  string
	Layer int
}

// snapshot collects the databases visible as of layer top. When strict, a
// visible database that could not be parsed is an error; otherwise (for the
// views below the top, used only for attribution) it is treated as absent.
//
// With lazy, a database path that leads into an unread layer does not make
// that layer needed: unread lists it instead, so that a diff can skip a
// shared layer that holds the same files for both images.
func (v *view) snapshot(top int, need map[int]bool, strict, lazy bool) (*snapshotResult, error) {
	r := &snapshotResult{pkgs: map[string]Package{}}
	v.lazyAncestors = lazy
	defer func() { v.lazyAncestors = false }()
	seen := map[*Entry]bool{}
	add := func(p string, e *Entry, layer int, at string) error {
		if e.DB == nil || seen[e] {
			return nil
		}
		seen[e] = true
		db := e.DB
		if db.Err != "" {
			if !strict {
				return nil
			}
			return fmt.Errorf("%s (layer %d): %s", at, layer, db.Err)
		}
		switch db.Kind {
		case kindOSRelease:
			if r.os == nil {
				r.os = db.OS
			}
			return nil
		}
		typ := map[string]string{kindAPK: TypeAPK, kindDpkg: TypeDeb, kindRPMSQLite: TypeRPM, kindRPMBDB: TypeRPM, kindRPMNDB: TypeRPM}[db.Kind]
		r.dbs = append(r.dbs, foundDB{kind: typ, path: at, layer: layer, pkgs: db.Packages, format: db.Kind})
		return nil
	}
	paths := append([]string(nil), dbOrder...)
	paths = append(paths, v.statusDNames(top)...)
	for _, p := range paths {
		want := need
		if lazy {
			want = map[int]bool{}
		}
		e, layer, at, err := v.resolve(p, top, want)
		if err != nil {
			return nil, err
		}
		if len(want) > 0 {
			if lazy {
				for i := range want {
					r.unread = append(r.unread, UnreadPath{Path: p, Layer: i})
				}
			}
			continue
		}
		if e == nil || e.DB == nil {
			if at != "" && at != p && dbKind(at) == "" {
				r.warnings = append(r.warnings, fmt.Sprintf("%s leads to %s, which is not read", p, at))
			}
			continue
		}
		if err := add(p, e, layer, at); err != nil {
			return nil, err
		}
	}
	// rpm reads one backend: after a conversion to SQLite, an old Berkeley DB
	// or ndb file left behind lists what it no longer has.
	hasSQLite := false
	for _, db := range r.dbs {
		hasSQLite = hasSQLite || db.format == kindRPMSQLite
	}
	kept := r.dbs[:0]
	for _, db := range r.dbs {
		if hasSQLite && (db.format == kindRPMBDB || db.format == kindRPMNDB) {
			r.warnings = append(r.warnings, fmt.Sprintf("%s (layer %d) ignored: rpmdb.sqlite is the current rpm database", db.path, db.layer))
			continue
		}
		kept = append(kept, db)
		for _, pk := range db.pkgs {
			r.pkgs[pk.Key()] = pk
		}
	}
	r.dbs = kept
	return r, nil
}

// statusDNames lists the files under status.d in layers 0..top.
func (v *view) statusDNames(top int) []string {
	set := map[string]bool{}
	for i := 0; i <= top; i++ {
		s := v.canon[i]
		if s == nil {
			continue
		}
		for p := range s.entries {
			if path.Dir(p) == statusD && dbKind(p) == kindDpkg {
				set[p] = true
			}
		}
	}
	return sortedKeys(set)
}
