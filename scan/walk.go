package scan

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/go-git/go-git/v5/plumbing/format/gitignore"
)

// Options control a walk. The zero value scans with no scanners; callers pass
// the format registry in Scanners.
type Options struct {
	// Scanners maps a source (ref.Source*) to its scanner. Files whose format
	// has no scanner are not read.
	Scanners map[string]Scanner
	// Ignore holds gitignore-style patterns (.stet.yaml "ignore:") relative to IgnoreDir.
	Ignore    []string
	IgnoreDir string
	// MaxFileSize skips larger files with a warning. Zero means 4 MiB.
	MaxFileSize int64
	// Workers bounds concurrent file reads and scans. Zero means GOMAXPROCS.
	Workers int
	// Logger receives debug messages; nil discards them.
	Logger *slog.Logger
}

// Warning is a file skipped or a path not followed, for the user to know.
type Warning struct {
	Path   string
	Reason string
}

func (w Warning) String() string { return w.Path + ": " + w.Reason }

// Report is the result of a walk: every recognised file, in path order.
type Report struct {
	Files    []File
	Warnings []Warning
	// Bytes is the total size of the files read.
	Bytes int64
}

// Walk scans paths (files or directories; none means "."). Inside a git work
// tree it honours .gitignore files and .git/info/exclude; it always skips
// .git, node_modules and vendor directories, and a Helm chart's templates.
// Files named explicitly are always scanned. A file that cannot be parsed is
// reported in its File.Err and never stops the walk; Walk itself fails only
// when a path does not exist or ctx is cancelled.
func Walk(ctx context.Context, paths []string, opts Options) (*Report, error) {
	if len(paths) == 0 {
		paths = []string{"."}
	}
	if opts.MaxFileSize == 0 {
		opts.MaxFileSize = 4 << 20
	}
	if opts.Workers <= 0 {
		opts.Workers = runtime.GOMAXPROCS(0)
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	w := &walker{opts: opts, seen: map[fileKey]bool{}, visitedDirs: map[fileKey]bool{}, done: map[string]bool{}}
	if len(opts.Ignore) > 0 && opts.IgnoreDir != "" {
		abs, err := filepath.Abs(opts.IgnoreDir)
		if err != nil {
			return nil, err
		}
		w.ignoreDir = abs
		var ps []gitignore.Pattern
		for _, p := range opts.Ignore {
			ps = append(ps, gitignore.ParsePattern(p, nil))
		}
		w.ignore = gitignore.NewMatcher(ps)
	}

	jobs := make(chan job)
	results := make(chan File)
	var wg sync.WaitGroup
	for range opts.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				if f, ok := w.scanFile(j); ok {
					results <- f
				}
			}
		}()
	}
	var files []File
	collected := make(chan struct{})
	go func() {
		for f := range results {
			files = append(files, f)
		}
		close(collected)
	}()

	var walkErr error
	for _, p := range paths {
		if err := w.root(ctx, p, jobs); err != nil {
			walkErr = err
			break
		}
	}
	close(jobs)
	wg.Wait()
	close(results)
	<-collected
	if walkErr != nil {
		return nil, walkErr
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	// Files that scanned files name (a compose build's Dockerfile) are
	// scanned too, once, unless the walk already did.
	for round := 0; round < 4; round++ {
		var more []File
		for _, f := range files {
			for _, rel := range w.relatedOf(f.Path) {
				if w.markDone(rel.Path) {
					continue
				}
				fi, err := os.Stat(filepath.FromSlash(rel.Path))
				if err != nil || !fi.Mode().IsRegular() {
					continue // a missing build file is the build's problem, not a scan error
				}
				if k, ok := keyOf(fi); ok && w.markSeen(k) {
					continue
				}
				if g, ok := w.scanFile(job{path: rel.Path, source: rel.Source, size: fi.Size()}); ok {
					more = append(more, g)
				}
			}
		}
		if len(more) == 0 {
			break
		}
		files = append(files, more...)
	}
	slices.SortFunc(files, func(a, b File) int { return strings.Compare(a.Path, b.Path) })
	rep := &Report{Files: files, Warnings: w.warnings, Bytes: w.bytes}
	slices.SortFunc(rep.Warnings, func(a, b Warning) int { return strings.Compare(a.Path, b.Path) })
	return rep, nil
}

type job struct {
	path     string // slash path as reported
	source   string
	size     int64
	explicit bool
}

type walker struct {
	opts      Options
	ignore    gitignore.Matcher
	ignoreDir string

	mu          sync.Mutex
	seen        map[fileKey]bool // files already queued, so a symlink never scans a file twice
	visitedDirs map[fileKey]bool
	done        map[string]bool
	related     map[string][]Related
	warnings    []Warning
	bytes       int64
}

func (w *walker) warn(p, reason string) {
	w.mu.Lock()
	w.warnings = append(w.warnings, Warning{Path: p, Reason: reason})
	w.mu.Unlock()
}

func (w *walker) markSeen(k fileKey) (already bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	already = w.seen[k]
	w.seen[k] = true
	return already
}

func (w *walker) markDone(p string) (already bool) {
	p = filepath.ToSlash(filepath.Clean(p))
	w.mu.Lock()
	defer w.mu.Unlock()
	already = w.done[p]
	w.done[p] = true
	return already
}

func (w *walker) relatedOf(p string) []Related {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.related[p]
}

// root starts the walk at one command-line path.
func (w *walker) root(ctx context.Context, p string, jobs chan<- job) error {
	fi, err := os.Stat(p)
	if err != nil {
		return fmt.Errorf("scanning %s: %w", p, err)
	}
	abs, err := filepath.Abs(p)
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		slash := filepath.ToSlash(p)
		source := Detect(slash, hasChart(filepath.Dir(p)))
		if source == "" {
			// Named explicitly: read YAML-less unknown files as Dockerfiles
			// only if they say so; otherwise tell the user.
			w.warn(slash, "not a recognised file format; skipped")
			return nil
		}
		if k, ok := keyOf(fi); ok && w.markSeen(k) {
			return nil
		}
		w.markDone(slash)
		return send(ctx, jobs, job{path: slash, source: source, size: fi.Size(), explicit: true})
	}
	gitRoot := findGitRoot(abs)
	var ps []gitignore.Pattern
	var comps []string
	if gitRoot != "" {
		ps = readPatterns(filepath.Join(gitRoot, ".git", "info", "exclude"), nil)
		rel, _ := filepath.Rel(gitRoot, abs)
		if rel != "." {
			comps = strings.Split(filepath.ToSlash(rel), "/")
		}
		// .gitignore files between the repository root and the scan root apply too.
		for i := 0; i <= len(comps)-1; i++ {
			dir := filepath.Join(append([]string{gitRoot}, comps[:i]...)...)
			ps = append(ps, readPatterns(filepath.Join(dir, ".gitignore"), comps[:i])...)
		}
	}
	if k, ok := keyOf(fi); ok {
		w.visitedDirs[k] = true
	}
	// A directory named on the command line is scanned even when an ignore
	// rule covers it (stet check testdata/corpus); rules still apply below it.
	d := dirState{abs: abs, rel: p, comps: comps, git: gitRoot != "", patterns: ps}
	if len(ps) > 0 && len(comps) > 0 && gitignore.NewMatcher(ps).Match(comps, true) {
		d.patterns = nil
	}
	if w.ignored(abs, true) {
		d.noConfigIgnore = true
	}
	return w.dir(ctx, d, jobs)
}

type dirState struct {
	abs      string
	rel      string // as reported (OS path joined from the command-line root)
	comps    []string
	git      bool
	patterns []gitignore.Pattern
	// noConfigIgnore turns off the .stet.yaml globs below an explicitly
	// named directory they cover.
	noConfigIgnore bool
}

var alwaysSkip = map[string]bool{".git": true, "node_modules": true, "vendor": true}

func (w *walker) dir(ctx context.Context, d dirState, jobs chan<- job) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	entries, err := os.ReadDir(d.abs)
	if err != nil {
		w.warn(filepath.ToSlash(d.rel), fmt.Sprintf("cannot read directory: %v", errors.Unwrap(err)))
		return nil
	}
	ps := d.patterns
	if d.git {
		if extra := readPatterns(filepath.Join(d.abs, ".gitignore"), d.comps); len(extra) > 0 {
			ps = append(ps[:len(ps):len(ps)], extra...)
		}
	}
	var m gitignore.Matcher
	if len(ps) > 0 {
		m = gitignore.NewMatcher(ps)
	}
	inChart := false
	for _, e := range entries {
		if e.Name() == "Chart.yaml" && e.Type().IsRegular() {
			inChart = true
		}
	}
	for _, e := range entries {
		name := e.Name()
		abs := filepath.Join(d.abs, name)
		rel := filepath.Join(d.rel, name)
		slash := filepath.ToSlash(rel)
		comps := append(d.comps[:len(d.comps):len(d.comps)], name)
		mode := e.Type()
		var fi fs.FileInfo
		if mode&fs.ModeSymlink != 0 {
			fi, err = os.Stat(abs)
			if err != nil {
				w.warn(slash, "broken symbolic link; skipped")
				continue
			}
			mode = fi.Mode().Type()
		}
		isDir := mode.IsDir()
		if isDir && alwaysSkip[name] {
			continue
		}
		if m != nil && m.Match(comps, isDir) {
			continue
		}
		if !d.noConfigIgnore && w.ignored(abs, isDir) {
			continue
		}
		if isDir {
			if inChart && name == "templates" {
				continue // Go templates, not YAML
			}
			if fi == nil {
				if fi, err = os.Stat(abs); err != nil {
					continue
				}
			}
			k, ok := keyOf(fi)
			if !ok && e.Type()&fs.ModeSymlink != 0 {
				w.warn(slash, "symbolic link to a directory; not followed on this system")
				continue
			}
			if ok {
				if w.visitedDirs[k] {
					w.warn(slash, "directory already visited (symbolic link loop or duplicate); not followed")
					continue
				}
				w.visitedDirs[k] = true
			}
			if err := w.dir(ctx, dirState{abs: abs, rel: rel, comps: comps, git: d.git, patterns: ps, noConfigIgnore: d.noConfigIgnore}, jobs); err != nil {
				return err
			}
			continue
		}
		if !mode.IsRegular() {
			continue
		}
		source := Detect(slash, inChart)
		if source == "" {
			continue
		}
		if fi == nil {
			if fi, err = e.Info(); err != nil {
				continue
			}
		}
		if k, ok := keyOf(fi); ok && w.markSeen(k) {
			continue
		}
		w.markDone(slash)
		if err := send(ctx, jobs, job{path: slash, source: source, size: fi.Size()}); err != nil {
			return err
		}
	}
	return nil
}

// ignored applies the .stet.yaml ignore globs.
func (w *walker) ignored(abs string, isDir bool) bool {
	if w.ignore == nil {
		return false
	}
	rel, err := filepath.Rel(w.ignoreDir, abs)
	if err != nil || rel == "." || strings.HasPrefix(rel, "..") {
		return false
	}
	return w.ignore.Match(strings.Split(filepath.ToSlash(rel), "/"), isDir)
}

func send(ctx context.Context, jobs chan<- job, j job) error {
	select {
	case jobs <- j:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// scanFile reads and scans one file. ok is false when the file is skipped
// (too big, binary, or not of the format its name suggested).
func (w *walker) scanFile(j job) (File, bool) {
	scanner := w.opts.Scanners[j.source]
	if scanner == nil {
		return File{}, false
	}
	if j.size > w.opts.MaxFileSize {
		w.warn(j.path, fmt.Sprintf("larger than %s (%s); skipped", humanBytes(w.opts.MaxFileSize), humanBytes(j.size)))
		return File{}, false
	}
	data, err := os.ReadFile(filepath.FromSlash(j.path))
	if err != nil {
		return File{Path: j.path, Source: j.source, Err: &Error{File: j.path, Err: err}}, true
	}
	if int64(len(data)) > w.opts.MaxFileSize {
		w.warn(j.path, fmt.Sprintf("larger than %s; skipped", humanBytes(w.opts.MaxFileSize)))
		return File{}, false
	}
	if isBinary(data) {
		w.warn(j.path, "binary file; skipped")
		return File{}, false
	}
	w.mu.Lock()
	w.bytes += int64(len(data))
	w.mu.Unlock()
	if j.source == Candidate {
		// The name did not say; a compose file under another name
		// (a stack file, an override) says so by its shape.
		if s := Sniff(data); s != "" && w.opts.Scanners[s] != nil {
			j.source, scanner = s, w.opts.Scanners[s]
		}
	}
	res, err := safeScan(scanner, j.path, data)
	f := File{Path: j.path, Source: j.source, Ignores: ParseIgnores(data)}
	if res != nil {
		f.Refs, f.Commands = res.Refs, res.Commands
		if len(res.Related) > 0 {
			w.mu.Lock()
			if w.related == nil {
				w.related = map[string][]Related{}
			}
			w.related[j.path] = res.Related
			w.mu.Unlock()
		}
	}
	if err != nil {
		var se *Error
		if !errors.As(err, &se) {
			err = &Error{File: j.path, Err: err}
		}
		f.Err = err
	}
	if j.source == Candidate && f.Err == nil && len(f.Refs) == 0 && !j.explicit {
		return File{}, false // ordinary YAML: not a Kubernetes manifest
	}
	return f, true
}

// safeScan turns a scanner panic into an error on that file, so one bad file
// never takes the whole run down.
func safeScan(s Scanner, p string, data []byte) (res *Result, err error) {
	defer func() {
		if r := recover(); r != nil {
			res, err = nil, &Error{File: p, Err: fmt.Errorf("internal error while scanning: %v", r)}
		}
	}()
	return s(p, data)
}

// isBinary uses git's rule: a NUL byte in the first 8000 bytes.
func isBinary(data []byte) bool {
	return bytes.IndexByte(data[:min(len(data), 8000)], 0) >= 0
}

func hasChart(dir string) bool {
	fi, err := os.Stat(filepath.Join(dir, "Chart.yaml"))
	return err == nil && fi.Mode().IsRegular()
}

// findGitRoot returns the work tree root holding abs, or "".
func findGitRoot(abs string) string {
	for d := abs; ; {
		if _, err := os.Stat(filepath.Join(d, ".git")); err == nil {
			return d
		}
		parent := filepath.Dir(d)
		if parent == d {
			return ""
		}
		d = parent
	}
}

func readPatterns(file string, domain []string) []gitignore.Pattern {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil
	}
	var ps []gitignore.Pattern
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSuffix(line, "\r")
		if strings.HasPrefix(line, "#") || strings.TrimSpace(line) == "" {
			continue
		}
		ps = append(ps, gitignore.ParsePattern(line, domain))
	}
	return ps
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
