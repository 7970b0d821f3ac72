package dockerfile

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/moby/buildkit/frontend/dockerfile/parser"

	"github.com/stet-dev/stet/scan"
)

// TestLongLineLimit holds source.longLine to BuildKit's parser at the edge
// of its limit: with and without a newline, with CRLF, on the first line
// (a byte order mark counts) and later.
func TestLongLineLimit(t *testing.T) {
	t.Parallel()
	for _, n := range []int{maxLine - 3, maxLine - 2, maxLine - 1, maxLine, maxLine + 1} {
		for _, end := range []string{"\n", "\r\n", ""} {
			for _, where := range []string{"first", "middle", "bom"} {
				long := "RUN " + strings.Repeat("x", n-len("RUN ")-len(end)) + end
				var data string
				switch where {
				case "first":
					data = long
				case "bom":
					data = "\ufeff" + long[3:]
				default:
					data = "FROM a\n" + long
				}
				if end != "" {
					data += "FROM b\n"
				}
				_, perr := parser.Parse(strings.NewReader(data))
				// Before the first instruction the parser stops with "file
				// with no instructions", later with its limit's message.
				if got := newSource([]byte(data)).longLine() > 0; got != (perr != nil) {
					t.Errorf("line of %d bytes ending %q (%s): longLine %v, buildkit %v", n, end, where, got, perr)
				}
			}
		}
	}
}

func TestLongLine(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("x", 70*1024)
	comments := strings.Repeat("# comment\n", 10)
	tests := []struct {
		name      string
		in        string
		line, col int
		msg       string
		// want are the references reported beside the error.
		want []refView
	}{
		{
			name: "RUN before the first FROM",
			in:   comments + "RUN echo " + long + "\nFROM nginx:1\n",
			line: 11, col: 1,
			want: []refView{{"12:6-12:13", "nginx:1", "docker.io/library/nginx", "1", "", false, "FROM", "nginx:1"}},
		},
		{
			name: "LABEL between two FROMs",
			in:   "FROM alpine:3\n" + comments + "LABEL a=" + long + "\nFROM nginx:1 AS web\nCOPY --from=busybox:1 / /\n",
			line: 12, col: 1,
			want: []refView{
				{"1:6-1:14", "alpine:3", "docker.io/library/alpine", "3", "", false, "FROM", "alpine:3"},
				{"13:6-13:13", "nginx:1", "docker.io/library/nginx", "1", "", false, "FROM", "nginx:1"},
				{"14:13-14:22", "busybox:1", "docker.io/library/busybox", "1", "", false, "COPY --from", "busybox:1"},
			},
		},
		{
			name: "long line continued",
			in:   "FROM alpine:3\nRUN echo \\\n " + long + " \\\n && true\nFROM nginx:1\n",
			line: 3, col: 1,
			want: []refView{
				{"1:6-1:14", "alpine:3", "docker.io/library/alpine", "3", "", false, "FROM", "alpine:3"},
				{"5:6-5:13", "nginx:1", "docker.io/library/nginx", "1", "", false, "FROM", "nginx:1"},
			},
		},
		{
			name: "long heredoc body",
			in:   "FROM alpine:3\nRUN <<EOF\n" + long + "\nEOF\nFROM nginx:1\n",
			line: 3, col: 1,
			want: []refView{
				{"1:6-1:14", "alpine:3", "docker.io/library/alpine", "3", "", false, "FROM", "alpine:3"},
				{"5:6-5:13", "nginx:1", "docker.io/library/nginx", "1", "", false, "FROM", "nginx:1"},
			},
		},
		{
			name: "parse error after the long line: BuildKit stops at the line",
			in:   "FROM alpine:3\nRUN echo " + long + "\nFROM nginx:1\nENV onlyname\n",
			line: 2, col: 1,
		},
		{
			name: "unterminated heredoc after the long line",
			in:   "FROM alpine:3\nRUN echo " + long + "\nFROM nginx:1\nRUN <<EOF\nx\n",
			line: 2, col: 1,
		},
		{
			name: "parse error before the long line comes first",
			in:   "FROM alpine:3\nENV onlyname\n# c\nRUN echo " + long + "\n",
			line: 2, col: 0,
			msg: "parsing Dockerfile: ENV must have two arguments",
		},
		{
			name: "heredoc cut by the long line is not the error",
			in:   "FROM alpine:3\nRUN <<EOF\n" + long + "\nEOF\nENV onlyname\n",
			line: 3, col: 1,
		},
		{
			name: "invalid reference after the long line, both counted",
			in:   "ARG IMG=nginx@" + digest + "\nFROM alpine:3\nRUN echo " + long + "\nFROM ${IMG}:1\n",
			line: 3, col: 1,
			msg:  "parsing Dockerfile: line is 71689 bytes long; BuildKit's parser, and so docker build, reads at most 65535 (and 1 more in this file)",
			want: []refView{{"2:6-2:14", "alpine:3", "docker.io/library/alpine", "3", "", false, "FROM", "alpine:3"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			data := []byte(tt.in)
			res, err := Scan("dir/Dockerfile", data)
			var se *scan.Error
			if !errors.As(err, &se) {
				t.Fatalf("Scan error = %v, want a *scan.Error", err)
			}
			if se.File != "dir/Dockerfile" || se.Line != tt.line || se.Column != tt.col {
				t.Errorf("error at %s:%d:%d, want dir/Dockerfile:%d:%d (%v)", se.File, se.Line, se.Column, tt.line, tt.col, err)
			}
			msg := tt.msg
			if msg == "" {
				raw, _ := newSource(data).line(tt.line)
				msg = tooLong("", tt.line, newSource(data)).Err.Error()
				if !strings.Contains(msg, "reads at most 65535") || len(raw) < maxLine {
					t.Fatalf("case does not test a long line: %s", msg)
				}
			}
			if got := se.Err.Error(); got != msg {
				t.Errorf("message\n got %s\nwant %s", got, msg)
			}
			if _, perr := parser.Parse(bytes.NewReader(data)); perr == nil {
				t.Errorf("buildkit accepts the file")
			}
			if tt.want == nil {
				return
			}
			if res == nil {
				t.Fatal("no result beside the error")
			}
			for i := range res.Refs {
				res.Refs[i].File = "Dockerfile"
			}
			checkResult(t, data, res)
			if diff := cmp.Diff(tt.want, viewRefs(data, res.Refs)); diff != "" {
				t.Errorf("refs (-want +got):\n%s", diff)
			}
		})
	}
}

// TestLongLineWithinLimit: a line BuildKit still reads is scanned as any
// other, on the fast path.
func TestLongLineWithinLimit(t *testing.T) {
	t.Parallel()
	data := []byte("FROM alpine:3\nRUN echo " + strings.Repeat("x", maxLine-len("RUN echo \n")) + "\nFROM nginx:1\n")
	if l := newSource(data).longLine(); l != 0 {
		t.Fatalf("longLine = %d, want 0", l)
	}
	if _, _, ok := fastParse(newSource(data)); !ok {
		t.Error("fast path gave up on a line within the limit")
	}
	res, err := Scan("Dockerfile", data)
	if err != nil {
		t.Fatal(err)
	}
	want := []refView{
		{"1:6-1:14", "alpine:3", "docker.io/library/alpine", "3", "", false, "FROM", "alpine:3"},
		{"3:6-3:13", "nginx:1", "docker.io/library/nginx", "1", "", false, "FROM", "nginx:1"},
	}
	if diff := cmp.Diff(want, viewRefs(data, res.Refs)); diff != "" {
		t.Errorf("refs (-want +got):\n%s", diff)
	}
	if len(res.Commands) != 1 || res.Commands[0].Line != 2 || res.Commands[0].EndColumn != maxLine {
		t.Errorf("commands %+v", res.Commands)
	}
}
