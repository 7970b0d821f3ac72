//go:build unix

package scan

import (
	"io/fs"
	"syscall"
)

type fileKey struct{ dev, ino uint64 }

// keyOf identifies a file across symbolic and hard links.
func keyOf(fi fs.FileInfo) (fileKey, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fileKey{}, false
	}
	return fileKey{dev: uint64(st.Dev), ino: st.Ino}, true //nolint:unconvert // Dev's type differs by OS
}
