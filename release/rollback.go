package release

import (
	"fmt"
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

// PlanRollback chooses what a rollback redeploys from an environment's
// history (newest first, as History returns it).
//
// With target empty it is the newest earlier release of the current app
// that differs from the current release and that no later rollback moved
// away from: rolling back twice does not return to the release the first
// rollback removed. With target set (a release ID) it is that release. A
// history without events, or without an earlier good release, is
// ErrNotFound; a target that is already deployed is ErrInvalid. The
// history is checked first (each event's ID is its hash and names the one
// before it), so an edited history is refused with ErrBroken instead of
// choosing what to deploy from it.
func PlanRollback(newestFirst []Event, target string) (RollbackPlan, error) {
	if len(newestFirst) == 0 {
		return RollbackPlan{}, fmt.Errorf("%w: nothing was deployed, so nothing can be rolled back", ErrNotFound)
	}
	if err := verifySegment(newestFirst); err != nil {
		return RollbackPlan{}, err
	}
	cur := newestFirst[0]
	plan := RollbackPlan{Current: cur}
	if target != "" {
		if target == cur.Release {
			return RollbackPlan{}, fmt.Errorf("%w: %s r%d is already deployed to %s", ErrInvalid, cur.App, cur.Number, cur.Env)
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
	// A rollback event replaced the release deployed before it: that
	// release is known bad and is never chosen automatically.
	bad := map[string]bool{}
	for i, e := range newestFirst {
		if e.Action == Rollback && i+1 < len(newestFirst) {
			bad[newestFirst[i+1].Release] = true
		}
	}
	for i := range newestFirst[1:] {
		e := newestFirst[1+i]
		if e.App != cur.App || e.Release == cur.Release || bad[e.Release] {
			continue
		}
		plan.Target, plan.From = e.Release, &e
		return plan, nil
	}
	return RollbackPlan{}, fmt.Errorf("%w: %s has no earlier release of %s to roll back to (name one explicitly)", ErrNotFound, cur.Env, cur.App)
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
