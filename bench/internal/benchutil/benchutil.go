// Package benchutil holds what the benchmark commands under bench/ share:
// finding the module they measure, building the stet binary they time as
// users run it, a work directory that can be kept for a second look, and
// the CPU time a run spent (wall time alone hides work spread over cores).
package benchutil

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// ModuleRoot is the directory of the go.mod the benchmark runs in, so that
// a benchmark finds the corpus and cmd/stet from any working directory.
func ModuleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", err
	}
	return filepath.Dir(strings.TrimSpace(string(out))), nil
}

// BuildStet builds cmd/stet of the module at root into bin, with -trimpath
// as a release build is, passing the compiler's output through.
func BuildStet(root, bin string) error {
	build := exec.Command("go", "build", "-trimpath", "-o", bin, "./cmd/stet")
	build.Dir, build.Stdout, build.Stderr = root, os.Stdout, os.Stderr
	if err := build.Run(); err != nil {
		return fmt.Errorf("building stet: %w", err)
	}
	return nil
}

// WorkDir returns keep when it is set, to be left in place, or else a new
// temporary directory named after prefix that cleanup removes.
func WorkDir(keep, prefix string) (dir string, cleanup func(), err error) {
	if keep != "" {
		return keep, func() {}, nil
	}
	dir, err = os.MkdirTemp("", prefix)
	if err != nil {
		return "", nil, err
	}
	return dir, func() { os.RemoveAll(dir) }, nil
}

// SelfCPU is the user and system time this process has used, zero when
// the system cannot say.
func SelfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// LastLine is the last line of s once surrounding white space is gone: the
// summary line a command prints at the end of its output.
func LastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}
