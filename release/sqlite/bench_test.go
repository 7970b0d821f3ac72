package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stet-dev/stet/release"
	"github.com/stet-dev/stet/release/releasetest"
)

const (
	benchReleases = 10_000
	benchEvents   = 100_000
	benchEnvs     = 10
)

var (
	benchOnce sync.Once
	benchPath string
	benchErr  error
)

// benchLedger builds, once per run, a ledger of 10,000 releases (of one
// app) and 100,000 events over 10 environments, written in one
// transaction with the same encodings PutRelease and AppendEvent store.
func benchLedger(b *testing.B) *Ledger {
	benchOnce.Do(func() {
		dir, err := os.MkdirTemp("", "stet-ledger-bench")
		if err != nil {
			benchErr = err
			return
		}
		benchPath = filepath.Join(dir, "ledger.db")
		benchErr = fill(benchPath)
	})
	if benchErr != nil {
		b.Fatal(benchErr)
	}
	l, err := Open(context.Background(), benchPath)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { l.Close() })
	return l
}

func fill(path string) error {
	ctx := context.Background()
	l, err := Open(ctx, path)
	if err != nil {
		return err
	}
	defer l.Close()
	return l.tx(ctx, func(tx *sql.Tx) error {
		ids := make([]string, benchReleases)
		for i := range benchReleases {
			r := releasetest.Fixture("web", i)
			r.Number = int64(i + 1)
			r.ID = r.ComputeID()
			ids[i] = r.ID
			if _, err := tx.Exec(`INSERT INTO releases (id, app, number, created, body) VALUES (?, ?, ?, ?, ?)`,
				r.ID, r.App, r.Number, r.Created.Format(release.TimeFormat), r.Canonical()); err != nil {
				return err
			}
		}
		prev := make([]string, benchEnvs)
		for i := range benchEvents {
			env := i % benchEnvs
			ri := (i / benchEnvs) % benchReleases
			e := release.Event{Env: fmt.Sprintf("env-%d", env), Sequence: int64(i/benchEnvs + 1), Action: release.Promote,
				Release: ids[ri], App: "web", Number: int64(ri + 1), Time: releasetest.Epoch.Add(time.Duration(i) * time.Second),
				Actor: release.Creator{User: "ci"}, Prev: prev[env]}
			e.ID = e.ComputeID()
			var p any
			if e.Prev != "" {
				p = e.Prev
			}
			if _, err := tx.Exec(`INSERT INTO events (id, env, sequence, prev, release, time, body) VALUES (?, ?, ?, ?, ?, ?, ?)`,
				e.ID, e.Env, e.Sequence, p, e.Release, e.Time.Format(release.TimeFormat), e.Canonical()); err != nil {
				return err
			}
			prev[env] = e.ID
		}
		return nil
	})
}

func BenchmarkList(b *testing.B) {
	l := benchLedger(b)
	ctx := context.Background()
	for b.Loop() {
		rs, err := l.ListReleases(ctx, "web", release.ListOptions{Limit: 20})
		if err != nil || len(rs) != 20 {
			b.Fatal(len(rs), err)
		}
	}
}

func BenchmarkListAllApps(b *testing.B) {
	l := benchLedger(b)
	ctx := context.Background()
	for b.Loop() {
		if _, err := l.ListReleases(ctx, "", release.ListOptions{Limit: 20}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkHistory(b *testing.B) {
	l := benchLedger(b)
	ctx := context.Background()
	for b.Loop() {
		h, err := l.History(ctx, "env-3", release.ListOptions{Limit: 20})
		if err != nil || len(h) != 20 {
			b.Fatal(len(h), err)
		}
	}
}

func BenchmarkShowNumber(b *testing.B) {
	l := benchLedger(b)
	ctx := context.Background()
	for b.Loop() {
		if _, err := l.GetRelease(ctx, "web", "r4242"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkShowIDPrefix(b *testing.B) {
	l := benchLedger(b)
	ctx := context.Background()
	want := releasetest.Fixture("web", 4241)
	want.Number = 4242
	prefix := release.ShortID(want.ComputeID())
	for b.Loop() {
		if _, err := l.GetRelease(ctx, "", prefix); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCurrent(b *testing.B) {
	l := benchLedger(b)
	ctx := context.Background()
	for b.Loop() {
		if _, err := l.Current(ctx, "env-7"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAppendEvent(b *testing.B) {
	l := benchLedger(b)
	ctx := context.Background()
	r, err := l.GetRelease(ctx, "web", "r1")
	if err != nil {
		b.Fatal(err)
	}
	env := fmt.Sprintf("bench-%d", time.Now().UnixNano())
	for b.Loop() {
		if err := appendRetrying(ctx, l, env, r); err != nil {
			b.Fatal(err)
		}
	}
}

func TestMain(m *testing.M) {
	code := m.Run()
	if benchPath != "" {
		os.RemoveAll(filepath.Dir(benchPath))
	}
	os.Exit(code)
}

// BenchmarkDeployedTo is what list and show add to find where releases
// run: each environment's two newest events, the newest checked against
// its hash and its link (release.VerifyHead).
func BenchmarkDeployedTo(b *testing.B) {
	l := benchLedger(b)
	ctx := context.Background()
	for b.Loop() {
		envs, err := l.Envs(ctx)
		if err != nil || len(envs) < benchEnvs {
			b.Fatal(len(envs), err)
		}
		for _, env := range envs {
			h, err := l.History(ctx, env, release.ListOptions{Limit: 2})
			if err != nil {
				b.Fatal(err)
			}
			if err := release.VerifyHead(env, h); err != nil {
				b.Fatal(err)
			}
		}
	}
}

func BenchmarkEnvs(b *testing.B) {
	l := benchLedger(b)
	ctx := context.Background()
	for b.Loop() {
		if envs, err := l.Envs(ctx); err != nil || len(envs) < benchEnvs {
			b.Fatal(len(envs), err)
		}
	}
}
