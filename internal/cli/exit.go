package cli

import (
	"errors"
	"fmt"
)

// Exit codes, documented in the README. Commands never exit 0 when a lookup failed.
const (
	// ExitOK: clean, nothing found, images identical.
	ExitOK = 0
	// ExitFindings: findings at error severity, or differences.
	ExitFindings = 1
	// ExitUsage: a usage error or an input that could not be parsed.
	ExitUsage = 2
	// ExitFailure: a runtime failure (registry unreachable, authentication, I/O).
	ExitFailure = 3
)

// exitError carries an exit code up to Run. A nil err with a code means the
// command already reported everything and only the status remains.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

// withCode wraps err so the command exits with code. A nil err still exits with code.
func withCode(code int, err error) error { return &exitError{code: code, err: err} }

// usageErrorf is a usage error: bad flags, arguments or configuration.
func usageErrorf(format string, args ...any) error {
	return withCode(ExitUsage, fmt.Errorf(format, args...))
}

// codeOf maps an error returned by a command to an exit code: usage errors
// from cobra are 2, anything unclassified is a runtime failure (3).
func codeOf(err error) int {
	if err == nil {
		return ExitOK
	}
	var e *exitError
	if errors.As(err, &e) {
		return e.code
	}
	return ExitFailure
}
