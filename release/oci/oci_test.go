package oci

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	ggcrregistry "github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/stet-dev/stet/internal/testregistry"
	"github.com/stet-dev/stet/registry"
	"github.com/stet-dev/stet/release"
	"github.com/stet-dev/stet/release/releasetest"
	"github.com/stet-dev/stet/release/sqlite"
)

// inProcess starts go-containerregistry's registry with the referrers API.
func inProcess(t testing.TB) string {
	t.Helper()
	s := httptest.NewServer(ggcrregistry.New(ggcrregistry.Logger(log.New(io.Discard, "", 0)), ggcrregistry.WithReferrersSupport(true)))
	t.Cleanup(s.Close)
	return strings.TrimPrefix(s.URL, "http://")
}

var repoSeq atomic.Int64

// opener returns a function opening handles to a fresh repository on host.
func opener(t *testing.T, host string, opts ...Option) func() release.Ledger {
	loc := fmt.Sprintf("oci://%s/stet/ledger-%d", host, repoSeq.Add(1))
	return func() release.Ledger {
		l, err := Open(context.Background(), loc, opts...)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { l.Close() })
		return l
	}
}

func TestContract(t *testing.T) {
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	t.Run("referrers", func(t *testing.T) {
		host := inProcess(t)
		releasetest.Run(t, func(t *testing.T) func() release.Ledger { return opener(t, host) })
	})
	t.Run("shared-client", func(t *testing.T) {
		host := testregistry.Distribution(t, testregistry.Options{User: "stet", Password: "s3cret"})
		testregistry.DockerConfig(t, map[string][2]string{host: {"stet", "s3cret"}})
		c, err := registry.New()
		if err != nil {
			t.Fatal(err)
		}
		releasetest.Run(t, func(t *testing.T) func() release.Ledger { return opener(t, host, WithRegistry(c)) })
	})
	t.Run("no-referrers", func(t *testing.T) {
		host := testregistry.New(t)
		releasetest.Run(t, func(t *testing.T) func() release.Ledger { return opener(t, host) })
	})
	t.Run("distribution", func(t *testing.T) {
		host := testregistry.Distribution(t, testregistry.Options{})
		releasetest.Run(t, func(t *testing.T) func() release.Ledger { return opener(t, host) })
	})
	t.Run("distribution-auth", func(t *testing.T) {
		host := testregistry.Distribution(t, testregistry.Options{User: "stet", Password: "s3cret"})
		testregistry.DockerConfig(t, map[string][2]string{host: {"stet", "s3cret"}})
		releasetest.Run(t, func(t *testing.T) func() release.Ledger { return opener(t, host) })
	})
}

func promoteAll(t testing.TB, l release.Ledger, env string, rs []release.Release) {
	t.Helper()
	ctx := context.Background()
	var head release.Event
	for _, r := range rs {
		e, err := l.AppendEvent(ctx, release.NewEvent(env, release.Promote, r, head, release.Creator{User: "ci"}, ""))
		if err != nil {
			t.Fatal(err)
		}
		head = e
	}
}

// TestTamper rewrites an event tag the way someone with push access could,
// and checks that verification names the place.
func TestTamper(t *testing.T) {
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	ctx := context.Background()
	host := testregistry.New(t)
	l := opener(t, host)().(*Ledger)
	var rs []release.Release
	for i := 1; i <= 4; i++ {
		r, err := l.PutRelease(ctx, releasetest.Fixture("web", i))
		if err != nil {
			t.Fatal(err)
		}
		rs = append(rs, r)
	}
	promoteAll(t, l, "production", rs)
	if err := release.Verify(ctx, l); err != nil {
		t.Fatal(err)
	}
	// Event 2's record annotation now says another release was deployed.
	tag := l.repo.Tag(EventTag("production", 2))
	d, err := remote.Get(tag)
	if err != nil {
		t.Fatal(err)
	}
	var m v1.Manifest
	if err := json.Unmarshal(d.Manifest, &m); err != nil {
		t.Fatal(err)
	}
	e, err := release.ParseEvent([]byte(m.Annotations[AnnotationRecord]))
	if err != nil {
		t.Fatal(err)
	}
	e.Release, e.Number, e.ID = rs[3].ID, rs[3].Number, ""
	m.Annotations[AnnotationRecord] = string(e.Canonical())
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Put(tag, rawManifest{b: b, mt: types.OCIManifestSchema1}); err != nil {
		t.Fatal(err)
	}
	err = release.Verify(ctx, l)
	var ce *release.ChainError
	if !errors.As(err, &ce) || ce.Sequence != 2 {
		t.Fatalf("Verify after tampering = %v, want a break at event 2", err)
	}

	// r1's record annotation now names other bytes for its image.
	rtag := l.repo.Tag(ReleaseTag("web", 1))
	d, err = remote.Get(rtag)
	if err != nil {
		t.Fatal(err)
	}
	m = v1.Manifest{}
	if err := json.Unmarshal(d.Manifest, &m); err != nil {
		t.Fatal(err)
	}
	edited := rs[0]
	edited.Images = map[string]release.Image{"web": {Reference: "docker.io/library/nginx:1-alpine", Digest: releasetest.Digest("evil")}}
	m.Annotations[AnnotationRecord] = string(edited.Canonical())
	if b, err = json.Marshal(m); err != nil {
		t.Fatal(err)
	}
	if err := remote.Put(rtag, rawManifest{b: b, mt: types.OCIManifestSchema1}); err != nil {
		t.Fatal(err)
	}
	if _, err := l.GetRelease(ctx, "web", "r1"); !errors.Is(err, release.ErrBroken) {
		t.Errorf("GetRelease of an edited record: err = %v, want ErrBroken", err)
	}
}

// TestForkLeavesClaim races two writers for one place by hand: the one that
// meets the other's claim withdraws and says so, and both records stay.
func TestForkLeavesClaim(t *testing.T) {
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	ctx := context.Background()
	host := inProcess(t)
	l := opener(t, host)().(*Ledger)
	r, err := l.PutRelease(ctx, releasetest.Fixture("web", 1))
	if err != nil {
		t.Fatal(err)
	}
	// A rival's claim on release 2, as a writer that has not yet listed leaves it.
	rival := releasetest.Fixture("web", 99)
	rival.Number, rival.Created = 2, release.Time(time.Now())
	rival.ID = rival.ComputeID()
	a, err := newArtifact(release.MediaTypeRelease, rival.Canonical(), map[string]string{AnnotationClaimed: release.Time(time.Now()).Format(release.TimeFormat)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Put(l.repo.Tag(ClaimTag(ReleaseTag("web", 2), rival.ID)), rawManifest{b: a.manifest, mt: types.OCIManifestSchema1}); err != nil {
		t.Fatal(err)
	}
	mine := releasetest.Fixture("web", 2)
	mine.Number = 2
	_, err = l.PutRelease(ctx, mine)
	var fe *release.ForkError
	if !errors.As(err, &fe) || !strings.Contains(fe.Theirs, release.ShortID(rival.ID)) {
		t.Fatalf("PutRelease against a live claim = %v, want a ForkError naming %s", err, release.ShortID(rival.ID))
	}
	// With the number left to the ledger, the writer moves past the contended place.
	got, err := l.PutRelease(ctx, releasetest.Fixture("web", 2))
	if err != nil {
		t.Fatal(err)
	}
	if got.Number != 3 {
		t.Errorf("new release took number %d, want 3 (2 is claimed)", got.Number)
	}
	tags, err := remote.List(l.repo)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(tags, ClaimTag(ReleaseTag("web", 2), mine.ComputeID())+withdrawnSuffix) {
		t.Errorf("the withdrawn claim is not marked; tags: %v", tags)
	}
	_ = r
}

func TestSyncAcrossBackends(t *testing.T) {
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	ctx := context.Background()
	sq, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "ledger.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer sq.Close()
	var rs []release.Release
	for i := 1; i <= 3; i++ {
		r, err := sq.PutRelease(ctx, releasetest.Fixture("web", i))
		if err != nil {
			t.Fatal(err)
		}
		rs = append(rs, r)
	}
	promoteAll(t, sq, "production", rs)
	reg := opener(t, inProcess(t))()
	if _, err := release.Sync(ctx, sq, reg); err != nil {
		t.Fatal(err)
	}
	back, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "copy.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer back.Close()
	if _, err := release.Sync(ctx, reg, back); err != nil {
		t.Fatal(err)
	}
	for _, l := range []release.Ledger{reg, back} {
		h, err := l.History(ctx, "production", release.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		want, _ := sq.History(ctx, "production", release.ListOptions{})
		if diff := cmp.Diff(want, h); diff != "" {
			t.Errorf("history after sync (-want +got):\n%s", diff)
		}
	}
}

// countingTransport counts the requests a ledger sends.
type countingTransport struct {
	n    atomic.Int64
	next http.RoundTripper
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return c.next.RoundTrip(r)
}

// BenchmarkHistory reads the newest 20 events of a 1,000-event history
// (the requests must stay proportional to 20, not to 1,000), the whole
// history, and appends events (a History of one, then AppendEvent, as
// `stet release promote` does). It reports requests per operation. Set STET_BENCH_DISTRIBUTION=1 to run it against the
// Distribution registry instead of the in-process one.
func BenchmarkHistory(b *testing.B) {
	b.Setenv("DOCKER_CONFIG", b.TempDir())
	ctx := context.Background()
	var host string
	if os.Getenv("STET_BENCH_DISTRIBUTION") != "" {
		host = testregistry.Distribution(b, testregistry.Options{})
	} else {
		s := httptest.NewServer(ggcrregistry.New(ggcrregistry.Logger(log.New(io.Discard, "", 0))))
		b.Cleanup(s.Close)
		host = strings.TrimPrefix(s.URL, "http://")
	}
	loc := fmt.Sprintf("oci://%s/stet/bench", host)
	w, err := Open(ctx, loc)
	if err != nil {
		b.Fatal(err)
	}
	r, err := w.PutRelease(ctx, releasetest.Fixture("web", 1))
	if err != nil {
		b.Fatal(err)
	}
	const events = 1000
	fillEvents(b, w, r, events)
	ct := &countingTransport{next: http.DefaultTransport}
	l, err := Open(ctx, loc, WithTransport(ct))
	if err != nil {
		b.Fatal(err)
	}
	if _, err := l.History(ctx, "production", release.ListOptions{Limit: 1}); err != nil {
		b.Fatal(err) // warm: ping and token
	}
	for _, limit := range []int{20, 0} {
		want := limit
		if limit == 0 {
			want = events
		}
		b.Run(fmt.Sprintf("n=%d", want), func(b *testing.B) {
			ct.n.Store(0)
			for b.Loop() {
				h, err := l.History(ctx, "production", release.ListOptions{Limit: limit})
				if err != nil || len(h) != want {
					b.Fatal(len(h), err)
				}
			}
			b.ReportMetric(float64(ct.n.Load())/float64(b.N), "requests/op")
		})
	}
	b.Run("append", func(b *testing.B) {
		ct.n.Store(0)
		for b.Loop() {
			h, err := l.History(ctx, "production", release.ListOptions{Limit: 1})
			if err != nil {
				b.Fatal(err)
			}
			if _, err := l.AppendEvent(ctx, release.NewEvent("production", release.Promote, r, h[0], release.Creator{User: "ci"}, "")); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(ct.n.Load())/float64(b.N), "requests/op")
	})
}

// fillEvents writes n events quickly: the tags a ledger would write (each
// event's claim and its place), without the listings of the claim
// protocol, which only matter between concurrent writers.
func fillEvents(b testing.TB, l *Ledger, r release.Release, n int) {
	ctx := context.Background()
	if err := l.pushEmpty(ctx); err != nil {
		b.Fatal(err)
	}
	prev := ""
	for i := 1; i <= n; i++ {
		e := release.Event{Env: "production", Sequence: int64(i), Action: release.Promote, Release: r.ID, App: r.App, Number: r.Number,
			Time: releasetest.Epoch.Add(time.Duration(i) * time.Second), Actor: release.Creator{User: "ci"}, Prev: prev}
		e.ID = e.ComputeID()
		a, err := newArtifact(release.MediaTypeEvent, e.Canonical(), map[string]string{AnnotationClaimed: e.Time.Format(release.TimeFormat)}, nil)
		if err != nil {
			b.Fatal(err)
		}
		if err := l.pusher.Upload(ctx, l.repo, static.NewLayer(a.record, types.MediaType(release.MediaTypeEvent))); err != nil {
			b.Fatal(err)
		}
		place := EventTag("production", e.Sequence)
		for _, tag := range []string{ClaimTag(place, e.ID), place} {
			if err := l.pusher.Put(ctx, l.repo.Tag(tag), rawManifest{b: a.manifest, mt: types.OCIManifestSchema1}); err != nil {
				b.Fatal(err)
			}
		}
		prev = e.ID
	}
}

// TestListBeyondOnePage: the in-process registry answers a full page of
// tags without a Link header; the ledger must still see every tag.
func TestListBeyondOnePage(t *testing.T) {
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	ctx := context.Background()
	l := opener(t, inProcess(t))().(*Ledger)
	r, err := l.PutRelease(ctx, releasetest.Fixture("web", 1))
	if err != nil {
		t.Fatal(err)
	}
	fillEvents(t, l, r, pageSize+5)
	h, err := l.History(ctx, "production", release.ListOptions{Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(h) != 1 || h[0].Sequence != pageSize+5 {
		t.Fatalf("head is %+v, want event %d", h, pageSize+5)
	}
	// The release tags sort after the event tags and their claims: beyond the first page.
	if _, err := l.GetRelease(ctx, "web", "r1"); err != nil {
		t.Fatal(err)
	}
	if _, err := l.AppendEvent(ctx, release.NewEvent("production", release.Promote, r, h[0], release.Creator{}, "")); err != nil {
		t.Fatal(err)
	}
}
