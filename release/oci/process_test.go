package oci

import (
	"context"
	"errors"
	"math/rand/v2"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/stet-dev/stet/internal/testregistry"
	"github.com/stet-dev/stet/release"
	"github.com/stet-dev/stet/release/releasetest"
)

// TestChildWriter is the second process of TestTwoProcesses: it runs only
// when the test binary is started again with STET_OCI_CHILD set.
func TestChildWriter(t *testing.T) {
	loc := os.Getenv("STET_OCI_CHILD")
	if loc == "" {
		t.Skip("runs only as a child process")
	}
	n, _ := strconv.Atoi(os.Getenv("STET_OCI_N"))
	if err := writeLoop(context.Background(), loc, os.Getenv("STET_OCI_APP"), n); err != nil {
		t.Fatal(err)
	}
}

// writeLoop records n releases of app and promotes each to production,
// retrying when another writer got to a place first.
func writeLoop(ctx context.Context, loc, app string, n int) error {
	l, err := Open(ctx, loc)
	if err != nil {
		return err
	}
	for i := range n {
		r, err := l.PutRelease(ctx, releasetest.Fixture(app, i))
		if err != nil {
			return err
		}
		for {
			h, err := l.History(ctx, "production", release.ListOptions{Limit: 1})
			if err != nil {
				return err
			}
			var head release.Event
			if len(h) > 0 {
				head = h[0]
			}
			_, err = l.AppendEvent(ctx, release.NewEvent("production", release.Promote, r, head, release.Creator{User: app}, ""))
			if errors.Is(err, release.ErrConflict) {
				time.Sleep(time.Duration(rand.Int64N(int64(20 * time.Millisecond))))
				continue
			}
			if err != nil {
				return err
			}
			break
		}
	}
	return nil
}

func TestTwoProcesses(t *testing.T) {
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	for _, reg := range []struct {
		name  string
		start func(testing.TB) string
	}{
		{"in-process", inProcess},
		{"distribution", func(t testing.TB) string { return testregistry.Distribution(t, testregistry.Options{}) }},
	} {
		t.Run(reg.name, func(t *testing.T) {
			loc := "oci://" + reg.start(t) + "/stet/two-processes"
			const n = 8
			cmd := exec.Command(os.Args[0], "-test.run=^TestChildWriter$", "-test.count=1")
			cmd.Env = append(os.Environ(), "STET_OCI_CHILD="+loc, "STET_OCI_APP=api", "STET_OCI_N="+strconv.Itoa(n))
			cmd.Stderr = os.Stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			if err := writeLoop(ctx, loc, "web", n); err != nil {
				t.Error(err)
			}
			if err := cmd.Wait(); err != nil {
				t.Fatalf("child: %v", err)
			}
			l, err := Open(ctx, loc)
			if err != nil {
				t.Fatal(err)
			}
			for _, app := range []string{"web", "api"} {
				rs, err := l.ListReleases(ctx, app, release.ListOptions{})
				if err != nil {
					t.Fatal(err)
				}
				got := map[string]bool{}
				for _, r := range rs {
					got[r.Annotations["ticket"]] = true
				}
				if len(rs) != n || len(got) != n {
					t.Errorf("%s has %d releases (%d distinct), want %d", app, len(rs), len(got), n)
				}
			}
			h, err := l.History(ctx, "production", release.ListOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if len(h) != 2*n {
				t.Errorf("history holds %d events, want %d", len(h), 2*n)
			}
			slices.Reverse(h)
			if err := release.VerifyChain("production", h); err != nil {
				t.Error(err)
			}
			if err := release.Verify(ctx, l); err != nil {
				t.Error(err)
			}
		})
	}
}
