package dockerfile

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/stet-dev/stet/ref"
	"github.com/stet-dev/stet/scan"
)

// refView is a reference as the tables state it: Pos is
// "line:col-endLine:endCol", Edit the bytes of the edit span ("" for none).
type refView struct {
	Pos, Text, Name, Tag, Digest string
	Dynamic                      bool
	Context, Edit                string
}

func viewRefs(data []byte, refs []ref.Ref) []refView {
	var out []refView
	for _, r := range refs {
		v := refView{
			Pos:  fmt.Sprintf("%d:%d-%d:%d", r.Line, r.Column, r.EndLine, r.EndColumn),
			Text: r.Text, Name: r.Name, Tag: r.Tag, Digest: r.Digest, Dynamic: r.Dynamic, Context: r.Context,
		}
		if r.Edit != nil {
			v.Edit = string(data[r.Edit.Start:r.Edit.End])
		}
		out = append(out, v)
	}
	return out
}

const digest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

func TestScanRefs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want []refView
	}{
		{
			name: "plain FROM",
			in:   "FROM nginx:1-alpine\n",
			want: []refView{{"1:6-1:20", "nginx:1-alpine", "docker.io/library/nginx", "1-alpine", "", false, "FROM", "nginx:1-alpine"}},
		},
		{
			name: "platform flag, stage name, FROM of a stage",
			in:   "FROM --platform=$BUILDPLATFORM golang:1.22 AS build\nFROM build AS final\n",
			want: []refView{{"1:32-1:43", "golang:1.22", "docker.io/library/golang", "1.22", "", false, "FROM", "golang:1.22"}},
		},
		{
			name: "scratch and a stage named like an image later",
			in:   "FROM scratch\nFROM alpine AS alpine\nFROM alpine\n",
			want: []refView{{"2:6-2:12", "alpine", "docker.io/library/alpine", "latest", "", false, "FROM", "alpine"}},
		},
		{
			name: "COPY --from stage index, stage name, image",
			in:   "FROM alpine:3 AS build\nFROM busybox:1\nCOPY --from=0 /a /a\nCOPY --from=build /b /b\nCOPY --from=nginx:latest /c /c\nCOPY --chown=1:1 --from=ghcr.io/o/img:2 --link /d /d\n",
			want: []refView{
				{"1:6-1:14", "alpine:3", "docker.io/library/alpine", "3", "", false, "FROM", "alpine:3"},
				{"2:6-2:15", "busybox:1", "docker.io/library/busybox", "1", "", false, "FROM", "busybox:1"},
				{"5:13-5:25", "nginx:latest", "docker.io/library/nginx", "latest", "", false, "COPY --from", "nginx:latest"},
				{"6:25-6:40", "ghcr.io/o/img:2", "ghcr.io/o/img", "2", "", false, "COPY --from", "ghcr.io/o/img:2"},
			},
		},
		{
			name: "COPY --from a stage defined later",
			in:   "FROM alpine:3\nCOPY --from=later /a /a\nFROM alpine:3 AS later\n",
			want: []refView{
				{"1:6-1:14", "alpine:3", "docker.io/library/alpine", "3", "", false, "FROM", "alpine:3"},
				{"3:6-3:14", "alpine:3", "docker.io/library/alpine", "3", "", false, "FROM", "alpine:3"},
			},
		},
		{
			name: "ADD --from",
			in:   "FROM alpine:3\nADD --from=nginx:1 /etc/nginx /etc/nginx\n",
			want: []refView{
				{"1:6-1:14", "alpine:3", "docker.io/library/alpine", "3", "", false, "FROM", "alpine:3"},
				{"2:12-2:19", "nginx:1", "docker.io/library/nginx", "1", "", false, "COPY --from", "nginx:1"},
			},
		},
		{
			name: "RUN --mount from in any key order",
			in: "FROM golang:1 AS build\nFROM alpine:3\n" +
				"RUN --mount=type=bind,from=busybox:1,target=/x true\n" +
				"RUN --mount=from=build,target=/y --mount=target=/z,type=cache,FROM=ghcr.io/a/b@" + digest + " true\n",
			want: []refView{
				{"1:6-1:14", "golang:1", "docker.io/library/golang", "1", "", false, "FROM", "golang:1"},
				{"2:6-2:14", "alpine:3", "docker.io/library/alpine", "3", "", false, "FROM", "alpine:3"},
				{"3:28-3:37", "busybox:1", "docker.io/library/busybox", "1", "", false, "RUN --mount from", "busybox:1"},
				{"4:68-4:151", "ghcr.io/a/b@" + digest, "ghcr.io/a/b", "", digest, false, "RUN --mount from", "ghcr.io/a/b@" + digest},
			},
		},
		{
			name: "quoted mount field",
			in:   "FROM alpine:3\nRUN --mount=type=bind,\"from=busybox:1\" true\n",
			want: []refView{
				{"1:6-1:14", "alpine:3", "docker.io/library/alpine", "3", "", false, "FROM", "alpine:3"},
				{"2:29-2:38", "busybox:1", "docker.io/library/busybox", "1", "", false, "RUN --mount from", "busybox:1"},
			},
		},
		{
			name: "syntax directive",
			in:   "# syntax = docker/dockerfile:1.7 \n# escape=\\\nFROM alpine:3\n",
			want: []refView{
				{"1:12-1:33", "docker/dockerfile:1.7", "docker.io/docker/dockerfile", "1.7", "", false, "# syntax", "docker/dockerfile:1.7"},
				{"3:6-3:14", "alpine:3", "docker.io/library/alpine", "3", "", false, "FROM", "alpine:3"},
			},
		},
		{
			name: "syntax directive with options and after a shebang",
			in:   "#!/usr/bin/env buildctl\n#syntax=docker/dockerfile:1 opt=1\nFROM alpine:3\n",
			want: []refView{
				{"2:9-2:28", "docker/dockerfile:1", "docker.io/docker/dockerfile", "1", "", false, "# syntax", "docker/dockerfile:1"},
				{"3:6-3:14", "alpine:3", "docker.io/library/alpine", "3", "", false, "FROM", "alpine:3"},
			},
		},
		{
			name: "syntax comment after other comments is no directive",
			in:   "# build me\n# syntax=docker/dockerfile:1\nFROM alpine:3\n",
			want: []refView{{"3:6-3:14", "alpine:3", "docker.io/library/alpine", "3", "", false, "FROM", "alpine:3"}},
		},
		{
			name: "ONBUILD forms",
			in:   "FROM alpine:3\nONBUILD COPY --from=nginx:1 /a /a\nONBUILD RUN --mount=from=busybox:1,target=/b true\nONBUILD FROM debian:12\nONBUILD COPY --from=$IMG /a /a\n",
			want: []refView{
				{"1:6-1:14", "alpine:3", "docker.io/library/alpine", "3", "", false, "FROM", "alpine:3"},
				{"2:21-2:28", "nginx:1", "docker.io/library/nginx", "1", "", false, "COPY --from", "nginx:1"},
				{"3:26-3:35", "busybox:1", "docker.io/library/busybox", "1", "", false, "RUN --mount from", "busybox:1"},
				{"4:14-4:23", "debian:12", "docker.io/library/debian", "12", "", false, "FROM", "debian:12"},
				{"5:21-5:25", "$IMG", "", "", "", true, "COPY --from", ""},
			},
		},
		{
			// Read with the default, but not pinned in place: a digest
			// there would override any GO_VERSION a build passes.
			name: "global ARG in a tag",
			in:   "ARG GO_VERSION=1.22\nFROM golang:${GO_VERSION}-alpine\n",
			want: []refView{{"2:6-2:33", "golang:${GO_VERSION}-alpine", "docker.io/library/golang", "1.22-alpine", "", false, "FROM", ""}},
		},
		{
			name: "whole reference from an ARG: the edit is the default",
			in:   "ARG BASE=nginx:1\nARG QUOTED=\"nginx:2\" SINGLE='nginx:3'\nFROM ${BASE}\nFROM $QUOTED\nFROM \"${SINGLE}\"\n",
			want: []refView{
				{"3:6-3:13", "${BASE}", "docker.io/library/nginx", "1", "", false, "FROM", "nginx:1"},
				{"4:6-4:13", "$QUOTED", "docker.io/library/nginx", "2", "", false, "FROM", "nginx:2"},
				{"5:7-5:16", "${SINGLE}", "docker.io/library/nginx", "3", "", false, "FROM", "nginx:3"},
			},
		},
		{
			name: "ARG default built from variables has no edit",
			in:   "ARG REG=ghcr.io/o\nARG BASE=$REG/app:1\nFROM $BASE\n",
			want: []refView{{"3:6-3:11", "$BASE", "ghcr.io/o/app", "1", "", false, "FROM", ""}},
		},
		{
			name: "several ARGs on one line",
			in:   "ARG IMG=alpine TAG=3.20\nFROM $IMG:$TAG\n",
			want: []refView{{"2:6-2:15", "$IMG:$TAG", "docker.io/library/alpine", "3.20", "", false, "FROM", ""}},
		},
		{
			name: "ARG without default is dynamic, inline default is static",
			in:   "ARG BASE\nFROM $BASE\nFROM ${BASE:-nginx:1}\nFROM ${BASE-nginx:2}\nFROM nginx${BASE:+-x}:3\n",
			want: []refView{
				{"2:6-2:11", "$BASE", "", "", "", true, "FROM", ""},
				{"3:6-3:22", "${BASE:-nginx:1}", "docker.io/library/nginx", "1", "", false, "FROM", "nginx:1"},
				{"4:6-4:21", "${BASE-nginx:2}", "docker.io/library/nginx", "2", "", false, "FROM", "nginx:2"},
				{"5:6-5:24", "nginx${BASE:+-x}:3", "docker.io/library/nginx", "3", "", false, "FROM", ""},
			},
		},
		{
			name: "default ignored when the ARG has a value",
			in:   "ARG BASE=nginx:1\nFROM ${BASE:-nginx:9}\n",
			want: []refView{{"2:6-2:22", "${BASE:-nginx:9}", "docker.io/library/nginx", "1", "", false, "FROM", "nginx:1"}},
		},
		{
			name: "stage ARG inherits the global default for COPY --from",
			in:   "ARG IMG=busybox:1\nFROM alpine:3\nARG IMG\nCOPY --from=$IMG /a /a\n",
			want: []refView{
				{"2:6-2:14", "alpine:3", "docker.io/library/alpine", "3", "", false, "FROM", "alpine:3"},
				{"4:13-4:17", "$IMG", "docker.io/library/busybox", "1", "", false, "COPY --from", "busybox:1"},
			},
		},
		{
			name: "global ARG not re-declared in the stage is unknown there",
			in:   "ARG IMG=busybox:1\nFROM alpine:3\nCOPY --from=$IMG /a /a\nRUN --mount=from=${IMG},target=/x true\n",
			want: []refView{
				{"2:6-2:14", "alpine:3", "docker.io/library/alpine", "3", "", false, "FROM", "alpine:3"},
				{"3:13-3:17", "$IMG", "", "", "", true, "COPY --from", ""},
				{"4:18-4:24", "${IMG}", "", "", "", true, "RUN --mount from", ""},
			},
		},
		{
			name: "stage ARG and ENV values",
			in:   "FROM alpine:3\nARG TOOL=ghcr.io/o/tool:1\nENV HELPER=busybox:1.36\nCOPY --from=$TOOL /a /a\nRUN --mount=from=$HELPER,target=/h true\n",
			want: []refView{
				{"1:6-1:14", "alpine:3", "docker.io/library/alpine", "3", "", false, "FROM", "alpine:3"},
				{"4:13-4:18", "$TOOL", "ghcr.io/o/tool", "1", "", false, "COPY --from", "ghcr.io/o/tool:1"},
				{"5:18-5:25", "$HELPER", "docker.io/library/busybox", "1.36", "", false, "RUN --mount from", "busybox:1.36"},
			},
		},
		{
			name: "stage ARG does not reach the next FROM",
			in:   "FROM alpine:3\nARG NEXT=nginx:1\nFROM $NEXT\n",
			want: []refView{
				{"1:6-1:14", "alpine:3", "docker.io/library/alpine", "3", "", false, "FROM", "alpine:3"},
				{"3:6-3:11", "$NEXT", "", "", "", true, "FROM", ""},
			},
		},
		{
			name: "platform arguments are dynamic",
			in:   "ARG TARGETARCH=amd64\nFROM alpine:$TARGETARCH\nFROM --platform=$TARGETPLATFORM ${TARGETOS}/img\n",
			want: []refView{
				{"2:6-2:24", "alpine:$TARGETARCH", "docker.io/library/alpine", "", "", true, "FROM", ""},
				{"3:33-3:48", "${TARGETOS}/img", "", "", "", true, "FROM", ""},
			},
		},
		{
			name: "partly dynamic: the static registry is kept",
			in:   "ARG REGISTRY=ghcr.io/acme\nARG TAG\nFROM ${REGISTRY}/app:${TAG}\nFROM ${MIRROR}/app:1\n",
			want: []refView{
				{"3:6-3:28", "${REGISTRY}/app:${TAG}", "ghcr.io/acme/app", "", "", true, "FROM", ""},
				{"4:6-4:21", "${MIRROR}/app:1", "", "", "", true, "FROM", ""},
			},
		},
		{
			name: "dynamic name with a written digest is pinned",
			in:   "ARG IMG\nFROM ${IMG}@" + digest + "\n",
			want: []refView{{"2:6-2:84", "${IMG}@" + digest, "", "", digest, true, "FROM", ""}},
		},
		{
			name: "digest pins",
			in:   "FROM nginx@" + digest + "\nFROM nginx:1.27@" + digest + "\n",
			want: []refView{
				{"1:6-1:83", "nginx@" + digest, "docker.io/library/nginx", "", digest, false, "FROM", "nginx@" + digest},
				{"2:6-2:88", "nginx:1.27@" + digest, "docker.io/library/nginx", "1.27", digest, false, "FROM", "nginx:1.27@" + digest},
			},
		},
		{
			name: "digest inside an ARG cannot take another one",
			in:   "ARG V=1.27@" + digest + "\nFROM nginx:$V\n",
			want: []refView{{"2:6-2:14", "nginx:$V", "docker.io/library/nginx", "1.27", digest, false, "FROM", ""}},
		},
		{
			name: "stage selected by a platform argument is no image",
			in:   "FROM alpine:3 AS binaries-linux\nFROM alpine:3 AS binaries-darwin\nFROM binaries-$TARGETOS\nFROM scratch AS out\nCOPY --from=binaries-$TARGETOS / /\n",
			want: []refView{
				{"1:6-1:14", "alpine:3", "docker.io/library/alpine", "3", "", false, "FROM", "alpine:3"},
				{"2:6-2:14", "alpine:3", "docker.io/library/alpine", "3", "", false, "FROM", "alpine:3"},
			},
		},
		{
			name: "stage selected by an ARG default",
			in:   "ARG MODE=prod\nFROM alpine:3 AS base-prod\nFROM base-${MODE}\n",
			want: []refView{{"2:6-2:14", "alpine:3", "docker.io/library/alpine", "3", "", false, "FROM", "alpine:3"}},
		},
		{
			name: "continuation between FROM and the image",
			in:   "FROM \\\n    nginx:1 \\\n    AS web\n",
			want: []refView{{"2:5-2:12", "nginx:1", "docker.io/library/nginx", "1", "", false, "FROM", "nginx:1"}},
		},
		{
			name: "continuation inside the reference",
			in:   "FROM ngi\\\nnx:1\n",
			want: []refView{{"1:6-2:5", "ngi\\\nnx:1", "docker.io/library/nginx", "1", "", false, "FROM", ""}},
		},
		{
			name: "comments and blank lines between continuation lines",
			in:   "FROM \\\n# the base\n\n  alpine:3.20 \\\n  # named\n  AS base\nCOPY --from=base \\\n  /a /b\n",
			want: []refView{{"4:3-4:14", "alpine:3.20", "docker.io/library/alpine", "3.20", "", false, "FROM", "alpine:3.20"}},
		},
		{
			name: "heredoc body is never scanned",
			in:   "FROM alpine:3\nRUN <<EOF\nFROM evil:1\nCOPY --from=evil:2 / /\nEOF\nRUN cat <<-END > /x\n\tFROM evil:3\n\tEND\nFROM busybox:1\n",
			want: []refView{
				{"1:6-1:14", "alpine:3", "docker.io/library/alpine", "3", "", false, "FROM", "alpine:3"},
				{"9:6-9:15", "busybox:1", "docker.io/library/busybox", "1", "", false, "FROM", "busybox:1"},
			},
		},
		{
			name: "CRLF line endings",
			in:   "ARG BASE=nginx:1\r\nFROM ${BASE} AS a\r\nFROM \\\r\n  alpine:3\r\n",
			want: []refView{
				{"2:6-2:13", "${BASE}", "docker.io/library/nginx", "1", "", false, "FROM", "nginx:1"},
				{"4:3-4:11", "alpine:3", "docker.io/library/alpine", "3", "", false, "FROM", "alpine:3"},
			},
		},
		{
			name: "byte order mark",
			in:   "\ufeffFROM alpine:3\n",
			want: []refView{{"1:9-1:17", "alpine:3", "docker.io/library/alpine", "3", "", false, "FROM", "alpine:3"}},
		},
		{
			name: "byte order mark before a directive",
			in:   "\ufeff# syntax=docker/dockerfile:1\nFROM alpine:3\n",
			want: []refView{
				{"1:13-1:32", "docker/dockerfile:1", "docker.io/docker/dockerfile", "1", "", false, "# syntax", "docker/dockerfile:1"},
				{"2:6-2:14", "alpine:3", "docker.io/library/alpine", "3", "", false, "FROM", "alpine:3"},
			},
		},
		{
			name: "lowercase instructions and tabs",
			in:   "from\talpine:3\tas\tbase\n\tcopy --from=nginx:1 /a /a\n",
			want: []refView{
				{"1:6-1:14", "alpine:3", "docker.io/library/alpine", "3", "", false, "FROM", "alpine:3"},
				{"2:14-2:21", "nginx:1", "docker.io/library/nginx", "1", "", false, "COPY --from", "nginx:1"},
			},
		},
		{
			name: "quoted FROM",
			in:   "FROM \"nginx:1\"\n",
			want: []refView{{"1:7-1:14", "nginx:1", "docker.io/library/nginx", "1", "", false, "FROM", "nginx:1"}},
		},
		{
			name: "Windows escape token and backslash paths",
			in: "# escape=`\nFROM mcr.microsoft.com/windows/servercore:ltsc2022 AS build\n" +
				"RUN powershell -Command `\n    Write-Host C:\\temp\\x\n" +
				"FROM mcr.microsoft.com/windows/nanoserver:ltsc2022\nCOPY --from=build C:\\app\\bin C:\\bin\n" +
				"COPY --from=mcr.microsoft.com/powershell:lts `\n    C:\\pwsh C:\\pwsh\n",
			want: []refView{
				{"2:6-2:51", "mcr.microsoft.com/windows/servercore:ltsc2022", "mcr.microsoft.com/windows/servercore", "ltsc2022", "", false, "FROM", "mcr.microsoft.com/windows/servercore:ltsc2022"},
				{"5:6-5:51", "mcr.microsoft.com/windows/nanoserver:ltsc2022", "mcr.microsoft.com/windows/nanoserver", "ltsc2022", "", false, "FROM", "mcr.microsoft.com/windows/nanoserver:ltsc2022"},
				{"7:13-7:45", "mcr.microsoft.com/powershell:lts", "mcr.microsoft.com/powershell", "lts", "", false, "COPY --from", "mcr.microsoft.com/powershell:lts"},
			},
		},
		{
			// The values that name no image stay silent: an invalid
			// reference is an error (TestInvalidLiteral).
			name: "stage names in any case, scratch, stage indexes, downstream stages",
			in: "FROM scratch AS Base\nFROM alpine:3 AS Build_1\nFROM BASE\nFROM build_1\nCOPY --from=BUILD_1 / /\nCOPY --from=0 / /\n" +
				"RUN --mount=from=Base,target=/b true\nONBUILD COPY --from=Downstream / /\nONBUILD RUN --mount=from=Other.Stage true\n",
			want: []refView{{"2:6-2:14", "alpine:3", "docker.io/library/alpine", "3", "", false, "FROM", "alpine:3"}},
		},
		{
			name: "bad substitution is not reported",
			in:   "FROM nginx:${V\nFROM alpine:3\n",
			want: []refView{{"2:6-2:14", "alpine:3", "docker.io/library/alpine", "3", "", false, "FROM", "alpine:3"}},
		},
		{
			name: "ENV is inherited by a stage built on a stage",
			in:   "FROM alpine:3 AS base\nENV TOOL busybox:1\nFROM base\nCOPY --from=${TOOL} / /\n",
			want: []refView{
				{"1:6-1:14", "alpine:3", "docker.io/library/alpine", "3", "", false, "FROM", "alpine:3"},
				{"4:13-4:20", "${TOOL}", "docker.io/library/busybox", "1", "", false, "COPY --from", "busybox:1"},
			},
		},
		{
			name: "ENV wins over a later ARG of the same name",
			in:   "FROM alpine:3\nENV IMG=busybox:1\nARG IMG=nginx:1\nCOPY --from=$IMG / /\n",
			want: []refView{
				{"1:6-1:14", "alpine:3", "docker.io/library/alpine", "3", "", false, "FROM", "alpine:3"},
				{"4:13-4:17", "$IMG", "docker.io/library/busybox", "1", "", false, "COPY --from", "busybox:1"},
			},
		},
		{
			name: "empty file",
			in:   "",
		},
		{
			name: "only comments",
			in:   "# nothing here\n\n",
		},
		{
			name: "only a syntax directive",
			in:   "# syntax=docker/dockerfile:1\n",
			want: []refView{{"1:10-1:29", "docker/dockerfile:1", "docker.io/docker/dockerfile", "1", "", false, "# syntax", "docker/dockerfile:1"}},
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
			if diff := cmp.Diff(tt.want, viewRefs(data, res.Refs)); diff != "" {
				t.Errorf("refs (-want +got):\n%s", diff)
			}
			checkResult(t, data, res)
		})
	}
}

func TestScanCommands(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want []scan.Command
	}{
		{
			name: "RUN with continuation and flags",
			in:   "FROM alpine:3\nRUN --mount=type=cache,target=/var/cache/apk \\\n    apk add curl && \\\n    curl -fsSL https://x | sh\n",
			want: []scan.Command{{
				Line: 2, Column: 1, EndLine: 4, EndColumn: 30, Instruction: "RUN",
				Text:  "apk add curl &&     curl -fsSL https://x | sh",
				Flags: []string{"--mount=type=cache,target=/var/cache/apk"},
			}},
		},
		{
			name: "heredoc body is part of the command",
			in:   "FROM alpine:3\nRUN <<EOF bash\napt-get update\napt-get install -y curl\nEOF\n",
			want: []scan.Command{{
				Line: 2, Column: 1, EndLine: 5, EndColumn: 4, Instruction: "RUN",
				Text: "<<EOF bash\napt-get update\napt-get install -y curl\nEOF",
			}},
		},
		{
			name: "JSON form and ONBUILD",
			in:   "FROM alpine:3\n  run [\"pip\", \"install\", \"flask\"]\nONBUILD RUN npm install -g x\n",
			want: []scan.Command{
				{Line: 2, Column: 3, EndLine: 2, EndColumn: 34, Instruction: "RUN", Text: "pip install flask"},
				{Line: 3, Column: 9, EndLine: 3, EndColumn: 29, Instruction: "RUN", Text: "npm install -g x"},
			},
		},
		{
			name: "ADD sources and checksum",
			in:   "FROM alpine:3\nADD --checksum=sha256:abc https://example.com/a.tgz https://example.com/b.tgz /opt/\nADD [\"https://example.com/c\", \"/c\"]\n",
			want: []scan.Command{
				{Line: 2, Column: 1, EndLine: 2, EndColumn: 84, Instruction: "ADD", Text: "https://example.com/a.tgz https://example.com/b.tgz", Flags: []string{"--checksum=sha256:abc"}},
				{Line: 3, Column: 1, EndLine: 3, EndColumn: 36, Instruction: "ADD", Text: "https://example.com/c"},
			},
		},
		{
			name: "CRLF heredoc",
			in:   "FROM alpine:3\r\nRUN <<EOF\r\necho hi\r\nEOF\r\n",
			want: []scan.Command{{Line: 2, Column: 1, EndLine: 4, EndColumn: 4, Instruction: "RUN", Text: "<<EOF\necho hi\nEOF"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res, err := Scan("Dockerfile", []byte(tt.in))
			if err != nil {
				t.Fatalf("Scan: %v", err)
			}
			for i := range tt.want {
				tt.want[i].File, tt.want[i].Source = "Dockerfile", ref.SourceDockerfile
			}
			if diff := cmp.Diff(tt.want, res.Commands); diff != "" {
				t.Errorf("commands (-want +got):\n%s", diff)
			}
		})
	}
}

func TestScanErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		line int
	}{
		{"ENV without value", "FROM alpine:3\nENV onlyname\n", 2},
		{"unterminated heredoc", "FROM alpine:3\nRUN <<EOF\necho\n", 2},
		{"repeated directive", "# escape=\\\n# escape=`\nFROM alpine:3\n", 2},
		{"bad escape token", "# escape=x\nFROM alpine:3\n", 1},
		{"bad escape token after another directive", "# syntax=docker/dockerfile:1\n# escape=x\nFROM alpine:3\n", 2},
		{"error after a line of 64 KiB less 1", "FROM alpine:3\nRUN " + strings.Repeat("x", maxLine-len("RUN \n")) + "\nENV onlyname\n", 3},
		{"JSON with a number", "FROM alpine:3\nCMD [\"a\", 1]\n", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Scan("dir/Dockerfile", []byte(tt.in))
			var se *scan.Error
			if !errors.As(err, &se) {
				t.Fatalf("Scan error = %v, want a *scan.Error", err)
			}
			if se.File != "dir/Dockerfile" || se.Line != tt.line {
				t.Errorf("error at %s:%d, want dir/Dockerfile:%d (%v)", se.File, se.Line, tt.line, err)
			}
		})
	}
}
