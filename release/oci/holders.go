package oci

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/stet-dev/stet/release"
)

// The claim protocol (see claim) leaves evidence beside every event tag:
// the event holding e-<env>-N claimed the place first (its claim tag
// exists), and it never withdrew; a writer that lost the race for the
// place withdrew its own claim. A claim left standing by a writer that
// stopped midway was either stale before the holder claimed the place (the
// holder went ahead, as writers do after ClaimTimeout) or made after the
// holder's claim. The checks below hold the tags to that, so that an event
// tag pointed at a record by hand, or a claimed event whose tag was
// deleted, is a break and not a quietly shorter history.

// claimID is the part of a record ID that claim tags carry.
func claimID(id string) string {
	h := strings.TrimPrefix(id, "sha256:")
	return h[:min(len(h), claimLen)]
}

// strayClaims lists the claims on a place (as tags) that are neither the
// holder's, nor withdrawn, nor left by a writer that is at work or
// stopped: live claims (younger than ClaimTimeout) are writers at work;
// on a taken place (holder set) a claim that was stale when the holder
// claimed the place, or made after that, was left by a writer that
// stopped. What remains names a record the protocol put at the place: on
// a free place, a record whose tag was removed; on a taken one, a record
// that held the place before its tag was moved. held is when the holder
// claimed the place.
func (l *Ledger) strayClaims(ctx context.Context, place string, s *slot, holder string, held time.Time) ([]string, error) {
	var out []string
	for _, c := range s.claims {
		if c == holder || s.withdrawn[c] {
			continue
		}
		tag := place + "." + c
		t, found, err := l.claimedAt(ctx, tag)
		if err != nil {
			return nil, err
		}
		switch {
		case !found:
			continue // listed, not yet readable: just written
		case !t.IsZero() && l.now().Sub(t) < ClaimTimeout:
			continue // its writer is at work
		case holder != "" && !t.IsZero() && !held.IsZero() && (!t.Add(ClaimTimeout).After(held) || t.After(held)):
			continue // its writer stopped
		}
		out = append(out, tag)
	}
	return out, nil
}

// holderProblem says what is wrong with the event holding place n of env,
// read as st, given the claims on the place; "" when nothing is.
func (l *Ledger) holderProblem(ctx context.Context, place string, s *slot, st stored) (string, error) {
	id := claimID(st.id)
	if s == nil {
		s = &slot{}
	}
	switch {
	case !slices.Contains(s.claims, id):
		reason := fmt.Sprintf("%s holds an event that never claimed the place (there is no claim tag %s): the tag was set outside the ledger", place, place+"."+id)
		var standing []string
		for _, c := range s.claims {
			if !s.withdrawn[c] {
				standing = append(standing, place+"."+c)
			}
		}
		if len(standing) > 0 {
			reason += "; the event that claimed it is " + strings.Join(standing, ", ")
		}
		return reason, nil
	case s.withdrawn[id]:
		return fmt.Sprintf("%s holds an event whose writer withdrew its claim %s: the tag was set after the writer gave the place up", place, place+"."+id), nil
	}
	stray, err := l.strayClaims(ctx, place, s, id, st.claimed)
	if err != nil || len(stray) == 0 {
		return "", err
	}
	return fmt.Sprintf("claim %s was never withdrawn although it stood when the holder claimed %s (a writer that loses the race withdraws): the event it names held the place, and the tag was moved", strings.Join(stray, ", "), place), nil
}

// checkHolder checks the event e, read as st from place n of env, against
// the claims on the place in ix. What the protocol forbids is a
// *release.ChainError. A problem is confirmed by a second tag listing
// first, so that tags written between the first listing and the reads
// are not taken for a break.
func (l *Ledger) checkHolder(ctx context.Context, ix index, env string, n int64, e release.Event, st stored) error {
	place := EventTag(env, n)
	reason, err := l.holderProblem(ctx, place, ix.events[env][n], st)
	if err != nil || reason == "" {
		return err
	}
	if ix, err = l.tags(ctx); err != nil {
		return err
	}
	if reason, err = l.holderProblem(ctx, place, ix.events[env][n], st); err != nil || reason == "" {
		return err
	}
	return &release.ChainError{Env: env, Sequence: n, ID: e.ID, Reason: reason}
}

// checkFree checks the places of env numbered above n whose tag does not
// exist: a claim standing there that is no writer's at work names an
// event whose tag was removed (or whose writer stopped before taking the
// place, which the tags cannot tell apart). It is a *release.ChainError,
// confirmed by a second listing as checkHolder does.
func (l *Ledger) checkFree(ctx context.Context, ix index, env string, n int64) error {
	problem := func(ix index) (int64, []string, error) {
		slots := ix.events[env]
		for _, m := range slices.Sorted(maps.Keys(slots)) {
			if s := slots[m]; m > n && !s.taken {
				stray, err := l.strayClaims(ctx, EventTag(env, m), s, "", time.Time{})
				if err != nil || len(stray) > 0 {
					return m, stray, err
				}
			}
		}
		return 0, nil, nil
	}
	m, stray, err := problem(ix)
	if err != nil || len(stray) == 0 {
		return err
	}
	if ix, err = l.tags(ctx); err != nil {
		return err
	}
	if m, stray, err = problem(ix); err != nil || len(stray) == 0 {
		return err
	}
	place := EventTag(env, m)
	return &release.ChainError{Env: env, Sequence: m, ID: stray[0][len(stray[0])-claimLen:],
		Reason: fmt.Sprintf("claim %s stands, but %s does not exist: the event was removed (or its writer stopped before taking the place; if so, withdraw the claim by tagging it %s)",
			strings.Join(stray, ", "), place, stray[0]+withdrawnSuffix)}
}

// standing reports whether a slot has a claim that was not withdrawn.
func standing(s *slot) bool {
	return slices.ContainsFunc(s.claims, func(c string) bool { return !s.withdrawn[c] })
}
