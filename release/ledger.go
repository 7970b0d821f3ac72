package release

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Ledger stores releases and deployment events. Records are append-only:
// nothing is ever updated or deleted. Implementations are safe for
// concurrent use, and several processes may share one ledger.
type Ledger interface {
	// PutRelease records r and returns it with its ID (and Number and
	// Created, when they were zero). A zero Number takes the app's next
	// number atomically; a set Number (as Sync copies) is stored exactly,
	// or, when taken, returns the existing release if it is the same
	// content and an ErrConflict error if not.
	PutRelease(ctx context.Context, r Release) (Release, error)
	// GetRelease finds one release by selector: "r42" (within app), or a
	// prefix of its ID of at least 4 hex digits, with or without "sha256:"
	// (app may be empty; when set, the release must belong to it). No
	// match is ErrNotFound; several are an *AmbiguousError.
	GetRelease(ctx context.Context, app, selector string) (Release, error)
	// ListReleases returns app's releases newest first (every app's when
	// app is empty, newest first by Created), at most opts.Limit of them.
	ListReleases(ctx context.Context, app string, opts ListOptions) ([]Release, error)
	// Apps lists the apps with releases, sorted.
	Apps(ctx context.Context) ([]string, error)

	// AppendEvent adds ev to the history of ev.Env. ev.Prev must be the ID
	// of that environment's newest event ("" for the first), otherwise it
	// fails with a *ConflictError, or a *ForkError when another writer won
	// a race for the same place; both match ErrConflict. The release must
	// exist. A zero Sequence or Time is filled in.
	AppendEvent(ctx context.Context, ev Event) (Event, error)
	// History returns env's events newest first, at most opts.Limit.
	// An environment without events has an empty history. Each event is
	// decoded from its stored record and carries its stored ID, which
	// VerifyChain and VerifyHead compare with the record's hash. Whatever
	// else the backend stores to find and order events (columns, tags) is
	// checked against the records: a disagreement is a *ChainError.
	History(ctx context.Context, env string, opts ListOptions) ([]Event, error)
	// Current returns the release env's newest event deployed, ErrNotFound
	// when env has no events. The answer comes from the newest event's
	// record once VerifyHead has checked it and the event before it; a
	// break, or a release the ledger does not hold, is an error matching
	// ErrBroken.
	Current(ctx context.Context, env string) (Release, error)
	// Envs lists the environments with events, sorted.
	Envs(ctx context.Context) ([]string, error)

	// Close releases the ledger's resources.
	Close() error
}

// Fork is a record a writer left beside the history when it lost a race
// for a place (a release number or an environment's next event). Its
// writer was told with an ErrFork error; the record stays for audit.
type Fork struct {
	// Place is the contended place, as the backend names it.
	Place string
	// ID is the record's ID, or its leading hex digits when the backend
	// knows only those.
	ID string
	// Withdrawn is true when the writer gave the place up itself; false
	// when it stopped (was killed) before finishing.
	Withdrawn bool
}

// ForkLister is implemented by ledgers in which racing writers can leave
// records beside the history (release/oci); the SQLite ledger serialises
// writers and has none.
type ForkLister interface {
	Forks(ctx context.Context) ([]Fork, error)
}

// Auditor is implemented by ledgers that can read every stored record even
// when some of them do not verify, so that Audit reports each problem
// instead of stopping a listing at the first (the SQLite ledger).
type Auditor interface {
	// AuditReleases returns app's releases whose records read, hash to
	// their IDs and agree with the backend's index, newest first, and a
	// *RecordError for each other one. Releases sharing a number are all
	// returned.
	AuditReleases(ctx context.Context, app string) ([]Release, []error, error)
	// AuditHistory returns the events the backend files under env as
	// recorded, oldest first by their records' sequence, each with its
	// stored ID, and a problem matching ErrBroken for every one whose index
	// disagrees with its record or whose record cannot be read, and for an
	// event filed elsewhere that names env's newest event as its previous
	// one.
	AuditHistory(ctx context.Context, env string) ([]Event, []error, error)
}

// ListOptions bound a listing.
type ListOptions struct {
	// Limit is the most entries returned; 0 means all.
	Limit int
}

// Selector is a parsed release selector.
type Selector struct {
	// Number is set for "r42".
	Number int64
	// IDPrefix is set for an ID prefix: lowercase hex, without "sha256:".
	IDPrefix string
}

// MinIDPrefix is the shortest ID prefix a selector accepts.
const MinIDPrefix = 4

// ParseSelector reads "r42" (or "R42") as a release number and 4 to 64
// hex digits, optionally after "sha256:", as an ID prefix.
func ParseSelector(s string) (Selector, error) {
	if rest, ok := strings.CutPrefix(strings.ToLower(s), "r"); ok && rest != "" && rest[0] != '+' && rest[0] != '-' {
		n, err := strconv.ParseInt(rest, 10, 64)
		if err == nil && n > 0 {
			return Selector{Number: n}, nil
		}
	}
	h := strings.TrimPrefix(strings.ToLower(s), "sha256:")
	if len(h) >= MinIDPrefix && len(h) <= 64 && isLowerHex(h) {
		return Selector{IDPrefix: h}, nil
	}
	return Selector{}, fmt.Errorf("%w: release selector %q: want r<number> or at least %d hex digits of an ID", ErrInvalid, s, MinIDPrefix)
}

// PrepareRelease validates r for recording and fills Created (now, when
// zero) and normalises times. Backends call it first in PutRelease.
func PrepareRelease(r Release, now time.Time) (Release, error) {
	if r.Created.IsZero() {
		r.Created = now
	}
	r.Created = Time(r.Created)
	r.ID = ""
	if err := r.Validate(); err != nil {
		return Release{}, err
	}
	return r, nil
}

// PrepareEvent validates ev for appending after the environment's head
// (its newest event's ID and sequence; "" and 0 for an empty history),
// filling Time and, when zero, Sequence with next (at least headSeq+1).
// Backends call it once they know the head: a Prev other than the head is
// a *ConflictError; a set Sequence (as Sync copies) must follow headSeq.
func PrepareEvent(ev Event, head string, headSeq, next int64, now time.Time) (Event, error) {
	if ev.Prev != head {
		return Event{}, &ConflictError{Env: ev.Env, Expected: ev.Prev, Actual: head}
	}
	switch {
	case ev.Sequence == 0:
		ev.Sequence = max(next, headSeq+1)
	case ev.Sequence <= headSeq:
		return Event{}, fmt.Errorf("%w: event numbered %d does not follow the head of %s (#%d)", ErrInvalid, ev.Sequence, ev.Env, headSeq)
	}
	if ev.Time.IsZero() {
		ev.Time = now
	}
	ev.Time = Time(ev.Time)
	ev.ID = ""
	if err := ev.Validate(); err != nil {
		return Event{}, err
	}
	return ev, nil
}

// CheckEventRelease checks that an event names r consistently.
func CheckEventRelease(ev Event, r Release) error {
	if ev.App != r.App || ev.Number != r.Number {
		return fmt.Errorf("%w: event names %s r%d but release %s is %s", ErrInvalid, ev.App, ev.Number, ShortID(r.ID), r.Label())
	}
	return nil
}

// NewEvent builds an event deploying r to env after head (the environment's
// newest event, or the zero Event for the first).
func NewEvent(env string, action Action, r Release, head Event, actor Creator, reason string) Event {
	return Event{
		Env: env, Action: action, Release: r.ID, App: r.App, Number: r.Number,
		Actor: actor, Reason: reason, Prev: head.ID,
	}
}

// MatchPrefix reports whether id starts with the selector's ID prefix.
func (s Selector) MatchPrefix(id string) bool {
	return s.IDPrefix != "" && strings.HasPrefix(strings.TrimPrefix(id, "sha256:"), s.IDPrefix)
}
