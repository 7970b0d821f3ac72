//go:build !unix

package scan

import "io/fs"

type fileKey struct{ dev, ino uint64 }

// keyOf cannot identify files here, so the walker does not follow symbolic
// links to directories on these systems (it could not detect a loop).
func keyOf(fs.FileInfo) (fileKey, bool) { return fileKey{}, false }
