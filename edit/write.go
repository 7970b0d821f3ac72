package edit

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	"github.com/stet-dev/stet/ref"
)

// ForPin returns the edit that pins r to digest. For actions, digest is the
// commit and version the tag the comment names. ok is false when r cannot
// be edited in place (no span: dynamic, or a build output).
func ForPin(r ref.Ref, digest, version string) (e Edit, ok bool) {
	if r.Edit == nil || r.Dynamic {
		return Edit{}, false
	}
	e = Edit{Span: *r.Edit, Op: Pin, Digest: digest, Version: version}
	if r.Kind == ref.Image {
		e.ImpliedTag = "latest" // what a reference without a tag means
	}
	return e, true
}

// ForUnpin returns the edit that removes r's digest; for a commit-pinned
// action it writes r.Tag (the version comment) back as the ref.
func ForUnpin(r ref.Ref) (e Edit, ok bool) {
	if r.Edit == nil || r.Dynamic {
		return Edit{}, false
	}
	e = Edit{Span: *r.Edit, Op: Unpin}
	if r.Kind == ref.Action {
		e.Version = r.Tag
	}
	return e, true
}

// Validate reports whether r's span in data can carry a pin of r: a
// reference whose digest comes from somewhere its span does not hold (a
// variable such as ARG GO_VER=1.26-alpine@sha256:…) cannot be pinned or
// unpinned there without writing a second digest (ErrDigestElsewhere).
func Validate(data []byte, r ref.Ref) error {
	if r.Edit == nil || r.Dynamic {
		return nil
	}
	cur := Current(data, *r.Edit)
	if r.Digest != "" && !strings.Contains(cur, r.Digest) && r.Edit.Form != ref.FormInsert {
		return &Error{File: r.File, Line: r.Edit.Line, Column: r.Edit.Column,
			Err: fmt.Errorf("%w: %s is pinned by %s, which %q does not hold", ErrDigestElsewhere, r.Text, r.Digest, cur)}
	}
	return nil
}

// WriteFile replaces the file at path with data atomically: it writes a
// temporary file in the same directory, syncs it, gives it the original
// file's permission bits, renames it over path and syncs the directory. A
// crash at any point leaves either the old or the new content, never a mix.
// The file must exist; a symbolic link is followed and its target replaced,
// so the link stays a link.
func WriteFile(path string, data []byte) error {
	target, err := filepath.EvalSymlinks(path)
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	fi, err := os.Stat(target)
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("writing %s: not a regular file", path)
	}
	if err := replace(target, fi.Mode().Perm(), data); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// CreateFile is WriteFile for a file that may not exist yet (stet.lock); a
// new file gets mode 0644.
func CreateFile(path string, data []byte) error {
	if _, err := os.Lstat(path); errors.Is(err, fs.ErrNotExist) {
		if err := replace(path, 0o644, data); err != nil {
			return fmt.Errorf("writing %s: %w", path, err)
		}
		return nil
	}
	return WriteFile(path, data)
}

func replace(target string, perm fs.FileMode, data []byte) error {
	tmp, err := writeTemp(target, perm, data, true)
	if err != nil {
		return err
	}
	if err := os.Rename(tmp, target); err != nil {
		os.Remove(tmp)
		return err
	}
	return syncDir(filepath.Dir(target))
}

// writeTemp writes data to a temporary file beside target (synced when
// sync is set) and returns its name.
func writeTemp(target string, perm fs.FileMode, data []byte, sync bool) (name string, err error) {
	tmp, err := os.CreateTemp(filepath.Dir(target), "."+filepath.Base(target)+".stet-*")
	if err != nil {
		return "", err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err = tmp.Write(data); err != nil {
		return "", err
	}
	if err = tmp.Chmod(perm); err != nil {
		return "", err
	}
	if sync {
		if err = tmp.Sync(); err != nil {
			return "", err
		}
	}
	if err = tmp.Close(); err != nil {
		return "", err
	}
	return tmp.Name(), nil
}

// batchSync is the number of files from which WriteFiles syncs whole file
// systems (syncfs, on Linux) instead of every file and directory: a
// thousand fsyncs cost seconds where two syncfs cost milliseconds.
const batchSync = 32

// WriteFiles replaces several existing files, each atomically as WriteFile
// does, and as a set as far as a file system allows: every new content is
// written to a temporary file first (in parallel) and made durable, and
// only when all of them succeeded are they renamed into place, after which
// the renames are made durable too. A failure before the renames leaves
// every file untouched.
func WriteFiles(files map[string][]byte) error {
	type job struct {
		path, target, tmp string
		perm              fs.FileMode
		err               error
	}
	jobs := make([]*job, 0, len(files))
	for p := range files {
		target, err := filepath.EvalSymlinks(p)
		if err != nil {
			return fmt.Errorf("writing %s: %w", p, err)
		}
		fi, err := os.Stat(target)
		if err != nil {
			return fmt.Errorf("writing %s: %w", p, err)
		}
		if !fi.Mode().IsRegular() {
			return fmt.Errorf("writing %s: not a regular file", p)
		}
		jobs = append(jobs, &job{path: p, target: target, perm: fi.Mode().Perm()})
	}
	// Directories, grouped by file system for syncfs.
	dirs := map[string]bool{}
	systems := map[uint64]string{}
	batch := len(jobs) >= batchSync
	for _, j := range jobs {
		d := filepath.Dir(j.target)
		if dirs[d] {
			continue
		}
		dirs[d] = true
		if dev, ok := fileSystem(d); ok {
			if _, seen := systems[dev]; !seen {
				systems[dev] = d
			}
		} else {
			batch = false
		}
	}
	cleanup := func() {
		for _, j := range jobs {
			if j.tmp != "" {
				os.Remove(j.tmp)
			}
		}
	}
	parallel(len(jobs), func(i int) {
		j := jobs[i]
		j.tmp, j.err = writeTemp(j.target, j.perm, files[j.path], !batch)
	})
	var errs []error
	for _, j := range jobs {
		if j.err != nil {
			errs = append(errs, fmt.Errorf("writing %s: %w", j.path, j.err))
		}
	}
	if len(errs) > 0 {
		cleanup()
		return errors.Join(errs...)
	}
	if batch {
		for _, d := range systems {
			if err := syncFS(d); err != nil {
				cleanup()
				return fmt.Errorf("syncing %s: %w", d, err)
			}
		}
	}
	for i, j := range jobs {
		if err := os.Rename(j.tmp, j.target); err != nil {
			// Files already renamed are complete and durable; the rest stay old.
			for _, k := range jobs[i:] {
				os.Remove(k.tmp)
			}
			return fmt.Errorf("writing %s: %w", j.path, err)
		}
	}
	if batch {
		var errs []error
		for _, d := range systems {
			if err := syncFS(d); err != nil {
				errs = append(errs, fmt.Errorf("syncing %s: %w", d, err))
			}
		}
		return errors.Join(errs...)
	}
	dirList := make([]string, 0, len(dirs))
	for d := range dirs {
		dirList = append(dirList, d)
	}
	dirErrs := make([]error, len(dirList))
	parallel(len(dirList), func(i int) { dirErrs[i] = syncDir(dirList[i]) })
	return errors.Join(dirErrs...)
}

// parallel runs f(0) … f(n-1) on a bounded number of goroutines.
func parallel(n int, f func(int)) {
	const workers = 16
	var wg sync.WaitGroup
	next := make(chan int)
	for w := 0; w < min(workers, n); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				f(i)
			}
		}()
	}
	for i := 0; i < n; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
}

// syncDir makes a rename durable. Windows cannot open a directory for sync.
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, errors.ErrUnsupported) {
		return err
	}
	return nil
}
