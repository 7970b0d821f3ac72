package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/stet-dev/stet/release"
	"github.com/stet-dev/stet/release/releasetest"
)

// tamperLedger is a ledger file holding web r1 and r2, both promoted to
// staging and then staging rolled back to r1 (#3), and r1 promoted to qa.
type tamperLedger struct {
	path   string
	l      *Ledger
	r1, r2 release.Release
}

func newTamperLedger(t *testing.T) *tamperLedger {
	t.Helper()
	ctx := context.Background()
	tl := &tamperLedger{path: filepath.Join(t.TempDir(), "ledger.db")}
	tl.l = openAt(t, tl.path)
	var err error
	if tl.r1, err = tl.l.PutRelease(ctx, releasetest.Fixture("web", 1)); err != nil {
		t.Fatal(err)
	}
	if tl.r2, err = tl.l.PutRelease(ctx, releasetest.Fixture("web", 2)); err != nil {
		t.Fatal(err)
	}
	var head release.Event
	for _, step := range []struct {
		action release.Action
		r      release.Release
	}{{release.Promote, tl.r1}, {release.Promote, tl.r2}, {release.Rollback, tl.r1}} {
		if head, err = tl.l.AppendEvent(ctx, release.NewEvent("staging", step.action, step.r, head, release.Creator{User: "ci"}, "")); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := tl.l.AppendEvent(ctx, release.NewEvent("qa", release.Promote, tl.r1, release.Event{}, release.Creator{User: "ci"}, "")); err != nil {
		t.Fatal(err)
	}
	if err := release.Verify(ctx, tl.l); err != nil {
		t.Fatal(err)
	}
	return tl
}

// exec runs SQL on the file through a separate connection, as any SQLite
// client could: without the foreign keys stet turns on.
func (tl *tamperLedger) exec(t *testing.T, stmts ...string) {
	t.Helper()
	db, err := sql.Open("sqlite", tl.path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range stmts {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

const dropGuards = `DROP TRIGGER events_append_only_update; DROP TRIGGER events_append_only_delete;
DROP TRIGGER releases_append_only_update; DROP TRIGGER releases_append_only_delete`

// TestTamperedRowsRefused edits the database file the way anyone with
// write access to it could — dropping the triggers first — and checks
// that Verify reports each edit, naming the environment and event, and
// that reading what an environment runs, or extending its history,
// refuses instead of answering from the edited rows.
func TestTamperedRowsRefused(t *testing.T) {
	for _, tc := range []struct {
		name string
		sql  []string
		// env is the environment whose head is affected: Current and
		// AppendEvent must refuse it ("" when no head is affected).
		env string
		// noAppend: AppendEvent to env may go on (the head itself is
		// intact and only the release it names is gone).
		noAppend bool
		// history: History(env) must refuse as well (the rows it would
		// list are intact, but the history is not all of them).
		history bool
		// get is a selector of a release whose row was edited: GetRelease
		// must not hand it out.
		get string
		// verify lists substrings of Verify's report.
		verify []string
	}{{
		// The report that started it: #3 rolled back to r1, but the column
		// that Current read was set to r2's ID.
		name:   "release column",
		sql:    []string{`UPDATE events SET release = (SELECT release FROM events WHERE env = 'staging' AND sequence = 2) WHERE env = 'staging' AND sequence = 3`},
		env:    "staging",
		verify: []string{"history of staging breaks at event 3", "release column"},
	}, {
		name: "events reordered",
		sql: []string{
			`UPDATE events SET sequence = 10 WHERE env = 'staging' AND sequence = 3`,
			`UPDATE events SET sequence = 3 WHERE env = 'staging' AND sequence = 2`,
			`UPDATE events SET sequence = 2 WHERE env = 'staging' AND sequence = 10`,
		},
		env:    "staging",
		verify: []string{"history of staging breaks at event 2", "sequence column holds 3, but the event records 2"},
	}, {
		name:   "middle event deleted",
		sql:    []string{`DELETE FROM events WHERE env = 'staging' AND sequence = 2`},
		env:    "staging",
		verify: []string{"history of staging breaks at event 3", "names previous event"},
	}, {
		name:   "newest record edited",
		sql:    []string{`UPDATE events SET body = replace(body, '"action":"rollback"', '"action":"promote"') WHERE env = 'staging' AND sequence = 3`},
		env:    "staging",
		verify: []string{"history of staging breaks at event 3", "content does not match its ID"},
	}, {
		name:   "id column",
		sql:    []string{`UPDATE events SET id = 'sha256:' || substr(id, 8, 56) || '00000000' WHERE env = 'staging' AND sequence = 3`},
		env:    "staging",
		verify: []string{"history of staging breaks at event 3", "content does not match its ID"},
	}, {
		name:   "prev column",
		sql:    []string{`UPDATE events SET prev = NULL WHERE env = 'staging' AND sequence = 3`},
		env:    "staging",
		verify: []string{"history of staging breaks at event 3", "prev column holds NULL"},
	}, {
		name:   "time column",
		sql:    []string{`UPDATE events SET time = '2020-01-01T00:00:00.000Z' WHERE env = 'staging' AND sequence = 3`},
		env:    "staging",
		verify: []string{"history of staging breaks at event 3", "time column"},
	}, {
		name:   "event moved to another environment",
		sql:    []string{`UPDATE events SET env = 'qa', sequence = 2 WHERE env = 'staging' AND sequence = 3`},
		env:    "qa",
		verify: []string{"history of qa breaks at event 3", `env column holds qa, but the event records staging`},
	}, {
		// Only the moved row's env column says where it belongs; the
		// history it left ends one event early and links intact, so the
		// row naming staging's head as its previous event must be found.
		name:    "newest event moved to a new environment",
		sql:     []string{`UPDATE events SET env = 'prod' WHERE env = 'staging' AND sequence = 3`},
		env:     "staging",
		history: true,
		verify:  []string{"history of staging breaks at event 3", "files it under prod #3", "history of prod breaks at event 3"},
	}, {
		name:    "newest event moved to an existing environment",
		sql:     []string{`UPDATE events SET env = 'qa', sequence = 2 WHERE env = 'staging' AND sequence = 3`},
		env:     "staging",
		history: true,
		verify:  []string{"history of staging breaks at event 3", "files it under qa #2"},
	}, {
		name:     "deployed release deleted",
		sql:      []string{`DELETE FROM releases WHERE number = 1`},
		env:      "staging",
		noAppend: true,
		verify:   []string{"history of staging breaks at event 1", "history of staging breaks at event 3", "which the ledger does not hold"},
	}, {
		name:   "release numbers exchanged",
		sql:    []string{`UPDATE releases SET number = 100 WHERE number = 1`, `UPDATE releases SET number = 1 WHERE number = 2`, `UPDATE releases SET number = 2 WHERE number = 100`},
		env:    "staging",
		get:    "r1",
		verify: []string{"reading releases of web", "number column holds 2, but the record holds 1"},
	}, {
		name:   "release app column",
		sql:    []string{`UPDATE releases SET app = 'shop' WHERE number = 2`},
		get:    "r2",
		verify: []string{"reading releases of shop", "app column holds shop, but the record holds web"},
	}, {
		name:     "release created column",
		sql:      []string{`UPDATE releases SET created = '2099-01-01T00:00:00.000Z' WHERE number = 1`},
		env:      "staging",
		noAppend: true,
		get:      "r1",
		verify:   []string{"reading releases of web", "created column"},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			tl := newTamperLedger(t)
			tl.exec(t, append([]string{dropGuards}, tc.sql...)...)

			err := release.Verify(ctx, tl.l)
			if !errors.Is(err, release.ErrBroken) {
				t.Fatalf("Verify = %v, want ErrBroken", err)
			}
			for _, want := range tc.verify {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("Verify reports\n%v\nwant it to mention %q", err, want)
				}
			}
			if tc.env != "" {
				if r, err := tl.l.Current(ctx, tc.env); !errors.Is(err, release.ErrBroken) {
					t.Errorf("Current(%s) = %s, %v; want ErrBroken", tc.env, r.Label(), err)
				}
			}
			if tc.env != "" && !tc.noAppend {
				h, _ := tl.l.History(ctx, tc.env, release.ListOptions{Limit: 1})
				var head release.Event
				if len(h) > 0 {
					head = h[0]
				}
				if _, err := tl.l.AppendEvent(ctx, release.NewEvent(tc.env, release.Promote, tl.r2, head, release.Creator{User: "ci"}, "")); !errors.Is(err, release.ErrBroken) {
					t.Errorf("AppendEvent to %s = %v; want ErrBroken", tc.env, err)
				}
			}
			if tc.history {
				for _, limit := range []int{0, 1} {
					if h, err := tl.l.History(ctx, tc.env, release.ListOptions{Limit: limit}); !errors.Is(err, release.ErrBroken) {
						t.Errorf("History(%s, -n %d) = %d events, %v; want ErrBroken", tc.env, limit, len(h), err)
					}
				}
			}
			if tc.get != "" {
				if r, err := tl.l.GetRelease(ctx, "", tc.get); !errors.Is(err, release.ErrBroken) {
					t.Errorf("GetRelease(%s) = %s %s, %v; want ErrBroken", tc.get, r.Label(), release.ShortID(r.ID), err)
				}
			}
		})
	}
}

// TestUntamperedReads checks the other side: an intact ledger answers
// from the records, through every read the checks were added to.
func TestUntamperedReads(t *testing.T) {
	ctx := context.Background()
	tl := newTamperLedger(t)
	r, err := tl.l.Current(ctx, "staging")
	if err != nil || r.ID != tl.r1.ID {
		t.Fatalf("Current(staging) = %s, %v; want r1", r.Label(), err)
	}
	h, err := tl.l.History(ctx, "staging", release.ListOptions{})
	if err != nil || len(h) != 3 {
		t.Fatalf("History = %d events, %v", len(h), err)
	}
	ev, err := tl.l.AppendEvent(ctx, release.NewEvent("staging", release.Promote, tl.r2, h[0], release.Creator{User: "ci"}, ""))
	if err != nil || ev.Sequence != 4 {
		t.Fatalf("AppendEvent = #%d, %v", ev.Sequence, err)
	}
	if r, err := tl.l.GetRelease(ctx, "web", "r2"); err != nil || r.ID != tl.r2.ID {
		t.Fatalf("GetRelease(r2) = %s, %v", r.Label(), err)
	}
}

// TestUpgradeAddsPrevIndex opens a ledger written with schema version 1
// (no index on prev): opening it adds the index the head checks use, and
// the history still reads.
func TestUpgradeAddsPrevIndex(t *testing.T) {
	ctx := context.Background()
	tl := newTamperLedger(t)
	tl.l.Close()
	tl.exec(t, `DROP INDEX events_prev`, `PRAGMA user_version = 1`)
	l := openAt(t, tl.path)
	var n int
	if err := l.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name = 'events_prev'`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("events_prev indexes after the upgrade: %d, %v", n, err)
	}
	if r, err := l.Current(ctx, "staging"); err != nil || r.ID != tl.r1.ID {
		t.Fatalf("Current(staging) = %s, %v; want r1", r.Label(), err)
	}
}

// forgeDuplicate rebuilds the releases table without UNIQUE (app, number),
// as anyone with write access to the file could, and adds a second,
// validly hashed web r2 deploying other digests.
func (tl *tamperLedger) forgeDuplicate(t *testing.T) release.Release {
	t.Helper()
	forged := releasetest.Fixture("web", 9)
	forged.Number = 2
	forged.ID = forged.ComputeID()
	tl.exec(t,
		`CREATE TABLE releases_new (id TEXT PRIMARY KEY, app TEXT NOT NULL, number INTEGER NOT NULL, created TEXT NOT NULL, body BLOB NOT NULL)`,
		`INSERT INTO releases_new SELECT id, app, number, created, body FROM releases`,
		`DROP TABLE releases`,
		`ALTER TABLE releases_new RENAME TO releases`,
		fmt.Sprintf(`INSERT INTO releases VALUES ('%s', 'web', 2, '%s', X'%x')`, forged.ID, forged.Created.Format(release.TimeFormat), forged.Canonical()))
	return forged
}

// TestDuplicateReleaseNumber: a second web r2 slipped in beside the real
// one. Verify reports it, and no read that finds either hands one out as
// web r2, nor does Sync copy either.
func TestDuplicateReleaseNumber(t *testing.T) {
	ctx := context.Background()
	tl := newTamperLedger(t)
	forged := tl.forgeDuplicate(t)
	want := "web r2 is recorded 2 times"

	err := release.Verify(ctx, tl.l)
	if !errors.Is(err, release.ErrBroken) || !strings.Contains(err.Error(), want) {
		t.Errorf("Verify = %v; want ErrBroken naming %q", err, want)
	}
	for _, sel := range []string{"r2", release.ShortID(forged.ID), release.ShortID(tl.r2.ID)} {
		for _, app := range []string{"web", ""} {
			if r, err := tl.l.GetRelease(ctx, app, sel); !errors.Is(err, release.ErrBroken) || !strings.Contains(err.Error(), want) {
				t.Errorf("GetRelease(%q, %s) = %s, %v; want ErrBroken naming %q", app, sel, release.ShortID(r.ID), err, want)
			}
		}
	}
	for _, app := range []string{"web", ""} {
		if rels, err := tl.l.ListReleases(ctx, app, release.ListOptions{}); !errors.Is(err, release.ErrBroken) {
			t.Errorf("ListReleases(%q) = %d releases, %v; want ErrBroken", app, len(rels), err)
		}
	}
	// What staging runs (r1) is still answered.
	if r, err := tl.l.Current(ctx, "staging"); err != nil || r.ID != tl.r1.ID {
		t.Errorf("Current(staging) = %s, %v; want r1", r.Label(), err)
	}
	to := openAt(t, filepath.Join(t.TempDir(), "copy.db"))
	if _, err := release.Sync(ctx, tl.l, to); !errors.Is(err, release.ErrBroken) {
		t.Errorf("Sync = %v; want ErrBroken", err)
	}
	if rels, err := to.ListReleases(ctx, "", release.ListOptions{}); err != nil || len(rels) != 0 {
		t.Errorf("Sync copied %d release(s), %v; want none", len(rels), err)
	}
}

// TestAuditKeepsGoing edits several records at once: Audit reports each
// edit, and still hands out every release that verifies and the releases
// the events name, a broken history's included.
func TestAuditKeepsGoing(t *testing.T) {
	ctx := context.Background()
	tl := newTamperLedger(t)
	r3, err := tl.l.PutRelease(ctx, releasetest.Fixture("web", 3))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tl.l.AppendEvent(ctx, release.NewEvent("prod", release.Promote, r3, release.Event{}, release.Creator{User: "ci"}, "")); err != nil {
		t.Fatal(err)
	}
	tl.exec(t, dropGuards,
		// r1's record no longer matches its ID.
		`UPDATE releases SET body = replace(body, 'ghcr.io/acme/api:v1.1', 'ghcr.io/acme/api:v1.9') WHERE number = 1`,
		// prod's only event is filed at another position.
		`UPDATE events SET sequence = 7 WHERE env = 'prod'`,
		// staging's #2 and #3 are filed in each other's place.
		`UPDATE events SET sequence = 10 WHERE env = 'staging' AND sequence = 3`,
		`UPDATE events SET sequence = 3 WHERE env = 'staging' AND sequence = 2`,
		`UPDATE events SET sequence = 2 WHERE env = 'staging' AND sequence = 10`)

	rep, err := release.Audit(ctx, tl.l)
	if err != nil {
		t.Fatal(err)
	}
	var problems []string
	for _, p := range rep.Problems {
		if !errors.Is(p, release.ErrBroken) {
			t.Errorf("problem %v does not match ErrBroken", p)
		}
		problems = append(problems, p.Error())
	}
	all := strings.Join(problems, "\n")
	for _, want := range []string{
		"release " + release.ShortID(tl.r1.ID) + ": its content no longer matches its ID",
		"history of prod breaks at event 1",
		"history of staging breaks at event 2",
		"history of staging breaks at event 3",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("Audit reports\n%s\nwant it to mention %q", all, want)
		}
	}
	if strings.Contains(all, "does not hold") {
		t.Errorf("Audit reports r1, which it could not read, as missing:\n%s", all)
	}
	var got []string
	for _, r := range rep.Releases {
		got = append(got, r.Label())
	}
	if diff := cmp.Diff([]string{"web r3", "web r2"}, got); diff != "" {
		t.Errorf("Audit releases (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{r3.ID, tl.r2.ID}, rep.Deployed); diff != "" {
		t.Errorf("Audit deployed (-want +got):\n%s", diff)
	}
}
