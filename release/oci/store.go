package oci

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/stet-dev/stet/release"
)

// Annotations on ledger manifests. The record annotation holds the
// canonical JSON itself; the others let any registry browser show what a
// manifest is without reading it.
const (
	AnnotationRecord   = "dev.stet.record"
	AnnotationApp      = "dev.stet.app"
	AnnotationNumber   = "dev.stet.number"
	AnnotationEnv      = "dev.stet.env"
	AnnotationSequence = "dev.stet.sequence"
	AnnotationRelease  = "dev.stet.release"
	AnnotationCreated  = "org.opencontainers.image.created"
	// AnnotationClaimed is when the writer wrote the manifest (UTC,
	// release.TimeFormat), which tells a stale claim from a live one.
	AnnotationClaimed = "dev.stet.claimed"
)

// emptyJSON is the OCI empty descriptor's content.
var emptyJSON = []byte("{}")

func emptyConfig() v1.Descriptor {
	h, n, _ := v1.SHA256(bytes.NewReader(emptyJSON))
	return v1.Descriptor{MediaType: types.OCIEmptyJSON, Digest: h, Size: n, Data: emptyJSON}
}

// rawManifest is a manifest to PUT exactly as encoded.
type rawManifest struct {
	b  []byte
	mt types.MediaType
}

func (m rawManifest) RawManifest() ([]byte, error)        { return m.b, nil }
func (m rawManifest) MediaType() (types.MediaType, error) { return m.mt, nil }

// artifact is one encoded record ready to write.
type artifact struct {
	record   []byte // canonical JSON, the layer
	manifest []byte
	digest   v1.Hash // of manifest
}

func newArtifact(artifactType string, record []byte, ann map[string]string, subject *v1.Descriptor) (artifact, error) {
	lh, ln, err := v1.SHA256(bytes.NewReader(record))
	if err != nil {
		return artifact{}, err
	}
	ann[AnnotationRecord] = string(record)
	m := v1.Manifest{
		SchemaVersion: 2,
		MediaType:     types.OCIManifestSchema1,
		ArtifactType:  artifactType,
		Config:        emptyConfig(),
		Layers:        []v1.Descriptor{{MediaType: types.MediaType(artifactType), Digest: lh, Size: ln}},
		Annotations:   ann,
		Subject:       subject,
	}
	b, err := json.Marshal(m)
	if err != nil {
		return artifact{}, err
	}
	h, _, err := v1.SHA256(bytes.NewReader(b))
	if err != nil {
		return artifact{}, err
	}
	return artifact{record: record, manifest: b, digest: h}, nil
}

// tags lists the repository's tags once; a repository that does not exist
// yet is an empty ledger.
func (l *Ledger) tags(ctx context.Context) (index, error) {
	tags, err := l.listTags(ctx)
	if err != nil {
		if isNotFound(err) {
			return parseTags(nil), nil
		}
		return index{}, l.wrap("listing tags", err)
	}
	return parseTags(tags), nil
}

func isNotFound(err error) bool {
	var te *transport.Error
	return errors.As(err, &te) && te.StatusCode == http.StatusNotFound
}

// stored is a record read from a manifest.
type stored struct {
	desc   v1.Descriptor // of the manifest
	id     string        // the layer's digest: the record's ID
	record []byte
	// claimed is when its writer wrote the manifest (AnnotationClaimed);
	// zero when the annotation is missing or unreadable.
	claimed time.Time
}

// get reads the manifest ref names and the record it holds.
func (l *Ledger) get(ctx context.Context, ref name.Reference, artifactType string) (stored, error) {
	d, err := l.puller.Get(ctx, ref)
	if err != nil {
		if isNotFound(err) {
			return stored{}, fmt.Errorf("%s: %w", ref.Identifier(), release.ErrNotFound)
		}
		return stored{}, l.wrap("reading "+ref.Identifier(), err)
	}
	// The ledger's tags name its records only: anything else under them
	// is a break, whatever put it there.
	var m v1.Manifest
	if err := json.Unmarshal(d.Manifest, &m); err != nil {
		return stored{}, &notRecordError{ref: ref.Identifier(), want: artifactType, found: "a manifest that does not decode (" + err.Error() + ")"}
	}
	if m.ArtifactType != artifactType || len(m.Layers) != 1 || string(m.Layers[0].MediaType) != artifactType {
		found := "an artifact of type " + cmp.Or(m.ArtifactType, string(m.Config.MediaType), "(none)")
		if m.ArtifactType == artifactType {
			found = fmt.Sprintf("an artifact of that type with %d layers", len(m.Layers))
		}
		return stored{}, &notRecordError{ref: ref.Identifier(), want: artifactType, found: found}
	}
	s := stored{desc: d.Descriptor, id: m.Layers[0].Digest.String()}
	s.claimed, _ = time.Parse(release.TimeFormat, m.Annotations[AnnotationClaimed])
	if rec, ok := m.Annotations[AnnotationRecord]; ok {
		// A record annotation that does not hash to the layer digest is
		// returned as it is, under the layer's ID: verification reports it.
		s.record = []byte(rec)
		return s, nil
	}
	// Written by a tool that kept only the layer: read the blob.
	rc, err := l.puller.Layer(ctx, l.repo.Digest(s.id))
	if err != nil {
		return stored{}, l.wrap("reading record "+s.id, err)
	}
	r, err := rc.Compressed()
	if err != nil {
		return stored{}, l.wrap("reading record "+s.id, err)
	}
	defer r.Close()
	s.record, err = io.ReadAll(io.LimitReader(r, 16<<20))
	if err != nil {
		return stored{}, l.wrap("reading record "+s.id, err)
	}
	return s, nil
}

func (l *Ledger) getRelease(ctx context.Context, ref name.Reference) (release.Release, stored, error) {
	s, err := l.get(ctx, ref, release.MediaTypeRelease)
	if err != nil {
		return release.Release{}, stored{}, err
	}
	r, err := release.ParseRelease(s.record)
	if err != nil {
		// Not release.ErrInvalid: the input at fault is the ledger's.
		return release.Release{}, stored{}, fmt.Errorf("%w: %s holds a record that does not read as a release: %v", release.ErrBroken, ref.Identifier(), err)
	}
	r.ID = s.id
	if r.ComputeID() != s.id {
		// The record annotation was rewritten: its digests are not the
		// ones recorded, and a rollback must never deploy them.
		return release.Release{}, stored{}, fmt.Errorf("%w: %s: the record does not match its ID %s", release.ErrBroken, ref.Identifier(), release.ShortID(s.id))
	}
	return r, s, nil
}

func (l *Ledger) getEvent(ctx context.Context, ref name.Reference) (release.Event, stored, error) {
	s, err := l.get(ctx, ref, release.MediaTypeEvent)
	if err != nil {
		return release.Event{}, stored{}, err
	}
	e, err := release.ParseEvent(s.record)
	if err != nil {
		return release.Event{}, stored{}, fmt.Errorf("%w: %s holds a record that does not read as an event: %v", release.ErrBroken, ref.Identifier(), err)
	}
	e.ID = s.id
	return e, s, nil
}

// releaseAt reads the release tagged as number n of app and checks that
// the record is that release: a tag moved to another release's manifest
// would otherwise make "r1" deploy other digests.
func (l *Ledger) releaseAt(ctx context.Context, app string, n int64) (release.Release, stored, error) {
	tag := ReleaseTag(app, n)
	r, s, err := l.getRelease(ctx, l.repo.Tag(tag))
	if err != nil {
		return release.Release{}, stored{}, err
	}
	if r.App != app || r.Number != n {
		return release.Release{}, stored{}, fmt.Errorf("%w: %s holds %s (%s): the tag was moved", release.ErrBroken, tag, r.Label(), release.ShortID(r.ID))
	}
	return r, s, nil
}

// eventAt reads the event tagged as number n of env and checks that the
// record is that event: its environment and sequence number. A tag moved
// to another event's manifest is a *release.ChainError.
func (l *Ledger) eventAt(ctx context.Context, env string, n int64) (release.Event, stored, error) {
	tag := EventTag(env, n)
	e, s, err := l.getEvent(ctx, l.repo.Tag(tag))
	var nr *notRecordError
	if errors.As(err, &nr) {
		return release.Event{}, stored{}, &release.ChainError{Env: env, Sequence: n, Reason: nr.Error()}
	}
	if err != nil {
		return release.Event{}, stored{}, err
	}
	if e.Env != env || e.Sequence != n {
		return release.Event{}, stored{}, &release.ChainError{Env: env, Sequence: n, ID: e.ID,
			Reason: fmt.Sprintf("%s holds event %d of %s: the tag was moved", tag, e.Sequence, e.Env)}
	}
	return e, s, nil
}

// ClaimTimeout is how long a claim may stand without its place being
// taken or the claim withdrawn before other writers treat its writer as
// gone. A live writer takes its place a few requests after claiming it.
const ClaimTimeout = 2 * time.Minute

// claim stores an artifact at a numbered place (tag) and takes the place
// only when no other writer contends for it:
//
//  1. blobs, then the manifest by digest: the record exists from here on;
//  2. a claim tag (ClaimTag), unique to the content, never overwritten;
//  3. one tag listing: if the place is taken, or another writer holds a
//     live claim on it, withdraw (tag the claim ".w") and return a
//     *release.ForkError naming both;
//  4. otherwise the place's tag, after checking it is free, then read back.
//
// Of several writers racing for a place, at most one sees no other live
// claim in step 3 (whoever lists last sees every earlier claim), so at
// most one tags the place and no tag is ever moved. All may withdraw; the
// place is then free again for the next writer.
func (l *Ledger) claim(ctx context.Context, a artifact, mediaType, place, label, id string, slotOf func(index) *slot) error {
	if err := l.pushEmpty(ctx); err != nil {
		return err
	}
	if err := l.pusher.Upload(ctx, l.repo, static.NewLayer(a.record, types.MediaType(mediaType))); err != nil {
		return l.wrap("uploading record", err)
	}
	raw := rawManifest{b: a.manifest, mt: types.OCIManifestSchema1}
	if err := l.pusher.Put(ctx, l.repo.Digest(a.digest.String()), raw); err != nil {
		return l.wrap("writing manifest "+a.digest.String(), err)
	}
	mine := ClaimTag(place, id)
	if err := l.pusher.Put(ctx, l.repo.Tag(mine), raw); err != nil {
		return l.wrap("tagging "+mine, err)
	}
	ix, err := l.tags(ctx)
	if err != nil {
		return err
	}
	s := slotOf(ix)
	if s == nil {
		return l.wrap("reading back "+mine, fmt.Errorf("the claim tag is missing from the listing"))
	}
	if withdrawnClaim(s, id) {
		// This content claimed the place before and gave up; its claim tag
		// cannot speak for a new attempt.
		return &release.ForkError{Place: label + " (" + place + ")", Ours: id, Theirs: "an earlier, withdrawn attempt with the same content"}
	}
	fork := func(theirs string) error {
		if err := l.pusher.Put(ctx, l.repo.Tag(mine+withdrawnSuffix), raw); err != nil {
			return l.wrap("withdrawing "+mine, err)
		}
		return &release.ForkError{Place: label + " (" + place + ")", Ours: id, Theirs: theirs}
	}
	if s.taken {
		d, err := l.puller.Head(ctx, l.repo.Tag(place))
		switch {
		case err == nil && d.Digest == a.digest:
			return nil
		case err == nil:
			return fork(d.Digest.String())
		case isNotFound(err):
			// Listed but not readable yet: another writer is taking it.
			return fork(place + " (being written)")
		}
		return l.wrap("reading "+place, err)
	}
	var others []string
	for _, c := range s.claims {
		if c == mine[len(mine)-claimLen:] || s.withdrawn[c] {
			continue
		}
		live, err := l.liveClaim(ctx, place+"."+c)
		if err != nil {
			return err
		}
		if live {
			others = append(others, place+"."+c)
		}
	}
	if len(others) > 0 {
		return fork(strings.Join(others, ", "))
	}
	if err := l.tag(ctx, a.digest, raw, place, label); err != nil {
		var fe *release.ForkError
		if errors.As(err, &fe) {
			return fork(fe.Theirs)
		}
		return err
	}
	return nil
}

// liveClaim reports whether another writer's claim may still be taken:
// it was made less than ClaimTimeout ago.
func (l *Ledger) liveClaim(ctx context.Context, tag string) (bool, error) {
	t, found, err := l.claimedAt(ctx, tag)
	if err != nil {
		return false, err
	}
	if !found {
		return true, nil // listed, not yet readable: just written
	}
	return !t.IsZero() && l.now().Sub(t) < ClaimTimeout, nil
}

// claimedAt reads when the record a claim tag names was written: found is
// false when the tag cannot be read (yet), and the time zero when the
// manifest does not say.
func (l *Ledger) claimedAt(ctx context.Context, tag string) (t time.Time, found bool, err error) {
	d, err := l.puller.Get(ctx, l.repo.Tag(tag))
	if isNotFound(err) {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, l.wrap("reading claim "+tag, err)
	}
	var m v1.Manifest
	if err := json.Unmarshal(d.Manifest, &m); err != nil {
		return time.Time{}, true, nil
	}
	t, _ = time.Parse(release.TimeFormat, m.Annotations[AnnotationClaimed])
	return t, true, nil
}

// tag points tag at the manifest with digest d unless it already names
// another manifest, then reads it back.
func (l *Ledger) tag(ctx context.Context, d v1.Hash, raw rawManifest, tag, label string) error {
	t := l.repo.Tag(tag)
	got, err := l.puller.Head(ctx, t)
	switch {
	case err == nil && got.Digest == d:
		return nil
	case err == nil:
		return &release.ForkError{Place: label + " (" + tag + ")", Ours: d.String(), Theirs: got.Digest.String()}
	case !isNotFound(err):
		return l.wrap("checking tag "+tag, err)
	}
	if err := l.pusher.Put(ctx, t, raw); err != nil {
		return l.wrap("tagging "+tag, err)
	}
	got, err = l.puller.Head(ctx, t)
	if err != nil {
		return l.wrap("reading back tag "+tag, err)
	}
	if got.Digest != d {
		return &release.ForkError{Place: label + " (" + tag + ")", Ours: d.String(), Theirs: got.Digest.String()}
	}
	return nil
}

func (l *Ledger) pushEmpty(ctx context.Context) error {
	l.mu.Lock()
	done := l.emptyPushed
	l.mu.Unlock()
	if done {
		return nil
	}
	if err := l.pusher.Upload(ctx, l.repo, static.NewLayer(emptyJSON, types.OCIEmptyJSON)); err != nil {
		return l.wrap("uploading the empty config", err)
	}
	l.mu.Lock()
	l.emptyPushed = true
	l.mu.Unlock()
	return nil
}

var _ remote.Taggable = rawManifest{}

// withdrawnClaim reports whether the record with this ID claimed the slot
// and withdrew.
func withdrawnClaim(s *slot, id string) bool {
	return s != nil && s.withdrawn[strings.TrimPrefix(id, "sha256:")[:claimLen]]
}

// notRecordError is a ledger tag naming something other than a record of
// the kind its name says. It matches release.ErrBroken.
type notRecordError struct {
	ref, want, found string
}

func (e *notRecordError) Error() string {
	kind := "a release"
	if e.want == release.MediaTypeEvent {
		kind = "an event"
	}
	return fmt.Sprintf("%s holds %s, not %s record", e.ref, e.found, kind)
}

// Is matches release.ErrBroken.
func (e *notRecordError) Is(target error) bool { return target == release.ErrBroken }

func digestOf(b []byte) string {
	h, _, _ := v1.SHA256(bytes.NewReader(b))
	return h.String()
}
