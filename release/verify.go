package release

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Verify checks a whole ledger: every release's content matches its ID
// and is valid, every environment's history is an unbroken chain, and
// every event names a release the ledger holds, with its app and number.
// It returns every problem found, joined; each matches ErrBroken (or is
// the I/O error that stopped it).
func Verify(ctx context.Context, l Ledger) error {
	var errs []error
	apps, err := l.Apps(ctx)
	if err != nil {
		return fmt.Errorf("listing apps: %w", err)
	}
	known := map[string]Release{}
	// unreadable holds the apps whose releases could not be read: events
	// naming them are not reported again as naming a missing release.
	unreadable := map[string]bool{}
	for _, app := range apps {
		rels, err := l.ListReleases(ctx, app, ListOptions{})
		if err != nil {
			if !errors.Is(err, ErrInvalid) && !errors.Is(err, ErrBroken) {
				return fmt.Errorf("listing releases of %s: %w", app, err)
			}
			unreadable[app] = true
			errs = append(errs, fmt.Errorf("%w: reading releases of %s: %w", ErrBroken, app, err))
			continue
		}
		errs = append(errs, duplicateNumbers(rels)...)
		for _, r := range rels {
			if r.ID != r.ComputeID() {
				errs = append(errs, fmt.Errorf("%w: %s: content does not match its ID %s", ErrBroken, r.Label(), ShortID(r.ID)))
				continue
			}
			known[r.ID] = r
		}
	}
	envs, err := l.Envs(ctx)
	if err != nil {
		return fmt.Errorf("listing environments: %w", err)
	}
	for _, env := range envs {
		h, err := l.History(ctx, env, ListOptions{})
		if err != nil {
			if !errors.Is(err, ErrInvalid) && !errors.Is(err, ErrBroken) {
				return fmt.Errorf("reading history of %s: %w", env, err)
			}
			var ce *ChainError
			if errors.As(err, &ce) {
				// A backend that checks its own index against the
				// events (SQLite columns, OCI tags) names the event itself.
				errs = append(errs, ce)
			} else {
				errs = append(errs, fmt.Errorf("%w: reading history of %s: %w", ErrBroken, env, err))
			}
			continue
		}
		slices.Reverse(h)
		if err := VerifyChain(env, h); err != nil {
			errs = append(errs, err)
			continue
		}
		for _, e := range h {
			r, ok := known[e.Release]
			if !ok && unreadable[e.App] {
				continue
			}
			if !ok {
				errs = append(errs, &ChainError{Env: env, Sequence: e.Sequence, ID: e.ID, Reason: "names release " + ShortID(e.Release) + ", which the ledger does not hold"})
				continue
			}
			if err := CheckEventRelease(e, r); err != nil {
				errs = append(errs, &ChainError{Env: env, Sequence: e.Sequence, ID: e.ID, Reason: err.Error()})
			}
		}
	}
	return errors.Join(errs...)
}

// duplicateNumbers reports every number that several of one app's
// releases share: a number names one release, so all but one of them were
// added behind the ledger's back, and "r42" could deploy either.
func duplicateNumbers(rels []Release) []error {
	byNumber := map[int64][]Release{}
	var order []int64
	for _, r := range rels {
		if len(byNumber[r.Number]) == 0 {
			order = append(order, r.Number)
		}
		byNumber[r.Number] = append(byNumber[r.Number], r)
	}
	var errs []error
	for _, n := range order {
		same := byNumber[n]
		if len(same) < 2 {
			continue
		}
		ids := make([]string, len(same))
		for i, r := range same {
			ids[i] = ShortID(r.ID)
		}
		errs = append(errs, fmt.Errorf("%w: %s is recorded %d times (%s): a release number names one release",
			ErrBroken, same[0].Label(), len(same), strings.Join(ids, ", ")))
	}
	return errs
}
