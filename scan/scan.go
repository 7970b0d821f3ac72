// Package scan finds references in a repository: it walks paths (honouring
// .gitignore, size caps and ignore globs), recognises each file's format and
// runs that format's scanner. Scanners live in sub-packages, one per format;
// they share the types defined here.
package scan

import (
	"fmt"
	"slices"

	"github.com/stet-dev/stet/ref"
)

// A Scanner reads one file of its format and returns what it found. path is
// the slash-separated path as it will be reported; data is the whole file.
// Scanners never do I/O: related files they want scanned go into
// Result.Related. An input the scanner cannot parse is an *Error.
type Scanner func(path string, data []byte) (*Result, error)

// Result is what a scanner found in one file.
type Result struct {
	Refs []ref.Ref
	// Commands are shell commands and ADD sources, for the install rules.
	Commands []Command
	// Related are other files this one names and that should be scanned too,
	// as slash paths relative to the current directory (a compose build's
	// Dockerfile, for instance).
	Related []Related
}

// Sort puts the references and commands in file order. A scanner that finds
// them in the order of the keys it knows (jobs, then services, then
// scripts) calls it, since a reader of the report expects the file's.
func (r *Result) Sort() {
	slices.SortStableFunc(r.Refs, ref.Compare)
	slices.SortStableFunc(r.Commands, func(a, b Command) int {
		if a.Line != b.Line {
			return a.Line - b.Line
		}
		return a.Column - b.Column
	})
}

// Related is a file named by another file, with the format it must be read as.
type Related struct {
	Path   string
	Source string
}

// Command is a build or CI command found in a file: a Dockerfile RUN (or the
// arguments of an ADD), a workflow step's run, a GitLab script line.
type Command struct {
	File                             string
	Line, Column, EndLine, EndColumn int
	// Instruction is RUN or ADD for Dockerfiles, "run" for workflow steps,
	// "script" for GitLab jobs.
	Instruction string
	// Text is the command with line continuations joined (heredoc bodies
	// included); for ADD, the source arguments separated by spaces.
	Text string
	// Flags are the instruction's flags as written: --checksum=sha256:…
	Flags []string
	// Source is the format the command came from (ref.SourceDockerfile …).
	Source string
}

// File is everything found in one file.
type File struct {
	Path   string
	Source string
	Refs   []ref.Ref
	// Commands found (see Command).
	Commands []Command
	// Ignores maps a 1-based line to the rule IDs "stet:ignore" comments
	// covering it suppress (see ParseIgnores); an empty list suppresses
	// every rule.
	Ignores map[int][]string
	// Err is set when the file could not be read or parsed.
	Err error
}

// Error is a problem with an input file at a position. Line and Column are
// 1-based; zero when unknown.
type Error struct {
	File         string
	Line, Column int
	Err          error
}

func (e *Error) Error() string {
	switch {
	case e.Line > 0 && e.Column > 0:
		return fmt.Sprintf("%s:%d:%d: %v", e.File, e.Line, e.Column, e.Err)
	case e.Line > 0:
		return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err)
	}
	return fmt.Sprintf("%s: %v", e.File, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error at a position.
func Errorf(file string, line, col int, format string, args ...any) *Error {
	return &Error{File: file, Line: line, Column: col, Err: fmt.Errorf(format, args...)}
}
