package resolve

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func pkt(lines ...string) string {
	var b strings.Builder
	for _, l := range lines {
		if l == "" {
			b.WriteString("0000")
			continue
		}
		fmt.Fprintf(&b, "%04x%s", len(l)+4, l)
	}
	return b.String()
}

const (
	c1 = "1111111111111111111111111111111111111111"
	c2 = "2222222222222222222222222222222222222222"
	t1 = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
)

func TestParseAdvertisement(t *testing.T) {
	for _, tc := range []struct {
		name    string
		in      string
		want    map[string]string
		wantErr string
	}{
		{
			name: "v0 with service header, peeled tag",
			in: pkt("# service=git-upload-pack\n", "",
				c2+" HEAD\x00multi_ack symref=HEAD:refs/heads/main agent=git/2.39\n",
				c2+" refs/heads/main\n",
				t1+" refs/tags/v1.0.0\n",
				c1+" refs/tags/v1.0.0^{}\n",
				c2+" refs/tags/v2\n", ""),
			want: map[string]string{"HEAD": c2, "refs/heads/main": c2, "refs/tags/v1.0.0": c1, "refs/tags/v2": c2},
		},
		{
			name: "v1",
			in:   pkt("version 1\n", c1+" refs/heads/main\x00agent=x\n", ""),
			want: map[string]string{"refs/heads/main": c1},
		},
		{
			name: "empty repository",
			in:   pkt("# service=git-upload-pack\n", "", strings.Repeat("0", 40)+" capabilities^{}\x00agent=x\n", ""),
			want: map[string]string{},
		},
		{name: "server error", in: pkt("ERR access denied\n"), wantErr: "server error: access denied"},
		{name: "bad length", in: "zzzz", wantErr: "bad pkt-line length"},
		{name: "short length", in: "0003", wantErr: "bad pkt-line length 3"},
		{name: "overlong", in: "00ffabc", wantErr: "pkt-line of 255 bytes"},
		{name: "truncated", in: "00", wantErr: "truncated"},
		{name: "not an oid", in: pkt("xyz refs/heads/main\n"), wantErr: "bad ref line"},
		{name: "v2 unasked", in: pkt("version 2\n", "ls-refs\n", ""), wantErr: "protocol v2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g, err := parseAdvertisement([]byte(tc.in))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("got %v, want error containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, g.refs); diff != "" {
				t.Errorf("(-want +got)\n%s", diff)
			}
		})
	}
}

func FuzzParseAdvertisement(f *testing.F) {
	f.Add([]byte(pkt("# service=git-upload-pack\n", "", c1+" HEAD\x00caps\n", t1+" refs/tags/v1\n", c1+" refs/tags/v1^{}\n", "")))
	f.Add([]byte(pkt("version 1\n", c1+" refs/heads/main\n", "")))
	f.Add([]byte("0000"))
	f.Add([]byte("0001000200040004"))
	f.Fuzz(func(t *testing.T, data []byte) {
		g, err := parseAdvertisement(data)
		if err != nil {
			return
		}
		for name, oid := range g.refs {
			if !isOID(oid) || name == "" || strings.HasSuffix(name, "^{}") {
				t.Fatalf("accepted ref %q → %q", name, oid)
			}
		}
		// Lookups never panic on what was accepted.
		for name := range g.refs {
			g.lookup(strings.TrimPrefix(name, "refs/tags/"))
		}
	})
}

func TestMostSpecific(t *testing.T) {
	for _, tc := range []struct {
		tag  string
		tags []string
		want string
	}{
		{"v4", []string{"v4", "v4.2", "v4.2.2"}, "v4.2.2"},
		{"v4", []string{"v4", "v4.2.2-rc.1", "v4.2.2"}, "v4.2.2"},
		{"v4", []string{"v4", "v4.2.2-rc.1"}, "v4.2.2-rc.1"},
		{"v4", []string{"v4", "v40.1.0", "4.2.2"}, "v4"},
		{"v4.2", []string{"v4", "v4.2", "v4.2.2"}, "v4.2.2"},
		{"v4.2.2", []string{"v4", "v4.2", "v4.2.2"}, "v4.2.2"},
		{"1", []string{"1", "1.0.3", "v1.0.4"}, "1.0.3"},
		{"main", []string{"v1.0.0"}, "main"},
		{"v4-beta", []string{"v4-beta", "v4.1.0"}, "v4-beta"},
		{"v2", []string{"v2", "v2.x"}, "v2"},
		{"v3", []string{"v3", "v3.0.0+build.1"}, "v3.0.0+build.1"},
		{"v4", []string{"v4", "v4.2.2", "v4.2.3"}, "v4.2.3"},
		{"v4", []string{"v4.2.3", "v4", "v4.2.2"}, "v4.2.3"},
		{"v4", []string{"v4", "v4.3.0-rc.1", "v4.2.9-rc.2"}, "v4.3.0-rc.1"},
	} {
		if got := mostSpecific(tc.tag, tc.tags); got != tc.want {
			t.Errorf("mostSpecific(%q, %q) = %q, want %q", tc.tag, tc.tags, got, tc.want)
		}
	}
}
