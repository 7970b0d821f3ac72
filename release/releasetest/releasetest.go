// Package releasetest is the contract every release.Ledger backend
// satisfies: one suite of tests run against each of them, so that the
// commands built on the interface behave the same whatever stores the
// ledger.
package releasetest

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/stet-dev/stet/release"
)

// NewStore creates a fresh, empty ledger store and returns a function that
// opens a handle to it. Every call of the returned function opens a new,
// independent handle (its own connections) to the same store; the backend
// closes the handles at the test's cleanup.
type NewStore func(t *testing.T) (open func() release.Ledger)

// Options tune the suite to a backend's speed.
type Options struct {
	// Writers and PerWriter size the concurrency tests (default 4 and 5).
	Writers, PerWriter int
}

// Run runs the contract suite against the backend newStore creates.
func Run(t *testing.T, newStore NewStore, opts ...Options) {
	o := Options{Writers: 4, PerWriter: 5}
	if len(opts) > 0 {
		if opts[0].Writers > 0 {
			o.Writers = opts[0].Writers
		}
		if opts[0].PerWriter > 0 {
			o.PerWriter = opts[0].PerWriter
		}
	}
	t.Run("Releases", func(t *testing.T) { testReleases(t, newStore(t)()) })
	t.Run("Selectors", func(t *testing.T) { testSelectors(t, newStore(t)()) })
	t.Run("PresetNumbers", func(t *testing.T) { testPresetNumbers(t, newStore(t)()) })
	t.Run("Invalid", func(t *testing.T) { testInvalid(t, newStore(t)()) })
	t.Run("Events", func(t *testing.T) { testEvents(t, newStore(t)()) })
	t.Run("Rollback", func(t *testing.T) { testRollback(t, newStore(t)()) })
	t.Run("ConcurrentReleases", func(t *testing.T) { testConcurrentReleases(t, newStore(t), o) })
	t.Run("ConcurrentEvents", func(t *testing.T) { testConcurrentEvents(t, newStore(t), o) })
	t.Run("Sync", func(t *testing.T) { testSync(t, newStore(t)(), newStore(t)()) })
}

// Epoch is the creation time of the first release Fixture builds.
var Epoch = time.Date(2026, 11, 25, 19, 0, 0, 0, time.UTC)

// Digest is a well-formed digest derived from s.
func Digest(s string) string {
	return fmt.Sprintf("sha256:%x", sha256.Sum256([]byte(s)))
}

// Fixture is release i of app: two images whose digests depend on app and
// i, a commit, a creator with CI variables, created i minutes after Epoch.
// Its Number is zero, for the ledger to assign.
func Fixture(app string, i int) release.Release {
	return release.Release{
		App: app,
		Images: map[string]release.Image{
			"web": {Reference: "docker.io/library/nginx:1-alpine", Digest: Digest(fmt.Sprintf("%s/nginx/%d", app, i)),
				MediaType: "application/vnd.oci.image.index.v1+json", Platforms: []string{"linux/amd64", "linux/arm64"}},
			"ghcr.io/acme/api": {Reference: "ghcr.io/acme/api:v1." + fmt.Sprint(i), Digest: Digest(fmt.Sprintf("%s/api/%d", app, i)),
				MediaType: "application/vnd.oci.image.manifest.v1+json"},
		},
		Git:        &release.Git{Commit: fmt.Sprintf("%x", sha256.Sum256([]byte(fmt.Sprint(i))))[:40], Dirty: i%2 == 1},
		LockDigest: Digest(fmt.Sprintf("lock %d", i)),
		Created:    Epoch.Add(time.Duration(i) * time.Minute),
		Creator: release.Creator{User: "ci", Host: "runner-1",
			CI: map[string]string{"GITHUB_RUN_ID": fmt.Sprint(1000 + i)}},
		Annotations: map[string]string{"ticket": fmt.Sprintf("OPS-%d", i)},
	}
}

func put(t *testing.T, l release.Ledger, r release.Release) release.Release {
	t.Helper()
	got, err := l.PutRelease(context.Background(), r)
	if err != nil {
		t.Fatalf("PutRelease(%s): %v", r.App, err)
	}
	return got
}

func promote(t *testing.T, l release.Ledger, env string, r release.Release, action release.Action) release.Event {
	t.Helper()
	ctx := context.Background()
	h, err := l.History(ctx, env, release.ListOptions{Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	var head release.Event
	if len(h) > 0 {
		head = h[0]
	}
	ev := release.NewEvent(env, action, r, head, release.Creator{User: "alice", Host: "laptop"}, "because")
	ev.Time = Epoch.Add(time.Hour + time.Duration(head.Sequence)*time.Second)
	got, err := l.AppendEvent(ctx, ev)
	if err != nil {
		t.Fatalf("AppendEvent(%s, %s): %v", env, r.Label(), err)
	}
	return got
}

func ids[T any](xs []T, id func(T) string) []string {
	out := []string{}
	for _, x := range xs {
		out = append(out, id(x))
	}
	return out
}

func relLabel(r release.Release) string { return r.Label() }

func testReleases(t *testing.T, l release.Ledger) {
	ctx := context.Background()
	var web []release.Release
	for i := 1; i <= 3; i++ {
		web = append(web, put(t, l, Fixture("web", i)))
	}
	api := put(t, l, Fixture("api", 7))
	for i, r := range web {
		if r.Number != int64(i+1) {
			t.Errorf("release %d of web got number %d, want %d", i, r.Number, i+1)
		}
		if r.ID != r.ComputeID() || !release.ValidID(r.ID) {
			t.Errorf("release %s has ID %q, want %q", r.Label(), r.ID, r.ComputeID())
		}
	}
	if api.Number != 1 {
		t.Errorf("api numbers start at %d, want 1", api.Number)
	}
	got, err := l.GetRelease(ctx, "web", "r2")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(web[1], got); diff != "" {
		t.Errorf("GetRelease(web, r2) (-want +got):\n%s", diff)
	}
	list, err := l.ListReleases(ctx, "web", release.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"web r3", "web r2", "web r1"}, ids(list, relLabel)); diff != "" {
		t.Errorf("ListReleases(web) (-want +got):\n%s", diff)
	}
	list, err = l.ListReleases(ctx, "web", release.ListOptions{Limit: 2})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"web r3", "web r2"}, ids(list, relLabel)); diff != "" {
		t.Errorf("ListReleases(web, limit 2) (-want +got):\n%s", diff)
	}
	all, err := l.ListReleases(ctx, "", release.ListOptions{Limit: 3})
	if err != nil {
		t.Fatal(err)
	}
	// api r1 was created at minute 7, after every web release.
	if diff := cmp.Diff([]string{"api r1", "web r3", "web r2"}, ids(all, relLabel)); diff != "" {
		t.Errorf("ListReleases(all, limit 3) (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(web[2], list[0]); diff != "" {
		t.Errorf("listed release differs from the recorded one (-want +got):\n%s", diff)
	}
	apps, err := l.Apps(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"api", "web"}, apps); diff != "" {
		t.Errorf("Apps (-want +got):\n%s", diff)
	}
	none, err := l.ListReleases(ctx, "nothing", release.ListOptions{})
	if err != nil || len(none) != 0 {
		t.Errorf("ListReleases(unknown app) = %v, %v; want none", none, err)
	}
	// The same content recorded again is a new release with a new number.
	again := put(t, l, Fixture("web", 1))
	if again.Number != 4 || again.ID == web[0].ID {
		t.Errorf("re-recording got %s %s, want web r4 with a new ID", again.Label(), again.ID)
	}
}

func testSelectors(t *testing.T, l release.Ledger) {
	ctx := context.Background()
	w1 := put(t, l, Fixture("web", 1))
	a1 := put(t, l, Fixture("api", 2))
	tests := []struct {
		app, sel string
		want     string // label, or an error sentinel name
	}{
		{"web", "r1", "web r1"},
		{"web", "R1", "web r1"},
		{"api", "r1", "api r1"},
		{"", "r1", "ambiguous"},
		{"web", "r2", "not found"},
		{"web", w1.ID, "web r1"},
		{"", w1.ID[:len("sha256:")+8], "web r1"},
		{"", release.ShortID(a1.ID), "api r1"},
		{"web", release.ShortID(a1.ID), "not found"},
		{"", "ffff" + release.ShortID(w1.ID)[4:], "not found unless"},
		{"", "r0", "invalid"},
		{"", "abc", "invalid"},
		{"", "latest", "invalid"},
	}
	for _, tt := range tests {
		t.Run(tt.app+"/"+tt.sel, func(t *testing.T) {
			got, err := l.GetRelease(ctx, tt.app, tt.sel)
			var res string
			switch {
			case err == nil:
				res = got.Label()
			case errors.Is(err, release.ErrAmbiguous):
				res = "ambiguous"
			case errors.Is(err, release.ErrNotFound):
				res = "not found"
			case errors.Is(err, release.ErrInvalid):
				res = "invalid"
			default:
				t.Fatalf("GetRelease(%q, %q): unexpected error %v", tt.app, tt.sel, err)
			}
			if tt.want == "not found unless" {
				// A random prefix may, rarely, match a real ID.
				if err == nil && !(release.ShortID(got.ID) == release.ShortID(w1.ID) || release.ShortID(got.ID) == release.ShortID(a1.ID)) {
					t.Errorf("GetRelease(%q) = %s, a release it does not name", tt.sel, got.Label())
				}
				return
			}
			if res != tt.want {
				t.Errorf("GetRelease(%q, %q) = %s (%v), want %s", tt.app, tt.sel, res, err, tt.want)
			}
		})
	}
}

func testPresetNumbers(t *testing.T, l release.Ledger) {
	ctx := context.Background()
	r := Fixture("web", 1)
	r.Number = 5
	got := put(t, l, r)
	if got.Number != 5 {
		t.Fatalf("preset number stored as %d, want 5", got.Number)
	}
	again := put(t, l, r)
	if again.ID != got.ID {
		t.Errorf("re-putting the same release got %s, want %s", again.ID, got.ID)
	}
	other := Fixture("web", 2)
	other.Number = 5
	if _, err := l.PutRelease(ctx, other); !errors.Is(err, release.ErrConflict) {
		t.Errorf("putting different content as web r5: err = %v, want ErrConflict", err)
	}
	next := put(t, l, Fixture("web", 3))
	if next.Number != 6 {
		t.Errorf("next number after r5 is %d, want 6", next.Number)
	}
	list, err := l.ListReleases(ctx, "web", release.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"web r6", "web r5"}, ids(list, relLabel)); diff != "" {
		t.Errorf("ListReleases (-want +got):\n%s", diff)
	}
}

func testInvalid(t *testing.T, l release.Ledger) {
	ctx := context.Background()
	tagOnly := Fixture("web", 1)
	tagOnly.Images = map[string]release.Image{"web": {Reference: "docker.io/library/nginx:1-alpine"}}
	notCanonical := Fixture("web", 1)
	notCanonical.Images = map[string]release.Image{"web": {Reference: "nginx:1-alpine", Digest: Digest("x")}}
	badApp := Fixture("Web App", 1)
	for name, r := range map[string]release.Release{"tag without digest": tagOnly, "familiar name": notCanonical, "bad app": badApp} {
		t.Run(name, func(t *testing.T) {
			if _, err := l.PutRelease(ctx, r); !errors.Is(err, release.ErrInvalid) {
				t.Errorf("PutRelease: err = %v, want ErrInvalid", err)
			}
		})
	}
	if apps, err := l.Apps(ctx); err != nil || len(apps) != 0 {
		t.Errorf("after refused writes Apps = %v, %v; want none", apps, err)
	}
}

func testEvents(t *testing.T, l release.Ledger) {
	ctx := context.Background()
	r1 := put(t, l, Fixture("web", 1))
	r2 := put(t, l, Fixture("web", 2))
	if _, err := l.Current(ctx, "production"); !errors.Is(err, release.ErrNotFound) {
		t.Errorf("Current of an empty environment: err = %v, want ErrNotFound", err)
	}
	if h, err := l.History(ctx, "production", release.ListOptions{}); err != nil || len(h) != 0 {
		t.Errorf("History of an empty environment = %v, %v; want empty", h, err)
	}
	e1 := promote(t, l, "staging", r1, release.Promote)
	e2 := promote(t, l, "production", r1, release.Promote)
	e3 := promote(t, l, "staging", r2, release.Promote)
	if e1.Sequence != 1 || e1.Prev != "" || e3.Sequence != 2 || e3.Prev != e1.ID || e2.Sequence != 1 {
		t.Errorf("chain fields: e1 #%d prev %q, e2 #%d, e3 #%d prev %q", e1.Sequence, e1.Prev, e2.Sequence, e3.Sequence, e3.Prev)
	}
	if e3.ID != e3.ComputeID() {
		t.Errorf("event ID %s, want %s", e3.ID, e3.ComputeID())
	}
	h, err := l.History(ctx, "staging", release.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]release.Event{e3, e1}, h); diff != "" {
		t.Errorf("History(staging) (-want +got):\n%s", diff)
	}
	h1, err := l.History(ctx, "staging", release.ListOptions{Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]release.Event{e3}, h1); diff != "" {
		t.Errorf("History(staging, limit 1) (-want +got):\n%s", diff)
	}
	cur, err := l.Current(ctx, "staging")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(r2, cur); diff != "" {
		t.Errorf("Current(staging) (-want +got):\n%s", diff)
	}
	envs, err := l.Envs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"production", "staging"}, envs); diff != "" {
		t.Errorf("Envs (-want +got):\n%s", diff)
	}

	// A writer that saw e1 as the head lost to the one that wrote e3.
	stale := release.NewEvent("staging", release.Promote, r1, e1, release.Creator{User: "bob"}, "")
	_, err = l.AppendEvent(ctx, stale)
	var ce *release.ConflictError
	if !errors.As(err, &ce) {
		t.Fatalf("appending after a stale head: err = %v, want *ConflictError", err)
	}
	if ce.Expected != e1.ID || ce.Actual != e3.ID {
		t.Errorf("conflict names expected %s, actual %s; want %s, %s", ce.Expected, ce.Actual, e1.ID, e3.ID)
	}
	first := release.NewEvent("staging", release.Promote, r1, release.Event{}, release.Creator{}, "")
	if _, err := l.AppendEvent(ctx, first); !errors.Is(err, release.ErrConflict) {
		t.Errorf("appending a second first event: err = %v, want ErrConflict", err)
	}
	ghost := r2
	ghost.ID = Digest("no such release")
	if _, err := l.AppendEvent(ctx, release.NewEvent("qa", release.Promote, ghost, release.Event{}, release.Creator{}, "")); !errors.Is(err, release.ErrNotFound) {
		t.Errorf("promoting an unknown release: err = %v, want ErrNotFound", err)
	}
	wrongNumber := release.NewEvent("qa", release.Promote, r2, release.Event{}, release.Creator{}, "")
	wrongNumber.Number = 9
	if _, err := l.AppendEvent(ctx, wrongNumber); !errors.Is(err, release.ErrInvalid) {
		t.Errorf("an event naming the wrong number: err = %v, want ErrInvalid", err)
	}
	if err := release.Verify(ctx, l); err != nil {
		t.Errorf("Verify: %v", err)
	}
}

func testRollback(t *testing.T, l release.Ledger) {
	ctx := context.Background()
	var rs []release.Release
	for i := 1; i <= 3; i++ {
		rs = append(rs, put(t, l, Fixture("web", i)))
	}
	for _, r := range rs {
		promote(t, l, "production", r, release.Promote)
	}
	h, err := l.History(ctx, "production", release.ListOptions{Limit: 50})
	if err != nil {
		t.Fatal(err)
	}
	plan, err := release.PlanRollback(h, "", lookup(ctx, l))
	if err != nil {
		t.Fatal(err)
	}
	if plan.Target != rs[1].ID {
		t.Fatalf("rollback target %s, want r2 %s", plan.Target, rs[1].ID)
	}
	promote(t, l, "production", rs[1], release.Rollback)
	cur, err := l.Current(ctx, "production")
	if err != nil {
		t.Fatal(err)
	}
	if cur.ID != rs[1].ID {
		t.Errorf("after rollback Current = %s, want web r2", cur.Label())
	}
	// Rolling back again skips r3, which the first rollback removed.
	h, err = l.History(ctx, "production", release.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	plan, err = release.PlanRollback(h, "", lookup(ctx, l))
	if err != nil {
		t.Fatal(err)
	}
	if plan.Target != rs[0].ID {
		t.Errorf("second rollback target %s, want r1", release.ShortID(plan.Target))
	}
}

func testConcurrentReleases(t *testing.T, open func() release.Ledger, o Options) {
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, o.Writers*o.PerWriter)
	got := make(chan release.Release, o.Writers*o.PerWriter)
	for w := range o.Writers {
		l := open()
		wg.Go(func() {
			for i := range o.PerWriter {
				r := Fixture("web", w*1000+i)
				for {
					out, err := l.PutRelease(ctx, r)
					if errors.Is(err, release.ErrFork) {
						continue // lost a race for a number: take the next one
					}
					if err != nil {
						errs <- err
						return
					}
					got <- out
					break
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	close(got)
	for err := range errs {
		t.Error(err)
	}
	numbers := map[int64]string{}
	for r := range got {
		if prev, ok := numbers[r.Number]; ok {
			t.Errorf("number %d given twice: %s and %s", r.Number, prev, r.ID)
		}
		numbers[r.Number] = r.ID
	}
	list, err := open().ListReleases(ctx, "web", release.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != o.Writers*o.PerWriter {
		t.Errorf("ledger holds %d releases, want %d", len(list), o.Writers*o.PerWriter)
	}
	for _, r := range list {
		if numbers[r.Number] != r.ID {
			t.Errorf("%s is %s in the ledger, but its writer was told %s", r.Label(), release.ShortID(r.ID), release.ShortID(numbers[r.Number]))
		}
	}
}

func testConcurrentEvents(t *testing.T, open func() release.Ledger, o Options) {
	ctx := context.Background()
	base := open()
	r := put(t, base, Fixture("web", 1))
	var wg sync.WaitGroup
	errs := make(chan error, o.Writers)
	written := make(chan release.Event, o.Writers*o.PerWriter)
	var forks, conflicts sync.Map
	for w := range o.Writers {
		l := open()
		wg.Go(func() {
			for i := range o.PerWriter {
				for {
					h, err := l.History(ctx, "production", release.ListOptions{Limit: 1})
					if err != nil {
						errs <- err
						return
					}
					var head release.Event
					if len(h) > 0 {
						head = h[0]
					}
					ev := release.NewEvent("production", release.Promote, r, head, release.Creator{User: fmt.Sprint("writer-", w)}, fmt.Sprint(i))
					out, err := l.AppendEvent(ctx, ev)
					if errors.Is(err, release.ErrFork) {
						var fe *release.ForkError
						if errors.As(err, &fe) {
							forks.Store(fe.Ours, fe.Place)
						}
						// Writers that keep meeting each other spread out.
						time.Sleep(time.Duration(rand.Int64N(int64(20 * time.Millisecond))))
						continue
					}
					if errors.Is(err, release.ErrConflict) {
						conflicts.Store(err.Error(), true)
						continue
					}
					if err != nil {
						errs <- err
						return
					}
					written <- out
					break
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	close(written)
	for err := range errs {
		t.Error(err)
	}
	h, err := open().History(ctx, "production", release.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(h) != o.Writers*o.PerWriter {
		t.Errorf("history holds %d events, want %d", len(h), o.Writers*o.PerWriter)
	}
	inChain := map[string]bool{}
	for _, e := range h {
		inChain[e.ID] = true
	}
	for e := range written {
		if !inChain[e.ID] {
			t.Errorf("event %s #%d was acknowledged but is not in the history", release.ShortID(e.ID), e.Sequence)
		}
	}
	slices.Reverse(h)
	if err := release.VerifyChain("production", h); err != nil {
		t.Error(err)
	}
	// Every writer told of a fork finds its record among the forks.
	fl, ok := base.(release.ForkLister)
	if !ok {
		return
	}
	listed, err := fl.Forks(ctx)
	if err != nil {
		t.Fatal(err)
	}
	lost := 0
	forks.Range(func(k, v any) bool {
		lost++
		id := strings.TrimPrefix(k.(string), "sha256:")
		if !slices.ContainsFunc(listed, func(f release.Fork) bool { return strings.HasPrefix(id, f.ID) }) {
			t.Errorf("the event refused at %v (%s) is not listed among the forks", v, release.ShortID(id))
		}
		return true
	})
	t.Logf("%d writes lost a race; %d forks listed", lost, len(listed))
}

func testSync(t *testing.T, a, b release.Ledger) {
	ctx := context.Background()
	r1 := put(t, a, Fixture("web", 1))
	r2 := put(t, a, Fixture("web", 2))
	put(t, a, Fixture("api", 3))
	promote(t, a, "production", r1, release.Promote)
	promote(t, a, "production", r2, release.Promote)
	promote(t, a, "staging", r2, release.Promote)
	st, err := release.Sync(ctx, a, b)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(release.SyncStats{Releases: 3, Events: 3}, st); diff != "" {
		t.Errorf("first sync (-want +got):\n%s", diff)
	}
	for _, app := range []string{"web", "api"} {
		wa, _ := a.ListReleases(ctx, app, release.ListOptions{})
		wb, err := b.ListReleases(ctx, app, release.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(wa, wb); diff != "" {
			t.Errorf("releases of %s after sync (-source +copy):\n%s", app, diff)
		}
	}
	for _, env := range []string{"production", "staging"} {
		ha, _ := a.History(ctx, env, release.ListOptions{})
		hb, err := b.History(ctx, env, release.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(ha, hb); diff != "" {
			t.Errorf("history of %s after sync (-source +copy):\n%s", env, diff)
		}
	}
	st, err = release.Sync(ctx, a, b)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(release.SyncStats{SkippedReleases: 3, SkippedEvents: 3}, st); diff != "" {
		t.Errorf("second sync (-want +got):\n%s", diff)
	}
	if err := release.Verify(ctx, b); err != nil {
		t.Errorf("Verify(copy): %v", err)
	}
	// Both ledgers move on independently: their production histories fork.
	promote(t, a, "production", r1, release.Rollback)
	promote(t, b, "production", r1, release.Promote)
	if _, err := release.Sync(ctx, a, b); !errors.Is(err, release.ErrFork) {
		t.Errorf("syncing diverging histories: err = %v, want ErrFork", err)
	}
}

// lookup reads releases of l by ID, for release.PlanRollback.
func lookup(ctx context.Context, l release.Ledger) release.ReleaseLookup {
	return func(id string) (release.Release, error) { return l.GetRelease(ctx, "", id) }
}
