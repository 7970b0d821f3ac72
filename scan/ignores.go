package scan

import (
	"bytes"
	"regexp"
	"strings"
)

// IgnoreDirective is the comment word that suppresses findings.
const IgnoreDirective = "stet:ignore"

var ruleIDRE = regexp.MustCompile(`^(?i)STET[0-9]{3}$`)

// ParseIgnores finds "# stet:ignore" comments in a file and returns, for each
// 1-based line holding one, the rule IDs it names. An empty list means the
// comment names no rule and suppresses every rule.
//
// The directive is "stet:ignore" after a '#' that starts a comment (at the
// start of a line or after a blank), followed by rule IDs separated by
// blanks or commas, then a free-form reason:
//
//	# stet:ignore STET001 base image is rebuilt nightly on purpose
//	image: redis:7 # stet:ignore STET001,STET002 local development only
//
// A finding is suppressed by a comment on its own line or on the line above
// it (see Apply).
func ParseIgnores(data []byte) map[int][]string {
	var out map[int][]string
	line := 0
	for len(data) > 0 {
		line++
		var l []byte
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			l, data = data[:i], data[i+1:]
		} else {
			l, data = data, nil
		}
		if !bytes.Contains(l, []byte(IgnoreDirective)) {
			continue
		}
		ids, ok := parseIgnoreLine(string(l))
		if !ok {
			continue
		}
		if out == nil {
			out = make(map[int][]string)
		}
		out[line] = ids
	}
	return out
}

func parseIgnoreLine(l string) ([]string, bool) {
	for from := 0; ; {
		i := strings.Index(l[from:], IgnoreDirective)
		if i < 0 {
			return nil, false
		}
		i += from
		from = i + len(IgnoreDirective)
		// The directive must be the first word of a comment.
		before := strings.TrimRight(l[:i], " \t")
		if !strings.HasSuffix(before, "#") {
			continue
		}
		hash := len(before) - 1
		if hash > 0 && l[hash-1] != ' ' && l[hash-1] != '\t' {
			continue
		}
		rest := l[from:]
		if rest != "" && rest[0] != ' ' && rest[0] != '\t' && rest[0] != ':' && rest[0] != '\r' {
			continue // stet:ignored, stet:ignore-foo …
		}
		ids := []string{}
		for _, f := range strings.FieldsFunc(strings.TrimPrefix(rest, ":"), func(r rune) bool {
			return r == ' ' || r == '\t' || r == ',' || r == '\r'
		}) {
			if !ruleIDRE.MatchString(f) {
				break
			}
			ids = append(ids, strings.ToUpper(f))
		}
		return ids, true
	}
}

// Ignored reports whether a finding of rule on line is suppressed by a
// comment on that line or the line above.
func (f *File) Ignored(rule string, line int) bool {
	for _, l := range []int{line, line - 1} {
		ids, ok := f.Ignores[l]
		if !ok {
			continue
		}
		if len(ids) == 0 {
			return true
		}
		for _, id := range ids {
			if id == rule {
				return true
			}
		}
	}
	return false
}
