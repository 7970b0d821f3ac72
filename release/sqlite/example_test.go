package sqlite_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/stet-dev/stet/release"
	"github.com/stet-dev/stet/release/sqlite"
)

// A release is recorded once, by digest, promoted, and rolled back to the
// exact digests of the previous one.
func Example() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "ledger")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	l, err := sqlite.Open(ctx, filepath.Join(dir, ".stet", "ledger.db"))
	if err != nil {
		log.Fatal(err)
	}
	defer l.Close()

	created := time.Date(2026, 11, 25, 19, 0, 0, 0, time.UTC)
	var head release.Event
	for i, digest := range []string{
		"sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
		"sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
	} {
		img, err := release.NewImage("nginx:1-alpine", digest, "", nil)
		if err != nil {
			log.Fatal(err)
		}
		r, err := l.PutRelease(ctx, release.Release{
			App: "web", Images: map[string]release.Image{"web": img},
			Created: created.Add(time.Duration(i) * time.Hour),
		})
		if err != nil {
			log.Fatal(err)
		}
		head, err = l.AppendEvent(ctx, release.NewEvent("production", release.Promote, r, head, release.Creator{User: "ci"}, ""))
		if err != nil {
			log.Fatal(err)
		}
	}

	h, err := l.History(ctx, "production", release.ListOptions{Limit: 50})
	if err != nil {
		log.Fatal(err)
	}
	plan, err := release.PlanRollback(h, "", func(id string) (release.Release, error) {
		return l.GetRelease(ctx, "", id)
	})
	if err != nil {
		log.Fatal(err)
	}
	target, err := l.GetRelease(ctx, "web", plan.Target)
	if err != nil {
		log.Fatal(err)
	}
	if _, err := l.AppendEvent(ctx, release.NewEvent("production", release.Rollback, target, h[0], release.Creator{User: "alice"}, "502s")); err != nil {
		log.Fatal(err)
	}
	cur, err := l.Current(ctx, "production")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(cur.Label(), cur.Images["web"].Pinned())
	// Output: web r1 docker.io/library/nginx:1-alpine@sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
}
