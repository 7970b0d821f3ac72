package report

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/url"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/stet-dev/stet/rules"
)

// SARIF 2.1.0, the subset GitHub code scanning reads. Field names follow the
// specification; see report/testdata/sarif-schema-2.1.0.json.

const (
	sarifSchema  = "https://json.schemastore.org/sarif-2.1.0.json"
	sarifVersion = "2.1.0"
	// srcRoot is the base every artifact URI is relative to: the
	// repository root, which code scanning maps to the checkout.
	srcRoot = "%SRCROOT%"
	// fingerprintKey names stet's own partial fingerprint, versioned so a
	// change of algorithm can never match old alerts by accident.
	fingerprintKey = "stet/v1"
)

type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool        sarifTool         `json:"tool"`
	Invocations []sarifInvocation `json:"invocations"`
	Results     []sarifResult     `json:"results"`
	ColumnKind  string            `json:"columnKind"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	Version        string      `json:"version"`
	InformationURI string      `json:"informationUri"`
	Rules          []sarifRule `json:"rules"`
}

type sarifText struct {
	Text     string `json:"text"`
	Markdown string `json:"markdown,omitempty"`
}

type sarifRule struct {
	ID                   string          `json:"id"`
	Name                 string          `json:"name"`
	ShortDescription     sarifText       `json:"shortDescription"`
	FullDescription      sarifText       `json:"fullDescription"`
	Help                 sarifText       `json:"help"`
	HelpURI              string          `json:"helpUri"`
	DefaultConfiguration sarifConfig     `json:"defaultConfiguration"`
	Properties           sarifProperties `json:"properties"`
}

type sarifConfig struct {
	Level string `json:"level"`
}

type sarifProperties struct {
	Tags      []string `json:"tags"`
	Precision string   `json:"precision,omitempty"`
}

type sarifResult struct {
	RuleID              string            `json:"ruleId"`
	RuleIndex           *int              `json:"ruleIndex,omitempty"`
	Level               string            `json:"level"`
	Message             sarifText         `json:"message"`
	Locations           []sarifLocation   `json:"locations"`
	PartialFingerprints map[string]string `json:"partialFingerprints"`
}

type sarifLocation struct {
	PhysicalLocation sarifPhysical `json:"physicalLocation"`
}

type sarifPhysical struct {
	ArtifactLocation sarifArtifact `json:"artifactLocation"`
	Region           *sarifRegion  `json:"region,omitempty"`
}

type sarifArtifact struct {
	URI       string `json:"uri"`
	URIBaseID string `json:"uriBaseId,omitempty"`
}

type sarifRegion struct {
	StartLine   int `json:"startLine"`
	StartColumn int `json:"startColumn,omitempty"`
	EndLine     int `json:"endLine,omitempty"`
	EndColumn   int `json:"endColumn,omitempty"`
}

type sarifInvocation struct {
	ExecutionSuccessful        bool                `json:"executionSuccessful"`
	ToolExecutionNotifications []sarifNotification `json:"toolExecutionNotifications"`
}

type sarifNotification struct {
	Level     string          `json:"level"`
	Message   sarifText       `json:"message"`
	Locations []sarifLocation `json:"locations,omitempty"`
}

// level maps a severity to SARIF's result level.
func level(s rules.Severity) string {
	switch s {
	case rules.Error:
		return "error"
	case rules.Warning:
		return "warning"
	}
	return "none"
}

// checkSARIF writes one run with every rule of the catalogue (so rule
// indexes are stable across runs), one result per finding and one
// notification per input that could not be parsed.
func checkSARIF(w io.Writer, c Check, o Options) error {
	cat := rules.Catalogue()
	driver := sarifDriver{Name: "stet", Version: o.version(), InformationURI: o.infoURI(), Rules: make([]sarifRule, 0, len(cat))}
	docs := o.infoURI() + "/blob/main/docs/rules.md#"
	for _, r := range cat {
		driver.Rules = append(driver.Rules, sarifRule{
			ID:                   r.ID,
			Name:                 pascal(r.Name),
			ShortDescription:     sarifText{Text: sentence(r.Summary)},
			FullDescription:      sarifText{Text: sentence(r.Summary) + " " + plainText(firstParagraph(r.Help))},
			Help:                 sarifText{Text: plainText(r.Help), Markdown: helpMarkdown(r)},
			HelpURI:              docs + r.DocAnchor(),
			DefaultConfiguration: sarifConfig{Level: level(r.Severity)},
			Properties:           sarifProperties{Tags: r.Tags, Precision: "high"},
		})
	}
	run := sarifRun{
		Tool:       sarifTool{Driver: driver},
		Results:    make([]sarifResult, 0, len(c.Findings)),
		ColumnKind: "unicodeCodePoints",
	}
	seen := map[string]int{}
	cols := codePoints{read: o.ReadFile, files: map[string][][]byte{}}
	for _, f := range c.Findings {
		res := sarifResult{
			RuleID:  f.Rule,
			Level:   level(f.Severity),
			Message: sarifText{Text: f.Message},
			Locations: []sarifLocation{location(f.File, f.Line, cols.column(f.File, f.Line, f.Column),
				f.EndLine, cols.column(f.File, f.EndLine, f.EndColumn), o)},
		}
		if i := rules.Index(f.Rule); i >= 0 {
			res.RuleIndex = &i
		}
		// The fingerprint leaves out line numbers, so an alert survives
		// edits above it; the occurrence count keeps two identical
		// findings in one file apart.
		key := f.Rule + "\x00" + f.File + "\x00" + f.Reference + "\x00" + f.Message
		seen[key]++
		sum := sha256.Sum256([]byte(key + "\x00" + strconv.Itoa(seen[key])))
		res.PartialFingerprints = map[string]string{fingerprintKey: hex.EncodeToString(sum[:16])}
		run.Results = append(run.Results, res)
	}
	inv := sarifInvocation{ExecutionSuccessful: len(c.Errors) == 0, ToolExecutionNotifications: []sarifNotification{}}
	for _, e := range describeAll(c.Errors) {
		n := sarifNotification{Level: "error", Message: sarifText{Text: oneLine(e.Message)}}
		if e.File != "" {
			n.Locations = []sarifLocation{location(e.File, e.Line, cols.column(e.File, e.Line, e.Column), 0, 0, o)}
		}
		inv.ToolExecutionNotifications = append(inv.ToolExecutionNotifications, n)
	}
	run.Invocations = []sarifInvocation{inv}
	return encode(w, sarifLog{Schema: sarifSchema, Version: sarifVersion, Runs: []sarifRun{run}})
}

// codePoints turns byte columns into the code point columns SARIF's
// columnKind declares, reading each file once. They differ only after a
// non-ASCII character on the same line.
type codePoints struct {
	read  func(string) ([]byte, error)
	files map[string][][]byte // lines; nil when unreadable
}

func (c codePoints) column(file string, line, col int) int {
	if c.read == nil || line < 1 || col <= 1 {
		return col
	}
	lines, ok := c.files[file]
	if !ok {
		if data, err := c.read(filepath.FromSlash(file)); err == nil {
			lines = bytes.SplitAfter(data, []byte("\n"))
		}
		c.files[file] = lines
	}
	if line > len(lines) || col-1 > len(lines[line-1]) {
		return col
	}
	return utf8.RuneCount(lines[line-1][:col-1]) + 1
}

func location(file string, line, col, endLine, endCol int, o Options) sarifLocation {
	loc := sarifLocation{PhysicalLocation: sarifPhysical{ArtifactLocation: artifact(file, o)}}
	if line > 0 {
		r := &sarifRegion{StartLine: line, StartColumn: max(col, 0)}
		if endLine >= line {
			r.EndLine = endLine
			if endCol > 0 && (endLine > line || endCol > col) {
				r.EndColumn = endCol
			}
		}
		loc.PhysicalLocation.Region = r
	}
	return loc
}

// artifact makes a file path a SARIF artifact location: relative to the
// repository root (%SRCROOT%) and URI-escaped; an absolute path outside
// BaseDir stays an absolute file: URI.
func artifact(file string, o Options) sarifArtifact {
	p := relPath(file, o)
	if filepath.IsAbs(filepath.FromSlash(p)) || strings.HasPrefix(p, "/") {
		return sarifArtifact{URI: (&url.URL{Scheme: "file", Path: filepath.ToSlash(p)}).String()}
	}
	segs := strings.Split(p, "/")
	for i, s := range segs {
		// A colon would make a first segment read as a URI scheme.
		segs[i] = strings.ReplaceAll(url.PathEscape(s), ":", "%3A")
	}
	return sarifArtifact{URI: strings.Join(segs, "/"), URIBaseID: srcRoot}
}

// relPath cleans a reported path and, when BaseDir is set, makes an absolute
// path relative to it.
func relPath(file string, o Options) string {
	p := file
	if o.BaseDir != "" && filepath.IsAbs(p) {
		if base, err := filepath.Abs(o.BaseDir); err == nil {
			if rel, err := filepath.Rel(base, p); err == nil && !strings.HasPrefix(rel, "..") {
				p = rel
			}
		}
	}
	p = filepath.ToSlash(p)
	if !strings.HasPrefix(p, "/") {
		p = path.Clean(p)
	}
	return p
}

func helpMarkdown(r rules.Rule) string {
	var b strings.Builder
	b.WriteString(r.Help)
	b.WriteString("\n\nBad (`" + r.Bad.File + "`):\n\n```" + r.Bad.Lang + "\n" + strings.TrimSuffix(r.Bad.Code, "\n") + "\n```\n\n")
	b.WriteString("Good (`" + r.Good.File + "`):\n\n```" + r.Good.Lang + "\n" + strings.TrimSuffix(r.Good.Code, "\n") + "\n```\n\n")
	b.WriteString("Suppress with `# stet:ignore " + r.ID + " <reason>` on the line or the line above.")
	return b.String()
}

// plainText drops Markdown code marks for SARIF's text fields.
func plainText(s string) string { return strings.ReplaceAll(s, "`", "") }

func firstParagraph(s string) string {
	p, _, _ := strings.Cut(s, "\n\n")
	return p
}

// sentence capitalises a summary and ends it with a full stop.
func sentence(s string) string {
	s = plainText(s)
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:] + "."
}

// pascal turns a kebab-case rule name into SARIF's conventional PascalCase:
// unpinned-image → UnpinnedImage.
func pascal(s string) string {
	var b strings.Builder
	for part := range strings.SplitSeq(s, "-") {
		if part != "" {
			b.WriteString(strings.ToUpper(part[:1]) + part[1:])
		}
	}
	return b.String()
}
