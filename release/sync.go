package release

import (
	"context"
	"errors"
	"fmt"
	"slices"
)

// SyncStats counts what Sync copied and what was already there.
type SyncStats struct {
	Releases, Events               int
	SkippedReleases, SkippedEvents int
}

// Sync copies every release and event of from into to, keeping numbers,
// times and IDs, so that both ledgers end up holding the same records.
// It is idempotent. It verifies from's histories before copying and
// refuses to merge: a release number or history position that holds
// different content in the two ledgers stops it with an error matching
// ErrFork. Events of an environment that to holds beyond from's are left
// alone.
func Sync(ctx context.Context, from, to Ledger) (SyncStats, error) {
	var st SyncStats
	apps, err := from.Apps(ctx)
	if err != nil {
		return st, fmt.Errorf("listing apps: %w", err)
	}
	for _, app := range apps {
		if err := syncReleases(ctx, from, to, app, &st); err != nil {
			return st, err
		}
	}
	envs, err := from.Envs(ctx)
	if err != nil {
		return st, fmt.Errorf("listing environments: %w", err)
	}
	for _, env := range envs {
		if err := syncEvents(ctx, from, to, env, &st); err != nil {
			return st, err
		}
	}
	return st, nil
}

func syncReleases(ctx context.Context, from, to Ledger, app string, st *SyncStats) error {
	src, err := from.ListReleases(ctx, app, ListOptions{})
	if err != nil {
		return fmt.Errorf("listing releases of %s: %w", app, err)
	}
	dst, err := to.ListReleases(ctx, app, ListOptions{})
	if err != nil {
		return fmt.Errorf("listing releases of %s in the destination: %w", app, err)
	}
	if errs := duplicateNumbers(src); len(errs) > 0 {
		return fmt.Errorf("refusing to copy: %w", errs[0])
	}
	have := make(map[int64]string, len(dst))
	for _, r := range dst {
		have[r.Number] = r.ID
	}
	slices.Reverse(src)
	for _, r := range src {
		if r.ID != r.ComputeID() {
			return fmt.Errorf("%w: %s: content does not match its ID %s", ErrBroken, r.Label(), ShortID(r.ID))
		}
		if id, ok := have[r.Number]; ok {
			if id != r.ID {
				return &ForkError{Place: r.Label(), Ours: r.ID, Theirs: id}
			}
			st.SkippedReleases++
			continue
		}
		got, err := to.PutRelease(ctx, r)
		if err != nil {
			if errors.Is(err, ErrConflict) {
				return fmt.Errorf("copying %s: %w", r.Label(), errors.Join(ErrFork, err))
			}
			return fmt.Errorf("copying %s: %w", r.Label(), err)
		}
		if got.ID != r.ID {
			return fmt.Errorf("copying %s: the destination recorded %s, not %s", r.Label(), ShortID(got.ID), ShortID(r.ID))
		}
		st.Releases++
	}
	return nil
}

func syncEvents(ctx context.Context, from, to Ledger, env string, st *SyncStats) error {
	src, err := from.History(ctx, env, ListOptions{})
	if err != nil {
		return fmt.Errorf("reading history of %s: %w", env, err)
	}
	slices.Reverse(src)
	if err := VerifyChain(env, src); err != nil {
		return fmt.Errorf("refusing to copy: %w", err)
	}
	dst, err := to.History(ctx, env, ListOptions{})
	if err != nil {
		return fmt.Errorf("reading history of %s in the destination: %w", env, err)
	}
	slices.Reverse(dst)
	for i := range min(len(src), len(dst)) {
		if src[i].ID != dst[i].ID {
			return fmt.Errorf("refusing to merge diverging histories: %w",
				&ForkError{Place: fmt.Sprintf("%s #%d", env, i+1), Ours: src[i].ID, Theirs: dst[i].ID})
		}
	}
	st.SkippedEvents += min(len(src), len(dst))
	for _, e := range src[min(len(src), len(dst)):] {
		want := e.ID
		e.ID = ""
		got, err := to.AppendEvent(ctx, e)
		if err != nil {
			return fmt.Errorf("copying %s #%d: %w", env, e.Sequence, err)
		}
		if got.ID != want {
			return fmt.Errorf("copying %s #%d: the destination recorded %s, not %s", env, e.Sequence, ShortID(got.ID), ShortID(want))
		}
		st.Events++
	}
	return nil
}
