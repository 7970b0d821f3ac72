package release

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
)

// TimeFormat is the one way times are written in canonical encodings:
// UTC, RFC 3339, always three fractional digits.
const TimeFormat = "2006-01-02T15:04:05.000Z"

// Media types of the canonical encodings, also the artifact types in an
// OCI registry.
const (
	MediaTypeRelease = "application/vnd.stet.release.v1+json"
	MediaTypeEvent   = "application/vnd.stet.event.v1+json"
)

// The wire forms. Field order does not matter: canonicalJSON sorts keys.
type wireRelease struct {
	ID          string               `json:"id,omitempty"`
	App         string               `json:"app"`
	Number      int64                `json:"number"`
	Images      map[string]wireImage `json:"images"`
	Git         *wireGit             `json:"git,omitempty"`
	LockDigest  string               `json:"lockDigest,omitempty"`
	Parent      string               `json:"parent,omitempty"`
	Created     string               `json:"created"`
	Creator     wireCreator          `json:"creator"`
	Annotations map[string]string    `json:"annotations,omitempty"`
}

type wireImage struct {
	Reference string   `json:"reference"`
	Digest    string   `json:"digest"`
	MediaType string   `json:"mediaType,omitempty"`
	Platforms []string `json:"platforms,omitempty"`
}

type wireGit struct {
	Commit string `json:"commit"`
	Dirty  bool   `json:"dirty,omitempty"`
}

type wireCreator struct {
	User string            `json:"user,omitempty"`
	Host string            `json:"host,omitempty"`
	CI   map[string]string `json:"ci,omitempty"`
}

func (r Release) wire() wireRelease {
	w := wireRelease{
		ID:          r.ID,
		App:         r.App,
		Number:      r.Number,
		Images:      make(map[string]wireImage, len(r.Images)),
		LockDigest:  r.LockDigest,
		Parent:      r.Parent,
		Created:     r.Created.UTC().Format(TimeFormat),
		Creator:     r.Creator.wire(),
		Annotations: emptyToNil(r.Annotations),
	}
	for k, im := range r.Images {
		w.Images[k] = wireImage(im)
	}
	if r.Git != nil {
		w.Git = &wireGit{Commit: r.Git.Commit, Dirty: r.Git.Dirty}
	}
	return w
}

func (w wireRelease) release() (Release, error) {
	t, err := parseTime(w.Created)
	if err != nil {
		return Release{}, fmt.Errorf("created: %w", err)
	}
	r := Release{
		ID:          w.ID,
		App:         w.App,
		Number:      w.Number,
		Images:      make(map[string]Image, len(w.Images)),
		LockDigest:  w.LockDigest,
		Parent:      w.Parent,
		Created:     t,
		Creator:     w.Creator.creator(),
		Annotations: w.Annotations,
	}
	for k, im := range w.Images {
		r.Images[k] = Image(im)
	}
	if w.Git != nil {
		r.Git = &Git{Commit: w.Git.Commit, Dirty: w.Git.Dirty}
	}
	return r, nil
}

func (c Creator) wire() wireCreator {
	return wireCreator{User: c.User, Host: c.Host, CI: emptyToNil(c.CI)}
}

func (w wireCreator) creator() Creator { return Creator{User: w.User, Host: w.Host, CI: w.CI} }

func emptyToNil(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	return m
}

func parseTime(s string) (time.Time, error) {
	t, err := time.Parse(TimeFormat, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("time %q is not in the form %s", s, TimeFormat)
	}
	return t, nil
}

// Canonical is the release's canonical encoding: JSON with keys sorted at
// every level, no insignificant whitespace, no HTML escaping, times in
// TimeFormat, empty optional fields left out, and without the ID. The
// release is not validated; see Validate.
func (r Release) Canonical() []byte {
	w := r.wire()
	w.ID = ""
	return canonicalJSON(w)
}

// ComputeID is the ID the release's content gives: "sha256:<hex>" of Canonical.
func (r Release) ComputeID() string { return digestOf(r.Canonical()) }

// MarshalJSON writes the canonical fields and the ID, for output.
func (r Release) MarshalJSON() ([]byte, error) { return canonicalJSON(r.wire()), nil }

// UnmarshalJSON reads what MarshalJSON writes. It is lenient about key
// order and whitespace; ParseRelease is the strict reader of stored records.
func (r *Release) UnmarshalJSON(data []byte) error {
	var w wireRelease
	if err := json.Unmarshal(data, &w); err != nil {
		return err
	}
	out, err := w.release()
	if err != nil {
		return err
	}
	*r = out
	return nil
}

// ParseRelease reads a stored release record: the exact canonical encoding
// (any other spelling of the same content is refused, because it would
// have another ID), with no unknown fields, and valid. The ID is computed
// from data.
func ParseRelease(data []byte) (Release, error) {
	var w wireRelease
	if err := decodeStrict(data, &w); err != nil {
		return Release{}, fmt.Errorf("%w: decoding release record: %w", ErrInvalid, err)
	}
	if w.ID != "" {
		return Release{}, fmt.Errorf("%w: decoding release record: a stored record carries no id field", ErrInvalid)
	}
	r, err := w.release()
	if err != nil {
		return Release{}, fmt.Errorf("%w: decoding release record: %w", ErrInvalid, err)
	}
	if !bytes.Equal(r.Canonical(), data) {
		return Release{}, fmt.Errorf("%w: decoding release record: not in canonical form", ErrInvalid)
	}
	if err := r.Validate(); err != nil {
		return Release{}, err
	}
	r.ID = digestOf(data)
	return r, nil
}

// decodeStrict decodes exactly one JSON value with no unknown fields.
func decodeStrict(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errors.New("data after the JSON value")
	}
	return nil
}

// canonicalJSON encodes v, then re-encodes the generic value so that
// struct fields come out sorted like map keys, whatever their declaration
// order. Numbers keep their text (json.Number).
func canonicalJSON(v any) []byte {
	first, err := marshalNoEscape(v)
	if err != nil {
		// The wire types hold only strings, integers, bools, maps and slices.
		panic(fmt.Sprintf("release: encoding %T: %v", v, err))
	}
	dec := json.NewDecoder(bytes.NewReader(first))
	dec.UseNumber()
	var generic any
	if err := dec.Decode(&generic); err != nil {
		panic(fmt.Sprintf("release: re-decoding %T: %v", v, err))
	}
	out, err := marshalNoEscape(generic)
	if err != nil {
		panic(fmt.Sprintf("release: re-encoding %T: %v", v, err))
	}
	return out
}

func marshalNoEscape(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

func digestOf(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}
