package scan

import (
	"bytes"
	"regexp"
)

var ruleIDRE = regexp.MustCompile(`^STET\d{3}$`)

// ParseIgnores finds "stet:ignore" suppression comments and returns, for each
// 1-based line that has one, the rule IDs it names (empty: every rule). The
// comment is "# stet:ignore STET001[,STET002] reason"; it applies to findings
// on its own line and on the line below.
func ParseIgnores(data []byte) map[int][]string {
	const marker = "stet:ignore"
	if !bytes.Contains(data, []byte(marker)) {
		return nil
	}
	out := map[int][]string{}
	line := 1
	for len(data) > 0 {
		end := bytes.IndexByte(data, '\n')
		text := data
		if end >= 0 {
			text = data[:end]
		}
		if i := bytes.Index(text, []byte(marker)); i >= 0 {
			after := text[i+len(marker):]
			boundary := len(after) == 0 || after[0] == ' ' || after[0] == '\t' || after[0] == '\r'
			if h := bytes.LastIndexByte(text[:i], '#'); boundary && h >= 0 && len(bytes.TrimSpace(text[h+1:i])) == 0 {
				ids := []string{}
				for _, f := range bytes.FieldsFunc(after, func(r rune) bool { return r == ' ' || r == ',' || r == '\t' || r == '\r' }) {
					if !ruleIDRE.Match(f) {
						break
					}
					ids = append(ids, string(f))
				}
				out[line] = ids
			}
		}
		if end < 0 {
			break
		}
		data = data[end+1:]
		line++
	}
	return out
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
