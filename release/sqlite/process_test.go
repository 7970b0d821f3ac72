package sqlite

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"github.com/stet-dev/stet/release"
	"github.com/stet-dev/stet/release/releasetest"
)

// TestChildWriter is not a test of its own: the tests below run the test
// binary again with STET_LEDGER_CHILD set, and this function is then the
// second process writing to the same ledger. It records N releases of app
// CHILD_APP and promotes each to production, printing "ok <n>" per pair.
func TestChildWriter(t *testing.T) {
	path := os.Getenv("STET_LEDGER_CHILD")
	if path == "" {
		t.Skip("runs only as a child process")
	}
	n, _ := strconv.Atoi(os.Getenv("STET_LEDGER_N"))
	app := os.Getenv("STET_LEDGER_APP")
	ctx := context.Background()
	l, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	for i := range n {
		r, err := l.PutRelease(ctx, releasetest.Fixture(app, i))
		if err != nil {
			t.Fatal(err)
		}
		if err := appendRetrying(ctx, l, "production", r); err != nil {
			t.Fatal(err)
		}
		fmt.Printf("ok %d\n", i)
	}
}

func appendRetrying(ctx context.Context, l release.Ledger, env string, r release.Release) error {
	for {
		h, err := l.History(ctx, env, release.ListOptions{Limit: 1})
		if err != nil {
			return err
		}
		var head release.Event
		if len(h) > 0 {
			head = h[0]
		}
		_, err = l.AppendEvent(ctx, release.NewEvent(env, release.Promote, r, head, release.Creator{User: r.App}, ""))
		if errors.Is(err, release.ErrConflict) {
			continue
		}
		return err
	}
}

func child(t *testing.T, path, app string, n int) *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^TestChildWriter$", "-test.count=1")
	cmd.Env = append(os.Environ(), "STET_LEDGER_CHILD="+path, "STET_LEDGER_APP="+app, "STET_LEDGER_N="+strconv.Itoa(n))
	cmd.Stderr = os.Stderr
	return cmd
}

func TestTwoProcesses(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ledger.db")
	ctx := context.Background()
	l := openAt(t, path)
	const n = 25
	cmd := child(t, path, "api", n)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		r, err := l.PutRelease(ctx, releasetest.Fixture("web", i))
		if err != nil {
			t.Fatal(err)
		}
		if err := appendRetrying(ctx, l, "production", r); err != nil {
			t.Fatal(err)
		}
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("child: %v", err)
	}
	for _, app := range []string{"web", "api"} {
		rs, err := l.ListReleases(ctx, app, release.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if len(rs) != n || rs[0].Number != n {
			t.Errorf("%s has %d releases up to r%d, want %d", app, len(rs), rs[0].Number, n)
		}
	}
	h, err := l.History(ctx, "production", release.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(h) != 2*n {
		t.Errorf("production history holds %d events, want %d", len(h), 2*n)
	}
	if err := release.Verify(ctx, l); err != nil {
		t.Error(err)
	}
}

func TestKilledWriter(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ledger.db")
	cmd := child(t, path, "web", 1_000_000)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Kill the writer in the middle of its loop, after some writes landed.
	sc := bufio.NewScanner(out)
	acked := -1
	for sc.Scan() {
		if _, err := fmt.Sscanf(sc.Text(), "ok %d", &acked); err == nil && acked >= 30 {
			break
		}
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	if acked < 30 {
		t.Fatalf("child stopped after %d writes", acked)
	}
	ctx := context.Background()
	l := openAt(t, path)
	if err := l.Check(ctx); err != nil {
		t.Fatalf("after a kill: %v", err)
	}
	if err := release.Verify(ctx, l); err != nil {
		t.Fatalf("after a kill: %v", err)
	}
	rs, err := l.ListReleases(ctx, "web", release.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) < acked+1 {
		t.Errorf("ledger holds %d releases, but %d were acknowledged", len(rs), acked+1)
	}
	// The ledger keeps working after the crash.
	r, err := l.PutRelease(ctx, releasetest.Fixture("web", -1))
	if err != nil {
		t.Fatal(err)
	}
	if r.Number != int64(len(rs)+1) {
		t.Errorf("next release number %d, want %d", r.Number, len(rs)+1)
	}
}

func TestAppendOnly(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ledger.db")
	ctx := context.Background()
	l := openAt(t, path)
	var evs []release.Event
	for i := 1; i <= 4; i++ {
		r, err := l.PutRelease(ctx, releasetest.Fixture("web", i))
		if err != nil {
			t.Fatal(err)
		}
		if err := appendRetrying(ctx, l, "production", r); err != nil {
			t.Fatal(err)
		}
	}
	evs, err := l.History(ctx, "production", release.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range []string{
		`UPDATE events SET body = body WHERE sequence = 2`,
		`DELETE FROM events WHERE sequence = 4`,
		`UPDATE releases SET app = 'x'`,
		`DELETE FROM releases`,
		`INSERT INTO events (id, env, sequence, prev, release, time, body) SELECT 'sha256:x', env, 9, prev, release, time, body FROM events WHERE sequence = 2`,
	} {
		if _, err := db.Exec(q); err == nil {
			t.Errorf("%s succeeded; the ledger must refuse it", q)
		}
	}
	// Someone with write access drops the guard and edits an event.
	tampered := evs[2] // sequence 2
	tampered.Reason = "nothing to see"
	if _, err := db.Exec(`DROP TRIGGER events_append_only_update`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`UPDATE events SET body = ? WHERE id = ?`, tampered.Canonical(), tampered.ID); err != nil {
		t.Fatal(err)
	}
	err = release.Verify(ctx, l)
	var ce *release.ChainError
	if !errors.As(err, &ce) || ce.Sequence != 2 {
		t.Fatalf("Verify after tampering = %v, want a break at event 2", err)
	}
	h, _ := l.History(ctx, "production", release.ListOptions{})
	slices.Reverse(h)
	if err := release.VerifyChain("production", h); !errors.Is(err, release.ErrBroken) {
		t.Errorf("VerifyChain = %v, want ErrBroken", err)
	}
}

func TestNewerSchemaRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ledger.db")
	openAt(t, path).Close()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(fmt.Sprintf("PRAGMA user_version = %d", SchemaVersion+1)); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if l, err := Open(context.Background(), path); err == nil {
		l.Close()
		t.Error("opened a ledger with a newer schema")
	}
}

func TestTamperedReleaseRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ledger.db")
	ctx := context.Background()
	l := openAt(t, path)
	r, err := l.PutRelease(ctx, releasetest.Fixture("web", 1))
	if err != nil {
		t.Fatal(err)
	}
	// Someone points r1's image at other bytes, behind the ledger's back.
	edited := r
	edited.Images = map[string]release.Image{"web": {Reference: "docker.io/library/nginx:1-alpine", Digest: releasetest.Digest("evil")}}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`DROP TRIGGER releases_append_only_update`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`UPDATE releases SET body = ? WHERE id = ?`, edited.Canonical(), r.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := l.GetRelease(ctx, "web", "r1"); !errors.Is(err, release.ErrBroken) {
		t.Errorf("GetRelease of an edited record: err = %v, want ErrBroken", err)
	}
	if err := release.Verify(ctx, l); !errors.Is(err, release.ErrBroken) {
		t.Errorf("Verify = %v, want ErrBroken", err)
	}
}
