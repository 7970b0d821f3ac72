package dockerfile

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/moby/buildkit/frontend/dockerfile/shell"

	"github.com/stet-dev/stet/ref"
	"github.com/stet-dev/stet/scan"
)

// sharedView is a reference as the shared-default tables state it: its
// text, the bytes of its edit span ("" for none) and the line numbers its
// NotEditable names ("" when it gives no reason).
type sharedView struct {
	Line       int
	Text, Edit string
	Note       string
}

var copyRE = regexp.MustCompile(`^its value is copied from another variable, whose default at line (\d+) `)

var noteRE = regexp.MustCompile(`^its value, the default at line (\d+), is also used at line (\d+) `)

// noteLines reduces a shared-default NotEditable to "default line>use line".
func noteLines(note string) string {
	if note == "" {
		return ""
	}
	if m := copyRE.FindStringSubmatch(note); m != nil {
		return "copy of " + m[1]
	}
	m := noteRE.FindStringSubmatch(note)
	if m == nil {
		return "unparsed: " + note
	}
	return m[1] + ">" + m[2]
}

func TestSharedDefaults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want []sharedView
	}{
		{
			name: "whole and with a suffix: the default is not pinned",
			in:   "ARG BASE=127.0.0.1:5555/t/base:1\nFROM ${BASE} AS a\nFROM ${BASE}-alpine AS b\n",
			want: []sharedView{
				{2, "${BASE}", "", "1>3"},
				{3, "${BASE}-alpine", "", ""},
			},
		},
		{
			name: "name with a tag variable elsewhere: the default is not pinned",
			in:   "ARG IMG=nginx\nARG V=1\nFROM ${IMG}:${V}\nFROM ${IMG}\n",
			want: []sharedView{
				{3, "${IMG}:${V}", "", ""},
				{4, "${IMG}", "", "1>3"},
			},
		},
		{
			name: "composite use before the whole one",
			in:   "ARG BASE=nginx:1\nFROM $BASE-slim AS a\nFROM $BASE\n",
			want: []sharedView{
				{2, "$BASE-slim", "", ""},
				{3, "$BASE", "", "1>2"},
			},
		},
		{
			name: "whole in every use: the default is pinned once for all",
			in:   "ARG BASE=nginx:1\nFROM ${BASE} AS a\nFROM $BASE AS b\nFROM \"${BASE}\"\n",
			want: []sharedView{
				{2, "${BASE}", "nginx:1", ""},
				{3, "$BASE", "nginx:1", ""},
				{4, "${BASE}", "nginx:1", ""},
			},
		},
		{
			name: "quoted default shared with a suffix",
			in:   "ARG BASE=\"nginx:1\"\nFROM \"${BASE}\" AS a\nFROM \"${BASE}-alpine\"\n",
			want: []sharedView{
				{2, "${BASE}", "", "1>3"},
				{3, "${BASE}-alpine", "", ""},
			},
		},
		{
			name: "quoted default used whole twice",
			in:   "ARG BASE='nginx:1'\nFROM ${BASE} AS a\nFROM \"$BASE\"\n",
			want: []sharedView{
				{2, "${BASE}", "nginx:1", ""},
				{3, "$BASE", "nginx:1", ""},
			},
		},
		{
			name: "default operators that read the value whole",
			in:   "ARG BASE=nginx:1\nFROM ${BASE:-nginx:9} AS a\nFROM ${BASE-x} AS b\nFROM ${BASE}\n",
			want: []sharedView{
				{2, "${BASE:-nginx:9}", "nginx:1", ""},
				{3, "${BASE-x}", "nginx:1", ""},
				{4, "${BASE}", "nginx:1", ""},
			},
		},
		{
			name: "default operator with a suffix",
			in:   "ARG BASE=nginx:1\nFROM ${BASE:-x}-alpine AS a\nFROM ${BASE}\n",
			want: []sharedView{
				{2, "${BASE:-x}-alpine", "", ""},
				{3, "${BASE}", "", "1>2"},
			},
		},
		{
			name: "inline default of an unset ARG stays pinnable beside a suffix",
			in:   "ARG BASE\nFROM ${BASE:-nginx:1} AS a\nFROM ${BASE:-nginx:1}-alpine\n",
			want: []sharedView{
				{2, "${BASE:-nginx:1}", "nginx:1", ""},
				{3, "${BASE:-nginx:1}-alpine", "", ""},
			},
		},
		{
			name: "alternative value reads only whether the ARG is set",
			in:   "ARG BASE=nginx:1\nFROM ${BASE} AS a\nFROM nginx${BASE:+-x}:3\n",
			want: []sharedView{
				{2, "${BASE}", "nginx:1", ""},
				{3, "nginx${BASE:+-x}:3", "", ""},
			},
		},
		{
			name: "pattern removal reads the value's bytes",
			in:   "ARG BASE=nginx:1\nFROM ${BASE} AS a\nFROM alpine:${BASE#*:}\n",
			want: []sharedView{
				{2, "${BASE}", "", "1>3"},
				{3, "alpine:${BASE#*:}", "", ""},
			},
		},
		{
			name: "ARG re-declared in a stage, used whole",
			in:   "ARG BASE=nginx:1\nFROM ${BASE} AS a\nFROM alpine:3\nARG BASE\nCOPY --from=${BASE} / /\nRUN --mount=from=$BASE,target=/b true\n",
			want: []sharedView{
				{2, "${BASE}", "nginx:1", ""},
				{3, "alpine:3", "alpine:3", ""},
				{5, "${BASE}", "nginx:1", ""},
				{6, "$BASE", "nginx:1", ""},
			},
		},
		{
			name: "ARG re-declared in a stage, COPY --from with a suffix",
			in:   "ARG BASE=nginx:1\nFROM ${BASE} AS a\nFROM alpine:3\nARG BASE\nCOPY --from=${BASE}-x / /\n",
			want: []sharedView{
				{2, "${BASE}", "", "1>5"},
				{3, "alpine:3", "alpine:3", ""},
				{5, "${BASE}-x", "", ""},
			},
		},
		{
			name: "ARG re-declared in a stage, RUN --mount from with a suffix",
			in:   "ARG BASE=nginx:1\nFROM ${BASE} AS a\nFROM alpine:3\nARG BASE\nRUN --mount=from=${BASE}-x,target=/b true\n",
			want: []sharedView{
				{2, "${BASE}", "", "1>5"},
				{3, "alpine:3", "alpine:3", ""},
				{5, "${BASE}-x", "", ""},
			},
		},
		{
			name: "stage ARG builds another value from the default",
			in:   "ARG BASE=nginx:1\nFROM ${BASE}\nARG BASE\nARG SLIM=${BASE}-slim\n",
			want: []sharedView{{2, "${BASE}", "", "1>4"}},
		},
		{
			name: "stage ARG with a value of its own does not share the global default",
			in:   "ARG BASE=nginx:1\nFROM ${BASE} AS a\nFROM alpine:3\nARG BASE=busybox:1\nCOPY --from=${BASE}-musl / /\n",
			want: []sharedView{
				{2, "${BASE}", "nginx:1", ""},
				{3, "alpine:3", "alpine:3", ""},
				{5, "${BASE}-musl", "", ""},
			},
		},
		{
			name: "global ARG built from the default",
			in:   "ARG BASE=nginx:1\nARG DESC=\"built on ${BASE}\"\nFROM ${BASE}\n",
			want: []sharedView{{3, "${BASE}", "", "1>2"}},
		},
		{
			name: "a default that holds a digest stays editable for update",
			in:   "ARG BASE=nginx:1@" + digest + "\nARG DESC=\"on ${BASE}\"\nFROM ${BASE}\n",
			want: []sharedView{{3, "${BASE}", "nginx:1@" + digest, ""}},
		},
		{
			name: "global ARG copying the default, used with a suffix",
			in:   "ARG BASE=nginx:1\nARG COPY=${BASE}\nFROM ${BASE} AS a\nFROM ${COPY}-x\n",
			want: []sharedView{
				{3, "${BASE}", "", "1>4"},
				{4, "${COPY}-x", "", ""},
			},
		},
		{
			name: "global ARG copying the default, used whole",
			in:   "ARG BASE=nginx:1\nARG COPY=${BASE}\nFROM ${BASE} AS a\nFROM ${COPY}\n",
			want: []sharedView{
				{3, "${BASE}", "nginx:1", ""},
				{4, "${COPY}", "", "copy of 1"},
			},
		},
		{
			name: "a copy in a stage ENV, used with a suffix",
			in:   "ARG BASE=nginx:1\nFROM ${BASE} AS a\nFROM alpine:3\nARG BASE\nENV IMG=$BASE\nCOPY --from=${IMG}-x / /\n",
			want: []sharedView{
				{2, "${BASE}", "", "1>6"},
				{3, "alpine:3", "alpine:3", ""},
				{6, "${IMG}-x", "", ""},
			},
		},
		{
			name: "stage ENV default shared with a suffix",
			in:   "FROM alpine:3\nENV IMG=busybox:1\nCOPY --from=${IMG} / /\nRUN --mount=from=${IMG}-musl,target=/x true\n",
			want: []sharedView{
				{1, "alpine:3", "alpine:3", ""},
				{3, "${IMG}", "", "2>4"},
				{4, "${IMG}-musl", "", ""},
			},
		},
		{
			name: "the default names a stage elsewhere",
			in:   "ARG BASE=builder\nFROM ${BASE} AS first\nFROM golang:1 AS builder\nFROM alpine:3\nARG BASE\nCOPY --from=${BASE} / /\n",
			want: []sharedView{
				{2, "${BASE}", "", "1>6"},
				{3, "golang:1", "golang:1", ""},
				{4, "alpine:3", "alpine:3", ""},
			},
		},
		{
			name: "single quotes and escapes do not expand",
			in:   "ARG BASE=nginx:1\nARG A='${BASE}-x' B=\\$BASE-y\nFROM ${BASE}\n",
			want: []sharedView{{3, "${BASE}", "nginx:1", ""}},
		},
		{
			name: "ONBUILD triggers do not read global defaults",
			in:   "ARG BASE=nginx:1\nFROM ${BASE}\nONBUILD COPY --from=${BASE}-x / /\n",
			want: []sharedView{
				{2, "${BASE}", "nginx:1", ""},
				{3, "${BASE}-x", "", ""},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			data := []byte(tt.in)
			res, err := Scan("Dockerfile", data)
			if err != nil {
				t.Fatalf("Scan: %v", err)
			}
			checkResult(t, data, res)
			var got []sharedView
			for _, r := range res.Refs {
				v := sharedView{Line: r.Line, Text: r.Text, Note: noteLines(r.NotEditable)}
				if r.Edit != nil {
					v.Edit = string(data[r.Edit.Start:r.Edit.End])
				}
				got = append(got, v)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestSharedDefaultsInstructions: every instruction that reads a default
// re-declared in a stage, as BuildKit substitutes it or as a shell expands
// it, keeps the default unpinned when it reads it inside a longer value,
// and leaves it pinnable when it takes it whole.
func TestSharedDefaultsInstructions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, body string
		// use is the line and word the reason names; "" when the
		// default stays pinnable.
		use string
	}{
		{"RUN, quoted suffix", `RUN docker pull "${B}-alpine"`, `5 in "${B}-alpine"`},
		{"RUN, whole word in quotes", `RUN docker pull "${B}" && echo $B`, ""},
		{"RUN, inside a longer quoted string", `RUN echo "FROM $B" > Dockerfile`, `5 in "FROM $B"`},
		{"RUN, in an assignment", `RUN X=$B; docker pull $X-alpine`, `5 in X=$B`},
		{"RUN, single quotes may reach another shell", `RUN sh -c 'docker pull $B-alpine'`, `5 in 'docker pull $B-alpine'`},
		{"RUN, escaped", `RUN sh -c "docker pull \$B"`, `5 in "docker pull \$B"`},
		{"RUN, pattern operator", `RUN echo ${B%:*}`, `5 in ${B%:*}`},
		{"RUN, default operator", `RUN echo ${B:-x}`, `5 in ${B:-x}`},
		{"RUN, length", `RUN echo ${#B}`, `5 in ${#B}`},
		{"RUN, alternative value only asks whether it is set", `RUN echo ${B:+set} ${B+set}`, ""},
		{"RUN, a variable with a longer name", `RUN echo $BB-x ${B_X}-y`, ""},
		{"RUN continued over lines", "RUN true && \\\n  docker pull ${B}-alpine", `6 in ${B}-alpine`},
		{"RUN heredoc", "RUN <<EOF\necho hi\necho ${B}-alpine\nEOF", `7 in ${B}-alpine`},
		{"RUN heredoc, quoted delimiter", "RUN <<'EOF'\necho $B-alpine\nEOF", `6 in $B-alpine`},
		{"RUN heredoc, whole", "RUN <<EOF\ndocker pull $B\nEOF", ""},
		{"RUN exec form", `RUN ["sh", "-c", "docker pull $B-alpine"]`, `5 in $B-alpine`},
		{"RUN exec form, whole", `RUN ["docker", "pull", "$B"]`, ""},
		{"RUN --mount field", `RUN --mount=type=cache,id=${B}-c,target=/c true`, `5 in ${B}-c`},
		{"RUN --network", `RUN --network=${B}x true`, `5 in ${B}x`},
		{"LABEL value", `LABEL desc="built on ${B}-alpine"`, `5 in "built on ${B}-alpine"`},
		{"LABEL value, whole", `LABEL base=${B} other="$B"`, ""},
		{"LABEL key", `LABEL ${B}x=1`, `5 in ${B}x`},
		{"LABEL, old form", `LABEL desc built on $B`, `5 in built on $B`},
		{"LABEL, single quotes do not expand", `LABEL desc='on ${B}-x' e=\$B-y`, ""},
		{"ENV", `ENV X=${B}-slim`, `5 in ${B}-slim`},
		{"ADD source", `ADD ${B}.tar /`, `5 in ${B}.tar`},
		{"COPY source, exec form", `COPY ["${B}-x", "/d"]`, `5 in ${B}-x`},
		{"COPY destination, whole", `COPY a ${B}`, ""},
		{"COPY --chown", `COPY --chown=${B}x a /`, `5 in ${B}x`},
		{"COPY heredoc", "COPY <<EOF /f\nimage=$B-x\nEOF", `6 in image=$B-x`},
		{"WORKDIR", `WORKDIR /w/${B}`, `5 in /w/${B}`},
		{"USER", `USER ${B}:x`, `5 in ${B}:x`},
		{"EXPOSE", `EXPOSE ${B}0`, `5 in ${B}0`},
		{"VOLUME", `VOLUME /v/$B`, `5 in /v/$B`},
		{"STOPSIGNAL", `STOPSIGNAL SIG${B}`, `5 in SIG${B}`},
		{"HEALTHCHECK", `HEALTHCHECK CMD check ${B}-x`, `5 in ${B}-x`},
		{"CMD, shell form", `CMD docker run $B-x`, `5 in $B-x`},
		{"CMD, exec form", `CMD ["sh", "-c", "echo $B-x"]`, `5 in $B-x`},
		{"ENTRYPOINT", `ENTRYPOINT exec run "$B"x`, `5 in "$B"x`},
		{"ONBUILD: the downstream build sees no ARG", `ONBUILD RUN docker pull $B-x`, ""},
		{"ONBUILD: but the image's ENV", "ENV E=$B\nONBUILD LABEL d=$E-x", `6 in d=$E-x`},
		{"ONBUILD heredoc: no ARG either", "ONBUILD RUN <<EOF\ndocker pull $B-x\nEOF", ""},
		{"ONBUILD heredoc: the image's ENV", "ENV E=$B\nONBUILD RUN <<EOF\ndocker pull $E-x\nEOF", `7 in $E-x`},
		{"RUN through ENV", "ENV E=$B\nRUN docker pull \"$E\"-x", `6 in "$E"-x`},
		{"before the stage re-declares it", "RUN echo $B-x\nARG B", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			in := "ARG B=nginx:1\nFROM ${B} AS a\nFROM alpine:3\nARG B\n" + tt.body + "\n"
			if strings.HasPrefix(tt.name, "before") {
				in = "ARG B=nginx:1\nFROM ${B} AS a\nFROM alpine:3\n" + tt.body + "\n"
			}
			data := []byte(in)
			res, err := Scan("Dockerfile", data)
			if err != nil {
				t.Fatalf("Scan: %v", err)
			}
			checkResult(t, data, res)
			checkPinKeepsReferences(t, data, res)
			r := res.Refs[0]
			want := sharedView{Line: 2, Text: "${B}", Edit: "nginx:1"}
			got := sharedView{Line: r.Line, Text: r.Text}
			if r.Edit != nil {
				got.Edit = string(data[r.Edit.Start:r.Edit.End])
			}
			if tt.use != "" {
				want.Edit = ""
				want.Note = "its value, the default at line 1, is also used at line " + tt.use +
					", which a digest appended to it would break; give this reference a variable of its own to pin it"
				got.Note = r.NotEditable
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("%s(-want +got):\n%s", in, diff)
			}
		})
	}
}

// TestNotEditable: where the scanner knows why a reference has no edit
// span and neither Text nor Dynamic shows it, NotEditable says so.
func TestNotEditable(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		// want is NotEditable of each reference, in order.
		want []string
	}{
		{
			name: "shared default",
			in:   "ARG BASE=nginx:1\nFROM ${BASE} AS a\nFROM ${BASE}-alpine\n",
			want: []string{
				"its value, the default at line 1, is also used at line 3 in ${BASE}-alpine, which a digest appended to it would break; " +
					"give this reference a variable of its own to pin it",
				"", // assembled from variables: Text shows it
			},
		},
		{
			name: "split by a line continuation",
			in:   "FROM nginx:\\\n1\n",
			want: []string{"it is split across lines by a line continuation; join it on one line to pin it"},
		},
		{
			name: "quotes inside",
			in:   "FROM alpine:3\nCOPY --from=ngi\"nx\":1 / /\nFROM ngi\"nx:1\"\n",
			want: []string{
				"",
				"it is written with quotes or escape characters inside it; write it plainly to pin it",
				"it is written with quotes or escape characters inside it; write it plainly to pin it",
			},
		},
		{
			name: "default built from variables",
			in:   "ARG REG=ghcr.io\nARG BASE=${REG}/o/app:1\nFROM ${BASE}\n",
			want: []string{"its value, set by ARG BASE at line 2, is built from other variables, so there is no one place for a digest; " +
				"write the whole reference as one literal default to pin it"},
		},
		{
			name: "default with quotes inside, and split by a continuation",
			in:   "ARG A=ngi\"nx:1\" \\\n B=ngi\\\nnx:1\nFROM ${A}\nFROM ${B}\n",
			want: []string{
				"its value, set by ARG A at line 1, is written with quotes or escape characters inside it, so there is no one place for a digest; " +
					"write the whole reference as one literal default to pin it",
				"its value, set by ARG B at line 2, is split across lines by a line continuation, so there is no one place for a digest; " +
					"write the whole reference as one literal default to pin it",
			},
		},
		{
			name: "ENV value built from variables",
			in:   "FROM alpine:3\nARG V=1\nENV IMG=nginx:${V}\nCOPY --from=${IMG} / /\n",
			want: []string{"", "its value, set by ENV IMG at line 3, is built from other variables, so there is no one place for a digest; " +
				"write the whole reference as one literal default to pin it"},
		},
		{
			name: "inline default built from variables",
			in:   "ARG V=1\nFROM ${BASE:-nginx:$V}\n",
			want: []string{"its value, the default inside ${BASE:-nginx:$V}, is not one plain literal " +
				"(it is built from variables, or quoted, escaped or split across lines), so there is no one place for a digest"},
		},
		{
			name: "a copy of another default",
			in:   "ARG BASE=nginx:1\nARG COPY=${BASE}\nFROM ${COPY}\n",
			want: []string{"its value is copied from another variable, whose default at line 1 is where a digest would go; read that variable here to pin it"},
		},
		{
			name: "read through an operator",
			in:   "ARG BASE=docker.io/library/nginx:1\nFROM ${BASE#docker.io/}\n",
			want: []string{"it reads BASE through the # operator of ${BASE#docker.io/}, so its value is written nowhere as it is; " +
				"write the reference as one ARG default (ARG BASE=…, FROM ${BASE}) to pin it"},
		},
		{
			name: "editable and dynamic references have none",
			in:   "ARG BASE=nginx:1\nARG FREE\nFROM ${BASE}\nFROM ${FREE}\nFROM alpine:3\n",
			want: []string{"", "", ""},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			data := []byte(tt.in)
			res, err := Scan("Dockerfile", data)
			if err != nil {
				t.Fatal(err)
			}
			checkResult(t, data, res)
			var got []string
			for _, r := range res.Refs {
				got = append(got, r.NotEditable)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("NotEditable (-want +got):\n%s", diff)
			}
		})
	}
}

func TestInvalidExpansion(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		in        string
		line, col int
		msg       string
		want      []refView
	}{
		{
			name: "suffix after a default that holds a digest",
			in:   "ARG BASE=127.0.0.1:5555/t/base:1@" + digest + "\nFROM ${BASE} AS a\nFROM ${BASE}-alpine AS b\n",
			line: 3, col: 6,
			msg: `FROM ${BASE}-alpine expands to "127.0.0.1:5555/t/base:1@` + digest + `-alpine" with the defaults in this file (a digest must end a reference): not an image reference`,
			// The default already holds a digest: update may replace it.
			want: []refView{{"2:6-2:13", "${BASE}", "127.0.0.1:5555/t/base", "1", digest, false, "FROM", "127.0.0.1:5555/t/base:1@" + digest}},
		},
		{
			name: "tag after a name that holds a digest",
			in:   "ARG IMG=nginx@" + digest + "\nARG V=1\nFROM ${IMG}:${V}\nFROM ${IMG}\n",
			line: 3, col: 6,
			msg:  `FROM ${IMG}:${V} expands to "nginx@` + digest + `:1" with the defaults in this file (a digest must end a reference): not an image reference`,
			want: []refView{{"4:6-4:12", "${IMG}", "docker.io/library/nginx", "", digest, false, "FROM", "nginx@" + digest}},
		},
		{
			name: "COPY --from and RUN --mount in a stage, counted",
			in:   "ARG IMG=busybox:1@" + digest + "\nFROM alpine:3\nARG IMG\nCOPY --from=${IMG}-musl / /\nRUN --mount=from=${IMG}x,target=/x true\n",
			line: 4, col: 13,
			msg:  `COPY --from ${IMG}-musl expands to "busybox:1@` + digest + `-musl" with the defaults in this file (a digest must end a reference): not an image reference (and 1 more in this file)`,
			want: []refView{{"2:6-2:14", "alpine:3", "docker.io/library/alpine", "3", "", false, "FROM", "alpine:3"}},
		},
		{
			name: "upper case from a variable",
			in:   "ARG NAME=Nginx\nFROM ${NAME}:1\n",
			line: 2, col: 6,
			msg: `FROM ${NAME}:1 expands to "Nginx:1" with the defaults in this file: not an image reference`,
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
			if !errors.Is(err, ref.ErrNotImage) {
				t.Errorf("error %v does not wrap ref.ErrNotImage", err)
			}
			if se.File != "dir/Dockerfile" || se.Line != tt.line || se.Column != tt.col {
				t.Errorf("error at %s:%d:%d, want dir/Dockerfile:%d:%d", se.File, se.Line, se.Column, tt.line, tt.col)
			}
			if got := se.Err.Error(); got != tt.msg {
				t.Errorf("message\n got %s\nwant %s", got, tt.msg)
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

func TestEmptyDefaultIsDynamic(t *testing.T) {
	t.Parallel()
	data := []byte("ARG TAG=\"\" BASE=\nFROM app:${TAG}\nFROM ${BASE}\nFROM ghcr.io/o/app:${TAG:-1}\n")
	res, err := Scan("Dockerfile", data)
	if err != nil {
		t.Fatalf("Scan: %v", err)
	}
	want := []refView{
		{"2:6-2:16", "app:${TAG}", "", "", "", true, "FROM", ""},
		{"3:6-3:13", "${BASE}", "", "", "", true, "FROM", ""},
		{"4:6-4:29", "ghcr.io/o/app:${TAG:-1}", "ghcr.io/o/app", "1", "", false, "FROM", ""},
	}
	if diff := cmp.Diff(want, viewRefs(data, res.Refs)); diff != "" {
		t.Errorf("refs (-want +got):\n%s", diff)
	}
	checkResult(t, data, res)
}

// TestPinKeepsReferences pins every edit span of Dockerfiles that read one
// ARG default in many ways and places, and checks that the result still
// scans with every reference intact (see checkPinKeepsReferences).
func TestPinKeepsReferences(t *testing.T) {
	t.Parallel()
	defaults := []string{"nginx:1", "nginx", `"nginx:1"`, "'nginx:1'", "127.0.0.1:5000/a/b:1", "builder", "ghcr.io/o/app@" + digest}
	uses := []string{
		"${B}", "$B", `"${B}"`, "${B}-x", "${B:-y}", "${B-y}", "${B:-y}-x", "${B:+z}", "x${B:+-z}:1",
		"${B#*:}", "${B%:*}", "${B/1/2}", "${B?e}", "${B:?e}", "${X:-${B}}", "${X:+${B}}", "${B}${B}", "${B}:2", "${B}/sub",
	}
	places := []func(use string) string{
		func(u string) string { return "FROM " + u + "\n" },
		func(u string) string { return "FROM alpine:3\nARG B\nCOPY --from=" + u + " / /\n" },
		func(u string) string { return "FROM alpine:3\nARG B\nRUN --mount=from=" + u + ",target=/m true\n" },
		func(u string) string { return "FROM alpine:3\nARG B\nENV E=" + u + "\nCOPY --from=$E / /\n" },
		func(u string) string {
			return "FROM alpine:3\nARG B\nARG S=" + u + "\nRUN --mount=from=${S}-q,target=/m true\n"
		},
		func(u string) string { return "FROM alpine:3\nARG B\nRUN docker pull " + u + "\n" },
		func(u string) string { return "FROM alpine:3\nARG B\nRUN <<EOF\ndocker pull " + u + "\nEOF\n" },
		func(u string) string { return "FROM alpine:3\nARG B\nLABEL l=" + u + "\n" },
		func(u string) string { return "FROM alpine:3\nARG B\nENV E=" + u + "\nRUN echo $E-x\n" },
	}
	// read is the word whose value a pin must leave alone or only extend
	// by the digest, for the places that read the use as text.
	read := map[int]func(use string) string{
		5: func(u string) string { return u },
		6: func(u string) string { return u },
		7: func(u string) string { return u },
		8: func(u string) string { return u + "-x" },
	}
	globals := []func(use string) string{
		func(u string) string { return "" },
		func(u string) string { return "ARG C=" + u + "\n" },
	}
	for _, def := range defaults {
		for _, use := range uses {
			for pi, place := range places {
				for gi, global := range globals {
					in := "ARG X\nARG B=" + def + "\n" + global(use) + "FROM ${B} AS first\nFROM golang:1 AS builder\n" + place(use)
					if gi == 1 {
						in += "FROM $C\nFROM ${C}-q\n"
					}
					name := fmt.Sprintf("%s/%s/%d/%d", def, use, pi, gi)
					data := []byte(in)
					res, err := Scan("Dockerfile", data)
					if err != nil {
						// Some combinations do not expand to a reference
						// before any pin; they are TestInvalidExpansion's.
						if !errors.Is(err, ref.ErrNotImage) {
							t.Errorf("%s: Scan: %v", name, err)
						}
						continue
					}
					t.Run(name, func(t *testing.T) {
						checkResult(t, data, res)
						checkPinKeepsReferences(t, data, res)
						if word, ok := read[pi]; ok {
							checkTextKept(t, data, res, def, word(use))
						}
					})
				}
			}
		}
	}
}

// checkTextKept checks that when the default def of B (line 2) is pinned,
// the value of word, an instruction's use of B, is unchanged or only gains
// the digest.
func checkTextKept(t *testing.T, data []byte, res *scan.Result, def, word string) {
	t.Helper()
	pinned := slices.ContainsFunc(res.Refs, func(r ref.Ref) bool { return r.Edit != nil && r.Edit.Line == 2 && r.Digest == "" })
	if !pinned {
		return
	}
	lex := shell.NewLex('\\')
	expand := func(v string) (string, bool) {
		sc := newScope(unset)
		sc.vars["B"] = &variable{state: static, value: v}
		out, _, err := lex.ProcessWord(word, sc)
		return out, err == nil
	}
	v := strings.Trim(def, `"'`)
	before, ok1 := expand(v)
	after, ok2 := expand(v + "@" + digest)
	if ok1 && ok2 && after != before && after != before+"@"+digest {
		t.Errorf("the default is pinned, but %s reads %q for %q:\n%s", word, after, before, data)
	}
}

// TestInvalidLiteral: a reference written out in full that is no image
// reference is an error at its place, beside everything else found.
func TestInvalidLiteral(t *testing.T) {
	t.Parallel()
	alpine := refView{"1:6-1:14", "alpine:3", "docker.io/library/alpine", "3", "", false, "FROM", "alpine:3"}
	tests := []struct {
		name      string
		in        string
		line, col int
		msg       string
		want      []refView
	}{
		{
			name: "upper case name",
			in:   "FROM alpine:3\nFROM NGINX:1\n",
			line: 2, col: 6,
			msg:  "FROM NGINX:1: its repository name must be lowercase: not an image reference",
			want: []refView{alpine},
		},
		{
			name: "short digest",
			in:   "FROM alpine:3\nFROM nginx:1@sha256:short AS web\n",
			line: 2, col: 6,
			msg:  `FROM nginx:1@sha256:short: its digest "sha256:short" is invalid (a digest is sha256: and 64 lowercase hex digits): not an image reference`,
			want: []refView{alpine},
		},
		{
			name: "empty digest and empty tag",
			in:   "FROM alpine:3\nFROM nginx@\nFROM nginx:\n",
			line: 2, col: 6,
			msg:  "FROM nginx@: its digest is empty: not an image reference (and 1 more in this file)",
			want: []refView{alpine},
		},
		{
			name: "invalid tag",
			in:   "FROM alpine:3\nCOPY --from=nginx:-1 / /\n",
			line: 2, col: 13,
			msg:  `COPY --from nginx:-1: its tag "-1" is invalid: not an image reference`,
			want: []refView{alpine},
		},
		{
			name: "no stage of that name",
			in:   "FROM alpine:3 AS build\nCOPY --from=Biuld / /\n",
			line: 2, col: 13,
			msg:  "COPY --from Biuld: it names no stage of this file; as an image, its repository name must be lowercase: not an image reference",
			want: []refView{alpine},
		},
		{
			name: "a FROM naming a later stage",
			in:   "FROM alpine:3\nFROM Final\nFROM alpine:3 AS final\n",
			line: 2, col: 6,
			msg:  "FROM Final: a FROM can only name an earlier stage, and final comes later; as an image, its repository name must be lowercase: not an image reference",
			want: []refView{alpine, {"3:6-3:14", "alpine:3", "docker.io/library/alpine", "3", "", false, "FROM", "alpine:3"}},
		},
		{
			name: "RUN --mount from",
			in:   "FROM alpine:3\nRUN --mount=from=Tools:1,target=/t true\n",
			line: 2, col: 18,
			msg:  "RUN --mount from Tools:1: its repository name must be lowercase: not an image reference",
			want: []refView{alpine},
		},
		{
			name: "invalid name",
			in:   "FROM alpine:3\nFROM nginx__x--:1\n",
			line: 2, col: 6,
			msg:  "FROM nginx__x--:1: its name is invalid: not an image reference",
			want: []refView{alpine},
		},
		{
			name: "ONBUILD: what cannot be a stage name",
			in:   "FROM alpine:3\nONBUILD COPY --from=Tools:1 / /\n",
			line: 2, col: 21,
			msg:  "COPY --from Tools:1: its repository name must be lowercase: not an image reference",
			want: []refView{alpine},
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
			if !errors.Is(err, ref.ErrNotImage) {
				t.Errorf("error %v does not wrap ref.ErrNotImage", err)
			}
			if se.File != "dir/Dockerfile" || se.Line != tt.line || se.Column != tt.col {
				t.Errorf("error at %s:%d:%d, want dir/Dockerfile:%d:%d", se.File, se.Line, se.Column, tt.line, tt.col)
			}
			if got := se.Err.Error(); got != tt.msg {
				t.Errorf("message\n got %s\nwant %s", got, tt.msg)
			}
			if res == nil {
				t.Fatal("no result beside the error")
			}
			checkResult(t, data, res)
			if diff := cmp.Diff(tt.want, viewRefs(data, res.Refs)); diff != "" {
				t.Errorf("refs (-want +got):\n%s", diff)
			}
		})
	}
}
