// Package report renders what stet's commands computed: the findings of
// `stet check` as text, JSON, SARIF 2.1.0 or GitHub workflow annotations,
// and the references of `stet refs` as text or JSON. Commands compute data;
// this package only formats it, including the input files that could not be
// parsed, so that every format tells the whole story.
package report

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/stet-dev/stet/ref"
	"github.com/stet-dev/stet/rules"
	"github.com/stet-dev/stet/scan"
)

// Format names an output format.
type Format string

const (
	// Text is for people: one line per finding and a closing summary.
	Text Format = "text"
	// JSON is the stable machine-readable schema of ARCHITECTURE.md.
	JSON Format = "json"
	// SARIF is SARIF 2.1.0, as GitHub code scanning accepts it.
	SARIF Format = "sarif"
	// GitHub is GitHub Actions workflow commands (::error file=…::).
	GitHub Format = "github"
)

// CheckFormats are the formats WriteCheck renders.
func CheckFormats() []Format { return []Format{Text, JSON, SARIF, GitHub} }

// RefsFormats are the formats WriteRefs renders.
func RefsFormats() []Format { return []Format{Text, JSON} }

// ParseFormat checks s against the formats a command supports.
func ParseFormat(s string, supported []Format) (Format, error) {
	f := Format(strings.ToLower(strings.TrimSpace(s)))
	if slices.Contains(supported, f) {
		return f, nil
	}
	names := make([]string, len(supported))
	for i, f := range supported {
		names[i] = string(f)
	}
	return "", fmt.Errorf("unknown format %q: want %s", s, strings.Join(names, ", "))
}

// DefaultInformationURI is the project page SARIF points at.
const DefaultInformationURI = "https://github.com/stet-dev/stet"

// Options control rendering. The zero value writes plain text without
// colour and names the tool version "devel".
type Options struct {
	// Color adds ANSI colours to text output. The caller decides (a
	// terminal, no NO_COLOR, no --no-color).
	Color bool
	// ToolVersion is stet's version, for SARIF's tool.driver.version.
	// Default "devel".
	ToolVersion string
	// InformationURI is the project page for SARIF. Default
	// DefaultInformationURI.
	InformationURI string
	// BaseDir, when set, makes absolute file paths relative to it in SARIF
	// and GitHub output (code scanning wants paths relative to the
	// repository root).
	BaseDir string
	// ReadFile, when set, reads the file of a finding so that SARIF columns
	// count Unicode code points, as the log declares, instead of bytes. A
	// file it cannot read keeps byte columns.
	ReadFile func(name string) ([]byte, error)
}

func (o Options) version() string {
	if o.ToolVersion == "" {
		return "devel"
	}
	return o.ToolVersion
}

func (o Options) infoURI() string {
	if o.InformationURI == "" {
		return DefaultInformationURI
	}
	return strings.TrimSuffix(o.InformationURI, "/")
}

// Check is the result of `stet check`.
type Check struct {
	// Findings sorted as rules.Check returns them.
	Findings []rules.Finding
	// Errors are the inputs that could not be read or parsed; a
	// *scan.Error carries its file and position.
	Errors []error
	// Files is the number of files scanned; References the number of
	// references found in them.
	Files, References int
}

// Counts returns the number of findings at error and at warning severity.
func (c Check) Counts() (errs, warnings int) {
	for _, f := range c.Findings {
		switch f.Severity {
		case rules.Error:
			errs++
		case rules.Warning:
			warnings++
		}
	}
	return errs, warnings
}

// Refs is the result of `stet refs`.
type Refs struct {
	// Refs sorted by ref.Compare.
	Refs []ref.Ref
	// Errors are the inputs that could not be read or parsed.
	Errors []error
	// Files is the number of files scanned.
	Files int
}

// WriteCheck renders the result of `stet check` in format f.
func WriteCheck(w io.Writer, f Format, c Check, o Options) error {
	var err error
	switch f {
	case Text:
		err = checkText(w, c, o)
	case JSON:
		err = checkJSON(w, c)
	case SARIF:
		err = checkSARIF(w, c, o)
	case GitHub:
		err = checkGitHub(w, c, o)
	default:
		return fmt.Errorf("rendering findings: unknown format %q", f)
	}
	if err != nil {
		return fmt.Errorf("writing %s report: %w", f, err)
	}
	return nil
}

// WriteRefs renders the result of `stet refs` in format f.
func WriteRefs(w io.Writer, f Format, r Refs, o Options) error {
	var err error
	switch f {
	case Text:
		err = refsText(w, r, o)
	case JSON:
		err = refsJSON(w, r)
	default:
		return fmt.Errorf("rendering references: unknown format %q", f)
	}
	if err != nil {
		return fmt.Errorf("writing %s report: %w", f, err)
	}
	return nil
}

// InputErrors collects the errors of files that could not be read or
// parsed, each carrying its file (an error without one is wrapped in a
// *scan.Error for the file's path).
func InputErrors(files []scan.File) []error {
	var out []error
	for _, f := range files {
		if f.Err == nil {
			continue
		}
		var se *scan.Error
		if errors.As(f.Err, &se) && se.File != "" {
			out = append(out, f.Err)
			continue
		}
		out = append(out, &scan.Error{File: f.Path, Err: f.Err})
	}
	return out
}

// inputError is an input error reduced to what every format shows.
type inputError struct {
	File         string
	Line, Column int
	Message      string
}

// describe extracts the file and position of an input error. Errors that
// are not *scan.Error have no position; their text is kept whole.
func describe(err error) inputError {
	var se *scan.Error
	if errors.As(err, &se) {
		msg := "could not be parsed"
		if se.Err != nil {
			msg = se.Err.Error()
		}
		return inputError{File: se.File, Line: se.Line, Column: se.Column, Message: msg}
	}
	return inputError{Message: err.Error()}
}

func describeAll(errs []error) []inputError {
	out := make([]inputError, 0, len(errs))
	for _, e := range errs {
		if e != nil {
			out = append(out, describe(e))
		}
	}
	return out
}

// location is "file:line:col", shortened when parts are unknown.
func (e inputError) location() string {
	switch {
	case e.File == "":
		return ""
	case e.Line > 0 && e.Column > 0:
		return fmt.Sprintf("%s:%d:%d", e.File, e.Line, e.Column)
	case e.Line > 0:
		return fmt.Sprintf("%s:%d", e.File, e.Line)
	}
	return e.File
}

// state is how a reference stands: pinned, unpinned or dynamic.
func state(r ref.Ref) string {
	switch {
	case r.Dynamic:
		return "dynamic"
	case r.Pinned():
		return "pinned"
	}
	return "unpinned"
}
