package explain

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/stet-dev/stet/ref"
)

// Held is a move left alone, and why.
type Held struct {
	Move
	// Created is when the new image was built, as its config says; zero
	// when unknown.
	Created time.Time `json:"created,omitzero"`
	Reason  string    `json:"reason"`
}

// Created returns when the image name@digest was built, as its config
// records it. For an index it is the youngest of the platform images
// Options.Platforms names (by default linux/amd64, or the index's first
// platform). It is zero when any of them records no time, or the Unix epoch,
// which reproducible builders write when they have no source date: both
// mean "unknown".
func (e *Explainer) Created(ctx context.Context, name, digest string) (time.Time, error) {
	var newest time.Time
	for _, p := range e.platforms() {
		im, err := e.open(ctx, name, digest, p)
		if err != nil {
			return time.Time{}, fmt.Errorf("reading the config of %s@%s: %w", ref.FamiliarName(name), shortDigest(digest), err)
		}
		c := im.Config.Created.Time
		if c.IsZero() || c.Unix() <= 0 {
			return time.Time{}, nil
		}
		if c.After(newest) {
			newest = c
		}
	}
	return newest, nil
}

// Hold splits moves into those to adopt and those to leave alone because
// the new image is younger than minAge at now, or its age is unknown (no
// creation time in its config). Action moves are always held: git keeps no
// record of when a tag was moved, and a commit's date is whatever its author
// wrote. Moves are grouped first (see Group). A config that cannot be read
// is an error: an age that was not checked must not pass for an old one.
func (e *Explainer) Hold(ctx context.Context, moves []Move, minAge time.Duration, now time.Time) (adopt []Move, held []Held, err error) {
	moves = Group(moves)
	type verdict struct {
		created time.Time
		reason  string
		err     error
	}
	vs := make([]verdict, len(moves))
	e.each(len(moves), func(i int) {
		m := moves[i]
		if m.Kind == ref.Action {
			vs[i].reason = "--min-age: the age of a commit is unknown (git keeps no record of when a tag moved)"
			return
		}
		c, err := e.Created(ctx, m.Name, m.To)
		vs[i] = verdict{created: c, err: err}
		if err == nil {
			vs[i].reason, _ = holdReason(c, now, minAge)
		}
	})
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	var errs []error
	for i, m := range moves {
		switch v := vs[i]; {
		case v.err != nil:
			errs = append(errs, v.err)
		case v.reason != "":
			held = append(held, Held{Move: m, Created: v.created, Reason: v.reason})
		default:
			adopt = append(adopt, m)
		}
	}
	if len(errs) > 0 {
		return nil, nil, errors.Join(errs...)
	}
	return adopt, held, nil
}

// holdReason says why an image created at c is not adopted at now under
// minAge; ok is true when it may be adopted.
func holdReason(c, now time.Time, minAge time.Duration) (reason string, ok bool) {
	if c.IsZero() {
		return "--min-age: the image records no creation time, so its age is unknown", false
	}
	age := now.Sub(c)
	if age >= minAge {
		return "", true
	}
	if age < 0 {
		return fmt.Sprintf("--min-age %s: the image says it was created at %s, in the future", flagDuration(minAge), c.UTC().Format(time.RFC3339)), false
	}
	return fmt.Sprintf("--min-age %s: created %s ago (%s)", flagDuration(minAge), Duration(age.Truncate(time.Minute)), c.UTC().Format(time.RFC3339)), false
}

// Duration renders a duration for people: 72h, 90m, 3d4h for long ages.
func Duration(d time.Duration) string {
	if d >= 48*time.Hour {
		days := d / (24 * time.Hour)
		h := (d % (24 * time.Hour)) / time.Hour
		if h == 0 {
			return fmt.Sprintf("%dd", days)
		}
		return fmt.Sprintf("%dd%dh", days, h)
	}
	return flagDuration(d)
}

// flagDuration renders a duration as a flag takes it, without zero units:
// 72h, 1h30m, 90s.
func flagDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
