package release

import (
	"errors"
	"fmt"
	"slices"
)

// RollbackPlan is what a rollback of one environment redeploys.
type RollbackPlan struct {
	// Current is the environment's newest event: what is deployed now.
	Current Event
	// Target is the ID of the release to redeploy.
	Target string
	// From is the newest earlier event that deployed Target; nil when
	// Target was named explicitly and never deployed to the environment.
	From *Event
}

// ReleaseLookup returns the release with exactly the ID given, as
// Ledger.GetRelease does with the whole ID as selector; a release the
// ledger does not hold matches ErrNotFound.
type ReleaseLookup func(id string) (Release, error)

// PlanRollback chooses what a rollback redeploys from an environment's
// history (newest first, as History returns it), reading the releases it
// compares through lookup.
//
// Releases are compared by what they deploy: the set of their images'
// digests (image names aside). With target empty the plan is the newest
// earlier release of the current app that deploys something else than
// the current release, and whose digests are not those of any release a
// rollback in this history replaced: a rollback marks what it removed as
// bad, under whatever release it is recorded again, so rolling back twice
// never returns to what the first rollback removed. With target set (a
// release ID) it is that release, unless it deploys the same digests as
// the current one (ErrInvalid). A history without events, or without an
// earlier release that qualifies, is ErrNotFound.
//
// The history is checked first (each event's ID is its hash and names the
// one before it), so an edited history is refused with ErrBroken instead
// of choosing what to deploy from it; so is an event naming a release the
// ledger does not hold, or one with another app or number.
func PlanRollback(newestFirst []Event, target string, lookup ReleaseLookup) (RollbackPlan, error) {
	if len(newestFirst) == 0 {
		return RollbackPlan{}, fmt.Errorf("%w: nothing was deployed, so nothing can be rolled back", ErrNotFound)
	}
	if err := verifySegment(newestFirst); err != nil {
		return RollbackPlan{}, err
	}
	cur := newestFirst[0]
	plan := RollbackPlan{Current: cur}
	keys := map[string]string{}
	keyOf := func(e Event) (string, error) {
		if k, ok := keys[e.Release]; ok {
			return k, nil
		}
		r, err := lookup(e.Release)
		switch {
		case errors.Is(err, ErrNotFound):
			return "", &ChainError{Env: e.Env, Sequence: e.Sequence, ID: e.ID, Reason: "names release " + ShortID(e.Release) + ", which the ledger does not hold"}
		case err != nil:
			return "", err
		case r.ID != e.Release:
			return "", fmt.Errorf("looking up release %s: found %s", ShortID(e.Release), ShortID(r.ID))
		}
		if err := CheckEventRelease(e, r); err != nil {
			return "", &ChainError{Env: e.Env, Sequence: e.Sequence, ID: e.ID, Reason: err.Error()}
		}
		keys[e.Release] = digestKey(r)
		return keys[e.Release], nil
	}
	curKey, err := keyOf(cur)
	if err != nil {
		return RollbackPlan{}, err
	}
	if target != "" {
		if target == cur.Release {
			return RollbackPlan{}, fmt.Errorf("%w: %s r%d is already deployed to %s", ErrInvalid, cur.App, cur.Number, cur.Env)
		}
		r, err := lookup(target)
		if err != nil {
			return RollbackPlan{}, err
		}
		if digestKey(r) == curKey {
			return RollbackPlan{}, fmt.Errorf("%w: %s deploys the same digests as %s r%d, which %s runs", ErrInvalid, r.Label(), cur.App, cur.Number, cur.Env)
		}
		plan.Target = target
		for i := range newestFirst[1:] {
			if e := newestFirst[1+i]; e.Release == target {
				plan.From = &e
				break
			}
		}
		return plan, nil
	}
	// A rollback event replaced the release deployed before it: what
	// that release deploys is known bad and never chosen automatically.
	bad := map[string]bool{}
	for i, e := range newestFirst {
		if e.Action == Rollback && i+1 < len(newestFirst) {
			k, err := keyOf(newestFirst[i+1])
			if err != nil {
				return RollbackPlan{}, err
			}
			bad[k] = true
		}
	}
	for i := range newestFirst[1:] {
		e := newestFirst[1+i]
		if e.App != cur.App || e.Release == cur.Release {
			continue
		}
		k, err := keyOf(e)
		if err != nil {
			return RollbackPlan{}, err
		}
		if k == curKey || bad[k] {
			continue
		}
		plan.Target, plan.From = e.Release, &e
		return plan, nil
	}
	return RollbackPlan{}, fmt.Errorf("%w: %s has no earlier release of %s that deploys other digests than the current one and than every release a rollback removed (name one explicitly)", ErrNotFound, cur.Env, cur.App)
}

// digestKey is what a release deploys, for comparing releases: its
// images' digests, sorted, without duplicates.
func digestKey(r Release) string {
	var ds []string
	for _, im := range r.Images {
		ds = append(ds, im.Digest)
	}
	slices.Sort(ds)
	return fmt.Sprint(slices.Compact(ds))
}

// VerifySegment checks consecutive events of one environment, newest
// first, as History returns them with a limit: each one's stored ID is the
// hash of its content and names the one after it in the list. The oldest
// one's predecessor is not there to check; VerifyChain checks a whole
// history. A break is a *ChainError.
func VerifySegment(newestFirst []Event) error { return verifySegment(newestFirst) }

func verifySegment(newestFirst []Event) error {
	for i, e := range newestFirst {
		fail := func(reason string) error {
			return &ChainError{Env: e.Env, Sequence: e.Sequence, ID: e.ID, Reason: reason}
		}
		if e.ID != e.ComputeID() {
			return fail("content does not match its ID: the event was altered")
		}
		if i+1 < len(newestFirst) {
			older := newestFirst[i+1]
			if e.Prev != older.ID || e.Env != older.Env {
				return fail("does not follow the event before it in the history")
			}
		}
	}
	return nil
}
