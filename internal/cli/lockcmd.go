package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/stet-dev/stet/config"
	"github.com/stet-dev/stet/edit"
	"github.com/stet-dev/stet/lock"
	"github.com/stet-dev/stet/ref"
	"github.com/stet-dev/stet/registry"
	"github.com/stet-dev/stet/resolve"
)

func newLockCmd(a *app) *cobra.Command {
	var (
		rf       resolveFlags
		lockPath string
		format   string
	)
	cmd := &cobra.Command{
		Use:   "lock [PATH...]",
		Short: "Record what every reference resolves to in stet.lock",
		Long: `Lock resolves every reference and writes stet.lock (at the repository root,
or --lock): one entry per unique reference with its digest, media type,
platforms, when it was resolved and where it is used. References pinned in
their files are locked to the digest written there. The file is sorted and
deterministic: re-locking an unchanged repository rewrites nothing, and an
entry's resolvedAt changes only when its digest does.

Locking part of a repository (stet lock services/api) replaces the entries
of the files under those paths and keeps the others. If any reference
cannot be resolved, stet.lock is not written and stet exits 3. A digest
pinned in a file that its registry no longer has is locked as written, with
a warning, keeping what an earlier lock knew of it; stet verify reports it
(STET012).`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkFormat(format); err != nil {
				return err
			}
			return a.runLock(cmd, args, &rf, lockPath, format)
		},
	}
	addResolveFlags(cmd, &rf)
	cmd.Flags().StringVar(&lockPath, "lock", "", "lock file to write (default: stet.lock at the repository root)")
	cmd.Flags().StringVar(&format, "format", "text", "output format: text or json")
	return cmd
}

// lockSummary is what `stet lock` reports.
type lockSummary struct {
	Lock       string   `json:"lock"`
	References int      `json:"references"`
	Added      []string `json:"added"`
	Changed    []string `json:"changed"`
	Removed    []string `json:"removed"`
	Written    bool     `json:"written"`
}

func (a *app) runLock(cmd *cobra.Command, paths []string, rf *resolveFlags, lockPath, format string) error {
	c, _, refs, err := a.scanFiles(cmd, paths)
	if err != nil {
		return err
	}
	sum, err := a.writeLock(cmd.Context(), c, paths, refs, rf, lockFile(c, lockPath))
	if err != nil {
		return err
	}
	out := cmd.OutOrStdout()
	if format == "json" {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		return enc.Encode(sum)
	}
	for _, s := range sum.Added {
		fmt.Fprintf(out, "+ %s\n", s)
	}
	for _, s := range sum.Changed {
		fmt.Fprintf(out, "~ %s\n", s)
	}
	for _, s := range sum.Removed {
		fmt.Fprintf(out, "- %s\n", s)
	}
	a.printLockState(sum)
	return nil
}

// printLockState says on stderr whether the lock was written and what moved.
func (a *app) printLockState(sum *lockSummary) {
	state := "up to date"
	if sum.Written {
		state = "written"
	}
	fmt.Fprintf(a.stderr, "%s %s: %d reference(s), %d added, %d changed, %d removed\n",
		relPath(sum.Lock), state, sum.References, len(sum.Added), len(sum.Changed), len(sum.Removed))
}

// writeLock resolves refs, the references found under paths, and writes
// lockPath when its content changes: the entries of files under paths are
// replaced, the others kept.
func (a *app) writeLock(ctx context.Context, c *config.Config, paths []string, refs []ref.Ref, rf *resolveFlags, lockPath string) (*lockSummary, error) {
	prev, prevData, err := readLock(lockPath)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}

	res, _, err := a.newResolver(c, rf, resolve.WithPlatforms())
	if err != nil {
		return nil, err
	}
	// Images pinned in their files are resolved too: when the tag still
	// points at the pinned digest, its answer gives the platforms.
	var todo []ref.Ref
	for _, r := range refs {
		if resolve.Resolvable(r) && (r.Digest == "" || r.Kind == ref.Image) {
			todo = append(todo, r)
		}
	}
	resolution, _ := res.Resolve(ctx, todo)
	if ctx.Err() != nil {
		return nil, withCode(ExitFailure, errors.New("interrupted; stet.lock was not written"))
	}
	var errs []error
	for _, r := range todo {
		rs := resolution.For(r)
		switch {
		case rs == nil:
			errs = append(errs, fmt.Errorf("%s:%d: %s was not resolved", r.File, r.Line, display(r)))
		case rs.Err == nil:
		case r.Digest != "" && errors.Is(rs.Err, registry.ErrNotFound):
			// The tag is gone but the file names its digest: lock that.
		default:
			errs = append(errs, rs.Err)
		}
	}
	if len(errs) > 0 {
		return nil, withCode(ExitFailure, fmt.Errorf("%w\n%s was not written", errors.Join(dedupe(errs)...), relPath(lockPath)))
	}
	for _, w := range resolution.Warnings {
		fmt.Fprintf(a.stderr, "stet: warning: %s:%d: %s\n", w.Ref.File, w.Ref.Line, w.Message)
	}
	pinned, gone, err := describePinned(ctx, res, refs, resolution)
	if err != nil {
		return nil, withCode(ExitFailure, fmt.Errorf("%w\n%s was not written", err, lockPath))
	}
	for _, r := range gone {
		fmt.Fprintf(a.stderr, "stet: warning: %s:%d: %s@%s is no longer in its registry; locked as written (stet verify reports it as STET012)\n",
			r.File, r.Line, ref.FamiliarName(r.Name), lock.Short(r.Digest))
	}
	for _, r := range refs {
		if r.Dynamic {
			fmt.Fprintf(a.stderr, "stet: warning: %s:%d: %s is not locked: built from a variable with no static value\n", r.File, r.Line, display(r))
		}
	}

	lockDir := filepath.Dir(lockPath)
	sited := make([]ref.Ref, 0, len(refs))
	for _, r := range refs {
		r.File = relTo(lockDir, r.File)
		sited = append(sited, r)
	}
	// Entries of files outside the paths locked now stay as they were. What
	// the previous lock knew of a digest (media type, platforms) is kept
	// where the registry no longer says.
	var kept []ref.Ref
	known := map[string]lock.Resolved{}
	if prev != nil {
		scanned := absPaths(paths)
		for _, e := range prev.References {
			known[e.Name+"\x00"+e.Tag+"\x00"+e.Digest] = lock.Resolved{Digest: e.Digest, MediaType: e.MediaType, Platforms: e.Platforms}
			for _, s := range e.Sites {
				if under(filepath.Join(lockDir, filepath.FromSlash(s.File)), scanned) {
					continue
				}
				kept = append(kept, ref.Ref{File: s.File, Line: s.Line, Kind: e.Kind, Name: e.Name, Tag: e.Tag, Digest: e.Digest})
			}
		}
	}
	resolved := func(r ref.Ref) (lock.Resolved, bool) {
		if r.Digest == "" {
			rs := resolution.For(r)
			if rs == nil || rs.Digest == "" {
				return lock.Resolved{}, false
			}
			return lock.Resolved{Digest: rs.Digest, MediaType: rs.MediaType, Platforms: rs.Platforms}, true
		}
		out := known[r.Name+"\x00"+r.Tag+"\x00"+r.Digest]
		out.Digest = r.Digest
		if r.Kind == ref.Action {
			return out, true
		}
		if p := pinned[r.Name+"@"+r.Digest]; p.MediaType != "" {
			out.MediaType, out.Platforms = p.MediaType, p.Platforms
		}
		if rs := resolution.For(r); rs != nil && rs.Digest == r.Digest {
			out.MediaType, out.Platforms = rs.MediaType, rs.Platforms
		}
		return out, true
	}
	lk := lock.Build(prev, append(sited, kept...), resolved, time.Now())
	data := lk.Marshal()

	sum := lockSummary{Lock: lockPath, References: len(lk.References), Added: []string{}, Changed: []string{}, Removed: []string{}}
	diffLocks(prev, lk, &sum)
	if !bytes.Equal(data, prevData) {
		if ctx.Err() != nil {
			return nil, withCode(ExitFailure, errors.New("interrupted; stet.lock was not written"))
		}
		if err := edit.CreateFile(lockPath, data); err != nil {
			return nil, withCode(ExitFailure, err)
		}
		sum.Written = true
	}
	return &sum, nil
}

// describePinned asks the registry what every image pinned in a file is
// (media type, and platforms), once per unique digest, unless the tag's
// resolution already said. Digests the registry no longer has are returned
// in gone, one reference each: they are locked as written, and stet verify
// reports them (STET012).
func describePinned(ctx context.Context, res *resolve.Resolver, refs []ref.Ref, known *resolve.Resolution) (map[string]lock.Resolved, []ref.Ref, error) {
	out := map[string]lock.Resolved{}
	var (
		mu   sync.Mutex
		wg   sync.WaitGroup
		errs []error
		gone []ref.Ref
		sem  = make(chan struct{}, 32)
	)
	for _, r := range refs {
		if r.Kind != ref.Image || r.Digest == "" || r.Dynamic {
			continue
		}
		if rs := known.For(r); rs != nil && rs.Digest == r.Digest {
			continue
		}
		k := r.Name + "@" + r.Digest
		if _, ok := out[k]; ok {
			continue
		}
		out[k] = lock.Resolved{Digest: r.Digest}
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			d := res.Describe(ctx, r.Name, r.Digest)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case d.Err == nil:
				out[k] = lock.Resolved{Digest: r.Digest, MediaType: d.MediaType, Platforms: d.Platforms}
			case errors.Is(d.Err, registry.ErrNotFound):
				gone = append(gone, r)
			default:
				errs = append(errs, d.Err)
			}
		}()
	}
	wg.Wait()
	slices.SortFunc(gone, ref.Compare)
	return out, gone, errors.Join(errs...)
}

// diffLocks says what changed between two locks, per name:tag: a digest
// that replaced another is a change, one more or one fewer is an addition or
// a removal (files may pin one tag at several digests).
func diffLocks(prev, next *lock.Lock, sum *lockSummary) {
	type nt struct {
		kind      ref.Kind
		name, tag string
	}
	group := func(l *lock.Lock) (map[nt][]lock.Entry, []nt) {
		m := map[nt][]lock.Entry{}
		var order []nt
		if l == nil {
			return m, nil
		}
		for _, e := range l.References {
			k := nt{e.Kind, e.Name, e.Tag}
			if _, ok := m[k]; !ok {
				order = append(order, k)
			}
			m[k] = append(m[k], e)
		}
		return m, order
	}
	before, beforeOrder := group(prev)
	after, afterOrder := group(next)
	only := func(es, others []lock.Entry) []lock.Entry {
		var out []lock.Entry
		for _, e := range es {
			if !slices.ContainsFunc(others, func(o lock.Entry) bool { return o.Digest == e.Digest }) {
				out = append(out, e)
			}
		}
		return out
	}
	for _, k := range afterOrder {
		added, removed := only(after[k], before[k]), only(before[k], after[k])
		n := min(len(added), len(removed))
		for i := range n {
			sum.Changed = append(sum.Changed, fmt.Sprintf("%s %s → %s", added[i].Short(), lock.Short(removed[i].Digest), lock.Short(added[i].Digest)))
		}
		for _, e := range added[n:] {
			sum.Added = append(sum.Added, entryLine(e))
		}
		for _, e := range removed[n:] {
			sum.Removed = append(sum.Removed, entryLine(e))
		}
	}
	for _, k := range beforeOrder {
		if _, ok := after[k]; !ok {
			for _, e := range before[k] {
				sum.Removed = append(sum.Removed, entryLine(e))
			}
		}
	}
}

// dedupe drops repeated errors (one failed tag used by many files).
func dedupe(errs []error) []error {
	seen := map[string]bool{}
	out := errs[:0]
	for _, e := range errs {
		if !seen[e.Error()] {
			seen[e.Error()] = true
			out = append(out, e)
		}
	}
	return out
}

// entryLine names an entry and its digest for the lock summary.
func entryLine(e lock.Entry) string {
	if e.Tag == "" {
		return e.Short() // already name@digest
	}
	return e.Short() + " " + lock.Short(e.Digest)
}

// lockFile is --lock, or stet.lock at the repository root.
func lockFile(c *config.Config, flag string) string {
	if flag != "" {
		return flag
	}
	return filepath.Join(repoRoot(c), lock.FileName)
}

// readLock reads and parses a lock; a missing file is fs.ErrNotExist, a
// malformed one a usage error with its position.
func readLock(path string) (*lock.Lock, []byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil, err
		}
		return nil, nil, withCode(ExitFailure, fmt.Errorf("reading lock: %w", err))
	}
	lk, err := lock.Parse(path, data)
	if err != nil {
		return nil, nil, withCode(ExitUsage, err)
	}
	return lk, data, nil
}

// relTo rewrites a path given on the command line relative to dir, with
// slashes, as lock sites are written.
func relTo(dir, p string) string {
	abs, err := filepath.Abs(filepath.FromSlash(p))
	if err != nil {
		return p
	}
	absDir, err := filepath.Abs(dir)
	if err != nil {
		return p
	}
	r, err := filepath.Rel(absDir, abs)
	if err != nil {
		return p
	}
	return filepath.ToSlash(r)
}

// fromLock rewrites a lock site path (relative to the lock's directory)
// relative to the working directory, as scanned paths are.
func fromLock(lockDir, site string) string {
	return filepath.ToSlash(relPath(mustAbs(filepath.Join(lockDir, filepath.FromSlash(site)))))
}

func mustAbs(p string) string {
	if abs, err := filepath.Abs(p); err == nil {
		return abs
	}
	return p
}

func absPaths(paths []string) []string {
	if len(paths) == 0 {
		paths = []string{"."}
	}
	out := make([]string, 0, len(paths))
	for _, p := range paths {
		out = append(out, mustAbs(p))
	}
	return out
}

// under reports whether p is one of roots or inside one of them.
func under(p string, roots []string) bool {
	p = mustAbs(p)
	for _, r := range roots {
		if p == r || strings.HasPrefix(p, r+string(filepath.Separator)) || r == string(filepath.Separator) {
			return true
		}
	}
	return false
}
