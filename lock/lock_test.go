package lock

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/stet-dev/stet/ref"
	"github.com/stet-dev/stet/scan"
)

var update = flag.Bool("update", false, "rewrite golden files")

const (
	dA = "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	dB = "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
	dC = "sha256:cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"
	c1 = "1111111111111111111111111111111111111111"
	c2 = "2222222222222222222222222222222222222222"
)

var (
	t0 = time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)
	t1 = time.Date(2026, 11, 25, 19, 0, 0, 0, time.UTC)
)

func img(file string, line int, name, tag, digest string) ref.Ref {
	return ref.Ref{File: file, Line: line, Column: 6, EndLine: line, EndColumn: 20, Kind: ref.Image,
		Source: ref.SourceDockerfile, Name: name, Tag: tag, Digest: digest}
}

func act(file string, line int, name, tag, commit string) ref.Ref {
	return ref.Ref{File: file, Line: line, Column: 15, EndLine: line, EndColumn: 40, Kind: ref.Action,
		Source: ref.SourceActions, Name: name, Tag: tag, Digest: commit}
}

const nginx = "docker.io/library/nginx"

func sampleRefs() []ref.Ref {
	return []ref.Ref{
		img("web/Dockerfile", 1, nginx, "1-alpine", ""),
		img("api/Dockerfile", 3, nginx, "1-alpine", ""),
		img("api/Dockerfile", 1, "ghcr.io/org/base", "", dC),
		img("deploy/app.yaml", 12, "docker.io/library/redis", "7", dB),
		act(".github/workflows/ci.yml", 8, "actions/checkout", "v4.2.2", c1),
		act(".github/workflows/ci.yml", 9, "github/codeql-action/init", "v3", ""),
		{File: "compose.yaml", Line: 4, Kind: ref.Image, Name: "", Dynamic: true, Text: "${IMAGE}"},
	}
}

func sampleResolve(r ref.Ref) (Resolved, bool) {
	if r.Digest != "" {
		return Resolved{Digest: r.Digest}, true
	}
	switch r.Name {
	case nginx:
		return Resolved{Digest: dA, MediaType: "application/vnd.oci.image.index.v1+json",
			Platforms: []string{"linux/arm64", "linux/amd64", "linux/arm64"}}, true
	case "github/codeql-action/init":
		return Resolved{Digest: c2}, true
	}
	return Resolved{}, false
}

func TestBuildMarshalGolden(t *testing.T) {
	t.Parallel()
	lk := Build(nil, sampleRefs(), sampleResolve, t1.Add(1500*time.Millisecond)) // truncated to the second
	got := lk.Marshal()
	golden := filepath.Join("testdata", "stet.lock")
	if *update {
		os.MkdirAll("testdata", 0o755)
		os.WriteFile(golden, got, 0o644)
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("Marshal (-want +got):\n%s", diff)
	}
	// Same input, any order: same bytes.
	refs := sampleRefs()
	for i, j := 0, len(refs)-1; i < j; i, j = i+1, j-1 {
		refs[i], refs[j] = refs[j], refs[i]
	}
	if again := Build(nil, refs, sampleResolve, t1.Add(time.Second)).Marshal(); string(again) != string(got) {
		t.Errorf("Build is order-dependent:\n%s", again)
	}
	// Round trip.
	back, err := Parse("stet.lock", got)
	if err != nil {
		t.Fatal(err)
	}
	if string(back.Marshal()) != string(got) {
		t.Errorf("Parse/Marshal round trip changed the lock")
	}
	if back.References[0].Line != 4 {
		t.Errorf("first entry line = %d, want 4", back.References[0].Line)
	}
}

func TestBuildKeepsResolvedAtUntilDigestChanges(t *testing.T) {
	t.Parallel()
	prev := Build(nil, sampleRefs(), sampleResolve, t0)
	same := Build(prev, sampleRefs(), sampleResolve, t1)
	if diff := cmp.Diff(string(prev.Marshal()), string(same.Marshal())); diff != "" {
		t.Errorf("re-locking unchanged references changed the lock (-prev +new):\n%s", diff)
	}
	moved := func(r ref.Ref) (Resolved, bool) {
		res, ok := sampleResolve(r)
		if r.Name == nginx {
			res.Digest = dB
		}
		return res, ok
	}
	next := Build(prev, sampleRefs(), moved, t1)
	for _, e := range next.References {
		want := t0
		if e.Name == nginx {
			want = t1
		}
		if !e.ResolvedAt.Equal(want) {
			t.Errorf("%s resolvedAt = %v, want %v", e.String(), e.ResolvedAt, want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	valid := string(Build(nil, sampleRefs(), sampleResolve, t1).Marshal())
	tests := []struct {
		name       string
		data       string
		line, col  int
		wantSubstr string
		is         error
	}{
		{"empty", "", 1, 1, "unexpected end", nil},
		{"truncated", valid[:200], 0, 0, "unexpected end", nil},
		{"syntax", "{\n  \"version\": 1,\n  \"references\": [}\n", 3, 18, "invalid JSON", nil},
		{"future", "{\n  \"version\": 2,\n  \"references\": []\n}\n", 2, 3, "newer stet", ErrFutureVersion},
		{"no version", "{\"references\": []}\n", 1, 1, "no version", nil},
		{"zero version", "{\"version\": 0}\n", 1, 2, "not valid", nil},
		{"unknown top field", "{\"version\": 1,\n \"extra\": 1}\n", 2, 2, "unknown field", nil},
		{"unknown entry field", "{\"version\": 1, \"references\": [\n {\"kind\": \"image\", \"bogus\": 1}]}\n", 2, 20, "unknown field", nil},
		{"bad digest", "{\"version\": 1, \"references\": [\n  {\"kind\": \"image\", \"name\": \"docker.io/library/nginx\", \"tag\": \"1\", \"digest\": \"sha256:abc\", \"resolvedAt\": \"2026-11-02T00:00:00Z\", \"sites\": []}]}\n", 2, 3, "not sha256", nil},
		{"bad kind", "{\"version\": 1, \"references\": [\n  {\"kind\": \"chart\", \"name\": \"x\", \"digest\": \"x\", \"resolvedAt\": \"2026-11-02T00:00:00Z\"}]}\n", 2, 3, "kind", nil},
		{"bad commit", "{\"version\": 1, \"references\": [\n  {\"kind\": \"action\", \"name\": \"a/b\", \"tag\": \"v1\", \"digest\": \"v1\", \"resolvedAt\": \"2026-11-02T00:00:00Z\"}]}\n", 2, 3, "40-hex", nil},
		{"bad site", "{\"version\": 1, \"references\": [\n  {\"kind\": \"action\", \"name\": \"a/b\", \"tag\": \"v1\", \"digest\": \"" + c1 + "\", \"resolvedAt\": \"2026-11-02T00:00:00Z\", \"sites\": [{\"file\": \"\", \"line\": 0}]}]}\n", 2, 3, "site", nil},
		{"bad time", "{\"version\": 1, \"references\": [\n  {\"kind\": \"action\", \"name\": \"a/b\", \"tag\": \"v1\", \"digest\": \"" + c1 + "\", \"resolvedAt\": \"yesterday\"}]}\n", 2, 3, "yesterday", nil},
		{"wrong type", "{\"version\": 1, \"references\": [\n  {\"kind\": \"action\", \"name\": 5}]}\n", 2, 30, "want string", nil},
		{"trailing data", "{\"version\": 1}\n{}\n", 2, 1, "after top-level value", nil},
		{"not an object", "[1]\n", 1, 0, "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse("stet.lock", []byte(tt.data))
			var se *scan.Error
			if !errors.As(err, &se) {
				t.Fatalf("Parse error = %v, want a *scan.Error", err)
			}
			if se.File != "stet.lock" || (tt.line > 0 && se.Line != tt.line) || (tt.col > 0 && se.Column != tt.col) {
				t.Errorf("error at %s:%d:%d, want line %d col %d: %v", se.File, se.Line, se.Column, tt.line, tt.col, err)
			}
			if !strings.Contains(err.Error(), tt.wantSubstr) {
				t.Errorf("error %q does not mention %q", err, tt.wantSubstr)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error %v is not %v", err, tt.is)
			}
		})
	}
}

func TestParseAcceptsEmpty(t *testing.T) {
	t.Parallel()
	lk, err := Parse("stet.lock", []byte("{\"version\": 1, \"references\": []}\n"))
	if err != nil || len(lk.References) != 0 {
		t.Fatalf("Parse = %+v, %v", lk, err)
	}
	if got := string((&Lock{Version: 1}).Marshal()); got != "{\n  \"version\": 1,\n  \"references\": []\n}\n" {
		t.Errorf("empty lock = %q", got)
	}
}

func FuzzParse(f *testing.F) {
	f.Add(string(Build(nil, sampleRefs(), sampleResolve, t1).Marshal()))
	f.Add("{\"version\": 1, \"references\": null}")
	f.Add("{\"version\": 2}")
	f.Fuzz(func(t *testing.T, data string) {
		lk, err := Parse("stet.lock", []byte(data))
		if err != nil {
			var se *scan.Error
			if !errors.As(err, &se) {
				t.Fatalf("error is not positioned: %v", err)
			}
			return
		}
		// Whatever parses re-encodes to something that parses to the same.
		out := lk.Marshal()
		back, err := Parse("stet.lock", out)
		if err != nil {
			t.Fatalf("re-parsing %q: %v", out, err)
		}
		if string(back.Marshal()) != string(out) {
			t.Fatalf("not stable:\n%s\n%s", out, back.Marshal())
		}
	})
}
