package cli

import (
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stet-dev/stet/release"
)

// tamperedStory is the story up to production rolled back to r1 (#3),
// after sqlStmts ran on its SQLite ledger through a client of its own.
func tamperedStory(t *testing.T, sqlStmts ...string) *relStory {
	t.Helper()
	reg := newStoryRegistry(t)
	path := filepath.Join(t.TempDir(), ".stet", "ledger.db")
	s := newStory(t, reg.host, "sqlite:"+path)
	s.upToR2()
	s.must("release", "rollback", "--env", "production")
	if out := s.must("release", "show", "production"); !strings.HasPrefix(out, "shop r1 ") {
		t.Fatalf("production runs, before the edit:\n%s", out)
	}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range sqlStmts {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	return s
}

// TestReleaseTamperedLedger replays an edit of a SQLite ledger that once
// went unnoticed: production ran r1, r2, then was rolled back to r1 (#3);
// someone drops the guard trigger and points the rollback's row at r2. No
// command may then deploy r2 as what production runs, and verify must
// name the break.
func TestReleaseTamperedLedger(t *testing.T) {
	s := tamperedStory(t,
		`DROP TRIGGER events_append_only_update`,
		`UPDATE events SET release = (SELECT release FROM events WHERE env = 'production' AND sequence = 2) WHERE env = 'production' AND sequence = 3`)

	code, out, errOut := s.stet("release", "verify")
	if code != ExitFindings || !strings.Contains(out, "broken   history of production breaks at event 3 (") || !strings.Contains(out, "release column") {
		t.Errorf("release verify: exit %d, want %d naming production's event 3\n%s%s", code, ExitFindings, out, errOut)
	}
	code, out, errOut = s.stet("release", "verify", "--format", "json")
	if code != ExitFindings || !strings.Contains(out, `"ok": false`) || !strings.Contains(out, "history of production breaks at event 3") {
		t.Errorf("release verify --format json: exit %d\n%s%s", code, out, errOut)
	}

	before, _ := os.ReadFile(s.manifest)
	for _, args := range [][]string{
		{"release", "show", "production"},
		{"release", "history", "production"},
		{"release", "promote", "production", "--env", "qa"},
		{"release", "promote", "r2", "--env", "production"},
		{"release", "render", "production", filepath.Join(s.dir, "deploy")},
		{"release", "rollback", "--env", "production", "--dry-run"},
		{"release", "rollback", "--env", "production", "--to", "r2"},
	} {
		code, out, errOut := s.stet(args...)
		if code != ExitFindings || !strings.Contains(errOut, "history of production breaks at event 3") {
			t.Errorf("stet %s: exit %d, want %d naming the break\n%s%s", strings.Join(args, " "), code, ExitFindings, out, errOut)
		}
		if strings.Contains(out, s.s2) {
			t.Errorf("stet %s printed r2's digest as production's:\n%s", strings.Join(args, " "), out)
		}
	}
	if got, _ := os.ReadFile(s.manifest); string(got) != string(before) {
		t.Errorf("a refused command wrote the manifest:\n%s", got)
	}
	// Nothing was recorded anywhere.
	if code, out, errOut := s.stet("release", "history", "qa"); code != ExitOK || out != "" || !strings.Contains(errOut, "nothing was deployed to qa") {
		t.Errorf("history qa after refused promotions: exit %d\n%s%s", code, out, errOut)
	}

	// The records themselves are intact: a release is still shown, with
	// the break reported and production left out of "deployed to".
	code, out, errOut = s.stet("release", "show", "r2")
	if code != ExitFindings || !strings.HasPrefix(out, "shop r2 ") || strings.Contains(out, "deployed to") || !strings.Contains(errOut, "history of production breaks at event 3") {
		t.Errorf("show r2: exit %d\n%s%s", code, out, errOut)
	}
}

// TestReleaseTamperedChain removes events instead of editing columns: the
// links between the records' hashes break. What a command acts on decides
// what it must refuse: show and promote read the newest event and its
// link, rollback the whole history.
func TestReleaseTamperedChain(t *testing.T) {
	for _, tc := range []struct {
		name    string
		seq     int
		refused [][]string
		working [][]string
	}{{
		name: "middle event deleted",
		seq:  2,
		refused: [][]string{
			{"release", "show", "production"},
			{"release", "promote", "production", "--env", "qa"},
			{"release", "promote", "r2", "--env", "production"},
			{"release", "rollback", "--env", "production", "--dry-run"},
		},
	}, {
		// The newest event and its link are intact, so what production
		// runs is still known; choosing a rollback target is not.
		name: "oldest event deleted",
		seq:  1,
		refused: [][]string{
			{"release", "rollback", "--env", "production", "--dry-run"},
		},
		working: [][]string{
			{"release", "show", "production"},
			{"release", "promote", "production", "--env", "qa"},
		},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			s := tamperedStory(t, `DROP TRIGGER events_append_only_delete`,
				fmt.Sprintf(`DELETE FROM events WHERE env = 'production' AND sequence = %d`, tc.seq))
			brk := "history of production breaks at event 3"
			if tc.seq == 1 {
				brk = "history of production breaks at event 2"
			}
			code, out, errOut := s.stet("release", "verify")
			if code != ExitFindings || !strings.Contains(out, brk) {
				t.Errorf("release verify: exit %d, want %d naming %q\n%s%s", code, ExitFindings, brk, out, errOut)
			}
			// history shows what is recorded, and names the break.
			code, out, errOut = s.stet("release", "history", "production")
			if code != ExitFindings || !strings.Contains(out, "#3") || !strings.Contains(errOut, brk) {
				t.Errorf("release history: exit %d, want %d, the events and %q\n%s%s", code, ExitFindings, brk, out, errOut)
			}
			for _, args := range tc.refused {
				code, out, errOut := s.stet(args...)
				if code != ExitFindings || !strings.Contains(errOut, brk) {
					t.Errorf("stet %s: exit %d, want %d naming %q\n%s%s", strings.Join(args, " "), code, ExitFindings, brk, out, errOut)
				}
			}
			for _, args := range tc.working {
				s.must(args...)
			}
		})
	}
}

// TestReleaseTamperedMovedHead moves production's newest event (#3, the
// rollback to r1) to another environment by editing its env column: the
// rows left under production link up and end at #2 (r2). Every command
// that answers what production runs, or what its history is, must notice
// the row that names #2 as its previous event and refuse, naming
// production; verify must name production too.
func TestReleaseTamperedMovedHead(t *testing.T) {
	s := tamperedStory(t,
		`DROP TRIGGER events_append_only_update`,
		`UPDATE events SET env = 'staging' WHERE env = 'production' AND sequence = 3`)
	brk := "history of production breaks at event 3"

	code, out, errOut := s.stet("release", "verify")
	if code != ExitFindings || !strings.Contains(out, brk) {
		t.Errorf("release verify: exit %d, want %d naming %q\n%s%s", code, ExitFindings, brk, out, errOut)
	}
	before, _ := os.ReadFile(s.manifest)
	for _, args := range [][]string{
		{"release", "show", "production"},
		{"release", "history", "production"},
		{"release", "history", "production", "-n", "1"},
		{"release", "render", "production", filepath.Join(s.dir, "deploy")},
		{"release", "diff", "production", "r2"},
		{"release", "promote", "production", "--env", "qa"},
		{"release", "promote", "r1", "--env", "production"},
		{"release", "rollback", "--env", "production", "--dry-run"},
	} {
		code, out, errOut := s.stet(args...)
		if code != ExitFindings || !strings.Contains(errOut, brk) {
			t.Errorf("stet %s: exit %d, want %d naming %q\n%s%s", strings.Join(args, " "), code, ExitFindings, brk, out, errOut)
		}
	}
	if got, _ := os.ReadFile(s.manifest); string(got) != string(before) {
		t.Errorf("a refused command wrote the manifest:\n%s", got)
	}
	if code, out, errOut := s.stet("release", "history", "qa"); code != ExitOK || out != "" {
		t.Errorf("history qa after refused promotions: exit %d\n%s%s", code, out, errOut)
	}
}

// TestReleaseDuplicateNumber rebuilds the releases table without its
// UNIQUE (app, number) and slips in a second, validly hashed shop r2 that
// deploys shop:1 at r1's digest. list, show, verify and sync must refuse
// to take either for shop r2.
func TestReleaseDuplicateNumber(t *testing.T) {
	s := tamperedStory(t)
	path := strings.TrimPrefix(s.ledger, "sqlite:")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	var body []byte
	if err := db.QueryRow(`SELECT body FROM releases WHERE number = 2`).Scan(&body); err != nil {
		t.Fatal(err)
	}
	forged, err := release.ParseRelease(body)
	if err != nil {
		t.Fatal(err)
	}
	im := forged.Images["shop"]
	im.Digest = s.s1
	forged.Images["shop"] = im
	forged.Annotations = map[string]string{"forged": "yes"}
	for _, q := range []string{
		`CREATE TABLE releases_new (id TEXT PRIMARY KEY, app TEXT NOT NULL, number INTEGER NOT NULL, created TEXT NOT NULL, body BLOB NOT NULL)`,
		`INSERT INTO releases_new SELECT id, app, number, created, body FROM releases`,
		`DROP TABLE releases`,
		`ALTER TABLE releases_new RENAME TO releases`,
		fmt.Sprintf(`INSERT INTO releases VALUES ('%s', 'shop', 2, '%s', X'%x')`, forged.ComputeID(), forged.Created.Format(release.TimeFormat), forged.Canonical()),
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	db.Close()
	want := "shop r2 is recorded 2 times"

	copyTo := "sqlite:" + filepath.Join(t.TempDir(), "copy.db")
	for _, args := range [][]string{
		{"release", "verify"},
		{"release", "list"},
		{"release", "show", "r2"},
		{"release", "show", release.ShortID(forged.ComputeID())},
		{"release", "promote", "r2", "--env", "qa"},
		{"release", "sync", s.ledger, copyTo},
	} {
		code, out, errOut := s.stet(args...)
		if code != ExitFindings || !strings.Contains(out+errOut, want) {
			t.Errorf("stet %s: exit %d, want %d naming %q\n%s%s", strings.Join(args, " "), code, ExitFindings, want, out, errOut)
		}
	}
	if code, out, errOut := s.stet("release", "list", "--ledger", copyTo); strings.Contains(out, "shop r2") {
		t.Errorf("sync copied a shop r2: exit %d\n%s%s", code, out, errOut)
	}
}

// TestReleaseVerifyKeepsGoing: verify reports every break and still
// checks the digests of every release it can read: one release whose
// record was edited does not stop the others' checks (with -n too), and
// the releases of a broken history are checked.
func TestReleaseVerifyKeepsGoing(t *testing.T) {
	for _, tc := range []struct {
		name   string
		sql    []string
		args   []string
		broken []string
		// checked is the stderr summary's release count.
		checked string
	}{{
		name:    "edited release, newest",
		sql:     []string{`UPDATE releases SET body = replace(body, 'registry.example.com/shop:1', 'registry.example.com/shop:2') WHERE number = 2`},
		args:    []string{"-n", "5"},
		broken:  []string{"its content no longer matches its ID"},
		checked: "checked 1 release(s)",
	}, {
		name:    "edited release, deployed",
		sql:     []string{`UPDATE releases SET body = replace(body, 'registry.example.com/shop:1', 'registry.example.com/shop:2') WHERE number = 2`},
		broken:  []string{"its content no longer matches its ID"},
		checked: "checked 1 release(s)",
	}, {
		// Every release was deployed only to production, whose rows
		// were edited.
		name: "broken history",
		sql: []string{
			`UPDATE events SET sequence = 10 WHERE env = 'production' AND sequence = 3`,
			`UPDATE events SET sequence = 3 WHERE env = 'production' AND sequence = 2`,
			`UPDATE events SET sequence = 2 WHERE env = 'production' AND sequence = 10`,
		},
		broken:  []string{"history of production breaks at event 2", "history of production breaks at event 3"},
		checked: "checked 2 release(s)",
	}} {
		t.Run(tc.name, func(t *testing.T) {
			s := tamperedStory(t, append([]string{
				`DROP TRIGGER events_append_only_update`, `DROP TRIGGER releases_append_only_update`,
			}, tc.sql...)...)
			code, out, errOut := s.stet(append([]string{"release", "verify"}, tc.args...)...)
			if code != ExitFindings || !strings.Contains(errOut, tc.checked) {
				t.Errorf("release verify %s: exit %d, want %d and %q\n%s%s", strings.Join(tc.args, " "), code, ExitFindings, tc.checked, out, errOut)
			}
			for _, want := range tc.broken {
				if !strings.Contains(out, want) {
					t.Errorf("release verify does not report %q:\n%s", want, out)
				}
			}
		})
	}
}

// TestReleaseHistoryMissingRelease deletes r2, which production's #2
// deployed: history prints the events as recorded and, like show and
// verify, names the break and exits 1 — when the events it shows include
// #2.
func TestReleaseHistoryMissingRelease(t *testing.T) {
	s := tamperedStory(t, `DROP TRIGGER releases_append_only_delete`, `DELETE FROM releases WHERE number = 2`)
	brk := "history of production breaks at event 2"
	for _, args := range [][]string{
		{"release", "history", "production"},
		{"release", "history", "production", "--format", "json"},
		{"release", "history", "production", "-n", "2"},
	} {
		code, out, errOut := s.stet(args...)
		if code != ExitFindings || !strings.Contains(out, "#3") && !strings.Contains(out, `"sequence": 3`) || !strings.Contains(errOut, brk) || !strings.Contains(errOut, "which the ledger does not hold") {
			t.Errorf("stet %s: exit %d, want %d, the events and %q\n%s%s", strings.Join(args, " "), code, ExitFindings, brk, out, errOut)
		}
	}
	// The newest event names r1, which is held.
	s.must("release", "history", "production", "-n", "1")
	if code, out, errOut := s.stet("release", "verify"); code != ExitFindings || !strings.Contains(out, brk) {
		t.Errorf("release verify: exit %d\n%s%s", code, out, errOut)
	}
}
