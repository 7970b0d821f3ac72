// Package sqlite is the embedded release ledger: one SQLite database file
// (by default .stet/ledger.db at the repository root), written through
// modernc.org/sqlite, so stet stays a single static binary without cgo.
//
// The database runs in WAL mode with a busy timeout, so several processes
// may read and write it at once; every write is one IMMEDIATE transaction,
// so release numbers and history positions are assigned without races and
// a process killed mid-write leaves the previous, consistent state.
// Triggers refuse UPDATE and DELETE of releases and events, and refuse an
// event that does not extend its environment's chain, whatever program
// writes the file.
//
// Triggers can be dropped by anyone who can write the file, so reads do
// not rely on them. Each row's body is the record, hashed and chained; the
// other columns (app, number, created; env, sequence, prev, release, time)
// are an index that lets SQLite find and order records, and every read
// checks the columns it used against the record it returns. A row whose
// columns were edited is reported as a break, never answered from. Two
// edits leave every row agreeing with its record, and reads look for
// them through an index: a row naming an environment's newest event as
// its previous one (an event moved out of that history), and a second
// release under an app and number another already has.
package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver

	"github.com/stet-dev/stet/release"
)

// Scheme prefixes a SQLite ledger location: sqlite:PATH.
const Scheme = "sqlite:"

// DefaultPath is the ledger's place relative to the repository root when
// neither .stet.yaml nor --ledger names another.
const DefaultPath = ".stet/ledger.db"

// DefaultBusyTimeout is how long a write waits for another process's
// transaction before failing.
const DefaultBusyTimeout = 30 * time.Second

// SchemaVersion is the schema this package writes, kept in PRAGMA user_version.
const SchemaVersion = 2

// Option configures Open.
type Option func(*options)

type options struct {
	busyTimeout time.Duration
	now         func() time.Time
}

// WithBusyTimeout sets how long a write waits for other writers (default
// DefaultBusyTimeout).
func WithBusyTimeout(d time.Duration) Option { return func(o *options) { o.busyTimeout = d } }

// WithClock sets the clock that fills zero Created and Time fields
// (default time.Now).
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// Ledger is a release.Ledger in a SQLite database file.
type Ledger struct {
	db   *sql.DB
	path string
	now  func() time.Time
}

var _ release.Ledger = (*Ledger)(nil)

// Open opens the ledger at path (with or without the sqlite: prefix), creating the file, its directory and the
// schema when missing, and upgrading an older schema. A ledger written by
// a newer stet (a higher schema version) is refused rather than misread.
func Open(ctx context.Context, path string, opts ...Option) (*Ledger, error) {
	o := options{busyTimeout: DefaultBusyTimeout, now: time.Now}
	for _, opt := range opts {
		opt(&o)
	}
	path = strings.TrimPrefix(path, Scheme)
	if path == "" {
		return nil, errors.New("opening ledger: empty path")
	}
	if path == ":memory:" || strings.HasPrefix(path, "file:") {
		// Each pooled connection would see its own database.
		return nil, fmt.Errorf("opening ledger %s: want a file path", path)
	}
	if strings.ContainsAny(path, "?#") {
		return nil, fmt.Errorf("opening ledger %s: the path must not contain '?' or '#'", path)
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("opening ledger %s: %w", path, err)
		}
	}
	// busy_timeout comes first so the other pragmas wait for a concurrent
	// opener instead of failing; FULL sync makes a committed release
	// survive a power loss, not only a crash.
	dsn := fmt.Sprintf("%s?_pragma=busy_timeout(%d)&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=foreign_keys(1)&_txlock=immediate",
		path, o.busyTimeout.Milliseconds())
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("opening ledger %s: %w", path, err)
	}
	l := &Ledger{db: db, path: path, now: o.now}
	if err := l.migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("opening ledger %s: %w", path, err)
	}
	return l, nil
}

// Path is the database file.
func (l *Ledger) Path() string { return l.path }

// Close closes the database.
func (l *Ledger) Close() error { return l.db.Close() }

// migrations[i] brings the schema from version i to i+1.
var migrations = []string{
	`
CREATE TABLE releases (
	id      TEXT PRIMARY KEY,
	app     TEXT NOT NULL,
	number  INTEGER NOT NULL CHECK (number > 0),
	created TEXT NOT NULL,
	body    BLOB NOT NULL,
	UNIQUE (app, number)
);
CREATE INDEX releases_created ON releases (created, app, number);
CREATE TABLE events (
	id       TEXT PRIMARY KEY,
	env      TEXT NOT NULL,
	sequence INTEGER NOT NULL CHECK (sequence > 0),
	prev     TEXT,
	release  TEXT NOT NULL REFERENCES releases (id),
	time     TEXT NOT NULL,
	body     BLOB NOT NULL,
	UNIQUE (env, sequence)
);
CREATE INDEX events_release ON events (release);
CREATE TRIGGER releases_append_only_update BEFORE UPDATE ON releases
BEGIN SELECT RAISE(ABORT, 'stet ledger: releases are append-only'); END;
CREATE TRIGGER releases_append_only_delete BEFORE DELETE ON releases
BEGIN SELECT RAISE(ABORT, 'stet ledger: releases are append-only'); END;
CREATE TRIGGER events_append_only_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'stet ledger: events are append-only'); END;
CREATE TRIGGER events_append_only_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'stet ledger: events are append-only'); END;
CREATE TRIGGER events_extend_chain BEFORE INSERT ON events
WHEN (NEW.prev IS NULL AND EXISTS (SELECT 1 FROM events WHERE env = NEW.env))
  OR (NEW.prev IS NOT NULL AND NOT EXISTS (
      SELECT 1 FROM events WHERE env = NEW.env AND id = NEW.prev AND sequence < NEW.sequence
      AND sequence = (SELECT MAX(sequence) FROM events WHERE env = NEW.env)))
BEGIN SELECT RAISE(ABORT, 'stet ledger: an event must extend its environment''s chain'); END;
`,
	// Every read of an environment's head looks for an event naming the
	// head as its previous one (see readEvents).
	`CREATE INDEX events_prev ON events (prev);`,
}

func (l *Ledger) migrate(ctx context.Context) error {
	var v int
	if err := l.db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return fmt.Errorf("reading schema version: %w", err)
	}
	if v == len(migrations) {
		return nil
	}
	if v > len(migrations) {
		return fmt.Errorf("schema version %d is newer than this stet understands (%d): upgrade stet", v, len(migrations))
	}
	return l.tx(ctx, func(tx *sql.Tx) error {
		// Another process may have migrated while this one waited for the lock.
		if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
			return fmt.Errorf("reading schema version: %w", err)
		}
		for ; v < len(migrations); v++ {
			if _, err := tx.ExecContext(ctx, migrations[v]); err != nil {
				return fmt.Errorf("upgrading schema to version %d: %w", v+1, err)
			}
		}
		if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", v)); err != nil {
			return fmt.Errorf("setting schema version: %w", err)
		}
		return nil
	})
}

// tx runs f in one IMMEDIATE transaction (the DSN's _txlock), committing
// when it returns nil.
func (l *Ledger) tx(ctx context.Context, f func(*sql.Tx) error) error {
	tx, err := l.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("starting a transaction: %w", err)
	}
	if err := f(tx); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("committing: %w", err)
	}
	return nil
}

// PutRelease records r; see release.Ledger.
func (l *Ledger) PutRelease(ctx context.Context, r release.Release) (release.Release, error) {
	r, err := release.PrepareRelease(r, l.now())
	if err != nil {
		return release.Release{}, err
	}
	var out release.Release
	err = l.tx(ctx, func(tx *sql.Tx) error {
		if r.Number == 0 {
			if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(number), 0) + 1 FROM releases WHERE app = ?`, r.App).Scan(&r.Number); err != nil {
				return fmt.Errorf("assigning a release number: %w", err)
			}
		} else {
			var row releaseRow
			err := row.scan(tx.QueryRowContext(ctx, `SELECT `+releaseCols+` FROM releases WHERE app = ? AND number = ?`, r.App, r.Number))
			switch {
			case err == nil:
				if row.id != r.ComputeID() {
					return &release.ForkError{Place: r.Label(), Ours: r.ComputeID(), Theirs: row.id}
				}
				out, err = row.decode()
				return err
			case !errors.Is(err, sql.ErrNoRows):
				return fmt.Errorf("looking up %s: %w", r.Label(), err)
			}
		}
		body := r.Canonical()
		r.ID = r.ComputeID()
		if _, err := tx.ExecContext(ctx, `INSERT INTO releases (id, app, number, created, body) VALUES (?, ?, ?, ?, ?)`,
			r.ID, r.App, r.Number, r.Created.Format(release.TimeFormat), body); err != nil {
			return fmt.Errorf("inserting %s: %w", r.Label(), err)
		}
		out = r
		return nil
	})
	if err != nil {
		return release.Release{}, fmt.Errorf("recording release of %s: %w", r.App, err)
	}
	return out, nil
}

// GetRelease finds one release; see release.Ledger.
func (l *Ledger) GetRelease(ctx context.Context, app, selector string) (release.Release, error) {
	sel, err := release.ParseSelector(selector)
	if err != nil {
		return release.Release{}, err
	}
	var rows *sql.Rows
	switch {
	case sel.Number > 0 && app != "":
		rows, err = l.db.QueryContext(ctx, `SELECT `+releaseCols+` FROM releases WHERE app = ? AND number = ?`, app, sel.Number)
	case sel.Number > 0:
		rows, err = l.db.QueryContext(ctx, `SELECT `+releaseCols+` FROM releases WHERE number = ? ORDER BY app LIMIT 10`, sel.Number)
	default:
		// GLOB with a literal prefix uses the primary key index; the
		// prefix is validated hex, so it holds no GLOB metacharacters.
		rows, err = l.db.QueryContext(ctx, `SELECT `+releaseCols+` FROM releases WHERE id GLOB ? AND (? = '' OR app = ?) ORDER BY id LIMIT 10`,
			"sha256:"+sel.IDPrefix+"*", app, app)
	}
	if err != nil {
		return release.Release{}, fmt.Errorf("looking up release %s: %w", selector, err)
	}
	found, err := scanReleases(rows)
	if err != nil {
		return release.Release{}, fmt.Errorf("looking up release %s: %w", selector, err)
	}
	return release.OnlyMatch(app, selector, found)
}

// ListReleases lists releases newest first; see release.Ledger.
func (l *Ledger) ListReleases(ctx context.Context, app string, opts release.ListOptions) ([]release.Release, error) {
	limit := sqlLimit(opts.Limit)
	var rows *sql.Rows
	var err error
	if app != "" {
		rows, err = l.db.QueryContext(ctx, `SELECT `+releaseCols+` FROM releases WHERE app = ? ORDER BY number DESC LIMIT ?`, app, limit)
	} else {
		rows, err = l.db.QueryContext(ctx, `SELECT `+releaseCols+` FROM releases ORDER BY created DESC, app DESC, number DESC LIMIT ?`, limit)
	}
	if err != nil {
		return nil, fmt.Errorf("listing releases: %w", err)
	}
	rels, err := scanReleases(rows)
	if err != nil {
		return nil, fmt.Errorf("listing releases: %w", err)
	}
	return rels, nil
}

// Apps lists the apps with releases.
func (l *Ledger) Apps(ctx context.Context) ([]string, error) {
	return l.strings(ctx, distinct("app", "releases"))
}

// Envs lists the environments with events.
func (l *Ledger) Envs(ctx context.Context) ([]string, error) {
	return l.strings(ctx, distinct("env", "events"))
}

// distinct is a query listing the distinct values of col, sorted, that
// jumps from one value to the next through the index whose first column
// col is (UNIQUE (app, number), UNIQUE (env, sequence)): one index lookup
// per value, where SELECT DISTINCT reads every entry of the index.
func distinct(col, table string) string {
	return fmt.Sprintf(`WITH RECURSIVE v(x) AS (
		SELECT MIN(%[1]s) FROM %[2]s
		UNION ALL SELECT (SELECT MIN(%[1]s) FROM %[2]s WHERE %[1]s > v.x) FROM v WHERE v.x IS NOT NULL
	) SELECT x FROM v WHERE x IS NOT NULL`, col, table)
}

func (l *Ledger) strings(ctx context.Context, q string) ([]string, error) {
	rows, err := l.db.QueryContext(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("querying ledger: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, fmt.Errorf("querying ledger: %w", err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("querying ledger: %w", err)
	}
	return out, nil
}

// AppendEvent appends ev to its environment's chain; see release.Ledger.
func (l *Ledger) AppendEvent(ctx context.Context, ev release.Event) (release.Event, error) {
	if err := ev.Validate(); err != nil {
		return release.Event{}, err
	}
	var out release.Event
	err := l.tx(ctx, func(tx *sql.Tx) error {
		r, err := releaseByID(ctx, tx, ev.Release)
		if err != nil {
			return err
		}
		if err := release.CheckEventRelease(ev, r); err != nil {
			return err
		}
		// The head is checked like Current checks it: a new event must
		// not extend a history whose newest events were edited.
		top, err := readEvents(ctx, tx, ev.Env, 2)
		if err != nil {
			return err
		}
		if err := release.VerifyHead(ev.Env, top); err != nil {
			return fmt.Errorf("refusing to extend the history of %s: %w", ev.Env, err)
		}
		var head string
		var seq int64
		if len(top) > 0 {
			head, seq = top[0].ID, top[0].Sequence
		}
		e, err := release.PrepareEvent(ev, head, seq, seq+1, l.now())
		if err != nil {
			return err
		}
		e.ID = e.ComputeID()
		var prev any
		if e.Prev != "" {
			prev = e.Prev
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO events (id, env, sequence, prev, release, time, body) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			e.ID, e.Env, e.Sequence, prev, e.Release, e.Time.Format(release.TimeFormat), e.Canonical()); err != nil {
			return fmt.Errorf("inserting event: %w", err)
		}
		out = e
		return nil
	})
	if err != nil {
		return release.Event{}, fmt.Errorf("recording %s of %s r%d to %s: %w", ev.Action, ev.App, ev.Number, ev.Env, err)
	}
	return out, nil
}

// History lists env's events newest first; see release.Ledger. The events
// are decoded from the stored records, with their stored IDs (VerifyChain
// compares those with the records' hashes); the columns that select and
// order them are checked against each record, and a row whose columns
// disagree with its record is a *release.ChainError.
func (l *Ledger) History(ctx context.Context, env string, opts release.ListOptions) ([]release.Event, error) {
	return readEvents(ctx, l.db, env, opts.Limit)
}

// Current returns the release deployed to env now; see release.Ledger. It
// is read from the newest event's record, never from a column: that event
// must hash to its ID and name the event before it (release.VerifyHead),
// and the release it names must be held, with that app and number.
func (l *Ledger) Current(ctx context.Context, env string) (release.Release, error) {
	top, err := readEvents(ctx, l.db, env, 2)
	if err != nil {
		return release.Release{}, fmt.Errorf("reading what is deployed to %s: %w", env, err)
	}
	if len(top) == 0 {
		return release.Release{}, fmt.Errorf("nothing deployed to %s: %w", env, release.ErrNotFound)
	}
	if err := release.VerifyHead(env, top); err != nil {
		return release.Release{}, fmt.Errorf("reading what is deployed to %s: %w", env, err)
	}
	head := top[0]
	r, err := releaseByID(ctx, l.db, head.Release)
	if errors.Is(err, release.ErrNotFound) {
		err = &release.ChainError{Env: env, Sequence: head.Sequence, ID: head.ID, Reason: "names release " + release.ShortID(head.Release) + ", which the ledger does not hold"}
	} else if err == nil {
		if cerr := release.CheckEventRelease(head, r); cerr != nil {
			err = &release.ChainError{Env: env, Sequence: head.Sequence, ID: head.ID, Reason: cerr.Error()}
		}
	}
	if err != nil {
		return release.Release{}, fmt.Errorf("reading what is deployed to %s: %w", env, err)
	}
	return r, nil
}

var _ release.Auditor = (*Ledger)(nil)

// AuditReleases reads every release row of app, newest first, for
// release.Audit: the records that verify, and a *release.RecordError for
// each other row. Rows sharing a number are all returned; Audit reports
// them.
func (l *Ledger) AuditReleases(ctx context.Context, app string) ([]release.Release, []error, error) {
	rows, err := l.db.QueryContext(ctx, `SELECT `+releaseCols+` FROM releases WHERE app = ? ORDER BY number DESC`, app)
	if err != nil {
		return nil, nil, fmt.Errorf("listing releases: %w", err)
	}
	defer rows.Close()
	var rels []release.Release
	var problems []error
	for rows.Next() {
		var row releaseRow
		if err := row.scan(rows); err != nil {
			return nil, nil, fmt.Errorf("listing releases: %w", err)
		}
		r, err := row.record()
		if err != nil {
			problems = append(problems, &release.RecordError{ID: row.id, Err: err})
			continue
		}
		rels = append(rels, r)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("listing releases: %w", err)
	}
	return rels, problems, nil
}

// AuditHistory reads every event row filed under env, for release.Audit:
// the events whose records read, oldest first by their records'
// sequence, and a *release.ChainError for each row whose columns disagree
// with its record, whose record cannot be read, and for a row elsewhere
// naming the newest event as its previous one.
func (l *Ledger) AuditHistory(ctx context.Context, env string) ([]release.Event, []error, error) {
	rows, err := l.db.QueryContext(ctx, `SELECT id, env, sequence, prev, release, time, body FROM events WHERE env = ? ORDER BY sequence`, env)
	if err != nil {
		return nil, nil, fmt.Errorf("reading history of %s: %w", env, err)
	}
	defer rows.Close()
	var out []release.Event
	var problems []error
	for rows.Next() {
		var row eventRow
		if err := rows.Scan(&row.id, &row.env, &row.sequence, &row.prev, &row.release, &row.time, &row.body); err != nil {
			return nil, nil, fmt.Errorf("reading history of %s: %w", env, err)
		}
		e, read, err := row.audit(env)
		if !read {
			problems = append(problems, &release.ChainError{Env: env, Sequence: row.sequence, ID: row.id, Reason: err.Error()})
			continue
		}
		if err != nil {
			problems = append(problems, err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("reading history of %s: %w", env, err)
	}
	slices.SortStableFunc(out, func(a, b release.Event) int { return cmp.Compare(a.Sequence, b.Sequence) })
	if len(out) > 0 {
		if err := checkNoSuccessor(ctx, l.db, env, out[len(out)-1]); errors.Is(err, release.ErrBroken) {
			problems = append(problems, err)
		} else if err != nil {
			return nil, nil, err
		}
	}
	return out, problems, nil
}

// querier is what reads need of *sql.DB and *sql.Tx.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// readEvents reads env's newest events (all when limit is 0 or less),
// newest first, checking each row's columns against its record.
func readEvents(ctx context.Context, q querier, env string, limit int) ([]release.Event, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, env, sequence, prev, release, time, body FROM events WHERE env = ? ORDER BY sequence DESC LIMIT ?`, env, sqlLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("reading history of %s: %w", env, err)
	}
	defer rows.Close()
	var out []release.Event
	for rows.Next() {
		var row eventRow
		if err := rows.Scan(&row.id, &row.env, &row.sequence, &row.prev, &row.release, &row.time, &row.body); err != nil {
			return nil, fmt.Errorf("reading history of %s: %w", env, err)
		}
		e, err := row.decode(env)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading history of %s: %w", env, err)
	}
	if len(out) > 0 {
		if err := checkNoSuccessor(ctx, q, env, out[0]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// checkNoSuccessor checks that no stored event names env's newest event as
// its previous one. Such a row is an event of env that was filed under
// another environment or position (its env or sequence column edited),
// which would otherwise silently roll env back to the event before it:
// its own record still belongs to env, and only the row it is filed
// under reports the edit. One lookup in the index on prev.
func checkNoSuccessor(ctx context.Context, q querier, env string, head release.Event) error {
	var id, rowEnv string
	var seq int64
	var body []byte
	err := q.QueryRowContext(ctx, `SELECT id, env, sequence, body FROM events WHERE prev = ? LIMIT 1`, head.ID).Scan(&id, &rowEnv, &seq, &body)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading history of %s: %w", env, err)
	}
	at := head.Sequence + 1
	if e, perr := release.ParseEvent(body); perr == nil && e.Env == env && e.Sequence > head.Sequence {
		at = e.Sequence
	}
	return &release.ChainError{Env: env, Sequence: at, ID: id,
		Reason: fmt.Sprintf("the event follows #%d (%s), the newest event of %s, but the events table files it under %s #%d: the row was moved out of the history",
			head.Sequence, release.ShortID(head.ID), env, rowEnv, seq)}
}

// eventRow is one row of the events table. Only body is the event; the
// other columns repeat parts of it so that SQLite can select, order and
// constrain events (and id is what the next event's record names).
type eventRow struct {
	id, env, release, time string
	sequence               int64
	prev                   sql.NullString
	body                   []byte
}

// decode parses the row's record and checks every column against it, so
// that an edited column — the release a row is said to deploy, its
// position, its environment — is reported rather than acted on. The
// event keeps the stored ID; whether the record hashes to it is the
// chain's check (release.VerifyChain, release.VerifyHead).
func (row eventRow) decode(env string) (release.Event, error) {
	e, _, err := row.audit(env)
	if err != nil {
		return release.Event{}, err
	}
	return e, nil
}

// audit is decode that hands out the event even when a column disagrees
// with it: read says whether the record could be read at all, err is the
// first disagreement.
func (row eventRow) audit(env string) (e release.Event, read bool, err error) {
	e, err = release.ParseEvent(row.body)
	if err != nil {
		return release.Event{}, false, fmt.Errorf("reading history of %s: event %s: %w", env, release.ShortID(row.id), err)
	}
	e.ID = row.id
	mismatch := func(col string, stored, recorded any) error {
		return &release.ChainError{Env: env, Sequence: e.Sequence, ID: row.id,
			Reason: fmt.Sprintf("the events table's %s column holds %v, but the event records %v: the row was edited", col, stored, recorded)}
	}
	prev := ""
	if row.prev.Valid {
		prev = row.prev.String
		if prev == "" {
			prev = "''"
		}
	}
	switch {
	case row.env != e.Env:
		err = mismatch("env", row.env, e.Env)
	case row.sequence != e.Sequence:
		err = mismatch("sequence", row.sequence, e.Sequence)
	case row.release != e.Release:
		err = mismatch("release", release.ShortID(row.release), fmt.Sprintf("%s (%s r%d)", release.ShortID(e.Release), e.App, e.Number))
	case prev != e.Prev:
		err = mismatch("prev", orNull(prev), orNull(e.Prev))
	case row.time != e.Time.Format(release.TimeFormat):
		err = mismatch("time", row.time, e.Time.Format(release.TimeFormat))
	}
	return e, true, err
}

func orNull(s string) string {
	if s == "" {
		return "NULL"
	}
	if release.ValidID(s) {
		return release.ShortID(s)
	}
	return s
}

// releaseCols are the columns releaseRow.scan reads, in order: the row,
// and the IDs of every row holding the same app and number (one lookup
// in the UNIQUE (app, number) index), so that a second release slipped in
// under a taken number is noticed by every read that finds either.
const releaseCols = `id, app, number, created, body,
	(SELECT group_concat(d.id, ' ') FROM releases AS d WHERE d.app = releases.app AND d.number = releases.number)`

// releaseRow is one row of the releases table: the record (body), its ID,
// and the columns that index it.
type releaseRow struct {
	id, app, created string
	number           int64
	body             []byte
	// same lists the IDs of the rows with this app and number, this one
	// included.
	same sql.NullString
}

type scanner interface{ Scan(dest ...any) error }

func (row *releaseRow) scan(s scanner) error {
	return s.Scan(&row.id, &row.app, &row.number, &row.created, &row.body, &row.same)
}

// decode parses a stored record and checks it against the stored ID and
// the columns that find it: a record edited behind the ledger's back, a
// row whose app, number or time was changed so that "r1" finds another
// release, or a release sharing its app and number with another, is
// never handed out, since its digests are what a rollback deploys.
func (row releaseRow) decode() (release.Release, error) {
	r, err := row.record()
	if err != nil {
		return release.Release{}, err
	}
	if ids := strings.Fields(row.same.String); len(ids) > 1 {
		return release.Release{}, duplicateError(r.Label(), ids)
	}
	return r, nil
}

// duplicateError reports the releases (IDs) that share one app and number.
func duplicateError(label string, ids []string) error {
	ids = slices.Sorted(slices.Values(ids))
	for i, id := range ids {
		ids[i] = release.ShortID(id)
	}
	return fmt.Errorf("%w: %s is recorded %d times (%s): a release number names one release, so one of them was added behind the ledger's back",
		release.ErrBroken, label, len(ids), strings.Join(ids, ", "))
}

// record is decode without the check for another row with the same app
// and number.
func (row releaseRow) record() (release.Release, error) {
	r, err := decodeRelease(row.id, row.body)
	if err != nil {
		return release.Release{}, err
	}
	mismatch := func(col string, stored, recorded any) error {
		return fmt.Errorf("%w: release %s (%s): the releases table's %s column holds %v, but the record holds %v: the row was edited",
			release.ErrBroken, release.ShortID(row.id), r.Label(), col, stored, recorded)
	}
	switch {
	case row.app != r.App:
		return release.Release{}, mismatch("app", row.app, r.App)
	case row.number != r.Number:
		return release.Release{}, mismatch("number", row.number, r.Number)
	case row.created != r.Created.Format(release.TimeFormat):
		return release.Release{}, mismatch("created", row.created, r.Created.Format(release.TimeFormat))
	}
	return r, nil
}

// releaseByID reads the release with exactly this ID; ErrNotFound when
// the ledger holds none.
func releaseByID(ctx context.Context, q querier, id string) (release.Release, error) {
	var row releaseRow
	err := row.scan(q.QueryRowContext(ctx, `SELECT `+releaseCols+` FROM releases WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return release.Release{}, fmt.Errorf("release %s: %w", release.ShortID(id), release.ErrNotFound)
	}
	if err != nil {
		return release.Release{}, fmt.Errorf("looking up release %s: %w", release.ShortID(id), err)
	}
	return row.decode()
}

func scanReleases(rows *sql.Rows) ([]release.Release, error) {
	defer rows.Close()
	var out []release.Release
	for rows.Next() {
		var row releaseRow
		if err := row.scan(rows); err != nil {
			return nil, err
		}
		r, err := row.decode()
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// decodeRelease parses a stored record and checks it against the stored
// ID.
func decodeRelease(id string, body []byte) (release.Release, error) {
	r, err := release.ParseRelease(body)
	if err != nil {
		return release.Release{}, fmt.Errorf("release %s: %w", release.ShortID(id), err)
	}
	r.ID = id
	if r.ComputeID() != id {
		return release.Release{}, fmt.Errorf("%w: release %s: its content no longer matches its ID (hash %s)", release.ErrBroken, release.ShortID(id), release.ShortID(r.ComputeID()))
	}
	return r, nil
}

func sqlLimit(n int) int {
	if n <= 0 {
		return -1
	}
	return n
}

// Check runs SQLite's own consistency check of the database file (PRAGMA
// quick_check), for `stet release verify` and after a crash; the records'
// hashes and chains are release.Verify's part.
func (l *Ledger) Check(ctx context.Context) error {
	rows, err := l.db.QueryContext(ctx, "PRAGMA quick_check")
	if err != nil {
		return fmt.Errorf("checking ledger %s: %w", l.path, err)
	}
	defer rows.Close()
	var problems []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return fmt.Errorf("checking ledger %s: %w", l.path, err)
		}
		if s != "ok" {
			problems = append(problems, s)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("checking ledger %s: %w", l.path, err)
	}
	if len(problems) > 0 {
		return fmt.Errorf("%w: ledger %s: %s", release.ErrBroken, l.path, strings.Join(problems, "; "))
	}
	return nil
}
