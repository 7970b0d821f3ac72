package scan

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseIgnores(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		src  string
		want map[int][]string
	}{
		{"none", "FROM x\n", nil},
		{"whole line covers the next", "# stet:ignore STET001 reason here\nFROM x", map[int][]string{1: {"STET001"}, 2: {"STET001"}}},
		{"several ids", "x: 1\nimage: a # stet:ignore STET001,STET002 STET003 local only", map[int][]string{2: {"STET001", "STET002", "STET003"}}},
		{"end of line covers only its line", "a: {image: r} # stet:ignore STET001\nb: {image: p}\n", map[int][]string{1: {"STET001"}}},
		{"both kinds on one line merge", "# stet:ignore STET002\nimage: a # stet:ignore STET001\n", map[int][]string{1: {"STET002"}, 2: {"STET002", "STET001"}}},
		{"every rule absorbs", "# stet:ignore\nimage: a # stet:ignore STET001\n", map[int][]string{1: {}, 2: {}}},
		{"no ids", "  # stet:ignore\n", map[int][]string{1: {}}},
		{"reason only, last line", "# stet:ignore because this is fine", map[int][]string{1: {}}},
		{"lower case id", "#stet:ignore stet020", map[int][]string{1: {"STET020"}}},
		{"crlf", "# stet:ignore STET001\r\nFROM x\r\n", map[int][]string{1: {"STET001"}, 2: {"STET001"}}},
		{"not a comment", "url: https://example.com/#stet:ignore STET001", nil},
		{"other word", "# stet:ignored STET001\n# stet:ignore-next STET001", nil},
		{"in a string value", "echo 'stet:ignore STET001'", nil},
		{"second occurrence", "a: 'stet:ignore' # stet:ignore STET004", map[int][]string{1: {"STET004"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if diff := cmp.Diff(tt.want, ParseIgnores([]byte(tt.src))); diff != "" {
				t.Errorf("ParseIgnores(%q) (-want +got):\n%s", tt.src, diff)
			}
		})
	}
}

// FuzzParseIgnores checks that any input yields line numbers within the file
// and only well-formed rule IDs.
func FuzzParseIgnores(f *testing.F) {
	f.Add("# stet:ignore STET001 reason\nFROM x # stet:ignore\n")
	f.Add("#stet:ignore stet020,STET021")
	f.Fuzz(func(t *testing.T, s string) {
		lines := strings.Count(s, "\n") + 1
		for l, ids := range ParseIgnores([]byte(s)) {
			if l < 1 || l > lines {
				t.Fatalf("line %d outside 1..%d", l, lines)
			}
			for _, id := range ids {
				if !ruleIDRE.MatchString(id) || strings.ToUpper(id) != id {
					t.Fatalf("malformed rule ID %q", id)
				}
			}
		}
	})
}
