package release

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Report is what Audit found in a ledger.
type Report struct {
	// Releases holds every release whose record verifies, newest first
	// (by creation time, then app and number, as ListReleases of every app).
	Releases []Release
	// Deployed holds the IDs of the releases in Releases that some event
	// names, each once, in the order the environments' events were read.
	Deployed []string
	// Envs counts the environments with events.
	Envs int
	// Problems lists every break found; each matches ErrBroken.
	Problems []error
}

// Verify checks a whole ledger (see Audit) and returns every problem
// found, joined; each matches ErrBroken. Any other error is the I/O error
// that stopped it.
func Verify(ctx context.Context, l Ledger) error {
	rep, err := Audit(ctx, l)
	if err != nil {
		return err
	}
	return errors.Join(rep.Problems...)
}

// Audit checks a whole ledger: every release's content matches its ID and
// is valid, no two releases of an app share a number, every environment's
// history is an unbroken chain, and every event names a release the
// ledger holds, with its app and number. It reports every problem it can
// find: a record that does not verify is reported and the others are
// still checked (fully when l is an Auditor), and the events of a broken
// history are still checked against their releases. The error is set
// only when the ledger could not be read.
func Audit(ctx context.Context, l Ledger) (Report, error) {
	var rep Report
	apps, err := l.Apps(ctx)
	if err != nil {
		return rep, fmt.Errorf("listing apps: %w", err)
	}
	known := map[string]Release{}
	// Events naming a release reported as unreadable, or a release of an
	// app whose listing failed as a whole, are not reported again as
	// naming a release the ledger does not hold.
	unreadable := map[string]bool{}
	unreadableApps := map[string]bool{}
	for _, app := range apps {
		rels, problems, err := auditReleases(ctx, l, app)
		if err != nil {
			return rep, fmt.Errorf("listing releases of %s: %w", app, err)
		}
		for _, p := range problems {
			if re, ok := errors.AsType[*RecordError](p); ok {
				unreadable[re.ID] = true
			} else {
				unreadableApps[app] = true
			}
			if errors.Is(p, ErrBroken) {
				p = fmt.Errorf("reading releases of %s: %w", app, p)
			} else {
				p = fmt.Errorf("%w: reading releases of %s: %w", ErrBroken, app, p)
			}
			rep.Problems = append(rep.Problems, p)
		}
		var good []Release
		for _, r := range rels {
			if r.ID != r.ComputeID() {
				unreadable[r.ID] = true
				rep.Problems = append(rep.Problems, fmt.Errorf("%w: %s: content does not match its ID %s", ErrBroken, r.Label(), ShortID(r.ID)))
				continue
			}
			known[r.ID] = r
			good = append(good, r)
		}
		rep.Problems = append(rep.Problems, duplicateNumbers(good)...)
		rep.Releases = append(rep.Releases, good...)
	}
	slices.SortStableFunc(rep.Releases, func(a, b Release) int {
		return cmp.Or(b.Created.Compare(a.Created), strings.Compare(b.App, a.App), cmp.Compare(b.Number, a.Number))
	})
	envs, err := l.Envs(ctx)
	if err != nil {
		return rep, fmt.Errorf("listing environments: %w", err)
	}
	rep.Envs = len(envs)
	deployed := map[string]bool{}
	for _, env := range envs {
		h, problems, err := auditHistory(ctx, l, env)
		if err != nil {
			return rep, fmt.Errorf("reading history of %s: %w", env, err)
		}
		for _, p := range problems {
			if _, ok := errors.AsType[*ChainError](p); !ok {
				// A backend that checks its own index against the events
				// (SQLite columns, OCI tags) names the event itself.
				p = fmt.Errorf("%w: reading history of %s: %w", ErrBroken, env, p)
			}
			rep.Problems = append(rep.Problems, p)
		}
		if err := VerifyChain(env, h); err != nil {
			rep.Problems = append(rep.Problems, err)
		}
		for _, e := range h {
			r, ok := known[e.Release]
			if !ok {
				if !unreadable[e.Release] && !unreadableApps[e.App] {
					rep.Problems = append(rep.Problems, &ChainError{Env: env, Sequence: e.Sequence, ID: e.ID, Reason: "names release " + ShortID(e.Release) + ", which the ledger does not hold"})
				}
				continue
			}
			if err := CheckEventRelease(e, r); err != nil {
				rep.Problems = append(rep.Problems, &ChainError{Env: env, Sequence: e.Sequence, ID: e.ID, Reason: err.Error()})
			}
			if !deployed[r.ID] {
				deployed[r.ID] = true
				rep.Deployed = append(rep.Deployed, r.ID)
			}
		}
	}
	return rep, nil
}

// auditReleases lists app's releases through AuditReleases when l is an
// Auditor; otherwise a listing that fails as a whole is one problem.
func auditReleases(ctx context.Context, l Ledger, app string) ([]Release, []error, error) {
	if a, ok := l.(Auditor); ok {
		return a.AuditReleases(ctx, app)
	}
	rels, err := l.ListReleases(ctx, app, ListOptions{})
	if errors.Is(err, ErrInvalid) || errors.Is(err, ErrBroken) {
		return nil, []error{err}, nil
	}
	return rels, nil, err
}

// auditHistory reads env's events oldest first, through AuditHistory when
// l is an Auditor; otherwise a history that cannot be read is one problem.
func auditHistory(ctx context.Context, l Ledger, env string) ([]Event, []error, error) {
	if a, ok := l.(Auditor); ok {
		return a.AuditHistory(ctx, env)
	}
	h, err := l.History(ctx, env, ListOptions{})
	if errors.Is(err, ErrInvalid) || errors.Is(err, ErrBroken) {
		return nil, []error{err}, nil
	}
	if err != nil {
		return nil, nil, err
	}
	slices.Reverse(h)
	return h, nil, nil
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
