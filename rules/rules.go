// Package rules is stet's lint catalogue: the rule IDs, their metadata and
// default severities, the checks that judge references and build commands,
// and the suppression and severity overrides users apply to every finding,
// whichever package produced it.
//
// Check runs the rules this package owns (STET001–STET004 over references,
// STET020–STET027 over commands) on what the scanners found. Findings made
// elsewhere (STET010–STET013 by the lockfile verifier) go through Apply so
// that "# stet:ignore" comments and .stet.yaml severities treat them alike.
package rules

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Severity is how much a finding matters. The zero value means "the rule's
// default".
type Severity string

const (
	// Error findings fail `stet check` (exit code 1).
	Error Severity = "error"
	// Warning findings are reported but do not fail the check.
	Warning Severity = "warning"
	// Off drops the rule's findings.
	Off Severity = "off"
)

// ParseSeverity reads error, warning or off (case-insensitive).
func ParseSeverity(s string) (Severity, error) {
	switch v := Severity(strings.ToLower(strings.TrimSpace(s))); v {
	case Error, Warning, Off:
		return v, nil
	}
	return "", fmt.Errorf("severity %q: want error, warning or off", s)
}

// UnmarshalText lets a Severity be decoded from configuration files.
func (s *Severity) UnmarshalText(b []byte) error {
	v, err := ParseSeverity(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// Rule is one entry of the catalogue.
type Rule struct {
	// ID is stable: STET001.
	ID string
	// Name is a short kebab-case name: unpinned-image.
	Name string
	// Severity is the default severity.
	Severity Severity
	// Summary is one line: "image not pinned by digest".
	Summary string
	// Help explains why the rule exists and how to fix a finding, in
	// Markdown paragraphs.
	Help string
	// Bad and Good are short examples of a violation and its fix.
	Bad, Good Example
	// Tags classify the rule (SARIF properties.tags).
	Tags []string
	// Owner says which part of stet produces the rule's findings: "check"
	// for rules Check runs itself, "verify" for rules found by the lockfile
	// and registry verifier.
	Owner string
}

// Example is a snippet of a file, with the file name that gives it meaning.
type Example struct {
	File string // Dockerfile, .github/workflows/ci.yml …
	Lang string // Markdown code fence language: dockerfile, yaml
	Code string
}

// Catalogue returns every rule, ordered by ID. The slice is a copy.
func Catalogue() []Rule {
	out := make([]Rule, len(catalogue))
	copy(out, catalogue)
	return out
}

// Lookup returns the rule with the given ID.
func Lookup(id string) (Rule, bool) {
	i, ok := slices.BinarySearchFunc(catalogue, id, func(r Rule, id string) int { return strings.Compare(r.ID, id) })
	if !ok {
		return Rule{}, false
	}
	return catalogue[i], true
}

// Index is the position of a rule in Catalogue(), or -1. SARIF refers to
// rules by this index.
func Index(id string) int {
	i, ok := slices.BinarySearchFunc(catalogue, id, func(r Rule, id string) int { return strings.Compare(r.ID, id) })
	if !ok {
		return -1
	}
	return i
}

// Config is the rules section of .stet.yaml: per-rule severity overrides.
// The zero Config uses every rule's default severity.
type Config struct {
	// Rules maps a rule ID to the severity to use instead of its default;
	// Off disables the rule.
	Rules map[string]Severity `yaml:"rules" json:"rules"`
}

// Validate reports unknown rule IDs and severities, so that a typo in
// .stet.yaml does not silently leave a rule at its default.
func (c Config) Validate() error {
	var errs []string
	for _, id := range slices.Sorted(maps.Keys(c.Rules)) {
		if _, ok := Lookup(id); !ok {
			errs = append(errs, fmt.Sprintf("unknown rule %q", id))
			continue
		}
		if _, err := ParseSeverity(string(c.Rules[id])); err != nil {
			errs = append(errs, fmt.Sprintf("rule %s: %v", id, err))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("rules configuration: %s", strings.Join(errs, "; "))
	}
	return nil
}

// ConfigFrom builds a Config from the string map of .stet.yaml's rules
// section and validates it.
func ConfigFrom(m map[string]string) (Config, error) {
	c := Config{Rules: make(map[string]Severity, len(m))}
	for id, s := range m {
		c.Rules[id] = Severity(s)
	}
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	for id, s := range c.Rules {
		c.Rules[id], _ = ParseSeverity(string(s))
	}
	return c, nil
}

// Severity returns the severity in force for a rule: the override, else the
// default. Unknown rules are errors, so that nothing produced under a new ID
// is silently weakened.
func (c Config) Severity(id string) Severity {
	if s, ok := c.Rules[id]; ok && s != "" {
		if v, err := ParseSeverity(string(s)); err == nil {
			return v
		}
	}
	if r, ok := Lookup(id); ok {
		return r.Severity
	}
	return Error
}

// Finding is one problem found. Lines and columns are 1-based; EndColumn is
// exclusive.
type Finding struct {
	Rule      string   `json:"rule"`
	Severity  Severity `json:"severity"`
	File      string   `json:"file"`
	Line      int      `json:"line"`
	Column    int      `json:"column"`
	EndLine   int      `json:"endLine"`
	EndColumn int      `json:"endColumn"`
	Message   string   `json:"message"`
	// Reference is what the finding is about, as a person writes it:
	// nginx:1-alpine, actions/checkout@v4, the unpinned packages of an
	// install, the URL of a download.
	Reference string `json:"reference"`
	// Expected and Actual are the two values a lock finding (STET010–
	// STET013) compares, in full: what stet.lock or a version comment says,
	// and what the file, the registry or the git host says now. Either is
	// empty when that side has none (a tag that no longer exists).
	Expected string `json:"expected,omitempty"`
	Actual   string `json:"actual,omitempty"`
}

// Compare orders findings by file, position, then rule and message.
func Compare(a, b Finding) int {
	return cmp.Or(
		strings.Compare(a.File, b.File),
		cmp.Compare(a.Line, b.Line),
		cmp.Compare(a.Column, b.Column),
		strings.Compare(a.Rule, b.Rule),
		strings.Compare(a.Message, b.Message),
	)
}
