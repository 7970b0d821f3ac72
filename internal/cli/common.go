package cli

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/stet-dev/stet/config"
	"github.com/stet-dev/stet/ref"
	"github.com/stet-dev/stet/scan"
	"github.com/stet-dev/stet/scan/formats"
)

// app holds what every command shares: the streams, global flags and the
// logger. It is built per invocation, never a package variable.
type app struct {
	stdin          io.Reader
	stdout, stderr io.Writer

	configPath  string
	verbose     bool
	noColor     bool
	maxFileSize int64

	logger *slog.Logger
}

func (a *app) addGlobalFlags(root *cobra.Command) {
	f := root.PersistentFlags()
	f.StringVar(&a.configPath, "config", "", "settings file (default: .stet.yaml at the repository root)")
	f.BoolVarP(&a.verbose, "verbose", "v", false, "print diagnostics to stderr")
	f.BoolVar(&a.noColor, "no-color", false, "never colour output (NO_COLOR is honoured too)")
	f.Int64Var(&a.maxFileSize, "max-file-size", 0, "skip files larger than this many bytes (default 4 MiB, or .stet.yaml maxFileSize)")
}

func (a *app) setup(*cobra.Command) error {
	level := slog.LevelWarn
	if a.verbose {
		level = slog.LevelDebug
	}
	a.logger = slog.New(slog.NewTextHandler(a.stderr, &slog.HandlerOptions{Level: level}))
	if a.maxFileSize < 0 {
		return usageErrorf("--max-file-size must not be negative")
	}
	return nil
}

// color reports whether w is a terminal that may be coloured.
func (a *app) color(w io.Writer) bool {
	if a.noColor || os.Getenv("NO_COLOR") != "" || os.Getenv("TERM") == "dumb" {
		return false
	}
	return isTerminal(w)
}

// isTerminal reports whether w is a terminal (never in tests or CI pipes).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// loadConfig reads --config, or finds .stet.yaml from the first path upwards.
// A broken settings file is a usage error.
func (a *app) loadConfig(paths []string) (*config.Config, error) {
	var (
		c   *config.Config
		err error
	)
	if a.configPath != "" {
		c, err = config.Load(a.configPath)
		if err == nil {
			// Settings kept inside the repository but not at its root
			// (ci/stet.yaml) leave stet.lock and the ledger at the root.
			c.Root = config.GitRoot(c.Dir)
		}
	} else {
		start := "."
		if len(paths) > 0 {
			start = paths[0]
		}
		c, err = config.Find(start)
	}
	if err != nil {
		return nil, withCode(ExitUsage, err)
	}
	if a.maxFileSize > 0 {
		c.MaxFileSize = a.maxFileSize
	}
	if c.Path != "" {
		a.logger.Debug("settings", "file", c.Path)
	}
	return c, nil
}

// walk scans paths with the configured ignores and prints skipped files as
// warnings on stderr.
func (a *app) walk(cmd *cobra.Command, paths []string, c *config.Config) (*scan.Report, error) {
	rep, err := scan.Walk(cmd.Context(), paths, scan.Options{
		Scanners:    formats.Default(),
		Ignore:      c.Ignore,
		IgnoreDir:   c.Dir,
		MaxFileSize: c.MaxFileSize,
		Logger:      a.logger,
	})
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, withCode(ExitUsage, err)
		}
		return nil, err
	}
	for _, w := range rep.Warnings {
		fmt.Fprintf(a.stderr, "stet: warning: %s\n", w)
	}
	return rep, nil
}

// inputErrors returns the files that could not be read or parsed.
func inputErrors(rep *scan.Report) []error {
	var errs []error
	for _, f := range rep.Files {
		if f.Err != nil {
			errs = append(errs, f.Err)
		}
	}
	return errs
}

// repoRoot is the directory holding the settings file, or the git work
// tree root found from the first path; where stet.lock and .stet/ live.
func repoRoot(c *config.Config) string {
	if c.Root != "" {
		return c.Root
	}
	if c.Dir != "" {
		return c.Dir
	}
	return "."
}

// relPath shortens an absolute path under the working directory for messages.
func relPath(p string) string {
	wd, err := os.Getwd()
	if err != nil {
		return p
	}
	if r, err := filepath.Rel(wd, p); err == nil && !strings.HasPrefix(r, "..") {
		return r
	}
	return p
}

// refsOf gathers the references of every file of a walk.
func refsOf(rep *scan.Report) []ref.Ref {
	var refs []ref.Ref
	for _, f := range rep.Files {
		refs = append(refs, f.Refs...)
	}
	return refs
}
