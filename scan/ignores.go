package scan

import (
	"bytes"
	"regexp"
	"slices"
	"strings"
)

// IgnoreDirective is the comment word that suppresses findings.
const IgnoreDirective = "stet:ignore"

var ruleIDRE = regexp.MustCompile(`^(?i)STET[0-9]{3}$`)

// ParseIgnores finds "# stet:ignore" comments in a file and returns, for each
// 1-based line a comment covers, the rule IDs it names. An empty list means
// the comment names no rule and suppresses every rule.
//
// The directive is "stet:ignore" after a '#' that starts a comment (at the
// start of a line or after a blank), followed by rule IDs separated by
// blanks or commas, then a free-form reason:
//
//	# stet:ignore STET001 base image is rebuilt nightly on purpose
//	image: redis:7 # stet:ignore STET001,STET002 local development only
//
// A comment covers its own line; a comment alone on its line also covers
// the line below it. A comment after code is about that code only, so that
// "image: redis:7 # stet:ignore STET001" never silences the next service.
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
		ids, whole, ok := parseIgnoreLine(string(l))
		if !ok {
			continue
		}
		if out == nil {
			out = make(map[int][]string)
		}
		cover(out, line, ids)
		if whole && len(data) > 0 {
			cover(out, line+1, ids)
		}
	}
	return out
}

// cover adds the rules ids suppress on line to what m already holds there;
// an empty list (every rule) absorbs any other.
func cover(m map[int][]string, line int, ids []string) {
	prev, ok := m[line]
	switch {
	case !ok:
		m[line] = ids
	case len(prev) == 0 || len(ids) == 0:
		m[line] = []string{}
	default:
		for _, id := range ids {
			if !slices.Contains(prev, id) {
				prev = append(prev, id)
			}
		}
		m[line] = prev
	}
}

// parseIgnoreLine returns the rule IDs of the directive on l, and whether
// the comment is alone on its line.
func parseIgnoreLine(l string) (ids []string, whole, ok bool) {
	for from := 0; ; {
		i := strings.Index(l[from:], IgnoreDirective)
		if i < 0 {
			return nil, false, false
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
		ids = []string{}
		for _, f := range strings.FieldsFunc(strings.TrimPrefix(rest, ":"), func(r rune) bool {
			return r == ' ' || r == '\t' || r == ',' || r == '\r'
		}) {
			if !ruleIDRE.MatchString(f) {
				break
			}
			ids = append(ids, strings.ToUpper(f))
		}
		return ids, strings.TrimSpace(l[:hash]) == "", true
	}
}

// Ignored reports whether a finding of rule on line is suppressed by a
// comment covering that line (see ParseIgnores).
func (f *File) Ignored(rule string, line int) bool {
	ids, ok := f.Ignores[line]
	return ok && (len(ids) == 0 || slices.Contains(ids, rule))
}
