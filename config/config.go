// Package config reads .stet.yaml, the per-repository settings file.
//
// A missing file is not an error: every setting has a default. Unknown keys
// are an error with their line, so a typo never silently turns a rule off.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"
)

// FileName is the settings file stet looks for at the repository root.
const FileName = ".stet.yaml"

// DefaultMaxFileSize is the size above which files are skipped with a warning.
const DefaultMaxFileSize = 4 << 20

// DefaultGitURL is where actions are resolved with git's smart-HTTP protocol.
const DefaultGitURL = "https://github.com"

// Config is the content of .stet.yaml.
type Config struct {
	// Ignore lists gitignore-style globs, relative to the directory holding
	// the config file, of paths never scanned.
	Ignore []string `yaml:"ignore"`
	// Rules overrides rule severities: error, warning or off.
	Rules map[string]string `yaml:"rules"`
	// MaxFileSize in bytes; files above it are skipped. Default 4 MiB.
	MaxFileSize int64      `yaml:"maxFileSize"`
	Registries  Registries `yaml:"registries"`
	Actions     Actions    `yaml:"actions"`
	// Ledger is the release ledger location (sqlite:PATH or oci://registry/repo).
	Ledger string `yaml:"ledger"`

	// Path is the file this was read from; empty when defaults are in use.
	Path string `yaml:"-"`
	// Dir is the directory the ignore globs are relative to.
	Dir string `yaml:"-"`
	// Root, when set, is the repository root where it is not Dir (settings
	// named on the command line, kept elsewhere): where stet.lock and the
	// default ledger live.
	Root string `yaml:"-"`
}

// Registries holds registry access settings.
type Registries struct {
	// Mirrors maps a registry host to the mirror that serves it, optionally
	// with a path prefix: docker.io → mirror.internal:5000/dockerhub.
	Mirrors map[string]string `yaml:"mirrors"`
	// Insecure lists hosts reached over plain HTTP (loopback always is).
	Insecure []string `yaml:"insecure"`
	// Concurrency bounds requests in flight per registry; zero leaves the
	// registry client's default (32).
	Concurrency int `yaml:"concurrency"`
}

// Actions holds settings for resolving GitHub Actions.
type Actions struct {
	// GitURL is the base URL of the git host. Default https://github.com.
	GitURL string `yaml:"gitURL"`
}

// Default returns the settings used when there is no .stet.yaml.
func Default() *Config {
	return &Config{
		MaxFileSize: DefaultMaxFileSize,
		Actions:     Actions{GitURL: DefaultGitURL},
	}
}

// Load reads the settings file at path. A missing file is an error here; use
// Find to look for one that may not exist.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading config: %w", err)
	}
	c, err := Parse(path, data)
	if err != nil {
		return nil, err
	}
	c.Path = path
	c.Dir = filepath.Dir(path)
	return c, nil
}

// GitRoot is the root of the git work tree holding dir: the nearest
// directory at or above it with a .git entry; "" when there is none.
func GitRoot(dir string) string {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return ""
	}
	if fi, err := os.Stat(abs); err == nil && !fi.IsDir() {
		abs = filepath.Dir(abs)
	}
	for d := abs; ; {
		if _, err := os.Stat(filepath.Join(d, ".git")); err == nil {
			return d
		}
		parent := filepath.Dir(d)
		if parent == d {
			return ""
		}
		d = parent
	}
}

// Find looks for .stet.yaml in dir and its parents, stopping at the root of
// the git work tree that holds dir (or the file system root). It returns the
// defaults, with Dir set to that root, when there is none.
func Find(dir string) (*Config, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	if fi, err := os.Stat(abs); err == nil && !fi.IsDir() {
		abs = filepath.Dir(abs)
	}
	for d := abs; ; {
		p := filepath.Join(d, FileName)
		if _, err := os.Stat(p); err == nil {
			return Load(shorten(p))
		} else if !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("reading config: %w", err)
		}
		if _, err := os.Stat(filepath.Join(d, ".git")); err == nil {
			c := Default()
			c.Dir = d
			return c, nil
		}
		parent := filepath.Dir(d)
		if parent == d {
			c := Default()
			c.Dir = abs
			return c, nil
		}
		d = parent
	}
}

var (
	unknownFieldRE = regexp.MustCompile(`^(\d+): field (\S+) not found in type \S+$`)
	lineRE         = regexp.MustCompile(`^line (\d+): (.*)$`)
)

// shorten makes p relative to the working directory when it lies below it,
// so messages name the file the way the user sees it.
func shorten(p string) string {
	wd, err := os.Getwd()
	if err != nil {
		return p
	}
	if r, err := filepath.Rel(wd, p); err == nil && !strings.HasPrefix(r, "..") {
		return r
	}
	return p
}

// Parse decodes and validates settings; name is used in error messages.
func Parse(name string, data []byte) (*Config, error) {
	c := Default()
	if len(bytes.TrimSpace(data)) == 0 {
		return c, nil
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(c); err != nil {
		var te *yaml.TypeError
		if errors.As(err, &te) {
			msgs := make([]string, len(te.Errors))
			for i, e := range te.Errors {
				msgs[i] = name + ":" + unknownFieldRE.ReplaceAllString(strings.TrimPrefix(e, "line "), `$1: unknown key "$2"`)
			}
			return nil, errors.New(strings.Join(msgs, "\n"))
		}
		msg := strings.TrimPrefix(err.Error(), "yaml: ")
		if m := lineRE.FindStringSubmatch(msg); m != nil {
			return nil, fmt.Errorf("%s:%s: %s", name, m[1], m[2])
		}
		return nil, fmt.Errorf("%s: %s", name, msg)
	}
	if err := c.validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return c, nil
}

func (c *Config) validate() error {
	for id, sev := range c.Rules {
		switch sev {
		case "error", "warning", "off":
		default:
			return fmt.Errorf("rules.%s: severity %q: want error, warning or off", id, sev)
		}
	}
	if c.MaxFileSize < 0 {
		return fmt.Errorf("maxFileSize: must not be negative")
	}
	if c.MaxFileSize == 0 {
		c.MaxFileSize = DefaultMaxFileSize
	}
	if c.Registries.Concurrency < 0 {
		return fmt.Errorf("registries.concurrency: must not be negative")
	}
	if c.Actions.GitURL == "" {
		c.Actions.GitURL = DefaultGitURL
	}
	for host, m := range c.Registries.Mirrors {
		if host == "" || m == "" {
			return fmt.Errorf("registries.mirrors: empty host or mirror")
		}
	}
	return nil
}
