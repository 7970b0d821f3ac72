package lock

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/stet-dev/stet/ref"
	"github.com/stet-dev/stet/rules"
)

// Rule IDs this package reports.
const (
	RuleMismatch      = "STET010"
	RuleTagMoved      = "STET011"
	RuleDigestGone    = "STET012"
	RuleActionComment = "STET013"
)

// Short shortens a digest or commit for messages: sha256:0123456789ab…,
// 0123456789ab….
func Short(d string) string {
	const n = 12
	algo, hex, ok := cutAlgo(d)
	if len(hex) <= n {
		return d
	}
	if ok {
		return algo + ":" + hex[:n] + "…"
	}
	return hex[:n] + "…"
}

func cutAlgo(d string) (algo, hex string, ok bool) {
	for i := 0; i < len(d); i++ {
		if d[i] == ':' {
			return d[:i], d[i+1:], true
		}
	}
	return "", d, false
}

// FilesOptions tune VerifyFiles.
type FilesOptions struct {
	// Stale reports lock entries that no reference uses any more. Set it
	// only when refs cover the whole tree the lock describes: a check of a
	// subdirectory would otherwise call every other entry stale.
	Stale bool
}

// VerifyFiles compares the references found in files with the lock and
// returns STET010 findings:
//
//   - a reference pinned in its file to a digest the lock does not record
//     for that name and tag (the message names both digests);
//   - a reference with no entry in the lock at all;
//   - with opts.Stale, an entry no reference uses, reported at its line in
//     lockPath.
//
// A reference without a digest in its file agrees with any entry for its
// name and tag: the lock is what pins it. Dynamic references cannot be
// locked and are skipped.
func VerifyFiles(lk *Lock, lockPath string, refs []ref.Ref, opts FilesOptions) []rules.Finding {
	type nameTag struct {
		kind      ref.Kind
		name, tag string
	}
	entries := map[nameTag][]int{}
	for i, e := range lk.References {
		k := nameTag{e.Kind, e.Name, e.Tag}
		entries[k] = append(entries[k], i)
	}
	used := make([]bool, len(lk.References))
	var out []rules.Finding
	for _, r := range refs {
		if r.Dynamic || r.Name == "" {
			continue
		}
		idx := entries[nameTag{r.Kind, r.Name, r.Tag}]
		if len(idx) == 0 {
			out = append(out, compared(finding(RuleMismatch, r,
				fmt.Sprintf("%s is not in %s (run stet lock)", display(r), filepath.Base(lockPath))), "", r.Digest))
			continue
		}
		if r.Digest == "" {
			for _, i := range idx {
				used[i] = true
			}
			continue
		}
		match := slices.IndexFunc(idx, func(i int) bool { return lk.References[i].Digest == r.Digest })
		if match >= 0 {
			used[idx[match]] = true
			continue
		}
		var locked []string
		for _, i := range idx {
			locked = append(locked, Short(lk.References[i].Digest))
			used[i] = true // the entry exists; the disagreement is reported once, here
		}
		out = append(out, compared(finding(RuleMismatch, r,
			fmt.Sprintf("%s is pinned to %s here but %s has %s", display(r), Short(r.Digest), filepath.Base(lockPath), joinOr(locked))),
			lk.References[idx[0]].Digest, r.Digest))
	}
	if opts.Stale {
		for i, e := range lk.References {
			if used[i] {
				continue
			}
			out = append(out, rules.Finding{
				Rule: RuleMismatch, Severity: rules.Error, File: lockPath, Line: e.Line, Column: 1,
				EndLine: e.Line, EndColumn: 1, Reference: display(ref.Ref{Kind: e.Kind, Name: e.Name, Tag: e.Tag, Digest: e.Digest}),
				Message:  fmt.Sprintf("%s entry %s is used by no file (run stet lock)", filepath.Base(lockPath), e.String()),
				Expected: e.Digest,
			})
		}
	}
	slices.SortFunc(out, rules.Compare)
	return out
}

// Check is what `stet check` runs: when a lock exists at lockPath, the
// offline verification of refs against it (VerifyFiles); when it does not,
// nothing. stale is FilesOptions.Stale. A lock that cannot be read or
// parsed is an error (a *scan.Error for a malformed one).
func Check(lockPath string, refs []ref.Ref, stale bool) ([]rules.Finding, error) {
	data, err := os.ReadFile(lockPath)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading lock: %w", err)
	}
	lk, err := Parse(lockPath, data)
	if err != nil {
		return nil, err
	}
	return VerifyFiles(lk, lockPath, refs, FilesOptions{Stale: stale}), nil
}

// Remote answers what references point to now. The resolver satisfies it;
// implementations must be safe for concurrent use.
type Remote interface {
	// Resolve returns the digest (images) or commit (actions) that name:tag
	// points to now; found is false when the tag does not exist.
	Resolve(ctx context.Context, kind ref.Kind, name, tag string) (digest string, found bool, err error)
	// Exists reports whether the image manifest name@digest is still served.
	Exists(ctx context.Context, name, digest string) (bool, error)
}

// RemoteOptions tune VerifyRemote.
type RemoteOptions struct {
	// Concurrency bounds the questions in flight (default 16); the
	// resolver applies its own per-registry limits below it.
	Concurrency int
	// AskedAt, when set, names the repository an image's questions really
	// went to when that is not the image's own (a mirror), so that findings
	// say who answered: a mirror that lacks a digest says nothing of
	// upstream.
	AskedAt func(name string) string
}

// VerifyRemote compares the lock with what registries and git hosts say now:
//
//   - STET011 when an entry's tag now points to another digest ("nginx:1-alpine
//     moved: sha256:aaa… → sha256:bbb…, locked 2026-11-02"), or no longer exists;
//   - STET012 when an entry's image digest is no longer served;
//   - STET013 when an action pinned to a commit in a file carries a version
//     comment whose tag points to another commit.
//
// Findings sit at the first reference in refs that uses the entry (file,
// line and column), else at the entry's first site, else at its line in
// lockPath. Action commits are checked against their tags only: git hosts
// offer no cheap way to ask whether a commit still exists. Questions that
// could not be answered are returned as an error (every failure joined)
// beside the findings made from the others; callers exit 3 on it.
func VerifyRemote(ctx context.Context, lk *Lock, lockPath string, refs []ref.Ref, remote Remote, opts RemoteOptions) ([]rules.Finding, error) {
	if opts.Concurrency <= 0 {
		opts.Concurrency = 16
	}
	type question struct {
		kind              ref.Kind
		name, tag, digest string // tag set: resolve it; else: does digest exist
	}
	type answer struct {
		digest string
		found  bool
		err    error
	}
	var (
		mu      sync.Mutex
		answers = map[question]*answer{}
		wg      sync.WaitGroup
		sem     = make(chan struct{}, opts.Concurrency)
	)
	ask := func(q question) {
		mu.Lock()
		if _, ok := answers[q]; ok {
			mu.Unlock()
			return
		}
		a := &answer{}
		answers[q] = a
		mu.Unlock()
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				a.err = ctx.Err()
				return
			}
			defer func() { <-sem }()
			if q.tag != "" {
				a.digest, a.found, a.err = remote.Resolve(ctx, q.kind, q.name, q.tag)
			} else {
				a.found, a.err = remote.Exists(ctx, q.name, q.digest)
			}
		}()
	}
	// Pinned actions in files, whose comments STET013 checks.
	var pinnedActions []ref.Ref
	for _, r := range refs {
		if r.Kind == ref.Action && r.Digest != "" && r.Tag != "" && !r.Dynamic {
			pinnedActions = append(pinnedActions, r)
		}
	}
	commented := func(e Entry) bool {
		return slices.ContainsFunc(pinnedActions, func(r ref.Ref) bool {
			return r.Name == e.Name && r.Tag == e.Tag && r.Digest == e.Digest
		})
	}
	// First round: every tag, once.
	for _, e := range lk.References {
		if e.Tag != "" {
			ask(question{e.Kind, e.Name, e.Tag, ""})
		}
	}
	for _, r := range pinnedActions {
		ask(question{ref.Action, r.Name, r.Tag, ""})
	}
	wg.Wait()
	// Second round: image digests the tags no longer vouch for.
	for _, e := range lk.References {
		if e.Kind != ref.Image {
			continue
		}
		if e.Tag != "" {
			if a := answers[question{e.Kind, e.Name, e.Tag, ""}]; a.err == nil && a.found && a.digest == e.Digest {
				continue
			}
		}
		ask(question{e.Kind, e.Name, "", e.Digest})
	}
	wg.Wait()

	var out []rules.Finding
	var errs []error
	failed := map[question]bool{}
	failure := func(q question, a *answer) bool {
		if a.err == nil {
			return false
		}
		if !failed[q] {
			failed[q] = true
			errs = append(errs, a.err)
		}
		return true
	}
	via := func(e Entry) string {
		if opts.AskedAt == nil || e.Kind != ref.Image {
			return ""
		}
		if m := opts.AskedAt(e.Name); m != "" && m != e.Name {
			return " (answered by the mirror " + m + ")"
		}
		return ""
	}
	for _, e := range lk.References {
		at := locate(e, lockPath, refs)
		if e.Tag != "" && !(e.Kind == ref.Action && commented(e)) {
			q := question{e.Kind, e.Name, e.Tag, ""}
			a := answers[q]
			if !failure(q, a) {
				switch {
				case !a.found:
					out = append(out, compared(at.finding(RuleTagMoved, e,
						fmt.Sprintf("%s no longer exists upstream (locked %s, %s)%s", e.Short(), Short(e.Digest), e.ResolvedAt.Format(time.DateOnly), via(e))), e.Digest, ""))
				case a.digest != e.Digest:
					out = append(out, compared(at.finding(RuleTagMoved, e,
						fmt.Sprintf("%s moved: %s → %s, locked %s%s", e.Short(), Short(e.Digest), Short(a.digest), e.ResolvedAt.Format(time.DateOnly), via(e))), e.Digest, a.digest))
				}
			}
		}
		if e.Kind == ref.Image {
			q := question{e.Kind, e.Name, "", e.Digest}
			if a, ok := answers[q]; ok && !failure(q, a) && !a.found {
				out = append(out, compared(at.finding(RuleDigestGone, e,
					fmt.Sprintf("%s no longer exists in %s%s: a rollback to it cannot be reproduced", e.String(), e.Name, via(e))), e.Digest, ""))
			}
		}
	}
	for _, r := range pinnedActions {
		q := question{ref.Action, r.Name, r.Tag, ""}
		a := answers[q]
		if failure(q, a) {
			continue
		}
		switch {
		case !a.found:
			out = append(out, compared(finding(RuleActionComment, r,
				fmt.Sprintf("%s@%s: its version comment %s names no tag of %s", r.Name, Short(r.Digest), r.Tag, ref.ActionRepo(r.Name))), "", r.Digest))
		case a.digest != r.Digest:
			out = append(out, compared(finding(RuleActionComment, r,
				fmt.Sprintf("%s@%s does not match its version comment: %s is %s", r.Name, Short(r.Digest), r.Tag, Short(a.digest))), a.digest, r.Digest))
		}
	}
	slices.SortFunc(out, rules.Compare)
	out = slices.CompactFunc(out, func(a, b rules.Finding) bool { return rules.Compare(a, b) == 0 })
	if err := ctx.Err(); err != nil && len(errs) == 0 {
		errs = append(errs, err)
	}
	return out, errors.Join(errs...)
}

// place is where a finding about an entry is reported.
type place struct {
	file                       string
	line, col, endLine, endCol int
}

func (p place) finding(rule string, e Entry, msg string) rules.Finding {
	return rules.Finding{Rule: rule, Severity: rules.Error, File: p.file, Line: p.line, Column: p.col,
		EndLine: p.endLine, EndColumn: p.endCol, Message: msg, Reference: e.Short()}
}

func locate(e Entry, lockPath string, refs []ref.Ref) place {
	for _, r := range refs {
		if r.Kind == e.Kind && r.Name == e.Name && r.Tag == e.Tag && (r.Digest == "" || r.Digest == e.Digest) {
			return place{r.File, r.Line, r.Column, r.EndLine, r.EndColumn}
		}
	}
	if len(e.Sites) > 0 {
		s := e.Sites[0]
		return place{s.File, s.Line, 1, s.Line, 1}
	}
	return place{lockPath, e.Line, 1, e.Line, 1}
}

// compared sets the two full values a finding compares.
func compared(f rules.Finding, expected, actual string) rules.Finding {
	f.Expected, f.Actual = expected, actual
	return f
}

func finding(rule string, r ref.Ref, msg string) rules.Finding {
	return rules.Finding{Rule: rule, Severity: rules.Error, File: r.File, Line: r.Line, Column: r.Column,
		EndLine: r.EndLine, EndColumn: r.EndColumn, Message: msg, Reference: display(r)}
}

// display is a reference as a person writes it, with the digest only when
// there is no tag.
func display(r ref.Ref) string {
	if r.Tag == "" && r.Digest != "" {
		if r.Kind == ref.Action {
			return r.Name + "@" + r.Digest
		}
		return ref.FamiliarName(r.Name) + "@" + r.Digest
	}
	return r.Short()
}

func joinOr(xs []string) string {
	switch len(xs) {
	case 0:
		return "nothing"
	case 1:
		return xs[0]
	}
	return fmt.Sprintf("%s or %s", joinComma(xs[:len(xs)-1]), xs[len(xs)-1])
}

func joinComma(xs []string) string {
	s := xs[0]
	for _, x := range xs[1:] {
		s += ", " + x
	}
	return s
}
