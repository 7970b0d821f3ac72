package release

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors of the package and its backends. The typed errors below
// match them with errors.Is, so callers branch without parsing messages.
var (
	// ErrNotFound: no release, event or environment matches.
	ErrNotFound = errors.New("not found")
	// ErrConflict: a write expected a state the ledger no longer has: an
	// event's previous hash is not the environment's head, or a release
	// number is already taken by a different release. Re-read and retry.
	ErrConflict = errors.New("conflict")
	// ErrAmbiguous: an ID prefix or release number matches several releases.
	ErrAmbiguous = errors.New("ambiguous")
	// ErrFork: two writers raced for the same position and both wrote; the
	// other one won. Nothing is lost: the error names both.
	ErrFork = errors.New("fork")
	// ErrInvalid: a record or event breaks the model's rules.
	ErrInvalid = errors.New("invalid")
	// ErrBroken: stored history does not verify (an edited, removed or
	// reordered event, or a record whose content does not match its ID).
	ErrBroken = errors.New("ledger does not verify")
)

// ConflictError says that an event was written against a stale head.
type ConflictError struct {
	Env string
	// Expected is the previous event the writer saw; Actual the
	// environment's head in the ledger ("" for an empty history).
	Expected, Actual string
}

func (e *ConflictError) Error() string {
	return fmt.Sprintf("environment %s changed: expected head %s, found %s", e.Env, orNone(e.Expected), orNone(e.Actual))
}

// Is matches ErrConflict.
func (e *ConflictError) Is(target error) bool { return target == ErrConflict }

// ForkError says that another writer took the same place (a release number
// or an environment's next event) at the same time.
type ForkError struct {
	// Place is what was contended: "web r42" or "production #17", or the
	// backend's tag.
	Place string
	// Ours is what this writer wrote, Theirs what the ledger now holds
	// there (digests or IDs, as the backend knows them).
	Ours, Theirs string
}

func (e *ForkError) Error() string {
	return fmt.Sprintf("fork at %s: another writer got there at the same time (%s); ours (%s) did not take the place: re-read and retry", e.Place, e.Theirs, e.Ours)
}

// Is matches ErrFork and ErrConflict: either way the caller re-reads and retries.
func (e *ForkError) Is(target error) bool { return target == ErrFork || target == ErrConflict }

// AmbiguousError lists the releases a selector matches.
type AmbiguousError struct {
	Selector string
	Matches  []string
}

func (e *AmbiguousError) Error() string {
	return fmt.Sprintf("%q is ambiguous: it matches %s", e.Selector, strings.Join(e.Matches, ", "))
}

// Is matches ErrAmbiguous.
func (e *AmbiguousError) Is(target error) bool { return target == ErrAmbiguous }

// ChainError is the first break found in an environment's history.
type ChainError struct {
	Env string
	// Sequence is the position of the offending event (1-based).
	Sequence int64
	// ID is the stored ID of the offending event, when there is one.
	ID     string
	Reason string
}

func (e *ChainError) Error() string {
	s := fmt.Sprintf("history of %s breaks at event %d", e.Env, e.Sequence)
	if e.ID != "" {
		s += " (" + ShortID(e.ID) + ")"
	}
	return s + ": " + e.Reason
}

// Is matches ErrBroken.
func (e *ChainError) Is(target error) bool { return target == ErrBroken }

// RecordError is a stored release record that does not read or verify.
type RecordError struct {
	// ID is the ID the record is stored under.
	ID  string
	Err error
}

func (e *RecordError) Error() string { return e.Err.Error() }

// Unwrap returns the problem.
func (e *RecordError) Unwrap() error { return e.Err }

// Is matches ErrBroken.
func (e *RecordError) Is(target error) bool { return target == ErrBroken }

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	if ValidID(s) {
		return ShortID(s)
	}
	return s
}

// NoMatch is the error of a GetRelease selector that matches no release
// (of app, when app is set). It matches ErrNotFound.
func NoMatch(app, selector string) error {
	if app != "" {
		return fmt.Errorf("release %s of %s: %w", selector, app, ErrNotFound)
	}
	return fmt.Errorf("release %s: %w", selector, ErrNotFound)
}

// OnlyMatch returns the one release a GetRelease selector found: none is
// NoMatch, several an *AmbiguousError listing each as "r42 (abcdef123456)".
// The backends share it so that every ledger words these answers alike.
func OnlyMatch(app, selector string, found []Release) (Release, error) {
	switch len(found) {
	case 0:
		return Release{}, NoMatch(app, selector)
	case 1:
		return found[0], nil
	}
	ae := &AmbiguousError{Selector: selector}
	for _, r := range found {
		ae.Matches = append(ae.Matches, r.Label()+" ("+ShortID(r.ID)+")")
	}
	return Release{}, ae
}
