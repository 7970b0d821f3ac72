//go:build !linux

package edit

import "errors"

func fileSystem(string) (uint64, bool) { return 0, false }

func syncFS(string) error { return errors.ErrUnsupported }
