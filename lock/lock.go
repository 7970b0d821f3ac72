// Package lock is stet.lock: the record of what every reference in a
// repository resolves to, and its verification. A lock holds one entry per
// unique reference (kind, name, tag and digest) with the places it is used;
// it is written deterministically so that re-locking an unchanged
// repository gives a byte-identical file. Verification compares the files
// with the lock (offline, STET010) and the lock with the registries and git
// hosts (STET011 tag moved, STET012 digest gone, STET013 action commit and
// version comment disagree).
package lock

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/stet-dev/stet/ref"
	"github.com/stet-dev/stet/scan"
)

// FileName is the lock's name at the repository root.
const FileName = "stet.lock"

// Version is the schema version this package reads and writes.
const Version = 1

// ErrFutureVersion is returned (wrapped in a *scan.Error) for a lock written
// by a newer stet with a schema this one does not know.
var ErrFutureVersion = errors.New("stet.lock was written by a newer stet")

// Lock is the content of stet.lock.
type Lock struct {
	Version    int     `json:"version"`
	References []Entry `json:"references"`
}

// Entry is one unique reference: what it resolved to and where it is used.
type Entry struct {
	Kind ref.Kind `json:"kind"`
	// Name is canonical: docker.io/library/nginx, actions/checkout.
	Name string `json:"name"`
	// Tag is the tag (for actions, the version) the digest was resolved
	// from; empty for a reference written by digest only.
	Tag string `json:"tag"`
	// Digest is the image digest or the action's commit.
	Digest string `json:"digest"`
	// MediaType and Platforms describe an image manifest (an index lists
	// several platforms). Empty for actions.
	MediaType string   `json:"mediaType,omitempty"`
	Platforms []string `json:"platforms,omitempty"`
	// ResolvedAt is when Digest was first recorded; it changes only when
	// the digest does.
	ResolvedAt time.Time `json:"resolvedAt"`
	Sites      []Site    `json:"sites"`

	// Line is the 1-based line of the entry in the lock file it was read
	// from (0 for a built lock), for messages.
	Line int `json:"-"`
}

// Site is a place a reference is used: a slash path relative to the
// lock's directory and a 1-based line.
type Site struct {
	File string `json:"file"`
	Line int    `json:"line"`
}

// Short is the entry as a person writes it: nginx:1-alpine,
// actions/checkout@v4, and name@digest for a reference without a tag.
func (e Entry) Short() string {
	if e.Tag == "" {
		return e.String()
	}
	return ref.Ref{Kind: e.Kind, Name: e.Name, Tag: e.Tag}.Short()
}

// String names the entry with its digest: nginx:1-alpine@sha256:…,
// actions/checkout@<commit>.
func (e Entry) String() string {
	if e.Kind == ref.Action {
		return e.Name + "@" + e.Digest
	}
	return ref.Ref{Kind: e.Kind, Name: e.Name, Tag: e.Tag}.Short() + "@" + e.Digest
}

// id is an entry's identity: two entries with the same id are one.
type id struct {
	kind              ref.Kind
	name, tag, digest string
}

func (e Entry) id() id { return id{e.Kind, e.Name, e.Tag, e.Digest} }

func compareEntries(a, b Entry) int {
	return cmp.Or(
		strings.Compare(string(a.Kind), string(b.Kind)),
		strings.Compare(a.Name, b.Name),
		strings.Compare(a.Tag, b.Tag),
		strings.Compare(a.Digest, b.Digest),
	)
}

func compareSites(a, b Site) int {
	return cmp.Or(strings.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line))
}

// Resolved is what a reference resolved to.
type Resolved struct {
	// Digest is the image digest or action commit.
	Digest string
	// MediaType and Platforms of an image manifest, when known.
	MediaType string
	Platforms []string
}

// Build makes a lock from the references found and what each resolved to.
// resolved is called for every lockable reference (not dynamic, with a
// name); returning false leaves the reference out. Sites take the
// references' File as given, so callers pass paths relative to the lock's
// directory. prev, when not nil, is the lock being replaced: an entry whose
// digest did not change keeps its ResolvedAt; now stamps the others.
func Build(prev *Lock, refs []ref.Ref, resolved func(ref.Ref) (Resolved, bool), now time.Time) *Lock {
	now = now.UTC().Truncate(time.Second)
	byID := map[id]*Entry{}
	for _, r := range refs {
		if r.Dynamic || r.Name == "" {
			continue
		}
		res, ok := resolved(r)
		if !ok || res.Digest == "" {
			continue
		}
		k := id{r.Kind, r.Name, r.Tag, res.Digest}
		e := byID[k]
		if e == nil {
			e = &Entry{Kind: r.Kind, Name: r.Name, Tag: r.Tag, Digest: res.Digest, ResolvedAt: now}
			byID[k] = e
		}
		if e.MediaType == "" {
			e.MediaType = res.MediaType
		}
		if len(e.Platforms) == 0 && len(res.Platforms) > 0 {
			e.Platforms = slices.Sorted(slices.Values(res.Platforms))
			e.Platforms = slices.Compact(e.Platforms)
		}
		e.Sites = append(e.Sites, Site{File: r.File, Line: r.Line})
	}
	if prev != nil {
		for _, p := range prev.References {
			if e := byID[p.id()]; e != nil && !p.ResolvedAt.IsZero() {
				e.ResolvedAt = p.ResolvedAt.UTC()
			}
		}
	}
	lk := &Lock{Version: Version, References: make([]Entry, 0, len(byID))}
	for _, e := range byID {
		slices.SortFunc(e.Sites, compareSites)
		e.Sites = slices.Compact(e.Sites)
		lk.References = append(lk.References, *e)
	}
	slices.SortFunc(lk.References, compareEntries)
	return lk
}

// Marshal encodes the lock: sorted, two-space indented, one site per line,
// newline-terminated. The same lock always gives the same bytes.
func (lk *Lock) Marshal() []byte {
	refs := slices.Clone(lk.References)
	slices.SortFunc(refs, compareEntries)
	var b bytes.Buffer
	fmt.Fprintf(&b, "{\n  \"version\": %d,\n  \"references\": [", lk.Version)
	for i, e := range refs {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("\n    {\n")
		field := func(k string, v any, last bool) {
			j, _ := json.Marshal(v)
			fmt.Fprintf(&b, "      %q: %s", k, j)
			if !last {
				b.WriteByte(',')
			}
			b.WriteByte('\n')
		}
		field("kind", e.Kind, false)
		field("name", e.Name, false)
		field("tag", e.Tag, false)
		field("digest", e.Digest, false)
		if e.MediaType != "" {
			field("mediaType", e.MediaType, false)
		}
		if len(e.Platforms) > 0 {
			ps := make([]string, len(e.Platforms))
			for i, p := range e.Platforms {
				j, _ := json.Marshal(p)
				ps[i] = string(j)
			}
			fmt.Fprintf(&b, "      \"platforms\": [%s],\n", strings.Join(ps, ", "))
		}
		field("resolvedAt", e.ResolvedAt.UTC().Format(time.RFC3339), false)
		sites := slices.Clone(e.Sites)
		slices.SortFunc(sites, compareSites)
		if len(sites) == 0 {
			b.WriteString("      \"sites\": []\n    }")
			continue
		}
		b.WriteString("      \"sites\": [")
		for j, s := range sites {
			if j > 0 {
				b.WriteByte(',')
			}
			f, _ := json.Marshal(s.File)
			fmt.Fprintf(&b, "\n        {\"file\": %s, \"line\": %d}", f, s.Line)
		}
		b.WriteString("\n      ]\n    }")
	}
	if len(refs) > 0 {
		b.WriteString("\n  ")
	}
	b.WriteString("]\n}\n")
	return b.Bytes()
}

// Parse reads a lock. path names the file in errors, which are *scan.Error
// with the line and column of the problem: malformed JSON, a version newer
// than Version (ErrFutureVersion), an unknown field, or an entry that is
// not well formed.
func Parse(path string, data []byte) (*Lock, error) {
	pos := func(off int64) (int, int) {
		if off < 0 {
			off = 0
		}
		if off > int64(len(data)) {
			off = int64(len(data))
		}
		before := data[:off]
		line := bytes.Count(before, []byte{'\n'}) + 1
		return line, int(off) - (bytes.LastIndexByte(before, '\n') + 1) + 1
	}
	errAt := func(off int64, format string, args ...any) error {
		l, c := pos(off)
		return scan.Errorf(path, l, c, format, args...)
	}
	var head struct {
		Version *int `json:"version"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return nil, jsonError(path, data, err, errAt)
	}
	vOff := int64(bytes.Index(data, []byte(`"version"`)))
	switch {
	case head.Version == nil:
		return nil, errAt(0, "no version field")
	case *head.Version > Version:
		l, c := pos(vOff)
		return nil, &scan.Error{File: path, Line: l, Column: c,
			Err: fmt.Errorf("%w: version %d, this stet reads version %d (upgrade stet)", ErrFutureVersion, *head.Version, Version)}
	case *head.Version < 1:
		return nil, errAt(vOff, "version %d is not valid", *head.Version)
	}

	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	lk := &Lock{Version: *head.Version}
	// Walk the top-level object by hand so each entry's offset is known.
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, errAt(dec.InputOffset(), "want a JSON object")
	}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, jsonError(path, data, err, errAt)
		}
		key, _ := t.(string)
		switch key {
		case "version":
			var v int
			if err := dec.Decode(&v); err != nil {
				return nil, jsonError(path, data, err, errAt)
			}
		case "references":
			if t, err := dec.Token(); err != nil || t != json.Delim('[') {
				if t == nil && err == nil {
					continue // "references": null
				}
				return nil, errAt(dec.InputOffset(), "references: want an array")
			}
			for dec.More() {
				off := dec.InputOffset()
				var e Entry
				if err := dec.Decode(&e); err != nil {
					return nil, entryError(path, data, off, err, errAt)
				}
				// InputOffset is where the previous token ended; the entry
				// starts at the next '{'.
				if i := bytes.IndexByte(data[off:], '{'); i >= 0 {
					off += int64(i)
				}
				e.Line, _ = pos(off)
				if err := e.validate(); err != nil {
					return nil, errAt(off, "entry %d: %v", len(lk.References)+1, err)
				}
				lk.References = append(lk.References, e)
			}
			if _, err := dec.Token(); err != nil {
				return nil, jsonError(path, data, err, errAt)
			}
		default:
			return nil, errAt(dec.InputOffset()-int64(len(strconv.Quote(key))), "unknown field %q", key)
		}
	}
	if _, err := dec.Token(); err != nil {
		return nil, jsonError(path, data, err, errAt)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errAt(dec.InputOffset(), "data after the lock object")
	}
	return lk, nil
}

func (e Entry) validate() error {
	switch e.Kind {
	case ref.Image:
		if !ref.IsDigest(e.Digest) {
			return fmt.Errorf("%s: digest %q is not sha256:<hex>", e.Name, e.Digest)
		}
		if _, err := ref.ParseImage(e.Name); err != nil {
			return fmt.Errorf("name %q: %v", e.Name, err)
		}
	case ref.Action:
		if !ref.IsCommit(e.Digest) {
			return fmt.Errorf("%s: digest %q is not a 40-hex commit", e.Name, e.Digest)
		}
		if _, err := ref.ParseAction(e.Name + "@x"); err != nil {
			return fmt.Errorf("name %q: %v", e.Name, err)
		}
	default:
		return fmt.Errorf("kind %q: want image or action", e.Kind)
	}
	for _, s := range e.Sites {
		if s.File == "" || s.Line < 1 {
			return fmt.Errorf("%s: site %q line %d is not a place in a file", e.Name, s.File, s.Line)
		}
	}
	return nil
}

// jsonError positions a JSON decoding error.
func jsonError(path string, data []byte, err error, errAt func(int64, string, ...any) error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		// Offset counts the bytes read, the bad one included.
		return errAt(se.Offset-1, "invalid JSON: %v", se)
	case errors.As(err, &te):
		return errAt(te.Offset, "field %s: want %s, got %s", te.Field, te.Type, te.Value)
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return errAt(int64(len(data)), "invalid JSON: unexpected end of file")
	}
	return errAt(0, "invalid JSON: %v", err)
}

// entryError positions an error decoding the entry that starts at off.
func entryError(path string, data []byte, off int64, err error, errAt func(int64, string, ...any) error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	if i := bytes.IndexByte(data[off:], '{'); i >= 0 {
		off += int64(i)
	}
	if errors.As(err, &te) {
		// The offset counts from the start of the entry's value.
		return errAt(off+te.Offset-1, "field %s: want %s, got %s", te.Field, te.Type, te.Value)
	}
	if errors.As(err, &se) || errors.Is(err, io.ErrUnexpectedEOF) {
		return jsonError(path, data, err, errAt)
	}
	// An unknown field, or a bad resolvedAt time.
	msg := strings.TrimPrefix(err.Error(), "json: ")
	if f, ok := strings.CutPrefix(msg, "unknown field "); ok {
		if i := bytes.Index(data[off:], []byte(strings.Trim(f, `"`))); i > 0 {
			off += int64(i) - 1
		}
	}
	return errAt(off, "%s", msg)
}
