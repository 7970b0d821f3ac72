package edit

import (
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// fileSystem identifies the file system holding dir, so that one syncfs
// per file system can stand for a sync of every file written there.
func fileSystem(dir string) (uint64, bool) {
	fi, err := os.Stat(dir)
	if err != nil {
		return 0, false
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, false
	}
	return uint64(st.Dev), true
}

// syncFS flushes everything written to the file system holding dir.
func syncFS(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return unix.Syncfs(int(d.Fd()))
}
