package edit

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/stet-dev/stet/ref"
)

// ForPin returns the edit that pins r to digest. For actions, digest is the
// commit and version the tag the comment names. ok is false when r cannot
// be edited in place (no span: dynamic, or a build output).
func ForPin(r ref.Ref, digest, version string) (e Edit, ok bool) {
	if r.Edit == nil || r.Dynamic {
		return Edit{}, false
	}
	return Edit{Span: *r.Edit, Op: Pin, Digest: digest, Version: version}, true
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

func replace(target string, perm fs.FileMode, data []byte) (err error) {
	dir := filepath.Dir(target)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(target)+".stet-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err = tmp.Write(data); err != nil {
		return err
	}
	if err = tmp.Chmod(perm); err != nil {
		return err
	}
	if err = tmp.Sync(); err != nil {
		return err
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp.Name(), target); err != nil {
		return err
	}
	return syncDir(dir)
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
