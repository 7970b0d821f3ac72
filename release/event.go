package release

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"
)

// Action is what an event did to its environment.
type Action string

const (
	// Promote deploys a release to an environment.
	Promote Action = "promote"
	// Rollback redeploys an earlier release, replacing the current one.
	Rollback Action = "rollback"
)

// Event is one deployment of a release to an environment. The events of an
// environment form a hash chain: each names the ID of the one before it.
type Event struct {
	// ID is "sha256:<hex>" of the canonical encoding; set by the ledger.
	ID string
	// Env is the environment: lowercase letters, digits, '.', '_' and '-'.
	Env string
	// Sequence orders the events of an environment: it starts at 1 and
	// increases by one per event, assigned by the ledger when zero. A
	// registry ledger may skip a number that two writers raced for and
	// both gave up; the Prev links, not the numbers, make the chain.
	Sequence int64
	Action   Action
	// Release is the ID of the release deployed; App and Number repeat
	// its app and number so that history reads without fetching it.
	Release string
	App     string
	Number  int64
	// Time is when the event was recorded, UTC, millisecond precision; the
	// ledger sets it when zero.
	Time time.Time
	// Actor says who recorded the event, and where.
	Actor Creator
	// Reason is free text: why this was deployed or rolled back.
	Reason string
	// Prev is the ID of the environment's previous event; empty for the
	// first. AppendEvent refuses an event whose Prev is not the head.
	Prev string
}

type wireEvent struct {
	ID       string      `json:"id,omitempty"`
	Env      string      `json:"env"`
	Sequence int64       `json:"sequence"`
	Action   Action      `json:"action"`
	Release  string      `json:"release"`
	App      string      `json:"app"`
	Number   int64       `json:"number"`
	Time     string      `json:"time"`
	Actor    wireCreator `json:"actor"`
	Reason   string      `json:"reason,omitempty"`
	Prev     string      `json:"prev,omitempty"`
}

func (e Event) wire() wireEvent {
	return wireEvent{
		ID: e.ID, Env: e.Env, Sequence: e.Sequence, Action: e.Action,
		Release: e.Release, App: e.App, Number: e.Number,
		Time: e.Time.UTC().Format(TimeFormat), Actor: e.Actor.wire(),
		Reason: e.Reason, Prev: e.Prev,
	}
}

func (w wireEvent) event() (Event, error) {
	t, err := parseTime(w.Time)
	if err != nil {
		return Event{}, fmt.Errorf("time: %w", err)
	}
	return Event{
		ID: w.ID, Env: w.Env, Sequence: w.Sequence, Action: w.Action,
		Release: w.Release, App: w.App, Number: w.Number,
		Time: t, Actor: w.Actor.creator(), Reason: w.Reason, Prev: w.Prev,
	}, nil
}

// Canonical is the event's canonical encoding (see Release.Canonical),
// without the ID. It includes Prev, which chains the events.
func (e Event) Canonical() []byte {
	w := e.wire()
	w.ID = ""
	return canonicalJSON(w)
}

// ComputeID is the ID the event's content gives.
func (e Event) ComputeID() string { return digestOf(e.Canonical()) }

// MarshalJSON writes the canonical fields and the ID, for output.
func (e Event) MarshalJSON() ([]byte, error) { return canonicalJSON(e.wire()), nil }

// UnmarshalJSON reads what MarshalJSON writes; ParseEvent is the strict
// reader of stored events.
func (e *Event) UnmarshalJSON(data []byte) error {
	var w wireEvent
	if err := json.Unmarshal(data, &w); err != nil {
		return err
	}
	out, err := w.event()
	if err != nil {
		return err
	}
	*e = out
	return nil
}

// ParseEvent reads a stored event: exactly its canonical encoding, valid.
// The ID is computed from data.
func ParseEvent(data []byte) (Event, error) {
	var w wireEvent
	if err := decodeStrict(data, &w); err != nil {
		return Event{}, fmt.Errorf("%w: decoding event: %w", ErrInvalid, err)
	}
	if w.ID != "" {
		return Event{}, fmt.Errorf("%w: decoding event: a stored event carries no id field", ErrInvalid)
	}
	e, err := w.event()
	if err != nil {
		return Event{}, fmt.Errorf("%w: decoding event: %w", ErrInvalid, err)
	}
	if !bytes.Equal(e.Canonical(), data) {
		return Event{}, fmt.Errorf("%w: decoding event: not in canonical form", ErrInvalid)
	}
	if err := e.Validate(); err != nil {
		return Event{}, err
	}
	e.ID = digestOf(data)
	return e, nil
}

// Validate checks an event. A zero Sequence is allowed (the ledger
// assigns it); otherwise Prev must be empty exactly for the first event.
func (e Event) Validate() error {
	if err := e.validate(); err != nil {
		return fmt.Errorf("%w: event %s #%d: %w", ErrInvalid, e.Env, e.Sequence, err)
	}
	return nil
}

func (e Event) validate() error {
	if !ValidName(e.Env) {
		return fmt.Errorf("environment name %q: want lowercase letters, digits, '.', '_' or '-', at most %d bytes", e.Env, MaxNameLen)
	}
	if e.Action != Promote && e.Action != Rollback {
		return fmt.Errorf("action %q: want %s or %s", e.Action, Promote, Rollback)
	}
	if !ValidID(e.Release) {
		return fmt.Errorf("release %q is not a release ID", e.Release)
	}
	if !ValidName(e.App) {
		return fmt.Errorf("app name %q is not valid", e.App)
	}
	if e.Number < 1 {
		return fmt.Errorf("release number %d: want 1 or more", e.Number)
	}
	if e.Sequence < 0 {
		return fmt.Errorf("sequence %d is negative", e.Sequence)
	}
	if e.Prev != "" && !ValidID(e.Prev) {
		return fmt.Errorf("previous event %q is not an event ID", e.Prev)
	}
	if e.Sequence == 1 && e.Prev != "" {
		return errors.New("the first event has no previous event")
	}
	if !e.Time.IsZero() || e.Sequence > 0 {
		if err := validTime(e.Time); err != nil {
			return fmt.Errorf("time: %w", err)
		}
	}
	if err := e.Actor.validate(); err != nil {
		return err
	}
	if !utf8.ValidString(e.Reason) || len(e.Reason) > 4096 {
		return errors.New("reason: invalid UTF-8 or longer than 4096 bytes")
	}
	return nil
}

// VerifyChain checks one environment's history, oldest first: every event
// belongs to env, its stored ID is the hash of its content, sequences
// increase, the first event names no predecessor and every later one
// names its predecessor's ID. Removing, editing, inserting or reordering
// any event but the newest breaks a link. It returns the first break as a
// *ChainError (errors.Is ErrBroken).
func VerifyChain(env string, oldestFirst []Event) error {
	prev, prevSeq := "", int64(0)
	for i, e := range oldestFirst {
		seq := e.Sequence
		if seq <= prevSeq {
			seq = prevSeq + 1
		}
		fail := func(format string, args ...any) error {
			return &ChainError{Env: env, Sequence: seq, ID: e.ID, Reason: fmt.Sprintf(format, args...)}
		}
		switch {
		case e.Env != env:
			return fail("event belongs to environment %q", e.Env)
		case e.Sequence <= prevSeq:
			return fail("event is numbered %d after event %d: out of order", e.Sequence, prevSeq)
		case i == 0 && e.Prev != "":
			return fail("the oldest event names previous event %s, which the history does not hold: events are missing", ShortID(e.Prev))
		case e.ID != e.ComputeID():
			return fail("content does not match its ID (hash %s): the event was altered", ShortID(e.ComputeID()))
		case e.Prev != prev:
			return fail("names previous event %s, but the previous event is %s", orNone(e.Prev), orNone(prev))
		}
		if err := e.Validate(); err != nil {
			return fail("%v", err)
		}
		prev, prevSeq = e.ID, e.Sequence
	}
	return nil
}

// VerifyHead checks the newest events of one environment, newest first,
// as History returns them with a Limit of 2: the newest event belongs to
// env, its stored ID is the hash of its content, and it names the event
// before it (or, alone, names none). It is what a command checks before
// acting on what an environment runs, in constant time however long the
// history; VerifyChain checks a whole history. A break is a *ChainError.
//
// A hash chain without an anchor cannot tell a history whose newest events
// were removed from one that never had them: only a copy of the ledger
// elsewhere (see Sync) shows such a truncation.
func VerifyHead(env string, newestFirst []Event) error {
	if len(newestFirst) == 0 {
		return nil
	}
	head := newestFirst[0]
	fail := func(format string, args ...any) error {
		return &ChainError{Env: env, Sequence: head.Sequence, ID: head.ID, Reason: fmt.Sprintf(format, args...)}
	}
	for i, e := range newestFirst[:min(2, len(newestFirst))] {
		if e.Env != env {
			return &ChainError{Env: env, Sequence: e.Sequence, ID: e.ID, Reason: fmt.Sprintf("event belongs to environment %q", e.Env)}
		}
		if e.ID != e.ComputeID() {
			return &ChainError{Env: env, Sequence: e.Sequence, ID: e.ID, Reason: fmt.Sprintf("content does not match its ID (hash %s): the event was altered", ShortID(e.ComputeID()))}
		}
		if err := e.Validate(); err != nil {
			return &ChainError{Env: env, Sequence: e.Sequence, ID: e.ID, Reason: err.Error()}
		}
		if i == 1 && e.Sequence >= head.Sequence {
			return fail("event is numbered %d after event %d: out of order", head.Sequence, e.Sequence)
		}
	}
	switch {
	case len(newestFirst) == 1 && head.Prev != "":
		return fail("names previous event %s, which the history does not hold: events are missing", ShortID(head.Prev))
	case len(newestFirst) > 1 && head.Prev != newestFirst[1].ID:
		return fail("names previous event %s, but the previous event is %s", orNone(head.Prev), orNone(newestFirst[1].ID))
	}
	return nil
}
