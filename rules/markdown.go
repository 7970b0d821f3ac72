package rules

import (
	"bytes"
	"fmt"
	"strings"
)

//go:generate go test -run TestRulesDoc -update .

// Markdown renders the catalogue as the rules reference (docs/rules.md), so
// that the documentation and the help text shown by the tool never drift.
func Markdown() []byte {
	var b bytes.Buffer
	b.WriteString("# stet rules\n\n")
	b.WriteString("<!-- Generated from the rules catalogue (rules/catalogue.go) by `go test ./rules -update`. Do not edit. -->\n\n")
	b.WriteString("`stet check` reports the rules below. Each finding names its rule ID, which is stable.\n\n")
	b.WriteString("| id | name | default | finding |\n| --- | --- | --- | --- |\n")
	for _, r := range catalogue {
		fmt.Fprintf(&b, "| [%s](#%s) | %s | %s | %s |\n", r.ID, anchor(r), r.Name, r.Severity, strings.ReplaceAll(r.Summary, "|", "\\|"))
	}
	b.WriteString(`
## Severities

` + "`error`" + ` findings make ` + "`stet check`" + ` exit with code 1; ` + "`warning`" + ` findings are
reported but do not fail the check; ` + "`off`" + ` disables a rule. Change a rule's
severity in ` + "`.stet.yaml`" + `:

` + "```yaml" + `
rules:
  STET020: error    # enforce pinned apt packages
  STET027: off      # this repository clones on purpose
` + "```" + `

## Suppressing a finding

Put a ` + "`stet:ignore`" + ` comment at the end of the finding's line, or alone on
the line above it, with the rule IDs it silences (separated by spaces or
commas) and a reason. A comment at the end of a line is about that line
only; it never silences the line below:

` + "```dockerfile" + `
# stet:ignore STET001 rebuilt nightly from the latest base on purpose
FROM nginx:1-alpine
` + "```" + `

` + "```yaml" + `
image: redis:7 # stet:ignore STET001,STET002 local development only
` + "```" + `

A comment without rule IDs silences every rule. For a command that spans
several lines (a ` + "`RUN`" + ` with continuations, a ` + "`run: |`" + ` block), a comment
above the whole command silences findings anywhere in it; inside a YAML
block, a comment line silences the line below it.

STET010–STET013 are found by comparing the files with stet.lock (STET010,
also by ` + "`stet check`" + ` whenever a stet.lock exists) and the lock with the
registries (` + "`stet verify`" + `); they are suppressed and configured the same way.
`)
	for _, r := range catalogue {
		fmt.Fprintf(&b, "\n## %s %s\n\n", r.ID, r.Name)
		fmt.Fprintf(&b, "%s. Default severity: `%s`.", capitalise(r.Summary), r.Severity)
		switch {
		case r.ID == "STET010":
			// The files-vs-lock half needs no network: check runs it too.
			b.WriteString(" Reported by `stet check` and `stet verify` (an entry no file uses, by `stet verify` only).")
		case r.Owner == ownerVerify:
			b.WriteString(" Reported by `stet verify`.")
		}
		b.WriteString("\n\n")
		b.WriteString(r.Help)
		b.WriteString("\n\n")
		writeExample(&b, "Bad", r.Bad)
		writeExample(&b, "Good", r.Good)
		fmt.Fprintf(&b, "Suppress: `# stet:ignore %s <reason>` at the end of the line or alone on the line above; disable: `rules: {%s: off}` in `.stet.yaml`.\n", r.ID, r.ID)
	}
	return b.Bytes()
}

func writeExample(b *bytes.Buffer, label string, e Example) {
	fmt.Fprintf(b, "%s (`%s`):\n\n```%s\n%s", label, e.File, e.Lang, e.Code)
	if !strings.HasSuffix(e.Code, "\n") {
		b.WriteByte('\n')
	}
	b.WriteString("```\n\n")
}

// anchor is the heading anchor GitHub generates for "## STET001 unpinned-image".
func anchor(r Rule) string {
	return strings.ToLower(r.ID + "-" + r.Name)
}

// DocAnchor is the fragment of the rule's section in docs/rules.md:
// "stet001-unpinned-image".
func (r Rule) DocAnchor() string { return anchor(r) }

func capitalise(s string) string {
	if s == "" {
		return s
	}
	if s[0] == '`' {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
