package release_test

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/stet-dev/stet/release"
	"github.com/stet-dev/stet/release/releasetest"
)

var update = flag.Bool("update", false, "rewrite golden files")

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s (-want +got):\n%s", name, diff)
	}
}

func fixture() release.Release {
	r := releasetest.Fixture("web", 3)
	r.Number = 42
	r.Parent = releasetest.Digest("parent")
	r.Annotations["note"] = "a <b> & c"
	return r
}

func TestCanonicalRelease(t *testing.T) {
	r := fixture()
	b := r.Canonical()
	golden(t, "release.json", b)
	got, err := release.ParseRelease(b)
	if err != nil {
		t.Fatal(err)
	}
	r.ID = r.ComputeID()
	if diff := cmp.Diff(r, got); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	golden(t, "release.id", []byte(r.ID+"\n"))
}

func TestCanonicalEvent(t *testing.T) {
	e := release.Event{Env: "production", Sequence: 2, Action: release.Rollback,
		Release: releasetest.Digest("r"), App: "web", Number: 42,
		Time:   time.Date(2026, 11, 25, 20, 1, 2, 345_000_000, time.UTC),
		Actor:  release.Creator{User: "alice", CI: map[string]string{"CI_JOB_URL": "https://gitlab.example/j/1"}},
		Reason: "502s after r43", Prev: releasetest.Digest("e1")}
	b := e.Canonical()
	golden(t, "event.json", b)
	got, err := release.ParseEvent(b)
	if err != nil {
		t.Fatal(err)
	}
	e.ID = e.ComputeID()
	if diff := cmp.Diff(e, got); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
}

func TestParseReleaseRefuses(t *testing.T) {
	good := string(fixture().Canonical())
	tests := map[string]string{
		"whitespace":     " " + good,
		"trailing data":  good + "{}",
		"unknown field":  `{"zzz":1,` + good[1:],
		"id field":       `{"id":"x",` + good[1:],
		"not json":       "release",
		"reordered keys": `{"number":42,` + good[1:len(good)-1] + `}`,
	}
	for name, in := range tests {
		t.Run(name, func(t *testing.T) {
			if _, err := release.ParseRelease([]byte(in)); !errors.Is(err, release.ErrInvalid) {
				t.Errorf("ParseRelease: err = %v, want ErrInvalid", err)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	mod := func(f func(*release.Release)) release.Release {
		r := fixture()
		r.Images = map[string]release.Image{"web": r.Images["web"]}
		f(&r)
		return r
	}
	tests := map[string]release.Release{
		"tag without digest": mod(func(r *release.Release) { r.Images["web"] = release.Image{Reference: "docker.io/library/nginx:1"} }),
		"familiar name": mod(func(r *release.Release) {
			r.Images["web"] = release.Image{Reference: "nginx:1", Digest: releasetest.Digest("x")}
		}),
		"digest in ref": mod(func(r *release.Release) {
			r.Images["web"] = release.Image{Reference: "docker.io/library/nginx:1@" + releasetest.Digest("x"), Digest: releasetest.Digest("x")}
		}),
		"no images":      mod(func(r *release.Release) { r.Images = nil }),
		"upper-case app": mod(func(r *release.Release) { r.App = "Web" }),
		"short commit":   mod(func(r *release.Release) { r.Git.Commit = "abc123" }),
		"local time":     mod(func(r *release.Release) { r.Created = r.Created.In(time.FixedZone("x", 3600)) }),
		"nanoseconds":    mod(func(r *release.Release) { r.Created = r.Created.Add(1) }),
		"unsorted platforms": mod(func(r *release.Release) {
			im := r.Images["web"]
			im.Platforms = []string{"linux/arm64", "linux/amd64"}
			r.Images["web"] = im
		}),
		"bad ci name":   mod(func(r *release.Release) { r.Creator.CI = map[string]string{"run id": "1"} }),
		"invalid utf-8": mod(func(r *release.Release) { r.Annotations["x"] = "\xff" }),
	}
	for name, r := range tests {
		t.Run(name, func(t *testing.T) {
			if err := r.Validate(); !errors.Is(err, release.ErrInvalid) {
				t.Errorf("Validate = %v, want ErrInvalid", err)
			}
		})
	}
	if err := fixture().Validate(); err != nil {
		t.Errorf("fixture does not validate: %v", err)
	}
}

func TestNewImage(t *testing.T) {
	d := releasetest.Digest("x")
	got, err := release.NewImage("nginx:1-alpine@"+d, "", "application/vnd.oci.image.index.v1+json", []string{"linux/arm64", "linux/amd64", "linux/amd64"})
	if err != nil {
		t.Fatal(err)
	}
	want := release.Image{Reference: "docker.io/library/nginx:1-alpine", Digest: d,
		MediaType: "application/vnd.oci.image.index.v1+json", Platforms: []string{"linux/amd64", "linux/arm64"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("NewImage (-want +got):\n%s", diff)
	}
	if _, err := release.NewImage("nginx:1", "", "", nil); !errors.Is(err, release.ErrInvalid) {
		t.Errorf("NewImage without digest: err = %v, want ErrInvalid", err)
	}
	if _, err := release.NewImage("nginx@"+d, releasetest.Digest("y"), "", nil); !errors.Is(err, release.ErrInvalid) {
		t.Errorf("NewImage with two digests: err = %v, want ErrInvalid", err)
	}
}

func chain(n int) []release.Event {
	var out []release.Event
	prev := ""
	for i := 1; i <= n; i++ {
		e := release.Event{Env: "prod", Sequence: int64(i), Action: release.Promote, Release: releasetest.Digest("r"),
			App: "web", Number: 1, Time: releasetest.Epoch.Add(time.Duration(i) * time.Second), Prev: prev}
		e.ID = e.ComputeID()
		prev = e.ID
		out = append(out, e)
	}
	return out
}

func TestVerifyChain(t *testing.T) {
	tests := map[string]struct {
		edit func([]release.Event) []release.Event
		seq  int64 // of the first break; 0 for none
	}{
		"intact":        {func(c []release.Event) []release.Event { return c }, 0},
		"edited":        {func(c []release.Event) []release.Event { c[2].Reason = "edited"; return c }, 3},
		"removed":       {func(c []release.Event) []release.Event { return slices.Delete(c, 2, 3) }, 4},
		"removed first": {func(c []release.Event) []release.Event { return c[1:] }, 2},
		"swapped":       {func(c []release.Event) []release.Event { c[1], c[2] = c[2], c[1]; return c }, 3},
		"rehashed":      {func(c []release.Event) []release.Event { c[2].Reason = "x"; c[2].ID = c[2].ComputeID(); return c }, 4},
		"other env":     {func(c []release.Event) []release.Event { c[0].Env = "qa"; c[0].ID = c[0].ComputeID(); return c }, 1},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			err := release.VerifyChain("prod", tt.edit(chain(5)))
			var ce *release.ChainError
			switch {
			case tt.seq == 0 && err != nil:
				t.Errorf("VerifyChain = %v, want nil", err)
			case tt.seq != 0 && !errors.As(err, &ce):
				t.Errorf("VerifyChain = %v, want a *ChainError", err)
			case tt.seq != 0 && ce.Sequence != tt.seq:
				t.Errorf("break reported at %d (%v), want %d", ce.Sequence, err, tt.seq)
			}
			if tt.seq != 0 && !errors.Is(err, release.ErrBroken) {
				t.Errorf("error %v does not match ErrBroken", err)
			}
		})
	}
}

func TestVerifyHead(t *testing.T) {
	// top returns the n newest events of a history of 5, newest first,
	// as History returns them with a limit.
	top := func(n int) []release.Event {
		c := chain(5)
		slices.Reverse(c)
		return c[:n]
	}
	tests := map[string]struct {
		events []release.Event
		seq    int64 // of the break; 0 for none
	}{
		"empty":              {nil, 0},
		"intact":             {top(2), 0},
		"only event":         {chain(1), 0},
		"head edited":        {func() []release.Event { c := top(2); c[0].Release = releasetest.Digest("other"); return c }(), 5},
		"second edited":      {func() []release.Event { c := top(2); c[1].Reason = "x"; return c }(), 4},
		"second rehashed":    {func() []release.Event { c := top(2); c[1].Reason = "x"; c[1].ID = c[1].ComputeID(); return c }(), 5},
		"event between gone": {func() []release.Event { c := top(3); return []release.Event{c[0], c[2]} }(), 5},
		"predecessor gone":   {top(1), 5},
		"reordered":          {func() []release.Event { c := top(2); c[0], c[1] = c[1], c[0]; return c }(), 4},
		"other env":          {func() []release.Event { c := chain(1); c[0].Env = "qa"; c[0].ID = c[0].ComputeID(); return c }(), 1},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			err := release.VerifyHead("prod", tt.events)
			var ce *release.ChainError
			switch {
			case tt.seq == 0 && err != nil:
				t.Errorf("VerifyHead = %v, want nil", err)
			case tt.seq != 0 && !errors.As(err, &ce):
				t.Errorf("VerifyHead = %v, want a *ChainError", err)
			case tt.seq != 0 && ce.Sequence != tt.seq:
				t.Errorf("break reported at %d (%v), want %d", ce.Sequence, err, tt.seq)
			}
		})
	}
}

func TestPlanRollback(t *testing.T) {
	// rels are releases by name: web r1 to r5 and api a1, each deploying
	// one image whose digest is named after the letter given.
	rels := map[string]release.Release{}
	for name, spec := range map[string]struct {
		app    string
		n      int
		digest string
	}{
		"r1": {"web", 1, "a"}, "r2": {"web", 2, "b"}, "r3": {"web", 3, "c"},
		"r4": {"web", 4, "a"}, "r5": {"web", 5, "b"}, "a1": {"api", 1, "z"},
	} {
		r := releasetest.Fixture(spec.app, spec.n)
		r.Number = int64(spec.n)
		r.Images = map[string]release.Image{"web": {Reference: "docker.io/library/nginx:1-alpine", Digest: releasetest.Digest(spec.digest)}}
		r.ID = r.ComputeID()
		rels[name] = r
	}
	lookup := func(id string) (release.Release, error) {
		for _, r := range rels {
			if r.ID == id {
				return r, nil
			}
		}
		return release.Release{}, release.ErrNotFound
	}
	ev := func(action release.Action, name string) release.Event {
		r, ok := rels[name]
		if !ok {
			r = rels["r1"]
			r.ID = releasetest.Digest(name)
		}
		return release.Event{Action: action, Release: r.ID, App: r.App, Number: r.Number, Env: "prod"}
	}
	p, rb := release.Promote, release.Rollback
	tests := map[string]struct {
		newestFirst []release.Event
		to          string
		want        string // release name, or the error it matches
	}{
		"previous":           {[]release.Event{ev(p, "r3"), ev(p, "r2"), ev(p, "r1")}, "", "r2"},
		"skips same release": {[]release.Event{ev(p, "r3"), ev(p, "r3"), ev(p, "r1")}, "", "r1"},
		"skips rolled-back":  {[]release.Event{ev(rb, "r2"), ev(p, "r3"), ev(p, "r2"), ev(p, "r1")}, "", "r1"},
		"skips other app":    {[]release.Event{ev(p, "r3"), ev(p, "a1"), ev(p, "r1")}, "", "r1"},
		// r4 deploys r1's digests: rolling back to r1 would change nothing.
		"skips same digests": {[]release.Event{ev(p, "r4"), ev(p, "r1"), ev(p, "r3")}, "", "r3"},
		"only same digests":  {[]release.Event{ev(p, "r4"), ev(p, "r1")}, "", "not found"},
		// The first rollback removed r5; r2 deploys r5's digests.
		"skips removed digests": {[]release.Event{ev(rb, "r3"), ev(p, "r5"), ev(p, "r3"), ev(p, "r2"), ev(p, "r1")}, "", "r1"},
		// r1, r2, r4 (= r1) promoted; rolled back to r2; rolling back
		// again must not redeploy r4's digests under r1's name.
		"twice does not return": {[]release.Event{ev(rb, "r2"), ev(p, "r4"), ev(p, "r2"), ev(p, "r1")}, "", "not found"},
		"explicit":              {[]release.Event{ev(p, "r3"), ev(p, "r2")}, rels["r1"].ID, "r1"},
		"explicit is current":   {[]release.Event{ev(p, "r3")}, rels["r3"].ID, "invalid"},
		"explicit same digests": {[]release.Event{ev(p, "r4"), ev(p, "r3")}, rels["r1"].ID, "invalid"},
		"nothing earlier":       {[]release.Event{ev(p, "r1")}, "", "not found"},
		"empty":                 {nil, "", "not found"},
		"release not held":      {[]release.Event{ev(p, "r3"), ev(p, "gone"), ev(p, "r1")}, "", "broken"},
		"current not held":      {[]release.Event{ev(p, "gone"), ev(p, "r1")}, "", "broken"},
		"event misnames release": {[]release.Event{ev(p, "r3"), func() release.Event {
			e := ev(p, "r2")
			e.Number = 7
			return e
		}(), ev(p, "r1")}, "", "broken"},
	}
	errs := map[string]error{"not found": release.ErrNotFound, "invalid": release.ErrInvalid, "broken": release.ErrBroken}
	tampered := link([]release.Event{ev(p, "r3"), ev(p, "r2"), ev(p, "r1")})
	tampered[1].Release = rels["r1"].ID
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			plan, err := release.PlanRollback(link(tt.newestFirst), tt.to, lookup)
			if want, ok := errs[tt.want]; ok {
				if !errors.Is(err, want) {
					t.Errorf("PlanRollback = %s, %v; want an error matching %v", release.ShortID(plan.Target), err, want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if plan.Target != rels[tt.want].ID {
				t.Errorf("PlanRollback target %s, want %s", release.ShortID(plan.Target), tt.want)
			}
		})
	}
	if _, err := release.PlanRollback(tampered, "", lookup); !errors.Is(err, release.ErrBroken) {
		t.Errorf("PlanRollback of an edited history: err = %v, want ErrBroken", err)
	}
}

// link numbers, times and chains events given newest first.
func link(newestFirst []release.Event) []release.Event {
	out := slices.Clone(newestFirst)
	prev := ""
	for i := len(out) - 1; i >= 0; i-- {
		e := &out[i]
		e.Sequence = int64(len(out) - i)
		e.Time = releasetest.Epoch.Add(time.Duration(e.Sequence) * time.Minute)
		if e.Number == 0 {
			e.Number = 1
		}
		e.Prev = prev
		e.ID = e.ComputeID()
		prev = e.ID
	}
	return out
}

func TestParseSelector(t *testing.T) {
	tests := map[string]release.Selector{
		"r42":               {Number: 42},
		"R7":                {Number: 7},
		"abcd":              {IDPrefix: "abcd"},
		"sha256:ABCDEF0123": {IDPrefix: "abcdef0123"},
		"0042":              {IDPrefix: "0042"},
	}
	for in, want := range tests {
		got, err := release.ParseSelector(in)
		if err != nil || got != want {
			t.Errorf("ParseSelector(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "r", "r-1", "r0", "abc", "production", "r1x", "sha256:"} {
		if got, err := release.ParseSelector(in); !errors.Is(err, release.ErrInvalid) {
			t.Errorf("ParseSelector(%q) = %+v, %v; want ErrInvalid", in, got, err)
		}
	}
}

func FuzzParseRelease(f *testing.F) {
	f.Add(fixture().Canonical())
	f.Add([]byte(`{"app":"web","images":{}}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := release.ParseRelease(data)
		if err != nil {
			return
		}
		if string(r.Canonical()) != string(data) {
			t.Fatalf("accepted a non-canonical encoding:\n%s\nre-encoded:\n%s", data, r.Canonical())
		}
		if r.ID != r.ComputeID() {
			t.Fatalf("ID %s, want %s", r.ID, r.ComputeID())
		}
		if err := r.Validate(); err != nil {
			t.Fatalf("accepted an invalid release: %v", err)
		}
	})
}

func FuzzParseEvent(f *testing.F) {
	for _, e := range chain(2) {
		f.Add(e.Canonical())
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := release.ParseEvent(data)
		if err != nil {
			return
		}
		if string(e.Canonical()) != string(data) || e.ID != e.ComputeID() {
			t.Fatalf("accepted a non-canonical encoding: %s", data)
		}
	})
}
